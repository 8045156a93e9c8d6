// SIGMA-style signed ephemeral ECDH (DESIGN.md §7, docs/protocol.md §4), three messages:
//
//   1  A → B  initiator_hello  : version, suite, session id, nA, eA, FP_A, FP_B
//   2  B → A  responder_hello  : nB, eB, sig_B, finished_B
//   3  A → B  initiator_finish : sig_A, finished_A
//
// Transcript hashes are SHA-256 over prefixes of M1 ‖ M2 ‖ M3 (the canonical encodings):
//   TH_keyshare     = H(M1 ‖ M2[..eB])          signed by B, context of the finished keys
//   TH_r_finished   = H(M1 ‖ M2[..sig_B])       MACed by B
//   TH_i_signature  = H(M1 ‖ M2)                signed by A
//   TH_i_finished   = H(M1 ‖ M2 ‖ M3[..sig_A])  MACed by A
//   TH_final        = H(M1 ‖ M2 ‖ M3)           context of the session secrets and SAS
//
// Each signature (by the long-term OpenPGP key, through the injected signer) binds that side's
// identity to both ephemerals, both nonces and both fingerprints; each Finished MAC (keyed from
// the ECDH) proves possession of the shared secret. Verification goes through the injected
// verifier bound to the peer's ACCEPTED certificate and fails closed: anything but `true` aborts.
import { ChannelError } from './errors.js';
import { concatBytes, bytesEqual, utf8, zeroize } from './bytes.js';
import {
  Limits, decodeInitiatorFinish, decodeInitiatorHello, decodeResponderHello,
  encodeFinishedField, encodeInitiatorFinishHeader, encodeInitiatorHello,
  encodeResponderHelloKeyShare, encodeSignatureField,
} from './encoding.js';
import {
  deriveSharedSecret, generateEphemeralKeyPair, importEphemeralKeyPairForTesting, importPeerPublicKey,
} from './suites.js';
import {
  deriveHandshakeSecrets, deriveSessionSecrets, deriveTrafficKeys, hmacSha256, hmacSha256Verify,
  importHmacKey, sha256, zeroizeSecrets,
} from './key-schedule.js';
import { computeSas } from './sas.js';

export const RoleByte = Object.freeze({ initiator: 0x01, responder: 0x02 });

export const SignatureLabel = Object.freeze({
  initiator: 'secms v1 initiator signature',
  responder: 'secms v1 responder signature',
});

/** Signed data: label ‖ 0x00 ‖ role ‖ TH (the zero byte ends the label, as in RFC 8446 §4.4.3). */
export function signatureInput(role, transcriptHash) {
  return concatBytes(utf8(SignatureLabel[role]), Uint8Array.of(0x00, RoleByte[role]), transcriptHash);
}

async function makeEphemeral(suite, testingKey) {
  return testingKey ? importEphemeralKeyPairForTesting(suite, testingKey) : generateEphemeralKeyPair(suite);
}

function makeNonce(testingNonce) {
  if (testingNonce) {
    if (!(testingNonce instanceof Uint8Array) || testingNonce.length !== Limits.nonceBytes) {
      throw new ChannelError('invalid_argument', 'testing nonce must be 32 bytes');
    }
    return Uint8Array.from(testingNonce);
  }
  return globalThis.crypto.getRandomValues(new Uint8Array(Limits.nonceBytes));
}

async function signOrFail(sign, data) {
  let signature;
  try {
    signature = await sign(data);
  } catch (error) {
    throw new ChannelError('signer_failed', 'sign() threw', { cause: error });
  }
  if (!(signature instanceof Uint8Array)) throw new ChannelError('signer_failed', 'sign() must return a Uint8Array');
  return signature;
}

/** Fail closed: only a literal `true` from the verifier counts as a valid signature. */
async function verifyOrFail(verify, data, signature, who) {
  let verdict = false;
  try {
    verdict = await verify({ data, signature });
  } catch (error) {
    throw new ChannelError('bad_signature', `${who} signature`, { cause: error });
  }
  if (verdict !== true) throw new ChannelError('bad_signature', `${who} signature`);
}

/** ECDH + handshake-stage secrets; the raw shared secret is wiped before this returns. */
async function computeHandshakeStage({ suite, privateKey, peerPublicKey, initiatorNonce, responderNonce, keyShareTranscriptHash }) {
  const peerKey = await importPeerPublicKey(suite, peerPublicKey);
  const sharedSecret = await deriveSharedSecret(suite, privateKey, peerKey);
  try {
    return await deriveHandshakeSecrets({ sharedSecret, initiatorNonce, responderNonce, keyShareTranscriptHash });
  } finally {
    zeroize(sharedSecret);
  }
}

/**
 * Session stage: returns the material the record layer needs, with every raw secret already
 * imported (AES keys non-extractable; exporter and chain secrets as non-extractable HMAC keys)
 * and wiped.
 */
export async function establishSession({ handshakeSecret, finalTranscriptHash }) {
  const secrets = await deriveSessionSecrets({ handshakeSecret, finalTranscriptHash });
  try {
    const i2r = await deriveTrafficKeys(secrets.initiatorToResponderTrafficSecret);
    const r2i = await deriveTrafficKeys(secrets.responderToInitiatorTrafficSecret);
    return {
      initiatorToResponder: i2r, // { key: raw (wiped by importRecordKey), iv }
      responderToInitiator: r2i,
      exporterKey: await importHmacKey(secrets.exporterSecret),
      rekeyChainKey: await importHmacKey(secrets.rekeyChainSecret),
      sas: computeSas(secrets.sasBytes),
    };
  } finally {
    zeroizeSecrets(secrets);
  }
}

/** Message 1. Returns the message and what the initiator keeps until message 2. */
export async function createInitiatorHello({ suite, sessionId, localFingerprint, peerFingerprint, testing }) {
  const ephemeral = await makeEphemeral(suite, testing?.ephemeralKey);
  const nonce = makeNonce(testing?.nonce);
  const message = encodeInitiatorHello({
    suite, sessionId, nonce, ephemeralPublicKey: ephemeral.publicKey,
    initiatorFingerprint: localFingerprint, responderFingerprint: peerFingerprint,
  });
  return { message, pending: { suite, privateKey: ephemeral.privateKey, nonce, message1: message } };
}

/** Responder: checks message 1 and builds message 2. */
export async function respondToInitiatorHello({ message, sessionId, localFingerprint, peerFingerprint, supportedSuites, sign, testing }) {
  const hello = decodeInitiatorHello(message);
  if (!supportedSuites.includes(hello.suite)) throw new ChannelError('unsupported_suite', `suite ${hello.suite}`);
  if (hello.sessionId !== sessionId) throw new ChannelError('wrong_session', 'initiator_hello');
  // The fingerprints must name exactly the two certificates this side accepted: a substituted
  // certificate or a message meant for someone else stops here (and is in every signature).
  if (!bytesEqual(hello.initiatorFingerprint, peerFingerprint)) throw new ChannelError('fingerprint_mismatch', 'FP_A is not the accepted peer certificate');
  if (!bytesEqual(hello.responderFingerprint, localFingerprint)) throw new ChannelError('fingerprint_mismatch', 'FP_B is not this side\'s certificate');

  let ephemeral = await makeEphemeral(hello.suite, testing?.ephemeralKey);
  const nonce = makeNonce(testing?.nonce);
  const keyShare = encodeResponderHelloKeyShare({ suite: hello.suite, nonce, ephemeralPublicKey: ephemeral.publicKey });
  const keyShareTranscriptHash = await sha256(concatBytes(message, keyShare));
  let stage;
  try {
    stage = await computeHandshakeStage({
      suite: hello.suite, privateKey: ephemeral.privateKey, peerPublicKey: hello.ephemeralPublicKey,
      initiatorNonce: hello.nonce, responderNonce: nonce, keyShareTranscriptHash,
    });
  } finally {
    ephemeral = null; // drop the private key: it is used exactly once
  }
  try {
    const signature = await signOrFail(sign, signatureInput('responder', keyShareTranscriptHash));
    const signed = concatBytes(keyShare, encodeSignatureField(signature));
    const finishedTranscriptHash = await sha256(concatBytes(message, signed));
    const finished = await hmacSha256(stage.responderFinishedKey, finishedTranscriptHash);
    const message2 = concatBytes(signed, encodeFinishedField(finished));
    const pending = {
      suite: hello.suite,
      transcript: concatBytes(message, message2),
      handshakeKey: await importHmacKey(stage.handshakeSecret),
      initiatorFinishedKey: await importHmacKey(stage.initiatorFinishedKey),
    };
    return { message: message2, pending };
  } finally {
    zeroizeSecrets(stage);
  }
}

/** Initiator: verifies message 2, builds message 3 and the session. */
export async function processResponderHello({ message, pending, sign, verify }) {
  const reply = decodeResponderHello(message, { suite: pending.suite });
  const keyShareTranscriptHash = await sha256(concatBytes(pending.message1, message.subarray(0, reply.keyShareEnd)));
  const stage = await computeHandshakeStage({
    suite: pending.suite, privateKey: pending.privateKey, peerPublicKey: reply.ephemeralPublicKey,
    initiatorNonce: pending.nonce, responderNonce: reply.nonce, keyShareTranscriptHash,
  });
  pending.privateKey = null;
  try {
    await verifyOrFail(verify, signatureInput('responder', keyShareTranscriptHash), reply.signature, 'responder');
    const responderFinishedTranscriptHash = await sha256(concatBytes(pending.message1, message.subarray(0, reply.signatureEnd)));
    if (!await hmacSha256Verify(stage.responderFinishedKey, responderFinishedTranscriptHash, reply.finished)) {
      throw new ChannelError('bad_finished', 'responder Finished');
    }
    const transcript2 = concatBytes(pending.message1, message);
    const signature = await signOrFail(sign, signatureInput('initiator', await sha256(transcript2)));
    const signed = concatBytes(encodeInitiatorFinishHeader(), encodeSignatureField(signature));
    const finished = await hmacSha256(stage.initiatorFinishedKey, await sha256(concatBytes(transcript2, signed)));
    const message3 = concatBytes(signed, encodeFinishedField(finished));
    const session = await establishSession({
      handshakeSecret: stage.handshakeSecret,
      finalTranscriptHash: await sha256(concatBytes(transcript2, message3)),
    });
    return { message: message3, session };
  } finally {
    zeroizeSecrets(stage);
  }
}

/** Responder: verifies message 3 and builds the session. */
export async function processInitiatorFinish({ message, pending, verify }) {
  const finish = decodeInitiatorFinish(message);
  await verifyOrFail(verify, signatureInput('initiator', await sha256(pending.transcript)), finish.signature, 'initiator');
  const finishedTranscriptHash = await sha256(concatBytes(pending.transcript, message.subarray(0, finish.signatureEnd)));
  if (!await hmacSha256Verify(pending.initiatorFinishedKey, finishedTranscriptHash, finish.finished)) {
    throw new ChannelError('bad_finished', 'initiator Finished');
  }
  return establishSession({
    handshakeSecret: pending.handshakeKey,
    finalTranscriptHash: await sha256(concatBytes(pending.transcript, message)),
  });
}
