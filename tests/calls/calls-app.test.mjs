// Calls end to end in the application, as users make them: two (then three) users in browser
// contexts of one Chromium with fake camera and microphone, the real secms-server, a secure
// channel between them, and every step done through the call UI (VoIP tab, conversation header,
// online list, incoming-call dialog, call-view controls). The users and channels are made once
// and reused by the tests below, in order:
//   1. video call from the VoIP tab: ring, accept with video, active on both sides; media flows
//      both ways (remote <video> frames presented, receive bitrate > 0) through the SFrame
//      transform (the Worker's encrypted and decrypted frame counts rise on both sides); the
//      indicator says "End-to-end encrypted", path "Direct", with the channel's SAS; mute,
//      camera off, hold/resume (both sides see it), screen share (fake), DTMF; hang-up ends both;
//      both call logs and both conversations get the line;
//   2. decline (call from the conversation header);
//   3. busy: a third user calls while the callee is in a call;
//   4. no answer: 45 s without an answer ends the call on both sides;
//   5. the callee closes its window mid-call: the caller's call ends 'channel-ended'.
// No console error, no CSP or Trusted Types violation in any window.
//
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh \
//     env SECMS_SERVER_BIN=… node --test --test-concurrency=1 tests/calls/calls-app.test.mjs

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { violationsOf } from '../e2e/helpers/browser.mjs';
import { unexpectedProblems } from '../e2e/helpers/app-flows.mjs';
import { launchCallBrowser } from './helpers/browser.mjs';
import {
  startCallServer, certifiedUsers, openChannel, phaseIs, securityIs, mediaFrames, remoteVideoFrames,
  remoteVideoRisesAbove, until, callFromVoip, answer, callLog,
} from './helpers/call-app.mjs';

let app;
let browser;
let alice;
let bob;
let carol;
const cleanups = [];

before(async () => {
  app = await startCallServer();
  browser = await launchCallBrowser();
  [alice, bob, carol] = await certifiedUsers({ after: (fn) => cleanups.push(fn) }, browser, app.origin, ['alice', 'bob', 'carol']);
  await openChannel(alice, bob);
  await openChannel(carol, bob);
});

after(async () => {
  for (const fn of cleanups) await fn();
  await browser?.close();
  await app?.stop();
});

const pressed = (page, id) => page.getByTestId(id).getAttribute('aria-pressed');
const storeCall = (page) => page.evaluate(() => {
  const call = document.querySelector('secms-app-root').calls.get().call;
  if (!call) return null;
  const { localStream, remoteStream, ...rest } = call;
  return JSON.parse(JSON.stringify({ ...rest, localVideo: localStream?.getVideoTracks().map((track) => track.label) ?? [] }));
});
/** Shows the private conversation with `peer` in the Chat tab. */
async function showConversation(page, peer) {
  await page.getByTestId('tab-chat').click();
  await page.locator(`[data-testid=channel-entry][data-peer="${peer}"]`).first().click();
}
const conversationLine = (page, key) => page.locator(`[data-testid=chat-system][data-key="${key}"]`);

// After a failed test a call may still be live: it is ended so the next test starts clean
// (a recovery only; every test below asserts on its own call).
beforeEach(async () => {
  for (const user of [alice, bob, carol]) {
    if (!user || user.app.isClosed()) continue;
    await user.app.evaluate(() => {
      const phase = document.documentElement.dataset.callPhase;
      if (phase && phase !== 'none' && phase !== 'ended') document.querySelector('secms-app-root').callActions.hangUp();
    });
  }
});

async function noProblems(...users) {
  for (const user of users) {
    assert.deepEqual(unexpectedProblems(user.problems), [], `${user.username}: console errors (failed loads: ${user.failedLoads.join(', ') || 'none'})`);
    assert.deepEqual(await violationsOf(user.app), [], `${user.username}: CSP / Trusted Types violations`);
  }
}

test('video call from the VoIP tab: ring, accept, encrypted media both ways, in-call controls, hang-up logged on both sides', { timeout: 120_000 }, async () => {
  await callFromVoip(alice.app, bob.username, { video: true });
  await phaseIs(bob.app, 'incoming');
  await phaseIs(alice.app, 'ringing');
  await bob.app.getByTestId('incoming-call').waitFor();
  assert.match(await bob.app.getByTestId('incoming-call-title').textContent(), new RegExp(alice.username));
  await answer(bob.app, 'video');
  await Promise.all([phaseIs(alice.app, 'active'), phaseIs(bob.app, 'active')]);
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);

  for (const [side, peer] of [[alice, bob], [bob, alice]]) {
    const page = side.app;
    // The indicator, as the user reads it, and the facts behind it.
    const indicator = page.getByTestId('call-security');
    assert.equal(await indicator.getAttribute('data-state'), 'encrypted');
    assert.equal((await page.getByTestId('call-security-label').textContent()).trim(), 'End-to-end encrypted');
    assert.equal((await page.getByTestId('call-path').textContent()).trim(), 'Direct');
    const sas = (await page.getByTestId('call-sas-decimal').textContent()).trim();
    assert.ok(sas.length > 0, 'the channel SAS is shown with the call');
    assert.equal(await page.getByTestId('status-call-security').getAttribute('data-state'), 'encrypted');
    assert.match(await page.getByTestId('call-phase').textContent(), /Connected/);
    void peer;

    // Media both ways: the remote video element presents frames, bytes arrive, and the Worker
    // encrypts and decrypts frames (counts rise between two readings).
    const frames = await remoteVideoFrames(page);
    await remoteVideoRisesAbove(page, frames + 10);
    const first = await mediaFrames(page);
    await until(() => mediaFrames(page), (now) => now.encrypted > first.encrypted + 20 && now.decrypted > first.decrypted + 20,
      'SFrame frames encrypted and decrypted rising');
    await page.getByTestId('call-stats-toggle').click();
    await until(async () => Number.parseFloat(await page.getByTestId('call-stats-receive').textContent({ timeout: 1000 }).catch(() => '')),
      (kbps) => kbps > 0, 'receive bitrate in the quality panel');
    assert.equal((await page.getByTestId('call-stats-path').textContent()).trim(), 'Direct');
    await page.getByTestId('call-stats-toggle').click();
  }
  // Both SAS texts are the channel's, hence equal.
  assert.equal(await alice.app.getByTestId('call-sas-decimal').textContent(), await bob.app.getByTestId('call-sas-decimal').textContent());

  // Mute: the button is pressed, the peer sees it; unmute.
  await alice.app.getByTestId('call-mute').click();
  assert.equal(await pressed(alice.app, 'call-mute'), 'true');
  await bob.app.getByTestId('call-remote-muted').waitFor();
  await alice.app.getByTestId('call-mute').click();
  await bob.app.getByTestId('call-remote-muted').waitFor({ state: 'detached' });

  // Camera off: the peer sees "camera off" and no longer shows the video; back on, frames again.
  await bob.app.getByTestId('call-camera').click();
  assert.equal(await pressed(bob.app, 'call-camera'), 'false');
  await alice.app.getByTestId('call-remote-camera-off').waitFor();
  await bob.app.getByTestId('call-camera').click();
  await alice.app.getByTestId('call-remote-camera-off').waitFor({ state: 'detached' });
  await remoteVideoRisesAbove(alice.app, await remoteVideoFrames(alice.app) + 5);

  // Hold: both sides say so; frames keep flowing encrypted (the indicator stays); resume.
  await alice.app.getByTestId('call-hold').click();
  await alice.app.getByTestId('call-phase').filter({ hasText: 'On hold' }).waitFor();
  await bob.app.getByTestId('call-phase').filter({ hasText: `${alice.username} put the call on hold` }).waitFor();
  await bob.app.waitForTimeout(2500);
  assert.equal(await bob.app.evaluate(() => document.documentElement.dataset.callSecurity), 'encrypted');
  await alice.app.getByTestId('call-hold').click();
  await Promise.all([alice.app, bob.app].map((page) => page.getByTestId('call-phase').filter({ hasText: 'Connected' }).waitFor()));
  assert.equal((await storeCall(bob.app)).held.remote, false);

  // Screen share (Chromium's fake screen): the peer is told, the video sender carries it; back.
  await alice.app.getByTestId('call-screen').click();
  await until(() => storeCall(alice.app), (call) => call.screenSharing === true, 'screen sharing on');
  await bob.app.getByTestId('call-remote-screen').waitFor();
  await remoteVideoRisesAbove(bob.app, await remoteVideoFrames(bob.app) + 5);
  await alice.app.getByTestId('call-screen').click();
  await bob.app.getByTestId('call-remote-screen').waitFor({ state: 'detached' });
  assert.equal((await storeCall(alice.app)).screenSharing, false);

  // DTMF from the keypad.
  await alice.app.getByTestId('call-keypad').click();
  for (const key of ['1', '2', 'hash']) await alice.app.getByTestId(`dtmf-${key}`).click();
  await until(() => storeCall(alice.app), (call) => call.dtmfSent === '12#', 'DTMF tones sent');
  assert.equal((await alice.app.getByTestId('dtmf-sent').textContent()).trim(), '12#');
  assert.equal(await alice.app.evaluate(() => document.documentElement.dataset.callSecurity), 'encrypted');

  // Hang-up ends both; call logs and conversation lines on both sides.
  await bob.app.getByTestId('call-hangup').click();
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  assert.deepEqual((await callLog(alice.app))[0], { outcome: 'answered', peer: bob.username, direction: 'outgoing', media: 'video' });
  assert.deepEqual((await callLog(bob.app))[0], { outcome: 'answered', peer: alice.username, direction: 'incoming', media: 'video' });
  for (const [side, peer] of [[alice, bob], [bob, alice]]) {
    await showConversation(side.app, peer.username);
    await conversationLine(side.app, 'call.log.answered').first().waitFor();
  }
  await noProblems(alice, bob);
});

test('decline from the incoming-call dialog, the call placed from the conversation header', { timeout: 60_000 }, async () => {
  await showConversation(alice.app, bob.username);
  await alice.app.getByTestId('channel-call-audio').click();
  await phaseIs(bob.app, 'incoming');
  await answer(bob.app, 'decline');
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  await alice.app.getByTestId('tab-voip').click();
  await bob.app.getByTestId('tab-voip').click();
  assert.deepEqual((await callLog(alice.app))[0], { outcome: 'declined', peer: bob.username, direction: 'outgoing', media: 'audio' });
  assert.equal((await callLog(bob.app))[0].outcome, 'declined');
  await showConversation(alice.app, bob.username);
  await conversationLine(alice.app, 'call.log.declined').first().waitFor();
  await noProblems(alice, bob);
});

test('busy: a third user calling someone already in a call hears busy; the call in progress goes on', { timeout: 60_000 }, async () => {
  // Alice calls Bob from the online list; Bob accepts audio only.
  await alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"] [data-testid=user-call-audio]`).click();
  await phaseIs(bob.app, 'incoming');
  await answer(bob.app, 'audio');
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  await callFromVoip(carol.app, bob.username, { video: false });
  await phaseIs(carol.app, 'ended');
  assert.deepEqual((await callLog(carol.app))[0], { outcome: 'busy', peer: bob.username, direction: 'outgoing', media: 'audio' });
  await bob.app.getByTestId('tab-voip').click();
  assert.deepEqual((await callLog(bob.app))[0], { outcome: 'missed', peer: carol.username, direction: 'incoming', media: 'audio' });
  assert.equal(await bob.app.evaluate(() => document.documentElement.dataset.callPhase), 'active');
  const before = await mediaFrames(bob.app);
  await until(() => mediaFrames(bob.app), (now) => now.decrypted > before.decrypted + 20, 'audio still decrypted after the busy call');
  await alice.app.getByTestId('call-hangup').click();
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  await noProblems(alice, bob, carol);
});

test('no answer: after about 45 s the call ends on both sides, logged no-answer and missed', { timeout: 90_000 }, async () => {
  const started = Date.now();
  await callFromVoip(carol.app, bob.username, { video: true });
  await phaseIs(bob.app, 'incoming');
  await phaseIs(carol.app, 'ended', 60_000);
  const waited = Date.now() - started;
  assert.ok(waited > 40_000 && waited < 55_000, `no-answer after ${waited} ms`);
  await phaseIs(bob.app, 'ended', 5_000);
  assert.deepEqual((await callLog(carol.app))[0], { outcome: 'no-answer', peer: bob.username, direction: 'outgoing', media: 'video' });
  assert.deepEqual((await callLog(bob.app))[0], { outcome: 'missed', peer: carol.username, direction: 'incoming', media: 'video' });
  await showConversation(carol.app, bob.username);
  await conversationLine(carol.app, 'call.log.no-answer').first().waitFor();
  await noProblems(bob, carol);
});

test('the callee closes its window mid-call: the caller\'s call ends with the channel', { timeout: 60_000 }, async () => {
  await callFromVoip(alice.app, bob.username, { video: false });
  await phaseIs(bob.app, 'incoming');
  await answer(bob.app, 'audio');
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);
  await noProblems(bob);
  await bob.app.close();
  await phaseIs(alice.app, 'ended', 30_000);
  assert.deepEqual((await callLog(alice.app))[0], { outcome: 'channel-ended', peer: bob.username, direction: 'outgoing', media: 'audio' });
  await noProblems(alice);
});
