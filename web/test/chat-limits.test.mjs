import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFloodControl, messageLength, checkMessageLength, floodError, defaultLimits } from '../src/chat/limits.js';
import { codePointLength, neutraliseText, truncateCodePoints } from '../src/chat/text.js';
import en from '../src/i18n/en.js';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms) => { now += ms; } };
}

test('defaults: 20 messages per minute, 1040 characters', () => {
  assert.deepEqual({ ...defaultLimits }, { maxLength: 1040, maxMessages: 20, windowMs: 60_000 });
});

test('flood control allows 20 sends in a minute and refuses the 21st', () => {
  const clock = fakeClock();
  const flood = createFloodControl({ now: clock.now });
  for (let i = 0; i < 20; i += 1) {
    const state = flood.tryConsume();
    assert.equal(state.allowed, true, `send ${i + 1}`);
    assert.equal(state.remaining, 19 - i);
    clock.advance(1000);
  }
  const refused = flood.tryConsume();
  assert.equal(refused.allowed, false);
  assert.equal(refused.remaining, 0);
  // The first send was at t0; now is t0 + 20 s: it leaves the window in 40 s.
  assert.equal(refused.retryAfterMs, 40_000);
  assert.equal(floodError(refused).error.code, 'flood');
  assert.equal(floodError(refused).error.params.seconds, 40);
  assert.ok(floodError(refused).error.messageKey in en);
  assert.equal(floodError(flood.check()) === null, false);
});

test('the window slides: each send frees a slot exactly windowMs later', () => {
  const clock = fakeClock();
  const flood = createFloodControl({ maxMessages: 3, windowMs: 10_000, now: clock.now });
  flood.tryConsume(); clock.advance(2000);   // t=0
  flood.tryConsume(); clock.advance(2000);   // t=2000
  flood.tryConsume();                        // t=4000
  assert.equal(flood.tryConsume().allowed, false);
  clock.advance(5999);                       // t=9999: the t=0 send still counts
  assert.equal(flood.check().allowed, false);
  assert.equal(flood.check().retryAfterMs, 1);
  clock.advance(1);                          // t=10000: it has left
  assert.equal(flood.check().allowed, true);
  assert.equal(flood.check().remaining, 1);
  assert.equal(flood.tryConsume().allowed, true);
  assert.equal(flood.tryConsume().allowed, false, 'the t=2000 send is still in the window');
  clock.advance(2000);
  assert.equal(flood.tryConsume().allowed, true);
});

test('no burst across a minute boundary (unlike a per-minute counter)', () => {
  const clock = fakeClock(59_000);
  const flood = createFloodControl({ now: clock.now });
  for (let i = 0; i < 20; i += 1) assert.equal(flood.tryConsume().allowed, true);
  clock.advance(2000);  // a fixed counter would have reset at 60 000
  assert.equal(flood.tryConsume().allowed, false);
});

test('check() does not count; a refused send does not count; reset clears', () => {
  const clock = fakeClock();
  const flood = createFloodControl({ maxMessages: 1, windowMs: 1000, now: clock.now });
  for (let i = 0; i < 5; i += 1) assert.equal(flood.check().allowed, true);
  assert.equal(flood.tryConsume().allowed, true);
  for (let i = 0; i < 5; i += 1) assert.equal(flood.tryConsume().allowed, false);
  clock.advance(1000);
  assert.equal(flood.tryConsume().allowed, true, 'refused attempts did not extend the wait');
  flood.reset();
  assert.equal(flood.tryConsume().allowed, true);
});

test('flood control options are validated', () => {
  assert.throws(() => createFloodControl({ maxMessages: 0 }), RangeError);
  assert.throws(() => createFloodControl({ windowMs: -1 }), RangeError);
  assert.throws(() => createFloodControl({ maxMessages: 1.5 }), RangeError);
  assert.throws(() => createFloodControl({ now: 5 }), TypeError);
  const clock = fakeClock();
  const custom = createFloodControl({ maxMessages: 2, windowMs: 500, now: clock.now });
  custom.tryConsume(); custom.tryConsume();
  assert.equal(custom.check().allowed, false);
});

test('length counts code points: astral emoji 1, combining marks 1 each', () => {
  assert.equal(messageLength('').length, 0);
  assert.equal(messageLength('hello').length, 5);
  assert.equal(messageLength('😀').length, 1);
  assert.equal('😀'.length, 2, 'UTF-16 would say 2');
  assert.equal(messageLength('𝕏𝕐').length, 2);
  assert.equal(messageLength('e\u0301').length, 2, 'e + combining acute');
  assert.equal(messageLength('é').length, 1, 'precomposed');
  assert.equal(messageLength('👨‍👩‍👧').length, 5, 'ZWJ family: 3 emoji + 2 joiners');
  assert.equal(messageLength('🇫🇷').length, 2, 'flag: two regional indicators');
  assert.equal(codePointLength('a\uD800b'), 3, 'a lone surrogate counts as one');
});

test('counter text and over-limit state', () => {
  assert.deepEqual({ ...messageLength('héllo 😀') }, { length: 7, max: 1040, remaining: 1033, over: false, counterText: '7/1040' });
  const full = messageLength('😀'.repeat(1040));
  assert.equal(full.counterText, '1040/1040');
  assert.equal(full.over, false);
  assert.equal(checkMessageLength('😀'.repeat(1040)), null);
  const over = messageLength('😀'.repeat(1041));
  assert.equal(over.counterText, '1041/1040');
  assert.equal(over.over, true);
  assert.equal(over.remaining, -1);
  const error = checkMessageLength('x'.repeat(1041)).error;
  assert.equal(error.code, 'message_too_long');
  assert.deepEqual({ ...error.params }, { length: 1041, max: 1040 });
  assert.ok(error.messageKey in en);
  assert.equal(messageLength('abcd', { maxLength: 3 }).counterText, '4/3');
  assert.equal(messageLength('abc', { maxLength: 3 }).over, false);
  assert.equal(messageLength(undefined).length, 0);
  assert.throws(() => messageLength('x', { maxLength: 0 }), RangeError);
});

test('text helpers: truncation never splits a pair; neutralisation', () => {
  assert.equal(truncateCodePoints('a😀b', 2), 'a😀');
  assert.equal(truncateCodePoints('😀😀', 1), '😀');
  assert.equal(truncateCodePoints('abc', 10), 'abc');
  assert.equal(neutraliseText('a\u202Eb\u2066c\u2069d\u202Ce'), 'abcde');
  assert.equal(neutraliseText('x\u0000y\u0007z\u009B'), 'x\uFFFDy\uFFFDz\uFFFD');
  assert.equal(neutraliseText('a\r\nb\rc\td'), 'a\nb\nc\td');
  assert.equal(neutraliseText('\u200F\u200E\u200D\u200C'), '\u200F\u200E\u200D\u200C', 'marks and joiners kept');
  assert.equal(neutraliseText('\uD83D'), '\uFFFD');
});
