// What every way of leaving a session does on the client (logout, account deletion, the
// server ending the session): wipe what this origin stored, and tell the other windows.
// The server's Clear-Site-Data header does the same from its side; doing it here too
// covers browsers that ignore the header and the case where the response never arrives.

export const windowChannelName = 'secms';

export async function wipeClientState() {
  try {
    sessionStorage.clear();
  } catch {
    // Storage disabled: nothing stored there.
  }
  try {
    localStorage.clear();
  } catch {
    // Same.
  }
  if (globalThis.indexedDB?.databases) {
    const databases = await indexedDB.databases();
    await Promise.all(databases.filter((db) => db.name).map((db) => new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(db.name);
      // "blocked" means another window still has it open; it is deleted when that closes.
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    })));
  }
  if (globalThis.caches?.keys) {
    const names = await caches.keys();
    await Promise.all(names.map((name) => caches.delete(name)));
  }
}

/** Tells the other windows of this origin (landing page ↔ app window). */
export function announce(message) {
  const channel = new BroadcastChannel(windowChannelName);
  channel.postMessage(message);
  channel.close();
}

/** Calls handler(message) for each announcement from another window; returns a stop function. */
export function listenForAnnouncements(handler) {
  const channel = new BroadcastChannel(windowChannelName);
  channel.onmessage = (event) => {
    if (event.data && typeof event.data.type === 'string') handler(event.data);
  };
  return () => channel.close();
}

/** After the server ended the session (logout, account deleted): wipe, then tell the other windows. */
export async function wipeAndAnnounce() {
  await wipeClientState();
  announce({ type: 'logged-out' });
}

/**
 * Logs out. → { loggedOut: true } | { loggedOut: false, stillLoggedIn: true | 'unknown' }.
 *
 * The server session is ended first (DELETE /api/v1/session). This browser's data is wiped in
 * every case — the user asked to leave — and the other windows are told, so the app window
 * stops its socket and terminates its Worker (which holds the unlocked key) either way. But a
 * failed DELETE is never reported as a logout: the session is checked again (GET /api/v1/me);
 * 401 means it is gone after all, anything else means the cookie and the server session may
 * still be alive, which the caller says plainly and offers to retry.
 */
export async function logOutAndWipe({ api }) {
  let state;
  try {
    await api.logout();
    state = 'out';
  } catch (error) {
    state = error?.status === 401 ? 'out' : await sessionState({ api });
  }
  await wipeClientState();
  if (state === 'out') {
    announce({ type: 'logged-out' });
    return { loggedOut: true };
  }
  const stillLoggedIn = state === 'in' ? true : 'unknown';
  announce({ type: 'logout-failed', stillLoggedIn });
  return { loggedOut: false, stillLoggedIn };
}

/** 'out' when GET /api/v1/me says 401, 'in' when it answers, 'unknown' when it cannot be told. */
async function sessionState({ api }) {
  try {
    await api.me();
    return 'in';
  } catch (error) {
    return error?.status === 401 ? 'out' : 'unknown';
  }
}
