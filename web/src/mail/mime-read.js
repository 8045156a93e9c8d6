// Opens a received message (page side; also node for the tests): checks the limits, finds the
// OpenPGP layers (PGP/MIME encrypted RFC 3156 §4, multipart/signed §5, inline PGP), has the
// crypto Worker decrypt and verify them, applies protected header fields (RFC 9788) and
// extracts Autocrypt information, then reads the content with postal-mime.
// → the Message model of the mail contracts. Never throws for bad input: a message that breaks
// a limit or cannot be read is a model with `parse_error` set, so one bad message cannot stop
// the mail view.
//
// postal-mime gives decoded content but not the exact bytes of a part, which a multipart/signed
// signature covers; so the structure (boundaries, part ranges, nesting) is walked here first.

import PostalMime, { addressParser, decodeWords } from 'postal-mime';
import { gossipFrom, senderAutocrypt } from './autocrypt.js';
import { hasProtectedHeaders, isLegacyDisplayPart, protectedView } from './protected-headers.js';
import { mailDecrypt, mailVerify } from '../crypto/crypto-client.js';

export const MAIL_READ_LIMITS = Object.freeze({
  maxRawBytes: 32 * 1024 * 1024,
  maxParts: 500,
  maxDepth: 20,
  maxHeaderBytes: 256 * 1024,
  maxCryptoLayers: 3,
});

export class MimeLimitError extends Error {
  constructor(code) {
    super(`mime-read: ${code}`);
    this.name = 'MimeLimitError';
    this.code = code; // too_large | too_many_parts | too_deep | header_too_large
  }
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');
const ascii = (text) => Uint8Array.from(text, (char) => char.charCodeAt(0));

function indexOfBytes(haystack, needle, from, to) {
  const first = needle[0];
  const last = to - needle.length;
  for (let at = haystack.indexOf(first, from); at !== -1 && at <= last; at = haystack.indexOf(first, at + 1)) {
    let match = true;
    for (let index = 1; index < needle.length; index += 1) {
      if (haystack[at + index] !== needle[index]) {
        match = false;
        break;
      }
    }
    if (match) return at;
  }
  return -1;
}

/** Where the header block of the entity at [start, end) ends and its body begins. */
function splitHead(bytes, start, end) {
  const limit = Math.min(end, start + MAIL_READ_LIMITS.maxHeaderBytes);
  if (start < end && (bytes[start] === 0x0a || (bytes[start] === 0x0d && bytes[start + 1] === 0x0a))) {
    return { headEnd: start, bodyStart: start + (bytes[start] === 0x0a ? 1 : 2) }; // no header fields
  }
  for (let at = bytes.indexOf(0x0a, start); at !== -1 && at < end; at = bytes.indexOf(0x0a, at + 1)) {
    if (at >= limit) throw new MimeLimitError('header_too_large');
    if (bytes[at + 1] === 0x0a) return { headEnd: at + 1, bodyStart: at + 2 };
    if (bytes[at + 1] === 0x0d && bytes[at + 2] === 0x0a) return { headEnd: at + 1, bodyStart: at + 3 };
  }
  if (end - start > MAIL_READ_LIMITS.maxHeaderBytes) throw new MimeLimitError('header_too_large');
  return { headEnd: end, bodyStart: end };
}

// RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126 (printable ASCII but ':').
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * Header block text → { fields: [[name, value]] with folding undone (RFC 5322 §2.2.3),
 * malformed: [the name part of every line that is not a header field] }. A name is ftext
 * exactly: nothing is trimmed from it but ASCII space and tab before the colon (obs-optional,
 * §4.5.8), so `From\u00a0:` (a Unicode space, which JS trim() would remove) or an 8-bit name is
 * NOT a From field. Such a line, its continuation lines and a line without a colon are dropped
 * from the fields and listed in `malformed`: the sender check below treats a From-like one as
 * a sign that different readers see different senders (the server, Dovecot and other clients
 * parse these lines each their own way).
 */
export function readHeaderFields(text) {
  const fields = [];
  const malformed = [];
  let current = null;   // the field a continuation line extends (null after a dropped line)
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (current) current[1] += ` ${line.trim()}`;
      continue;
    }
    current = null;
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).replace(/[ \t]+$/, '') : '';
    if (!FIELD_NAME.test(name)) {
      malformed.push(colon > 0 ? line.slice(0, colon) : line.slice(0, 80));
      continue;
    }
    current = [name, line.slice(colon + 1).trim()];
    fields.push(current);
  }
  return { fields, malformed };
}

/** Header block text → [[name, value]] (readHeaderFields without the malformed lines). */
export function parseHeaderFields(text) {
  return readHeaderFields(text).fields;
}

/** A malformed line's name as a reader that is lax about it might see it (NFKC, non-ftext gone). */
const laxFieldName = (name) => String(name).normalize('NFKC').replace(/[^\x21-\x39\x3b-\x7e]/g, '').toLowerCase();
// An address written inside a display name ("carol@localhost" <alice@localhost>).
const ADDRESS_IN_NAME = /[^\s<>()"',;:@]+@[^\s<>()"',;:@]+/g;

/**
 * Whether the sender shown can be trusted to be the one From field every reader sees →
 * null | 'ambiguous' (no From, several From fields, or a malformed line that a lax reader would
 * take as From: the sender cannot be determined) | 'display_name_address' (a display name
 * carries another address than the real one: the real address must be the one shown).
 */
export function senderProblem(fields, malformed = []) {
  const froms = fields.filter(([name]) => name.toLowerCase() === 'from');
  if (froms.length !== 1 || malformed.some((name) => laxFieldName(name) === 'from')) return 'ambiguous';
  const authors = addresses(froms[0][1]);
  if (authors.length === 0) return 'ambiguous';
  for (const { name, address } of authors) {
    // NFKC first: U+FF20 and U+FE6B become '@', so "carol＠localhost" is read as the address it
    // looks like (the server refuses such names on /send; other senders are not so checked).
    for (const claimed of String(name ?? '').normalize('NFKC').match(ADDRESS_IN_NAME) ?? []) {
      if (claimed.toLowerCase() !== String(address).toLowerCase()) return 'display_name_address';
    }
  }
  return null;
}

function fieldValue(fields, name) {
  const found = fields.find(([fieldName]) => fieldName.toLowerCase() === name);
  return found ? found[1] : null;
}

/** "type/subtype; a=b; c="d"" → {type (lower case), params: Map (names lower case)}. */
export function parseContentType(value) {
  const params = new Map();
  const text = String(value ?? 'text/plain');
  const parts = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\' && quoted) {
      current += text[index + 1] ?? '';
      index += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (char === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  const type = parts.shift().trim().toLowerCase() || 'text/plain';
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    if (!params.has(name)) params.set(name, part.slice(equals + 1).trim());
  }
  return { type, params };
}

/**
 * The parts of a multipart body: [{delimiterStart, start, end}], each [start, end) the exact
 * bytes of one part, without the line break that belongs to the next delimiter (RFC 2046 §5.1.1).
 */
function splitMultipart(bytes, bodyStart, end, boundary) {
  const delimiter = ascii(`--${boundary}`);
  const parts = [];
  let open = null;
  let from = bodyStart;
  for (;;) {
    const at = indexOfBytes(bytes, delimiter, from, end);
    if (at === -1) break;
    from = at + delimiter.length;
    if (at !== bodyStart && bytes[at - 1] !== 0x0a) continue;
    const after = bytes[from];
    const closing = after === 0x2d && bytes[from + 1] === 0x2d;
    if (!closing && !(from >= end || after === 0x0d || after === 0x0a || after === 0x20 || after === 0x09)) continue;
    if (open) {
      let partEnd = at;
      if (partEnd > open.start && bytes[partEnd - 1] === 0x0a) partEnd -= 1;
      if (partEnd > open.start && bytes[partEnd - 1] === 0x0d) partEnd -= 1;
      parts.push({ ...open, end: Math.max(open.start, partEnd) });
      open = null;
    }
    if (closing) break;
    const lineEnd = bytes.indexOf(0x0a, from);
    const start = lineEnd === -1 || lineEnd >= end ? end : lineEnd + 1;
    open = { delimiterStart: at, start };
    if (parts.length + 1 > MAIL_READ_LIMITS.maxParts) throw new MimeLimitError('too_many_parts');
  }
  if (open) parts.push({ ...open, end }); // no closing delimiter: the last part runs to the end
  return parts;
}

/** Walks the MIME tree of [start, end) checking the limits → node. */
function walkEntity(bytes, start, end, depth, budget) {
  if (depth > MAIL_READ_LIMITS.maxDepth) throw new MimeLimitError('too_deep');
  budget.parts += 1;
  if (budget.parts > MAIL_READ_LIMITS.maxParts) throw new MimeLimitError('too_many_parts');
  const { headEnd, bodyStart } = splitHead(bytes, start, end);
  const { fields, malformed } = readHeaderFields(utf8.decode(bytes.subarray(start, headEnd)));
  const { type, params } = parseContentType(fieldValue(fields, 'content-type'));
  const encoding = (fieldValue(fields, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  const node = { start, end, bodyStart, fields, malformed, type, params, encoding, children: [] };
  if (type.startsWith('multipart/') && params.get('boundary')) {
    for (const range of splitMultipart(bytes, bodyStart, end, params.get('boundary'))) {
      const child = walkEntity(bytes, range.start, range.end, depth + 1, budget);
      child.delimiterStart = range.delimiterStart;
      node.children.push(child);
    }
  } else if (type === 'message/rfc822' && !['base64', 'quoted-printable'].includes(encoding)) {
    node.children.push(walkEntity(bytes, bodyStart, end, depth + 1, budget));
  }
  return node;
}

function decodeQuotedPrintable(text) {
  const bytes = [];
  const source = text.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  for (let index = 0; index < source.length; index += 1) {
    const char = source[index];
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(source.slice(index + 1, index + 3))) {
      bytes.push(parseInt(source.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(source.charCodeAt(index) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/** A leaf's body with its Content-Transfer-Encoding undone. */
function decodedBody(bytes, node) {
  const body = bytes.subarray(node.bodyStart, node.end);
  if (node.encoding === 'base64') {
    let clean = latin1.decode(body).replace(/[^A-Za-z0-9+/]/g, '');
    if (clean.length % 4 === 1) clean = clean.slice(0, -1); // a lone trailing sextet carries no byte
    const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  }
  if (node.encoding === 'quoted-printable') return decodeQuotedPrintable(latin1.decode(body));
  return body;
}

/** Line ends as CRLF (RFC 3156 §5: what a multipart/signed signature covers). */
function canonicalCrlf(bytes) {
  let bare = 0;
  for (let index = 0; index < bytes.length; index += 1) if (bytes[index] === 0x0a && (index === 0 || bytes[index - 1] !== 0x0d)) bare += 1;
  if (bare === 0) return bytes;
  const out = new Uint8Array(bytes.length + bare);
  let at = 0;
  for (let index = 0; index < bytes.length; index += 1) {
    if (bytes[index] === 0x0a && (index === 0 || bytes[index - 1] !== 0x0d)) out[at++] = 0x0d;
    out[at++] = bytes[index];
  }
  return out;
}

function addresses(value) {
  if (!value) return [];
  const flat = [];
  const visit = (entry) => {
    if (Array.isArray(entry.group)) entry.group.forEach(visit);
    else if (entry.address) flat.push({ name: decodeWords(entry.name ?? ''), address: entry.address });
  };
  addressParser(value).forEach(visit);
  return flat;
}

function messageIds(value) {
  return value ? (value.match(/<[^<>\s]+>/g) ?? []) : [];
}

/** The headers part of the model from header fields [[name, value]]. */
function headerModel(fields) {
  const value = (name) => fieldValue(fields, name);
  const date = value('date') ? new Date(value('date')) : null;
  return {
    // An encoded word may carry CR/LF: a subject is one line (Reply/Forward reuse it in a header).
    subject: value('subject') !== null ? decodeWords(value('subject')).replace(/[\r\n]+/g, ' ') : '',
    from: addresses(value('from')),
    to: addresses(fields.filter(([name]) => name.toLowerCase() === 'to').map(([, v]) => v).join(', ')),
    cc: addresses(fields.filter(([name]) => name.toLowerCase() === 'cc').map(([, v]) => v).join(', ')),
    bcc: addresses(fields.filter(([name]) => name.toLowerCase() === 'bcc').map(([, v]) => v).join(', ')),
    reply_to: addresses(value('reply-to')),
    date: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
    message_id: messageIds(value('message-id'))[0] ?? null,
    in_reply_to: messageIds(value('in-reply-to'))[0] ?? null,
    references: messageIds(value('references')),
    list: fields.filter(([name]) => name.toLowerCase() !== 'hp-outer').map(([name, v]) => [name, decodeWords(v)]),
  };
}

function emptyModel(raw) {
  return {
    raw_size: raw?.length ?? 0,
    headers: headerModel([]),
    text: null,
    html: null,
    attachments: [],
    security: {
      encrypted: false, encrypted_to_me: false, decryption_error: null, signature: 'none', signer: null,
      protected_subject: false, kind: 'plain', sender_problem: null,
      // unproven_from: the inner From of protected headers no valid signature covers (the outer
      // From is shown); outer_ignored: outer addressing fields dropped next to protected
      // headers; inline_partial: inline PGP covers only part of the text, never the attachments.
      // outer_fallback: the Date / Message-ID / threading fields taken from the outer header
      // because the protected part lacks them (no signature covers them).
      unproven_from: null, outer_ignored: [], outer_fallback: [], inline_partial: false,
      // signed_inside_encryption: the signature that counts was made inside the encryption by
      // the signer (sign-then-encrypt as one OpenPGP message): only then is "end to end" said;
      // a multipart/signed under an encryption layer nobody signed may have been encrypted by
      // anyone (a signed mail re-wrapped for the user). headers_unprotected: a signed or
      // encrypted message without protected headers (RFC 9788): its outer addressing fields are
      // covered by nothing; unprotected_reply_to: the outer Reply-To then set aside (Reply goes
      // to From unless the user picks it); unprotected_receipt_to: likewise for the read receipt.
      signed_inside_encryption: false, headers_unprotected: false, unprotected_reply_to: [], unprotected_receipt_to: null,
    },
    autocrypt: null,
    gossip: [],
    read_receipt_to: null,
    parse_error: null,
  };
}

/** Signature facts from the Worker → the model's status: verified, unknown_key, bad, none. */
function signatureStatus(signatures) {
  if (!signatures.length) return 'none';
  if (signatures.some((entry) => entry.status === 'invalid')) return 'bad';
  if (signatures.some((entry) => entry.status === 'valid')) return 'verified';
  return 'unknown_key';
}

function signerOf(signatures, usernames) {
  const valid = signatures.find((entry) => entry.status === 'valid' && entry.fingerprint);
  if (!valid) return null;
  const username = usernames?.[valid.fingerprint];
  // emails: every address of the key's user IDs (the banner checks From against them).
  return { fingerprint: valid.fingerprint, email: valid.emails?.[0] ?? null, emails: [...(valid.emails ?? [])], ...(username ? { username } : {}) };
}

/**
 * The signatures that decide the message's status, never pooled across layers: a signature
 * speaks only for what its own layer covers. The encryption layer's signatures (sign-then-encrypt)
 * when it has any, else the innermost signed part (multipart/signed or inline). → { layer, signatures }
 * or null. `bad`: some signature of any layer is invalid (a bad signature anywhere is reported).
 */
function countingLayer(layerSignatures) {
  const signedLayers = layerSignatures.filter((entry) => entry.signatures.length > 0);
  const encryption = signedLayers.find((entry) => entry.layer === 'encryption');
  return encryption ?? signedLayers[signedLayers.length - 1] ?? null;
}

function statusOfLayers(layerSignatures) {
  if (layerSignatures.some((entry) => entry.signatures.some((signature) => signature.status === 'invalid'))) return 'bad';
  return signatureStatus(countingLayer(layerSignatures)?.signatures ?? []);
}

/**
 * Peels the OpenPGP layers off the entity `node` of `bytes`. → the entity to show
 * {bytes, node} or null (nothing readable: decryption failed). `state` collects the security
 * facts.
 */
async function unwrap(bytes, node, state, context) {
  const { crypto, verificationKeys } = context;
  if (state.layers >= MAIL_READ_LIMITS.maxCryptoLayers) return { bytes, node };
  const isEncrypted = node.type === 'multipart/encrypted' && node.params.get('protocol')?.toLowerCase() === 'application/pgp-encrypted' && node.children.length >= 2;
  const isSigned = node.type === 'multipart/signed' && node.params.get('protocol')?.toLowerCase() === 'application/pgp-signature' && node.children.length >= 2;
  if (isEncrypted) {
    state.layers += 1;
    state.encrypted = true;
    state.kind = 'pgp-mime';
    if (!crypto) {
      state.decryption_error = 'locked';
      return null;
    }
    let result;
    try {
      result = await mailDecrypt({ connection: crypto, data: latin1.decode(decodedBody(bytes, node.children[1])), verificationKeys });
    } catch (error) {
      state.decryption_error = typeof error?.reason === 'string' ? error.reason : 'corrupt';
      return null;
    }
    state.encrypted_to_me = true;
    // Signatures made inside this encryption (one OpenPGP message, signed then encrypted): they
    // cover the whole decrypted entity, header included.
    state.layerSignatures.push({ layer: 'encryption', signatures: [...(result.signatures ?? [])] });
    const inner = result.data;
    if (inner.length > MAIL_READ_LIMITS.maxRawBytes) throw new MimeLimitError('too_large');
    const innerNode = walkEntity(inner, 0, inner.length, node.depth ?? 0, { parts: 0 });
    state.decryptedRoot = innerNode;
    return unwrap(inner, innerNode, state, context);
  }
  if (isSigned) {
    state.layers += 1;
    if (!state.encrypted) state.kind = 'signed';
    const [signedNode, signatureNode] = node.children;
    const signed = bytes.subarray(signedNode.start, signedNode.end);
    if (crypto) {
      // Covers the first child only: never the multipart/signed entity's own header fields.
      const entry = { layer: 'signed_part', signatures: [] };
      state.layerSignatures.push(entry);
      try {
        const { signatures } = await mailVerify({
          connection: crypto, data: canonicalCrlf(signed), signature: latin1.decode(decodedBody(bytes, signatureNode)), verificationKeys,
        });
        entry.signatures.push(...(signatures.length ? signatures : [{ status: 'invalid' }]));
      } catch {
        entry.signatures.push({ status: 'invalid' }); // an unreadable signature is a bad one
      }
    }
    const shown = walkEntity(signed, 0, signed.length, 0, { parts: 0 });
    return { bytes: signed, node: shown };
  }
  return { bytes, node };
}

/** The bytes of `node` without its legacy-display parts (RFC 9788), which are not shown. */
function withoutLegacyDisplay(bytes, node) {
  const cut = [];
  const visit = (entry) => {
    for (const child of entry.children) {
      if (isLegacyDisplayPart(child.type, child.params) && child.delimiterStart !== undefined) cut.push([child.delimiterStart, child.end]);
      else visit(child);
    }
  };
  visit(node);
  if (!cut.length) return bytes;
  const pieces = [];
  let from = 0;
  for (const [start, end] of cut.sort((a, b) => a[0] - b[0])) {
    pieces.push(bytes.subarray(from, start));
    from = end;
  }
  pieces.push(bytes.subarray(from));
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

const STRUCTURAL_TYPES = new Set(['application/pgp-encrypted', 'application/pgp-signature']);

async function readContent(bytes, node) {
  const parsed = await PostalMime.parse(withoutLegacyDisplay(bytes, node), {
    maxNestingDepth: MAIL_READ_LIMITS.maxDepth + 1, maxHeadersSize: MAIL_READ_LIMITS.maxHeaderBytes, attachmentEncoding: 'arraybuffer',
  });
  const attachments = (parsed.attachments ?? [])
    .filter((attachment) => !STRUCTURAL_TYPES.has(String(attachment.mimeType).toLowerCase()))
    .map((attachment, index) => {
      const data = attachment.content instanceof ArrayBuffer ? new Uint8Array(attachment.content) : new Uint8Array(0);
      return {
        index,
        filename: attachment.filename ?? null,
        content_type: String(attachment.mimeType ?? 'application/octet-stream').toLowerCase(),
        size: data.length,
        content_id: attachment.contentId ?? null,
        disposition: attachment.disposition ?? 'attachment',
        data,
      };
    });
  return { text: parsed.text ?? null, html: parsed.html ?? null, attachments };
}

const INLINE_MESSAGE = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/;
const INLINE_SIGNED = /-----BEGIN PGP SIGNED MESSAGE-----[\s\S]*?-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----/;

/** Inline PGP in a plain text body (read only; we never send it). */
async function openInline(model, state, context) {
  const text = model.text ?? '';
  const message = INLINE_MESSAGE.exec(text);
  const signed = message ? null : INLINE_SIGNED.exec(text);
  if (!message && !signed) return;
  state.kind = 'inline-pgp';
  model.html = null; // the HTML alternative would only repeat the armor
  // An inline block covers only itself: text around it and every attachment were added by
  // whoever assembled the message (a signed text is easy to reuse under a new attachment).
  const block = (message ?? signed)[0];
  if (text.trim() !== block.trim() || model.attachments.length > 0) state.inline_partial = true;
  model.attachments = model.attachments.map((attachment) => ({ ...attachment, covered: false }));
  if (message) {
    state.encrypted = true;
    if (!context.crypto) {
      state.decryption_error = 'locked';
      return;
    }
    try {
      const result = await mailDecrypt({ connection: context.crypto, data: message[0], verificationKeys: context.verificationKeys });
      state.encrypted_to_me = true;
      state.layerSignatures.push({ layer: 'encryption', signatures: [...(result.signatures ?? [])] });
      model.text = utf8.decode(result.data);
    } catch (error) {
      state.decryption_error = typeof error?.reason === 'string' ? error.reason : 'corrupt';
    }
    return;
  }
  if (!context.crypto) return;
  try {
    const result = await mailVerify({ connection: context.crypto, cleartext: signed[0], verificationKeys: context.verificationKeys });
    state.layerSignatures.push({ layer: 'inline_signed', signatures: result.signatures.length ? [...result.signatures] : [{ status: 'invalid' }] });
    model.text = result.text;
  } catch {
    state.layerSignatures.push({ layer: 'inline_signed', signatures: [{ status: 'invalid' }] });
  }
}

/**
 * raw (Uint8Array, the RFC 5322 bytes), crypto (the crypto-client connection, or null when the
 * identity is locked), keyring {verificationKeys: [armored], usernames?: {FINGERPRINT: name}}
 * → the Message model (contracts "Message model"), plus parse_error: null | too_large |
 * too_many_parts | too_deep | header_too_large | unreadable.
 */
export async function openMessage({ raw, crypto = null, keyring = {} }) {
  const model = emptyModel(raw);
  // layerSignatures: [{ layer: 'encryption' | 'signed_part' | 'inline_signed', signatures }] in
  // the order the layers were peeled (outermost first).
  const state = { encrypted: false, encrypted_to_me: false, decryption_error: null, layerSignatures: [], kind: 'plain', layers: 0, decryptedRoot: null };
  const context = { crypto, verificationKeys: Array.isArray(keyring?.verificationKeys) ? keyring.verificationKeys : [] };
  try {
    if (!(raw instanceof Uint8Array)) throw new MimeLimitError('unreadable');
    if (raw.length > MAIL_READ_LIMITS.maxRawBytes) throw new MimeLimitError('too_large');
    const root = walkEntity(raw, 0, raw.length, 0, { parts: 0 });
    const outerFields = root.fields;
    model.headers = headerModel(outerFields);
    const shown = await unwrap(raw, root, state, context);
    let effective = outerFields;
    let headersProtected = false;
    if (shown && shown.node !== root && hasProtectedHeaders(shown.node.params)) {
      headersProtected = true;
      // RFC 9788: the protected fields are authoritative; outer Reply-To, Cc, read-receipt
      // requests… a relay could add are ignored (protectedView).
      const view = protectedView(outerFields, shown.node.fields);
      effective = view.fields;
      model.security.outer_ignored = view.ignored;
      model.security.outer_fallback = view.fromOuter;
      if (statusOfLayers(state.layerSignatures) !== 'verified') {
        // Anyone can encrypt to the user's public key: an inner From no valid signature covers
        // proves nothing, so the outer From (the one the servers checked) stays, with a warning.
        const isFrom = ([name]) => name.toLowerCase() === 'from';
        const innerFrom = addresses(fieldValue(shown.node.fields, 'from'))[0]?.address ?? null;
        const outerFrom = addresses(fieldValue(outerFields, 'from'))[0]?.address ?? null;
        effective = [...effective.filter((field) => !isFrom(field)), ...outerFields.filter(isFrom)];
        if (innerFrom && innerFrom.toLowerCase() !== String(outerFrom ?? '').toLowerCase()) model.security.unproven_from = innerFrom;
      }
      model.security.protected_subject = state.encrypted && fieldValue(shown.node.fields, 'subject') !== null;
    }
    if (shown) Object.assign(model, await readContent(shown.bytes, shown.node));
    if (!state.encrypted && state.kind === 'plain') await openInline(model, state, context);
    const status = statusOfLayers(state.layerSignatures);
    const counting = countingLayer(state.layerSignatures);
    if (!headersProtected && (state.encrypted || status !== 'none')) {
      // No protected headers: the signature and the encryption cover the body only. Reply-To
      // and the read-receipt address are anyone's word (a relay can add them to a genuine
      // signed mail): they are set aside, shown as such, and Reply goes to From.
      model.security.headers_unprotected = true;
      const isSetAside = ([name]) => ['reply-to', 'disposition-notification-to'].includes(name.toLowerCase());
      model.security.unprotected_reply_to = addresses(fieldValue(effective, 'reply-to'));
      model.security.unprotected_receipt_to = addresses(fieldValue(effective, 'disposition-notification-to'))[0]?.address ?? null;
      effective = effective.filter((field) => !isSetAside(field));
    }
    model.headers = headerModel(effective);
    // The sender is read from these header fields only, never from postal-mime's `from` (its
    // header parser is more lenient: it trims names and takes any From it meets). When the From
    // is ambiguous no sender is shown (and no Autocrypt key is taken for one).
    const senderMalformed = [...root.malformed, ...(shown && shown.node !== root ? shown.node.malformed : [])];
    model.security.sender_problem = senderProblem(effective, senderMalformed);
    if (model.security.sender_problem === 'ambiguous') model.headers.from = [];
    const fromAddress = model.headers.from[0]?.address ?? null;
    // The sender's key is taken only from the outer header and only for the From address
    // (Autocrypt Level 1 §2.3); gossip only from inside a decrypted, signed message (§2.7).
    // Autocrypt only when the outer header has exactly one unambiguous From, too.
    model.autocrypt = senderProblem(outerFields, root.malformed) === 'ambiguous' ? null : senderAutocrypt(outerFields, fromAddress);
    // Gossip only from header fields inside an encryption layer that is itself signed
    // (sign-then-encrypt): never from the header of a multipart/signed wrapper, which no
    // signature covers, nor from a signed part someone else may have encrypted.
    const signedInsideEncryption = counting?.layer === 'encryption' && status === 'verified';
    if (state.decryptedRoot && state.encrypted_to_me && signedInsideEncryption) {
      model.gossip = gossipFrom([...state.decryptedRoot.fields, ...(shown && shown.node !== state.decryptedRoot ? shown.node.fields : [])]);
    }
    const receipt = addresses(fieldValue(effective, 'disposition-notification-to'));
    model.read_receipt_to = receipt[0]?.address ?? null;
    Object.assign(model.security, {
      encrypted: state.encrypted,
      encrypted_to_me: state.encrypted_to_me,
      decryption_error: state.decryption_error,
      signature: status,
      signer: signerOf(counting?.signatures ?? [], keyring?.usernames),
      signed_inside_encryption: signedInsideEncryption,
      kind: state.kind,
      inline_partial: state.inline_partial === true,
    });
  } catch (error) {
    model.parse_error = error instanceof MimeLimitError ? error.code : 'unreadable';
    Object.assign(model.security, { encrypted: state.encrypted, kind: state.kind });
    if (state.encrypted && !state.encrypted_to_me && !state.decryption_error) model.security.decryption_error = 'corrupt';
    model.text = null;
    model.html = null;
    model.attachments = [];
  }
  return model;
}
