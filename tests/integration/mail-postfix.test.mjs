// The internet-facing layout of docs/operations.md with Debian's real Postfix: the template
// server/mail/postfix/ rendered into a private instance (tests/helpers/postfix.mjs) in front of
// the test's Dovecot and secms-server. A client of the internet (from 127.0.0.2, outside
// mynetworks) speaks SMTP to Postfix; mail for an account reaches its INBOX over LMTP and is
// pushed and listed by the API; a name no account holds is refused at RCPT by the table the
// doc's command generates, and so is relaying to other domains. Needs root and postfix (CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { assertPostfixUsable, smtpConnect, startPostfix } from '../helpers/postfix.mjs';
import { openWebSocket, register, request } from '../helpers/secms-server.mjs';

const DOMAIN = 'secms.test';
const INTERNET_CLIENT = '127.0.0.2';

describe('Postfix in front of Dovecot (the internet-facing layout)', () => {
  let mail;
  let postfix;

  before(async () => {
    assertPostfixUsable(); // root and postfix, or the suite fails saying which is missing
    mail = await startMailServer({
      users: ['alice'], dovecot: { domain: DOMAIN }, serverArgs: ['--mail-domain', DOMAIN],
    });
    postfix = await startPostfix({ domain: DOMAIN, lmtpPort: mail.dovecot.lmtpPort });
    // As the doc's cron job does, while the server runs.
    postfix.refreshUsersTable(mail.dataDir);
  });

  after(async () => {
    await postfix?.stop();
    await mail?.stop();
  });

  const api = (method, urlPath) => request(mail.server, method, `/api/v1/mail${urlPath}`, { cookie: mail.cookies.alice });
  // One SMTP transaction from the internet client up to the RCPT replies (DATA only when asked).
  const transaction = async ({ to, raw }) => {
    const smtp = await smtpConnect({ port: postfix.smtpPort, localAddress: INTERNET_CLIENT });
    try {
      assert.equal((await smtp.command('EHLO client.example.net')).code, 250);
      assert.equal((await smtp.command('MAIL FROM:<zed@example.net>')).code, 250);
      const rcpt = [];
      for (const address of to) rcpt.push(await smtp.command(`RCPT TO:<${address}>`));
      const data = raw === undefined ? null : await smtp.data(raw);
      return { rcpt, data };
    } finally {
      await smtp.quit();
    }
  };

  test('the template renders to the configuration the doc gives, and postfix check accepts it', () => {
    assert.equal(postfix.postconf('virtual_mailbox_domains'), DOMAIN);
    assert.equal(postfix.postconf('virtual_transport'), `lmtp:inet:127.0.0.1:${mail.dovecot.lmtpPort}`);
    assert.equal(postfix.postconf('virtual_mailbox_maps'), `hash:${postfix.usersTable}`);
    assert.equal(postfix.postconf('mydestination'), 'localhost');
    assert.equal(postfix.postconf('smtpd_relay_restrictions'), 'permit_mynetworks, reject_unauth_destination');
  });

  test('mail from the internet for an account reaches its INBOX over LMTP, pushed and listed', async () => {
    const ws = await openWebSocket(mail.server, { cookie: mail.cookies.alice });
    try {
      assert.equal((await api('GET', '/status')).status, 200); // the mailbox is open and in IDLE
      const subject = `Through Postfix ${Date.now()}`;
      const raw = [`From: Zed <zed@example.net>`, `To: alice@${DOMAIN}`, `Subject: ${subject}`,
        'Date: Mon, 30 Nov 2026 10:00:00 +0000', `Message-ID: <postfix-${Date.now()}@example.net>`,
        '', 'Hello through the MX.', '.leading dot', ''].join('\r\n');
      // The recipient in another case: the table and Dovecot compare in lower case.
      const { rcpt, data } = await transaction({ to: [`Alice@${DOMAIN.toUpperCase()}`], raw });
      assert.equal(rcpt[0].code, 250, rcpt[0].text);
      assert.equal(data.code, 250, data.text);
      assert.match(data.text, /queued as [0-9A-F]+/);

      // Postfix's queue manager hands it to Dovecot; the server pushes it from IDLE.
      let event;
      do {
        event = await ws.next('mail_new', 20_000);
      } while (event.exists < 1);
      assert.equal(event.folder, 'INBOX');

      const list = await api('GET', `/messages?folder=INBOX&subject=${encodeURIComponent(subject)}`);
      assert.equal(list.status, 200, list.body);
      assert.equal(list.json.messages.length, 1, list.body);
      const [listed] = list.json.messages;
      assert.equal(listed.subject, subject);
      const message = await api('GET', `/message?folder=INBOX&uid=${listed.uid}`);
      assert.equal(message.status, 200, message.body);
      // Postfix's own Received line, for the account's address, and the body as sent.
      assert.match(message.body, new RegExp(`Received: from client\\.example\\.net \\(unknown \\[127\\.0\\.0\\.2\\]\\)\\r?\\n\\s+by ${postfix.hostname.replace(/\./g, '\\.')} \\(Postfix\\)`));
      assert.match(message.body, /Delivered-To: alice@secms\.test/i);
      assert.match(message.body, /\r\n\.leading dot\r\n/);
      assert.match(mail.dovecot.log(), /lmtp\(alice@secms\.test\).*saved mail to INBOX/);
    } finally {
      await ws.close();
    }
  });

  test('a name no account holds is refused at RCPT, and relaying to other domains too', async () => {
    const { rcpt } = await transaction({ to: [`bob@${DOMAIN}`, 'x@example.test', `alice@${DOMAIN}`] });
    assert.equal(rcpt[0].code, 550, rcpt[0].text);
    assert.match(rcpt[0].text, /5\.1\.1 .*User unknown in virtual mailbox table/);
    assert.equal(rcpt[1].code, 554, rcpt[1].text);
    assert.match(rcpt[1].text, /5\.7\.1 .*Relay access denied/);
    assert.equal(rcpt[2].code, 250, rcpt[2].text);
    assert.match(postfix.log(), /NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 550 5\.1\.1 <bob@secms\.test>/);
    assert.doesNotMatch(mail.dovecot.log(), /bob@secms\.test/, 'the refused recipient never reached Dovecot');
  });

  test('a name registered since the last table run is refused until the next run', async () => {
    assert.equal((await register(mail.server, 'bob', 'correct horse battery staple')).status, 201);
    assert.equal((await transaction({ to: [`bob@${DOMAIN}`] })).rcpt[0].code, 550);
    postfix.refreshUsersTable(mail.dataDir);
    // A running smtpd notices a changed table by its modification time, in whole seconds: this
    // run may fall in the second of the one before. `postfix reload` (as the doc says) makes every
    // daemon exit after its current session; the next connections get processes that open the
    // new table (a condition, not a time).
    postfix.reload();
    let reply;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      [reply] = (await transaction({ to: [`bob@${DOMAIN}`] })).rcpt;
      if (reply.code === 250) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(reply.code, 250, reply.text);
  });
});
