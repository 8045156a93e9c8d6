// Display and alert preferences of this browser: theme, event sounds, call ringing, desktop
// notifications.
// Kept in localStorage (the logout wipe clears them, like every other local datum); pure apart
// from the injected storage, so it is tested in Node.

import { createStore } from './store.js';

export const themes = Object.freeze(['system', 'light', 'dark', 'contrast']);
const keys = Object.freeze({ theme: 'secms.theme', sound: 'secms.sound', notify: 'secms.notify', hideIp: 'secms.hide_ip', ringtone: 'secms.ringtone' });

function read(storage, key) {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(storage, key, value) {
  try {
    storage?.setItem(key, value);
  } catch {
    // Storage disabled: the choice holds for this page only.
  }
}

/**
 * Snapshot: { theme: one of `themes`, sound: boolean, notify: boolean, hideIp: boolean, ringtone: boolean }.
 * ringtone: the ringtone of an incoming call and the ringback of an outgoing one; on by default
 * (a call that does not ring goes unnoticed), apart from the chat's event sounds (`sound`, off
 * by default).
 * hideIp: calls use TURN relay candidates only (iceTransportPolicy 'relay'), so the peer never
 * learns this browser's addresses; off by default (a relay adds latency and needs a TURN server).
 */
export function createPreferences({ storage = null } = {}) {
  const storedTheme = read(storage, keys.theme);
  const store = createStore(Object.freeze({
    theme: themes.includes(storedTheme) ? storedTheme : 'system',
    sound: read(storage, keys.sound) === 'on',
    notify: read(storage, keys.notify) === 'on',
    hideIp: read(storage, keys.hideIp) === 'on',
    ringtone: read(storage, keys.ringtone) !== 'off',
  }));
  const set = (changes) => store.set(Object.freeze({ ...store.get(), ...changes }));
  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    setTheme(theme) {
      if (!themes.includes(theme)) throw new RangeError(`preferences: unknown theme ${JSON.stringify(theme)}`);
      write(storage, keys.theme, theme);
      set({ theme });
    },
    setSound(on) {
      write(storage, keys.sound, on ? 'on' : 'off');
      set({ sound: Boolean(on) });
    },
    setNotify(on) {
      write(storage, keys.notify, on ? 'on' : 'off');
      set({ notify: Boolean(on) });
    },
    setHideIp(on) {
      write(storage, keys.hideIp, on ? 'on' : 'off');
      set({ hideIp: Boolean(on) });
    },
    setRingtone(on) {
      write(storage, keys.ringtone, on ? 'on' : 'off');
      set({ ringtone: Boolean(on) });
    },
  });
}

/** The window title with the unread count: "(3) Security.MS", or the title alone. */
export function unreadTitle(count, title) {
  return count > 0 ? `(${count}) ${title}` : title;
}

// Event sounds, made with oscillators (no audio files): [frequency Hz, start s, duration s] notes.
export const eventTones = Object.freeze({
  message: Object.freeze([[880, 0, 0.08], [1320, 0.1, 0.1]]),
  private: Object.freeze([[988, 0, 0.08], [1319, 0.1, 0.08], [1976, 0.2, 0.1]]),
  join: Object.freeze([[523, 0, 0.1], [659, 0.11, 0.1], [784, 0.22, 0.14]]),
  leave: Object.freeze([[784, 0, 0.1], [659, 0.11, 0.1], [523, 0.22, 0.16]]),
  error: Object.freeze([[220, 0, 0.18], [196, 0.2, 0.25]]),
});
