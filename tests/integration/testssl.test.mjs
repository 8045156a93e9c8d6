// testssl.sh (Debian package testssl.sh, command `testssl`) grades the running server's TLS: only
// TLS 1.2 and 1.3 offered, only forward-secret AEAD cipher suites, no vulnerability it checks
// reported, HSTS present. Its flat JSON output (--jsonfile) is what is asserted on.
//
// Checks run: protocols (-p), cipher categories (-s), forward secrecy (-f), every cipher suite
// one by one (-e), the HTTP headers (-h) and the vulnerabilities (-U); not the certificate
// (-S: the test's self-signed certificate has no CA, CRL or OCSP, which says nothing about the
// server) nor client simulations. No --fast: it would try the suites with the local OpenSSL
// only, which lacks RC4 and others that testssl's own sockets offer. About a minute here.
// The summary is kept in docs/operations.md ("TLS and headers graded by testssl.sh and the MDN
// HTTP Observatory").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startServer } from '../helpers/secms-server.mjs';

const INSTALL_HINT = 'run scripts/install-deps.sh (it installs the Debian package testssl.sh)';

// Runs testssl against the server; resolves to its findings ({ id, severity, finding }[]).
async function runTestssl(server, outDir) {
  const jsonFile = path.join(outDir, 'testssl.json');
  const args = [
    '--quiet', '--color', '0', '--warnings', 'off', '--sneaky',
    '--connect-timeout', '30', '--openssl-timeout', '30',
    '--ip', '127.0.0.1', '--jsonfile', jsonFile,
    '-p', '-s', '-f', '-e', '-h', '-U',
    `localhost:${server.httpsPort}`,
  ];
  const { code, output } = await new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn('testssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      reject(error);
      return;
    }
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    // Only ends a hung run: testssl's own connections time out after 30 s each.
    const timer = setTimeout(() => child.kill('SIGKILL'), 540_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new Error(`testssl is not installed: ${INSTALL_HINT}`) : error);
    });
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ?? exitCode, output: text });
    });
  });
  let json;
  try {
    json = await readFile(jsonFile, 'utf8');
  } catch {
    assert.fail(`testssl (exit ${code}) wrote no JSON:\n${output}`);
  }
  assert.equal(code, 0, `testssl exited ${code}:\n${output}`);
  return JSON.parse(json);
}

let server;
let outDir;
let findings; // testssl's findings, read once for every test below
// A setup failure (testssl missing, no JSON) fails every test below rather than cancelling them.
let setupError;
const byId = (id) => findings.find((f) => f.id === id);
const severityOf = (id) => {
  const finding = byId(id);
  assert.ok(finding, `testssl reported nothing for ${id}`);
  return finding.severity;
};

before(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'secms-testssl-'));
  try {
    server = await startServer();
    findings = await runTestssl(server, outDir);
  } catch (error) {
    setupError = error;
  }
});

after(async () => {
  await server?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('testssl.sh', () => {
  beforeEach(() => {
    if (setupError) throw setupError;
  });

  test('only TLS 1.2 and TLS 1.3 are offered', () => {
    for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) {
      assert.match(byId(id)?.finding ?? '', /^not offered/, `${id}: ${JSON.stringify(byId(id))}`);
    }
    assert.match(byId('TLS1_2')?.finding ?? '', /^offered/, 'TLS 1.2');
    assert.match(byId('TLS1_3')?.finding ?? '', /^offered/, 'TLS 1.3');
  });

  test('only forward-secret AEAD cipher suites are offered', () => {
    // One finding per suite the server accepted: "x1302   TLS_AES_256_GCM_SHA384   ECDH 253 ...".
    const offered = findings.filter((f) => /^cipher_x[0-9a-f]+$/.test(f.id)).map((f) => f.finding.trim().split(/\s+/)[1]);
    assert.ok(offered.length > 0, 'testssl listed no accepted suite');
    const forwardSecretAead = /^(TLS_AES_(128|256)_GCM_SHA(256|384)|TLS_CHACHA20_POLY1305_SHA256|ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$/;
    assert.deepEqual(offered.filter((name) => !forwardSecretAead.test(name)), [], `offered: ${offered.join(' ')}`);
    for (const id of ['cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW', 'cipherlist_3DES_IDEA', 'cipherlist_AVERAGE']) {
      assert.match(byId(id)?.finding ?? '', /^not offered/, id);
    }
    assert.equal(severityOf('PFS'), 'OK', 'forward secrecy');
  });

  test('no vulnerability testssl checks is reported', () => {
    // Every check of -U, so that one testssl skipped or could not run is not taken as passed.
    for (const id of ['heartbleed', 'CCS', 'ticketbleed', 'ROBOT', 'secure_renego', 'secure_client_renego',
      'CRIME_TLS', 'BREACH', 'POODLE_SSL', 'fallback_SCSV', 'SWEET32', 'FREAK', 'DROWN', 'LOGJAM', 'BEAST',
      'LUCKY13', 'RC4']) {
      assert.equal(severityOf(id), 'OK', `${id}: ${byId(id)?.finding}`);
    }
    // Nothing anywhere in the run rated MEDIUM or worse, nor a check that could not be run (WARN).
    const bad = findings.filter((f) => ['MEDIUM', 'HIGH', 'CRITICAL', 'WARN', 'FATAL'].includes(f.severity));
    assert.deepEqual(bad.map((f) => `${f.id} ${f.severity}: ${f.finding}`), []);
  });

  test('HSTS is present: two years, subdomains, preload', () => {
    assert.equal(severityOf('HSTS_time'), 'OK', byId('HSTS_time')?.finding);
    assert.match(byId('HSTS_time').finding, /63072000 seconds/);
    assert.equal(severityOf('HSTS_subdomains'), 'OK');
    assert.equal(severityOf('HSTS_preload'), 'OK');
  });
});
