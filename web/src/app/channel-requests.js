// Incoming secure-channel requests (a peer's channel_offer, this user in the responder role):
// each new one is announced once (the page's polite live region says "<name> wants a secure
// channel", a sound, a desktop notification without the name when the window is hidden), and
// it counts as unseen — on the Chat tab's badge and in the window title — until the user has
// had it on screen (its conversation shown in the Chat tab of a visible window) or it is
// answered, withdrawn or ended.

import { createStore } from '../state/store.js';

/** The offers that ask this user for a channel and still wait for an answer. */
export function incomingOffers(channelSnapshot) {
  return (channelSnapshot?.channels ?? []).filter((channel) => channel.role === 'responder' && channel.phase === 'offered');
}

/**
 * One step of the requests' bookkeeping, pure:
 * known — sessions already announced; seen — sessions already shown to the user;
 * shown — the session on screen now (or null); → { known, seen, announce: [offer…], pending: [{session, username}…] }.
 * Sets only keep sessions that are still offers (an answered request is forgotten).
 */
export function nextRequests({ offers, known, seen, shown }) {
  const live = new Set(offers.map((offer) => offer.session));
  const announce = offers.filter((offer) => !known.has(offer.session));
  const nextKnown = new Set([...known].filter((session) => live.has(session)));
  for (const offer of announce) nextKnown.add(offer.session);
  const nextSeen = new Set([...seen].filter((session) => live.has(session)));
  if (shown && live.has(shown)) nextSeen.add(shown);
  const pending = offers.filter((offer) => !nextSeen.has(offer.session))
    .map((offer) => Object.freeze({ session: offer.session, username: offer.peer.username }));
  return { known: nextKnown, seen: nextSeen, announce, pending: Object.freeze(pending) };
}

/**
 * Options: { channelStore, roomStore?, isVisible() → whether the window is shown,
 *            onRequest(offer) for each new request (announcement, sound, notification) }.
 * Returns a store of { pending: [{session, username}…] } (unseen requests), plus refresh()
 * to call when the window's visibility changes.
 */
export function createChannelRequests({ channelStore, roomStore = null, isVisible = () => true, onRequest = () => {} }) {
  const store = createStore(Object.freeze({ pending: Object.freeze([]) }));
  let known = new Set();
  let seen = new Set();

  function shownSession() {
    const snapshot = channelStore.get();
    if (!snapshot.viewing || !isVisible() || roomStore?.get().selected) return null;
    return snapshot.selected;
  }

  function refresh() {
    const step = nextRequests({ offers: incomingOffers(channelStore.get()), known, seen, shown: shownSession() });
    known = step.known;
    seen = step.seen;
    const before = store.get().pending;
    const changed = before.length !== step.pending.length || before.some((entry, index) => entry.session !== step.pending[index].session);
    if (changed) store.set(Object.freeze({ pending: step.pending }));
    for (const offer of step.announce) {
      try {
        onRequest(offer);
      } catch {
        // An alert that failed (no audio, no notifications) never stops the bookkeeping.
      }
    }
  }

  channelStore.subscribe(refresh);
  roomStore?.subscribe(refresh);
  return Object.freeze({ get: store.get, subscribe: store.subscribe, refresh });
}
