// Runs the real crypto Worker module (web/src/crypto/worker.js) in node behind a stand-in
// `self`: tests send typed requests to its message handler and read what it posts. One Worker
// per test file (node runs each file in its own process).

/**
 * → { worker (the stand-in self: onrtctransform …), posted (every message posted, in order),
 *     request(type, payload?, { deadlineMs }) → the reply posted for that request's id }.
 *     lastRequestId() (the id the latest request carried), within(promise, what, deadlineMs) }.
 * A request without a reply within the deadline fails (a hang becomes a failure; a slow machine
 * only makes the test slower).
 */
export async function loadCryptoWorker() {
  const posted = [];
  const awaiting = new Map(); // request id → resolve of its reply
  let listener;
  globalThis.self = {
    addEventListener: (type, fn) => { if (type === 'message') listener = fn; },
    postMessage: (message) => {
      posted.push(message);
      awaiting.get(message.id)?.(message);
    },
  };
  await import('../../src/crypto/worker.js');

  let nextId = 1;
  async function request(type, payload, { deadlineMs = 20_000 } = {}) {
    const id = nextId++;
    const reply = new Promise((resolve) => awaiting.set(id, resolve));
    listener({ data: { id, type, ...(payload === undefined ? {} : { payload }) } });
    try {
      return await within(reply, `reply to ${type}`, deadlineMs);
    } finally {
      awaiting.delete(id);
    }
  }
  return { worker: globalThis.self, posted, request, within, lastRequestId: () => nextId - 1 };
}

/** Resolves with `promise`, or fails once `what` has not happened within the deadline. */
export function within(promise, what, deadlineMs = 20_000) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${deadlineMs} ms`)), deadlineMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
