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

const step = (m) => console.error(new Date().toISOString(), m);
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

test('video call answered audio-only; the callee turns the camera on later (reused transceiver)', { timeout: 120_000 }, async (t) => {
  step('pair');
  const [alice, bob] = await securePair(t, suite);
  step('secure');
  await act(alice.app, 'call', { username: bob.username, video: true });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'accept', { video: false });
  step('accepted');
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  step('encrypted');
  await act(bob.app, 'toggleCamera');
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.camera === true, null, { timeout: 20_000 });
  step('alice sees bob camera');
  await alice.app.waitForTimeout(3000);
  step('stats');
  const [sent, got] = [await media(bob.app), await media(alice.app)];
  step('decode ' + JSON.stringify([sent, got]));
  const frames = await decodedFrames(alice.app);
  console.log('bob send', JSON.stringify(sent.send.video), 'alice receive', JSON.stringify(got.receive.video), 'decoded', frames,
    'alice says', await alice.app.evaluate(() => document.documentElement.dataset.callSecurity));
  assert.ok(sent.send.video.frames > 0, 'bob\'s late camera goes through the SFrame transform');
  assert.ok(got.receive.video.frames > 0, 'alice decrypts bob\'s video');
  assert.equal(got.receive.video.noKey + got.receive.video.badHeader + got.receive.video.authFailures, 0, 'no video frame arrived without SFrame');
  assert.ok(frames > 3, 'decoded');
  assert.equal(sent.send.video.active, true, 'bob\'s Worker reports his video sent encrypted');
  assert.equal(got.receive.video.active, true, 'alice\'s Worker reports bob\'s video decrypted');
  await stillEncrypted([alice, bob]);
  await act(bob.app, 'hangUp');
});

test('audio call: the callee adds a camera, then the caller adds one (reuses the transceiver the callee\'s offer made)', { timeout: 120_000 }, async (t) => {
  step('pair');
  const [alice, bob] = await securePair(t, suite);
  step('secure');
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'accept', { video: false });
  step('accepted');
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  step('encrypted');
  await act(bob.app, 'toggleCamera');
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.camera === true, null, { timeout: 20_000 });
  step('alice sees bob camera');
  await alice.app.waitForTimeout(1500);
  await act(alice.app, 'toggleCamera');
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.camera === true, null, { timeout: 20_000 });
  step('bob sees alice camera');
  await bob.app.waitForTimeout(3000);
  step('stats');
  const [sent, got] = [await media(alice.app), await media(bob.app)];
  step('decode ' + JSON.stringify([sent, got]));
  const frames = await decodedFrames(bob.app);
  const aliceSays = await alice.app.evaluate(() => document.documentElement.dataset.callSecurity);
  console.log('alice send', JSON.stringify(sent.send.video), 'bob receive', JSON.stringify(got.receive.video), 'decoded', frames, 'bob says', await bob.app.evaluate(() => document.documentElement.dataset.callSecurity), 'alice says', aliceSays);
  assert.ok(sent.send.video.frames > 0, 'alice\'s late camera goes through the SFrame transform');
  assert.ok(got.receive.video.frames > 0, 'bob decrypts alice\'s video');
  assert.equal(got.receive.video.noKey + got.receive.video.badHeader + got.receive.video.authFailures, 0, 'no video frame arrived without SFrame');
  assert.ok(frames > 3, 'decoded');
  assert.equal(sent.send.video.active, true, 'alice\'s Worker reports her video sent encrypted');
  assert.equal(got.receive.video.active, true, 'bob\'s Worker reports alice\'s video decrypted');
  await stillEncrypted([alice, bob]);
  await act(bob.app, 'hangUp');
});
