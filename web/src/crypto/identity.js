// The user's OpenPGP identity: create, import, protect, unlock, describe, sign the server's
// proof-of-possession challenge (strictly checked, one per submission), and read a peer's
// accepted certificate. Worker side (the private key never leaves the Worker); pure enough to
// run in Node for the tests.
//
// librnp 0.16 on the server reads only v4 keys (docs/certificates.md): new keys are v4
// EdDSA-legacy (Ed25519) + ECDH Curve25519; imports must be v4 EdDSA, ECDSA or RSA ≥ 2048.

import * as openpgp from 'openpgp';
import { estimatePassphrase } from './passphrase-strength.js';
import { parsePossessionChallenge } from './protocol/signing-contexts.js';

export const IdentityErrorCode = Object.freeze({
  invalid_name: 'the name is empty, too long or contains < or >',
  invalid_email: 'the email address is not valid',
  not_a_private_key: 'the text is not an armored OpenPGP private key',
  passphrase_required: 'the private key is protected: its passphrase is required',
  wrong_passphrase: 'the passphrase does not unlock the private key',
  weak_key: 'RSA keys shorter than 2048 bits are refused',
  unsupported_key: 'only v4 EdDSA, ECDSA and RSA keys can be used (the server cannot read others)',
  no_signing_key: 'the key has no valid key that can sign',
  no_user_id: 'the key has no user ID',
  remember_needs_passphrase: 'a key is stored on this device only when protected by a passphrase',
  weak_passphrase: 'the passphrase is too weak to protect a stored key',
  certificate_mismatch: 'the certificate does not match the accepted fingerprint',
  not_a_certificate: 'the text is not an OpenPGP public certificate',
  challenge_refused: 'the challenge is not a possession challenge for this origin, account and key, or it is stale',
  no_pending_submission: 'no certificate submission started by this device is waiting for a challenge',
});

export class IdentityError extends Error {
  constructor(code, options) {
    super(`identity: ${IdentityErrorCode[code] ?? code}`, options);
    this.name = 'IdentityError';
    this.code = code;
  }
}

const MIN_RSA_BITS = 2048;
const emailPattern = /^[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/;
// Only v4 output, whatever the library's defaults become (librnp 0.16 cannot read v6).
const v4Config = Object.freeze({ v6Keys: false });

function checkName(name) {
  if (typeof name !== 'string' || !name.trim() || name.length > 128 || /[<>]/.test(name)) throw new IdentityError('invalid_name');
  return name.trim();
}

// One DNS label: the server's mail domain may be dotless ("localhost", the default).
const dotlessDomainPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * An address with a dotted domain, or with exactly `localDomain` (the server's own mail domain,
 * GET /api/v1/mail/status) when that is one dotless label: user@localhost is the user's real
 * mailbox when the server's mail domain is localhost, while any other dotless domain is a typo.
 */
export function checkEmail(email, { localDomain = null } = {}) {
  if (typeof email !== 'string' || email.length > 254) throw new IdentityError('invalid_email');
  const trimmed = email.trim();
  if (emailPattern.test(trimmed)) return trimmed;
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1);
  if (at > 0 && typeof localDomain === 'string' && dotlessDomainPattern.test(localDomain)
      && domain.toLowerCase() === localDomain.toLowerCase() && /^[^\s<>@]+$/.test(local)) return trimmed;
  throw new IdentityError('invalid_email');
}

function checkUsableKey(key) {
  if (key.keyPacket.version !== 4) throw new IdentityError('unsupported_key');
  const { algorithm, bits } = key.getAlgorithmInfo();
  if (algorithm === 'rsaEncryptSign' || algorithm === 'rsaSign') {
    if (!(bits >= MIN_RSA_BITS)) throw new IdentityError('weak_key');
  } else if (algorithm !== 'eddsaLegacy' && algorithm !== 'ecdsa') {
    throw new IdentityError('unsupported_key');
  }
  if (key.getUserIDs().length === 0) throw new IdentityError('no_user_id');
}

/** Creates a v4 Ed25519/Cv25519 key pair; returns the unlocked private key object. */
export async function generateIdentity({ name, email, localDomain = null }) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy',
    userIDs: [{ name: checkName(name), email: checkEmail(email, { localDomain }) }],
    format: 'object', config: v4Config,
  });
  return privateKey;
}

/** Reads an armored private key, unlocks it with the passphrase if it is protected, checks it is usable. */
export async function importIdentity({ armoredKey, passphrase }) {
  let key;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: String(armoredKey ?? '') });
  } catch (cause) {
    throw new IdentityError('not_a_private_key', { cause });
  }
  checkUsableKey(key);
  if (!key.isDecrypted()) {
    if (!passphrase) throw new IdentityError('passphrase_required');
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (cause) {
      throw new IdentityError('wrong_passphrase', { cause });
    }
  }
  try {
    await key.getSigningKey();
  } catch (cause) {
    throw new IdentityError('no_signing_key', { cause });
  }
  return key;
}

// The stored key never leaves this browser (librnp never reads it), so it gets the strongest
// protection OpenPGP.js offers for a v4 key: Argon2 S2K (RFC 9580 §3.7.1.4, the library's
// defaults t=3, p=4, m=64 MiB) and AEAD (S2K usage 253, AES-256-GCM, §5.5.3) instead
// of iterated-salted SHA-256 with AES-CFB and a SHA-1 check.
const storageConfig = Object.freeze({
  s2kType: openpgp.enums.s2k.argon2, aeadProtect: true,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256, preferredAEADAlgorithm: openpgp.enums.aead.gcm,
});
const AEAD_S2K_USAGE = 253;

/** The passphrase-protected armored key kept on the device when the user opts in. */
export async function protectForStorage({ privateKey, passphrase, allowWeak = false }) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new IdentityError('remember_needs_passphrase');
  // allowWeak: only to re-protect a key stored before the minimum existed (its owner chose it then).
  if (!allowWeak && !estimatePassphrase(passphrase).acceptable) throw new IdentityError('weak_passphrase');
  const locked = await openpgp.encryptKey({ privateKey, passphrase, config: storageConfig });
  return locked.armor();
}

/** True when a stored armored key is not (wholly) under Argon2 + AEAD: re-protect it at unlock. */
export async function storageNeedsUpgrade({ armoredKey }) {
  const key = await openpgp.readPrivateKey({ armoredKey: String(armoredKey ?? '') });
  return [key.keyPacket, ...key.subkeys.map((subkey) => subkey.keyPacket)]
    .some((packet) => packet.s2kUsage !== AEAD_S2K_USAGE || packet.s2k?.type !== 'argon2');
}

/** Unlocks a stored key (same checks as an import). */
export async function unlockStoredIdentity({ armoredKey, passphrase }) {
  if (!passphrase) throw new IdentityError('passphrase_required');
  return importIdentity({ armoredKey, passphrase });
}

/** What the page may know about the identity: public facts only. */
export function describeIdentity(privateKey) {
  const { algorithm, bits, curve } = privateKey.getAlgorithmInfo();
  const userId = privateKey.getUserIDs()[0] ?? '';
  return {
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    userId,
    algorithm,
    bits: bits ?? null,
    curve: curve ?? null,
    created: Math.floor(privateKey.getCreationTime().getTime() / 1000),
  };
}

export function exportPublicCertificate(privateKey) {
  return privateKey.toPublic().armor();
}

// The proof of possession (docs/protocol.md "Signing contexts"): the long-term key signs only
// a challenge of the exact v2 form, naming this origin, this account and this key, fresh, and
// only while a submission the Worker started is pending. Anything else the server sends —
// above all a handshake signature input (which starts with 0xFF and so is never such a text) —
// is refused, so the login can never serve as a signing oracle for the handshake.
export const CHALLENGE_MAX_SKEW_SECONDS = 15 * 60;
export const SUBMISSION_WINDOW_MS = 2 * 60 * 1000;

/**
 * Checks the server's challenge against what the Worker knows: → the parsed fields, or throws
 * IdentityError 'challenge_refused' (never saying which check failed: the page shows a code).
 */
export function checkPossessionChallenge({ challenge, origin, account, fingerprint, nowSeconds }) {
  let fields;
  try {
    fields = parsePossessionChallenge(challenge);
  } catch (cause) {
    throw new IdentityError('challenge_refused', { cause });
  }
  const sameOrigin = typeof origin === 'string' && fields.origin === origin;
  const sameUser = typeof account === 'string' && fields.user === account;
  const sameKey = typeof fingerprint === 'string' && fields.fingerprint === fingerprint.toLowerCase();
  const fresh = Number.isSafeInteger(nowSeconds) && Math.abs(fields.time - nowSeconds) <= CHALLENGE_MAX_SKEW_SECONDS;
  if (!(sameOrigin && sameUser && sameKey && fresh)) throw new IdentityError('challenge_refused');
  return fields;
}

/**
 * Signs a checked possession challenge: a detached armored signature over its exact bytes (ASCII,
 * so its UTF-8 bytes), of type binary (RFC 4880 §5.2.1 type 0x00: no line-ending
 * canonicalisation changes what is signed).
 */
export async function signChallenge({ privateKey, challenge, origin, account, nowSeconds }) {
  checkPossessionChallenge({ challenge, origin, account, fingerprint: privateKey?.getFingerprint?.(), nowSeconds });
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(challenge) }),
    signingKeys: privateKey,
    detached: true,
    format: 'armored',
  });
}

/**
 * The Worker's one-shot signing window: `begin()` when the Worker itself starts a certificate
 * submission (it exports the certificate for it); `sign()` then answers at most ONE challenge,
 * within `windowMs`, for the identity that was exported. Outside a window → 'no_pending_submission'.
 * `now()` is milliseconds since the epoch (injected for the tests).
 */
export function createPossessionSigner({ origin, now = () => Date.now(), windowMs = SUBMISSION_WINDOW_MS }) {
  let pending = null;   // { fingerprint, until }
  return Object.freeze({
    begin({ fingerprint }) {
      pending = { fingerprint, until: now() + windowMs };
    },
    cancel() {
      pending = null;
    },
    get pending() {
      return pending !== null && now() <= pending.until;
    },
    async sign({ privateKey, account, challenge }) {
      const window = pending;
      pending = null;   // one attempt per submission, whatever its outcome
      if (!window || now() > window.until || window.fingerprint !== privateKey?.getFingerprint?.()) {
        throw new IdentityError('no_pending_submission');
      }
      return signChallenge({ privateKey, challenge, origin, account, nowSeconds: Math.floor(now() / 1000) });
    },
  });
}

/**
 * Reads the peer certificate the user accepted (the `armored` field of the server's report)
 * and checks its fingerprint is the one shown to the user: the report's text and its
 * certificate must not disagree.
 */
export async function readAcceptedCertificate({ armored, fingerprint }) {
  let certificate;
  try {
    certificate = await openpgp.readKey({ armoredKey: String(armored ?? '') });
  } catch (cause) {
    throw new IdentityError('not_a_certificate', { cause });
  }
  if (certificate.isPrivate()) throw new IdentityError('not_a_certificate');
  if (typeof fingerprint !== 'string' || certificate.getFingerprint().toUpperCase() !== fingerprint.toUpperCase()) {
    throw new IdentityError('certificate_mismatch');
  }
  return certificate;
}
