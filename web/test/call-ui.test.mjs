// The call UI's decisions that must hold whatever the call store says: the security indicator
// never claims "end-to-end encrypted" without the facts behind it, the phase and duration texts,
// which dialog shows, and the call alerts (ringtone, ringback, notification without content,
// title blink) started and stopped by the call's phase. The rendering itself is exercised in
// Chromium by tests/e2e/call-ui.test.mjs.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { callSecurityState } from '../src/ui/call-security.js';
import { formatCallDuration, callPhaseText } from '../src/ui/call-view.js';
import { callPromptOf } from '../src/ui/incoming-call.js';
import { callSupportOf, callLogOutcomeText, callLogCount } from '../src/ui/voip-panel.js';
import { systemLineText } from '../src/ui/chat-log.js';
import { dtmfKeys } from '../src/ui/dial-pad.js';
import { createCallAlerts, toneFor } from '../src/app/call-alerts.js';
import { createPreferences } from '../src/state/preferences.js';
import { createStore } from '../src/state/store.js';
import { setLanguage } from '../src/i18n/index.js';

const proven = Object.freeze({
  state: 'encrypted', e2ee: true, transform: { sendActive: true, receiveActive: true }, fingerprintsMatch: true, path: 'direct', reason: null,
});

test('the indicator says encrypted only when the store says so and every fact agrees', () => {
  assert.equal(callSecurityState(proven), 'encrypted');
  assert.equal(callSecurityState({ ...proven, state: 'checking' }), 'checking');
  // A store that says 'encrypted' while a fact disagrees is shown as not secure.
  assert.equal(callSecurityState({ ...proven, e2ee: false }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, fingerprintsMatch: null }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, fingerprintsMatch: false }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, transform: { sendActive: true, receiveActive: false } }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, transform: { sendActive: false, receiveActive: true } }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, transform: null }), 'not-encrypted');
  assert.equal(callSecurityState({ ...proven, state: 'encrypted-ish' }), 'not-encrypted');
  assert.equal(callSecurityState(null), 'not-encrypted');
  assert.equal(callSecurityState(undefined), 'not-encrypted');
});

test('call durations read m:ss, then h:mm:ss', () => {
  assert.equal(formatCallDuration(0), '0:00');
  assert.equal(formatCallDuration(59_999), '0:59');
  assert.equal(formatCallDuration(61_000), '1:01');
  assert.equal(formatCallDuration(3_600_000 + 5 * 60_000 + 7_000), '1:05:07');
  assert.equal(formatCallDuration(-5), '0:00');
  assert.equal(formatCallDuration(undefined), '0:00');
});

test('the phase line names each phase, hold on either side, and the end', () => {
  setLanguage('en');
  const call = { peer: { username: 'bob' }, phase: 'calling', held: { local: false, remote: false } };
  assert.equal(callPhaseText(call), 'Calling…');
  assert.equal(callPhaseText({ ...call, phase: 'ringing' }), 'Ringing…');
  assert.equal(callPhaseText({ ...call, phase: 'connecting' }), 'Connecting…');
  assert.equal(callPhaseText({ ...call, phase: 'active', held: { local: true, remote: false } }), 'On hold');
  assert.equal(callPhaseText({ ...call, phase: 'active', held: { local: false, remote: true } }), 'bob put the call on hold');
  assert.equal(callPhaseText({ ...call, phase: 'ended', endReason: 'busy' }), 'Call ended: busy');
  setLanguage('fr');
  try {
    assert.equal(callPhaseText({ ...call, phase: 'ringing' }), 'Ça sonne…');
  } finally {
    setLanguage('en');
  }
});

test('the dialog shows for an incoming call, and the consent prompt before anything else', () => {
  assert.equal(callPromptOf(null), null);
  assert.equal(callPromptOf({ call: null }), null);
  assert.equal(callPromptOf({ call: { phase: 'incoming', needsConsent: null } }), 'incoming');
  assert.equal(callPromptOf({ call: { phase: 'active', needsConsent: null } }), null);
  assert.equal(callPromptOf({ call: { phase: 'connecting', needsConsent: { reason: 'peer_no_transform' } } }), 'consent');
  assert.equal(callPromptOf({ call: { phase: 'ended', needsConsent: { reason: 'x' } } }), null);
});

test('without a call store the VoIP tab still tells what the browser lacks', () => {
  assert.deepEqual(callSupportOf(null, false).missing, ['RTCPeerConnection']);
  assert.equal(callSupportOf(null, false).webrtc, false);
  // Node has neither RTCRtpScriptTransform nor RTCRtpSender.
  assert.deepEqual(callSupportOf(null, true), { webrtc: true, transform: null, missing: ['RTCRtpScriptTransform'] });
  const support = { webrtc: true, transform: 'script', missing: [] };
  assert.equal(callSupportOf({ support }, false), support);
  assert.deepEqual(dtmfKeys, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']);
});

test('which tone plays: ring for an incoming call, ringback while the callee rings, nothing else', () => {
  assert.equal(toneFor({ call: { phase: 'incoming', direction: 'incoming' } }), 'ring');
  assert.equal(toneFor({ call: { phase: 'incoming', direction: 'incoming', needsConsent: { reason: 'x' } } }), null);
  assert.equal(toneFor({ call: { phase: 'ringing', direction: 'outgoing' } }), 'ringback');
  assert.equal(toneFor({ call: { phase: 'calling', direction: 'outgoing' } }), null);
  assert.equal(toneFor({ call: { phase: 'active', direction: 'outgoing' } }), null);
  assert.equal(toneFor({ call: null }), null);
});

/** A browser-like environment for createCallAlerts: document, AudioContext, Notification. */
function fakeBrowser(t, { visibility = 'hidden', permission = 'granted' } = {}) {
  const saved = { document: globalThis.document, AudioContext: globalThis.AudioContext, Notification: globalThis.Notification };
  const oscillators = [];
  const notifications = [];
  globalThis.document = { visibilityState: visibility, title: 'Security.MS', documentElement: { dataset: {} } };
  const param = () => ({ value: 0, setValueAtTime() {}, exponentialRampToValueAtTime() {} });
  globalThis.AudioContext = class {
    constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
    createGain() { return { gain: param(), connect: (next) => next }; }
    createOscillator() {
      const oscillator = { frequency: param(), connect: (next) => next, start() {}, stop() {} };
      oscillators.push(oscillator);
      return oscillator;
    }
  };
  globalThis.Notification = class {
    static permission = permission;
    constructor(title, options) { this.title = title; this.options = options; this.closed = false; notifications.push(this); }
    close() { this.closed = true; }
  };
  t.after(() => Object.assign(globalThis, saved));
  return { oscillators, notifications };
}

const storage = () => {
  const map = new Map();
  return { getItem: (key) => map.get(key) ?? null, setItem: (key, value) => map.set(key, String(value)) };
};

const incoming = Object.freeze({ id: 'c1', phase: 'incoming', direction: 'incoming', media: 'audio', peer: { username: 'bob' }, needsConsent: null });

test('an incoming call rings in a loop, notifies with the name only, blinks the title, and all stops on answer', (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  setLanguage('en');
  const { oscillators, notifications } = fakeBrowser(t);
  const preferences = createPreferences({ storage: storage() });
  preferences.setNotify(true);
  const calls = createStore({ call: null });
  const alerts = createCallAlerts({ callStore: calls, preferences });
  t.after(() => alerts.stop());
  assert.equal(alerts.tone(), null);

  calls.set({ call: incoming });
  assert.equal(alerts.tone(), 'ring');
  assert.equal(document.documentElement.dataset.callTone, 'ring');
  assert.equal(document.title, '📞 bob is calling');
  mock.timers.tick(1000);
  assert.equal(document.title, 'Security.MS');
  mock.timers.tick(1000);
  assert.equal(document.title, '📞 bob is calling');
  const firstCycle = oscillators.length;
  assert.ok(firstCycle > 0, 'the ringtone played');
  assert.deepEqual(oscillators.map((o) => o.frequency.value).slice(0, 2), [880, 1175]);
  mock.timers.tick(1000);   // 3 s after the first ring
  assert.equal(oscillators.length, 2 * firstCycle, 'the ringtone loops');

  assert.equal(notifications.length, 1);
  assert.equal(notifications[0].title, 'Incoming call from bob');
  assert.equal(notifications[0].options.body, undefined, 'no content beyond the name');
  calls.set({ call: { ...incoming } });   // a new snapshot of the same call: no second notification
  assert.equal(notifications.length, 1);


  calls.set({ call: { ...incoming, phase: 'connecting' } });
  assert.equal(alerts.tone(), null);
  assert.equal(document.documentElement.dataset.callTone, 'none');
  assert.equal(notifications[0].closed, true);
  assert.equal(document.title, 'Security.MS');
  const after = oscillators.length;
  mock.timers.tick(10_000);
  assert.equal(oscillators.length, after, 'no ringing after the answer');
  assert.equal(document.title, 'Security.MS');
});

test('the caller hears ringback while the callee rings; calls ring by default, and follow the ringtone preference, not the chat sound', (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  const { oscillators, notifications } = fakeBrowser(t, { visibility: 'visible' });
  const preferences = createPreferences({ storage: storage() });
  preferences.setNotify(true);
  const calls = createStore({ call: null });
  const alerts = createCallAlerts({ callStore: calls, preferences });
  t.after(() => alerts.stop());

  // Defaults: chat sounds off, ringing on. An incoming call is heard.
  assert.equal(preferences.get().sound, false);
  calls.set({ call: { ...incoming, id: 'c2' } });
  assert.equal(alerts.tone(), 'ring');
  assert.deepEqual(oscillators.map((o) => o.frequency.value), [880, 1175, 880, 1175], 'the default rings');
  assert.equal(notifications.length, 0, 'a visible page gets no desktop notification');
  calls.set({ call: null });

  // Ringing turned off (chat sounds on): the state is kept, nothing plays.
  preferences.setRingtone(false);
  preferences.setSound(true);
  const silent = oscillators.length;
  calls.set({ call: { ...incoming, id: 'c4' } });
  assert.equal(alerts.tone(), 'ring');
  mock.timers.tick(6000);
  assert.equal(oscillators.length, silent, 'no ringtone with ringing off, whatever the chat sound says');
  calls.set({ call: null });

  preferences.setRingtone(true);
  preferences.setSound(false);
  const before = oscillators.length;
  calls.set({ call: { id: 'c3', phase: 'ringing', direction: 'outgoing', media: 'video', peer: { username: 'carol' } } });
  assert.equal(alerts.tone(), 'ringback');
  assert.deepEqual(oscillators.slice(before).map((o) => o.frequency.value), [425]);
  mock.timers.tick(5000);
  assert.equal(oscillators.length, before + 2);
  calls.set({ call: { id: 'c3', phase: 'active', direction: 'outgoing', media: 'video', peer: { username: 'carol' } } });
  assert.equal(alerts.tone(), null);
  mock.timers.tick(10_000);
  assert.equal(oscillators.length, before + 2);
});

test('call lines in a conversation name the media in the reader\'s language', () => {
  const line = (outcome, media, duration = '0:00') => ({ messageKey: `call.log.${outcome}`, params: { media, duration } });
  setLanguage('fr');
  try {
    assert.equal(systemLineText(line('missed', 'video')), 'Appel manqué (vidéo)');
    assert.equal(systemLineText(line('answered', 'audio', '1:05')), 'Appel (audio) — 1:05');
    assert.equal(systemLineText(line('declined', 'video')), 'Appel (vidéo) refusé');
  } finally {
    setLanguage('en');
  }
  assert.equal(systemLineText(line('missed', 'video')), 'Missed call (video)');
  assert.equal(systemLineText(line('no-answer', 'audio')), 'Call (audio): no answer');
  // Anything but the two media names is shown as it came (the key lookup never runs on it).
  assert.equal(systemLineText(line('failed', 'toString')), 'Call (toString) failed');
});

test('the call log shows a merged run of missed calls with its count (×N), a single call without one', () => {
  const entry = (fields) => ({ id: 1, peer: 'bob', direction: 'incoming', media: 'audio', outcome: 'missed', at: 0, durationMs: 0, count: 1, ...fields });
  assert.equal(callLogOutcomeText(entry({})), 'Incoming audio call · missed');
  assert.equal(callLogCount(entry({})), 1);
  assert.equal(callLogOutcomeText(entry({ count: 3 })), 'Missed calls (audio) ×3');
  assert.equal(callLogCount(entry({ count: 3 })), 3);
  assert.equal(callLogOutcomeText(entry({ count: 12, media: 'video' })), 'Missed calls (video) ×12');
  assert.equal(callLogOutcomeText(entry({ direction: 'outgoing', outcome: 'answered', media: 'video' })), 'Outgoing video call · answered');
  // A count that is not a whole number above 1 is one call.
  for (const count of [undefined, 0, -4, 2.5, '7', Number.NaN]) {
    assert.equal(callLogCount(entry({ count })), 1, String(count));
    assert.equal(callLogOutcomeText(entry({ count })), 'Incoming audio call · missed', String(count));
  }
  setLanguage('fr');
  try {
    assert.equal(callLogOutcomeText(entry({ count: 4, media: 'video' })), 'Appels manqués (vidéo) ×4');
    assert.equal(callLogOutcomeText(entry({})), 'Appel audio entrant · manqué');
  } finally {
    setLanguage('en');
  }
});
