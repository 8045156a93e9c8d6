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
import { isUsername } from '../chat/commands.js';

export const ChannelPhase = Object.freeze({
  offered: 'offered', waiting_peer: 'waiting_peer', key_exchange: 'key_exchange', secure: 'secure',
  rekeying: 'rekeying', ended: 'ended', compromised: 'compromised',
});

// How long an offer may follow the user's request and still be taken as its answer, and how
// many requests are remembered.
const REQUEST_ANSWER_MS = 60_000;
const MAX_PENDING_REQUESTS = 64;

const livePhases = new Set(['offered', 'waiting_peer', 'key_exchange', 'secure', 'rekeying']);
export const isLivePhase = (phase) => livePhases.has(phase);

const sessionPattern = /^[0-9a-f]{32}$/;
const reasonPattern = /^[a-z_]{1,40}$/;
const MAX_MESSAGES = 500;

const awaitingReceipt = (entry) => entry.from === 'me' && entry.status === 'sent';
/**
 * The lines of a channel that just ended: an own line still without the peer's receipt may never
 * have arrived (its frame goes out after the Worker sealed it, maybe into a socket already gone)
 * and no receipt can come any more, so it becomes 'unconfirmed' instead of staying 'sent'.
 */
const withUnconfirmedLines = (messages) => (messages.some(awaitingReceipt)
  ? Object.freeze(messages.map((entry) => (awaitingReceipt(entry) ? Object.freeze({ ...entry, status: 'unconfirmed' }) : entry)))
  : messages);

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

/** True when the peer of `channel` is on the snapshot's ignore list (their messages are hidden). */
export function isIgnored(snapshot, channel) {
  return Boolean(channel && snapshot.ignored.includes(channel.peer.username.toLowerCase()));
}

/** The name a channel's peer is shown with: "nick (username)" once they set a nick, else the username. */
export function peerDisplayName(channel) {
  if (!channel) return '';
  return channel.peerNick && channel.peerNick !== channel.peer.username ? `${channel.peerNick} (${channel.peer.username})` : channel.peer.username;
}

/** Total unread messages over all channels. */
export function unreadTotal(snapshot) {
  return snapshot.channels.reduce((sum, channel) => sum + channel.unread, 0);
}

const emptySnapshot = (self = null) => Object.freeze({ channels: Object.freeze([]), selected: null, notice: null, ignored: Object.freeze([]), self, viewing: true });

/**
 * Snapshot: { channels: [channel…] in creation order, selected: session | null,
 * notice: {code, message} | null, ignored: [lower-case usernames], self: this user's username | null,
 * viewing: whether the Chat tab is the one shown }.
 * A channel's messages: { id (local counter), key (envelope id or null), from: 'me' | 'peer' |
 * 'system', kind: 'message' | 'action' | 'system', text, at, status: 'sent' | 'delivered' | 'unconfirmed'
 * (ended before the receipt) | null,
 * deleted, level ('info' | 'error', system lines), messageKey + params (system lines) }.
 */
export function createChannelStore({ now = () => Date.now() } = {}) {
  const store = createStore(emptySnapshot());
  let messageCounter = 0;

  const find = (session) => store.get().channels.find((channel) => channel.session === session) ?? null;

  function replace(session, changes) {
    const snapshot = store.get();
    const channels = snapshot.channels.map((channel) => (channel.session === session ? Object.freeze({ ...channel, ...changes }) : channel));
    store.set(Object.freeze({ ...snapshot, channels: Object.freeze(channels) }));
  }

  /** The channel stops being live: `changes` give its end; lines awaiting a receipt become unconfirmed. */
  function end(channel, changes) {
    replace(channel.session, { ...changes, messages: withUnconfirmedLines(channel.messages) });
  }

  function markRead(session) {
    if (find(session)?.unread) replace(session, { unread: 0 });
  }

  function setSnapshot(changes) {
    store.set(Object.freeze({ ...store.get(), ...changes }));
  }

  // The peers (user ids) this user asked for a channel with, and when: an offer answering one
  // within REQUEST_ANSWER_MS may take the view (applyOffer). Bounded; old entries expire.
  const requests = new Map();
  function takeRequest(userid) {
    const at = requests.get(userid);
    requests.delete(userid);
    return at !== undefined && now() - at <= REQUEST_ANSWER_MS;
  }

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    find,
    /** The user asked for a channel with `userid` (channel_request sent). */
    noteRequest(userid) {
      if (!Number.isSafeInteger(userid)) return;
      requests.delete(userid);
      requests.set(userid, now());
      while (requests.size > MAX_PENDING_REQUESTS) requests.delete(requests.keys().next().value);
    },
    selected: () => find(store.get().selected),

    /** channel_offer: validated here; returns the new channel or null if malformed. `quiet`: never selected (a room is shown). */
    applyOffer(message, { trust, quiet = false }) {
      const { session, role, peer, certificate } = message ?? {};
      if (typeof session !== 'string' || !sessionPattern.test(session) || find(session)) return null;
      if (role !== 'initiator' && role !== 'responder') return null;
      // The name is shown, announced and compared with pins: only a name the server could have
      // registered (no markup, bidi, control or look-alike characters, at most 32).
      if (!peer || !Number.isSafeInteger(peer.userid) || !isUsername(peer.username)) return null;
      if (!certificate || typeof certificate.fingerprint !== 'string' || typeof certificate.armored !== 'string') return null;
      const channel = Object.freeze({
        session, role, peer: Object.freeze({ userid: peer.userid, username: peer.username }), report: certificate,
        trust: Object.freeze({ ...trust }), phase: 'offered', suite: null, sas: null, epoch: 0,
        messages: Object.freeze([]), endReason: null, endBy: null, createdAt: now(), peerNick: null, ownNick: null, unread: 0,
        // The report checked against the certificate's own facts (certificate-claims.js):
        // { state: 'pending' | 'agrees' | 'disagrees' | 'unreadable', facts, problems }. Accept waits for 'agrees'.
        certificateCheck: Object.freeze({ state: 'pending', facts: null, problems: Object.freeze([]) }),
      });
      const snapshot = store.get();
      // The requester sees the new channel at once; an incoming offer does not steal the
      // selection from a conversation in progress.
      const current = find(snapshot.selected);
      // "The requester" is this user only if it asked for a channel with that peer (the role is
      // the server's word): an offer the user did not ask for never takes the view from a live
      // conversation, whatever role it claims.
      const asked = role === 'initiator' && takeRequest(peer.userid);
      const select = !quiet && (asked || !current || !isLivePhase(current.phase));
      store.set(Object.freeze({ ...snapshot, channels: Object.freeze([...snapshot.channels, channel]), selected: select ? session : snapshot.selected }));
      return channel;
    },

    accepted(session) {
      if (find(session)?.phase === 'offered') replace(session, { phase: 'waiting_peer' });
    },

    /** The Worker read the offer's certificate: { state, facts, problems } (see certificateCheck above). */
    certificateChecked(session, { state, facts = null, problems = [] }) {
      if (!find(session)) return;
      replace(session, { certificateCheck: Object.freeze({ state, facts, problems: Object.freeze([...problems]) }) });
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
      else if (state === 'closed') end(channel, { phase: 'ended', endReason: 'ended', endBy: 'peer' });
    },

    /** A protocol failure found by this side's Worker. */
    compromised(session, reason) {
      const channel = find(session);
      if (!channel || channel.phase === 'compromised') return;
      end(channel, { phase: 'compromised', endReason: reasonPattern.test(reason) ? reason : 'compromised' });
    },

    /** channel_ended from the server. */
    applyEnded({ session, reason, detail, by }) {
      const channel = find(session);
      if (!channel || channel.phase === 'compromised') return;
      if (reason === 'compromised') {
        end(channel, { phase: 'compromised', endReason: typeof detail === 'string' && reasonPattern.test(detail) ? detail : 'compromised', endBy: by ?? null });
      } else if (channel.phase !== 'ended') {
        end(channel, { phase: 'ended', endReason: typeof reason === 'string' && reasonPattern.test(reason) ? reason : 'ended', endBy: by ?? null });
      }
    },

    /** The socket dropped: every live channel ended with it. */
    connectionLost() {
      for (const channel of store.get().channels) {
        if (isLivePhase(channel.phase)) end(channel, { phase: 'ended', endReason: 'connection_lost', endBy: 'you' });
      }
    },

    /**
     * A chat line: from 'me' | 'peer'; kind 'message' | 'action'; key = the envelope id (for
     * receipts and deletion). A peer's line counts as unread unless its channel is the selected
     * one and `seen` is true, or the peer is ignored. Returns the stored entry (or null).
     */
    addMessage(session, { from, text, kind = 'message', key = null, seen = true }) {
      const channel = find(session);
      if (!channel) return null;
      if (key !== null && channel.messages.some((entry) => entry.key === key && entry.from === from)) return null;   // a replay of the same id
      messageCounter += 1;
      const message = Object.freeze({
        id: messageCounter, key, from, kind, text, at: now(), status: from === 'me' ? 'sent' : null, deleted: false,
      });
      const snapshot = store.get();
      const unseen = from === 'peer' && !isIgnored(snapshot, channel) && !(seen && snapshot.viewing && snapshot.selected === session);
      replace(session, { messages: Object.freeze([...channel.messages, message].slice(-MAX_MESSAGES)), unread: channel.unread + (unseen ? 1 : 0) });
      return message;
    },

    /** A local line (command answers, errors, dice results): never sent, never unread. */
    addSystem(session, { messageKey, params = {}, level = 'info', text = '' }) {
      const channel = find(session);
      if (!channel) return null;
      messageCounter += 1;
      const message = Object.freeze({
        id: messageCounter, key: null, from: 'system', kind: 'system', text, messageKey, params: Object.freeze({ ...params }), level, at: now(), status: null, deleted: false,
      });
      replace(session, { messages: Object.freeze([...channel.messages, message].slice(-MAX_MESSAGES)) });
      return message;
    },

    /** Changes the key and parameters of system line `id` (a merged run of missed calls); false when it is gone. */
    updateSystem(session, id, { messageKey, params = {} }) {
      const channel = find(session);
      const target = channel?.messages.find((entry) => entry.id === id && entry.kind === 'system');
      if (!target) return false;
      const next = Object.freeze({ ...target, messageKey: messageKey ?? target.messageKey, params: Object.freeze({ ...params }) });
      replace(session, { messages: Object.freeze(channel.messages.map((entry) => (entry === target ? next : entry))) });
      return true;
    },

    /** A receipt from the peer for one of this user's messages. */
    markDelivered(session, key) {
      const channel = find(session);
      if (!channel || !channel.messages.some((entry) => entry.key === key && entry.from === 'me' && entry.status === 'sent')) return false;
      replace(session, { messages: Object.freeze(channel.messages.map((entry) => (entry.key === key && entry.from === 'me' ? Object.freeze({ ...entry, status: 'delivered' }) : entry))) });
      return true;
    },

    /** Deletion of message `key` by its author only ('me' or 'peer'): the text is dropped. */
    deleteMessage(session, key, by) {
      const channel = find(session);
      if (!channel || (by !== 'me' && by !== 'peer')) return false;
      const target = channel.messages.find((entry) => entry.key === key && entry.from === by && !entry.deleted);
      if (!target) return false;
      replace(session, { messages: Object.freeze(channel.messages.map((entry) => (entry === target ? Object.freeze({ ...entry, text: '', deleted: true }) : entry))) });
      return true;
    },

    setPeerNick(session, name) {
      if (find(session)) replace(session, { peerNick: typeof name === 'string' && name ? name : null });
    },

    /** The nick this user sent to the peer of `session` (/nick). */
    setOwnNick(session, name) {
      if (find(session)) replace(session, { ownNick: typeof name === 'string' && name ? name : null });
    },

    /** Whether the Chat tab is shown: on another tab, the selected channel's lines are unread too. */
    setViewing(viewing) {
      const snapshot = store.get();
      if (snapshot.viewing !== Boolean(viewing)) setSnapshot({ viewing: Boolean(viewing) });
      if (viewing && snapshot.selected) markRead(snapshot.selected);
    },

    /** This user's username (from the session), for own action lines. */
    setSelf(username) {
      setSnapshot({ self: typeof username === 'string' ? username : null });
    },

    /** /clear: the local view only. */
    clearMessages(session) {
      if (find(session)) replace(session, { messages: Object.freeze([]) });
    },

    /** Toggles a username on the ignore list; returns true when it is now ignored. */
    toggleIgnore(username) {
      const name = String(username).toLowerCase();
      const { ignored } = store.get();
      const now_ = !ignored.includes(name);
      const list = now_ ? [...ignored, name] : ignored.filter((entry) => entry !== name);
      setSnapshot({ ignored: Object.freeze(list) });
      return now_;
    },

    /** The channel's messages were seen (selected channel with the window visible). */
    markRead,

    select(session) {
      setSnapshot({ selected: session && find(session) ? session : null });
      if (session) markRead(session);
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
      store.set(Object.freeze({ ...emptySnapshot(store.get().self), viewing: store.get().viewing }));
    },
  });
}
