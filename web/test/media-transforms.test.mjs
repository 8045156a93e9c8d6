// The call media transform (web/src/crypto/media/media-transforms.js) in Node with fake encoded
// frames and streams: two instances (initiator and responder of one channel) share a fake
// channel exporter built on the real key schedule. Also the media-key vectors
// (tests/vectors/sframe/media-keys.json) and the clear-prefix rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createDecipheriv } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { exportKeyingMaterial } from '../src/crypto/protocol/key-schedule.js';
import { fromHex, toHex } from '../src/crypto/protocol/bytes.js';
import { createMediaTransforms, openMediaFrame } from '../src/crypto/media/media-transforms.js';
import { MEDIA_SUITE, callIdBytes, channelDirectionOf, mediaLabel } from '../src/crypto/media/media-keys.js';
import { createReceiver, decodeHeader } from '../src/crypto/media/sframe.js';
import { CodecPrefixError, clearPrefixLength } from '../src/crypto/media/codec-prefix.js';
import { buildFile, computeVectors } from '../../tests/vectors/sframe/make-media-key-vectors.mjs';

const vectors = JSON.parse(await readFile(new URL('../../tests/vectors/sframe/media-keys.json', import.meta.url), 'utf8'));
const SESSION = 'session-0001';
const CALL = '5ec0ca11000102030405060708090a0b';

class FakeFrame {
  constructor(data, mimeType) {
    this.data = Uint8Array.from(data).buffer;
    this.mimeType_ = mimeType;
  }

  getMetadata() {
    return { mimeType: this.mimeType_ };
  }
}

// Waiting for the transforms without guessing how long AES-GCM takes (WebCrypto runs on Node's
// thread pool, so under load a fixed sleep loses frames still in flight): the module builds its
// pipes with the global TransformStream, and this subclass counts every frame whose transform
// promise has resolved and every frame it enqueued. The frames themselves go through the real
// transform unchanged.
const flow = { pushed: 0, transformed: 0, failed: 0, enqueued: 0, written: 0 };
globalThis.TransformStream = class CountingTransformStream extends TransformStream {
  constructor(transformer = {}, ...strategies) {
    const { transform } = transformer;
    super(transform === undefined ? transformer : {
      ...transformer,
      async transform(chunk, controller) {
        const counted = {
          enqueue(frame) {
            flow.enqueued++;
            controller.enqueue(frame);
          },
          error: (reason) => controller.error(reason),
          terminate: () => controller.terminate(),
          get desiredSize() { return controller.desiredSize; },
        };
        try {
          await transform.call(transformer, chunk, counted);
          flow.transformed++;
        } catch (error) {
          flow.failed++;
          throw error;
        }
      },
    }, ...strategies);
  }
};

/** A stream we push frames into, and one that collects what comes out. */
function source() {
  let controller;
  const readable = new ReadableStream({ start(c) { controller = c; } });
  return {
    readable,
    push(frame) {
      flow.pushed++;
      controller.enqueue(frame);
    },
    close: () => controller.close(),
  };
}
function sink() {
  const frames = [];
  const writable = new WritableStream({
    write(frame) {
      frames.push(frame);
      flow.written++;
    },
  });
  return { writable, frames };
}

/**
 * Resolves once every frame pushed so far went through its transform and every frame a transform
 * passed on reached its sink. Checked between event-loop turns (WebCrypto completions arrive as
 * macrotasks); the deadline only turns a hung pipe into a failure, it is never waited out.
 */
async function settle({ deadlineMs = 20_000 } = {}) {
  const start = performance.now();
  for (;;) {
    if (flow.failed > 0) throw new Error(`a media transform threw (${flow.failed})`);
    if (flow.transformed === flow.pushed && flow.written === flow.enqueued) return;
    if (performance.now() - start > deadlineMs) {
      throw new Error(`media pipes did not settle: ${JSON.stringify(flow)}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * One channel between an initiator and a responder: each side has its own epoch (a re-key
 * reaches the two ends at different times) and exporter secret table.
 */
function fakeChannel() {
  const secrets = {
    0: fromHex(vectors.inputs.exporterSecrets[0]),
    1: fromHex(vectors.inputs.exporterSecrets[1]),
    2: new Uint8Array(32).fill(0x22),
  };
  const side = (role) => {
    const view = { role, epoch: 0, secrets: { ...secrets }, exports: 0 };
    view.media = createMediaTransforms({
      exporter: async ({ session, label, context, length }) => {
        if (session !== SESSION) return null;
        view.exports++;
        return exportKeyingMaterial({ exporterSecret: view.secrets[view.epoch], label, context, length });
      },
      roleOf: (session) => (session === SESSION ? view.role : null),
      epochOf: (session) => (session === SESSION ? view.epoch : null),
    });
    return view;
  };
  return { initiator: side('initiator'), responder: side('responder') };
}

/**
 * Wires `from` (sending) to `to` (receiving) for one kind; `network(bytes)` sees every frame on the
 * wire and returns the bytes to deliver (or null to lose it).
 */
function link({ from, to, kind, call = CALL, network = (bytes) => bytes }) {
  const input = source();
  const wire = sink();
  from.media.attach({ readable: input.readable, writable: wire.writable, options: { session: SESSION, call, direction: 'send', kind } });
  const delivery = source();
  const output = sink();
  to.media.attach({ readable: delivery.readable, writable: output.writable, options: { session: SESSION, call, direction: 'receive', kind } });
  const mimeType = kind === 'audio' ? 'audio/opus' : 'video/VP8';
  let forwarded = 0;
  return {
    wire: wire.frames,
    output: output.frames,
    send(bytes) { input.push(new FakeFrame(bytes, mimeType)); },
    /** Delivers every frame that reached the wire since the last call. */
    async deliver() {
      await settle();
      for (; forwarded < wire.frames.length; forwarded++) {
        const bytes = network(new Uint8Array(wire.frames[forwarded].data));
        if (bytes) delivery.push(new FakeFrame(bytes, mimeType));
      }
      await settle();
    },
    inject(bytes) { delivery.push(new FakeFrame(bytes, mimeType)); },
  };
}

const opus = (i) => Uint8Array.of(0x78, ...Array.from({ length: 40 }, (_, j) => (i * 7 + j) & 0xff));
const vp8Key = (i) => Uint8Array.of(0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, ...Array.from({ length: 64 }, (_, j) => (i + j * 3) & 0xff));
const vp8Delta = (i) => Uint8Array.of(0x31, 0x01, 0x00, ...Array.from({ length: 48 }, (_, j) => (i * 5 + j) & 0xff));

function containsWindow(haystack, needle, size = 16) {
  const hay = Buffer.from(haystack);
  for (let start = 0; start + size <= needle.length; start++) {
    if (hay.indexOf(Buffer.from(needle.subarray(start, start + size))) !== -1) return true;
  }
  return false;
}

test('media-keys.json: recomputed with the real key schedule and SFrame code', async () => {
  const built = JSON.parse(JSON.stringify(await buildFile()));
  assert.ok(isDeepStrictEqual(built, vectors), 'the committed vectors equal a fresh computation');
  assert.deepEqual(vectors.expected, JSON.parse(JSON.stringify(await computeVectors(vectors.inputs))));
});

test('media-keys.json: frames open with the derived key (Node AES-GCM) and through openMediaFrame', async () => {
  for (const frame of vectors.expected.frames) {
    const key = vectors.expected.keys.find((entry) => entry.epoch === frame.epoch && entry.call === frame.call && entry.direction === frame.direction);
    const wire = fromHex(frame.wire);
    const prefixLength = clearPrefixLength({ codec: frame.codec, data: wire });
    const header = decodeHeader({ data: wire, offset: prefixLength });
    assert.equal(header.kid, BigInt(frame.epoch));
    assert.equal(header.ctr, BigInt(frame.ctr));
    const headerBytes = wire.subarray(prefixLength, prefixLength + header.length);
    const body = wire.subarray(prefixLength + header.length);
    const nonce = fromHex(key.sframeSalt);
    let rest = BigInt(frame.ctr);
    for (let i = 11; i >= 0; i--, rest >>= 8n) nonce[i] ^= Number(rest & 0xffn);
    const decipher = createDecipheriv('aes-256-gcm', fromHex(key.sframeKey), nonce);
    decipher.setAAD(Buffer.concat([headerBytes, wire.subarray(0, prefixLength)]));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plaintext = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    assert.equal(toHex(wire.subarray(0, prefixLength)) + plaintext.toString('hex'), frame.data);

    const receiver = createReceiver({ suite: MEDIA_SUITE });
    await receiver.addKey({ kid: frame.epoch, baseKey: fromHex(key.baseKey) });
    const opened = await openMediaFrame({ receiver, codec: frame.codec, data: wire });
    assert.equal(toHex(opened.data), frame.data);
  }
});

test('media keys differ per direction, per call id and per epoch', () => {
  const keys = vectors.expected.keys;
  assert.equal(keys.length, 8);
  assert.equal(new Set(keys.map((key) => key.baseKey)).size, keys.length, 'every (epoch, call, direction) has its own base key');
  assert.equal(new Set(keys.map((key) => key.sframeKey)).size, keys.length);
  assert.equal(channelDirectionOf({ role: 'initiator', direction: 'send' }), 'i2r');
  assert.equal(channelDirectionOf({ role: 'responder', direction: 'receive' }), 'i2r');
  assert.equal(channelDirectionOf({ role: 'responder', direction: 'send' }), 'r2i');
  assert.equal(mediaLabel('i2r'), 'sframe i2r');
  assert.throws(() => callIdBytes('5EC0CA11000102030405060708090A0B'), TypeError);
  assert.throws(() => callIdBytes('5ec0ca11'), TypeError);
});

test('clear prefix: VP8 key frame 10 bytes, interframe 3 (P bit), Opus 1, other codecs refused', () => {
  assert.equal(clearPrefixLength({ codec: 'video/VP8', data: vp8Key(0) }), 10);
  assert.equal(clearPrefixLength({ codec: 'video/vp8', data: vp8Delta(0) }), 3);
  assert.equal(clearPrefixLength({ codec: 'audio/opus', data: opus(0) }), 1);
  for (const codec of ['video/VP9', 'video/H264', 'video/AV1', 'audio/PCMU', 'audio/red', 'audio/CN', undefined]) {
    assert.throws(() => clearPrefixLength({ codec, data: opus(0) }), (error) => error instanceof CodecPrefixError && error.reason === 'unsupported_codec', String(codec));
  }
  assert.throws(() => clearPrefixLength({ codec: 'video/VP8', data: Uint8Array.of(0x10, 1, 2) }), (error) => error.reason === 'too_short');
  assert.throws(() => clearPrefixLength({ codec: 'video/VP8', data: new Uint8Array(0) }), (error) => error.reason === 'too_short');
  assert.throws(() => clearPrefixLength({ codec: 'audio/opus', data: new Uint8Array(0) }), (error) => error.reason === 'too_short');
});

test('send → receive round trip for audio and video; the wire carries prefix ‖ SFrame header ‖ ciphertext only', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  const video = link({ from: initiator, to: responder, kind: 'video' });
  const sent = { audio: [], video: [] };
  for (let i = 0; i < 5; i++) {
    sent.audio.push(opus(i));
    audio.send(opus(i));
    const frame = i === 0 ? vp8Key(i) : vp8Delta(i);
    sent.video.push(frame);
    video.send(frame);
  }
  await audio.deliver();
  await video.deliver();
  assert.equal(audio.output.length, 5);
  assert.equal(video.output.length, 5);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(new Uint8Array(audio.output[i].data), sent.audio[i]);
    assert.deepEqual(new Uint8Array(video.output[i].data), sent.video[i]);
  }
  // Audio and video of a direction share one counter: the ten headers hold ten distinct CTRs.
  const ctrs = new Set();
  for (const [kind, wires] of [['audio', audio.wire], ['video', video.wire]]) {
    wires.forEach((frame, i) => {
      const bytes = new Uint8Array(frame.data);
      const original = sent[kind][i];
      const prefixLength = clearPrefixLength({ codec: kind === 'audio' ? 'audio/opus' : 'video/VP8', data: original });
      assert.deepEqual(bytes.subarray(0, prefixLength), original.subarray(0, prefixLength), 'the clear prefix is kept');
      const header = decodeHeader({ data: bytes, offset: prefixLength });
      assert.equal(header.kid, 0n);
      ctrs.add(header.ctr);
      assert.equal(bytes.length, original.length + header.length + 16);
      assert.ok(!containsWindow(bytes, original.subarray(prefixLength)), 'no 16-byte window of the payload in clear');
    });
  }
  assert.equal(ctrs.size, 10);
  const a = initiator.media.stats({ call: CALL });
  assert.equal(a.keyId, 0);
  assert.equal(a.send.audio.frames, 5);
  assert.equal(a.send.video.frames, 5);
  assert.equal(a.sendActive, true);
  assert.equal(a.receiveActive, false);
  const b = responder.media.stats({ call: CALL });
  assert.equal(b.receive.audio.frames, 5);
  assert.equal(b.receive.video.frames, 5);
  assert.equal(b.receive.audio.authFailures + b.receive.audio.noKey + b.receive.audio.replays, 0);
  assert.equal(b.receiveActive, true);
  assert.equal(b.sendActive, false);
  assert.equal(JSON.stringify(b).includes(vectors.expected.keys[0].baseKey), false);
});

test('the transform output equals the media-key vectors (initiator, epoch 0, CTR 0..2)', async () => {
  const { initiator, responder } = fakeChannel();
  const video = link({ from: initiator, to: responder, kind: 'video' });
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  const [key, delta, voice] = vectors.expected.frames;
  video.send(fromHex(key.data));
  await video.deliver();
  video.send(fromHex(delta.data));
  await video.deliver();
  audio.send(fromHex(voice.data));
  await audio.deliver();
  assert.deepEqual(video.wire.map((frame) => toHex(new Uint8Array(frame.data))), [key.wire, delta.wire]);
  assert.deepEqual(audio.wire.map((frame) => toHex(new Uint8Array(frame.data))), [voice.wire]);
});

test('a flipped bit on the wire: the frame is dropped and counted, the others pass', async () => {
  const { initiator, responder } = fakeChannel();
  let index = 0;
  const video = link({
    from: initiator, to: responder, kind: 'video',
    network: (bytes) => {
      const at = index++;
      if (at === 1) bytes[bytes.length - 20] ^= 0x04; // ciphertext
      if (at === 2) bytes[bytes.length - 1] ^= 0x80; // tag
      if (at === 3) bytes[1] ^= 0x01; // clear prefix (authenticated as AAD)
      return bytes;
    },
  });
  for (let i = 0; i < 6; i++) video.send(vp8Delta(i));
  await video.deliver();
  assert.deepEqual(video.output.map((frame) => new Uint8Array(frame.data)[3]), [vp8Delta(0)[3], vp8Delta(4)[3], vp8Delta(5)[3]]);
  const stats = responder.media.stats({ call: CALL });
  assert.equal(stats.receive.video.frames, 3);
  assert.equal(stats.receive.video.authFailures, 3);
});

test('a replayed frame is dropped and counted', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(1));
  audio.send(opus(2));
  await audio.deliver();
  audio.inject(new Uint8Array(audio.wire[0].data));
  audio.inject(new Uint8Array(audio.wire[1].data));
  await settle();
  assert.equal(audio.output.length, 2);
  const stats = responder.media.stats({ call: CALL });
  assert.equal(stats.receive.audio.replays, 2);
  assert.equal(stats.receive.audio.frames, 2);
});

test('garbage and headerless frames are dropped (badHeader), unsupported codecs refused on both sides', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  audio.inject(Uint8Array.of(0x78)); // prefix only, no SFrame header
  audio.inject(Uint8Array.of(0x78, 0x8f, 0, 0)); // truncated extended KID
  await settle();
  assert.equal(responder.media.stats({ call: CALL }).receive.audio.badHeader, 2);
  // A frame of another codec is not encrypted with an unknown layout, and never passed in clear.
  const input = source();
  const wire = sink();
  initiator.media.attach({ readable: input.readable, writable: wire.writable, options: { session: SESSION, call: CALL, direction: 'send', kind: 'video' } });
  input.push(new FakeFrame(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 'video/H264'));
  await settle();
  assert.equal(wire.frames.length, 0);
  assert.equal(initiator.media.stats({ call: CALL }).send.video.dropped, 1);
  const delivery = source();
  const output = sink();
  responder.media.attach({ readable: delivery.readable, writable: output.writable, options: { session: SESSION, call: CALL, direction: 'receive', kind: 'video' } });
  delivery.push(new FakeFrame(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 'video/VP9'));
  await settle();
  assert.equal(output.frames.length, 0);
  assert.equal(responder.media.stats({ call: CALL }).receive.video.refused, 1);
});

test('epoch change: KID follows the channel epoch, the receiver keeps current and previous keys', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  assert.equal(audio.output.length, 1);
  const heldBack = []; // frames under KID 0 still in flight when the re-key happens
  audio.send(opus(1));
  await settle();
  heldBack.push(new Uint8Array(audio.wire.at(-1).data));

  // The initiator's channel reaches epoch 1 first: it sends under KID 1, which the responder
  // does not hold yet — dropped as noKey (the brief glitch of docs/protocol.md).
  initiator.epoch = 1;
  await initiator.media.channelEpochChanged({ session: SESSION });
  assert.equal(initiator.media.stats({ call: CALL }).keyId, 1);
  audio.send(opus(2));
  await settle();
  const early = new Uint8Array(audio.wire.at(-1).data);
  assert.equal(decodeHeader({ data: early, offset: 1 }).kid, 1n);
  assert.equal(decodeHeader({ data: early, offset: 1 }).ctr, 0n, 'a new KID starts its counter at 0');
  audio.inject(early);
  await settle();
  assert.equal(responder.media.stats({ call: CALL }).receive.audio.noKey, 1);

  responder.epoch = 1;
  await responder.media.channelEpochChanged({ session: SESSION });
  audio.inject(early);
  audio.inject(heldBack[0]); // KID 0, still held as the previous epoch
  await settle();
  assert.equal(audio.output.length, 3);
  assert.deepEqual(new Uint8Array(audio.output[1].data), opus(2));
  assert.deepEqual(new Uint8Array(audio.output[2].data), opus(1));

  // Epoch 2: KID 0 is two epochs old and dropped.
  initiator.epoch = 2;
  responder.epoch = 2;
  await initiator.media.channelEpochChanged({ session: SESSION });
  await responder.media.channelEpochChanged({ session: SESSION });
  audio.send(opus(3));
  await settle();
  audio.inject(new Uint8Array(audio.wire.at(-1).data));
  await settle();
  assert.equal(audio.output.length, 4);
  assert.equal(decodeHeader({ data: new Uint8Array(audio.wire.at(-1).data), offset: 1 }).kid, 2n);
  audio.inject(new Uint8Array(audio.wire[0].data));
  await settle();
  assert.equal(audio.output.length, 4);
  assert.equal(responder.media.stats({ call: CALL }).receive.audio.noKey, 2);
});

test('wrong key: frames fail authentication and are not passed on; the right key restores them', async () => {
  const { initiator, responder } = fakeChannel();
  responder.secrets[0] = new Uint8Array(32).fill(0x55);
  const video = link({ from: initiator, to: responder, kind: 'video' });
  for (let i = 0; i < 4; i++) video.send(vp8Delta(i));
  await video.deliver();
  assert.equal(video.output.length, 0);
  assert.equal(responder.media.stats({ call: CALL }).receive.video.authFailures, 4);
  assert.equal(responder.media.stats({ call: CALL }).receiveActive, false);
  // Re-deriving the same epoch with the right secret (what the browser test does to swap keys).
  responder.secrets[0] = fromHex(vectors.inputs.exporterSecrets[0]);
  await responder.media.channelEpochChanged({ session: SESSION });
  for (let i = 4; i < 6; i++) video.send(vp8Delta(i));
  await video.deliver();
  assert.equal(video.output.length, 2);
});

test('a re-derivation of the same epoch never reuses a counter', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  await initiator.media.channelEpochChanged({ session: SESSION });
  audio.send(opus(1));
  await audio.deliver();
  const ctrs = audio.wire.map((frame) => decodeHeader({ data: new Uint8Array(frame.data), offset: 1 }).ctr);
  assert.deepEqual(ctrs, [0n, 1n]);
  assert.equal(audio.output.length, 2);
});

test('no channel (role or epoch null, exporter null): nothing is sent, nothing is passed on', async () => {
  const { initiator, responder } = fakeChannel();
  initiator.role = null;
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  assert.equal(audio.wire.length, 0);
  assert.equal(initiator.media.stats({ call: CALL }).send.audio.dropped, 1);
  assert.equal(initiator.media.stats({ call: CALL }).keyId, null);
  assert.equal(initiator.media.stats({ call: CALL }).sendActive, false);
});

test('endCall drops the keys; the same call id is never keyed again (no counter restart)', async () => {
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  assert.equal(audio.output.length, 1);
  const exportsBefore = initiator.exports;
  initiator.media.endCall({ call: CALL });
  responder.media.endCall({ call: CALL });
  audio.send(opus(1));
  audio.inject(new Uint8Array(audio.wire[0].data));
  await settle();
  assert.equal(audio.wire.length, 1, 'nothing sent after endCall');
  assert.equal(audio.output.length, 1, 'nothing passed on after endCall');
  // Attaching again to the ended call derives nothing and sends nothing.
  const again = link({ from: initiator, to: responder, kind: 'audio' });
  again.send(opus(2));
  await again.deliver();
  assert.equal(again.wire.length, 0);
  assert.equal(initiator.exports, exportsBefore);
  const stats = initiator.media.stats({ call: CALL });
  assert.equal(stats.keyId, null);
  assert.equal(stats.sendActive, false);
  // Another call over the same channel works and uses its own keys.
  const other = 'c0ffee00ffeeddccbbaa998877665544';
  const fresh = link({ from: initiator, to: responder, kind: 'audio', call: other });
  fresh.send(opus(3));
  await fresh.deliver();
  assert.equal(fresh.output.length, 1);
  const wire = new Uint8Array(fresh.wire[0].data);
  assert.equal(decodeHeader({ data: wire, offset: 1 }).ctr, 0n);
  // endSession ends every call of the session.
  initiator.media.endSession({ session: SESSION });
  fresh.send(opus(4));
  await settle();
  assert.equal(fresh.wire.length, 1);
});

test('attach refuses malformed options; stats of an unknown call are zero and inactive', () => {
  const { initiator } = fakeChannel();
  const streams = () => ({ readable: source().readable, writable: sink().writable });
  for (const options of [
    { session: SESSION, call: 'xyz', direction: 'send', kind: 'audio' },
    { session: SESSION, call: CALL, direction: 'both', kind: 'audio' },
    { session: SESSION, call: CALL, direction: 'send', kind: 'data' },
    { session: '', call: CALL, direction: 'send', kind: 'audio' },
  ]) assert.throws(() => initiator.media.attach({ ...streams(), options }), TypeError);
  const stats = initiator.media.stats({ call: '00000000000000000000000000000000' });
  assert.equal(stats.keyId, null);
  assert.equal(stats.sendActive, false);
  assert.equal(stats.receiveActive, false);
  assert.equal(stats.send.video.frames, 0);
  assert.throws(() => createMediaTransforms({ exporter: () => null, roleOf: () => null }), TypeError);
});

/** Two ends of one call at epoch 0 on a manual clock; `advance(ms)` moves it. */
function clockedPair() {
  const clock = { now: 1000 };
  const secret = fromHex(vectors.inputs.exporterSecrets[0]);
  const make = (role) => createMediaTransforms({
    exporter: ({ label, context, length }) => exportKeyingMaterial({ exporterSecret: secret, label, context, length }),
    roleOf: () => role,
    epochOf: () => 0,
    now: () => clock.now,
  });
  return { initiator: { media: make('initiator') }, responder: { media: make('responder') }, advance: (ms) => { clock.now += ms; } };
}

test('sendActive/receiveActive turn false 3 s after the last frame', async () => {
  const { initiator, responder, advance } = clockedPair();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  audio.send(opus(0));
  await audio.deliver();
  assert.equal(initiator.media.stats({ call: CALL }).sendActive, true);
  assert.equal(responder.media.stats({ call: CALL }).receiveActive, true);
  advance(2999);
  assert.equal(initiator.media.stats({ call: CALL }).sendActive, true);
  advance(1);
  assert.equal(initiator.media.stats({ call: CALL }).sendActive, false);
  assert.equal(responder.media.stats({ call: CALL }).receiveActive, false);
});

test('per-kind activity: audio decrypting does not vouch for video frames that arrive without SFrame', async () => {
  const { initiator, responder, advance } = clockedPair();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  const video = link({ from: initiator, to: responder, kind: 'video' });
  for (let i = 0; i < 3; i++) audio.send(opus(i));
  await audio.deliver();
  await audio.deliver();
  let received = responder.media.stats({ call: CALL });
  assert.equal(received.receive.audio.active, true);
  assert.equal(received.receive.video.active, false);
  assert.equal(received.receiveActive, true, 'audio is the only kind in use and it decrypts');
  // Clear VP8 frames (a sender that bypassed its transform) reach the video receiver.
  for (let i = 0; i < 3; i++) video.inject(i === 0 ? vp8Key(i) : vp8Delta(i));
  audio.send(opus(9));
  await audio.deliver();
  received = responder.media.stats({ call: CALL });
  assert.equal(received.receive.audio.active, true);
  assert.equal(received.receive.video.active, false);
  assert.equal(received.receive.video.frames, 0);
  assert.ok(received.receive.video.noKey + received.receive.video.badHeader + received.receive.video.authFailures > 0);
  assert.equal(received.receiveActive, false, 'video in use but never decrypted: the direction is not active');
  // Sending side: each kind reports its own activity; both must be active for sendActive.
  video.send(vp8Key(1));
  await video.deliver();
  const sent = initiator.media.stats({ call: CALL });
  assert.equal(sent.send.audio.active, true);
  assert.equal(sent.send.video.active, true);
  assert.equal(sent.sendActive, true);
  // Video stops (camera track removed): once its window passes it is no longer in use, and audio alone decides.
  advance(2000);
  audio.send(opus(10));
  await audio.deliver();
  advance(1500);
  const later = initiator.media.stats({ call: CALL });
  assert.equal(later.send.video.active, false);
  assert.equal(later.send.audio.active, true);
  assert.equal(later.sendActive, true);
  assert.equal(responder.media.stats({ call: CALL }).receiveActive, true, 'the clear video frames are more than 3 s old');
});

test('the tests wait for the transforms, not for a time: AES-GCM completing 120 ms late still round-trips', async (t) => {
  // A machine under load, made reproducible: every encrypt / decrypt resolves 120 ms late (the
  // tests once waited a fixed 30 ms and lost frames still in flight).
  const subtle = globalThis.crypto.subtle;
  for (const name of ['encrypt', 'decrypt']) {
    const original = subtle[name];
    subtle[name] = (...args) => original.apply(subtle, args).then((value) => new Promise((resolve) => setTimeout(() => resolve(value), 120)));
    t.after(() => { subtle[name] = original; });
  }
  const { initiator, responder } = fakeChannel();
  const audio = link({ from: initiator, to: responder, kind: 'audio' });
  for (let i = 0; i < 3; i++) audio.send(opus(i));
  await audio.deliver();
  assert.equal(audio.wire.length, 3);
  assert.deepEqual(audio.output.map((frame) => new Uint8Array(frame.data)), [opus(0), opus(1), opus(2)]);
  assert.equal(responder.media.stats({ call: CALL }).receive.audio.frames, 3);
});
