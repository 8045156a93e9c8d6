// Builds Internet messages (RFC 5322 + MIME, RFC 2045–2047, 2231) as CRLF, 7bit-safe bytes.
// Pure module: runs in the page, the crypto Worker and node (the tests). Nothing here touches
// keys; pgp-mime.js wraps what this builds.
//
// An entity is { headers: [[name, value]…], body: [chunks] } or, for a multipart,
// { headers, boundary, parts: [entity…] }. A chunk is an ASCII string, ASCII bytes, a Blob of
// ASCII bytes (inserted as it is: an armored answer of the Worker) or a Base64OfBlob (an
// attachment kept as its File/Blob, base64'd only while the message Blob is made). Everything
// produced is ASCII, so the final bytes are one concatenation of the chunks: entityBytes() when
// every chunk is in memory, entityBlob() when some are Blobs — a large attachment then never
// exists whole on the page, it is streamed from its File through base64 into Blob parts.

import { readIntoBlobParts } from './blob-parts.js';

const encoder = new TextEncoder();
const MAX_LINE = 78;            // RFC 5322 §2.1.1: SHOULD be ≤ 78 characters
const QP_LINE = 76;             // RFC 2045 §6.7 rule 5
const BASE64_LINE_BYTES = 57;   // 57 bytes → 76 base64 characters (RFC 2045 §6.8)
const BASE64_BLOCK_LINES = 1024;

export class MimeBuildError extends TypeError {
  constructor(message) {
    super(`mime-build: ${message}`);
    this.name = 'MimeBuildError';
  }
}

function randomBytes(length) {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

function randomToken(length = 24) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** A fresh boundary; "=_" cannot appear in quoted-printable or base64 output (RFC 2045 §5.1). */
export function newBoundary() {
  return `=_secms_${randomToken(28)}`;
}

// Header injection: no value we write may carry a line break of its own.
function checkHeaderText(value, name) {
  if (typeof value !== 'string') throw new MimeBuildError(`${name} must be a string`);
  if (/[\r\n\0]/.test(value)) throw new MimeBuildError(`${name} contains a line break`);
  return value;
}

function isPlainAscii(value) {
  return /^[\x20-\x7e]*$/.test(value);
}

/** RFC 2047 §4.1 B encoded words (UTF-8), each ≤ 75 characters, split on code points. */
export function encodeWords(value) {
  const words = [];
  let pending = '';
  let pendingBytes = 0;
  const flush = () => {
    if (pending) words.push(`=?UTF-8?B?${base64OfBytes(encoder.encode(pending))}?=`);
    pending = '';
    pendingBytes = 0;
  };
  for (const char of value) {
    const size = encoder.encode(char).length;
    // 36 bytes → 48 base64 chars + 12 of "=?UTF-8?B??=": "Subject: " and a word fit in 78 columns.
    if (pendingBytes + size > 36) flush();
    pending += char;
    pendingBytes += size;
  }
  flush();
  return words.join(' ');
}

/** An unstructured header value (Subject…): as is when printable ASCII, else encoded words. */
export function encodeHeader(value) {
  checkHeaderText(value, 'header value');
  // "=?" in a plain value would be read back as an encoded word: encode such values too.
  return isPlainAscii(value) && !value.includes('=?') ? value : encodeWords(value);
}

/** "Name: value" folded at spaces to ≤ 78 columns (RFC 5322 §2.2.3), CRLF-terminated. */
export function foldHeader(name, value) {
  checkHeaderText(name, 'header name');
  if (!/^[!-9;-~]+$/.test(name)) throw new MimeBuildError(`bad header name ${JSON.stringify(name)}`);
  checkHeaderText(value, name);
  const tokens = value.split(' ');
  let line = `${name}:`;
  const lines = [];
  let first = true;
  for (const token of tokens) {
    const piece = ` ${token}`;
    if (!first && line.length + piece.length > MAX_LINE && line.trim().length > 0) {
      lines.push(line);
      line = piece;
    } else {
      line += piece;
    }
    first = false;
  }
  lines.push(line);
  return `${lines.join('\r\n')}\r\n`;
}

const ADDRESS = /^[^\s<>()[\]\\,;:"@]+@[^\s<>()[\]\\,;:"@]+$/;

/** Checks an addr-spec (simple dot-atom form, as the server checks it); returns it. */
export function checkAddress(address) {
  if (typeof address !== 'string' || address.length > 254 || !ADDRESS.test(address)) {
    throw new MimeBuildError(`not an email address: ${JSON.stringify(String(address).slice(0, 80))}`);
  }
  return address;
}

/** {name, address} → `"Name" <address>`; non-ASCII names as encoded words (RFC 2047 §5(3)). */
export function formatAddress(entry) {
  const { name = '', address } = typeof entry === 'string' ? { address: entry } : entry ?? {};
  checkAddress(address);
  const display = checkHeaderText(String(name ?? ''), 'display name').trim();
  if (!display) return `<${address}>`;
  if (isPlainAscii(display) && !display.includes('=?')) {
    return `"${display.replace(/[\\"]/g, (char) => `\\${char}`)}" <${address}>`;
  }
  return `${encodeWords(display)} <${address}>`;
}

export function formatAddressList(list) {
  return (list ?? []).map(formatAddress).join(', ');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 §3.3 date-time in UTC: "Tue, 01 Jul 2025 12:00:00 +0000". */
export function formatDate(date = new Date()) {
  const when = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(when.getTime())) throw new MimeBuildError('invalid date');
  const pad = (n) => String(n).padStart(2, '0');
  return `${DAYS[when.getUTCDay()]}, ${pad(when.getUTCDate())} ${MONTHS[when.getUTCMonth()]} ${when.getUTCFullYear()} `
    + `${pad(when.getUTCHours())}:${pad(when.getUTCMinutes())}:${pad(when.getUTCSeconds())} +0000`;
}

/** `<random@domain>` with the domain of the sender's address. */
export function newMessageId(fromAddress) {
  const domain = typeof fromAddress === 'string' && fromAddress.includes('@') ? fromAddress.split('@').pop() : 'localhost';
  return `<${randomToken(32)}@${domain}>`;
}

function checkMessageId(value) {
  checkHeaderText(value, 'message id');
  if (!/^<[^\s<>]+@[^\s<>]+>$/.test(value)) throw new MimeBuildError('a message id is <local@domain>');
  return value;
}

// ---- transfer encodings ---------------------------------------------------------------------

function base64OfBytes(bytes) {
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary);
}

/** Base64 in 76-column CRLF lines, as chunks of ≤ 1024 lines (RFC 2045 §6.8). */
export function base64Lines(bytes) {
  const chunks = [];
  const block = BASE64_LINE_BYTES * BASE64_BLOCK_LINES;
  for (let offset = 0; offset < bytes.length; offset += block) {
    const encoded = base64OfBytes(bytes.subarray(offset, offset + block));
    const lines = [];
    for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
    chunks.push(`${lines.join('\r\n')}\r\n`);
  }
  return chunks;
}

const BASE64_ALPHABET = encoder.encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/**
 * The same lines as base64Lines, written straight into bytes (one Uint8Array): no string per
 * block, no line splitting and no UTF-8 encoding afterwards — for a 10 MiB attachment about a
 * fifth of the main-thread time of the string route. Base64 never holds "=_", so the boundary
 * check of string chunks loses nothing.
 */
export function base64LineBytes(bytes) {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4 + Math.ceil(bytes.length / BASE64_LINE_BYTES) * 2);
  const alphabet = BASE64_ALPHABET;
  let at = 0;
  for (let line = 0; line < bytes.length; line += BASE64_LINE_BYTES) {
    const end = Math.min(bytes.length, line + BASE64_LINE_BYTES);
    let index = line;
    for (; index + 3 <= end; index += 3) {
      const triple = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2];
      out[at++] = alphabet[triple >>> 18];
      out[at++] = alphabet[(triple >>> 12) & 63];
      out[at++] = alphabet[(triple >>> 6) & 63];
      out[at++] = alphabet[triple & 63];
    }
    if (index < end) {
      const two = end - index === 2;
      const triple = (bytes[index] << 16) | (two ? bytes[index + 1] << 8 : 0);
      out[at++] = alphabet[triple >>> 18];
      out[at++] = alphabet[(triple >>> 12) & 63];
      out[at++] = two ? alphabet[(triple >>> 6) & 63] : 61; // '='
      out[at++] = 61;
    }
    out[at++] = 13;
    out[at++] = 10;
  }
  return out.subarray(0, at);
}

const BASE64_SLICE_BYTES = BASE64_LINE_BYTES * 4096;   // ~228 KiB in, ~304 KiB of lines out

/** Resolves in a later task (scheduler.yield where there is one; a message, which no timer clamps). */
function nextTask() {
  if (typeof globalThis.scheduler?.yield === 'function') return globalThis.scheduler.yield();
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * A TransformStream of bytes → base64 in 76-column CRLF lines (the bytes of base64LineBytes over
 * the whole input), for any chunking of the input: what does not fill a 57-byte line waits for
 * the next chunk.
 */
export function base64LineStream() {
  let pending = new Uint8Array(0);
  return new TransformStream({
    async transform(chunk, controller) {
      const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
      const joined = pending.length ? new Uint8Array(pending.length + bytes.length) : bytes;
      if (pending.length) {
        joined.set(pending);
        joined.set(bytes, pending.length);
      }
      const whole = joined.length - (joined.length % BASE64_LINE_BYTES);
      // A browser may hand over megabytes at once: encoded a slice per task, so the page's main
      // thread is never held for the whole chunk.
      for (let at = 0; at < whole; at += BASE64_SLICE_BYTES) {
        if (at > 0) await nextTask();
        controller.enqueue(base64LineBytes(joined.subarray(at, Math.min(whole, at + BASE64_SLICE_BYTES))));
      }
      pending = joined.slice(whole);
    },
    flush(controller) {
      if (pending.length) controller.enqueue(base64LineBytes(pending));
    },
  });
}

/** A body chunk: the base64 lines of a Blob, made when the message Blob is made (entityBlob). */
export class Base64OfBlob {
  constructor(blob) {
    if (!(blob instanceof Blob)) throw new MimeBuildError('Base64OfBlob takes a Blob');
    this.blob = blob;
    Object.freeze(this);
  }

  /** The size of the base64 lines, without making them. */
  get size() {
    const size = this.blob.size;
    return Math.ceil(size / 3) * 4 + Math.ceil(size / BASE64_LINE_BYTES) * 2;
  }
}

const HEX = '0123456789ABCDEF';
const hexByte = (byte) => `=${HEX[byte >> 4]}${HEX[byte & 15]}`;

/**
 * Quoted-printable (RFC 2045 §6.7) of UTF-8 text with CRLF hard breaks and ≤ 76-column lines.
 * Also encodes what RFC 3156 §3 asks of signed parts: trailing white space and "From " at a
 * line start, so a transport cannot change the signed bytes.
 */
export function quotedPrintable(text) {
  const lines = String(text).split(/\r\n|\r|\n/);
  const out = [];
  for (const line of lines) {
    const bytes = encoder.encode(line);
    const tokens = [];
    bytes.forEach((byte, index) => {
      const last = index === bytes.length - 1;
      const literal = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
      tokens.push(literal ? String.fromCharCode(byte) : hexByte(byte));
    });
    if (line.startsWith('From ')) tokens[0] = hexByte(0x46);
    let current = '';
    for (const token of tokens) {
      if (current.length + token.length > QP_LINE - 1) {
        out.push(`${current}=`);
        current = '';
      }
      current += token;
    }
    out.push(current);
  }
  return out.join('\r\n');
}

// ---- entities -------------------------------------------------------------------------------

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`{|}~-]+$/;

function parameter(name, value) {
  return TOKEN.test(value) ? `${name}=${value}` : `${name}="${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * A filename parameter: plain when printable ASCII, else RFC 2231 §4 (UTF-8, percent-encoded)
 * in continuations (§3) short enough to fold.
 */
export function filenameParameters(name, filename) {
  checkHeaderText(filename, 'filename');
  if (isPlainAscii(filename) && filename.length <= 60) return [parameter(name, filename)];
  const encoded = Array.from(encoder.encode(filename), (byte) => (
    /[A-Za-z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`
  ));
  const segments = [];
  let current = "UTF-8''";
  for (const piece of encoded) {
    if (current.length + piece.length > 50) {
      segments.push(current);
      current = '';
    }
    current += piece;
  }
  segments.push(current);
  return segments.map((segment, index) => `${name}*${index}*=${segment}`);
}

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

function contentTypeValue(type, params = []) {
  return [type, ...params].join('; ');
}

/** A text/plain part (quoted-printable, UTF-8). */
export function textEntity(text, { subtype = 'plain', extraParams = [] } = {}) {
  return {
    headers: [
      ['Content-Type', contentTypeValue(`text/${subtype}`, ['charset=utf-8', ...extraParams])],
      ['Content-Transfer-Encoding', 'quoted-printable'],
    ],
    body: [quotedPrintable(text)],
  };
}

/**
 * An attachment part (base64, RFC 2231 names). data: a Uint8Array, or a Blob (a File the user
 * picked): its base64 is made by streaming it when the message Blob is made (entityBlob).
 */
export function attachmentEntity({ filename, contentType, data, disposition = 'attachment', contentId }) {
  const blob = typeof Blob !== 'undefined' && data instanceof Blob;
  if (!(data instanceof Uint8Array) && !blob) throw new MimeBuildError('attachment data must be a Uint8Array or a Blob');
  const type = typeof contentType === 'string' && MEDIA_TYPE.test(contentType) ? contentType.toLowerCase() : 'application/octet-stream';
  const name = typeof filename === 'string' && filename ? filename : 'attachment';
  const headers = [
    ['Content-Type', contentTypeValue(type, isPlainAscii(name) && name.length <= 60 ? [parameter('name', name)] : [])],
    ['Content-Transfer-Encoding', 'base64'],
    ['Content-Disposition', contentTypeValue(disposition === 'inline' ? 'inline' : 'attachment', filenameParameters('filename', name))],
  ];
  if (contentId) headers.push(['Content-ID', checkMessageId(contentId)]);
  return { headers, body: [blob ? new Base64OfBlob(data) : base64LineBytes(data)] };
}

/** A multipart entity with a fresh boundary checked absent from its parts. */
export function multipartEntity(subtype, parts, extraParams = []) {
  let boundary;
  do boundary = newBoundary(); while (parts.some((part) => entityContains(part, boundary)));
  return {
    headers: [['Content-Type', contentTypeValue(`multipart/${subtype}`, [...extraParams, parameter('boundary', boundary)])]],
    boundary,
    parts,
  };
}

/** Whether a header value, boundary or string chunk of the entity holds `needle` (base64 and armor never hold "=_"). */
export function entityContains(entity, needle) {
  if (entity.headers.some(([, value]) => value.includes(needle))) return true;
  if (entity.parts) return entity.boundary.includes(needle) || entity.parts.some((part) => entityContains(part, needle));
  return entity.body.some((chunk) => typeof chunk === 'string' && chunk.includes(needle));
}

/**
 * The MIME body of a message: text, optional HTML (multipart/alternative, text first, RFC 2046
 * §5.1.4), attachments (multipart/mixed).
 */
export function buildBodyEntity({ text = '', html = null, attachments = [] } = {}) {
  let content = textEntity(text ?? '');
  if (typeof html === 'string' && html) content = multipartEntity('alternative', [content, textEntity(html, { subtype: 'html' })]);
  if (!attachments?.length) return content;
  return multipartEntity('mixed', [content, ...attachments.map(attachmentEntity)]);
}

/** Adds a parameter to an entity's Content-Type (protected-headers="v1"…). */
export function addContentTypeParams(entity, params) {
  const index = entity.headers.findIndex(([name]) => name.toLowerCase() === 'content-type');
  entity.headers[index] = ['Content-Type', [entity.headers[index][1], ...params].join('; ')];
  return entity;
}

/** Appends the serialised entity (folded headers, blank line, body) to `out` (string chunks). */
export function serializeEntity(entity, out = []) {
  let head = '';
  for (const [name, value] of entity.headers) head += foldHeader(name, value);
  out.push(`${head}\r\n`);
  if (entity.parts) {
    for (const part of entity.parts) {
      out.push(`--${entity.boundary}\r\n`);
      serializeEntity(part, out);
      out.push('\r\n');
    }
    out.push(`--${entity.boundary}--\r\n`);
  } else {
    for (const chunk of entity.body) out.push(chunk);
  }
  return out;
}

const isBlobChunk = (chunk) => chunk instanceof Base64OfBlob || (typeof Blob !== 'undefined' && chunk instanceof Blob);

/** Whether an entity has a chunk that is a Blob (so it is made with entityBlob, not entityBytes). */
export function entityHasBlobs(entity) {
  if (entity.parts) return entity.parts.some(entityHasBlobs);
  return entity.body.some(isBlobChunk);
}

/** Whether any chunk is a Blob (then the chunks are made into a Blob with chunksBlob). */
export const chunksHaveBlobs = (chunks) => chunks.some(isBlobChunk);

// Base64 of a large attachment is gathered in Blob parts of about this size: the page holds one
// part's bytes at a time, the browser keeps the parts (out of the page's heap, on disk if large).
const BLOB_PART_BYTES = 1024 * 1024;

/**
 * The bytes of a Blob read 1 MiB slice by 1 MiB slice, at most one ahead. Not blob.stream():
 * Chromium's reads ahead in chunks of up to 2 MiB, as fast as it can, so a whole 10 MiB File
 * ended up queued on the page while its base64 was made.
 */
function blobSliceStream(blob) {
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= blob.size) {
        controller.close();
        return;
      }
      const end = Math.min(blob.size, offset + BLOB_PART_BYTES);
      controller.enqueue(new Uint8Array(await blob.slice(offset, end).arrayBuffer()));
      offset = end;
    },
  }, { highWaterMark: 1 });   // one slice read ahead while the previous one is encoded
}

/**
 * One Blob of all chunks (strings ASCII; Uint8Arrays and Blobs as they are; a Base64OfBlob read
 * from its Blob in slices through base64LineStream into ~1 MiB Blob parts). A Blob that cannot
 * be read (a File removed from the disk) rejects with the read's error.
 */
export async function chunksBlob(chunks) {
  const parts = [];
  for (const chunk of chunks) {
    if (!(chunk instanceof Base64OfBlob)) {
      parts.push(chunk);
      continue;
    }
    parts.push(...await readIntoBlobParts(blobSliceStream(chunk.blob).pipeThrough(base64LineStream()).getReader(), { partBytes: BLOB_PART_BYTES }));
  }
  return new Blob(parts, { type: 'message/rfc822' });
}

/** The serialised entity as a Blob (for an entity with Blob chunks; see chunksBlob). */
export function entityBlob(entity) {
  return chunksBlob(serializeEntity(entity));
}

/** One Uint8Array of all chunks (strings must be ASCII; Uint8Arrays are copied as they are). */
export function concatChunks(chunks) {
  if (chunksHaveBlobs(chunks)) throw new MimeBuildError('chunks with a Blob are made with chunksBlob');
  const pieces = chunks.map((chunk) => (typeof chunk === 'string' ? encoder.encode(chunk) : chunk));
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.length;
  }
  return bytes;
}

export function entityBytes(entity) {
  return concatChunks(serializeEntity(entity));
}

/**
 * The fields of the message header section, with the defaults filled in (one Date and one
 * Message-ID, so the outer and the protected inner header of an encrypted message agree).
 */
export function normaliseFields(fields) {
  const from = fields.from;
  if (!from?.address) throw new MimeBuildError('from is required');
  return {
    ...fields,
    date: fields.date ?? new Date(),
    messageId: fields.messageId ? checkMessageId(fields.messageId) : newMessageId(from.address),
  };
}

/**
 * The RFC 5322 header fields of a message, in the usual order, as [name, value] pairs.
 * `include` names the fields to write (default: all that are set).
 */
export function messageHeaderFields(fields, { includeBcc = true, subject } = {}) {
  const headers = [];
  const list = (name, value) => { if (value?.length) headers.push([name, formatAddressList(value)]); };
  headers.push(['Date', formatDate(fields.date)]);
  headers.push(['From', formatAddress(fields.from)]);
  list('To', fields.to);
  list('Cc', fields.cc);
  if (includeBcc) list('Bcc', fields.bcc);
  list('Reply-To', fields.replyTo);
  headers.push(['Subject', encodeHeader(subject ?? fields.subject ?? '')]);
  headers.push(['Message-ID', checkMessageId(fields.messageId)]);
  if (fields.inReplyTo) headers.push(['In-Reply-To', checkMessageId(fields.inReplyTo)]);
  if (fields.references?.length) headers.push(['References', fields.references.map(checkMessageId).join(' ')]);
  if (fields.readReceiptTo) headers.push(['Disposition-Notification-To', formatAddress(fields.readReceiptTo)]);
  for (const [name, value] of fields.extraHeaders ?? []) headers.push([name, checkHeaderText(value, name)]);
  return headers;
}

/** Puts message header fields (and MIME-Version) before an entity's own Content-* headers. */
export function withMessageHeaders(entity, headers) {
  return { ...entity, headers: [...headers, ['MIME-Version', '1.0'], ...entity.headers] };
}

/**
 * A complete message → Uint8Array (CRLF, 7bit). Fields: from {name, address}, to/cc/bcc/replyTo
 * [{name, address}], subject, date, messageId, inReplyTo, references [msgid], text, html,
 * attachments [{filename, contentType, data: Uint8Array}], extraHeaders [[name, value]],
 * readReceiptTo. Bcc is written only when given (drafts); the sender leaves it out of what it
 * sends. (With Blob attachments use pgp-mime.js, which makes a Blob.)
 */
export function buildMessage(fields) {
  const normal = normaliseFields(fields);
  const body = buildBodyEntity(normal);
  return entityBytes(withMessageHeaders(body, messageHeaderFields(normal)));
}
