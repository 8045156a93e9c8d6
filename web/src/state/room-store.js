// Chat rooms as the page shows them: one entry per room this user is (or was) in, fed with the
// server's room events (membership, never content) and the lines the crypto Worker decrypted.
// Pure (no DOM, no network), tested in Node.
//
// A room: { room (32 hex id), name (public rooms) | null, public, owner | null, members [sorted
// usernames], moderators [sorted usernames], joined (false once this user left or was removed),
// endReason ('left' | 'removed' | 'kicked' | 'connection_lost') | null, messages, unread, nicks
// {username → nick}, waitingFor [members who cannot read this user's messages yet], limits
// { floodPerMinute, maxMessageChars } as the server enforces them (room_joined) }.
// A message: { id, key (envelope id) | null, from: 'me' | 'peer' | 'system', user (the author's
// username), kind: 'message' | 'action' | 'system', text, at, status: 'sent' | 'delivered' |
// 'unconfirmed' (this user left the room, or the connection dropped, before every receipt) |
// null, recipients [usernames a sent message was meant for], deliveredTo [usernames], deleted,
// deletedBy | null, messageKey + params + level (system lines) }.

import { createStore } from './store.js';
import { defaultLimits } from '../chat/limits.js';
import { isUsername } from '../chat/commands.js';

const roomIdPattern = /^[0-9a-f]{32}$/;
const MAX_MESSAGES = 500;

const awaitingReceipts = (message) => message.from === 'me' && message.status === 'sent' && message.deliveredTo.length < message.recipients.length;
/**
 * The lines of a room this user is no longer in: receipts can no longer reach this page, and an
 * own line not yet delivered to everyone may have been lost with the connection (its frame still
 * queued or unacknowledged), so it becomes 'unconfirmed' instead of staying 'sent'.
 */
const withUnconfirmedLines = (messages) => (messages.some(awaitingReceipts)
  ? Object.freeze(messages.map((message) => (awaitingReceipts(message) ? Object.freeze({ ...message, status: 'unconfirmed' }) : message)))
  : messages);

const usernames = (value) => (Array.isArray(value) ? value.filter(isUsername) : []);
const sortedFrozen = (items) => Object.freeze([...new Set(items)].sort());

/** The name a room is shown with: its public name, or "private room" + the start of its id. */
export function roomLabel(room) {
  return room?.name ? `#${room.name}` : `🔒 ${room?.room.slice(0, 8) ?? ''}`;
}

/** Total unread lines over all rooms. */
export function roomUnreadTotal(snapshot) {
  return snapshot.rooms.reduce((sum, room) => sum + room.unread, 0);
}

/** Whether `user` may withdraw anyone's lines in `room`: a moderator of the room, or a private room's owner. */
export function canModerate(room, user) {
  return Boolean(room && user && (room.moderators.includes(user) || (!room.public && room.owner === user)));
}

// The client never goes above its own limits: the envelope refuses longer lines.
export const defaultRoomLimits = Object.freeze({ floodPerMinute: defaultLimits.maxMessages, maxMessageChars: defaultLimits.maxLength });

function limitsOf(value) {
  const count = (n, max) => (Number.isSafeInteger(n) && n >= 1 ? Math.min(n, max) : null);
  const floodPerMinute = count(value?.flood_per_minute, 100_000);
  const maxMessageChars = count(value?.max_message_chars, defaultLimits.maxLength);
  return floodPerMinute && maxMessageChars ? Object.freeze({ floodPerMinute, maxMessageChars }) : null;
}

const emptySnapshot = () => Object.freeze({ rooms: Object.freeze([]), selected: null, invitations: Object.freeze([]), viewing: true });

export function createRoomStore({ now = () => Date.now() } = {}) {
  const store = createStore(emptySnapshot());
  let messageCounter = 0;

  const find = (room) => store.get().rooms.find((entry) => entry.room === room) ?? null;

  function setSnapshot(changes) {
    store.set(Object.freeze({ ...store.get(), ...changes }));
  }

  function replace(room, changes) {
    const snapshot = store.get();
    setSnapshot({ rooms: Object.freeze(snapshot.rooms.map((entry) => (entry.room === room ? Object.freeze({ ...entry, ...changes }) : entry))) });
  }

  // A peer's line is unread unless the window is visible (seen) with this room shown.
  function append(room, message, countsUnread, seen = false) {
    const entry = find(room);
    if (!entry) return null;
    const snapshot = store.get();
    const unseen = countsUnread && !(seen && snapshot.viewing && snapshot.selected === room);
    replace(room, { messages: Object.freeze([...entry.messages, message].slice(-MAX_MESSAGES)), unread: entry.unread + (unseen ? 1 : 0) });
    return message;
  }

  function updateMessages(room, match, change) {
    const entry = find(room);
    if (!entry) return false;
    let changed = false;
    const messages = entry.messages.map((message) => {
      if (!match(message)) return message;
      changed = true;
      return Object.freeze({ ...message, ...change(message) });
    });
    if (changed) replace(room, { messages: Object.freeze(messages) });
    return changed;
  }

  function select(room) {
    setSnapshot({ selected: room && find(room) ? room : null });
    if (room && find(room)?.unread) replace(room, { unread: 0 });
  }

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    find,
    selected: () => find(store.get().selected),

    /**
     * room_joined / room_who / room_members from the server: creates or updates the room.
     * Returns the room entry, or null when the message is malformed.
     */
    applyView(message, { select: selectIt = false } = {}) {
      const { room } = message ?? {};
      if (typeof room !== 'string' || !roomIdPattern.test(room)) return null;
      const fields = {
        name: typeof message.name === 'string' ? message.name : null,
        public: message.public === true,
        owner: typeof message.owner === 'string' ? message.owner : null,
        members: sortedFrozen(usernames(message.members)),
        moderators: sortedFrozen(usernames(message.moderators)),
      };
      const limits = limitsOf(message.limits);
      if (limits) fields.limits = limits;
      const existing = find(room);
      if (existing) {
        replace(room, { ...fields, joined: true, endReason: null });
      } else {
        const entry = Object.freeze({ room, limits: defaultRoomLimits, ...fields, joined: true, endReason: null, messages: Object.freeze([]), unread: 0, nicks: Object.freeze({}), waitingFor: Object.freeze([]) });
        setSnapshot({ rooms: Object.freeze([...store.get().rooms, entry]) });
      }
      const snapshot = store.get();
      setSnapshot({ invitations: Object.freeze(snapshot.invitations.filter((invitation) => invitation.room !== room)) });
      if (selectIt) select(room);
      return find(room);
    },

    /** This user is no longer in the room (left, removed, kicked, or the connection dropped). */
    ended(room, reason) {
      const entry = find(room);
      if (entry?.joined) replace(room, { joined: false, endReason: reason, waitingFor: Object.freeze([]), messages: withUnconfirmedLines(entry.messages) });
    },

    connectionLost() {
      for (const entry of store.get().rooms) {
        if (entry.joined) replace(entry.room, { joined: false, endReason: 'connection_lost', waitingFor: Object.freeze([]), messages: withUnconfirmedLines(entry.messages) });
      }
    },

    /** Members who do not have this user's current sender key (no secure channel with them yet). */
    setWaitingFor(room, members) {
      const entry = find(room);
      if (!entry) return;
      const next = sortedFrozen(usernames(members));
      if (next.join() !== entry.waitingFor.join()) replace(room, { waitingFor: next });
    },

    /** A chat line. from 'me' | 'peer'; a replayed key from the same author is refused (null). */
    addMessage(room, { from, user, kind = 'message', text, key = null, recipients = [], seen = true, ignored = false }) {
      const entry = find(room);
      if (!entry) return null;
      if (key !== null && entry.messages.some((message) => message.key === key && message.user === user)) return null;
      messageCounter += 1;
      return append(room, Object.freeze({
        id: messageCounter, key, from, user, kind, text, at: now(), status: from === 'me' ? 'sent' : null,
        recipients: Object.freeze([...recipients]), deliveredTo: Object.freeze([]), deleted: false, deletedBy: null,
      }), from === 'peer' && !ignored, seen);
    },

    addSystem(room, { messageKey, params = {}, level = 'info', text = '' }) {
      messageCounter += 1;
      return append(room, Object.freeze({
        id: messageCounter, key: null, from: 'system', user: null, kind: 'system', text, messageKey, params: Object.freeze({ ...params }), level, at: now(), status: null, deleted: false,
      }), false);
    },

    /** Receipts: `user`'s browser got these own messages; 'delivered' once every recipient did. */
    markDelivered(room, keys, user) {
      const wanted = new Set(keys);
      return updateMessages(room, (message) => message.from === 'me' && wanted.has(message.key) && message.recipients.includes(user) && !message.deliveredTo.includes(user), (message) => {
        const deliveredTo = Object.freeze([...message.deliveredTo, user]);
        return { deliveredTo, status: deliveredTo.length >= message.recipients.length ? 'delivered' : message.status };
      });
    },

    /** Withdraws line `key` of `author`; `by` is who asked (the author or a moderator). */
    deleteMessage(room, key, author, by) {
      return updateMessages(room, (message) => message.key === key && message.user === author && message.from !== 'system' && !message.deleted,
        () => ({ text: '', deleted: true, deletedBy: by }));
    },

    /** The author of line `key`, or null. */
    authorOf(room, key) {
      return find(room)?.messages.find((message) => message.key === key && message.from !== 'system')?.user ?? null;
    },

    setNick(room, user, nick) {
      const entry = find(room);
      if (entry && isUsername(user)) replace(room, { nicks: Object.freeze({ ...entry.nicks, [user]: nick }) });
    },

    clearMessages(room) {
      if (find(room)) replace(room, { messages: Object.freeze([]) });
    },

    /** An invitation to a private room (shown with a Join button until joined or dismissed). */
    addInvitation({ room, by }) {
      if (typeof room !== 'string' || !roomIdPattern.test(room) || !isUsername(by)) return;
      const { invitations } = store.get();
      if (invitations.some((invitation) => invitation.room === room) || invitations.length >= 20) return;
      setSnapshot({ invitations: Object.freeze([...invitations, Object.freeze({ room, by })]) });
    },

    dismissInvitation(room) {
      setSnapshot({ invitations: Object.freeze(store.get().invitations.filter((invitation) => invitation.room !== room)) });
    },

    select,

    setViewing(viewing) {
      const snapshot = store.get();
      if (snapshot.viewing !== Boolean(viewing)) setSnapshot({ viewing: Boolean(viewing) });
      if (viewing && snapshot.selected && find(snapshot.selected)?.unread) replace(snapshot.selected, { unread: 0 });
    },

    /** Removes a room this user is no longer in from the list. */
    remove(room) {
      const snapshot = store.get();
      if (find(room)?.joined) return;
      setSnapshot({ rooms: Object.freeze(snapshot.rooms.filter((entry) => entry.room !== room)), selected: snapshot.selected === room ? null : snapshot.selected });
    },

    clear() {
      store.set(Object.freeze({ ...emptySnapshot(), viewing: store.get().viewing }));
    },
  });
}
