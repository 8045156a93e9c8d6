// Looks for a plaintext marker in bytes the server saw, logged or stored, in every encoding a
// careless implementation might have used: UTF-8, UTF-16LE (JavaScript strings, some logs),
// base64 and base64url of its UTF-8 bytes (JSON transports, logs of binary data), and hex.
//
// base64 encodes 3-byte groups, so the same bytes encode differently depending on where they
// start in the whole buffer: each of the three alignments is searched, keeping only the
// characters that do not depend on the neighbouring bytes.

import { readdir, readFile, lstat } from 'node:fs/promises';
import path from 'node:path';

function base64Alignments(bytes, variant) {
  const needles = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    let text = padded.toString(variant);
    // Drop the characters that mix in the unknown bytes before (the shift) and after (the tail).
    const lead = Math.ceil((shift * 8) / 6);
    const fullGroups = Math.floor(padded.length / 3) * 4;
    text = text.slice(lead, fullGroups);
    if (text.length >= 8) needles.push({ encoding: `${variant} (offset ${shift})`, bytes: Buffer.from(text, 'latin1') });
  }
  return needles;
}

/** The needles for `marker`: [{ encoding, bytes }]. */
export function markerNeedles(marker) {
  const utf8 = Buffer.from(marker, 'utf8');
  return [
    { encoding: 'utf-8', bytes: utf8 },
    { encoding: 'utf-16le', bytes: Buffer.from(marker, 'utf16le') },
    { encoding: 'hex', bytes: Buffer.from(utf8.toString('hex'), 'latin1') },
    { encoding: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1') },
    ...base64Alignments(utf8, 'base64'),
    ...base64Alignments(utf8, 'base64url'),
  ];
}

/** The encodings of `marker` found in `data` (Buffer or string); [] when none. */
export function findMarker(data, marker) {
  const haystack = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
  return markerNeedles(marker).filter((needle) => haystack.indexOf(needle.bytes) !== -1).map((needle) => needle.encoding);
}

/** Every regular file under `dir`, recursively (symbolic links are not followed): [{ file, bytes }]. */
export async function readTree(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await readTree(full)));
    else if ((await lstat(full)).isFile()) out.push({ file: full, bytes: await readFile(full) });
  }
  return out;
}
