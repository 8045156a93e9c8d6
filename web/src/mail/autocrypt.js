// Autocrypt Level 1 (https://autocrypt.org/level1.html): the Autocrypt header a sender puts on
// every message (§2.1) and the Autocrypt-Gossip headers inside encrypted messages (§2.7). Pure
// module (page, Worker, node). Keys travel as base64 of the binary key; the page's key
// directory stores them armored, so this module armors and dearmors itself (RFC 4880 §6).

export const MAX_KEYDATA_BYTES = 64 * 1024;
const MAX_HEADER_CHARS = 100 * 1024;

function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function bytesToBase64(bytes) {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

/** CRC-24 of RFC 4880 §6.1 (the armor checksum). */
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

/** Binary public key → "-----BEGIN PGP PUBLIC KEY BLOCK-----" armor. */
export function armorPublicKey(bytes) {
  const body = bytesToBase64(bytes).replace(/.{1,64}/g, '$&\n');
  const crc = crc24(bytes);
  const checksum = bytesToBase64(Uint8Array.of(crc >> 16, (crc >> 8) & 255, crc & 255));
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body}=${checksum}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
}

/** Armored public key → its binary bytes (checksum checked when present), or null. */
export function dearmorPublicKey(armored) {
  const match = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(String(armored ?? ''));
  if (!match) return null;
  const lines = match[1].split(/\r?\n/);
  const blank = lines.findIndex((line) => line.trim() === '');
  const data = lines.slice(blank + 1).map((line) => line.trim()).filter(Boolean);
  const checksumLine = data.length && /^=[A-Za-z0-9+/]{4}$/.test(data[data.length - 1]) ? data.pop() : null;
  let bytes;
  try {
    bytes = base64ToBytes(data.join(''));
  } catch {
    return null;
  }
  if (checksumLine) {
    const expected = base64ToBytes(checksumLine.slice(1));
    const crc = crc24(bytes);
    if (expected[0] !== crc >> 16 || expected[1] !== ((crc >> 8) & 255) || expected[2] !== (crc & 255)) return null;
  }
  return bytes.length ? bytes : null;
}

const ADDRESS = /^[^\s<>()[\]\\,;:"@]+@[^\s<>()[\]\\,;:"@]+$/;

/**
 * Parses an Autocrypt (gossip: false) or Autocrypt-Gossip (gossip: true) header value strictly
 * (Level 1 §2.1.1): addr and keydata required; prefer-encrypt only "mutual" (else no
 * preference) and only outside gossip; attributes starting with "_" are non-critical and
 * ignored; any other attribute makes the whole header ignored. → {addr (lower case),
 * prefer_encrypt: 'mutual'|'nopreference', keydata (armored), keyBytes} or null.
 */
export function parseAutocrypt(value, { gossip = false } = {}) {
  if (typeof value !== 'string' || value.length > MAX_HEADER_CHARS) return null;
  const attributes = new Map();
  for (const piece of value.split(';')) {
    const trimmed = piece.trim();
    if (!trimmed) continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) return null;
    const name = trimmed.slice(0, equals).trim().toLowerCase();
    const attributeValue = trimmed.slice(equals + 1).trim();
    if (attributes.has(name)) return null;
    attributes.set(name, attributeValue);
  }
  let prefer = 'nopreference';
  for (const [name, attributeValue] of attributes) {
    if (name === 'addr' || name === 'keydata') continue;
    if (name === 'prefer-encrypt' && !gossip) {
      prefer = attributeValue === 'mutual' ? 'mutual' : 'nopreference';
      continue;
    }
    if (name.startsWith('_')) continue;
    return null; // unknown critical attribute (§2.1.1)
  }
  const addr = attributes.get('addr')?.toLowerCase();
  const keydata = attributes.get('keydata')?.replace(/\s+/g, '');
  if (!addr || !ADDRESS.test(addr) || !keydata || !/^[A-Za-z0-9+/]+={0,2}$/.test(keydata)) return null;
  if (keydata.length > Math.ceil(MAX_KEYDATA_BYTES / 3) * 4) return null;
  let keyBytes;
  try {
    keyBytes = base64ToBytes(keydata);
  } catch {
    return null;
  }
  // A public-key packet (tag 6) must come first: old format 0x98–0x9b or new format 0xc6.
  if (!keyBytes.length || keyBytes.length > MAX_KEYDATA_BYTES || !((keyBytes[0] & 0xfc) === 0x98 || keyBytes[0] === 0xc6)) return null;
  return { addr, prefer_encrypt: prefer, keydata: armorPublicKey(keyBytes), keyBytes };
}

/** keydata as base64 in 76-character words, so the header folds (whitespace is ignored). */
function keydataWords(keyBytes) {
  return bytesToBase64(keyBytes).match(/.{1,76}/g).join(' ');
}

function keyBytesOf({ keyBytes, armored }) {
  const bytes = keyBytes ?? dearmorPublicKey(armored);
  if (!(bytes instanceof Uint8Array) || !bytes.length || bytes.length > MAX_KEYDATA_BYTES) {
    throw new TypeError('autocrypt: a public key (armored or binary, ≤ 64 KiB) is required');
  }
  return bytes;
}

/** The value of the sender's Autocrypt header (Level 1 §2.1). */
export function buildAutocryptHeader({ addr, armored, keyBytes, preferEncrypt = 'mutual' }) {
  if (!ADDRESS.test(String(addr))) throw new TypeError('autocrypt: addr must be an email address');
  const prefer = preferEncrypt === 'mutual' ? ' prefer-encrypt=mutual;' : '';
  return `addr=${addr.toLowerCase()};${prefer} keydata=${keydataWords(keyBytesOf({ keyBytes, armored }))}`;
}

/** The value of one Autocrypt-Gossip header (Level 1 §2.7). */
export function buildGossipHeader({ addr, armored, keyBytes }) {
  if (!ADDRESS.test(String(addr))) throw new TypeError('autocrypt: addr must be an email address');
  return `addr=${addr.toLowerCase()}; keydata=${keydataWords(keyBytesOf({ keyBytes, armored }))}`;
}

/**
 * The sender's Autocrypt header from a message's header fields [[name, value]]: exactly one
 * Autocrypt header whose addr is the From address (§2.3), else null.
 */
export function senderAutocrypt(headerFields, fromAddress) {
  const values = headerFields.filter(([name]) => name.toLowerCase() === 'autocrypt').map(([, value]) => value);
  if (values.length !== 1 || typeof fromAddress !== 'string') return null;
  const parsed = parseAutocrypt(values[0]);
  if (!parsed || parsed.addr !== fromAddress.toLowerCase()) return null;
  return { addr: parsed.addr, prefer_encrypt: parsed.prefer_encrypt, keydata: parsed.keydata };
}

/** Every valid Autocrypt-Gossip header of an (encrypted) header section → [{addr, keydata}]. */
export function gossipFrom(headerFields) {
  const gossip = [];
  for (const [name, value] of headerFields) {
    if (name.toLowerCase() !== 'autocrypt-gossip') continue;
    const parsed = parseAutocrypt(value, { gossip: true });
    if (parsed) gossip.push({ addr: parsed.addr, keydata: parsed.keydata });
  }
  return gossip;
}
