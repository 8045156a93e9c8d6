// The application WebSocket (/ws, subprotocol secms.v1): upgrade checks (Origin, login,
// subprotocol), hello and presence, ping, errors, size limit, and closing when the login ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, openWebSocket, register, request, startServer } from '../helpers/secms-server.mjs';

let server;
const users = {
  wsalice: 'wsalice password',
  wsbob: 'wsbob password!',
  wscarol: 'wscarol password',
};

before(async () => {
  server = await startServer({
    extraArgs: ['--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000'],
  });
  for (const [name, pw] of Object.entries(users)) {
    assert.equal((await register(server, name, pw)).status, 201);
  }
});
after(() => server?.stop());

async function cookieFor(name) {
  const { res, cookie } = await login(server, name, users[name]);
  assert.equal(res.status, 200, res.body);
  return cookie;
}

async function refused(options) {
  try {
    const client = await openWebSocket(server, options);
    client.ws.terminate();
  } catch (err) {
    return err;
  }
  assert.fail('the upgrade was accepted');
}

const names = (presence) => presence.online.map((u) => u.username);

describe('upgrade checks', { timeout: 30_000 }, () => {
  test('a foreign Origin is refused with HTTP 403 before the upgrade', async () => {
    const cookie = await cookieFor('wsalice');
    for (const origin of ['https://evil.example', `https://127.0.0.1:${server.httpsPort}`, 'null', `http://localhost:${server.httpsPort}`]) {
      const err = await refused({ cookie, origin });
      assert.equal(err.status, 403, `${origin}: ${err.message}`);
      assert.equal(err.json?.error?.code, 'forbidden_origin');
    }
    const err = await refused({ cookie, origin: null });
    assert.equal(err.status, 403, 'no Origin at all');
  });

  test('no login cookie → 401; an unknown cookie → 401', async () => {
    let err = await refused({});
    assert.equal(err.status, 401, err.message);
    assert.equal(err.json?.error?.code, 'not_authenticated');
    err = await refused({ cookie: 'x'.repeat(43) });
    assert.equal(err.status, 401, err.message);
  });

  test('no secms.v1 subprotocol → 400', async () => {
    const cookie = await cookieFor('wsalice');
    let err = await refused({ cookie, protocols: null });
    assert.equal(err.status, 400, err.message);
    assert.equal(err.json?.error?.code, 'bad_subprotocol');
    err = await refused({ cookie, protocols: ['chat', 'secms.v2'] });
    assert.equal(err.status, 400, err.message);
  });

  test('another path → 404', async () => {
    const cookie = await cookieFor('wsalice');
    const err = await refused({ cookie, path: '/api/v1/ws' });
    assert.equal(err.status, 404, err.message);
  });
});

describe('an open socket', { timeout: 30_000 }, () => {
  let alice;
  let aliceCookie;

  before(async () => {
    aliceCookie = await cookieFor('wsalice');
    alice = await openWebSocket(server, { cookie: aliceCookie });
  });
  after(() => alice?.ws.terminate());

  test('opens with protocol secms.v1; hello first, then presence', async () => {
    assert.equal(alice.ws.protocol, 'secms.v1');
    const first = await alice.next();
    assert.equal(first.type, 'hello');
    assert.equal(first.user.username, 'wsalice');
    assert.equal(first.user.role, 'user');
    assert.ok(Number.isInteger(first.user.userid));
    const presence = await alice.next();
    assert.equal(presence.type, 'presence');
    assert.deepEqual(names(presence), ['wsalice']);
  });

  test('a second user joining and leaving is seen in presence, as deltas', async () => {
    const bob = await openWebSocket(server, { cookie: await cookieFor('wsbob') });
    assert.equal((await bob.next('hello')).user.username, 'wsbob');
    assert.deepEqual(names(await bob.next('presence')), ['wsalice', 'wsbob']);  // the newcomer: the whole list
    const joined = await alice.next('presence_joined');
    assert.equal(joined.user.username, 'wsbob');
    assert.ok(Number.isInteger(joined.user.userid));
    // Bob's second tab is news to nobody else.
    const bob2 = await openWebSocket(server, { cookie: await cookieFor('wsbob') });
    assert.deepEqual(names(await bob2.next('presence')), ['wsalice', 'wsbob']);
    await bob2.close();
    await bob.close();
    const left = await alice.next('presence_left');
    assert.deepEqual(left.user, { userid: joined.user.userid, username: 'wsbob' });
    alice.send({ type: 'ping' });
    assert.equal((await alice.next()).type, 'pong', 'nothing else came in between (no message for bob2)');
  });

  test('ping → pong', async () => {
    alice.send({ type: 'ping' });
    assert.deepEqual(await alice.next(), { type: 'pong' });
  });

  test('unknown type → error unknown_type; not JSON → error malformed; socket stays open', async () => {
    alice.send({ type: 'no-such-thing' });
    const e1 = await alice.next();
    assert.equal(e1.type, 'error');
    assert.equal(e1.error.code, 'unknown_type');
    alice.send('this is not json');
    const e2 = await alice.next();
    assert.equal(e2.type, 'error');
    assert.equal(e2.error.code, 'malformed');
    alice.send({ kind: 'no type field' });
    assert.equal((await alice.next()).error.code, 'malformed');
    alice.send({ type: 'ping' });
    assert.equal((await alice.next()).type, 'pong');
  });
});

describe('closing', { timeout: 30_000 }, () => {
  test('a message over 64 KiB closes the socket with 1009', async () => {
    const client = await openWebSocket(server, { cookie: await cookieFor('wscarol') });
    await client.next('hello');
    client.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(64 * 1024) }));
    const { code } = await client.closedWithin(5_000);
    assert.equal(code, 1009);
  });

  test('a malformed binary (relay) frame gets a clear error, and the server keeps serving', async () => {
    // Binary frames are relay frames (DESIGN.md §6); three bytes cannot be a valid header. The
    // server may answer with an error message or close with 1008 (policy); never silence.
    const client = await openWebSocket(server, { cookie: await cookieFor('wscarol') });
    await client.next('hello');
    client.ws.send(Buffer.from([1, 2, 3]));
    const outcome = await Promise.race([
      client.next('error', 5_000).then((m) => ({ error: m })),
      client.closed.then((c) => ({ closed: c })),
    ]);
    if (outcome.closed) {
      assert.equal(outcome.closed.code, 1008, JSON.stringify(outcome.closed));
    } else {
      assert.equal(typeof outcome.error.error?.code, 'string', JSON.stringify(outcome.error));
      client.send({ type: 'ping' });
      assert.equal((await client.next('pong')).type, 'pong');
      await client.close();
    }
  });

  // (One app WebSocket per account: the other login's socket is opened after the logout, as
  // opening it before would have superseded the first with 4409.)
  test('logout of that login closes its socket with 4401; other logins stay', async () => {
    const cookie = await cookieFor('wscarol');
    const otherCookie = await cookieFor('wscarol');
    const client = await openWebSocket(server, { cookie });
    await client.next('hello');
    const res = await request(server, 'DELETE', '/api/v1/session', { cookie });
    assert.equal(res.status, 204);
    const closed = await client.closedWithin(3_000);
    assert.equal(closed.code, 4401, `socket after logout: ${JSON.stringify(closed)}`);
    const other = await openWebSocket(server, { cookie: otherCookie });
    await other.next('hello');
    other.send({ type: 'ping' });
    assert.equal((await other.next('pong')).type, 'pong');
    await other.close();
  });

  test('a newer socket of the account (another login) closes the older one with 4409 superseded', async () => {
    const older = await openWebSocket(server, { cookie: await cookieFor('wscarol') });
    await older.next('hello');
    const newer = await openWebSocket(server, { cookie: await cookieFor('wscarol') });
    await newer.next('hello');
    const closed = await older.closedWithin(3_000);
    assert.deepEqual({ code: closed.code, reason: closed.reason }, { code: 4409, reason: 'superseded' }, JSON.stringify(closed));
    newer.send({ type: 'ping' });
    assert.equal((await newer.next('pong')).type, 'pong');
    await newer.close();
  });

  test('a password change closes the sockets of the other logins with 4401', async () => {
    const keep = await cookieFor('wscarol');
    const stale = await cookieFor('wscarol');
    const staleSocket = await openWebSocket(server, { cookie: stale });
    await staleSocket.next('hello');
    const res = await request(server, 'PUT', '/api/v1/me/password', {
      cookie: keep,
      json: { current_password: users.wscarol, new_password: 'wscarol password 2' },
    });
    assert.equal(res.status, 204, res.body);
    users.wscarol = 'wscarol password 2';
    const closed = await staleSocket.closedWithin(3_000);
    assert.equal(closed.code, 4401, JSON.stringify(closed));
    const keepSocket = await openWebSocket(server, { cookie: keep });
    await keepSocket.next('hello');
    keepSocket.send({ type: 'ping' });
    assert.equal((await keepSocket.next('pong')).type, 'pong');
    await keepSocket.close();
  });
});
