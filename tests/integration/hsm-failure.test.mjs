// The token holding the pepper fails under a running server: SoftHSM2's token directory is moved
// away (as a removed or reset HSM). Logins for a known and an unknown name must get the same
// answer (or the outage tells which accounts exist), /healthz must say the token is gone, and
// once the token is back logins work again without a restart.
import assert from 'node:assert/strict';
import { mkdir, rename, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { login, loopbackRateLimits, register, request, startServer } from '../helpers/secms-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a failing token: identical answers for known and unknown users, /healthz degraded, recovery without restart', async () => {
  // The server keeps its own SoftHSM2 token in <data_dir>/hsm only when SOFTHSM2_CONF is unset
  // (child_process ignores undefined values in env).
  const server = await startServer({ extraArgs: [...loopbackRateLimits], env: { SOFTHSM2_CONF: undefined } });
  const tokens = path.join(server.dataDir, 'hsm', 'tokens');
  const away = `${tokens}.away`;
  let moved = false;
  try {
    assert.ok((await stat(tokens)).isDirectory(), `no SoftHSM2 token directory at ${tokens}`);
    assert.equal((await register(server, 'hsm-alice', 'alice password 1')).status, 201);
    assert.equal((await login(server, 'hsm-alice', 'alice password 1')).res.status, 200);

    await rename(tokens, away);
    await mkdir(tokens);
    moved = true;

    const known = (await login(server, 'hsm-alice', 'alice password 1')).res;
    const knownWrong = (await login(server, 'hsm-alice', 'not the password')).res;
    const unknown = (await login(server, 'hsm-nobody', 'alice password 1')).res;
    for (const res of [known, knownWrong, unknown]) {
      assert.equal(res.status, 503, `login during the outage: ${res.status} ${res.body}`);
      assert.equal(res.json?.error?.code, 'unavailable');
    }
    assert.equal(unknown.body, known.body);
    assert.equal(knownWrong.body, known.body);

    const health = await request(server, 'GET', '/healthz');
    assert.equal(health.status, 503);
    assert.equal(health.body, 'degraded: hsm unavailable\n');

    await rmdir(tokens);
    await rename(away, tokens);
    moved = false;

    // The key store reopens the token on a later use (back-off at most 5 s).
    let res;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      res = (await login(server, 'hsm-alice', 'alice password 1')).res;
      if (res.status === 200) break;
      await sleep(500);
    }
    assert.equal(res.status, 200, `login after the token came back: ${res.status} ${res.body}`);
    assert.equal((await login(server, 'hsm-nobody', 'alice password 1')).res.status, 401);
    await sleep(1_100); // /healthz probes the token at most once a second
    const healthy = await request(server, 'GET', '/healthz');
    assert.equal(healthy.status, 200);
    assert.equal(healthy.body, 'ok\n');
  } finally {
    if (moved) {
      await rmdir(tokens).catch(() => {});
      await rename(away, tokens).catch(() => {});
    }
    await server.stop();
  }
});
