// The server's IMAP/LMTP/SMTP clients (server/mail, libetpan) against a real Dovecot: this test
// starts one with the project's configuration and runs the mail_dovecot_test GoogleTest binary
// against it (folders, deliveries, sort/search, fetch, flags, move, append, IDLE, timeouts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startDovecot } from '../helpers/dovecot.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The binary sits beside the server's build: build/<preset>/server/mail/mail_dovecot_test.
function testBinary() {
  if (process.env.SECMS_MAIL_DOVECOT_TEST_BIN) return process.env.SECMS_MAIL_DOVECOT_TEST_BIN;
  if (process.env.SECMS_SERVER_BIN) {
    return path.resolve(path.dirname(process.env.SECMS_SERVER_BIN), '../mail/mail_dovecot_test');
  }
  return path.join(repoRoot, 'build/dev/server/mail/mail_dovecot_test');
}

function run(binary, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

let dovecot;
const masterSecret = randomBytes(32).toString('hex');

before(async () => {
  dovecot = await startDovecot({ masterSecret });
});

after(async () => {
  await dovecot?.stop();
});

test('the protocol clients work against Dovecot', { timeout: 180_000 }, async () => {
  const binary = testBinary();
  assert.ok(existsSync(binary),
    `${binary} is missing: build it with cmake --build --preset dev (target mail_dovecot_test)`);
  const result = await run(binary, {
    SECMS_TEST_IMAP_PORT: String(dovecot.imapPort),
    SECMS_TEST_LMTP_PORT: String(dovecot.lmtpPort),
    SECMS_TEST_MASTER_SECRET: masterSecret,
    SECMS_TEST_MASTER_USER: dovecot.masterUser ?? 'secms',
    SECMS_TEST_MAIL_DOMAIN: 'localhost',
  });
  assert.equal(result.code, 0, `mail_dovecot_test failed:\n${result.output}`);
  assert.match(result.output, /\[  PASSED  \] 7 tests\./);
});
