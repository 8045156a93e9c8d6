// Re-key (count and time policy, old keys useless afterwards, collisions) and SAS properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ChannelError, createInitiator, createRekeyPolicy, createResponder, SAS_EMOJI } from '../src/crypto/protocol/index.js';
import { fromHex } from '../src/crypto/protocol/bytes.js';
import { openRecord, sealRecord, RecordType, Direction } from '../src/crypto/protocol/records.js';
import { computeSas } from '../src/crypto/protocol/sas.js';
import { x25519PublicKeyFromPrivate } from '../src/crypto/protocol/suites.js';
import { runHandshake, secureParties, text, untext } from './helpers/parties.mjs';
import { hmacTestSigner } from './vectors/channel-kat.mjs';

async function completeRekey(requester, answerer) {
  const request = await requester.startRekey();
  assert.equal(requester.state, 'rekeying');
  const { type, reply } = await answerer.open({ record: request });
  assert.equal(type, 'rekey');
  assert.ok(reply instanceof Uint8Array);
  assert.deepEqual(await requester.open({ record: reply }), { type: 'rekey', reply: null });
  assert.equal(requester.state, 'secure');
}

test('re-key by record count: the policy says when, the epoch advances, sequences restart', async () => {
  const policy = createRekeyPolicy({ maxRecords: 5 });
  const { A, B } = await secureParties({ initiator: { rekeyPolicy: policy } });
  let sent = 0;
  while (!A.rekeyDue()) {
    await B.open({ record: await A.seal({ plaintext: text(`m${sent}`) }) });
    sent++;
  }
  assert.equal(sent, 5);
  await completeRekey(A, B);
  assert.equal(A.epoch, 1);
  assert.equal(B.epoch, 1);
  assert.equal(A.rekeyDue(), false, 'counters restart per epoch');
  const record = await A.seal({ plaintext: text('epoch one') });
  assert.equal(new DataView(record.buffer).getUint32(4 + record[3]), 1, 'epoch in the header');
  assert.equal(new DataView(record.buffer).getUint32(4 + record[3] + 8), 0, 'sequence restarts at 0');
  assert.equal(untext((await B.open({ record })).plaintext), 'epoch one');
  assert.equal(untext((await A.open({ record: await B.seal({ plaintext: text('ack') }) })).plaintext), 'ack');
});

test('default policy: 1000 records or 10 minutes; time-based trigger with an injected clock', async () => {
  const defaults = createRekeyPolicy();
  assert.equal(defaults.maxRecords, 1000);
  assert.equal(defaults.maxAgeMs, 600000);
  assert.throws(() => createRekeyPolicy({ maxRecord: 3 }), /unknown option: maxRecord/);
  let now = 1_000_000;
  const { A, B } = await secureParties({ initiator: { clock: () => now, rekeyPolicy: createRekeyPolicy({ maxAgeMs: 60000 }) } });
  assert.equal(A.rekeyDue(), false);
  now += 59999;
  assert.equal(A.rekeyDue(), false);
  now += 1;
  assert.equal(A.rekeyDue(), true);
  await completeRekey(A, B);
  assert.equal(A.rekeyDue(), false);
});

test('after re-key: old-epoch records are refused and old keys do not decrypt new records', async () => {
  // Deterministic parties from the committed KAT inputs, so the epoch-0 keys are known.
  const vectors = JSON.parse(await readFile(new URL('../../tests/vectors/channel/key-schedule.json', import.meta.url), 'utf8'));
  const { inputs, expected } = vectors.vectors[0];
  const key = (k) => ({ privateKey: fromHex(k.private), publicKey: fromHex(k.public) });
  const sA = await hmacTestSigner(inputs.initiator.signerKey);
  const sB = await hmacTestSigner(inputs.responder.signerKey);
  const A = createInitiator({ sessionId: inputs.sessionId, suite: inputs.suite, localFingerprint: inputs.initiator.fingerprint,
    peerFingerprint: inputs.responder.fingerprint, localUsername: inputs.initiator.username, peerUsername: inputs.responder.username,
    sign: sA.sign, verify: sB.verify,
    testing: { ephemeralKey: key(inputs.initiator.ephemeralKey), nonce: fromHex(inputs.initiator.nonce), sasSecret: fromHex(inputs.initiator.sasSecret) } });
  const B = createResponder({ sessionId: inputs.sessionId, supportedSuites: [inputs.suite], localFingerprint: inputs.responder.fingerprint,
    peerFingerprint: inputs.initiator.fingerprint, localUsername: inputs.responder.username, peerUsername: inputs.initiator.username,
    sign: sB.sign, verify: sA.verify,
    testing: { ephemeralKey: key(inputs.responder.ephemeralKey), nonce: fromHex(inputs.responder.nonce), sasSecret: fromHex(inputs.responder.sasSecret) } });
  await runHandshake(A, B);
  const oldRecord = await A.seal({ plaintext: text('epoch zero') });
  await B.open({ record: oldRecord });
  await completeRekey(B, A); // this time the responder asks
  const newRecord = await A.seal({ plaintext: text('epoch one') });
  // the epoch-0 key and IV (known from the KAT) cannot open the epoch-1 record
  const oldKey = await crypto.subtle.importKey('raw', fromHex(expected.keySchedule.initiatorToResponderKey), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const oldIv = fromHex(expected.keySchedule.initiatorToResponderIv);
  await assert.rejects(openRecord({ key: oldKey, iv: oldIv, record: newRecord,
    expected: { sessionId: inputs.sessionId, direction: Direction.initiatorToResponder, epoch: 1, sequence: 0 } }),
  (e) => e instanceof ChannelError && e.reason === 'bad_tag');
  // an attacker holding the epoch-0 key forges an epoch-1 record: refused
  const forged = await sealRecord({ key: oldKey, iv: oldIv, type: RecordType.data, direction: Direction.initiatorToResponder,
    sessionId: inputs.sessionId, epoch: 1, sequence: 0, plaintext: text('forged') });
  await assert.rejects(B.open({ record: forged }), (e) => e.reason === 'bad_tag');
});

test('old-epoch record after the switch → wrong_epoch', async () => {
  const { A, B } = await secureParties();
  const stale = await A.seal({ plaintext: text('zero') });
  const request = await A.startRekey();
  const { reply } = await B.open({ record: stale });
  assert.equal(reply, undefined);
  const answer = await B.open({ record: request });
  await A.open({ record: answer.reply });
  await B.open({ record: await A.seal({ plaintext: text('one') }) });
  await assert.rejects(B.open({ record: stale }), (e) => e.reason === 'wrong_epoch');
});

test('data keeps flowing while a re-key is in flight, in both directions', async () => {
  const { A, B } = await secureParties();
  const request = await A.startRekey();
  const aOld = await A.seal({ plaintext: text('A, still epoch 0') });
  const bOld = await B.seal({ plaintext: text('B, still epoch 0') });
  const { reply } = await B.open({ record: request });
  const bNew = await B.seal({ plaintext: text('B, epoch 1') });
  assert.equal(untext((await B.open({ record: aOld })).plaintext), 'A, still epoch 0');
  assert.equal(untext((await A.open({ record: bOld })).plaintext), 'B, still epoch 0');
  await A.open({ record: reply });
  assert.equal(untext((await A.open({ record: bNew })).plaintext), 'B, epoch 1');
  assert.equal(untext((await B.open({ record: await A.seal({ plaintext: text('A, epoch 1') }) })).plaintext), 'A, epoch 1');
  assert.equal(A.epoch, 1);
  assert.equal(B.epoch, 1);
});

test('simultaneous re-key requests: the initiator\'s wins, both end in the same epoch', async () => {
  const { A, B } = await secureParties();
  const requestA = await A.startRekey();
  const requestB = await B.startRekey();
  assert.deepEqual(await A.open({ record: requestB }), { type: 'rekey', reply: null }); // ignored
  const { reply } = await B.open({ record: requestA }); // B abandons its own and answers
  await A.open({ record: reply });
  assert.equal(A.state, 'secure');
  assert.equal(B.state, 'secure');
  assert.equal(untext((await B.open({ record: await A.seal({ plaintext: text('agreed') }) })).plaintext), 'agreed');
  assert.equal(untext((await A.open({ record: await B.seal({ plaintext: text('agreed too') }) })).plaintext), 'agreed too');
  const exportA = await A.exportKeyingMaterial({ label: 'media', length: 32 });
  const exportB = await B.exportKeyingMaterial({ label: 'media', length: 32 });
  assert.deepEqual(exportA, exportB);
});

test('a re-key response replayed into another channel is refused; the real requester accepts it', async () => {
  const { A, B } = await secureParties();
  const request = await A.startRekey();
  const { reply } = await B.open({ record: request });
  // replaying the response to a side that did not ask
  const other = await secureParties();
  await assert.rejects(other.A.open({ record: reply }), (e) => e.reason === 'bad_tag');
  assert.equal(other.A.state, 'compromised');
  await A.open({ record: reply });
  assert.equal(A.epoch, 1);
});

test('SAS: equal on both sides; 7 emoji from the 64-entry list (42 bits) and three 4-digit numbers (12 digits, 39 bits)', async () => {
  const { A, B } = await secureParties();
  assert.deepEqual(A.sas, B.sas);
  assert.equal(A.sas.emoji.length, 7);
  for (const { index, emoji, name } of A.sas.emoji) {
    assert.ok(index >= 0 && index < 64);
    assert.deepEqual([emoji, name], SAS_EMOJI[index]);
  }
  assert.equal(A.sas.decimal.length, 3);
  for (const n of A.sas.decimal) assert.ok(n >= 1000 && n <= 9191);
  assert.equal(SAS_EMOJI.length, 64);
  assert.equal(new Set(SAS_EMOJI.map(([e]) => e)).size, 64, 'emoji are distinct');
  assert.equal(new Set(SAS_EMOJI.map(([, n]) => n)).size, 64, 'names are distinct');
  // bit layout: all-ones → index 63 ×7 and 9191 ×3; zero → index 0 and 1000
  assert.deepEqual(computeSas(new Uint8Array(11).fill(0xff)).emoji.map((e) => e.index), [63, 63, 63, 63, 63, 63, 63]);
  assert.deepEqual(computeSas(new Uint8Array(11).fill(0xff)).decimal, [9191, 9191, 9191]);
  assert.deepEqual(computeSas(new Uint8Array(11)).decimal, [1000, 1000, 1000]);
  // emoji i = bits 6i..6i+5 of bytes 0..5 (big-endian); decimal j = bits 13j..13j+12 of bytes 6..10
  const layout = Uint8Array.from([0b00000100, 0b00010000, 0b11000100, 0b00010100, 0b01100001, 0b11000000, 0x00, 0x08, 0x00, 0x40, 0x02]);
  assert.deepEqual(computeSas(layout).emoji.map((e) => e.index), [1, 1, 3, 4, 5, 6, 7]);
  assert.deepEqual(computeSas(layout).decimal, [1001, 1001, 1001]);
  assert.throws(() => computeSas(new Uint8Array(10)), (e) => e.reason === 'invalid_argument');
});

test('SAS differs when any committed input differs (usernames, sA, sB, session, nonces, ephemerals, fingerprints, suite)', async () => {
  const base = {
    nonceA: 0x11, nonceB: 0x22, sasA: 0x33, sasB: 0x44, sessionId: 'sas-session', userA: 'alice', userB: 'bob',
    fpA: 'a1'.repeat(20), fpB: 'b2'.repeat(20), suite: 1, swapEphemeralA: false,
  };
  const keyFrom = async (byte) => {
    const privateKey = new Uint8Array(32).fill(byte);
    return { privateKey, publicKey: await x25519PublicKeyFromPrivate(privateKey) };
  };
  async function sasFor(params) {
    const sA = await hmacTestSigner('a');
    const sB = await hmacTestSigner('b');
    const A = createInitiator({ sessionId: params.sessionId, suite: params.suite, localFingerprint: params.fpA, peerFingerprint: params.fpB,
      localUsername: params.userA, peerUsername: params.userB, sign: sA.sign, verify: sB.verify,
      testing: { nonce: new Uint8Array(32).fill(params.nonceA), sasSecret: new Uint8Array(32).fill(params.sasA), ...(params.suite === 1 ? { ephemeralKey: await keyFrom(params.swapEphemeralA ? 0x55 : 0x44) } : {}) } });
    const B = createResponder({ sessionId: params.sessionId, supportedSuites: [1, 2], localFingerprint: params.fpB, peerFingerprint: params.fpA,
      localUsername: params.userB, peerUsername: params.userA, sign: sB.sign, verify: sA.verify,
      testing: { nonce: new Uint8Array(32).fill(params.nonceB), sasSecret: new Uint8Array(32).fill(params.sasB), ...(params.suite === 1 ? { ephemeralKey: await keyFrom(0x66) } : {}) } });
    await runHandshake(A, B);
    assert.deepEqual(A.sas, B.sas);
    return A.sas.emojiText + ' / ' + A.sas.decimalText;
  }
  const reference = await sasFor(base);
  assert.equal(await sasFor(base), reference, 'deterministic for identical inputs');
  const variations = {
    sessionId: { sessionId: 'sas-session-2' },
    initiatorUsername: { userA: 'alice2' },
    responderUsername: { userB: 'bob2' },
    initiatorSasSecret: { sasA: 0x34 },
    responderSasSecret: { sasB: 0x45 },
    initiatorNonce: { nonceA: 0x12 },
    responderNonce: { nonceB: 0x23 },
    initiatorEphemeral: { swapEphemeralA: true },
    initiatorFingerprint: { fpA: 'a3'.repeat(20) },
    responderFingerprint: { fpB: 'b4'.repeat(32) },
    suite: { suite: 2 },
  };
  for (const [what, change] of Object.entries(variations)) {
    assert.notEqual(await sasFor({ ...base, ...change }), reference, `changing ${what} must change the SAS`);
  }
});
