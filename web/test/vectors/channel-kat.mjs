// Recomputes the secure-channel known-answer values from fixed inputs. Shared by the vector
// generator (make-channel-vectors.mjs, run once, output committed to tests/vectors/channel/),
// the Node tests and the Chromium run (tests/e2e/protocol-vectors.test.mjs), so the same
// computation is compared against the committed files in both runtimes.
// Runtime-neutral: WebCrypto only, no fs.
import { createInitiator, createResponder } from '../../src/crypto/protocol/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/crypto/protocol/bytes.js';
import { decodeInitiatorFinish, decodeInitiatorHello, decodeResponderHello } from '../../src/crypto/protocol/encoding.js';
import { signatureInput } from '../../src/crypto/protocol/handshake.js';
import {
  deriveHandshakeSecrets, deriveRekeySecrets, deriveSasBytes, deriveSessionSecrets, deriveTrafficKeys,
  exportKeyingMaterial, hmacSha256, sasCommitment, sha256,
} from '../../src/crypto/protocol/key-schedule.js';
import { RecordType, Direction, openRecord, recordNonce, sealRecord } from '../../src/crypto/protocol/records.js';
import { deriveSharedSecret, importEphemeralKeyPairForTesting, importPeerPublicKey } from '../../src/crypto/protocol/suites.js';
import { computeSas } from '../../src/crypto/protocol/sas.js';

/**
 * Deterministic test signer for KATs: "signature" = HMAC-SHA-256(utf8(signerKey), data).
 * Stands in for the OpenPGP detached signature so vectors stay fixed; the real OpenPGP signer
 * is exercised in handshake-openpgp.test.mjs.
 */
export async function hmacTestSigner(signerKey) {
  const key = await crypto.subtle.importKey('raw', utf8(signerKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  return {
    sign: async (data) => new Uint8Array(await crypto.subtle.sign('HMAC', key, data)),
    verify: async ({ data, signature }) => crypto.subtle.verify('HMAC', key, signature, data),
  };
}

// A call signal of the documented form ("Call signalling"): the plaintext of the type-5 vector.
export const callSignalText = '{"v":1,"call":"00112233445566778899aabbccddeeff","kind":"ringing"}';

const hexKey = (k) => ({ privateKey: fromHex(k.private), publicKey: fromHex(k.public) });

async function rawAesKey(raw) {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** Runs the whole KAT scenario for one input set and returns every value as hex. */
export async function computeChannelVector(inputs) {
  const { suite, sessionId, initiator, responder } = inputs;
  const signerA = await hmacTestSigner(initiator.signerKey);
  const signerB = await hmacTestSigner(responder.signerKey);
  const A = createInitiator({
    sessionId, suite, localUsername: initiator.username, peerUsername: responder.username,
    localFingerprint: initiator.fingerprint, peerFingerprint: responder.fingerprint,
    sign: signerA.sign, verify: signerB.verify,
    testing: {
      ephemeralKey: hexKey(initiator.ephemeralKey), nonce: fromHex(initiator.nonce), sasSecret: fromHex(initiator.sasSecret),
      rekeyEphemeralKeys: [hexKey(initiator.rekeyEphemeralKey)],
    },
  });
  const B = createResponder({
    sessionId, supportedSuites: [suite], localUsername: responder.username, peerUsername: initiator.username,
    localFingerprint: responder.fingerprint, peerFingerprint: initiator.fingerprint,
    sign: signerB.sign, verify: signerA.verify,
    testing: {
      ephemeralKey: hexKey(responder.ephemeralKey), nonce: fromHex(responder.nonce), sasSecret: fromHex(responder.sasSecret),
      rekeyEphemeralKeys: [hexKey(responder.rekeyEphemeralKey)],
    },
  });

  // --- handshake through the endpoints ---
  const m1 = await A.start();
  const { reply: m2 } = await B.receiveHandshake({ message: m1 });
  const { reply: m3 } = await A.receiveHandshake({ message: m2 });
  await B.receiveHandshake({ message: m3 });

  // --- every intermediate value, recomputed with the pure functions ---
  const hello = decodeInitiatorHello(m1);
  const reply = decodeResponderHello(m2, { suite });
  const finish = decodeInitiatorFinish(m3);
  const thKeyShare = await sha256(concatBytes(m1, m2.subarray(0, reply.keyShareEnd)));
  const thResponderFinished = await sha256(concatBytes(m1, m2.subarray(0, reply.signatureEnd)));
  const thInitiatorSignature = await sha256(concatBytes(m1, m2, m3.subarray(0, finish.revealEnd)));
  const thInitiatorFinished = await sha256(concatBytes(m1, m2, m3.subarray(0, finish.signatureEnd)));
  const thFinal = await sha256(concatBytes(m1, m2, m3));

  const privA = await importEphemeralKeyPairForTesting(suite, hexKey(initiator.ephemeralKey));
  const privB = await importEphemeralKeyPairForTesting(suite, hexKey(responder.ephemeralKey));
  const sharedAB = await deriveSharedSecret(suite, privA.privateKey, await importPeerPublicKey(suite, reply.ephemeralPublicKey));
  const sharedBA = await deriveSharedSecret(suite, privB.privateKey, await importPeerPublicKey(suite, hello.ephemeralPublicKey));
  const hs = await deriveHandshakeSecrets({
    sharedSecret: sharedAB, initiatorNonce: hello.nonce, responderNonce: reply.nonce, keyShareTranscriptHash: thKeyShare,
  });
  const session = await deriveSessionSecrets({ handshakeSecret: hs.handshakeSecret, finalTranscriptHash: thFinal });
  const commitment = await sasCommitment(fromHex(initiator.sasSecret));
  const sasDerivation = await deriveSasBytes({
    keyShareTranscriptHash: thKeyShare, initiatorSasSecret: finish.sasSecret, responderSasSecret: reply.sasSecret,
  });
  const i2r = await deriveTrafficKeys(session.initiatorToResponderTrafficSecret);
  const r2i = await deriveTrafficKeys(session.responderToInitiatorTrafficSecret);
  const responderSignatureInput = signatureInput('responder', thKeyShare);
  const initiatorSignatureInput = signatureInput('initiator', thInitiatorSignature);

  const exporterLabel = 'secms kat exporter';
  const exporterContext = utf8('kat context');
  const exportedA = await A.exportKeyingMaterial({ label: exporterLabel, context: exporterContext, length: 32 });
  const exportedB = await B.exportKeyingMaterial({ label: exporterLabel, context: exporterContext, length: 32 });
  const exportedDirect = await exportKeyingMaterial({ exporterSecret: session.exporterSecret, label: exporterLabel, context: exporterContext, length: 32 });

  // --- records, epoch 0: sealed by the endpoints, opened by the peer, and resealed low-level ---
  const records = [];
  const keysByDirection = {
    [Direction.initiatorToResponder]: { key: await rawAesKey(i2r.key), iv: i2r.iv },
    [Direction.responderToInitiator]: { key: await rawAesKey(r2i.key), iv: r2i.iv },
  };
  async function exchange(sender, receiver, direction, plaintexts, epoch, keys) {
    for (const [sequence, text] of plaintexts.entries()) {
      const plaintext = fromHex(text);
      const record = await sender.seal({ plaintext });
      const opened = await receiver.open({ record });
      const lowLevel = await sealRecord({
        key: keys.key, iv: keys.iv, type: RecordType.data, direction, sessionId, epoch, sequence, plaintext,
      });
      records.push({
        epoch, direction, sequence, type: RecordType.data, plaintext: text,
        nonce: toHex(recordNonce(keys.iv, sequence)),
        record: toHex(record), lowLevelRecord: toHex(lowLevel), opened: toHex(opened.plaintext),
      });
    }
  }
  await exchange(A, B, Direction.initiatorToResponder, inputs.recordPlaintexts.initiator, 0, keysByDirection[Direction.initiatorToResponder]);
  await exchange(B, A, Direction.responderToInitiator, inputs.recordPlaintexts.responder, 0, keysByDirection[Direction.responderToInitiator]);

  // A record far into the sequence space: checks the nonce XOR on the high bytes too.
  const farSequence = 2 ** 40 + 0x01020304;
  const farRecord = await sealRecord({
    ...keysByDirection[Direction.initiatorToResponder], type: RecordType.data,
    direction: Direction.initiatorToResponder, sessionId, epoch: 0, sequence: farSequence, plaintext: utf8('far'),
  });

  // A call record (type 5, docs/protocol.md "Call signalling"): what A would send as its next
  // epoch-0 record. Sealed low-level so the endpoints' sequences, and every value above and
  // below, stay as they were; opened low-level as B would, and once more relabelled as data.
  const callSequence = inputs.recordPlaintexts.initiator.length;
  const callPlaintext = utf8(callSignalText);
  const i2rKeys = keysByDirection[Direction.initiatorToResponder];
  const callRecordBytes = await sealRecord({
    ...i2rKeys, type: RecordType.call, direction: Direction.initiatorToResponder, sessionId, epoch: 0,
    sequence: callSequence, plaintext: callPlaintext,
  });
  const expectedAtCall = { sessionId, direction: Direction.initiatorToResponder, epoch: 0, sequence: callSequence };
  const callOpened = await openRecord({ ...i2rKeys, record: callRecordBytes, expected: expectedAtCall });
  const callRelabelled = Uint8Array.from(callRecordBytes);
  callRelabelled[1] = RecordType.data;
  const callRelabelledOpens = await openRecord({ ...i2rKeys, record: callRelabelled, expected: expectedAtCall })
    .then(() => 'opened', (error) => error.reason);

  // --- re-key, initiated by A ---
  const requestRecord = await A.startRekey();
  const requestOpened = await B.open({ record: requestRecord });
  const responseRecord = requestOpened.reply;
  await A.open({ record: responseRecord });
  // Recompute the epoch-1 secrets: request/response plaintexts come from decrypting the records.
  const requestPlaintext = new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: recordNonce(i2r.iv, inputs.recordPlaintexts.initiator.length), additionalData: requestRecord.subarray(0, headerLength(requestRecord)) },
    keysByDirection[Direction.initiatorToResponder].key, requestRecord.subarray(headerLength(requestRecord))));
  const responsePlaintext = new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: recordNonce(r2i.iv, inputs.recordPlaintexts.responder.length), additionalData: responseRecord.subarray(0, headerLength(responseRecord)) },
    keysByDirection[Direction.responderToInitiator].key, responseRecord.subarray(headerLength(responseRecord))));
  const rekeyA = await importEphemeralKeyPairForTesting(suite, hexKey(initiator.rekeyEphemeralKey));
  const rekeyB = await importEphemeralKeyPairForTesting(suite, hexKey(responder.rekeyEphemeralKey));
  const rekeyShared = await deriveSharedSecret(suite, rekeyA.privateKey, await importPeerPublicKey(suite, rekeyB.publicKey));
  const rekeySharedCheck = await deriveSharedSecret(suite, rekeyB.privateKey, await importPeerPublicKey(suite, rekeyA.publicKey));
  const rekeyTranscriptHash = await sha256(concatBytes(requestPlaintext, responsePlaintext));
  const rekey = await deriveRekeySecrets({ chainSecret: session.rekeyChainSecret, sharedSecret: rekeyShared, rekeyTranscriptHash });
  const i2r1 = await deriveTrafficKeys(rekey.initiatorToResponderTrafficSecret);
  const r2i1 = await deriveTrafficKeys(rekey.responderToInitiatorTrafficSecret);
  await exchange(A, B, Direction.initiatorToResponder, inputs.recordPlaintexts.afterRekey, 1, { key: await rawAesKey(i2r1.key), iv: i2r1.iv });
  await exchange(B, A, Direction.responderToInitiator, inputs.recordPlaintexts.afterRekey, 1, { key: await rawAesKey(r2i1.key), iv: r2i1.iv });
  const exportedAfterRekeyA = await A.exportKeyingMaterial({ label: exporterLabel, context: exporterContext, length: 32 });
  const exportedAfterRekeyB = await B.exportKeyingMaterial({ label: exporterLabel, context: exporterContext, length: 32 });

  const closeRecord = await A.close();
  const closeOpened = await B.open({ record: closeRecord });

  const h = toHex;
  return {
    messages: { m1: h(m1), m2: h(m2), m3: h(m3) },
    ephemeralPublicKeys: { initiator: h(hello.ephemeralPublicKey), responder: h(reply.ephemeralPublicKey) },
    usernames: { initiator: hello.initiatorUsername, responder: hello.responderUsername },
    commitment: {
      sent: h(hello.commitment), recomputed: h(commitment),
      revealedInitiatorSecret: h(finish.sasSecret), responderSecret: h(reply.sasSecret),
    },
    transcriptHashes: {
      keyShare: h(thKeyShare), responderFinished: h(thResponderFinished),
      initiatorSignature: h(thInitiatorSignature), initiatorFinished: h(thInitiatorFinished), final: h(thFinal),
    },
    signatures: {
      responderInput: h(responderSignatureInput), responder: h(reply.signature),
      responderRecomputed: h(await signerB.sign(responderSignatureInput)),
      initiatorInput: h(initiatorSignatureInput), initiator: h(finish.signature),
      initiatorRecomputed: h(await signerA.sign(initiatorSignatureInput)),
    },
    finished: {
      responder: h(reply.finished), responderRecomputed: h(await hmacSha256(hs.responderFinishedKey, thResponderFinished)),
      initiator: h(finish.finished), initiatorRecomputed: h(await hmacSha256(hs.initiatorFinishedKey, thInitiatorFinished)),
    },
    keySchedule: {
      sharedSecret: h(sharedAB), sharedSecretResponderView: h(sharedBA),
      nonceSalt: h(hs.nonceSalt), handshakeSecret: h(hs.handshakeSecret),
      initiatorFinishedKey: h(hs.initiatorFinishedKey), responderFinishedKey: h(hs.responderFinishedKey),
      derivedSecret: h(session.derivedSecret), masterSecret: h(session.masterSecret),
      initiatorToResponderTrafficSecret: h(session.initiatorToResponderTrafficSecret),
      responderToInitiatorTrafficSecret: h(session.responderToInitiatorTrafficSecret),
      initiatorToResponderKey: h(i2r.key), initiatorToResponderIv: h(i2r.iv),
      responderToInitiatorKey: h(r2i.key), responderToInitiatorIv: h(r2i.iv),
      exporterSecret: h(session.exporterSecret), rekeyChainSecret: h(session.rekeyChainSecret),
      sasSecret: h(sasDerivation.sasSecret), sasBytes: h(sasDerivation.sasBytes),
    },
    sas: {
      initiator: A.sas, responder: B.sas, recomputed: computeSas(sasDerivation.sasBytes),
    },
    exporter: {
      label: exporterLabel, context: h(exporterContext),
      initiator: h(exportedA), responder: h(exportedB), recomputed: h(exportedDirect),
      afterRekeyInitiator: h(exportedAfterRekeyA), afterRekeyResponder: h(exportedAfterRekeyB),
      afterRekeyRecomputed: h(await exportKeyingMaterial({ exporterSecret: rekey.exporterSecret, label: exporterLabel, context: exporterContext, length: 32 })),
    },
    records,
    farRecord: { sequence: farSequence, nonce: h(recordNonce(i2r.iv, farSequence)), record: h(farRecord) },
    callRecord: {
      epoch: 0, direction: Direction.initiatorToResponder, sequence: callSequence, type: RecordType.call,
      plaintext: h(callPlaintext), nonce: h(recordNonce(i2r.iv, callSequence)), record: h(callRecordBytes),
      openedType: callOpened.typeName, opened: h(callOpened.plaintext),
      relabelledAsData: h(callRelabelled), relabelledAsDataOpens: callRelabelledOpens,
    },
    rekey: {
      requestRecord: h(requestRecord), responseRecord: h(responseRecord),
      requestMessage: h(requestPlaintext), responseMessage: h(responsePlaintext),
      sharedSecret: h(rekeyShared), sharedSecretResponderView: h(rekeySharedCheck),
      rekeyTranscriptHash: h(rekeyTranscriptHash), rekeySecret: h(rekey.rekeySecret),
      nextRekeyChainSecret: h(rekey.rekeyChainSecret),
      initiatorToResponderTrafficSecret: h(rekey.initiatorToResponderTrafficSecret),
      responderToInitiatorTrafficSecret: h(rekey.responderToInitiatorTrafficSecret),
      initiatorToResponderKey: h(i2r1.key), initiatorToResponderIv: h(i2r1.iv),
      responderToInitiatorKey: h(r2i1.key), responderToInitiatorIv: h(r2i1.iv),
      exporterSecret: h(rekey.exporterSecret),
      epochAfter: { initiator: A.epoch, responder: B.epoch },
    },
    close: { record: h(closeRecord), openedType: closeOpened.type, code: closeOpened.closeCode, states: { initiator: A.state, responder: B.state } },
  };
}

/** Header length of a record: 3 fixed bytes, the session id, then u32 ‖ u64 ‖ u32. */
export function headerLength(record) {
  return 4 + record[3] + 4 + 8 + 4;
}
