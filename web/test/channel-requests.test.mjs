// Incoming secure-channel requests (web/src/app/channel-requests.js): each is announced once,
// and counts as unseen until its conversation was on screen or it was answered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../src/state/store.js';
import { createChannelRequests, incomingOffers, nextRequests } from '../src/app/channel-requests.js';

const offer = (session, username, { role = 'responder', phase = 'offered' } = {}) => ({ session, role, phase, peer: { userid: 1, username } });

test('only offers in the responder role that wait for an answer are requests', () => {
  const snapshot = { channels: [offer('a', 'bob'), offer('b', 'carol', { role: 'initiator' }), offer('c', 'dan', { phase: 'secure' })] };
  assert.deepEqual(incomingOffers(snapshot).map((channel) => channel.session), ['a']);
  assert.deepEqual(incomingOffers(null), []);
});

test('a request is announced once and pending until shown', () => {
  let step = nextRequests({ offers: [offer('a', 'bob')], known: new Set(), seen: new Set(), shown: null });
  assert.deepEqual(step.announce.map((entry) => entry.session), ['a']);
  assert.deepEqual(step.pending, [{ session: 'a', username: 'bob' }]);
  step = nextRequests({ offers: [offer('a', 'bob')], known: step.known, seen: step.seen, shown: null });
  assert.deepEqual(step.announce, [], 'not announced twice');
  assert.equal(step.pending.length, 1);
  step = nextRequests({ offers: [offer('a', 'bob')], known: step.known, seen: step.seen, shown: 'a' });
  assert.deepEqual(step.pending, [], 'seen once on screen');
  step = nextRequests({ offers: [offer('a', 'bob')], known: step.known, seen: step.seen, shown: null });
  assert.deepEqual(step.pending, [], 'stays seen when the user looks elsewhere');
});

test('an answered request is forgotten; a new offer from the same peer is a new request', () => {
  let step = nextRequests({ offers: [offer('a', 'bob')], known: new Set(), seen: new Set(), shown: null });
  step = nextRequests({ offers: [], known: step.known, seen: step.seen, shown: null });
  assert.equal(step.known.size, 0);
  assert.deepEqual(step.pending, []);
  step = nextRequests({ offers: [offer('b', 'bob')], known: step.known, seen: step.seen, shown: null });
  assert.deepEqual(step.announce.map((entry) => entry.session), ['b']);
});

test('the controller follows the channel store, the Chat tab, the room shown and the window visibility', () => {
  const channels = createStore({ channels: [], selected: null, viewing: false });
  const rooms = createStore({ selected: null });
  let visible = true;
  const announced = [];
  const requests = createChannelRequests({ channelStore: channels, roomStore: rooms, isVisible: () => visible, onRequest: (entry) => announced.push(entry.peer.username) });
  channels.set({ channels: [offer('a', 'bob')], selected: 'a', viewing: false });   // on another tab
  assert.deepEqual(announced, ['bob']);
  assert.deepEqual(requests.get().pending.map((entry) => entry.username), ['bob']);
  visible = false;
  channels.set({ ...channels.get(), viewing: true });   // Chat tab, window hidden: not seen yet
  assert.equal(requests.get().pending.length, 1);
  rooms.set({ selected: 'r1' });
  visible = true;
  requests.refresh();                                      // visible, but a room is on screen
  assert.equal(requests.get().pending.length, 1);
  rooms.set({ selected: null });                           // the request's conversation is on screen
  assert.equal(requests.get().pending.length, 0);
  assert.deepEqual(announced, ['bob'], 'announced once');
});

test('an alert that throws does not stop the bookkeeping', () => {
  const channels = createStore({ channels: [], selected: null, viewing: false });
  const requests = createChannelRequests({ channelStore: channels, onRequest: () => { throw new Error('no audio'); } });
  channels.set({ channels: [offer('a', 'bob')], selected: null, viewing: false });
  assert.equal(requests.get().pending.length, 1);
});
