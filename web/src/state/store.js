// Smallest observable value: pure (no DOM), shared by the state modules. Subscribers get
// the new value after each change; values are treated as immutable snapshots.

export function createStore(initialValue) {
  let value = initialValue;
  const listeners = new Set();
  return Object.freeze({
    get: () => value,
    set(next) {
      if (Object.is(next, value)) return;
      value = next;
      for (const listener of [...listeners]) listener(value);
    },
    /** Returns an unsubscribe function. */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
}
