// The crypto Worker's reading of a certificate's own facts (user IDs, expiry, revocation,
// subkeys) on the fixtures of tests/fixtures/pgp, and the comparison of a server report with
// them: a report whose name, email, fingerprint, expiry or subkeys were rewritten disagrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { CertificateFactsError, readCertificateFacts, splitUserId } from '../src/crypto/certificate-facts.js';
import { compareReportWithFacts } from '../src/state/certificate-claims.js';

const fixture = (name) => readFile(new URL(`../../tests/fixtures/pgp/${name}`, import.meta.url), 'utf8');
const fingerprintOf = async (name) => (await fixture(`${name}.fpr`)).trim().toUpperCase();

/** The report the server would send for these facts (docs/certificates.md field names). */
const honestReport = (facts) => ({
  name: facts.primaryUserId.name, email: facts.primaryUserId.email, fingerprint: facts.fingerprint,
  key_id: facts.keyId, created: facts.created, expires: facts.expires,
  subkeys: facts.subkeys.map((subkey) => ({ fingerprint: subkey.fingerprint, key_id: subkey.keyId })),
});

test('Ed25519 fixture: fingerprint, user ID, usage, no expiry, not revoked, the Curve25519 subkey', async () => {
  const facts = await readCertificateFacts({ armored: await fixture('alice-ed25519.asc') });
  assert.equal(facts.fingerprint, await fingerprintOf('alice-ed25519'));
  assert.equal(facts.keyId, facts.fingerprint.slice(-16));
  assert.deepEqual(facts.primaryUserId, { userId: 'Alice Example <alice@example.org>', name: 'Alice Example', email: 'alice@example.org' });
  assert.deepEqual(facts.userIds.map((entry) => entry.userId), ['Alice Example <alice@example.org>']);
  assert.deepEqual([facts.algorithm, facts.curve, facts.expires, facts.revoked, facts.expired], ['EdDSA', 'Ed25519', 0, false, false]);
  assert.deepEqual(facts.usage, ['certify', 'sign']);
  assert.equal(facts.subkeys.length, 1);
  assert.deepEqual(
    [facts.subkeys[0].algorithm, facts.subkeys[0].curve, facts.subkeys[0].usage, facts.subkeys[0].valid, facts.subkeys[0].revoked],
    ['ECDH', 'Curve25519', ['encrypt'], true, false],
  );
});

test('RSA, expiring, expired, revoked and signing-subkey fixtures', async () => {
  const bob = await readCertificateFacts({ armored: await fixture('bob-rsa3072.asc') });
  assert.deepEqual([bob.algorithm, bob.bits, bob.subkeys[0].bits], ['RSA', 3072, 3072]);
  assert.equal(bob.fingerprint, await fingerprintOf('bob-rsa3072'));
  const erin = await readCertificateFacts({ armored: await fixture('erin-rnp-rsa3072.asc') });
  assert.ok(erin.expires > erin.created, 'an expiry date is read');
  assert.equal(erin.expired, false);
  const expired = await readCertificateFacts({ armored: await fixture('expired.asc') });
  assert.equal(expired.expired, true);
  assert.ok(expired.expires > 0 && expired.expires * 1000 < Date.now());
  const revoked = await readCertificateFacts({ armored: await fixture('revoked.asc') });
  assert.equal(revoked.revoked, true);
  const sam = await readCertificateFacts({ armored: await fixture('sam-signing-subkey.asc') });
  assert.deepEqual(sam.usage, ['certify']);
  assert.deepEqual(sam.subkeys.map((subkey) => subkey.usage), [['sign'], ['encrypt']]);
});

test('no user ID, not a certificate, a private key: no facts are made up', async () => {
  const bare = await readCertificateFacts({ armored: await fixture('no-user-id.asc') });
  assert.equal(bare.primaryUserId, null);
  assert.deepEqual(bare.userIds, []);
  const isCode = (code) => (error) => error instanceof CertificateFactsError && error.code === code;
  await assert.rejects(readCertificateFacts({ armored: 'hello' }), isCode('not_a_certificate'));
  await assert.rejects(readCertificateFacts({ armored: await fixture('subkey-only.asc') }), isCode('not_a_certificate'));
  await assert.rejects(readCertificateFacts({ armored: await fixture('secret-key-test-only.asc') }), isCode('not_a_certificate'));
  await assert.rejects(readCertificateFacts({ armored: 'x'.repeat(200_000) }), isCode('not_a_certificate'));
});

test('a user ID that was not self-certified by the key is not among the facts', async () => {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Alice', email: 'alice@example.org' }], format: 'object', config: { v6Keys: false } });
  const certificate = privateKey.toPublic();
  // A relay appends a user ID packet without any signature: OpenPGP.js keeps the packet, the facts do not.
  const packets = certificate.toPacketList();
  const forged = new openpgp.UserIDPacket();
  forged.userID = 'Carol Jones <carol@bank.example>';
  packets.splice(3, 0, forged);   // after the genuine user ID and its self-certification
  const armored = openpgp.armor(openpgp.enums.armor.publicKey, packets.write());
  assert.equal((await openpgp.readKey({ armoredKey: armored })).users.length, 2, 'the forged user ID is in the certificate');
  const facts = await readCertificateFacts({ armored });
  assert.deepEqual(facts.userIds.map((entry) => entry.email), ['alice@example.org']);
  assert.equal(facts.primaryUserId.email, 'alice@example.org');
  assert.deepEqual(compareReportWithFacts({ ...honestReport(facts), name: 'Carol Jones', email: 'carol@bank.example' }, facts).problems, ['user_id']);
});

test('splitUserId follows the server: the comment stays in the name', () => {
  assert.deepEqual(splitUserId('Dora D (work) <dora@example.org>'), { name: 'Dora D (work)', email: 'dora@example.org' });
  assert.deepEqual(splitUserId('only a name'), { name: 'only a name', email: '' });
});

test('an honest report agrees; a rewritten name, email, fingerprint, expiry or subkey list disagrees', async () => {
  const facts = await readCertificateFacts({ armored: await fixture('alice-ed25519.asc') });
  const report = honestReport(facts);
  assert.deepEqual(compareReportWithFacts(report, facts), { agrees: true, problems: [] });
  const problems = (changes) => compareReportWithFacts({ ...report, ...changes }, facts).problems;
  assert.deepEqual(problems({ name: 'Carol Jones' }), ['user_id']);
  assert.deepEqual(problems({ email: 'carol@bank.example' }), ['user_id']);
  assert.deepEqual(problems({ fingerprint: await fingerprintOf('bob-rsa3072') }), ['fingerprint']);
  assert.deepEqual(problems({ expires: 1893456000 }), ['expiry']);
  assert.deepEqual(problems({ subkeys: [...report.subkeys, { fingerprint: 'AB'.repeat(20) }] }), ['subkeys']);
  assert.equal(compareReportWithFacts(null, facts).agrees, false);
  assert.equal(compareReportWithFacts(report, null).agrees, false);
  // Upper/lower case of the fingerprint is not a disagreement.
  assert.equal(compareReportWithFacts({ ...report, fingerprint: report.fingerprint.toLowerCase() }, facts).agrees, true);
});

test('revoked, expired or user-ID-less certificates never agree, even with a faithful report', async () => {
  for (const [name, problem] of [['revoked.asc', 'revoked'], ['expired.asc', 'expired']]) {
    const facts = await readCertificateFacts({ armored: await fixture(name) });
    assert.ok(compareReportWithFacts(honestReport(facts), facts).problems.includes(problem), name);
  }
  const bare = await readCertificateFacts({ armored: await fixture('no-user-id.asc') });
  const result = compareReportWithFacts({ name: 'Alice Example', email: 'alice@example.org', fingerprint: bare.fingerprint, expires: 0 }, bare);
  assert.equal(result.agrees, false);
  assert.ok(result.problems.includes('no_user_id'));
});

// --- cost limits: refused from the parsed packets, before any signature is verified ---------

const isTooCostly = (error) => error instanceof CertificateFactsError && error.code === 'certificate_too_costly';

/** Facts of `armored`, timed: a refusal must come before any verification, so well under 1 s. */
async function refusedFast(armored, label) {
  const started = performance.now();
  await assert.rejects(readCertificateFacts({ armored }), isTooCostly, label);
  assert.ok(performance.now() - started < 1000, `${label}: refused in ${performance.now() - started} ms`);
}

/** The fixture's packets, rewritten by `edit(packets, key)`, armored again (nothing re-signed). */
async function rewritten(name, edit) {
  const key = await openpgp.readKey({ armoredKey: await fixture(name) });
  const packets = key.toPacketList();
  edit(packets, key);
  return openpgp.armor(openpgp.enums.armor.publicKey, packets.write());
}

/** A small v4 certificate with one user ID, its self-certification and one subkey binding. */
async function smallCertificate() {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Mallory', email: 'mallory@example.org' }], format: 'object', config: { v6Keys: false } });
  return privateKey;
}

/** [primary, user ID, self-certification, subkey, binding] with `userIds` user IDs × `perUserId` copies of the self-certification. */
function repeated(privateKey, { userIds = 1, perUserId = 1, subkeys = 1, perSubkey = 1, extra = [] } = {}) {
  const [primary, userId, certification, subkey, binding] = privateKey.toPublic().toPacketList();
  const packets = new openpgp.PacketList();
  packets.push(primary, ...extra);
  for (let index = 0; index < userIds; index += 1) packets.push(userId, ...Array(perUserId).fill(certification));
  for (let index = 0; index < subkeys; index += 1) packets.push(subkey, ...Array(perSubkey).fill(binding));
  return openpgp.armor(openpgp.enums.armor.publicKey, packets.write());
}

test('RSA-8192 with a modulus-sized public exponent is refused certificate_too_costly at once', async () => {
  await refusedFast(await fixture('rsa8192-huge-exponent.asc'), 'huge exponent');
  // The same modulus with e = 65537 and the same 32 user IDs is read.
  const facts = await readCertificateFacts({ armored: await fixture('rsa8192-e65537.asc') });
  assert.deepEqual([facts.bits, facts.userIds.length], [8192, 32]);
});

test('RSA and DSA/ElGamal key sizes beyond the limits, on the primary key or a subkey, are refused', async () => {
  const setParam = (which, param, value) => (packets) => { packets.filter((packet) => packet instanceof openpgp.PublicKeyPacket)[which].publicParams[param] = value; };
  const modulus8193 = new Uint8Array(1025).fill(0xff); modulus8193[0] = 1;
  const prime8193 = modulus8193;
  const cases = [
    ['bob-rsa3072.asc', 0, 'e', Uint8Array.of(1, 0, 0, 0, 1), 'exponent 2^32 + 1'],
    ['bob-rsa3072.asc', 0, 'e', Uint8Array.of(1, 0, 0), 'even exponent'],
    ['bob-rsa3072.asc', 0, 'e', Uint8Array.of(1), 'exponent 1'],
    ['bob-rsa3072.asc', 0, 'n', modulus8193, '8193-bit modulus'],
    ['bob-rsa3072.asc', 1, 'e', Uint8Array.of(2), 'even exponent on the subkey'],
    ['dsa-elgamal.asc', 0, 'p', prime8193, '8193-bit DSA prime'],
    ['dsa-elgamal.asc', 0, 'q', new Uint8Array(33).fill(0xff), '264-bit DSA q'],
    ['dsa-elgamal.asc', 1, 'p', prime8193, '8193-bit ElGamal prime on the subkey'],
  ];
  for (const [name, which, param, value, label] of cases) await refusedFast(await rewritten(name, setParam(which, param, value)), label);
  // Unchanged, both fixtures are read (e = 65537, DSA-2048/256 with an ElGamal-2048 subkey).
  assert.equal((await readCertificateFacts({ armored: await fixture('bob-rsa3072.asc') })).bits, 3072);
  assert.equal((await readCertificateFacts({ armored: await fixture('dsa-elgamal.asc') })).bits, 2048);
});

test('too many user IDs, subkeys or signatures are refused; at the limits the certificate is read', async () => {
  const privateKey = await smallCertificate();
  const atLimits = await readCertificateFacts({ armored: repeated(privateKey, { userIds: 31, perUserId: 8, subkeys: 1, perSubkey: 8 }) });
  assert.equal(atLimits.subkeys.length, 1);   // 31 × 8 + 8 = 256 signatures, 8 on the user ID and on the subkey
  await refusedFast(repeated(privateKey, { userIds: 33 }), '33 user IDs');
  await refusedFast(repeated(privateKey, { subkeys: 17 }), '17 subkeys');
  await refusedFast(repeated(privateKey, { perUserId: 9 }), '9 self-certifications on one user ID');
  await refusedFast(repeated(privateKey, { perSubkey: 9 }), '9 signatures on one subkey');
  await refusedFast(repeated(privateKey, { userIds: 32, perUserId: 8 }), '257 signatures');
  const { privateKey: revoked } = await openpgp.revokeKey({ key: privateKey, format: 'object' });
  await refusedFast(repeated(privateKey, { extra: Array(9).fill(revoked.revocationSignatures[0]) }), '9 key revocations');
});

test('third-party certifications count only towards the total, as on the server', async () => {
  const privateKey = await smallCertificate();
  const certifier = await smallCertificate();
  const certified = await privateKey.toPublic().signAllUsers([certifier]);
  const [primary, userId, selfCertification, subkey, binding] = privateKey.toPublic().toPacketList();
  const thirdParty = certified.users[0].otherCertifications[0];
  assert.ok(thirdParty, 'a third-party certification was made');
  const packets = new openpgp.PacketList();
  packets.push(primary, userId, selfCertification, ...Array(20).fill(thirdParty), subkey, binding);
  const facts = await readCertificateFacts({ armored: openpgp.armor(openpgp.enums.armor.publicKey, packets.write()) });
  assert.deepEqual(facts.userIds.map((entry) => entry.email), ['mallory@example.org']);
});
