// Record type 5 (call): sealCall/open round trip, its place in the one sequence of a
// direction, and relabelling between data, sender_key and call, which the type byte in the
// AAD turns into bad_tag (docs/protocol.md §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelState, RecordType } from '../src/crypto/protocol/index.js';
import { decodeRecord } from '../src/crypto/protocol/records.js';
import { makeParties, secureParties, text, untext } from './helpers/parties.mjs';

const signal = '{"v":1,"call":"00112233445566778899aabbccddeeff","kind":"invite","media":"video","e2ee":true}';

test('sealCall → open gives {type:"call"} with the plaintext; type byte 5; data and call share one sequence', async () => {
  const { A, B } = await secureParties();
  assert.equal(RecordType.call, 5);
  const first = await A.seal({ plaintext: text('chat line') });
  const call = await A.sealCall({ plaintext: text(signal) });
  const after = await A.seal({ plaintext: text('next line') });
  assert.equal(call[1], 5);
  assert.deepEqual([first, call, after].map((r) => decodeRecord(r).sequence), [0, 1, 2]);
  assert.equal(decodeRecord(call).typeName, 'call');
  assert.equal(untext((await B.open({ record: first })).plaintext), 'chat line');
  const opened = await B.open({ record: call });
  assert.equal(opened.type, 'call');
  assert.equal(untext(opened.plaintext), signal);
  assert.equal((await B.open({ record: after })).type, 'data');
  // and the other direction
  const back = await B.sealCall({ plaintext: text('{"v":1}') });
  assert.deepEqual({ ...(await A.open({ record: back })), plaintext: null }, { type: 'call', plaintext: null });
});

for (const [name, from, to] of [
  ['data relabelled as call', 'seal', RecordType.call],
  ['call relabelled as data', 'sealCall', RecordType.data],
  ['call relabelled as sender_key', 'sealCall', RecordType.senderKey],
  ['sender_key relabelled as call', 'sealSenderKey', RecordType.call],
]) {
  test(`${name}: bad_tag, and the receiver is compromised`, async () => {
    const { A, B } = await secureParties();
    const record = await A[from]({ plaintext: text(signal) });
    record[1] = to;
    await assert.rejects(B.open({ record }), (e) => e.reason === 'bad_tag');
    assert.equal(B.state, ChannelState.compromised);
    await assert.rejects(B.open({ record: await A.sealCall({ plaintext: text(signal) }) }), (e) => e.reason === 'compromised');
  });
}

test('sealCall takes one options object with a Uint8Array plaintext within the limit, and only once secure', async () => {
  const { A } = makeParties();
  await assert.rejects(A.sealCall({ plaintext: text(signal) }), (e) => e.reason === 'unexpected_message');
  const parties = await secureParties({ initiator: { maxRecordPlaintext: 100 } });
  await assert.rejects(parties.A.sealCall({ plaintext: signal }), (e) => e.reason === 'invalid_argument');
  await assert.rejects(parties.A.sealCall({ plaintext: text(signal), type: 1 }), (e) => e.reason === 'invalid_argument');
  await assert.rejects(parties.A.sealCall({ plaintext: new Uint8Array(101) }), (e) => e.reason === 'invalid_argument');
  // argument errors do not tear the channel down
  assert.equal(parties.A.state, ChannelState.secure);
  const record = await parties.A.sealCall({ plaintext: new Uint8Array(100) });
  assert.equal((await parties.B.open({ record })).plaintext.length, 100);
});
