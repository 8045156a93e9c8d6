// The administration API client (web/src/net/admin-api.js): paths, methods and bodies of each
// endpoint (docs/api.md "Admin"), both error body forms, and the checks on the list answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminApi, checkUserPage, isValidUsername, MAX_PAGE_SIZE } from '../src/net/admin-api.js';
import { ApiError } from '../src/net/api-client.js';

/** A fetch that answers each call with the next canned response and records the requests. */
function cannedFetch(...answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    const { status = 200, body, headers = {} } = answers[Math.min(calls.length - 1, answers.length - 1)];
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  return { fetchImpl, calls };
}

const alice = { username: 'alice', role: 'user', disabled: false, created_at: '2026-11-30T10:00:00Z', logins: 2 };

test('listUsers asks for a page and returns the checked users and total', async () => {
  const { fetchImpl, calls } = cannedFetch({ body: { users: [alice, { ...alice, username: 'bob.b', role: 'admin', disabled: true, logins: 0 }], total: 7 } });
  const page = await createAdminApi({ fetchImpl }).listUsers({ offset: 25, limit: 25 });
  assert.equal(calls[0].url, '/api/v1/admin/users?offset=25&limit=25');
  assert.equal(calls[0].init.method, 'GET');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.equal(page.total, 7);
  assert.deepEqual(page.users.map((user) => [user.username, user.role, user.disabled, user.logins]), [['alice', 'user', false, 2], ['bob.b', 'admin', true, 0]]);
  assert.equal(page.users[0].createdAt, '2026-11-30T10:00:00.000Z');
});

test('listUsers defaults to the first page of 50 and refuses limits the server refuses', async () => {
  const { fetchImpl, calls } = cannedFetch({ body: { users: [], total: 0 } });
  const api = createAdminApi({ fetchImpl });
  await api.listUsers();
  assert.equal(calls[0].url, '/api/v1/admin/users?offset=0&limit=50');
  await assert.rejects(api.listUsers({ limit: 0 }), RangeError);
  await assert.rejects(api.listUsers({ limit: MAX_PAGE_SIZE + 1 }), RangeError);
  await assert.rejects(api.listUsers({ offset: -1 }), RangeError);
  await assert.rejects(api.listUsers({ offset: 1.5 }), RangeError);
  assert.equal(calls.length, 1, 'nothing sent for a bad page');
});

test('each action uses its documented method, path and a JSON body', async () => {
  const { fetchImpl, calls } = cannedFetch({ body: { ok: true } }, { body: { ok: true } }, { body: { ok: true } },
    { body: { ok: true, ended: 3 } }, { body: { ok: true } });
  const api = createAdminApi({ fetchImpl });
  await api.disable('alice');
  await api.enable('alice');
  await api.setRole('alice', 'moderator');
  assert.equal(await api.endLogins('alice'), 3);
  await api.deleteUser('alice');
  assert.deepEqual(calls.map((call) => `${call.init.method} ${call.url}`), [
    'POST /api/v1/admin/users/alice/disable', 'POST /api/v1/admin/users/alice/enable', 'POST /api/v1/admin/users/alice/role',
    'POST /api/v1/admin/users/alice/end-logins', 'DELETE /api/v1/admin/users/alice',
  ]);
  assert.deepEqual(JSON.parse(calls[2].init.body), { role: 'moderator' });
  for (const call of calls.slice(0, 4)) assert.equal(call.init.headers['Content-Type'], 'application/json', 'the router accepts only JSON bodies');
});

test('a username outside the server rule never reaches the path; an unknown role is not sent', async () => {
  const { fetchImpl, calls } = cannedFetch({ body: { ok: true } });
  const api = createAdminApi({ fetchImpl });
  for (const bad of ['../me', 'a/b', 'al', 'x?y', 'é-user', '', null, '.dot']) {
    await assert.rejects(api.disable(bad), (error) => error instanceof ApiError && error.code === 'bad_username', String(bad));
  }
  await assert.rejects(api.setRole('alice', 'root'), (error) => error.code === 'bad_role');
  assert.equal(calls.length, 0);
  assert.equal(isValidUsername('a.b_c-1'), true);
});

test('errors keep the server code, in the nested and the short body form', async () => {
  const nested = cannedFetch({ status: 409, body: { error: { code: 'last_admin', message: 'no' } } });
  await assert.rejects(createAdminApi({ fetchImpl: nested.fetchImpl }).disable('bob'), (error) => error.status === 409 && error.code === 'last_admin');
  const short = cannedFetch({ status: 409, body: { error: 'self' } });
  await assert.rejects(createAdminApi({ fetchImpl: short.fetchImpl }).deleteUser('bob'), (error) => error.code === 'self');
  const forbidden = cannedFetch({ status: 403, body: { error: 'forbidden' } });
  await assert.rejects(createAdminApi({ fetchImpl: forbidden.fetchImpl }).listUsers(), (error) => error.status === 403 && error.code === 'forbidden');
  const proxy = cannedFetch({ status: 502, body: '<html>bad gateway</html>' });
  await assert.rejects(createAdminApi({ fetchImpl: proxy.fetchImpl }).enable('bob'), (error) => error.code === 'unavailable');
  const limited = cannedFetch({ status: 429, body: { error: { code: 'rate_limited' } }, headers: { 'Retry-After': '7' } });
  await assert.rejects(createAdminApi({ fetchImpl: limited.fetchImpl }).enable('bob'), (error) => error.retryAfterSeconds === 7);
  const down = createAdminApi({ fetchImpl: async () => { throw new TypeError('failed to fetch'); } });
  await assert.rejects(down.enable('bob'), (error) => error.status === 0 && error.code === 'network');
});

test('a list answer not of the documented form is bad_response, never shown', () => {
  const bad = (body) => assert.throws(() => checkUserPage(body), (error) => error.code === 'bad_response', JSON.stringify(body));
  bad(null);
  bad({ users: 'alice', total: 1 });
  bad({ users: [alice] });
  bad({ users: [alice], total: -1 });
  bad({ users: [{ ...alice, username: '<img src=x>' }], total: 1 });
  bad({ users: [{ ...alice, username: 'a'.repeat(33) }], total: 1 });
  bad({ users: [{ ...alice, role: 'root' }], total: 1 });
  bad({ users: [{ ...alice, disabled: 'no' }], total: 1 });
  bad({ users: [{ ...alice, logins: -1 }], total: 1 });
  bad({ users: [{ ...alice, logins: 1.5 }], total: 1 });
  bad({ users: [{ ...alice, created_at: {} }], total: 1 });
  bad({ users: Array.from({ length: MAX_PAGE_SIZE + 1 }, () => alice), total: 500 });
  // Unix seconds are read as well; an unreadable date is left out rather than shown.
  assert.equal(checkUserPage({ users: [{ ...alice, created_at: 1_700_000_000 }], total: 1 }).users[0].createdAt, '2023-11-14T22:13:20.000Z');
  assert.equal(checkUserPage({ users: [{ ...alice, created_at: 'yesterday' }], total: 1 }).users[0].createdAt, '');
});

test('unknown options are refused', () => {
  assert.throws(() => createAdminApi({ fetch: () => {} }), TypeError);
});
