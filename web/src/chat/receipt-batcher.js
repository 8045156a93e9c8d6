// Delivery receipts, coalesced: the ids of lines received in one conversation are gathered for
// `delayMs` after the first, then confirmed in one receipt envelope (at most maxReceiptTargets
// ids; a full batch goes at once). Pure apart from timers; the caller sends.

import { envelopeLimits } from './envelope.js';

/** Options: { delayMs, send(conversation, targets) } (send only when the conversation is still up). */
export function createReceiptBatcher({ delayMs, send }) {
  const pending = new Map();   // conversation → { targets, timer }

  function flush(conversation) {
    const batch = pending.get(conversation);
    if (!batch) return;
    pending.delete(conversation);
    clearTimeout(batch.timer);
    send(conversation, batch.targets);
  }

  function queue(conversation, id) {
    let batch = pending.get(conversation);
    if (!batch) {
      batch = { targets: [], timer: setTimeout(() => flush(conversation), delayMs) };
      batch.timer?.unref?.();
      pending.set(conversation, batch);
    }
    batch.targets.push(id);
    if (batch.targets.length >= envelopeLimits.maxReceiptTargets) flush(conversation);
  }

  /** Drops every batch unsent (the connection is gone). */
  function clear() {
    for (const batch of pending.values()) clearTimeout(batch.timer);
    pending.clear();
  }

  return Object.freeze({ queue, flush, clear });
}
