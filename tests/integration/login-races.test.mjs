// A WebSocket cannot outlive its login, whatever the timing: a logout racing the upgrade (the
// login is checked before the 101 answer, the socket joins the hub after it) must still close
// the socket, and the user must not stay online for others. To hit the narrow window the test
// opens both TLS connections first, then writes the upgrade and the logout in the same tick.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { login, loopbackRateLimits, openWebSocket, register, request, startServer } from '../helpers/secms-server.mjs';
import { presenceNames } from '../helpers/presence.mjs';

const TRIES = 60;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(server) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port: server.httpsPort, servername: 'localhost', rejectUnauthorized: false },
      () => resolve(socket),
    );
    socket.once('error', reject);
  });
}

// Follows a raw upgrade: resolves to 'refused' (not 101), 'closed' (a close frame or the end of
// the connection came within timeoutMs) or 'open' (the socket outlived the wait).
function followUpgrade(socket, timeoutMs) {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let done = false;
    const finish = (verdict) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const timer = setTimeout(() => finish(upgraded ? 'open' : 'refused'), timeoutMs);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) return finish('refused');
        upgraded = true;
        buffer = buffer.subarray(end + 4);
      }
      // Server frames are unmasked (RFC 6455 §5.1): walk them looking for a close (opcode 8).
      for (;;) {
        if (buffer.length < 2) return;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        if ((buffer[0] & 0x0f) === 8) return finish('closed');
        buffer = buffer.subarray(offset + length);
      }
    });
    socket.on('end', () => finish(upgraded ? 'closed' : 'refused'));
    socket.on('close', () => finish(upgraded ? 'closed' : 'refused'));
    socket.on('error', () => {});
  });
}

async function websocketsOpen(server) {
  const res = await request(server, 'GET', '/metrics');
  assert.equal(res.status, 200, res.body);
  const m = /^secms_websockets_open (\d+)$/m.exec(res.body);
  assert.ok(m, 'secms_websockets_open is exported');
  return Number(m[1]);
}

describe('logout racing the WebSocket upgrade', () => {
  let server;
  let watcher;
  before(async () => {
    server = await startServer({ extraArgs: [...loopbackRateLimits] });
    assert.equal((await register(server, 'racer', 'racer password')).status, 201);
    assert.equal((await register(server, 'watcher', 'watcher password')).status, 201);
    const { cookie } = await login(server, 'watcher', 'watcher password');
    watcher = await openWebSocket(server, { cookie });
  });
  after(async () => {
    await watcher?.close().catch(() => {});
    await server?.stop();
  });

  test(`no socket survives in ${TRIES} tries, and the user is not left online`, async () => {
    const host = `localhost:${server.httpsPort}`;
    const counts = { refused: 0, closed: 0, open: 0 };
    for (let i = 0; i < TRIES; i++) {
      const { res, cookie } = await login(server, 'racer', 'racer password');
      assert.equal(res.status, 200, res.body);
      const [upgradeSocket, logoutSocket] = await Promise.all([connect(server), connect(server)]);
      const upgrade =
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: secms.v1\r\nOrigin: ${server.origin}\r\nCookie: __Host-sid=${cookie}\r\n\r\n`;
      const logout =
        `DELETE /api/v1/session HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${server.origin}\r\n` +
        `Cookie: __Host-sid=${cookie}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
      const verdict = followUpgrade(upgradeSocket, 3_000);
      logoutSocket.on('data', () => {});
      logoutSocket.on('error', () => {});
      // Alternate who goes first, and on every other pair let the event loop turn in between.
      if (i % 2 === 0) {
        upgradeSocket.write(upgrade);
        if (i % 4 === 0) await new Promise(setImmediate);
        logoutSocket.write(logout);
      } else {
        logoutSocket.write(logout);
        if (i % 4 === 1) await new Promise(setImmediate);
        upgradeSocket.write(upgrade);
      }
      counts[await verdict]++;
      logoutSocket.destroy();
    }
    assert.equal(counts.open, 0, `sockets that outlived their logout: ${JSON.stringify(counts)}`);

    // Nobody but the watcher is connected, and the watcher's last presence does not show racer.
    let open = await websocketsOpen(server);
    for (let i = 0; i < 30 && open !== 1; i++) {
      await sleep(100);
      open = await websocketsOpen(server);
    }
    assert.equal(open, 1);
    assert.ok(watcher.messages.some((m) => m.type === 'presence'), 'the watcher received presence');
    assert.deepEqual(presenceNames(watcher.messages), ['watcher']);
  });
});
