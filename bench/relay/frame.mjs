// The binary relay frame of docs/api.md ("Relay frames"), shared by the load generator and the
// reference relay so both sides build and read exactly the same bytes:
//
//   1 byte frame_type (1 handshake, 2 record) | 32 bytes session id, lower-case hex ASCII |
//   8 bytes sequence, u64 big-endian | body, at least 1 byte
//
// Sequences are handled as JS numbers: exact up to 2^53, far beyond what a benchmark sends.

export const FRAME_TYPE_HANDSHAKE = 1;
export const FRAME_TYPE_RECORD = 2;
export const SESSION_ID_LENGTH = 32;
export const SEQUENCE_OFFSET = 1 + SESSION_ID_LENGTH;
export const HEADER_LENGTH = SEQUENCE_OFFSET + 8; // 41

const TWO_POW_32 = 2 ** 32;

export function readSequence(buf) {
  return buf.readUInt32BE(SEQUENCE_OFFSET) * TWO_POW_32 + buf.readUInt32BE(SEQUENCE_OFFSET + 4);
}

export function writeSequence(buf, sequence) {
  buf.writeUInt32BE(Math.floor(sequence / TWO_POW_32), SEQUENCE_OFFSET);
  buf.writeUInt32BE(sequence % TWO_POW_32, SEQUENCE_OFFSET + 4);
}

/**
 * The same header checks the server makes (server/channel/relay_frame.cpp): longer than the
 * header, a known frame type, a session id of lower-case hex digits. Returns
 * { type, sessionId, sequence } or null.
 */
export function parseHeader(buf) {
  if (buf.length <= HEADER_LENGTH) return null;
  const type = buf[0];
  if (type !== FRAME_TYPE_HANDSHAKE && type !== FRAME_TYPE_RECORD) return null;
  for (let i = 1; i <= SESSION_ID_LENGTH; ++i) {
    const c = buf[i];
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return null;
  }
  return { type, sessionId: buf.toString('latin1', 1, 1 + SESSION_ID_LENGTH), sequence: readSequence(buf) };
}

/** A frame with its header filled in and `bodyLength` bytes of body (left for the caller). */
export function makeFrame(type, sessionIdBytes, sequence, bodyLength) {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + bodyLength);
  buf[0] = type;
  sessionIdBytes.copy(buf, 1);
  writeSequence(buf, sequence);
  return buf;
}
