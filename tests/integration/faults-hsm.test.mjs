// The SoftHSM2 token holding the pepper, under faults (hsm-failure.test.mjs covers the identical
// answers for known and unknown names and the recovery after a moved token directory):
// - missing at start while accounts exist: the server refuses to start, names the fix, and does
//   not make a new token (its new pepper would lock every account out for good);
// - locked (a wrong PIN) at start: refuses to start and names the PIN file;
// - deleted under the running server: logins and registrations fail with 503, and everything
//   that does not need the pepper goes on: static pages, open logins, open WebSockets (a new
//   socket of an existing login too), /healthz answers (degraded).
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  login,
  loopbackRateLimits,
  openWebSocket,
  register,
  request,
  runServerCommand,
  startServer,
  webRoot,
} from '../helpers/secms-server.mjs';
import { until } from '../helpers/until.mjs';

// The server keeps its own SoftHSM2 token in <data_dir>/hsm only when SOFTHSM2_CONF is unset
// (child_process drops undefined values from env).
const ownToken = { SOFTHSM2_CONF: undefined };

describe('the token at start', () => {
  let dataDir;

  before(async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits], env: ownToken });
    dataDir = server.dataDir;
    try {
      assert.equal((await register(server, 'token-alice', 'alice password 1')).status, 201);
    } finally {
      assert.equal((await server.stop({ keepDataDir: true })).code, 0);
    }
  });
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Runs `serve` on the data directory until it exits (a server that starts is killed after
  // 30 s, and the test then fails on its exit).
  async function serveUntilExit() {
    return runServerCommand(
      [
        '--data-dir', dataDir,
        '--listen', '127.0.0.1',
        '--https-port', String(await freePort()),
        '--http-port', String(await freePort()),
        '--mail-enabled', 'false',
        '--sip-enabled', 'false',
      ],
      { env: ownToken },
    );
  }

  async function startsAndLogsIn() {
    const server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits], env: ownToken });
    try {
      assert.equal((await login(server, 'token-alice', 'alice password 1')).res.status, 200);
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  }

  test('missing: exit 1 naming the token directory to restore; no new token is made', async () => {
    const tokens = path.join(dataDir, 'hsm', 'tokens');
    const away = `${tokens}.away`;
    await rename(tokens, away);
    try {
      const run = await serveUntilExit();
      assert.equal(run.code, 1, `exit ${run.code} ${run.signal}\n${run.stderr}`);
      assert.match(run.stderr, /no PKCS#11 token has the configured label/);
      assert.match(run.stderr, /holds accounts/);
      assert.ok(run.stderr.includes(`restore the token directory ${tokens} from a backup`), run.stderr);
      assert.deepEqual(await readdir(tokens).catch(() => []), [], 'no new token was initialised');
    } finally {
      await rm(tokens, { recursive: true, force: true });
      await rename(away, tokens);
    }
    await startsAndLogsIn();
  });

  test('locked by a wrong PIN: exit 1 naming the PIN file and the SO PIN', async () => {
    const pinFile = path.join(dataDir, 'hsm', 'user.pin');
    const pin = await readFile(pinFile);
    await writeFile(pinFile, 'not-the-token-pin\n', { mode: 0o600 });
    try {
      const run = await serveUntilExit();
      assert.equal(run.code, 1, `exit ${run.code} ${run.signal}\n${run.stderr}`);
      assert.match(run.stderr, /could not log in to the PKCS#11 token \(wrong or unreadable PIN\)/);
      assert.ok(run.stderr.includes(`Put the token's user PIN in ${pinFile}`), run.stderr);
      assert.match(run.stderr, /Security Officer PIN/);
      assert.doesNotMatch(run.stderr + run.stdout, /not-the-token-pin/, 'the PIN is not logged');
    } finally {
      await writeFile(pinFile, pin, { mode: 0o600 });
    }
    await startsAndLogsIn();
  });
});

describe('the token deleted under the running server', () => {
  test('logins and registrations get 503; pages, open logins and WebSockets go on; it recovers', async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits], env: ownToken });
    const tokens = path.join(server.dataDir, 'hsm', 'tokens');
    const backup = path.join(server.dataDir, 'tokens.backup');
    let deleted = false;
    const sockets = [];
    try {
      assert.equal((await register(server, 'gone-alice', 'alice password 1')).status, 201);
      assert.equal((await register(server, 'gone-bob', 'bob password 1')).status, 201);
      const alice = await login(server, 'gone-alice', 'alice password 1');
      const bob = await login(server, 'gone-bob', 'bob password 1');
      const aliceSocket = await openWebSocket(server, { cookie: alice.cookie });
      sockets.push(aliceSocket);
      assert.equal((await aliceSocket.next('hello')).user.username, 'gone-alice');
      await aliceSocket.next('presence');

      // What an operator's `rm -r` of the token directory does: the files are gone.
      await cp(tokens, backup, { recursive: true });
      await rm(tokens, { recursive: true });
      deleted = true;

      for (const res of [
        (await login(server, 'gone-alice', 'alice password 1')).res,
        await register(server, 'gone-carol', 'carol password 1'),
      ]) {
        assert.equal(res.status, 503, `${res.status} ${res.body}`);
        assert.equal(res.json?.error?.code, 'unavailable');
      }
      const health = await request(server, 'GET', '/healthz');
      assert.equal(health.status, 503);
      assert.equal(health.body, 'degraded: hsm unavailable\n');

      // Static pages.
      const index = await readFile(path.join(webRoot, 'index.html'), 'utf8').catch(() => {
        assert.fail(`no front end in ${webRoot}: run npm run build (scripts/install-deps.sh installs its tools)`);
      });
      const page = await request(server, 'GET', '/');
      assert.equal(page.status, 200);
      assert.equal(page.body, index);
      assert.equal((await request(server, 'GET', '/app.html')).status, 200);
      // Open logins.
      const me = await request(server, 'GET', '/api/v1/me', { cookie: alice.cookie });
      assert.equal(me.status, 200, me.body);
      assert.equal(me.json?.user?.username ?? me.json?.username, 'gone-alice');
      // The open socket, and a new socket of an open login, which the first one sees arrive.
      aliceSocket.send({ type: 'ping' });
      assert.equal((await aliceSocket.next('pong')).type, 'pong');
      const bobSocket = await openWebSocket(server, { cookie: bob.cookie });
      sockets.push(bobSocket);
      assert.equal((await bobSocket.next('hello')).user.username, 'gone-bob');
      assert.equal((await aliceSocket.next('presence_joined')).user.username, 'gone-bob');
      // Logging out needs no token either.
      assert.equal((await request(server, 'DELETE', '/api/v1/session', { cookie: bob.cookie })).status, 204);
      assert.equal((await bobSocket.closedWithin(5_000)).code, 4401);

      await rm(tokens, { recursive: true, force: true });
      await rename(backup, tokens);
      deleted = false;
      const back = await until(
        async () => (await login(server, 'gone-alice', 'alice password 1')).res,
        (res) => res.status === 200,
        'a login once the token is back',
        15_000,
        500,
      );
      assert.equal(back.status, 200);
      assert.equal((await register(server, 'gone-carol', 'carol password 1')).status, 201);
      assert.equal(
        (await until(() => request(server, 'GET', '/healthz'), (r) => r.status === 200, '/healthz ok again')).body,
        'ok\n',
      );
    } finally {
      for (const s of sockets) s.ws.terminate();
      if (deleted) {
        await rm(tokens, { recursive: true, force: true }).catch(() => {});
        await rename(backup, tokens).catch(() => {});
      }
      await server.stop();
    }
  });
});
