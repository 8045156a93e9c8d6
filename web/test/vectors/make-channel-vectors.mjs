#!/usr/bin/env node
// Generates the secure-channel known-answer vectors ONCE; the output in tests/vectors/channel/
// is committed and then treated as fixed data: the tests recompute every value and compare, so
// any change to the encoding or the key schedule breaks them. Re-running this script is a
// deliberate protocol change (bump the version, say why in docs/protocol.md).
//
//   node web/test/vectors/make-channel-vectors.mjs           compare only (the default; never writes)
//   node web/test/vectors/make-channel-vectors.mjs --write   (re)generate the committed files
//
// Compare-only is the default because `node --test web/test/` also executes every .mjs file
// under a test/ folder, and a test run must never rewrite the vectors it checks against.
//
// Inputs are fixed: X25519 keys from RFC 7748 §6.1, P-256 keys from Wycheproof's
// ecdh_secp256r1_webcrypto_test.json, counting-pattern nonces and SAS secrets (sA, sB), fixed
// usernames and fingerprints, and an HMAC
// test signer (hmacTestSigner) in place of OpenPGP so signatures are deterministic.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { computeChannelVector } from './channel-kat.mjs';
import { fromBase64Url, fromHex, toHex } from '../../src/crypto/protocol/bytes.js';
import { x25519PublicKeyFromPrivate } from '../../src/crypto/protocol/suites.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const outDir = path.join(root, 'tests/vectors/channel');

const ramp = (start, length = 32) => toHex(Uint8Array.from({ length }, (_, i) => (start + i) & 0xff));

async function x25519Key(privateHex) {
  return { private: privateHex, public: toHex(await x25519PublicKeyFromPrivate(fromHex(privateHex))) };
}

function p256KeyFromJwk(jwk) {
  return {
    private: toHex(fromBase64Url(jwk.d)),
    public: '04' + toHex(fromBase64Url(jwk.x)) + toHex(fromBase64Url(jwk.y)),
  };
}

async function p256Keys(count) {
  const file = JSON.parse(await readFile(path.join(root, 'tests/vectors/wycheproof/ecdh_secp256r1_webcrypto_test.json'), 'utf8'));
  const seen = new Set();
  const keys = [];
  for (const group of file.testGroups) {
    for (const test of group.tests) {
      if (test.result !== 'valid' || seen.has(test.private.d)) continue;
      if (fromBase64Url(test.private.d).length !== 32 || fromBase64Url(test.private.x).length !== 32
          || fromBase64Url(test.private.y).length !== 32) continue;
      seen.add(test.private.d);
      keys.push({ tcId: test.tcId, ...p256KeyFromJwk(test.private) });
      if (keys.length === count) return keys;
    }
  }
  throw new Error('not enough P-256 keys');
}

const recordPlaintexts = {
  initiator: ['', '68656c6c6f2c20726573706f6e646572', ramp(0, 300)], // "", "hello, responder", 300 bytes
  responder: ['68656c6c6f2c20696e69746961746f72', ramp(0x80, 17)], // "hello, initiator", 17 bytes
  afterRekey: ['65706f63682031'], // "epoch 1"
};

async function vectorInputs() {
  const p256 = await p256Keys(4);
  return [
    {
      id: 'x25519-v4-fingerprints',
      suite: 1,
      sessionId: 'kat-session-0001',
      initiator: {
        // RFC 7748 §6.1 Alice
        ephemeralKey: await x25519Key('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
        rekeyEphemeralKey: await x25519Key(ramp(0x40)),
        nonce: ramp(0x00), sasSecret: ramp(0x80), username: 'alice', fingerprint: 'a1'.repeat(20), signerKey: 'secms kat signer A',
      },
      responder: {
        // RFC 7748 §6.1 Bob
        ephemeralKey: await x25519Key('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
        rekeyEphemeralKey: await x25519Key(ramp(0x60)),
        nonce: ramp(0x20), sasSecret: ramp(0xa0), username: 'bob', fingerprint: 'b2'.repeat(20), signerKey: 'secms kat signer B',
      },
      recordPlaintexts,
    },
    {
      id: 'p256-v6-fingerprints',
      suite: 2,
      sessionId: 'kat-session-0002',
      initiator: {
        ephemeralKey: { private: p256[0].private, public: p256[0].public, source: `wycheproof ecdh_secp256r1_webcrypto tcId ${p256[0].tcId}` },
        rekeyEphemeralKey: { private: p256[2].private, public: p256[2].public, source: `wycheproof tcId ${p256[2].tcId}` },
        nonce: ramp(0x00), sasSecret: ramp(0x80), username: 'carol.c', fingerprint: 'c3'.repeat(32), signerKey: 'secms kat signer A',
      },
      responder: {
        ephemeralKey: { private: p256[1].private, public: p256[1].public, source: `wycheproof tcId ${p256[1].tcId}` },
        rekeyEphemeralKey: { private: p256[3].private, public: p256[3].public, source: `wycheproof tcId ${p256[3].tcId}` },
        nonce: ramp(0x20), sasSecret: ramp(0xa0), username: 'dave_99', fingerprint: 'd4'.repeat(32), signerKey: 'secms kat signer B',
      },
      recordPlaintexts,
    },
  ];
}

/** Splits one computed scenario into the three committed files. */
export function splitVector(inputs, computed) {
  const { records, farRecord, callRecord, close, rekey, ...handshake } = computed;
  return {
    keySchedule: { id: inputs.id, inputs, expected: handshake },
    records: { id: inputs.id, expected: { records, farRecord, callRecord, close } },
    rekey: { id: inputs.id, expected: rekey },
  };
}

async function main() {
  const check = !process.argv.includes('--write');
  const files = { keySchedule: [], records: [], rekey: [] };
  for (const inputs of await vectorInputs()) {
    const parts = splitVector(inputs, await computeChannelVector(inputs));
    for (const key of Object.keys(files)) files[key].push(parts[key]);
  }
  const header = (what) => ({
    description: `Security.MS secure channel v2 known-answer vectors: ${what}. Generated once by web/test/vectors/make-channel-vectors.mjs; see docs/protocol.md §11.`,
    encoding: 'all byte strings are lowercase hex',
  });
  const outputs = {
    'key-schedule.json': { ...header('handshake messages, usernames, SAS commitment, transcript hashes, signatures (HMAC test signer), Finished MACs, every key-schedule secret, SAS, exporter'), vectors: files.keySchedule },
    'records.json': { ...header('record encryption (epoch 0 and 1, both directions), far sequence numbers, a call record (type 5), close'), vectors: files.records },
    'rekey.json': { ...header('in-channel re-key (epoch 0 → 1) derivation'), vectors: files.rekey },
  };
  for (const [name, content] of Object.entries(outputs)) {
    const target = path.join(outDir, name);
    if (check) {
      const committed = JSON.parse(await readFile(target, 'utf8'));
      if (!isDeepStrictEqual(committed, JSON.parse(JSON.stringify(content)))) throw new Error(`${name} differs from a fresh computation`);
    } else {
      await writeFile(target, JSON.stringify(content, null, 2) + '\n');
    }
  }
  process.stdout.write(check ? 'vectors match\n' : `wrote ${Object.keys(outputs).join(', ')} to ${outDir}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
