// A server with mail_enabled = false: the page still asks GET /api/v1/mail/status at every login
// and must learn "off" from a 200, not from a 404 in its console; every other mail path is 404
// not_enabled, and a logged-out caller gets 401 as everywhere else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { login, loopbackRateLimits, register, request, startServer } from '../helpers/secms-server.mjs';

let server;
let cookie;

before(async () => {
  server = await startServer({ extraArgs: [...loopbackRateLimits, '--mail-enabled', 'false'] });
  assert.equal((await register(server, 'offmail', 'offmail password')).status, 201);
  ({ cookie } = await login(server, 'offmail', 'offmail password'));
  assert.ok(cookie);
});

after(async () => {
  await server?.stop();
});

test('mail off: GET /mail/status answers {enabled:false} to a login, 401 without one', async () => {
  const res = await request(server, 'GET', '/api/v1/mail/status', { cookie });
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(res.json, { enabled: false });
  const anonymous = await request(server, 'GET', '/api/v1/mail/status');
  assert.equal(anonymous.status, 401, anonymous.body);
});

test('mail off: every other mail path is 404 not_enabled', async () => {
  for (const [method, target] of [['GET', '/api/v1/mail/folders'], ['GET', '/api/v1/mail/messages?folder=INBOX'], ['POST', '/api/v1/mail/send?to=a%40localhost']]) {
    const res = await request(server, method, target, { cookie, headers: { Origin: server.origin, 'Content-Type': 'message/rfc822' }, body: method === 'POST' ? 'x' : undefined });
    assert.equal(res.status, 404, `${method} ${target}: ${res.body}`);
    assert.equal(res.json?.error?.code, 'not_enabled');
  }
});
