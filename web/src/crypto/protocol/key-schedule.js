// Key schedule of the secure channel, modelled on TLS 1.3 (RFC 8446 §7.1) with HKDF-SHA-256
// (RFC 5869). Functions here take and return raw bytes so known-answer tests can check every
// intermediate value; the handshake imports the results as non-extractable CryptoKeys and
// zero-fills the raw copies at once.
//
// HKDF-Extract and HKDF-Expand are composed from WebCrypto HMAC because WebCrypto's HKDF only
// offers Extract+Expand in one call, and a TLS-style schedule needs Expand-Label alone. The
// composition is checked against WebCrypto's own HKDF and the Wycheproof HKDF vectors.
import { ChannelError } from './errors.js';
import { concatBytes, utf8, zeroize } from './bytes.js';

export const HASH_LENGTH = 32;
// Plays the role of "tls13 " in RFC 8446 §7.1; "secms2 " since handshake version 2, so no key
// of a version-1 schedule can equal one of version 2 even for equal inputs.
export const LABEL_PREFIX = 'secms2 ';

export const Labels = Object.freeze({
  initiatorFinished: 'i finished',
  responderFinished: 'r finished',
  derived: 'derived',
  initiatorToResponderTraffic: 'i2r traffic',
  responderToInitiatorTraffic: 'r2i traffic',
  exporter: 'exporter',
  rekeyChain: 'rekey chain',
  sas: 'sas',
  key: 'key',
  iv: 'iv',
});

export const AES_KEY_LENGTH = 32;
export const GCM_IV_LENGTH = 12;
export const SAS_LENGTH = 11;
export const SAS_COMMIT_LABEL = 'secms v2 sas commit';

const subtle = () => globalThis.crypto.subtle;

function isCryptoKey(value) {
  return value !== null && typeof value === 'object' && 'algorithm' in value && 'type' in value && 'usages' in value;
}

/** A secret held as a non-extractable HMAC-SHA-256 key: enough for HKDF-Expand and as an Extract salt. */
export async function importHmacKey(secret) {
  return subtle().importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export async function hmacSha256(key, data) {
  const cryptoKey = isCryptoKey(key) ? key : await importHmacKey(key);
  return new Uint8Array(await subtle().sign('HMAC', cryptoKey, data));
}

/** Constant-time MAC check (WebCrypto verify), used for the Finished MACs. */
export async function hmacSha256Verify(key, data, mac) {
  const cryptoKey = isCryptoKey(key) ? key : await importHmacKey(key);
  return subtle().verify('HMAC', cryptoKey, mac, data);
}

export async function sha256(data) {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

/** RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zero bytes. */
export async function hkdfExtract(salt, inputKeyMaterial) {
  const saltKey = isCryptoKey(salt) ? salt
    : await importHmacKey(salt.length === 0 ? new Uint8Array(HASH_LENGTH) : salt);
  return hmacSha256(saltKey, inputKeyMaterial);
}

/** RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), L ≤ 255·HashLen. */
export async function hkdfExpand(pseudorandomKey, info, length) {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LENGTH) {
    throw new ChannelError('invalid_argument', 'HKDF-Expand length must be 0..8160');
  }
  const key = isCryptoKey(pseudorandomKey) ? pseudorandomKey : await importHmacKey(pseudorandomKey);
  const output = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let counter = 1, offset = 0; offset < length; counter++) {
    const block = await hmacSha256(key, concatBytes(previous, info, Uint8Array.of(counter)));
    output.set(block.subarray(0, Math.min(HASH_LENGTH, length - offset)), offset);
    offset += HASH_LENGTH;
    zeroize(previous);
    previous = block;
  }
  zeroize(previous);
  return output;
}

/**
 * RFC 8446 §7.1 HkdfLabel: u16 length ‖ u8 len ‖ "secms1 " + label ‖ u8 len ‖ context.
 */
export function encodeHkdfLabel(label, context, length) {
  const fullLabel = utf8(LABEL_PREFIX + label);
  if (fullLabel.length < 7 || fullLabel.length > 255) throw new ChannelError('invalid_argument', 'label length');
  if (context.length > 255) throw new ChannelError('invalid_argument', 'context length');
  return concatBytes(
    Uint8Array.of(length >>> 8, length & 0xff, fullLabel.length), fullLabel,
    Uint8Array.of(context.length), context);
}

/** RFC 8446 §7.1 HKDF-Expand-Label(Secret, Label, Context, Length). */
export async function hkdfExpandLabel(secret, label, context, length) {
  return hkdfExpand(secret, encodeHkdfLabel(label, context, length), length);
}

/** RFC 8446 §7.1 Derive-Secret(Secret, Label, Messages) with Messages already hashed. */
export async function deriveSecret(secret, label, transcriptHash) {
  return hkdfExpandLabel(secret, label, transcriptHash, HASH_LENGTH);
}

/**
 * Handshake stage, computed by both sides once message 2's key share is known.
 *   nonce_salt       = SHA-256(nA ‖ nB)
 *   handshake_secret = HKDF-Extract(nonce_salt, ECDH(eA, eB))
 *   i_finished_key   = Derive-Secret(handshake_secret, "i finished", TH_keyshare)
 *   r_finished_key   = Derive-Secret(handshake_secret, "r finished", TH_keyshare)
 */
export async function deriveHandshakeSecrets({ sharedSecret, initiatorNonce, responderNonce, keyShareTranscriptHash }) {
  const nonceSalt = await sha256(concatBytes(initiatorNonce, responderNonce));
  const handshakeSecret = await hkdfExtract(nonceSalt, sharedSecret);
  const handshakeKey = await importHmacKey(handshakeSecret);
  return {
    nonceSalt,
    handshakeSecret,
    initiatorFinishedKey: await deriveSecret(handshakeKey, Labels.initiatorFinished, keyShareTranscriptHash),
    responderFinishedKey: await deriveSecret(handshakeKey, Labels.responderFinished, keyShareTranscriptHash),
  };
}

/**
 * Session stage, after message 3 (TH_final covers all three messages):
 *   derived_secret  = Derive-Secret(handshake_secret, "derived", SHA-256(""))
 *   master_secret   = HKDF-Extract(derived_secret, 0^32)
 *   X_traffic       = Derive-Secret(master_secret, "i2r traffic" | "r2i traffic", TH_final)
 *   exporter_secret = Derive-Secret(master_secret, "exporter", TH_final)
 *   rekey_chain     = Derive-Secret(master_secret, "rekey chain", TH_final)
 * The SAS is NOT derived here: see deriveSasBytes.
 */
export async function deriveSessionSecrets({ handshakeSecret, finalTranscriptHash }) {
  const derivedSecret = await deriveSecret(handshakeSecret, Labels.derived, await sha256(new Uint8Array(0)));
  const masterSecret = await hkdfExtract(derivedSecret, new Uint8Array(HASH_LENGTH));
  const masterKey = await importHmacKey(masterSecret);
  return {
    derivedSecret,
    masterSecret,
    initiatorToResponderTrafficSecret: await deriveSecret(masterKey, Labels.initiatorToResponderTraffic, finalTranscriptHash),
    responderToInitiatorTrafficSecret: await deriveSecret(masterKey, Labels.responderToInitiatorTraffic, finalTranscriptHash),
    exporterSecret: await deriveSecret(masterKey, Labels.exporter, finalTranscriptHash),
    rekeyChainSecret: await deriveSecret(masterKey, Labels.rekeyChain, finalTranscriptHash),
  };
}

/** ZRTP-style hash commitment to the initiator's SAS secret: H("secms v2 sas commit" ‖ 0x00 ‖ sA). */
export async function sasCommitment(initiatorSasSecret) {
  return sha256(concatBytes(utf8(SAS_COMMIT_LABEL), Uint8Array.of(0x00), initiatorSasSecret));
}

/**
 * SAS bytes from committed values only (ZRTP, RFC 6189 §4.5.2, and Matrix's SAS follow the
 * same idea): the initiator committed to sA in message 1 before it saw sB, and the responder
 * chose sB seeing only that commitment, so neither side — nor a relay playing either side —
 * can steer the result; a man in the middle gets one 2^-42 guess per handshake.
 *   sas_secret = HKDF-Extract(TH_keyshare, sA ‖ sB)
 *   sas_bytes  = HKDF-Expand-Label(sas_secret, "sas", "", 11)
 * TH_keyshare = H(M1 ‖ M2_keyshare) covers everything fixed before message 3; nothing of
 * message 3 beyond sA (no signature, no MAC) enters the SAS.
 */
/** Returns { sasSecret, sasBytes } as raw bytes; the caller wipes them (zeroizeSecrets). */
export async function deriveSasBytes({ keyShareTranscriptHash, initiatorSasSecret, responderSasSecret }) {
  const ikm = concatBytes(initiatorSasSecret, responderSasSecret);
  try {
    const sasSecret = await hkdfExtract(keyShareTranscriptHash, ikm);
    return { sasSecret, sasBytes: await hkdfExpandLabel(sasSecret, Labels.sas, new Uint8Array(0), SAS_LENGTH) };
  } finally {
    zeroize(ikm);
  }
}

/** RFC 8446 §7.3: key = Expand-Label(secret, "key", "", 32), iv = Expand-Label(secret, "iv", "", 12). */
export async function deriveTrafficKeys(trafficSecret) {
  const key = isCryptoKey(trafficSecret) ? trafficSecret : await importHmacKey(trafficSecret);
  return {
    key: await hkdfExpandLabel(key, Labels.key, new Uint8Array(0), AES_KEY_LENGTH),
    iv: await hkdfExpandLabel(key, Labels.iv, new Uint8Array(0), GCM_IV_LENGTH),
  };
}

/**
 * Re-key stage (epoch n → n+1), after a fresh ECDH inside the channel:
 *   rekey_secret  = HKDF-Extract(rekey_chain[n], ECDH(e_request, e_response))
 *   TH_rekey      = SHA-256(request_message ‖ response_message)
 *   rekey_chain[n+1], X_traffic[n+1], exporter[n+1] = Derive-Secret(rekey_secret, label, TH_rekey)
 * The chain secret carries all earlier entropy forward; the fresh ECDH heals a compromise of
 * epoch n's keys against an attacker who is passive during the re-key.
 */
export async function deriveRekeySecrets({ chainSecret, sharedSecret, rekeyTranscriptHash }) {
  const rekeySecret = await hkdfExtract(chainSecret, sharedSecret);
  const rekeyKey = await importHmacKey(rekeySecret);
  return {
    rekeySecret,
    rekeyChainSecret: await deriveSecret(rekeyKey, Labels.rekeyChain, rekeyTranscriptHash),
    initiatorToResponderTrafficSecret: await deriveSecret(rekeyKey, Labels.initiatorToResponderTraffic, rekeyTranscriptHash),
    responderToInitiatorTrafficSecret: await deriveSecret(rekeyKey, Labels.responderToInitiatorTraffic, rekeyTranscriptHash),
    exporterSecret: await deriveSecret(rekeyKey, Labels.exporter, rekeyTranscriptHash),
  };
}

/**
 * RFC 8446 §7.5 exporter: Expand-Label(Derive-Secret(exporter_secret, label, SHA-256("")),
 * "exporter", SHA-256(context), length). Used later for media (SFrame/E2EE) keys.
 */
export async function exportKeyingMaterial({ exporterSecret, label, context, length }) {
  const labelSecret = await deriveSecret(exporterSecret, label, await sha256(new Uint8Array(0)));
  try {
    return await hkdfExpandLabel(labelSecret, Labels.exporter, await sha256(context), length);
  } finally {
    zeroize(labelSecret);
  }
}

/** Wipes every Uint8Array value of a derivation result. */
export function zeroizeSecrets(secrets) {
  for (const value of Object.values(secrets)) if (value instanceof Uint8Array) zeroize(value);
}
