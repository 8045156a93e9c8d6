// The call history of this login: in memory only (never stored), newest first, bounded. An entry
// is added when a call starts ringing and finished when it ends.

export const HISTORY_LIMIT = 50;

/** → { add({ direction, peer, media }) → id, finish(id, { outcome, durationMs }), list() } */
export function createSipHistory({ now, limit = HISTORY_LIMIT, onChange = () => {} }) {
  let entries = Object.freeze([]);
  let nextId = 1;

  function replace(next) {
    entries = Object.freeze(next);
    onChange(entries);
  }

  return Object.freeze({
    add({ direction, peer, media = 'audio' }) {
      const id = nextId++;
      const entry = Object.freeze({ id, direction, peer: String(peer), media, at: now(), outcome: 'ongoing', durationMs: 0 });
      replace([entry, ...entries].slice(0, limit));
      return id;
    },
    finish(id, { outcome, durationMs = 0, media }) {
      if (!entries.some((entry) => entry.id === id && entry.outcome === 'ongoing')) return false;
      replace(entries.map((entry) => (entry.id === id
        ? Object.freeze({ ...entry, outcome, durationMs: Math.max(0, durationMs), media: media ?? entry.media }) : entry)));
      return true;
    },
    list: () => entries,
    clear: () => replace([]),
  });
}
