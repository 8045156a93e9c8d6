// The two signing contexts of the long-term key (docs/protocol.md "Signing contexts"): the
// 59-byte handshake signature input and the possession challenge v2, whose strict reader must
// refuse every text that is not exactly of the documented form — above all any handshake input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HANDSHAKE_SIGNATURE_INPUT_BYTES, MAX_POSSESSION_CHALLENGE_BYTES, POSSESSION_CHALLENGE_HEADER, SignatureRole,
  handshakeSignatureInput, parsePossessionChallenge, possessionChallengeText,
} from '../src/crypto/protocol/signing-contexts.js';

const fields = Object.freeze({
  origin: 'https://localhost:8443',
  user: 'alice',
  fingerprint: 'ab'.repeat(20),
  nonce: '0f'.repeat(32),
  time: 1_800_000_000,
});
const good = possessionChallengeText(fields);
const malformed = (error) => error?.name === 'ChannelError' && error.reason === 'malformed';

test('handshake input: 59 bytes, 0xFF first, the v2 label, 0x00, the role byte, TH', () => {
  const th = Uint8Array.from({ length: 32 }, (_, i) => i);
  const input = handshakeSignatureInput({ role: SignatureRole.responder, transcriptHash: th });
  assert.equal(input.length, HANDSHAKE_SIGNATURE_INPUT_BYTES);
  assert.equal(input.length, 59);
  assert.equal(input[0], 0xff);
  assert.equal(new TextDecoder().decode(input.subarray(1, 25)), 'Security.MS handshake v2');
  assert.deepEqual([...input.subarray(25, 27)], [0x00, 0x02]);
  assert.deepEqual(input.subarray(27), th);
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(input), TypeError, 'never valid UTF-8');
  assert.throws(() => handshakeSignatureInput({ role: 3, transcriptHash: th }), { reason: 'invalid_argument' });
  assert.throws(() => handshakeSignatureInput({ role: 1, transcriptHash: th.subarray(1) }), { reason: 'invalid_argument' });
});

test('possession challenge v2: the documented six lines, read back field by field', () => {
  assert.equal(good, `${POSSESSION_CHALLENGE_HEADER}\norigin: https://localhost:8443\nuser: alice\nfingerprint: ${'ab'.repeat(20)}\nnonce: ${'0f'.repeat(32)}\ntime: 1800000000\n`);
  assert.deepEqual({ ...parsePossessionChallenge(good) }, fields);
  assert.deepEqual({ ...parsePossessionChallenge(new TextEncoder().encode(good)) }, fields, 'the same bytes read the same');
  // A v6 fingerprint (64 hex), an origin without port, a time of 0.
  const v6 = possessionChallengeText({ ...fields, origin: 'https://chat.example.org', fingerprint: 'cd'.repeat(32), time: 0 });
  assert.equal(parsePossessionChallenge(v6).fingerprint, 'cd'.repeat(32));
  assert.throws(() => possessionChallengeText({ ...fields, extra: 1 }), { reason: 'invalid_argument' });
  assert.throws(() => possessionChallengeText({ ...fields, nonce: 'AB'.repeat(32) }), { reason: 'invalid_argument' });
});

test('possession challenge v2: every malformed text is refused', () => {
  const swap = (from, to) => good.replace(from, to);
  const cases = {
    'v1 header': swap('possession v2', 'possession v1'),
    'short nonce': swap(`nonce: ${'0f'.repeat(32)}`, `nonce: ${'0f'.repeat(31)}`),
    'long nonce': swap(`nonce: ${'0f'.repeat(32)}`, `nonce: ${'0f'.repeat(33)}`),
    'upper-case nonce': swap(`nonce: ${'0f'.repeat(32)}`, `nonce: ${'0F'.repeat(32)}`),
    'upper-case fingerprint': swap('ab'.repeat(20), 'AB'.repeat(20)),
    '41-hex fingerprint': swap('ab'.repeat(20), `${'ab'.repeat(20)}a`),
    'time with a leading zero': swap('time: 1800000000', 'time: 01800000000'),
    'negative time': swap('time: 1800000000', 'time: -1'),
    'time with a fraction': swap('time: 1800000000', 'time: 1800000000.5'),
    'extra line': `${good}comment: hello\n`,
    'missing final newline': good.slice(0, -1),
    'CRLF line ends': good.replaceAll('\n', '\r\n'),
    'blank line': good.replace('\nuser', '\n\nuser'),
    'missing time line': good.slice(0, good.indexOf('time: ')),
    'lines reordered': swap('origin: https://localhost:8443\nuser: alice', 'user: alice\norigin: https://localhost:8443'),
    'two spaces after a colon': swap('user: alice', 'user:  alice'),
    'non-ASCII user': swap('user: alice', 'user: alicé'),
    'non-ASCII anywhere (NBSP)': swap('user: alice', 'user:\u00a0alice'),
    'a NUL byte': swap('user: alice', 'user: ali\u0000ce'),
    'a tab': swap('user: alice', 'user:\talice'),
    'user too short': swap('user: alice', 'user: al'),
    'origin with a path': swap('https://localhost:8443', 'https://localhost:8443/app'),
    'origin with user info': swap('https://localhost:8443', 'https://x@localhost:8443'),
    'origin in upper case': swap('https://localhost:8443', 'https://LOCALHOST:8443'),
    'leading text': `x${good}`,
    'empty': '',
    'too long': good.replace('user: alice', `user: ${'a'.repeat(MAX_POSSESSION_CHALLENGE_BYTES)}`),
  };
  for (const [name, text] of Object.entries(cases)) {
    assert.throws(() => parsePossessionChallenge(text), malformed, name);
  }
  for (const value of [null, undefined, 42, {}, [good]]) assert.throws(() => parsePossessionChallenge(value), malformed);
});

test('no handshake input and no byte string starting 0xFF reads as a possession challenge', () => {
  for (const role of [SignatureRole.initiator, SignatureRole.responder]) {
    for (let i = 0; i < 64; i += 1) {
      const th = globalThis.crypto.getRandomValues(new Uint8Array(32));
      const input = handshakeSignatureInput({ role, transcriptHash: th });
      assert.throws(() => parsePossessionChallenge(input), malformed, 'as bytes');
      // However the page might turn the bytes into a string: byte-per-character, or UTF-8 with replacement.
      assert.throws(() => parsePossessionChallenge(String.fromCharCode(...input)), malformed, 'as Latin-1 text');
      assert.throws(() => parsePossessionChallenge(new TextDecoder().decode(input)), malformed, 'as UTF-8 text');
    }
  }
  // 0xFF followed by a whole valid challenge, as bytes and as text.
  const bytes = new TextEncoder().encode(good);
  const prefixed = new Uint8Array(bytes.length + 1);
  prefixed[0] = 0xff;
  prefixed.set(bytes, 1);
  assert.throws(() => parsePossessionChallenge(prefixed), malformed);
  assert.throws(() => parsePossessionChallenge(`\u00ff${good}`), malformed);
  // Every byte value ≥ 0x80 anywhere in an otherwise valid challenge is refused.
  for (let b = 0x80; b <= 0xff; b += 1) {
    const changed = Uint8Array.from(bytes);
    changed[good.indexOf('alice')] = b;
    assert.throws(() => parsePossessionChallenge(changed), malformed, `byte 0x${b.toString(16)}`);
  }
});
