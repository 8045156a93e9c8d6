// Header protection for OpenPGP mail (RFC 9788 "Header Protection for Cryptographically
// Protected Email", and the earlier draft-autocrypt-lamps-protected-headers "v1" that
// Thunderbird and K-9 read). Pure module (page, Worker, node).
//
// Writing: the inner (signed and/or encrypted) entity carries the real header fields and says
// so on its Content-Type with both markers: protected-headers="v1" (the draft) and hp="cipher"
// or hp="clear" (RFC 9788), plus one HP-Outer field per outer field (RFC 9788) so a
// reader can tell what the transport saw. An encrypted message's outer Subject is the
// obscured value "[...]" (RFC 9788 hcp_baseline, the baseline Header Confidentiality Policy).
//
// Reading: when the inner entity carries either marker its header fields win over the outer
// ones; legacy-display parts (text/rfc822-headers with protected-headers, or text/plain with
// hp-legacy-display="1" of RFC 9788) are not shown.

import { addContentTypeParams } from './mime-build.js';

export const OBSCURED_SUBJECT = '[...]';

/** The header fields a protected inner entity repeats (and whose inner value wins). */
export const PROTECTED_FIELDS = Object.freeze([
  'date', 'from', 'to', 'cc', 'reply-to', 'subject', 'message-id', 'in-reply-to', 'references',
  'disposition-notification-to', 'bcc',
]);

// What the transport needs outside: everything but the subject (obscured), the read-receipt
// request (only the recipient's reader acts on it) and Bcc (only a draft, encrypted to its
// author, carries it, inside).
const OUTER_FIELDS = new Set(['date', 'from', 'to', 'cc', 'reply-to', 'message-id', 'in-reply-to', 'references']);

/**
 * Makes `entity` (a MIME body) the protected inner entity: `headerFields` ([[name, value]],
 * already encoded) go into it with the markers. encrypted: true → hp="cipher", else "clear".
 * → { inner: entity, outerHeaders: [[name, value]] } for the outer message.
 */
export function protectHeaders({ entity, headerFields, encrypted, extraInnerHeaders = [] }) {
  const outerHeaders = [];
  for (const [name, value] of headerFields) {
    const lower = name.toLowerCase();
    if (lower === 'subject') outerHeaders.push([name, encrypted ? OBSCURED_SUBJECT : value]);
    else if (lower !== 'bcc' && (OUTER_FIELDS.has(lower) || !encrypted)) outerHeaders.push([name, value]);
  }
  const hpOuter = outerHeaders.map(([name, value]) => ['HP-Outer', `${name}: ${value}`]);
  const inner = addContentTypeParams(
    { ...entity, headers: [...headerFields, ...extraInnerHeaders, ...hpOuter, ...entity.headers] },
    ['protected-headers="v1"', `hp="${encrypted ? 'cipher' : 'clear'}"`],
  );
  return { inner, outerHeaders };
}

/** True when a Content-Type's params mark the entity's header fields as protected. */
export function hasProtectedHeaders(params) {
  return params?.get?.('protected-headers') === 'v1' || params?.get?.('hp') === 'cipher' || params?.get?.('hp') === 'clear';
}

/** True for a legacy-display part that a reader which shows protected headers skips. */
export function isLegacyDisplayPart(type, params) {
  if (type === 'text/rfc822-headers' && params?.get?.('protected-headers')) return true;
  return type === 'text/plain' && params?.get?.('hp-legacy-display') === '1';
}

/**
 * The effective header fields: the inner entity's protected fields replace the outer ones of
 * the same name; the outer section keeps the rest (Received, Autocrypt…). HP-Outer fields are
 * bookkeeping and are dropped.
 */
export function mergeProtectedHeaders(outerFields, innerFields) {
  const innerNames = new Set(innerFields.map(([name]) => name.toLowerCase()).filter((name) => PROTECTED_FIELDS.includes(name)));
  const merged = outerFields.filter(([name]) => !innerNames.has(name.toLowerCase()));
  for (const field of innerFields) {
    if (innerNames.has(field[0].toLowerCase())) merged.push(field);
  }
  return merged;
}
