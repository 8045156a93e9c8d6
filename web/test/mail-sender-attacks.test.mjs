// A hostile sender (or a hostile server on the way) against the reading side of the Email tab:
// each test is one attack of the review r1 (signature trust bound to the From address through the
// key directory, protected headers, unsigned encrypted mail, compression bombs, inline PGP, vCard
// keys, gossip, attachment names) and fails when the attack works again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { createMailCrypto, MAX_DECOMPRESSED_BYTES } from '../src/crypto/mail-crypto.js';
import { setLanguage } from '../src/i18n/index.js';
import { localCrypto } from './helpers/mail-parties.mjs';

setLanguage('en');

async function makeKey(name, email, extraEmails = []) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email }, ...extraEmails.map((extra) => ({ name, email: extra }))], format: 'object', config: { v6Keys: false },
  });
  return { privateKey, armoredPublic: privateKey.toPublic().armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

const bob = await makeKey('Bob', 'bob@localhost');

// ---- F5: compression bomb ---------------------------------------------------------------------

test('F5: a compressed message that inflates past the limit is refused as too_large, without inflating it all', async () => {
  const size = MAX_DECOMPRESSED_BYTES + (16 << 20);
  let left = size;
  const zeros = new Uint8Array(4 << 20);
  const source = new ReadableStream({
    pull(controller) {
      if (left <= 0) { controller.close(); return; }
      const n = Math.min(left, zeros.length);
      controller.enqueue(zeros.subarray(0, n));
      left -= n;
    },
  });
  const message = await openpgp.createMessage({ binary: source });
  const armoredStream = await openpgp.encrypt({ message, encryptionKeys: bob.privateKey.toPublic(), config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } });
  let armored = '';
  for await (const piece of armoredStream) armored += piece;
  assert.ok(armored.length < 1 << 20, 'the bomb is small on the wire');
  const mail = createMailCrypto({ identity: () => bob.privateKey });
  await assert.rejects(mail.decrypt({ data: armored, verificationKeys: [] }), (error) => {
    assert.equal(error.code, 'decrypt_failed');
    assert.equal(error.reason, 'too_large');
    return true;
  });
  // The reader says so in words.
  const { openMessage } = await import('../src/mail/mime-read.js');
  const raw = new TextEncoder().encode([
    'From: <mallory@evil.example>', 'To: <bob@localhost>', 'Subject: [...]', 'MIME-Version: 1.0',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"', '',
    '--b', 'Content-Type: application/pgp-encrypted', '', 'Version: 1', '',
    '--b', 'Content-Type: application/octet-stream', '', armored, '--b--', '',
  ].join('\r\n'));
  const model = await openMessage({ raw, crypto: localCrypto(bob.privateKey), keyring: { verificationKeys: [] } });
  assert.equal(model.security.decryption_error, 'too_large');
  const { securitySummary } = await import('../src/ui/mail/mail-security.js');
  assert.ok(securitySummary(model.security).lines.some((line) => /too large once decompressed/.test(line)));
});

test('F5: an ordinary compressed message still opens', async () => {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode('hello '.repeat(1000)) });
  const armored = await openpgp.encrypt({ message, encryptionKeys: bob.privateKey.toPublic(), config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } });
  const mail = createMailCrypto({ identity: () => bob.privateKey });
  const { data } = await mail.decrypt({ data: armored, verificationKeys: [] });
  assert.equal(data.length, 6000);
});
