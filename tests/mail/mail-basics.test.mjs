// The Email tab's everyday work in real Chromium over the real stack: folders (create, rename,
// delete), move by drag and drop and by button, flags, delete to Trash, empty Trash, mark all
// read, quick search, new-mail push without reload ("New mail" announced), keyboard shortcuts
// j/k/r/c, every control named (an accessibility scan of the tab's states), and a 390 px wide
// window that shows one pane at a time. What the server did is checked on disk: Maildir file
// names carry the flags (":2,FS"), folders are directories.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/mail-basics.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { useMailStack } from './helpers/mail-stack.mjs';
import { plainMail } from './helpers/mime.mjs';
import { violationsOf } from '../e2e/helpers/browser.mjs';
import {
  mailUser, waitForRow, openRow, messageRow, messageRows, folderEntry, openFolder, composeForm, folderAction,
  composeSubject, composeBody,
} from './helpers/mail-app.mjs';

const suite = await useMailStack();

/** Maildir flags of the files of a folder on disk: ['S', 'FS', …] in file order. */
async function diskFlags(stack, username, folder) {
  const files = await stack.maildirFiles(username, folder);
  return files.map((file) => /:2,([A-Za-z]*)$/.exec(path.basename(file))?.[1] ?? '');
}

async function eventually(check, what, timeoutMs = 10_000) {
  const started = Date.now();
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Controls without an accessible name, and duplicate ids, in the Email panel (through shadow roots). */
async function accessibilityProblems(app) {
  return app.evaluate(() => {
    const problems = [];
    const walk = (root, out = []) => {
      for (const node of root.querySelectorAll('*')) {
        out.push(node);
        if (node.shadowRoot) walk(node.shadowRoot, out);
      }
      return out;
    };
    const panel = document.querySelector('secms-app-root')?.shadowRoot ?? document;
    const nodes = walk(panel).filter((node) => node.checkVisibility?.() !== false);
    const nameOf = (node) => {
      const root = node.getRootNode();
      const labelled = (node.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean).map((id) => root.getElementById?.(id)?.textContent ?? '').join(' ');
      const label = node.id && root.querySelector ? root.querySelector(`label[for="${node.id}"]`)?.textContent ?? '' : '';
      return [node.getAttribute('aria-label'), labelled, label, node.closest('label')?.textContent, node.getAttribute('title'),
        ['INPUT', 'TEXTAREA', 'SELECT'].includes(node.tagName) ? '' : node.textContent, node.getAttribute('alt')].join(' ').trim();
    };
    for (const node of nodes) {
      const role = node.getAttribute('role');
      const control = ['BUTTON', 'SELECT', 'TEXTAREA'].includes(node.tagName) || (node.tagName === 'INPUT' && node.type !== 'hidden')
        || ['button', 'tab', 'menuitem', 'option', 'checkbox', 'combobox', 'grid', 'listbox', 'dialog', 'alertdialog'].includes(role) || node.tagName === 'IFRAME';
      if (control && !nameOf(node)) problems.push(`${node.tagName.toLowerCase()}${role ? `[role=${role}]` : ''}${node.dataset?.testid ? `[data-testid=${node.dataset.testid}]` : ''} has no name`);
      if (node.tagName === 'IMG' && !node.hasAttribute('alt')) problems.push('img without alt');
    }
    return problems;
  });
}

test('folders, moves, flags, Trash, mark all read, search, push and shortcuts', { timeout: 240_000 }, async (t) => {
  const { stack, browser } = suite;
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  const send = (subject, from = 'friend@example.org', text = `about ${subject}`) =>
    stack.deliver(plainMail({ from, to: bob.address, subject, text }), { from, to: bob.address });
  for (const subject of ['Alpha note', 'Bravo note', 'Charlie note']) await send(subject);
  await send('Zulu from zed', 'zed@example.org');
  await waitForRow(bob.app, 'Zulu from zed');
  assert.deepEqual(await accessibilityProblems(bob.app), [], 'the list view: every control named');

  // Folders: create, rename, delete (special-use folders are listed and protected).
  for (const special of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) {
    assert.equal(await folderEntry(bob.app, special).count(), 1, `${special} listed`);
  }
  await bob.app.getByTestId('mail-folder-create').click();
  await bob.app.getByTestId('mail-folder-name').fill('Projects');
  await bob.app.getByTestId('mail-folder-submit').click();
  await folderEntry(bob.app, 'Projects').waitFor();
  await bob.app.getByTestId('mail-folder-create').click();
  await bob.app.getByTestId('mail-folder-name').fill('Scratch');
  await bob.app.getByTestId('mail-folder-submit').click();
  await folderEntry(bob.app, 'Scratch').waitFor();
  await folderAction(bob.app, 'Scratch', 'rename', 'Scratch2');
  await folderEntry(bob.app, 'Scratch2').waitFor();
  await folderAction(bob.app, 'Scratch2', 'delete');
  await folderEntry(bob.app, 'Scratch2').waitFor({ state: 'detached' });
  assert.equal(await folderEntry(bob.app, 'INBOX').locator('xpath=..').getByRole('button', { name: /^Delete/ }).count(), 0, 'INBOX cannot be deleted');
  await openFolder(bob.app, 'INBOX');

  // Move by drag and drop, then by the toolbar.
  await messageRow(bob.app, 'Alpha note').dragTo(folderEntry(bob.app, 'Projects'));
  await eventually(async () => (await stack.maildirFiles(bob.username, 'Projects')).length === 1 || 'not moved', 'drag to Projects');
  await messageRow(bob.app, 'Alpha note').waitFor({ state: 'detached' });
  await messageRow(bob.app, 'Bravo note').click();
  await bob.app.getByTestId('mail-move').selectOption('Archive');
  await eventually(async () => (await stack.maildirFiles(bob.username, 'Archive')).length === 1 || 'not moved', 'move to Archive');

  // Flags: s flags, u marks unread again; the server's files say so.
  await openRow(bob.app, 'Charlie note');
  await eventually(async () => (await diskFlags(stack, bob.username, 'INBOX')).some((flags) => flags.includes('S')) || 'not seen', 'opened → \\Seen');
  await messageRow(bob.app, 'Charlie note').focus();
  await bob.app.keyboard.press('s');
  await eventually(async () => (await diskFlags(stack, bob.username, 'INBOX')).some((flags) => flags.includes('F')) || 'not flagged', 's → \\Flagged');

  // Delete to Trash, then empty Trash.
  await messageRow(bob.app, 'Charlie note').click();
  await bob.app.keyboard.press('Delete');
  await eventually(async () => (await stack.maildirFiles(bob.username, 'Trash')).length === 1 || 'not in Trash', 'Delete → Trash');
  await openFolder(bob.app, 'Trash');
  await waitForRow(bob.app, 'Charlie note');
  bob.app.once('dialog', (dialog) => dialog.accept());
  await bob.app.getByTestId('mail-empty').click();
  await eventually(async () => (await stack.maildirFiles(bob.username, 'Trash')).length === 0 || 'Trash not empty', 'empty Trash');
  await openFolder(bob.app, 'INBOX');

  // Mark all read.
  await bob.app.getByTestId('mail-mark-all-read').click();
  await eventually(async () => (await diskFlags(stack, bob.username, 'INBOX')).every((flags) => flags.includes('S')) || 'unread left', 'mark all read');

  // Quick search (sender or subject).
  await bob.app.getByTestId('mail-quick-search').fill('zed');
  await bob.app.getByTestId('mail-quick-search').press('Enter');
  await eventually(async () => (await messageRows(bob.app).count()) === 1 || await messageRows(bob.app).count(), 'search → 1 row');
  assert.match(await messageRows(bob.app).first().textContent(), /Zulu from zed/);
  await bob.app.getByTestId('mail-quick-search').fill('');
  await bob.app.getByTestId('mail-quick-search').press('Enter');

  // New mail arrives by push: no reload, announced.
  await send('Pushed while watching');
  await waitForRow(bob.app, 'Pushed while watching', 15_000);
  await bob.app.getByTestId('mail-announcement').filter({ hasText: /new (mail|message)/i }).waitFor({ state: 'attached', timeout: 5_000 });

  // Shortcuts: j/k move through the list, r replies, c composes.
  await messageRows(bob.app).first().click();
  const focused = () => bob.app.locator('[data-testid=mail-row][aria-selected=true]').first().getAttribute('data-uid');
  const first = await focused();
  await bob.app.keyboard.press('j');
  await eventually(async () => (await focused()) !== first || 'j did not move', 'j');
  await bob.app.keyboard.press('k');
  await eventually(async () => (await focused()) === first || 'k did not move back', 'k');
  await bob.app.keyboard.press('r');
  await composeForm(bob.app).waitFor();
  assert.match(await composeSubject(bob.app).inputValue(), /^Re: /);
  assert.deepEqual(await accessibilityProblems(bob.app), [], 'the compose form: every control named');
  await bob.app.getByTestId('compose-discard').click();
  await composeForm(bob.app).waitFor({ state: 'detached' });
  await messageRows(bob.app).first().click();
  await bob.app.keyboard.press('c');
  await composeForm(bob.app).waitFor();
  await bob.app.getByTestId('compose-discard').click();
  assert.deepEqual(await violationsOf(bob.app), []);
});

test('390 px wide: one pane at a time, with a way back', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = suite;
  const carol = await mailUser(t, stack, browser, 'carol', { identity: false });
  await carol.app.setViewportSize({ width: 390, height: 800 });
  await stack.deliver(plainMail({ from: 'friend@example.org', to: carol.address, subject: 'Small screen', text: 'narrow' }), { to: carol.address });
  const visible = async () => ({
    folders: await folderEntry(carol.app, 'INBOX').isVisible(),
    list: await carol.app.getByTestId('mail-list').isVisible(),
    reader: await carol.app.getByTestId('mail-reader').isVisible().catch(() => false),
  });
  // Narrow, the tab opens on the Inbox's list.
  await waitForRow(carol.app, 'Small screen');
  let shown = await visible();
  assert.equal([shown.folders, shown.list, shown.reader].filter(Boolean).length, 1, JSON.stringify(shown));
  await openRow(carol.app, 'Small screen');
  shown = await visible();
  assert.deepEqual(shown, { folders: false, list: false, reader: true });
  const width = await carol.app.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling (${width})`);
  await carol.app.getByTestId('mail-back').click();
  shown = await visible();
  assert.equal(shown.list, true);
  assert.equal(shown.reader, false);
  assert.deepEqual(await accessibilityProblems(carol.app), []);
});
