// A deleted account's mailbox is not handed to the next owner of its name: DELETE /api/v1/me
// erases it (folders deleted, INBOX and special-use folders expunged), and registering a name
// erases whatever its mailbox still holds first (mail Dovecot accepted for a name nobody had,
// or leftovers of a deletion that did not finish).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { deliverLmtp, startDovecot } from '../helpers/dovecot.mjs';
import { startMailServer } from '../helpers/mail-server.mjs';
import { login, loopbackRateLimits, register, request, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const PASSWORD = 'correct horse battery staple';
const OTHER_PASSWORD = 'another password entirely 123';
const rfc822 = (raw) => ({ body: raw, headers: { 'Content-Type': 'message/rfc822' } });

// Message files in a Maildir folder (new/ and cur/).
function messageFiles(dir) {
  return ['new', 'cur'].flatMap((sub) => (existsSync(path.join(dir, sub)) ? readdirSync(path.join(dir, sub)) : []));
}

describe('mailbox erasure', () => {
  let mail;
  let dovecot;
  let server;
  before(async () => {
    // info: the erasure's log line is asserted below.
    mail = await startMailServer({ logLevel: 'info', serverArgs: ['--mail-timeout-s', '5'] });
    ({ server, dovecot } = mail);
  });
  after(async () => {
    await mail?.stop();
  });

  test('DELETE /api/v1/me erases the mailbox; the next owner of the name finds it empty', async () => {
    assert.equal((await register(server, 'victim', PASSWORD)).status, 201);
    assert.equal((await register(server, 'sender', PASSWORD)).status, 201);
    const victim = (await login(server, 'victim', PASSWORD)).cookie;
    const sender = (await login(server, 'sender', PASSWORD)).cookie;
    const api = (cookie, method, p, options = {}) => request(server, method, `/api/v1/mail${p}`, { cookie, timeoutMs: 30_000, ...options });
    const sent = await api(sender, 'POST', '/send?to=victim%40localhost',
      rfc822('From: sender@localhost\r\nTo: victim@localhost\r\nSubject: PRIVATE for victim\r\n\r\nthe payroll numbers\r\n'));
    assert.equal(sent.status, 200, sent.body);
    assert.equal((await api(victim, 'POST', '/append?folder=Drafts', rfc822('From: victim@localhost\r\nSubject: victim draft\r\n\r\nnotes\r\n'))).status, 201);
    assert.equal((await api(victim, 'POST', '/folders', { json: { path: 'Private' } })).status, 201);
    assert.equal((await api(victim, 'POST', '/folders', { json: { path: 'Private/Deeper' } })).status, 201);
    assert.equal((await api(victim, 'POST', '/append?folder=Private%2FDeeper', rfc822('From: victim@localhost\r\nSubject: kept\r\n\r\nx\r\n'))).status, 201);
    const maildir = dovecot.maildirOf('victim');
    assert.equal(messageFiles(maildir).length, 1, 'the INBOX holds the message before');

    const deleted = await request(server, 'DELETE', '/api/v1/me', { cookie: victim, json: { password: PASSWORD }, timeoutMs: 30_000 });
    assert.equal(deleted.status, 204, deleted.body);
    // Erased at deletion already (before any registration of the name).
    assert.deepEqual(messageFiles(maildir), [], 'INBOX expunged');
    assert.deepEqual(messageFiles(path.join(maildir, 'Drafts')), [], 'Drafts expunged');
    assert.equal(existsSync(path.join(maildir, 'Private')), false, 'other folders deleted');
    const logs = server.logs();
    assert.match(logs.stdout + logs.stderr, /mailbox of userid=\d+ erased/);

    assert.equal((await register(server, 'Victim', OTHER_PASSWORD)).status, 201);
    const next = (await login(server, 'Victim', OTHER_PASSWORD)).cookie;
    for (const folder of ['INBOX', 'Drafts', 'Sent']) {
      const list = await api(next, 'GET', `/messages?folder=${folder}`);
      assert.equal(list.status, 200, list.body);
      assert.deepEqual(list.json.messages, [], folder);
    }
    const folders = (await api(next, 'GET', '/folders')).json.folders.map((f) => f.path);
    assert.ok(!folders.some((p) => p.startsWith('Private')), JSON.stringify(folders));
  });

  test('mail delivered to a name before it is registered is erased at registration', async () => {
    const delivered = await deliverLmtp({
      port: dovecot.lmtpPort, from: 'someone@example.org', to: ['ghost@localhost'],
      raw: 'From: someone@example.org\r\nTo: ghost@localhost\r\nSubject: before you existed\r\n\r\nhello\r\n',
    });
    assert.deepEqual(delivered.accepted, ['ghost@localhost']);
    assert.equal(messageFiles(dovecot.maildirOf('ghost')).length, 1, 'Dovecot stored it');
    assert.equal((await register(server, 'ghost', PASSWORD)).status, 201);
    assert.deepEqual(messageFiles(dovecot.maildirOf('ghost')), []);
    const cookie = (await login(server, 'ghost', PASSWORD)).cookie;
    const list = await request(server, 'GET', '/api/v1/mail/messages?folder=INBOX', { cookie });
    assert.deepEqual(list.json.messages, []);
  });

  test('registering a name that is taken erases nothing', async () => {
    assert.equal((await register(server, 'keeper', PASSWORD)).status, 201);
    const delivered = await deliverLmtp({
      port: dovecot.lmtpPort, from: 'someone@example.org', to: ['keeper@localhost'],
      raw: 'From: someone@example.org\r\nTo: keeper@localhost\r\nSubject: keep me\r\n\r\nhello\r\n',
    });
    assert.deepEqual(delivered.accepted, ['keeper@localhost']);
    assert.equal((await register(server, 'KEEPER', OTHER_PASSWORD)).status, 409);
    assert.equal(messageFiles(dovecot.maildirOf('keeper')).length, 1);
  });

  // r5 F3: the account's other logins still stored mail while the erase ran.
  test('DELETE /api/v1/me while another login of the account keeps appending leaves nothing', async () => {
    assert.equal((await register(server, 'busy', PASSWORD)).status, 201);
    const first = (await login(server, 'busy', PASSWORD)).cookie;
    const second = (await login(server, 'busy', PASSWORD)).cookie;
    const append = (cookie, subject) => request(server, 'POST', '/api/v1/mail/append?folder=INBOX', {
      cookie, timeoutMs: 30_000, ...rfc822(`From: busy@localhost\r\nSubject: ${subject}\r\n\r\nx\r\n`) });
    for (let i = 0; i < 60; i++) assert.equal((await append(first, `old ${i}`)).status, 201);
    let stop = false;
    let accepted = 0;
    const flood = (async () => {
      while (!stop) {
        const r = await append(second, 'during').catch(() => ({ status: 0 }));
        if (r.status === 201) accepted++;
        if (r.status === 401) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const deleted = await request(server, 'DELETE', '/api/v1/me', { cookie: first, json: { password: PASSWORD }, timeoutMs: 60_000 });
    assert.equal(deleted.status, 204, deleted.body);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await flood;
    assert.ok(accepted > 0, 'the second login appended while the account existed');
    assert.deepEqual(messageFiles(dovecot.maildirOf('busy')), [], 'nothing stored behind the erase');
  });
});

describe('mailbox erasure by the user administration commands and when the mail server is down', () => {
  let dataDir;
  let dovecot;
  let mailArgs;
  let closedPort;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-mail-erase-cli-'));
    const init = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.equal(init.code, 0, init.stderr);
    dovecot = await startDovecot({ masterSecret: await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8') });
    mailArgs = ['--mail-imap-port', String(dovecot.imapPort), '--mail-lmtp-port', String(dovecot.lmtpPort), '--mail-timeout-s', '5'];
    closedPort = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
    });
  });
  after(async () => {
    await dovecot?.stop().catch(() => {});
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  // The administration commands run beside no server (they share its token).
  const cli = (args, input, extra = mailArgs) => runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', ...extra, ...args], { input });
  const deliver = (to, subject) => deliverLmtp({ port: dovecot.lmtpPort, from: 'someone@example.org', to: [`${to}@localhost`],
    raw: `From: someone@example.org\r\nTo: ${to}@localhost\r\nSubject: ${subject}\r\n\r\nprivate\r\n` });

  // r5 F2: `user delete` and `user add` left the mailbox to the next owner of the name.
  test('user delete erases the mailbox; user add erases what the name still holds', async () => {
    assert.equal((await cli(['user', 'add', 'cliuser'], `${PASSWORD}\n`)).code, 0);
    assert.deepEqual((await deliver('cliuser', 'for the first cliuser')).accepted, ['cliuser@localhost']);
    assert.equal(messageFiles(dovecot.maildirOf('cliuser')).length, 1);
    const deleted = await cli(['user', 'delete', 'cliuser']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted cliuser\nmailbox erased/);
    assert.deepEqual(messageFiles(dovecot.maildirOf('cliuser')), []);
    // Mail accepted for the free name, then the name given to someone else.
    assert.deepEqual((await deliver('cliuser', 'before the second cliuser')).accepted, ['cliuser@localhost']);
    const added = await cli(['user', 'add', 'cliuser'], `${OTHER_PASSWORD}\n`);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(messageFiles(dovecot.maildirOf('cliuser')), []);
  });

  test('mail server unreachable: user add refuses and names the fix, user delete deletes and says when the mailbox is erased', async () => {
    const down = ['--mail-imap-port', String(closedPort), '--mail-timeout-s', '2'];
    assert.deepEqual((await deliver('ghost2', 'left for ghost2')).accepted, ['ghost2@localhost']);
    const refused = await cli(['user', 'add', 'ghost2'], `${PASSWORD}\n`, down);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /no account created: the mail server \(IMAP 127\.0\.0\.1:\d+\) is not reachable.*Start Dovecot.*mail_enabled = false/s);
    const list = await cli(['user', 'list'], '', ['--mail-enabled', 'false']);
    assert.doesNotMatch(list.stdout, /ghost2/);
    assert.equal(messageFiles(dovecot.maildirOf('ghost2')).length, 1, 'nothing erased, nothing created');

    assert.equal((await cli(['user', 'add', 'leaver'], `${PASSWORD}\n`)).code, 0);
    assert.deepEqual((await deliver('leaver', 'for leaver')).accepted, ['leaver@localhost']);
    const deleted = await cli(['user', 'delete', 'leaver'], '', down);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted leaver/);
    assert.match(deleted.stderr, /not reachable: the mailbox was not erased now; it will be erased when the name is registered again/);
    // ... which it is, by the next registration.
    assert.equal((await cli(['user', 'add', 'leaver'], `${OTHER_PASSWORD}\n`)).code, 0);
    assert.deepEqual(messageFiles(dovecot.maildirOf('leaver')), []);
  });

  test('registration over HTTP while the mail server is unreachable: 503 mail_unavailable, no account', async () => {
    const server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits,
      '--mail-imap-port', String(closedPort), '--mail-lmtp-port', String(dovecot.lmtpPort), '--mail-timeout-s', '2'] });
    try {
      const r = await register(server, 'latecomer', PASSWORD);
      assert.equal(r.status, 503, r.body);
      assert.equal(r.json.error.code, 'mail_unavailable');
      assert.match(r.json.error.message, /mail server is unreachable; try again/);
      assert.equal((await login(server, 'latecomer', PASSWORD)).res.status, 401);
    } finally {
      await server.stop();
    }
  });
});
