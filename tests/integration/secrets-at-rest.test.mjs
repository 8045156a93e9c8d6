// Secrets at rest: after real registrations and logins, no file of the data directory (SQLite
// database and WAL, SoftHSM2 token, TLS files) holds a password or a session cookie, and neither
// do the server's logs. The pepper's non-extractability is a C++ unit test (server/hsm).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { login, register, request, startServer } from '../helpers/secms-server.mjs';

const accounts = [
  ['secret-one', 'Zq7!unique-password-one'],
  ['secret-two', 'Yx8?unique-password-two'],
  ['secret-three', 'Wv9#unique-password-three \u00e9\u4e2d'],
];
const changedPassword = 'Vu6%unique-password-changed';

let server;
let dataDir;
const cookies = [];
let logs;

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

// The byte patterns a leak could take: UTF-8, UTF-16LE, and for cookies also the raw token bytes.
function patternsOf(secret, { token = false } = {}) {
  const list = [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')];
  if (token) {
    const raw = Buffer.from(secret, 'base64url');
    list.push(raw, Buffer.from(raw.toString('hex')), Buffer.from(raw.toString('base64')));
  }
  return list;
}

before(async () => {
  server = await startServer();
  dataDir = server.dataDir;
  for (const [name, pw] of accounts) {
    assert.equal((await register(server, name, pw)).status, 201);
    for (let i = 0; i < 2; i++) {
      const { res, cookie } = await login(server, name, pw);
      assert.equal(res.status, 200);
      cookies.push(cookie);
    }
    // A failed login with a near-miss password: must not be logged or stored either.
    assert.equal((await login(server, name, `${pw}-typo`)).res.status, 401);
  }
  const res = await request(server, 'PUT', '/api/v1/me/password', {
    cookie: cookies[0],
    json: { current_password: accounts[0][1], new_password: changedPassword },
  });
  assert.equal(res.status, 204);
  // Stop so SQLite checkpoints its WAL and everything is on disk.
  const stopped = await server.stop({ keepDataDir: true });
  assert.equal(stopped.code, 0);
  logs = server.logs();
});

after(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the data directory holds the database and the token, privately', () => {
  const files = filesUnder(dataDir).map((f) => path.relative(dataDir, f));
  assert.ok(files.some((f) => f.startsWith('users.db')), files.join(', '));
  assert.ok(files.some((f) => f.startsWith(`hsm${path.sep}tokens`)), files.join(', '));
  assert.equal(statSync(dataDir).mode & 0o077, 0, 'data dir not readable by group/others');
  const db = path.join(dataDir, 'users.db');
  assert.equal(statSync(db).mode & 0o077, 0, 'users.db not readable by group/others');
});

test('no password or cookie in any file of the data directory', () => {
  const secrets = [
    ...accounts.flatMap(([, pw]) => [pw, `${pw}-typo`]).map((s) => ({ label: `password ${s}`, patterns: patternsOf(s) })),
    { label: 'changed password', patterns: patternsOf(changedPassword) },
    ...cookies.map((c) => ({ label: `cookie ${c.slice(0, 6)}…`, patterns: patternsOf(c, { token: true }) })),
  ];
  const files = filesUnder(dataDir);
  assert.ok(files.length >= 3);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const { label, patterns } of secrets) {
      for (const p of patterns) {
        assert.equal(bytes.includes(p), false, `${label} found in ${path.relative(dataDir, file)}`);
      }
    }
  }
});

test('the stored hashes are Argon2id (≥ OWASP parameters) with HMAC pepper, and carry a pepper version', () => {
  // Read with the sqlite3 command-line tool: an independent reader of the real file.
  const out = execFileSync('sqlite3', ['-readonly', path.join(dataDir, 'users.db'),
    'SELECT username, password_hash, pepper_version FROM users ORDER BY userid'], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => l.split('|'));
  assert.deepEqual(rows.map((r) => r[0]), accounts.map(([name]) => name));
  const salts = new Set();
  for (const [name, hash, pepperVersion] of rows) {
    const m = /^\$secms-argon2id-hmac\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
    assert.ok(m, `${name}: hash format ${hash}`);
    assert.ok(Number(m[1]) >= 19456 && Number(m[2]) >= 2 && Number(m[3]) >= 1, `${name}: ${hash}`);
    assert.ok(Buffer.from(m[4], 'base64').length >= 16, `${name}: salt of at least 128 bits`);
    salts.add(m[4]);
    assert.ok(Number.isInteger(Number(pepperVersion)) && Number(pepperVersion) >= 1, `${name}: pepper_version ${pepperVersion}`);
  }
  assert.equal(salts.size, rows.length, 'every hash has its own salt');
});

test('no password or cookie in the server logs', () => {
  const text = `${logs.stdout}\n${logs.stderr}`;
  assert.ok(text.includes('login userid='), 'the logs are captured at all');
  for (const [, pw] of accounts) {
    assert.equal(text.includes(pw), false, `password in logs: ${pw}`);
    assert.equal(text.includes(`${pw}-typo`), false);
  }
  assert.equal(text.includes(changedPassword), false);
  for (const c of cookies) assert.equal(text.includes(c), false, 'cookie value in logs');
});
