// The call UI in Chromium, driven by a scripted call store (the contract of
// web/src/state/call-store.js) in the real app window: the VoIP tab, the incoming-call dialog
// (focus in and back), the consent prompt, the call view's controls and live phase line, the
// security indicator (never "encrypted" without the facts), the dial pad by mouse and keyboard,
// and a 390 px wide window. Real calls between two browsers are tested in tests/calls/.
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

  // The same refusal from the online list's call buttons: said under the person's row.
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
