// Room frame codec (docs/api.md "Room frames (binary)"): the binary WebSocket message that
// carries one room message or room control frame, encrypted under the sender's sender key,
// from one member's browser to every other member through the server's fan-out.
//
//   u8 frame_type (3 message, 4 control) ‖ 32 ASCII lower-case hex room id ‖ u64 BE sequence ‖ body
//
// Pure (no DOM, no WebCrypto): the page adds the header to the body the Worker sealed, and the
// Worker reads it again on the way in. The server reads the header only; the sequence is its
// per-connection ordering and is NOT authenticated end to end (the body's own counter is; see
// docs/protocol.md "Room messages").

export const RoomFrameType = Object.freeze({ message: 3, control: 4 });

export const ROOM_HEADER_BYTES = 1 + 32 + 8;
const roomIdPattern = /^[0-9a-f]{32}$/;

/** Closed set of the defects a frame can have. */
export const RoomFrameErrorReason = Object.freeze({
  malformed: 'the frame does not follow the encoding',
  truncated: 'the frame is too short',
  unknown_frame_type: 'the frame type is not a room frame type',
  bad_room: 'the room id is not 32 lower-case hex characters',
  bad_sequence: 'the sequence is not a non-negative safe integer',
});

export class RoomFrameError extends Error {
  constructor(reason, detail) {
    if (!Object.hasOwn(RoomFrameErrorReason, reason)) throw new TypeError(`RoomFrameError: unknown reason ${String(reason)}`);
    super(`room frame: ${detail ?? RoomFrameErrorReason[reason]}`);
    this.name = 'RoomFrameError';
    this.reason = reason;
  }
}

export function isRoomId(value) {
  return typeof value === 'string' && roomIdPattern.test(value);
}

export function isRoomFrameType(value) {
  return value === RoomFrameType.message || value === RoomFrameType.control;
}

/** Encodes one frame; returns a Uint8Array that owns its own ArrayBuffer (transferable). */
export function encodeRoomFrame({ frameType, room, sequence, body }) {
  if (!isRoomFrameType(frameType)) throw new RoomFrameError('unknown_frame_type', `unknown frame type ${String(frameType)}`);
  if (!isRoomId(room)) throw new RoomFrameError('bad_room');
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RoomFrameError('bad_sequence');
  if (!(body instanceof Uint8Array) || body.length === 0) throw new RoomFrameError('malformed', 'the body must be a non-empty Uint8Array');
  const frame = new Uint8Array(ROOM_HEADER_BYTES + body.length);
  frame[0] = frameType;
  for (let i = 0; i < 32; i += 1) frame[1 + i] = room.charCodeAt(i);
  new DataView(frame.buffer).setBigUint64(33, BigInt(sequence), false);
  frame.set(body, ROOM_HEADER_BYTES);
  return frame;
}

/**
 * Decodes one frame (ArrayBuffer or Uint8Array); throws RoomFrameError on any defect. The body
 * is a copy, so the caller may keep it after the input buffer is reused or transferred.
 */
export function decodeRoomFrame(input) {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input)
    : input instanceof Uint8Array ? input : null;
  if (!bytes) throw new RoomFrameError('malformed', 'not binary data');
  if (bytes.length <= ROOM_HEADER_BYTES) throw new RoomFrameError('truncated', `${bytes.length} bytes is too short for a frame`);
  const frameType = bytes[0];
  if (!isRoomFrameType(frameType)) throw new RoomFrameError('unknown_frame_type', `unknown frame type ${frameType}`);
  let room = '';
  for (let i = 0; i < 32; i += 1) room += String.fromCharCode(bytes[1 + i]);
  if (!isRoomId(room)) throw new RoomFrameError('bad_room');
  const sequence = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(33, false);
  if (sequence > BigInt(Number.MAX_SAFE_INTEGER)) throw new RoomFrameError('bad_sequence', 'the sequence is beyond 2^53');
  return { frameType, room, sequence: Number(sequence), body: bytes.slice(ROOM_HEADER_BYTES) };
}
