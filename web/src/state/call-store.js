// The call as the page shows it: browser support, the one current call, the call log, the media
// devices and the "hide my IP address" choice. Pure (no DOM, no network); snapshots are frozen
// (store.js pattern), so the UI re-renders on identity changes only.
//
// call.phase: calling (secure channel being set up, invite sent) → ringing (callee's device rings)
//   | incoming (this side rings) → connecting (accepted; media being negotiated) → active → ended.
// security.state: 'encrypted' only while e2ee, both transform directions active and the DTLS
//   fingerprints match the channel-authenticated SDP; 'checking' before the first verdict;
//   anything else 'not-encrypted' with a reason (call-security.js).

import { createStore } from './store.js';

export const CallPhase = Object.freeze({
  calling: 'calling', ringing: 'ringing', incoming: 'incoming', connecting: 'connecting', active: 'active', ended: 'ended',
});
export const CallOutcomes = Object.freeze(['answered', 'declined', 'busy', 'no-answer', 'cancelled', 'missed', 'offline', 'channel-ended', 'failed']);
export const MAX_CALL_LOG = 50;

const emptyDevices = Object.freeze({
  audioinput: Object.freeze([]), videoinput: Object.freeze([]), audiooutput: Object.freeze([]),
  selected: Object.freeze({ audioinput: null, videoinput: null, audiooutput: null }),
});

const initialSecurity = (e2ee, sas) => Object.freeze({
  state: 'checking', e2ee, transform: Object.freeze({ sendActive: false, receiveActive: false }),
  fingerprintsMatch: null, path: null, sas: sas ?? null, consentUnencrypted: false, reason: null,
});

/** A new call entry (frozen) with the defaults of the snapshot in common use. */
export function newCall({ id, peer, session = null, direction, media, phase, startedAt, e2ee = true, sas = null }) {
  return Object.freeze({
    id, peer: Object.freeze({ username: peer }), session, direction, media, phase,
    held: Object.freeze({ local: false, remote: false }), startedAt, connectedAt: null,
    muted: false, cameraOn: media === 'video', screenSharing: false,
    remote: Object.freeze({ camera: false, muted: false, screen: false }),
    localStream: null, remoteStream: null, level: 0, stats: null,
    security: initialSecurity(e2ee, sas), needsConsent: null, dtmfSent: '', endReason: null,
  });
}

/** support: {webrtc, transform: 'script'|'encoded-streams'|null, missing: [names]}. */
export function createCallStore({ support = { webrtc: false, transform: null, missing: [] }, hideIp = false } = {}) {
  const store = createStore(Object.freeze({
    support: Object.freeze({ ...support, missing: Object.freeze([...(support.missing ?? [])]) }),
    call: null, log: Object.freeze([]), devices: emptyDevices, hideIp: Boolean(hideIp),
  }));
  let logCounter = 0;
  const set = (changes) => store.set(Object.freeze({ ...store.get(), ...changes }));
  const freezeNested = (changes) => {
    const out = {};
    for (const [name, value] of Object.entries(changes)) {
      // Streams stay live objects; plain data is frozen so nobody edits a snapshot in place.
      out[name] = value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype ? Object.freeze({ ...value }) : value;
    }
    return out;
  };

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    /** Starts showing a call (replaces an ended one). */
    begin(call) {
      set({ call });
    },
    /** Changes fields of the current call (only the one with `id`: a late callback of an old call changes nothing). */
    update(id, changes) {
      const { call } = store.get();
      if (!call || call.id !== id) return;
      set({ call: Object.freeze({ ...call, ...freezeNested(changes) }) });
    },
    /** Changes fields of the current call's security state. */
    updateSecurity(id, changes) {
      const { call } = store.get();
      if (!call || call.id !== id) return;
      set({ call: Object.freeze({ ...call, security: Object.freeze({ ...call.security, ...freezeNested(changes) }) }) });
    },
    /** Drops the (ended) call from view. */
    dismiss() {
      if (store.get().call?.phase === 'ended') set({ call: null });
    },
    /**
     * A log line: {peer, direction, media, outcome, at, durationMs, count}; newest first, at most
     * MAX_CALL_LOG. `count` > 1: that many consecutive missed calls merged into one line.
     */
    addLog({ peer, direction, media, outcome, at, durationMs = 0, count = 1 }) {
      if (!CallOutcomes.includes(outcome)) throw new RangeError(`call log: unknown outcome ${outcome}`);
      logCounter += 1;
      const entry = Object.freeze({ id: logCounter, peer, direction, media, outcome, at, durationMs: Math.max(0, Math.round(durationMs)), count: Math.max(1, Math.floor(count)) });
      set({ log: Object.freeze([entry, ...store.get().log].slice(0, MAX_CALL_LOG)) });
      return entry;
    },
    /** Sets the `count` of log line `id` (a merged run of missed calls); false when it is gone. */
    setLogCount(id, count) {
      const { log } = store.get();
      if (!log.some((entry) => entry.id === id)) return false;
      set({ log: Object.freeze(log.map((entry) => (entry.id === id ? Object.freeze({ ...entry, count: Math.max(1, Math.floor(count)) }) : entry))) });
      return true;
    },
    setDevices({ audioinput = [], videoinput = [], audiooutput = [] }) {
      const list = (entries) => Object.freeze(entries.map(({ deviceId, label }) => Object.freeze({ deviceId: String(deviceId), label: String(label ?? '') })));
      const { selected } = store.get().devices;
      set({ devices: Object.freeze({ audioinput: list(audioinput), videoinput: list(videoinput), audiooutput: list(audiooutput), selected }) });
    },
    selectDevice(kind, deviceId) {
      const { devices } = store.get();
      if (!Object.hasOwn(devices.selected, kind)) throw new RangeError(`call devices: unknown kind ${kind}`);
      set({ devices: Object.freeze({ ...devices, selected: Object.freeze({ ...devices.selected, [kind]: deviceId ?? null }) }) });
    },
    setHideIp(on) {
      set({ hideIp: Boolean(on) });
    },
    clear() {
      set({ call: null, log: Object.freeze([]) });
    },
  });
}
