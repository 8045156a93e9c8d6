// Room message cryptography (docs/protocol.md "Room messages (sender keys)"): the encodings and
// the WebCrypto operations, without any state. room-keys.js holds the keys and decides who gets
// what; this module only turns bytes into bytes, so the known-answer vectors can drive it with
// fixed keys, key ids, counters and IVs. Runs in the Worker and in Node (tests).
//
// Sender-key plaintext (the content of a pairwise-channel record of type sender_key), UTF-8 JSON
// in exactly this byte form (this key order, no whitespace, lower-case hex):
//   {"v":1,"room":<32 hex>,"keyId":<32 hex>,"key":<64 hex>,"verify":<130 hex>}
//
// Room frame body (frame types 3 and 4):
//   u8 version(=1) ‖ keyId(16) ‖ u32 counter ‖ iv(12) ‖ AES-256-GCM ciphertext‖tag(16) ‖ signature(64)
//   AAD       = "secms room v1" ‖ u8 frame_type ‖ room id (32 ASCII) ‖ u8 version ‖ keyId ‖ u32 counter
//   signature = ECDSA P-256 SHA-256 (IEEE P1363 r‖s) over AAD ‖ iv ‖ ciphertext‖tag

import { bytesEqual, concatBytes, fromHex, toHex, zeroize } from './protocol/bytes.js';
import { RoomFrameType, isRoomFrameType, isRoomId } from './room-frame.js';

export const ROOM_BODY_VERSION = 1;
export const ROOM_KEY_ID_BYTES = 16;
export const ROOM_KEY_BYTES = 32;
export const ROOM_IV_BYTES = 12;
export const ROOM_TAG_BYTES = 16;
export const ROOM_SIGNATURE_BYTES = 64;
export const ROOM_VERIFY_KEY_BYTES = 65;
export const ROOM_COUNTER_MAX = 0xffffffff;
const COUNTER_BYTES = 4;
const HEADER_BYTES = 1 + ROOM_KEY_ID_BYTES + COUNTER_BYTES + ROOM_IV_BYTES;
/** Every byte of a body that is not ciphertext: 1 + 16 + 4 + 12 + 16 + 64 = 113. */
export const ROOM_BODY_OVERHEAD = HEADER_BYTES + ROOM_TAG_BYTES + ROOM_SIGNATURE_BYTES;

// The server's limits (docs/api.md "Room frames"): 4 × chat_max_message_chars + 1024 bytes for a
// message, 2048 for a control frame. The Worker refuses to seal what the server would refuse to
// carry, and refuses to open anything larger (a peer's browser never produces it).
export const ROOM_BODY_LIMITS = Object.freeze({ [RoomFrameType.message]: 4 * 1040 + 1024, [RoomFrameType.control]: 2048 });

const AAD_LABEL = new TextEncoder().encode('secms room v1');
const ECDSA = Object.freeze({ name: 'ECDSA', namedCurve: 'P-256' });
const ECDSA_SHA256 = Object.freeze({ name: 'ECDSA', hash: 'SHA-256' });
const textEncoder = new TextEncoder();
const subtle = () => globalThis.crypto.subtle;

/** Closed set of the reasons a body or a sender-key plaintext is refused. */
export const RoomCipherErrorReason = Object.freeze({
  malformed: 'the body or the sender-key plaintext does not follow the encoding',
  too_large: 'the body exceeds the limit of its frame type',
  bad_signature: 'the signature does not verify with the sender key\'s public key',
  bad_tag: 'AES-GCM authentication failed',
  invalid_argument: 'an argument has the wrong type or value',
});

export class RoomCipherError extends Error {
  constructor(reason, detail, options) {
    if (!Object.hasOwn(RoomCipherErrorReason, reason)) throw new TypeError(`RoomCipherError: unknown reason ${String(reason)}`);
    super(`room cipher: ${detail ?? RoomCipherErrorReason[reason]}`, options);
    this.name = 'RoomCipherError';
    this.reason = reason;
  }
}

const hexPattern = (length) => new RegExp(`^[0-9a-f]{${length}}$`);
const keyIdPattern = hexPattern(2 * ROOM_KEY_ID_BYTES);
const keyPattern = hexPattern(2 * ROOM_KEY_BYTES);
const verifyPattern = hexPattern(2 * ROOM_VERIFY_KEY_BYTES);

export const isRoomKeyId = (value) => typeof value === 'string' && keyIdPattern.test(value);

// ---- sender-key plaintext -----------------------------------------------------------------

/** The one byte form of a sender key: fields in a fixed order, so decoding can compare bytes. */
export function encodeSenderKeyPlaintext({ room, keyId, key, verify }) {
  if (!isRoomId(room) || !isRoomKeyId(keyId) || !keyPattern.test(key ?? '') || !verifyPattern.test(verify ?? '')) {
    throw new RoomCipherError('invalid_argument', 'sender key fields');
  }
  return textEncoder.encode(`{"v":1,"room":"${room}","keyId":"${keyId}","key":"${key}","verify":"${verify}"}`);
}

/** Every sender-key plaintext has this length (all fields are fixed-size hex). */
export const SENDER_KEY_PLAINTEXT_BYTES = encodeSenderKeyPlaintext({
  room: '0'.repeat(32), keyId: '0'.repeat(32), key: '0'.repeat(64), verify: '0'.repeat(130),
}).length;

/**
 * Strict: the exact fields, sizes and lower-case hex, and the exact byte form above (no other
 * key order, no whitespace, no duplicate key) — there is one encoding per key, nothing to
 * interpret. Returns { room, keyId, key: Uint8Array(32), verify: Uint8Array(65) }; the caller
 * zero-fills `key` once imported.
 */
export function decodeSenderKeyPlaintext(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SENDER_KEY_PLAINTEXT_BYTES) throw new RoomCipherError('malformed', 'sender key length');
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new RoomCipherError('malformed', 'sender key is not JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RoomCipherError('malformed', 'sender key is not an object');
  const names = Object.keys(parsed);
  if (names.join() !== 'v,room,keyId,key,verify' || parsed.v !== 1) throw new RoomCipherError('malformed', 'sender key fields');
  const { room, keyId, key, verify } = parsed;
  let canonical;
  try {
    canonical = encodeSenderKeyPlaintext({ room, keyId, key, verify });
  } catch {
    throw new RoomCipherError('malformed', 'sender key field values');
  }
  const same = bytesEqual(canonical, bytes);
  zeroize(canonical);
  if (!same) throw new RoomCipherError('malformed', 'sender key is not in its canonical form');
  if (verify.slice(0, 2) !== '04') throw new RoomCipherError('malformed', 'verify key is not an uncompressed point');
  return { room, keyId, key: fromHex(key), verify: fromHex(verify) };
}

// ---- keys ---------------------------------------------------------------------------------

/** AES-256-GCM key, non-extractable, from raw bytes (the caller zero-fills them). */
export function importRoomAesKey(raw, usages = ['encrypt', 'decrypt']) {
  if (!(raw instanceof Uint8Array) || raw.length !== ROOM_KEY_BYTES) throw new RoomCipherError('invalid_argument', 'AES key must be 32 bytes');
  return subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, usages);
}

/** A fresh signing key pair; the private half is non-extractable, the public half is exported raw. */
export async function generateRoomSigningKey() {
  const pair = await subtle().generateKey(ECDSA, false, ['sign', 'verify']);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, verify: new Uint8Array(await subtle().exportKey('raw', pair.publicKey)) };
}

/**
 * Imports a peer's 65-byte uncompressed public key; WebCrypto's raw import checks the point is
 * on the curve (SEC 1 §3.2.2), so an invalid key is refused here, not at the first frame.
 */
export async function importRoomVerifyKey(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== ROOM_VERIFY_KEY_BYTES || raw[0] !== 0x04) throw new RoomCipherError('malformed', 'verify key');
  try {
    return await subtle().importKey('raw', raw, ECDSA, false, ['verify']);
  } catch (error) {
    throw new RoomCipherError('malformed', 'verify key is not a P-256 point', { cause: error });
  }
}

// ---- body ---------------------------------------------------------------------------------

/** AAD: binds the frame type and room (so a frame cannot move between them), the key and the counter. */
export function roomAad({ frameType, room, keyId, counter }) {
  if (!isRoomFrameType(frameType) || !isRoomId(room)) throw new RoomCipherError('invalid_argument', 'frame type or room');
  if (!(keyId instanceof Uint8Array) || keyId.length !== ROOM_KEY_ID_BYTES) throw new RoomCipherError('invalid_argument', 'key id');
  if (!Number.isInteger(counter) || counter < 0 || counter > ROOM_COUNTER_MAX) throw new RoomCipherError('invalid_argument', 'counter');
  const aad = new Uint8Array(AAD_LABEL.length + 1 + 32 + 1 + ROOM_KEY_ID_BYTES + COUNTER_BYTES);
  let offset = 0;
  aad.set(AAD_LABEL, offset); offset += AAD_LABEL.length;
  aad[offset++] = frameType;
  for (let i = 0; i < 32; i += 1) aad[offset++] = room.charCodeAt(i);
  aad[offset++] = ROOM_BODY_VERSION;
  aad.set(keyId, offset); offset += ROOM_KEY_ID_BYTES;
  new DataView(aad.buffer).setUint32(offset, counter, false);
  return aad;
}

/** The largest plaintext a body of this frame type can carry. */
export function maxRoomPlaintext(frameType) {
  return ROOM_BODY_LIMITS[frameType] - ROOM_BODY_OVERHEAD;
}

/**
 * Seals one body. `iv` must be fresh random bytes for every call under one key (GCM fails
 * completely on a repeated (key, IV)); only the vectors pass a fixed one.
 */
export async function sealRoomBody({ frameType, room, keyId, counter, iv, aesKey, signingKey, plaintext }) {
  if (!(plaintext instanceof Uint8Array) || plaintext.length === 0) throw new RoomCipherError('invalid_argument', 'plaintext');
  if (!isRoomFrameType(frameType)) throw new RoomCipherError('invalid_argument', 'frame type');
  if (plaintext.length > maxRoomPlaintext(frameType)) throw new RoomCipherError('too_large', `plaintext of ${plaintext.length} bytes`);
  if (!(iv instanceof Uint8Array) || iv.length !== ROOM_IV_BYTES) throw new RoomCipherError('invalid_argument', 'iv');
  const aad = roomAad({ frameType, room, keyId, counter });
  const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, aesKey, plaintext));
  const header = concatBytes(Uint8Array.of(ROOM_BODY_VERSION), keyId, aad.subarray(aad.length - COUNTER_BYTES), iv);
  const signature = new Uint8Array(await subtle().sign(ECDSA_SHA256, signingKey, concatBytes(aad, iv, ciphertext)));
  return concatBytes(header, ciphertext, signature);
}

/**
 * Splits a body without any crypto: version, sizes. Returns { keyId (hex), keyIdBytes, counter,
 * iv, ciphertext (with tag), signature }.
 */
export function parseRoomBody(body, frameType) {
  if (!(body instanceof Uint8Array)) throw new RoomCipherError('malformed', 'body is not bytes');
  if (!isRoomFrameType(frameType)) throw new RoomCipherError('malformed', 'frame type');
  if (body.length > ROOM_BODY_LIMITS[frameType]) throw new RoomCipherError('too_large', `body of ${body.length} bytes`);
  // At least one byte of plaintext: an empty message is never sealed.
  if (body.length < ROOM_BODY_OVERHEAD + 1) throw new RoomCipherError('malformed', `body of ${body.length} bytes`);
  if (body[0] !== ROOM_BODY_VERSION) throw new RoomCipherError('malformed', `body version ${body[0]}`);
  const keyIdBytes = body.slice(1, 1 + ROOM_KEY_ID_BYTES);
  const counter = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1 + ROOM_KEY_ID_BYTES, false);
  const iv = body.slice(1 + ROOM_KEY_ID_BYTES + COUNTER_BYTES, HEADER_BYTES);
  const ciphertext = body.slice(HEADER_BYTES, body.length - ROOM_SIGNATURE_BYTES);
  const signature = body.slice(body.length - ROOM_SIGNATURE_BYTES);
  return { keyId: toHex(keyIdBytes), keyIdBytes, counter, iv, ciphertext, signature };
}

/**
 * ECDSA P-256 SHA-256 verification of a P1363 signature (r‖s, 64 bytes): true only when it
 * verifies; a WebCrypto exception counts as a failure (fail closed). Checked against Wycheproof.
 */
export async function verifyRoomSignature({ verifyKey, signature, data }) {
  if (!(signature instanceof Uint8Array) || signature.length !== ROOM_SIGNATURE_BYTES) return false;
  try {
    return (await subtle().verify(ECDSA_SHA256, verifyKey, signature, data)) === true;
  } catch {
    return false;
  }
}

/** Verifies a parsed body's signature over AAD ‖ iv ‖ ciphertext‖tag. */
export function verifyRoomBody({ parsed, frameType, room, verifyKey }) {
  const aad = roomAad({ frameType, room, keyId: parsed.keyIdBytes, counter: parsed.counter });
  return verifyRoomSignature({ verifyKey, signature: parsed.signature, data: concatBytes(aad, parsed.iv, parsed.ciphertext) });
}

/** Decrypts a parsed body whose signature was verified; throws RoomCipherError('bad_tag'). */
export async function decryptRoomBody({ parsed, frameType, room, aesKey }) {
  const aad = roomAad({ frameType, room, keyId: parsed.keyIdBytes, counter: parsed.counter });
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: parsed.iv, additionalData: aad, tagLength: 128 }, aesKey, parsed.ciphertext));
  } catch (error) {
    throw new RoomCipherError('bad_tag', undefined, { cause: error });
  }
}
