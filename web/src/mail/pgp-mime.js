// Composes outgoing OpenPGP mail (page side; also node for the tests):
// - composeEncrypted: PGP/MIME multipart/encrypted (RFC 3156 §4) whose encrypted inner entity is
//   signed inside the encryption and carries the protected header fields (RFC 9788) and, with
//   more than one recipient, Autocrypt-Gossip headers (Autocrypt Level 1 §2.7);
// - composeSigned: multipart/signed; micalg=pgp-sha256 (RFC 3156 §5) over the exact CRLF bytes
//   of its first part;
// - composePlain: an ordinary message (with the Autocrypt header), sent only after the user
//   confirmed sending unencrypted.
// `crypto` is the crypto-client connection (its request()); the own key stays in the Worker.
// None of these write Bcc into what is sent; only a draft (encrypted to the own key alone) keeps
// its Bcc, inside the encryption (composeEncrypted keepBcc).
// Each returns a Uint8Array, or a Blob when an attachment is a Blob (a File the user picked):
// then the message is made of Blob parts — the attachment streamed through base64, the inner
// entity handed to the Worker as a Blob and the armored answer returned as one — so no copy of
// a large file is ever whole in the page's memory.

import {
  buildBodyEntity, chunksBlob, concatChunks, entityBlob, entityBytes, entityContains, entityHasBlobs, messageHeaderFields, multipartEntity,
  normaliseFields, serializeEntity, withMessageHeaders,
} from './mime-build.js';
import { protectHeaders } from './protected-headers.js';
import { buildAutocryptHeader, buildGossipHeader } from './autocrypt.js';
import { mailEncrypt, mailSign } from '../crypto/crypto-client.js';

/** Autocrypt header of the sender when given {armored} (own public key). */
function autocryptHeaders(fields, autocryptKey) {
  if (!autocryptKey) return [];
  return [['Autocrypt', buildAutocryptHeader({ addr: fields.from.address, armored: autocryptKey })]];
}

function crlf(text) {
  return String(text).replace(/\r\n|\r|\n/g, '\r\n');
}

/**
 * → raw Uint8Array of a multipart/encrypted message.
 * Options: the buildMessage fields (from, to, cc, bcc, replyTo, subject, date, messageId,
 * inReplyTo, references, text, html, attachments, readReceiptTo), plus
 *   crypto: the crypto-client connection; recipientKeys: [armored public keys of all recipients];
 *   sign (default true); job (progress events); autocryptKey: the own armored public key for the
 *   Autocrypt header; gossip: [{addr, armored}] the recipients' keys (written when > 1 recipient);
 *   keepBcc: true only for a draft saved encrypted to the own key: the Bcc field goes into the
 *   encrypted inner header (never the outer one), so reopening the draft restores it.
 */
export async function composeEncrypted({ crypto, recipientKeys, sign = true, job, autocryptKey, gossip = [], keepBcc = false, ...messageFields }) {
  const fields = normaliseFields(messageFields);
  const headerFields = messageHeaderFields({ ...fields, extraHeaders: [] }, { includeBcc: keepBcc === true });
  const gossipHeaders = gossip.length > 1 ? gossip.map((entry) => ['Autocrypt-Gossip', buildGossipHeader(entry)]) : [];
  const { inner, outerHeaders } = protectHeaders({
    entity: buildBodyEntity(fields), headerFields, encrypted: true, extraInnerHeaders: gossipHeaders,
  });
  // The Worker answers with the armor already as CRLF bytes: the page only copies them once into
  // the message (no regular expression or encoding over tens of MiB of string on the main thread).
  // With Blob attachments the inner entity goes as a Blob and the armor comes back as one.
  const streamed = entityHasBlobs(inner);
  const { armored, armoredBytes, armoredBlob } = await mailEncrypt({
    connection: crypto, data: streamed ? await entityBlob(inner) : entityBytes(inner), recipientKeys, sign,
    output: streamed ? 'blob' : 'crlf-bytes', ...(job === undefined ? {} : { job }),
  });
  const control = {
    headers: [
      ['Content-Type', 'application/pgp-encrypted'],
      ['Content-Description', 'PGP/MIME version identification'],
    ],
    body: ['Version: 1\r\n'],
  };
  const payload = {
    headers: [
      ['Content-Type', 'application/octet-stream; name="encrypted.asc"'],
      ['Content-Description', 'OpenPGP encrypted message'],
      ['Content-Disposition', 'inline; filename="encrypted.asc"'],
    ],
    // Armor (base64, '=' only as the checksum's first character) can never hold the "=_secms_"
    // boundary, which multipartEntity checks in string chunks only.
    body: [armoredBlob ?? armoredBytes ?? crlf(armored)],
  };
  const outer = multipartEntity('encrypted', [control, payload], ['protocol="application/pgp-encrypted"']);
  const message = withMessageHeaders(outer, [...outerHeaders, ...(fields.extraHeaders ?? []), ...autocryptHeaders(fields, autocryptKey)]);
  return streamed ? entityBlob(message) : entityBytes(message);
}

/**
 * → raw Uint8Array of a multipart/signed message (RFC 3156 §5). Options: the buildMessage
 * fields, crypto, autocryptKey. The signed part carries the header fields too (RFC 9788
 * hp="clear"), so a reader can tell a changed outer Subject.
 */
export async function composeSigned({ crypto, autocryptKey, ...messageFields }) {
  const fields = normaliseFields(messageFields);
  const headerFields = messageHeaderFields({ ...fields, extraHeaders: [] }, { includeBcc: false });
  const { inner, outerHeaders } = protectHeaders({ entity: buildBodyEntity(fields), headerFields, encrypted: false });
  const streamed = entityHasBlobs(inner);
  // A Blob (Blob attachments) is signed as it streams through the Worker; its bytes are the same.
  const signedBytes = streamed ? await entityBlob(inner) : entityBytes(inner);
  // What is signed is the part exactly as it stands between the boundaries, without the CRLF
  // that belongs to the next delimiter (RFC 3156 §5, RFC 2046 §5.1.1).
  const { armoredSignature, micalg } = await mailSign({ connection: crypto, data: signedBytes });
  const signature = {
    headers: [
      ['Content-Type', 'application/pgp-signature; name="signature.asc"'],
      ['Content-Description', 'OpenPGP digital signature'],
      ['Content-Disposition', 'attachment; filename="signature.asc"'],
    ],
    body: [crlf(armoredSignature)],
  };
  let outer = multipartEntity('signed', [signature], [`micalg=${micalg ?? 'pgp-sha256'}`, 'protocol="application/pgp-signature"']);
  // The signed part's Blob chunks are base64 (never "=_"): its strings are what could hold the boundary.
  const holds = (boundary) => (streamed ? entityContains(inner, boundary) : new TextDecoder().decode(signedBytes).includes(boundary));
  while (holds(outer.boundary)) outer = multipartEntity('signed', [signature], [`micalg=${micalg ?? 'pgp-sha256'}`, 'protocol="application/pgp-signature"']);
  const top = withMessageHeaders(outer, [...outerHeaders, ...(fields.extraHeaders ?? []), ...autocryptHeaders(fields, autocryptKey)]);
  // The signed part goes in as its bytes: re-serialising could change them.
  const chunks = [];
  let head = '';
  for (const [name, value] of top.headers) head += foldLine(name, value);
  chunks.push(`${head}\r\n`, `--${outer.boundary}\r\n`, signedBytes, `\r\n--${outer.boundary}\r\n`);
  serializeEntity(signature, chunks);
  chunks.push(`\r\n--${outer.boundary}--\r\n`);
  return streamed ? chunksBlob(chunks) : concatChunks(chunks);
}

// Serialising one header through mime-build keeps one folding rule for every message.
function foldLine(name, value) {
  const [first] = serializeEntity({ headers: [[name, value]], body: [] });
  return first.slice(0, -2); // serializeEntity ends the header block with an empty line
}

/**
 * → raw Uint8Array of an unencrypted message with the sender's Autocrypt header (a Promise of a
 * Blob when an attachment is a Blob).
 */
export function composePlain({ autocryptKey, ...messageFields }) {
  const fields = normaliseFields(messageFields);
  const body = buildBodyEntity(fields);
  const headers = [...messageHeaderFields({ ...fields, extraHeaders: [] }, { includeBcc: false }), ...(fields.extraHeaders ?? []), ...autocryptHeaders(fields, autocryptKey)];
  const message = withMessageHeaders(body, headers);
  return entityHasBlobs(message) ? entityBlob(message) : entityBytes(message);
}
