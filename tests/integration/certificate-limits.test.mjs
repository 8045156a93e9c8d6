// A certificate cannot cost seconds of CPU (docs/certificates.md "Before librnp", docs/operations.md
// "Certificate limits"). The attack certificate — RSA-8192 with an 8189-bit public exponent and 32
// self-signed user IDs, ~51 KB, under every size limit — took librnp ~5.6 s to import; two of them
// on two sockets filled the work pool and another user's login waited for them. It must be refused
// before librnp sees it, at once, while a concurrent login goes through as usual. Certificate
// submissions are also rate-limited per connection and per account.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { login, loopbackRateLimits, openWebSocket, register, repoRoot, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const fixtures = path.join(repoRoot, 'tests', 'fixtures', 'pgp');
const password = 'certificate limits password';
// The budget is 100 ms; the assertion leaves room for a loaded CI machine and still fails
// by a wide margin when librnp verifies the certificate (seconds).
const REFUSAL_BOUND_MS = 1_000;

let server;
let attack;
let ordinary;

before(async () => {
  attack = await readFile(path.join(fixtures, 'rsa8192-huge-exponent.asc'), 'utf8');
  ordinary = await readFile(path.join(fixtures, 'alice-ed25519.asc'), 'utf8');
  assert.ok(attack.length > 50_000 && attack.length < 64 * 1024, `attack certificate is ${attack.length} bytes`);
  // Two work threads, as on the two-core machine of the report: two slow checks would fill them.
  server = await startServer({ extraArgs: [...loopbackRateLimits, '--work-threads', '2'] });
  for (const name of ['climattacker', 'climattacker2', 'clivictim', 'cliconn', 'cliaccount', 'clirsa']) {
    assert.equal((await register(server, name, password)).status, 201, name);
  }
});
after(() => server?.stop());

async function connect(name) {
  const { res, cookie } = await login(server, name, password);
  assert.equal(res.status, 200, res.body);
  const ws = await openWebSocket(server, { cookie });
  await ws.next('hello');
  return ws;
}

async function timedLogin(name) {
  const start = performance.now();
  const { res } = await login(server, name, password);
  return { status: res.status, ms: performance.now() - start };
}

// The answer to one certificate_submit: a challenge or a rejection, whichever comes.
async function submit(ws, certificate) {
  const start = performance.now();
  ws.send({ type: 'certificate_submit', certificate });
  for (;;) {
    const answer = await ws.next(undefined, 15_000);  // presence updates may come in between
    if (answer.type === 'certificate_challenge' || answer.type === 'certificate_rejected' || answer.type === 'error') {
      return { answer, ms: performance.now() - start };
    }
  }
}

test('the huge-exponent RSA-8192 certificate is refused at once on two sockets; a concurrent login is unaffected', async (t) => {
  const baseline = await timedLogin('clivictim');
  assert.equal(baseline.status, 200);

  // Two accounts (one app WebSocket per account: a second socket of one would supersede the first).
  const sockets = [await connect('climattacker'), await connect('climattacker2')];
  const submissions = sockets.map((ws) => submit(ws, attack));
  const during = timedLogin('clivictim');
  const [first, second] = await Promise.all(submissions);
  const victim = await during;

  const figures = `answers after ${first.ms.toFixed(1)} ms and ${second.ms.toFixed(1)} ms; login ` +
    `${victim.ms.toFixed(1)} ms during the attack, ${baseline.ms.toFixed(1)} ms before`;
  t.diagnostic(figures);
  assert.equal(victim.status, 200);
  // A login costs one Argon2id hash on the work pool; the attack must not make it wait seconds.
  assert.ok(victim.ms < baseline.ms + REFUSAL_BOUND_MS, figures);
  for (const { answer, ms } of [first, second]) {
    assert.ok(ms < REFUSAL_BOUND_MS, figures);
    assert.equal(answer.type, 'certificate_rejected', JSON.stringify(answer));
    assert.equal(answer.error.code, 'unsupported');
  }

  // The sockets stay usable: an ordinary certificate still gets its challenge.
  const ok = await submit(sockets[0], ordinary);
  assert.equal(ok.answer.type, 'certificate_challenge', JSON.stringify(ok.answer));
  for (const ws of sockets) await ws.close();
});

test('certificate submissions are rate-limited per connection (burst 3)', async () => {
  const ws = await connect('cliconn');
  for (let i = 0; i < 3; i += 1) {
    const { answer } = await submit(ws, ordinary);
    assert.equal(answer.type, 'certificate_challenge', `submission ${i + 1}: ${JSON.stringify(answer)}`);
  }
  const { answer } = await submit(ws, attack);
  assert.equal(answer.type, 'certificate_rejected', JSON.stringify(answer));
  assert.equal(answer.error.code, 'rate_limited');
  assert.ok(Number.isInteger(answer.error.retry_after) && answer.error.retry_after >= 1, JSON.stringify(answer));
  assert.ok(answer.error.message.length > 0);
  // A new connection of the same account has its own per-connection bucket.
  const fresh = await connect('cliconn');
  assert.equal((await submit(fresh, ordinary)).answer.type, 'certificate_challenge');
  await ws.close();
  await fresh.close();
});

// The account's connections follow one another (each newer one supersedes the one before) and
// share the account's bucket.
test('certificate submissions are rate-limited per account across its connections (burst 5)', async () => {
  const a = await connect('cliaccount');
  for (let i = 0; i < 2; i += 1) assert.equal((await submit(a, ordinary)).answer.type, 'certificate_challenge');
  const b = await connect('cliaccount');
  assert.equal((await a.closedWithin(5_000)).code, 4409);
  for (let i = 0; i < 2; i += 1) assert.equal((await submit(b, ordinary)).answer.type, 'certificate_challenge');
  const c = await connect('cliaccount');
  assert.equal((await b.closedWithin(5_000)).code, 4409);
  assert.equal((await submit(c, ordinary)).answer.type, 'certificate_challenge');
  // c has used one of its own three, but the account's five are gone.
  const { answer } = await submit(c, ordinary);
  assert.equal(answer.type, 'certificate_rejected', JSON.stringify(answer));
  assert.equal(answer.error.code, 'rate_limited');
  assert.ok(answer.error.retry_after >= 1);
  // Another account is not affected.
  const other = await connect('clivictim');
  assert.equal((await submit(other, ordinary)).answer.type, 'certificate_challenge');
  for (const ws of [a, b, c, other]) await ws.close();
});

test('RSA-8192 is refused by default and accepted with certificate_max_rsa_bits = 8192; the huge exponent never', async () => {
  const rsa8192 = await readFile(path.join(fixtures, 'rsa8192-e65537.asc'), 'utf8');
  const ws = await connect('clirsa');
  const refused = (await submit(ws, rsa8192)).answer;
  assert.equal(refused.type, 'certificate_rejected', JSON.stringify(refused));
  assert.equal(refused.error.code, 'unsupported');
  await ws.close();

  const large = await startServer({ extraArgs: [...loopbackRateLimits, '--certificate-max-rsa-bits', '8192'] });
  try {
    assert.equal((await register(large, 'clirsa', password)).status, 201);
    const { res, cookie } = await login(large, 'clirsa', password);
    assert.equal(res.status, 200);
    const socket = await openWebSocket(large, { cookie });
    await socket.next('hello');
    const accepted = (await submit(socket, rsa8192)).answer;
    assert.equal(accepted.type, 'certificate_challenge', JSON.stringify(accepted));
    const { answer, ms } = await submit(socket, attack);
    assert.equal(answer.type, 'certificate_rejected', JSON.stringify(answer));
    assert.equal(answer.error.code, 'unsupported');
    assert.ok(ms < REFUSAL_BOUND_MS, `refused after ${ms.toFixed(1)} ms`);
    await socket.close();
  } finally {
    await large.stop();
  }
});

test('certificate_max_rsa_bits outside 2048..8192 stops the server at start', async () => {
  for (const bits of ['16384', '1024']) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-test-'));
    try {
      const r = await runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', '--certificate-max-rsa-bits', bits]);
      assert.notEqual(r.code, 0, bits);
      assert.match(r.stderr, /certificate_max_rsa_bits must be between 2048 and 8192/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});
