// Room message cryptography (docs/protocol.md "Room messages (sender keys)"): the encodings and
// the WebCrypto operations, without any state. room-keys.js holds the keys and decides who gets
// what; this module only turns bytes into bytes, so the known-answer vectors can drive it with
// fixed keys, counters and IVs. Runs in the Worker and in Node (tests).
//
// Version 2. A sender key names its owner — username and OpenPGP fingerprint — and its key id is
// derived from (room, owner, fingerprint, verification key), so a key cannot be passed off as
// another member's: a member who relays someone else's key over their own channel is refused
// (the owner is not the channel's peer), and a relabelled owner changes the id. Version 1 (no
// owner) is refused with its own reason.
//
// Version 3 of the sender-key plaintext adds the counter floor and the chain of keys: `next` is
// the counter of the owner's next frame under this key, filled in at every (re)distribution, so a
// receiver that gets the key late (a new tab, a tab after a reconnect) refuses every frame sealed
// before it — the relay cannot replay them as new lines, and a newcomer tab reads no history
// (Signal's sender-key distribution message carries its chain iteration for the same reason).
// `prevKeyId` / `prevCount` name the owner's previous key in this room and the number of frames
// sealed under it, so a receiver can tell that frames under the old key never arrived even when
// the relay forces a rotation right after dropping them. Versions 1 and 2 are refused as old.
//
// Sender-key plaintext (the content of a pairwise-channel record of type sender_key), UTF-8 JSON
// in exactly this byte form (this key order, no whitespace, lower-case hex, decimal integers
// without leading zeros):
//   {"v":3,"room":<32 hex>,"owner":<username>,"ownerFingerprint":<40|64 hex>,"keyId":<32 hex>,
//    "key":<64 hex>,"verify":<130 hex>,"next":<0..2^32>,"prevKeyId":<"" | 32 hex>,
//    "prevCount":<0..2^32, 0 when prevKeyId is "">}
//   keyId = SHA-256(field("secms room key id v2") ‖ field(room) ‖ field(owner) ‖
//                   field(fingerprint bytes) ‖ field(verify))[0..16]      field(x) = u16(len) ‖ x
// It is built and read byte by byte: the AES key never becomes a JavaScript string (strings
// cannot be wiped); its hex digits exist only in the Uint8Array, which the caller zero-fills.
//
// Room frame body (frame types 3 and 4):
//   u8 version(=2) ‖ keyId(16) ‖ u32 counter ‖ iv(12) ‖ AES-256-GCM ciphertext‖tag(16) ‖ signature(64)
//   AAD       = "secms room v2" ‖ u8 frame_type ‖ room id (32 ASCII) ‖ u8 version ‖ keyId ‖ u32 counter
//               ‖ u8 len(owner) ‖ owner ‖ u8 len(fingerprint) ‖ fingerprint bytes
//   signature = ECDSA P-256 SHA-256 (IEEE P1363 r‖s) over AAD ‖ iv ‖ ciphertext‖tag

import { bytesEqual, concatBytes, fromHex, toHex, zeroize } from './protocol/bytes.js';
import { RoomFrameType, isRoomFrameType, isRoomId } from './room-frame.js';

export const ROOM_BODY_VERSION = 2;
export const ROOM_SENDER_KEY_VERSION = 3;
export const ROOM_KEY_ID_BYTES = 16;
export const ROOM_KEY_BYTES = 32;
export const ROOM_IV_BYTES = 12;
export const ROOM_TAG_BYTES = 16;
export const ROOM_SIGNATURE_BYTES = 64;
export const ROOM_VERIFY_KEY_BYTES = 65;
export const ROOM_COUNTER_MAX = 0xffffffff;
/** Largest `next` / `prevCount` of a sender key: every counter used (2^32 frames). */
export const ROOM_FRAME_COUNT_MAX = ROOM_COUNTER_MAX + 1;
const COUNTER_BYTES = 4;
const HEADER_BYTES = 1 + ROOM_KEY_ID_BYTES + COUNTER_BYTES + ROOM_IV_BYTES;
/** Every byte of a body that is not ciphertext: 1 + 16 + 4 + 12 + 16 + 64 = 113. */
export const ROOM_BODY_OVERHEAD = HEADER_BYTES + ROOM_TAG_BYTES + ROOM_SIGNATURE_BYTES;

// The server's limits (docs/api.md "Room frames"): 4 × chat_max_message_chars + 1024 bytes for a
// message, 2048 for a control frame. The Worker refuses to seal what the server would refuse to
// carry, and refuses to open anything larger (a peer's browser never produces it).
export const ROOM_BODY_LIMITS = Object.freeze({ [RoomFrameType.message]: 4 * 1040 + 1024, [RoomFrameType.control]: 2048 });

const AAD_LABEL = new TextEncoder().encode('secms room v2');
const KEY_ID_LABEL = new TextEncoder().encode('secms room key id v2');
const ECDSA = Object.freeze({ name: 'ECDSA', namedCurve: 'P-256' });
const ECDSA_SHA256 = Object.freeze({ name: 'ECDSA', hash: 'SHA-256' });
const textEncoder = new TextEncoder();
const subtle = () => globalThis.crypto.subtle;

/** Closed set of the reasons a body or a sender-key plaintext is refused. */
export const RoomCipherErrorReason = Object.freeze({
  malformed: 'the body or the sender-key plaintext does not follow the encoding',
  old_version: 'the body is of version 1 (no owner binding), or the sender-key plaintext of version 1 or 2 (no owner binding, no counter floor), no longer accepted',
  too_large: 'the body exceeds the limit of its frame type',
  bad_key_id: 'the key id is not the one derived from the room, the owner and the verification key',
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
const verifyPattern = hexPattern(2 * ROOM_VERIFY_KEY_BYTES);
// The username rule of web/src/chat/commands.js (ASCII only, nothing JSON would escape).
const ownerPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;
// OpenPGP v4 (SHA-1, 20 bytes) and v6 (SHA-256, 32 bytes) fingerprints, as the channel accepts them.
const fingerprintPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const isFrameCount = (value) => Number.isSafeInteger(value) && value >= 0 && value <= ROOM_FRAME_COUNT_MAX;
export const isRoomKeyId = (value) => typeof value === 'string' && keyIdPattern.test(value);
export const isRoomOwner = (value) => typeof value === 'string' && ownerPattern.test(value);
export const isRoomOwnerFingerprint = (value) => typeof value === 'string' && fingerprintPattern.test(value);

function field(bytes) {
  if (bytes.length > 0xffff) throw new RoomCipherError('invalid_argument', 'field too long');
  return concatBytes(Uint8Array.of(bytes.length >>> 8, bytes.length & 0xff), bytes);
}

function checkOwner({ owner, ownerFingerprint }) {
  if (!isRoomOwner(owner)) throw new RoomCipherError('invalid_argument', 'owner');
  if (!isRoomOwnerFingerprint(ownerFingerprint)) throw new RoomCipherError('invalid_argument', 'owner fingerprint (lower-case hex, 20 or 32 bytes)');
}

/**
 * The key id of a sender key: the first 16 bytes of SHA-256 over the labelled room, owner,
 * owner fingerprint and verification key. Returns hex. A receiver recomputes it and refuses a
 * key whose id differs, so an id names exactly one (room, owner, key) — no one else's key can
 * occupy it first.
 */
export async function deriveRoomKeyId({ room, owner, ownerFingerprint, verify }) {
  if (!isRoomId(room)) throw new RoomCipherError('invalid_argument', 'room');
  checkOwner({ owner, ownerFingerprint });
  if (!(verify instanceof Uint8Array) || verify.length !== ROOM_VERIFY_KEY_BYTES) throw new RoomCipherError('invalid_argument', 'verify key');
  const digest = new Uint8Array(await subtle().digest('SHA-256', concatBytes(
    field(KEY_ID_LABEL), field(textEncoder.encode(room)), field(textEncoder.encode(owner)), field(fromHex(ownerFingerprint)), field(verify),
  )));
  return toHex(digest.subarray(0, ROOM_KEY_ID_BYTES));
}

// ---- sender-key plaintext -----------------------------------------------------------------

const HEX_DIGITS = textEncoder.encode('0123456789abcdef');

/** Lower-case hex digit value of an ASCII byte, or -1. */
function hexValue(byte) {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

/** Public fields before and after the key, as text; the key's 64 hex digits go in between as bytes. */
function senderKeyParts({ room, owner, ownerFingerprint, keyId, verify, next, prevKeyId, prevCount }) {
  return {
    head: textEncoder.encode(`{"v":${ROOM_SENDER_KEY_VERSION},"room":"${room}","owner":"${owner}","ownerFingerprint":"${ownerFingerprint}","keyId":"${keyId}","key":"`),
    tail: textEncoder.encode(`","verify":"${verify}","next":${next},"prevKeyId":"${prevKeyId ?? ''}","prevCount":${prevCount}}`),
  };
}

/**
 * The one byte form of a sender key (fields in a fixed order, so decoding can compare bytes).
 * `key` is the raw AES key (Uint8Array(32)); its hex digits are written straight into the
 * result, never into a string. `next` is the counter of the owner's next frame under this key
 * (required: it is the receiver's replay floor); `prevKeyId` (null for the first key) and
 * `prevCount` name the previous key and how many frames were sealed under it. The caller
 * zero-fills the result after use.
 */
export function encodeSenderKeyPlaintext({ room, owner, ownerFingerprint, keyId, key, verify, next, prevKeyId = null, prevCount = 0 }) {
  if (!isRoomId(room) || !isRoomKeyId(keyId) || !verifyPattern.test(verify ?? '')) throw new RoomCipherError('invalid_argument', 'sender key fields');
  checkOwner({ owner, ownerFingerprint });
  if (!isFrameCount(next)) throw new RoomCipherError('invalid_argument', 'next counter');
  if (prevKeyId === null ? prevCount !== 0 : (!isRoomKeyId(prevKeyId) || prevKeyId === keyId || !isFrameCount(prevCount))) {
    throw new RoomCipherError('invalid_argument', 'previous key id and count');
  }
  if (!(key instanceof Uint8Array) || key.length !== ROOM_KEY_BYTES) throw new RoomCipherError('invalid_argument', 'the AES key must be 32 bytes');
  const { head, tail } = senderKeyParts({ room, owner, ownerFingerprint, keyId, verify, next, prevKeyId, prevCount });
  const out = new Uint8Array(head.length + 2 * ROOM_KEY_BYTES + tail.length);
  out.set(head, 0);
  let at = head.length;
  for (const byte of key) {
    out[at++] = HEX_DIGITS[byte >>> 4];
    out[at++] = HEX_DIGITS[byte & 0x0f];
  }
  out.set(tail, at);
  return out;
}

/** The longest plaintext (32-character owner, 64-hex fingerprint); a longer record is not read. */
export const SENDER_KEY_PLAINTEXT_MAX_BYTES = encodeSenderKeyPlaintext({
  room: '0'.repeat(32), owner: 'a'.repeat(32), ownerFingerprint: '0'.repeat(64), keyId: '0'.repeat(32), key: new Uint8Array(32), verify: '0'.repeat(130),
  next: ROOM_FRAME_COUNT_MAX, prevKeyId: '1'.repeat(32), prevCount: ROOM_FRAME_COUNT_MAX,
}).length;

const OLD_VERSION_PREFIXES = [textEncoder.encode('{"v":1,'), textEncoder.encode('{"v":2,')];
const asciiDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Strict: the exact fields, sizes and lower-case hex, in the exact byte form above (no other key
 * order, no whitespace, no escapes) — there is one encoding per key, nothing to interpret. The
 * public fields are read as text; the 64 key digits are decoded straight into bytes. Returns
 * { room, owner, ownerFingerprint, keyId, key: Uint8Array(32), verify: Uint8Array(65), next,
 *   prevKeyId (hex or null), prevCount }; the
 * caller zero-fills `key` once imported (and the input once read). The key id is checked
 * against its derivation by room-keys.js (deriveRoomKeyId, asynchronous).
 */
export function decodeSenderKeyPlaintext(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new RoomCipherError('malformed', 'sender key is not bytes');
  if (OLD_VERSION_PREFIXES.some((prefix) => bytes.length >= prefix.length && bytesEqual(bytes.subarray(0, prefix.length), prefix))) {
    throw new RoomCipherError('old_version', 'sender key of version 1 or 2 (no owner binding or no counter floor): the sender must update');
  }
  if (bytes.length > SENDER_KEY_PLAINTEXT_MAX_BYTES) throw new RoomCipherError('malformed', 'sender key length');
  // The key is the 64 bytes after `"key":"`; it is the only field that is located, not parsed.
  const marker = textEncoder.encode('","key":"');
  let keyStart = -1;
  for (let i = 0; i + marker.length <= bytes.length; i += 1) {
    if (bytesEqual(bytes.subarray(i, i + marker.length), marker)) { keyStart = i + marker.length; break; }
  }
  if (keyStart < 0 || keyStart + 2 * ROOM_KEY_BYTES > bytes.length) throw new RoomCipherError('malformed', 'sender key fields');
  let head;
  let tail;
  try {
    head = asciiDecoder.decode(bytes.subarray(0, keyStart));
    tail = asciiDecoder.decode(bytes.subarray(keyStart + 2 * ROOM_KEY_BYTES));
  } catch {
    throw new RoomCipherError('malformed', 'sender key is not UTF-8');
  }
  const headMatch = /^\{"v":3,"room":"([0-9a-f]{32})","owner":"([A-Za-z0-9][A-Za-z0-9._-]{2,31})","ownerFingerprint":"([0-9a-f]{40}|[0-9a-f]{64})","keyId":"([0-9a-f]{32})","key":"$/.exec(head);
  const tailMatch = /^","verify":"(04[0-9a-f]{128})","next":(0|[1-9][0-9]{0,9}),"prevKeyId":"((?:[0-9a-f]{32})?)","prevCount":(0|[1-9][0-9]{0,9})\}$/.exec(tail);
  if (!headMatch || !tailMatch) {
    if (!/^\{"v":3,/.test(head)) throw new RoomCipherError('malformed', 'sender key version or form');
    throw new RoomCipherError('malformed', 'sender key fields');
  }
  const [, room, owner, ownerFingerprint, keyId] = headMatch;
  const next = Number(tailMatch[2]);
  const prevKeyId = tailMatch[3] === '' ? null : tailMatch[3];
  const prevCount = Number(tailMatch[4]);
  if (!isFrameCount(next) || !isFrameCount(prevCount)) throw new RoomCipherError('malformed', 'sender key counter out of range');
  // No previous key, no count; a key is not its own predecessor.
  if ((prevKeyId === null && prevCount !== 0) || prevKeyId === keyId) throw new RoomCipherError('malformed', 'sender key previous key');
  const key = new Uint8Array(ROOM_KEY_BYTES);
  for (let i = 0; i < ROOM_KEY_BYTES; i += 1) {
    const high = hexValue(bytes[keyStart + 2 * i]);
    const low = hexValue(bytes[keyStart + 2 * i + 1]);
    if (high < 0 || low < 0) {
      zeroize(key);
      throw new RoomCipherError('malformed', 'sender key: the AES key is not lower-case hex');
    }
    key[i] = (high << 4) | low;
  }
  return { room, owner, ownerFingerprint, keyId, key, verify: fromHex(tailMatch[1]), next, prevKeyId, prevCount };
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

/**
 * AAD: binds the frame type and room (so a frame cannot move between them), the key and the
 * counter, and the key's owner — username and fingerprint — so a line signed under one member's
 * key can only ever be shown as that member's.
 */
export function roomAad({ frameType, room, keyId, counter, owner, ownerFingerprint }) {
  if (!isRoomFrameType(frameType) || !isRoomId(room)) throw new RoomCipherError('invalid_argument', 'frame type or room');
  if (!(keyId instanceof Uint8Array) || keyId.length !== ROOM_KEY_ID_BYTES) throw new RoomCipherError('invalid_argument', 'key id');
  if (!Number.isInteger(counter) || counter < 0 || counter > ROOM_COUNTER_MAX) throw new RoomCipherError('invalid_argument', 'counter');
  checkOwner({ owner, ownerFingerprint });
  const ownerBytes = textEncoder.encode(owner);
  const fingerprint = fromHex(ownerFingerprint);
  const counterBytes = new Uint8Array(COUNTER_BYTES);
  new DataView(counterBytes.buffer).setUint32(0, counter, false);
  return concatBytes(
    AAD_LABEL, Uint8Array.of(frameType), textEncoder.encode(room), Uint8Array.of(ROOM_BODY_VERSION), keyId, counterBytes,
    Uint8Array.of(ownerBytes.length), ownerBytes, Uint8Array.of(fingerprint.length), fingerprint,
  );
}

/** The largest plaintext a body of this frame type can carry. */
export function maxRoomPlaintext(frameType) {
  return ROOM_BODY_LIMITS[frameType] - ROOM_BODY_OVERHEAD;
}

/**
 * Seals one body. `iv` must be fresh random bytes for every call under one key (GCM fails
 * completely on a repeated (key, IV)); only the vectors pass a fixed one.
 */
export async function sealRoomBody({ frameType, room, keyId, counter, owner, ownerFingerprint, iv, aesKey, signingKey, plaintext }) {
  if (!(plaintext instanceof Uint8Array) || plaintext.length === 0) throw new RoomCipherError('invalid_argument', 'plaintext');
  if (!isRoomFrameType(frameType)) throw new RoomCipherError('invalid_argument', 'frame type');
  if (plaintext.length > maxRoomPlaintext(frameType)) throw new RoomCipherError('too_large', `plaintext of ${plaintext.length} bytes`);
  if (!(iv instanceof Uint8Array) || iv.length !== ROOM_IV_BYTES) throw new RoomCipherError('invalid_argument', 'iv');
  const aad = roomAad({ frameType, room, keyId, counter, owner, ownerFingerprint });
  const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, aesKey, plaintext));
  const counterBytes = new Uint8Array(COUNTER_BYTES);
  new DataView(counterBytes.buffer).setUint32(0, counter, false);
  const header = concatBytes(Uint8Array.of(ROOM_BODY_VERSION), keyId, counterBytes, iv);
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
  if (body[0] === 1) throw new RoomCipherError('old_version', 'body of version 1 (no owner binding): the sender must update');
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

/**
 * Verifies a parsed body's signature over AAD ‖ iv ‖ ciphertext‖tag, the AAD naming the owner
 * the receiver holds the key under (not anything the frame says).
 */
export function verifyRoomBody({ parsed, frameType, room, owner, ownerFingerprint, verifyKey }) {
  const aad = roomAad({ frameType, room, keyId: parsed.keyIdBytes, counter: parsed.counter, owner, ownerFingerprint });
  return verifyRoomSignature({ verifyKey, signature: parsed.signature, data: concatBytes(aad, parsed.iv, parsed.ciphertext) });
}

/** Decrypts a parsed body whose signature was verified; throws RoomCipherError('bad_tag'). */
export async function decryptRoomBody({ parsed, frameType, room, owner, ownerFingerprint, aesKey }) {
  const aad = roomAad({ frameType, room, keyId: parsed.keyIdBytes, counter: parsed.counter, owner, ownerFingerprint });
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: parsed.iv, additionalData: aad, tagLength: 128 }, aesKey, parsed.ciphertext));
  } catch (error) {
    throw new RoomCipherError('bad_tag', undefined, { cause: error });
  }
}
