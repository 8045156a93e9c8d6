// The user's OpenPGP identity: create, import, protect, unlock, describe, sign the server's
// proof-of-possession challenge, and read a peer's accepted certificate. Worker side (the
// private key never leaves the Worker); pure enough to run in Node for the tests.
//
// librnp 0.16 on the server reads only v4 keys (docs/certificates.md): new keys are v4
// EdDSA-legacy (Ed25519) + ECDH Curve25519; imports must be v4 EdDSA, ECDSA or RSA ≥ 2048.

import * as openpgp from 'openpgp';

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
  certificate_mismatch: 'the certificate does not match the accepted fingerprint',
  not_a_certificate: 'the text is not an OpenPGP public certificate',
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

function checkEmail(email) {
  if (typeof email !== 'string' || email.length > 254 || !emailPattern.test(email.trim())) throw new IdentityError('invalid_email');
  return email.trim();
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
export async function generateIdentity({ name, email }) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy',
    userIDs: [{ name: checkName(name), email: checkEmail(email) }],
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

/** The passphrase-protected armored key kept on the device when the user opts in. */
export async function protectForStorage({ privateKey, passphrase }) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new IdentityError('remember_needs_passphrase');
  const locked = await openpgp.encryptKey({ privateKey, passphrase });
  return locked.armor();
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

/**
 * Signs the server's challenge: a detached armored signature over its EXACT UTF-8 bytes
 * (binary literal data, so no line-ending canonicalisation changes what is signed).
 */
export async function signChallenge({ privateKey, challenge }) {
  if (typeof challenge !== 'string' || challenge.length === 0) throw new TypeError('signChallenge: the challenge must be a non-empty string');
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(challenge) }),
    signingKeys: privateKey,
    detached: true,
    format: 'armored',
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
