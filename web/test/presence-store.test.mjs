import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPresenceStore } from '../src/state/presence-store.js';

const hello = { type: 'hello', user: { userid: 2, username: 'bob', role: 'user' } };

test('starts empty and unknown', () => {
  const presence = createPresenceStore();
  assert.deepEqual(presence.get(), { self: null, users: [], known: false });
});

test('hello then presence: you first, then by name, with isSelf', () => {
  const presence = createPresenceStore();
  assert.equal(presence.applyServerMessage(hello), true);
  presence.applyServerMessage({ type: 'presence', online: [
    { userid: 3, username: 'carol' }, { userid: 1, username: 'Alice' }, { userid: 2, username: 'bob' },
  ] });
  const snapshot = presence.get();
  assert.equal(snapshot.known, true);
  assert.deepEqual(snapshot.self, { userid: 2, username: 'bob', role: 'user' });
  assert.deepEqual(snapshot.users.map((u) => [u.username, u.isSelf]), [['bob', true], ['Alice', false], ['carol', false]]);
  assert.equal(presence.isOnline(3), true);
  assert.equal(presence.isOnline(9), false);
});

test('presence before hello still lists users; hello later marks "you"', () => {
  const presence = createPresenceStore();
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 2, username: 'bob' }] });
  assert.equal(presence.get().users[0].isSelf, false);
  presence.applyServerMessage(hello);
  assert.equal(presence.get().users[0].isSelf, true);
  assert.equal(presence.get().known, true);
});

test('each presence message replaces the list (someone went offline)', () => {
  const presence = createPresenceStore();
  presence.applyServerMessage(hello);
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 1, username: 'alice' }, { userid: 2, username: 'bob' }] });
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 2, username: 'bob' }] });
  assert.deepEqual(presence.get().users.map((u) => u.username), ['bob']);
});

test('malformed entries are dropped, duplicates collapsed', () => {
  const presence = createPresenceStore();
  presence.applyServerMessage({ type: 'presence', online: [
    { userid: 1, username: 'alice' }, { userid: 1, username: 'alice' },
    { userid: '4', username: 'dave' }, { userid: 5, username: '<script>' }, { userid: 0, username: 'zero' },
    { userid: 6 }, null, 'eve', { userid: 7, username: 'x'.repeat(33) },
  ] });
  assert.deepEqual(presence.get().users.map((u) => u.userid), [1]);
});

test('other messages and malformed presence are ignored', () => {
  const presence = createPresenceStore();
  assert.equal(presence.applyServerMessage({ type: 'pong' }), false);
  assert.equal(presence.applyServerMessage({ type: 'presence', online: 'everyone' }), false);
  assert.equal(presence.applyServerMessage({ type: 'hello', user: { userid: -1, username: 'bob' } }), false);
  assert.equal(presence.applyServerMessage(null), false);
  assert.equal(presence.get().known, false);
});

test('subscribers are notified on change; clear() forgets everything', () => {
  const presence = createPresenceStore();
  const snapshots = [];
  const stop = presence.subscribe((value) => snapshots.push(value));
  presence.applyServerMessage(hello);
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 2, username: 'bob' }] });
  presence.clear();
  stop();
  presence.applyServerMessage(hello);
  assert.equal(snapshots.length, 3);
  assert.deepEqual(snapshots[2], { self: null, users: [], known: false });
  assert.ok(Object.isFrozen(snapshots[1].users));
});

test('deltas after the full list: joined, changed and left update the same list', () => {
  const presence = createPresenceStore();
  presence.applyServerMessage(hello);
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 2, username: 'bob' }] });
  assert.equal(presence.applyServerMessage({ type: 'presence_joined', user: { userid: 3, username: 'carol' } }), true);
  assert.equal(presence.applyServerMessage({ type: 'presence_joined', user: { userid: 1, username: 'alice' } }), true);
  assert.deepEqual(presence.get().users.map((u) => u.username), ['bob', 'alice', 'carol']);
  const fingerprint = 'A'.repeat(40);
  assert.equal(presence.applyServerMessage({ type: 'presence_changed', user: { userid: 3, username: 'carol', fingerprint } }), true);
  assert.equal(presence.get().users.find((u) => u.userid === 3).fingerprint, fingerprint);
  assert.equal(presence.get().users.length, 3, 'a change replaces the entry, never adds one');
  // A repeated join (missed leave) still leaves one row for the account.
  presence.applyServerMessage({ type: 'presence_joined', user: { userid: 3, username: 'carol' } });
  assert.equal(presence.get().users.filter((u) => u.userid === 3).length, 1);
  assert.equal(presence.get().users.find((u) => u.userid === 3).fingerprint, null);
  assert.equal(presence.applyServerMessage({ type: 'presence_left', user: { userid: 1, username: 'alice' } }), true);
  assert.deepEqual(presence.get().users.map((u) => u.username), ['bob', 'carol']);
  assert.equal(presence.isOnline(1), false);
  assert.equal(presence.get().known, true);
  assert.equal(presence.get().users[0].isSelf, true);
});

test('malformed deltas are ignored and change nothing', () => {
  const presence = createPresenceStore();
  presence.applyServerMessage({ type: 'presence', online: [{ userid: 2, username: 'bob' }] });
  const before = presence.get();
  assert.equal(presence.applyServerMessage({ type: 'presence_joined', user: { userid: 5, username: '<script>' } }), false);
  assert.equal(presence.applyServerMessage({ type: 'presence_joined' }), false);
  assert.equal(presence.applyServerMessage({ type: 'presence_changed', user: { userid: '2', username: 'bob' } }), false);
  assert.equal(presence.applyServerMessage({ type: 'presence_left', user: { userid: 'bob' } }), false);
  assert.equal(presence.applyServerMessage({ type: 'presence_left' }), false);
  assert.equal(presence.get(), before);
});
