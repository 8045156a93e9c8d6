// Sending to other domains through the smarthost (mail_smarthost_*): a small SMTP server in the
// test (loopback, no TLS, AUTH PLAIN) receives what secms-server relays; a 550 refusal becomes
// 502 send_failed and keeps the draft; local recipients of the same message still go over LMTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startDovecot } from '../helpers/dovecot.mjs';
import { login, loopbackRateLimits, register, request, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const PASSWORD = 'correct horse battery staple';
const RELAY_USER = 'relay-user';
const RELAY_PASSWORD = 'relay secret 42';

// A minimal SMTP submission server (RFC 5321 + AUTH PLAIN, RFC 4954). Recipients whose local
// part starts with "reject" get 550. Every transaction is recorded.
async function smtpServer(logins = new Map([[RELAY_USER, RELAY_PASSWORD]])) {
  const transactions = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let tx = { auth: null, from: null, rcpt: [], data: '' };
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 relay.test ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          tx.data = buffer.slice(0, end + 2).replace(/^\.\./gm, '.');
          buffer = buffer.slice(end + 5);
          inData = false;
          transactions.push(tx);
          tx = { auth: tx.auth, from: null, rcpt: [], data: '' };
          reply('250 2.0.0 queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') {
          socket.write('250-relay.test\r\n250-AUTH PLAIN LOGIN\r\n250-SIZE 10485760\r\n250 8BITMIME\r\n');
        } else if (verb === 'HELO') {
          reply('250 relay.test');
        } else if (verb === 'AUTH') {
          const [, mech, initial] = line.split(' ');
          if (mech.toUpperCase() !== 'PLAIN' || !initial) {
            reply('504 5.5.4 only AUTH PLAIN with an initial response here');
            continue;
          }
          const [, user, pass] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
          tx.auth = { user, pass };
          reply(logins.get(user) === pass ? '235 2.7.0 ok' : '535 5.7.8 bad credentials');
        } else if (verb === 'MAIL') {
          tx.from = /<([^>]*)>/.exec(line)?.[1] ?? null;
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          if (address.startsWith('reject')) {
            reply(`550 5.1.1 <${address}> mailbox unavailable`);
          } else {
            tx.rcpt.push(address);
            reply('250 2.1.5 ok');
          }
        } else if (verb === 'DATA') {
          if (tx.rcpt.length === 0) {
            reply('554 5.5.1 no valid recipients');
          } else {
            inData = true;
            reply('354 end with <CRLF>.<CRLF>');
          }
        } else if (verb === 'RSET') {
          tx = { auth: tx.auth, from: null, rcpt: [], data: '' };
          reply('250 ok');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else if (verb === 'NOOP') {
          reply('250 ok');
        } else {
          reply('502 5.5.2 not implemented');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, transactions, logins, close: () => new Promise((r) => server.close(r)) };
}

function message({ from = 'alice@localhost', to, subject, id }) {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${id}>\r\n\r\nRelayed body.\r\n`;
}

describe('mail to other domains through the smarthost', () => {
  let dataDir;
  let dovecot;
  let smtp;
  let server;
  const cookies = {};
  const api = (user, method, urlPath, options = {}) =>
    request(server, method, `/api/v1/mail${urlPath}`, { cookie: cookies[user], ...options });
  const rfc822 = (raw) => ({ body: raw, headers: { 'Content-Type': 'message/rfc822' } });
  const total = async (user, folder) => (await api(user, 'GET', `/messages?folder=${folder}`)).json.total;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-mail-send-'));
    const init = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.equal(init.code, 0, init.stderr);
    dovecot = await startDovecot({ masterSecret: await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8') });
    smtp = await smtpServer();
    const passwordFile = path.join(dataDir, 'relay-password');
    await writeFile(passwordFile, `${RELAY_PASSWORD}\n`, { mode: 0o600 });
    await chmod(passwordFile, 0o600);
    server = await startServer({
      dataDir,
      extraArgs: [
        ...loopbackRateLimits,
        '--mail-imap-port', String(dovecot.imapPort), '--mail-lmtp-port', String(dovecot.lmtpPort),
        '--mail-smarthost-host', '127.0.0.1', '--mail-smarthost-port', String(smtp.port),
        '--mail-smarthost-tls', 'none', '--mail-smarthost-username', RELAY_USER,
        '--mail-smarthost-password-file', passwordFile, '--mail-timeout-s', '5',
        '--mail-external-allow-private', 'true',
      ],
    });
    for (const user of ['alice', 'bob']) {
      assert.equal((await register(server, user, PASSWORD)).status, 201);
      cookies[user] = (await login(server, user, PASSWORD)).cookie;
    }
  });

  after(async () => {
    await server?.stop();
    await smtp?.close();
    await dovecot?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('status tells that a smarthost is configured', async () => {
    const res = await api('alice', 'GET', '/status');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.smarthost, true);
  });

  test('external recipients go through the smarthost with AUTH, local ones over LMTP', async () => {
    const raw = message({ to: 'eve@example.org, bob@localhost', subject: 'Over the relay', id: 'relay-1@localhost' });
    const res = await api('alice', 'POST', '/send?to=eve%40example.org&to=bob%40localhost', rfc822(raw));
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.refused, []);
    assert.equal(smtp.transactions.length, 1);
    const [tx] = smtp.transactions;
    assert.deepEqual(tx.auth, { user: RELAY_USER, pass: RELAY_PASSWORD });
    assert.equal(tx.from, 'alice@localhost');
    assert.deepEqual(tx.rcpt, ['eve@example.org'], 'only the external recipient is relayed');
    assert.match(tx.data, /Subject: Over the relay/);
    const bobs = await api('bob', 'GET', '/messages?folder=INBOX');
    assert.ok(bobs.json.messages.some((m) => m.subject === 'Over the relay'), bobs.body);
    assert.equal(await total('alice', 'Sent'), 1);
  });

  test('one refused recipient is reported, the others get the message', async () => {
    const raw = message({ to: 'eve@example.org, reject-me@example.org', subject: 'Partly', id: 'relay-2@localhost' });
    const res = await api('alice', 'POST', '/send?to=eve%40example.org&to=reject-me%40example.org', rfc822(raw));
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.refused.length, 1, res.body);
    assert.equal(res.json.refused[0].address, 'reject-me@example.org');
    assert.equal(res.json.refused[0].code, '550');
  });

  test('a refusal of every recipient is 502 send_failed; the draft stays and Sent is unchanged', async () => {
    const raw = message({ to: 'reject-all@example.org', subject: 'Refused', id: 'relay-3@localhost' });
    const draft = await api('alice', 'POST', '/append?folder=Drafts&flags=%5CDraft', rfc822(raw));
    assert.equal(draft.status, 201, draft.body);
    const sentBefore = await total('alice', 'Sent');
    const relayedBefore = smtp.transactions.length;
    const res = await api('alice', 'POST', `/send?to=reject-all%40example.org&draft_uid=${draft.json.uid}`, rfc822(raw));
    assert.equal(res.status, 502, res.body);
    assert.equal(res.json.error.code, 'send_failed');
    assert.match(res.json.error.message, /550/);
    assert.equal(smtp.transactions.length, relayedBefore, 'no message was accepted');
    assert.equal(await total('alice', 'Sent'), sentBefore);
    const drafts = await api('alice', 'GET', '/messages?folder=Drafts');
    assert.ok(drafts.json.messages.some((m) => m.uid === draft.json.uid), 'the draft is kept');
  });

  test('an external account is used for this login only: its IMAP mailbox, its SMTP server, its From', async () => {
    const account = {
      email: 'bob@localhost', imap_host: '127.0.0.1', imap_port: dovecot.imapPort, imap_tls: 'none',
      smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_tls: 'none', username: `bob*${dovecot.masterUser}`,
      password: dovecot.masterSecret,
    };
    const wrong = await api('alice', 'PUT', '/account', { json: { ...account, password: 'not it' } });
    assert.equal(wrong.status, 422, wrong.body);
    const bad = await api('alice', 'PUT', '/account', { json: { ...account, imap_tls: 'ssl' } });
    assert.equal(bad.status, 400, bad.body);
    const { cookie: secondLogin } = await login(server, 'alice', PASSWORD);

    const refused = await api('alice', 'PUT', '/account', { json: account });
    assert.equal(refused.status, 422, 'the SMTP login is checked too: the relay does not know bob yet');
    assert.equal((await api('alice', 'GET', '/status')).json.account, 'local');

    smtp.logins.set(account.username, account.password);
    const set = await api('alice', 'PUT', '/account', { json: account });
    assert.equal(set.status, 200, set.body);
    assert.equal(set.json.account, 'external');
    assert.equal(set.json.address, 'bob@localhost');
    assert.equal(set.json.external.imap_port, dovecot.imapPort);
    assert.equal('password' in set.json.external, false);
    const inbox = await api('alice', 'GET', '/messages?folder=INBOX');
    assert.ok(inbox.json.messages.some((m) => m.subject === 'Over the relay'), 'bob\'s INBOX through the account');
    const other = await request(server, 'GET', '/api/v1/mail/status', { cookie: secondLogin });
    assert.equal(other.json.account, 'local', 'another login of the same user keeps the local mailbox');

    const asAlice = message({ from: 'alice@localhost', to: 'zoe@example.org', subject: 'x', id: 'ext-1@localhost' });
    assert.equal((await api('alice', 'POST', '/send?to=zoe%40example.org', rfc822(asAlice))).status, 403);
    const relayed = smtp.transactions.length;
    const asBob = message({ from: 'bob@localhost', to: 'zoe@example.org', subject: 'From the account', id: 'ext-2@localhost' });
    const sent = await api('alice', 'POST', '/send?to=zoe%40example.org', rfc822(asBob));
    assert.equal(sent.status, 200, sent.body);
    const tx = smtp.transactions[relayed];
    assert.deepEqual(tx.auth, { user: account.username, pass: account.password });
    assert.equal(tx.from, 'bob@localhost');
    assert.deepEqual(tx.rcpt, ['zoe@example.org']);

    assert.equal((await api('alice', 'DELETE', '/account')).status, 204);
    const back = await api('alice', 'GET', '/status');
    assert.equal(back.json.account, 'local');
    assert.equal(back.json.address, 'alice@localhost');
  });

  test('a smarthost without TLS is refused at start unless it is on loopback', async () => {
    const res = await runServerCommand([
      '--data-dir', dataDir, '--mail-smarthost-host', 'smtp.example.org', '--mail-smarthost-tls', 'none', 'init',
    ]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /mail_smarthost_tls none is only allowed for a loopback smarthost/);
  });
});
