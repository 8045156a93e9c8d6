// A deleted account's mailbox is not handed to the next owner of its name: DELETE /api/v1/me
// erases it (folders deleted, INBOX and special-use folders expunged), and registering a name
// erases whatever its mailbox still holds first (mail Dovecot accepted for a name nobody had,
// or leftovers of a deletion that did not finish).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { deliverLmtp, startDovecot } from '../helpers/dovecot.mjs';
import { login, loopbackRateLimits, register, request, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const PASSWORD = 'correct horse battery staple';
const OTHER_PASSWORD = 'another password entirely 123';
const rfc822 = (raw) => ({ body: raw, headers: { 'Content-Type': 'message/rfc822' } });

// Message files in a Maildir folder (new/ and cur/).
function messageFiles(dir) {
  return ['new', 'cur'].flatMap((sub) => (existsSync(path.join(dir, sub)) ? readdirSync(path.join(dir, sub)) : []));
}

describe('mailbox erasure', () => {
  let dataDir;
  let dovecot;
  let server;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-mail-erase-'));
    const init = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.equal(init.code, 0, init.stderr);
    dovecot = await startDovecot({ masterSecret: await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8') });
    server = await startServer({
      dataDir, extraArgs: [...loopbackRateLimits,
        '--mail-imap-port', String(dovecot.imapPort), '--mail-lmtp-port', String(dovecot.lmtpPort), '--mail-timeout-s', '5'],
    });
  });
  after(async () => {
    await server?.stop().catch(() => {});
    await dovecot?.stop().catch(() => {});
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
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
});
