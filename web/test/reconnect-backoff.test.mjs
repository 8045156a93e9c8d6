import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelayMs, defaultBackoff } from '../src/net/reconnect-backoff.js';

test('the step doubles from baseMs up to maxMs', () => {
  const lowest = (attempt) => reconnectDelayMs(attempt, { baseMs: 500, maxMs: 8000, random: () => 0 });
  const highest = (attempt) => reconnectDelayMs(attempt, { baseMs: 500, maxMs: 8000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(lowest), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(highest), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('delays stay within [step/2, step] for any random value', () => {
  for (let attempt = 1; attempt <= 40; attempt += 1) {
    for (const r of [0, 0.1, 0.5, 0.9, 1, 2, -1]) {
      const delay = reconnectDelayMs(attempt, { random: () => r });
      const step = Math.min(defaultBackoff.maxMs, defaultBackoff.baseMs * 2 ** (attempt - 1));
      assert.ok(delay >= step / 2 && delay <= step, `attempt ${attempt} random ${r}: ${delay}`);
    }
  }
});

test('jitter spreads clients apart', () => {
  const a = reconnectDelayMs(6, { random: () => 0.1 });
  const b = reconnectDelayMs(6, { random: () => 0.9 });
  assert.ok(b - a > 4000);
});

test('bad arguments are refused', () => {
  assert.throws(() => reconnectDelayMs(0), RangeError);
  assert.throws(() => reconnectDelayMs(1.5), RangeError);
  assert.throws(() => reconnectDelayMs(1, { baseMs: 0 }), RangeError);
  assert.throws(() => reconnectDelayMs(1, { baseMs: 10, maxMs: 5 }), RangeError);
  assert.throws(() => reconnectDelayMs(1, { base: 10 }), /unknown option base/);
});
