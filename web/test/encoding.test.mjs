// Strict decoding: the canonical encoding has exactly one accepted form per message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeInitiatorFinish, decodeInitiatorHello, decodeRekeyMessage, decodeResponderHello,
  encodeInitiatorHello, encodeRekeyMessage, peekHandshakeMessageType, Limits,
} from '../src/crypto/protocol/encoding.js';
import { decodeRecord, encodeRecordHeader, recordNonce } from '../src/crypto/protocol/records.js';
import { encodeHkdfLabel } from '../src/crypto/protocol/key-schedule.js';
import { ChannelError } from '../src/crypto/protocol/errors.js';
import { concatBytes, fromHex, toHex } from '../src/crypto/protocol/bytes.js';
import { makeParties, runHandshake } from './helpers/parties.mjs';

const reason = (r) => (e) => e instanceof ChannelError && e.reason === r;

const hello = {
  suite: 1, sessionId: 'enc-session', initiatorUsername: 'alice', responderUsername: 'bob.b',
  nonce: new Uint8Array(32).fill(7), ephemeralPublicKey: new Uint8Array(32).fill(9),
  initiatorFingerprint: new Uint8Array(20).fill(1), responderFingerprint: new Uint8Array(32).fill(2),
  commitment: new Uint8Array(32).fill(5),
};
// offsets in `hello`'s encoding
const usernameAOffset = 3 + 2 + 11;
const nonceOffset = usernameAOffset + (2 + 5) + (2 + 5);

test('initiator_hello round-trips and its layout is u8 version ‖ u8 type ‖ u8 suite ‖ u16-length fields', () => {
  const bytes = encodeInitiatorHello(hello);
  assert.equal(toHex(bytes.subarray(0, 5)), '020101000b'); // v2, type 1, suite 1, len 11
  assert.equal(toHex(bytes.subarray(usernameAOffset, nonceOffset)), '0005' + toHex(new TextEncoder().encode('alice')) + '0005' + toHex(new TextEncoder().encode('bob.b')));
  assert.equal(bytes.length, 3 + (2 + 11) + (2 + 5) + (2 + 5) + (2 + 32) + (2 + 32) + (2 + 20) + (2 + 32) + (2 + 32));
  assert.equal(toHex(bytes.subarray(bytes.length - 34)), '0020' + '05'.repeat(32)); // commit_a last
  const decoded = decodeInitiatorHello(bytes);
  assert.equal(decoded.sessionId, 'enc-session');
  assert.equal(decoded.initiatorUsername, 'alice');
  assert.equal(decoded.responderUsername, 'bob.b');
  assert.deepEqual(decoded.commitment, hello.commitment);
  assert.deepEqual(decoded.responderFingerprint, hello.responderFingerprint);
});

test('usernames: the server rule (3–32 of A–Z a–z 0–9 . _ -, starting alphanumeric) on both encode and decode', () => {
  for (const name of ['', 'ab', 'x'.repeat(33), '.alice', 'al ice', 'alicé', 'a\nb']) {
    assert.throws(() => encodeInitiatorHello({ ...hello, initiatorUsername: name }), reason('invalid_argument'), JSON.stringify(name));
    assert.throws(() => encodeInitiatorHello({ ...hello, responderUsername: name }), reason('invalid_argument'), JSON.stringify(name));
  }
  const bytes = encodeInitiatorHello(hello);
  const space = Uint8Array.from(bytes); space[usernameAOffset + 2 + 2] = 0x20; // "al ce"
  assert.throws(() => decodeInitiatorHello(space), reason('malformed'));
  const dot = Uint8Array.from(bytes); dot[usernameAOffset + 2] = 0x2e; // ".lice"
  assert.throws(() => decodeInitiatorHello(dot), reason('malformed'));
  const long = Uint8Array.from(bytes); long[usernameAOffset + 1] = 33;
  assert.throws(() => decodeInitiatorHello(long), reason('bad_length'));
  const short = Uint8Array.from(bytes); short[usernameAOffset + 1] = 2;
  assert.throws(() => decodeInitiatorHello(short), reason('bad_length'));
});

test('decoders reject trailing bytes, truncation, unknown versions and types, wrong lengths', () => {
  const bytes = encodeInitiatorHello(hello);
  assert.throws(() => decodeInitiatorHello(concatBytes(bytes, Uint8Array.of(0))), reason('trailing_bytes'));
  assert.throws(() => decodeInitiatorHello(bytes.subarray(0, bytes.length - 1)), reason('truncated'));
  for (const version of [1, 3]) {
    const other = Uint8Array.from(bytes); other[0] = version;
    assert.throws(() => decodeInitiatorHello(other), reason('unsupported_version'));
    assert.throws(() => peekHandshakeMessageType(other), reason('unsupported_version'));
  }
  const t9 = Uint8Array.from(bytes); t9[1] = 9;
  assert.throws(() => peekHandshakeMessageType(t9), reason('unknown_message_type'));
  const s7 = Uint8Array.from(bytes); s7[2] = 7;
  assert.throws(() => decodeInitiatorHello(s7), reason('unsupported_suite'));
  // nonce declared 31 bytes
  const shortNonce = encodeInitiatorHello(hello);
  shortNonce[nonceOffset + 1] = 31;
  assert.throws(() => decodeInitiatorHello(shortNonce), reason('bad_length'));
  // commitment declared 31 bytes
  const shortCommit = encodeInitiatorHello(hello);
  shortCommit[shortCommit.length - 33] = 31;
  assert.throws(() => decodeInitiatorHello(shortCommit), reason('bad_length'));
  assert.throws(() => encodeInitiatorHello({ ...hello, commitment: new Uint8Array(31) }), reason('invalid_argument'));
  // 21-byte fingerprint is neither v4 nor v6
  assert.throws(() => encodeInitiatorHello({ ...hello, initiatorFingerprint: new Uint8Array(21) }), reason('invalid_argument'));
  // X25519 key length on a P-256 suite
  const p256 = Uint8Array.from(bytes); p256[2] = 2;
  assert.throws(() => decodeInitiatorHello(p256), reason('bad_length'));
  assert.throws(() => decodeInitiatorHello(new Uint8Array(Limits.handshakeMessageMaxBytes + 1)), reason('too_large'));
  assert.throws(() => decodeInitiatorHello('not bytes'), reason('malformed'));
});

test('session id: printable ASCII, 1–128 bytes, no control characters or spaces', () => {
  for (const sessionId of ['', 'a b', 'x'.repeat(129), 'tab\t', 'é']) {
    assert.throws(() => encodeInitiatorHello({ ...hello, sessionId }), reason('invalid_argument'), JSON.stringify(sessionId));
  }
  const bytes = encodeInitiatorHello({ ...hello, sessionId: 'ab' });
  bytes[6] = 0x0a; // newline in the session id
  assert.throws(() => decodeInitiatorHello(bytes), reason('malformed'));
});

test('messages 2 and 3 from a real handshake decode; any extra or missing byte is refused', async () => {
  const { A, B } = makeParties();
  const { m2, m3 } = await runHandshake(A, B);
  const reply = decodeResponderHello(m2, { suite: 1 });
  assert.equal(reply.keyShareEnd, 2 + 34 + 34 + 34); // nB, eB, sB
  assert.equal(reply.sasSecret.length, 32);
  assert.equal(reply.finished.length, 32);
  assert.equal(m2[0], 2);
  assert.equal(m3[0], 2);
  assert.throws(() => decodeResponderHello(concatBytes(m2, Uint8Array.of(1)), { suite: 1 }), reason('trailing_bytes'));
  assert.throws(() => decodeResponderHello(m2.subarray(0, m2.length - 1), { suite: 1 }), reason('truncated'));
  assert.throws(() => decodeResponderHello(m2, { suite: 2 }), reason('bad_length'));
  const finish = decodeInitiatorFinish(m3);
  assert.equal(finish.finished.length, 32);
  assert.equal(finish.revealEnd, 2 + 34); // sA first, before the signature
  assert.equal(finish.sasSecret.length, 32);
  const shortReveal = Uint8Array.from(m3); shortReveal[3] = 31;
  assert.throws(() => decodeInitiatorFinish(shortReveal), reason('bad_length'));
  assert.throws(() => decodeInitiatorFinish(concatBytes(m3, Uint8Array.of(0))), reason('trailing_bytes'));
  assert.throws(() => decodeInitiatorFinish(m2), reason('unexpected_message'));
});

test('re-key messages: strict kind, epoch, key length; the record layer keeps version byte 1', () => {
  const message = encodeRekeyMessage({ kind: 1, epoch: 5, ephemeralPublicKey: new Uint8Array(32).fill(3) });
  assert.equal(toHex(message.subarray(0, 8)), '0101000000050020');
  const v2 = Uint8Array.from(message); v2[0] = 2;
  assert.throws(() => decodeRekeyMessage(v2, { suite: 1 }), reason('unsupported_version'));
  assert.deepEqual(decodeRekeyMessage(message, { suite: 1 }).epoch, 5);
  const kind3 = Uint8Array.from(message); kind3[1] = 3;
  assert.throws(() => decodeRekeyMessage(kind3, { suite: 1 }), reason('unknown_message_type'));
  assert.throws(() => decodeRekeyMessage(concatBytes(message, Uint8Array.of(0)), { suite: 1 }), reason('trailing_bytes'));
  assert.throws(() => decodeRekeyMessage(message, { suite: 2 }), reason('bad_length'));
});

test('record header layout, size limit and nonce construction', () => {
  const header = encodeRecordHeader({ type: 1, direction: 2, sessionId: 'sid', epoch: 3, sequence: 2 ** 32 + 5, ciphertextLength: 20 });
  assert.equal(toHex(header), '010102' + '03' + toHex(new TextEncoder().encode('sid')) + '00000003' + '0000000100000005' + '00000014');
  const record = concatBytes(header, new Uint8Array(20));
  const parsed = decodeRecord(record);
  assert.equal(parsed.sequence, 2 ** 32 + 5);
  assert.equal(parsed.epoch, 3);
  assert.throws(() => decodeRecord(concatBytes(record, Uint8Array.of(0))), reason('trailing_bytes'));
  assert.throws(() => decodeRecord(record.subarray(0, record.length - 1)), reason('truncated'));
  const tooBig = encodeRecordHeader({ type: 1, direction: 1, sessionId: 'sid', epoch: 0, sequence: 0, ciphertextLength: 65536 + 17 });
  assert.throws(() => decodeRecord(tooBig), reason('too_large'));
  const type9 = Uint8Array.from(record); type9[1] = 9;
  assert.throws(() => decodeRecord(type9), reason('unknown_message_type'));
  const iv = fromHex('000102030405060708090a0b');
  assert.equal(toHex(recordNonce(iv, 0)), '000102030405060708090a0b');
  // independent: iv XOR big-endian sequence in the last 8 bytes
  const expected = (BigInt('0x000102030405060708090a0b') ^ 0x0102030405n).toString(16).padStart(24, '0');
  assert.equal(toHex(recordNonce(iv, 0x0102030405)), expected);
});

test('HkdfLabel follows RFC 8446 §7.1 with the "secms2 " prefix (version 2 schedule)', () => {
  const label = encodeHkdfLabel('key', new Uint8Array(0), 32);
  assert.equal(toHex(label), '0020' + '0a' + toHex(new TextEncoder().encode('secms2 key')) + '00');
});
