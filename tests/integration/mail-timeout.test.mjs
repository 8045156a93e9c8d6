// The overall deadline of a mailbox job (docs/api.md "Mail", limits): every IMAP command answers
// within mail_timeout_s, but a job of many commands still has to end within 2 × mail_timeout_s
// (504 timeout, for the running request and for one queued behind it), and the mailbox opens a
// new connection for the next request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { slowRelay } from '../helpers/slow-relay.mjs';
import { request } from '../helpers/secms-server.mjs';

// A TCP relay in front of Dovecot's IMAP port that holds every answer of Dovecot back for
// `delayMs` (in order): each command stays under the command timeout, a job of many commands
// does not.
describe('mail job deadline', () => {
  let mail;
  let relay;
  let server;
  let cookie;

  before(async () => {
    mail = await startMailServer({
      users: ['alice'],
      logLevel: 'info',
      imapPort: async (dovecot) => (relay = await slowRelay(dovecot.imapPort)).port,
      serverArgs: ['--mail-timeout-s', '1', '--mail-per-user-burst', '10000', '--mail-per-user-per-minute', '10000'],
    });
    ({ server } = mail);
    cookie = mail.cookies.alice;
  });

  after(async () => {
    await mail?.stop();
    await relay?.close();
  });

  const folders = () => request(server, 'GET', '/api/v1/mail/folders', { cookie });

  test('a job of many slow commands ends with 504 within 2 × mail_timeout_s; the next one reconnects', async () => {
    const fast = await folders();
    assert.equal(fast.status, 200, fast.body);
    // LIST, LSUB and a STATUS for each of the 6 folders: about 8 answers.
    assert.ok(fast.json.folders.length >= 6, fast.body);
    const connectionsBefore = relay.connections;

    relay.delayMs = 700;
    const started = Date.now();
    const [running, queued] = await Promise.all([folders(), folders()]);
    const elapsed = Date.now() - started;
    relay.delayMs = 0;
    for (const res of [running, queued]) {
      assert.equal(res.status, 504, res.body);
      assert.equal(res.json.error.code, 'timeout');
    }
    // 2 s deadline; the aborted command returns at once. Without the deadline the first request
    // alone takes 8 × 0.7 s.
    assert.ok(elapsed < 4_500, `answered after ${elapsed} ms`);

    const again = await folders();
    assert.equal(again.status, 200, again.body);
    assert.ok(relay.connections > connectionsBefore, 'a new IMAP connection after the timeout');
    const status = await request(server, 'GET', '/api/v1/mail/status', { cookie });
    assert.equal(status.json.connection, 'connected', status.body);
  });
});
