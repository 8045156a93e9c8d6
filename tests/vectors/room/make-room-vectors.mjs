#!/usr/bin/env node
// Generates the room-message known-answer vectors (docs/protocol.md "Room messages (sender
// keys)") ONCE; room-frame.json beside this script is committed and then fixed data. The test
// (web/test/room-vectors.test.mjs) recomputes every deterministic value and compares.
//
//   node tests/vectors/room/make-room-vectors.mjs           compare only (the default; never writes)
//   node tests/vectors/room/make-room-vectors.mjs --write   (re)generate room-frame.json
//
// ECDSA signatures in WebCrypto are randomised, so a signature cannot be recomputed: the file
// keeps one signature per vector (and per signed negative case) made with the fixed key, and
// the test checks that it verifies. Everything else — sender-key plaintext, AAD, ciphertext‖tag,
// the body up to the signature — is a function of the fixed inputs. Re-generating is a protocol
// change only if a deterministic value changes; new signatures alone are harmless.
//
// Fixed inputs: the P-256 key pair of RFC 6979 §A.2.5, counting-pattern keys, IVs and owner
// fingerprints; the key ids are the version-2 derivation from (room, owner, fingerprint, verify),
// written out here and recomputed by the test.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { concatBytes, fromHex, toBase64Url, toHex } from '../../../web/src/crypto/protocol/bytes.js';
import {
  ROOM_BODY_LIMITS, deriveRoomKeyId, encodeSenderKeyPlaintext, importRoomAesKey, parseRoomBody, roomAad, sealRoomBody,
} from '../../../web/src/crypto/room-cipher.js';

export const vectorFile = new URL('room-frame.json', import.meta.url);

// RFC 6979 §A.2.5 (ECDSA, 256 bits, prime field): private key x and public key (Ux, Uy).
const rfc6979 = {
  d: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
  x: '60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6',
  y: '7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299',
};
export const signingJwk = Object.freeze({
  kty: 'EC', crv: 'P-256', x: toBase64Url(fromHex(rfc6979.x)), y: toBase64Url(fromHex(rfc6979.y)), d: toBase64Url(fromHex(rfc6979.d)),
});
export const verifyKeyHex = `04${rfc6979.x}${rfc6979.y}`;

const ramp = (start, length) => toHex(Uint8Array.from({ length }, (_, i) => (start + i) & 0xff));
const room = '5ec05ec05ec05ec05ec05ec05ec05ec0';

export const vectorInputs = Object.freeze([
  {
    id: 'message-counter-0', room, owner: 'alice', ownerFingerprint: ramp(0x60, 20), frameType: 3, keyId: '5050abbe9c1ebc08d410df1a724c0910', key: ramp(0x20, 32), counter: 0, iv: ramp(0x40, 12),
    next: 0, prevKeyId: null, prevCount: 0,
    plaintext: '{"v":1,"kind":"message","id":"00112233445566778899aabbccddeeff","text":"hello room ✓"}',
  },
  {
    id: 'control-counter-16909060', room, owner: 'alice', ownerFingerprint: ramp(0x60, 20), frameType: 4, keyId: '5050abbe9c1ebc08d410df1a724c0910', key: ramp(0x20, 32), counter: 0x01020304, iv: ramp(0x50, 12),
    next: 0x01020304, prevKeyId: ramp(0x70, 16), prevCount: 4096,
    plaintext: '{"v":1,"kind":"delete","id":"ffeeddccbbaa99887766554433221100","target":"00112233445566778899aabbccddeeff"}',
  },
  {
    id: 'message-other-key-unicode', room: 'f'.repeat(32), owner: 'bob.b-2', ownerFingerprint: ramp(0x80, 32), frameType: 3, keyId: 'c3cbddbe48e4d3605cfa9d525179565c', key: ramp(0xc0, 32), counter: 1, iv: ramp(0xe0, 12),
    next: 1, prevKeyId: ramp(0xa0, 16), prevCount: 2 ** 32,
    plaintext: 'Grüße, 世界! 😀 \u202e(bidi stays text)',
  },
]);

export async function signingKey() {
  return crypto.subtle.importKey('jwk', signingJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/** The deterministic values of one vector. */
export async function computeVector(inputs) {
  const keyId = fromHex(inputs.keyId);
  const owner = { owner: inputs.owner, ownerFingerprint: inputs.ownerFingerprint };
  const derived = await deriveRoomKeyId({ room: inputs.room, ...owner, verify: fromHex(verifyKeyHex) });
  if (derived !== inputs.keyId) throw new Error(`${inputs.id}: key id ${inputs.keyId} is not the derivation ${derived}`);
  const aad = roomAad({ frameType: inputs.frameType, room: inputs.room, keyId, counter: inputs.counter, ...owner });
  const aesKey = await importRoomAesKey(fromHex(inputs.key));
  const body = await sealRoomBody({
    frameType: inputs.frameType, room: inputs.room, keyId, counter: inputs.counter, ...owner, iv: fromHex(inputs.iv),
    aesKey, signingKey: await signingKey(), plaintext: new TextEncoder().encode(inputs.plaintext),
  });
  const parsed = parseRoomBody(body, inputs.frameType);
  return {
    senderKeyPlaintext: new TextDecoder().decode(encodeSenderKeyPlaintext({
      room: inputs.room, ...owner, keyId: inputs.keyId, key: fromHex(inputs.key), verify: verifyKeyHex, next: inputs.next, prevKeyId: inputs.prevKeyId, prevCount: inputs.prevCount,
    })),
    aad: toHex(aad),
    ciphertext: toHex(parsed.ciphertext),
    bodyWithoutSignature: toHex(body.subarray(0, body.length - 64)),
    signature: toHex(parsed.signature),   // random: kept from --write, checked by verification
  };
}

const p256Order = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

function flip(hex, byteIndex) {
  const bytes = fromHex(hex);
  bytes[byteIndex] ^= 0x01;
  return toHex(bytes);
}

/**
 * Negative cases, all from vector 0's body (checked with vector 0's keys): the reason the
 * receiver gives, in the receiver's order of checks (parse, signature, tag, text).
 */
export async function computeNegatives(vector) {
  const { inputs } = vector;
  const body = vector.expected.bodyWithoutSignature + vector.expected.signature;
  const length = body.length / 2;
  const sigAt = length - 64;
  const cases = [
    ['ciphertext-bit', 'one ciphertext bit flipped', flip(body, 33)],
    ['tag-bit', 'one tag bit flipped', flip(body, sigAt - 1)],
    ['iv-bit', 'one IV bit flipped', flip(body, 21)],
    ['counter-changed', 'counter 0 → 1 (a relay renumbering)', flip(body, 20)],
    ['key-id-bit', 'one key id bit flipped (checked with the right key anyway)', flip(body, 1)],
    ['signature-bit', 'one signature bit flipped', flip(body, sigAt + 10)],
    ['signature-zero', 'r = s = 0', body.slice(0, 2 * sigAt) + '00'.repeat(64)],
    ['signature-r-is-n', 'r = n (out of range)', body.slice(0, 2 * sigAt) + p256Order + body.slice(2 * sigAt + 64)],
  ].map(([id, description, mutated]) => ({ id, description, frameType: inputs.frameType, room: inputs.room, body: mutated, reason: 'bad_signature' }));
  cases.push({ id: 'type-swapped', description: 'the message body presented as a control frame (type 4)', frameType: 4, room: inputs.room, body, reason: 'bad_signature' });
  cases.push({ id: 'room-changed', description: 'the body presented in another room', frameType: inputs.frameType, room: '0'.repeat(32), body, reason: 'bad_signature' });
  cases.push({ id: 'version-1', description: 'body version 1 (no owner binding)', frameType: inputs.frameType, room: inputs.room, body: `01${body.slice(2)}`, reason: 'old_version' });
  cases.push({ id: 'version-3', description: 'body version 3', frameType: inputs.frameType, room: inputs.room, body: `03${body.slice(2)}`, reason: 'malformed' });
  // The same body, opened by a receiver that holds the key under another owner: the AAD names
  // the owner, so a line signed under one member's key is never shown as another's.
  cases.push({ id: 'owner-changed', description: 'opened as if the key were bob\'s', frameType: inputs.frameType, room: inputs.room, owner: 'bob', body, reason: 'bad_signature' });
  cases.push({ id: 'owner-fingerprint-changed', description: 'opened with another owner fingerprint', frameType: inputs.frameType, room: inputs.room, ownerFingerprint: flip(inputs.ownerFingerprint, 19), body, reason: 'bad_signature' });
  cases.push({ id: 'truncated', description: '113 bytes: no room for a byte of plaintext', frameType: inputs.frameType, room: inputs.room, body: body.slice(0, 2 * 21 + 2 * 12) + body.slice(-2 * 80), reason: 'malformed' });
  cases.push({ id: 'control-too-large', description: 'a 2049-byte body as a control frame', frameType: 4, room: inputs.room, body: '01'.repeat(ROOM_BODY_LIMITS[4] + 1), reason: 'too_large' });
  // Signed by the key's holder, but the AEAD does not open: bad_tag (a member's buggy or
  // hostile client; the signature alone does not make a frame acceptable).
  const key = await signingKey();
  const resign = async (id, description, header, ciphertext) => {
    const aad = roomAad({ frameType: inputs.frameType, room: inputs.room, keyId: fromHex(inputs.keyId), counter: inputs.counter, owner: inputs.owner, ownerFingerprint: inputs.ownerFingerprint });
    const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, concatBytes(aad, fromHex(inputs.iv), ciphertext)));
    return { id, description, frameType: inputs.frameType, room: inputs.room, body: header + toHex(ciphertext) + toHex(signature), reason: null };
  };
  const header = body.slice(0, 2 * 33);
  const ciphertext = fromHex(vector.expected.ciphertext);
  const badTag = Uint8Array.from(ciphertext);
  badTag[badTag.length - 1] ^= 0x80;
  cases.push({ ...(await resign('signed-bad-tag', 'a tag bit flipped, then signed again with the right key', header, badTag)), reason: 'bad_tag' });
  // Not UTF-8: 0xff encrypted under the right key and signed.
  const aesKey = await importRoomAesKey(fromHex(inputs.key));
  const aad = roomAad({ frameType: inputs.frameType, room: inputs.room, keyId: fromHex(inputs.keyId), counter: inputs.counter, owner: inputs.owner, ownerFingerprint: inputs.ownerFingerprint });
  const notText = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: fromHex(inputs.iv), additionalData: aad, tagLength: 128 }, aesKey, Uint8Array.of(0xff)));
  cases.push({ ...(await resign('signed-not-utf8', 'the plaintext 0xff (not UTF-8), encrypted and signed correctly', header, notText)), reason: 'malformed' });
  return cases;
}

/** Sender-key plaintexts the receiver must refuse, derived from vector 0's, with the reason. */
export function senderKeyNegatives(vector) {
  const good = vector.expected.senderKeyPlaintext;
  const { key, keyId, room: id, owner, ownerFingerprint } = vector.inputs;
  const v1 = `{"v":1,"room":"${id}","keyId":"${keyId}","key":"${key}","verify":"${verifyKeyHex}"}`;
  // Version 2: owner-bound, but no counter floor and no predecessor (a late tab would accept replays).
  const v2 = good.replace('{"v":3,', '{"v":2,').replace(/,"next":.*\}$/, '}');
  return [
    ['version-1', v1, 'old_version'],
    ['version-2', v2, 'old_version'],
    ['version-2-with-new-fields', good.replace('{"v":3,', '{"v":2,'), 'old_version'],
    ['version-4', good.replace('{"v":3,', '{"v":4,')],
    ['next-leading-zero', good.replace('"next":0,', '"next":00,')],
    ['next-negative', good.replace('"next":0,', '"next":-1,')],
    ['next-too-large', good.replace('"next":0,', '"next":4294967297,')],
    ['next-fraction', good.replace('"next":0,', '"next":0.5,')],
    ['next-as-string', good.replace('"next":0,', '"next":"0",')],
    ['missing-next', good.replace('"next":0,', '')],
    ['count-without-previous-key', good.replace('"prevCount":0}', '"prevCount":1}')],
    ['previous-key-is-itself', good.replace('"prevKeyId":""', `"prevKeyId":"${keyId}"`)],
    ['previous-key-upper-case', good.replace('"prevKeyId":""', `"prevKeyId":"${'AB'.repeat(16)}"`)],
    ['previous-key-null', good.replace('"prevKeyId":""', '"prevKeyId":null')],
    ['fields-after-key-reordered', good.replace(/"next":0,"prevKeyId":"","prevCount":0/, '"prevKeyId":"","next":0,"prevCount":0')],
    ['upper-case-hex', good.replace(key, key.toUpperCase())],
    ['upper-case-fingerprint', good.replace(ownerFingerprint, ownerFingerprint.toUpperCase())],
    ['whitespace', good.replace('"v":3,', '"v": 3,')],
    ['reordered', good.replace(`"room":"${id}","owner":"${owner}"`, `"owner":"${owner}","room":"${id}"`)],
    ['escaped-owner', good.replace(`"owner":"${owner}"`, `"owner":"\\u0061lice"`)],
    ['extra-field', good.replace(/\}$/, ',"x":0}')],
    ['missing-owner', good.replace(`"owner":"${owner}",`, '')],
    ['missing-field', good.replace(/,"verify":"[0-9a-f]+"/, '')],
    ['short-key', good.replace(key, key.slice(2))],
    ['short-fingerprint', good.replace(ownerFingerprint, ownerFingerprint.slice(2))],
    ['compressed-verify-key', good.replace(`"verify":"04`, `"verify":"02`)],
    ['duplicate-field', good.replace('{"v":3,', '{"v":3,"v":3,')],
    ['number-as-string', good.replace('"v":3', '"v":"3"')],
  ].map(([item, plaintext, reason = 'malformed']) => ({ id: item, plaintext, reason }));
}

async function buildFile(previous) {
  const vectors = [];
  for (const inputs of vectorInputs) {
    const expected = await computeVector(inputs);
    // Keep a committed signature (random) when the signed bytes did not change.
    const old = previous?.vectors.find((v) => v.id === inputs.id);
    if (old && old.expected.bodyWithoutSignature === expected.bodyWithoutSignature) expected.signature = old.expected.signature;
    const { id, ...rest } = inputs;
    vectors.push({ id, inputs: rest, expected });
  }
  const negative = await computeNegatives({ ...vectors[0], inputs: vectorInputs[0] });
  for (const item of negative) {
    const old = previous?.negative.find((n) => n.id === item.id);
    if (old && item.id.startsWith('signed-') && old.body.slice(0, -128) === item.body.slice(0, -128)) item.body = old.body;
  }
  return {
    description: 'Room frame bodies under sender keys (docs/protocol.md "Room messages (sender keys)"). Hex is lower-case; plaintexts are UTF-8 text.',
    generator: 'node tests/vectors/room/make-room-vectors.mjs --write',
    signingKey: { source: 'RFC 6979 A.2.5 (P-256)', jwk: signingJwk, verify: verifyKeyHex },
    vectors,
    negative,
    senderKeyNegative: senderKeyNegatives({ ...vectors[0], inputs: vectorInputs[0] }),
  };
}

/** Deterministic parts only: signatures are random and compared by verification in the test. */
export function withoutSignatures(file) {
  return {
    ...file,
    vectors: file.vectors.map((v) => ({ ...v, expected: { ...v.expected, signature: null } })),
    negative: file.negative.map((n) => (n.id.startsWith('signed-') ? { ...n, body: n.body.slice(0, -128) } : n)),
  };
}

async function main() {
  const write = process.argv.includes('--write');
  let previous = null;
  try {
    previous = JSON.parse(await readFile(vectorFile, 'utf8'));
  } catch {
    previous = null;
  }
  const file = await buildFile(previous);
  if (write) {
    await writeFile(vectorFile, `${JSON.stringify(file, null, 2)}\n`);
    process.stdout.write(`wrote ${fileURLToPath(vectorFile)}\n`);
    return;
  }
  if (!previous || !isDeepStrictEqual(withoutSignatures(previous), withoutSignatures(file))) {
    process.stderr.write('room-frame.json differs from what the code computes (run with --write only for a deliberate change)\n');
    process.exitCode = 1;
    return;
  }
  process.stdout.write('room-frame.json matches\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

