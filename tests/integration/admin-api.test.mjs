// The administration API (/api/v1/admin/…, docs/api.md "Admin") against the real server: only
// admin logins are served, every action takes effect at once (ended logins close their
// WebSockets, a new role shows in /api/v1/me), and the refusals the contract names.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  login, loopbackRateLimits, openWebSocket, register, request, runServerCommand, startServer,
} from '../helpers/secms-server.mjs';

let server;
let dataDir;
const password = 'a long admin test password';

function cli(args, input) {
  return runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', '--mail-enabled', 'false', ...args], { input });
}

async function cookieFor(name) {
  const { res, cookie } = await login(server, name, password);
  assert.equal(res.status, 200, `${name}: ${res.body}`);
  return cookie;
}

const adminGet = (cookie, query = '') => request(server, 'GET', `/api/v1/admin/users${query}`, { cookie });
const adminPost = (cookie, name, action, json) =>
  request(server, 'POST', `/api/v1/admin/users/${name}/${action}`, { cookie, ...(json ? { json } : {}) });
const adminDelete = (cookie, name) => request(server, 'DELETE', `/api/v1/admin/users/${name}`, { cookie });
const codeOf = (res) => res.json?.error?.code ?? res.json?.error;

before(async () => {
  // The admin accounts are made on the command line, as an operator does, before the server runs.
  const first = await startServer();
  dataDir = first.dataDir;
  assert.equal((await first.stop({ keepDataDir: true })).code, 0);
  for (const [name, role] of [['root', 'admin'], ['mod', 'moderator']]) {
    const r = await cli(['user', 'add', name, '--role', role], `${password}\n`);
    assert.equal(r.code, 0, r.stderr);
  }
  server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits] });
  for (const name of ['alice', 'Bob', 'carol', 'dave', 'erin']) {
    assert.equal((await register(server, name, password)).status, 201);
  }
});

after(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('who may use it', () => {
  test('no login: 401; user and moderator logins: 403 forbidden', async () => {
    const anonymous = await adminGet(undefined);
    assert.equal(anonymous.status, 401, anonymous.body);
    for (const name of ['alice', 'mod']) {
      const cookie = await cookieFor(name);
      const list = await adminGet(cookie);
      assert.equal(list.status, 403, `${name}: ${list.body}`);
      assert.equal(codeOf(list), 'forbidden');
      const act = await adminPost(cookie, 'erin', 'disable');
      assert.equal(act.status, 403, act.body);
      assert.equal(codeOf(act), 'forbidden');
      assert.equal((await adminDelete(cookie, 'erin')).status, 403);
    }
    // Nothing happened to erin.
    assert.equal((await login(server, 'erin', password)).res.status, 200);
  });

  test('a state change from another origin, or without one, is refused like every other', async () => {
    const root = await cookieFor('root');
    for (const Origin of ['https://evil.example', null]) {
      const res = await request(server, 'POST', '/api/v1/admin/users/erin/disable', { cookie: root, headers: { Origin } });
      assert.equal(res.status, 403, res.body);
      assert.equal(codeOf(res), 'forbidden_origin');
    }
    const role = await request(server, 'POST', '/api/v1/admin/users/erin/role', {
      cookie: root, json: { role: 'admin' }, headers: { Origin: 'https://evil.example' },
    });
    assert.equal(role.status, 403);
    assert.equal((await login(server, 'erin', password)).res.status, 200, 'erin is still enabled');
  });
});

describe('user list', () => {
  test('sorted by name ignoring case, with roles, ISO dates and live login counts', async () => {
    const root = await cookieFor('root');
    const res = await adminGet(root);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.total, 7);
    assert.deepEqual(res.json.users.map((u) => u.username), ['alice', 'Bob', 'carol', 'dave', 'erin', 'mod', 'root']);
    const byName = Object.fromEntries(res.json.users.map((u) => [u.username, u]));
    assert.equal(byName.root.role, 'admin');
    assert.equal(byName.mod.role, 'moderator');
    assert.equal(byName.Bob.role, 'user');
    assert.equal(byName.Bob.disabled, false);
    assert.equal(byName.Bob.logins, 0);
    assert.ok(byName.root.logins >= 1, JSON.stringify(byName.root));
    assert.match(byName.Bob.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(byName.Bob.created_at) - Date.now()) < 24 * 3600 * 1000, byName.Bob.created_at);
  });

  test('offset and limit page it; limits outside 1..100 are refused', async () => {
    const root = await cookieFor('root');
    const page = await adminGet(root, '?offset=2&limit=2');
    assert.equal(page.status, 200, page.body);
    assert.equal(page.json.total, 7);
    assert.deepEqual(page.json.users.map((u) => u.username), ['carol', 'dave']);
    const beyond = await adminGet(root, '?offset=50&limit=100');
    assert.equal(beyond.status, 200);
    assert.deepEqual(beyond.json.users, []);
    assert.equal(beyond.json.total, 7);
    for (const query of ['?limit=0', '?limit=101', '?limit=-1', '?offset=-1', '?limit=ten']) {
      const bad = await adminGet(root, query);
      assert.equal(bad.status, 400, `${query}: ${bad.body}`);
    }
  });
});

describe('actions', () => {
  test('bad username: 400 bad_username; unknown user: 404 unknown_user; bad role: 400 bad_role', async () => {
    const root = await cookieFor('root');
    for (const name of ['x', '-dash', 'a%20b', 'caf%C3%A9', 'a'.repeat(33)]) {
      const res = await adminPost(root, name, 'disable');
      assert.equal(res.status, 400, `${name}: ${res.body}`);
      assert.equal(codeOf(res), 'bad_username');
    }
    const unknown = await adminPost(root, 'nobody', 'enable');
    assert.equal(unknown.status, 404, unknown.body);
    assert.equal(codeOf(unknown), 'unknown_user');
    assert.equal(codeOf(await adminDelete(root, 'nobody')), 'unknown_user');
    for (const json of [{ role: 'root' }, { role: 1 }, {}, { role: 'Admin' }]) {
      const res = await adminPost(root, 'alice', 'role', json);
      assert.equal(res.status, 400, `${JSON.stringify(json)}: ${res.body}`);
      assert.equal(codeOf(res), 'bad_role');
    }
  });

  test('a role change shows in /api/v1/me of the live login at once', async () => {
    const root = await cookieFor('root');
    const carol = await cookieFor('carol');
    const socket = await openWebSocket(server, { cookie: carol });
    await socket.next('hello');
    socket.send({ type: 'mod_whois', user: 'alice' });
    assert.equal((await socket.next('error')).error.code, 'forbidden');
    const res = await adminPost(root, 'carol', 'role', { role: 'moderator' });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true });
    const me = await request(server, 'GET', '/api/v1/me', { cookie: carol });
    assert.equal(me.status, 200, me.body);
    assert.equal(me.json.user.role, 'moderator');
    // The open socket has the moderation rights at once, without reconnecting.
    socket.send({ type: 'mod_whois', user: 'alice' });
    assert.equal((await socket.next('mod_whois')).user, 'alice');
    // Still not an admin: the panel stays closed to carol.
    assert.equal((await adminGet(carol)).status, 403);
    assert.equal((await adminPost(root, 'carol', 'role', { role: 'user' })).status, 200);
    socket.send({ type: 'mod_whois', user: 'alice' });
    assert.equal((await socket.next('error')).error.code, 'forbidden');
    await socket.close();
  });

  test('a login in flight while its account is demoted gets the new role, and so does every older login', async () => {
    const root = await cookieFor('root');
    const older = await cookieFor('mod');
    const setRole = (role) => adminPost(root, 'mod', 'role', { role });
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const sessionRole = async (cookie) => {
      const socket = await openWebSocket(server, { cookie });
      const hello = await socket.next('hello');
      await socket.close();
      return hello.user.role;
    };
    // The demotion lands while the login checks its password (a few ms of Argon2id): before the
    // fix, a login that had read the account before the change kept the moderator role.
    for (const delay of [0, 2, 4, 8, 12, 16, 24]) {
      assert.equal((await setRole('moderator')).status, 200);
      const pending = login(server, 'mod', password);
      await sleep(delay);
      assert.equal((await setRole('user')).status, 200);
      const { res, cookie } = await pending;
      assert.equal(res.status, 200, res.body);
      assert.equal(await sessionRole(cookie), 'user', `new login, demoted ${delay} ms after it started`);
      assert.equal(await sessionRole(older), 'user', `older login, delay ${delay} ms`);
      const me = await request(server, 'GET', '/api/v1/me', { cookie });
      assert.equal(me.json.user.role, 'user');
    }
    assert.equal((await setRole('moderator')).status, 200);
  });

  test('disable: the open WebSocket closes, the cookie is refused, logging in is refused; enable undoes it', async () => {
    const root = await cookieFor('root');
    const alice = await cookieFor('alice');
    const socket = await openWebSocket(server, { cookie: alice });
    await socket.next('hello');
    const res = await adminPost(root, 'alice', 'disable');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true });
    const closed = await socket.closedWithin(5_000);
    assert.equal(closed.code, 4401, JSON.stringify(closed));
    assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: alice })).status, 401);
    const again = await login(server, 'alice', password);
    assert.equal(again.res.status, 403, again.res.body);
    assert.equal(codeOf(again.res), 'account_disabled');
    const listed = (await adminGet(root)).json.users.find((u) => u.username === 'alice');
    assert.equal(listed.disabled, true);
    assert.equal(listed.logins, 0);
    assert.equal((await adminPost(root, 'alice', 'enable')).status, 200);
    assert.equal((await login(server, 'alice', password)).res.status, 200);
  });

  test('end-logins ends every login of the user and says how many', async () => {
    const root = await cookieFor('root');
    const first = await cookieFor('dave');
    await cookieFor('dave');
    const socket = await openWebSocket(server, { cookie: first });
    await socket.next('hello');
    const res = await adminPost(root, 'dave', 'end-logins');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true, ended: 2 });
    assert.equal((await socket.closedWithin(5_000)).code, 4401);
    assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: first })).status, 401);
    assert.equal((await login(server, 'dave', password)).res.status, 200, 'dave may log in again');
  });

  test('delete removes the account, ends its logins and closes its socket', async () => {
    const root = await cookieFor('root');
    const erin = await cookieFor('erin');
    const socket = await openWebSocket(server, { cookie: erin });
    await socket.next('hello');
    const res = await adminDelete(root, 'erin');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { ok: true });
    assert.equal((await socket.closedWithin(5_000)).code, 4401);
    assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: erin })).status, 401);
    assert.equal((await login(server, 'erin', password)).res.status, 401);
    const list = await adminGet(root);
    assert.equal(list.json.total, 6);
    assert.equal(list.json.users.some((u) => u.username === 'erin'), false);
    assert.equal(codeOf(await adminDelete(root, 'erin')), 'unknown_user');
  });

  test('the only admin cannot leave the server without one; with two, none acts on itself', async () => {
    const root = await cookieFor('root');
    for (const res of [
      await adminPost(root, 'root', 'disable'),
      await adminPost(root, 'root', 'role', { role: 'moderator' }),
      await adminDelete(root, 'root'),
    ]) {
      assert.equal(res.status, 409, res.body);
      assert.equal(codeOf(res), 'last_admin');
    }
    assert.equal((await adminPost(root, 'Bob', 'role', { role: 'admin' })).status, 200);
    for (const res of [
      await adminPost(root, 'root', 'disable'),
      await adminPost(root, 'root', 'role', { role: 'user' }),
      await adminDelete(root, 'root'),
    ]) {
      assert.equal(res.status, 409, res.body);
      assert.equal(codeOf(res), 'self');
    }
    // The other admin may be demoted while root remains.
    assert.equal((await adminPost(root, 'Bob', 'role', { role: 'user' })).status, 200);
    const me = await request(server, 'GET', '/api/v1/me', { cookie: root });
    assert.equal(me.json.user.role, 'admin');
  });
});
