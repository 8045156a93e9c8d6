// Record layer: every message after the handshake is one AES-256-GCM record.
//
// record = header ‖ ciphertext‖tag
// header = u8 version ‖ u8 type (1 data, 2 rekey, 3 close, 4 sender_key, 5 call) ‖ u8 direction ‖ u8 session_id_length ‖ session_id
//          ‖ u32 epoch ‖ u64 sequence ‖ u32 ciphertext_length
// AAD    = header (all of it: version, type, direction, session id, epoch, sequence, length)
// nonce  = iv XOR (0^4 ‖ u64be(sequence))                        (RFC 8446 §5.3)
//
// GCM's security collapses if a (key, nonce) pair repeats (NIST SP 800-38D §8): the sequence
// number is the nonce's only varying part, so it is strictly increasing per epoch and direction
// and never reused; the receiver accepts exactly the next number, nothing else.
import { ChannelError } from './errors.js';
import { ByteReader, ByteWriter, RECORD_LAYER_VERSION, decodeSessionId, encodeSessionId } from './encoding.js';
import { GCM_IV_LENGTH } from './key-schedule.js';
import { zeroize } from './bytes.js';

// sender_key (4) carries a room sender key (docs/protocol.md "Room messages"): its own type, so
// nothing the page can send with channel.send (always type 1) is ever read as a key.
// call (5) carries a call signal (docs/protocol.md "Call signalling"): its own type, so chat
// text is never read as call set-up (offer, ICE, hang-up) and a call signal is never shown as a
// chat line; the type byte is in the AAD, so a relay cannot relabel one as the other.
export const RecordType = Object.freeze({ data: 1, rekey: 2, close: 3, senderKey: 4, call: 5 });
export const Direction = Object.freeze({ initiatorToResponder: 1, responderToInitiator: 2 });

export const GCM_TAG_LENGTH = 16;
export const MAX_RECORD_PLAINTEXT = 65536;
/** Well below GCM's 2^64 limit and JS's 2^53; re-key happens long before (default 1000). */
export const MAX_SEQUENCE = 2 ** 48 - 1;

const recordTypeNames = new Map(Object.entries(RecordType).map(([name, value]) => [value, name]));

const subtle = () => globalThis.crypto.subtle;

/** AES-256-GCM key, non-extractable, from raw bytes that are zero-filled here. */
export async function importRecordKey(rawKey) {
  try {
    return await subtle().importKey('raw', rawKey, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  } finally {
    zeroize(rawKey);
  }
}

export function encodeRecordHeader({ type, direction, sessionId, epoch, sequence, ciphertextLength }) {
  if (!recordTypeNames.has(type)) throw new ChannelError('unknown_message_type', `record type ${type}`);
  if (direction !== Direction.initiatorToResponder && direction !== Direction.responderToInitiator) {
    throw new ChannelError('invalid_argument', `direction ${direction}`);
  }
  if (sequence > MAX_SEQUENCE) throw new ChannelError('sequence_exhausted', `sequence ${sequence}`);
  const sessionIdBytes = encodeSessionId(sessionId);
  return new ByteWriter()
    .u8(RECORD_LAYER_VERSION).u8(type).u8(direction)
    .u8(sessionIdBytes.length).raw(sessionIdBytes)
    .u32(epoch).u64(sequence).u32(ciphertextLength)
    .bytes();
}

/** Strict parse of a record; the body must be exactly ciphertext_length bytes. */
export function decodeRecord(record, { maxPlaintext = MAX_RECORD_PLAINTEXT } = {}) {
  if (!(record instanceof Uint8Array)) throw new ChannelError('malformed', 'record is not a byte array');
  const reader = new ByteReader(record, 'record');
  const version = reader.u8('version');
  if (version !== RECORD_LAYER_VERSION) throw new ChannelError('unsupported_version', `record version ${version}`);
  const type = reader.u8('type');
  if (!recordTypeNames.has(type)) throw new ChannelError('unknown_message_type', `record type ${type}`);
  const direction = reader.u8('direction');
  if (direction !== Direction.initiatorToResponder && direction !== Direction.responderToInitiator) {
    throw new ChannelError('malformed', `record direction ${direction}`);
  }
  const sessionIdLength = reader.u8('session id length');
  if (sessionIdLength < 1 || sessionIdLength > 128) throw new ChannelError('bad_length', 'record session id');
  const sessionId = decodeSessionId(reader.raw(sessionIdLength, 'session id'));
  const epoch = reader.u32('epoch');
  const sequence = reader.u64('sequence');
  const ciphertextLength = reader.u32('ciphertext length');
  if (ciphertextLength < GCM_TAG_LENGTH) throw new ChannelError('bad_length', 'ciphertext shorter than the tag');
  if (ciphertextLength > maxPlaintext + GCM_TAG_LENGTH) throw new ChannelError('too_large', `record of ${ciphertextLength} bytes`);
  const headerLength = reader.offset;
  const available = record.length - headerLength;
  if (available < ciphertextLength) throw new ChannelError('truncated', `record body ${available} of ${ciphertextLength} bytes`);
  if (available > ciphertextLength) throw new ChannelError('trailing_bytes', `record: ${available - ciphertextLength} extra`);
  return {
    type, typeName: recordTypeNames.get(type), direction, sessionId, epoch, sequence,
    header: record.subarray(0, headerLength),
    ciphertext: record.subarray(headerLength),
  };
}

/** nonce = iv XOR (0^4 ‖ u64be(sequence)), RFC 8446 §5.3. */
export function recordNonce(iv, sequence) {
  if (iv.length !== GCM_IV_LENGTH) throw new ChannelError('invalid_argument', 'iv must be 12 bytes');
  const nonce = Uint8Array.from(iv);
  const high = Math.floor(sequence / 0x100000000);
  const low = sequence >>> 0;
  const mask = [high >>> 24, high >>> 16, high >>> 8, high, low >>> 24, low >>> 16, low >>> 8, low];
  for (let i = 0; i < 8; i++) nonce[4 + i] ^= mask[i] & 0xff;
  return nonce;
}

/** Seals one record (no state): used by the channel and by the KATs. */
export async function sealRecord({ key, iv, type, direction, sessionId, epoch, sequence, plaintext, maxPlaintext = MAX_RECORD_PLAINTEXT }) {
  if (!(plaintext instanceof Uint8Array)) throw new ChannelError('invalid_argument', 'plaintext must be a Uint8Array');
  if (plaintext.length > maxPlaintext) throw new ChannelError('too_large', `plaintext of ${plaintext.length} bytes`);
  const header = encodeRecordHeader({
    type, direction, sessionId, epoch, sequence, ciphertextLength: plaintext.length + GCM_TAG_LENGTH,
  });
  const ciphertext = new Uint8Array(await subtle().encrypt(
    { name: 'AES-GCM', iv: recordNonce(iv, sequence), additionalData: header, tagLength: 128 }, key, plaintext));
  const record = new Uint8Array(header.length + ciphertext.length);
  record.set(header, 0);
  record.set(ciphertext, header.length);
  return record;
}

/**
 * Opens one record against what the receiver expects. Checks run cheapest first and each
 * failure has its own reason; only the AEAD tag authenticates, the header checks make the
 * teardown reason precise (and refuse reflected or stale records before any decryption).
 */
export async function openRecord({ key, iv, record, expected, maxPlaintext = MAX_RECORD_PLAINTEXT }) {
  const parsed = decodeRecord(record, { maxPlaintext });
  if (parsed.sessionId !== expected.sessionId) throw new ChannelError('wrong_session', 'record');
  if (parsed.direction !== expected.direction) throw new ChannelError('wrong_direction', `record direction ${parsed.direction}`);
  if (parsed.epoch !== expected.epoch) throw new ChannelError('wrong_epoch', `record epoch ${parsed.epoch}, expected ${expected.epoch}`);
  if (parsed.sequence < expected.sequence) throw new ChannelError('replay', `sequence ${parsed.sequence}, expected ${expected.sequence}`);
  if (parsed.sequence > expected.sequence) throw new ChannelError('out_of_order', `sequence ${parsed.sequence}, expected ${expected.sequence}`);
  let plaintext;
  try {
    plaintext = new Uint8Array(await subtle().decrypt(
      { name: 'AES-GCM', iv: recordNonce(iv, parsed.sequence), additionalData: parsed.header, tagLength: 128 },
      key, parsed.ciphertext));
  } catch (error) {
    throw new ChannelError('bad_tag', `record sequence ${parsed.sequence}`, { cause: error });
  }
  return { type: parsed.type, typeName: parsed.typeName, epoch: parsed.epoch, sequence: parsed.sequence, plaintext };
}

/** One direction of one epoch: key (non-extractable CryptoKey), iv, and the next sequence number. */
export class RecordDirectionState {
  #key;
  #iv;
  #nextSequence = 0;

  constructor({ key, iv, direction, sessionId, epoch }) {
    this.#key = key;
    this.#iv = Uint8Array.from(iv);
    this.direction = direction;
    this.sessionId = sessionId;
    this.epoch = epoch;
  }

  get nextSequence() { return this.#nextSequence; }

  async seal(type, plaintext, maxPlaintext) {
    if (this.#key === null) throw new ChannelError('closed', 'record keys dropped');
    if (this.#nextSequence > MAX_SEQUENCE) throw new ChannelError('sequence_exhausted', `epoch ${this.epoch}`);
    const sequence = this.#nextSequence++; // consumed even on failure: a nonce is never retried
    return sealRecord({
      key: this.#key, iv: this.#iv, type, direction: this.direction, sessionId: this.sessionId,
      epoch: this.epoch, sequence, plaintext, maxPlaintext,
    });
  }

  async open(record, maxPlaintext) {
    if (this.#key === null) throw new ChannelError('closed', 'record keys dropped');
    const opened = await openRecord({
      key: this.#key, iv: this.#iv, record, maxPlaintext,
      expected: { sessionId: this.sessionId, direction: this.direction, epoch: this.epoch, sequence: this.#nextSequence },
    });
    this.#nextSequence++;
    return opened;
  }

  /** Drops the key reference (a non-extractable key cannot be wiped, only released) and the IV. */
  destroy() {
    this.#key = null;
    zeroize(this.#iv);
  }
}
