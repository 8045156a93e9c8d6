// Bad input gets a clear error and the server keeps serving (DESIGN.md §9): size limits,
// malformed JSON and HTTP, garbage bytes, path traversal, directory listing, CSRF Origin checks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, rawExchange, register, request, startServer } from '../helpers/secms-server.mjs';

let server;

before(async () => {
  server = await startServer();
  assert.equal((await register(server, 'steady', 'steady password')).status, 201);
});
after(() => server?.stop());

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.body ?? res.text}`);
  assert.equal(res.json?.error?.code, code, res.body);
}

const host = () => `Host: localhost:${server.httpsPort}\r\nOrigin: ${server.origin}\r\n`;

describe('size limits', () => {
  test('a body over 64 KiB (declared length) → 413 payload_too_large', async () => {
    const head = `POST /api/v1/accounts HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: ${70 * 1024}\r\n\r\n`;
    assertError(await rawExchange(server, head), 413, 'payload_too_large');
  });

  test('a body over 64 KiB (actually sent) → 413 payload_too_large', async () => {
    const body = JSON.stringify({ username: 'big', password: 'p'.repeat(70 * 1024) });
    const res = await request(server, 'POST', '/api/v1/accounts', { body }).catch((e) => ({ error: e }));
    assertError(res, 413, 'payload_too_large');
  });

  test('a chunked body over 64 KiB → 413 payload_too_large', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const parts = [`POST /api/v1/accounts HTTP/1.1\r\n${host()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`];
    for (let i = 0; i < 5; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    parts.push('0\r\n\r\n');
    assertError(await rawExchange(server, parts), 413, 'payload_too_large');
  });

  test('headers over 8 KiB → 431', async () => {
    const res = await request(server, 'GET', '/healthz', { headers: { 'X-Filler': 'a'.repeat(9 * 1024) } });
    assert.equal(res.status, 431, res.body);
    assert.equal(res.json?.error?.code, 'headers_too_large');
  });

  test('many small headers over 8 KiB together → 431', async () => {
    const headers = {};
    for (let i = 0; i < 200; i++) headers[`X-H${i}`] = 'v'.repeat(50);
    const res = await request(server, 'GET', '/healthz', { headers });
    assert.equal(res.status, 431, res.body);
  });
});

describe('malformed requests', () => {
  test('malformed JSON → 400 bad_request', async () => {
    for (const body of ['{"username":', 'not json', '', '"a string"', '[1,2]', '{"a":'.repeat(50) + '1' + '}'.repeat(50)]) {
      const res = await request(server, 'POST', '/api/v1/session', { body });
      assertError(res, 400, 'bad_request');
    }
  });

  test('wrong content type → 415 unsupported_media_type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await request(server, 'POST', '/api/v1/session', {
        body: 'username=steady&password=steady+password',
        headers: { 'Content-Type': type },
      });
      assertError(res, 415, 'unsupported_media_type');
    }
    const none = await request(server, 'POST', '/api/v1/session', { body: '{}', headers: { 'Content-Type': null } });
    assertError(none, 415, 'unsupported_media_type');
  });

  test('garbage bytes on the TLS port (no TLS at all) → connection closed, no HTTP answer', async () => {
    const garbage = Buffer.from('\x00\xff\x13\x37 GET / HTTP/1.1\r\n\r\n' + 'garbage'.repeat(100), 'latin1');
    const res = await rawExchange(server, garbage, { tls: false });
    assert.equal(res.closedByServer || res.error !== undefined, true, 'the server closed the connection');
    assert.equal(res.status, undefined, `no HTTP response expected, got: ${res.text.slice(0, 80)}`);
  });

  test('plain HTTP on the TLS port → connection closed', async () => {
    const res = await rawExchange(server, `GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n`, { tls: false });
    assert.equal(res.closedByServer || res.error !== undefined, true);
    assert.equal(res.status, undefined);
  });

  test('non-HTTP bytes inside TLS → 400 or closed', async () => {
    for (const junk of ['HELLO\x00\x01\x02garbage\r\n\r\n', '\x16\x03\x01\x02\x00\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n']) {
      const res = await rawExchange(server, Buffer.from(junk, 'latin1'));
      if (res.status !== undefined) {
        assert.equal(res.status, 400, `${JSON.stringify(junk)} → ${res.text.slice(0, 200)}`);
      } else {
        assert.equal(res.closedByServer || res.error !== undefined, true, JSON.stringify(junk));
      }
    }
  });

  test('conflicting Content-Length and Transfer-Encoding (request smuggling) → 400 or closed', async () => {
    const text = `POST /api/v1/session HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`;
    const res = await rawExchange(server, text);
    assert.ok(res.status === undefined || res.status === 400, res.text.slice(0, 300));
    assert.equal((res.text.match(/HTTP\/1\.1 /g) ?? []).length <= 1, true, 'no smuggled second response');
  });
});

describe('paths', () => {
  const traversals = [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E/%2E%2E/etc/passwd',
    '/assets/../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2f..%2f..%2fetc%2fpasswd',
    '/..%5c..%5c..%5cetc%5cpasswd',
    '/assets/....//....//etc/passwd',
    '/%00/etc/passwd',
    '//etc/passwd',
    '/etc/passwd',
    '/./index.html',
  ];
  for (const target of traversals) {
    test(`traversal ${target} → 400 or 404, never file contents`, async () => {
      // Raw request: node's http client might normalise the path.
      const res = await rawExchange(server, `GET ${target} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      assert.ok(res.status === 400 || res.status === 404, `${target} → ${res.text.slice(0, 200)}`);
      assert.doesNotMatch(res.text, /root:|\/bin\/(ba)?sh|<html/i);
    });
  }

  test('directories are never listed: /assets/ and /assets → 404', async () => {
    for (const target of ['/assets/', '/assets', '/assets/.']) {
      const res = await request(server, 'GET', target);
      assert.ok(res.status === 404 || res.status === 400, `${target} → ${res.status}`);
      assert.doesNotMatch(res.body, /\.js|\.css/, `${target} leaks a listing`);
    }
  });

  test('files outside the web root named through the data dir are not served', async () => {
    for (const target of ['/users.db', '/hsm/user.pin', '/tls/key.pem', '/../data/tls/key.pem']) {
      const res = await rawExchange(server, `GET ${target} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      assert.ok(res.status === 400 || res.status === 404, `${target} → ${res.status}`);
      assert.doesNotMatch(res.text, /PRIVATE KEY/);
    }
  });
});

describe('CSRF: state changes need our Origin', () => {
  const cases = [
    ['POST', '/api/v1/session'],
    ['POST', '/api/v1/accounts'],
    ['DELETE', '/api/v1/session'],
    ['PUT', '/api/v1/me/password'],
    ['DELETE', '/api/v1/me'],
  ];
  for (const [method, path] of cases) {
    test(`${method} ${path} with no Origin or a foreign Origin → 403 forbidden_origin`, async () => {
      for (const origin of [null, 'https://evil.example', 'null', `https://127.0.0.1:${server.httpsPort}`, `http://localhost:${server.httpsPort}`, `${server.origin}.evil.example`]) {
        const res = await request(server, method, path, {
          json: { username: 'steady', password: 'steady password' },
          headers: { Origin: origin },
        });
        assertError(res, 403, 'forbidden_origin');
      }
    });
  }

  test('a login refused for its Origin does not log in', async () => {
    const res = await request(server, 'POST', '/api/v1/session', {
      json: { username: 'steady', password: 'steady password' },
      headers: { Origin: 'https://evil.example' },
    });
    assert.equal(res.headers['set-cookie'], undefined);
  });
});

describe('after all that', () => {
  test('/healthz answers 200 and a normal login works', async () => {
    const health = await request(server, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok\n');
    const { res, cookie } = await login(server, 'steady', 'steady password');
    assert.equal(res.status, 200, res.body);
    assert.equal((await request(server, 'GET', '/api/v1/me', { cookie })).status, 200);
    assert.equal(server.process.exitCode, null, 'the server is still running');
  });
});
