// A camera turned on partway through a call, on the video transceiver that the PEER's offer
// created (addTrack reuses it). Chromium bypasses a sender transform assigned after the
// transceiver's media channel exists, so the page assigns it when the transceiver appears
// (call-session.js); here every video frame must pass the Worker's SFrame transform both ways,
// decode on the other side, and the indicator must still be honest.
// Run: flock /tmp/secms-browser.lock timeout 400 bash scripts/loopback-netns.sh env
//   SECMS_SERVER_BIN=/work/main/build/dev/server/app/secms-server node --test
//   --test-concurrency=1 tests/calls/late-camera.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCallApp, securePair, callAction as act, phaseIs, securityIs, decodedFrames } from './helpers/call-app.mjs';

const suite = await useCallApp();

const media = (page) => page.evaluate(async () => {
  const root = document.querySelector('secms-app-root');
  return Promise.race([root.channelActions.callMediaStats(root.calls.get().call.id), new Promise((r) => setTimeout(() => r('stats-timeout'), 5000))]);
});

// Past the per-kind grace (call-security.js KIND_GRACE_MS) the per-kind check has judged the
// new video: both indicators must still say encrypted (no false alarm once the fix holds).
async function stillEncrypted(users) {
  await users[0].app.waitForTimeout(3000);
  for (const { app } of users) {
    const security = await app.evaluate(() => ({ ...document.querySelector('secms-app-root').calls.get().call.security, sas: null }));
    assert.equal(security.state, 'encrypted', `indicator: ${JSON.stringify(security)}`);
  }
}

/** Alice calls Bob (video or not), Bob accepts with audio only; both reach "encrypted". */
async function encryptedAudioAnswer(alice, bob, { video }) {
  await act(alice.app, 'call', { username: bob.username, video });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'accept', { video: false });
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
}

/** `from` turns its camera on and `to` is told so through the call's `state` signal. */
async function cameraOn(from, to) {
  await act(from.app, 'toggleCamera');
  await to.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.camera === true, null, { timeout: 20_000 });
}

/** The late camera of `sender` passed the SFrame transform both ways and decodes at `receiver`. */
async function assertLateVideoEncrypted(sender, receiver) {
  const [sent, got] = [await media(sender.app), await media(receiver.app)];
  const frames = await decodedFrames(receiver.app);
  const detail = JSON.stringify({ send: sent.send?.video, receive: got.receive?.video, frames });
  assert.ok(sent.send.video.frames > 0, `${sender.username}'s late camera goes through the SFrame transform: ${detail}`);
  assert.ok(got.receive.video.frames > 0, `${receiver.username} decrypts the video: ${detail}`);
  assert.equal(got.receive.video.noKey + got.receive.video.badHeader + got.receive.video.authFailures, 0, `no video frame arrived without SFrame: ${detail}`);
  assert.ok(frames > 3, `decoded: ${detail}`);
  assert.equal(sent.send.video.active, true, `${sender.username}'s Worker reports the video sent encrypted`);
  assert.equal(got.receive.video.active, true, `${receiver.username}'s Worker reports the video decrypted`);
}

test('video call answered audio-only; the callee turns the camera on later (reused transceiver)', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  await encryptedAudioAnswer(alice, bob, { video: true });
  await cameraOn(bob, alice);
  await alice.app.waitForTimeout(3000);
  await assertLateVideoEncrypted(bob, alice);
  await stillEncrypted([alice, bob]);
  await act(bob.app, 'hangUp');
});

test('audio call: the callee adds a camera, then the caller adds one (reuses the transceiver the callee\'s offer made)', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  await encryptedAudioAnswer(alice, bob, { video: false });
  await cameraOn(bob, alice);
  await alice.app.waitForTimeout(1500);
  await cameraOn(alice, bob);
  await bob.app.waitForTimeout(3000);
  await assertLateVideoEncrypted(alice, bob);
  await stillEncrypted([alice, bob]);
  await act(bob.app, 'hangUp');
});
