// SFrame (RFC 9605): header encoding, key derivation and AES-GCM frame encryption, with the
// sender's counter and the receiver's key table and replay windows. Pure: no I/O, no logging, no
// timers; runs in the crypto Worker and in Node (tests). Key bytes never leave this module except
// through deriveKeySalt, which exists for the known-answer tests.
//
//   header     = config byte (X K Y C, §4.3) ‖ KID ‖ CTR   (minimal big-endian, values 0..7 inline)
//   secret     = HKDF-Extract("", base_key)                                       (§4.4.2)
//   key        = HKDF-Expand(secret, "SFrame 1.0 Secret key "  ‖ u64 KID ‖ u16 suite, Nk)
//   salt       = HKDF-Expand(secret, "SFrame 1.0 Secret salt " ‖ u64 KID ‖ u16 suite, Nn)
//   nonce      = salt XOR u96(CTR)                                                (§4.4.3)
//   ciphertext = header ‖ AEAD.Encrypt(key, nonce, header ‖ metadata, plaintext)  (§4.4.3, §4.4.4)
//
// Only the AES-GCM suites are offered: WebCrypto has no AES-CTR+HMAC with truncated tags, and the
// calls use 0x0005 (docs/protocol.md "Media encryption (SFrame)").

import { concatBytes } from '../protocol/bytes.js';

export const SFrameErrorReason = Object.freeze({
  bad_header: 'the SFrame header is truncated or not minimally encoded (RFC 9605 §4.3)',
  unknown_key: 'no key is held for the KID of the frame',
  replay: 'the counter was already accepted under this key, or is older than the replay window',
  auth_failed: 'the frame failed AES-GCM authentication',
  too_large: 'the frame exceeds the size limit',
  counter_exhausted: 'every counter value of this key is used (CTR < 2^64)',
  unsupported_suite: 'the cipher suite is not one of the AES-GCM suites',
  ended: 'the key was destroyed',
  invalid_argument: 'an argument has the wrong type or value',
});

export class SFrameError extends Error {
  constructor(reason, detail) {
    if (!Object.hasOwn(SFrameErrorReason, reason)) throw new TypeError(`unknown SFrame error reason ${reason}`);
    super(detail ? `sframe: ${SFrameErrorReason[reason]}: ${detail}` : `sframe: ${SFrameErrorReason[reason]}`);
    this.name = 'SFrameError';
    this.reason = reason;
  }
}

/** RFC 9605 §4.5 Table 1 and §8.1 registry values, AES-GCM rows only. */
export const SFrameSuite = Object.freeze({
  AES_128_GCM_SHA256_128: 0x0004,
  AES_256_GCM_SHA512_128: 0x0005,
});

const SUITES = new Map([
  [SFrameSuite.AES_128_GCM_SHA256_128, Object.freeze({ hash: 'SHA-256', nh: 32, nk: 16, nn: 12, nt: 16 })],
  [SFrameSuite.AES_256_GCM_SHA512_128, Object.freeze({ hash: 'SHA-512', nh: 64, nk: 32, nn: 12, nt: 16 })],
]);

/** Largest SFrame ciphertext (header ‖ ciphertext ‖ tag) and largest plaintext accepted. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** KID and CTR are at most 8 bytes in the header (§4.3): both stay below 2^64. */
export const MAX_KID = (1n << 64n) - 1n;
export const MAX_CTR = (1n << 64n) - 1n;
/** Longest header: config byte + 8 bytes of KID + 8 bytes of CTR. */
export const MAX_HEADER_BYTES = 17;
/** Counters remembered behind the highest accepted one (audio and video of a direction share it). */
export const DEFAULT_REPLAY_WINDOW = 1024;

const textEncoder = new TextEncoder();
const KEY_LABEL = textEncoder.encode('SFrame 1.0 Secret key ');
const SALT_LABEL = textEncoder.encode('SFrame 1.0 Secret salt ');

const subtle = () => globalThis.crypto.subtle;

export function suiteParameters(suite) {
  const parameters = SUITES.get(suite);
  if (!parameters) throw new SFrameError('unsupported_suite', `0x${Number(suite).toString(16)}`);
  return parameters;
}

/** KID/CTR as a BigInt in 0..2^64-1 from a BigInt or a non-negative safe integer. */
export function toUint64(value, what) {
  let big;
  if (typeof value === 'bigint') big = value;
  else if (Number.isSafeInteger(value)) big = BigInt(value);
  else throw new SFrameError('invalid_argument', `${what} must be an integer`);
  if (big < 0n || big > MAX_CTR) throw new SFrameError('invalid_argument', `${what} must be in 0..2^64-1`);
  return big;
}

function minimalLength(value) {
  let length = 0;
  for (let rest = value; rest > 0n; rest >>= 8n) length++;
  return length;
}

function writeBigEndian(out, offset, value, length) {
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

function readBigEndian(bytes, offset, length) {
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(bytes[offset + i]);
  return value;
}

/** RFC 9605 §4.3: values 0..7 in the config byte, larger ones in the fewest big-endian bytes. */
export function encodeHeader({ kid, ctr, ...rest }) {
  rejectUnknown(rest);
  const k = toUint64(kid, 'kid');
  const c = toUint64(ctr, 'ctr');
  const kidLength = k < 8n ? 0 : minimalLength(k);
  const ctrLength = c < 8n ? 0 : minimalLength(c);
  const out = new Uint8Array(1 + kidLength + ctrLength);
  const kBits = kidLength === 0 ? Number(k) << 4 : 0x80 | ((kidLength - 1) << 4);
  const cBits = ctrLength === 0 ? Number(c) : 0x08 | (ctrLength - 1);
  out[0] = kBits | cBits;
  writeBigEndian(out, 1, k, kidLength);
  writeBigEndian(out, 1 + kidLength, c, ctrLength);
  return out;
}

/**
 * Strict decoder: the header starts at `offset` of `data`; returns { kid, ctr, length } with
 * BigInt values. A field that is truncated, or a value carried in more bytes than it needs
 * (an extended field holding 0..7, or a leading zero byte), is refused: §4.3 says the value
 * MUST use the minimum number of bytes, and one value must have one encoding so the header
 * (part of the AAD) cannot be rewritten into an equivalent one.
 */
export function decodeHeader({ data, offset = 0, ...rest }) {
  rejectUnknown(rest);
  if (!(data instanceof Uint8Array)) throw new SFrameError('invalid_argument', 'data must be a Uint8Array');
  if (!Number.isInteger(offset) || offset < 0) throw new SFrameError('invalid_argument', 'offset');
  if (offset >= data.length) throw new SFrameError('bad_header', 'no config byte');
  const config = data[offset];
  const extendedKid = (config & 0x80) !== 0;
  const extendedCtr = (config & 0x08) !== 0;
  const kidLength = extendedKid ? ((config >> 4) & 0x07) + 1 : 0;
  const ctrLength = extendedCtr ? (config & 0x07) + 1 : 0;
  const length = 1 + kidLength + ctrLength;
  if (offset + length > data.length) throw new SFrameError('bad_header', 'truncated');
  const kid = extendedKid ? readBigEndian(data, offset + 1, kidLength) : BigInt((config >> 4) & 0x07);
  const ctr = extendedCtr ? readBigEndian(data, offset + 1 + kidLength, ctrLength) : BigInt(config & 0x07);
  if (extendedKid && (kid < 8n || minimalLength(kid) !== kidLength)) throw new SFrameError('bad_header', 'KID not minimal');
  if (extendedCtr && (ctr < 8n || minimalLength(ctr) !== ctrLength)) throw new SFrameError('bad_header', 'CTR not minimal');
  return { kid, ctr, length };
}

function rejectUnknown(rest) {
  const names = Object.keys(rest);
  if (names.length > 0) throw new SFrameError('invalid_argument', `unknown option ${names[0]}`);
}

function labelFor(prefix, kid, suite) {
  const out = new Uint8Array(prefix.length + 10);
  out.set(prefix);
  writeBigEndian(out, prefix.length, kid, 8);
  out[prefix.length + 8] = suite >>> 8;
  out[prefix.length + 9] = suite & 0xff;
  return out;
}

async function hmac(hash, keyBytes, data) {
  const key = await subtle().importKey('raw', keyBytes, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await subtle().sign('HMAC', key, data));
}

/** RFC 5869 §2.3 for L ≤ HashLen (Nk and Nn never exceed Nh here): T(1) truncated. */
async function hkdfExpandOneBlock(hash, prk, info, length) {
  const block = await hmac(hash, prk, concatBytes(info, Uint8Array.of(1)));
  const out = block.slice(0, length);
  block.fill(0);
  return out;
}

/**
 * RFC 9605 §4.4.2 as raw bytes { sframeSecret, sframeKey, sframeSalt, keyLabel, saltLabel }:
 * for the known-answer tests only. Production code calls importKey, which wipes them.
 */
export async function deriveKeySalt({ suite, kid, baseKey, ...rest }) {
  rejectUnknown(rest);
  const parameters = suiteParameters(suite);
  const k = toUint64(kid, 'kid');
  if (!(baseKey instanceof Uint8Array) || baseKey.length === 0) throw new SFrameError('invalid_argument', 'baseKey');
  // HKDF-Extract with an empty salt uses HashLen zero bytes (RFC 5869 §2.2).
  const sframeSecret = await hmac(parameters.hash, new Uint8Array(parameters.nh), baseKey);
  const keyLabel = labelFor(KEY_LABEL, k, suite);
  const saltLabel = labelFor(SALT_LABEL, k, suite);
  const sframeKey = await hkdfExpandOneBlock(parameters.hash, sframeSecret, keyLabel, parameters.nk);
  const sframeSalt = await hkdfExpandOneBlock(parameters.hash, sframeSecret, saltLabel, parameters.nn);
  return { sframeSecret, sframeKey, sframeSalt, keyLabel, saltLabel };
}

/**
 * A key context: the AES-GCM key as a non-extractable CryptoKey and the salt. The raw secret and
 * key bytes are zero-filled at once; the salt is kept (it is needed per frame) and wiped by
 * destroyKey. The caller keeps ownership of baseKey and wipes it.
 */
export async function importKey({ suite, kid, baseKey, ...rest }) {
  rejectUnknown(rest);
  const parameters = suiteParameters(suite);
  const { sframeSecret, sframeKey, sframeSalt } = await deriveKeySalt({ suite, kid, baseKey });
  try {
    const key = await subtle().importKey('raw', sframeKey, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    return { suite, kid: toUint64(kid, 'kid'), key, salt: sframeSalt, tagBytes: parameters.nt, destroyed: false };
  } finally {
    sframeSecret.fill(0);
    sframeKey.fill(0);
  }
}

export function destroyKey(context) {
  if (!context || context.destroyed) return;
  context.salt.fill(0);
  context.key = null;
  context.destroyed = true;
}

/** §4.4.3: the CTR as a big-endian Nn-byte integer XOR the salt. */
export function nonceFor(salt, ctr) {
  const nonce = Uint8Array.from(salt);
  let rest = toUint64(ctr, 'ctr');
  for (let i = nonce.length - 1; i >= 0 && rest > 0n; i--) {
    nonce[i] ^= Number(rest & 0xffn);
    rest >>= 8n;
  }
  return nonce;
}

function requireLiveKey(context) {
  if (!context || typeof context !== 'object' || !('salt' in context)) throw new SFrameError('invalid_argument', 'key');
  if (context.destroyed) throw new SFrameError('ended');
}

/** §4.4.3: returns header ‖ ciphertext ‖ tag. `metadata` is authenticated, not carried. */
export async function encryptFrame({ key, ctr, plaintext, metadata = new Uint8Array(0), ...rest }) {
  rejectUnknown(rest);
  requireLiveKey(key);
  if (!(plaintext instanceof Uint8Array) || !(metadata instanceof Uint8Array)) {
    throw new SFrameError('invalid_argument', 'plaintext and metadata must be Uint8Arrays');
  }
  const header = encodeHeader({ kid: key.kid, ctr });
  if (header.length + plaintext.length + key.tagBytes > MAX_FRAME_BYTES) throw new SFrameError('too_large', `${plaintext.length} bytes`);
  const nonce = nonceFor(key.salt, ctr);
  const sealed = new Uint8Array(await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: concatBytes(header, metadata), tagLength: 128 }, key.key, plaintext));
  return concatBytes(header, sealed);
}

/** Splits an SFrame ciphertext (§4.4.4 parse_ciphertext) without touching any key. */
export function parseCiphertext({ data, offset = 0, ...rest }) {
  rejectUnknown(rest);
  if (!(data instanceof Uint8Array)) throw new SFrameError('invalid_argument', 'data must be a Uint8Array');
  if (data.length - offset > MAX_FRAME_BYTES) throw new SFrameError('too_large', `${data.length - offset} bytes`);
  const { kid, ctr, length } = decodeHeader({ data, offset });
  return { kid, ctr, header: data.subarray(offset, offset + length), ciphertext: data.subarray(offset + length) };
}

/** §4.4.4 for one key: authenticates header ‖ metadata and returns the plaintext. */
export async function decryptFrame({ key, header, ctr, ciphertext, metadata = new Uint8Array(0), ...rest }) {
  rejectUnknown(rest);
  requireLiveKey(key);
  if (ciphertext.length < key.tagBytes) throw new SFrameError('auth_failed', 'shorter than the tag');
  try {
    return new Uint8Array(await subtle().decrypt(
      { name: 'AES-GCM', iv: nonceFor(key.salt, ctr), additionalData: concatBytes(header, metadata), tagLength: 128 },
      key.key, ciphertext));
  } catch {
    throw new SFrameError('auth_failed');
  }
}

/**
 * Sliding replay window over 64-bit counters (RFC 4303 §3.4.3 style, RFC 9605 §9.3 leaves the
 * policy to the application): a counter is accepted once, and never when it is `size` or more
 * behind the highest accepted one. check() before decryption, accept() only after the tag
 * verified, so a forged frame cannot move the window.
 */
export class ReplayWindow {
  constructor(size = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 1 || size > 1 << 16) throw new SFrameError('invalid_argument', 'replay window size');
    this.size_ = size;
    this.bits_ = new Uint8Array(size);
    this.highest_ = -1n;
  }

  check(ctr) {
    if (this.highest_ < 0n || ctr > this.highest_) return true;
    const behind = this.highest_ - ctr;
    if (behind >= BigInt(this.size_)) return false;
    return this.bits_[Number(ctr % BigInt(this.size_))] === 0;
  }

  accept(ctr) {
    const size = BigInt(this.size_);
    if (this.highest_ < 0n || ctr > this.highest_) {
      const advance = this.highest_ < 0n ? size : ctr - this.highest_;
      if (advance >= size) this.bits_.fill(0);
      else for (let c = this.highest_ + 1n; c <= ctr; c++) this.bits_[Number(c % size)] = 0;
      this.highest_ = ctr;
    }
    this.bits_[Number(ctr % size)] = 1;
  }
}

/**
 * The sending half for one base key: counters from `firstCtr` (default 0) upwards, refusing to
 * wrap. encrypt() reserves the counter before the asynchronous encryption so concurrent calls
 * never share a nonce.
 */
export async function createSender({ suite, kid, baseKey, firstCtr = 0n, ...rest }) {
  rejectUnknown(rest);
  const context = await importKey({ suite, kid, baseKey });
  let next = toUint64(firstCtr, 'firstCtr');
  let exhausted = false;
  return {
    get kid() { return context.kid; },
    get nextCtr() { return next; },
    async encrypt({ plaintext, metadata }) {
      if (exhausted) throw new SFrameError('counter_exhausted');
      const ctr = next;
      if (ctr === MAX_CTR) exhausted = true;
      else next = ctr + 1n;
      return encryptFrame({ key: context, ctr, plaintext, metadata });
    },
    destroy() { destroyKey(context); },
  };
}

/**
 * The receiving half: a table of keys by KID, each with its own replay window. decrypt() throws
 * SFrameError with reason bad_header, too_large, unknown_key, replay or auth_failed.
 */
export function createReceiver({ suite, replayWindow = DEFAULT_REPLAY_WINDOW, ...rest }) {
  rejectUnknown(rest);
  suiteParameters(suite);
  const keys = new Map();
  return {
    async addKey({ kid, baseKey, window }) {
      const context = await importKey({ suite, kid, baseKey });
      const id = context.kid;
      const previous = keys.get(id);
      if (previous) destroyKey(previous.context);
      // A window handed in survives a re-derivation of the same KID: counters already accepted
      // stay refused.
      keys.set(id, { context, window: window ?? previous?.window ?? new ReplayWindow(replayWindow) });
      return id;
    },
    hasKey(kid) { return keys.has(toUint64(kid, 'kid')); },
    kids() { return [...keys.keys()]; },
    windowOf(kid) { return keys.get(toUint64(kid, 'kid'))?.window ?? null; },
    removeKey(kid) {
      const id = toUint64(kid, 'kid');
      const entry = keys.get(id);
      if (entry) destroyKey(entry.context);
      keys.delete(id);
    },
    async decrypt({ data, offset = 0, metadata }) {
      const { kid, ctr, header, ciphertext } = parseCiphertext({ data, offset });
      const entry = keys.get(kid);
      if (!entry) throw new SFrameError('unknown_key', `KID ${kid}`);
      if (!entry.window.check(ctr)) throw new SFrameError('replay', `CTR ${ctr}`);
      const plaintext = await decryptFrame({ key: entry.context, header, ctr, ciphertext, metadata });
      // The key may have been replaced or removed while decrypting; the window is the one the
      // frame was checked against.
      if (!entry.window.check(ctr)) throw new SFrameError('replay', `CTR ${ctr}`);
      entry.window.accept(ctr);
      return { kid, ctr, plaintext };
    },
    destroy() {
      for (const entry of keys.values()) destroyKey(entry.context);
      keys.clear();
    },
  };
}
