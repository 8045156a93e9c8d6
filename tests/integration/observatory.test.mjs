// The MDN HTTP Observatory (npm @mdn/mdn-http-observatory, a pinned dev dependency) grades the
// running server's headers: A+ and no failed test on the landing page "/", the app page
// "/app.html" and an error page (a 404).
//
// How it reaches a loopback server: the scanner runs here, in a child `node` process, never as a
// hosted service. Its TLS client trusts the test server's self-signed certificate through
// NODE_EXTRA_CA_CERTS=<data dir>/tls/cert.pem (the package's own bin/wrapper.js would set that
// variable to Mozilla's CA bundle, so its target src/scan.js is run directly): the certificate is
// verified, as a public one would be, and the HSTS and redirection tests count it.
// - "/": the published scanner, `src/scan.js localhost:<https port>` (a host name with a port is
//   what it accepts; it always fetches "/").
// - every page, "/" included: tests/helpers/observatory-grade.mjs, the scanner's own retriever
//   with the server's HTTPS and plain-HTTP ports and a path (so the HTTP → HTTPS redirection is
//   tested too), its ten tests and its grader; the published scanner cannot fetch another path
//   and refuses to grade a 404. On "/" both must agree.
//
// `scripts/install-deps.sh` installs the package (npm ci) and the empty HSTS preload list its
// scanner reads (its install script would download Chromium's; localhost is in none).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import { repoRoot, request, startServer } from '../helpers/secms-server.mjs';

const INSTALL_HINT = 'run scripts/install-deps.sh (it installs @mdn/mdn-http-observatory and its HSTS preload list)';

// The package's directory, or a failure naming the install script.
function observatoryDir() {
  let entry;
  try {
    entry = fileURLToPath(import.meta.resolve('@mdn/mdn-http-observatory'));
  } catch {
    assert.fail(`the MDN HTTP Observatory is not installed: ${INSTALL_HINT}`);
  }
  const dir = path.resolve(path.dirname(entry), '..');
  assert.ok(existsSync(path.join(dir, 'conf', 'hsts-preload.json')),
    `the Observatory's HSTS preload list (conf/hsts-preload.json) is missing: ${INSTALL_HINT}`);
  return dir;
}

// Runs `node <args>` trusting the server's certificate; resolves to its JSON output.
function runScanner(server, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(server.dataDir, 'tls', 'cert.pem') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // The scanner's own requests time out after 10 s each; this only ends a hung process.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        const result = JSON.parse(stdout);
        assert.equal(code, 0, `scanner exited ${code}: ${stdout}\n${stderr}`);
        resolve(result);
      } catch (error) {
        reject(new Error(`scanner exited ${code}, not with JSON (${error.message}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

function assertAplus(result, what) {
  assert.equal(result.error ?? null, null, `${what}: ${result.error}`);
  const failed = Object.entries(result.tests)
    .filter(([, t]) => !t.pass)
    .map(([name, t]) => `${name}: ${t.result} (expected ${t.expectation})`);
  assert.deepEqual(failed, [], `${what}: failed Observatory tests`);
  assert.equal(result.scan.testsFailed, 0, `${what}: testsFailed`);
  assert.equal(result.scan.testsPassed, result.scan.testsQuantity, `${what}: testsPassed`);
  assert.equal(result.scan.grade, 'A+', `${what}: grade (score ${result.scan.score})`);
}

let server;
let dir;
// A setup failure (the Observatory missing) fails every test below rather than cancelling them.
let setupError;

before(async () => {
  try {
    dir = observatoryDir();
    server = await startServer();
  } catch (error) {
    setupError = error;
  }
});

after(async () => {
  await server?.stop();
});

describe('MDN HTTP Observatory', () => {
  beforeEach(() => {
    if (setupError) throw setupError;
  });

  const grade = (pagePath) => runScanner(server, [
    path.join(repoRoot, 'tests', 'helpers', 'observatory-grade.mjs'),
    'localhost', String(server.httpsPort), String(server.httpPort), pagePath,
  ]);

  test('the published scanner grades "/" A+ with no failed test, and the per-page grading agrees', async () => {
    const published = await runScanner(server, [path.join(dir, 'src', 'scan.js'), `localhost:${server.httpsPort}`]);
    assertAplus(published, 'published scanner, /');
    assert.equal(published.scan.statusCode, 200);
    // The certificate was verified (an unverified one fails the HSTS test as hsts-invalid-cert).
    assert.equal(published.tests['strict-transport-security'].result, 'hsts-implemented-max-age-at-least-six-months');

    const perPage = await grade('/');
    assertAplus(perPage, 'per-page grading, /');
    assert.equal(perPage.scan.verified, true, 'the certificate was verified');
    assert.equal(perPage.scan.score, published.scan.score, 'same score as the published scanner');
    for (const [name, t] of Object.entries(published.tests)) {
      // The published scanner cannot reach the plain-HTTP port (it tries port 80): its
      // redirection test passes as "no HTTP"; the per-page one follows the real redirect.
      if (name === 'redirection') continue;
      assert.equal(perPage.tests[name]?.result, t.result, `same result for ${name}`);
    }
  });

  test('"/": HTTP redirects to HTTPS on the same host', async () => {
    const r = await grade('/');
    assert.equal(r.tests.redirection.result, 'redirection-to-https');
    assert.equal(r.tests.redirection.route[0], `http://localhost:${server.httpPort}/`);
    assert.equal(r.tests.redirection.route.at(-1), `https://localhost:${server.httpsPort}/`);
  });

  test('the app page "/app.html": A+ with no failed test', async () => {
    const r = await grade('/app.html');
    assert.equal(r.scan.statusCode, 200);
    assertAplus(r, '/app.html');
    assert.equal(r.tests.redirection.result, 'redirection-to-https');
  });

  test('an error page (404): A+ with no failed test', async () => {
    const missing = '/no-such-page';
    const direct = await request(server, 'GET', missing);
    assert.equal(direct.status, 404, 'the page really is missing');
    const r = await grade(missing);
    assert.equal(r.scan.statusCode, 404);
    assertAplus(r, missing);
  });
});
