// Connection exhaustion: one address cannot take every connection slot (per-IP cap, the
// redirect port's own budget, a short deadline for sockets that never start TLS), and running
// out of file descriptors makes the accept loop wait instead of spinning on EMFILE.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { healthzFrom, request, startServer } from '../helpers/secms-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Opens `count` plain TCP connections from `localAddress` that never send a byte. Each entry
// records when the server closed it.
async function idleSockets(port, count, localAddress = '127.0.0.1') {
  const out = [];
  for (let i = 0; i < count; ++i) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const entry = { socket, closed: false };
    socket.on('error', () => {});
    socket.on('close', () => (entry.closed = true));
    await new Promise((resolve) => {
      socket.once('connect', resolve);
      socket.once('close', resolve);
    });
    out.push(entry);
  }
  return out;
}

const openCount = (entries) => entries.filter((e) => !e.closed).length;


describe('per-IP connection cap and the pre-TLS deadline', () => {
  test('idle sockets from 127.0.0.1 fill only their own share; 127.0.0.2 is still served; the deadline closes them', async () => {
    const cap = 8;
    const server = await startServer({
      extraArgs: ['--max-connections-per-ip', String(cap), '--handshake-timeout-s', '2'],
    });
    let sockets = [];
    try {
      sockets = await idleSockets(server.httpsPort, cap + 6);
      await sleep(300);
      assert.equal(openCount(sockets), cap, 'the server keeps exactly the per-IP cap of idle sockets');
      // The same address is refused while its share is used up; another address is served.
      assert.notEqual(await healthzFrom(server, '127.0.0.1', 3_000), 200);
      assert.equal(await healthzFrom(server, '127.0.0.2', 3_000), 200);

      // Never started TLS: closed by the server after the 2 s handshake deadline.
      const deadline = Date.now() + 5_000;
      while (openCount(sockets) > 0 && Date.now() < deadline) await sleep(100);
      assert.equal(openCount(sockets), 0, 'idle pre-TLS sockets are closed after handshake_timeout');
      assert.equal(await healthzFrom(server, '127.0.0.1', 3_000), 200);
    } finally {
      for (const e of sockets) e.socket.destroy();
      await server.stop();
    }
  });

  test('the redirect port has its own budget: filling it leaves HTTPS free for the same address', async () => {
    const server = await startServer({
      extraArgs: ['--max-redirect-connections', '4', '--max-connections-per-ip', '16', '--handshake-timeout-s', '10'],
    });
    let sockets = [];
    try {
      sockets = await idleSockets(server.httpPort, 10, '127.0.0.3');
      await sleep(300);
      assert.equal(openCount(sockets), 4, 'the redirect port holds at most max_redirect_connections');
      assert.equal(await healthzFrom(server, '127.0.0.3'), 200);
      assert.equal((await request(server, 'GET', '/healthz')).status, 200);
    } finally {
      for (const e of sockets) e.socket.destroy();
      await server.stop();
    }
  });
});

// utime + stime of a process, in seconds (proc(5): fields 14 and 15, in clock ticks).
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

// Run this one against an ordinary build: with no descriptor left, UBSan's vptr check cannot
// open the pipe it probes memory with, reports an "invalid vptr" on Boost's error_category and
// halts the server (a false positive of the sanitizer runtime, seen with GCC 12's libsanitizer).
// scripts/test.sh runs it on the dev build; the asan step runs the shutdown test only.
describe('out of file descriptors', () => {
  test('accept waits instead of spinning on EMFILE, and serves again once descriptors are free', async () => {
    const server = await startServer({
      extraArgs: ['--max-connections-per-ip', '10000', '--handshake-timeout-s', '60'],
    });
    let sockets = [];
    try {
      const pid = server.process.pid;
      const inUse = readdirSync(`/proc/${pid}/fd`).length;
      const limit = inUse + 20;
      // Lower the running server's soft and hard limit (prlimit(1), util-linux).
      execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);
      sockets = await idleSockets(server.httpsPort, 60);
      await sleep(500);
      const wallStart = Date.now();
      const cpuStart = cpuSeconds(pid);
      await sleep(2_000);
      const share = (cpuSeconds(pid) - cpuStart) / ((Date.now() - wallStart) / 1000);
      assert.ok(share < 0.2, `the server burnt ${(share * 100).toFixed(0)}% of a core while out of descriptors`);
      assert.match(server.logs().stdout + server.logs().stderr, /pausing accepts/);

      for (const e of sockets) e.socket.destroy();
      sockets = [];
      // The back-off waits at most 1 s; the queued connections are accepted and end at once.
      let status;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (status = await healthzFrom(server, '127.0.0.1', 3_000)) !== 200) await sleep(200);
      assert.equal(status, 200, 'serves again once descriptors are free');
    } finally {
      for (const e of sockets) e.socket.destroy();
      await server.stop();
    }
  });
});

// The soft and hard RLIMIT_NOFILE of a process, from /proc/<pid>/limits.
function openFileLimits(pid) {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
  return { soft: Number(soft), hard: Number(hard) };
}

describe('descriptor limit at start', () => {
  // Last in this file: it lowers this test process's own limits, which the server inherits
  // (raising the hard limit back needs privileges the runner may not have).
  test('the soft limit is raised to the hard one; a hard limit below max_connections is warned about', async () => {
    const own = openFileLimits(process.pid);
    const setOwn = (soft, hard) => execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${soft}:${hard}`]);
    try {
      setOwn(256, 2048);
      let server = await startServer();
      try {
        assert.deepEqual(openFileLimits(server.process.pid), { soft: 2048, hard: 2048 });
        assert.doesNotMatch(server.logs().stderr, /open-file limit/);
      } finally {
        await server.stop();
      }
      setOwn(256, 512);
      server = await startServer();
      try {
        assert.deepEqual(openFileLimits(server.process.pid), { soft: 512, hard: 512 });
        assert.match(server.logs().stderr, /the open-file limit \(512\) is below max_connections/);
      } finally {
        await server.stop();
      }
    } finally {
      try {
        setOwn(own.soft, own.hard);
      } catch {
        // without the privilege to raise it again; this process ends with the file
      }
    }
  });
});
