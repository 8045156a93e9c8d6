// Negative tests: every attack or fault the protocol claims to stop, checked with the reason
// it is stopped with, and the state each side ends in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError, awaitSecure, createInitiator } from '../src/crypto/protocol/index.js';
import { generateEphemeralKeyPair } from '../src/crypto/protocol/suites.js';
import { decodeInitiatorHello } from '../src/crypto/protocol/encoding.js';
import { FP_A, FP_B, FP_MALLORY, flipBit, makeParties, runHandshake, secureParties, signers, text, untext } from './helpers/parties.mjs';

const isReason = (...reasons) => (error) => {
  assert.ok(error instanceof ChannelError, `expected ChannelError, got ${error}`);
  assert.ok(reasons.includes(error.reason), `reason ${error.reason} not in ${reasons.join(', ')}`);
  return true;
};

test('substituted ephemeral key in message 1 (MITM key) → Alice rejects Bob\'s signature', async () => {
  const { A, B } = makeParties();
  const mitm = await generateEphemeralKeyPair(1);
  const m1 = await A.start();
  const forged = Uint8Array.from(m1);
  forged.set(mitm.publicKey, findSubarray(m1, decodeInitiatorHello(m1).ephemeralPublicKey));
  const { reply: m2 } = await B.receiveHandshake({ message: forged }); // Bob cannot tell yet
  await assert.rejects(A.receiveHandshake({ message: m2 }), isReason('bad_signature'));
  assert.equal(A.state, 'compromised');
  assert.notEqual(B.state, 'secure');
});

test('substituted ephemeral key in message 2 → bad_signature at Alice', async () => {
  const { A, B } = makeParties();
  const mitm = await generateEphemeralKeyPair(1);
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  const forged = Uint8Array.from(m2);
  forged.set(mitm.publicKey, 2 + 2 + 32 + 2); // version, type, len, nB, len, eB
  await assert.rejects(A.receiveHandshake({ message: forged }), isReason('bad_signature'));
});

test('low-order X25519 point as ephemeral key → rejected (RFC 7748 §6.1)', async () => {
  const { A, B } = makeParties();
  const m1 = await A.start();
  const forged = Uint8Array.from(m1);
  forged.set(new Uint8Array(32), findSubarray(m1, decodeInitiatorHello(m1).ephemeralPublicKey)); // u = 0
  await assert.rejects(B.receiveHandshake({ message: forged }), isReason('low_order_point'));
  assert.equal(B.state, 'compromised');
});

test('substituted certificate fingerprint in message 1 → fingerprint_mismatch', async () => {
  const { A, B } = makeParties({ initiator: { localFingerprint: FP_MALLORY } });
  const m1 = await A.start();
  await assert.rejects(B.receiveHandshake({ message: m1 }), isReason('fingerprint_mismatch'));
  // and a hello addressed to someone else
  const other = makeParties({ initiator: { peerFingerprint: FP_MALLORY } });
  await assert.rejects(other.B.receiveHandshake({ message: await other.A.start() }), isReason('fingerprint_mismatch'));
});

test('a flipped bit anywhere in message 1, 2 or 3 stops the handshake', async () => {
  for (const index of [1, 2, 3]) {
    const probe = makeParties();
    const length = (await runHandshake(probe.A, probe.B))[`m${index}`].length;
    for (let position = 0; position < length; position++) {
      const { A, B } = makeParties();
      let failed = null;
      try {
        await runHandshake(A, B, (i, bytes) => (i === index ? flipBit(bytes, position, position % 8) : bytes));
      } catch (error) {
        failed = error;
      }
      assert.ok(failed instanceof ChannelError, `m${index} byte ${position}: no error`);
      // Bob reaches secure only after a valid message 3: never with a tampered message.
      assert.notEqual(B.state, 'secure', `m${index} byte ${position}`);
      if (index === 2) assert.equal(A.state, 'compromised');
      if (index === 3) assert.equal(B.state, 'compromised');
    }
  }
});

test('flipped bit in a record: ciphertext/tag → bad_tag; header bytes → a precise reason', async () => {
  const probe = await secureParties();
  const sample = await probe.A.seal({ plaintext: text('attack at dawn') });
  const headerLength = 4 + sample[3] + 16;
  for (let position = 0; position < sample.length; position++) {
    const { A, B } = await secureParties();
    const record = await A.seal({ plaintext: text('attack at dawn') });
    const reasons = position >= headerLength ? ['bad_tag']
      : ['unsupported_version', 'unknown_message_type', 'malformed', 'bad_length', 'truncated', 'trailing_bytes',
        'wrong_session', 'wrong_direction', 'wrong_epoch', 'out_of_order', 'replay', 'too_large', 'bad_tag'];
    await assert.rejects(B.open({ record: flipBit(record, position, position % 8) }), isReason(...reasons), `byte ${position}`);
    assert.equal(B.state, 'compromised');
  }
});

test('replayed record → replay, and the channel is torn down', async () => {
  const { A, B } = await secureParties();
  const record = await A.seal({ plaintext: text('once') });
  assert.equal(untext((await B.open({ record })).plaintext), 'once');
  await assert.rejects(B.open({ record }), isReason('replay'));
  assert.equal(B.state, 'compromised');
  await assert.rejects(B.open({ record: await A.seal({ plaintext: text('next') }) }), isReason('compromised'));
});

test('reordered records → out_of_order', async () => {
  const { A, B } = await secureParties();
  const first = await A.seal({ plaintext: text('1') });
  const second = await A.seal({ plaintext: text('2') });
  await assert.rejects(B.open({ record: second }), isReason('out_of_order'));
  assert.ok(first.length > 0);
});

test('truncated record → truncated; transport ending without close → truncated', async () => {
  const { A, B } = await secureParties();
  const record = await A.seal({ plaintext: text('cut short') });
  await assert.rejects(B.open({ record: record.subarray(0, record.length - 1) }), isReason('truncated'));
  const other = await secureParties();
  assert.throws(() => other.B.transportEnded(), isReason('truncated'));
  assert.equal(other.B.state, 'compromised');
});

test('dropped Finished: Bob never reaches secure and the timeout helper reports it', async () => {
  const { A, B } = makeParties();
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  await A.receiveHandshake({ message: m2 }); // message 3 is produced ... and dropped
  assert.equal(B.state, 'awaiting_finish');
  await assert.rejects(awaitSecure({ endpoint: B, timeoutMs: 30 }), isReason('handshake_timeout'));
  assert.equal(B.state, 'compromised');
  assert.equal(B.teardownReason, 'handshake_timeout');
  assert.equal(B.sas, null);
});

test('dropped message 2: Alice times out in sent_hello', async () => {
  const { A } = makeParties();
  await A.start();
  await assert.rejects(awaitSecure({ endpoint: A, timeoutMs: 30 }), (e) => e.reason === 'handshake_timeout' && /sent_hello/.test(e.message));
});

test('awaitSecure resolves for a completed handshake', async () => {
  const { A, B } = makeParties();
  const waiting = awaitSecure({ endpoint: B, timeoutMs: 5000 });
  await runHandshake(A, B);
  assert.equal(await waiting, B);
});

test('wrong session id: in message 1 and on a record', async () => {
  const { A, B } = makeParties({ responder: { sessionId: 'another-session' } });
  await assert.rejects(B.receiveHandshake({ message: await A.start() }), isReason('wrong_session'));
  const one = await secureParties({ sessionId: 'session-one' });
  const two = await secureParties({ sessionId: 'session-two' });
  await assert.rejects(two.B.open({ record: await one.A.seal({ plaintext: text('x') }) }), isReason('wrong_session'));
});

test('wrong direction: a record reflected back to its sender', async () => {
  const { A } = await secureParties();
  const record = await A.seal({ plaintext: text('mirror') });
  await assert.rejects(A.open({ record }), isReason('wrong_direction'));
});

test('record from a different channel with the same session id fails authentication', async () => {
  const one = await secureParties();
  const two = await secureParties();
  await assert.rejects(two.B.open({ record: await one.A.seal({ plaintext: text('x') }) }), isReason('bad_tag'));
});

test('message after close: both sides refuse', async () => {
  const { A, B } = await secureParties();
  const close = await A.close();
  assert.deepEqual(await B.open({ record: close }), { type: 'close', closeCode: 'normal' });
  assert.equal(A.state, 'closed');
  assert.equal(B.state, 'closed');
  await assert.rejects(A.seal({ plaintext: text('late') }), isReason('closed'));
  await assert.rejects(B.seal({ plaintext: text('late') }), isReason('closed'));
  await assert.rejects(B.open({ record: close }), isReason('closed'));
  assert.doesNotThrow(() => B.transportEnded()); // an orderly close is not a truncation
});

test('out-of-order handshake messages are refused with unexpected_message', async () => {
  const { A, B } = makeParties();
  const m1 = await A.start();
  await assert.rejects(A.receiveHandshake({ message: m1 }), isReason('unexpected_message'));
  const fresh = makeParties();
  const n1 = await fresh.A.start();
  const { reply: n2 } = await fresh.B.receiveHandshake({ message: n1 });
  await assert.rejects(fresh.B.receiveHandshake({ message: n1 }), isReason('unexpected_message')); // duplicate hello
  const third = makeParties();
  await assert.rejects(third.B.receiveHandshake({ message: n2 }), isReason('unexpected_message'));
  await assert.rejects(makeParties().A.seal({ plaintext: text('too early') }), isReason('unexpected_message'));
  assert.ok(B.state === 'idle');
});

test('fail-closed verifier: a truthy non-boolean or a throwing verify() is a bad signature', async () => {
  for (const verify of [async () => 'yes', async () => 1, async () => { throw new Error('offline'); }, () => undefined]) {
    const { A, B } = makeParties({ initiator: { verify } });
    const m1 = await A.start();
    const { reply: m2 } = await B.receiveHandshake({ message: m1 });
    await assert.rejects(A.receiveHandshake({ message: m2 }), isReason('bad_signature'));
  }
});

test('a signer that returns no bytes fails the handshake (signer_failed)', async () => {
  const { A, B } = makeParties({ responder: { sign: async () => 'not bytes' } });
  await assert.rejects(B.receiveHandshake({ message: await A.start() }), isReason('signer_failed'));
});

test('signature by the wrong party (Mallory) with a correct transcript → bad_signature', async () => {
  const { A, B } = makeParties({ responder: { sign: signers.mallory.sign } });
  const { reply: m2 } = await B.receiveHandshake({ message: await A.start() });
  await assert.rejects(A.receiveHandshake({ message: m2 }), isReason('bad_signature'));
});

test('unknown options are rejected with context (OpenPGP.js style)', async () => {
  assert.throws(() => createInitiator({ sessionId: 's', localFingerprint: FP_A, peerFingerprint: FP_B,
    sign: signers.alice.sign, verify: signers.bob.verify, sessionID: 'typo' }),
  (e) => e.reason === 'invalid_argument' && /Error creating initiator: .*unknown option: sessionID/.test(e.message));
  assert.throws(() => makeParties({ initiator: { testing: { nonce: new Uint8Array(32), ephemeralPrivateKey: 1 } } }),
    (e) => /unknown option: ephemeralPrivateKey/.test(e.message));
  const { A } = await secureParties();
  await assert.rejects(A.seal({ plaintext: text('x'), padding: 3 }), (e) => /Error sealing record: .*unknown option: padding/.test(e.message));
  assert.equal(A.state, 'secure', 'a caller mistake does not tear the channel down');
  assert.throws(() => makeParties({ initiator: { sessionId: 'has space' } }), (e) => e.reason === 'invalid_argument');
});

test('oversized plaintext is refused before encryption', async () => {
  const { A } = await secureParties({ initiator: { maxRecordPlaintext: 1024 } });
  await assert.rejects(A.seal({ plaintext: new Uint8Array(1025) }), isReason('invalid_argument'));
  assert.ok((await A.seal({ plaintext: new Uint8Array(1024) })).length > 1024);
});

test('unsupported suite offered by the initiator → unsupported_suite', async () => {
  const { A, B } = makeParties({ suite: 2, responder: { supportedSuites: [1] } });
  await assert.rejects(B.receiveHandshake({ message: await A.start() }), isReason('unsupported_suite'));
});

function findSubarray(haystack, needle) {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
