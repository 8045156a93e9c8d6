// The `secms-server user …` administration commands, run against the data directory of a stopped
// server (never beside a running one: two processes must not share the SoftHSM2 token), then
// checked through the HTTP API of a server started again on the same directory.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { login, request, runServerCommand, startServer } from '../helpers/secms-server.mjs';

let dataDir;

// The lifecycle below runs step by step; each step stops its server before the next CLI call.
async function withServer(fn) {
  const server = await startServer({ dataDir });
  try {
    return await fn(server);
  } finally {
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, `server exit ${JSON.stringify(stopped)}`);
  }
}

function cli(args, input) {
  // No Dovecot here: mail off (the mailbox erase of `user add`/`delete` is tested in mail-erase).
  return runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', '--mail-enabled', 'false', ...args], { input });
}

async function listUsers() {
  const r = await cli(['user', 'list']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [userid, username, role, flag] = line.split('\t');
    return { userid: Number(userid), username, role, disabled: flag === 'disabled' };
  });
}

before(async () => {
  // A first server run creates the data directory (database, token, certificate), then stops.
  const server = await startServer();
  dataDir = server.dataDir;
  assert.equal((await server.stop({ keepDataDir: true })).code, 0);
});

after(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('user administration', () => {
  const first = 'carol first password';
  const second = 'carol second password';

  test('user add carol --role moderator (password on stdin)', async () => {
    const r = await cli(['user', 'add', 'carol', '--role', 'moderator'], `${first}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created carol \(userid \d+, moderator\)/);
    assert.equal(r.stdout.includes(first) || r.stderr.includes(first), false, 'the password is not echoed');
  });

  test('user add refuses a duplicate, a bad password, an unknown role', async () => {
    let r = await cli(['user', 'add', 'CAROL'], 'another long password\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /taken/i);
    r = await cli(['user', 'add', 'dave'], 'short\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /password/i);
    r = await cli(['user', 'add', 'erin', '--role', 'emperor'], 'a long enough password\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /role/i);
    assert.deepEqual((await listUsers()).map((u) => u.username), ['carol']);
  });

  test('user list shows carol as moderator', async () => {
    const users = await listUsers();
    assert.equal(users.length, 1);
    assert.equal(users[0].username, 'carol');
    assert.equal(users[0].role, 'moderator');
    assert.equal(users[0].disabled, false);
  });

  test('carol logs in over HTTPS; /api/v1/me says moderator', async () => {
    await withServer(async (server) => {
      const { res, cookie } = await login(server, 'carol', first);
      assert.equal(res.status, 200, res.body);
      const me = await request(server, 'GET', '/api/v1/me', { cookie });
      assert.equal(me.status, 200);
      assert.equal(me.json.user.username, 'carol');
      assert.equal(me.json.user.role, 'moderator');
    });
  });

  test('user role carol admin; user disable carol → login 403 account_disabled', async () => {
    let r = await cli(['user', 'role', 'carol', 'admin']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /carol is now admin/);
    r = await cli(['user', 'disable', 'carol']);
    assert.equal(r.code, 0, r.stderr);
    const [carol] = await listUsers();
    assert.equal(carol.role, 'admin');
    assert.equal(carol.disabled, true);
    await withServer(async (server) => {
      const { res } = await login(server, 'carol', first);
      assert.equal(res.status, 403, res.body);
      assert.equal(res.json.error.code, 'account_disabled');
      assert.equal(res.headers['set-cookie'], undefined);
      // A wrong password still gets the ordinary answer: being disabled is not revealed to guessers.
      const wrong = await login(server, 'carol', 'not carol password');
      assert.equal(wrong.res.status, 401);
      assert.equal(wrong.res.json.error.code, 'invalid_credentials');
    });
  });

  test('user enable; user passwd → new password works, old does not, role admin', async () => {
    let r = await cli(['user', 'enable', 'carol']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['user', 'passwd', 'carol'], `${second}\n`);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['user', 'passwd', 'carol'], 'short\n');
    assert.notEqual(r.code, 0, 'a bad new password is refused');
    r = await cli(['user', 'passwd', 'nobody'], 'a long enough password\n');
    assert.notEqual(r.code, 0, 'unknown user');
    await withServer(async (server) => {
      assert.equal((await login(server, 'carol', first)).res.status, 401);
      const { res, cookie } = await login(server, 'carol', second);
      assert.equal(res.status, 200, res.body);
      const me = await request(server, 'GET', '/api/v1/me', { cookie });
      assert.equal(me.json.user.role, 'admin');
    });
  });

  test('user delete carol → gone from the list, login 401', async () => {
    let r = await cli(['user', 'delete', 'carol']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deleted carol/);
    assert.deepEqual(await listUsers(), []);
    r = await cli(['user', 'delete', 'carol']);
    assert.notEqual(r.code, 0, 'deleting twice fails');
    await withServer(async (server) => {
      const { res } = await login(server, 'carol', second);
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'invalid_credentials');
    });
  });
});
