// SIGMA-style signed ephemeral ECDH with a ZRTP-style SAS commitment (DESIGN.md §7,
// docs/protocol.md §4), handshake version 2, three messages:
//
//   1  A → B  initiator_hello  : version, suite, session id, username_A, username_B, nA, eA,
//                                FP_A, FP_B, commit_A = H("secms v2 sas commit" ‖ 0x00 ‖ sA)
//   2  B → A  responder_hello  : nB, eB, sB, sig_B, finished_B
//   3  A → B  initiator_finish : sA, sig_A, finished_A
//
// Transcript hashes are SHA-256 over prefixes of M1 ‖ M2 ‖ M3 (the canonical encodings):
//   TH_keyshare     = H(M1 ‖ M2[..sB])          signed by B; context of the finished keys; SAS salt
//   TH_r_finished   = H(M1 ‖ M2[..sig_B])       MACed by B
//   TH_i_signature  = H(M1 ‖ M2 ‖ M3[..sA])     signed by A
//   TH_i_finished   = H(M1 ‖ M2 ‖ M3[..sig_A])  MACed by A
//   TH_final        = H(M1 ‖ M2 ‖ M3)           context of the session secrets
//
// Each signature (by the long-term OpenPGP key, through the injected signer, over the fixed
// handshakeSignatureInput of signing-contexts.js) binds that side's identity to both usernames,
// both ephemerals, both nonces, both fingerprints and the SAS commitment; each Finished MAC
// (keyed from the ECDH) proves possession of the shared secret. Verification goes through the
// injected verifier bound to the peer's ACCEPTED certificate and fails closed.
//
// The SAS comes only from sA, sB and TH_keyshare (key-schedule.js deriveSasBytes): A is bound
// to sA by commit_A before it sees sB, and B picks sB seeing only commit_A, so whoever sends M3
// last cannot grind the SAS by varying it (the v1 SAS hashed all of M3).
import { ChannelError } from './errors.js';
import { concatBytes, bytesEqual, zeroize } from './bytes.js';
import {
  decodeInitiatorFinish, decodeInitiatorHello, decodeResponderHello,
  encodeFinishedField, encodeInitiatorFinishReveal, encodeInitiatorHello,
  encodeResponderHelloKeyShare, encodeSignatureField,
} from './encoding.js';
import {
  deriveSharedSecret, generateEphemeralKeyPair, importEphemeralKeyPairForTesting, importPeerPublicKey,
} from './suites.js';
import {
  deriveHandshakeSecrets, deriveSasBytes, deriveSessionSecrets, deriveTrafficKeys, hmacSha256, hmacSha256Verify,
  importHmacKey, sasCommitment, sha256, zeroizeSecrets,
} from './key-schedule.js';
import { computeSas } from './sas.js';
import { SignatureRole, handshakeSignatureInput } from './signing-contexts.js';

/** The exact bytes each side signs (docs/protocol.md "Signing contexts"). */
export function signatureInput(role, transcriptHash) {
  return handshakeSignatureInput({ role: SignatureRole[role], transcriptHash });
}

async function makeEphemeral(suite, testingKey) {
  return testingKey ? importEphemeralKeyPairForTesting(suite, testingKey) : generateEphemeralKeyPair(suite);
}

function makeRandom32(testingValue, what) {
  if (testingValue) {
    if (!(testingValue instanceof Uint8Array) || testingValue.length !== 32) {
      throw new ChannelError('invalid_argument', `testing ${what} must be 32 bytes`);
    }
    return Uint8Array.from(testingValue);
  }
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

const makeNonce = (testingNonce) => makeRandom32(testingNonce, 'nonce');
const makeSasSecret = (testingSecret) => makeRandom32(testingSecret, 'sasSecret');

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

/** The SAS from the committed values; the raw bytes are wiped once the words are chosen. */
async function computeCommittedSas({ keyShareTranscriptHash, initiatorSasSecret, responderSasSecret }) {
  const derived = await deriveSasBytes({ keyShareTranscriptHash, initiatorSasSecret, responderSasSecret });
  try {
    return computeSas(derived.sasBytes);
  } finally {
    zeroizeSecrets(derived);
  }
}

/**
 * Session stage: returns the material the record layer needs, with every raw secret already
 * imported (AES keys non-extractable; exporter and chain secrets as non-extractable HMAC keys)
 * and wiped. `sas` was computed earlier from the committed values only.
 */
export async function establishSession({ handshakeSecret, finalTranscriptHash, sas }) {
  const secrets = await deriveSessionSecrets({ handshakeSecret, finalTranscriptHash });
  try {
    const i2r = await deriveTrafficKeys(secrets.initiatorToResponderTrafficSecret);
    const r2i = await deriveTrafficKeys(secrets.responderToInitiatorTrafficSecret);
    return {
      initiatorToResponder: i2r, // { key: raw (wiped by importRecordKey), iv }
      responderToInitiator: r2i,
      exporterKey: await importHmacKey(secrets.exporterSecret),
      rekeyChainKey: await importHmacKey(secrets.rekeyChainSecret),
      sas,
    };
  } finally {
    zeroizeSecrets(secrets);
  }
}

/** Message 1. Returns the message and what the initiator keeps until message 2. */
export async function createInitiatorHello({ suite, sessionId, localUsername, peerUsername, localFingerprint, peerFingerprint, testing }) {
  const ephemeral = await makeEphemeral(suite, testing?.ephemeralKey);
  const nonce = makeNonce(testing?.nonce);
  const sasSecret = makeSasSecret(testing?.sasSecret);
  const message = encodeInitiatorHello({
    suite, sessionId, initiatorUsername: localUsername, responderUsername: peerUsername,
    nonce, ephemeralPublicKey: ephemeral.publicKey,
    initiatorFingerprint: localFingerprint, responderFingerprint: peerFingerprint,
    commitment: await sasCommitment(sasSecret),
  });
  return { message, pending: { suite, privateKey: ephemeral.privateKey, nonce, sasSecret, message1: message } };
}

/** Responder: checks message 1 and builds message 2. */
export async function respondToInitiatorHello({
  message, sessionId, localUsername, peerUsername, localFingerprint, peerFingerprint, supportedSuites, sign, testing,
}) {
  const hello = decodeInitiatorHello(message);
  if (!supportedSuites.includes(hello.suite)) throw new ChannelError('unsupported_suite', `suite ${hello.suite}`);
  if (hello.sessionId !== sessionId) throw new ChannelError('wrong_session', 'initiator_hello');
  // Both names must be the ones this side's server offer gave: the server presenting a real
  // certificate under another user's name stops here (and the names are in every signature).
  if (hello.initiatorUsername !== peerUsername) throw new ChannelError('username_mismatch', 'username_A is not the peer this side was offered');
  if (hello.responderUsername !== localUsername) throw new ChannelError('username_mismatch', 'username_B is not this side\'s username');
  // The fingerprints must name exactly the two certificates this side accepted: a substituted
  // certificate or a message meant for someone else stops here (and is in every signature).
  if (!bytesEqual(hello.initiatorFingerprint, peerFingerprint)) throw new ChannelError('fingerprint_mismatch', 'FP_A is not the accepted peer certificate');
  if (!bytesEqual(hello.responderFingerprint, localFingerprint)) throw new ChannelError('fingerprint_mismatch', 'FP_B is not this side\'s certificate');

  let ephemeral = await makeEphemeral(hello.suite, testing?.ephemeralKey);
  const nonce = makeNonce(testing?.nonce);
  // sB is chosen here, knowing only commit_A: it cannot depend on sA.
  const sasSecret = makeSasSecret(testing?.sasSecret);
  const keyShare = encodeResponderHelloKeyShare({ suite: hello.suite, nonce, ephemeralPublicKey: ephemeral.publicKey, sasSecret });
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
      keyShareTranscriptHash,
      commitment: hello.commitment,
      sasSecret,
      handshakeKey: await importHmacKey(stage.handshakeSecret),
      initiatorFinishedKey: await importHmacKey(stage.initiatorFinishedKey),
    };
    return { message: message2, pending };
  } finally {
    zeroizeSecrets(stage);
  }
}

/** Initiator: verifies message 2, builds message 3 (revealing sA) and the session. */
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
    const sas = await computeCommittedSas({
      keyShareTranscriptHash, initiatorSasSecret: pending.sasSecret, responderSasSecret: reply.sasSecret,
    });
    const reveal = encodeInitiatorFinishReveal(pending.sasSecret);
    const transcriptToReveal = concatBytes(pending.message1, message, reveal);
    const signature = await signOrFail(sign, signatureInput('initiator', await sha256(transcriptToReveal)));
    const signed = concatBytes(reveal, encodeSignatureField(signature));
    const finished = await hmacSha256(stage.initiatorFinishedKey, await sha256(concatBytes(pending.message1, message, signed)));
    const message3 = concatBytes(signed, encodeFinishedField(finished));
    const session = await establishSession({
      handshakeSecret: stage.handshakeSecret,
      finalTranscriptHash: await sha256(concatBytes(pending.message1, message, message3)),
      sas,
    });
    return { message: message3, session };
  } finally {
    zeroizeSecrets(stage);
    zeroize(pending.sasSecret);
  }
}

/**
 * Responder, first half of message 3: every check (commitment, signature, Finished) and the SAS,
 * which depends on nothing in message 3 but sA. Split out so the tests can drive many message-3
 * variants through exactly these checks cheaply; processInitiatorFinish is this plus the session.
 */
export async function checkInitiatorFinish({ message, pending, verify }) {
  const finish = decodeInitiatorFinish(message);
  // The reveal must open the commitment of message 1 before anything else counts: otherwise
  // the sender of message 3 could pick sA after seeing sB.
  if (!bytesEqual(await sasCommitment(finish.sasSecret), pending.commitment)) {
    throw new ChannelError('bad_commitment', 'sA does not open commit_A');
  }
  await verifyOrFail(verify, signatureInput('initiator', await sha256(concatBytes(pending.transcript, message.subarray(0, finish.revealEnd)))), finish.signature, 'initiator');
  const finishedTranscriptHash = await sha256(concatBytes(pending.transcript, message.subarray(0, finish.signatureEnd)));
  if (!await hmacSha256Verify(pending.initiatorFinishedKey, finishedTranscriptHash, finish.finished)) {
    throw new ChannelError('bad_finished', 'initiator Finished');
  }
  return computeCommittedSas({
    keyShareTranscriptHash: pending.keyShareTranscriptHash, initiatorSasSecret: finish.sasSecret, responderSasSecret: pending.sasSecret,
  });
}

/** Responder: checks message 3 (checkInitiatorFinish) and builds the session. */
export async function processInitiatorFinish({ message, pending, verify }) {
  try {
    const sas = await checkInitiatorFinish({ message, pending, verify });
    return await establishSession({
      handshakeSecret: pending.handshakeKey,
      finalTranscriptHash: await sha256(concatBytes(pending.transcript, message)),
      sas,
    });
  } finally {
    zeroize(pending.sasSecret);
  }
}
