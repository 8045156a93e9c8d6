// Page-side alerts of calls: the ringtone while a call comes in, the ringback tone while the
// callee's device rings, a desktop notification "Incoming call from <name>" (nothing else) when
// the page is hidden, and a blinking window title while ringing. Sounds are WebAudio oscillators
// (no audio files) and follow their own `ringtone` preference (on by default: a call is expected
// to ring even when the chat's event sounds are off); notifications follow the notification
// preference and the permission the chat alerts asked for.

import { t } from '../i18n/index.js';
import { unreadTotal } from '../state/channel-store.js';
import { roomUnreadTotal } from '../state/room-store.js';
import { unreadTitle } from '../state/preferences.js';

// [frequency Hz (a pair plays together), start s, duration s] per cycle, and the cycle length.
// Ringtone: two short rising bursts, like a phone. Ringback: the ITU-T E.180 425 Hz tone,
// 1 s on, 4 s off, the one European callers know.
export const callTones = Object.freeze({
  ring: Object.freeze({ cycleMs: 3000, notes: Object.freeze([[[880, 1175], 0, 0.35], [[880, 1175], 0.5, 0.35]]) }),
  ringback: Object.freeze({ cycleMs: 5000, notes: Object.freeze([[[425], 0, 1]]) }),
});

const BLINK_MS = 1000;

/** Which tone the snapshot calls for: 'ring' | 'ringback' | null. */
export function toneFor(snapshot) {
  const call = snapshot?.call;
  if (!call) return null;
  if (call.phase === 'incoming' && !call.needsConsent) return 'ring';
  if (call.phase === 'ringing' && call.direction === 'outgoing') return 'ringback';
  return null;
}

/**
 * The snapshot the alerts follow: the end-to-end call while one is on, else the SIP phone's
 * (web/src/sip/sip-service.js, whose call has the same phase names), so a SIP call rings too.
 */
export function alertingSnapshot(callSnapshot, sipSnapshot) {
  const call = callSnapshot?.call;
  if ((call && call.phase !== 'ended') || !sipSnapshot) return callSnapshot;
  return sipSnapshot;
}

export function createCallAlerts({ callStore, preferences, channelStore = null, roomStore = null, titleKey = 'app.title', sipStore = null }) {
  let audio = null;
  let tone = null;           // the tone playing now
  let toneTimer = null;
  let blink = null;
  let blinkOn = false;
  let notifiedCall = null;   // one notification per incoming call
  let notification = null;

  const hidden = () => document.visibilityState === 'hidden';
  const baseTitle = () => unreadTitle((channelStore ? unreadTotal(channelStore.get()) : 0) + (roomStore ? roomUnreadTotal(roomStore.get()) : 0), t(titleKey));

  function playCycle(kind) {
    if (!preferences.get().ringtone) return;
    try {
      audio ??= new AudioContext();
      if (audio.state === 'suspended') audio.resume().catch(() => {});
      const start = audio.currentTime + 0.02;
      for (const [frequencies, at, duration] of callTones[kind].notes) {
        const gain = audio.createGain();
        gain.gain.setValueAtTime(0.0001, start + at);
        gain.gain.exponentialRampToValueAtTime(kind === 'ring' ? 0.12 : 0.08, start + at + 0.02);
        gain.gain.setValueAtTime(kind === 'ring' ? 0.12 : 0.08, start + at + duration - 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + at + duration);
        gain.connect(audio.destination);
        for (const frequency of frequencies) {
          const oscillator = audio.createOscillator();
          oscillator.type = 'sine';
          oscillator.frequency.value = frequency;
          oscillator.connect(gain);
          oscillator.start(start + at);
          oscillator.stop(start + at + duration + 0.02);
        }
      }
    } catch {
      // No audio in this browser: silence.
    }
  }

  function setTone(kind) {
    if (kind === tone) return;
    clearInterval(toneTimer);
    toneTimer = null;
    tone = kind;
    // Visible to tests and assistive tooling; the sound itself follows the ringtone preference.
    document.documentElement.dataset.callTone = kind ?? 'none';
    if (!kind) return;
    playCycle(kind);
    toneTimer = setInterval(() => playCycle(kind), callTones[kind].cycleMs);
  }

  // A SIP call says so (the caller is a SIP address, not a Security.MS contact).
  const ringingTitle = (call, sip) => (sip
    ? t('sip.title.ringing', { peer: call.peer?.username ?? '' })
    : t('call.title.ringing', { username: call.peer?.username ?? '' }));
  const notificationTitle = (call, sip) => (sip
    ? t('sip.notify.incoming', { peer: call.peer?.username ?? '' })
    : t('call.notify.incoming', { username: call.peer?.username ?? '' }));

  function setBlink(call, sip = false) {
    if (call) {
      const ringing = ringingTitle(call, sip);
      if (!blink) {
        blink = setInterval(() => {
          blinkOn = !blinkOn;
          document.title = blinkOn ? ringing : baseTitle();
        }, BLINK_MS);
        blinkOn = true;
        document.title = ringing;
      }
    } else if (blink) {
      clearInterval(blink);
      blink = null;
      document.title = baseTitle();
    }
  }

  function notify(call, sip = false) {
    if (notifiedCall === call.id) return;
    notifiedCall = call.id;
    if (!preferences.get().notify || !hidden() || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      // The caller's name only, which the user already sees in the online list.
      notification = new Notification(notificationTitle(call, sip), { tag: 'secms-call', requireInteraction: true });
      notification.onclick = () => window.focus();
    } catch {
      // Some browsers allow notifications only from a service worker.
    }
  }

  function onCalls(snapshot, sip = false) {
    const call = snapshot?.call ?? null;
    setTone(toneFor(snapshot));
    const incoming = call?.phase === 'incoming' ? call : null;
    setBlink(incoming, sip);
    if (incoming) notify(incoming, sip);
    else if (notification) {
      notification.close();
      notification = null;
    }
  }

  document.documentElement.dataset.callTone = 'none';
  const follow = () => {
    const sipSnapshot = sipStore?.get();
    const snapshot = alertingSnapshot(callStore.get(), sipSnapshot);
    onCalls(snapshot, Boolean(sipSnapshot) && snapshot === sipSnapshot);
  };
  const unsubscribeCalls = callStore.subscribe(follow);
  const unsubscribeSip = sipStore ? sipStore.subscribe(follow) : () => {};
  const unsubscribe = () => {
    unsubscribeCalls();
    unsubscribeSip();
  };
  follow();

  return Object.freeze({
    /** The tone playing now ('ring' | 'ringback' | null), for tests and the UI. */
    tone: () => tone,
    stop() {
      unsubscribe();
      setTone(null);
      setBlink(null);
      notification?.close();
    },
  });
}
