// Raw RFC 5322 messages the mail tests deliver over LMTP, written out by hand (CRLF, 7bit-safe
// base64 bodies) so they do not depend on the product's own MIME builder: plain, HTML-only,
// with attachments, PGP/MIME encrypted (RFC 3156) around an armored block from GnuPG, and the
// bad ones (malformed MIME, thousands of header fields, a given total size).

import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';

export const messageId = (domain = 'test.invalid') => `<${randomBytes(9).toString('hex')}@${domain}>`;
export const boundary = () => `=_b${randomBytes(12).toString('hex')}`;

/** base64 in 76-column lines. */
export function base64Lines(data) {
  const text = Buffer.from(data).toString('base64');
  return text.match(/.{1,76}/g)?.join(CRLF) ?? '';
}

function headerBlock({ from, to, cc, subject, date = new Date(), id = messageId(), inReplyTo, references, extra = [] }) {
  const lines = [
    `From: ${from}`,
    `To: ${[].concat(to).join(', ')}`,
    ...(cc ? [`Cc: ${[].concat(cc).join(', ')}`] : []),
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${id}`,
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`] : []),
    ...(references ? [`References: ${references}`] : []),
    'MIME-Version: 1.0',
    ...extra,
  ];
  return lines.join(CRLF);
}

/** A body part: { contentType, data (string|Buffer), filename?, contentId?, disposition? } → entity text. */
export function partEntity({ contentType, data, filename, contentId, disposition }) {
  const lines = [`Content-Type: ${contentType}${filename ? `; name="${filename}"` : ''}`, 'Content-Transfer-Encoding: base64'];
  if (filename || disposition) lines.push(`Content-Disposition: ${disposition ?? 'attachment'}${filename ? `; filename="${filename}"` : ''}`);
  if (contentId) lines.push(`Content-ID: <${contentId}>`);
  return `${lines.join(CRLF)}${CRLF}${CRLF}${base64Lines(data)}${CRLF}`;
}

/** A multipart entity (headers + body) around already-made part entities. */
export function multipartEntity(subtype, parts, { params = '' } = {}) {
  const b = boundary();
  const body = parts.map((part) => `--${b}${CRLF}${part}`).join(CRLF) + `${CRLF}--${b}--${CRLF}`;
  return `Content-Type: multipart/${subtype}; boundary="${b}"${params}${CRLF}${CRLF}${body}`;
}

/** A whole message: headers + one entity (its own Content-* header lines first). */
export function message(fields, entity) {
  return Buffer.from(`${headerBlock(fields)}${CRLF}${entity}`, 'utf8');
}

export function plainMail({ text, ...fields }) {
  return message(fields, partEntity({ contentType: 'text/plain; charset=utf-8', data: text }));
}

/** HTML only (no text/plain alternative, so the reader has to show the HTML). */
export function htmlMail({ html, attachments = [], ...fields }) {
  const htmlPart = partEntity({ contentType: 'text/html; charset=utf-8', data: html });
  if (attachments.length === 0) return message(fields, htmlPart);
  return message(fields, multipartEntity('related', [htmlPart, ...attachments.map(partEntity)]));
}

/** text/plain + attachments as multipart/mixed. */
export function mixedMail({ text, attachments, ...fields }) {
  return message(fields, multipartEntity('mixed', [
    partEntity({ contentType: 'text/plain; charset=utf-8', data: text }),
    ...attachments.map((attachment) => partEntity({ contentType: attachment.contentType, data: attachment.data, filename: attachment.filename })),
  ]));
}

/**
 * The inner MIME entity of an encrypted mail (what gpg encrypts): multipart/mixed of the text and
 * the attachments, with protected headers (RFC 9788) when `protectedHeaders` is set.
 */
export function innerEntity({ text, attachments = [], protectedHeaders }) {
  const mixed = multipartEntity('mixed', [
    partEntity({ contentType: 'text/plain; charset=utf-8', data: text }),
    ...attachments.map((attachment) => partEntity({ contentType: attachment.contentType, data: attachment.data, filename: attachment.filename })),
  ], { params: protectedHeaders ? '; protected-headers="v1"' : '' });
  if (!protectedHeaders) return Buffer.from(mixed.replace(/\n(?!\r)/g, CRLF), 'utf8');
  // Protected header fields come first in the entity's header block.
  const [head, ...rest] = mixed.split(`${CRLF}${CRLF}`);
  const fields = [
    `Subject: ${protectedHeaders.subject}`,
    `From: ${protectedHeaders.from}`,
    `To: ${[].concat(protectedHeaders.to).join(', ')}`,
    `Message-ID: ${protectedHeaders.id}`,
    `Date: ${protectedHeaders.date.toUTCString().replace('GMT', '+0000')}`,
  ];
  return Buffer.from(`${fields.join(CRLF)}${CRLF}${head}${CRLF}${CRLF}${rest.join(`${CRLF}${CRLF}`)}`, 'utf8');
}

/** RFC 3156 multipart/encrypted around an armored OpenPGP message; the outer Subject is "[...]". */
export function pgpMimeMail({ armored, subject = '[...]', ...fields }) {
  const b = boundary();
  const entity = [
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${b}"`,
    '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    `--${b}`,
    'Content-Type: application/pgp-encrypted',
    'Content-Description: PGP/MIME version identification',
    '',
    'Version: 1',
    '',
    `--${b}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    'Content-Description: OpenPGP encrypted message',
    'Content-Disposition: inline; filename="encrypted.asc"',
    '',
    armored.replace(/\r?\n/g, CRLF).trimEnd(),
    '',
    `--${b}--`,
    '',
  ].join(CRLF);
  return message({ ...fields, subject }, entity);
}

/** The armored OpenPGP message inside a raw mail (PGP/MIME part 2 or inline), or null. */
export function armoredMessageOf(raw) {
  const text = Buffer.from(raw).toString('latin1');
  const match = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(text);
  return match ? match[0].replace(/\r\n/g, '\n') : null;
}

/** The value of the first header field `name` of a raw message (unfolded), or null. */
export function headerOf(raw, name) {
  const text = Buffer.from(raw).toString('latin1');
  const head = text.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, ' ');
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return match ? match[1].trim() : null;
}

// --- bad input --------------------------------------------------------------------------------

/** Messages whose MIME is broken in the usual ways; each must open (or be refused) cleanly. */
export function malformedMails(fields) {
  const head = (extra) => `${headerBlock({ ...fields, id: messageId() })}${CRLF}${extra}`;
  return [
    { id: 'no-closing-boundary', raw: head(`Content-Type: multipart/mixed; boundary="zz"${CRLF}${CRLF}--zz${CRLF}Content-Type: text/plain${CRLF}${CRLF}body without an end${CRLF}`) },
    { id: 'missing-boundary-param', raw: head(`Content-Type: multipart/mixed${CRLF}${CRLF}--x${CRLF}Content-Type: text/plain${CRLF}${CRLF}text${CRLF}--x--${CRLF}`) },
    { id: 'bad-base64', raw: head(`Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}!!!not*base64@@@${CRLF}`) },
    { id: 'unknown-charset', raw: head(`Content-Type: text/plain; charset=x-no-such-charset${CRLF}${CRLF}bytes \xff\xfe here${CRLF}`) },
    { id: 'broken-encrypted', raw: head(`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"${CRLF}${CRLF}--e${CRLF}Content-Type: application/pgp-encrypted${CRLF}${CRLF}Version: 1${CRLF}--e${CRLF}Content-Type: application/octet-stream${CRLF}${CRLF}-----BEGIN PGP MESSAGE-----${CRLF}${CRLF}hQIMA0xxxxxxxxxxtruncated${CRLF}--e--${CRLF}`) },
    { id: 'deep-nesting', raw: head(nested(40)) },
    { id: 'bare-lf-and-nul', raw: head(`Content-Type: text/plain${CRLF}${CRLF}line\nwith bare LF and a NUL \u0000 byte${CRLF}`) },
  ].map((entry) => ({ ...entry, raw: Buffer.from(entry.raw, 'latin1') }));
}

function nested(depth) {
  let entity = `Content-Type: text/plain${CRLF}${CRLF}the bottom${CRLF}`;
  for (let level = 0; level < depth; level += 1) {
    const b = `n${level}`;
    entity = `Content-Type: multipart/mixed; boundary="${b}"${CRLF}${CRLF}--${b}${CRLF}${entity}--${b}--${CRLF}`;
  }
  return entity;
}

/** A plain message with `count` extra header fields before the body. */
export function manyHeadersMail({ count, ...fields }) {
  const extra = Array.from({ length: count }, (_, index) => `X-Filler-${index}: value ${index}`);
  return message({ ...fields, extra }, partEntity({ contentType: 'text/plain; charset=utf-8', data: `${count} header fields above` }));
}

/** A message of exactly `bytes` octets: a text part and one attachment padded to fit. */
export function mailOfSize({ bytes, ...fields }) {
  const make = (padding) => mixedMail({ ...fields, text: 'a large attachment', attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', data: Buffer.alloc(padding, 0x61) }] });
  const empty = make(0).length;
  // base64 with CRLF every 76 chars: 4/3 * n plus 2 per line — search the padding that fits.
  let padding = Math.max(0, Math.floor((bytes - empty) * 0.74));
  let raw = make(padding);
  while (raw.length < bytes - 200) { padding += Math.ceil((bytes - raw.length) * 0.7); raw = make(padding); }
  while (raw.length > bytes) { padding -= Math.ceil((raw.length - bytes) * 0.8) + 1; raw = make(padding); }
  // Pad the last few octets with header-free trailing CRLFs after the closing boundary.
  return Buffer.concat([raw, Buffer.from(CRLF.repeat(Math.floor((bytes - raw.length) / 2)) + (((bytes - raw.length) % 2) ? ' ' : ''))]);
}
