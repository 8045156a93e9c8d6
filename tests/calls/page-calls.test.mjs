// The page's call logic in Chromium against the real server: two users in two browser contexts
// with a secure channel, calls placed and answered through the call actions the UI uses
// (root.callActions), the state read from the call store and the documented data attributes.
// (a) call → ring → accept: active on both sides, the security verdict "encrypted" (SFrame
//     transform active both ways, DTLS fingerprints equal to the channel-authenticated SDP),
//     media decoded both ways, mute/hold/state seen by the peer, hang-up ends both, logs and
//     conversation lines;
// (b) decline, and busy for a second caller;
// (c) the peer closes its window mid-call: the call ends with the channel.
//
//   flock /tmp/secms-browser.lock scripts/loopback-netns.sh env SECMS_SERVER_BIN=… \
//     node --test --test-concurrency=1 tests/calls/page-calls.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registeredUser, createIdentityInApp, requestChannelWith, waitForChannelState } from '../e2e/helpers/app-flows.mjs';
import { useCallApp, securePair, callAction as act, phaseIs, securityIs, decodedFrames } from './helpers/call-app.mjs';

const suite = await useCallApp();

const user = (t, prefix, options = {}) => registeredUser(t, suite.browser, suite.server.origin, prefix, options);

/** The call snapshot without its streams, plus the remote stream's tracks. */
const callOf = (page) => page.evaluate(() => {
  const { call, log } = document.querySelector('secms-app-root').calls.get();
  if (!call) return { call: null, log };
  const { localStream, remoteStream, ...rest } = call;
  return {
    call: JSON.parse(JSON.stringify(rest)),
    remoteTracks: remoteStream ? remoteStream.getTracks().map((track) => `${track.kind}:${track.readyState}:${track.enabled}`) : [],
    log,
  };
});

test('call, ring, accept: encrypted both ways, media decoded, mute and hold seen by the peer, hang-up ends both', { timeout: 180_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  assert.equal(await alice.app.evaluate(() => document.documentElement.dataset.callPhase), 'none');
  assert.deepEqual(await act(alice.app, 'call', { username: bob.username, video: true }), { ok: true });
  await phaseIs(bob.app, 'incoming');
  await phaseIs(alice.app, 'ringing');
  assert.equal((await callOf(bob.app)).call.peer.username, alice.username);
  await act(bob.app, 'accept', { video: true });
  await Promise.all([phaseIs(alice.app, 'active'), phaseIs(bob.app, 'active')]);
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  for (const side of [alice, bob]) {
    const { call, remoteTracks } = await callOf(side.app);
    assert.equal(call.security.e2ee, true, 'e2ee');
    assert.equal(call.security.fingerprintsMatch, true, 'fingerprints');
    assert.deepEqual(call.security.transform, { sendActive: true, receiveActive: true });
    assert.equal(call.security.path, 'direct');
    assert.ok(call.security.sas, 'the channel SAS is shown with the call');
    assert.equal(call.cameraOn, true, 'camera on');
    assert.deepEqual(remoteTracks.sort(), ['audio:live:true', 'video:live:true']);
    assert.ok(await decodedFrames(side.app) > 5, 'remote video frames are decoded');
  }

  // Mute and hold reach the peer; with hold the transform keeps running (still encrypted).
  await act(alice.app, 'toggleMute');
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.muted === true);
  await act(alice.app, 'toggleHold');
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.held.remote === true);
  await alice.app.waitForTimeout(2500);
  assert.equal(await bob.app.evaluate(() => document.documentElement.dataset.callSecurity), 'encrypted');
  await act(alice.app, 'toggleHold');
  assert.equal(await act(alice.app, 'sendDtmf', '1#'), true);

  // Quality figures on demand.
  await act(bob.app, 'setStatsVisible', true);
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.stats?.bitrateKbps.receive > 0, null, { timeout: 10_000 });

  await act(alice.app, 'hangUp');
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  for (const side of [alice, bob]) {
    const { log } = await callOf(side.app);
    assert.equal(log[0].outcome, 'answered');
    assert.ok(log[0].durationMs > 0);
  }
  // The outcome is also a system line of the private conversation.
  for (const side of [alice, bob]) {
    const lines = await side.app.evaluate(() => document.querySelector('secms-app-root').channels.get().channels
      .flatMap((channel) => channel.messages).filter((entry) => entry.from === 'system').map((entry) => [entry.messageKey, entry.params.media]));
    assert.deepEqual(lines.filter(([key]) => key.startsWith('call.')), [['call.log.answered', 'video']]);
  }
});

test('decline, and busy for a second caller while in a call', { timeout: 240_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'decline');
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  assert.equal((await callOf(alice.app)).log[0].outcome, 'declined');

  // Carol calls Bob while Bob is ringing for Alice: Carol hears busy, Bob's log shows a miss.
  const carol = await user(t, 'carol');
  await createIdentityInApp(carol.app, { name: 'C', email: 'c@example.org' });
  await requestChannelWith(carol.app, bob.username);
  await carol.app.getByTestId('peer-report').waitFor();
  await carol.app.getByTestId('channel-accept').click();
  await bob.app.locator('[data-testid=channel-entry][data-state=verifying]').first().click();
  await bob.app.getByTestId('peer-report').waitFor();
  await bob.app.getByTestId('channel-accept').click();
  await waitForChannelState(carol.app, 'secure');
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await act(carol.app, 'call', { username: bob.username, video: false });
  await phaseIs(carol.app, 'ended');
  assert.equal((await callOf(carol.app)).log[0].outcome, 'busy');
  assert.equal((await callOf(bob.app)).log[0].outcome, 'missed');
  assert.equal((await callOf(bob.app)).call.peer.username, alice.username, 'the first call still rings');
  await act(alice.app, 'hangUp');
  await phaseIs(bob.app, 'ended');
});

test('the peer closing its window mid-call ends the call with the channel', { timeout: 180_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'accept', { video: false });
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  await bob.app.close();
  await phaseIs(alice.app, 'ended', 30_000);
  assert.equal((await callOf(alice.app)).log[0].outcome, 'channel-ended');
});

test('an audio call gains video (renegotiation) and a shared screen, and stays encrypted', { timeout: 180_000 }, async (t) => {
  const [alice, bob] = await securePair(t, suite);
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await act(bob.app, 'accept', { video: false });
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  assert.deepEqual((await callOf(bob.app)).remoteTracks, ['audio:live:true']);

  // The callee (the polite side) adds its camera: a new sender, a new offer from the callee.
  await act(bob.app, 'toggleCamera');
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remoteStream?.getVideoTracks().length === 1, null, { timeout: 15_000 });
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.camera === true);
  assert.ok(await decodedFrames(alice.app) > 5, 'the added video is decoded');
  const media = await alice.app.evaluate(async () => {
    const root = document.querySelector('secms-app-root');
    return root.channelActions.callMediaStats(root.calls.get().call.id);
  });
  assert.ok(media.receive.video.frames > 0, 'the added video goes through the SFrame transform');
  assert.equal(media.receive.video.authFailures, 0);

  // Screen share replaces the camera on the same sender (no renegotiation), back to the camera after.
  await act(bob.app, 'toggleScreenShare');
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.screenSharing === true, null, { timeout: 10_000 });
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.screen === true);
  assert.ok(await decodedFrames(alice.app) > 3, 'the screen is decoded');
  await act(bob.app, 'toggleScreenShare');
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.remote.screen === false);
  await alice.app.waitForTimeout(1500);
  for (const side of [alice, bob]) assert.equal(await side.app.evaluate(() => document.documentElement.dataset.callSecurity), 'encrypted');
  await act(bob.app, 'hangUp');
  await phaseIs(alice.app, 'ended');
});

test('a browser without encoded transforms: no media before both users agree, then "not-encrypted", never "encrypted"', { timeout: 180_000 }, async (t) => {
  // Bob's browser lacks RTCRtpScriptTransform (and createEncodedStreams), as some browsers do.
  const withoutTransforms = () => {
    delete window.RTCRtpScriptTransform;
    if (window.RTCRtpSender) delete window.RTCRtpSender.prototype.createEncodedStreams;
  };
  const [alice, bob] = await securePair(t, suite, { options: [{}, { initScript: withoutTransforms }] });
  assert.deepEqual(await bob.app.evaluate(() => document.querySelector('secms-app-root').calls.get().support.transform), null);
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  assert.equal((await callOf(bob.app)).call.security.e2ee, false);
  const accepting = act(bob.app, 'accept', { video: false });
  await bob.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.needsConsent?.reason === 'no_transform');
  await alice.app.waitForTimeout(1000);
  assert.equal(await alice.app.evaluate(() => document.documentElement.dataset.callPhase), 'ringing', 'nothing accepted before consent');
  await act(bob.app, 'consentUnencrypted', true);
  await accepting;
  await alice.app.waitForFunction(() => document.querySelector('secms-app-root').calls.get().call.needsConsent?.reason === 'peer_no_transform');
  assert.equal(await alice.app.evaluate(() => document.documentElement.dataset.callPhase), 'connecting', 'no media before the caller agreed');
  await act(alice.app, 'consentUnencrypted', true);
  await Promise.all([phaseIs(alice.app, 'active'), phaseIs(bob.app, 'active')]);
  await Promise.all([securityIs(alice.app, 'not-encrypted'), securityIs(bob.app, 'not-encrypted')]);
  for (const side of [alice, bob]) {
    const { call, remoteTracks } = await callOf(side.app);
    assert.equal(call.security.reason, 'e2ee_off');
    assert.equal(call.security.consentUnencrypted, true);
    assert.deepEqual(remoteTracks, ['audio:live:true']);
  }
  await alice.app.waitForTimeout(2000);
  for (const side of [alice, bob]) assert.equal(await side.app.evaluate(() => document.documentElement.dataset.callSecurity), 'not-encrypted');
  await act(bob.app, 'hangUp');
  await phaseIs(alice.app, 'ended');
});
