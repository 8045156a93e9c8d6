// Cipher suites of the secure channel. A suite fixes the ECDH group; the KDF (HKDF-SHA-256,
// RFC 5869) and the AEAD (AES-256-GCM, NIST SP 800-38D) are the same in both.
import { ChannelError } from './errors.js';
import { concatBytes, toBase64Url, zeroize } from './bytes.js';

export const SuiteId = Object.freeze({
  x25519HkdfSha256Aes256Gcm: 1,
  p256HkdfSha256Aes256Gcm: 2,
});

const suiteTable = new Map([
  [SuiteId.x25519HkdfSha256Aes256Gcm, Object.freeze({
    id: 1,
    name: 'X25519_HKDF-SHA-256_AES-256-GCM',
    keyAlgorithm: Object.freeze({ name: 'X25519' }),
    publicKeyLength: 32, // RFC 7748 §5: u-coordinate, little-endian
    sharedSecretLength: 32,
  })],
  [SuiteId.p256HkdfSha256Aes256Gcm, Object.freeze({
    id: 2,
    name: 'P-256_HKDF-SHA-256_AES-256-GCM',
    keyAlgorithm: Object.freeze({ name: 'ECDH', namedCurve: 'P-256' }),
    publicKeyLength: 65, // SEC 1 §2.3.3 uncompressed point 0x04 ‖ X ‖ Y
    sharedSecretLength: 32, // the x-coordinate of the shared point (SEC 1 §3.3.1)
  })],
]);

export function suiteParameters(suiteId) {
  const suite = suiteTable.get(suiteId);
  if (!suite) throw new ChannelError('unsupported_suite', `suite ${suiteId}`);
  return suite;
}

export function isKnownSuite(suiteId) {
  return suiteTable.has(suiteId);
}

const subtle = () => globalThis.crypto.subtle;

/**
 * Suite 1 when this runtime's WebCrypto implements X25519 (Chromium ≥ 133, Firefox ≥ 130,
 * Safari ≥ 17, Node ≥ 18), else suite 2 (P-256 is in every WebCrypto).
 */
export async function detectPreferredSuite() {
  try {
    const pair = await subtle().generateKey({ name: 'X25519' }, false, ['deriveBits']);
    if (pair?.publicKey) return SuiteId.x25519HkdfSha256Aes256Gcm;
  } catch {
    // not supported: fall through to P-256
  }
  return SuiteId.p256HkdfSha256Aes256Gcm;
}

export async function supportedSuites() {
  const preferred = await detectPreferredSuite();
  return preferred === SuiteId.x25519HkdfSha256Aes256Gcm
    ? [SuiteId.x25519HkdfSha256Aes256Gcm, SuiteId.p256HkdfSha256Aes256Gcm]
    : [SuiteId.p256HkdfSha256Aes256Gcm];
}

/**
 * Fresh ephemeral key pair. The private key is a non-extractable CryptoKey: it never exists
 * as bytes in JavaScript, and dropping the reference is how it is "erased".
 */
export async function generateEphemeralKeyPair(suiteId) {
  const suite = suiteParameters(suiteId);
  const pair = await subtle().generateKey(suite.keyAlgorithm, false, ['deriveBits']);
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * KAT ONLY: imports a fixed ephemeral key pair ({privateKey: scalar bytes, publicKey: raw})
 * so that known-answer vectors are reproducible. Production code never reaches this: it is
 * only called when the caller passes the `testing` option.
 */
export async function importEphemeralKeyPairForTesting(suiteId, keyPair) {
  const suite = suiteParameters(suiteId);
  if (!(keyPair?.privateKey instanceof Uint8Array) || !(keyPair?.publicKey instanceof Uint8Array)) {
    throw new ChannelError('invalid_argument', 'testing ephemeral key needs privateKey and publicKey bytes');
  }
  if (keyPair.publicKey.length !== suite.publicKeyLength) {
    throw new ChannelError('invalid_argument', 'testing ephemeral public key length');
  }
  let jwk;
  if (suite.id === SuiteId.x25519HkdfSha256Aes256Gcm) {
    jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(keyPair.privateKey), x: toBase64Url(keyPair.publicKey) };
  } else {
    jwk = {
      kty: 'EC', crv: 'P-256',
      d: toBase64Url(keyPair.privateKey),
      x: toBase64Url(keyPair.publicKey.subarray(1, 33)),
      y: toBase64Url(keyPair.publicKey.subarray(33, 65)),
    };
  }
  const privateKey = await subtle().importKey('jwk', jwk, suite.keyAlgorithm, false, ['deriveBits']);
  return { privateKey, publicKey: Uint8Array.from(keyPair.publicKey) };
}

/** Imports and validates the peer's ephemeral public key (length, form, on-curve). */
export async function importPeerPublicKey(suiteId, publicKey) {
  const suite = suiteParameters(suiteId);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== suite.publicKeyLength) {
    throw new ChannelError('invalid_public_key', `length must be ${suite.publicKeyLength}`);
  }
  if (suite.id === SuiteId.p256HkdfSha256Aes256Gcm && publicKey[0] !== 0x04) {
    throw new ChannelError('invalid_public_key', 'P-256 key must be uncompressed (0x04)');
  }
  try {
    // raw import of a P-256 point checks that it lies on the curve (WebCrypto §"ECDH import").
    return await subtle().importKey('raw', publicKey, suite.keyAlgorithm, true, []);
  } catch (error) {
    throw new ChannelError('invalid_public_key', 'import failed', { cause: error });
  }
}

/**
 * ECDH. Returns the raw shared secret (32 bytes); the caller must zeroize it after the key
 * schedule consumed it. An all-zero X25519 output means the peer sent a low-order point and
 * contributed nothing: RFC 7748 §6.1 allows the check and we abort on it.
 */
export async function deriveSharedSecret(suiteId, privateKey, peerPublicKey) {
  const suite = suiteParameters(suiteId);
  let bits;
  try {
    bits = await subtle().deriveBits({ name: suite.keyAlgorithm.name, public: peerPublicKey }, privateKey, 256);
  } catch (error) {
    // BoringSSL / OpenSSL refuse low-order points themselves; map it to the same reason.
    throw new ChannelError(
      suite.id === SuiteId.x25519HkdfSha256Aes256Gcm ? 'low_order_point' : 'invalid_public_key',
      'ECDH failed', { cause: error });
  }
  const shared = new Uint8Array(bits);
  if (suite.id !== SuiteId.x25519HkdfSha256Aes256Gcm) {
    // P-256 has prime order and no small subgroup: the peer point was validated on import
    // (SEC 1 §3.2.2), and an all-zero x-coordinate is a legitimate (if astronomically rare)
    // result, as Wycheproof ecdh_secp256r1 tcId 2 shows.
    return shared;
  }
  let accumulator = 0;
  for (const byte of shared) accumulator |= byte;
  if (accumulator === 0) {
    zeroize(shared);
    throw new ChannelError('low_order_point', 'ECDH output');
  }
  return shared;
}

/** KAT helper: X25519 public key from a private scalar, as X25519(k, 9) (RFC 7748 §6.1). */
export async function x25519PublicKeyFromPrivate(privateScalar) {
  const basePoint = new Uint8Array(32);
  basePoint[0] = 9;
  const pkcs8 = concatBytes(
    Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]),
    privateScalar);
  const privateKey = await subtle().importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);
  const base = await subtle().importKey('raw', basePoint, { name: 'X25519' }, true, []);
  zeroize(pkcs8);
  return new Uint8Array(await subtle().deriveBits({ name: 'X25519', public: base }, privateKey, 256));
}
