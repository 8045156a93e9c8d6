// Shutdown while connections are still open: SIGTERM ends the process cleanly even when a
// WebSocket client never answers the close frame and another client never starts TLS. The
// connections still pending when the grace period ends are destroyed with the I/O context; this
// must happen before the server objects they refer to are gone (run under the asan preset by
// scripts/test.sh, where a use-after-free aborts the process with a report).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { login, register, request, startServer } from '../helpers/secms-server.mjs';

const EXIT_BOUND_MS = 15_000; // grace period (2 s) plus a sanitizer build's slower teardown
const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|ThreadSanitizer/;

// Upgrades to /ws over a raw TLS socket and then never reads or answers anything, the close
// frame included. Resolves once the 101 arrived.
function silentWebSocket(server, cookie) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, servername: 'localhost', rejectUnauthorized: false });
    let head = '';
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: secms.v1\r\nOrigin: ${server.origin}\r\nCookie: __Host-sid=${cookie}\r\n\r\n`,
      );
    });
    const onData = (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!/^HTTP\/1\.1 101 /.test(head)) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      socket.pause(); // from here on: read nothing, answer nothing
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

test('SIGTERM with a WebSocket that ignores the close frame and a socket that never starts TLS: clean exit 0', async () => {
  const server = await startServer({
    // Harmless for a build without sanitizers; under ASan a report aborts the process.
    env: { ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=1' },
  });
  const sockets = [];
  try {
    assert.equal((await register(server, 'shutdown-user', 'shutdown password 1')).status, 201);
    const { res, cookie } = await login(server, 'shutdown-user', 'shutdown password 1');
    assert.equal(res.status, 200);
    sockets.push(await silentWebSocket(server, cookie));
    const idle = net.connect({ host: '127.0.0.1', port: server.httpsPort });
    idle.on('error', () => {});
    await new Promise((resolve) => idle.once('connect', resolve));
    sockets.push(idle);
    assert.equal((await request(server, 'GET', '/healthz')).status, 200);

    const started = Date.now();
    server.process.kill('SIGTERM');
    let timer;
    const outcome = await Promise.race([
      server.exited,
      new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), EXIT_BOUND_MS))),
    ]).finally(() => clearTimeout(timer));
    const { stderr, stdout } = server.logs();
    assert.notEqual(outcome, 'timeout', `still running ${EXIT_BOUND_MS} ms after SIGTERM`);
    assert.doesNotMatch(stderr + stdout, SANITIZER_REPORT, `sanitizer report:\n${stderr}`);
    assert.deepEqual(outcome, { code: 0, signal: null }, `exit ${JSON.stringify(outcome)}; stderr:\n${stderr}`);
    assert.ok(Date.now() - started < EXIT_BOUND_MS);
    assert.match(stdout + stderr, /stopped/);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
  }
});
