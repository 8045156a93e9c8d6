// Secure channels as the page shows them: one entry per server session, fed with the server's
// control messages and the crypto Worker's state events. Pure (no DOM, no network), so the
// status mapping is tested in Node.
//
// phase (what the user is shown):
//   offered       – the peer's certificate is shown; this user must accept or reject it
//   waiting_peer  – this user accepted; waiting for the peer to accept
//   key_exchange  – both accepted (channel_open); the handshake runs in the Worker
//   secure | rekeying
//   ended         – closed normally, rejected, peer disconnected, idle, offer expired…
//   compromised   – a protocol check failed or the handshake timed out (reason says which)

import { createStore } from './store.js';

export const ChannelPhase = Object.freeze({
  offered: 'offered', waiting_peer: 'waiting_peer', key_exchange: 'key_exchange', secure: 'secure',
  rekeying: 'rekeying', ended: 'ended', compromised: 'compromised',
});

const livePhases = new Set(['offered', 'waiting_peer', 'key_exchange', 'secure', 'rekeying']);
export const isLivePhase = (phase) => livePhases.has(phase);

const sessionPattern = /^[0-9a-f]{32}$/;
const reasonPattern = /^[a-z_]{1,40}$/;
const MAX_MESSAGES = 500;

/**
 * The status-bar state of a channel (or of none): { state, reason } where state is one of
 * none, verifying, waiting, key_exchange, secure, rekeying, ended, compromised — the i18n key
 * is `channel.status.<state>`; reason (for ended/compromised) is a code for `channel.reason.<code>`.
 */
export function channelStatusOf(channel) {
  if (!channel) return { state: 'none', reason: null };
  switch (channel.phase) {
    case 'offered': return { state: 'verifying', reason: null };
    case 'waiting_peer': return { state: 'waiting', reason: null };
    case 'key_exchange': return { state: 'key_exchange', reason: null };
    case 'secure': return { state: 'secure', reason: null };
    case 'rekeying': return { state: 'rekeying', reason: null };
    case 'compromised': return { state: 'compromised', reason: channel.endReason ?? 'compromised' };
    default: return { state: 'ended', reason: channel.endReason ?? 'ended' };
  }
}

/** Snapshot: { channels: [channel…] in creation order, selected: session | null, notice: {code, message} | null }. */
export function createChannelStore({ now = () => Date.now() } = {}) {
  const store = createStore(Object.freeze({ channels: Object.freeze([]), selected: null, notice: null }));
  let messageCounter = 0;

  const find = (session) => store.get().channels.find((channel) => channel.session === session) ?? null;

  function replace(session, changes) {
    const snapshot = store.get();
    const channels = snapshot.channels.map((channel) => (channel.session === session ? Object.freeze({ ...channel, ...changes }) : channel));
    store.set(Object.freeze({ ...snapshot, channels: Object.freeze(channels) }));
  }

  function setSnapshot(changes) {
    store.set(Object.freeze({ ...store.get(), ...changes }));
  }

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    find,
    selected: () => find(store.get().selected),

    /** channel_offer: validated here; returns the new channel or null if malformed. */
    applyOffer(message, { trust }) {
      const { session, role, peer, certificate } = message ?? {};
      if (typeof session !== 'string' || !sessionPattern.test(session) || find(session)) return null;
      if (role !== 'initiator' && role !== 'responder') return null;
      if (!peer || !Number.isSafeInteger(peer.userid) || typeof peer.username !== 'string') return null;
      if (!certificate || typeof certificate.fingerprint !== 'string' || typeof certificate.armored !== 'string') return null;
      const channel = Object.freeze({
        session, role, peer: Object.freeze({ userid: peer.userid, username: peer.username }), report: certificate,
        trust: Object.freeze({ ...trust }), phase: 'offered', suite: null, sas: null, epoch: 0,
        messages: Object.freeze([]), endReason: null, endBy: null, createdAt: now(),
      });
      const snapshot = store.get();
      // The requester sees the new channel at once; an incoming offer does not steal the
      // selection from a conversation in progress.
      const current = find(snapshot.selected);
      const select = role === 'initiator' || !current || !isLivePhase(current.phase);
      store.set(Object.freeze({ ...snapshot, channels: Object.freeze([...snapshot.channels, channel]), selected: select ? session : snapshot.selected }));
      return channel;
    },

    accepted(session) {
      if (find(session)?.phase === 'offered') replace(session, { phase: 'waiting_peer' });
    },

    // Only a channel this user accepted may open: a channel_open injected by a hostile relay
    // for an offer still awaiting the user's decision is ignored.
    opened(session) {
      if (find(session)?.phase === 'waiting_peer') replace(session, { phase: 'key_exchange' });
    },

    /** A channel.state event of the Worker (protocol states of docs/protocol.md §9). */
    applyWorkerState({ session, state, suite, epoch, sas }) {
      const channel = find(session);
      if (!channel || !isLivePhase(channel.phase)) return;
      if (state === 'secure') replace(session, { phase: 'secure', suite: suite ?? channel.suite, epoch: epoch ?? channel.epoch, sas: sas ?? channel.sas });
      else if (state === 'rekeying') replace(session, { phase: 'rekeying' });
      else if (state === 'closed') replace(session, { phase: 'ended', endReason: 'ended', endBy: 'peer' });
    },

    /** A protocol failure found by this side's Worker. */
    compromised(session, reason) {
      const channel = find(session);
      if (!channel || channel.phase === 'compromised') return;
      replace(session, { phase: 'compromised', endReason: reasonPattern.test(reason) ? reason : 'compromised' });
    },

    /** channel_ended from the server. */
    applyEnded({ session, reason, detail, by }) {
      const channel = find(session);
      if (!channel || channel.phase === 'compromised') return;
      if (reason === 'compromised') {
        replace(session, { phase: 'compromised', endReason: typeof detail === 'string' && reasonPattern.test(detail) ? detail : 'compromised', endBy: by ?? null });
      } else if (channel.phase !== 'ended') {
        replace(session, { phase: 'ended', endReason: typeof reason === 'string' && reasonPattern.test(reason) ? reason : 'ended', endBy: by ?? null });
      }
    },

    /** The socket dropped: every live channel ended with it. */
    connectionLost() {
      for (const channel of store.get().channels) {
        if (isLivePhase(channel.phase)) replace(channel.session, { phase: 'ended', endReason: 'connection_lost', endBy: 'you' });
      }
    },

    addMessage(session, { from, text }) {
      const channel = find(session);
      if (!channel) return;
      messageCounter += 1;
      const message = Object.freeze({ id: messageCounter, from, text, at: now() });
      replace(session, { messages: Object.freeze([...channel.messages, message].slice(-MAX_MESSAGES)) });
    },

    select(session) {
      setSnapshot({ selected: session && find(session) ? session : null });
    },

    /** Removes an ended channel from the list (its messages go with it). */
    remove(session) {
      const snapshot = store.get();
      const channels = snapshot.channels.filter((channel) => channel.session !== session);
      store.set(Object.freeze({ ...snapshot, channels: Object.freeze(channels), selected: snapshot.selected === session ? null : snapshot.selected }));
    },

    notify(notice) {
      setSnapshot({ notice: notice ? Object.freeze({ code: String(notice.code ?? 'unknown'), message: String(notice.message ?? '') }) : null });
    },

    clear() {
      store.set(Object.freeze({ channels: Object.freeze([]), selected: null, notice: null }));
    },
  });
}
