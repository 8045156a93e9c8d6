import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEnvelope, decodeEnvelope, newEnvelopeId, envelopeLimits } from '../src/chat/envelope.js';

const id = 'a'.repeat(32);
const hex64 = 'b'.repeat(64);

test('every kind round-trips through encode/decode', () => {
  const cases = [
    { kind: 'message', id, text: 'hello [b]world[/b]' },
    { kind: 'action', id, text: 'waves' },
    { kind: 'delete', id, target: 'c'.repeat(32) },
    { kind: 'receipt', id, targets: ['c'.repeat(32), 'e'.repeat(32)] },
    { kind: 'roll_commit', id, roll: 'd'.repeat(32), count: 2, sides: 6, commitment: hex64 },
    { kind: 'roll_reveal', id, roll: 'd'.repeat(32), nonce: hex64, contribution: hex64, commitSet: hex64 },
    { kind: 'nick', id, name: 'Ally' },
  ];
  for (const fields of cases) {
    const text = encodeEnvelope(fields);
    assert.deepEqual(decodeEnvelope(text), { v: 1, ...fields });
    assert.ok(Object.isFrozen(decodeEnvelope(text)));
  }
});

test('ids are fresh 128-bit lowercase hex', () => {
  const a = newEnvelopeId();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, newEnvelopeId());
  assert.match(JSON.parse(encodeEnvelope({ kind: 'message', text: 'x' })).id, /^[0-9a-f]{32}$/);
});

test('decoding is strict: anything off is null', () => {
  const good = { v: 1, kind: 'message', id, text: 'hi' };
  const bad = [
    'not json', '[]', 'null', '"text"', '{}',
    JSON.stringify({ ...good, v: 2 }),
    JSON.stringify({ ...good, kind: 'frobnicate' }),          // unknown kinds are ignored
    JSON.stringify({ ...good, kind: 'toString' }),
    JSON.stringify({ ...good, kind: '__proto__' }),
    JSON.stringify({ ...good, id: 'A'.repeat(32) }),
    JSON.stringify({ ...good, id: 'a'.repeat(31) }),
    JSON.stringify({ ...good, extra: 1 }),                     // no extra fields
    JSON.stringify({ ...good, text: '' }),
    JSON.stringify({ ...good, text: '   ' }),
    JSON.stringify({ ...good, text: 42 }),
    JSON.stringify({ ...good, text: 'x'.repeat(envelopeLimits.maxText + 1) }),
    JSON.stringify({ v: 1, kind: 'delete', id, target: 'zz' }),
    JSON.stringify({ v: 1, kind: 'receipt', id, targets: [] }),
    JSON.stringify({ v: 1, kind: 'receipt', id, targets: [id, id] }),
    JSON.stringify({ v: 1, kind: 'receipt', id, targets: 'a'.repeat(32) }),
    JSON.stringify({ v: 1, kind: 'receipt', id, targets: Array.from({ length: 65 }, (_, i) => i.toString(16).padStart(32, '0')) }),
    JSON.stringify({ v: 1, kind: 'roll_commit', id, roll: id, count: 0, sides: 6, commitment: hex64 }),
    JSON.stringify({ v: 1, kind: 'roll_commit', id, roll: id, count: 1, sides: 1001, commitment: hex64 }),
    JSON.stringify({ v: 1, kind: 'roll_commit', id, roll: id, count: 1.5, sides: 6, commitment: hex64 }),
    JSON.stringify({ v: 1, kind: 'roll_reveal', id, roll: id, nonce: 'x', contribution: hex64, commitSet: hex64 }),
    JSON.stringify({ v: 1, kind: 'nick', id, name: 'a b' }),
    JSON.stringify({ v: 1, kind: 'nick', id, name: '\u202eevil' }),
    `{"v":1,"kind":"message","id":"${id}","text":"${'x'.repeat(envelopeLimits.maxBytes)}"}`,   // size limit
  ];
  for (const text of bad) assert.equal(decodeEnvelope(text), null, text.slice(0, 80));
  assert.equal(decodeEnvelope(42), null);
  assert.equal(decodeEnvelope(undefined), null);
});

test('a text of 1040 code points passes; the envelope refuses to encode what it would not accept', () => {
  const emoji = '😀'.repeat(envelopeLimits.maxText);
  assert.equal(decodeEnvelope(encodeEnvelope({ kind: 'message', text: emoji })).text, emoji);
  assert.throws(() => encodeEnvelope({ kind: 'message', text: '' }), TypeError);
  assert.throws(() => encodeEnvelope({ kind: 'nope' }), TypeError);
  assert.throws(() => encodeEnvelope({ kind: 'message', text: 'x', extra: true }), TypeError);
});
