// The SIP phone's API against the real server (docs/api.md "SIP"): GET /api/v1/sip gives a
// logged-in user an auth_ephemeral credential, checked here with the secret read from the data
// directory and node:crypto's HMAC-SHA256; /api/v1/sip/devices adds, lists and revokes phones,
// whose rows in users.db (what Kamailio reads) are checked with the sqlite3 command-line tool;
// the per-user limits; the pages' CSP names exactly the configured SIP WebSocket origin, and
// nothing of SIP is served when it is off.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  login, loopbackRateLimits, register, request, runServerCommand, startServer,
} from '../helpers/secms-server.mjs';

const PASSWORD_SUFFIX = ' password of some length';

function sqlite(dbPath, sql) {
  const r = spawnSync('sqlite3', ['-readonly', dbPath, sql], { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') {
    assert.fail('the sqlite3 command-line tool is missing: run scripts/install-deps.sh');
  }
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

async function loggedIn(server, username) {
  assert.equal((await register(server, username, username + PASSWORD_SUFFIX)).status, 201);
  const { res, cookie } = await login(server, username, username + PASSWORD_SUFFIX);
  assert.equal(res.status, 200, res.body);
  return { cookie, userid: res.json.user.userid, username };
}

const sipCredentials = (server, cookie) => request(server, 'GET', '/api/v1/sip', { cookie });
const listDevices = (server, cookie) => request(server, 'GET', '/api/v1/sip/devices', { cookie });
const addDevice = (server, cookie, label) =>
  request(server, 'POST', '/api/v1/sip/devices', { cookie, json: { label } });
const revoke = (server, cookie, id) => request(server, 'DELETE', `/api/v1/sip/devices/${id}`, { cookie });

const hmac = (secret, username) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(username).digest('base64');

function connectSrc(res) {
  const csp = res.headers['content-security-policy'];
  const m = /(?:^|; )connect-src ([^;]*)/.exec(csp);
  assert.ok(m, `no connect-src in ${csp}`);
  return m[1];
}

function assertRateLimited(res) {
  assert.equal(res.status, 429, res.body);
  assert.equal(res.json?.error?.code, 'rate_limited', res.body);
  assert.ok(Number(res.headers['retry-after']) >= 1, `Retry-After: ${res.headers['retry-after']}`);
}

describe('SIP on, with a small device limit and per-user limit', () => {
  let server;
  let secret;
  let db;
  let alice;
  let bob;
  before(async () => {
    server = await startServer({
      logLevel: 'debug',
      extraArgs: [...loopbackRateLimits, '--sip-credential-ttl', '120', '--sip-max-devices-per-user', '2',
        '--sip-per-user-burst', '6', '--sip-per-user-per-minute', '0.01',
        '--sip-domain', 'voip.example.test', '--sip-websocket-url', 'wss://sip.example.test:9443/',
        '--sip-phone-proxy', 'sip.example.test:5070', '--sip-phone-tls-proxy', 'sip.example.test:5071'],
    });
    secret = await readFile(path.join(server.dataDir, 'sip', 'secret'), 'utf8');
    db = path.join(server.dataDir, 'users.db');
    alice = await loggedIn(server, 'Alice');
    bob = await loggedIn(server, 'bob');
  });
  after(() => server?.stop());

  test('the secret file: 64 lower-case hex characters and a newline, 0600 in a 0700 directory', async () => {
    assert.match(secret, /^[0-9a-f]{64}\n$/);
    assert.equal((await stat(path.join(server.dataDir, 'sip', 'secret'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(server.dataDir, 'sip'))).mode & 0o777, 0o700);
  });

  test('without a login: 401 on every endpoint', async () => {
    for (const res of [await sipCredentials(server), await listDevices(server),
      await addDevice(server, undefined, 'x'), await revoke(server, undefined, '0123456789abcdef')]) {
      assert.equal(res.status, 401, res.body);
      assert.equal(res.json?.error?.code, 'not_authenticated');
    }
  });

  test('GET /api/v1/sip: a credential that verifies with the secret file, expiry = now + ttl', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await sipCredentials(server, alice.cookie);
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['cache-control'], /(^|, )no-store(,|$)/);
    const body = res.json;
    assert.deepEqual(Object.keys(body).sort(),
      ['aor', 'authorizationUsername', 'domain', 'enabled', 'expiresAt', 'password', 'ttl', 'user', 'websocketUrl']);
    assert.equal(body.user, 'alice');
    assert.equal(body.domain, 'voip.example.test');
    assert.equal(body.aor, 'sip:alice@voip.example.test');
    assert.equal(body.websocketUrl, 'wss://sip.example.test:9443/');
    assert.equal(body.ttl, 120);
    assert.ok(body.expiresAt >= now + 120 && body.expiresAt <= now + 125, `expiresAt ${body.expiresAt}, now ${now}`);
    assert.equal(body.authorizationUsername, `${body.expiresAt}:alice`);
    // auth_ephemeral's check: the secret file's text (without its newline) is the HMAC key.
    assert.equal(body.password, hmac(secret.trim(), body.authorizationUsername));
    assert.notEqual(body.password, hmac('0'.repeat(64), body.authorizationUsername));
    assert.equal(res.body.includes(secret.trim()), false);
  });

  test('the pages name exactly the configured SIP WebSocket origin in connect-src', async () => {
    for (const target of ['/', '/api/v1/me', '/no-such-file']) {
      const res = await request(server, 'GET', target);
      assert.equal(connectSrc(res), "'self' wss://sip.example.test:9443", target);
    }
  });

  test('a phone: created with its credential once, listed without it, its row in users.db, revoked', async () => {
    const now = Math.floor(Date.now() / 1000);
    const created = await addDevice(server, alice.cookie, '  Desk phone  ');
    assert.equal(created.status, 201, created.body);
    const { device, credentials } = created.json;
    assert.match(device.id, /^[0-9a-f]{16}$/);
    assert.equal(device.label, 'Desk phone');
    assert.ok(device.createdAt >= now && device.createdAt <= now + 5);
    assert.equal(device.expiresAt, device.createdAt + 365 * 86400);
    assert.equal(credentials.username, `${device.expiresAt}:alice:${device.id}`);
    assert.equal(credentials.password, hmac(secret.trim(), credentials.username));
    assert.equal(credentials.user, 'alice');
    assert.equal(credentials.domain, 'voip.example.test');
    assert.equal(credentials.aor, 'sip:alice@voip.example.test');
    assert.deepEqual(credentials.proxies, [
      { transport: 'udp', address: 'sip.example.test:5070' },
      { transport: 'tcp', address: 'sip.example.test:5070' },
      { transport: 'tls', address: 'sip.example.test:5071' },
    ]);

    const list = await listDevices(server, alice.cookie);
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json, { devices: [device], max: 2 });
    assert.equal(list.body.includes(credentials.password), false);
    assert.equal(list.body.includes('password'), false);
    assert.deepEqual((await listDevices(server, bob.cookie)).json, { devices: [], max: 2 });

    // What Kamailio reads: the row, its owner's key and state, its expiry; no secret.
    assert.equal(sqlite(db, `SELECT u.username_key, u.disabled, d.label, d.expires_at FROM sip_devices d ` +
      `JOIN users u ON u.userid = d.userid WHERE d.device_id = '${device.id}'`),
    `alice|0|Desk phone|${device.expiresAt}`);
    const dump = sqlite(db, '.dump sip_devices');
    assert.equal(dump.includes(credentials.password), false);

    // Another user cannot revoke it, nor learn that it exists.
    const byBob = await revoke(server, bob.cookie, device.id);
    assert.equal(byBob.status, 404, byBob.body);
    assert.equal(byBob.json.error.code, 'not_found');
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE device_id = '${device.id}'`), '1');

    const revoked = await revoke(server, alice.cookie, device.id);
    assert.equal(revoked.status, 204, revoked.body);
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE device_id = '${device.id}'`), '0');
    const again = await revoke(server, alice.cookie, device.id);
    assert.equal(again.status, 404, again.body);
    assert.equal(again.json.error.code, 'not_found');
    assert.equal((await revoke(server, alice.cookie, 'not-an-id')).status, 404);
  });

  test('bad labels: 400 invalid_label', async () => {
    // Six: bob's whole burst (a refused label still takes a token).
    for (const label of ['   ', 'x'.repeat(65), 'tab\there', 'line\nbreak', 'a\u202Eb', 7]) {
      const res = await addDevice(server, bob.cookie, label);
      assert.equal(res.status, 400, `${JSON.stringify(label)}: ${res.body}`);
      assert.equal(res.json.error.code, 'invalid_label');
    }
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE userid = ${bob.userid}`), '0');
  });

  test('the device limit: 409 too_many_devices, nothing stored; then the rate limit: 429', async () => {
    // bob has used 6 tokens on bad labels: a new user for the limit.
    const carol = await loggedIn(server, 'carol');
    assert.equal((await addDevice(server, carol.cookie, 'one')).status, 201);
    assert.equal((await addDevice(server, carol.cookie, 'two')).status, 201);
    const third = await addDevice(server, carol.cookie, 'three');
    assert.equal(third.status, 409, third.body);
    assert.equal(third.json.error.code, 'too_many_devices');
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE userid = ${carol.userid}`), '2');
    // 3 of carol's 6 tokens are used; GET /api/v1/sip takes from the same bucket.
    for (let i = 0; i < 3; i++) assert.equal((await sipCredentials(server, carol.cookie)).status, 200);
    assertRateLimited(await sipCredentials(server, carol.cookie));
    assertRateLimited(await addDevice(server, carol.cookie, 'four'));
    assertRateLimited(await sipCredentials(server, bob.cookie));
    // Listing and revoking are not limited; another user is not held back.
    assert.equal((await listDevices(server, carol.cookie)).status, 200);
    const dave = await loggedIn(server, 'dave');
    assert.equal((await sipCredentials(server, dave.cookie)).status, 200);
  });

  test('deleting the account deletes its phones', async () => {
    const erin = await loggedIn(server, 'erin');
    const created = await addDevice(server, erin.cookie, 'Erin phone');
    assert.equal(created.status, 201, created.body);
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE userid = ${erin.userid}`), '1');
    const gone = await request(server, 'DELETE', '/api/v1/me',
      { cookie: erin.cookie, json: { password: 'erin' + PASSWORD_SUFFIX } });
    assert.equal(gone.status, 204, gone.body);
    assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE userid = ${erin.userid}`), '0');
  });

  test('the secret never appears in the server output', () => {
    const { stdout, stderr } = server.logs();
    assert.ok(stderr.length + stdout.length > 0);
    assert.equal(stdout.includes(secret.trim()), false);
    assert.equal(stderr.includes(secret.trim()), false);
  });
});

describe('SIP defaults, and `user delete` on the command line', () => {
  test('default origin wss://localhost:7443 in connect-src; a deleted user\'s phones are gone', async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits], sipDefaults: true });
    let stopped = false;
    try {
      const res = await request(server, 'GET', '/');
      assert.equal(connectSrc(res), "'self' wss://localhost:7443");
      const frank = await loggedIn(server, 'frank');
      const creds = await sipCredentials(server, frank.cookie);
      assert.equal(creds.json.websocketUrl, 'wss://localhost:7443');
      assert.equal(creds.json.aor, 'sip:frank@localhost');
      assert.equal(creds.json.ttl, 3600);
      const created = await addDevice(server, frank.cookie, 'Frank phone');
      assert.equal(created.status, 201, created.body);
      await server.stop({ keepDataDir: true });
      stopped = true;
      const db = path.join(server.dataDir, 'users.db');
      assert.equal(sqlite(db, `SELECT count(*) FROM sip_devices WHERE device_id = '${created.json.device.id}'`), '1');
      const r = await runServerCommand(['--data-dir', server.dataDir, '--mail-enabled', 'false', 'user', 'delete', 'frank']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sqlite(db, 'SELECT count(*) FROM sip_devices'), '0');
    } finally {
      if (!stopped) await server.stop({ keepDataDir: true });
      await rm(server.dataDir, { recursive: true, force: true });
    }
  });
});

describe('SIP off', () => {
  async function assertOff(server) {
    const { cookie } = await loggedIn(server, 'gina');
    // The page asks /api/v1/sip on the first view of the VoIP tab: a 200 that says SIP is off.
    const asked = await request(server, 'GET', '/api/v1/sip', { cookie });
    assert.equal(asked.status, 200, asked.body);
    assert.deepEqual(asked.json, { enabled: false });
    assert.equal((await request(server, 'GET', '/api/v1/sip')).status, 401);
    for (const [method, target] of [['GET', '/api/v1/sip/devices'],
      ['POST', '/api/v1/sip/devices'], ['DELETE', '/api/v1/sip/devices/0123456789abcdef']]) {
      const res = await request(server, method, target, { cookie, json: method === 'POST' ? { label: 'x' } : undefined });
      assert.equal(res.status, 404, `${method} ${target}: ${res.body}`);
      assert.equal(res.json.error.code, 'not_enabled');
    }
    const page = await request(server, 'GET', '/');
    assert.equal(connectSrc(page), "'self'");
    assert.equal(page.headers['content-security-policy'].includes('wss:'), false);
  }

  test('--sip-enabled=false: 404 not_enabled, no wss origin in the CSP, no secret made', async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits, '--sip-enabled=false'] });
    try {
      await assertOff(server);
      await assert.rejects(stat(path.join(server.dataDir, 'sip', 'secret')), { code: 'ENOENT' });
    } finally {
      await server.stop();
    }
  });

  test('--no-sip, and sip_enabled = false in the configuration file', async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits, '--no-sip'] });
    try {
      await assertOff(server);
    } finally {
      await server.stop();
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-sip-config-'));
    try {
      const config = path.join(dir, 'secms.toml');
      await writeFile(config, '[sip]\nsip_enabled = false\n');
      const fromFile = await startServer({ extraArgs: [...loopbackRateLimits, '--config', config] });
      try {
        await assertOff(fromFile);
      } finally {
        await fromFile.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('init and bad settings', () => {
  let dir;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secms-sip-init-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('init makes the secret file (0600, directory 0700) and says where it is', async () => {
    const dataDir = path.join(dir, 'data');
    const r = await runServerCommand(['--data-dir', dataDir, '--mail-enabled', 'false', 'init']);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(dataDir, 'sip', 'secret');
    assert.match(r.stdout, new RegExp(`SIP secret file: +${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dataDir, 'sip'))).mode & 0o777, 0o700);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^[0-9a-f]{64}\n$/);
    assert.equal(r.stdout.includes(text.trim()), false);
    // A second init keeps it.
    assert.equal((await runServerCommand(['--data-dir', dataDir, '--mail-enabled', 'false', 'init'])).code, 0);
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('a bad SIP WebSocket URL or lifetime is a clear start-up error, before the data directory is made', async () => {
    for (const [flag, value, key] of [
      ['--sip-websocket-url', 'ws://localhost:7443', 'sip_websocket_url'],
      ['--sip-websocket-url', 'wss://localhost:7443/ws', 'sip_websocket_url'],
      ['--sip-websocket-url', 'wss://localhost:7443?x=1', 'sip_websocket_url'],
      ['--sip-websocket-url', 'wss://user@localhost', 'sip_websocket_url'],
      ['--sip-credential-ttl', '59', 'sip_credential_ttl_s'],
      ['--sip-domain', 'not a domain', 'sip_domain'],
      ['--sip-phone-proxy', 'localhost', 'sip_phone_proxy'],
    ]) {
      const dataDir = path.join(dir, 'refused');
      const r = await runServerCommand(['--data-dir', dataDir, '--mail-enabled', 'false', flag, value, 'init']);
      assert.notEqual(r.code, 0, `${flag} ${value} accepted`);
      assert.match(r.stderr, new RegExp(`sip\\.[a-z_, ']*${key}`), r.stderr);
      await assert.rejects(stat(dataDir), { code: 'ENOENT' });
    }
    await assert.rejects(
      startServer({ extraArgs: ['--sip-websocket-url', 'https://localhost:7443'] }),
      /sip_websocket_url/,
    );
  });
});
