// GET /api/v1/turn against the real server: TURN REST credentials (draft-uberti-behave-turn-rest,
// coturn use-auth-secret) for logged-in users only, checked here with the secret read from the
// data directory and node:crypto's HMAC; the per-user limit; the secret file's form and modes; the
// `init` subcommand. The secret must never reach the server's output.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { login, loopbackRateLimits, register, request, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const DEFAULT_URLS = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'];

async function loggedIn(server, username) {
  assert.equal((await register(server, username, `${username} password`)).status, 201);
  const { res, cookie } = await login(server, username, `${username} password`);
  assert.equal(res.status, 200, res.body);
  assert.ok(cookie);
  return { cookie, userid: res.json.user.userid };
}

const turn = (server, cookie, method = 'GET') => request(server, method, '/api/v1/turn', { cookie });

function assertRateLimited(res) {
  assert.equal(res.status, 429, res.body);
  assert.equal(res.json?.error?.code, 'rate_limited', res.body);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
}

async function metric(server, name) {
  const res = await request(server, 'GET', '/metrics');
  assert.equal(res.status, 200);
  const m = new RegExp(`^${name}\\s+(\\d+)$`, 'm').exec(res.body);
  assert.ok(m, `${name} missing from /metrics`);
  return Number(m[1]);
}

const mode = async (p) => (await stat(p)).mode & 0o777;

describe('TURN credentials with the default URLs, a short lifetime and a small per-user limit', () => {
  let server;
  let secret;
  let alice;
  let bob;
  before(async () => {
    server = await startServer({
      logLevel: 'debug',
      extraArgs: [...loopbackRateLimits, '--turn-credential-ttl-s', '120', '--turn-per-user-burst', '3',
        '--turn-per-user-per-minute', '1'],
    });
    secret = (await readFile(path.join(server.dataDir, 'turn', 'secret'), 'utf8')).trim();
    alice = await loggedIn(server, 'alice');
    bob = await loggedIn(server, 'bob');
  });
  after(() => server?.stop());

  test('the secret file is 64 lower-case hex characters, mode 0600 in a 0700 directory', async () => {
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(await mode(path.join(server.dataDir, 'turn', 'secret')), 0o600);
    assert.equal(await mode(path.join(server.dataDir, 'turn')), 0o700);
  });

  test('without a login: 401, counted as refused', async () => {
    const before = await metric(server, 'secms_turn_credentials_refused_total');
    const res = await turn(server, undefined);
    assert.equal(res.status, 401, res.body);
    assert.equal(res.json?.error?.code, 'not_authenticated');
    assert.equal(res.json?.iceServers, undefined);
    const forged = await turn(server, 'A'.repeat(43));
    assert.equal(forged.status, 401, forged.body);
    assert.equal(await metric(server, 'secms_turn_credentials_refused_total'), before + 2);
  });

  test('other methods: 405 with Allow: GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await turn(server, alice.cookie, method);
      assert.equal(res.status, 405, `${method}: ${res.body}`);
      assert.equal(res.headers.allow, 'GET');
    }
  });

  test('200: the ICE servers, a credential that verifies with the secret, expiry = now + ttl', async () => {
    const issuedBefore = await metric(server, 'secms_turn_credentials_issued_total');
    const now = Math.floor(Date.now() / 1000);
    const res = await turn(server, alice.cookie);
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['cache-control'], /(^|, )no-store(,|$)/);
    assert.match(res.headers['content-type'], /^application\/json/);
    const body = res.json;
    assert.deepEqual(Object.keys(body).sort(), ['expiresAt', 'iceServers', 'iceTransportPolicy', 'ttl']);
    assert.equal(body.iceTransportPolicy, 'all');
    assert.equal(body.ttl, 120);
    assert.ok(Math.abs(body.expiresAt - (now + 120)) <= 5, `expiresAt ${body.expiresAt}, now ${now}`);
    assert.equal(body.iceServers.length, 1);
    const [ice] = body.iceServers;
    assert.deepEqual(Object.keys(ice).sort(), ['credential', 'urls', 'username']);
    assert.deepEqual(ice.urls, DEFAULT_URLS);
    assert.equal(ice.username, `${body.expiresAt}:${alice.userid}`);
    // coturn's use-auth-secret check: base64(HMAC-SHA1(static-auth-secret text, username)).
    const expected = createHmac('sha1', Buffer.from(secret, 'utf8')).update(ice.username).digest('base64');
    assert.equal(ice.credential, expected);
    // Not merely any HMAC: another key gives another credential.
    assert.notEqual(createHmac('sha1', 'x'.repeat(64)).update(ice.username).digest('base64'), ice.credential);
    assert.equal(res.body.includes(secret), false);
    assert.equal(await metric(server, 'secms_turn_credentials_issued_total'), issuedBefore + 1);
  });

  test('the per-user limit answers 429 after the burst; another user is not held back', async () => {
    // alice used one of her 3 in the test above.
    for (let i = 0; i < 2; i++) assert.equal((await turn(server, alice.cookie)).status, 200);
    const refusedBefore = await metric(server, 'secms_turn_credentials_refused_total');
    assertRateLimited(await turn(server, alice.cookie));
    assertRateLimited(await turn(server, alice.cookie));
    assert.equal(await metric(server, 'secms_turn_credentials_refused_total'), refusedBefore + 2);
    const other = await turn(server, bob.cookie);
    assert.equal(other.status, 200, other.body);
    assert.equal(other.json.iceServers[0].username.endsWith(`:${bob.userid}`), true);
    // A second login of alice shares her bucket: the limit is per account, not per session.
    const again = await login(server, 'alice', 'alice password');
    assert.equal(again.res.status, 200);
    assertRateLimited(await turn(server, again.cookie));
  });

  test('the secret never appears in the server output or in /metrics', async () => {
    const { stdout, stderr } = server.logs();
    assert.ok(stderr.length + stdout.length > 0, 'the server logged nothing at debug level');
    assert.equal(stdout.includes(secret), false);
    assert.equal(stderr.includes(secret), false);
    const metrics = await request(server, 'GET', '/metrics');
    assert.equal(metrics.body.includes(secret), false);
  });
});

describe('TURN settings: relay forced by the operator, no URL configured', () => {
  let server;
  let alice;
  before(async () => {
    server = await startServer({ extraArgs: [...loopbackRateLimits, '--turn-force-relay', 'true', '--turn-urls', ''] });
    alice = await loggedIn(server, 'alice');
  });
  after(() => server?.stop());

  test('iceTransportPolicy is relay and iceServers is empty', async () => {
    const res = await turn(server, alice.cookie);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.iceTransportPolicy, 'relay');
    assert.deepEqual(res.json.iceServers, []);
    assert.equal(res.json.ttl, 43200);
  });
});

describe('TURN settings from the [turn] section of the configuration file', () => {
  let server;
  let alice;
  let configDir;
  before(async () => {
    configDir = await mkdtemp(path.join(os.tmpdir(), 'secms-turn-config-'));
    const configFile = path.join(configDir, 'secms.toml');
    await writeFile(configFile, [
      '[turn]',
      'turn_urls = "stun:127.0.0.1:3478, turns:turn.example.org:5349?transport=tcp"',
      'turn_credential_ttl_s = 600',
      'turn_force_relay = true',
      '',
    ].join('\n'));
    server = await startServer({ extraArgs: [...loopbackRateLimits, '--config', configFile] });
    alice = await loggedIn(server, 'alice');
  });
  after(async () => {
    await server?.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  test('the URLs, lifetime and policy of the file are used', async () => {
    const res = await turn(server, alice.cookie);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.iceTransportPolicy, 'relay');
    assert.equal(res.json.ttl, 600);
    assert.deepEqual(res.json.iceServers[0].urls, ['stun:127.0.0.1:3478', 'turns:turn.example.org:5349?transport=tcp']);
  });
});

describe('secms-server init and the TURN secret file', () => {
  let dir;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secms-turn-init-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('init makes the data directory with the TURN secret and exits 0, twice in a row', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.equal(first.code, 0, first.stderr);
    const secretPath = path.join(dataDir, 'turn', 'secret');
    assert.ok(first.stdout.includes(secretPath), first.stdout);
    const secret = (await readFile(secretPath, 'utf8')).trim();
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(await mode(secretPath), 0o600);
    assert.equal(await mode(path.join(dataDir, 'turn')), 0o700);
    assert.equal(await mode(dataDir), 0o700);
    for (const made of ['users.db', 'tls/cert.pem', 'tls/key.pem', 'hsm/user.pin']) {
      await stat(path.join(dataDir, made));
    }
    const second = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await readFile(secretPath, 'utf8')).trim(), secret, 'init replaced the secret');
    for (const out of [first, second]) {
      assert.equal(out.stdout.includes(secret) || out.stderr.includes(secret), false);
    }
    // A server started on that directory issues credentials with that same secret.
    const server = await startServer({ dataDir, extraArgs: loopbackRateLimits });
    try {
      const alice = await loggedIn(server, 'alice');
      const res = await turn(server, alice.cookie);
      assert.equal(res.status, 200, res.body);
      const [ice] = res.json.iceServers;
      assert.equal(ice.credential, createHmac('sha1', secret).update(ice.username).digest('base64'));
    } finally {
      await server.stop();
    }
  });

  test('a secret file readable by others is refused with a clear error', async () => {
    const dataDir = path.join(dir, 'open');
    assert.equal((await runServerCommand(['--data-dir', dataDir, 'init'])).code, 0);
    const secretPath = path.join(dataDir, 'turn', 'secret');
    const secret = (await readFile(secretPath, 'utf8')).trim();
    await chmod(secretPath, 0o644);
    const res = await runServerCommand(['--data-dir', dataDir, 'init']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /TURN secret file .* must not be readable by others/);
    assert.equal(res.stderr.includes(secret), false);
  });

  test('a secret file of the wrong form is refused without repeating its content', async () => {
    const dataDir = path.join(dir, 'wrong');
    await mkdir(path.join(dataDir, 'turn'), { recursive: true, mode: 0o700 });
    const secretPath = path.join(dataDir, 'turn', 'secret');
    for (const content of ['0123456789ABCDEF'.repeat(4), 'tooshort-but-secret-text', `${'a'.repeat(64)}\nmore\n`]) {
      await writeFile(secretPath, content, { mode: 0o600 });
      const res = await runServerCommand(['--data-dir', dataDir, 'init']);
      assert.notEqual(res.code, 0, `accepted ${JSON.stringify(content)}`);
      assert.match(res.stderr, /TURN secret file .* must hold one line of 64 lower-case hex characters/);
      assert.equal(res.stderr.includes(content.split('\n')[0]), false);
      await rm(secretPath);
    }
  });

  test('a configured secret file elsewhere is made and used', async () => {
    const dataDir = path.join(dir, 'elsewhere');
    const secretPath = path.join(dir, 'private', 'turn-secret');
    const res = await runServerCommand(['--data-dir', dataDir, '--turn-secret-file', secretPath, 'init']);
    assert.equal(res.code, 0, res.stderr);
    assert.match((await readFile(secretPath, 'utf8')).trim(), /^[0-9a-f]{64}$/);
    assert.equal(await mode(secretPath), 0o600);
    await assert.rejects(stat(path.join(dataDir, 'turn', 'secret')));
  });

  test('bad TURN settings are refused before anything is made', async () => {
    const cases = [
      [['--turn-urls', 'http://127.0.0.1:3478'], /turn_urls/],
      [['--turn-urls', 'turn:127.0.0.1'], /turn_urls/],
      [['--turn-credential-ttl-s', '59'], /turn_credential_ttl_s must be between 60 and 172800/],
      [['--turn-credential-ttl-s', '172801'], /turn_credential_ttl_s must be between 60 and 172800/],
    ];
    for (const [args, message] of cases) {
      const dataDir = path.join(dir, `bad-${args.join('-').replace(/[^a-z0-9]/gi, '')}`);
      const res = await runServerCommand(['--data-dir', dataDir, ...args, 'init']);
      assert.notEqual(res.code, 0, `accepted ${args.join(' ')}`);
      assert.match(res.stderr, message);
      await assert.rejects(stat(dataDir), `${args.join(' ')} made ${dataDir}`);
    }
  });
});
