// Identity operations of the crypto Worker that run in Node: create, import (with and without
// passphrase), wrong passphrase, weak and unsupported keys, storage protection, challenge
// signature over the exact bytes, accepted-certificate check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import {
  IdentityError, describeIdentity, exportPublicCertificate, generateIdentity, importIdentity,
  protectForStorage, readAcceptedCertificate, signChallenge, storageNeedsUpgrade, unlockStoredIdentity,
} from '../src/crypto/identity.js';
import { possessionChallengeText } from '../src/crypto/protocol/signing-contexts.js';

const isCode = (code) => (error) => error instanceof IdentityError && error.code === code;

test('create: v4 EdDSA-legacy signing key + ECDH Curve25519 subkey, user ID "Name <email>"', async () => {
  const key = await generateIdentity({ name: 'Alice Example', email: 'alice@example.org' });
  assert.equal(key.keyPacket.version, 4);
  assert.deepEqual(key.getAlgorithmInfo(), { algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
  assert.deepEqual(key.subkeys.map((s) => s.getAlgorithmInfo()), [{ algorithm: 'ecdh', curve: 'curve25519Legacy' }]);
  const summary = describeIdentity(key);
  assert.equal(summary.userId, 'Alice Example <alice@example.org>');
  assert.match(summary.fingerprint, /^[0-9A-F]{40}$/);
  const exported = exportPublicCertificate(key);
  assert.match(exported, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  assert.doesNotMatch(exported, /PRIVATE/);
  assert.equal((await openpgp.readKey({ armoredKey: exported })).isPrivate(), false);
});

test('create refuses a bad name or email', async () => {
  await assert.rejects(generateIdentity({ name: '', email: 'a@b.org' }), isCode('invalid_name'));
  await assert.rejects(generateIdentity({ name: 'A <x>', email: 'a@b.org' }), isCode('invalid_name'));
  await assert.rejects(generateIdentity({ name: 'A', email: 'not an email' }), isCode('invalid_email'));
});

test('import with passphrase unlocks; wrong or missing passphrase is a clear error', async () => {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Bob', email: 'bob@example.org' }],
    passphrase: 'the right passphrase', format: 'armored', config: { v6Keys: false },
  });
  const key = await importIdentity({ armoredKey: privateKey, passphrase: 'the right passphrase' });
  assert.equal(key.isDecrypted(), true);
  assert.equal(describeIdentity(key).userId, 'Bob <bob@example.org>');
  await assert.rejects(importIdentity({ armoredKey: privateKey, passphrase: 'wrong' }), isCode('wrong_passphrase'));
  await assert.rejects(importIdentity({ armoredKey: privateKey }), isCode('passphrase_required'));
  await assert.rejects(importIdentity({ armoredKey: 'hello' }), isCode('not_a_private_key'));
  const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'P' }], format: 'armored', config: { v6Keys: false } });
  await assert.rejects(importIdentity({ armoredKey: publicKey }), isCode('not_a_private_key'));
});

test('import refuses RSA-1024 (weak) and v6 / RFC 9580 Ed25519 keys (the server cannot read them); accepts RSA-2048', async () => {
  const rsa1024 = await openpgp.generateKey({ type: 'rsa', rsaBits: 1024, userIDs: [{ name: 'R', email: 'r@example.org' }], format: 'armored', config: { minRSABits: 1024, v6Keys: false } });
  await assert.rejects(importIdentity({ armoredKey: rsa1024.privateKey }), isCode('weak_key'));
  const v6 = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'S', email: 's@example.org' }], format: 'armored', config: { v6Keys: true } });
  await assert.rejects(importIdentity({ armoredKey: v6.privateKey }), isCode('unsupported_key'));
  const rsa2048 = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'T', email: 't@example.org' }], format: 'armored', config: { v6Keys: false } });
  const key = await importIdentity({ armoredKey: rsa2048.privateKey });
  assert.equal(describeIdentity(key).bits, 2048);
});

test('stored form is passphrase-protected; unlocking needs the passphrase', async () => {
  const key = await generateIdentity({ name: 'Carol', email: 'carol@example.org' });
  await assert.rejects(protectForStorage({ privateKey: key, passphrase: '' }), isCode('remember_needs_passphrase'));
  const stored = await protectForStorage({ privateKey: key, passphrase: 'kept secret, violet harbour' });
  const reread = await openpgp.readPrivateKey({ armoredKey: stored });
  assert.equal(reread.isDecrypted(), false, 'the stored key is encrypted');
  assert.equal(key.isDecrypted(), true, 'protecting a copy leaves the key in memory usable');
  await assert.rejects(unlockStoredIdentity({ armoredKey: stored, passphrase: 'nope' }), isCode('wrong_passphrase'));
  await assert.rejects(unlockStoredIdentity({ armoredKey: stored, passphrase: '' }), isCode('passphrase_required'));
  const unlocked = await unlockStoredIdentity({ armoredKey: stored, passphrase: 'kept secret, violet harbour' });
  assert.equal(unlocked.getFingerprint(), key.getFingerprint());
});

test('stored form: every secret key packet is under Argon2 S2K (type 4) with AEAD (S2K usage 253), AES-256-GCM', async () => {
  const key = await generateIdentity({ name: 'Gail', email: 'gail@example.org' });
  const stored = await protectForStorage({ privateKey: key, passphrase: 'seven quiet lanterns 1987' });
  const reread = await openpgp.readPrivateKey({ armoredKey: stored });
  const packets = [reread.keyPacket, ...reread.subkeys.map((subkey) => subkey.keyPacket)];
  assert.equal(packets.length, 2);
  for (const packet of packets) {
    // The octets as stored (RFC 9580 §5.5.3): after the public part come the S2K usage octet,
    // the cipher, the AEAD mode, then the S2K specifier whose first octet is its type.
    const publicPart = packet.writePublicKey();
    const body = packet.write();
    assert.deepEqual([...body.slice(publicPart.length, publicPart.length + 4)], [253, 9, 3, 4], 'usage 253, AES-256, GCM, Argon2');
    assert.equal(packet.s2k.type, 'argon2');
    assert.equal(openpgp.enums.s2k.argon2, 4);
  }
  assert.equal(await storageNeedsUpgrade({ armoredKey: stored }), false);
});

test('a weak passphrase is refused for the stored key (too short, common, too simple)', async () => {
  const key = await generateIdentity({ name: 'Hal', email: 'hal@example.org' });
  for (const passphrase of ['kept secret', 'Password123!', 'aaaaaaaaaaaaaaaa', 'abcdefghijklmnop', '123456789012']) {
    await assert.rejects(protectForStorage({ privateKey: key, passphrase }), isCode('weak_passphrase'), passphrase);
  }
});

test('a key stored in the old form (iterated SHA-256 S2K, CFB) still unlocks and is detected for re-protection', async () => {
  const key = await generateIdentity({ name: 'Ivy', email: 'ivy@example.org' });
  // What protectForStorage wrote before: the library defaults, and a short passphrase.
  const old = (await openpgp.encryptKey({ privateKey: key, passphrase: 'short' })).armor();
  const oldPacket = (await openpgp.readPrivateKey({ armoredKey: old })).keyPacket;
  assert.equal(oldPacket.s2kUsage, 254);
  assert.equal(oldPacket.s2k.type, 'iterated');
  assert.equal(await storageNeedsUpgrade({ armoredKey: old }), true);
  const unlocked = await unlockStoredIdentity({ armoredKey: old, passphrase: 'short' });
  // The Worker re-protects it at unlock with the same passphrase (allowWeak: its owner chose it before the minimum).
  const upgraded = await protectForStorage({ privateKey: unlocked, passphrase: 'short', allowWeak: true });
  assert.equal(await storageNeedsUpgrade({ armoredKey: upgraded }), false);
  assert.equal((await unlockStoredIdentity({ armoredKey: upgraded, passphrase: 'short' })).getFingerprint(), key.getFingerprint());
});

test('challenge signature: detached, armored, binary over the exact bytes of a checked v2 challenge (LF kept)', async () => {
  const key = await generateIdentity({ name: 'Dan', email: 'dan@example.org' });
  const nowSeconds = 1_800_000_000;
  const challenge = possessionChallengeText({
    origin: 'https://localhost', user: 'dan', fingerprint: key.getFingerprint(), nonce: 'a1'.repeat(32), time: nowSeconds,
  });
  const armored = await signChallenge({ privateKey: key, challenge, origin: 'https://localhost', account: 'dan', nowSeconds });
  assert.match(armored, /^-----BEGIN PGP SIGNATURE-----/);
  const signature = await openpgp.readSignature({ armoredSignature: armored });
  assert.equal(signature.packets[0].signatureType, openpgp.enums.signature.binary);
  const verifyOver = async (bytes) => {
    const { signatures } = await openpgp.verify({ message: await openpgp.createMessage({ binary: bytes }), signature, verificationKeys: key.toPublic() });
    return signatures[0].verified.then(() => true, () => false);
  };
  assert.equal(await verifyOver(new TextEncoder().encode(challenge)), true);
  assert.equal(await verifyOver(new TextEncoder().encode(challenge.replaceAll('\n', '\r\n'))), false);
  // The v1 text the server used to send is no longer signed.
  await assert.rejects(signChallenge({
    privateKey: key, challenge: 'Security.MS proof of possession v1\norigin: https://localhost\nuser: dan\nnonce: abc\n', origin: 'https://localhost', account: 'dan', nowSeconds,
  }), isCode('challenge_refused'));
});

test('the accepted certificate must match the fingerprint shown to the user', async () => {
  const key = await generateIdentity({ name: 'Eve', email: 'eve@example.org' });
  const other = await generateIdentity({ name: 'Fay', email: 'fay@example.org' });
  const armored = exportPublicCertificate(key);
  const certificate = await readAcceptedCertificate({ armored, fingerprint: key.getFingerprint().toUpperCase() });
  assert.equal(certificate.getFingerprint(), key.getFingerprint());
  await assert.rejects(readAcceptedCertificate({ armored, fingerprint: other.getFingerprint() }), isCode('certificate_mismatch'));
  await assert.rejects(readAcceptedCertificate({ armored: key.armor(), fingerprint: key.getFingerprint() }), isCode('not_a_certificate'));
  await assert.rejects(readAcceptedCertificate({ armored: 'junk', fingerprint: key.getFingerprint() }), isCode('not_a_certificate'));
});
