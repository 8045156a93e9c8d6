// Pure helpers of the Email tab's views: the virtual list window, folder order, links in plain
// text, shortcuts, address input, and the sanitiser's URL and CSS rules (the DOM part of the
// sanitiser runs in the browser: tests/e2e/mail-frame.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { virtualWindow, missingRuns, scrollToRow, folderTree, linkSegments, textBlocks, formatBytes, parseMailDrag, addressText } from '../src/ui/mail/mail-view.js';
import { shortcutAction } from '../src/ui/mail/mail-shortcuts.js';
import { resourceUrlVerdict, rewriteCss, rewriteSrcset, rewriteResourceUrl } from '../src/mail-frame/sanitize.js';

test('the virtual window covers the viewport plus overscan, within the list', () => {
  assert.deepEqual(virtualWindow({ scrollTop: 0, viewportHeight: 560, rowHeight: 56, total: 10_000, overscan: 5 }), { first: 0, end: 16, padTop: 0, fullHeight: 560_000 });
  const middle = virtualWindow({ scrollTop: 56 * 5000, viewportHeight: 560, rowHeight: 56, total: 10_000, overscan: 5 });
  assert.equal(middle.first, 4995);
  assert.equal(middle.end, 5016);
  assert.equal(middle.padTop, 4995 * 56);
  const end = virtualWindow({ scrollTop: 10_000 * 56, viewportHeight: 560, rowHeight: 56, total: 10_000, overscan: 5 });
  assert.ok(end.end === 10_000 && end.first <= end.end);
  assert.deepEqual(virtualWindow({ scrollTop: 100, viewportHeight: 500, rowHeight: 32, total: 0 }), { first: 0, end: 0, padTop: 0, fullHeight: 0 });
});

test('missing runs name only the offsets without a row', () => {
  const rows = new Map([[0, {}], [1, {}], [5, {}]]);
  assert.deepEqual(missingRuns(rows, 0, 8), [[2, 3], [6, 2]]);
  assert.deepEqual(missingRuns(rows, 0, 2), []);
});

test('scrolling to a row moves only when it is out of view', () => {
  assert.equal(scrollToRow({ index: 3, scrollTop: 0, viewportHeight: 300, rowHeight: 50 }), 0);
  assert.equal(scrollToRow({ index: 10, scrollTop: 0, viewportHeight: 300, rowHeight: 50 }), 250);
  assert.equal(scrollToRow({ index: 1, scrollTop: 200, viewportHeight: 300, rowHeight: 50 }), 50);
});

test('folders: special-use first in a fixed order, then the tree by path', () => {
  const tree = folderTree([
    { path: 'Work/Clients', delimiter: '/' }, { path: 'Trash', special_use: 'trash', delimiter: '/' }, { path: 'Work', delimiter: '/' },
    { path: 'INBOX', delimiter: '/' }, { path: 'Sent', special_use: 'sent', delimiter: '/' },
  ]);
  assert.deepEqual(tree.map((entry) => [entry.folder.path, entry.depth, entry.use]), [
    ['INBOX', 0, 'inbox'], ['Sent', 0, 'sent'], ['Trash', 0, 'trash'], ['Work', 0, null], ['Work/Clients', 1, null],
  ]);
});

test('plain text links: only http(s) and addresses, punctuation left outside', () => {
  assert.deepEqual(linkSegments('See https://example.org/a?b=1. Or write to bob@example.org, thanks. javascript:alert(1)'), [
    { text: 'See ' }, { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' }, { text: '. Or write to ' },
    { text: 'bob@example.org', href: 'mailto:bob@example.org' }, { text: ', thanks. javascript:alert(1)' },
  ]);
  assert.deepEqual(textBlocks('hi\n> quoted\n> more\nbye').map((block) => block.quoted), [false, true, false]);
});

test('sizes, addresses and drag payloads', () => {
  assert.equal(formatBytes(999, 'en'), '999 B');
  assert.equal(formatBytes(1_500_000, 'en'), '1.5 MB');
  assert.equal(addressText({ name: 'Bob', address: 'bob@x' }), 'Bob <bob@x>');
  assert.deepEqual(parseMailDrag('{"folder":"INBOX","uids":[3,"x",-1,4]}'), { folder: 'INBOX', uids: [3, 4] });
  assert.equal(parseMailDrag('not json'), null);
  assert.equal(parseMailDrag('{"folder":"INBOX","uids":[]}'), null);
});

test('shortcuts map keys to actions and stay off while typing or with modifiers', () => {
  assert.equal(shortcutAction({ key: 'j' }), 'next');
  assert.equal(shortcutAction({ key: 'I', shiftKey: true }), 'mark_read');
  assert.equal(shortcutAction({ key: '#' }), 'delete');
  assert.equal(shortcutAction({ key: 'r', ctrlKey: true }), null);
  assert.equal(shortcutAction({ key: 'r' }, [{ tagName: 'INPUT' }]), null);
  assert.equal(shortcutAction({ key: 'r' }, [{ tagName: 'DIV', isContentEditable: true }]), null);
  assert.equal(shortcutAction({ key: 'Enter' }, [{ tagName: 'BUTTON' }]), null);
  assert.equal(shortcutAction({ key: 'x' }), null);
});

test('sanitiser URL rules: remote goes unless allowed (https only), cid is resolved', () => {
  assert.equal(resourceUrlVerdict('https://tracker.example/p.gif'), 'drop');
  assert.equal(resourceUrlVerdict('https://tracker.example/p.gif', { remote: true }), 'keep');
  assert.equal(resourceUrlVerdict('http://tracker.example/p.gif', { remote: true }), 'drop');
  assert.equal(resourceUrlVerdict('//tracker.example/p.gif', { remote: true }), 'drop');
  assert.equal(resourceUrlVerdict('data:image/png;base64,AAAA'), 'keep');
  assert.equal(resourceUrlVerdict('data:text/html,<script>'), 'drop');
  assert.equal(resourceUrlVerdict(' java\nscript:alert(1)'), 'drop');
  let blocked = 0;
  const options = { cidUrls: { 'a@b': 'data:image/png;base64,AA' }, onBlocked: () => { blocked += 1; } };
  assert.equal(rewriteResourceUrl('cid:a@b', options), 'data:image/png;base64,AA');
  assert.equal(rewriteResourceUrl('cid:missing', options), null);
  assert.equal(rewriteResourceUrl('https://x/y', options), null);
  assert.equal(blocked, 1);
  assert.equal(rewriteSrcset('https://x/1.png 1x, data:image/png;base64,AA 2x', options), 'data:image/png;base64,AA 2x');
  assert.equal(rewriteSrcset('https://x/1.png 1x', options), null);
});

test('sanitiser CSS rules: url() to remote becomes none, @import and expression go', () => {
  const css = rewriteCss("@import url('https://x/a.css'); body { background: url(https://x/b.png) } p { width: expression(alert(1)) } i { background: url(\"data:image/png;base64,AA\") }", {});
  assert.doesNotMatch(css, /https:|@import|expression\(/);
  assert.match(css, /background: none/);
  assert.match(css, /url\("data:image\/png;base64,AA"\)/);
  assert.match(rewriteCss('a { background: url(https://x/b.png) }', { remote: true }), /url\("https:\/\/x\/b.png"\)/);
});
