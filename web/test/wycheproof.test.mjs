// Wycheproof negative and positive vectors (tests/vectors/wycheproof, Apache-2.0) run through
// the primitives exactly as the channel uses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fromBase64Url, fromHex, toHex } from '../src/crypto/protocol/bytes.js';
import { ChannelError } from '../src/crypto/protocol/errors.js';
import {
  SuiteId, deriveSharedSecret, importEphemeralKeyPairForTesting, importPeerPublicKey, x25519PublicKeyFromPrivate,
} from '../src/crypto/protocol/suites.js';
import { hkdfExpand, hkdfExtract, hmacSha256Verify } from '../src/crypto/protocol/key-schedule.js';

const dir = new URL('../../tests/vectors/wycheproof/', import.meta.url);
const load = async (name) => JSON.parse(await readFile(new URL(name, dir), 'utf8'));
const allTests = (file, groupFilter = () => true) =>
  file.testGroups.filter(groupFilter).flatMap((group) => group.tests.map((t) => ({ group, ...t })));

test('Wycheproof AES-GCM (96-bit IV, 128-bit tag, 128/256-bit keys): valid cases round-trip, invalid cases throw', async () => {
  const file = await load('aes_gcm_test.json');
  const cases = allTests(file, (g) => g.ivSize === 96 && g.tagSize === 128 && (g.keySize === 128 || g.keySize === 256));
  let valid = 0;
  let invalid = 0;
  for (const c of cases) {
    const key = await crypto.subtle.importKey('raw', fromHex(c.key), 'AES-GCM', false, ['encrypt', 'decrypt']);
    const params = { name: 'AES-GCM', iv: fromHex(c.iv), additionalData: fromHex(c.aad), tagLength: 128 };
    const sealed = fromHex(c.ct + c.tag);
    if (c.result === 'valid') {
      const plaintext = new Uint8Array(await crypto.subtle.decrypt(params, key, sealed));
      assert.equal(toHex(plaintext), c.msg, `tcId ${c.tcId}`);
      assert.equal(toHex(new Uint8Array(await crypto.subtle.encrypt(params, key, fromHex(c.msg)))), c.ct + c.tag, `tcId ${c.tcId}`);
      valid++;
    } else {
      await assert.rejects(crypto.subtle.decrypt(params, key, sealed), `tcId ${c.tcId} must not decrypt`);
      invalid++;
    }
  }
  assert.ok(valid > 50 && invalid > 20, `ran ${valid} valid and ${invalid} invalid cases`);
});

test('Wycheproof X25519 through the channel ECDH path: shared secrets match, all-zero outputs rejected', async () => {
  const file = await load('x25519_test.json');
  let matched = 0;
  let lowOrderRejected = 0;
  for (const c of allTests(file)) {
    const privateKey = fromHex(c.private);
    const ownPair = await importEphemeralKeyPairForTesting(SuiteId.x25519HkdfSha256Aes256Gcm,
      { privateKey, publicKey: await x25519PublicKeyFromPrivate(privateKey) });
    const peer = await importPeerPublicKey(SuiteId.x25519HkdfSha256Aes256Gcm, fromHex(c.public));
    const derive = deriveSharedSecret(SuiteId.x25519HkdfSha256Aes256Gcm, ownPair.privateKey, peer);
    if (/^0+$/.test(c.shared)) {
      await assert.rejects(derive, (error) => error instanceof ChannelError && error.reason === 'low_order_point', `tcId ${c.tcId}`);
      lowOrderRejected++;
    } else {
      assert.equal(toHex(await derive), c.shared, `tcId ${c.tcId} (${c.comment})`);
      matched++;
    }
  }
  assert.ok(lowOrderRejected > 0, 'the file has low-order cases');
  assert.ok(matched > 400, `matched ${matched}`);
});

function p256RawFromJwk(jwk) {
  // The channel's wire format is the raw uncompressed point; a JWK for another curve or type,
  // or coordinates of the wrong size, have no encoding in it at all.
  if (jwk?.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return null;
  const x = fromBase64Url(jwk.x);
  const y = fromBase64Url(jwk.y);
  if (x.length !== 32 || y.length !== 32) return null;
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(x, 1);
  raw.set(y, 33);
  return raw;
}

test('Wycheproof P-256 ECDH (webcrypto encoding) through the channel import: valid match, invalid public keys rejected', async () => {
  const file = await load('ecdh_secp256r1_webcrypto_test.json');
  let matched = 0;
  let rejected = 0;
  let rejectedByImport = 0;
  for (const c of allTests(file)) {
    const raw = p256RawFromJwk(c.public);
    const attempt = (async () => {
      if (raw === null) throw new ChannelError('invalid_public_key', 'not encodable as a P-256 raw point');
      const peer = await importPeerPublicKey(SuiteId.p256HkdfSha256Aes256Gcm, raw);
      const own = await crypto.subtle.importKey('jwk', c.private, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
      return deriveSharedSecret(SuiteId.p256HkdfSha256Aes256Gcm, own, peer);
    })();
    if (c.result === 'valid') {
      assert.equal(toHex(await attempt), c.shared, `tcId ${c.tcId}`);
      matched++;
    } else {
      await assert.rejects(attempt, (error) => error instanceof ChannelError && error.reason === 'invalid_public_key', `tcId ${c.tcId} (${c.comment})`);
      rejected++;
      if (raw !== null) rejectedByImport++;
    }
  }
  assert.ok(matched > 300, `matched ${matched}`);
  assert.ok(rejected > 10 && rejectedByImport > 0, `rejected ${rejected} (${rejectedByImport} by point validation)`);
});

test('Wycheproof HKDF-SHA-256: Extract+Expand composed from HMAC gives the expected OKM; oversize output throws', async () => {
  const file = await load('hkdf_sha256_test.json');
  let valid = 0;
  let invalid = 0;
  for (const c of allTests(file)) {
    const run = async () => hkdfExpand(await hkdfExtract(fromHex(c.salt), fromHex(c.ikm)), fromHex(c.info), c.size);
    if (c.result === 'valid') {
      assert.equal(toHex(await run()), c.okm, `tcId ${c.tcId}`);
      valid++;
    } else {
      await assert.rejects(run(), `tcId ${c.tcId}`);
      invalid++;
    }
  }
  assert.ok(valid > 50 && invalid > 0);
});

test('Wycheproof HMAC-SHA-256 (full 256-bit tags, as the Finished MACs): valid verify, invalid refused', async () => {
  const file = await load('hmac_sha256_test.json');
  let valid = 0;
  let invalid = 0;
  for (const c of allTests(file, (g) => g.tagSize === 256)) {
    const ok = await hmacSha256Verify(fromHex(c.key), fromHex(c.msg), fromHex(c.tag));
    assert.equal(ok, c.result === 'valid', `tcId ${c.tcId}`);
    if (ok) valid++; else invalid++;
  }
  assert.ok(valid > 10 && invalid > 10);
});
