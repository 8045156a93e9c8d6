// The Email tab's controller (issue 11): the only writer of the mail store. It talks to the
// server's mail API (web/src/net/mail-api.js), opens messages with mime-read in the page (the
// OpenPGP work happens in the crypto Worker), keeps the key directory and the address book, and
// runs the compose/send flow (web/src/app/mail-compose.js). The UI (web/src/ui/mail/) calls
// exactly the actions returned here and renders the store.
//
// Nothing here logs message content; decrypted subjects and bodies stay in the store (memory).

import { emptyQuery, findSummary, listLayout, loadedRows, mailPrefCheckers, mailSortKeys, defaultMailPrefs, threadIdOf, threadReplies } from '../state/mail-store.js';
import { createComposer, ownKeyFingerprint } from './mail-compose.js';
import { buildReadReceipt, MDN_SENT_FLAG, readReceiptWanted } from '../mail/mdn.js';
import { annotateSigner, signatureTrust } from '../mail/signer-trust.js';
import { createSettingsSync, isSettingsFolder } from '../mail/settings-store.js';

const MAX_PAGE = 200;

// Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) and other control characters
// make "invoice\u202Egpj.exe" look like "invoiceexe.jpg": a download name is plain, without them
// or path separators, and not empty or dot-only.
const unsafeNameCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff/\\:*?"<>|]/g;
export function downloadName(name) {
  const clean = String(name ?? '').replace(unsafeNameCharacters, '_').replace(/^[\s.]+|[\s.]+$/g, '').slice(0, 200);
  return /[^_]/.test(clean) ? clean : '';
}
const prefsKeyPrefix = 'secms.mail.prefs.';

const errorOf = (error) => ({
  code: typeof error?.code === 'string' ? error.code : 'unknown',
  message: typeof error?.message === 'string' ? error.message : '',
  status: Number.isInteger(error?.status) ? error.status : 0,
});

function statusFromApi(body) {
  const connection = ['connected', 'connecting', 'error'].includes(body?.connection) ? body.connection : 'error';
  return {
    enabled: body?.enabled === true,
    address: typeof body?.address === 'string' ? body.address : null,
    domain: typeof body?.domain === 'string' ? body.domain : null,
    account: body?.account === 'external' ? 'external' : 'local',
    external: body?.external && typeof body.external === 'object' ? Object.freeze({ ...body.external }) : null,
    smarthost: body?.smarthost === true,
    maxMessageBytes: Number.isSafeInteger(body?.max_message_bytes) && body.max_message_bytes > 0 ? body.max_message_bytes : 25 * 1024 * 1024,
    connection: body?.enabled === false ? 'disabled' : connection,
    error: body?.error && typeof body.error === 'object' ? { code: String(body.error.code ?? ''), message: String(body.error.message ?? '') } : null,
    quota: quotaFromApi(body?.quota),
  };
}

/** GET /status quota {used_bytes, limit_bytes} → {usedBytes, limitBytes}, or null when unknown. */
function quotaFromApi(quota) {
  if (!quota || typeof quota !== 'object') return null;
  const used = quota.used_bytes;
  const limit = quota.limit_bytes;
  if (!Number.isSafeInteger(used) || !Number.isSafeInteger(limit) || used < 0 || limit <= 0) return null;
  return Object.freeze({ usedBytes: used, limitBytes: limit });
}

/** The list query → GET /messages parameters (empty fields left out). */
export function listParams(list, offset, limit) {
  const params = { folder: list.folder, sort: list.sort, order: list.order, offset, limit, threads: list.threads ? 1 : 0 };
  const query = list.query ?? emptyQuery;
  if (query.quick) params.q = query.quick;
  for (const name of ['from', 'to', 'subject', 'body', 'text', 'since', 'before', 'flags']) if (query[name]) params[name] = query[name];
  return params;
}

/**
 * In threads mode the server pages over threads and returns every message of them in thread
 * order: one row per thread here (its first message, i.e. the root, with `thread_messages`),
 * so the sparse window and `total` count the same things.
 */
export function groupThreads(messages) {
  const rows = [];
  const byThread = new Map();
  for (const summary of messages) {
    const id = summary.thread?.id ?? summary.uid;
    let row = byThread.get(id);
    if (!row) {
      row = { ...summary, thread_messages: [] };
      byThread.set(id, row);
      rows.push(row);
    }
    row.thread_messages.push(summary);
  }
  return rows.map((row) => ({ ...row, thread_messages: Object.freeze(row.thread_messages) }));
}

/**
 * Options: {
 *   api: createMailApi(…),
 *   store: createMailStore(),
 *   crypto: the crypto Worker connection ({ request({type, payload}) }) or a getter () → it,
 *   mime: { openMessage, composeEncrypted, composeSigned, composePlain } (web/src/mail/mime-read.js, pgp-mime.js),
 *   keys: createKeyDirectory(…) (web/src/mail/key-directory.js),
 *   addressBook: createAddressBook(…) (web/src/mail/address-book.js),
 *   presence: the presence store (online users → completion as username@domain),
 *   self: () → { username } | null,
 *   storage: localStorage-like for the mail preferences (or null), account: own username,
 *   notify({ title, body, tag }): the page's desktop notification (never given a subject),
 *   ownFingerprint () → Promise<string|null>: the unlocked identity's fingerprint (default: asked
 *     of the crypto Worker, identity.status),
 *   now, setTimeout, clearTimeout (injectable for tests), newId () → string
 * }
 * Returns the actions object (frozen) plus handleServerMessage(message) → boolean.
 */
export function createMailController(options) {
  const {
    api, store, mime, keys, addressBook, presence = null, self = () => null, storage = null, account = '',
    notify = () => {}, now = () => Date.now(), ownFingerprint: ownFingerprintOption = null,
    setTimeout: schedule = (fn, ms) => setTimeout(fn, ms), clearTimeout: unschedule = (handle) => clearTimeout(handle),
    newId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36),
  } = options;
  const cryptoOf = typeof options.crypto === 'function' ? options.crypto : () => options.crypto;
  let running = false;
  let starting = null;            // the one start() of this login (the panel and app.js both ask)
  const inFlight = new Map();     // "version:pageStart" → promise
  let openToken = 0;

  // --- preferences -------------------------------------------------------------------------
  const prefsKey = `${prefsKeyPrefix}${String(account).toLowerCase()}`;
  function loadPrefs() {
    let stored = {};
    try {
      stored = JSON.parse(storage?.getItem(prefsKey) ?? '{}') ?? {};
    } catch {
      stored = {};
    }
    const prefs = { ...defaultMailPrefs };
    for (const [name, check] of Object.entries(mailPrefCheckers)) if (name in stored && check(stored[name])) prefs[name] = stored[name];
    store.setPrefs(prefs);
  }
  function setPref(name, value) {
    const check = mailPrefCheckers[name];
    if (!check) throw new RangeError(`mail preferences: unknown preference ${JSON.stringify(name)}`);
    if (!check(value)) throw new RangeError(`mail preferences: bad value for ${name}`);
    // Stored before the store changes: the settings sync, a store subscriber, reads the stored
    // copy to decide whether anything is left to save.
    try {
      storage?.setItem(prefsKey, JSON.stringify({ ...store.get().prefs, [name]: value }));
    } catch {
      // Storage full or disabled: the choice holds for this page.
    }
    store.setPrefs({ [name]: value });
    if (name === 'threads' && store.get().list.threads !== value) return setThreads(value);
    return undefined;
  }

  const showError = (error, action) => store.setNotice({ kind: 'error', action, ...errorOf(error) });

  // --- status and folders ------------------------------------------------------------------
  const ownAddressList = () => {
    const { status } = store.get();
    return [status.address, status.external?.email].filter(Boolean);
  };

  async function refreshStatus() {
    try {
      store.setStatus(statusFromApi(await api.status()));
      // The key directory never learns (nor serves) a key for an own address.
      keys?.setOwnAddresses?.(ownAddressList());
    } catch (error) {
      store.setStatus({ connection: error?.code === 'not_enabled' ? 'disabled' : 'error', enabled: error?.code !== 'not_enabled', error: errorOf(error) });
      throw error;
    }
    return store.get().status;
  }

  async function refreshFolders() {
    try {
      const { folders } = await api.folders();
      // The settings folder (settings-store.js) is the app's own: not in the tree, nor a move target.
      store.setFolders(Array.isArray(folders) ? folders.filter((folder) => !isSettingsFolder(folder?.path)) : []);
    } catch (error) {
      store.setFoldersError(errorOf(error));
    }
    return store.get().folders;
  }

  /**
   * Starts the tab: status, folders, the INBOX list. Idempotent: the page wiring and the panel
   * may both call it; every call gets the same promise until stop().
   */
  function start() {
    starting ??= load();
    return starting;
  }

  /** The work of start(); also the reload after the account changed. */
  async function load() {
    running = true;
    loadPrefs();
    store.setContacts(addressBook?.list() ?? []);
    store.setKeys(keys?.list() ?? []);
    store.setStatus({ connection: 'connecting' });
    try {
      await refreshStatus();
    } catch {
      return store.get().status;
    }
    if (!store.get().status.enabled) return store.get().status;
    settingsSync?.start();
    await refreshFolders();
    const { threads } = store.get().prefs;
    await openFolder(store.get().currentFolder || 'INBOX', { threads });
    return store.get().status;
  }

  /** Stops timers and forgets everything (logout). */
  function stop() {
    running = false;
    starting = null;
    // Before the store is emptied: an emptied store is no change to save.
    settingsSync?.stop();
    composer.stop();
    inFlight.clear();
    store.clear();
  }

  /**
   * Another window of this account took over (close 4409): the settings sync (which polls the
   * mail server while the key is locked) stops after saving what is pending, and no push is
   * taken; what is shown stays, and a draft being written keeps its own saves. resume() ("Use
   * here") starts the sync again and re-reads the folders and the list (no pushes came meanwhile).
   */
  async function pause() {
    if (!running) return;
    running = false;
    await settingsSync?.flush();
    if (!running) settingsSync?.stop();
  }

  async function resume() {
    if (running || starting === null) return;
    running = true;
    if (!store.get().status.enabled) return;
    settingsSync?.start();
    await refreshFolders();
    await reloadList();
  }

  // --- the list (sparse window) ---------------------------------------------------------------
  async function openFolder(path, changes = {}) {
    const version = store.resetList({ folder: path, ...changes });
    store.clearSelection();
    store.setSearchResults(null);
    await loadRange(0, store.get().list.pageSize, version);
    return store.get().list;
  }

  async function fetchPage(version, pageStart) {
    const list = store.get().list;
    const key = `${version}:${pageStart}`;
    if (inFlight.has(key)) return inFlight.get(key);
    const limit = Math.min(list.pageSize, MAX_PAGE);
    const promise = (async () => {
      store.setListLoading(version, true);
      try {
        const answer = await api.messages(listParams(list, pageStart, limit));
        const messages = Array.isArray(answer?.messages) ? answer.messages : [];
        const rows = list.threads ? groupThreads(messages) : messages;
        store.putRows(version, { offset: Number.isSafeInteger(answer?.offset) ? answer.offset : pageStart, messages: rows, total: answer?.total, uidvalidity: answer?.uidvalidity ?? null });
        pruneHiddenSelection();
        store.setListLoading(version, [...inFlight.keys()].some((other) => other !== key && other.startsWith(`${version}:`)));
      } catch (error) {
        store.setListLoading(version, false, errorOf(error));
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, promise);
    return promise;
  }

  /**
   * Makes sure rows [offset, offset+count) are loaded: fetches the missing pages (page-aligned,
   * each page at most once at a time); answers for an older version of the list are dropped.
   */
  async function loadRange(offset, count, version = store.get().list.version) {
    const list = store.get().list;
    if (list.version !== version) return;
    const pageSize = Math.min(list.pageSize, MAX_PAGE);
    const start = Math.max(0, Math.floor(offset / pageSize) * pageSize);
    const end = Math.max(start + 1, offset + Math.max(1, count));
    const limitEnd = list.total > 0 || list.rows.size > 0 ? Math.min(end, Math.max(list.total, 1)) : end;
    const pages = [];
    for (let page = start; page < limitEnd; page += pageSize) {
      let missing = false;
      for (let index = page; index < Math.min(page + pageSize, limitEnd) && !missing; index += 1) missing = !list.rows.has(index);
      if (missing) pages.push(fetchPage(version, page));
    }
    await Promise.all(pages);
  }

  /** Refetches the loaded pages in place (new mail, after a move): scroll and selection stay. */
  async function reloadList() {
    const before = store.get().list;
    const loadedPages = new Set(loadedRows(before).map(([offset]) => Math.floor(offset / before.pageSize) * before.pageSize));
    if (loadedPages.size === 0) loadedPages.add(0);
    const version = store.bumpListVersion();
    await Promise.all([...loadedPages].map((page) => fetchPage(version, page)));
  }

  async function setSort(key, order = store.get().list.order) {
    if (!mailSortKeys.includes(key)) throw new RangeError(`mail: unknown sort ${JSON.stringify(key)}`);
    if (order !== 'asc' && order !== 'desc') throw new RangeError('mail: order is asc or desc');
    await openFolder(store.get().list.folder, { sort: key, order });
  }

  async function setThreads(on) {
    await openFolder(store.get().list.folder, { threads: Boolean(on) });
  }

  /** Server search (every field of the query; `quick` = sender or subject) plus the local search over decrypted headers. */
  async function search(query) {
    const merged = Object.freeze({ ...emptyQuery, ...Object.fromEntries(Object.entries(query ?? {}).filter(([name, value]) => name in emptyQuery && typeof value === 'string').map(([name, value]) => [name, value.trim()])) });
    await openFolder(store.get().list.folder, { query: merged });
    store.setSearchResults(searchDecrypted(merged));
  }

  async function clearSearch() {
    await openFolder(store.get().list.folder, { query: emptyQuery });
  }

  /** Encrypted mail has no readable subject on the server: its decrypted headers (opened messages) are searched here. */
  function searchDecrypted(query) {
    const needle = (query.quick || query.subject || query.from || query.text || '').toLowerCase();
    if (!needle) return null;
    const results = [];
    for (const [key, headers] of store.get().decrypted) {
      const [folder, uid] = key.split('\n');
      const fromText = (headers.from ?? []).map((entry) => `${entry.name ?? ''} ${entry.address ?? ''}`).join(' ').toLowerCase();
      const subject = String(headers.subject ?? '').toLowerCase();
      const matches = (query.from && !query.quick ? fromText.includes(needle) : false)
        || (query.subject && !query.quick ? subject.includes(needle) : false)
        || ((query.quick || query.text) ? subject.includes(needle) || fromText.includes(needle) : false);
      if (matches) results.push(Object.freeze({ folder, uid: Number(uid), subject: headers.subject, from: headers.from, date: headers.date ?? null }));
    }
    return { query, results: Object.freeze(results) };
  }

  // --- selection -------------------------------------------------------------------------------
  // The rows the user sees, in order (a collapsed conversation's replies are not among them).
  const orderedUids = () => listLayout(store.get().list).order;

  /** Click: select only uid; toggle (Ctrl/Cmd): add or remove it; extend (Shift): the range from the anchor. */
  function select(uid, { extend = false, toggle = false } = {}) {
    const { selection } = store.get();
    if (extend && selection.anchor !== null) {
      const order = orderedUids();
      const from = order.indexOf(selection.anchor);
      const to = order.indexOf(uid);
      if (from >= 0 && to >= 0) {
        const [low, high] = from <= to ? [from, to] : [to, from];
        const range = order.slice(low, high + 1);
        const uids = toggle ? new Set([...selection.uids, ...range]) : new Set(range);
        store.setSelection({ uids, focused: uid });
        return;
      }
    }
    if (toggle) {
      const uids = new Set(selection.uids);
      if (uids.has(uid)) uids.delete(uid);
      else uids.add(uid);
      store.setSelection({ uids, anchor: uid, focused: uid });
      return;
    }
    store.setSelection({ uids: new Set([uid]), anchor: uid, focused: uid });
  }

  /**
   * Collapses or expands a conversation (threadId: its root's thread id). Collapsing takes its
   * hidden replies out of the selection and moves the focus from a hidden reply to the root:
   * what is selected is what is seen, so Delete, Move and drag act on a collapsed thread's root
   * only, never on replies the user cannot see.
   */
  function setThreadCollapsed(threadId, collapsed) {
    store.setThreadCollapsed(threadId, collapsed);
    if (collapsed) pruneHiddenSelection(new Set([threadId]));
  }
  // Delete, Move and drag act on what the user sees: replies hidden under a collapsed
  // conversation leave the selection, and focus and anchor move to their root. Run when a
  // thread is collapsed and when rows arrive (a reload may put a selected message under one).
  function pruneHiddenSelection(threadIds = store.get().list.collapsed) {
    const { list, selection } = store.get();
    if (!list.threads || !threadIds?.size) return;
    const rootOfHidden = new Map();
    for (const summary of list.rows.values()) {
      if (!threadIds.has(threadIdOf(summary))) continue;
      for (const reply of threadReplies(summary)) rootOfHidden.set(reply.uid, summary.uid);
    }
    if (![...selection.uids].some((uid) => rootOfHidden.has(uid)) && !rootOfHidden.has(selection.focused) && !rootOfHidden.has(selection.anchor)) return;
    store.setSelection({
      uids: new Set([...selection.uids].filter((uid) => !rootOfHidden.has(uid))),
      focused: rootOfHidden.get(selection.focused) ?? selection.focused,
      anchor: rootOfHidden.get(selection.anchor) ?? selection.anchor,
    });
  }
  function selectAll() {
    store.setSelection({ uids: new Set(orderedUids()) });
  }

  // --- reading ---------------------------------------------------------------------------------
  const verificationKeys = () => keys?.verificationKeys() ?? [];

  /** The own key's fingerprint as the Worker reports it (null when locked or unknown). */
  const ownFingerprint = () => ownKeyFingerprint(ownFingerprintOption, cryptoOf);

  /** Opens a message: raw bytes → mime-read (decrypt/verify in the Worker) → reading; then \Seen and learnt keys. */
  async function open(uid, { folder = store.get().list.folder } = {}) {
    openToken += 1;
    const token = openToken;
    store.setReading({ uid, folder, state: 'loading', message: null, error: null, remoteContentAllowed: false, source: null, flags: Object.freeze([]) });
    let message;
    let ownFingerprintNow = null;
    try {
      const raw = await api.rawMessage(folder, uid);
      // Asked before the Worker checks the signatures with the own key of that moment.
      ownFingerprintNow = await ownFingerprint();
      message = await mime.openMessage({ raw, crypto: cryptoOf(), keyring: { verificationKeys: verificationKeys() } });
    } catch (error) {
      if (token === openToken) store.setReading({ state: 'error', error: errorOf(error) });
      return null;
    }
    if (token !== openToken) return null;   // another message was opened meanwhile
    // Who signed, as far as the key directory knows: verified/pinned vs learnt from mail (signer.source).
    message = annotateSigner(message, keys, { ownAddresses: ownAddressList(), ownFingerprint: ownFingerprintNow });
    const flags = findSummary(store.get().list, uid)?.flags ?? [];
    store.setReading({ state: 'ready', message, flags: Object.freeze([...flags]) });
    if (message?.security?.encrypted && message.headers) store.rememberDecrypted(folder, uid, message.headers);
    const summary = findSummary(store.get().list, uid);
    if (summary && !(summary.flags ?? []).includes('\\Seen')) {
      setFlags([uid], { add: ['\\Seen'] }, { folder }).catch(() => {});
    }
    await learnKeys(message);
    return message;
  }

  /**
   * Autocrypt keys of the sender and gossip keys. Gossip (Autocrypt §2.7) is someone else's
   * word about a third party's key: taken only from a message whose signature is verified (the
   * From address's verified/pinned key) AND was made inside the encryption (mime-read takes
   * gossip only from what that signature covers), and only for addresses among its recipients.
   * Never for an own address (a forged "From: <own address>" would plant a key for the user).
   */
  async function learnKeys(message) {
    if (!keys) return;
    const learnt = [];
    const own = new Set(ownAddressList().map((address) => address.toLowerCase()));
    if (message?.autocrypt?.addr && message.autocrypt.keydata && !own.has(String(message.autocrypt.addr).toLowerCase())) {
      learnt.push(keys.learn({ address: message.autocrypt.addr, armored: message.autocrypt.keydata, source: 'autocrypt', preferEncrypt: message.autocrypt.prefer_encrypt === 'mutual' }));
    }
    const recipients = new Set([...(message?.headers?.to ?? []), ...(message?.headers?.cc ?? [])].map((entry) => String(entry?.address ?? '').toLowerCase()));
    const gossipTrusted = signatureTrust(message?.security) === 'verified' && message?.security?.signed_inside_encryption === true;
    for (const gossip of gossipTrusted ? message?.gossip ?? [] : []) {
      if (gossip?.addr && gossip.keydata && recipients.has(String(gossip.addr).toLowerCase()) && !own.has(String(gossip.addr).toLowerCase())) {
        learnt.push(keys.learn({ address: gossip.addr, armored: gossip.keydata, source: 'gossip' }));
      }
    }
    if (learnt.length === 0) return;
    await Promise.allSettled(learnt);
    store.setKeys(keys.list());
  }

  function allowRemoteContent() {
    store.setReading({ remoteContentAllowed: true });
  }

  /** The raw message as text (view source); kept in reading.source. */
  async function viewSource(uid = store.get().reading.uid, { folder = store.get().reading.folder ?? store.get().list.folder } = {}) {
    const raw = await api.rawMessage(folder, uid);
    const source = new TextDecoder('utf-8', { fatal: false }).decode(raw);
    if (store.get().reading.uid === uid) store.setReading({ source });
    return source;
  }

  /** An attachment of the open message → { blob, url (object URL; the caller revokes it), filename, contentType }. */
  function downloadAttachment(index) {
    const attachment = store.get().reading.message?.attachments?.find((entry) => entry.index === index);
    if (!attachment) throw new RangeError('mail: no such attachment');
    const contentType = /^[\w.+-]+\/[\w.+-]+$/.test(attachment.content_type ?? '') ? attachment.content_type : 'application/octet-stream';
    const blob = new Blob([attachment.data], { type: contentType });
    const url = typeof URL.createObjectURL === 'function' ? URL.createObjectURL(blob) : null;
    return { blob, url, filename: downloadName(attachment.filename) || `attachment-${index}`, contentType };
  }

  // --- flags, moves, folders ----------------------------------------------------------------
  const flagsChange = (add, remove) => (summary) => {
    const flags = new Set(summary.flags ?? []);
    for (const flag of add) flags.add(flag);
    for (const flag of remove) flags.delete(flag);
    return { flags: Object.freeze([...flags]) };
  };

  /** Optimistic: the list shows the change at once and is put back if the server refuses. */
  async function setFlags(uids, { add = [], remove = [] } = {}, { folder = store.get().list.folder } = {}) {
    if (!uids.length) return;
    const before = uids.map((uid) => findSummary(store.get().list, uid)).filter(Boolean).map((summary) => [summary.uid, summary.flags]);
    if (folder === store.get().list.folder) store.patchSummaries(uids, flagsChange(add, remove));
    try {
      await api.setFlags({ folder, uids, add, remove });
    } catch (error) {
      for (const [uid, flags] of before) store.patchSummaries([uid], () => ({ flags }));
      showError(error, 'flags');
      throw error;
    }
    if (add.includes('\\Seen') || remove.includes('\\Seen')) refreshFolders().catch(() => {});
  }

  const allHave = (uids, flag) => uids.every((uid) => (findSummary(store.get().list, uid)?.flags ?? []).includes(flag));
  const toggleSeen = (uids) => (allHave(uids, '\\Seen') ? setFlags(uids, { remove: ['\\Seen'] }) : setFlags(uids, { add: ['\\Seen'] }));
  const toggleFlag = (uids) => (allHave(uids, '\\Flagged') ? setFlags(uids, { remove: ['\\Flagged'] }) : setFlags(uids, { add: ['\\Flagged'] }));

  async function afterRemoval(uids) {
    store.dropSummaries(uids);
    const { selection, reading } = store.get();
    store.setSelection({ uids: new Set([...selection.uids].filter((uid) => !uids.includes(uid))) });
    if (uids.includes(reading.uid)) store.clearReading();
    await Promise.all([refreshFolders(), reloadList()]);
  }

  async function move(uids, to, { copy = false } = {}) {
    const folder = store.get().list.folder;
    try {
      await api.move({ folder, uids, to, copy });
    } catch (error) {
      showError(error, 'move');
      throw error;
    }
    if (copy) await refreshFolders();
    else await afterRemoval(uids);
  }

  async function remove(uids) {
    const folder = store.get().list.folder;
    try {
      await api.remove({ folder, uids });
    } catch (error) {
      showError(error, 'delete');
      throw error;
    }
    await afterRemoval(uids);
  }

  async function folderAction(action, call, after = () => refreshFolders()) {
    try {
      const result = await call();
      await after();
      return result;
    } catch (error) {
      showError(error, action);
      throw error;
    }
  }

  const emptyFolder = (path) => folderAction('empty', () => api.empty(path), async () => {
    await refreshFolders();
    if (store.get().list.folder === path) await openFolder(path);
  });
  const markAllRead = (path) => folderAction('mark_read', () => api.markRead(path), async () => {
    await refreshFolders();
    if (store.get().list.folder === path) await reloadList();
  });
  const createFolder = (path) => folderAction('create_folder', () => api.createFolder(path));
  const renameFolder = (path, newPath) => folderAction('rename_folder', () => api.renameFolder(path, newPath), async () => {
    await refreshFolders();
    if (store.get().list.folder === path) await openFolder(newPath);
  });
  const deleteFolder = (path) => folderAction('delete_folder', () => api.deleteFolder(path), async () => {
    await refreshFolders();
    if (store.get().list.folder === path) await openFolder('INBOX');
  });
  const setSubscribed = (path, on) => folderAction('subscribe', () => api.subscribe(path, Boolean(on)));

  // --- external account ---------------------------------------------------------------------
  /** Switches the mailbox (PUT/DELETE /account), then reloads the tab on the new one. */
  async function switchAccount(change) {
    try {
      await change();
    } catch (error) {
      showError(error, 'account');
      throw error;
    }
    store.resetList({ folder: 'INBOX' });
    store.clearReading();
    starting = load();
    await starting;
  }

  const setExternalAccount = (fields) => switchAccount(() => api.setAccount(fields));
  const clearExternalAccount = () => switchAccount(() => api.clearAccount());

  // --- contacts and keys --------------------------------------------------------------------
  const syncContacts = () => store.setContacts(addressBook.list());
  const syncKeys = () => store.setKeys(keys.list());

  /**
   * A contact's KEY → the key directory, per address: only for addresses the key's own user IDs
   * name. source 'vcard' for a card's key (a card may come from anyone: a weak key that never
   * replaces another silently and gives way to a verified/pinned one), 'imported' for a key the
   * user pasted into the contact form.
   * → [{ address, result: 'added'|'updated'|'same'|'changed'|'ignored'|<error code> }].
   */
  async function contactKey(contact, source = 'vcard') {
    if (!contact?.key || !keys) return [];
    const results = [];
    for (const address of contact.emails ?? []) {
      try {
        const { result } = await keys.learn({ address, armored: contact.key, source, fromFile: true });
        results.push({ address, result });
      } catch (error) {
        results.push({ address, result: typeof error?.code === 'string' ? error.code : 'not_a_key' });
      }
    }
    syncKeys();
    return results;
  }

  async function addContact(fields) {
    const contact = addressBook.add(fields);
    syncContacts();
    await contactKey(contact, 'imported');
    return contact;
  }
  async function updateContact(id, fields) {
    const before = addressBook.list().find((contact) => contact.id === id) ?? null;
    const contact = addressBook.update(id, fields);
    syncContacts();
    // Only a key the user typed in now is theirs; a card's key kept through an edit stays a card's.
    const typedKey = typeof fields?.key === 'string' && fields.key && fields.key !== before?.key;
    await contactKey(contact, typedKey ? 'imported' : (contact.keySource === 'imported' ? 'imported' : 'vcard'));
    return contact;
  }
  function removeContact(id) {
    addressBook.remove(id);
    syncContacts();
  }
  /**
   * vCard text → { added, skipped, keys: [{ address, result }] }; keys found in KEY properties go
   * to the key directory as 'vcard' under contactKey's rules (results per address).
   */
  async function importVCard(text) {
    const { added, skipped } = addressBook.importVCard(text);
    syncContacts();
    const keyResults = [];
    for (const contact of added) keyResults.push(...await contactKey(contact));
    return { added: added.length, skipped, keys: keyResults };
  }
  const exportVCard = () => addressBook.exportVCard();

  /** A pasted or loaded public key → the entries it gave ({address, fingerprint}[]) ; private keys refused. */
  async function importKey(armored) {
    const result = await keys.importKey(armored);
    syncKeys();
    return result;
  }
  const keyFor = (address) => keys?.keyFor(address) ?? null;
  async function acceptKeyChange(address) {
    keys.acceptChange(address);
    syncKeys();
  }
  async function rejectKeyChange(address) {
    keys.rejectChange(address);
    syncKeys();
  }
  function removeKey(address) {
    keys.remove(address);
    syncKeys();
  }

  /** Address completion: contacts, then online users as username@domain. → [{ name, address, hasKey }] (≤ 10). */
  function completeAddress(prefix) {
    const needle = String(prefix ?? '').trim().toLowerCase();
    const results = [];
    const seen = new Set();
    const push = (name, address) => {
      const key = address.toLowerCase();
      if (seen.has(key) || results.length >= 10) return;
      if (needle && !key.startsWith(needle) && !String(name).toLowerCase().split(/\s+/).some((word) => word.startsWith(needle)) && !String(name).toLowerCase().startsWith(needle)) return;
      seen.add(key);
      results.push(Object.freeze({ name, address, hasKey: Boolean(keys?.keyFor(address)) }));
    };
    for (const contact of store.get().contacts) for (const email of contact.emails ?? []) push(contact.name ?? '', email);
    const domain = store.get().status.domain;
    if (domain && presence) {
      for (const user of presence.get().users ?? []) if (!user.isSelf) push(user.username, `${user.username.toLowerCase()}@${domain}`);
    }
    return results;
  }

  // --- compose / send -----------------------------------------------------------------------
  const composer = createComposer({
    api, store, mime, keys, crypto: cryptoOf, now, schedule, unschedule, newId,
    ownAddresses: () => {
      const { status } = store.get();
      return [status.address, status.external?.email].filter(Boolean);
    },
    afterSend: async () => {
      await refreshFolders();
      if (/^(sent|drafts)$/i.test(store.get().list.folder) || store.get().folders.some((folder) => folder.path === store.get().list.folder && ['sent', 'drafts'].includes(folder.special_use))) await reloadList();
    },
    onError: showError,
  });

  // --- settings kept on the mail server (address book, keys, preferences; r3 F4) ------------
  // Off when told so (settingsSync: false) or without storage; it acts only once the own key is
  // unlocked (it decrypts and signs with it).
  const settingsSync = options.settingsSync === false || !storage || typeof api?.append !== 'function' ? null : createSettingsSync({
    api, store, storage, account, crypto: cryptoOf, ownFingerprint,
    ownAddress: () => store.get().status.address,
    setTimeout: schedule, clearTimeout: unschedule, now,
    onLoaded: () => {
      store.setContacts(addressBook?.list() ?? []);
      store.setKeys(keys?.list() ?? []);
      loadPrefs();
      if (store.get().prefs.threads !== store.get().list.threads) setThreads(store.get().prefs.threads).catch(() => {});
    },
  });

  // --- read receipts (RFC 8098) ------------------------------------------------------------
  const ownFrom = () => {
    const { status } = store.get();
    const address = status.account === 'external' && status.external?.email ? status.external.email : (status.address ?? status.external?.email);
    return address ? { name: '', address } : null;
  };

  /**
   * "Send receipt" of the reader (never called on its own): a disposition notification for the
   * open message to its Disposition-Notification-To address, then $MDNSent on it so the prompt
   * does not come back. → { state: 'sent' } | { state: 'already_sent' }.
   */
  async function sendReadReceipt(uid = store.get().reading.uid, { folder = store.get().reading.folder ?? store.get().list.folder } = {}) {
    const { reading } = store.get();
    const message = reading.uid === uid && reading.folder === folder ? reading.message : null;
    if (!message?.read_receipt_to) throw Object.assign(new RangeError('mail: this message asks for no read receipt'), { code: 'no_receipt_request' });
    const flags = [...(reading.flags ?? []), ...(findSummary(store.get().list, uid)?.flags ?? [])];
    if (!readReceiptWanted(message, flags)) return { state: 'already_sent' };
    const from = ownFrom();
    if (!from) throw Object.assign(new Error('mail: no own address'), { code: 'not_enabled' });
    const raw = buildReadReceipt({ from, to: message.read_receipt_to, original: message, date: new Date(now()) });
    try {
      await api.send({ raw, to: [message.read_receipt_to.toLowerCase()] });
    } catch (error) {
      showError(error, 'read_receipt');
      throw error;
    }
    if (store.get().reading.uid === uid) store.setReading({ flags: Object.freeze([...new Set([...(store.get().reading.flags ?? []), MDN_SENT_FLAG])]) });
    await setFlags([uid], { add: [MDN_SENT_FLAG] }, { folder }).catch(() => {});
    return { state: 'sent' };
  }

  // --- server events ------------------------------------------------------------------------
  /** mail_new / mail_status on the WebSocket; true when handled. */
  function handleServerMessage(message) {
    if (message?.type === 'mail_status') {
      if (!running) return true;
      const connection = ['connected', 'connecting', 'error'].includes(message.connection) ? message.connection : 'error';
      const wasDown = store.get().status.connection !== 'connected';
      store.setStatus({ connection, error: message.error && typeof message.error === 'object' ? { code: String(message.error.code ?? ''), message: String(message.error.message ?? '') } : null });
      if (connection === 'connected' && wasDown && store.get().status.enabled) {
        refreshFolders().then(() => reloadList()).catch(() => {});
      }
      return true;
    }
    if (message?.type === 'mail_new') {
      if (!running) return true;
      const folder = typeof message.folder === 'string' ? message.folder : 'INBOX';
      const before = store.get().folders.find((entry) => entry.path === folder);
      const exists = Number.isSafeInteger(message.exists) ? message.exists : null;
      const unseen = Number.isSafeInteger(message.unseen) ? message.unseen : null;
      if (exists !== null || unseen !== null) store.patchFolder(folder, { ...(exists !== null ? { total: exists } : {}), ...(unseen !== null ? { unseen } : {}) });
      // Only more mail (not a flag change or an expunge) is worth a notification; no subject or sender in it.
      if (before && exists !== null && exists > (before.total ?? 0)) notify({ title: 'New mail', body: '', tag: 'secms-mail' });
      refreshFolders().catch(() => {});
      if (store.get().list.folder === folder) reloadList().catch(() => {});
      return true;
    }
    return false;
  }

  /** {type:'mail.progress', job (the draft id), done, total} from the Worker while a big message is encrypted. */
  function handleWorkerEvent(event) {
    const draft = typeof event?.job === 'string' ? store.draft(event.job) : null;
    if (!draft?.sending || !(event.total > 0)) return;
    store.putDraft(draft.id, { encryptProgress: Math.min(1, Math.max(0, event.done / event.total)) });
  }

  const actions = Object.freeze({
    start, stop, pause, resume, refreshStatus, refreshFolders, openFolder: (path) => openFolder(path), loadRange: (offset, count) => loadRange(offset, count), reloadList,
    setSort, setThreads, search, clearSearch,
    select, selectAll, clearSelection: () => store.clearSelection(), setThreadCollapsed,
    open, setFlags: (uids, change) => setFlags(uids, change), toggleSeen, toggleFlag, move, remove, emptyFolder, markAllRead,
    createFolder, renameFolder, deleteFolder, setSubscribed,
    allowRemoteContent, viewSource, downloadAttachment, sendReadReceipt,
    compose: composer.compose, updateDraft: composer.updateDraft, addAttachments: composer.addAttachments,
    removeAttachment: composer.removeAttachment, saveDraft: composer.saveDraft, send: composer.send, discardDraft: composer.discardDraft,
    addContact, updateContact, removeContact, importVCard, exportVCard,
    importKey, keyFor, acceptKeyChange, rejectKeyChange, removeKey,
    setExternalAccount, clearExternalAccount, setPref, completeAddress,
    dismissNotice: () => store.setNotice(null),
    // Saves a settings change still waiting for its debounce (logout calls it before stopping).
    flushSettings: () => settingsSync?.flush() ?? Promise.resolve(),
  });

  return Object.freeze({ actions, handleServerMessage, handleWorkerEvent });
}
