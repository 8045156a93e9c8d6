// The mail key directory (pure; storage and key parsing injected, like trust-store.js):
// address → the OpenPGP public key used to encrypt to it and to verify its signatures.
//
// Sources, strongest first:
//   verified  — the certificate the server verified for a user met in a secure channel whose
//               username@<mail domain> is the address (the user accepted that channel);
//   pinned    — the same, and remembered in the chat trust store;
//   imported  — pasted / loaded by the user (an explicit import);
//   autocrypt — the Autocrypt header of a message from that address (Autocrypt Level 1);
//   vcard     — the KEY of a contact card (a card can come from anyone: never user-given, never
//               replaces another key silently, replaced without a prompt by a verified/pinned key);
//   gossip    — an Autocrypt-Gossip header inside an encrypted and signed message.
// The user's own addresses (setOwnAddresses) never get an entry: their key is the own key.
// A DIFFERENT key for an address whose key is verified, pinned or imported never replaces it
// silently: it is kept as `pending` and the entry's state is 'changed' (the compose form warns,
// the old key stays in use) until the user accepts or rejects it — as the chat trust store does
// with a changed certificate. Keys the user gives (import, an accepted channel) replace any.
// Autocrypt replaces Autocrypt/gossip keys; gossip never replaces an Autocrypt key.
//
// Lifetime: localStorage per account, wiped at logout with everything else of the origin.

const keyPrefix = 'secms.mail.keys.';
export const MAX_KEYS = 200;
export const MAX_ARMORED_CHARS = 64 * 1024;
export const keySources = Object.freeze(['verified', 'pinned', 'imported', 'autocrypt', 'vcard', 'gossip']);
const userGiven = new Set(['verified', 'pinned', 'imported']);
const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;
const addressPattern = /^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/;

export class KeyDirectoryError extends Error {
  constructor(code, message = code) {
    super(message);
    this.name = 'KeyDirectoryError';
    this.code = code;   // not_a_key | private_key | too_large | too_many | no_address | bad_address | unusable_key | address_not_in_key | own_address
  }
}

const normaliseAddress = (address) => String(address ?? '').trim().toLowerCase();

const armorBlocks = (text) => String(text).match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];

/**
 * Options: { storage ({getItem,setItem,removeItem}) | null, account (own username),
 *   readKeyFacts(armored) → Promise<facts> (certificate-facts.js readCertificateFacts's shape: fingerprint,
 *   userIds [{email}], revoked, expired, usage, subkeys [{usage, revoked, expired}]; rejects for a non-key),
 *   now () → ms }.
 */
export function createKeyDirectory({ storage = null, account, readKeyFacts, now = () => Date.now() }) {
  if (typeof account !== 'string' || !account) throw new TypeError('createKeyDirectory: account required');
  if (typeof readKeyFacts !== 'function') throw new TypeError('createKeyDirectory: readKeyFacts required');
  const storageKey = `${keyPrefix}${account.toLowerCase()}`;
  let memory = null;   // when storage is absent or failing
  let ownAddresses = new Set();   // lower case; set by the controller from the mail status

  function readAll() {
    if (memory) return memory;
    try {
      const parsed = JSON.parse(storage?.getItem(storageKey) ?? '{}');
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }

  function writeAll(map) {
    try {
      if (!storage) throw new Error('no storage');
      storage.setItem(storageKey, JSON.stringify(map));
      memory = null;
    } catch {
      memory = map;   // storage full or disabled: the keys hold for this page
    }
  }

  async function parse(armored) {
    if (typeof armored !== 'string' || armored.length === 0) throw new KeyDirectoryError('not_a_key');
    if (armored.length > MAX_ARMORED_CHARS) throw new KeyDirectoryError('too_large');
    if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(armored)) {
      throw new KeyDirectoryError('private_key', 'This is a private key: only public keys can be imported (never share your private key).');
    }
    let facts;
    try {
      facts = await readKeyFacts(armored);
    } catch {
      throw new KeyDirectoryError('not_a_key');
    }
    const fingerprint = String(facts?.fingerprint ?? '').toUpperCase();
    if (!fingerprintPattern.test(fingerprint)) throw new KeyDirectoryError('not_a_key');
    const canEncrypt = (facts.usage ?? []).includes('encrypt')
      || (facts.subkeys ?? []).some((subkey) => (subkey.usage ?? []).includes('encrypt') && !subkey.revoked && !subkey.expired);
    if (facts.revoked || facts.expired || !canEncrypt) throw new KeyDirectoryError('unusable_key');
    const emails = [...new Set((facts.userIds ?? []).map((userId) => normaliseAddress(userId.email)).filter((email) => addressPattern.test(email)))];
    return { fingerprint, emails };
  }

  function evictFor(map) {
    if (Object.keys(map).length < MAX_KEYS) return;
    // Make room by dropping the least recently seen key that nobody chose (autocrypt/gossip).
    const learnt = Object.entries(map).filter(([, entry]) => !userGiven.has(entry.source)).sort((a, b) => (a[1].lastSeen ?? 0) - (b[1].lastSeen ?? 0));
    if (learnt.length === 0) throw new KeyDirectoryError('too_many');
    delete map[learnt[0][0]];
  }

  /**
   * Learns a key for an address. → { result: 'added' | 'updated' | 'same' | 'changed' | 'ignored', entry }.
   * Throws KeyDirectoryError for what is not a usable public key.
   * fromFile: the key came inside something a sender can write (a vCard's KEY): it is stored only
   * for an address among the key's own user IDs (else address_not_in_key), and a different key
   * never replaces a verified, pinned or imported one silently (it waits as a 'changed' key).
   */
  async function learn({ address, armored, source, preferEncrypt = false, fromFile = false }) {
    if (!keySources.includes(source)) throw new TypeError(`key directory: unknown source ${source}`);
    const name = normaliseAddress(address);
    if (!addressPattern.test(name)) throw new KeyDirectoryError('bad_address');
    // A mail "From: <own address>" with an Autocrypt header (anyone can send one) must not give
    // the user's own address a key: mail to oneself would be encrypted, and gossiped, to it.
    if (ownAddresses.has(name)) throw new KeyDirectoryError('own_address', 'This is one of your own addresses: its key is your own key.');
    const { fingerprint, emails } = await parse(armored);
    if (fromFile && !emails.includes(name)) throw new KeyDirectoryError('address_not_in_key', 'The key does not name this address in its user IDs.');
    const map = readAll();
    const existing = map[name];
    const fresh = { armored, fingerprint, source, preferEncrypt: Boolean(preferEncrypt), lastSeen: now(), pending: null };
    if (!existing) {
      evictFor(map);
      map[name] = fresh;
      writeAll(map);
      return { result: 'added', entry: view(name, fresh) };
    }
    if (source === 'vcard' && existing.fingerprint !== fingerprint) {
      // A card's key never replaces another key silently, not even one learnt from mail.
      if (existing.pending?.fingerprint === fingerprint) return { result: 'changed', entry: view(name, existing) };
      map[name] = { ...existing, pending: { armored, fingerprint, source } };
      writeAll(map);
      return { result: 'changed', entry: view(name, map[name]) };
    }
    if (existing.fingerprint === fingerprint) {
      const stronger = keySources.indexOf(source) < keySources.indexOf(existing.source);
      map[name] = { ...existing, armored: stronger ? armored : existing.armored, source: stronger ? source : existing.source, lastSeen: now(), preferEncrypt: source === 'autocrypt' ? Boolean(preferEncrypt) : existing.preferEncrypt };
      // A pending change stays pending: only the user settles it.
      writeAll(map);
      return { result: stronger ? 'updated' : 'same', entry: view(name, map[name]) };
    }
    // A different key.
    if (source === 'verified' || source === 'imported' || source === 'pinned') {
      if (userGiven.has(existing.source) && (source !== 'imported' || fromFile)) {
        // A channel certificate (or a card's key) that differs from a key the user already relied on: warn.
        if (existing.pending?.fingerprint === fingerprint) return { result: 'changed', entry: view(name, existing) };
        map[name] = { ...existing, pending: { armored, fingerprint, source } };
        writeAll(map);
        return { result: 'changed', entry: view(name, map[name]) };
      }
      map[name] = fresh;
      writeAll(map);
      return { result: 'updated', entry: view(name, fresh) };
    }
    if (userGiven.has(existing.source)) {
      if (existing.pending?.fingerprint === fingerprint) return { result: 'changed', entry: view(name, existing) };
      map[name] = { ...existing, pending: { armored, fingerprint, source } };
      writeAll(map);
      return { result: 'changed', entry: view(name, map[name]) };
    }
    if (source === 'gossip' && existing.source === 'autocrypt') return { result: 'ignored', entry: view(name, existing) };
    map[name] = fresh;
    writeAll(map);
    return { result: 'updated', entry: view(name, fresh) };
  }

  function view(address, entry) {
    return Object.freeze({
      address, armored: entry.armored, fingerprint: entry.fingerprint, source: entry.source, preferEncrypt: Boolean(entry.preferEncrypt),
      lastSeen: entry.lastSeen ?? null, state: entry.pending ? 'changed' : 'ok',
      pending: entry.pending ? Object.freeze({ fingerprint: entry.pending.fingerprint, source: entry.pending.source }) : null,
    });
  }

  /**
   * A pasted or loaded text with one or more public key blocks: each key is stored for every
   * e-mail address of its valid user IDs. → [{ address, fingerprint, result }].
   */
  async function importKey(text) {
    if (typeof text !== 'string' || text.length === 0) throw new KeyDirectoryError('not_a_key');
    if (text.length > MAX_ARMORED_CHARS * 4) throw new KeyDirectoryError('too_large');
    if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) {
      throw new KeyDirectoryError('private_key', 'This is a private key: only public keys can be imported (never share your private key).');
    }
    const blocks = armorBlocks(text);
    if (blocks.length === 0) throw new KeyDirectoryError('not_a_key');
    const results = [];
    for (const armored of blocks) {
      const { fingerprint, emails } = await parse(armored);
      if (emails.length === 0) throw new KeyDirectoryError('no_address', 'The key has no e-mail address in its user IDs.');
      for (const address of emails) {
        if (ownAddresses.has(address)) {
          results.push({ address, fingerprint, result: 'own_address' });
          continue;
        }
        const { result } = await learn({ address, armored, source: 'imported' });
        results.push({ address, fingerprint, result });
      }
    }
    return results;
  }

  /** The usable key of an address: { address, armored, fingerprint, source, state: 'ok'|'changed', pending } or null. */
  function keyFor(address) {
    const name = normaliseAddress(address);
    if (ownAddresses.has(name)) return null;
    const entry = readAll()[name];
    return entry?.armored ? view(name, entry) : null;
  }

  return Object.freeze({
    learn,
    importKey,
    keyFor,
    list: () => Object.entries(readAll()).map(([address, entry]) => view(address, entry)).sort((a, b) => a.address.localeCompare(b.address)),
    /**
     * Every stored key: mime-read's keyring, to tell 'verified' from 'unknown_key'. A pending
     * (changed, not accepted) key is NOT among them: its signatures read 'unknown_key' and the
     * banner warns of the change — an unaccepted key never verifies anything.
     */
    verificationKeys: () => Object.entries(readAll()).filter(([address]) => !ownAddresses.has(address)).map(([, entry]) => entry.armored).filter(Boolean),
    /**
     * The user's own addresses (the mail status: local address, external e-mail). An entry one
     * of them already has (planted before this rule) is dropped.
     */
    setOwnAddresses(addresses) {
      ownAddresses = new Set((addresses ?? []).map(normaliseAddress).filter((address) => addressPattern.test(address)));
      const map = readAll();
      const planted = Object.keys(map).filter((address) => ownAddresses.has(address));
      if (planted.length === 0) return;
      for (const address of planted) delete map[address];
      writeAll(map);
    },
    isOwnAddress: (address) => ownAddresses.has(normaliseAddress(address)),
    /** The user accepts the changed key: it replaces the old one (as 'imported', a user decision). */
    acceptChange(address) {
      const name = normaliseAddress(address);
      const map = readAll();
      const entry = map[name];
      if (!entry?.pending) return false;
      map[name] = { armored: entry.pending.armored, fingerprint: entry.pending.fingerprint, source: entry.pending.source === 'verified' ? 'verified' : 'imported', preferEncrypt: entry.preferEncrypt, lastSeen: now(), pending: null };
      writeAll(map);
      return true;
    },
    rejectChange(address) {
      const name = normaliseAddress(address);
      const map = readAll();
      if (!map[name]?.pending) return false;
      map[name] = { ...map[name], pending: null };
      writeAll(map);
      return true;
    },
    remove(address) {
      const map = readAll();
      delete map[normaliseAddress(address)];
      writeAll(map);
    },
  });
}
