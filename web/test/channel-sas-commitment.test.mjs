// Protocol version 2 against the attacks of issue 8 items 2 and 5, run against the real
// protocol code (the endpoints, and the handshake.js functions the endpoints call):
//   * SAS grinding by a relay that substituted both certificates and plays B to Alice and A to
//     Bob: 2^16 variants of message 3 cannot move Bob's SAS, and 2^16 variants of message 2
//     cannot be scored against Alice's SAS because it depends on sA, revealed only afterwards;
//   * a revealed sA that does not open commit_A (bad_commitment); version-1 messages
//     (unsupported_version); a username the responder does not expect (username_mismatch);
//     bit flips in the new fields.
// Signatures use a malleable HMAC test signer (any bytes may follow the 32-byte MAC, as an
// OpenPGP signature carries unhashed subpackets that verification ignores), so the relay can
// produce as many accepted signature variants as it likes, and the loops stay fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError, createInitiator, createResponder } from '../src/crypto/protocol/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../src/crypto/protocol/bytes.js';
import {
  ByteWriter, decodeInitiatorFinish, decodeInitiatorHello, decodeResponderHello, encodeInitiatorFinishReveal,
} from '../src/crypto/protocol/encoding.js';
import {
  checkInitiatorFinish, processInitiatorFinish, processResponderHello, respondToInitiatorHello, signatureInput,
} from '../src/crypto/protocol/handshake.js';
import {
  deriveHandshakeSecrets, deriveSasBytes, hmacSha256, importHmacKey, sasCommitment, sha256,
} from '../src/crypto/protocol/key-schedule.js';
import { computeSas } from '../src/crypto/protocol/sas.js';
import {
  deriveSharedSecret, importEphemeralKeyPairForTesting, importPeerPublicKey, x25519PublicKeyFromPrivate,
} from '../src/crypto/protocol/suites.js';
import { FP_A, FP_B, flipBit, makeParties, runHandshake } from './helpers/parties.mjs';
import { hmacTestSigner } from './vectors/channel-kat.mjs';

const VARIANTS = 2 ** 16;
const FP_RELAY_AS_B = 'e1'.repeat(20); // the certificate the relay showed Alice as "bob"
const FP_RELAY_AS_A = 'e2'.repeat(20); // the certificate the relay showed Bob as "alice"
const SESSION = 'grind-session';

const isReason = (reason) => (error) => error instanceof ChannelError && error.reason === reason;
const sasText = (sas) => `${sas.emojiText} / ${sas.decimalText}`;

/** HMAC test signer whose verification, like OpenPGP's, ignores bytes after the MAC. */
async function malleableSigner(name) {
  const inner = await hmacTestSigner(name);
  return {
    sign: inner.sign,
    verify: async ({ data, signature }) => signature.length >= 32 && inner.verify({ data, signature: signature.subarray(0, 32) }),
  };
}

const alice = await malleableSigner('alice');
const bob = await malleableSigner('bob');
const relayB = await malleableSigner('relay posing as bob');
const relayA = await malleableSigner('relay posing as alice');

/** A fixed X25519 key pair as raw bytes (the `testing.ephemeralKey` form). */
async function rawX25519(byte) {
  const privateKey = new Uint8Array(32).fill(byte);
  return { privateKey, publicKey: await x25519PublicKeyFromPrivate(privateKey) };
}

/** field(x) */
const field = (bytes) => new ByteWriter().field(bytes).bytes();

/**
 * The relay's ephemeral key is its own, so it can recompute every handshake secret of its leg
 * with the pure key schedule (what a hostile relay would do to re-MAC a message it altered).
 */
async function relayFinishedKeys({ privateKey, peerPublicKey, initiatorNonce, responderNonce, keyShareTranscriptHash }) {
  const shared = await deriveSharedSecret(1, privateKey, await importPeerPublicKey(1, peerPublicKey));
  return deriveHandshakeSecrets({ sharedSecret: shared, initiatorNonce, responderNonce, keyShareTranscriptHash });
}

test('SAS grinding with 2^16 variants of message 3: Bob\'s SAS never changes, and never equals Alice\'s', { timeout: 600_000 }, async () => {
  // --- leg 1: Alice ↔ relay (the relay answers as "bob" with its own certificate) ---
  const A = createInitiator({
    sessionId: SESSION, suite: 1, localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: FP_A, peerFingerprint: FP_RELAY_AS_B, sign: alice.sign, verify: relayB.verify,
  });
  const relayToAlice = createResponder({
    sessionId: SESSION, supportedSuites: [1], localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: FP_RELAY_AS_B, peerFingerprint: FP_A, sign: relayB.sign, verify: alice.verify,
  });
  await runHandshake(A, relayToAlice);
  const aliceSas = sasText(A.sas);
  assert.equal(sasText(relayToAlice.sas), aliceSas, 'the relay knows Alice\'s SAS once she revealed sA');

  // --- leg 2: relay ↔ Bob (the relay initiates as "alice"); Alice's SAS is now the target ---
  const relayEphemeral = await rawX25519(0x42);
  const relayToBob = createInitiator({
    sessionId: SESSION, suite: 1, localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: FP_RELAY_AS_A, peerFingerprint: FP_B, sign: relayA.sign, verify: bob.verify,
    testing: { ephemeralKey: relayEphemeral },
  });
  const m1 = await relayToBob.start();
  // Bob, through the same function his endpoint runs on message 1; `pending` is his state.
  const bobSide = await respondToInitiatorHello({
    message: m1, sessionId: SESSION, localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: fromHex(FP_B), peerFingerprint: fromHex(FP_RELAY_AS_A), supportedSuites: [1], sign: bob.sign,
  });
  const m2 = bobSide.message;
  const { reply: honestM3 } = await relayToBob.receiveHandshake({ message: m2 });
  const bobPending = () => ({ ...bobSide.pending, sasSecret: Uint8Array.from(bobSide.pending.sasSecret) });
  // Bob's endpoint runs processInitiatorFinish = checkInitiatorFinish (commitment, signature,
  // Finished, SAS) + the session keys; every variant goes through the checks, and one in 256
  // through the whole function, so the loop stays within seconds.
  const bobChecks = (message) => checkInitiatorFinish({ message, verify: relayA.verify, pending: bobPending() });
  const bobFinishes = (message) => processInitiatorFinish({ message, verify: relayA.verify, pending: bobPending() });
  const honest = await bobFinishes(honestM3);
  const bobSas = sasText(honest.sas);
  assert.equal(bobSas, sasText(relayToBob.sas));

  // The relay re-signs and re-MACs every variant: the signature gets two extra bytes (accepted
  // by verification, like an unhashed subpacket) and the Finished MAC is recomputed.
  const hello = decodeInitiatorHello(m1);
  const reply = decodeResponderHello(m2, { suite: 1 });
  const keyShareTranscriptHash = await sha256(concatBytes(m1, m2.subarray(0, reply.keyShareEnd)));
  const stage = await relayFinishedKeys({
    privateKey: (await importEphemeralKeyPairForTesting(1, relayEphemeral)).privateKey, peerPublicKey: reply.ephemeralPublicKey,
    initiatorNonce: hello.nonce, responderNonce: reply.nonce, keyShareTranscriptHash,
  });
  const initiatorFinishedKey = await importHmacKey(stage.initiatorFinishedKey);
  const reveal = encodeInitiatorFinishReveal(decodeInitiatorFinish(honestM3).sasSecret);
  const baseSignature = await relayA.sign(signatureInput('initiator', await sha256(concatBytes(m1, m2, reveal))));
  const transcript12 = concatBytes(m1, m2);
  async function variant(i) {
    const signature = concatBytes(baseSignature, Uint8Array.of(i >>> 8, i & 0xff));
    const signed = concatBytes(reveal, field(signature));
    const finished = await hmacSha256(initiatorFinishedKey, await sha256(concatBytes(transcript12, signed)));
    return concatBytes(signed, field(finished));
  }

  const bobSasValues = new Set();
  const v1StyleSas = new Set(); // what a SAS over the whole transcript (version 1) would have been
  const batch = 512;
  for (let start = 0; start < VARIANTS; start += batch) {
    await Promise.all(Array.from({ length: batch }, async (_, k) => {
      const i = start + k;
      const m3 = await variant(i);
      // throws if Bob refused the variant: he does not, it is as valid as the honest one
      const sas = i % 256 === 0 ? (await bobFinishes(m3)).sas : await bobChecks(m3);
      bobSasValues.add(sasText(sas));
      v1StyleSas.add(toHex((await sha256(concatBytes(transcript12, m3))).subarray(0, 6)));
    }));
  }
  assert.equal(v1StyleSas.size > VARIANTS - 4, true, `the variants are distinct transcripts (${v1StyleSas.size})`);
  assert.deepEqual([...bobSasValues], [bobSas], 'every accepted variant leaves Bob with the same SAS');
  assert.notEqual(bobSas, aliceSas, 'the relay could not make the two SASes match');
  // The emoji and the decimal forms differ separately too (each is enough alone).
  assert.notEqual(honest.sas.emojiText, A.sas.emojiText);
  assert.notEqual(honest.sas.decimalText, A.sas.decimalText);

  // A variant that reveals another sA (the one lever that would move the SAS) is refused.
  for (let i = 0; i < 256; i += 1) {
    const otherReveal = encodeInitiatorFinishReveal(Uint8Array.from({ length: 32 }, (_, j) => (i + j) & 0xff));
    const signature = await relayA.sign(signatureInput('initiator', await sha256(concatBytes(transcript12, otherReveal))));
    const signed = concatBytes(otherReveal, field(signature));
    const finished = await hmacSha256(initiatorFinishedKey, await sha256(concatBytes(transcript12, signed)));
    await assert.rejects(bobFinishes(concatBytes(signed, field(finished))), isReason('bad_commitment'));
  }
});

test('SAS grinding with 2^16 variants of message 2: Alice\'s SAS cannot be computed before she reveals sA', { timeout: 600_000 }, async () => {
  // Leg relay ↔ Bob first: Bob's SAS is the target the relay wants Alice to see.
  const relayToBob = createInitiator({
    sessionId: SESSION, suite: 1, localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: FP_RELAY_AS_A, peerFingerprint: FP_B, sign: relayA.sign, verify: bob.verify,
  });
  const B = createResponder({
    sessionId: SESSION, supportedSuites: [1], localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: FP_B, peerFingerprint: FP_RELAY_AS_A, sign: bob.sign, verify: relayA.verify,
  });
  await runHandshake(relayToBob, B);
  const target = sasText(B.sas);

  // Alice's message 1: all the relay knows of sA is commit_A.
  const A = createInitiator({
    sessionId: SESSION, suite: 1, localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: FP_A, peerFingerprint: FP_RELAY_AS_B, sign: alice.sign, verify: relayB.verify,
  });
  const m1 = await A.start();
  const { commitment } = decodeInitiatorHello(m1);
  const relayEphemeral = await rawX25519(0x43);
  const relayNonce = new Uint8Array(32).fill(0x11);

  // The relay grinds sB over 2^16 variants and scores each with everything it holds; lacking
  // sA it must stand in something for it (here the commitment, its only sA-dependent value).
  let best = null;
  const predictions = new Set();
  const batch = 512;
  for (let start = 0; start < VARIANTS; start += batch) {
    await Promise.all(Array.from({ length: batch }, async (_, k) => {
      const i = start + k;
      const sB = Uint8Array.from({ length: 32 }, (_, j) => (j < 2 ? [i >>> 8, i & 0xff][j] : 0x5a));
      const keyShare = concatBytes(Uint8Array.of(2, 2), field(relayNonce), field(relayEphemeral.publicKey), field(sB));
      const predicted = computeSas((await deriveSasBytes({
        keyShareTranscriptHash: await sha256(concatBytes(m1, keyShare)), initiatorSasSecret: commitment, responderSasSecret: sB,
      })).sasBytes);
      predictions.add(sasText(predicted));
      const score = predicted.emoji.filter((e, n) => e.index === B.sas.emoji[n].index).length;
      if (!best || score > best.score) best = { score, sB, predicted: sasText(predicted) };
    }));
  }
  assert.ok(predictions.size > VARIANTS - 4, 'the relay can steer its prediction freely');

  // It sends its best variant as a real message 2 (through the same code path Bob's endpoint
  // uses, with the relay's key share and sB), and Alice answers.
  const relayAsBob = await respondToInitiatorHello({
    message: m1, sessionId: SESSION, localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: fromHex(FP_RELAY_AS_B), peerFingerprint: fromHex(FP_A), supportedSuites: [1], sign: relayB.sign,
    testing: { sasSecret: best.sB, nonce: relayNonce, ephemeralKey: relayEphemeral },
  });
  const { reply: m3 } = await A.receiveHandshake({ message: relayAsBob.message });
  assert.equal(A.state, 'secure', 'Alice accepts the relay\'s certificate (first contact): only the SAS can reveal it');
  const aliceSas = sasText(A.sas);
  assert.notEqual(aliceSas, best.predicted, 'the prediction without sA was worthless');
  assert.notEqual(aliceSas, target, 'Alice\'s SAS does not match Bob\'s: comparing them exposes the relay');
  // Only with sA — revealed in message 3, after message 2 was fixed — does the relay learn it.
  const { sasSecret: revealed } = decodeInitiatorFinish(m3);
  const afterReveal = computeSas((await deriveSasBytes({
    keyShareTranscriptHash: await sha256(concatBytes(m1, relayAsBob.message.subarray(0, decodeResponderHello(relayAsBob.message, { suite: 1 }).keyShareEnd))),
    initiatorSasSecret: revealed, responderSasSecret: best.sB,
  })).sasBytes);
  assert.equal(sasText(afterReveal), aliceSas);
  assert.deepEqual(await sasCommitment(revealed), commitment);
});

test('the SAS depends on sA and sB only through the committed values: same M1/M2, other sA → other SAS (A is bound by commit_A)', async () => {
  const first = makeParties({ initiator: { testing: { sasSecret: new Uint8Array(32).fill(1) } } });
  const second = makeParties({ initiator: { testing: { sasSecret: new Uint8Array(32).fill(2) } } });
  await runHandshake(first.A, first.B);
  await runHandshake(second.A, second.B);
  assert.notEqual(sasText(first.A.sas), sasText(second.A.sas));
  assert.equal(sasText(first.A.sas), sasText(first.B.sas));
});

test('bad_commitment: message 3 revealing an sA that does not open commit_A aborts Bob, even with valid signature and Finished', async () => {
  // The initiator endpoint itself never does this; a peer (or relay) holding the initiator's
  // keys would. Re-sign and re-MAC with Alice's keys through the real processResponderHello.
  const { A, B } = makeParties({ initiator: { testing: { sasSecret: new Uint8Array(32).fill(7) } } });
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  // A second initiator state with the same ephemeral key but another sA: its M3 is internally
  // valid (signature and Finished over its own reveal) but opens no commitment of M1.
  const ephemeral = await rawX25519(0x44);
  const honest = makeParties({ initiator: { testing: { ephemeralKey: ephemeral, sasSecret: new Uint8Array(32).fill(7) } } });
  const m1b = await honest.A.start();
  const { reply: m2b } = await honest.B.receiveHandshake({ message: m1b });
  const forged = await processResponderHello({
    message: m2b, sign: alice.sign, verify: bob.verify,
    pending: { suite: 1, privateKey: (await importEphemeralKeyPairForTesting(1, ephemeral)).privateKey, nonce: decodeInitiatorHello(m1b).nonce, sasSecret: new Uint8Array(32).fill(8), message1: m1b },
  });
  await assert.rejects(honest.B.receiveHandshake({ message: forged.message }), isReason('bad_commitment'));
  assert.equal(honest.B.state, 'compromised');
  assert.equal(honest.B.sas, null);
  // and a reveal flipped in flight on the ordinary pair
  const { reply: m3 } = await A.receiveHandshake({ message: m2 });
  await assert.rejects(B.receiveHandshake({ message: flipBit(m3, 4) }), isReason('bad_commitment'));
  assert.equal(B.state, 'compromised');
});

test('version 1 messages are refused with unsupported_version on both sides, before any processing', async () => {
  const { A, B } = makeParties();
  const m1 = await A.start();
  const old = Uint8Array.from(m1); old[0] = 1;
  await assert.rejects(B.receiveHandshake({ message: old }), isReason('unsupported_version'));
  assert.equal(B.state, 'compromised');
  assert.equal(B.teardownReason, 'unsupported_version');
  // A genuine version-1 initiator_hello (its exact v1 layout, no usernames and no commitment).
  const v1Hello = concatBytes(Uint8Array.of(1, 1, 1), field(utf8('test-session')), field(new Uint8Array(32)),
    field(new Uint8Array(32).fill(9)), field(Uint8Array.from(Buffer.from(FP_A, 'hex'))), field(Uint8Array.from(Buffer.from(FP_B, 'hex'))));
  const fresh = makeParties();
  await assert.rejects(fresh.B.receiveHandshake({ message: v1Hello }), isReason('unsupported_version'));
  // a version-1 responder_hello reaching the initiator
  const other = makeParties();
  const m1b = await other.A.start();
  const { reply: m2 } = await other.B.receiveHandshake({ message: m1b });
  const oldReply = Uint8Array.from(m2); oldReply[0] = 1;
  await assert.rejects(other.A.receiveHandshake({ message: oldReply }), isReason('unsupported_version'));
  assert.equal(other.A.teardownReason, 'unsupported_version');
});

test('username misbinding: the server presents Alice\'s real certificate under "carol" → username_mismatch, never secure', async () => {
  // Bob was offered "carol" with Alice's fingerprint; Alice's M1 names herself "alice".
  const { A, B } = makeParties({ responder: { peerUsername: 'carol' } });
  await assert.rejects(B.receiveHandshake({ message: await A.start() }), isReason('username_mismatch'));
  assert.equal(B.state, 'compromised');
  // Alice was told Bob is "carol": her M1 names the responder "carol", Bob knows he is "bob".
  const other = makeParties({ initiator: { peerUsername: 'carol' } });
  await assert.rejects(other.B.receiveHandshake({ message: await other.A.start() }), isReason('username_mismatch'));
  // Usernames are compared exactly (the server sends its canonical spelling to both sides).
  const cased = makeParties({ responder: { peerUsername: 'Alice' } });
  await assert.rejects(cased.B.receiveHandshake({ message: await cased.A.start() }), isReason('username_mismatch'));
  // Invalid names are refused when the endpoint is created.
  assert.throws(() => makeParties({ initiator: { localUsername: 'a b' } }), isReason('invalid_argument'));
  assert.throws(() => makeParties({ responder: { peerUsername: undefined } }), isReason('invalid_argument'));
});

test('a relay rewriting a username in M1 (to a valid name) is caught: by Bob\'s check, or by the signatures over the transcript', async () => {
  const { A, B } = makeParties({ responder: { localUsername: 'bob', peerUsername: 'alicf' } });
  const m1 = await A.start();
  const hello = decodeInitiatorHello(m1);
  const at = 3 + 2 + utf8(hello.sessionId).length + 2; // first byte of username_A
  const rewritten = Uint8Array.from(m1); rewritten[at + 4] = 'f'.charCodeAt(0); // "alice" → "alicf"
  const { reply: m2 } = await B.receiveHandshake({ message: rewritten }); // Bob was told "alicf"
  await assert.rejects(A.receiveHandshake({ message: m2 }), isReason('bad_signature'), 'Bob signed a transcript naming "alicf"');
  assert.equal(A.state, 'compromised');
});

test('bit flips in every new field (usernames, commit_A, sB, sA) stop the handshake', async () => {
  const probe = makeParties();
  const { m1, m2, m3 } = await runHandshake(probe.A, probe.B);
  const hello = decodeInitiatorHello(m1);
  const usernamesStart = 3 + 2 + utf8(hello.sessionId).length;
  const usernamesEnd = usernamesStart + 2 + 5 + 2 + 3;
  const commitStart = m1.length - 32;
  const reply = decodeResponderHello(m2, { suite: 1 });
  const sBStart = reply.keyShareEnd - 32;
  const sAStart = 4;
  const cases = [];
  for (let p = usernamesStart; p < usernamesEnd; p += 1) cases.push([1, p]);
  for (let p = commitStart; p < m1.length; p += 1) cases.push([1, p]);
  for (let p = sBStart; p < reply.keyShareEnd; p += 1) cases.push([2, p]);
  for (let p = sAStart; p < sAStart + 32; p += 1) cases.push([3, p]);
  assert.equal(cases.length, (usernamesEnd - usernamesStart) + 32 * 3);
  for (const [index, position] of cases) {
    const { A, B } = makeParties();
    const run = runHandshake(A, B, (i, bytes) => (i === index ? flipBit(bytes, position, position % 8) : bytes));
    await assert.rejects(run, (e) => e instanceof ChannelError, `flip in m${index} at ${position}`);
    assert.ok(A.state !== 'secure' || B.state !== 'secure', `m${index}[${position}] flipped, both secure`);
    assert.notEqual(B.state, 'secure', `m${index}[${position}] flipped, Bob secure`);
  }
});
