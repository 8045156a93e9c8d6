// Autocrypt Level 1 (https://autocrypt.org/level1.html): the Autocrypt header a sender puts on
// every message (§2.1) and the Autocrypt-Gossip headers inside encrypted messages (§2.7). Pure
// module (page, Worker, node). Keys travel as base64 of the binary key; the page's key
// directory stores them armored (key-armor.js armors and dearmors them, RFC 9580 §6).

import { armorPublicKey, base64ToBytes, bytesToBase64, dearmorPublicKey } from './key-armor.js';

export { armorPublicKey, dearmorPublicKey };

export const MAX_KEYDATA_BYTES = 64 * 1024;
const MAX_HEADER_CHARS = 100 * 1024;

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
  const keyBytes = base64ToBytes(keydata);
  if (!keyBytes) return null;
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
