// Process lifecycle and operations: /healthz, /metrics from loopback, graceful SIGTERM shutdown.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, openWebSocket, register, request, startServer } from '../helpers/secms-server.mjs';

// Prometheus text format → Map of "name{labels}" → number.
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `not Prometheus text: ${JSON.stringify(line)}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('/metrics', () => {
  let server;
  before(async () => {
    server = await startServer();
    assert.equal((await register(server, 'metrics', 'metrics password')).status, 201);
  });
  after(() => server?.stop());

  async function metrics() {
    const res = await request(server, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.body);
  }

  test('Prometheus text with the expected series, moving after logins', async () => {
    const before = await metrics();
    for (const name of ['secms_logins_ok_total', 'secms_logins_failed_total', 'secms_connections_open', 'secms_hash_queue_depth']) {
      assert.ok(before.has(name), `${name} missing`);
    }
    // /healthz of the start-up poll and the registration answered 200 already.
    assert.ok(before.get('secms_http_responses_total{code="200"}') >= 1);
    assert.ok(before.get('secms_connections_open') >= 1, 'our own connection is open while it asks');
    assert.equal(before.get('secms_hash_queue_depth'), 0, 'nothing hashing while idle');

    assert.equal((await login(server, 'metrics', 'metrics password')).res.status, 200);
    assert.equal((await login(server, 'metrics', 'wrong password!')).res.status, 401);
    assert.equal((await login(server, 'nobody', 'wrong password!')).res.status, 401);

    const afterLogin = await metrics();
    assert.equal(afterLogin.get('secms_logins_ok_total'), before.get('secms_logins_ok_total') + 1);
    assert.equal(afterLogin.get('secms_logins_failed_total'), before.get('secms_logins_failed_total') + 2);
    // 200s: the login and the previous /metrics call.
    assert.equal(afterLogin.get('secms_http_responses_total{code="200"}'), before.get('secms_http_responses_total{code="200"}') + 2);
    assert.ok(afterLogin.get('secms_http_responses_total{code="401"}') >= 2);
    assert.equal(afterLogin.get('secms_hash_queue_depth'), 0);
  });

  test('open WebSockets and users online are counted', async () => {
    const { cookie } = await login(server, 'metrics', 'metrics password');
    const client = await openWebSocket(server, { cookie });
    await client.next('hello');
    let m = await metrics();
    assert.equal(m.get('secms_websockets_open'), 1);
    assert.equal(m.get('secms_users_online'), 1);
    await client.close();
    await new Promise((r) => setTimeout(r, 200));
    m = await metrics();
    assert.equal(m.get('secms_websockets_open'), 0);
    assert.equal(m.get('secms_users_online'), 0);
  });

  test('only GET', async () => {
    const res = await request(server, 'POST', '/metrics', { json: {} });
    assert.equal(res.status, 405);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM: open WebSockets get 1001, the process exits 0 within 5 s', async () => {
    const server = await startServer();
    assert.equal((await register(server, 'leaver', 'leaver password')).status, 201);
    const { cookie } = await login(server, 'leaver', 'leaver password');
    const client = await openWebSocket(server, { cookie });
    await client.next('hello');
    const stopped = await server.stop();
    assert.equal(stopped.killed, false, 'needed SIGKILL');
    assert.equal(stopped.signal, null);
    assert.equal(stopped.code, 0, JSON.stringify(stopped));
    assert.ok(stopped.ms < 5_000, `took ${stopped.ms} ms`);
    const closed = await client.closedWithin(1_000); // already closed before the process exited
    assert.equal(closed.code, 1001, JSON.stringify(closed));
    assert.match(server.logs().stderr, /shutting down/);
  });
});
