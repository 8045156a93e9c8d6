// Waiting for a condition in tests, never for a fixed time: polls `read()` until
// `accept(value)` holds and resolves that value, or fails naming `what` with the last value.

import assert from 'node:assert/strict';

export async function until(read, accept, what, timeoutMs = 15_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
