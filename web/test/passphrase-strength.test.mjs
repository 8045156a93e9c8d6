// The passphrase estimator behind the strength meter and the Worker's refusal of weak
// passphrases for the stored key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_PASSPHRASE_BITS, MIN_PASSPHRASE_LENGTH, estimatePassphrase } from '../src/crypto/passphrase-strength.js';

test('empty, short, common and repetitive passphrases are not acceptable, with the reason', () => {
  assert.deepEqual(estimatePassphrase(''), { bits: 0, level: 0, acceptable: false, reason: 'empty' });
  assert.equal(estimatePassphrase(undefined).reason, 'empty');
  assert.equal(estimatePassphrase('Tr0ub4dor&3').reason, 'too_short');
  for (const common of ['password', 'Password123!', 'qwertyuiop', 'motdepasse', 'correct horse battery staple']) {
    const result = estimatePassphrase(common);
    assert.equal(result.acceptable, false, common);
    assert.equal(result.reason, 'common', common);
    assert.ok(result.level <= 1);
  }
  assert.equal(estimatePassphrase('aaaaaaaaaaaaaaaaaaaa').reason, 'too_simple');
  assert.equal(estimatePassphrase('abcdefghijklmnopqrst').reason, 'too_simple');
  assert.equal(estimatePassphrase('1212121212121').acceptable, false);
  assert.equal(estimatePassphrase('123456789012').reason, 'too_simple');
});

test('long passphrases of several words, or mixed classes, are acceptable; levels grow with strength', () => {
  const fair = estimatePassphrase('violet tractor harbour');
  assert.equal(fair.acceptable, true);
  assert.ok(fair.bits >= MIN_PASSPHRASE_BITS);
  assert.equal(estimatePassphrase('K8#qv!2Lm$9zR').acceptable, true);
  const strong = estimatePassphrase('seven quiet lanterns drift over the 1987 harbour wall');
  assert.equal(strong.level, 4);
  assert.ok(strong.bits > fair.bits);
  assert.ok('kept secret, violet harbour'.length >= MIN_PASSPHRASE_LENGTH && estimatePassphrase('kept secret, violet harbour').acceptable);
  // Non-ASCII letters widen the alphabet: a sentence with accents and other scripts is acceptable.
  assert.equal(estimatePassphrase('Çà et là, l’œuvre de Zoë a été 漢字 reçue').acceptable, true);
});

test('one non-ASCII character does not make a short repeated pattern strong', () => {
  // Each distinct non-ASCII character adds one symbol to the alphabet, not a hundred.
  for (const weak of ['éaéaéaéaéaéa', 'ÿxÿxÿxÿxÿxÿxÿx', 'aébaébaébaéb']) {
    const result = estimatePassphrase(weak);
    assert.equal(result.acceptable, false, weak);
    assert.equal(result.reason, 'too_simple', weak);
    assert.ok(result.bits < MIN_PASSPHRASE_BITS, `${weak}: ${result.bits} bits`);
  }
  // Patterns of period 2 and 3 count like repeats of one character.
  assert.ok(estimatePassphrase('ababababababab').bits <= estimatePassphrase('aaaaaaaaaaaaaa').bits + 10);
  assert.equal(estimatePassphrase('Xy7Xy7Xy7Xy7Xy7').acceptable, false);
  // Many distinct non-ASCII characters still count for what they are.
  assert.ok(estimatePassphrase('ЖЁлка зелёная, пушистая').bits > estimatePassphrase('ЖЁЖЁЖЁЖЁЖЁЖЁЖЁЖЁЖЁЖЁЖЁЖЁ').bits * 3);
});
