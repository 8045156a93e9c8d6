// Room frame codec (docs/api.md "Room frames (binary)"): round trip, header layout, and every
// defect refused with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOM_HEADER_BYTES, RoomFrameError, RoomFrameType, decodeRoomFrame, encodeRoomFrame, isRoomId } from '../src/crypto/room-frame.js';

const room = '0123456789abcdef'.repeat(2);
const reasonOf = (fn) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RoomFrameError, String(error));
    return error.reason;
  }
  return null;
};

test('encode → decode round trip, byte layout: type, 32 ASCII room id, u64 big-endian sequence, body', () => {
  const body = Uint8Array.of(9, 8, 7);
  for (const frameType of [RoomFrameType.message, RoomFrameType.control]) {
    const frame = encodeRoomFrame({ frameType, room, sequence: 2 ** 40 + 258, body });
    assert.equal(frame.byteOffset, 0);
    assert.equal(frame.buffer.byteLength, ROOM_HEADER_BYTES + 3, 'owns its buffer (transferable)');
    assert.equal(frame[0], frameType);
    assert.equal(new TextDecoder().decode(frame.subarray(1, 33)), room);
    assert.deepEqual([...frame.subarray(33, 41)], [0, 0, 1, 0, 0, 0, 1, 2]);
    for (const input of [frame, frame.buffer]) {
      const decoded = decodeRoomFrame(input);
      assert.deepEqual({ ...decoded, body: [...decoded.body] }, { frameType, room, sequence: 2 ** 40 + 258, body: [9, 8, 7] });
    }
  }
  assert.deepEqual(RoomFrameType, { message: 3, control: 4 });
});

test('the decoded body is a copy: reusing the input does not change it', () => {
  const frame = encodeRoomFrame({ frameType: 3, room, sequence: 0, body: Uint8Array.of(1) });
  const decoded = decodeRoomFrame(frame);
  frame.fill(0);
  assert.deepEqual([...decoded.body], [1]);
});

test('decode refuses: not binary, too short, unknown type (1, 2 are relay frames), bad room id, sequence ≥ 2^53', () => {
  const good = encodeRoomFrame({ frameType: 3, room, sequence: 1, body: Uint8Array.of(1) });
  assert.equal(reasonOf(() => decodeRoomFrame('text')), 'malformed');
  assert.equal(reasonOf(() => decodeRoomFrame(good.subarray(0, ROOM_HEADER_BYTES))), 'truncated', 'no body');
  assert.equal(reasonOf(() => decodeRoomFrame(new Uint8Array(0))), 'truncated');
  for (const type of [0, 1, 2, 5, 255]) {
    const bad = Uint8Array.from(good);
    bad[0] = type;
    assert.equal(reasonOf(() => decodeRoomFrame(bad)), 'unknown_frame_type', `type ${type}`);
  }
  for (const char of ['A', 'g', ' ', '\u00e9']) {
    const bad = Uint8Array.from(good);
    bad[5] = char.charCodeAt(0);
    assert.equal(reasonOf(() => decodeRoomFrame(bad)), 'bad_room', char);
  }
  const big = Uint8Array.from(good);
  big.set([0, 0x20, 0, 0, 0, 0, 0, 0], 33);
  assert.equal(reasonOf(() => decodeRoomFrame(big)), 'bad_sequence');
});

test('encode refuses what the server would refuse', () => {
  const body = Uint8Array.of(1);
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 2, room, sequence: 0, body })), 'unknown_frame_type');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 3, room: room.toUpperCase(), sequence: 0, body })), 'bad_room');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 3, room: 'lobby', sequence: 0, body })), 'bad_room', 'a name is not an id');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 3, room, sequence: -1, body })), 'bad_sequence');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 3, room, sequence: 2 ** 53, body })), 'bad_sequence');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 4, room, sequence: 0, body: new Uint8Array(0) })), 'malformed');
  assert.equal(reasonOf(() => encodeRoomFrame({ frameType: 4, room, sequence: 0, body: [1] })), 'malformed');
});

test('isRoomId: exactly 32 lower-case hex characters', () => {
  assert.equal(isRoomId(room), true);
  for (const bad of [room.slice(1), `${room}0`, room.toUpperCase(), 'lobby', null, 42]) assert.equal(isRoomId(bad), false, String(bad));
});
