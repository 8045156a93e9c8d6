// Connection attacks the server must outlast while it serves everyone else within its limits
// (connection-limits.test.mjs covers idle sockets that never start TLS, the redirect port and
// running out of descriptors):
// - slowloris: TLS connections that send their request headers a byte at a time;
// - a WebSocket that never reads while a room keeps sending to it;
// - ten thousand half-open TLS handshakes (a ClientHello, then silence) from many addresses.
// Every check is a count; waits are conditions with a deadline, never a measured duration.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { healthzFrom, login, loopbackRateLimits, openWebSocket, register, request, startServer } from '../helpers/secms-server.mjs';
import { until } from '../helpers/until.mjs';


// A user who logs in, opens the app WebSocket and gets pong for ping: what "served" means below.
async function servedUser(server, name) {
  const { res, cookie } = await login(server, name, `${name} password`);
  assert.equal(res.status, 200, `login of ${name}: ${res.status} ${res.body}`);
  const ws = await openWebSocket(server, { cookie });
  try {
    await ws.next('hello', 30_000);
    ws.send({ type: 'ping' });
    await ws.next('pong', 30_000);
  } finally {
    ws.ws.terminate();
  }
}

// secms_websockets_open from /metrics.
async function websocketsOpen(server) {
  const res = await request(server, 'GET', '/metrics');
  assert.equal(res.status, 200);
  const line = res.body.split('\n').find((l) => l.startsWith('secms_websockets_open '));
  return Number(line.split(' ')[1]);
}

const openCount = (entries) => entries.filter((e) => !e.closed).length;

describe('slowloris', () => {
  test('headers a byte at a time: each address holds at most its share, others are served, the read deadline ends them all', async () => {
    const cap = 8;
    const attackers = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
    const server = await startServer({
      extraArgs: [...loopbackRateLimits, '--max-connections-per-ip', String(cap), '--read-timeout-s', '5', '--handshake-timeout-s', '30'],
    });
    const entries = [];
    const timers = [];
    try {
      assert.equal((await register(server, 'loris-alice', 'loris-alice password')).status, 201);
      const request = Buffer.from(`GET / HTTP/1.1\r\nHost: localhost\r\n${'X-Slow: a\r\n'.repeat(1000)}`);
      // cap + 3 attempts from each address; each that gets through TLS trickles its headers.
      await Promise.all(
        attackers.flatMap((localAddress) =>
          Array.from({ length: cap + 3 }, () => new Promise((resolve) => {
            const entry = { localAddress, secured: false, closed: false, bytesSent: 0, answer: '' };
            entries.push(entry);
            const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, localAddress, servername: 'localhost', rejectUnauthorized: false });
            entry.socket = socket;
            socket.on('error', () => {});
            socket.on('data', (d) => (entry.answer += d.toString('latin1')));
            socket.on('close', () => {
              entry.closed = true;
              resolve();
            });
            socket.on('secureConnect', () => {
              entry.secured = true;
              const timer = setInterval(() => {
                if (entry.closed || entry.bytesSent >= request.length) return clearInterval(timer);
                socket.write(request.subarray(entry.bytesSent, entry.bytesSent + 1));
                entry.bytesSent += 1;
              }, 100);
              timers.push(timer);
              resolve();
            });
          })),
        ),
      );
      // While the trickles run: no address holds more than its share, and those shares are full.
      for (const address of attackers) {
        const mine = entries.filter((e) => e.localAddress === address);
        assert.ok(openCount(mine) <= cap, `${address} holds ${openCount(mine)} connections (cap ${cap})`);
      }
      assert.ok(entries.some((e) => e.secured && !e.closed), 'some slow connections are held');
      assert.equal(await healthzFrom(server, '127.0.0.2'), 200);
      await servedUser(server, 'loris-alice');

      // Every trickle is ended by the server (read_timeout), long before its headers are done.
      await until(() => openCount(entries), (n) => n === 0, 'every slow connection closed by the server', 60_000, 200);
      assert.equal(entries.filter((e) => e.bytesSent >= request.length).length, 0, 'no trickle got its whole request in');
      assert.ok(entries.filter((e) => e.secured).length >= attackers.length, 'each address got connections through TLS');
      assert.equal(await healthzFrom(server, '127.0.0.11'), 200, 'the attacking address is served again afterwards');
    } finally {
      for (const t of timers) clearInterval(t);
      for (const e of entries) e.socket?.destroy();
      await server.stop();
    }
  });
});

describe('a WebSocket that never reads', () => {
  test('a room member that stops reading is dropped at its queue limit; the room and the server go on', async () => {
    const frames = 300;
    const server = await startServer({
      extraArgs: [
        ...loopbackRateLimits,
        '--chat-flood-per-minute', String(frames * 2),
        '--chat-max-message-chars', '15000',
        '--ws-queue-messages', '8',
      ],
    });
    const sockets = [];
    try {
      const connect = async (name) => {
        assert.equal((await register(server, name, `${name} password`)).status, 201);
        const { cookie } = await login(server, name, `${name} password`);
        const ws = await openWebSocket(server, { cookie });
        sockets.push(ws);
        await ws.next('hello');
        ws.send({ type: 'room_join', room: 'stuck' });
        return { ws, room: (await ws.next('room_joined')).room };
      };
      const sender = await connect('stuck-sender');
      const reader = await connect('stuck-reader');
      const stuck = await connect('stuck-stuck');
      const received = [];
      reader.ws.ws.on('message', (data, isBinary) => {
        if (isBinary) received.push(Number(Buffer.from(data).readBigUInt64BE(33)));
      });
      // From here on the stuck member's client reads nothing: its TCP window fills, then the
      // server's queue for it.
      stuck.ws.ws._socket.pause();

      const body = Buffer.alloc(60_000, 0x61);
      for (let sequence = 0; sequence < frames; ++sequence) {
        const header = Buffer.alloc(41);
        header[0] = 3;
        header.write(sender.room, 1, 'ascii');
        header.writeBigUInt64BE(BigInt(sequence), 33);
        await new Promise((resolve, reject) => sender.ws.ws.send(Buffer.concat([header, body]), (e) => (e ? reject(e) : resolve())));
      }
      // The reader gets every frame, once and in order, though one member stopped reading.
      await until(() => received.length, (n) => n >= frames, `all ${frames} frames at the reader`, 120_000, 200);
      assert.deepEqual(received, Array.from({ length: frames }, (_, i) => i));
      // The server lets the stuck socket go (its queue limit or, if that is not reached first,
      // its unanswered keep-alive ping): two application sockets are left open.
      await until(
        () => websocketsOpen(server),
        (n) => n === 2,
        'the stuck socket closed by the server',
        120_000,
        500,
      );
      // Only the stuck one: a burst the sender relayed while the stuck one was being dropped
      // once overflowed the reader's queue too (its backpressure check missed the messages
      // posted to the reader but not yet queued).
      const drops = (server.logs().stdout + server.logs().stderr).match(/websocket userid=\d+ dropped: write queue full/g) ?? [];
      assert.ok(drops.length <= 1, drops.join('\n'));
      // The stuck client, reading again, finds its connection closed.
      stuck.ws.ws._socket.resume();
      await stuck.ws.closedWithin(30_000);
      // The sender was slowed, never dropped; the server serves others.
      sender.ws.send({ type: 'ping' });
      await sender.ws.next('pong', 30_000);
      assert.equal(await healthzFrom(server, '127.0.0.2'), 200);
    } finally {
      for (const s of sockets) s.ws.terminate();
      await server.stop();
    }
  });
});

// The first flight of a real TLS client (its ClientHello), captured once on a local socket.
async function clientHello() {
  const capture = net.createServer();
  await new Promise((resolve) => capture.listen(0, '127.0.0.1', resolve));
  const first = new Promise((resolve) => capture.once('connection', (s) => s.once('data', (d) => {
    resolve(d);
    s.destroy();
  })));
  const client = tls.connect({ host: '127.0.0.1', port: capture.address().port, servername: 'localhost', rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await first;
  client.destroy();
  capture.close();
  return hello;
}

describe('ten thousand half-open TLS handshakes', () => {
  test('ClientHello then silence from 160 addresses: each holds at most its share, others are served, the handshake deadline ends them all', async () => {
    const cap = 60;
    const addresses = Array.from({ length: 160 }, (_, i) => `127.1.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    const perAddress = 63; // 160 × 63 = 10 080 handshakes
    const server = await startServer({
      extraArgs: [
        ...loopbackRateLimits,
        '--max-connections', '12000',
        '--max-connections-per-ip', String(cap),
        '--handshake-timeout-s', '60',
      ],
    });
    const hello = await clientHello();
    const entries = [];
    try {
      assert.equal((await register(server, 'half-alice', 'half-alice password')).status, 201);
      // Opened 500 at a time so the listen backlog is not the limit being tested.
      const attempts = addresses.flatMap((localAddress) => Array.from({ length: perAddress }, () => localAddress));
      for (let i = 0; i < attempts.length; i += 500) {
        await Promise.all(attempts.slice(i, i + 500).map((localAddress) => new Promise((resolve) => {
          const entry = { localAddress, answered: false, closed: false };
          entries.push(entry);
          const socket = net.connect({ host: '127.0.0.1', port: server.httpsPort, localAddress });
          entry.socket = socket;
          socket.on('error', () => {});
          socket.on('close', () => {
            entry.closed = true;
            resolve();
          });
          socket.once('data', () => {
            entry.answered = true; // the ServerHello: the handshake is under way, and then waits
            resolve();
          });
          socket.on('connect', () => socket.write(hello));
        })));
      }
      // Each address got at most its share of handshakes going (the rest were closed unanswered).
      for (const address of addresses) {
        const mine = entries.filter((e) => e.localAddress === address);
        const going = mine.filter((e) => e.answered).length;
        assert.ok(going <= cap, `${address}: ${going} handshakes under way (cap ${cap})`);
      }
      const answered = entries.filter((e) => e.answered).length;
      assert.ok(answered >= addresses.length * cap * 0.9, `only ${answered} of ${entries.length} handshakes got a ServerHello`);
      // Far more half-open handshakes than a default server takes (1024), and it serves others.
      assert.equal(await healthzFrom(server, '127.0.0.2', 30_000), 200);
      await servedUser(server, 'half-alice');

      // The handshake deadline ends every one of them; none is left open.
      await until(() => openCount(entries), (n) => n === 0, 'every half-open handshake closed by the server', 180_000, 500);
      assert.equal(await healthzFrom(server, addresses[0]), 200, 'an attacking address is served again afterwards');
    } finally {
      for (const e of entries) e.socket.destroy();
      await server.stop();
    }
  });
});
