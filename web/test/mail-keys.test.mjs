import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { readCertificateFacts } from '../src/crypto/certificate-facts.js';
import { createKeyDirectory, KeyDirectoryError } from '../src/mail/key-directory.js';

const memoryStorage = () => {
  const map = new Map();
  return { getItem: (key) => map.get(key) ?? null, setItem: (key, value) => map.set(key, value), removeItem: (key) => map.delete(key), map };
};
const generate = (email) => openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'T', email }], format: 'armored' });
const [bob1, bob2, carol] = await Promise.all([generate('bob@localhost'), generate('bob@localhost'), generate('carol@example.org')]);
const readKeyFacts = (armored) => readCertificateFacts({ armored });
const directory = (storage = memoryStorage()) => createKeyDirectory({ storage, account: 'alice', readKeyFacts });

test('a pinned key is never replaced by Autocrypt or gossip: the new one waits as a change', async () => {
  const keys = directory();
  assert.equal((await keys.learn({ address: 'Bob@Localhost', armored: bob1.publicKey, source: 'pinned' })).result, 'added');
  const before = keys.keyFor('bob@localhost');
  assert.equal(before.source, 'pinned');
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'autocrypt' })).result, 'changed');
  const after = keys.keyFor('bob@localhost');
  assert.equal(after.state, 'changed');
  assert.equal(after.fingerprint, before.fingerprint, 'the old key stays the one used');
  assert.equal(after.armored, bob1.publicKey);
  assert.notEqual(after.pending.fingerprint, before.fingerprint);
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'gossip' })).result, 'changed');
  assert.equal(keys.rejectChange('bob@localhost'), true);
  assert.equal(keys.keyFor('bob@localhost').state, 'ok');
  await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'autocrypt' });
  assert.equal(keys.acceptChange('bob@localhost'), true);
  assert.equal(keys.keyFor('bob@localhost').armored, bob2.publicKey);
  assert.equal(keys.keyFor('bob@localhost').state, 'ok');
});

test('a different verified channel certificate for a verified address is a change, not a replacement', async () => {
  const keys = directory();
  await keys.learn({ address: 'bob@localhost', armored: bob1.publicKey, source: 'verified' });
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'verified' })).result, 'changed');
  assert.equal(keys.keyFor('bob@localhost').armored, bob1.publicKey);
});

test('Autocrypt replaces Autocrypt; gossip never replaces Autocrypt; the same key seen as pinned upgrades the source', async () => {
  const keys = directory();
  await keys.learn({ address: 'bob@localhost', armored: bob1.publicKey, source: 'autocrypt', preferEncrypt: true });
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'gossip' })).result, 'ignored');
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'autocrypt' })).result, 'updated');
  assert.equal(keys.keyFor('bob@localhost').armored, bob2.publicKey);
  assert.equal((await keys.learn({ address: 'bob@localhost', armored: bob2.publicKey, source: 'pinned' })).result, 'updated');
  assert.equal(keys.keyFor('bob@localhost').source, 'pinned');
});

test('import: public keys stored under their user IDs\' addresses; private keys, junk and huge input refused', async () => {
  const storage = memoryStorage();
  const keys = directory(storage);
  const result = await keys.importKey(`pasted:\n${carol.publicKey}\n`);
  assert.deepEqual(result.map((entry) => [entry.address, entry.result]), [['carol@example.org', 'added']]);
  assert.equal(keys.keyFor('CAROL@example.org').source, 'imported');
  await assert.rejects(() => keys.importKey(carol.privateKey), (error) => error instanceof KeyDirectoryError && error.code === 'private_key');
  await assert.rejects(() => keys.importKey('hello'), (error) => error.code === 'not_a_key');
  await assert.rejects(() => keys.importKey('x'.repeat(300 * 1024)), (error) => error.code === 'too_large');
  const broken = carol.publicKey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
  await assert.rejects(() => keys.importKey(broken), (error) => error.code === 'not_a_key');
  // Persisted per account.
  assert.equal(directory(storage).keyFor('carol@example.org').fingerprint, keys.keyFor('carol@example.org').fingerprint);
  assert.deepEqual(keys.verificationKeys().map((armored) => armored.trim()), [carol.publicKey.trim()]);
});

test('a signing-only key cannot be used to encrypt: refused', async () => {
  const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'sign@example.org' }], subkeys: [], format: 'armored' });
  await assert.rejects(() => directory().importKey(publicKey), (error) => error.code === 'unusable_key');
});

test('learned keys are bounded: the oldest Autocrypt key goes, chosen keys stay', async () => {
  let clock = 0;
  const facts = async (armored) => ({ fingerprint: [...armored].map((char) => char.charCodeAt(0).toString(16)).join('').padStart(40, '0').toUpperCase(), usage: ['encrypt'], userIds: [] });
  const keys = createKeyDirectory({ storage: memoryStorage(), account: 'a', readKeyFacts: facts, now: () => ++clock });
  await keys.learn({ address: 'chosen@x', armored: 'C', source: 'imported' });
  for (let index = 0; index < 199; index += 1) await keys.learn({ address: `u${index}@x`, armored: `A${index}`, source: 'autocrypt' });
  await keys.learn({ address: 'new@x', armored: 'N', source: 'autocrypt' });
  assert.equal(keys.list().length, 200);
  assert.equal(keys.keyFor('u0@x'), null);
  assert.ok(keys.keyFor('chosen@x'));
  assert.ok(keys.keyFor('new@x'));
});
