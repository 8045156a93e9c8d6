// Reading a stream into Blob parts of about a megabyte each: a large message (an attachment's
// base64, an armored answer) is never gathered into one string or buffer on the page or in the
// Worker; the browser may keep Blob parts out of the JavaScript heap.

const PART_BYTES = 1024 * 1024;

/**
 * Reads `reader` (a ReadableStreamDefaultReader) to its end → an array of Blobs of about
 * `partBytes` each. `toBytes(value)` turns a chunk into what a Blob takes (default: as it is);
 * empty chunks are skipped.
 */
export async function readIntoBlobParts(reader, { partBytes = PART_BYTES, toBytes = (value) => value } = {}) {
  const parts = [];
  let pending = [];
  let pendingBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!value?.length) continue;
    const bytes = toBytes(value);
    pending.push(bytes);
    pendingBytes += bytes.length ?? bytes.size ?? 0;
    if (pendingBytes >= partBytes) {
      parts.push(new Blob(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length) parts.push(new Blob(pending));
  return parts;
}
