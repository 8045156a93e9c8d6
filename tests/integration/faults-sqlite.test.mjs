// The user database under faults: a SIGKILL in the middle of a registration storm loses no
// account whose registration was answered 201 (SQLite in WAL mode commits before the answer), and
// a full disk refuses registrations with a clear 507 storage_full while logins go on.
//
// The full disk is real: the data directory is a small tmpfs mounted for the test (needs root,
// as CI has; mount(8) from util-linux), filled to the last byte with a file, so SQLite's write
// of the new row fails with ENOSPC exactly as on a full disk (RLIMIT_FSIZE would give EFBIG, a
// different error path).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { login, loopbackRateLimits, register, request, startServer } from '../helpers/secms-server.mjs';
import { until } from '../helpers/until.mjs';

describe('SIGKILL during a registration storm', () => {
  test('every account answered 201 before the kill logs in after a restart', async () => {
    const server = await startServer({ extraArgs: [...loopbackRateLimits] });
    const acknowledged = [];
    const unexpected = [];
    let stopStorm = false;
    let restarted;
    try {
      // Eight clients register one name after another until the kill: some requests are always
      // in flight (hashing or writing) when the process dies.
      const worker = async (w) => {
        for (let i = 0; !stopStorm; ++i) {
          const name = `storm-${w}-${i}`;
          let res;
          try {
            res = await register(server, name, `${name} password`);
          } catch {
            return; // the connection died with the server
          }
          if (res.status === 201) acknowledged.push(name);
          else unexpected.push(`${name}: ${res.status} ${res.body}`);
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      await until(() => acknowledged.length, (n) => n >= 40, '40 acknowledged registrations', 120_000, 50);
      server.process.kill('SIGKILL');
      const died = await server.exited;
      stopStorm = true;
      await Promise.all(workers);
      assert.equal(died.signal, 'SIGKILL');
      const answered = [...acknowledged];
      assert.deepEqual(unexpected, [], 'every registration before the kill was answered 201');

      restarted = await startServer({ dataDir: server.dataDir, extraArgs: [...loopbackRateLimits] });
      const lost = [];
      for (const name of answered) {
        const { res } = await login(restarted, name, `${name} password`);
        if (res.status !== 200) lost.push(`${name}: ${res.status} ${res.body}`);
      }
      assert.deepEqual(lost, [], `${lost.length} of ${answered.length} acknowledged accounts lost`);
      // The database is writable again after the recovery.
      assert.equal((await register(restarted, 'after-kill', 'after-kill password')).status, 201);
    } finally {
      stopStorm = true;
      if (restarted) await restarted.stop();
      await server.stop(); // already dead: removes its data directory
    }
  });
});

// Fills the filesystem holding `dir` with one file, to the last byte, and returns its path.
function fillDisk(dir) {
  const filler = path.join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (e) {
          if (e.code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe('a full disk under the data directory', () => {
  test('registration answers 507 storage_full, logins and open logins keep working, registration works once space is free', async () => {
    const mountPoint = await mkdtemp(path.join(os.tmpdir(), 'secms-fulldisk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mountPoint]);
    } catch (e) {
      await rm(mountPoint, { recursive: true, force: true });
      assert.fail(
        `this test mounts a small tmpfs as the data directory and needs root (as CI runs) and ` +
          `mount(8) (util-linux, see scripts/install-deps.sh): ${e.message}`,
      );
    }
    let server;
    try {
      const dataDir = path.join(mountPoint, 'data');
      server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits] });
      assert.equal((await register(server, 'disk-alice', 'alice password 1')).status, 201);
      const before = await login(server, 'disk-alice', 'alice password 1');
      assert.equal(before.res.status, 200);

      const filler = fillDisk(mountPoint);
      const refused = await register(server, 'disk-bob', 'bob password 1');
      assert.equal(refused.status, 507, `registration on a full disk: ${refused.status} ${refused.body}\n${server.logs().stderr}`);
      assert.equal(refused.json?.error?.code, 'storage_full');
      assert.match(refused.json?.error?.message ?? '', /disk|space|storage/i);
      assert.match(server.logs().stderr + server.logs().stdout, /database or disk is full/);

      // Logging in only reads: it goes on, and so does a login made before.
      const during = await login(server, 'disk-alice', 'alice password 1');
      assert.equal(during.res.status, 200, `login on a full disk: ${during.res.status} ${during.res.body}`);
      assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: during.cookie })).status, 200);
      assert.equal((await request(server, 'GET', '/api/v1/me', { cookie: before.cookie })).status, 200);
      assert.equal((await request(server, 'GET', '/healthz')).status, 200);
      // The refused name was not half-created.
      assert.equal((await login(server, 'disk-bob', 'bob password 1')).res.status, 401);

      unlinkSync(filler);
      const res = await until(
        () => register(server, 'disk-bob', 'bob password 1'),
        (r) => r.status !== 507,
        'a registration once space is free',
      );
      assert.equal(res.status, 201, `registration once space is free: ${res.status} ${res.body}`);
      assert.equal((await login(server, 'disk-bob', 'bob password 1')).res.status, 200);
    } finally {
      if (server) await server.stop();
      try {
        execFileSync('umount', [mountPoint]);
      } catch {
        execFileSync('umount', ['-l', mountPoint]);
      }
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });
});
