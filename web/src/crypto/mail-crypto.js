// OpenPGP for mail (docs/protocol.md "Email (OpenPGP)"): encrypt and sign the inner MIME entity
// of a PGP/MIME message (RFC 3156), make detached signatures for multipart/signed, decrypt and
// verify what arrives. Worker side: the own private key never leaves the Worker; the page
// gives bytes and armored PUBLIC keys and gets bytes, armor and signature facts back.
// Also runs in node for the tests.
//
// Only error codes leave this module (MailCryptoError): a message could quote secret input.

import * as openpgp from 'openpgp';
import { readIntoBlobParts } from '../mail/blob-parts.js';

export const MailCryptoErrorCode = Object.freeze({
  locked: 'no unlocked own key: unlock the identity first',
  invalid_request: 'the request is malformed',
  too_large: 'the data is larger than the mail limit',
  bad_recipient_key: 'a recipient key is not a usable public key (not public, expired, revoked or without an encryption key)',
  decrypt_failed: 'the message could not be decrypted',
  bad_signature_data: 'the signature is not an OpenPGP signature',
  encrypt_failed: 'the message could not be encrypted',
});

export class MailCryptoError extends Error {
  constructor(code, { reason = null, index = null, cause } = {}) {
    super(`mail-crypto: ${MailCryptoErrorCode[code] ?? code}`, { cause });
    this.name = 'MailCryptoError';
    this.code = code;
    this.reason = reason; // decrypt_failed: 'not_for_me'|'corrupt'|'no_key'|'locked'|'too_large' (decompresses past the limit)
    this.index = index;   // bad_recipient_key: which recipient key
  }
}

export const MAX_MAIL_DATA_BYTES = 32 * 1024 * 1024;
export const STREAM_THRESHOLD_BYTES = 1024 * 1024;
const STREAM_CHUNK_BYTES = 256 * 1024;
const MAX_KEYS = 200;
// Only v4 output, and SEIPDv1 (RFC 4880 §5.13) so GnuPG 2.2 and librnp read it. SHA-256 is
// asked for, but the signing key's own hash preferences win in OpenPGP.js, so sign() reports
// the hash it used as the micalg of multipart/signed (RFC 3156 §5).
// maxDecompressedMessageSize: a compressed data packet of a few hundred kilobytes can inflate
// to gigabytes (a "compression bomb" that takes the Worker and the tab down on every open);
// no mail plaintext is allowed past twice the largest message.
export const MAX_DECOMPRESSED_BYTES = 2 * MAX_MAIL_DATA_BYTES;
const mailConfig = Object.freeze({
  v6Keys: false, aeadProtect: false, preferredHashAlgorithm: openpgp.enums.hash.sha256, maxDecompressedMessageSize: MAX_DECOMPRESSED_BYTES,
});
const decompressedTooLarge = (cause) => /decompressed message size exceeded/i.test(String(cause?.message ?? ''));

function checkData(data, { allowString = false } = {}) {
  if (allowString && typeof data === 'string') {
    if (data.length > MAX_MAIL_DATA_BYTES) throw new MailCryptoError('too_large');
    return data;
  }
  if (!(data instanceof Uint8Array)) throw new MailCryptoError('invalid_request');
  if (data.length > MAX_MAIL_DATA_BYTES) throw new MailCryptoError('too_large');
  return data;
}

const isBlob = (data) => typeof Blob !== 'undefined' && data instanceof Blob;

/** A Blob of mail data (a message with a large attachment, streamed from the page's File). */
function checkBlob(data) {
  if (data.size > MAX_MAIL_DATA_BYTES) throw new MailCryptoError('too_large');
  return data;
}

function checkKeyList(list) {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > MAX_KEYS || !list.every((item) => typeof item === 'string')) throw new MailCryptoError('invalid_request');
  return list;
}

/**
 * A ReadableStream over `data` (Uint8Array or string) in chunks, calling progress(done, total)
 * as OpenPGP.js pulls each chunk: the page shows how far a big message has come.
 */
function progressStream(data, progress) {
  const total = data.length;
  let done = 0;
  return new ReadableStream({
    pull(controller) {
      if (done >= total) {
        controller.close();
        return;
      }
      const end = Math.min(total, done + STREAM_CHUNK_BYTES);
      controller.enqueue(typeof data === 'string' ? data.slice(done, end) : data.subarray(done, end));
      done = end;
      progress(done, total);
    },
  });
}

/**
 * blob.stream() in pieces of at most STREAM_CHUNK_BYTES (views, not copies: a browser may hand
 * over megabytes at once) with progress(done, total) as OpenPGP.js pulls each piece.
 */
function blobProgressStream(blob, progress) {
  const reader = blob.stream().getReader();
  let pending = new Uint8Array(0);
  let done = 0;
  return new ReadableStream({
    async pull(controller) {
      if (pending.length === 0) {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        pending = next.value;
      }
      const piece = pending.subarray(0, STREAM_CHUNK_BYTES);
      pending = pending.subarray(piece.length);
      done += piece.length;
      controller.enqueue(piece);
      progress(done, blob.size);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

// The armored answer to a Blob is gathered in Blob parts of about this size (never one string).
const ARMOR_PART_BYTES = 1024 * 1024;

/**
 * An armored stream (strings) → a Blob of its ASCII bytes with CRLF line ends (RFC 3156 §3),
 * made part by part: the Worker never holds the whole armor as one string or buffer.
 */
async function crlfBlob(armored) {
  if (typeof armored === 'string') return new Blob([crlfBytes(armored)]);
  let previous = 0;   // last character code of the previous chunk (a CRLF may span two chunks)
  const parts = await readIntoBlobParts(armored.getReader(), {
    partBytes: ARMOR_PART_BYTES,
    toBytes(value) {
      const bytes = crlfBytes(value, previous);
      previous = value.charCodeAt(value.length - 1);
      return bytes;
    },
  });
  return new Blob(parts);
}

async function readAll(value, limit = Infinity) {
  if (!(value instanceof ReadableStream)) return value;
  const reader = value.getReader();
  const pieces = [];
  let total = 0;
  for (;;) {
    const { done, value: piece } = await reader.read();
    if (done) break;
    total += piece.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new MailCryptoError('too_large');
    }
    pieces.push(piece);
  }
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
  const bytes = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.length;
  }
  return bytes;
}

/**
 * ASCII text → bytes with every line end as CRLF (RFC 3156 §3 canonical form of a MIME part).
 * before: the character code just before the text (a piece of a longer text), 0 at its start.
 */
function crlfBytes(text, before = 0) {
  const codeBefore = (index) => (index === 0 ? before : text.charCodeAt(index - 1));
  let bare = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) if (codeBefore(index) !== 13) bare += 1;
  const bytes = new Uint8Array(text.length + bare);
  let at = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 10 && codeBefore(index) !== 13) bytes[at++] = 13;
    bytes[at++] = code;
  }
  return bytes;
}

/** Reads public keys the page gives; unreadable or private ones are skipped (verification only). */
async function readVerificationKeys(armoredKeys) {
  const keys = [];
  for (const armoredKey of armoredKeys) {
    try {
      const key = await openpgp.readKey({ armoredKey });
      if (!key.isPrivate()) keys.push(key);
    } catch {
      // An unreadable key verifies nothing: its signatures show as unknown_key.
    }
  }
  return keys;
}

function primaryEmail(key) {
  return key.getUserIDs().map((userId) => /<([^<>\s]+@[^<>\s]+)>/.exec(userId)?.[1] ?? (userId.includes('@') ? userId.trim() : null)).filter(Boolean);
}

/** The page's view of each signature: {keyId, fingerprint, status, created, userIds, emails}. */
async function describeSignatures(signatures, keys) {
  const described = [];
  for (const entry of signatures ?? []) {
    const keyId = entry.keyID.toHex();
    const signer = keys.find((key) => key.getKeys(entry.keyID).length > 0) ?? null;
    let status = signer ? 'invalid' : 'unknown_key';
    let created = null;
    try {
      await entry.verified;
      status = 'valid';
    } catch {
      // invalid (or made by a key not among the verification keys: unknown_key, set above)
    }
    try {
      const packet = (await entry.signature).packets[0];
      created = packet?.created instanceof Date ? packet.created.toISOString() : null;
    } catch {
      created = null;
    }
    described.push({
      keyId,
      fingerprint: signer ? signer.getFingerprint().toUpperCase() : null,
      status,
      created,
      userIds: signer ? signer.getUserIDs() : [],
      emails: signer ? primaryEmail(signer) : [],
    });
  }
  return described;
}

/**
 * Mail operations bound to the Worker's unlocked key.
 * identity() → unlocked private key or null; emit(event) posts Worker events (mail.progress).
 */
export function createMailCrypto({ identity, emit = () => {} }) {
  function ownKey() {
    const key = identity();
    if (!key) throw new MailCryptoError('locked');
    return key;
  }

  function progressFor(job) {
    return (done, total) => emit({ type: 'mail.progress', job: job ?? null, done, total });
  }

  async function readRecipientKeys(armoredKeys) {
    const keys = [];
    for (const [index, armoredKey] of armoredKeys.entries()) {
      try {
        const key = await openpgp.readKey({ armoredKey });
        if (key.isPrivate()) throw new Error('private');
        await key.getEncryptionKey(undefined, new Date(), undefined, { ...openpgp.config, ...mailConfig }); // throws when expired, revoked or without one
        keys.push(key);
      } catch (cause) {
        throw new MailCryptoError('bad_recipient_key', { index, cause });
      }
    }
    return keys;
  }

  /**
   * {data, recipientKeys, sign, job, output} → {armored}: always also encrypted to the own key.
   * output 'crlf-bytes' → {armoredBytes}: the armor as ASCII bytes with CRLF line ends, ready to
   * be the body of the PGP/MIME part — converted here, off the page's main thread (for a 25 MiB
   * message that is tens of MiB of string work the page would otherwise do).
   * output 'blob' → {armoredBlob}: the same CRLF armor as a Blob made part by part.
   * data may be a Blob (a message with a large attachment): it is streamed from blob.stream()
   * through OpenPGP.js (with progress), never read whole.
   */
  async function encrypt({ data, recipientKeys, sign = true, job, output = 'armored' }) {
    const blob = isBlob(data);
    if (blob) checkBlob(data);
    else checkData(data);
    if (typeof sign !== 'boolean' || (job !== undefined && typeof job !== 'string')) throw new MailCryptoError('invalid_request');
    if (output !== 'armored' && output !== 'crlf-bytes' && output !== 'blob') throw new MailCryptoError('invalid_request');
    const privateKey = ownKey();
    const recipients = await readRecipientKeys(checkKeyList(recipientKeys));
    const own = privateKey.toPublic();
    const encryptionKeys = [own, ...recipients.filter((key) => key.getFingerprint() !== own.getFingerprint())];
    const big = blob || data.length > STREAM_THRESHOLD_BYTES;
    try {
      const input = blob ? blobProgressStream(data, progressFor(job)) : big ? progressStream(data, progressFor(job)) : data;
      const message = await openpgp.createMessage({ binary: input });
      const armored = await openpgp.encrypt({
        message, encryptionKeys, signingKeys: sign ? privateKey : undefined, format: 'armored', config: mailConfig,
      });
      if (output === 'blob') return { armoredBlob: await crlfBlob(armored) };
      const text = await readAll(armored);
      return output === 'crlf-bytes' ? { armoredBytes: crlfBytes(text) } : { armored: text };
    } catch (cause) {
      throw new MailCryptoError('encrypt_failed', { cause });
    }
  }

  /**
   * {data} (the canonical CRLF bytes of the signed part: bytes, or a Blob streamed through the
   * signature) → {armoredSignature, micalg}.
   */
  async function sign({ data }) {
    const blob = isBlob(data);
    if (blob) checkBlob(data);
    else checkData(data);
    const privateKey = ownKey();
    const signed = await openpgp.sign({
      message: await openpgp.createMessage({ binary: blob ? data.stream() : data }), signingKeys: privateKey, detached: true, format: 'armored', config: mailConfig,
    });
    const armoredSignature = await readAll(signed);
    const signature = await openpgp.readSignature({ armoredSignature });
    const micalg = `pgp-${openpgp.enums.read(openpgp.enums.hash, signature.packets[0].hashAlgorithm)}`;
    return { armoredSignature, micalg };
  }

  /**
   * {data (armored string or binary), verificationKeys, job} → {data, signatures}. Failure:
   * decrypt_failed with reason not_for_me (encrypted to other keys only), no_key (no public-key
   * session key at all), corrupt (unreadable, modified, truncated), locked.
   */
  async function decrypt({ data, verificationKeys, job }) {
    checkData(data, { allowString: true });
    const armoredKeys = checkKeyList(verificationKeys);
    let privateKey;
    try {
      privateKey = ownKey();
    } catch {
      throw new MailCryptoError('decrypt_failed', { reason: 'locked' });
    }
    let message;
    try {
      message = typeof data === 'string'
        ? await openpgp.readMessage({ armoredMessage: data })
        : await openpgp.readMessage({ binaryMessage: data });
    } catch (cause) {
      throw new MailCryptoError('decrypt_failed', { reason: 'corrupt', cause });
    }
    const recipients = message.getEncryptionKeyIDs();
    if (recipients.length === 0) throw new MailCryptoError('decrypt_failed', { reason: 'no_key' });
    const mine = privateKey.getKeyIDs();
    const wildcard = recipients.some((keyId) => keyId.isWildcard());
    if (!wildcard && !recipients.some((keyId) => mine.some((own) => own.equals(keyId)))) {
      throw new MailCryptoError('decrypt_failed', { reason: 'not_for_me' });
    }
    const keys = [privateKey.toPublic(), ...(await readVerificationKeys(armoredKeys))];
    const big = data.length > STREAM_THRESHOLD_BYTES;
    try {
      if (big) {
        // Re-read as a stream so progress follows what OpenPGP.js consumes; the plaintext is
        // only released once the integrity check has passed (allowUnauthenticatedStream off).
        message = typeof data === 'string'
          ? await openpgp.readMessage({ armoredMessage: progressStream(data, progressFor(job)) })
          : await openpgp.readMessage({ binaryMessage: progressStream(data, progressFor(job)) });
      }
      const result = await openpgp.decrypt({ message, decryptionKeys: privateKey, verificationKeys: keys, format: 'binary', config: mailConfig });
      const plaintext = await readAll(result.data, MAX_DECOMPRESSED_BYTES);
      if (plaintext.length > MAX_DECOMPRESSED_BYTES) throw new MailCryptoError('too_large');
      return { data: plaintext, signatures: await describeSignatures(result.signatures, keys) };
    } catch (cause) {
      const tooLarge = cause instanceof MailCryptoError ? cause.code === 'too_large' : decompressedTooLarge(cause);
      throw new MailCryptoError('decrypt_failed', { reason: tooLarge ? 'too_large' : 'corrupt', cause });
    }
  }

  /**
   * {data, signature (armored or binary), verificationKeys} → {signatures} for a detached
   * signature; or {cleartext (a "BEGIN PGP SIGNED MESSAGE" text), verificationKeys} →
   * {signatures, text} for inline cleartext signatures (RFC 4880 §7).
   */
  async function verify({ data, signature, cleartext, verificationKeys }) {
    const keys = await readVerificationKeys(checkKeyList(verificationKeys));
    const own = identity();
    if (own) keys.unshift(own.toPublic());
    if (cleartext !== undefined) {
      if (typeof cleartext !== 'string' || data !== undefined || signature !== undefined) throw new MailCryptoError('invalid_request');
      checkData(cleartext, { allowString: true });
      let message;
      try {
        message = await openpgp.readCleartextMessage({ cleartextMessage: cleartext });
      } catch (cause) {
        throw new MailCryptoError('bad_signature_data', { cause });
      }
      const result = await openpgp.verify({ message, verificationKeys: keys, config: mailConfig });
      return { signatures: await describeSignatures(result.signatures, keys), text: await readAll(result.data) };
    }
    checkData(data);
    let parsed;
    try {
      parsed = typeof signature === 'string'
        ? await openpgp.readSignature({ armoredSignature: signature })
        : await openpgp.readSignature({ binarySignature: checkData(signature) });
    } catch (cause) {
      if (cause instanceof MailCryptoError) throw cause;
      throw new MailCryptoError('bad_signature_data', { cause });
    }
    const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: data }), signature: parsed, verificationKeys: keys, config: mailConfig });
    return { signatures: await describeSignatures(result.signatures, keys) };
  }

  return Object.freeze({ encrypt, sign, decrypt, verify });
}
