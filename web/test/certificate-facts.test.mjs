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
