// Test helpers: two in-process parties with deterministic HMAC test signers (no OpenPGP), so
// negative tests run fast; the real OpenPGP signer is in handshake-openpgp.test.mjs.
import { createInitiator, createResponder } from '../../src/crypto/protocol/index.js';
import { fromHex } from '../../src/crypto/protocol/bytes.js';
import { hmacTestSigner } from '../vectors/channel-kat.mjs';

export const FP_A = 'a1'.repeat(20);
export const FP_B = 'b2'.repeat(20);
export const FP_MALLORY = 'ee'.repeat(20);

export const signers = {
  alice: await hmacTestSigner('alice'),
  bob: await hmacTestSigner('bob'),
  mallory: await hmacTestSigner('mallory'),
};

/**
 * Alice (initiator) and Bob (responder), each verifying the other's accepted "certificate"
 * (here: the HMAC key standing for it). Any option can be overridden per side.
 */
export function makeParties({ suite = 1, sessionId = 'test-session', initiator = {}, responder = {} } = {}) {
  const A = createInitiator({
    sessionId, suite, localUsername: 'alice', peerUsername: 'bob', localFingerprint: FP_A, peerFingerprint: FP_B,
    sign: signers.alice.sign, verify: signers.bob.verify, ...initiator,
  });
  const B = createResponder({
    sessionId, supportedSuites: [1, 2], localUsername: 'bob', peerUsername: 'alice', localFingerprint: FP_B, peerFingerprint: FP_A,
    sign: signers.bob.sign, verify: signers.alice.verify, ...responder,
  });
  return { A, B };
}

/** Runs the three messages; `tamper(index, bytes)` may alter message 1, 2 or 3 in flight. */
export async function runHandshake(A, B, tamper = (index, bytes) => bytes) {
  const m1 = tamper(1, await A.start());
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  const { reply: m3 } = await A.receiveHandshake({ message: tamper(2, m2) });
  await B.receiveHandshake({ message: tamper(3, m3) });
  return { m1, m2, m3 };
}

export async function secureParties(options) {
  const parties = makeParties(options);
  await runHandshake(parties.A, parties.B);
  return parties;
}

export function flipBit(bytes, index, bit = 0) {
  const copy = Uint8Array.from(bytes);
  copy[index] ^= 1 << bit;
  return copy;
}

export const text = (s) => new TextEncoder().encode(s);
export const untext = (b) => new TextDecoder().decode(b);

export { fromHex };
