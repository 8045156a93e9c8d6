// The message list in real Chromium over the real stack (secms-server, Dovecot):
// (a) conversation view: a thread of three messages (In-Reply-To/References) and two single
//     messages; the replies sit under their root (treegrid aria-level, indentation depth), the
//     root's toggle collapses and expands them, Left/Right arrows do the same from the keyboard,
//     a collapsed root says "Unread replies" in words, and axe-core finds nothing on the list;
// (b) a 10 000-message folder (small messages, IMAP MULTIAPPEND): the first rows and the
//     total appear, the list scrolls to its end where the oldest message is, and the DOM holds
//     only a window of rows (fewer than 200) all along. No duration is asserted.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test --test-concurrency=1 tests/mail/mail-list.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMailStack } from './helpers/mail-stack.mjs';
import { plainMail, messageId } from './helpers/mime.mjs';
import { axeViolations, describeViolations } from '../helpers/axe.mjs';
import { registeredUser } from '../e2e/helpers/app-flows.mjs';
import { eventually, mailTraps, mailUser, messageRow, messageRows, openEmailTab, openFolder, toolbarAction, waitForListLoaded, waitForRow } from './helpers/mail-app.mjs';

const suite = await useMailStack();

/** What the list shows, row by row: { subject, level, depth, uid, expanded, selected }. */
async function visibleRows(app) {
  return messageRows(app).evaluateAll((rows) => rows.map((row) => ({
    subject: row.querySelector('[data-testid=mail-row-subject-text]')?.textContent ?? '',
    level: row.getAttribute('aria-level'),
    depth: row.getAttribute('data-depth'),
    uid: row.getAttribute('data-uid'),
    expanded: row.getAttribute('aria-expanded'),
    selected: row.getAttribute('aria-selected'),
  })));
}

const subjectsOf = async (app) => (await visibleRows(app)).map((row) => row.subject);

test('conversation view: replies under their root, collapse and expand by button and by keyboard, accessible', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const dana = await mailUser(t, stack, browser, 'dana', { identity: false });
  const day = (n) => new Date(Date.UTC(2025, 0, n, 9, 0, 0));
  const rootId = messageId('example.org');
  const replyId = messageId('example.org');
  const mails = [
    { subject: 'Budget plan', from: 'ann@example.org', date: day(1), id: rootId },
    { subject: 'Re: Budget plan', from: 'ben@example.org', date: day(2), id: replyId, inReplyTo: rootId, references: rootId },
    { subject: 'Re: Re: Budget plan', from: 'ann@example.org', date: day(3), inReplyTo: replyId, references: `${rootId} ${replyId}` },
    { subject: 'Lunch on Friday', from: 'cal@example.org', date: day(4) },
    { subject: 'Server notice', from: 'ops@example.org', date: day(5) },
  ];
  for (const { from, ...fields } of mails) {
    await stack.deliver(plainMail({ from, to: dana.address, text: `about ${fields.subject}`, ...fields }), { from, to: dana.address });
  }
  await openFolder(dana.app, 'INBOX');
  await waitForRow(dana.app, 'Server notice');
  await eventually(async () => (await messageRows(dana.app).count()) === 5 || await subjectsOf(dana.app), 'five messages listed');

  // Conversations on: three rows for the thread (root, then the replies indented), two singles.
  await toolbarAction(dana.app, 'threads');
  await dana.app.locator('[data-testid=mail-list][role=treegrid]').waitFor({ timeout: 10_000 });
  await waitForListLoaded(dana.app);
  await eventually(async () => (await messageRows(dana.app).count()) === 5 || await subjectsOf(dana.app), 'five rows in conversation view');
  const rows = await visibleRows(dana.app);
  const budget = rows.findIndex((row) => row.subject === 'Budget plan');
  assert.ok(budget >= 0, `the thread's root is listed: ${JSON.stringify(rows)}`);
  assert.deepEqual(rows.slice(budget, budget + 3).map((row) => [row.subject, row.level, row.depth]),
    [['Budget plan', '1', '0'], ['Re: Budget plan', '2', '1'], ['Re: Re: Budget plan', '3', '2']], 'replies under their root, one level deeper each');
  for (const single of ['Lunch on Friday', 'Server notice']) {
    const row = rows.find((entry) => entry.subject === single);
    assert.deepEqual([row.level, row.expanded], ['1', null], `${single}: a thread of its own, no toggle`);
  }
  const rootRow = messageRow(dana.app, 'Budget plan');
  const rootUid = await rootRow.getAttribute('data-uid');
  const toggle = rootRow.getByTestId('mail-thread-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true', 'expanded by default');
  assert.equal(await rootRow.getByRole('button', { name: 'Collapse conversation (3 messages)' }).count(), 1, 'the toggle\'s accessible name');
  assert.equal(await toggle.evaluate((element) => element.tagName), 'BUTTON');
  const replies = () => dana.app.locator('[data-testid=mail-row][aria-level="2"], [data-testid=mail-row][aria-level="3"]');
  const indent = async (subject) => messageRow(dana.app, subject).getByTestId('mail-row-subject-text').evaluate((element) => element.getBoundingClientRect().left);
  assert.ok(await indent('Re: Re: Budget plan') > await indent('Re: Budget plan') && await indent('Re: Budget plan') > await indent('Lunch on Friday'), 'replies are indented by depth');
  const violations = await axeViolations(dana.app, { scope: 'secms-mail-list', frames: false });
  assert.deepEqual(describeViolations(violations), [], 'axe-core, conversation view expanded');

  // The button collapses: the replies go, the root says how many and that a reply is unread.
  await toggle.click();
  await eventually(async () => (await replies().count()) === 0 || await subjectsOf(dana.app), 'collapse hides the replies');
  assert.equal(await messageRows(dana.app).count(), 3);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await rootRow.getByRole('button', { name: 'Expand conversation (3 messages)' }).count(), 1, 'the toggle\'s accessible name');
  assert.equal(await toggle.locator('[aria-hidden=true]').textContent(), '▸ 3', 'the collapsed root shows the count');
  assert.equal(await rootRow.getByTestId('mail-thread-unread').textContent(), 'Unread replies', 'unread replies said in words');
  const collapsedViolations = await axeViolations(dana.app, { scope: 'secms-mail-list', frames: false });
  assert.deepEqual(describeViolations(collapsedViolations), [], 'axe-core, conversation view collapsed');
  await toggle.click();
  await eventually(async () => (await replies().count()) === 2 || await subjectsOf(dana.app), 'expand shows the replies');
  assert.equal(await rootRow.getByTestId('mail-thread-unread').count(), 0, 'no unread-replies note while expanded');

  // Keyboard: on the focused root, Left collapses and Right expands; Right again goes to the
  // first reply, Left from a reply goes back to the root.
  await rootRow.click({ modifiers: ['Control'] });   // selects and focuses without opening
  await eventually(async () => (await rootRow.getAttribute('aria-selected')) === 'true' || 'root not selected', 'root selected');
  const focusedUid = () => dana.app.locator('[data-testid=mail-row].focused').getAttribute('data-uid');
  await dana.app.keyboard.press('ArrowLeft');
  await eventually(async () => (await replies().count()) === 0 || await subjectsOf(dana.app), 'Left collapses');
  assert.equal(await focusedUid(), rootUid);
  await dana.app.keyboard.press('ArrowRight');
  await eventually(async () => (await replies().count()) === 2 || await subjectsOf(dana.app), 'Right expands');
  await dana.app.keyboard.press('ArrowRight');
  await eventually(async () => (await focusedUid()) === await messageRow(dana.app, 'Re: Budget plan').getAttribute('data-uid') || 'focus not on the first reply', 'Right on an expanded root: first reply');
  await dana.app.keyboard.press('ArrowLeft');
  await eventually(async () => (await focusedUid()) === rootUid || 'focus not back on the root', 'Left on a reply: its root');
  assert.equal(await replies().count(), 2, 'Left on a reply does not collapse');
  // j/k (and arrows) walk the visible rows: down from the root is its first reply.
  await dana.app.keyboard.press('ArrowDown');
  await eventually(async () => (await focusedUid()) === await messageRow(dana.app, 'Re: Budget plan').getAttribute('data-uid') || 'ArrowDown did not reach the reply', 'ArrowDown into the thread');
});

test('a 10 000-message folder: first rows and total, scrolled to the end, only a window of rows in the DOM', { timeout: 600_000 }, async (t) => {
  const { stack, browser } = suite;
  const count = 10_000;
  // Registered, but the Email tab opened only after the fill: with the tab open, each of the
  // 10 000 deliveries would be pushed and reload the list while the fill runs.
  const erik = await registeredUser(t, browser, stack.origin, 'erik', { initScript: mailTraps });
  erik.address = stack.address(erik.username);
  const oldest = Date.UTC(2020, 0, 1);
  const pad = (n) => String(n).padStart(5, '0');
  // Small messages (about 400 bytes), dated one minute apart: number 00000 is the oldest.
  const messages = Array.from({ length: count }, (_, index) => ({
    from: `sender${index % 50}@example.org`,
    raw: plainMail({ from: `sender${index % 50}@example.org`, to: erik.address, subject: `Bulk ${pad(index)}`, date: new Date(oldest + index * 60_000), text: `message ${index}` }),
  }));
  // IMAP MULTIAPPEND: seconds for 10 000 messages, where LMTP (one delivery at a time) took
  // minutes on a 2-core machine; LMTP delivery itself is tested elsewhere.
  const fill = await stack.dovecot.appendMany(erik.username, 'INBOX', messages.map((message) => message.raw));
  t.diagnostic(`IMAP MULTIAPPEND of ${fill.appended} messages: ${Math.round(fill.ms)} ms`);
  assert.equal(fill.appended, count);

  await openEmailTab(erik.app);
  const list = erik.app.getByTestId('mail-list');
  await eventually(async () => (await list.getAttribute('data-total')) === String(count) || await list.getAttribute('data-total'), 'the total is 10 000', 60_000, 250);
  await waitForRow(erik.app, `Bulk ${pad(count - 1)}`, 30_000);   // the newest first
  const rowElements = () => erik.app.locator('[data-testid=mail-row], [data-testid=mail-row-loading]').count();
  const windowSizes = [await rowElements()];

  // Scroll in steps to the bottom; at each step the rows there load, and the DOM keeps a window.
  const scroller = async (action, fraction = 1) => erik.app.evaluate(([what, part]) => {
    const find = (root) => {
      for (const node of root.querySelectorAll('*')) {
        if (node.localName === 'secms-mail-list') return node;
        const inner = node.shadowRoot && find(node.shadowRoot);
        if (inner) return inner;
      }
      return null;
    };
    const element = find(document)?.shadowRoot?.querySelector('.scroller');
    if (!element) throw new Error('no list scroller');
    if (what === 'scroll') element.scrollTop = Math.round((element.scrollHeight - element.clientHeight) * part);
    return { top: element.scrollTop, height: element.scrollHeight, client: element.clientHeight };
  }, [action, fraction]);
  const steps = 8;
  for (let step = 1; step <= steps; step += 1) {
    await scroller('scroll', step / steps);
    await eventually(async () => {
      const loading = await erik.app.locator('[data-testid=mail-row-loading]').count();
      const loaded = await messageRows(erik.app).count();
      return (loading === 0 && loaded > 0) || { loading, loaded };
    }, `rows at ${step}/${steps} of the list load`, 30_000, 200);
    windowSizes.push(await rowElements());
  }
  const geometry = await scroller('read');
  assert.ok(geometry.top + geometry.client >= geometry.height - 1, `scrolled to the end: ${JSON.stringify(geometry)}`);
  const last = messageRow(erik.app, `Bulk ${pad(0)}`);
  await last.waitFor({ timeout: 30_000 });
  assert.equal(await last.getAttribute('aria-rowindex'), String(count + 1), 'the oldest message is the last row');
  assert.ok(await last.isVisible(), 'the last row is in view');
  assert.ok(windowSizes.every((size) => size > 0 && size < 200), `row elements in the DOM at each step: ${windowSizes.join(', ')}`);
});
