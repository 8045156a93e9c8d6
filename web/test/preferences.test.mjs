import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPreferences, themes, unreadTitle, eventTones } from '../src/state/preferences.js';

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), map };
}

test('defaults, changes kept in storage and read back', () => {
  const storage = memoryStorage();
  const prefs = createPreferences({ storage });
  assert.deepEqual(prefs.get(), { theme: 'system', sound: false, notify: false, hideIp: false, ringtone: true });
  prefs.setTheme('contrast');
  prefs.setSound(true);
  prefs.setNotify(true);
  prefs.setHideIp(true);
  assert.deepEqual(createPreferences({ storage }).get(), { theme: 'contrast', sound: true, notify: true, hideIp: true, ringtone: true });
  prefs.setHideIp(false);
  assert.equal(createPreferences({ storage }).get().hideIp, false);
  assert.throws(() => prefs.setTheme('neon'), RangeError);
  assert.deepEqual(themes, ['system', 'light', 'dark', 'contrast']);
});

test('a tampered or unavailable storage falls back to the defaults', () => {
  const storage = memoryStorage();
  storage.setItem('secms.theme', 'url(javascript:x)');
  assert.equal(createPreferences({ storage }).get().theme, 'system');
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); } };
  const prefs = createPreferences({ storage: broken });
  prefs.setTheme('dark');
  assert.equal(prefs.get().theme, 'dark');
});

test('unread title and tones', () => {
  assert.equal(unreadTitle(3, 'Security.MS'), '(3) Security.MS');
  assert.equal(unreadTitle(0, 'Security.MS'), 'Security.MS');
  for (const kind of ['message', 'join', 'leave', 'error']) assert.ok(eventTones[kind].length > 0);
});

test('calls ring by default, apart from the chat sounds; turning ringing off is kept', () => {
  const storage = memoryStorage();
  const prefs = createPreferences({ storage });
  assert.equal(prefs.get().sound, false, 'chat event sounds are off by default');
  assert.equal(prefs.get().ringtone, true, 'a call rings by default');
  prefs.setRingtone(false);
  assert.equal(storage.map.get('secms.ringtone'), 'off');
  assert.equal(prefs.get().ringtone, false);
  assert.equal(createPreferences({ storage }).get().ringtone, false);
  assert.equal(createPreferences({ storage }).get().sound, false, 'the chat sound preference is untouched');
  prefs.setRingtone(true);
  assert.equal(createPreferences({ storage }).get().ringtone, true);
  // Only an explicit "off" silences calls: a tampered value rings.
  storage.setItem('secms.ringtone', 'nonsense');
  assert.equal(createPreferences({ storage }).get().ringtone, true);
});
