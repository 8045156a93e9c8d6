// Binary relay frames of the application WebSocket (docs/api.md, "Relay frames"), for test
// clients and the hostile relay. The server reads only this header; the body is a handshake
// message or a channel record that it never interprets.
//
//   u8  frame_type   1 = handshake message, 2 = channel record
//   32  session_id   ASCII, 32 lower-case hex characters
//   u64 sequence     big-endian; per sender and session: 0, 1, 2, … with no gap
//   …   body         1 byte or more

export const RelayFrameType = Object.freeze({ handshake: 1, record: 2 });
export const RELAY_SESSION_ID_BYTES = 32;
export const RELAY_HEADER_BYTES = 1 + RELAY_SESSION_ID_BYTES + 8;

/** Builds a frame; `body` is a Uint8Array (a copy goes into the frame). */
export function encodeRelayFrame({ type, sessionId, sequence, body }) {
  if (type !== RelayFrameType.handshake && type !== RelayFrameType.record) throw new Error(`relay frame type ${type}`);
  if (typeof sessionId !== 'string' || !/^[0-9a-f]{32}$/.test(sessionId)) throw new Error(`relay session id ${sessionId}`);
  const frame = Buffer.alloc(RELAY_HEADER_BYTES + body.length);
  frame[0] = type;
  frame.write(sessionId, 1, 'ascii');
  frame.writeBigUInt64BE(BigInt(sequence), 1 + RELAY_SESSION_ID_BYTES);
  frame.set(body, RELAY_HEADER_BYTES);
  return frame;
}

/**
 * Parses a frame; null when it is not one (too short, unknown type, bad session id, no body),
 * the same rules the server applies. `body` is a fresh Uint8Array (not a view of `data`), so a
 * caller may change it without touching the frame it came from.
 */
export function parseRelayFrame(data) {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (bytes.length <= RELAY_HEADER_BYTES) return null;
  const type = bytes[0];
  if (type !== RelayFrameType.handshake && type !== RelayFrameType.record) return null;
  const sessionId = bytes.toString('latin1', 1, 1 + RELAY_SESSION_ID_BYTES);
  if (!/^[0-9a-f]{32}$/.test(sessionId)) return null;
  const sequence = Number(bytes.readBigUInt64BE(1 + RELAY_SESSION_ID_BYTES));
  const body = new Uint8Array(bytes.subarray(RELAY_HEADER_BYTES));
  return { type, sessionId, sequence, body };
}
