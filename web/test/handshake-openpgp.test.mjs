// Full handshake between two in-process parties signing with REAL OpenPGP keys (OpenPGP.js v6,
// v4-format EdDSA-legacy/Ed25519 keys, which librnp 0.16 reads), detached binary signatures,
// verification bound to the peer's ACCEPTED certificate only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { ChannelError, createInitiator, createResponder } from '../src/crypto/protocol/index.js';
import { decodeInitiatorFinish, decodeResponderHello } from '../src/crypto/protocol/encoding.js';
import { handshakeSignatureInput } from '../src/crypto/protocol/signing-contexts.js';
import { concatBytes } from '../src/crypto/protocol/bytes.js';
import { sha256 } from '../src/crypto/protocol/key-schedule.js';
import { text, untext } from './helpers/parties.mjs';
import { createOpenpgpSigner, createOpenpgpVerifier } from '../src/crypto/openpgp-adapter.js';

async function makeIdentity(name) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name.toLowerCase()}@example.org` }], format: 'object',
  });
  return { privateKey, certificate: publicKey, fingerprint: privateKey.getFingerprint() };
}

// The Worker-side adapter lives in web/src/crypto/openpgp-adapter.js (tested there too).
const openpgpSigner = (privateKey) => createOpenpgpSigner({ privateKey });
const openpgpVerifier = (acceptedCertificate) => createOpenpgpVerifier({
  certificate: acceptedCertificate, fingerprint: acceptedCertificate.getFingerprint(),
});

const alice = await makeIdentity('Alice');
const bob = await makeIdentity('Bob');
const mallory = await makeIdentity('Mallory');

function parties({ aliceAccepts = bob, bobAccepts = alice, bobSignsWith = bob } = {}) {
  const A = createInitiator({
    sessionId: 'pgp-session-1', localUsername: 'alice', peerUsername: 'bob', localFingerprint: alice.fingerprint, peerFingerprint: bob.fingerprint,
    sign: openpgpSigner(alice.privateKey), verify: openpgpVerifier(aliceAccepts.certificate),
  });
  const B = createResponder({
    sessionId: 'pgp-session-1', localUsername: 'bob', peerUsername: 'alice', localFingerprint: bob.fingerprint, peerFingerprint: alice.fingerprint,
    sign: openpgpSigner(bobSignsWith.privateKey), verify: openpgpVerifier(bobAccepts.certificate),
  });
  return { A, B };
}

test('OpenPGP keys are v4 EdDSA (Ed25519 legacy) as librnp 0.16 needs', () => {
  for (const identity of [alice, bob]) {
    assert.equal(identity.privateKey.keyPacket.version, 4);
    assert.equal(identity.privateKey.getAlgorithmInfo().algorithm, 'eddsaLegacy');
    assert.equal(identity.fingerprint.length, 40);
  }
});

for (const suite of [1, 2]) {
  test(`handshake with real OpenPGP signatures (suite ${suite}) reaches secure, equal SAS, records flow`, async () => {
    const A = createInitiator({
      sessionId: 'pgp-session-1', suite, localUsername: 'alice', peerUsername: 'bob', localFingerprint: alice.fingerprint, peerFingerprint: bob.fingerprint,
      sign: openpgpSigner(alice.privateKey), verify: openpgpVerifier(bob.certificate),
    });
    const B = createResponder({
      sessionId: 'pgp-session-1', localUsername: 'bob', peerUsername: 'alice', localFingerprint: bob.fingerprint, peerFingerprint: alice.fingerprint,
      sign: openpgpSigner(bob.privateKey), verify: openpgpVerifier(alice.certificate),
    });
    const m1 = await A.start();
    const { reply: m2 } = await B.receiveHandshake({ message: m1 });
    const { reply: m3 } = await A.receiveHandshake({ message: m2 });
    await B.receiveHandshake({ message: m3 });
    assert.equal(A.state, 'secure');
    assert.equal(B.state, 'secure');
    assert.equal(A.suite, suite);
    assert.deepEqual(A.sas, B.sas);
    // The signature in message 2 is a real OpenPGP detached signature issued by Bob's key.
    const reply = decodeResponderHello(m2, { suite });
    const signature = await openpgp.readSignature({ binarySignature: reply.signature });
    assert.equal(signature.getSigningKeyIDs()[0].toHex(), bob.privateKey.getKeyID().toHex());
    // What each key signed is exactly the 59-byte handshake signature input of signing-contexts.js:
    // role 2 over TH_keyshare = H(M1 ‖ M2[..sB]); role 1 over H(M1 ‖ M2 ‖ M3[..sA]).
    const finish = decodeInitiatorFinish(m3);
    const signedBy = async (binarySignature, data, certificate) => {
      const result = await openpgp.verify({
        message: await openpgp.createMessage({ binary: data }), signature: await openpgp.readSignature({ binarySignature }),
        verificationKeys: certificate, format: 'binary',
      });
      return result.signatures[0].verified;
    };
    const responderInput = handshakeSignatureInput({ role: 2, transcriptHash: await sha256(concatBytes(m1, m2.subarray(0, reply.keyShareEnd))) });
    const initiatorInput = handshakeSignatureInput({ role: 1, transcriptHash: await sha256(concatBytes(m1, m2, m3.subarray(0, finish.revealEnd))) });
    assert.equal(responderInput.length, 59);
    assert.equal(responderInput[0], 0xff);
    assert.equal(await signedBy(reply.signature, responderInput, bob.certificate), true);
    assert.equal(await signedBy(finish.signature, initiatorInput, alice.certificate), true);
    const record = await A.seal({ plaintext: text('hello Bob') });
    const opened = await B.open({ record });
    assert.equal(untext(opened.plaintext), 'hello Bob');
    const back = await A.open({ record: await B.seal({ plaintext: text('hello Alice') }) });
    assert.equal(untext(back.plaintext), 'hello Alice');
  });
}

test('substituted peer certificate: Alice verifies against a different key than the signer → bad_signature, never secure', async () => {
  // Alice's verifier is bound to Mallory's certificate while the real Bob signs.
  const { A, B } = parties({ aliceAccepts: mallory });
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  await assert.rejects(A.receiveHandshake({ message: m2 }), (e) => e instanceof ChannelError && e.reason === 'bad_signature');
  assert.equal(A.state, 'compromised');
});

test('impostor signs as Bob with her own key → Alice (bound to Bob\'s certificate) refuses', async () => {
  const { A, B } = parties({ bobSignsWith: mallory });
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  await assert.rejects(A.receiveHandshake({ message: m2 }), (e) => e.reason === 'bad_signature');
  assert.equal(A.state, 'compromised');
});

test('Bob bound to the wrong certificate for Alice refuses message 3', async () => {
  const { A, B } = parties({ bobAccepts: mallory });
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  const { reply: m3 } = await A.receiveHandshake({ message: m2 });
  await assert.rejects(B.receiveHandshake({ message: m3 }), (e) => e.reason === 'bad_signature');
  assert.equal(B.state, 'compromised');
  assert.equal(B.sas, null);
});
