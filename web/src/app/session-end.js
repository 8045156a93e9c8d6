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
 * Logs out: ends the server session, then wipes this browser's state whatever the
 * server said (a failed request must not leave local data behind), then announces it.
 */
export async function logOutAndWipe({ api }) {
  try {
    await api.logout();
  } catch {
    // Already logged out, or the server is unreachable; the start page's session check
    // shows the user if the login is still alive.
  }
  await wipeAndAnnounce();
}
