#!/usr/bin/env node
// Generates the media-key known-answer vectors (docs/protocol.md "Media encryption (SFrame)")
// ONCE; media-keys.json beside this script is committed and then fixed data. The test
// (web/test/media-transforms.test.mjs) recomputes every value and compares.
//
//   node tests/vectors/sframe/make-media-key-vectors.mjs           compare only (never writes)
//   node tests/vectors/sframe/make-media-key-vectors.mjs --write   (re)generate media-keys.json
//
// Inputs: the exporter secrets of epoch 0 and epoch 1 of the channel vector
// `x25519-v4-fingerprints` (tests/vectors/channel/key-schedule.json and rekey.json), two fixed
// call ids, and fixed VP8 and Opus frames. Everything is computed with the real key schedule
// (exportKeyingMaterial), the real SFrame code and the real clear-prefix rule.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { exportKeyingMaterial } from '../../../web/src/crypto/protocol/key-schedule.js';
import { fromHex, toHex } from '../../../web/src/crypto/protocol/bytes.js';
import { createSender, deriveKeySalt } from '../../../web/src/crypto/media/sframe.js';
import { MEDIA_BASE_KEY_BYTES, MEDIA_SUITE, callIdBytes, mediaLabel } from '../../../web/src/crypto/media/media-keys.js';
import { sealMediaFrame } from '../../../web/src/crypto/media/media-transforms.js';

export const vectorFile = new URL('media-keys.json', import.meta.url);
const channelVectorId = 'x25519-v4-fingerprints';

export async function vectorInputs() {
  const schedule = JSON.parse(await readFile(new URL('../channel/key-schedule.json', import.meta.url), 'utf8'));
  const rekey = JSON.parse(await readFile(new URL('../channel/rekey.json', import.meta.url), 'utf8'));
  const epoch0 = schedule.vectors.find((vector) => vector.id === channelVectorId).expected.keySchedule.exporterSecret;
  const epoch1 = rekey.vectors.find((vector) => vector.id === channelVectorId).expected.exporterSecret;
  const pattern = (length, start) => toHex(Uint8Array.from({ length }, (_, i) => (start + i) & 0xff));
  return {
    channelVector: channelVectorId,
    exporterSecrets: { 0: epoch0, 1: epoch1 },
    calls: ['5ec0ca11000102030405060708090a0b', 'c0ffee00ffeeddccbbaa998877665544'],
    frames: [
      // VP8 key frame: P bit 0, start code 9d 01 2a, 320x240 — the 10 clear bytes — then payload.
      { epoch: 0, call: 0, direction: 'i2r', ctr: 0, codec: 'video/VP8', data: '1002009d012a4001f000' + pattern(48, 0x40) },
      // VP8 interframe: P bit 1, 3 clear bytes.
      { epoch: 0, call: 0, direction: 'i2r', ctr: 1, codec: 'video/VP8', data: '310100' + pattern(40, 0x80) },
      // Opus: TOC byte 0x78 (SILK-only 20 ms, config 15), then the coded frame.
      { epoch: 0, call: 0, direction: 'i2r', ctr: 2, codec: 'audio/opus', data: '78' + pattern(60, 0xc0) },
      { epoch: 0, call: 0, direction: 'r2i', ctr: 0, codec: 'audio/opus', data: '78' + pattern(60, 0xc0) },
      { epoch: 1, call: 0, direction: 'r2i', ctr: 0x1234, codec: 'audio/opus', data: 'fc' + pattern(20, 0x10) },
      { epoch: 1, call: 1, direction: 'i2r', ctr: 7, codec: 'video/VP8', data: '350200' + pattern(16, 0x20) },
    ],
  };
}

/** The exporter of epoch n as the channel endpoint computes it. */
export function exporterFor(inputs) {
  return async ({ epoch, label, context, length }) => {
    const secret = inputs.exporterSecrets[epoch];
    if (secret === undefined) return null;
    return exportKeyingMaterial({ exporterSecret: fromHex(secret), label, context, length });
  };
}

export async function computeVectors(inputs) {
  const exporter = exporterFor(inputs);
  const keys = [];
  for (const epoch of Object.keys(inputs.exporterSecrets).map(Number)) {
    for (const [callIndex, call] of inputs.calls.entries()) {
      for (const direction of ['i2r', 'r2i']) {
        const baseKey = await exporter({ epoch, label: mediaLabel(direction), context: callIdBytes(call), length: MEDIA_BASE_KEY_BYTES });
        const derived = await deriveKeySalt({ suite: MEDIA_SUITE, kid: epoch, baseKey });
        keys.push({
          epoch, call: callIndex, direction, label: mediaLabel(direction), context: call, kid: epoch,
          baseKey: toHex(baseKey), sframeKey: toHex(derived.sframeKey), sframeSalt: toHex(derived.sframeSalt),
        });
      }
    }
  }
  const frames = [];
  for (const frame of inputs.frames) {
    const call = inputs.calls[frame.call];
    const baseKey = await exporter({ epoch: frame.epoch, label: mediaLabel(frame.direction), context: callIdBytes(call), length: MEDIA_BASE_KEY_BYTES });
    const sender = await createSender({ suite: MEDIA_SUITE, kid: frame.epoch, baseKey, firstCtr: frame.ctr });
    const wire = await sealMediaFrame({ sender, codec: frame.codec, data: fromHex(frame.data) });
    sender.destroy();
    frames.push({ ...frame, wire: toHex(wire) });
  }
  return { keys, frames };
}

export async function buildFile() {
  const inputs = await vectorInputs();
  return {
    description: 'Security.MS call media keys: base_key = channel exporter of epoch n with label "sframe i2r"/"sframe r2i" and the 16-byte call id as context (32 bytes), KID = n, SFrame (RFC 9605) suite 0x0005 key and salt, and protected frames (clear codec prefix ‖ SFrame header ‖ ciphertext ‖ tag). Generated by tests/vectors/sframe/make-media-key-vectors.mjs; see docs/protocol.md "Media encryption (SFrame)".',
    encoding: 'byte strings are lowercase hex; call ids as in the signalling',
    suite: '0x0005',
    inputs,
    expected: await computeVectors(inputs),
  };
}

async function main() {
  const write = process.argv.includes('--write');
  const built = await buildFile();
  if (write) {
    await writeFile(vectorFile, `${JSON.stringify(built, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(vectorFile)}`);
    return;
  }
  const stored = JSON.parse(await readFile(vectorFile, 'utf8'));
  if (!isDeepStrictEqual(stored, JSON.parse(JSON.stringify(built)))) {
    console.error('media-keys.json differs from the recomputed vectors');
    process.exitCode = 1;
    return;
  }
  console.log('media-keys.json matches');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
