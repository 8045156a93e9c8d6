// The "remember on this device" store of the identity: IndexedDB, inside the Worker, holding
// only the passphrase-protected armored private key (Argon2 S2K + AEAD, identity.js
// protectForStorage; keys stored earlier under iterated S2K + CFB are re-protected at their next
// unlock), its fingerprint and user ID. Unlocking needs the passphrase. Logout wipes it (the client wipe and the server's
// Clear-Site-Data "storage" both delete every database of the origin): a remembered key
// lasts until the user logs out, which the UI says.

const databaseName = 'secms-identity';
const storeName = 'keys';

function requestResult(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

// The database is created only when a key is stored, so merely looking does not leave an
// empty database behind.
async function databaseExists(idb) {
  if (typeof idb.databases !== 'function') return true;
  const list = await idb.databases();
  return list.some((entry) => entry.name === databaseName);
}

function openDatabase(idb) {
  const request = idb.open(databaseName, 1);
  request.onupgradeneeded = () => {
    request.result.createObjectStore(storeName, { keyPath: 'account' });
  };
  return requestResult(request);
}

async function withStore(idb, mode, action) {
  const database = await openDatabase(idb);
  try {
    const transaction = database.transaction(storeName, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    });
    const result = await requestResult(action(transaction.objectStore(storeName)));
    await done;
    return result;
  } finally {
    database.close();
  }
}

/** A vault bound to one account name (two accounts in one browser never see each other's key). */
export function createIdentityVault({ indexedDB: idb = globalThis.indexedDB } = {}) {
  const available = Boolean(idb);
  return Object.freeze({
    available,
    /** → { armoredKey, fingerprint, userId } | null */
    async load({ account }) {
      if (!available || !(await databaseExists(idb))) return null;
      const record = await withStore(idb, 'readonly', (store) => store.get(account));
      return record ? { armoredKey: record.armoredKey, fingerprint: record.fingerprint, userId: record.userId } : null;
    },
    async save({ account, armoredKey, fingerprint, userId }) {
      if (!available) throw new Error('identity vault: IndexedDB is not available');
      await withStore(idb, 'readwrite', (store) => store.put({ account, armoredKey, fingerprint, userId, saved: Date.now() }));
    },
    async remove({ account }) {
      if (!available || !(await databaseExists(idb))) return;
      await withStore(idb, 'readwrite', (store) => store.delete(account));
    },
  });
}
