import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayFrameError, RelayFrameType, RELAY_HEADER_BYTES, decodeRelayFrame, encodeRelayFrame } from '../src/crypto/relay-frame.js';

const sessionId = '0123456789abcdef0123456789abcdef';

test('encode lays out type, ASCII session id, u64 BE sequence, body (docs/api.md)', () => {
  const frame = encodeRelayFrame({ frameType: RelayFrameType.record, sessionId, sequence: 258, body: new Uint8Array([9, 8, 7]) });
  assert.equal(frame.length, RELAY_HEADER_BYTES + 3);
  assert.equal(frame.byteOffset, 0);
  assert.equal(frame.buffer.byteLength, frame.length, 'owns its buffer, so it can be transferred');
  assert.equal(frame[0], 2);
  assert.equal(new TextDecoder().decode(frame.slice(1, 33)), sessionId);
  assert.deepEqual([...frame.slice(33, 41)], [0, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...frame.slice(41)], [9, 8, 7]);
});

test('decode round-trips from an ArrayBuffer and from a Uint8Array view', () => {
  const body = new Uint8Array([1, 2, 3, 4]);
  const frame = encodeRelayFrame({ frameType: RelayFrameType.handshake, sessionId, sequence: 2 ** 40 + 5, body });
  for (const input of [frame.buffer, frame, new Uint8Array([0, ...frame]).subarray(1)]) {
    const decoded = decodeRelayFrame(input);
    assert.deepEqual({ ...decoded, body: [...decoded.body] }, { frameType: 1, sessionId, sequence: 2 ** 40 + 5, body: [1, 2, 3, 4] });
  }
});

test('decode refuses defects with a protocol reason', () => {
  const good = encodeRelayFrame({ frameType: 1, sessionId, sequence: 0, body: new Uint8Array([1]) });
  const reasonOf = (bytes) => { try { decodeRelayFrame(bytes); return 'accepted'; } catch (e) { assert.ok(e instanceof RelayFrameError); return e.reason; } };
  assert.equal(reasonOf(good.slice(0, RELAY_HEADER_BYTES)), 'truncated', 'no body');
  assert.equal(reasonOf(new Uint8Array(3)), 'truncated');
  const badType = good.slice(); badType[0] = 3;
  assert.equal(reasonOf(badType), 'unknown_message_type');
  const upper = good.slice(); upper[1] = 'A'.charCodeAt(0);
  assert.equal(reasonOf(upper), 'malformed');
  const huge = good.slice(); huge[33] = 0xff;
  assert.equal(reasonOf(huge), 'sequence_exhausted');
  assert.equal(reasonOf('text'), 'malformed');
});

test('encode refuses bad input', () => {
  const body = new Uint8Array([1]);
  assert.throws(() => encodeRelayFrame({ frameType: 0, sessionId, sequence: 0, body }), RelayFrameError);
  assert.throws(() => encodeRelayFrame({ frameType: 1, sessionId: 'short', sequence: 0, body }), RelayFrameError);
  assert.throws(() => encodeRelayFrame({ frameType: 1, sessionId, sequence: -1, body }), RelayFrameError);
  assert.throws(() => encodeRelayFrame({ frameType: 1, sessionId, sequence: 0, body: new Uint8Array(0) }), RelayFrameError);
});
