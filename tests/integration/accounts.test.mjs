// Account and login flows against the real server: register, login, me, password change,
// logout, account deletion; duplicate and invalid input; same answer and similar timing for an
// unknown user and a wrong password (DESIGN.md §6, §8).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, register, request, sessionCookieOf, startServer } from '../helpers/secms-server.mjs';

const CLEAR_SITE_DATA = '"cache", "cookies", "storage"';
const COOKIE_SHAPE = /^__Host-sid=([A-Za-z0-9_-]+); Path=\/; Secure; HttpOnly; SameSite=Strict$/;

let server;

before(async () => {
  // These tests are not about rate limits: lift them so many logins from 127.0.0.1 stay allowed.
  server = await startServer({
    extraArgs: [
      '--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000',
      '--login-free-failures', '1000', '--login-account-ceiling', '1000',
      '--register-per-ip-burst', '1000', '--register-per-ip-per-minute', '1000',
    ],
  });
});

after(async () => {
  await server?.stop();
});

async function me(cookie) {
  return request(server, 'GET', '/api/v1/me', { cookie });
}

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.body}`);
  assert.equal(res.json?.error?.code, code, res.body);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

// base64url without padding → bytes
function tokenBits(token) {
  return Buffer.from(token, 'base64url').length * 8;
}

describe('account lifecycle', () => {
  const username = 'alice';
  const password = 'alice password one';
  const newPassword = 'alice password two';

  test('register answers 201 with the user', async () => {
    const res = await register(server, username, password);
    assert.equal(res.status, 201, res.body);
    assert.match(res.headers['content-type'], /^application\/json/);
    const { user } = res.json;
    assert.equal(user.username, username);
    assert.equal(user.role, 'user');
    assert.ok(Number.isInteger(user.userid) && user.userid > 0);
    assert.ok(Number.isInteger(user.created_at) && user.created_at > 1_600_000_000);
    assert.equal(res.body.includes(password), false, 'the password is never echoed');
  });

  let cookie;

  test('login sets a __Host- session cookie of at least 128 bits', async () => {
    const res = await request(server, 'POST', '/api/v1/session', { json: { username, password } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.user.username, username);
    const setCookie = [].concat(res.headers['set-cookie'] ?? []);
    assert.equal(setCookie.length, 1, JSON.stringify(setCookie));
    const m = COOKIE_SHAPE.exec(setCookie[0]);
    assert.ok(m, `cookie shape: ${setCookie[0]}`);
    assert.ok(tokenBits(m[1]) >= 128, `cookie value has ${tokenBits(m[1])} bits`);
    cookie = m[1];
  });

  test('GET /api/v1/me with the cookie answers 200; without, 401', async () => {
    const res = await me(cookie);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.user.username, username);
    assert.equal(res.json.user.role, 'user');
    assertError(await request(server, 'GET', '/api/v1/me'), 401, 'not_authenticated');
    assertError(await me('A'.repeat(43)), 401, 'not_authenticated');
  });

  test('every login issues a new cookie; an old cookie sent with a login is ended', async () => {
    const second = await login(server, username, password);
    assert.equal(second.res.status, 200);
    assert.ok(second.cookie);
    assert.notEqual(second.cookie, cookie);
    // Two independent logins of one user both work.
    assert.equal((await me(cookie)).status, 200);
    assert.equal((await me(second.cookie)).status, 200);

    // Session fixation defence: logging in while presenting `second` ends `second`.
    const third = await login(server, username, password, { cookie: second.cookie });
    assert.equal(third.res.status, 200);
    assert.ok(third.cookie);
    assert.notEqual(third.cookie, second.cookie);
    assert.notEqual(third.cookie, cookie);
    assertError(await me(second.cookie), 401, 'not_authenticated');
    assert.equal((await me(third.cookie)).status, 200);
    assert.equal((await me(cookie)).status, 200, 'an unrelated login is untouched');
  });

  test('change password: 204, old password refused, new accepted, other logins ended', async () => {
    const other = await login(server, username, password);
    assert.equal(other.res.status, 200);

    // Wrong current password: refused, nothing changes.
    const wrong = await request(server, 'PUT', '/api/v1/me/password', {
      cookie,
      json: { current_password: 'not the password', new_password: newPassword },
    });
    assertError(wrong, 401, 'invalid_credentials');
    assert.equal((await me(other.cookie)).status, 200);

    // A new password that breaks the rules: 400 invalid_password.
    const weak = await request(server, 'PUT', '/api/v1/me/password', {
      cookie,
      json: { current_password: password, new_password: 'short' },
    });
    assertError(weak, 400, 'invalid_password');

    const res = await request(server, 'PUT', '/api/v1/me/password', {
      cookie,
      json: { current_password: password, new_password: newPassword },
    });
    assert.equal(res.status, 204, res.body);
    assert.equal(res.body, '');

    assertError((await login(server, username, password)).res, 401, 'invalid_credentials');
    const fresh = await login(server, username, newPassword);
    assert.equal(fresh.res.status, 200);
    assertError(await me(other.cookie), 401, 'not_authenticated');
    assert.equal((await me(cookie)).status, 200, 'the login that changed the password stays');
    assert.equal((await me(fresh.cookie)).status, 200);
  });

  test('change password needs a login', async () => {
    const res = await request(server, 'PUT', '/api/v1/me/password', {
      json: { current_password: newPassword, new_password: password },
    });
    assertError(res, 401, 'not_authenticated');
  });

  test('logout: 204, Clear-Site-Data, expired cookie, and the cookie stops working', async () => {
    const res = await request(server, 'DELETE', '/api/v1/session', { cookie });
    assert.equal(res.status, 204, res.body);
    assert.equal(res.headers['clear-site-data'], CLEAR_SITE_DATA);
    const setCookie = [].concat(res.headers['set-cookie'] ?? []);
    assert.equal(setCookie.length, 1);
    assert.match(setCookie[0], /^__Host-sid=; /);
    assert.match(setCookie[0], /Max-Age=0/);
    assertError(await me(cookie), 401, 'not_authenticated');
  });

  test('delete account: wrong password 401; right password 204 + Clear-Site-Data; login then fails', async () => {
    const { res: loginRes, cookie: c } = await login(server, username, newPassword);
    assert.equal(loginRes.status, 200);
    const other = await login(server, username, newPassword);

    const wrong = await request(server, 'DELETE', '/api/v1/me', { cookie: c, json: { password: password } });
    assertError(wrong, 401, 'invalid_credentials');
    assert.equal((await me(c)).status, 200, 'a refused deletion leaves the login alone');

    const res = await request(server, 'DELETE', '/api/v1/me', { cookie: c, json: { password: newPassword } });
    assert.equal(res.status, 204, res.body);
    assert.equal(res.headers['clear-site-data'], CLEAR_SITE_DATA);
    assertError(await me(c), 401, 'not_authenticated');
    assertError(await me(other.cookie), 401, 'not_authenticated');
    assertError((await login(server, username, newPassword)).res, 401, 'invalid_credentials');

    // The name is free again.
    const again = await register(server, username, password);
    assert.equal(again.status, 201, again.body);
  });
});

describe('registration rules', () => {
  test('duplicate username, also differing only in case → 409 username_taken', async () => {
    assert.equal((await register(server, 'bob', 'bob password one')).status, 201);
    assertError(await register(server, 'bob', 'another password'), 409, 'username_taken');
    assertError(await register(server, 'BOB', 'another password'), 409, 'username_taken');
    assertError(await register(server, 'Bob', 'another password'), 409, 'username_taken');
  });

  test('invalid usernames → 400 invalid_username', async () => {
    const bad = ['ab', 'x'.repeat(33), 'has space', '-leading', '.dot', 'semi;colon', 'slash/name', 'ünïcode', ''];
    for (const name of bad) {
      assertError(await register(server, name, 'a fine password'), 400, 'invalid_username');
    }
  });

  test('invalid passwords → 400 invalid_password', async () => {
    for (const pw of ['', 'short', '123456789', 'x'.repeat(257), 'nine\u0000chars-x']) {
      assertError(await register(server, 'validname', pw), 400, 'invalid_password');
    }
    // And the limits themselves are accepted.
    assert.equal((await register(server, 'tenchars', '0123456789')).status, 201);
    assert.equal((await register(server, 'longpass', 'y'.repeat(256))).status, 201);
  });

  test('missing or non-string fields → 400 bad_request', async () => {
    assertError(await request(server, 'POST', '/api/v1/accounts', { json: { username: 'carl' } }), 400, 'bad_request');
    assertError(await request(server, 'POST', '/api/v1/accounts', { json: { username: 'carl', password: 1234567890123 } }), 400, 'bad_request');
    assertError(await request(server, 'POST', '/api/v1/accounts', { json: ['carl', 'password'] }), 400, 'bad_request');
    assertError(await request(server, 'POST', '/api/v1/session', { json: { password: 'whatever-123' } }), 400, 'bad_request');
  });
});

describe('login failures give nothing away', () => {
  const known = 'dora';
  const knownPassword = 'dora password one';

  before(async () => {
    assert.equal((await register(server, known, knownPassword)).status, 201);
  });

  test('wrong password and unknown user: same status, same body', async () => {
    const wrong = await login(server, known, 'not dora password');
    const unknown = await login(server, 'nobody-here', 'not dora password');
    for (const { res } of [wrong, unknown]) {
      assertError(res, 401, 'invalid_credentials');
      assert.equal(res.headers['set-cookie'], undefined);
    }
    assert.equal(wrong.res.body, unknown.res.body);
    // A name that breaks the public rules cannot be an account: 400 before any hashing or
    // rate-limit key (rate-limits.test.mjs), which tells nothing about who has an account.
    const malformed = await login(server, 'x', 'not dora password');
    assertError(malformed.res, 400, 'invalid_username');
    assert.equal(malformed.res.headers['set-cookie'], undefined);
  });

  test('wrong password and unknown user take similar time (both run Argon2id)', async () => {
    // Lenient on purpose (factor 3 between medians): this guards against a missing hash on one
    // path (≈100× faster), not against fine timing side channels.
    const time = async (username) => {
      const t = process.hrtime.bigint();
      const { res } = await login(server, username, 'not the password');
      assert.equal(res.status, 401);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const wrongTimes = [];
    const unknownTimes = [];
    await time(known); // warm-up
    for (let i = 0; i < 5; i++) {
      wrongTimes.push(await time(known));
      unknownTimes.push(await time(`ghost${i}`));
    }
    const a = median(wrongTimes);
    const b = median(unknownTimes);
    const ratio = Math.max(a, b) / Math.min(a, b);
    assert.ok(ratio < 3, `median wrong-password ${a.toFixed(1)} ms vs unknown-user ${b.toFixed(1)} ms (ratio ${ratio.toFixed(2)})`);
  });
});
