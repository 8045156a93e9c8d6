// Proof in Chromium that call media is end-to-end encrypted beneath DTLS-SRTP with SFrame
// (docs/protocol.md "Media encryption (SFrame)"). DTLS hides everything on the wire, so a packet
// capture proves nothing; instead the encoded frames are observed where they leave the sender's
// transform, and the receiver's decoder is shown to depend on the SFrame key:
//   (a) media flows both ways through the real transform module in a Worker, frames are counted
//       encrypted and decrypted, codecs are Opus and VP8;
//   (b) every frame leaving a sender's transform is clear codec prefix ‖ valid SFrame header ‖
//       ciphertext, and no 16-byte window of the payload beyond the prefix appears in it;
//   (c) a receiver given a wrong key: bytes keep arriving, framesDecoded stays constant over 2 s,
//       authentication failures rise; the right key makes framesDecoded rise again;
//   (d) a bit flipped after encryption (a tampering stage in the sender's Worker) → the frame is
//       dropped and counted by the receiver;
//   (e) a channel re-key (new epoch, new exporter secret): the KID follows and media keeps flowing.
//
// Two RTCPeerConnections in one page, each peer with its own Worker (tests/calls/fixtures/).
// Runs in a loopback-only network namespace:
//   scripts/loopback-netns.sh node --test --test-concurrency=1 tests/calls/sframe-media.test.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchCallBrowser } from './helpers/browser.mjs';
import { serveWorkerPage } from './helpers/static-pages.mjs';
import { decodeHeader } from '../../web/src/crypto/media/sframe.js';
import { clearPrefixLength } from '../../web/src/crypto/media/codec-prefix.js';

const fixtures = new URL('./fixtures/', import.meta.url);
const CALL = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SECRET = '0bd96ddc07ea54c9cd2232c28f82e01fd16b31fc88f1eb973264af81cc4f4efa';
const WRONG_SECRET = '5a'.repeat(32);
const EPOCH1_SECRET = 'a1c2d19c1a9ec750d78d10e7473619ba24c100654f80dcb395e3752e6cb20c1b';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let server;
let origin;
let browser;
let page;
const problems = [];

const harness = (fn, arg) => page.evaluate(fn, arg);
const inbound = () => harness(() => window.sframeHarness.inbound());
const workerStats = (side) => harness(async (s) => (await window.sframeHarness.worker(s, 'stats')).stats, side);
const worker = (side, type, message = {}) => harness(async ([s, t, m]) => window.sframeHarness.worker(s, t, m), [side, type, message]);

async function waitFor(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await predicate();
    if (result) return result;
    await sleep(200);
  }
  const state = { inbound: await inbound(), a: await workerStats('a'), b: await workerStats('b'), problems };
  assert.fail(`timed out waiting for ${what}: ${JSON.stringify(state)}`);
}

before(async () => {
  server = await serveWorkerPage({
    html: new URL('sframe-page.html', fixtures), page: new URL('sframe-page.mjs', fixtures), worker: new URL('sframe-worker.mjs', fixtures),
  });
  ({ origin } = server);
  browser = await launchCallBrowser();
  const context = await browser.newContext();
  page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.sframeHarness !== undefined);
  const started = await harness(([call, secret]) => window.sframeHarness.start({ call, secret, workerUrl: '/worker.js' }), [CALL, SECRET]);
  assert.equal(started.offerHasOnlyOpusAndVp8, true);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('(a) media flows both ways through the SFrame transforms; frames are counted encrypted and decrypted', async () => {
  await waitFor(async () => {
    const stats = await inbound();
    return stats.a.video?.framesDecoded > 20 && stats.b.video?.framesDecoded > 20
      && stats.a.audio?.packetsReceived > 50 && stats.b.audio?.packetsReceived > 50;
  }, 'decoded video and received audio on both peers');
  const stats = await inbound();
  assert.equal(stats.b.video.mimeType, 'video/VP8');
  assert.equal(stats.b.audio.mimeType, 'audio/opus');
  for (const side of ['a', 'b']) {
    const media = await workerStats(side);
    assert.equal(media.call, CALL);
    assert.equal(media.keyId, 0);
    assert.ok(media.send.audio.frames > 50, `${side} encrypted audio frames: ${media.send.audio.frames}`);
    assert.ok(media.send.video.frames > 20, `${side} encrypted video frames: ${media.send.video.frames}`);
    assert.ok(media.receive.audio.frames > 50, `${side} decrypted audio frames: ${media.receive.audio.frames}`);
    assert.ok(media.receive.video.frames > 20, `${side} decrypted video frames: ${media.receive.video.frames}`);
    for (const kind of ['audio', 'video']) {
      assert.equal(media.receive[kind].authFailures, 0);
      assert.equal(media.receive[kind].replays, 0);
      assert.equal(media.send[kind].dropped, 0);
    }
    assert.equal(media.sendActive, true);
    assert.equal(media.receiveActive, true);
  }
  assert.deepEqual(problems, []);
});

test('(b) frames leaving the sender transform are prefix ‖ SFrame header ‖ ciphertext, no payload in clear', async () => {
  for (const side of ['a', 'b']) {
    const { samples } = await worker(side, 'samples');
    for (const kind of ['audio', 'video']) {
      assert.ok(samples[kind].length >= 20, `${side} ${kind} samples: ${samples[kind].length}`);
      let keyFrames = 0;
      const ctrs = new Set();
      for (const sample of samples[kind]) {
        const original = Buffer.from(sample.original, 'hex');
        const output = Buffer.from(sample.output, 'hex');
        assert.equal(sample.mimeType.toLowerCase(), kind === 'audio' ? 'audio/opus' : 'video/vp8');
        const prefixLength = clearPrefixLength({ codec: sample.mimeType, data: original });
        if (kind === 'video' && prefixLength === 10) {
          keyFrames++;
          assert.equal(sample.type, 'key', 'the VP8 P bit agrees with the frame type');
        }
        assert.deepEqual(output.subarray(0, prefixLength), original.subarray(0, prefixLength), 'clear prefix kept');
        const header = decodeHeader({ data: new Uint8Array(output), offset: prefixLength });
        assert.equal(header.kid, 0n);
        ctrs.add(header.ctr);
        assert.equal(output.length, original.length + header.length + 16, 'prefix ‖ header ‖ ciphertext ‖ 16-byte tag');
        const payload = original.subarray(prefixLength);
        for (let start = 0; start + 16 <= payload.length; start++) {
          assert.equal(output.indexOf(payload.subarray(start, start + 16)), -1, `${side} ${kind}: payload bytes ${start}..${start + 16} in clear`);
        }
      }
      assert.equal(ctrs.size, samples[kind].length, 'every frame has its own counter');
      if (kind === 'video') assert.ok(keyFrames >= 1, 'a key frame was sampled');
    }
  }
});

test('(c) wrong key: bytes arrive, framesDecoded stays constant, auth failures rise; the right key restores decoding', async () => {
  await worker('b', 'setSecret', { secret: WRONG_SECRET, epoch: 0 });
  await sleep(700); // frames decoded before the swap leave the pipeline
  const before = (await inbound()).b;
  const failuresBefore = (await workerStats('b')).receive.video.authFailures;
  await sleep(2000);
  const afterWait = (await inbound()).b;
  const media = await workerStats('b');
  assert.ok(afterWait.video.bytesReceived > before.video.bytesReceived + 1000, 'video bytes keep arriving');
  assert.ok(afterWait.audio.bytesReceived > before.audio.bytesReceived, 'audio bytes keep arriving');
  assert.equal(afterWait.video.framesDecoded, before.video.framesDecoded, 'no frame decoded with the wrong key');
  assert.ok(media.receive.video.authFailures > failuresBefore + 10, `video auth failures rose: ${failuresBefore} → ${media.receive.video.authFailures}`);
  assert.ok(media.receive.audio.authFailures > 20, 'audio auth failures rose');
  await sleep(500);
  assert.equal((await workerStats('b')).receiveActive, false, 'no frame decrypted within the last 3 s');

  await worker('b', 'setSecret', { secret: SECRET, epoch: 0 });
  await waitFor(async () => (await inbound()).b.video.framesDecoded > afterWait.video.framesDecoded + 10, 'decoding again with the right key');
  assert.equal((await workerStats('b')).receiveActive, true);
});

test('(d) a bit flipped after encryption: the frame is dropped and counted, decoding goes on', async () => {
  const failuresBefore = (await workerStats('b')).receive.audio.authFailures;
  await worker('a', 'tamper', { kind: 'audio', every: 5 });
  await sleep(2000);
  await worker('a', 'tamper', { kind: 'audio', every: 0 });
  const { flipped } = await worker('a', 'tampered');
  await sleep(1000);
  const media = await workerStats('b');
  const counted = media.receive.audio.authFailures - failuresBefore;
  // Every fifth frame for 2 s of 50 frames/s: about 20 tampered frames, each one counted (a frame
  // or two may be lost on the way; loopback loses none in practice).
  assert.ok(flipped >= 15, `frames tampered: ${flipped}`);
  assert.ok(counted <= flipped && counted >= flipped - 2, `tampered ${flipped}, counted as auth failures ${counted}`);
  const videoBefore = (await inbound()).b.video.framesDecoded;
  await worker('a', 'tamper', { kind: 'video', every: 4 });
  await sleep(1500);
  await worker('a', 'tamper', { kind: 'video', every: 0 });
  const videoFailures = (await workerStats('b')).receive.video.authFailures;
  assert.ok(videoFailures > 0);
  await waitFor(async () => (await inbound()).b.video.framesDecoded > videoBefore + 20, 'video decoding goes on');
});

test('(e) re-key: both peers move to epoch 1, the KID follows, media keeps flowing', async () => {
  await worker('a', 'setSecret', { secret: EPOCH1_SECRET, epoch: 1 });
  await worker('b', 'setSecret', { secret: EPOCH1_SECRET, epoch: 1 });
  await sleep(500);
  const before = await inbound();
  const decryptedBefore = (await workerStats('b')).receive.video.frames;
  // The decoder's count and the Worker's count are sampled apart and the jitter buffer sits
  // between them, so each is waited for on its own rather than compared at one instant.
  await waitFor(async () => {
    const now = await inbound();
    return now.b.video.framesDecoded > before.b.video.framesDecoded + 20 && now.a.video.framesDecoded > before.a.video.framesDecoded + 20;
  }, 'decoding under epoch 1');
  await waitFor(async () => (await workerStats('b')).receive.video.frames > decryptedBefore + 20, 'frames decrypted under epoch 1');
  const a = await workerStats('a');
  const b = await workerStats('b');
  assert.equal(a.keyId, 1);
  assert.equal(b.keyId, 1);
  assert.deepEqual(problems, []);
});
