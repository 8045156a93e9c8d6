// Known-answer tests for room messages (tests/vectors/room/room-frame.json): recompute every
// deterministic value, check the committed signatures verify, check the same bytes with Node's
// own crypto (an implementation independent of WebCrypto's wiring here), run the negative
// cases through the receiver's order of checks, open the vectors through a real room key
// manager, and Wycheproof's ECDSA P-256 P1363 vectors through the room's verification path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createCipheriv, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { fromHex, toHex } from '../src/crypto/protocol/bytes.js';
import {
  RoomCipherError, decodeSenderKeyPlaintext, decryptRoomBody, deriveRoomKeyId, importRoomAesKey, importRoomVerifyKey, parseRoomBody,
  verifyRoomBody, verifyRoomSignature,
} from '../src/crypto/room-cipher.js';
import { createRoomKeyManager } from '../src/crypto/room-keys.js';
import { encodeRoomFrame } from '../src/crypto/room-frame.js';
import { computeNegatives, computeVector, senderKeyNegatives, vectorInputs, withoutSignatures } from '../../tests/vectors/room/make-room-vectors.mjs';

const file = JSON.parse(await readFile(new URL('../../tests/vectors/room/room-frame.json', import.meta.url), 'utf8'));
const verifyKey = await importRoomVerifyKey(fromHex(file.signingKey.verify));
const bodyOf = (vector) => fromHex(vector.expected.bodyWithoutSignature + vector.expected.signature);

/** The receiver's checks in its order: parse, signature, tag, UTF-8. Returns text or a reason. */
async function open({ body, frameType, room, key, owner, ownerFingerprint }) {
  let parsed;
  try {
    parsed = parseRoomBody(body, frameType);
  } catch (error) {
    assert.ok(error instanceof RoomCipherError);
    return { reason: error.reason };
  }
  if (!(await verifyRoomBody({ parsed, frameType, room, owner, ownerFingerprint, verifyKey }))) return { reason: 'bad_signature' };
  let plaintext;
  try {
    plaintext = await decryptRoomBody({ parsed, frameType, room, owner, ownerFingerprint, aesKey: await importRoomAesKey(fromHex(key)) });
  } catch (error) {
    return { reason: error.reason };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(plaintext) };
  } catch {
    return { reason: 'malformed' };
  }
}

test('the vector file holds what the generator computes (signatures aside, which are random)', async () => {
  const vectors = [];
  for (const inputs of vectorInputs) {
    const { id, ...rest } = inputs;
    vectors.push({ id, inputs: rest, expected: await computeVector(inputs) });
  }
  // The negatives derive from vector 0's committed body (its signature is not recomputable).
  const negative = await computeNegatives({ ...file.vectors[0], inputs: vectorInputs[0] });
  const recomputed = withoutSignatures({ ...file, vectors, negative, senderKeyNegative: senderKeyNegatives({ ...vectors[0], inputs: vectorInputs[0] }) });
  assert.ok(isDeepStrictEqual(withoutSignatures(file), recomputed), 'run node tests/vectors/room/make-room-vectors.mjs to see the difference');
  assert.equal(file.vectors.length, 3);
});

for (const vector of file.vectors) {
  test(`KAT ${vector.id}: AAD, ciphertext‖tag, body layout; the committed signature verifies; it opens`, async () => {
    const { inputs, expected } = vector;
    const computed = await computeVector({ id: vector.id, ...inputs });
    assert.equal(computed.aad, expected.aad);
    assert.equal(computed.ciphertext, expected.ciphertext);
    assert.equal(computed.bodyWithoutSignature, expected.bodyWithoutSignature);
    assert.equal(computed.senderKeyPlaintext, expected.senderKeyPlaintext);
    // keyId = SHA-256(field(label) ‖ field(room) ‖ field(owner) ‖ field(fingerprint) ‖ field(verify))[0..16], spelled out.
    const field = (hex) => (hex.length / 2).toString(16).padStart(4, '0') + hex;
    const ascii = (text) => toHex(new TextEncoder().encode(text));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', fromHex(field(ascii('secms room key id v2')) + field(ascii(inputs.room))
      + field(ascii(inputs.owner)) + field(inputs.ownerFingerprint) + field(file.signingKey.verify))));
    assert.equal(toHex(digest.subarray(0, 16)), inputs.keyId);
    assert.equal(await deriveRoomKeyId({ room: inputs.room, owner: inputs.owner, ownerFingerprint: inputs.ownerFingerprint, verify: fromHex(file.signingKey.verify) }), inputs.keyId);
    // AAD = "secms room v2" ‖ type ‖ room ‖ version ‖ keyId ‖ u32 counter ‖ u8 len ‖ owner ‖ u8 len ‖ fingerprint, spelled out here.
    const counter = inputs.counter.toString(16).padStart(8, '0');
    const u8 = (n) => n.toString(16).padStart(2, '0');
    assert.equal(expected.aad, ascii('secms room v2') + u8(inputs.frameType) + ascii(inputs.room) + '02' + inputs.keyId + counter
      + u8(inputs.owner.length) + ascii(inputs.owner) + u8(inputs.ownerFingerprint.length / 2) + inputs.ownerFingerprint);
    assert.equal(expected.bodyWithoutSignature, `02${inputs.keyId}${counter}${inputs.iv}${expected.ciphertext}`);
    assert.equal(expected.ciphertext.length / 2, new TextEncoder().encode(inputs.plaintext).length + 16);
    // Independent AES-256-GCM (OpenSSL through node:crypto).
    const cipher = createCipheriv('aes-256-gcm', fromHex(inputs.key), fromHex(inputs.iv));
    cipher.setAAD(fromHex(expected.aad));
    const independent = Buffer.concat([cipher.update(inputs.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    assert.equal(independent.toString('hex'), expected.ciphertext);
    // The signature: WebCrypto through the room path, and node:crypto in P1363 form.
    const signed = fromHex(expected.aad + inputs.iv + expected.ciphertext);
    assert.equal(await verifyRoomSignature({ verifyKey, signature: fromHex(expected.signature), data: signed }), true);
    const nodeKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: file.signingKey.jwk.x, y: file.signingKey.jwk.y }, format: 'jwk' });
    assert.equal(nodeVerify('sha256', signed, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, fromHex(expected.signature)), true);
    assert.deepEqual(await open({ body: bodyOf(vector), frameType: inputs.frameType, room: inputs.room, key: inputs.key, owner: inputs.owner, ownerFingerprint: inputs.ownerFingerprint }), { text: inputs.plaintext });
    // The sender-key plaintext decodes to the same key, owner, counter floor and predecessor.
    const decoded = decodeSenderKeyPlaintext(new TextEncoder().encode(expected.senderKeyPlaintext));
    assert.deepEqual([decoded.room, decoded.owner, decoded.ownerFingerprint, decoded.keyId, toHex(decoded.key), toHex(decoded.verify), decoded.next, decoded.prevKeyId, decoded.prevCount],
      [inputs.room, inputs.owner, inputs.ownerFingerprint, inputs.keyId, inputs.key, file.signingKey.verify, inputs.next, inputs.prevKeyId, inputs.prevCount]);
    // Version 3, spelled out: the public fields around the key's hex digits, in this order.
    assert.equal(expected.senderKeyPlaintext, `{"v":3,"room":"${inputs.room}","owner":"${inputs.owner}","ownerFingerprint":"${inputs.ownerFingerprint}","keyId":"${inputs.keyId}",`
      + `"key":"${inputs.key}","verify":"${file.signingKey.verify}","next":${inputs.next},"prevKeyId":"${inputs.prevKeyId ?? ''}","prevCount":${inputs.prevCount}}`);
  });
}

test('negative vectors: each refused with its reason, in the receiver\'s order of checks', async () => {
  const { key, owner, ownerFingerprint } = file.vectors[0].inputs;
  assert.ok(file.negative.length >= 18);
  for (const item of file.negative) {
    const result = await open({ body: fromHex(item.body), frameType: item.frameType, room: item.room, key, owner: item.owner ?? owner, ownerFingerprint: item.ownerFingerprint ?? ownerFingerprint });
    assert.deepEqual(result, { reason: item.reason }, item.id);
  }
});

test('negative sender-key plaintexts are refused (malformed; versions 1 and 2 as old_version)', () => {
  assert.ok(file.senderKeyNegative.length >= 28);
  assert.deepEqual(file.senderKeyNegative.filter((item) => item.reason === 'old_version').map((item) => item.id), ['version-1', 'version-2', 'version-2-with-new-fields']);
  for (const item of file.senderKeyNegative) {
    assert.throws(() => decodeSenderKeyPlaintext(new TextEncoder().encode(item.plaintext)), (e) => e instanceof RoomCipherError && e.reason === item.reason, item.id);
  }
});

test('the vectors open through a room key manager, bound to the user the key came from', async () => {
  const events = [];
  const manager = createRoomKeyManager({ emit: (e) => events.push(e), sendSenderKey: async () => false, self: () => 'carol', selfFingerprint: () => 'ca'.repeat(20) });
  const rooms = [...new Set(file.vectors.map((v) => v.inputs.room))];
  const owners = [...new Set(file.vectors.map((v) => v.inputs.owner))];
  for (const room of rooms) await manager.members({ room, members: ['carol', ...owners] });
  for (const vector of file.vectors) {
    const { owner, ownerFingerprint } = vector.inputs;
    // Each key arrives over its owner's channel (the channel's peer and accepted fingerprint).
    manager.receiveSenderKey({ peerUser: owner, peerFingerprint: ownerFingerprint.toUpperCase(), plaintext: new TextEncoder().encode(vector.expected.senderKeyPlaintext) });
  }
  // Keys and frames are opened asynchronously (WebCrypto): wait for the events, not a fixed time
  // (a loaded machine takes longer than any fixed wait).
  const settled = async (type, count) => {
    for (let waited = 0; events.filter((e) => e.type === type).length < count && waited < 10_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 30));  // and anything more than expected
  };
  await settled('room.key_received', 2);
  // Vectors 0 and 1 share a key id: the second delivery of the same id is ignored.
  assert.equal(events.filter((e) => e.type === 'room.key_received').length, 2);
  for (const [i, vector] of file.vectors.entries()) {
    const frame = encodeRoomFrame({ frameType: vector.inputs.frameType, room: vector.inputs.room, sequence: i, body: bodyOf(vector) });
    assert.deepEqual(manager.receiveFrame({ frame: frame.buffer }), { accepted: true });
  }
  await settled('room.message', file.vectors.length);
  // Each room has its own queue: compare as sets across rooms.
  const byText = (a, b) => (a.text < b.text ? -1 : 1);
  assert.deepEqual(events.filter((e) => e.type === 'room.message').sort(byText),
    file.vectors.map((v) => ({ type: 'room.message', room: v.inputs.room, from: v.inputs.owner, frameType: v.inputs.frameType, text: v.inputs.plaintext })).sort(byText));
  manager.forgetAll();
});

test('Wycheproof ECDSA P-256 SHA-256 (IEEE P1363) through the room verification path', async () => {
  const wycheproof = JSON.parse(await readFile(new URL('../../tests/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json', import.meta.url), 'utf8'));
  let valid = 0;
  let invalid = 0;
  for (const group of wycheproof.testGroups) {
    let key = null;
    try {
      key = await importRoomVerifyKey(fromHex(group.publicKey.uncompressed));
    } catch {
      key = null;   // a public key the import refuses: every signature under it counts as refused
    }
    for (const c of group.tests) {
      const ok = key !== null && await verifyRoomSignature({ verifyKey: key, signature: fromHex(c.sig), data: fromHex(c.msg) });
      if (c.result === 'valid') {
        assert.equal(ok, true, `tcId ${c.tcId} (${c.comment}) must verify`);
        valid += 1;
      } else if (c.result === 'invalid') {
        assert.equal(ok, false, `tcId ${c.tcId} (${c.comment}) must not verify`);
        invalid += 1;
      }
    }
  }
  assert.ok(valid > 100 && invalid > 50, `ran ${valid} valid and ${invalid} invalid cases`);
});
