// Presence and per-account limits against the real binary: presence sends deltas only when a user
// appears, leaves or changes (one account cycling sockets costs the others a bounded, small
// amount), one account holds at most max_websockets_per_user sockets, a logged-out socket leaves
// presence at once, only wrong passwords count against the login throttle, and a full login table
// refuses new logins instead of ending other users'.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { presenceNames } from '../helpers/presence.mjs';
import { login, loopbackRateLimits, openWebSocket, register, request, startServer } from '../helpers/secms-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'presence limits password';

// The most bytes one presence delta can take: the JSON frame around a 64-bit user id, a
// 32-character username (docs/api.md account names) and a 64-hex fingerprint.
const MAX_DELTA_BYTES = JSON.stringify({
  type: 'presence_changed',
  user: { userid: Number.MAX_SAFE_INTEGER, username: 'x'.repeat(32), fingerprint: 'F'.repeat(64) },
}).length;

async function account(server, name) {
  assert.equal((await register(server, name, PASSWORD)).status, 201);
  const { res, cookie } = await login(server, name, PASSWORD);
  assert.equal(res.status, 200, res.body);
  return cookie;
}

// A WebSocket that also counts the bytes of every message it receives.
async function counted(server, cookie) {
  const client = await openWebSocket(server, { cookie });
  client.bytes = 0;
  client.all = [];
  client.ws.on('message', (data) => {
    client.bytes += data.length;
    client.all.push(JSON.parse(data.toString()));
  });
  await client.next('presence');
  return client;
}

// Opens a socket for `cookie`, retrying while the previous one's place is not yet given back.
async function openRetrying(server, cookie) {
  for (let i = 0; ; i++) {
    try {
      return await openWebSocket(server, { cookie });
    } catch (err) {
      if (err.status !== 429 || i > 50) throw err;
      await sleep(20);
    }
  }
}

describe('presence and per-account limits', { timeout: 120_000 }, () => {
  let server;
  before(async () => {
    server = await startServer({ extraArgs: [...loopbackRateLimits, '--max-websockets-per-user', '8'], logLevel: 'warn' });
  });
  after(() => server?.stop());

  test('one account cycling sockets costs listeners two small deltas per cycle at most, and nothing while it stays online', async () => {
    const LISTENERS = 20;
    const CYCLES = 15;
    const listeners = [];
    for (let i = 0; i < LISTENERS; i++) listeners.push(await counted(server, await account(server, `listener${i}`)));
    const attacker = await account(server, 'cycler');
    await sleep(300);
    const total = () => listeners.reduce((sum, l) => sum + l.bytes, 0);

    // Not online: each cycle may tell each listener "joined" and "left", nothing more.
    let before = total();
    for (let i = 0; i < CYCLES; i++) {
      const s = await openRetrying(server, attacker);
      await s.next('presence');
      s.ws.terminate();
      await sleep(30);
    }
    await sleep(500);
    const bound = CYCLES * LISTENERS * 2 * MAX_DELTA_BYTES;
    const spent = total() - before;
    assert.ok(spent <= bound, `listeners received ${spent} bytes for ${CYCLES} cycles; bound ${bound}`);
    assert.ok(spent > 0, 'the cycles were seen');
    for (const l of listeners) {
      assert.equal(l.all.filter((m) => m.type === 'presence').length, 1, 'no full list after its own');
      assert.ok(!presenceNames(l.all).includes('cycler'));
    }

    // Online: newer sockets taking over one after another (one app window per account: each
    // closes the one before with 4409) send listeners nothing.
    let held = await openRetrying(server, attacker);
    await held.next('presence');
    await sleep(300);
    before = total();
    for (let i = 0; i < CYCLES; i++) {
      const s = await openRetrying(server, attacker);
      await s.next('presence');
      assert.equal((await held.closedWithin(5_000)).code, 4409);
      held = s;
    }
    await sleep(500);
    assert.equal(total() - before, 0, 'a newer window of an online user is news to nobody');
    held.ws.terminate();
    for (const l of listeners) l.ws.terminate();
  });

  // One socket per account is joined at a time, but superseded sockets whose clients never answer
  // the close still hold their places until the close times out: the cap counts them.
  test('the 9th WebSocket of one account is refused with 429 too_many_connections; another account still connects', async () => {
    const cookie = await account(server, 'manysockets');
    const sockets = [];
    for (let i = 0; i < 8; i++) {
      const s = await openWebSocket(server, { cookie });
      await s.next('hello');
      s.ws._socket.pause();  // never reads the 4409 close frame the next one brings, so never answers it
      sockets.push(s);
    }
    await assert.rejects(openWebSocket(server, { cookie }), (err) => {
      assert.equal(err.status, 429, err.message);
      assert.equal(err.json?.error?.code, 'too_many_connections');
      return true;
    });
    // A second login of the same account shares the account's budget.
    const { cookie: second } = await login(server, 'manysockets', PASSWORD);
    await assert.rejects(openWebSocket(server, { cookie: second }), (err) => err.status === 429);
    const other = await openWebSocket(server, { cookie: await account(server, 'bystander') });
    assert.equal((await other.next('hello')).user.username, 'bystander');
    // One goes away: its place is free again.
    sockets.pop().ws.terminate();
    sockets.push(await openRetrying(server, cookie));
    for (const s of [...sockets, other]) s.ws.terminate();
  });

  test('a logged-out socket that never answers the close leaves presence at once', async () => {
    const watcher = await counted(server, await account(server, 'watcher'));
    const cookie = await account(server, 'silent');
    const silent = await openWebSocket(server, { cookie });
    await watcher.next('presence_joined');
    silent.ws._socket.pause();  // never reads the close frame, so never answers it
    const t0 = Date.now();
    assert.equal((await request(server, 'DELETE', '/api/v1/session', { cookie })).status, 204);
    const left = await watcher.next('presence_left', 2_000);
    assert.equal(left.user.username, 'silent');
    assert.ok(Date.now() - t0 < 2_000, `left presence after ${Date.now() - t0} ms`);
    silent.ws.terminate();
    watcher.ws.terminate();
  });

  test('a weak new password never counts against the login throttle; a wrong current one does', async () => {
    const cookie = await account(server, 'weakchanger');
    for (let i = 0; i < 12; i++) {
      const res = await request(server, 'PUT', '/api/v1/me/password', {
        cookie, json: { current_password: PASSWORD, new_password: 'short' },
      });
      assert.equal(res.status, 400, `attempt ${i + 1}: ${res.status} ${res.body}`);
      assert.equal(JSON.parse(res.body).error.code, 'invalid_password');
    }
    // Wrong current passwords are still slowed: five free, then 429.
    const statuses = [];
    for (let i = 0; i < 7; i++) {
      const res = await request(server, 'PUT', '/api/v1/me/password', {
        cookie, json: { current_password: 'not the password', new_password: 'a good new password' },
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(statuses.slice(5).includes(429), JSON.stringify(statuses));
  });
});

describe('a full login table', { timeout: 60_000 }, () => {
  let server;
  before(async () => {
    server = await startServer({ extraArgs: [...loopbackRateLimits, '--session-max-logins', '3'], logLevel: 'warn' });
  });
  after(() => server?.stop());

  test('refuses a new login with 503 service_unavailable instead of ending another user\'s', async () => {
    const victim = await account(server, 'victim');
    await account(server, 'botone');
    await account(server, 'bottwo');
    assert.equal((await register(server, 'botthree', PASSWORD)).status, 201);
    const refused = await login(server, 'botthree', PASSWORD);
    assert.equal(refused.res.status, 503, refused.res.body);
    assert.equal(JSON.parse(refused.res.body).error.code, 'service_unavailable');
    assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: victim })).status, 200, 'the victim is still logged in');
    // A logout frees a place.
    assert.equal((await request(server, 'DELETE', '/api/v1/session', { cookie: victim })).status, 204);
    assert.equal((await login(server, 'botthree', PASSWORD)).res.status, 200);
  });
});
