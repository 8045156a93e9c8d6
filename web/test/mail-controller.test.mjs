import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore, loadedRows, summaryView, encryptedSubjectPlaceholder } from '../src/state/mail-store.js';
import { createMailController, groupThreads, listParams } from '../src/app/mail-controller.js';

const summary = (uid, extra = {}) => ({ uid, flags: [], subject: `s${uid}`, from: [{ name: '', address: `u${uid}@x` }], content_type: 'text/plain', ...extra });

/** A fake mailbox of `count` messages, uid = count - offset (newest first); answers can be held back. */
function fakeApi({ count = 120, hold = false } = {}) {
  const calls = [];
  const pending = [];
  let total = count;
  const api = {
    calls,
    pending,
    setTotal: (value) => { total = value; },
    status: async () => ({ enabled: true, address: 'me@localhost', domain: 'localhost', account: 'local', external: null, smarthost: false, max_message_bytes: 1000, connection: 'connected', error: null }),
    folders: async () => ({ folders: [{ path: 'INBOX', name: 'INBOX', special_use: 'inbox', total, unseen: 3 }, { path: 'Drafts', name: 'Drafts', special_use: 'drafts', total: 0, unseen: 0 }] }),
    async messages(params) {
      calls.push({ ...params });
      const answer = () => {
        const messages = [];
        for (let index = params.offset; index < Math.min(total, params.offset + params.limit); index += 1) messages.push(summary(total - index));
        return { folder: params.folder, uidvalidity: 1, total, offset: params.offset, messages };
      };
      if (!hold) return answer();
      return new Promise((resolve) => pending.push(() => resolve(answer())));
    },
    setFlags: async () => null,
    rawMessage: async () => new Uint8Array([1, 2, 3]),
    remove: async () => null,
    move: async () => null,
  };
  return api;
}

function setup(options = {}) {
  const api = options.api ?? fakeApi(options);
  const store = createMailStore();
  const notified = [];
  const controller = createMailController({
    api, store, crypto: {}, mime: options.mime ?? { openMessage: async () => ({ headers: { subject: 'x', from: [] }, security: { encrypted: false }, attachments: [] }) },
    keys: options.keys ?? null, addressBook: null, notify: (note) => notified.push(note),
    setTimeout: () => 0, clearTimeout: () => {},
  });
  return { api, store, controller, actions: controller.actions, notified };
}

test('start loads status, folders and the first page of INBOX', async () => {
  const { store, actions, api } = setup();
  await actions.start();
  const state = store.get();
  assert.equal(state.status.connection, 'connected');
  assert.equal(state.status.address, 'me@localhost');
  assert.equal(state.folders.length, 2);
  assert.equal(state.list.total, 120);
  assert.equal(state.list.rows.size, 50);
  assert.deepEqual(api.calls[0], { folder: 'INBOX', sort: 'date', order: 'desc', offset: 0, limit: 50, threads: 0 });
});

test('loadRange fetches only the missing pages of the sparse window, once each', async () => {
  const { store, actions, api } = setup();
  await actions.start();
  api.calls.length = 0;
  await Promise.all([actions.loadRange(60, 10), actions.loadRange(65, 10)]);
  assert.deepEqual(api.calls.map((call) => call.offset), [50]);
  assert.equal(store.get().list.rows.size, 100);
  await actions.loadRange(0, 100);
  assert.equal(api.calls.length, 1, 'loaded pages are not fetched again');
  await actions.loadRange(110, 40);   // past the end: only up to total
  assert.deepEqual(api.calls.map((call) => call.offset), [50, 100]);
  assert.equal(store.get().list.rows.size, 120);
  assert.equal(store.get().list.rows.get(119).uid, 1);
});

test('an answer for an older list (sort changed meanwhile) is ignored', async () => {
  const api = fakeApi({ hold: true });
  const { store, actions } = setup({ api });
  store.setStatus({ enabled: true });
  const first = actions.openFolder('INBOX');
  const second = actions.setSort('subject', 'asc');
  assert.equal(api.pending.length, 2);
  api.pending[1]();   // the newer answer first
  await second;
  api.pending[0]();   // then the stale one
  await first;
  const { list } = store.get();
  assert.equal(list.sort, 'subject');
  assert.equal(list.order, 'asc');
  assert.equal(list.rows.size, 50);
  assert.equal(api.calls[1].sort, 'subject');
});

test('sort, threads and search reset the window and the selection', async () => {
  const { store, actions, api } = setup();
  await actions.start();
  actions.select(120);
  const before = store.get().list.version;
  await actions.setThreads(true);
  assert.equal(store.get().list.threads, true);
  assert.ok(store.get().list.version > before);
  assert.equal(store.get().selection.uids.size, 0);
  assert.equal(api.calls.at(-1).threads, 1);
  await actions.search({ quick: ' alice ', bogus: 'x' });
  assert.equal(api.calls.at(-1).q, 'alice');
  assert.equal('bogus' in api.calls.at(-1), false);
  await actions.clearSearch();
  assert.equal('q' in api.calls.at(-1), false);
  await assert.rejects(() => actions.setSort('colour'), RangeError);
});

test('selection: click, ctrl-toggle, shift-range over the loaded order, select all', async () => {
  const { store, actions } = setup();
  await actions.start();
  actions.select(118);
  assert.deepEqual([...store.get().selection.uids], [118]);
  actions.select(115, { extend: true });
  assert.deepEqual([...store.get().selection.uids].sort(), [115, 116, 117, 118]);
  actions.select(116, { toggle: true });
  assert.deepEqual([...store.get().selection.uids].sort(), [115, 117, 118]);
  actions.select(120, { extend: true });   // anchor is now 116
  assert.deepEqual([...store.get().selection.uids].sort(), [116, 117, 118, 119, 120]);
  actions.selectAll();
  assert.equal(store.get().selection.uids.size, 50);
  actions.clearSelection();
  assert.equal(store.get().selection.uids.size, 0);
});

test('threads: one row per thread with its messages', () => {
  const rows = groupThreads([
    summary(10, { thread: { id: 10, depth: 0, count: 2 } }), summary(12, { thread: { id: 10, depth: 1, count: 2 } }),
    summary(11, { thread: { id: 11, depth: 0, count: 1 } }),
  ]);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0].thread_messages.map((entry) => entry.uid), [10, 12]);
  assert.equal(rows[1].uid, 11);
});

test('listParams leaves empty query fields out', () => {
  const list = { folder: 'INBOX', sort: 'date', order: 'desc', threads: false, query: { quick: '', from: 'bob', since: '2024-01-01' } };
  assert.deepEqual(listParams(list, 0, 50), { folder: 'INBOX', sort: 'date', order: 'desc', offset: 0, limit: 50, threads: 0, from: 'bob', since: '2024-01-01' });
});

test('open: reading ready, \\Seen set, decrypted subject remembered and shown instead of the placeholder', async () => {
  const flags = [];
  const api = fakeApi();
  api.setFlags = async (change) => { flags.push(change); };
  const encryptedRow = summary(120, { content_type: 'multipart/encrypted; protocol="application/pgp-encrypted"', subject: '[...]' });
  const { store, actions } = setup({
    api,
    mime: { openMessage: async () => ({ headers: { subject: 'the real one', from: [{ name: 'A', address: 'a@x' }] }, security: { encrypted: true }, attachments: [] }) },
  });
  await actions.start();
  store.putRows(store.get().list.version, { offset: 0, messages: [encryptedRow], total: 120 });
  assert.equal(summaryView(store.get(), 'INBOX', store.get().list.rows.get(0)).subject, encryptedSubjectPlaceholder);
  await actions.open(120);
  assert.equal(store.get().reading.state, 'ready');
  assert.equal(store.get().reading.message.headers.subject, 'the real one');
  assert.deepEqual(flags, [{ folder: 'INBOX', uids: [120], add: ['\\Seen'], remove: [] }]);
  assert.ok(store.get().list.rows.get(0).flags.includes('\\Seen'));
  const view = summaryView(store.get(), 'INBOX', store.get().list.rows.get(0));
  assert.equal(view.subject, 'the real one');
  await actions.search({ quick: 'REAL' });
  assert.deepEqual(store.get().searchResults.results.map((entry) => entry.uid), [120]);
});

test('open: a slower earlier open does not overwrite a later one', async () => {
  let release;
  const api = fakeApi();
  api.rawMessage = async (folder, uid) => new Uint8Array(uid === 119 ? 1 : 3);
  const { store, actions } = setup({
    api,
    mime: {
      openMessage: async ({ raw }) => {
        if (raw.length === 1) await new Promise((resolve) => { release = resolve; });
        return { headers: { subject: `len${raw.length}`, from: [] }, security: { encrypted: false }, attachments: [] };
      },
    },
  });
  await actions.start();
  const slow = actions.open(119);
  await new Promise((resolve) => setImmediate(resolve));
  await actions.open(118);
  release();
  assert.equal(await slow, null);
  assert.equal(store.get().reading.uid, 118);
  assert.equal(store.get().reading.message.headers.subject, 'len3');
});

test('optimistic flags are put back when the server refuses', async () => {
  const api = fakeApi();
  api.setFlags = async () => { throw Object.assign(new Error('nope'), { code: 'mail_unavailable', status: 503 }); };
  const { store, actions } = setup({ api });
  await actions.start();
  await assert.rejects(() => actions.toggleFlag([120]));
  assert.deepEqual(store.get().list.rows.get(0).flags, []);
  assert.equal(store.get().notice.code, 'mail_unavailable');
});

test('delete drops the rows, closes the gap and clears the selection of them', async () => {
  const { store, actions, api } = setup();
  await actions.start();
  actions.select(119);
  api.setTotal(118);
  await actions.remove([119, 117]);
  const rows = loadedRows(store.get().list).map(([, entry]) => entry.uid);
  assert.equal(rows.includes(119), false);
  assert.equal(store.get().selection.uids.size, 0);
  assert.equal(store.get().list.total, 118);
});

test('mail_new: counts patched, list reloaded in place, a content-free notification; mail_status → status', async () => {
  const { store, actions, controller, api, notified } = setup();
  await actions.start();
  actions.select(120);
  api.calls.length = 0;
  api.setTotal(121);
  assert.equal(controller.handleServerMessage({ type: 'mail_new', folder: 'INBOX', exists: 121, unseen: 4 }), true);
  assert.equal(store.get().folders[0].total, 121);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(api.calls.map((call) => call.offset), [0]);
  assert.equal(store.get().selection.uids.has(120), true, 'selection kept');
  assert.equal(notified.length, 1);
  assert.deepEqual(Object.keys(notified[0]).sort(), ['body', 'tag', 'title']);
  assert.equal(notified[0].body, '');
  controller.handleServerMessage({ type: 'mail_new', folder: 'INBOX', exists: 121, unseen: 3 });
  assert.equal(notified.length, 1, 'a flag change does not notify');
  controller.handleServerMessage({ type: 'mail_status', connection: 'error', error: { code: 'mail_unavailable', message: 'down' } });
  assert.equal(store.get().status.connection, 'error');
  assert.equal(controller.handleServerMessage({ type: 'presence' }), false);
});

test('preferences are checked and kept per account', async () => {
  const saved = new Map();
  const storage = { getItem: (key) => saved.get(key) ?? null, setItem: (key, value) => saved.set(key, value), removeItem: (key) => saved.delete(key) };
  const store = createMailStore();
  const { actions } = createMailController({ api: fakeApi(), store, crypto: {}, mime: {}, keys: null, addressBook: null, storage, account: 'Alice' });
  actions.setPref('density', 'compact');
  assert.throws(() => actions.setPref('density', 'huge'), RangeError);
  assert.throws(() => actions.setPref('colour', 1), RangeError);
  assert.equal(JSON.parse(saved.get('secms.mail.prefs.alice')).density, 'compact');
  const other = createMailStore();
  await createMailController({ api: fakeApi(), store: other, crypto: {}, mime: {}, keys: null, addressBook: null, storage, account: 'alice' }).actions.start();
  assert.equal(other.get().prefs.density, 'compact');
});

test('a preference is stored before the store tells its subscribers (the settings sync reads the stored copy)', () => {
  const saved = new Map();
  const storage = { getItem: (key) => saved.get(key) ?? null, setItem: (key, value) => saved.set(key, value), removeItem: (key) => saved.delete(key) };
  const store = createMailStore();
  const { actions } = createMailController({ api: fakeApi(), store, crypto: {}, mime: {}, keys: null, addressBook: null, storage, account: 'alice', settingsSync: false });
  const storedWhenNotified = [];
  store.subscribe((state) => storedWhenNotified.push([state.prefs.readingPane, JSON.parse(saved.get('secms.mail.prefs.alice') ?? '{}').readingPane]));
  actions.setPref('readingPane', 'bottom');
  assert.deepEqual(storedWhenNotified.at(-1), ['bottom', 'bottom']);
});

test('stop forgets everything (decrypted headers included)', async () => {
  const { store, actions } = setup();
  await actions.start();
  store.rememberDecrypted('INBOX', 1, { subject: 'secret', from: [] });
  actions.stop();
  assert.equal(store.get().decrypted.size, 0);
  assert.equal(store.get().list.rows.size, 0);
});

test('status: the server quota is kept as {usedBytes, limitBytes}; a missing or malformed one is null', async () => {
  const answers = [
    [{ used_bytes: 1024, limit_bytes: 1048576 }, { usedBytes: 1024, limitBytes: 1048576 }],
    [null, null],
    [{ used_bytes: -1, limit_bytes: 10 }, null],
    [{ used_bytes: 5, limit_bytes: 0 }, null],
    [{ used_bytes: '5', limit_bytes: 10 }, null],
  ];
  for (const [quota, expected] of answers) {
    const api = fakeApi();
    const status = await api.status();
    api.status = async () => ({ ...status, quota });
    const { store, actions } = setup({ api });
    await actions.start();
    assert.deepEqual(store.get().status.quota === null ? null : { ...store.get().status.quota }, expected);
  }
});

test('mail off on the server: status {enabled:false} → connection "disabled", nothing else is asked', async () => {
  const api = fakeApi();
  api.status = async () => ({ enabled: false });
  let foldersAsked = 0;
  api.folders = async () => { foldersAsked += 1; return { folders: [] }; };
  const { store, actions } = setup({ api });
  await actions.start();
  assert.equal(store.get().status.connection, 'disabled');
  assert.equal(store.get().status.enabled, false);
  assert.equal(foldersAsked, 0);
});

test('a window taken over pauses the mail polling (the settings sync retries) and "Use here" resumes it and re-reads the list', async () => {
  const api = { ...fakeApi(), append: async () => ({ uid: 1 }), createFolder: async () => null };
  const timers = new Map();
  let nextTimer = 1;
  const storage = new Map();
  const controller = createMailController({
    api, store: createMailStore(), crypto: {}, mime: {}, keys: null, addressBook: null,
    storage: { getItem: (key) => storage.get(key) ?? null, setItem: (key, value) => storage.set(key, String(value)), removeItem: (key) => storage.delete(key) },
    account: 'alice',
    ownFingerprint: async () => null,   // the key is still locked: the sync asks again on a timer
    setTimeout: (fn, ms) => { const id = nextTimer++; timers.set(id, { fn, ms }); return id; },
    clearTimeout: (id) => { timers.delete(id); },
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  await controller.actions.start();
  await settle();
  assert.equal(timers.size, 1, 'the settings sync polls while the key is locked');
  await controller.actions.pause();
  assert.equal(timers.size, 0, 'no timer runs in a window taken over');
  api.calls.length = 0;
  assert.equal(controller.handleServerMessage({ type: 'mail_new', folder: 'INBOX', exists: 121 }), true);
  await settle();
  assert.equal(api.calls.length, 0, 'no push is taken while paused');
  await controller.actions.resume();
  await settle();
  assert.equal(timers.size, 1, 'the sync polls again');
  assert.ok(api.calls.length >= 1, 'the list is read again');
  controller.actions.stop();
  assert.equal(timers.size, 0);
});
