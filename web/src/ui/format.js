// Display helpers shared by the identity and channel components (no DOM).

import { getLanguage } from '../i18n/index.js';

/** "ABCD 1234 …": a fingerprint in blocks of 4, as users compare them aloud. */
export function groupFingerprint(fingerprint) {
  return String(fingerprint ?? '').toUpperCase().replace(/[^0-9A-F]/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** Unix seconds → a localised date and time; 0 or missing → null. */
export function formatUnixTime(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(seconds * 1000));
}

export function formatClock(milliseconds) {
  return new Intl.DateTimeFormat(getLanguage(), { timeStyle: 'short' }).format(new Date(milliseconds));
}

/** "EdDSA Ed25519", "RSA 4096", "ECDH Curve25519". */
export function describeAlgorithm({ algorithm, bits, curve }) {
  if (curve) return `${algorithm} ${curve}`;
  return bits ? `${algorithm} ${bits}` : String(algorithm ?? '');
}

export const suiteNames = Object.freeze({ 1: 'X25519 · HKDF-SHA-256 · AES-256-GCM', 2: 'P-256 · HKDF-SHA-256 · AES-256-GCM' });
