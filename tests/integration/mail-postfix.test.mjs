// The internet-facing layout of docs/operations.md with Debian's real Postfix: the template
// server/mail/postfix/ rendered into a private instance (tests/helpers/postfix.mjs) in front of
// the test's Dovecot and secms-server. A client of the internet (from 127.0.0.2, outside
// mynetworks) speaks SMTP to Postfix; mail for an account reaches its INBOX over LMTP and is
// pushed and listed by the API; a name no account holds is refused at RCPT by the table
// scripts/postfix-users.sh generates, and so is relaying to other domains, from anywhere; local
// Unix accounts are no recipients; a full mailbox is refused while the client is connected (no
// bounce to a forged sender). Needs root and postfix (CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { startMailServer } from '../helpers/mail-server.mjs';
import { assertPostfixUsable, smtpConnect, startPostfix } from '../helpers/postfix.mjs';
import { openWebSocket, register, request, runServerCommand } from '../helpers/secms-server.mjs';

const DOMAIN = 'secms.test';
const INTERNET_CLIENT = '127.0.0.2';
// Each mailbox holds 1 MiB (quota_grace 10 %): carol's is filled past it, dave's nearly.
const QUOTA_MB = 1;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Postfix in front of Dovecot (the internet-facing layout)', () => {
  let mail;
  let postfix;

  before(async () => {
    assertPostfixUsable(); // root and postfix, or the suite fails saying which is missing
    mail = await startMailServer({
      users: ['alice', 'carol', 'dave'], dovecot: { domain: DOMAIN, quotaMb: QUOTA_MB, quotaStatus: true },
      serverArgs: ['--mail-domain', DOMAIN],
    });
    postfix = await startPostfix({
      domain: DOMAIN, lmtpPort: mail.dovecot.lmtpPort, quotaStatusPort: mail.dovecot.quotaStatusPort,
    });
    // As the doc's cron job does (scripts/postfix-users.sh), while the server runs.
    postfix.refreshUsersTable(mail.dataDir);
  });

  after(async () => {
    await postfix?.stop();
    await mail?.stop();
  });

  const api = (method, urlPath) => request(mail.server, method, `/api/v1/mail${urlPath}`, { cookie: mail.cookies.alice });
  // One SMTP transaction from the internet client up to the RCPT replies (DATA only when asked).
  const transaction = async ({ to, raw, from = 'zed@example.net', client = INTERNET_CLIENT, size }) => {
    const smtp = await smtpConnect({ port: postfix.smtpPort, localAddress: client });
    try {
      assert.equal((await smtp.command('EHLO client.example.net')).code, 250);
      const mailFrom = await smtp.command(`MAIL FROM:<${from}>${size === undefined ? '' : ` SIZE=${size}`}`);
      assert.equal(mailFrom.code, 250, mailFrom.text);
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
    assert.equal(postfix.postconf('mydestination'), '');
    assert.equal(postfix.postconf('mynetworks'), '');
    assert.equal(postfix.postconf('alias_maps'), '');
    assert.equal(postfix.postconf('disable_vrfy_command'), 'yes');
    assert.equal(postfix.postconf('smtpd_relay_restrictions'), 'reject_unauth_destination');
    assert.match(postfix.postconf('smtpd_recipient_restrictions'),
      new RegExp(`check_policy_service inet:127\\.0\\.0\\.1:${mail.dovecot.quotaStatusPort}$`));
  });

  test('local Unix accounts are no recipients, from the internet nor from this host', async () => {
    const local = ['root@localhost', 'www-data@localhost', 'postfix@localhost', 'root', 'root@[127.0.0.1]',
      'nosuchunixaccount7@[127.0.0.1]'];
    for (const client of [INTERNET_CLIENT, '127.0.0.1']) {
      const { rcpt } = await transaction({ to: local, client });
      rcpt.forEach((reply, i) => {
        assert.ok(reply.code >= 550 && reply.code <= 554, `${local[i]} from ${client}: ${reply.text}`);
      });
      // An address literal of the host: the same answer whether the Unix account exists or not.
      assert.equal(rcpt[4].text.replace('root', 'X'), rcpt[5].text.replace('nosuchunixaccount7', 'X'));
    }
    assert.doesNotMatch(postfix.log(), /status=sent|status=bounced/);
  });

  test('nobody relays through it, not even this host: as an account of the domain, to another domain', async () => {
    for (const client of ['127.0.0.1', INTERNET_CLIENT]) {
      const { rcpt } = await transaction({ from: `alice@${DOMAIN}`, to: ['target@example.com'], client });
      assert.equal(rcpt[0].code, 554, `${client}: ${rcpt[0].text}`);
      assert.match(rcpt[0].text, /5\.7\.1 .*Relay access denied/);
    }
  });

  test('VRFY tells nothing (disabled), for an account or not', async () => {
    const smtp = await smtpConnect({ port: postfix.smtpPort, localAddress: INTERNET_CLIENT });
    try {
      assert.equal((await smtp.command('EHLO client.example.net')).code, 250);
      for (const name of [`alice@${DOMAIN}`, `zoe@${DOMAIN}`, 'root']) {
        const reply = await smtp.command(`VRFY ${name}`);
        assert.equal(reply.code, 502, reply.text);
        assert.match(reply.text, /VRFY command is disabled/);
      }
    } finally {
      await smtp.quit();
    }
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

  // A message of about `bytes` octets (CRLF lines of 76 characters), for filling a mailbox.
  const bulky = (subject, bytes) => [`From: Zed <zed@example.net>`, `To: ${subject}@${DOMAIN}`, `Subject: ${subject}`,
    'Date: Mon, 30 Nov 2026 10:00:00 +0000', `Message-ID: <${subject}-${Date.now()}@example.net>`, '',
    ...Array.from({ length: Math.ceil(bytes / 78) }, () => 'Q'.repeat(76)), ''].join('\r\n');
  const bounces = () => postfix.log().split('\n').filter((line) => /non-delivery notification|status=bounced/.test(line));

  test('a full mailbox is refused at RCPT (552 5.2.2), never accepted and bounced to the sender', async () => {
    // carol: 1 000 000 octets, then 100 000 more delivered within quota_grace: past her 1 MiB.
    await mail.dovecot.appendMany('carol', 'INBOX', [bulky('carol', 1_000_000)]);
    const delivered = await mail.dovecot.deliver({ from: 'zed@example.net', to: [`carol@${DOMAIN}`], raw: bulky('carol', 100_000) });
    assert.equal(delivered.accepted.length, 1, JSON.stringify(delivered));
    const { rcpt, data } = await transaction({
      from: 'victim@example.net', to: [`carol@${DOMAIN}`, `alice@${DOMAIN}`], raw: bulky('spam', 20_000),
    });
    assert.equal(rcpt[0].code, 552, rcpt[0].text);
    assert.match(rcpt[0].text, /5\.2\.2 .*Mailbox is full/);
    assert.equal(rcpt[1].code, 250, rcpt[1].text); // the other recipient still gets it
    assert.equal(data.code, 250, data.text);
    assert.match(postfix.log(), /NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 552 5\.2\.2 <carol@secms\.test>/);
  });

  test('a declared size (MAIL FROM SIZE=) that does not fit the mailbox is refused at RCPT', async () => {
    // dave: 950 000 octets, under his 1 MiB; 300 000 more do not fit even with the grace.
    await mail.dovecot.appendMany('dave', 'INBOX', [bulky('dave', 950_000)]);
    const declared = await transaction({ from: 'victim@example.net', to: [`dave@${DOMAIN}`, `alice@${DOMAIN}`], size: 300_000 });
    assert.equal(declared.rcpt[0].code, 552, declared.rcpt[0].text);
    assert.equal(declared.rcpt[1].code, 250, declared.rcpt[1].text); // alice's mailbox has room
    // Without a declared size only a mailbox already past its quota can be refused at RCPT.
    const undeclared = await transaction({ from: 'victim@example.net', to: [`dave@${DOMAIN}`] });
    assert.equal(undeclared.rcpt[0].code, 250, undeclared.rcpt[0].text);
  });

  test('after the refusals nothing was bounced and nothing waits in the queue', async () => {
    // The message to carol and alice went to alice only; wait until the queue is empty.
    for (let attempt = 0; attempt < 100 && postfix.queue().length > 0; attempt += 1) await sleep(100);
    assert.deepEqual(postfix.queue(), []);
    assert.deepEqual(bounces(), []);
    assert.doesNotMatch(postfix.log(), /victim@example\.net.*status=/);
    assert.doesNotMatch(mail.dovecot.log(), /Quota exceeded/, 'no delivery reached Dovecot past the quota');
  });

  test('user list refuses a data directory that does not exist, and does not create it', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'secms-missing-'));
    try {
      const missing = path.join(parent, 'data');
      const listed = await runServerCommand(['--data-dir', missing, 'user', 'list']);
      assert.equal(listed.code, 2, listed.stderr);
      assert.match(listed.stderr, /is not an initialised data directory/);
      assert.equal(existsSync(missing), false, 'user list created a data directory');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test('postfix-users.sh keeps the table when the data directory is missing or user list fails', async () => {
    const before = postfix.usersTableLines();
    assert.ok(before.includes(`alice@${DOMAIN} OK`), before.join('\n'));
    const parent = await mkdtemp(path.join(os.tmpdir(), 'secms-missing-'));
    try {
      const missing = postfix.usersScript(path.join(parent, 'data'));
      assert.equal(missing.status, 1, missing.stderr);
      assert.match(missing.stderr, /does not exist/);
      assert.equal(existsSync(path.join(parent, 'data')), false);
      // A server that fails (here: false) leaves the table as it was.
      const failing = postfix.usersScript(mail.dataDir, { args: ['--server', 'false'] });
      assert.equal(failing.status, 1, failing.stderr);
      assert.match(failing.stderr, /user list failed/);
      assert.deepEqual(postfix.usersTableLines(), before);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test('postfix-users.sh refuses to empty a table unless forced', async () => {
    const before = postfix.usersTableLines();
    const parent = await mkdtemp(path.join(os.tmpdir(), 'secms-empty-'));
    try {
      // An initialised data directory of a server without accounts (e.g. a wrong, new one).
      const empty = path.join(parent, 'data');
      const init = await runServerCommand(['--data-dir', empty, '--log-level', 'warn', 'init'], { timeoutMs: 60_000 });
      assert.equal(init.code, 0, init.stderr);
      const refused = postfix.usersScript(empty);
      assert.equal(refused.status, 1, refused.stderr);
      assert.match(refused.stderr, /refusing to empty it/);
      assert.deepEqual(postfix.usersTableLines(), before);
      assert.equal((await transaction({ to: [`alice@${DOMAIN}`] })).rcpt[0].code, 250);

      const forced = postfix.usersScript(empty, { args: ['--force'] });
      assert.equal(forced.status, 0, forced.stderr);
      assert.deepEqual(postfix.usersTableLines(), []);
    } finally {
      postfix.refreshUsersTable(mail.dataDir);
      await rm(parent, { recursive: true, force: true });
    }
    assert.deepEqual(postfix.usersTableLines(), before);
  });
});
