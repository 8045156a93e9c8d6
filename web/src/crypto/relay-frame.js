// Relay frame codec (docs/api.md "Relay frames"): the binary WebSocket message that carries a
// handshake message or a channel record between the two browsers through the server.
//
//   u8 frame_type (1 handshake, 2 record) ‖ 32 ASCII lower-case hex session id ‖ u64 BE sequence ‖ body
//
// Worker side: the page forwards frames without reading them. Pure (no DOM, no WebCrypto).

export const RelayFrameType = Object.freeze({ handshake: 1, record: 2 });

export const RELAY_HEADER_BYTES = 1 + 32 + 8;
const sessionIdPattern = /^[0-9a-f]{32}$/;

export class RelayFrameError extends Error {
  constructor(reason, detail) {
    super(`relay frame: ${detail}`);
    this.name = 'RelayFrameError';
    this.reason = reason;   // a ChannelErrorReason code, so the caller can tear down with it
  }
}

export function isRelaySessionId(value) {
  return typeof value === 'string' && sessionIdPattern.test(value);
}

/** Encodes one frame; returns a Uint8Array that owns its own ArrayBuffer (transferable). */
export function encodeRelayFrame({ frameType, sessionId, sequence, body }) {
  if (frameType !== RelayFrameType.handshake && frameType !== RelayFrameType.record) {
    throw new RelayFrameError('malformed', `unknown frame type ${String(frameType)}`);
  }
  if (!isRelaySessionId(sessionId)) throw new RelayFrameError('malformed', 'the session id is not 32 lower-case hex characters');
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RelayFrameError('malformed', 'the sequence is not a non-negative safe integer');
  if (!(body instanceof Uint8Array) || body.length === 0) throw new RelayFrameError('malformed', 'the body must be a non-empty Uint8Array');
  const frame = new Uint8Array(RELAY_HEADER_BYTES + body.length);
  frame[0] = frameType;
  for (let i = 0; i < 32; i += 1) frame[1 + i] = sessionId.charCodeAt(i);
  new DataView(frame.buffer).setBigUint64(33, BigInt(sequence), false);
  frame.set(body, RELAY_HEADER_BYTES);
  return frame;
}

/** Decodes one frame (ArrayBuffer or Uint8Array); throws RelayFrameError on any defect. */
export function decodeRelayFrame(input) {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input)
    : input instanceof Uint8Array ? input : null;
  if (!bytes) throw new RelayFrameError('malformed', 'not binary data');
  if (bytes.length <= RELAY_HEADER_BYTES) throw new RelayFrameError('truncated', `${bytes.length} bytes is too short for a frame`);
  const frameType = bytes[0];
  if (frameType !== RelayFrameType.handshake && frameType !== RelayFrameType.record) {
    throw new RelayFrameError('unknown_message_type', `unknown frame type ${frameType}`);
  }
  let sessionId = '';
  for (let i = 0; i < 32; i += 1) sessionId += String.fromCharCode(bytes[1 + i]);
  if (!isRelaySessionId(sessionId)) throw new RelayFrameError('malformed', 'the session id is not 32 lower-case hex characters');
  const sequence = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(33, false);
  if (sequence > BigInt(Number.MAX_SAFE_INTEGER)) throw new RelayFrameError('sequence_exhausted', 'the sequence is beyond 2^53');
  return { frameType, sessionId, sequence: Number(sequence), body: bytes.slice(RELAY_HEADER_BYTES) };
}
