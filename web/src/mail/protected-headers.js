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
// Reading: when the inner entity carries either marker its header fields are the only source of
// the protected and addressing fields (outer ones are ignored, see protectedView); legacy-display parts (text/rfc822-headers with protected-headers, or text/plain with
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

// Addressing fields that only ever come from the protected part when there is one (RFC 9788
// §4.10: the protected header fields are authoritative, the outer ones serve the transport):
// an outer Reply-To / Cc / Disposition-Notification-To a relay added outside the signature and
// the encryption must never redirect a reply or a read receipt.
const ADDRESSING_FIELDS = Object.freeze(['from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'disposition-notification-to', 'followup-to', 'mail-followup-to', 'mail-reply-to', 'return-receipt-to']);
// Transport facts kept from outside when the inner part lacks them (threading, sorting): harmless.
const OUTER_FALLBACK = new Set(['date', 'message-id', 'in-reply-to', 'references']);

/**
 * The effective header fields of a message whose inner entity has protected headers: every
 * protected or addressing field comes from the inner part only (absent inside = absent), the
 * outer section keeps the transport fields (Received, Autocrypt…) and the Date / Message-ID /
 * threading fields the inner part does not carry. HP-Outer fields are bookkeeping and are dropped.
 * → { fields, ignored: [lower-case names of outer addressing/protected fields dropped that the
 * inner part does not have (a relay may have added them)], fromOuter: [lower-case names of the
 * Date / Message-ID / threading fields taken from outside, which no signature covers] }.
 */
export function protectedView(outerFields, innerFields) {
  const authoritative = new Set([...PROTECTED_FIELDS, ...ADDRESSING_FIELDS]);
  const innerNames = new Set(innerFields.map(([name]) => name.toLowerCase()).filter((name) => authoritative.has(name)));
  const fields = [];
  const ignored = new Set();
  const fromOuter = new Set();
  for (const field of outerFields) {
    const name = field[0].toLowerCase();
    if (!authoritative.has(name)) fields.push(field);
    else if (!innerNames.has(name) && OUTER_FALLBACK.has(name)) {
      fields.push(field);
      fromOuter.add(name);
    } else if (!innerNames.has(name) && name !== 'subject') ignored.add(name);
  }
  for (const field of innerFields) if (innerNames.has(field[0].toLowerCase())) fields.push(field);
  return { fields, ignored: [...ignored], fromOuter: [...fromOuter] };
}

/** The effective header fields (protectedView without the list of ignored ones). */
export function mergeProtectedHeaders(outerFields, innerFields) {
  return protectedView(outerFields, innerFields).fields;
}
