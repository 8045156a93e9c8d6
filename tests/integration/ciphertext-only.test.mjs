// The relay path sees only ciphertext: a unique plaintext marker sent over a secure channel
// appears nowhere in what the server received, forwarded, logged or stored. Two Node channel
// clients (driving the real server as the browser does) talk through the hostile relay used
// purely as a tap: it records every WebSocket message and HTTP exchange each side sent and got,
// after TLS termination. The server runs at --log-level trace so it logs all it ever would.
// The marker is searched as UTF-8, UTF-16LE, hex and base64/base64url (every alignment) in:
// every tapped frame and HTTP body, the server's stdout and stderr, /metrics, and every file
// under the data directory after the server stopped. The log and the stored files are also
// searched for what must stay in memory: the certificates (fingerprints, key packets) and the
// channel's session id.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { freePort, request, startServer } from '../helpers/secms-server.mjs';
import { startHostileRelay } from '../helpers/hostile-relay.mjs';
import { ChannelClient } from '../helpers/channel-client.mjs';
import { findMarker, markerNeedles, readTree } from '../helpers/marker-search.mjs';
import { RelayFrameType, parseRelayFrame } from '../helpers/relay-frame.mjs';

const password = 'ciphertext only password';
let server;
let relay;
let stopped = false;

before(async () => {
  const relayPort = await freePort();
  server = await startServer({ logLevel: 'trace', extraArgs: ['--extra-origins', `https://localhost:${relayPort}`] });
  relay = await startHostileRelay({ server, port: relayPort });
});

after(async () => {
  await relay?.close();
  if (server && !stopped) await server.stop();
});

test('the server really runs at trace level', async () => {
  // The server's own command line shows the level it got.
  const argv = (await readFile(`/proc/${server.process.pid}/cmdline`, 'utf8')).split('\0');
  assert.equal(argv[argv.indexOf('--log-level') + 1], 'trace', argv.join(' '));
});

test('the search itself finds the marker in each encoding (positive control)', () => {
  const marker = `MARKER-${randomUUID()}`;
  const utf8 = Buffer.from(marker, 'utf8');
  for (const [encoding, bytes] of [
    ['utf-8', Buffer.concat([Buffer.from('x'), utf8, Buffer.from('y')])],
    ['utf-16le', Buffer.from(`..${marker}..`, 'utf16le')],
    ['hex', Buffer.from(`00${utf8.toString('hex')}ff`)],
  ]) assert.ok(findMarker(bytes, marker).includes(encoding), encoding);
  for (let shift = 0; shift < 3; shift++) {
    const around = Buffer.concat([Buffer.alloc(shift, 0x41), utf8, Buffer.from('tail')]);
    assert.ok(findMarker(Buffer.from(around.toString('base64')), marker).some((e) => e.startsWith('base64 ')), `base64 shift ${shift}`);
    assert.ok(findMarker(Buffer.from(around.toString('base64url')), marker).some((e) => e.startsWith('base64url')), `base64url shift ${shift}`);
  }
  assert.deepEqual(findMarker(Buffer.from(`MARKER-${randomUUID()}`), marker), []);
  assert.ok(markerNeedles(marker).length >= 8);
});

test('a plaintext marker sent over the channel is nowhere in what the server received, forwarded, logged or stored (nor are certificates and session ids logged or stored)', { timeout: 60_000 }, async () => {
  const marker = `MARKER-${randomUUID()}`;
  const a = await ChannelClient.connect(relay, { username: 'ctalice', password });
  const b = await ChannelClient.connect(relay, { username: 'ctbob', password });
  const { mine, theirs } = await a.secureChannelWith(b);

  const prose = 'The quick brown fox jumps over the lazy dog; Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich. ';
  const sentByA = [
    `${marker} short`,
    `${marker} ${prose.repeat(40)} ${marker}`,
    `${prose.repeat(200)}${marker}`, // ~20 KB, the marker at the very end
  ];
  const sentByB = [`reply ${marker} ☂️ ${prose}`];
  for (const text of sentByA) await mine.send(text);
  for (const text of sentByB) await theirs.send(text);

  // Positive control: the peer decrypts exactly what was sent.
  for (const text of sentByA) assert.equal(await theirs.nextMessage(), text);
  for (const text of sentByB) assert.equal(await mine.nextMessage(), text);

  // The tap saw the records: as many record frames from each sender as it sent, forwarded to the
  // peer byte for byte (the server relays, it does not transform), each longer than its
  // plaintext by at least the GCM tag.
  const records = (username, direction) => relay.framesOf({ username, direction, isBinary: true })
    .map((f) => parseRelayFrame(f.data)).filter((f) => f?.type === RelayFrameType.record);
  const fromA = records('ctalice', 'to_server');
  const toB = records('ctbob', 'to_client');
  assert.equal(fromA.length, sentByA.length);
  assert.deepEqual(toB.map((f) => Buffer.from(f.body).toString('hex')), fromA.map((f) => Buffer.from(f.body).toString('hex')));
  fromA.forEach((frame, i) => assert.ok(frame.body.length >= Buffer.byteLength(sentByA[i]) + 16));
  assert.equal(records('ctbob', 'to_server').length, sentByB.length);

  // 1. Every message each side sent to the server and the server sent to each side, and every
  //    HTTP exchange (headers and bodies), after TLS termination.
  assert.ok(relay.frames.length > 20, `tap recorded ${relay.frames.length} messages`);
  // The tap sees the bytes inside TLS: what is plaintext to the server (names in hello and
  // presence) is found there, so not finding the marker means something.
  assert.notDeepEqual(findMarker(Buffer.concat(relay.frames.map((f) => f.data)), 'ctalice'), []);
  for (const frame of relay.frames) {
    assert.deepEqual(findMarker(frame.data, marker), [], `${frame.phase} ${frame.direction} frame of ${frame.username}`);
  }
  assert.ok(relay.http.length >= 4, 'register and login of both users went through the tap');
  for (const exchange of relay.http) {
    const everything = Buffer.concat([
      Buffer.from(JSON.stringify([exchange.url, exchange.requestHeaders, exchange.responseHeaders])),
      exchange.requestBody, exchange.responseBody ?? Buffer.alloc(0),
    ]);
    assert.deepEqual(findMarker(everything, marker), [], `${exchange.method} ${exchange.url}`);
  }

  // 2. /metrics (loopback), which did count the relayed frames.
  const metrics = await request(server, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  const relayed = Number(/^secms_relay_frames_total\s+(\d+)/m.exec(metrics.body)?.[1]);
  assert.ok(relayed >= 3 + sentByA.length + sentByB.length, `secms_relay_frames_total ${relayed}`);
  assert.deepEqual(findMarker(metrics.body, marker), [], '/metrics');

  await mine.end();
  await theirs.whenEnded();
  await a.close();
  await b.close();

  // 3. The server's log (trace level) and 4. every file it stored, after it stopped.
  const stop = await server.stop({ keepDataDir: true });
  stopped = true;
  assert.equal(stop.code, 0, JSON.stringify(stop));
  try {
    const { stdout, stderr } = server.logs();
    assert.match(stderr, /login userid=/, 'the log covers this run (the search is not vacuous)');
    assert.deepEqual(findMarker(stdout, marker), [], 'server stdout');
    assert.deepEqual(findMarker(stderr, marker), [], 'server stderr');
    const files = await readTree(server.dataDir);
    assert.ok(files.some((f) => f.file.endsWith('.pem')) && files.length >= 3, `data dir files: ${files.map((f) => f.file)}`);
    for (const { file, bytes } of files) assert.deepEqual(findMarker(bytes, marker), [], file);
    // Neither are the certificates (kept in memory for the login only, docs/certificates.md) nor
    // the channel session (volatile, never logged): fingerprints, key material and session id.
    const volatileTexts = {
      'session id': mine.sessionId,
      'initiator fingerprint': a.identity.fingerprint,
      'responder fingerprint': b.identity.fingerprint,
    };
    const volatileBytes = {
      'initiator fingerprint (binary)': Buffer.from(a.identity.fingerprint, 'hex'),
      'responder fingerprint (binary)': Buffer.from(b.identity.fingerprint, 'hex'),
      'initiator public key packet': Buffer.from(a.identity.publicKey.keyPacket.write()),
      'responder public key packet': Buffer.from(b.identity.publicKey.keyPacket.write()),
    };
    const places = [{ file: 'server log', bytes: Buffer.from(stdout + stderr) }, ...files];
    for (const { file, bytes } of places) {
      for (const [what, value] of Object.entries(volatileTexts)) {
        assert.deepEqual([...findMarker(bytes, value), ...findMarker(bytes, value.toLowerCase())], [], `${what} in ${file}`);
      }
      for (const [what, value] of Object.entries(volatileBytes)) assert.equal(bytes.indexOf(value), -1, `${what} in ${file}`);
    }
  } finally {
    await rm(server.dataDir, { recursive: true, force: true });
  }
});
