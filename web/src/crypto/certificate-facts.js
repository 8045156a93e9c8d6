// What a certificate says about itself, read with OpenPGP.js in the crypto Worker from the
// armored certificate the offer carries: user IDs, primary user ID, creation, expiry,
// revocation, subkeys. The page shows these instead of the server's report, and compares
// the report with them (web/src/state/certificate-claims.js): a server that rewrites a
// report's name or email is caught here, because it cannot forge the self-signatures.
//
// Only self-signatures are checked here (RFC 9580 §5.2.3, §10.1); third-party certifications
// need the issuers' certificates, which only the server has, so they stay server claims.

import * as openpgp from 'openpgp';

export class CertificateFactsError extends Error {
  constructor(code, options) {
    super(`certificate facts: ${code}`, options);
    this.name = 'CertificateFactsError';
    this.code = code;
  }
}

const MAX_ARMORED_CHARS = 96 * 1024;   // above the server's max_certificate_bytes (64 KiB) once armored

// OpenPGP.js algorithm names → the report's (docs/certificates.md "Certificate report").
const algorithmNames = Object.freeze({
  rsaEncryptSign: 'RSA', rsaSign: 'RSA', rsaEncrypt: 'RSA', eddsaLegacy: 'EdDSA', ed25519: 'EdDSA', ed448: 'EdDSA',
  ecdsa: 'ECDSA', ecdh: 'ECDH', x25519: 'ECDH', x448: 'ECDH', dsa: 'DSA', elgamal: 'ElGamal',
});
const curveNames = Object.freeze({
  ed25519Legacy: 'Ed25519', curve25519Legacy: 'Curve25519', nistP256: 'NIST P-256', nistP384: 'NIST P-384',
  nistP521: 'NIST P-521', brainpoolP256r1: 'brainpoolP256r1', brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1', secp256k1: 'secp256k1',
});

const seconds = (date) => (date instanceof Date && Number.isFinite(date.getTime()) ? Math.floor(date.getTime() / 1000) : null);
/** getExpirationTime() → Unix seconds; 0 = never; null = no valid self-signature says. */
const expirySeconds = (value) => (value === Infinity ? 0 : seconds(value));

function describeKeyPacket(packet) {
  const { algorithm, bits, curve } = packet.getAlgorithmInfo();
  return {
    algorithm: algorithmNames[algorithm] ?? String(algorithm),
    bits: Number.isSafeInteger(bits) ? bits : null,
    curve: curve ? curveNames[curve] ?? String(curve) : '',
  };
}

/** Key flags of a self-signature (RFC 9580 §5.2.3.29) → the report's usage words. */
function usageOf(signature) {
  const flags = signature?.keyFlags?.[0] ?? 0;
  const usage = [];
  if (flags & openpgp.enums.keyFlags.certifyKeys) usage.push('certify');
  if (flags & openpgp.enums.keyFlags.signData) usage.push('sign');
  if (flags & (openpgp.enums.keyFlags.encryptCommunication | openpgp.enums.keyFlags.encryptStorage)) usage.push('encrypt');
  if (flags & openpgp.enums.keyFlags.authentication) usage.push('authenticate');
  return usage;
}

/** "Name (comment) <email>" → { name: "Name (comment)", email } (the server's split). */
export function splitUserId(text) {
  const match = /^(.*?)\s*<([^<>]*)>\s*$/su.exec(text);
  return match ? { name: match[1].trim(), email: match[2].trim() } : { name: text.trim(), email: '' };
}

async function succeeds(promise) {
  try {
    await promise;
    return true;
  } catch {
    return false;
  }
}

async function subkeyFacts(subkey, date) {
  const valid = await succeeds(subkey.verify(date));
  let binding = null;
  try {
    binding = await subkey.getLatestValidBindingSignature?.(subkey.mainKey.keyPacket, date)
      ?? subkey.bindingSignatures[subkey.bindingSignatures.length - 1];
  } catch {
    binding = null;
  }
  let expires = null;
  try {
    expires = expirySeconds(await subkey.getExpirationTime(date));
  } catch {
    expires = null;
  }
  return {
    fingerprint: subkey.getFingerprint().toUpperCase(),
    keyId: subkey.getKeyID().toHex().toUpperCase(),
    ...describeKeyPacket(subkey.keyPacket),
    created: seconds(subkey.getCreationTime()),
    expires,
    usage: usageOf(binding),
    revoked: await subkey.isRevoked(undefined, undefined, date).catch(() => false),
    valid,
  };
}

/**
 * → { fingerprint, keyId, algorithm, bits, curve, created, expires (0 = never, null = unknown),
 *     revoked, expired, usage, primaryUserId: {userId, name, email} | null,
 *     userIds: [{userId, name, email}] (with a good self-certification, not revoked), subkeys: [...] }
 */
export async function readCertificateFacts({ armored, now = new Date() }) {
  if (typeof armored !== 'string' || armored.length === 0 || armored.length > MAX_ARMORED_CHARS) throw new CertificateFactsError('not_a_certificate');
  let key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (cause) {
    throw new CertificateFactsError('not_a_certificate', { cause });
  }
  if (key.isPrivate()) throw new CertificateFactsError('not_a_certificate');

  const userIds = [];
  for (const user of key.users) {
    if (!user.userID) continue;   // a user attribute (photo), not a user ID
    if (await succeeds(user.verify(now))) {
      userIds.push({ userId: user.userID.userID, ...splitUserId(user.userID.userID) });
    }
  }
  let primary = null;
  let primarySignature = null;
  try {
    const found = await key.getPrimaryUser(now);
    primary = { userId: found.user.userID.userID, ...splitUserId(found.user.userID.userID) };
    primarySignature = found.selfCertification;
  } catch {
    primary = null;
  }
  let expires = null;
  try {
    expires = expirySeconds(await key.getExpirationTime());
  } catch {
    expires = null;
  }
  const revoked = await key.isRevoked(undefined, undefined, now).catch(() => false);
  const subkeys = [];
  for (const subkey of key.subkeys) subkeys.push(await subkeyFacts(subkey, now));
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyId: key.getKeyID().toHex().toUpperCase(),
    ...describeKeyPacket(key.keyPacket),
    created: seconds(key.getCreationTime()),
    expires,
    expired: expires !== null && expires !== 0 && expires * 1000 <= now.getTime(),
    revoked,
    usage: usageOf(primarySignature),
    primaryUserId: primary,
    userIds,
    subkeys,
  };
}
