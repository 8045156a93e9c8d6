// OpenPGP public keys between their binary form (Autocrypt keydata, vCard KEY) and ASCII armor
// (RFC 9580 §6.2, the form the key directory stores), and the base64 both use. Pure module
// (page, Worker, node).

/** Base64 (whitespace ignored) → bytes, or null when the text is not base64. */
export function base64ToBytes(text) {
  const clean = String(text).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null;
  let binary;
  try {
    binary = atob(clean);
  } catch {
    return null;   // a length no base64 text has
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export function bytesToBase64(bytes) {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

/** CRC-24 of RFC 9580 §6.1 (the armor checksum). */
function crc24(bytes) {
  let crc = 0xb704ce;
  for (const byte of bytes) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit += 1) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

const checksumBytes = (crc) => Uint8Array.of(crc >> 16, (crc >> 8) & 255, crc & 255);

/** Binary public key → "-----BEGIN PGP PUBLIC KEY BLOCK-----" armor with its checksum line. */
export function armorPublicKey(bytes) {
  const body = bytesToBase64(bytes).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body}=${bytesToBase64(checksumBytes(crc24(bytes)))}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}

/** Armored public key → its binary bytes (checksum checked when present), or null. */
export function dearmorPublicKey(armored) {
  const match = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(String(armored ?? ''));
  if (!match) return null;
  const lines = match[1].split(/\r?\n/);
  const blank = lines.findIndex((line) => line.trim() === '');
  const data = lines.slice(blank + 1).map((line) => line.trim()).filter(Boolean);
  const checksumLine = data.length && /^=[A-Za-z0-9+/]{4}$/.test(data[data.length - 1]) ? data.pop() : null;
  const bytes = base64ToBytes(data.join(''));
  if (!bytes) return null;
  if (checksumLine) {
    const expected = base64ToBytes(checksumLine.slice(1));
    const actual = checksumBytes(crc24(bytes));
    if (!expected || expected.some((byte, index) => byte !== actual[index])) return null;
  }
  return bytes.length ? bytes : null;
}
