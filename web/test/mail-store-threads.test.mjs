// Collapsible conversations (conversation view): the display layout the virtual list scrolls
// over (listLayout, layoutRowAt), the collapse state in the store, flag patches that reach a
// thread's replies, and the controller's selection rule (collapsing drops hidden replies from
// the selection, so Delete/Move act on the root only).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore, findSummary, hasUnreadReplies, layoutRowAt, listLayout } from '../src/state/mail-store.js';
import { createMailController, groupThreads } from '../src/app/mail-controller.js';

const message = (uid, thread, depth, flags = ['\\Seen']) => ({ uid, flags, subject: `s${uid}`, from: [], thread: { id: thread, depth, count: 0 } });

/**
 * Three threads as the server pages them (threads mode): thread 10 (10, 11, 12), single 20,
 * thread 30 (30, 31 unread); then `total` threads in all, the rest not loaded.
 */
function threadedStore(total = 6) {
  const store = createMailStore();
  const version = store.resetList({ threads: true });
  const rows = groupThreads([
    message(10, 10, 0), message(11, 10, 1), message(12, 10, 2),
    message(20, 20, 0),
    message(30, 30, 0), message(31, 30, 1, []),
  ]);
  assert.equal(store.putRows(version, { offset: 0, messages: rows, total }), true);
  return store;
}

/** Every display row of a layout as "offset" (a root or unloaded) or "offset.reply". */
const rowsOf = (layout) => Array.from({ length: layout.total }, (_, index) => {
  const { offset, reply } = layoutRowAt(layout, index);
  return reply < 0 ? `${offset}` : `${offset}.${reply}`;
});

test('expanded conversations: replies take display rows under their root, unloaded threads one each', () => {
  const store = threadedStore();
  const layout = listLayout(store.get().list);
  assert.equal(layout.total, 6 + 3);
  assert.deepEqual(rowsOf(layout), ['0', '0.0', '0.1', '1', '2', '2.0', '3', '4', '5']);
  assert.deepEqual(layout.order, [10, 11, 12, 20, 30, 31]);
  assert.equal(layout.indexOf.get(31), 5);
  assert.equal(listLayout(store.get().list), layout, 'memoised per snapshot');
});

test('collapsing hides the replies (fewer display rows, later rows move up); expanding brings them back', () => {
  const store = threadedStore();
  store.setThreadCollapsed(10, true);
  let layout = listLayout(store.get().list);
  assert.equal(layout.total, 6 + 1);
  assert.deepEqual(rowsOf(layout), ['0', '1', '2', '2.0', '3', '4', '5']);
  assert.deepEqual(layout.order, [10, 20, 30, 31]);
  assert.equal(layout.indexOf.get(30), 2);
  store.setThreadCollapsed(30, true);
  layout = listLayout(store.get().list);
  assert.deepEqual(rowsOf(layout), ['0', '1', '2', '3', '4', '5']);
  store.setThreadCollapsed(10, false);
  layout = listLayout(store.get().list);
  assert.deepEqual(rowsOf(layout), ['0', '0.0', '0.1', '1', '2', '3', '4', '5']);
});

test('collapse state stays across a reload of the same list and goes with another list', () => {
  const store = threadedStore();
  store.setThreadCollapsed(10, true);
  store.bumpListVersion();
  assert.equal(store.get().list.collapsed.has(10), true, 'new mail refetches in place: still collapsed');
  store.resetList({ folder: 'Archive' });
  assert.equal(store.get().list.collapsed.size, 0, 'another folder starts expanded');
});

test('outside conversation view the layout is the plain list', () => {
  const store = createMailStore();
  const version = store.resetList({ threads: false });
  store.putRows(version, { offset: 0, messages: [message(5, 5, 0), message(4, 4, 0)], total: 10000 });
  const layout = listLayout(store.get().list);
  assert.equal(layout.total, 10000);
  assert.deepEqual(layoutRowAt(layout, 9999), { offset: 9999, reply: -1 });
  assert.deepEqual(layout.order, [5, 4]);
});

test('a loaded thread far down the list: rows before and after it map right', () => {
  const store = createMailStore();
  const version = store.resetList({ threads: true });
  store.putRows(version, { offset: 100, messages: groupThreads([message(7, 7, 0), message(8, 7, 1)]), total: 200 });
  const layout = listLayout(store.get().list);
  assert.equal(layout.total, 201);
  assert.deepEqual(layoutRowAt(layout, 99), { offset: 99, reply: -1 });
  assert.deepEqual(layoutRowAt(layout, 100), { offset: 100, reply: -1 });
  assert.deepEqual(layoutRowAt(layout, 101), { offset: 100, reply: 0 });
  assert.deepEqual(layoutRowAt(layout, 102), { offset: 101, reply: -1 });
  assert.deepEqual(layoutRowAt(layout, 200), { offset: 199, reply: -1 });
});

test('unread replies: seen by the root; a flag patch reaches the reply inside its thread', () => {
  const store = threadedStore();
  const thread30 = () => store.get().list.rows.get(2);
  assert.equal(hasUnreadReplies(thread30()), true);
  assert.equal(hasUnreadReplies(store.get().list.rows.get(0)), false);
  assert.equal(findSummary(store.get().list, 31).uid, 31, 'a reply is found');
  store.patchSummaries([31], (summary) => ({ flags: [...summary.flags, '\\Seen'] }));
  assert.equal(hasUnreadReplies(thread30()), false);
  assert.deepEqual(findSummary(store.get().list, 31).flags, ['\\Seen']);
});

test('controller: collapsing drops hidden replies from the selection and moves the focus to the root', async () => {
  const store = createMailStore();
  const { actions } = createMailController({
    api: {}, store, crypto: {}, mime: {}, keys: null, addressBook: null, setTimeout: () => 0, clearTimeout: () => {},
  });
  const version = store.resetList({ threads: true });
  store.putRows(version, { offset: 0, messages: groupThreads([message(10, 10, 0), message(11, 10, 1), message(12, 10, 2), message(20, 20, 0)]), total: 2 });
  actions.select(11);
  actions.select(20, { extend: true });
  assert.deepEqual([...store.get().selection.uids].sort(), [11, 12, 20], 'Shift range over visible rows');
  actions.setThreadCollapsed(10, true);
  assert.deepEqual([...store.get().selection.uids], [20], 'hidden replies leave the selection');
  assert.equal(store.get().selection.anchor, 10, 'anchor on a hidden reply moves to the root');
  actions.selectAll();
  assert.deepEqual([...store.get().selection.uids].sort(), [10, 20], 'Ctrl+A selects what is visible: the collapsed root only');
  actions.select(11);
  actions.setThreadCollapsed(10, true);
  actions.setThreadCollapsed(10, false);
  actions.select(12);
  actions.setThreadCollapsed(10, true);
  assert.equal(store.get().selection.focused, 10, 'focus on a hidden reply moves to the root');
  assert.deepEqual([...store.get().selection.uids], []);
});

test('controller: a reload that puts a selected message under a collapsed conversation drops it from the selection (review R1)', async () => {
  const store = createMailStore();
  const pages = [
    [message(10, 10, 0), message(11, 10, 1), message(20, 20, 0)],
    // New mail whose References name both 10's and 20's Message-IDs: 20 is now a reply in 10.
    [message(10, 10, 0), message(11, 10, 1), message(20, 10, 1), message(40, 10, 2)],
  ];
  const api = { messages: async (params) => ({ folder: 'INBOX', offset: params.offset, total: 1, uidvalidity: 1, messages: pages.shift() }) };
  const { actions } = createMailController({ api, store, crypto: {}, mime: {}, keys: null, addressBook: null, setTimeout: () => 0, clearTimeout: () => {} });
  store.resetList({ folder: 'INBOX', threads: true });
  await actions.loadRange(0, 50);
  actions.setThreadCollapsed(10, true);
  actions.select(20);
  assert.deepEqual([...store.get().selection.uids], [20]);
  await actions.reloadList();
  assert.deepEqual(listLayout(store.get().list).order, [10], 'only the collapsed root is visible');
  assert.deepEqual([...store.get().selection.uids], [], 'the hidden message left the selection');
  assert.equal(store.get().selection.focused, 10, 'focus moved to its root');
});
