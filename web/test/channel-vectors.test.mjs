// Known-answer tests: recompute every value of the committed secure-channel vectors
// (tests/vectors/channel/*.json) and compare, plus consistency checks that do not depend on
// the committed values (both sides agree, low-level and endpoint records are identical, an
// independent AES-GCM/HKDF computation gives the same bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { callSignalText, computeChannelVector, headerLength } from './vectors/channel-kat.mjs';
import { splitVector } from './vectors/make-channel-vectors.mjs';
import { fromHex, toHex } from '../src/crypto/protocol/bytes.js';
import { x25519PublicKeyFromPrivate } from '../src/crypto/protocol/suites.js';
import { hkdfExpand, hkdfExtract } from '../src/crypto/protocol/key-schedule.js';

const vectorDir = new URL('../../tests/vectors/channel/', import.meta.url);
const load = async (name) => JSON.parse(await readFile(new URL(name, vectorDir), 'utf8'));
const keySchedule = await load('key-schedule.json');
const records = await load('records.json');
const rekey = await load('rekey.json');

const normalize = (value) => JSON.parse(JSON.stringify(value));

for (const vector of keySchedule.vectors) {
  const { inputs } = vector;
  const recordVector = records.vectors.find((v) => v.id === vector.id);
  const rekeyVector = rekey.vectors.find((v) => v.id === vector.id);
  const computed = await computeChannelVector(inputs);
  const parts = splitVector(inputs, computed);

  test(`KAT ${vector.id}: handshake messages, transcript hashes, signatures, Finished MACs`, () => {
    const expected = vector.expected;
    assert.deepEqual(parts.keySchedule.expected.messages, expected.messages);
    assert.deepEqual(parts.keySchedule.expected.transcriptHashes, expected.transcriptHashes);
    assert.deepEqual(parts.keySchedule.expected.signatures, expected.signatures);
    assert.deepEqual(parts.keySchedule.expected.finished, expected.finished);
    assert.deepEqual(parts.keySchedule.expected.ephemeralPublicKeys, expected.ephemeralPublicKeys);
    assert.deepEqual(parts.keySchedule.expected.usernames, expected.usernames);
    assert.deepEqual(parts.keySchedule.expected.commitment, expected.commitment);
  });

  test(`KAT ${vector.id}: every key-schedule secret, IV and the SAS`, () => {
    assert.deepEqual(normalize(parts.keySchedule.expected.keySchedule), vector.expected.keySchedule);
    assert.deepEqual(normalize(parts.keySchedule.expected.sas), vector.expected.sas);
    assert.deepEqual(normalize(parts.keySchedule.expected.exporter), vector.expected.exporter);
  });

  test(`KAT ${vector.id}: record encryption, far sequence, call record, close`, () => {
    assert.deepEqual(normalize(parts.records.expected), recordVector.expected);
    assert.equal(recordVector.expected.callRecord.openedType, 'call');
    assert.equal(recordVector.expected.callRecord.opened, recordVector.expected.callRecord.plaintext);
    assert.equal(recordVector.expected.callRecord.relabelledAsDataOpens, 'bad_tag');
  });

  test(`KAT ${vector.id}: re-key derivation`, () => {
    assert.deepEqual(normalize(parts.rekey.expected), rekeyVector.expected);
  });

  test(`KAT ${vector.id}: internal consistency (independent of the committed values)`, async () => {
    const e = computed;
    // both ECDH views agree and are not the all-zero value
    assert.equal(e.keySchedule.sharedSecret, e.keySchedule.sharedSecretResponderView);
    assert.notEqual(e.keySchedule.sharedSecret, '00'.repeat(32));
    assert.equal(e.rekey.sharedSecret, e.rekey.sharedSecretResponderView);
    // what went over the wire equals what the pure functions compute
    assert.equal(e.signatures.responder, e.signatures.responderRecomputed);
    assert.equal(e.signatures.initiator, e.signatures.initiatorRecomputed);
    assert.equal(e.finished.responder, e.finished.responderRecomputed);
    assert.equal(e.finished.initiator, e.finished.initiatorRecomputed);
    assert.deepEqual(e.sas.initiator, e.sas.responder);
    assert.deepEqual(e.sas.initiator, e.sas.recomputed);
    assert.equal(e.exporter.initiator, e.exporter.responder);
    assert.equal(e.exporter.initiator, e.exporter.recomputed);
    assert.equal(e.exporter.afterRekeyInitiator, e.exporter.afterRekeyResponder);
    assert.equal(e.exporter.afterRekeyInitiator, e.exporter.afterRekeyRecomputed);
    assert.notEqual(e.exporter.initiator, e.exporter.afterRekeyInitiator);
    assert.deepEqual(e.rekey.epochAfter, { initiator: 1, responder: 1 });
    assert.deepEqual(e.close.states, { initiator: 'closed', responder: 'closed' });
    for (const record of e.records) {
      assert.equal(record.record, record.lowLevelRecord, `endpoint and low-level record differ at seq ${record.sequence}`);
      assert.equal(record.opened, record.plaintext);
    }
    // the commitment in M1 is H("secms v2 sas commit" ‖ 0x00 ‖ sA) of the sA revealed in M3
    assert.equal(e.commitment.sent, e.commitment.recomputed);
    assert.equal(e.commitment.revealedInitiatorSecret, inputs.initiator.sasSecret);
    assert.equal(e.commitment.responderSecret, inputs.responder.sasSecret);
    assert.deepEqual(e.usernames, { initiator: inputs.initiator.username, responder: inputs.responder.username });
    assert.equal(e.messages.m1.slice(0, 2), '02', 'handshake version 2');
    // the fingerprints and session id of the inputs are inside message 1
    assert.ok(e.messages.m1.includes(inputs.initiator.fingerprint));
    assert.ok(e.messages.m1.includes(inputs.responder.fingerprint));
    assert.ok(e.messages.m1.includes(toHex(new TextEncoder().encode(inputs.sessionId))));
  });

  test(`KAT ${vector.id}: records decrypt with an independent AES-GCM and BigInt nonce computation`, async () => {
    const ks = vector.expected.keySchedule;
    const dirKeys = {
      1: { key: ks.initiatorToResponderKey, iv: ks.initiatorToResponderIv },
      2: { key: ks.responderToInitiatorKey, iv: ks.responderToInitiatorIv },
    };
    const check = async (recordHex, keyHex, ivHex, sequence) => {
      const record = fromHex(recordHex);
      const nonce = BigInt('0x' + ivHex) ^ BigInt(sequence);
      const nonceBytes = fromHex(nonce.toString(16).padStart(24, '0'));
      const key = await crypto.subtle.importKey('raw', fromHex(keyHex), 'AES-GCM', false, ['decrypt']);
      const split = headerLength(record);
      return new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonceBytes, additionalData: record.subarray(0, split) }, key, record.subarray(split)));
    };
    for (const record of recordVector.expected.records.filter((r) => r.epoch === 0)) {
      const { key, iv } = dirKeys[record.direction];
      assert.equal(toHex(await check(record.record, key, iv, record.sequence)), record.plaintext);
    }
    const far = recordVector.expected.farRecord;
    assert.equal(toHex(await check(far.record, ks.initiatorToResponderKey, ks.initiatorToResponderIv, far.sequence)), toHex(new TextEncoder().encode('far')));
    // The type-5 record: the same keys and nonce rule; type byte 5 in the AAD, so the same
    // bytes relabelled as data (type 1) fail the tag with an independent AES-GCM too.
    const call = recordVector.expected.callRecord;
    assert.equal(call.record.slice(0, 4), '0105', 'record layer version 1, type 5 (call)');
    assert.equal(toHex(await check(call.record, ks.initiatorToResponderKey, ks.initiatorToResponderIv, call.sequence)), call.plaintext);
    assert.equal(new TextDecoder().decode(fromHex(call.plaintext)), callSignalText);
    assert.equal(call.relabelledAsData, `${call.record.slice(0, 2)}01${call.record.slice(4)}`);
    await assert.rejects(check(call.relabelledAsData, ks.initiatorToResponderKey, ks.initiatorToResponderIv, call.sequence), { name: 'OperationError' });
    const rk = rekeyVector.expected;
    for (const record of recordVector.expected.records.filter((r) => r.epoch === 1)) {
      const key = record.direction === 1 ? rk.initiatorToResponderKey : rk.responderToInitiatorKey;
      const iv = record.direction === 1 ? rk.initiatorToResponderIv : rk.responderToInitiatorIv;
      assert.equal(toHex(await check(record.record, key, iv, record.sequence)), record.plaintext);
    }
  });

  test(`KAT ${vector.id}: handshake secret equals WebCrypto's own HKDF (Extract+Expand) composition`, async () => {
    const ks = vector.expected.keySchedule;
    // HKDF(salt=nonce_salt, IKM=shared, info=X, L) from WebCrypto must equal our Expand(Extract(...)).
    const info = new TextEncoder().encode('cross-check');
    const ikm = await crypto.subtle.importKey('raw', fromHex(ks.sharedSecret), 'HKDF', false, ['deriveBits']);
    const native = new Uint8Array(await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: fromHex(ks.nonceSalt), info }, ikm, 42 * 8));
    const prk = await hkdfExtract(fromHex(ks.nonceSalt), fromHex(ks.sharedSecret));
    assert.equal(toHex(prk), ks.handshakeSecret);
    assert.equal(toHex(await hkdfExpand(prk, info, 42)), toHex(native));
  });

  if (inputs.suite === 1) {
    test(`KAT ${vector.id}: X25519 input public keys are X25519(private, 9) (RFC 7748 §6.1)`, async () => {
      for (const side of [inputs.initiator, inputs.responder]) {
        for (const key of [side.ephemeralKey, side.rekeyEphemeralKey]) {
          assert.equal(toHex(await x25519PublicKeyFromPrivate(fromHex(key.private))), key.public);
        }
      }
    });
  }
}
