// The mail settings kept on the user's own mail server (r3 F4): the address book, the key
// directory and the mail preferences live in localStorage, which every logout wipes. So a copy
// is kept as one message in the folder "Security.MS" of the user's own mailbox, encrypted to the
// own OpenPGP key and signed with it (PGP/MIME, RFC 3156): the server stores only ciphertext.
//
// The message: header `X-Secms-Store: mail-settings-v1`, body multipart/encrypted whose inner
// entity is one application/json part: { version: 1, saved_at, contacts, keys, prefs }.
// - Load (at start, once the own key is unlocked): the newest copy whose signature verifies with
//   the own key wins; a copy that does not verify (unsigned, signed by another key, altered,
//   unreadable) is ignored with a warning (status error settings_unverified).
// - Save (2 s after the last change): append the new copy, then expunge the copies it replaces
//   (POST /delete permanent:true). Copies that did not verify are left alone (an old key may
//   come back). Nothing is saved before the first load finished: an empty cache after a logout
//   must never replace the server's copy.
// localStorage stays the working cache: the address book and the key directory read it, and a
// loaded copy is written back into it (their storage formats, see address-book.js and
// key-directory.js; a test round-trips through both).

import { attachmentEntity, entityBytes, formatAddress, formatDate, multipartEntity, newMessageId, withMessageHeaders } from './mime-build.js';
import { mailDecrypt, mailEncrypt } from '../crypto/crypto-client.js';

export const SETTINGS_FOLDER = 'Security.MS';
export const SETTINGS_HEADER = 'X-Secms-Store';
export const SETTINGS_KIND = 'mail-settings-v1';
/** The JSON's limit (and so, with armor and base64, about 6 MiB of message). */
export const MAX_SETTINGS_BYTES = 4 * 1024 * 1024;
const MAX_RAW_BYTES = Math.ceil(MAX_SETTINGS_BYTES * 1.9) + 64 * 1024;
const MAX_COPIES_READ = 20;
const MAX_CONTACTS = 2000;
const MAX_KEYS = 200;
const keySources = new Set(['verified', 'pinned', 'imported', 'autocrypt', 'vcard', 'gossip']);
const addressPattern = /^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/;
const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;
const armoredKeyPattern = /^-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]{1,65536}-----END PGP PUBLIC KEY BLOCK-----\s*$/;

/** The folder is the app's own: hidden from the folder tree, move targets and search. */
export const isSettingsFolder = (path) => String(path ?? '').toLowerCase() === SETTINGS_FOLDER.toLowerCase();

/** localStorage keys of the caches (address-book.js, key-directory.js, mail-controller.js). */
export const cacheKeys = (account) => {
  const name = String(account).toLowerCase();
  return {
    contacts: `secms.mail.contacts.${name}`,
    keys: `secms.mail.keys.${name}`,
    prefs: `secms.mail.prefs.${name}`,
    sync: `secms.mail.settings-sync.${name}`,
  };
};

export class SettingsStoreError extends Error {
  constructor(code) {
    super(`mail settings: ${code}`);
    this.name = 'SettingsStoreError';
    this.code = code;   // not_settings | unverified | malformed | too_large | locked
  }
}

// --- the JSON ----------------------------------------------------------------------------------

const isString = (value, max) => typeof value === 'string' && value.length <= max;

function cleanContact(contact) {
  if (!contact || typeof contact !== 'object' || !isString(contact.id, 100) || !contact.id) return null;
  const emails = Array.isArray(contact.emails) ? contact.emails.filter((email) => typeof email === 'string' && addressPattern.test(email)).map((email) => email.toLowerCase()).slice(0, 20) : [];
  if (emails.length === 0) return null;
  const key = isString(contact.key, 96 * 1024) && armoredKeyPattern.test(contact.key) ? contact.key : null;
  return {
    id: contact.id, name: isString(contact.name, 256) ? contact.name : '', emails, key,
    fingerprint: null, keySource: key && ['imported', 'vcard'].includes(contact.keySource) ? contact.keySource : null,
  };
}

function cleanKeyEntry(entry) {
  if (!entry || typeof entry !== 'object' || !isString(entry.armored, 64 * 1024) || !armoredKeyPattern.test(entry.armored)) return null;
  const fingerprint = String(entry.fingerprint ?? '').toUpperCase();
  if (!fingerprintPattern.test(fingerprint) || !keySources.has(entry.source)) return null;
  const pending = entry.pending && isString(entry.pending.armored, 64 * 1024) && armoredKeyPattern.test(entry.pending.armored)
    && fingerprintPattern.test(String(entry.pending.fingerprint ?? '').toUpperCase()) && keySources.has(entry.pending.source)
    ? { armored: entry.pending.armored, fingerprint: String(entry.pending.fingerprint).toUpperCase(), source: entry.pending.source }
    : null;
  return {
    armored: entry.armored, fingerprint, source: entry.source, preferEncrypt: entry.preferEncrypt === true,
    lastSeen: Number.isSafeInteger(entry.lastSeen) ? entry.lastSeen : null, pending,
  };
}

/**
 * A parsed settings JSON → { version, saved_at, contacts: [contact], keys: [{address, …entry}],
 * prefs: {} } with every field checked (unknown or bad entries dropped); throws malformed.
 * The preferences are checked again by the controller (mailPrefCheckers) when it reads them.
 */
export function cleanSettings(json) {
  if (!json || typeof json !== 'object' || json.version !== 1) throw new SettingsStoreError('malformed');
  const contacts = (Array.isArray(json.contacts) ? json.contacts : []).slice(0, MAX_CONTACTS).map(cleanContact).filter(Boolean);
  const keys = [];
  for (const entry of (Array.isArray(json.keys) ? json.keys : []).slice(0, MAX_KEYS)) {
    const address = String(entry?.address ?? '').toLowerCase();
    const clean = addressPattern.test(address) ? cleanKeyEntry(entry) : null;
    if (clean) keys.push({ address, ...clean, state: clean.pending ? 'changed' : 'ok' });
  }
  const prefs = json.prefs && typeof json.prefs === 'object' && !Array.isArray(json.prefs) ? { ...json.prefs } : {};
  return { version: 1, saved_at: isString(json.saved_at, 40) ? json.saved_at : null, contacts, keys, prefs };
}

function readJson(storage, key, fallback) {
  try {
    const value = JSON.parse(storage?.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** The settings as the local caches hold them now. */
export function readLocalSettings(storage, account) {
  const names = cacheKeys(account);
  const contacts = readJson(storage, names.contacts, []);
  const keyMap = readJson(storage, names.keys, {});
  const prefs = readJson(storage, names.prefs, {});
  return cleanSettings({
    version: 1,
    contacts: Array.isArray(contacts) ? contacts : [],
    keys: keyMap && typeof keyMap === 'object' && !Array.isArray(keyMap) ? Object.entries(keyMap).map(([address, entry]) => ({ ...entry, address })) : [],
    prefs: prefs && typeof prefs === 'object' && !Array.isArray(prefs) ? prefs : {},
  });
}

/** Writes settings into the local caches (their formats). */
export function writeLocalSettings(storage, account, settings) {
  const names = cacheKeys(account);
  const keyMap = {};
  for (const { address, state, ...entry } of settings.keys) keyMap[address] = entry;
  storage.setItem(names.contacts, JSON.stringify(settings.contacts));
  storage.setItem(names.keys, JSON.stringify(keyMap));
  storage.setItem(names.prefs, JSON.stringify(settings.prefs));
}

/** What counts as a change (lastSeen moves at every opened mail: not worth a new copy). */
const digestOf = (settings) => JSON.stringify([settings.contacts, settings.keys.map(({ lastSeen, ...entry }) => entry), settings.prefs]);

const isEmpty = (settings) => settings.contacts.length === 0 && settings.keys.length === 0 && Object.keys(settings.prefs).length === 0;

/**
 * Server copy + local cache. The copy wins for what both have; what only the cache has (made in
 * this session before the copy could be read, e.g. while the key was locked) is kept.
 */
export function mergeSettings(copy, local) {
  const copyEmails = new Set(copy.contacts.flatMap((contact) => contact.emails));
  const contacts = [...copy.contacts, ...local.contacts.filter((contact) => !contact.emails.some((email) => copyEmails.has(email)))].slice(0, MAX_CONTACTS);
  const copyAddresses = new Set(copy.keys.map((entry) => entry.address));
  const keys = [...copy.keys, ...local.keys.filter((entry) => !copyAddresses.has(entry.address))].slice(0, MAX_KEYS);
  return { version: 1, saved_at: copy.saved_at, contacts, keys, prefs: { ...local.prefs, ...copy.prefs } };
}

// --- the message ---------------------------------------------------------------------------

const latin1 = new TextDecoder('latin1');

/** → raw bytes of the settings message (encrypted to the own key and signed, in the Worker). */
export async function buildSettingsMessage({ connection, settings, address, date = new Date() }) {
  const json = new TextEncoder().encode(JSON.stringify(settings));
  if (json.length > MAX_SETTINGS_BYTES) throw new SettingsStoreError('too_large');
  const inner = attachmentEntity({ filename: 'mail-settings.json', contentType: 'application/json', data: json, disposition: 'attachment' });
  // recipientKeys empty: mail.encrypt always encrypts to the own key, and to it alone here.
  const { armored } = await mailEncrypt({ connection, data: entityBytes(inner), recipientKeys: [], sign: true });
  const control = { headers: [['Content-Type', 'application/pgp-encrypted'], ['Content-Description', 'PGP/MIME version identification']], body: ['Version: 1\r\n'] };
  const payload = {
    headers: [['Content-Type', 'application/octet-stream; name="encrypted.asc"'], ['Content-Disposition', 'inline; filename="encrypted.asc"']],
    body: [`${String(armored).replace(/\r\n|\r|\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n')}`],
  };
  const outer = multipartEntity('encrypted', [control, payload], ['protocol="application/pgp-encrypted"']);
  const self = { name: '', address };
  return entityBytes(withMessageHeaders(outer, [
    ['Date', formatDate(date)], ['From', formatAddress(self)], ['To', formatAddress(self)],
    ['Subject', 'Security.MS mail settings (encrypted)'], ['Message-ID', newMessageId(address)],
    [SETTINGS_HEADER, SETTINGS_KIND],
  ]));
}

function splitEntity(text) {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return null;
  return { head: text.slice(0, match.index).replace(/\r?\n[ \t]+/g, ' '), body: text.slice(match.index + match[0].length) };
}

const headerValue = (head, name) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;

/**
 * Raw bytes of a copy → the cleaned settings. Throws not_settings (no X-Secms-Store header: not
 * ours), unverified (not signed by the own key, or not decryptable) or malformed.
 */
export async function openSettingsMessage({ connection, raw, ownFingerprint }) {
  if (!(raw instanceof Uint8Array) || raw.length > MAX_RAW_BYTES) throw new SettingsStoreError('too_large');
  const outer = splitEntity(latin1.decode(raw));
  if (!outer || headerValue(outer.head, SETTINGS_HEADER) !== SETTINGS_KIND) throw new SettingsStoreError('not_settings');
  if (!/^multipart\/encrypted\b/i.test(headerValue(outer.head, 'Content-Type') ?? '')) throw new SettingsStoreError('unverified');
  const armored = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(outer.body)?.[0];
  if (!armored) throw new SettingsStoreError('unverified');
  let decrypted;
  try {
    decrypted = await mailDecrypt({ connection, data: armored, verificationKeys: [] });
  } catch (error) {
    throw new SettingsStoreError(error?.reason === 'locked' ? 'locked' : 'unverified');
  }
  const own = String(ownFingerprint ?? '').toUpperCase();
  const signed = (decrypted.signatures ?? []).some((signature) => signature.status === 'valid' && String(signature.fingerprint ?? '').toUpperCase() === own);
  if (!own || !signed) throw new SettingsStoreError('unverified');
  const inner = splitEntity(new TextDecoder().decode(decrypted.data));
  if (!inner || !/^application\/json\b/i.test(headerValue(inner.head, 'Content-Type') ?? '') || !/^base64$/i.test(headerValue(inner.head, 'Content-Transfer-Encoding') ?? '')) {
    throw new SettingsStoreError('malformed');
  }
  try {
    const binary = atob(inner.body.replace(/[\r\n\t ]/g, ''));
    if (binary.length > MAX_SETTINGS_BYTES) throw new SettingsStoreError('too_large');
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return cleanSettings(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
  } catch (error) {
    if (error instanceof SettingsStoreError) throw error;
    throw new SettingsStoreError('malformed');
  }
}

// --- the sync ------------------------------------------------------------------------------

/**
 * Options: { api (mail-api.js), store (mail store), crypto () → the Worker connection, storage,
 *   account, ownFingerprint () → Promise<fingerprint|null>, ownAddress () → the address to write
 *   From/To with, onLoaded () (the caches changed: the controller re-reads them),
 *   setTimeout/clearTimeout, debounceMs (2000), retryMs (while the key is locked) }.
 * → { start(), stop(), flush() → Promise (the pending save now; tests), loaded () → bool }.
 * Only the local account is synced (an external account is for one session).
 */
const savedAtOf = (settings) => Date.parse(settings?.saved_at ?? '') || 0;

export function createSettingsSync(options) {
  const {
    api, store, storage, account, ownFingerprint, ownAddress, onLoaded = () => {},
    setTimeout: schedule = (fn, ms) => setTimeout(fn, ms), clearTimeout: unschedule = (handle) => clearTimeout(handle),
    debounceMs = 2000, retryMs = 3000, now = () => Date.now(),
  } = options;
  const connection = () => options.crypto();
  const names = cacheKeys(account);
  let running = false;
  let loaded = false;
  let loading = null;
  let saveTimer = null;
  let retryTimer = null;
  let saving = Promise.resolve();
  let unsubscribe = null;
  let lastDigest = null;
  let knownCopies = [];   // uids of verified copies (replaced by the next save)
  let seen = null;

  const warn = (code) => store.setStatus({ error: { code, message: '' } });
  const local = () => readLocalSettings(storage, account);
  const active = () => running && storage && store.get().status.enabled && store.get().status.account === 'local';

  function writeMarker(dirty) {
    try {
      storage.setItem(names.sync, JSON.stringify({ dirty }));
    } catch {
      // Storage full: the next start merges instead of trusting the cache.
    }
  }

  async function listCopies() {
    try {
      const answer = await api.messages({ folder: SETTINGS_FOLDER, sort: 'arrival', order: 'desc', offset: 0, limit: MAX_COPIES_READ, threads: 0 });
      return (Array.isArray(answer?.messages) ? answer.messages : []).filter((summary) => Number.isSafeInteger(summary?.uid));
    } catch (error) {
      if (error?.code === 'folder_not_found') return [];
      throw error;
    }
  }

  /** Newest verified copy → the caches; → 'loaded' | 'none' | 'locked'. */
  async function load() {
    const fingerprint = await ownFingerprint();
    if (!fingerprint) return 'locked';
    const copies = await listCopies();
    let copy = null;
    let warned = false;
    const verified = [];
    for (const summary of copies) {
      if (Number(summary.size) > MAX_RAW_BYTES) continue;
      let settings;
      try {
        settings = await openSettingsMessage({ connection: connection(), raw: await api.rawMessage(SETTINGS_FOLDER, summary.uid), ownFingerprint: fingerprint });
      } catch (error) {
        if (error?.code === 'locked') return 'locked';
        if (error?.code !== 'not_settings' && !copy) warned = true;   // a newer copy than the one used failed
        continue;
      }
      verified.push(summary.uid);
      // The newest by the date signed inside the copy, not by the server's order: a server that
      // lists an older copy first must not roll the settings back with it. (One that withholds
      // the newest copy still can: docs/threat-model.md "Mail".)
      if (!copy || savedAtOf(settings) > savedAtOf(copy)) copy = settings;
    }
    if (warned) warn('settings_unverified');
    knownCopies = verified;
    const cache = local();
    const marker = readJson(storage, names.sync, null);
    if (!copy) {
      loaded = true;
      if (!isEmpty(cache)) scheduleSave(0);
      return 'none';
    }
    // A cache this page synced before (a reload, no logout) and changed since is the newer one.
    const merged = marker?.dirty === true ? mergeSettings(cache, copy) : mergeSettings(copy, marker ? { ...cache, contacts: [], keys: [] } : cache);
    writeLocalSettings(storage, account, merged);
    lastDigest = digestOf(copy);
    loaded = true;
    writeMarker(false);
    onLoaded();
    if (digestOf(local()) !== lastDigest) scheduleSave(0);
    return 'loaded';
  }

  function tryLoad() {
    if (loaded || loading || !active()) return loading;
    loading = load().then((result) => {
      loading = null;
      if (result === 'locked' && running) retryTimer = schedule(() => { retryTimer = null; tryLoad(); }, retryMs);
      return result;
    }, () => {
      loading = null;
      // The mail server is down: try again later.
      if (running) retryTimer = schedule(() => { retryTimer = null; tryLoad(); }, retryMs * 4);
      return 'error';
    });
    return loading;
  }

  async function save() {
    if (!active() || !loaded) return;
    const settings = { ...local(), saved_at: new Date(now()).toISOString() };
    const digest = digestOf(settings);
    if (digest === lastDigest) return;
    const address = ownAddress();
    if (!address) return;
    let raw;
    try {
      raw = await buildSettingsMessage({ connection: connection(), settings, address, date: new Date(now()) });
    } catch (error) {
      warn(error?.code === 'too_large' ? 'settings_too_large' : 'settings_not_saved');
      return;
    }
    let answer;
    try {
      answer = await api.append(SETTINGS_FOLDER, raw, ['\\Seen']);
    } catch (error) {
      if (error?.code !== 'folder_not_found') throw error;
      await api.createFolder(SETTINGS_FOLDER).catch((cause) => { if (cause?.code !== 'folder_exists') throw cause; });
      answer = await api.append(SETTINGS_FOLDER, raw, ['\\Seen']);
    }
    // Stopped meanwhile (logout wiped the storage): nothing more is written.
    if (!running) return;
    lastDigest = digest;
    writeMarker(false);
    const replaced = knownCopies.filter((uid) => uid !== answer?.uid);
    knownCopies = Number.isSafeInteger(answer?.uid) ? [answer.uid] : [];
    if (replaced.length) await api.remove({ folder: SETTINGS_FOLDER, uids: replaced, permanent: true });
    if (!Number.isSafeInteger(answer?.uid)) knownCopies = (await listCopies()).map((summary) => summary.uid).slice(0, 1);
  }

  function runSave() {
    saveTimer = null;
    saving = saving.then(save).catch(() => warn('settings_not_saved'));
    return saving;
  }

  function scheduleSave(delay = debounceMs) {
    if (!running) return;
    if (saveTimer !== null) unschedule(saveTimer);
    saveTimer = schedule(runSave, delay);
  }

  function onStore(state) {
    const current = [state.contacts, state.keys, state.prefs];
    const changed = seen && current.some((value, index) => value !== seen[index]);
    seen = current;
    if (!changed || !running || !storage) return;
    if (!loaded) {
      writeMarker(true);   // made before the copy could be read: kept when it is merged in
      return;
    }
    if (digestOf(local()) === lastDigest) return;
    writeMarker(true);
    scheduleSave();
  }

  return Object.freeze({
    start() {
      if (running) return tryLoad();
      running = true;
      seen = null;
      unsubscribe = store.subscribe(onStore);
      onStore(store.get());
      return tryLoad();
    },
    stop() {
      running = false;
      loaded = false;
      lastDigest = null;
      knownCopies = [];
      unsubscribe?.();
      unsubscribe = null;
      if (saveTimer !== null) unschedule(saveTimer);
      if (retryTimer !== null) unschedule(retryTimer);
      saveTimer = retryTimer = null;
    },
    /** Runs a scheduled save now (tests, and before the page goes). */
    flush() {
      if (saveTimer === null) return saving;
      unschedule(saveTimer);
      return runSave();
    },
    loaded: () => loaded,
    tryLoad,
  });
}
