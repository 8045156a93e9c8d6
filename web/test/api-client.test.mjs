import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiClient, ApiError, errorMessageKey, parseRetryAfter, knownErrorCodes } from '../src/net/api-client.js';

/** A fetch that answers with one canned response and records the request. */
function cannedFetch({ status, body, headers = {} }) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  return { fetchImpl, calls };
}

const errorBody = (code) => ({ error: { code, message: `server says ${code}` } });

test('login sends JSON with the content type the server requires and returns the user', async () => {
  const user = { userid: 1, username: 'alice', role: 'user', created_at: 1700000000 };
  const { fetchImpl, calls } = cannedFetch({ status: 200, body: { user } });
  const api = createApiClient({ fetchImpl });
  assert.deepEqual(await api.login({ username: 'alice', password: 'correct horse' }), user);
  assert.equal(calls[0].url, '/api/v1/session');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.deepEqual(JSON.parse(calls[0].init.body), { username: 'alice', password: 'correct horse' });
});

test('changePassword uses the server field names; 204 resolves to null', async () => {
  const { fetchImpl, calls } = cannedFetch({ status: 204 });
  const api = createApiClient({ fetchImpl });
  assert.equal(await api.changePassword({ currentPassword: 'a'.repeat(10), newPassword: 'b'.repeat(10) }), null);
  assert.equal(calls[0].init.method, 'PUT');
  assert.deepEqual(JSON.parse(calls[0].init.body), { current_password: 'a'.repeat(10), new_password: 'b'.repeat(10) });
});

test('logout and me use the documented methods and paths', async () => {
  const { fetchImpl, calls } = cannedFetch({ status: 204 });
  await createApiClient({ fetchImpl }).logout();
  assert.deepEqual([calls[0].init.method, calls[0].url, calls[0].init.body], ['DELETE', '/api/v1/session', undefined]);
});

for (const [status, code] of [
  [400, 'invalid_username'], [400, 'invalid_password'], [409, 'username_taken'],
  [401, 'invalid_credentials'], [403, 'account_disabled'], [401, 'not_authenticated'],
  [413, 'payload_too_large'], [403, 'forbidden_origin'], [415, 'unsupported_media_type'],
  [500, 'internal'], [503, 'unavailable'], [507, 'storage_full'],
]) {
  test(`${status} ${code} becomes an ApiError mapped to error.${code}`, async () => {
    const { fetchImpl } = cannedFetch({ status, body: errorBody(code) });
    const error = await createApiClient({ fetchImpl }).register({ username: 'x', password: 'y' }).catch((e) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    assert.equal(error.serverMessage, `server says ${code}`);
    assert.deepEqual(errorMessageKey(error), { key: `error.${code}`, params: {} });
  });
}

test('rate_limited carries Retry-After seconds into the message parameters', async () => {
  const { fetchImpl } = cannedFetch({ status: 429, body: errorBody('rate_limited'), headers: { 'Retry-After': '30' } });
  const error = await createApiClient({ fetchImpl }).login({ username: 'a', password: 'b' }).catch((e) => e);
  assert.equal(error.retryAfterSeconds, 30);
  assert.deepEqual(errorMessageKey(error), { key: 'error.rate_limited_seconds', params: { seconds: 30 } });
  const withoutHeader = new ApiError({ status: 429, code: 'rate_limited' });
  assert.deepEqual(errorMessageKey(withoutHeader), { key: 'error.rate_limited', params: {} });
});

test('a body that is not the error JSON falls back to a code from the status', async () => {
  const { fetchImpl } = cannedFetch({ status: 502, body: '<html>bad gateway</html>' });
  const error = await createApiClient({ fetchImpl }).me().catch((e) => e);
  assert.equal(error.code, 'unavailable');
  const odd = await createApiClient({ fetchImpl: cannedFetch({ status: 418, body: '' }).fetchImpl }).me().catch((e) => e);
  assert.equal(odd.code, 'http_418');
  assert.deepEqual(errorMessageKey(odd), { key: 'error.unknown', params: { code: 'http_418' } });
});

test('a malformed error code from the server is not trusted', async () => {
  const { fetchImpl } = cannedFetch({ status: 400, body: { error: { code: '<img src=x>', message: 'x' } } });
  const error = await createApiClient({ fetchImpl }).me().catch((e) => e);
  assert.equal(error.code, 'bad_request');
});

test('an unknown code maps to error.unknown with the code as parameter', () => {
  assert.deepEqual(errorMessageKey(new ApiError({ status: 400, code: 'brand_new' })), { key: 'error.unknown', params: { code: 'brand_new' } });
});

test('a fetch that throws (server down) becomes the network error', async () => {
  const api = createApiClient({ fetchImpl: async () => { throw new TypeError('Failed to fetch'); } });
  const error = await api.me().catch((e) => e);
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 0);
  assert.equal(error.code, 'network');
  assert.deepEqual(errorMessageKey(error), { key: 'error.network', params: {} });
  assert.deepEqual(errorMessageKey(new Error('anything else')), { key: 'error.network', params: {} });
});

test('parseRetryAfter accepts delay-seconds only', () => {
  assert.equal(parseRetryAfter('120'), 120);
  assert.equal(parseRetryAfter(' 5 '), 5);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'), null);
  assert.equal(parseRetryAfter('-1'), null);
  assert.equal(parseRetryAfter(null), null);
});

test('507 storage_full (registration on a full disk) has its own sentence, with or without a body', async () => {
  const { fetchImpl } = cannedFetch({ status: 507, body: '' });
  const error = await createApiClient({ fetchImpl }).register({ username: 'x', password: 'y' }).catch((e) => e);
  assert.equal(error.code, 'storage_full');
  assert.deepEqual(errorMessageKey(error), { key: 'error.storage_full', params: {} });
  const { default: en } = await import('../src/i18n/en.js');
  const { default: fr } = await import('../src/i18n/fr.js');
  assert.equal(en['error.storage_full'], "The server's storage is full; try again later or tell its administrator.");
  assert.ok(fr['error.storage_full']);
});

test('me() passes its AbortSignal to fetch; an aborted question is a failure with no answer', async () => {
  let seenSignal = null;
  const fetchImpl = (url, init) => new Promise((resolve, reject) => {
    seenSignal = init.signal;
    init.signal?.addEventListener('abort', () => reject(init.signal.reason));
  });
  const controller = new AbortController();
  const pending = createApiClient({ fetchImpl }).me({ signal: controller.signal }).catch((e) => e);
  controller.abort(new Error('timed out'));
  const error = await pending;
  assert.equal(seenSignal, controller.signal);
  assert.ok(error instanceof ApiError);
  assert.deepEqual([error.status, error.code], [0, 'network']);
});

test('createApiClient rejects unknown options', () => {
  assert.throws(() => createApiClient({ fetch: () => {} }), /unknown option fetch/);
  assert.ok(knownErrorCodes.includes('invalid_credentials'));
});

test('turnCredentials reads GET /api/v1/turn and keeps only well-formed ICE servers', async () => {
  const good = {
    iceServers: [{ urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'], username: '1700000000:7', credential: 'c2VjcmV0' }],
    iceTransportPolicy: 'relay', ttl: 43200, expiresAt: 1700000000,
  };
  const { fetchImpl, calls } = cannedFetch({ status: 200, body: good });
  const result = await createApiClient({ fetchImpl }).turnCredentials();
  assert.equal(calls[0].url, '/api/v1/turn');
  assert.equal(calls[0].init.method, 'GET');
  assert.deepEqual(JSON.parse(JSON.stringify(result)), good);
  assert.deepEqual((await createApiClient({ fetchImpl: cannedFetch({ status: 200, body: { ...good, iceServers: [] } }).fetchImpl }).turnCredentials()).iceServers, []);
  // A STUN URL the operator listed beside the TURN ones (the server accepts stun:/stuns:) is kept.
  const withStun = { ...good, iceServers: [{ ...good.iceServers[0], urls: ['stun:stun.example.org:3478', 'stuns:stun.example.org:5349', ...good.iceServers[0].urls] }] };
  assert.deepEqual(JSON.parse(JSON.stringify(await createApiClient({ fetchImpl: cannedFetch({ status: 200, body: withStun }).fetchImpl }).turnCredentials())), withStun);
  for (const bad of [
    { ...good, iceTransportPolicy: 'none' },
    { ...good, iceServers: [{ ...good.iceServers[0], urls: ['http://evil.example/'] }] },
    { ...good, iceServers: [{ ...good.iceServers[0], credential: 5 }] },
    { ...good, iceServers: 'turn:x' },
  ]) {
    await assert.rejects(createApiClient({ fetchImpl: cannedFetch({ status: 200, body: bad }).fetchImpl }).turnCredentials(), (error) => error instanceof ApiError && error.code === 'bad_response');
  }
  const limited = cannedFetch({ status: 429, body: errorBody('rate_limited'), headers: { 'Retry-After': '7' } });
  await assert.rejects(createApiClient({ fetchImpl: limited.fetchImpl }).turnCredentials(), (error) => error.code === 'rate_limited' && error.retryAfterSeconds === 7);
});
