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

// What one certificate may ask this Worker to verify: the limits of the server's packet scan
// (docs/certificates.md checks 9–11, docs/operations.md "Certificate limits") at their defaults,
// with RSA up to 8192 bits (the most a server may be configured to accept). The server is not
// trusted to have applied them: a report's certificate comes from the server, so a hostile or
// misconfigured one could hand the Worker an RSA key with a modulus-sized public exponent,
// which browsers without WebCrypto support for it verify in BigInt code — seconds per signature.
export const certificateLimits = Object.freeze({
  maxKeyBits: 8192,                 // RSA modulus, DSA and ElGamal prime p
  maxDsaSubgroupBits: 256,          // DSA q (FIPS 186-4 §4.2: at most 256 bits)
  maxRsaExponentBits: 32,           // e < 2^32, odd, ≥ 3
  maxUserIds: 32,                   // user IDs and user attributes
  maxSubkeys: 16,
  maxSignatures: 256,               // every signature of the certificate
  maxSelfSignaturesPerUserId: 8,    // and among the primary key's own direct/revocation signatures
  maxSignaturesPerSubkey: 8,
});

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

/** Bit length of an unsigned big-endian integer (an MPI's value, RFC 9580 §3.2). */
function bitLength(bytes) {
  if (!(bytes instanceof Uint8Array)) return Infinity;
  let index = 0;
  while (index < bytes.length && bytes[index] === 0) index += 1;
  if (index === bytes.length) return 0;
  return (bytes.length - index - 1) * 8 + (32 - Math.clz32(bytes[index]));
}

/** The cost of verifying with this key packet is bounded (docs/certificates.md check 9). */
function keyCostIsBounded(packet) {
  const { algorithm, publicParams: params } = packet;
  const { publicKey } = openpgp.enums;
  if (algorithm === publicKey.rsaEncryptSign || algorithm === publicKey.rsaEncrypt || algorithm === publicKey.rsaSign) {
    // An odd exponent ≥ 3 below 2^32: every real key uses 65537 or 3 (RFC 8017 §3.1 allows
    // up to n − 1, whose verification costs as much as a private-key operation).
    if (bitLength(params?.n) > certificateLimits.maxKeyBits || bitLength(params?.e) > certificateLimits.maxRsaExponentBits) return false;
    const e = params.e.reduce((value, byte) => value * 256 + byte, 0);
    return e >= 3 && e % 2 === 1;
  }
  if (algorithm === publicKey.dsa) {
    return bitLength(params?.p) <= certificateLimits.maxKeyBits && bitLength(params?.q) <= certificateLimits.maxDsaSubgroupBits;
  }
  if (algorithm === publicKey.elgamal) return bitLength(params?.p) <= certificateLimits.maxKeyBits;
  return true;   // elliptic curves: a fixed set of curves, each of bounded cost
}

/**
 * Refuses, before anything is verified, a certificate whose verification could keep the
 * Worker busy: readKey only parses (it verifies no signature), so the counts and key sizes are
 * read from its structure — the signatures OpenPGP.js attached to the key, user IDs and
 * subkeys, which are all the later steps can verify. Signatures it dropped are never verified.
 */
function refuseCostly(key) {
  const limits = certificateLimits;
  const primaryKeyId = key.getKeyID();
  // As the server's scan: a signature naming no issuer counts as the primary key's.
  const bySelf = (signature) => !signature.issuerKeyID || signature.issuerKeyID.isNull?.() || signature.issuerKeyID.equals(primaryKeyId);
  const tooCostly = () => new CertificateFactsError('certificate_too_costly');
  if (key.users.length > limits.maxUserIds || key.subkeys.length > limits.maxSubkeys) throw tooCostly();
  if (!keyCostIsBounded(key.keyPacket)) throw tooCostly();
  const primarySignatures = [...key.directSignatures, ...key.revocationSignatures];
  if (primarySignatures.filter(bySelf).length > limits.maxSelfSignaturesPerUserId) throw tooCostly();
  let total = primarySignatures.length;
  for (const user of key.users) {
    const signatures = [...user.selfCertifications, ...user.otherCertifications, ...user.revocationSignatures];
    if (signatures.filter(bySelf).length > limits.maxSelfSignaturesPerUserId) throw tooCostly();
    total += signatures.length;
  }
  for (const subkey of key.subkeys) {
    if (!keyCostIsBounded(subkey.keyPacket)) throw tooCostly();
    const signatures = subkey.bindingSignatures.length + subkey.revocationSignatures.length;
    if (signatures > limits.maxSignaturesPerSubkey) throw tooCostly();
    total += signatures;
  }
  if (total > limits.maxSignatures) throw tooCostly();
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
  refuseCostly(key);

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
