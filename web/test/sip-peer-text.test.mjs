// How a SIP caller is named on screen and in the page's alerts: name and address each in their
// own <bdi> (a name cannot reorder the address), and the ringing title and desktop notification
// of a SIP call say "SIP call", not the words of a call from a Security.MS contact.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { peerLabel, textWithPeer } from '../src/ui/sip/sip-peer.js';
import { createCallAlerts } from '../src/app/call-alerts.js';
import { createPreferences } from '../src/state/preferences.js';
import { createStore } from '../src/state/store.js';
import { setLanguage } from '../src/i18n/index.js';

/** The markup and texts of a Lit template, flattened (values that are templates are expanded). */
function flatten(result) {
  if (result && typeof result === 'object' && Array.isArray(result.strings)) {
    return result.strings.map((part, i) => part + (i < result.values.length ? flatten(result.values[i]) : '')).join('');
  }
  return `«${String(result)}»`;   // a text binding: escaped by Lit, never markup
}

test('name and address are isolated in separate <bdi>, bound as text', () => {
  setLanguage('en');
  const peer = { displayName: 'Alice', username: 'tsohlacol@ecila' };
  assert.equal(flatten(peerLabel(peer)),
    '<bdi class="peer-name" data-testid="sip-peer-name">«Alice»</bdi> (<bdi class="peer-address" data-testid="sip-peer-address">«tsohlacol@ecila»</bdi>)');
  assert.equal(flatten(peerLabel({ displayName: '', username: 'bob@localhost' })), '<bdi class="peer-address" data-testid="sip-peer-address">«bob@localhost»</bdi>');
  const title = flatten(textWithPeer('sip.incoming.title', peer));
  assert.match(title, /^«Incoming SIP call from »<bdi class="peer-name"[^>]*>«Alice»<\/bdi> \(<bdi class="peer-address"[^>]*>«tsohlacol@ecila»<\/bdi>\)«»$/);
  setLanguage('fr');
  assert.match(flatten(textWithPeer('sip.incoming.title', peer)), /^«Appel SIP entrant de »<bdi/);
  setLanguage('en');
});

test('a ringing SIP call blinks and notifies with the SIP wording', (t) => {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  setLanguage('en');
  const saved = { document: globalThis.document, AudioContext: globalThis.AudioContext, Notification: globalThis.Notification };
  const notifications = [];
  globalThis.document = { visibilityState: 'hidden', title: 'Security.MS', documentElement: { dataset: {} } };
  globalThis.AudioContext = undefined;
  globalThis.Notification = class {
    static permission = 'granted';
    constructor(title, options) { this.title = title; this.options = options; notifications.push(this); }
    close() {}
  };
  const map = new Map();
  const preferences = createPreferences({ storage: { getItem: (key) => map.get(key) ?? null, setItem: (key, value) => map.set(key, String(value)) } });
  preferences.setNotify(true);
  const calls = createStore({ call: null });
  const sip = createStore({ call: null });
  const alerts = createCallAlerts({ callStore: calls, preferences, sipStore: sip });
  t.after(() => {
    alerts.stop();
    Object.assign(globalThis, saved);
  });
  sip.set({ call: { id: 'sip-1', phase: 'incoming', direction: 'incoming', media: 'audio', peer: { username: '1000@pbx.example', displayName: 'Front desk' } } });
  assert.equal(alerts.tone(), 'ring');
  assert.equal(document.title, '📞 SIP call from 1000@pbx.example');
  assert.equal(notifications.length, 1);
  assert.equal(notifications[0].title, 'Incoming SIP call from 1000@pbx.example');
  sip.set({ call: null });
  // An end-to-end call keeps its own words.
  calls.set({ call: { id: 'c1', phase: 'incoming', direction: 'incoming', media: 'audio', peer: { username: 'bob' } } });
  assert.equal(document.title, '📞 bob is calling');
  assert.equal(notifications.at(-1).title, 'Incoming call from bob');
});
