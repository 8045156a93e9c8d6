// Pure reconnect schedule for the WebSocket client: exponential growth with "equal jitter"
// (half fixed, half random) so that many clients dropped by one server restart do not all
// come back in the same instant, while no client waits less than half its step.

export const defaultBackoff = Object.freeze({ baseMs: 500, maxMs: 30_000 });

/**
 * Delay before reconnect attempt number `attempt` (1 for the first retry).
 * Options: { baseMs, maxMs, random } where random() returns a number in [0, 1).
 */
export function reconnectDelayMs(attempt, options = {}) {
  for (const name of Object.keys(options)) {
    if (!['baseMs', 'maxMs', 'random'].includes(name)) {
      throw new TypeError(`reconnectDelayMs: unknown option ${name}`);
    }
  }
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`reconnectDelayMs: attempt must be an integer >= 1, got ${attempt}`);
  }
  const baseMs = options.baseMs ?? defaultBackoff.baseMs;
  const maxMs = options.maxMs ?? defaultBackoff.maxMs;
  const random = options.random ?? Math.random;
  if (!(baseMs > 0) || !(maxMs >= baseMs)) {
    throw new RangeError('reconnectDelayMs: need 0 < baseMs <= maxMs');
  }
  // Cap the exponent first: 2 ** 1000 would be Infinity and the min() would still work,
  // but a bounded exponent keeps the arithmetic exact.
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  const jitter = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.round(step / 2 + jitter * (step / 2));
}
