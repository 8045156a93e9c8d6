// Security headers of DESIGN.md §8 on every kind of response, and the plain-HTTP port that only
// redirects to the public HTTPS origin.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { login, rawExchange, register, repoRoot, request, startServer, webRoot } from '../helpers/secms-server.mjs';

// Exact values from DESIGN.md §8 (the server's constants must match these).
const EXACT = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

// connect-src: 'self', and on the pages also the SIP WebSocket's origin (SIP is on by default,
// sip_websocket_url; sip-api.test.mjs checks a configured origin and its absence with SIP off).
const CONNECT_SRC_ALLOWED = new Set(["'self'", "'self' wss://localhost:7443"]);

// CSP directives that must be present with exactly these sources.
const CSP_REQUIRED = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'object-src': "'none'",
  'require-trusted-types-for': "'script'",
  // Exactly the policies the app's pages create (Lit's and the Worker URL's; mail HTML is parsed
  // only in the sandboxed mail frame, under its own policy): no "default" policy, no
  // 'allow-duplicates', no wildcard.
  'trusted-types': 'lit-html secms-crypto-worker',
};

function parseCsp(value) {
  const out = new Map();
  for (const part of value.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.equal(out.has(name), false, `CSP directive ${name} appears twice`);
    out.set(name.toLowerCase(), sources.join(' '));
  }
  return out;
}

function assertSecurityHeaders(res, what) {
  for (const [name, value] of Object.entries(EXACT)) {
    assert.equal(res.headers[name], value, `${what}: ${name}`);
  }
  const csp = res.headers['content-security-policy'];
  assert.ok(csp, `${what}: Content-Security-Policy missing`);
  const directives = parseCsp(csp);
  for (const [name, sources] of Object.entries(CSP_REQUIRED)) {
    assert.equal(directives.get(name), sources, `${what}: CSP ${name}`);
  }
  assert.ok(CONNECT_SRC_ALLOWED.has(directives.get('connect-src')),
    `${what}: CSP connect-src ${directives.get('connect-src')}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|\*/, `${what}: CSP must not loosen itself`);

  const pp = res.headers['permissions-policy'];
  assert.ok(pp, `${what}: Permissions-Policy missing`);
  const features = new Map(pp.split(',').map((s) => s.trim().split('=')));
  for (const f of ['camera', 'microphone', 'display-capture']) {
    assert.equal(features.get(f), '(self)', `${what}: Permissions-Policy ${f}`);
  }
  for (const [f, allow] of features) {
    assert.ok(allow === '()' || allow === '(self)', `${what}: Permissions-Policy ${f}=${allow} is too open`);
  }

  const cc = res.headers['cache-control'];
  assert.ok(cc, `${what}: Cache-Control missing`);
  assert.ok(cc.split(',').map((s) => s.trim()).includes('no-store'), `${what}: Cache-Control ${cc}`);
}

// Builds web/dist if it is missing (another suite may be rebuilding it; we only read it). A
// front end that cannot be built fails the tests that need it; they never skip.
let webBuilt = existsSync(path.join(webRoot, 'index.html'));
let webBuildError;
if (!webBuilt) {
  try {
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe', timeout: 120_000 });
    webBuilt = existsSync(path.join(webRoot, 'index.html'));
  } catch (e) {
    webBuildError = String(e.stderr ?? e.message);
  }
}

let server;
let cookie;

before(async () => {
  server = await startServer();
  assert.equal((await register(server, 'headers', 'headers password')).status, 201);
  ({ cookie } = await login(server, 'headers', 'headers password'));
  assert.ok(cookie);
});
after(() => server?.stop());

function requireWebBuilt() {
  assert.ok(webBuilt, `web/dist not built: ${webBuildError}`);
}

describe('security headers on every response', () => {
  test('HTML page /', async () => {
    requireWebBuilt();
    const res = await request(server, 'GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html/);
    assertSecurityHeaders(res, 'GET /');
  });

  test('every script and style of the page has Subresource Integrity that matches what is served', async () => {
    requireWebBuilt();
    const html = (await request(server, 'GET', '/')).body;
    const tags = [...html.matchAll(/<(script|link)\b[^>]*>/g)].map((m) => m[0]);
    const assets = tags.filter((t) => /^<script\b[^>]*\bsrc=/.test(t) || /\brel="stylesheet"/.test(t));
    assert.ok(assets.length > 0, 'the page loads at least one script');
    for (const tag of assets) {
      const url = /\b(?:src|href)="([^"]+)"/.exec(tag)[1];
      const integrity = /\bintegrity="([^"]+)"/.exec(tag)?.[1];
      assert.ok(integrity, `no integrity on ${tag}`);
      const res = await request(server, 'GET', url);
      assert.equal(res.status, 200, `${url}`);
      assertSecurityHeaders(res, url);
      const [algo, digest] = integrity.split('-', 2);
      const actual = createHash(algo).update(Buffer.from(res.body, 'utf8')).digest('base64');
      assert.equal(actual, digest, `SRI of ${url}`);
    }
    assert.doesNotMatch(html, /<script\b(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /<style\b/, 'no inline style');
  });

  test('a JavaScript asset', async () => {
    requireWebBuilt();
    const js = readdirSync(path.join(webRoot, 'assets')).find((f) => f.endsWith('.js') && !f.startsWith('worker-'));
    assert.ok(js, 'a .js file in web/dist/assets');
    const res = await request(server, 'GET', `/assets/${js}`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/javascript/);
    assert.equal(res.body, readFileSync(path.join(webRoot, 'assets', js), 'utf8'));
    assertSecurityHeaders(res, `/assets/${js}`);
  });

  test('the crypto Worker script alone may compile WebAssembly (Argon2); the pages may not', async () => {
    requireWebBuilt();
    const worker = readdirSync(path.join(webRoot, 'assets')).find((f) => /^worker-.*\.js$/.test(f));
    assert.ok(worker, 'the worker bundle in web/dist/assets');
    const res = await request(server, 'GET', `/assets/${worker}`);
    assert.equal(res.status, 200);
    const directives = parseCsp(res.headers['content-security-policy']);
    assert.equal(directives.get('script-src'), "'self' 'wasm-unsafe-eval'");
    for (const [name, sources] of Object.entries(CSP_REQUIRED)) {
      if (name !== 'script-src' && name !== 'trusted-types') assert.equal(directives.get(name), sources, `worker CSP ${name}`);
    }
    // The Worker creates no mail reader policy: only Lit's and its own URL policy.
    assert.equal(directives.get('trusted-types'), 'lit-html secms-crypto-worker');
    assert.doesNotMatch(res.headers['content-security-policy'], /'unsafe-eval'|unsafe-inline|\*/);
    // Not widened by a query or by another path.
    for (const target of [`/assets/${worker}?x`, '/app.html', '/']) {
      const other = await request(server, 'GET', target);
      assert.doesNotMatch(other.headers['content-security-policy'] ?? '', /wasm-unsafe-eval/, target);
    }
  });

  test('the mail frame script may be read by the sandboxed (opaque-origin) frame: CORS *', async () => {
    requireWebBuilt();
    const page = readFileSync(path.join(webRoot, 'mail-frame.html'), 'utf8');
    // The script the frame page really loads (web/build.mjs names it /assets/mail-frame-<hash>.js).
    const src = page.match(/<script\b[^>]*\bsrc="([^"]+)"/)?.[1];
    assert.match(src ?? '', /^\/assets\/mail-frame-[A-Za-z0-9]+\.js$/, 'the frame page loads /assets/mail-frame-*.js');
    assert.ok(readFileSync(path.join(webRoot, 'mail-frame-remote.html'), 'utf8').includes(`src="${src}"`));
    // As Chromium asks for a module script of a sandboxed frame: CORS mode, Origin: null.
    const res = await request(server, 'GET', src, { headers: { Origin: 'null' } });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/javascript/);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-credentials'], undefined, 'never with credentials');
    assertSecurityHeaders(res, src);
    // Only that bundle: the app's scripts, the Worker and the pages stay same-origin only.
    const others = readdirSync(path.join(webRoot, 'assets')).filter((f) => f.endsWith('.js') && !f.startsWith('mail-frame-'));
    assert.ok(others.length >= 2, 'other bundles to compare with');
    for (const target of [...others.map((f) => `/assets/${f}`), '/mail-frame.html', '/', `${src}?x`]) {
      const other = await request(server, 'GET', target, { headers: { Origin: 'null' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined, target);
    }
  });

  test('API responses (200 GET, 200 POST login, 204 logout, 401)', async () => {
    const meRes = await request(server, 'GET', '/api/v1/me', { cookie });
    assert.equal(meRes.status, 200);
    assertSecurityHeaders(meRes, 'GET /api/v1/me');

    const l = await login(server, 'headers', 'headers password');
    assert.equal(l.res.status, 200);
    assertSecurityHeaders(l.res, 'POST /api/v1/session');

    const out = await request(server, 'DELETE', '/api/v1/session', { cookie: l.cookie });
    assert.equal(out.status, 204);
    assertSecurityHeaders(out, 'DELETE /api/v1/session');

    const unauth = await request(server, 'GET', '/api/v1/me');
    assert.equal(unauth.status, 401);
    assertSecurityHeaders(unauth, '401');
  });

  test('error responses: 404, 400 (bad JSON), 400 (bad target), 405, 413, 415', async () => {
    const cases = [
      ['404 static', await request(server, 'GET', '/no/such/file.js'), 404],
      ['404 api', await request(server, 'GET', '/api/v1/nothing'), 404],
      ['400 json', await request(server, 'POST', '/api/v1/accounts', { body: '{"username":' }), 400],
      ['400 target', await request(server, 'GET', '/a/%zz'), 400],
      ['405', await request(server, 'PATCH', '/api/v1/me', { json: {} }), 405],
      ['415', await request(server, 'POST', '/api/v1/session', { body: 'x', headers: { 'Content-Type': 'text/plain' } }), 415],
    ];
    for (const [what, res, status] of cases) {
      assert.equal(res.status, status, `${what}: ${res.body}`);
      assert.match(res.headers['content-type'], /^application\/json/, what);
      assert.equal(typeof res.json?.error?.code, 'string', what);
      assertSecurityHeaders(res, what);
    }
  });

  test('HEAD answers carry headers and no content, API errors included (RFC 9110 §9.3.2)', async () => {
    for (const target of ['/api/v1/me', '/api/v1/turn', '/api/v1/nothing', '/']) {
      const res = await rawExchange(server, `HEAD ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      assert.ok(res.status >= 200, `${target}: ${res.text.slice(0, 80)}`);
      assert.equal(res.body, '', `${target}: a HEAD answer sent content`);
      assert.ok(Number(res.headers['content-length']) > 0, `${target}: Content-Length of the GET answer`);
      assertSecurityHeaders(res, `HEAD ${target}`);
    }
  });

  test('health and metrics', async () => {
    assertSecurityHeaders(await request(server, 'GET', '/healthz'), '/healthz');
    assertSecurityHeaders(await request(server, 'GET', '/metrics'), '/metrics');
  });

  test('the 301 redirect of the plain-HTTP port', async () => {
    const res = await httpGet(server.httpPort, '/x');
    assert.equal(res.status, 301);
    assertSecurityHeaders(res, '301');
  });
});

// One plain-HTTP request with chosen raw request line and Host header (node's http client would
// not let us forge an absolute-form target).
function rawHttp(port, requestText) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (d) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), raw: data });
    });
    socket.write(requestText);
  });
}

function httpGet(port, target, host = `127.0.0.1:${port}`) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('plain-HTTP port redirects to HTTPS', () => {
  test('path and query are kept; the target is the public origin', async () => {
    const res = await httpGet(server.httpPort, '/some/path?x=1');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, `https://localhost:${server.httpsPort}/some/path?x=1`);
  });

  test('a forged Host header is ignored', async () => {
    const res = await httpGet(server.httpPort, '/some/path?x=1', 'evil.example');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, `https://localhost:${server.httpsPort}/some/path?x=1`);
  });

  test('no open redirect through the request target', async () => {
    const attempts = [
      'GET http://evil.example/steal HTTP/1.1\r\nHost: evil.example\r\n\r\n',
      'GET //evil.example/steal HTTP/1.1\r\nHost: evil.example\r\n\r\n',
      'GET /\\evil.example HTTP/1.1\r\nHost: evil.example\r\n\r\n',
      'GET /../../etc/passwd HTTP/1.1\r\nHost: evil.example\r\n\r\n',
    ];
    for (const text of attempts) {
      const res = await rawHttp(server.httpPort, text);
      assert.equal(res.status, 301, res.raw);
      const location = new URL(res.headers.location);
      assert.equal(location.origin, server.origin, `${JSON.stringify(text)} → ${res.headers.location}`);
      assert.equal(res.headers.location.startsWith(`${server.origin}/`), true);
      assert.doesNotMatch(res.headers.location.slice(server.origin.length), /^\/\/|evil/, res.headers.location);
    }
  });

  test('HTTPS itself is never redirected', async () => {
    const res = await request(server, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.headers.location, undefined);
  });
});
