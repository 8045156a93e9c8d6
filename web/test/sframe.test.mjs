// SFrame (RFC 9605) against its Appendix C vectors (tests/vectors/sframe/rfc9605.json): every
// header vector of C.1 encodes and decodes, C.3's derivation and encryption match for the AES-GCM
// suites 0x0004 and 0x0005, and the refusals: a flipped bit anywhere the tag covers, truncated
// and non-minimal headers, replays, unknown KIDs, size limits and counter exhaustion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createDecipheriv } from 'node:crypto';
import {
  MAX_CTR, MAX_FRAME_BYTES, ReplayWindow, SFrameError, SFrameSuite, createReceiver, createSender, decodeHeader, decryptFrame,
  deriveKeySalt, encodeHeader, encryptFrame, importKey, destroyKey, nonceFor, parseCiphertext,
} from '../src/crypto/media/sframe.js';

const file = JSON.parse(await readFile(new URL('../../tests/vectors/sframe/rfc9605.json', import.meta.url), 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const bytes = (text) => Uint8Array.from(Buffer.from(text, 'hex'));
const num = (text) => BigInt(text);

function reasonOf(fn) {
  return fn().then(() => null, (error) => {
    assert.ok(error instanceof SFrameError, `expected an SFrameError, got ${error}`);
    return error.reason;
  });
}
function syncReasonOf(fn) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SFrameError, `expected an SFrameError, got ${error}`);
    return error.reason;
  }
  return null;
}

test('the vector file holds RFC 9605 C.1 and the two AES-GCM cases of C.3', () => {
  assert.equal(file.header.length, 289);
  assert.deepEqual(file.sframe.map((vector) => vector.cipher_suite), ['0x0004', '0x0005']);
});

test('every RFC 9605 C.1 header vector encodes to its bytes and decodes to its KID and CTR', () => {
  for (const vector of file.header) {
    const kid = num(vector.kid);
    const ctr = num(vector.ctr);
    assert.equal(hex(encodeHeader({ kid, ctr })), vector.header, `encode ${vector.kid}/${vector.ctr}`);
    const data = bytes(vector.header);
    const decoded = decodeHeader({ data });
    assert.deepEqual(decoded, { kid, ctr, length: data.length }, `decode ${vector.header}`);
    // A header followed by ciphertext decodes the same and reports its own length.
    const followed = Uint8Array.of(0xaa, ...data, 1, 2, 3);
    assert.deepEqual(decodeHeader({ data: followed, offset: 1 }), { kid, ctr, length: data.length });
    // Every strict prefix of an extended header is truncated.
    for (let cut = 0; cut < data.length; cut++) {
      assert.equal(syncReasonOf(() => decodeHeader({ data: data.subarray(0, cut) })), 'bad_header', `${vector.header} cut at ${cut}`);
    }
  }
});

test('non-minimal header encodings are refused (RFC 9605 §4.3: MUST use the minimum number of bytes)', () => {
  const cases = [
    '0800', // CTR 0 in an extended field
    '0807', // CTR 7 in an extended field
    '090008', // CTR 8 with a leading zero byte
    '8000', // KID 0 in an extended field
    '8007', // KID 7 in an extended field
    '900008', // KID 8 with a leading zero byte
    '88070a', // KID 7 extended, CTR 10
    '8f00000000000000000a08', // KID 0 in 8 bytes, CTR 8
    '0f00000000000000ff', // CTR 255 in 8 bytes
  ];
  for (const text of cases) assert.equal(syncReasonOf(() => decodeHeader({ data: bytes(text) })), 'bad_header', text);
  // The minimal forms of the same values decode.
  assert.deepEqual(decodeHeader({ data: bytes('08ff') }), { kid: 0n, ctr: 255n, length: 2 });
  assert.deepEqual(decodeHeader({ data: bytes('88080a') }), { kid: 8n, ctr: 10n, length: 3 });
});

test('header values outside 0..2^64-1 and non-integers are refused', () => {
  assert.equal(syncReasonOf(() => encodeHeader({ kid: 1n << 64n, ctr: 0 })), 'invalid_argument');
  assert.equal(syncReasonOf(() => encodeHeader({ kid: 0, ctr: -1 })), 'invalid_argument');
  assert.equal(syncReasonOf(() => encodeHeader({ kid: 0.5, ctr: 0 })), 'invalid_argument');
  assert.equal(syncReasonOf(() => encodeHeader({ kid: 0, ctr: 0, extra: 1 })), 'invalid_argument');
  assert.equal(hex(encodeHeader({ kid: MAX_CTR, ctr: MAX_CTR })), 'ff' + 'ff'.repeat(16));
});

for (const vector of file.sframe) {
  const suite = Number(vector.cipher_suite);
  const kid = num(vector.kid);
  const ctr = num(vector.ctr);
  const metadata = bytes(vector.metadata);

  test(`RFC 9605 C.3 suite ${vector.cipher_suite}: key derivation`, async () => {
    const derived = await deriveKeySalt({ suite, kid, baseKey: bytes(vector.base_key) });
    assert.equal(hex(derived.keyLabel), vector.sframe_key_label);
    assert.equal(hex(derived.saltLabel), vector.sframe_salt_label);
    assert.equal(hex(derived.sframeSecret), vector.sframe_secret);
    assert.equal(hex(derived.sframeKey), vector.sframe_key);
    assert.equal(hex(derived.sframeSalt), vector.sframe_salt);
    assert.equal(hex(nonceFor(derived.sframeSalt, ctr)), vector.nonce);
  });

  test(`RFC 9605 C.3 suite ${vector.cipher_suite}: encryption and decryption`, async () => {
    const key = await importKey({ suite, kid, baseKey: bytes(vector.base_key) });
    assert.equal(key.key.extractable, false, 'the AES key is not extractable');
    const sealed = await encryptFrame({ key, ctr, plaintext: bytes(vector.pt), metadata });
    assert.equal(hex(sealed), vector.ct);
    const parsed = parseCiphertext({ data: sealed });
    assert.equal(hex(parsed.header) + hex(metadata), vector.aad, 'AAD = header ‖ metadata');
    const opened = await decryptFrame({ key, header: parsed.header, ctr: parsed.ctr, ciphertext: parsed.ciphertext, metadata });
    assert.equal(hex(opened), vector.pt);

    // Independent check with Node's own AES-GCM on the vector's key and nonce.
    const ct = bytes(vector.ct);
    const header = ct.subarray(0, parsed.header.length);
    const body = ct.subarray(header.length, ct.length - 16);
    const decipher = createDecipheriv(suite === SFrameSuite.AES_128_GCM_SHA256_128 ? 'aes-128-gcm' : 'aes-256-gcm',
      bytes(vector.sframe_key), bytes(vector.nonce));
    decipher.setAAD(bytes(vector.aad));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    assert.equal(Buffer.concat([decipher.update(body), decipher.final()]).toString('hex'), vector.pt);
  });

  test(`RFC 9605 C.3 suite ${vector.cipher_suite}: a flipped bit in header, ciphertext, tag or metadata → auth_failed or bad_header`, async () => {
    const receiver = createReceiver({ suite });
    await receiver.addKey({ kid, baseKey: bytes(vector.base_key) });
    const good = bytes(vector.ct);
    let authFailures = 0;
    for (let bit = 0; bit < good.length * 8; bit++) {
      const data = Uint8Array.from(good);
      data[bit >> 3] ^= 1 << (bit & 7);
      const reason = await reasonOf(() => receiver.decrypt({ data, metadata }));
      // A flip in the header either makes it non-minimal/truncated, names another KID, or keeps a
      // valid header whose AAD no longer matches; a flip in the body always fails the tag.
      if (bit >= 5 * 8) assert.equal(reason, 'auth_failed', `bit ${bit}`);
      else assert.ok(['auth_failed', 'bad_header', 'unknown_key'].includes(reason), `bit ${bit}: ${reason}`);
      if (reason === 'auth_failed') authFailures++;
    }
    assert.ok(authFailures >= (good.length - 5) * 8);
    for (let bit = 0; bit < metadata.length * 8; bit++) {
      const flipped = Uint8Array.from(metadata);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(await reasonOf(() => receiver.decrypt({ data: good, metadata: flipped })), 'auth_failed', `metadata bit ${bit}`);
    }
    assert.equal(await reasonOf(() => receiver.decrypt({ data: good, metadata: metadata.subarray(1) })), 'auth_failed', 'shortened metadata');
    assert.equal(await reasonOf(() => receiver.decrypt({ data: good.subarray(0, good.length - 1), metadata })), 'auth_failed', 'truncated tag');
    assert.equal(await reasonOf(() => receiver.decrypt({ data: good.subarray(0, 3), metadata })), 'bad_header', 'truncated header');
    // The untouched frame still opens once, then is a replay.
    assert.equal(hex((await receiver.decrypt({ data: good, metadata })).plaintext), vector.pt);
    assert.equal(await reasonOf(() => receiver.decrypt({ data: good, metadata })), 'replay');
  });
}

test('sender and receiver: counters from 0, replay window, unknown KID, wrong key', async () => {
  const suite = SFrameSuite.AES_256_GCM_SHA512_128;
  const baseKey = Uint8Array.from({ length: 32 }, (_, i) => i);
  const sender = await createSender({ suite, kid: 3, baseKey });
  const receiver = createReceiver({ suite, replayWindow: 16 });
  await receiver.addKey({ kid: 3, baseKey });
  const metadata = Uint8Array.of(0x9c);
  const frames = [];
  for (let i = 0; i < 40; i++) frames.push(await sender.encrypt({ plaintext: Uint8Array.of(i, i, i), metadata }));
  assert.deepEqual(decodeHeader({ data: frames[0] }), { kid: 3n, ctr: 0n, length: 1 });
  assert.deepEqual(decodeHeader({ data: frames[39] }), { kid: 3n, ctr: 39n, length: 2 });

  // Out of order inside the window is fine; each counter only once.
  assert.deepEqual([...(await receiver.decrypt({ data: frames[5], metadata })).plaintext], [5, 5, 5]);
  assert.deepEqual([...(await receiver.decrypt({ data: frames[2], metadata })).plaintext], [2, 2, 2]);
  assert.equal(await reasonOf(() => receiver.decrypt({ data: frames[2], metadata })), 'replay');
  assert.deepEqual([...(await receiver.decrypt({ data: frames[30], metadata })).plaintext], [30, 30, 30]);
  // 30 - 14 = 16 behind: outside a 16-counter window.
  assert.equal(await reasonOf(() => receiver.decrypt({ data: frames[14], metadata })), 'replay');
  assert.deepEqual([...(await receiver.decrypt({ data: frames[15], metadata })).plaintext], [15, 15, 15]);
  assert.equal(await reasonOf(() => receiver.decrypt({ data: frames[30], metadata })), 'replay');

  // A forged frame with a high counter does not move the window (accept only after the tag).
  const forged = Uint8Array.from(await sender.encrypt({ plaintext: Uint8Array.of(1), metadata }));
  forged[forged.length - 1] ^= 1;
  assert.equal(await reasonOf(() => receiver.decrypt({ data: forged, metadata })), 'auth_failed');
  assert.deepEqual([...(await receiver.decrypt({ data: frames[20], metadata })).plaintext], [20, 20, 20]);

  // Wrong KID: no key held for it.
  const other = await createSender({ suite, kid: 4, baseKey });
  assert.equal(await reasonOf(async () => receiver.decrypt({ data: await other.encrypt({ plaintext: Uint8Array.of(1), metadata }), metadata })), 'unknown_key');
  // Same KID, wrong base key: the tag fails.
  const impostor = await createSender({ suite, kid: 3, baseKey: new Uint8Array(32).fill(7), firstCtr: 100 });
  assert.equal(await reasonOf(async () => receiver.decrypt({ data: await impostor.encrypt({ plaintext: Uint8Array.of(1), metadata }), metadata })), 'auth_failed');
  // Suite mismatch: a 0x0004 key cannot open 0x0005 frames.
  const suite4 = createReceiver({ suite: SFrameSuite.AES_128_GCM_SHA256_128 });
  await suite4.addKey({ kid: 3, baseKey });
  assert.equal(await reasonOf(() => suite4.decrypt({ data: frames[39], metadata })), 'auth_failed');

  // A removed key is unknown; a destroyed sender refuses to encrypt.
  receiver.removeKey(3);
  assert.equal(await reasonOf(() => receiver.decrypt({ data: frames[39], metadata })), 'unknown_key');
  sender.destroy();
  assert.equal(await reasonOf(() => sender.encrypt({ plaintext: Uint8Array.of(1), metadata })), 'ended');
});

test('re-adding a KID keeps its replay window', async () => {
  const suite = SFrameSuite.AES_256_GCM_SHA512_128;
  const baseKey = new Uint8Array(32).fill(1);
  const sender = await createSender({ suite, kid: 0, baseKey });
  const receiver = createReceiver({ suite });
  await receiver.addKey({ kid: 0, baseKey });
  const frame = await sender.encrypt({ plaintext: Uint8Array.of(1) });
  await receiver.decrypt({ data: frame });
  await receiver.addKey({ kid: 0, baseKey });
  assert.equal(await reasonOf(() => receiver.decrypt({ data: frame })), 'replay');
});

test('the counter never wraps: the last value 2^64-1 is used once, then counter_exhausted', async () => {
  const suite = SFrameSuite.AES_128_GCM_SHA256_128;
  const baseKey = new Uint8Array(16).fill(9);
  const sender = await createSender({ suite, kid: 1, baseKey, firstCtr: MAX_CTR - 1n });
  const receiver = createReceiver({ suite });
  await receiver.addKey({ kid: 1, baseKey });
  for (const expected of [MAX_CTR - 1n, MAX_CTR]) {
    const frame = await sender.encrypt({ plaintext: Uint8Array.of(0) });
    assert.equal((await receiver.decrypt({ data: frame })).ctr, expected);
  }
  assert.equal(await reasonOf(() => sender.encrypt({ plaintext: Uint8Array.of(0) })), 'counter_exhausted');
});

test('frames above 1 MiB are refused on both sides', async () => {
  const suite = SFrameSuite.AES_256_GCM_SHA512_128;
  const baseKey = new Uint8Array(32).fill(2);
  const key = await importKey({ suite, kid: 0, baseKey });
  const largest = MAX_FRAME_BYTES - 2 - 16; // header 0x08 0x0a (CTR 10) + tag
  const sealed = await encryptFrame({ key, ctr: 10, plaintext: new Uint8Array(largest) });
  assert.equal(sealed.length, MAX_FRAME_BYTES);
  assert.equal(await reasonOf(() => encryptFrame({ key, ctr: 11, plaintext: new Uint8Array(largest + 1) })), 'too_large');
  const receiver = createReceiver({ suite });
  await receiver.addKey({ kid: 0, baseKey });
  assert.equal((await receiver.decrypt({ data: sealed })).plaintext.length, largest);
  assert.equal(await reasonOf(() => receiver.decrypt({ data: new Uint8Array(MAX_FRAME_BYTES + 1) })), 'too_large');
  destroyKey(key);
  assert.ok(key.salt.every((byte) => byte === 0), 'destroyKey wipes the salt');
  assert.equal(await reasonOf(() => encryptFrame({ key, ctr: 12, plaintext: new Uint8Array(1) })), 'ended');
});

test('unsupported suites are refused', async () => {
  for (const suite of [0x0001, 0x0002, 0x0003, 0x0006, 0]) {
    assert.equal(await reasonOf(() => deriveKeySalt({ suite, kid: 0, baseKey: new Uint8Array(16) })), 'unsupported_suite');
  }
});

test('ReplayWindow: first counter, far jump, and the window edge', () => {
  const window = new ReplayWindow(4);
  assert.equal(window.check(1000n), true);
  window.accept(1000n);
  assert.equal(window.check(1000n), false);
  assert.equal(window.check(997n), true);
  assert.equal(window.check(996n), false);
  window.accept(5000n);
  assert.equal(window.check(4999n), true);
  assert.equal(window.check(1000n), false);
  window.accept(4998n);
  assert.equal(window.check(4998n), false);
  assert.equal(window.check(4999n), true);
});

test('header round trip for random 64-bit KIDs and CTRs of every length', () => {
  const random = (bits) => {
    let value = 0n;
    for (let i = 0; i < bits; i += 8) value = (value << 8n) | BigInt(Math.floor(Math.random() * 256));
    return value & ((1n << BigInt(bits)) - 1n);
  };
  for (let i = 0; i < 2000; i++) {
    const kid = random(1 + (i % 64));
    const ctr = random(1 + ((i * 7) % 64));
    const data = encodeHeader({ kid, ctr });
    const lengthOf = (value) => (value < 8n ? 0 : Math.ceil(value.toString(16).length / 2));
    assert.equal(data.length, 1 + lengthOf(kid) + lengthOf(ctr));
    assert.deepEqual(decodeHeader({ data }), { kid, ctr, length: data.length });
  }
});
