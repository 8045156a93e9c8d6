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
import { displayNameOf } from '../src/sip/sip-states.js';

/** The markup and texts of a Lit template, flattened (values that are templates are expanded). */
function flatten(result) {
  if (result && typeof result === 'object' && Array.isArray(result.strings)) {
    return result.strings.map((part, i) => part + (i < result.values.length ? flatten(result.values[i]) : '')).join('');
  }
  return `«${String(result)}»`;   // a text binding: escaped by Lit, never markup
}

test('the address comes first, in bold; the name follows as the caller\'s claim; each in its own <bdi>, bound as text', () => {
  setLanguage('en');
  const peer = { displayName: 'Alice', username: 'tsohlacol@ecila' };
  const address = '<strong><bdi class="peer-address" data-testid="sip-peer-address">«tsohlacol@ecila»</bdi></strong>';
  assert.equal(flatten(peerLabel(peer)),
    `${address} <span class="peer-claimed">(«calls itself »<bdi class="peer-name" data-testid="sip-peer-name">«Alice»</bdi>«»)</span>`);
  assert.equal(flatten(peerLabel({ displayName: '', username: 'bob@localhost' })), '<strong><bdi class="peer-address" data-testid="sip-peer-address">«bob@localhost»</bdi></strong>');
  const title = flatten(textWithPeer('sip.incoming.title', peer));
  assert.match(title, /^«Incoming SIP call from »<strong><bdi class="peer-address"[^>]*>«tsohlacol@ecila»<\/bdi><\/strong> <span class="peer-claimed">\(«calls itself »<bdi class="peer-name"[^>]*>«Alice»<\/bdi>«»\)<\/span>«»$/);
  setLanguage('fr');
  assert.match(flatten(textWithPeer('sip.incoming.title', peer)), /^«Appel SIP entrant de »<strong><bdi class="peer-address"/);
  assert.match(flatten(peerLabel(peer)), /«se présente comme »<bdi class="peer-name"/);
  setLanguage('en');
});

test('a display name cannot pose as an address: @ < > ( ) : are dropped', () => {
  setLanguage('en');
  assert.equal(displayNameOf('Alice (alice@localhost)'), 'Alice alice localhost');
  assert.equal(displayNameOf('"<sip:alice@localhost>"'), '" sip alice localhost "');
  assert.equal(displayNameOf('bob\uff20localhost\uff08x\uff09'), 'bob localhost x', 'full-width look-alikes too');
  assert.equal(displayNameOf('\u00a0Alice\u202E\u00a0'), 'Alice');
  assert.equal(displayNameOf('Front desk'), 'Front desk');
  const peer = { displayName: displayNameOf('Alice (alice@localhost)'), username: 'x@evil.example' };
  const text = flatten(textWithPeer('sip.incoming.title', peer)).replace(/<[^>]*>|«|»/g, '');
  assert.equal(text, 'Incoming SIP call from x@evil.example (calls itself Alice alice localhost)');
  assert.doesNotMatch(text, /alice@localhost/);
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
