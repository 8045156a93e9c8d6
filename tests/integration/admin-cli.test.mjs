// The `secms-server user …` administration commands, run against the data directory of a stopped
// server and checked through the HTTP API of a server started again on the same directory; then
// run beside a running server, whose live logins and WebSockets they reach at once.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  login, loopbackRateLimits, openWebSocket, register, request, runServerCommand, startServer,
} from '../helpers/secms-server.mjs';
import { until } from '../helpers/until.mjs';

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

// The same commands run while the server runs: the server notices the change in its database
// (docs/operations.md "Administration") and acts on the live logins at once.
describe('user commands reach a running server', () => {
  const pw = 'a running server password';
  let server;

  before(async () => {
    // Many logins of one account at once in the role test below: none may end another.
    server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits, '--session-max-per-user', '400'] });
    for (const name of ['frank', 'grace', 'heidi', 'ivan']) {
      assert.equal((await register(server, name, pw)).status, 201);
    }
  });

  after(async () => {
    if (server) assert.equal((await server.stop({ keepDataDir: true })).code, 0);
  });

  async function connected(name) {
    const { res, cookie } = await login(server, name, pw);
    assert.equal(res.status, 200, res.body);
    const socket = await openWebSocket(server, { cookie });
    await socket.next('hello');
    return { cookie, socket };
  }

  const meStatus = async (cookie) => (await request(server, 'GET', '/api/v1/me', { cookie })).status;

  test('user disable: the open WebSocket closes and the cookie is refused', async () => {
    const { cookie, socket } = await connected('frank');
    const r = await cli(['user', 'disable', 'frank']);
    assert.equal(r.code, 0, r.stderr);
    // A deadline of a few seconds for the server to notice (it polls every 250 ms).
    const closed = await socket.closedWithin(10_000);
    assert.equal(closed.code, 4401, JSON.stringify(closed));
    await until(() => meStatus(cookie), (s) => s === 401, 'the disabled login refused', 10_000);
    const again = await login(server, 'frank', pw);
    assert.equal(again.res.status, 403, again.res.body);
    assert.equal(again.res.json.error.code, 'account_disabled');
  });

  test('user delete: the open WebSocket closes and the cookie is refused', async () => {
    const { cookie, socket } = await connected('grace');
    const r = await cli(['user', 'delete', 'grace']);
    assert.equal(r.code, 0, r.stderr);
    const closed = await socket.closedWithin(10_000);
    assert.equal(closed.code, 4401, JSON.stringify(closed));
    await until(() => meStatus(cookie), (s) => s === 401, 'the deleted login refused', 10_000);
    assert.equal((await login(server, 'grace', pw)).res.status, 401);
  });

  test('user role while logins of the account are in flight: every login ends up with the new role', async () => {
    const sessionRole = async (cookie) => {
      const socket = await openWebSocket(server, { cookie });
      const hello = await socket.next('hello');
      await socket.close();
      return hello.user.role;
    };
    const older = (await login(server, 'ivan', pw)).cookie;
    for (let round = 0; round < 24; round++) {
      assert.equal((await cli(['user', 'role', 'ivan', 'moderator'])).code, 0);
      await until(() => sessionRole(older), (role) => role === 'moderator', 'ivan promoted', 10_000);
      // The watch has just made a pass: each round commits at another point of the 250 ms
      // between two passes (a sweep of the phase, not a timing assumption).
      await new Promise((resolve) => setTimeout(resolve, (round * 11) % 250));
      // Before the fix a login that read the role before the commit and made its session after
      // the watch's pass had applied the change kept the old role, and the watch (which looked at
      // the account's first login only) never corrected it.
      const cookies = [];
      let committed = null;
      const demotion = cli(['user', 'role', 'ivan', 'user']).then((r) => { committed = Date.now(); return r; });
      // Three chains of logins until a little over one watch pass (250 ms) after the commit, so
      // that one is nearly always checking its password when the pass sees the change.
      const chain = async () => {
        while (committed === null || Date.now() - committed < 300) {
          const { res, cookie } = await login(server, 'ivan', pw);
          assert.equal(res.status, 200, res.body);
          cookies.push(cookie);
        }
      };
      await Promise.all([chain(), chain(), chain()]);
      assert.equal((await demotion).code, 0);
      for (const cookie of [older, ...cookies]) {
        await until(() => sessionRole(cookie), (role) => role === 'user', `round ${round}: every login of ivan demoted`, 5_000);
      }
      for (const cookie of cookies) await request(server, 'DELETE', '/api/v1/session', { cookie });
    }
  });

  test('user role: /api/v1/me of the live login shows the new role; its socket stays', async () => {
    const { cookie, socket } = await connected('heidi');
    const r = await cli(['user', 'role', 'heidi', 'moderator']);
    assert.equal(r.code, 0, r.stderr);
    const me = await until(
      () => request(server, 'GET', '/api/v1/me', { cookie }),
      (res) => res.status === 200 && res.json.user.role === 'moderator',
      'heidi shown as moderator',
      10_000,
    );
    assert.equal(me.json.user.username, 'heidi');
    // The open socket has the moderation rights at once, without reconnecting.
    await until(
      async () => {
        socket.send({ type: 'mod_whois', user: 'frank' });
        const answer = await socket.next();
        return answer.type;
      },
      (type) => type === 'mod_whois',
      'mod_whois answered on the open socket',
      10_000,
    );
    // An admin role given on the command line opens the admin API to the live login.
    assert.equal((await cli(['user', 'role', 'heidi', 'admin'])).code, 0);
    await until(
      () => request(server, 'GET', '/api/v1/admin/users', { cookie }),
      (res) => res.status === 200,
      'the admin API open to heidi',
      10_000,
    );
    // Back to user: the open socket loses the rights as soon as the server has noticed.
    assert.equal((await cli(['user', 'role', 'heidi', 'user'])).code, 0);
    await until(
      async () => {
        socket.send({ type: 'mod_whois', user: 'frank' });
        const answer = await socket.next();
        return answer.type === 'error' ? answer.error.code : answer.type;
      },
      (code) => code === 'forbidden',
      'mod_whois refused on the open socket',
      10_000,
    );
    socket.send({ type: 'ping' });
    await socket.next('pong');
    await socket.close();
  });
});
