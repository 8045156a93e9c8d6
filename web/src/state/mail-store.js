// The Email tab's state (issue 11): mailbox status, folders, the message list as a sparse
// window for virtual scrolling, the selection, the open message, drafts, contacts, the key
// directory's view and the mail preferences. Pure (no DOM, no network), tested in Node; the
// controller (web/src/app/mail-controller.js) is the only writer, the UI (web/src/ui/mail/)
// reads snapshots and calls the controller's actions.
//
// Snapshots are frozen; Maps and Sets inside them are replaced, never mutated, so a UI may
// compare by identity. Message content (decrypted text, subjects of encrypted mail) lives only
// here, in memory: nothing of it is persisted.

import { createStore } from './store.js';

/** Sort keys the server knows (GET /messages sort=). */
export const mailSortKeys = Object.freeze(['date', 'arrival', 'from', 'subject', 'size']);
export const mailDensities = Object.freeze(['comfortable', 'compact']);
export const readingPanes = Object.freeze(['right', 'bottom', 'off']);
export const composeFormats = Object.freeze(['plain', 'rich']);
/** Shown in the list instead of the outer "[...]" subject of encrypted mail not opened yet. */
export const encryptedSubjectPlaceholder = '[...]';

export const defaultMailPrefs = Object.freeze({
  density: 'comfortable', readingPane: 'right', composeFormat: 'plain',
  signature: '', signatures: Object.freeze({}), autoSaveSeconds: 30, encryptByDefault: true, signByDefault: true,
  attachOwnKey: false, showLongHeaders: false, threads: false,
});

/** Validators of each preference (setPref refuses anything else). */
export const mailPrefCheckers = Object.freeze({
  density: (value) => mailDensities.includes(value),
  readingPane: (value) => readingPanes.includes(value),
  composeFormat: (value) => composeFormats.includes(value),
  signature: (value) => typeof value === 'string' && value.length <= 4000,
  // One signature per identity (the mailbox address, the external account's address); the old
  // single `signature` still counts as the mailbox address's when that has no entry.
  signatures: (value) => Boolean(value) && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length <= 8
    && Object.entries(value).every(([address, text]) => /^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/.test(address) && typeof text === 'string' && text.length <= 4000),
  autoSaveSeconds: (value) => Number.isSafeInteger(value) && value >= 5 && value <= 3600,
  encryptByDefault: (value) => typeof value === 'boolean',
  signByDefault: (value) => typeof value === 'boolean',
  attachOwnKey: (value) => typeof value === 'boolean',
  showLongHeaders: (value) => typeof value === 'boolean',
  threads: (value) => typeof value === 'boolean',
});

export const emptyQuery = Object.freeze({ quick: '', from: '', to: '', subject: '', body: '', text: '', since: '', before: '', flags: '' });

const initialStatus = Object.freeze({
  connection: 'off', enabled: false, address: null, domain: null, smarthost: false,
  maxMessageBytes: 25 * 1024 * 1024, account: 'local', external: null, error: null, quota: null,
});

function initialList({ folder = 'INBOX', sort = 'date', order = 'desc', threads = false, query = emptyQuery, version = 0 } = {}) {
  return Object.freeze({
    folder, sort, order, threads, query, total: 0, pageSize: 50, uidvalidity: null,
    rows: new Map(), loading: false, error: null, version, collapsed: new Set(),
  });
}

const initialSelection = Object.freeze({ uids: new Set(), anchor: null, focused: null });
const initialReading = Object.freeze({
  uid: null, folder: null, state: 'idle', message: null, error: null, remoteContentAllowed: false, source: null,
});

/**
 * Snapshot (all frozen):
 * {
 *   status: { connection: 'off'|'disabled'|'connecting'|'connected'|'error' (disabled: mail off on the server), enabled, address, domain, smarthost,
 *             maxMessageBytes, account: 'local'|'external', external: null|{email, imap_host, …}, error: null|{code,message},
 *             quota: null|{usedBytes, limitBytes} },
 *   folders: [API folder objects {path, name, delimiter, special_use, subscribed, selectable, total, unseen}],
 *   foldersError: null|{code,message},
 *   currentFolder: 'INBOX',
 *   list: { folder, sort, order, threads, query, total, pageSize, uidvalidity, rows: Map offset → summary
 *           (the API's message objects; sparse; in conversation view one per thread, with
 *           thread_messages), loading, error, version (bumps on every reload),
 *           collapsed: Set of thread ids whose replies are hidden (conversations start expanded) },
 *   selection: { uids: Set, anchor: uid|null, focused: uid|null },
 *   reading: { uid, folder, state: 'idle'|'loading'|'ready'|'error', message (mime-read model), error,
 *              remoteContentAllowed, source: null|string (raw text when "view source") },
 *   decrypted: Map "folder\nuid" → { subject, from, date } (headers of encrypted mail once opened; memory only),
 *   drafts: Map id → draft (see the controller's compose()),
 *   contacts: [{ id, name, emails, key, fingerprint, keySource }],
 *   keys: [{ address, fingerprint, source, preferEncrypt, lastSeen, state: 'ok'|'changed', pending: null|{fingerprint, source} }],
 *   searchResults: null | { query, results: [{ folder, uid, subject, from, date }] } (local search over decrypted headers),
 *   prefs: defaultMailPrefs,
 *   notice: null | { kind: 'info'|'error', code, message, params } (the last action's outcome for a toast),
 * }
 */
export function initialMailState() {
  return Object.freeze({
    status: initialStatus,
    folders: Object.freeze([]),
    foldersError: null,
    currentFolder: 'INBOX',
    list: initialList(),
    selection: initialSelection,
    reading: initialReading,
    decrypted: new Map(),
    drafts: new Map(),
    contacts: Object.freeze([]),
    keys: Object.freeze([]),
    searchResults: null,
    prefs: defaultMailPrefs,
    notice: null,
  });
}

export const decryptedKey = (folder, uid) => `${folder}\n${uid}`;

/** Whether a list summary is an encrypted message (its outer subject is a placeholder). */
export const isEncryptedSummary = (summary) => /^multipart\/encrypted\b/i.test(String(summary?.content_type ?? ''));

/**
 * What the list shows for one summary: the decrypted headers once the message was opened, else
 * the placeholder for encrypted mail. → { subject, from, encrypted, subjectKnown }.
 */
export function summaryView(state, folder, summary) {
  const encrypted = isEncryptedSummary(summary);
  const known = state.decrypted.get(decryptedKey(folder, summary.uid));
  if (known) return { subject: known.subject ?? '', from: known.from ?? summary.from ?? [], encrypted, subjectKnown: true };
  if (encrypted) return { subject: encryptedSubjectPlaceholder, from: summary.from ?? [], encrypted, subjectKnown: false };
  return { subject: summary.subject ?? '', from: summary.from ?? [], encrypted, subjectKnown: true };
}

/**
 * The local search's results the list shows beside the server's rows (r3 F2): encrypted mail of
 * the list's folder whose decrypted headers match the search (the server searched only the
 * outer "[...]"), without the uids the server's answer already holds. → [{ folder, uid, subject, from, date }].
 */
export function localSearchRows(state) {
  const results = state.searchResults?.results ?? [];
  if (results.length === 0) return [];
  const listed = new Set([...state.list.rows.values()].map((summary) => summary.uid));
  const seen = new Set();
  return results.filter((result) => {
    if (result.folder !== state.list.folder || listed.has(result.uid) || seen.has(result.uid)) return false;
    seen.add(result.uid);
    return true;
  });
}

/** The summaries of the window, in offset order: [[offset, summary]…]. */
export function loadedRows(list) {
  return [...list.rows.entries()].sort((a, b) => a[0] - b[0]);
}

/** The loaded summary with this uid (a thread's reply included), or null. */
export function findSummary(list, uid) {
  for (const summary of list.rows.values()) {
    if (summary.uid === uid) return summary;
    for (const message of summary.thread_messages ?? []) if (message.uid === uid) return message;
  }
  return null;
}

// --- conversation view: collapsible threads -------------------------------------------------
// In conversation view a row of the store is a thread (its root, with every message of it in
// thread_messages, root first) and `total` counts threads; the list shows the root and, unless
// the thread is collapsed, its replies under it. The layout below maps the list's display rows
// (what the virtual list scrolls over, all of one height) to store offsets and replies. Threads
// not loaded yet count one row each: their size is known once their page arrives.

/** The id of a row's thread (the uid of its oldest message; the row's own uid outside threads). */
export const threadIdOf = (summary) => summary?.thread?.id ?? summary?.uid;

/** A thread row's replies: its messages other than the row's own, in thread order. */
export const threadReplies = (summary) => (summary?.thread_messages ?? []).filter((message) => message.uid !== summary.uid);

/** Whether any reply of a thread row is unread (a collapsed root says so). */
export const hasUnreadReplies = (summary) => threadReplies(summary).some((message) => !(message.flags ?? []).includes('\\Seen'));

const layouts = new WeakMap();

/**
 * The display layout of a list snapshot (memoised per snapshot) → {
 *   total: display rows (threads + visible replies; unloaded threads one row each),
 *   threads: [{ offset, start, replies }] loaded threads with visible replies, by offset
 *            (start: display index of the root, replies: how many rows follow it),
 *   order: the uids of the loaded visible rows in display order (j/k, Shift ranges, Ctrl+A),
 *   indexOf: Map uid → display index }.
 */
export function listLayout(list) {
  const cached = layouts.get(list);
  if (cached) return cached;
  const collapsed = list.collapsed ?? new Set();
  const threads = [];
  const order = [];
  const indexOf = new Map();
  let extra = 0;
  for (const [offset, summary] of loadedRows(list)) {
    const start = offset + extra;
    order.push(summary.uid);
    indexOf.set(summary.uid, start);
    const replies = list.threads && !collapsed.has(threadIdOf(summary)) ? threadReplies(summary) : [];
    replies.forEach((reply, index) => {
      order.push(reply.uid);
      indexOf.set(reply.uid, start + 1 + index);
    });
    if (replies.length) {
      threads.push(Object.freeze({ offset, start, replies: replies.length }));
      extra += replies.length;
    }
  }
  const layout = Object.freeze({ total: Math.max(0, list.total) + extra, threads: Object.freeze(threads), order: Object.freeze(order), indexOf });
  layouts.set(list, layout);
  return layout;
}

/**
 * What display row `index` of a layout shows → { offset, reply } (reply: -1 for the thread's
 * root or a plain row, else the index among the thread's replies).
 */
export function layoutRowAt(layout, index) {
  const { threads } = layout;
  // The last thread with visible replies that starts at or before `index` (binary search).
  let low = 0;
  let high = threads.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (threads[middle].start <= index) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  if (found < 0) return { offset: index, reply: -1 };
  const thread = threads[found];
  if (index <= thread.start + thread.replies) return { offset: thread.offset, reply: index - thread.start - 1 };
  // Past that thread: every earlier thread's replies come before.
  return { offset: index - (thread.start - thread.offset) - thread.replies, reply: -1 };
}

export function createMailStore() {
  const store = createStore(initialMailState());
  const update = (changes) => store.set(Object.freeze({ ...store.get(), ...changes }));
  const merge = (name, changes) => update({ [name]: Object.freeze({ ...store.get()[name], ...changes }) });

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,

    setStatus: (changes) => merge('status', changes),
    setFolders(folders, error = null) {
      update({ folders: Object.freeze([...folders].map((folder) => Object.freeze({ ...folder }))), foldersError: error });
    },
    setFoldersError: (error) => update({ foldersError: error }),
    /** Patches one folder's counts (total/unseen) without a full reload. */
    patchFolder(path, changes) {
      update({ folders: Object.freeze(store.get().folders.map((folder) => (folder.path === path ? Object.freeze({ ...folder, ...changes }) : folder))) });
    },

    /**
     * Starts a new list (another folder, sort, threads mode or query): empties the window and
     * bumps the version, so answers to earlier requests are recognised as stale. → the new version.
     */
    resetList(changes = {}) {
      const current = store.get().list;
      const next = initialList({
        folder: current.folder, sort: current.sort, order: current.order, threads: current.threads, query: current.query,
        ...changes, version: current.version + 1,
      });
      update({ list: next, currentFolder: next.folder });
      return next.version;
    },
    /**
     * Keeps the view parameters and the rows but bumps the version (new mail: the window is
     * refetched in place, so scroll position and selection stay). → the new version.
     */
    bumpListVersion() {
      const current = store.get().list;
      merge('list', { version: current.version + 1 });
      return current.version + 1;
    },
    /** A page of summaries for `version`; ignored (false) when the list moved on. */
    putRows(version, { offset, messages, total, uidvalidity = null }) {
      const list = store.get().list;
      if (list.version !== version) return false;
      const rows = new Map(list.rows);
      // A shorter total (expunged mail) drops rows past the end.
      if (Number.isSafeInteger(total)) for (const key of rows.keys()) if (key >= total) rows.delete(key);
      messages.forEach((summary, index) => rows.set(offset + index, Object.freeze({ ...summary })));
      merge('list', { rows, total: Number.isSafeInteger(total) ? total : list.total, uidvalidity: uidvalidity ?? list.uidvalidity, error: null });
      return true;
    },
    setListLoading(version, loading, error = null) {
      if (store.get().list.version !== version) return false;
      merge('list', { loading, error });
      return true;
    },
    /** Changes the flags of loaded summaries in place (optimistic update), a thread's messages included. */
    patchSummaries(uids, change) {
      const wanted = new Set(uids);
      const list = store.get().list;
      let changed = false;
      const rows = new Map();
      for (const [offset, summary] of list.rows) {
        let next = summary;
        if (wanted.has(summary.uid)) next = { ...summary, ...change(summary) };
        if (summary.thread_messages?.some((message) => wanted.has(message.uid))) {
          next = { ...next, thread_messages: Object.freeze(summary.thread_messages.map((message) => (wanted.has(message.uid) ? Object.freeze({ ...message, ...change(message) }) : message))) };
        }
        if (next !== summary) changed = true;
        rows.set(offset, next === summary ? summary : Object.freeze(next));
      }
      if (changed) merge('list', { rows });
    },
    /** Hides (collapsed) or shows a conversation's replies; kept across reloads of the same list. */
    setThreadCollapsed(threadId, collapsed) {
      const list = store.get().list;
      if (list.collapsed.has(threadId) === Boolean(collapsed)) return;
      const next = new Set(list.collapsed);
      if (collapsed) next.add(threadId);
      else next.delete(threadId);
      merge('list', { collapsed: next });
    },
    /** Drops summaries (moved or deleted): the window closes the gap and the total shrinks. */
    dropSummaries(uids) {
      const gone = new Set(uids);
      const list = store.get().list;
      const kept = loadedRows(list).filter(([, summary]) => !gone.has(summary.uid));
      const removed = list.rows.size - kept.length;
      if (removed === 0) return;
      // Offsets after a removed row shift down by the number of removed rows before them.
      const rows = new Map();
      let shift = 0;
      const removedOffsets = loadedRows(list).filter(([, summary]) => gone.has(summary.uid)).map(([offset]) => offset);
      for (const [offset, summary] of kept) {
        while (shift < removedOffsets.length && removedOffsets[shift] < offset) shift += 1;
        rows.set(offset - shift, summary);
      }
      merge('list', { rows, total: Math.max(0, list.total - removed) });
    },

    setSelection(selection) {
      update({ selection: Object.freeze({ ...store.get().selection, ...selection }) });
    },
    clearSelection: () => update({ selection: initialSelection }),

    setReading: (changes) => merge('reading', changes),
    clearReading: () => update({ reading: initialReading }),
    rememberDecrypted(folder, uid, headers) {
      const decrypted = new Map(store.get().decrypted);
      decrypted.set(decryptedKey(folder, uid), Object.freeze({ subject: headers.subject ?? '', from: headers.from ?? [], date: headers.date ?? null }));
      update({ decrypted });
    },

    /** Creates or patches a draft; → the draft. */
    putDraft(id, changes) {
      const drafts = new Map(store.get().drafts);
      const draft = Object.freeze({ ...(drafts.get(id) ?? {}), ...changes, id });
      drafts.set(id, draft);
      update({ drafts });
      return draft;
    },
    removeDraft(id) {
      if (!store.get().drafts.has(id)) return;
      const drafts = new Map(store.get().drafts);
      drafts.delete(id);
      update({ drafts });
    },
    draft: (id) => store.get().drafts.get(id) ?? null,

    setContacts: (contacts) => update({ contacts: Object.freeze(contacts.map((contact) => Object.freeze({ ...contact }))) }),
    setKeys: (keys) => update({ keys: Object.freeze(keys.map((key) => Object.freeze({ ...key }))) }),
    setSearchResults: (searchResults) => update({ searchResults: searchResults ? Object.freeze({ ...searchResults }) : null }),
    setPrefs: (changes) => merge('prefs', changes),
    setNotice: (notice) => update({ notice: notice ? Object.freeze({ ...notice }) : null }),

    /** Logout or stop: everything goes (decrypted content included). */
    clear: () => store.set(initialMailState()),
  });
}
