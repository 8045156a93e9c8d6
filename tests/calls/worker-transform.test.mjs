// The crypto Worker as the home of the call media transforms, in Chromium: an
// RTCRtpScriptTransform made on the real Worker bundle (web/src/crypto/worker.js) fires its
// rtctransform handler there, and with no secure channel behind the call the transform keeps
// every frame back (counted as dropped, no RTP reaches the peer): media never leaves
// unencrypted. A transform whose options are not exactly {session, call, direction, kind} is
// refused and passes nothing either. Keys from a live channel are covered by the call tests
// that run the whole application.
//
// Runs in a loopback-only network namespace:
//   scripts/loopback-netns.sh node --test tests/calls/worker-transform.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { launchCallBrowser } from './helpers/browser.mjs';
import { bundleModule, htmlPage, scriptFile, serveStaticPages } from './helpers/static-pages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// One page, two peer connections over loopback; the sender's (and the receiver's) encoded
// frames go through the crypto Worker. __run(options) → what the test checks.
const pageSource = `
const worker = new Worker('./worker.js', { type: 'module' });
let nextId = 1;
function ask(type, payload) {
  const id = nextId++;
  return new Promise((resolve) => {
    const listener = ({ data }) => {
      if (data.id !== id) return;
      worker.removeEventListener('message', listener);
      resolve(data);
    };
    worker.addEventListener('message', listener);
    worker.postMessage({ id, type, payload });
  });
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

window.__run = async ({ sendOptions, receiveOptions, waitMs }) => {
  const health = await ask('health');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = ({ candidate }) => candidate && b.addIceCandidate(candidate);
  b.onicecandidate = ({ candidate }) => candidate && a.addIceCandidate(candidate);
  b.ontrack = ({ receiver }) => { receiver.transform = new RTCRtpScriptTransform(worker, receiveOptions); };
  const sender = a.addTrack(stream.getAudioTracks()[0], stream);
  sender.transform = new RTCRtpScriptTransform(worker, sendOptions);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const started = Date.now();
  while (a.connectionState !== 'connected' && Date.now() - started < 10000) await sleep(50);
  const connected = a.connectionState;
  await sleep(waitMs);
  const outbound = [...(await a.getStats()).values()].find((s) => s.type === 'outbound-rtp' && s.kind === 'audio');
  const inbound = [...(await b.getStats()).values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
  const sendStats = await ask('call.media_stats', { call: sendOptions.call });
  a.close();
  b.close();
  stream.getTracks().forEach((track) => track.stop());
  return {
    health: health.ok, connected,
    packetsSent: outbound?.packetsSent ?? 0, packetsReceived: inbound?.packetsReceived ?? 0,
    stats: sendStats.stats,
  };
};
window.__ready = true;
`;

let server;
let baseUrl;
let browser;

before(async () => {
  server = await serveStaticPages({
    '/': htmlPage('<!doctype html><meta charset="utf-8"><title>worker transform</title><script type="module" src="./page.js"></script>'),
    '/page.js': scriptFile(pageSource),
    '/worker.js': scriptFile(await bundleModule(path.join(root, 'web/src/crypto/worker.js'))),
  });
  baseUrl = `${server.origin}/`;
  browser = await launchCallBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function run(options) {
  const page = await browser.newPage();
  try {
    await page.goto(baseUrl);
    await page.waitForFunction(() => window.__ready === true);
    return await page.evaluate((o) => window.__run(o), options);
  } finally {
    await page.close();
  }
}

const session = 'ab'.repeat(16);

test('rtctransform fires in the crypto Worker; without a secure channel every frame is held back, none reaches the peer', async () => {
  const call = '0123456789abcdef0123456789abcdef';
  const result = await run({
    sendOptions: { session, call, direction: 'send', kind: 'audio' },
    receiveOptions: { session, call, direction: 'receive', kind: 'audio' },
    waitMs: 1500,
  });
  assert.equal(result.health, true);
  assert.equal(result.connected, 'connected', 'ICE over loopback');
  assert.equal(result.stats.call, call);
  assert.ok(result.stats.send.audio.dropped > 10, `the Worker saw the sender's frames: ${JSON.stringify(result.stats.send.audio)}`);
  assert.equal(result.stats.send.audio.frames, 0);
  assert.equal(result.stats.sendActive, false);
  assert.equal(result.packetsReceived, 0, 'no audio RTP reached the peer');
});

test('a transform whose options carry more than {session, call, direction, kind} is refused: nothing is sent', async () => {
  const call = 'fedcba9876543210fedcba9876543210';
  const result = await run({
    sendOptions: { session, call, direction: 'send', kind: 'audio', key: '00'.repeat(32) },
    receiveOptions: { session, call, direction: 'receive', kind: 'audio' },
    waitMs: 1500,
  });
  assert.equal(result.connected, 'connected');
  assert.equal(result.stats.send.audio.dropped, 0, 'never attached');
  assert.equal(result.stats.send.audio.frames, 0);
  assert.equal(result.packetsReceived, 0, 'no audio RTP reached the peer');
});
