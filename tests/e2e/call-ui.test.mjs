// The call UI in Chromium, driven by a scripted call store (the contract of
// web/src/state/call-store.js) in the real app window: the VoIP tab, the incoming-call dialog
// (focus in and back), the consent prompt, the call view's controls and live phase line, the
// security indicator (never "encrypted" without the facts), the dial pad by mouse and keyboard,
// a 390 px wide window, the focus after a call ends, and the self view, full screen and speaker
// choice with real MediaStreams. Real calls between two browsers are tested in tests/calls/.
//
//   npm run build && node --test tests/e2e/call-ui.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, serverBinaryAvailable, serverBinary } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, violationsOf } from './helpers/browser.mjs';
import { registeredUser, unexpectedProblems } from './helpers/app-flows.mjs';

let server;
let browser;

before(async () => {
  assert.ok(await serverBinaryAvailable(), `secms-server not built (${serverBinary})`);
  server = await startServer({ extraArgs: [...loopbackRateLimits] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Installs a scripted call store and recording call actions on the app root, plus presence and
 * identity stores for the VoIP tab's list (a verified peer "bobpeer"). window.__calls.set(changes)
 * merges into the snapshot; window.__calls.actions lists [name, argument] in call order.
 */
async function installCallStore(app) {
  await app.evaluate(() => {
    const makeStore = (value) => {
      const listeners = new Set();
      return {
        get: () => value,
        set(next) { value = next; for (const listener of [...listeners]) listener(value); },
        subscribe(listener) { listeners.add(listener); return () => listeners.delete(listener); },
      };
    };
    const calls = makeStore({
      support: { webrtc: true, transform: 'script', missing: [] },
      call: null,
      log: [
        { id: 2, peer: 'bobpeer', direction: 'incoming', media: 'video', outcome: 'missed', at: Date.now() - 60_000, durationMs: 0 },
        { id: 1, peer: 'bobpeer', direction: 'outgoing', media: 'audio', outcome: 'answered', at: Date.now() - 3_600_000, durationMs: 125_000 },
      ],
      devices: {
        audioinput: [{ deviceId: 'mic1', label: 'Fake microphone' }], videoinput: [{ deviceId: 'cam1', label: 'Fake camera' }], audiooutput: [],
        selected: { audioinput: 'mic1', videoinput: 'cam1', audiooutput: null },
      },
      hideIp: false,
    });
    const actions = [];
    const record = (name) => (argument) => {
      actions.push([name, argument ?? null]);
      return name === 'call' ? window.__calls.callResult : undefined;
    };
    const root = document.querySelector('secms-app-root');
    root.callActions = Object.fromEntries(['call', 'accept', 'decline', 'hangUp', 'toggleMute', 'toggleCamera', 'toggleHold', 'toggleScreenShare',
      'sendDtmf', 'selectDevice', 'refreshDevices', 'setStatsVisible', 'consentUnencrypted', 'setHideIp', 'dismiss'].map((name) => [name, record(name)]));
    root.calls = calls;
    window.__calls = { set: (changes) => calls.set({ ...calls.get(), ...changes }), get: calls.get, actions, callResult: undefined };
  });
  await app.getByTestId('tab-voip').click();
  await scriptPeople(app);
}

/**
 * The VoIP tab's people list reads presence and identity; a verified peer is scripted in. The
 * tabs element sets these properties again whenever it renders, so call this before using the list.
 */
async function scriptPeople(app) {
  await app.evaluate(() => {
    const tabs = document.querySelector('secms-app-root').shadowRoot.querySelector('secms-service-tabs');
    const panel = tabs.shadowRoot.querySelector('secms-voip-panel');
    const fixed = (value) => ({ get: () => value, subscribe: () => () => {} });
    panel.presence = fixed({ known: true, self: null, users: [{ userid: 2, username: 'bobpeer', fingerprint: 'A'.repeat(40), isSelf: false }] });
    panel.identity = fixed({ certificate: { state: 'accepted' } });
  });
}

const setCall = (app, call) => app.evaluate((next) => window.__calls.set({ call: next }), call);
const actionsOf = (app) => app.evaluate(() => window.__calls.actions.splice(0));

/** The data-testid of the focused element, looking through shadow roots. */
const focusedTestId = (app) => app.evaluate(() => {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active?.getAttribute('data-testid') ?? active?.tagName ?? null;
});

/** Waits until the element with data-testid `id` has the focus. */
const focusMovesTo = (app, id) => app.waitForFunction((wanted) => {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active?.getAttribute('data-testid') === wanted;
}, id, { timeout: 5000 });

const baseCall = {
  id: 'a'.repeat(32), peer: { username: 'bobpeer' }, session: 's1', direction: 'incoming', media: 'video', phase: 'incoming',
  held: { local: false, remote: false }, startedAt: 0, connectedAt: null, muted: false, cameraOn: true, screenSharing: false,
  remote: { camera: true, muted: false, screen: false }, localStream: null, remoteStream: null, level: 0.4, stats: null,
  security: { state: 'checking', e2ee: true, transform: { sendActive: false, receiveActive: false }, fingerprintsMatch: null, path: null,
    sas: { emojiText: '🐶 🍎 🚗 🌙', decimalText: '1234 5678' }, consentUnencrypted: false, reason: null },
  needsConsent: null, dtmfSent: '', endReason: null,
};

test('the call UI: VoIP tab, incoming dialog, call view controls, security indicator, keypad, consent, narrow window', async (t) => {
  const { app, problems } = await registeredUser(t, browser, server.origin, 'callui');
  await installCallStore(app);

  // VoIP tab: whom to call, the log, the settings.
  await app.getByTestId('call-audio-bobpeer').click();
  await app.getByTestId('call-video-bobpeer').click();
  assert.deepEqual(await actionsOf(app), [['call', { username: 'bobpeer', video: false }], ['call', { username: 'bobpeer', video: true }]]);
  assert.equal(await app.getByTestId('call-log-entry').count(), 2);
  assert.equal(await app.getByTestId('call-log-entry').first().getAttribute('data-outcome'), 'missed');
  assert.equal((await app.getByTestId('call-log-duration').textContent()).trim(), '2:05');
  await app.getByTestId('call-back').first().click();
  await app.getByTestId('hide-ip').check();
  await app.locator('#voip-device-audioinput').selectOption('mic1');
  const settings = await actionsOf(app);
  assert.deepEqual(settings[0], ['call', { username: 'bobpeer', video: true }]);
  assert.deepEqual(settings[1], ['setHideIp', true]);
  assert.deepEqual(settings[2], ['selectDevice', { kind: 'audioinput', deviceId: 'mic1' }]);
  assert.ok(await app.getByLabel(/Hide my IP address/).isVisible());
  // Calls ring by default, a setting of its own beside the chat sounds (kept in this browser).
  const ringtone = app.getByTestId('ringtone');
  assert.ok(await ringtone.isChecked(), 'calls ring by default');
  assert.ok(await app.getByLabel('Ring for incoming calls').isVisible());
  await ringtone.uncheck();
  assert.equal(await app.evaluate(() => localStorage.getItem('secms.ringtone')), 'off');
  await ringtone.check();
  assert.equal(await app.evaluate(() => localStorage.getItem('secms.ringtone')), 'on');

  // Incoming call: an alert dialog over the app, focus on its heading (a keystroke meant for the
  // page answers nothing), the accept buttons inert for a moment, Escape does not dismiss it.
  await app.getByTestId('tab-voip').focus();
  await setCall(app, baseCall);
  const dialog = app.getByRole('alertdialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /bobpeer is video calling you/);
  assert.equal(await focusedTestId(app), 'incoming-call-title');
  assert.equal(await app.getByTestId('incoming-call-title').getAttribute('tabindex'), '-1');
  assert.ok(await app.getByTestId('call-accept').isDisabled(), 'Accept is inert just after the dialog appears');
  await app.getByTestId('call-accept-video').click({ force: true, timeout: 2000 });
  await app.keyboard.press('Enter');
  await app.keyboard.press('Space');
  await app.keyboard.press('Escape');
  assert.ok(await dialog.isVisible(), 'Escape leaves the choice open');
  assert.deepEqual(await actionsOf(app), [], 'nothing answered the call before an explicit choice');
  await app.getByTestId('call-accept-video').click();   // waits until the buttons are enabled
  assert.deepEqual(await actionsOf(app), [['accept', { video: true }]]);

  // Answered: the dialog closes, focus returns, the call view shows the phase politely.
  await setCall(app, { ...baseCall, phase: 'connecting' });
  await dialog.waitFor({ state: 'hidden' });
  await focusMovesTo(app, 'tab-voip');
  const phase = app.getByTestId('call-phase');
  assert.equal(await phase.getAttribute('role'), 'status');
  assert.equal((await phase.textContent()).trim(), 'Connecting…');
  assert.equal(await app.getByTestId('call-security').getAttribute('data-state'), 'checking');
  assert.equal(await app.getByTestId('status-call-security').getAttribute('data-state'), 'checking');

  // Active, and the store claims 'encrypted' while the receive transform is not running: not secure.
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now() - 65_000,
    security: { ...baseCall.security, state: 'encrypted', transform: { sendActive: true, receiveActive: false }, fingerprintsMatch: true, path: 'relay' } });
  assert.equal(await app.getByTestId('call-security').getAttribute('data-state'), 'not-encrypted');
  assert.match(await app.getByTestId('call-security').textContent(), /Not end-to-end encrypted/);
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now() - 65_000,
    security: { ...baseCall.security, state: 'encrypted', transform: { sendActive: true, receiveActive: true }, fingerprintsMatch: true, path: 'relay' } });
  const security = app.getByTestId('call-security');
  assert.equal(await security.getAttribute('data-state'), 'encrypted');
  assert.match(await security.textContent(), /End-to-end encrypted/);
  assert.match(await security.textContent(), /Via TURN relay/);
  assert.equal((await app.getByTestId('call-sas-decimal').textContent()).trim(), '1234 5678');
  assert.equal(await app.getByTestId('status-call-security').getAttribute('data-state'), 'encrypted');
  assert.equal((await phase.textContent()).trim(), 'Connected');
  assert.match((await app.getByTestId('call-timer').textContent()).trim(), /^1:0[5-9]$/);

  // Controls: real buttons with aria-pressed from the store; each calls its action.
  assert.equal(await app.getByTestId('call-mute').getAttribute('aria-pressed'), 'false');
  for (const id of ['call-mute', 'call-camera', 'call-screen', 'call-hold', 'call-hangup']) await app.getByTestId(id).click();
  assert.deepEqual((await actionsOf(app)).map(([name]) => name), ['toggleMute', 'toggleCamera', 'toggleScreenShare', 'toggleHold', 'hangUp']);
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now(), muted: true, cameraOn: false, held: { local: false, remote: true },
    security: { ...baseCall.security, state: 'encrypted', transform: { sendActive: true, receiveActive: true }, fingerprintsMatch: true } });
  assert.equal(await app.getByTestId('call-mute').getAttribute('aria-pressed'), 'true');
  assert.equal(await app.getByTestId('call-camera').getAttribute('aria-pressed'), 'false');
  assert.equal((await phase.textContent()).trim(), 'bobpeer put the call on hold');
  assert.equal(await app.getByTestId('call-level').evaluate((meter) => meter.value), 0.4);
  assert.equal(await app.getByRole('meter', { name: 'Microphone level' }).count(), 1);

  // Stats on demand, keypad by mouse and keyboard.
  await app.getByTestId('call-stats-toggle').click();
  assert.equal(await app.getByTestId('call-stats-toggle').getAttribute('aria-pressed'), 'true');
  await app.getByTestId('call-keypad').click();
  assert.equal(await app.getByTestId('call-keypad').getAttribute('aria-expanded'), 'true');
  assert.equal(await focusedTestId(app), 'dtmf-1');
  await app.keyboard.press('5');
  await app.keyboard.press('#');
  await app.getByTestId('dtmf-0').click();
  assert.deepEqual(await actionsOf(app), [['setStatsVisible', true], ['setStatsVisible', false], ['sendDtmf', '5'], ['sendDtmf', '#'], ['sendDtmf', '0']]);

  // Consent prompt: the safe choice has focus; continuing is explicit.
  await setCall(app, { ...baseCall, phase: 'connecting', direction: 'outgoing', needsConsent: { reason: 'peer_no_transform' },
    security: { ...baseCall.security, state: 'not-encrypted', reason: 'peer_no_transform' } });
  const consent = app.getByTestId('call-consent');
  await consent.waitFor();
  assert.equal(await consent.getAttribute('role'), 'alertdialog');
  assert.match(await consent.textContent(), /would not be end-to-end encrypted/);
  assert.match(await consent.textContent(), /the other browser cannot encrypt media end to end/);
  assert.equal(await focusedTestId(app), 'call-consent-end');
  await app.getByTestId('call-consent-continue').click();
  assert.deepEqual(await actionsOf(app), [['consentUnencrypted', true]]);
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now(), direction: 'outgoing',
    security: { ...baseCall.security, state: 'not-encrypted', e2ee: false, consentUnencrypted: true, reason: 'e2ee_off' } });
  await consent.waitFor({ state: 'hidden' });
  assert.equal(await app.getByTestId('call-security').getAttribute('data-state'), 'not-encrypted');
  assert.equal(await app.getByTestId('call-security-reason').getAttribute('data-reason'), 'e2ee_off');

  // Answered while typing in the Chat tab: the VoIP tab comes forward and focus lands on the
  // call's first control, not on the hidden element it came from.
  await setCall(app, null);
  await app.getByTestId('tab-chat').click();
  await app.getByTestId('identity-mode-create').focus();
  await setCall(app, { ...baseCall, id: 'b'.repeat(32) });
  await focusMovesTo(app, 'incoming-call-title');
  await setCall(app, { ...baseCall, id: 'b'.repeat(32), phase: 'connecting' });
  await app.locator('[data-testid=tab-voip][aria-selected=true]').waitFor();
  await focusMovesTo(app, 'call-mute');
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now(), direction: 'outgoing',
    security: { ...baseCall.security, state: 'not-encrypted', e2ee: false, consentUnencrypted: true, reason: 'e2ee_off' } });

  // From another tab, the status bar's call indicator brings the call back.
  await app.getByTestId('tab-chat').click();
  await app.getByTestId('status-call').click();
  await app.locator('[data-testid=tab-voip][aria-selected=true]').waitFor();
  await focusMovesTo(app, 'tab-voip');

  // 390 px wide: the call view fits, every control is on screen (they wrap).
  await app.setViewportSize({ width: 390, height: 844 });
  const overflow = await app.getByTestId('call-view').evaluate((element) => element.scrollWidth - element.clientWidth);
  assert.ok(overflow <= 0, `the call view overflows by ${overflow}px`);
  for (const id of ['call-mute', 'call-camera', 'call-screen', 'call-hold', 'call-keypad', 'call-devices', 'call-stats-toggle', 'call-hangup']) {
    const box = await app.getByTestId(id).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${id} is inside the window: ${JSON.stringify(box)}`);
  }
  await setCall(app, { ...baseCall, phase: 'connecting', needsConsent: { reason: 'no_transform' } });
  await consent.waitFor();
  const dialogBox = await consent.boundingBox();
  assert.ok(dialogBox.x >= 0 && dialogBox.x + dialogBox.width <= 390, `the consent dialog fits: ${JSON.stringify(dialogBox)}`);
  await setCall(app, { ...baseCall, phase: 'active', connectedAt: Date.now() });
  await consent.waitFor({ state: 'hidden' });

  // Ended: the reason in words, and a way to close the view.
  await setCall(app, { ...baseCall, phase: 'ended', endReason: 'peer_normal' });
  assert.equal((await phase.textContent()).trim(), 'Call ended: the other person hung up');
  assert.ok(await app.getByTestId('call-hangup').isDisabled());
  await app.getByTestId('call-dismiss').click();
  assert.deepEqual(await actionsOf(app), [['dismiss', null]]);
  await setCall(app, null);
  await app.getByTestId('call-view').waitFor({ state: 'detached' });

  // A call the store refuses to place says why.
  await app.evaluate(() => { window.__calls.callResult = { error: { code: 'busy' } }; });
  await scriptPeople(app);
  await app.getByTestId('call-audio-bobpeer').click();
  const refusal = app.getByTestId('call-error');
  await refusal.waitFor();
  assert.equal(await refusal.getAttribute('data-code'), 'busy');
  assert.equal((await refusal.textContent()).trim(), 'A call is already in progress.');
  await actionsOf(app);

  // The same refusal from the online list's call buttons: said under the person's row. A wide
  // window again: on a phone the online list is in the Chat tab's lists, not beside the VoIP tab.
  await app.setViewportSize({ width: 1100, height: 760 });
  await app.evaluate(() => {
    const list = document.querySelector('secms-app-root').shadowRoot.querySelector('secms-online-users');
    const fixed = (value) => ({ get: () => value, subscribe: () => () => {} });
    list.presence = fixed({ known: true, self: null, users: [{ userid: 2, username: 'bobpeer', fingerprint: 'A'.repeat(40), isSelf: false }] });
    list.identity = fixed({ certificate: { state: 'accepted' } });
  });
  await app.getByTestId('user-call-video').click();
  const listRefusal = app.getByTestId('user-call-error');
  await listRefusal.waitFor();
  assert.equal(await listRefusal.getAttribute('data-code'), 'busy');
  assert.equal(await listRefusal.getAttribute('role'), 'alert');
  assert.equal((await listRefusal.textContent()).trim(), 'A call is already in progress.');
  assert.deepEqual(await actionsOf(app), [['call', { username: 'bobpeer', video: true }]]);

  // And from a conversation's header: the conversation's notice says it (the request goes up to
  // the app root as an event, the answer comes back in it). A placed call shows nothing.
  await app.evaluate(() => {
    const view = document.createElement('secms-channel-view');
    view.channel = { session: 'conv1', peer: { userid: 2, username: 'bobpeer' }, phase: 'secure', messages: [], sas: null };
    view.actions = { submitChatLine() {}, endChannel() {}, deleteMessage() {} };
    view.dataset.testid = 'scripted-conversation';
    document.querySelector('secms-app-root').shadowRoot.append(view);
  });
  const conversation = app.getByTestId('scripted-conversation');
  await app.evaluate(() => { window.__calls.callResult = { error: { code: 'unsupported' } }; });
  await conversation.getByTestId('channel-call-audio').click();
  const headerRefusal = conversation.getByTestId('channel-call-error');
  await headerRefusal.waitFor();
  assert.equal(await headerRefusal.getAttribute('data-code'), 'unsupported');
  assert.equal((await headerRefusal.textContent()).trim(), 'This browser cannot make calls.');
  await app.evaluate(() => { window.__calls.callResult = { ok: true }; });
  await conversation.getByTestId('channel-call-video').click();
  await headerRefusal.waitFor({ state: 'detached' });
  assert.deepEqual(await actionsOf(app), [['call', { username: 'bobpeer', video: false }], ['call', { username: 'bobpeer', video: true }]]);
  await conversation.evaluate((view) => view.remove());

  // No store, no WebRTC facts: the tab says what is missing.
  await app.evaluate(() => window.__calls.set({ support: { webrtc: false, transform: null, missing: ['RTCPeerConnection'] }, call: null }));
  await app.getByTestId('voip-unavailable').waitFor();
  await app.getByTestId('voip-unavailable').getByText(/Missing here: RTCPeerConnection/).waitFor();
  await app.evaluate(() => window.__calls.set({ support: { webrtc: true, transform: null, missing: ['RTCRtpScriptTransform'] } }));
  assert.match(await app.getByTestId('voip-no-transform').textContent(), /RTCRtpScriptTransform/);

  assert.deepEqual(await violationsOf(app), []);
  assert.deepEqual(unexpectedProblems(problems), []);
});

test('after Hang up by keyboard the focus moves to Close (WCAG 2.4.3); focus outside the call view stays where it is', async (t) => {
  const { app, problems } = await registeredUser(t, browser, server.origin, 'callfocus');
  await installCallStore(app);
  const active = { ...baseCall, direction: 'outgoing', phase: 'active', connectedAt: Date.now(),
    security: { ...baseCall.security, state: 'encrypted', transform: { sendActive: true, receiveActive: true }, fingerprintsMatch: true, path: 'direct' } };
  await setCall(app, active);
  await app.getByTestId('call-hangup').focus();
  assert.equal(await focusedTestId(app), 'call-hangup');
  await app.keyboard.press('Enter');
  assert.deepEqual(await actionsOf(app), [['hangUp', null]]);
  // What the store does on hangUp(): the call ends, Hang up becomes disabled.
  await setCall(app, { ...active, phase: 'ended', endReason: 'normal' });
  await app.getByTestId('call-dismiss').waitFor();
  assert.ok(await app.getByTestId('call-hangup').isDisabled());
  await focusMovesTo(app, 'call-dismiss');
  await app.keyboard.press('Enter');
  assert.deepEqual(await actionsOf(app), [['dismiss', null]]);

  // Focus on a keypad key when the peer hangs up: inside the view, so it moves to Close too.
  await setCall(app, { ...active, id: 'c'.repeat(32) });
  await app.getByTestId('call-keypad').click();
  assert.equal(await focusedTestId(app), 'dtmf-1');
  await setCall(app, { ...active, id: 'c'.repeat(32), phase: 'ended', endReason: 'peer_normal' });
  await focusMovesTo(app, 'call-dismiss');

  // Focus outside the call view (the tab list) when a call ends: not taken away.
  await setCall(app, { ...active, id: 'd'.repeat(32) });
  await app.getByTestId('tab-voip').focus();
  await setCall(app, { ...active, id: 'd'.repeat(32), phase: 'ended', endReason: 'peer_normal' });
  await app.getByTestId('call-dismiss').waitFor();
  await app.waitForTimeout(200);
  assert.equal(await focusedTestId(app), 'tab-voip');
  await actionsOf(app);
  assert.deepEqual(unexpectedProblems(problems), []);
});

test('the self view plays the local stream, full screen enters and leaves, the chosen speaker becomes the remote audio sink', async (t) => {
  const { app, problems } = await registeredUser(t, browser, server.origin, 'callmedia');
  await installCallStore(app);
  // Real MediaStreams (a canvas capture: no device permission needed) in the scripted snapshot.
  await app.evaluate((base) => {
    const streamOf = (color) => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 48;
      const context = canvas.getContext('2d');
      context.fillStyle = color;
      context.fillRect(0, 0, 64, 48);
      return canvas.captureStream(5);
    };
    // An element of the call view, by data-testid, for waits that run in the page.
    window.__callPart = (id) => document.querySelector('secms-app-root')?.shadowRoot.querySelector('secms-service-tabs')?.shadowRoot
      .querySelector('secms-voip-panel')?.shadowRoot.querySelector('secms-call-view')?.shadowRoot.querySelector(`[data-testid="${id}"]`) ?? null;
    window.__localStream = streamOf('#0a0');
    window.__remoteStream = streamOf('#00a');
    window.__calls.set({
      call: { ...base, direction: 'outgoing', phase: 'active', connectedAt: Date.now(), localStream: window.__localStream, remoteStream: window.__remoteStream },
      devices: { ...window.__calls.get().devices, audiooutput: [{ deviceId: 'spk2', label: 'Second speaker' }, { deviceId: 'default', label: 'Default speaker' }] },
    });
  }, baseCall);

  // Self view: the local stream, muted (never the user's own voice back), shown while the camera is on.
  const self = app.getByTestId('call-self-video');
  await app.waitForFunction(() => window.__callPart('call-self-video')?.srcObject === window.__localStream, null, { timeout: 5000 });
  assert.ok(await self.isVisible(), 'the self view is shown while the camera is on');
  assert.equal(await self.evaluate((video) => video.muted), true, 'the self view is muted');
  assert.equal(await self.evaluate((video) => video.srcObject === window.__localStream), true);
  assert.equal(await app.getByTestId('call-remote-video').evaluate((video) => video.srcObject === window.__remoteStream), true);
  assert.equal(await app.getByTestId('call-remote-audio').evaluate((audio) => audio.srcObject === window.__remoteStream && !audio.muted), true,
    'the remote audio element plays the remote stream');
  await app.waitForFunction(() => {
    const video = window.__callPart('call-self-video');
    return video && !video.paused && video.videoWidth === 64;
  }, null, { timeout: 5000 });
  await app.evaluate(() => window.__calls.set({ call: { ...window.__calls.get().call, cameraOn: false } }));
  await self.waitFor({ state: 'hidden' });

  // Full screen: the call's stage fills the screen, and the same button leaves it.
  const stageIsFullscreen = () => app.getByTestId('call-stage').evaluate((stage) => stage.getRootNode().fullscreenElement === stage && document.fullscreenElement !== null);
  const fullscreen = app.getByTestId('call-fullscreen');
  assert.equal(await fullscreen.getAttribute('aria-pressed'), 'false');
  assert.equal(await stageIsFullscreen(), false);
  await fullscreen.click();
  await app.waitForFunction(() => document.fullscreenElement !== null, null, { timeout: 5000 });
  assert.equal(await stageIsFullscreen(), true, 'the call stage is the full-screen element');
  await app.locator('[data-testid="call-fullscreen"][aria-pressed="true"]').waitFor();
  assert.equal(await fullscreen.getAttribute('aria-label'), 'Leave full screen');
  await fullscreen.click();
  await app.waitForFunction(() => document.fullscreenElement === null, null, { timeout: 5000 });
  await app.locator('[data-testid="call-fullscreen"][aria-pressed="false"]').waitFor();

  // Speaker: the choice goes to the store, and the store's selection becomes the sink of the
  // remote audio element. ("default" is the one output id headless Chromium accepts, and only
  // while the element plays nothing: with a stream attached and no sound card it aborts the
  // switch, so the media stream is taken off first; the calls are recorded, not replaced.)
  await app.evaluate(() => {
    window.__sinkCalls = [];
    const original = HTMLMediaElement.prototype.setSinkId;
    HTMLMediaElement.prototype.setSinkId = function recordSinkId(id) {
      window.__sinkCalls.push([this.dataset.testid ?? this.tagName, id]);
      return original.call(this, id);
    };
    window.__calls.set({ call: { ...window.__calls.get().call, remoteStream: null } });
  });
  await app.waitForFunction(() => window.__callPart('call-remote-audio')?.srcObject === null, null, { timeout: 5000 });
  assert.equal(await app.getByTestId('call-remote-audio').evaluate((audio) => audio.sinkId), '');
  await app.getByTestId('call-devices').click();
  const speaker = app.getByTestId('call-device-audiooutput');
  assert.ok(await speaker.isEnabled(), 'the speaker list is usable when outputs are known');
  await speaker.selectOption('default');
  assert.deepEqual(await actionsOf(app), [['selectDevice', { kind: 'audiooutput', deviceId: 'default' }]]);
  assert.equal(await app.getByTestId('call-remote-audio').evaluate((audio) => audio.sinkId), '', 'the sink follows the store, not the list');
  await app.evaluate(() => {
    const { devices } = window.__calls.get();
    window.__calls.set({ devices: { ...devices, selected: { ...devices.selected, audiooutput: 'default' } } });
  });
  await app.waitForFunction(() => window.__callPart('call-remote-audio')?.sinkId === 'default', null, { timeout: 5000 });
  assert.deepEqual(await app.evaluate(() => window.__sinkCalls), [['call-remote-audio', 'default']]);
  await app.evaluate(() => {
    for (const stream of [window.__localStream, window.__remoteStream]) for (const track of stream.getTracks()) track.stop();
  });
  assert.deepEqual(await violationsOf(app), []);
  assert.deepEqual(unexpectedProblems(problems), []);
});
