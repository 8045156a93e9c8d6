// The verified-contact state kept beside the certificate pins (web/src/state/trust-store.js):
// marked only for the fingerprint compared, dropped when the pin changes or is forgotten, gone
// (with the pin) when the safety codes differed, one map per account, tolerant of bad storage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContactStatus, contactStatus, createTrustStore, emptyContacts } from '../src/state/trust-store.js';

const fpA = 'A'.repeat(40);
const fpB = 'B'.repeat(40);

function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
    items,
  };
}

function storeWithLog(storage = memoryStorage(), account = 'me') {
  const seen = [];
  const store = createTrustStore({ storage, account, now: () => 1234, onChange: (snapshot) => seen.push(snapshot) });
  return { store, storage, seen };
}

test('marking verified pins the fingerprint and shows the contact as verified for it only', () => {
  const { store } = storeWithLog();
  assert.equal(contactStatus(store.snapshot(), 'Alice', fpA), ContactStatus.unknown);
  store.markVerified({ username: 'Alice', fingerprint: fpA.toLowerCase() });
  const snapshot = store.snapshot();
  assert.equal(snapshot.pins.alice, fpA);
  assert.equal(contactStatus(snapshot, 'alice', fpA), ContactStatus.verified);
  assert.equal(contactStatus(snapshot, 'ALICE', fpA.toLowerCase()), ContactStatus.verified);
  assert.equal(contactStatus(snapshot, 'alice', fpB), ContactStatus.changed, 'another certificate under the name is not verified');
  assert.equal(contactStatus(snapshot, 'bob', fpA), ContactStatus.unknown);
  assert.deepEqual(store.check({ username: 'alice', fingerprint: fpA }), { status: 'trusted', knownFingerprint: fpA, verified: true });
});

test('a remembered but not compared contact is pinned, not verified', () => {
  const { store } = storeWithLog();
  store.remember({ username: 'alice', fingerprint: fpA });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpA), ContactStatus.pinned);
  assert.equal(store.check({ username: 'alice', fingerprint: fpA }).verified, false);
});

test('a changed pin clears the verification, and pinning the old fingerprint again does not restore it', () => {
  const { store } = storeWithLog();
  store.markVerified({ username: 'alice', fingerprint: fpA });
  store.remember({ username: 'alice', fingerprint: fpB });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpB), ContactStatus.pinned);
  assert.deepEqual(store.snapshot().verified, {});
  store.remember({ username: 'alice', fingerprint: fpA });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpA), ContactStatus.pinned, 'the old verification was dropped, not hidden');
});

test('forgetting the pin forgets the verification', () => {
  const { store } = storeWithLog();
  store.markVerified({ username: 'alice', fingerprint: fpA });
  store.forget({ username: 'alice' });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpA), ContactStatus.unknown);
  assert.deepEqual(store.snapshot(), { pins: {}, verified: {} });
});

test('codes that differ forget pin and verification and keep a local report', () => {
  const { store } = storeWithLog();
  store.markVerified({ username: 'alice', fingerprint: fpA });
  store.remember({ username: 'bob', fingerprint: fpB });
  const entry = store.reportMismatch({ username: 'Alice', fingerprint: fpA, session: 'ab'.repeat(16) });
  assert.deepEqual(entry, { username: 'alice', fingerprint: fpA, session: 'ab'.repeat(16), at: 1234 });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpA), ContactStatus.unknown);
  assert.equal(contactStatus(store.snapshot(), 'bob', fpB), ContactStatus.pinned, 'other contacts are untouched');
  assert.deepEqual(store.reports(), [entry]);
  for (let index = 0; index < 30; index += 1) store.reportMismatch({ username: 'x', fingerprint: fpB, session: String(index) });
  assert.equal(store.reports().length, 20, 'the report log is bounded');
  assert.equal(store.reports().at(-1).session, '29');
});

test('the verification survives a new store over the same storage (a reload), per account', () => {
  const storage = memoryStorage();
  storeWithLog(storage, 'me').store.markVerified({ username: 'alice', fingerprint: fpA });
  assert.equal(contactStatus(storeWithLog(storage, 'ME').store.snapshot(), 'alice', fpA), ContactStatus.verified);
  assert.equal(contactStatus(storeWithLog(storage, 'someone-else').store.snapshot(), 'alice', fpA), ContactStatus.unknown);
});

test('a verification stored for another fingerprint than the pin (tampered or stale storage) is not shown, and is pruned', () => {
  const storage = memoryStorage();
  storage.setItem('secms.trust.me', JSON.stringify({ alice: fpA, bob: 'not a fingerprint' }));
  storage.setItem('secms.verified.me', JSON.stringify({ alice: fpB, bob: 'not a fingerprint' }));
  const { store } = storeWithLog(storage);
  assert.deepEqual(store.snapshot(), { pins: { alice: fpA }, verified: {} });
  assert.equal(contactStatus(store.snapshot(), 'alice', fpA), ContactStatus.pinned);
  assert.equal(JSON.parse(storage.getItem('secms.verified.me')).alice, undefined, 'the stale verification is gone from storage');
});

test('unreadable storage and snapshots read as no contact', () => {
  const storage = memoryStorage();
  storage.setItem('secms.verified.me', '{not json');
  const { store } = storeWithLog(storage);
  assert.deepEqual(store.snapshot(), { pins: {}, verified: {} });
  assert.equal(contactStatus(emptyContacts, 'alice', fpA), ContactStatus.unknown);
  assert.equal(contactStatus(undefined, 'alice', fpA), ContactStatus.unknown);
  assert.equal(contactStatus(store.snapshot(), 'alice', 'zz'), ContactStatus.unknown);
  assert.throws(() => store.markVerified({ username: 'alice', fingerprint: 'nope' }), TypeError);
});

test('listeners hear each change (once at creation, then per decision)', async () => {
  const { store, seen } = storeWithLog();
  await Promise.resolve();
  assert.equal(seen.length, 1);
  store.markVerified({ username: 'alice', fingerprint: fpA });
  assert.equal(seen.at(-1).verified.alice, fpA);
  store.forget({ username: 'alice' });
  assert.deepEqual(seen.at(-1), { pins: {}, verified: {} });
});
