// Client-side chat limits: flood control and message length. Pure (the clock is injected).
// They spare the user a refusal: the server enforces the same limits on its own, so a client
// that skips these gains nothing.
//
// Defaults follow AJAX Chat (lib/config.php.example): messageTextMaxLength = 1040 and
// maxMessageRate = 20 messages per minute.

import { codePointLength } from './text.js';

export const defaultLimits = Object.freeze({ maxLength: 1040, maxMessages: 20, windowMs: 60_000 });

function positiveInteger(value, name) {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`limits: ${name} must be a positive integer`);
  return value;
}

/**
 * Sliding-window flood control: at most maxMessages sends in any windowMs. A send at time t
 * counts until t + windowMs (exclusive), so "20 per minute" never lets a burst of 40 through
 * across a minute boundary, as a fixed per-minute counter would.
 *   const flood = createFloodControl({ maxMessages: 20, windowMs: 60000, now: () => Date.now() });
 *   flood.check()      → { allowed, remaining, retryAfterMs }  (does not count)
 *   flood.tryConsume() → same, and counts the send when allowed
 *   flood.reset()
 */
export function createFloodControl({ maxMessages = defaultLimits.maxMessages, windowMs = defaultLimits.windowMs, now = () => Date.now() } = {}) {
  positiveInteger(maxMessages, 'maxMessages');
  positiveInteger(windowMs, 'windowMs');
  if (typeof now !== 'function') throw new TypeError('limits: now must be a function');
  // Send times, oldest first; never more than maxMessages entries.
  let sent = [];

  function prune(at) {
    const from = sent.findIndex((time) => time + windowMs > at);
    sent = from === -1 ? [] : sent.slice(from);
  }

  function check() {
    const at = now();
    prune(at);
    const allowed = sent.length < maxMessages;
    return Object.freeze({
      allowed,
      remaining: maxMessages - sent.length,
      // When the oldest counted send leaves the window, one more is allowed.
      retryAfterMs: allowed ? 0 : sent[0] + windowMs - at,
    });
  }

  function tryConsume() {
    const state = check();
    if (!state.allowed) return state;
    sent.push(now());
    return Object.freeze({ ...state, remaining: state.remaining - 1 });
  }

  return Object.freeze({ check, tryConsume, reset: () => { sent = []; } });
}

/**
 * The live state of the message being typed, for the counter under the input:
 *   messageLength('héllo 😀') → { length: 7, max: 1040, remaining: 1033, over: false, counterText: '7/1040' }
 * length counts Unicode code points (see text.js): an astral emoji is 1, a combining mark 1.
 */
export function messageLength(text, { maxLength = defaultLimits.maxLength } = {}) {
  positiveInteger(maxLength, 'maxLength');
  const length = codePointLength(text ?? '');
  return Object.freeze({ length, max: maxLength, remaining: maxLength - length, over: length > maxLength, counterText: `${length}/${maxLength}` });
}

/** The error for a text that cannot be sent as is, or null. Same shape as commands.js errors. */
export function checkMessageLength(text, options) {
  const state = messageLength(text, options);
  if (!state.over) return null;
  return Object.freeze({ error: Object.freeze({ code: 'message_too_long', messageKey: 'chat.error.message_too_long', params: Object.freeze({ length: state.length, max: state.max }) }) });
}

/** The error for a refused send (from a flood-control state), or null when allowed. */
export function floodError(state) {
  if (state.allowed) return null;
  const seconds = Math.max(1, Math.ceil(state.retryAfterMs / 1000));
  return Object.freeze({ error: Object.freeze({ code: 'flood', messageKey: 'chat.error.flood', params: Object.freeze({ seconds }) }) });
}
