// Canonical, length-prefixed binary encoding of the handshake and re-key messages.
// What gets hashed and signed is exactly these bytes: no JSON, no optional fields, one
// encoding per message, so two honest implementations always hash the same transcript.
//
// Every message starts with  u8 version ‖ u8 message_type ; every variable field is
// u16 big-endian length ‖ bytes, and the decoder checks each length against its limit,
// then rejects trailing bytes.
//
// Versions: the handshake is version 2 (SAS commitment, both usernames bound, the
// signing-contexts signature input). The record layer — record header, re-key and close
// plaintexts — did not change and keeps its version byte 1 (RECORD_LAYER_VERSION): its keys
// come only from a version-2 handshake, so a record can never be shared with a version-1 peer.
import { ChannelError } from './errors.js';
import { isKnownSuite, suiteParameters } from './suites.js';

export const PROTOCOL_VERSION = 2;
export const RECORD_LAYER_VERSION = 1;

export const HandshakeMessageType = Object.freeze({
  initiatorHello: 1, // message 1, A → B
  responderHello: 2, // message 2, B → A
  initiatorFinish: 3, // message 3, A → B
});

export const RekeyMessageKind = Object.freeze({ request: 1, response: 2 });

export const Limits = Object.freeze({
  sessionIdMinBytes: 1,
  sessionIdMaxBytes: 128,
  nonceBytes: 32,
  fingerprintLengths: Object.freeze([20, 32]), // v4 (SHA-1) and v6 (SHA-256) OpenPGP fingerprints
  signatureMinBytes: 1,
  signatureMaxBytes: 4096,
  finishedBytes: 32, // HMAC-SHA-256
  commitmentBytes: 32, // SHA-256 of the initiator's SAS secret
  sasSecretBytes: 32, // sA and sB
  usernameMinBytes: 3, // the server's username rule (server/auth/credentials.hpp)
  usernameMaxBytes: 32,
  handshakeMessageMaxBytes: 8192,
});

export class ByteWriter {
  #chunks = [];
  #length = 0;

  get length() { return this.#length; }

  u8(value) { return this.#push(Uint8Array.of(value & 0xff)); }

  u16(value) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new ChannelError('bad_length', 'u16 out of range');
    return this.#push(Uint8Array.of(value >>> 8, value & 0xff));
  }

  u32(value) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new ChannelError('bad_length', 'u32 out of range');
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this.#push(out);
  }

  /** Unsigned 64-bit big-endian from a safe integer (sequence numbers stay below 2^53). */
  u64(value) {
    if (!Number.isSafeInteger(value) || value < 0) throw new ChannelError('bad_length', 'u64 out of range');
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, Math.floor(value / 0x100000000));
    view.setUint32(4, value >>> 0);
    return this.#push(out);
  }

  raw(bytes) { return this.#push(Uint8Array.from(bytes)); }

  /** u16 length ‖ bytes */
  field(bytes) {
    this.u16(bytes.length);
    return this.raw(bytes);
  }

  bytes() {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #push(bytes) {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
    return this;
  }
}

export class ByteReader {
  #bytes;
  #offset = 0;
  #what;

  constructor(bytes, what) {
    if (!(bytes instanceof Uint8Array)) throw new ChannelError('malformed', `${what}: not a byte array`);
    this.#bytes = bytes;
    this.#what = what;
  }

  get offset() { return this.#offset; }

  #take(count, name) {
    if (this.#offset + count > this.#bytes.length) {
      throw new ChannelError('truncated', `${this.#what}: ${name}`);
    }
    const out = this.#bytes.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return out;
  }

  u8(name) { return this.#take(1, name)[0]; }

  u16(name) { const b = this.#take(2, name); return (b[0] << 8) | b[1]; }

  u32(name) {
    const b = this.#take(4, name);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(name) {
    const b = this.#take(8, name);
    const view = new DataView(b.buffer, b.byteOffset, 8);
    const high = view.getUint32(0);
    if (high > 0x1fffff) throw new ChannelError('bad_length', `${this.#what}: ${name} exceeds 2^53`);
    return high * 0x100000000 + view.getUint32(4);
  }

  raw(count, name) { return Uint8Array.from(this.#take(count, name)); }

  /**
   * u16 length ‖ bytes with an explicit allowed length: `exact`, a list `oneOf`, or [min, max].
   */
  field(name, { exact, oneOf, min = 0, max = 0xffff }) {
    const length = this.u16(`${name} length`);
    const ok = exact !== undefined ? length === exact
      : oneOf !== undefined ? oneOf.includes(length)
        : length >= min && length <= max;
    if (!ok) throw new ChannelError('bad_length', `${this.#what}: ${name} has ${length} bytes`);
    return this.raw(length, name);
  }

  expectEnd() {
    if (this.#offset !== this.#bytes.length) {
      throw new ChannelError('trailing_bytes', `${this.#what}: ${this.#bytes.length - this.#offset} extra`);
    }
  }
}

const sessionIdPattern = /^[\x21-\x7e]+$/;

/**
 * The server's session id is carried as printable ASCII (0x21–0x7e), 1–128 bytes, so that it
 * encodes to the same bytes everywhere and cannot smuggle separators or control characters.
 */
export function encodeSessionId(sessionId) {
  if (typeof sessionId !== 'string' || !sessionIdPattern.test(sessionId)
      || sessionId.length < Limits.sessionIdMinBytes || sessionId.length > Limits.sessionIdMaxBytes) {
    throw new ChannelError('invalid_argument', 'sessionId must be 1–128 printable ASCII characters');
  }
  return Uint8Array.from(sessionId, (c) => c.charCodeAt(0));
}

export function decodeSessionId(bytes) {
  for (const byte of bytes) {
    if (byte < 0x21 || byte > 0x7e) throw new ChannelError('malformed', 'session id is not printable ASCII');
  }
  return String.fromCharCode(...bytes);
}

// The server's username rule (server/auth/credentials.cpp check_username): 3–32 ASCII
// characters, letters, digits, '.', '_' and '-', starting with a letter or digit. A name on the
// wire that breaks it cannot be an account name, so it is refused, never normalised.
const usernamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;

export function isProtocolUsername(name) {
  return typeof name === 'string' && usernamePattern.test(name);
}

export function encodeUsername(name, what = 'username') {
  if (!isProtocolUsername(name)) throw new ChannelError('invalid_argument', `${what} must follow the server's username rule`);
  return Uint8Array.from(name, (c) => c.charCodeAt(0));
}

function decodeUsername(bytes, what) {
  const name = String.fromCharCode(...bytes);
  if (!isProtocolUsername(name)) throw new ChannelError('malformed', `${what} is not a valid username`);
  return name;
}

function checkFingerprint(name, fingerprint) {
  if (!(fingerprint instanceof Uint8Array) || !Limits.fingerprintLengths.includes(fingerprint.length)) {
    throw new ChannelError('invalid_argument', `${name} must be 20 or 32 bytes`);
  }
}

function checkSize(bytes, what) {
  if (!(bytes instanceof Uint8Array)) throw new ChannelError('malformed', `${what}: not a byte array`);
  if (bytes.length > Limits.handshakeMessageMaxBytes) throw new ChannelError('too_large', what);
}

function readHeader(reader, what) {
  const version = reader.u8('version');
  if (version !== PROTOCOL_VERSION) throw new ChannelError('unsupported_version', `${what}: version ${version}`);
  return reader.u8('message type');
}

/** Reads only version and type, so a state machine can refuse a message before parsing it. */
export function peekHandshakeMessageType(bytes) {
  checkSize(bytes, 'handshake message');
  const reader = new ByteReader(bytes, 'handshake message');
  const type = readHeader(reader, 'handshake message');
  if (!Object.values(HandshakeMessageType).includes(type)) {
    throw new ChannelError('unknown_message_type', `handshake message type ${type}`);
  }
  return type;
}

// ---- message 1: initiator_hello ----------------------------------------------------------
// u8 version ‖ u8 type=1 ‖ u8 suite ‖ field(session_id) ‖ field(username_a) ‖ field(username_b)
//   ‖ field(nonce_a, 32) ‖ field(ephemeral_a) ‖ field(fingerprint_a) ‖ field(fingerprint_b)
//   ‖ field(commit_a, 32)

export function encodeInitiatorHello({
  suite, sessionId, initiatorUsername, responderUsername, nonce, ephemeralPublicKey,
  initiatorFingerprint, responderFingerprint, commitment,
}) {
  const params = suiteParameters(suite);
  if (nonce.length !== Limits.nonceBytes) throw new ChannelError('invalid_argument', 'nonce must be 32 bytes');
  if (ephemeralPublicKey.length !== params.publicKeyLength) throw new ChannelError('invalid_argument', 'ephemeral key length');
  if (!(commitment instanceof Uint8Array) || commitment.length !== Limits.commitmentBytes) throw new ChannelError('invalid_argument', 'commitment must be 32 bytes');
  checkFingerprint('initiatorFingerprint', initiatorFingerprint);
  checkFingerprint('responderFingerprint', responderFingerprint);
  return new ByteWriter()
    .u8(PROTOCOL_VERSION).u8(HandshakeMessageType.initiatorHello).u8(suite)
    .field(encodeSessionId(sessionId))
    .field(encodeUsername(initiatorUsername, 'initiatorUsername'))
    .field(encodeUsername(responderUsername, 'responderUsername'))
    .field(nonce)
    .field(ephemeralPublicKey)
    .field(initiatorFingerprint)
    .field(responderFingerprint)
    .field(commitment)
    .bytes();
}

export function decodeInitiatorHello(bytes) {
  checkSize(bytes, 'initiator_hello');
  const reader = new ByteReader(bytes, 'initiator_hello');
  const type = readHeader(reader, 'initiator_hello');
  if (type !== HandshakeMessageType.initiatorHello) throw new ChannelError('unexpected_message', `type ${type}, expected initiator_hello`);
  const suite = reader.u8('suite');
  if (!isKnownSuite(suite)) throw new ChannelError('unsupported_suite', `suite ${suite}`);
  const params = suiteParameters(suite);
  const sessionId = decodeSessionId(reader.field('session_id', { min: Limits.sessionIdMinBytes, max: Limits.sessionIdMaxBytes }));
  const usernameLimits = { min: Limits.usernameMinBytes, max: Limits.usernameMaxBytes };
  const initiatorUsername = decodeUsername(reader.field('username_a', usernameLimits), 'username_a');
  const responderUsername = decodeUsername(reader.field('username_b', usernameLimits), 'username_b');
  const nonce = reader.field('nonce_a', { exact: Limits.nonceBytes });
  const ephemeralPublicKey = reader.field('ephemeral_a', { exact: params.publicKeyLength });
  const initiatorFingerprint = reader.field('fingerprint_a', { oneOf: Limits.fingerprintLengths });
  const responderFingerprint = reader.field('fingerprint_b', { oneOf: Limits.fingerprintLengths });
  const commitment = reader.field('commit_a', { exact: Limits.commitmentBytes });
  reader.expectEnd();
  return {
    suite, sessionId, initiatorUsername, responderUsername, nonce, ephemeralPublicKey,
    initiatorFingerprint, responderFingerprint, commitment,
  };
}

// ---- message 2: responder_hello ----------------------------------------------------------
// u8 version ‖ u8 type=2 ‖ field(nonce_b, 32) ‖ field(ephemeral_b) ‖ field(sas_secret_b, 32)
//                                                                        ← key_share prefix
//   ‖ field(signature_b)                                                 ← signed prefix
//   ‖ field(finished_b, 32)
// The transcript hashes are taken over prefixes of this one canonical encoding, so the
// prefixes are returned as offsets (TLS 1.3 hashes whole messages for the same reason).

export function encodeResponderHelloKeyShare({ suite, nonce, ephemeralPublicKey, sasSecret }) {
  const params = suiteParameters(suite);
  if (nonce.length !== Limits.nonceBytes) throw new ChannelError('invalid_argument', 'nonce must be 32 bytes');
  if (ephemeralPublicKey.length !== params.publicKeyLength) throw new ChannelError('invalid_argument', 'ephemeral key length');
  if (!(sasSecret instanceof Uint8Array) || sasSecret.length !== Limits.sasSecretBytes) throw new ChannelError('invalid_argument', 'SAS secret must be 32 bytes');
  return new ByteWriter().u8(PROTOCOL_VERSION).u8(HandshakeMessageType.responderHello)
    .field(nonce).field(ephemeralPublicKey).field(sasSecret).bytes();
}

export function encodeSignatureField(signature) {
  if (!(signature instanceof Uint8Array) || signature.length < Limits.signatureMinBytes
      || signature.length > Limits.signatureMaxBytes) {
    throw new ChannelError('signer_failed', 'signature must be 1–4096 bytes');
  }
  return new ByteWriter().field(signature).bytes();
}

export function encodeFinishedField(finished) {
  if (finished.length !== Limits.finishedBytes) throw new ChannelError('invalid_argument', 'finished length');
  return new ByteWriter().field(finished).bytes();
}

export function decodeResponderHello(bytes, { suite }) {
  checkSize(bytes, 'responder_hello');
  const params = suiteParameters(suite);
  const reader = new ByteReader(bytes, 'responder_hello');
  const type = readHeader(reader, 'responder_hello');
  if (type !== HandshakeMessageType.responderHello) throw new ChannelError('unexpected_message', `type ${type}, expected responder_hello`);
  const nonce = reader.field('nonce_b', { exact: Limits.nonceBytes });
  const ephemeralPublicKey = reader.field('ephemeral_b', { exact: params.publicKeyLength });
  const sasSecret = reader.field('sas_secret_b', { exact: Limits.sasSecretBytes });
  const keyShareEnd = reader.offset;
  const signature = reader.field('signature_b', { min: Limits.signatureMinBytes, max: Limits.signatureMaxBytes });
  const signatureEnd = reader.offset;
  const finished = reader.field('finished_b', { exact: Limits.finishedBytes });
  reader.expectEnd();
  return { nonce, ephemeralPublicKey, sasSecret, signature, finished, keyShareEnd, signatureEnd };
}

// ---- message 3: initiator_finish ---------------------------------------------------------
// u8 version ‖ u8 type=3 ‖ field(sas_secret_a, 32)   ← reveal prefix (A signs TH up to here)
//   ‖ field(signature_a)                              ← signed prefix
//   ‖ field(finished_a, 32)

export function encodeInitiatorFinishReveal(sasSecret) {
  if (!(sasSecret instanceof Uint8Array) || sasSecret.length !== Limits.sasSecretBytes) throw new ChannelError('invalid_argument', 'SAS secret must be 32 bytes');
  return new ByteWriter().u8(PROTOCOL_VERSION).u8(HandshakeMessageType.initiatorFinish).field(sasSecret).bytes();
}

export function decodeInitiatorFinish(bytes) {
  checkSize(bytes, 'initiator_finish');
  const reader = new ByteReader(bytes, 'initiator_finish');
  const type = readHeader(reader, 'initiator_finish');
  if (type !== HandshakeMessageType.initiatorFinish) throw new ChannelError('unexpected_message', `type ${type}, expected initiator_finish`);
  const sasSecret = reader.field('sas_secret_a', { exact: Limits.sasSecretBytes });
  const revealEnd = reader.offset;
  const signature = reader.field('signature_a', { min: Limits.signatureMinBytes, max: Limits.signatureMaxBytes });
  const signatureEnd = reader.offset;
  const finished = reader.field('finished_a', { exact: Limits.finishedBytes });
  reader.expectEnd();
  return { sasSecret, signature, finished, revealEnd, signatureEnd };
}

// ---- re-key messages (plaintext of a record of type "rekey") ------------------------------
// u8 version (RECORD_LAYER_VERSION) ‖ u8 kind (1 request, 2 response) ‖ u32 new_epoch ‖ field(ephemeral)

export function encodeRekeyMessage({ kind, epoch, ephemeralPublicKey }) {
  return new ByteWriter().u8(RECORD_LAYER_VERSION).u8(kind).u32(epoch).field(ephemeralPublicKey).bytes();
}

export function decodeRekeyMessage(bytes, { suite }) {
  const params = suiteParameters(suite);
  const reader = new ByteReader(bytes, 'rekey message');
  const version = reader.u8('version');
  if (version !== RECORD_LAYER_VERSION) throw new ChannelError('unsupported_version', `rekey message version ${version}`);
  const kind = reader.u8('kind');
  if (kind !== RekeyMessageKind.request && kind !== RekeyMessageKind.response) {
    throw new ChannelError('unknown_message_type', `rekey kind ${kind}`);
  }
  const epoch = reader.u32('epoch');
  const ephemeralPublicKey = reader.field('ephemeral', { exact: params.publicKeyLength });
  reader.expectEnd();
  return { kind, epoch, ephemeralPublicKey };
}

// ---- close message (plaintext of a record of type "close") -------------------------------
// u8 version (RECORD_LAYER_VERSION) ‖ u8 close_code

export const CloseCode = Object.freeze({ normal: 0, going_away: 1, protocol_error: 2 });

export function encodeCloseMessage(code) {
  return Uint8Array.of(RECORD_LAYER_VERSION, code);
}

export function decodeCloseMessage(bytes) {
  const reader = new ByteReader(bytes, 'close message');
  const version = reader.u8('version');
  if (version !== RECORD_LAYER_VERSION) throw new ChannelError('unsupported_version', `close message version ${version}`);
  const code = reader.u8('close code');
  if (!Object.values(CloseCode).includes(code)) throw new ChannelError('malformed', `close code ${code}`);
  reader.expectEnd();
  return { code, name: Object.keys(CloseCode).find((k) => CloseCode[k] === code) };
}
