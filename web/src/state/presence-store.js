// Who is online, as the server last said. Pure: fed with parsed WebSocket messages
// ({type:'hello'}, then {type:'presence', online:[...]} — the whole list, once per connection —
// then deltas: presence_joined / presence_changed {user} and presence_left {user:{userid}};
// docs/api.md), read by the online-users list.
// Server data is validated here, once, so the UI can trust the snapshot's shape.

import { createStore } from './store.js';
// The server's rule for account names (docs/api.md); anything else is dropped rather than
// shown, since it cannot be a real account.
import { isUsername } from '../chat/commands.js';

const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;

function parseUser(candidate) {
  if (!candidate || typeof candidate !== 'object') return null;
  const { userid, username } = candidate;
  if (!Number.isSafeInteger(userid) || userid < 1) return null;
  if (!isUsername(username)) return null;
  // A fingerprint means the server verified this user's certificate (docs/api.md).
  const fingerprint = typeof candidate.fingerprint === 'string' && fingerprintPattern.test(candidate.fingerprint) ? candidate.fingerprint : null;
  return { userid, username, fingerprint };
}

const emptyPresence = Object.freeze({ self: null, users: Object.freeze([]), known: false });

/**
 * Snapshot: { self: {userid, username, role} | null, known: boolean (a presence list arrived),
 *             users: [{userid, username, fingerprint | null, isSelf}] sorted: you first, then by username }.
 */
export function createPresenceStore() {
  const store = createStore(emptyPresence);
  let rawOnline = [];

  function rebuild(self) {
    const seen = new Set();
    const users = [];
    for (const user of rawOnline) {
      if (seen.has(user.userid)) continue;  // one row per account, however many tabs
      seen.add(user.userid);
      users.push(Object.freeze({ ...user, isSelf: self !== null && user.userid === self.userid }));
    }
    users.sort((a, b) => (a.isSelf !== b.isSelf ? (a.isSelf ? -1 : 1)
      : a.username.localeCompare(b.username, 'en', { sensitivity: 'base' }) || a.userid - b.userid));
    return Object.freeze({ self, users: Object.freeze(users), known: store.get().known });
  }

  /** Applies one server message; returns true when it was a presence-related message. */
  function applyServerMessage(message) {
    if (!message || typeof message !== 'object') return false;
    if (message.type === 'hello') {
      const parsed = parseUser(message.user);
      if (!parsed) return false;
      const { fingerprint, ...user } = parsed;
      const role = typeof message.user.role === 'string' ? message.user.role : 'user';
      store.set(rebuild(Object.freeze({ ...user, role })));
      return true;
    }
    if (message.type === 'presence') {
      if (!Array.isArray(message.online)) return false;
      rawOnline = message.online.map(parseUser).filter(Boolean);
      const next = rebuild(store.get().self);
      store.set(Object.freeze({ ...next, known: true }));
      return true;
    }
    if (message.type === 'presence_joined' || message.type === 'presence_changed') {
      const user = parseUser(message.user);
      if (!user) return false;
      // One entry per account: a joined user already listed, or a changed one, is replaced.
      rawOnline = [...rawOnline.filter((other) => other.userid !== user.userid), user];
      store.set(rebuild(store.get().self));
      return true;
    }
    if (message.type === 'presence_left') {
      const userid = message.user?.userid;
      if (!Number.isSafeInteger(userid) || userid < 1) return false;
      rawOnline = rawOnline.filter((other) => other.userid !== userid);
      store.set(rebuild(store.get().self));
      return true;
    }
    return false;
  }

  /** Forget everything (socket dropped or logout): a stale list would lie. */
  function clear() {
    rawOnline = [];
    store.set(emptyPresence);
  }

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    applyServerMessage,
    clear,
    isOnline: (userid) => store.get().users.some((user) => user.userid === userid),
  });
}
