// vCard 3.0 (RFC 2426) / 4.0 (RFC 6350) import and export of the address book (pure):
// FN, N, EMAIL (several), KEY (an OpenPGP public key as a data: URI, base64 with ENCODING=b, or
// armored text). Lines are unfolded (RFC 6350 §3.2) and folded at 75 octets on export; text
// values are escaped (§3.4). Anything else is ignored. Limits keep a hostile file harmless.

import { armorPublicKey, base64ToBytes } from './key-armor.js';

export { armorPublicKey };

export const vcardLimits = Object.freeze({ maxChars: 8 * 1024 * 1024, maxCards: 2000, maxEmails: 20, maxKeyChars: 96 * 1024, maxNameChars: 256 });

export class VCardError extends Error {
  constructor(code) {
    super(`vCard: ${code}`);
    this.name = 'VCardError';
    this.code = code;   // too_large | no_cards
  }
}

/** RFC 6350 §3.4 text unescaping: \n \, \; \\ . */
const unescapeText = (value) => value.replace(/\\([nN,;\\])/g, (whole, char) => (char === 'n' || char === 'N' ? '\n' : char));
const escapeText = (value) => String(value).replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/;/g, '\\;').replace(/\r?\n/g, '\\n');

/** Armored key → the base64 of its binary packets (without the checksum), or null. */
function armorToBase64(armored) {
  const match = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(armored);
  if (!match) return null;
  return match[1].split(/\r?\n/).filter((line) => line && !line.startsWith('=')).join('');
}

function unfold(text) {
  return text.replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '');
}

/** "NAME;PARAM=x;TYPE=a,b:value" → { name, params: {PARAM: [x]}, value } (group prefix dropped). */
function parseLine(line) {
  let inQuotes = false;
  let colon = -1;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (char === '"') inQuotes = !inQuotes;
    else if (char === ':' && !inQuotes) {
      colon = index;
      break;
    }
  }
  if (colon < 0) return null;
  const [rawName, ...rawParams] = line.slice(0, colon).split(';');
  const name = rawName.replace(/^[A-Za-z0-9-]+\./, '').toUpperCase();
  const params = {};
  for (const param of rawParams) {
    const equals = param.indexOf('=');
    const key = (equals < 0 ? 'TYPE' : param.slice(0, equals)).toUpperCase();
    const values = (equals < 0 ? param : param.slice(equals + 1)).replace(/^"|"$/g, '').split(',').map((value) => value.toLowerCase());
    params[key] = [...(params[key] ?? []), ...values];
  }
  return { name, params, value: line.slice(colon + 1) };
}

function keyFromProperty({ params, value }) {
  const trimmed = value.trim();
  if (trimmed.length > vcardLimits.maxKeyChars) return null;
  if (/^data:/i.test(trimmed)) {
    const match = /^data:([^,;]*)(;base64)?,(.*)$/is.exec(trimmed);
    if (!match || !/pgp-keys|octet-stream|^$/i.test(match[1])) return null;
    if (match[2]) {
      const bytes = base64ToBytes(match[3]);
      return bytes && bytes.length ? armorPublicKey(bytes) : null;
    }
    const text = decodeURIComponent(match[3]);
    return /-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(text) ? text : null;
  }
  if ((params.ENCODING ?? []).some((encoding) => encoding === 'b' || encoding === 'base64')) {
    if (!(params.TYPE ?? []).some((type) => /pgp/.test(type))) return null;
    const bytes = base64ToBytes(trimmed);
    return bytes && bytes.length ? armorPublicKey(bytes) : null;
  }
  const text = unescapeText(trimmed);
  return /-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(text) ? text : null;
}

/**
 * vCard text → { contacts: [{ name, emails, key (armored) | null }], skipped (cards without an e-mail) }.
 * Throws VCardError('too_large') above the limits, VCardError('no_cards') when there is no card.
 */
export function parseVCards(text) {
  if (typeof text !== 'string' || text.length > vcardLimits.maxChars) throw new VCardError('too_large');
  const lines = unfold(text).split('\n');
  const contacts = [];
  let skipped = 0;
  let card = null;
  let cards = 0;
  for (const line of lines) {
    if (/^BEGIN:VCARD\s*$/i.test(line)) {
      cards += 1;
      if (cards > vcardLimits.maxCards) throw new VCardError('too_large');
      card = { fn: '', n: '', emails: [], key: null };
      continue;
    }
    if (!card) continue;
    if (/^END:VCARD\s*$/i.test(line)) {
      const name = (card.fn || card.n).slice(0, vcardLimits.maxNameChars);
      if (card.emails.length) contacts.push({ name, emails: card.emails, key: card.key });
      else skipped += 1;
      card = null;
      continue;
    }
    const property = parseLine(line);
    if (!property) continue;
    switch (property.name) {
      case 'FN':
        card.fn = unescapeText(property.value).trim();
        break;
      case 'N': {
        // family;given;additional;prefix;suffix → "given family"
        const [family = '', given = ''] = property.value.split(/(?<!\\);/).map(unescapeText);
        card.n = [given, family].map((part) => part.trim()).filter(Boolean).join(' ');
        break;
      }
      case 'EMAIL': {
        const email = unescapeText(property.value).trim().replace(/^mailto:/i, '').toLowerCase();
        if (/^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/.test(email) && !card.emails.includes(email) && card.emails.length < vcardLimits.maxEmails) card.emails.push(email);
        break;
      }
      case 'KEY':
        card.key ??= keyFromProperty(property);
        break;
      default:
        break;
    }
  }
  if (cards === 0) throw new VCardError('no_cards');
  return { contacts, skipped };
}

/** Folds a content line at 75 octets (RFC 6350 §3.2), never inside a UTF-8 sequence. */
function fold(line) {
  const encoder = new TextEncoder();
  if (encoder.encode(line).length <= 75) return line;
  const parts = [];
  let current = '';
  let currentBytes = 0;
  for (const char of line) {
    const size = encoder.encode(char).length;
    const limit = parts.length === 0 ? 75 : 74;   // continuation lines start with a space
    if (currentBytes + size > limit) {
      parts.push(current);
      current = '';
      currentBytes = 0;
    }
    current += char;
    currentBytes += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** Contacts → vCard 4.0 text (CRLF lines); keys as data:application/pgp-keys;base64 URIs. */
export function formatVCards(contacts) {
  const lines = [];
  for (const contact of contacts) {
    lines.push('BEGIN:VCARD', 'VERSION:4.0');
    const name = contact.name || contact.emails?.[0] || '';
    lines.push(fold(`FN:${escapeText(name)}`));
    for (const email of contact.emails ?? []) lines.push(fold(`EMAIL:${escapeText(email)}`));
    const base64 = contact.key ? armorToBase64(contact.key) : null;
    if (base64) lines.push(fold(`KEY:data:application/pgp-keys;base64,${base64}`));
    lines.push('END:VCARD');
  }
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}
