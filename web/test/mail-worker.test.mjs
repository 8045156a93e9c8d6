// The crypto Worker's mail.* requests (web/src/crypto/worker.js → mail-crypto.js): payload
// allow-lists, refusal while locked, recipient key checks, limits, progress events, and a
// round trip through the real message handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeIdentity } from './helpers/mail-parties.mjs';
import { loadCryptoWorker } from './helpers/worker-harness.mjs';

// Encryption of a few MiB may take long on a slow machine: a minute per request.
const { posted, request: send } = await loadCryptoWorker();
const request = (type, payload) => send(type, payload, { deadlineMs: 60_000 });

const alice = await makeIdentity('alice');
const bob = await makeIdentity('bob');
const data = new TextEncoder().encode('Content-Type: text/plain\r\n\r\nhello\r\n');

test('unknown fields are refused; while locked: encrypt/sign → locked, decrypt → decrypt_failed/locked', async () => {
  assert.equal((await request('mail.encrypt', { data, recipientKeys: [], sign: true, extra: 1 })).error?.code, 'invalid_request');
  assert.equal((await request('mail.sign', { data, key: 'x' })).error?.code, 'invalid_request');
  assert.equal((await request('mail.decrypt', { data: 'x', verificationKeys: [], passphrase: 'x' })).error?.code, 'invalid_request');
  assert.equal((await request('mail.verify', { data, signature: 'x', privateKey: 'x' })).error?.code, 'invalid_request');
  assert.equal((await request('mail.encrypt', { data, recipientKeys: [bob.armoredPublic], sign: true })).error?.code, 'locked');
  assert.equal((await request('mail.sign', { data })).error?.code, 'locked');
  const locked = await request('mail.decrypt', { data: '-----BEGIN PGP MESSAGE-----', verificationKeys: [] });
  assert.deepEqual([locked.error?.code, locked.error?.reason], ['decrypt_failed', 'locked']);
});

test('unlocked: bad recipient keys named by index; too large refused; round trip with progress', async () => {
  assert.equal((await request('session.bind', { account: 'alice' })).type, 'session.bind');
  assert.equal((await request('identity.import', { armoredKey: alice.privateKey.armor() })).type, 'identity.import');

  const bad = await request('mail.encrypt', { data, recipientKeys: [bob.armoredPublic, 'garbage'], sign: true });
  assert.deepEqual([bad.error?.code, bad.error?.index], ['bad_recipient_key', 1]);
  const privateGiven = await request('mail.encrypt', { data, recipientKeys: [bob.privateKey.armor()], sign: true });
  assert.deepEqual([privateGiven.error?.code, privateGiven.error?.index], ['bad_recipient_key', 0]);
  assert.equal((await request('mail.encrypt', { data: 'text', recipientKeys: [], sign: true })).error?.code, 'invalid_request');
  assert.equal((await request('mail.encrypt', { data: new Uint8Array(32 * 1024 * 1024 + 1), recipientKeys: [], sign: true })).error?.code, 'too_large');

  const big = new Uint8Array(2 * 1024 * 1024).fill(65);
  const before = posted.length;
  const encrypted = await request('mail.encrypt', { data: big, recipientKeys: [bob.armoredPublic], sign: true, job: 'j7' });
  assert.match(encrypted.armored, /^-----BEGIN PGP MESSAGE-----/);
  const progress = posted.slice(before).filter((message) => message.type === 'mail.progress');
  assert.ok(progress.length >= 2 && progress.every((event) => event.job === 'j7' && event.id === undefined));
  assert.equal(progress.at(-1).done, big.length);

  const decrypted = await request('mail.decrypt', { data: encrypted.armored, verificationKeys: [] });
  assert.equal(decrypted.type, 'mail.decrypt');
  assert.deepEqual(decrypted.data, big);
  assert.equal(decrypted.signatures[0].status, 'valid', 'own signature, own key always known');
  assert.equal(decrypted.signatures[0].fingerprint, alice.privateKey.getFingerprint().toUpperCase());

  const signed = await request('mail.sign', { data });
  assert.match(signed.armoredSignature, /BEGIN PGP SIGNATURE/);
  assert.match(signed.micalg, /^pgp-sha(256|384|512)$/);
  const verified = await request('mail.verify', { data, signature: signed.armoredSignature, verificationKeys: [] });
  assert.equal(verified.signatures[0].status, 'valid');
  const tampered = Uint8Array.from(data);
  tampered[tampered.length - 3] ^= 1;
  assert.equal((await request('mail.verify', { data: tampered, signature: signed.armoredSignature, verificationKeys: [] })).signatures[0].status, 'invalid');
  assert.equal((await request('mail.verify', { data, signature: 'not a signature', verificationKeys: [] })).error?.code, 'bad_signature_data');
});
