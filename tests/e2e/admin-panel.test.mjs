// The administration panel (issue 14 "Admin actions"), in Chromium against the real server: the
// account menu offers it to admin logins only; an admin disables a user who is logged in in
// another browser, and that user's app window says its session ended; a role change; a deletion
// after a confirmation naming the account; the own row offers no way to lock oneself out; axe
// (WCAG 2.1 A/AA) finds nothing in the panel at 1100 px and 390 px, which has no sideways scroll.
//
// The admin account is made as an operator makes one: registered, then promoted with the
// server's CLI (`secms-server user role … admin`) while that server is stopped.
//
//   npm run build && node --test tests/e2e/admin-panel.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { build } from '../../web/build.mjs';
import { login, loopbackRateLimits, register, request, runServerCommand, serverBinary, startServer } from '../helpers/secms-server.mjs';
import { launchBrowser, newContext, violationsOf } from './helpers/browser.mjs';
import { logInAndOpenApp, openLanding, registeredUser, strongPassword, uniqueName, unexpectedProblems } from './helpers/app-flows.mjs';
import { focusedElement, waitForFocus } from './helpers/focus.mjs';
import { axeViolations, describeViolations } from '../helpers/axe.mjs';
import { until } from '../helpers/until.mjs';

let server;
let browser;
let dataDir;
const adminName = uniqueName('root');

before(async () => {
  await access(serverBinary, constants.X_OK).catch(() => {
    throw new Error(`secms-server is not built (${serverBinary}): build it (cmake --build --preset dev) after scripts/install-deps.sh`);
  });
  await build();
  // First run: the data directory (database, token, certificate) and the future admin's account.
  const first = await startServer({ extraArgs: [...loopbackRateLimits], logLevel: 'warn' });
  dataDir = first.dataDir;
  const registered = await register(first, adminName, strongPassword);
  assert.equal(registered.status, 201, registered.body);
  assert.equal((await first.stop({ keepDataDir: true })).code, 0);
  const promoted = await runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', '--mail-enabled', 'false', 'user', 'role', adminName, 'admin']);
  assert.equal(promoted.code, 0, promoted.stderr);
  server = await startServer({ dataDir, extraArgs: [...loopbackRateLimits], logLevel: 'warn' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The admin, logged in with the app window open, in a fresh context closed when `t` ends. */
async function adminWindow(t) {
  const entry = await newContext(browser);
  t.after(() => entry.context.close().catch(() => {}));
  const landing = await entry.context.newPage();
  await openLanding(landing, server.origin);
  const app = await logInAndOpenApp(landing, { username: adminName });
  return { ...entry, landing, app };
}

async function openAccountMenu(app) {
  await app.getByTestId('account-menu').click();
  await app.getByTestId('menu-logout').waitFor();
}

/** Opens the panel from the account menu; resolves the panel's locator once the list is read. */
async function openPanel(app) {
  await openAccountMenu(app);
  await app.getByTestId('menu-admin').click();
  const panel = app.getByTestId('admin-panel');
  await panel.waitFor();
  await panel.locator(`[data-testid="admin-user"][data-username="${adminName}"]`).waitFor();
  return panel;
}

const rowOf = (panel, username) => panel.locator(`[data-testid="admin-user"][data-username="${username}"]`);

const announced = (app) => app.getByTestId('announcer').textContent();

test('the Administration entry: absent for a user, present for an admin; the panel opens on its heading and closes back to the menu button', { timeout: 120_000 }, async (t) => {
  const user = await registeredUser(t, browser, server.origin, 'plain');
  await openAccountMenu(user.app);
  assert.equal(await user.app.getByTestId('menu-admin').count(), 0, 'no Administration entry for a user');
  assert.equal(await user.app.locator('secms-admin-panel').count(), 0, 'no panel element for a user');

  const admin = await adminWindow(t);
  const panel = await openPanel(admin.app);
  await waitForFocus(admin.app, { id: 'admin-title' });
  assert.equal(await rowOf(panel, user.username).count(), 1, 'the user is listed');
  const own = rowOf(panel, adminName);
  assert.equal(await own.getAttribute('data-role'), 'admin');
  assert.equal(await own.getByTestId('admin-disable').count(), 0, 'no way to disable oneself');
  assert.equal(await own.getByTestId('admin-delete').count(), 0, 'no way to delete oneself');
  assert.equal(await own.getByTestId('admin-role-select').count(), 0, 'no way to change one\'s own role');
  assert.match(await panel.getByTestId('admin-count').textContent(), /Accounts 1 to \d+ of \d+/);
  await admin.app.keyboard.press('Escape');
  await waitForFocus(admin.app, { testid: 'account-menu' });
  assert.deepEqual(await violationsOf(admin.app), []);
  assert.deepEqual(unexpectedProblems(admin.problems), []);
});

test('an admin disables a user logged in elsewhere: that user\'s app window says the session ended; enable again', { timeout: 120_000 }, async (t) => {
  const user = await registeredUser(t, browser, server.origin, 'victim');
  const admin = await adminWindow(t);
  const panel = await openPanel(admin.app);
  const row = rowOf(panel, user.username);
  await until(async () => { await panel.getByTestId('admin-refresh').click(); return row.getAttribute('data-logins'); }, (logins) => Number(logins) >= 1, 'the user\'s live login in the list');

  await row.getByTestId('admin-disable').click();
  const result = row.getByTestId('admin-row-result');
  await until(() => result.getAttribute('data-kind'), (kind) => kind === 'ok', 'the disable result');
  assert.equal(await result.textContent(), `${user.username} is disabled; their logins were ended.`);
  await until(() => row.getAttribute('data-disabled'), (value) => value === 'true', 'the row shows the account disabled');
  assert.equal(await row.getAttribute('data-logins'), '0');
  await until(() => announced(admin.app), (text) => text.includes(`${user.username} is disabled`), 'the result read by the live region');
  // The toggle kept focus (now "Enable"), and the result describes it.
  const focused = await waitForFocus(admin.app, { testid: 'admin-enable' });
  assert.equal(focused.text, 'Enable');
  const describedBy = await row.getByTestId('admin-enable').getAttribute('aria-describedby');
  assert.equal(await result.getAttribute('id'), describedBy);

  // The user's window: the server closed its socket (4401) and the app says so.
  await user.app.getByTestId('session-ended').waitFor({ timeout: 10_000 });
  await user.app.getByTestId('back-to-start').waitFor();

  await row.getByTestId('admin-enable').click();
  await until(() => row.getAttribute('data-disabled'), (value) => value === 'false', 'the row shows the account enabled');
  assert.equal(await result.textContent(), `${user.username} is enabled.`);
  await waitForFocus(admin.app, { testid: 'admin-disable' });
  assert.deepEqual(await violationsOf(admin.app), []);
});

test('role change and a deletion after a confirmation naming the account', { timeout: 120_000 }, async (t) => {
  const first = await registeredUser(t, browser, server.origin, 'mod');
  const second = await registeredUser(t, browser, server.origin, 'gone');
  const admin = await adminWindow(t);
  const panel = await openPanel(admin.app);

  const row = rowOf(panel, first.username);
  await row.getByTestId('admin-role-select').selectOption('moderator');
  await row.getByTestId('admin-role-apply').click();
  await until(() => row.getAttribute('data-role'), (role) => role === 'moderator', 'the new role in the list');
  assert.equal(await row.getByTestId('admin-row-result').textContent(), `The role of ${first.username} is now Moderator.`);
  await waitForFocus(admin.app, { testid: 'admin-role-apply' });
  // The user's own view of the login says so at once.
  const me = await first.app.evaluate(async () => (await (await fetch('/api/v1/me', { credentials: 'same-origin' })).json()).user.role);
  assert.equal(me, 'moderator');

  // Delete: the confirmation names the account; Cancel keeps it and returns focus.
  const doomed = rowOf(panel, second.username);
  await doomed.getByTestId('admin-delete').click();
  const dialog = admin.app.getByTestId('admin-delete-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.locator('h2').textContent(), `Delete the account ${second.username}?`);
  assert.equal(await admin.app.getByTestId('admin-delete-confirm').textContent(), `Delete ${second.username}`);
  await waitForFocus(admin.app, { testid: 'admin-delete-cancel' });
  await admin.app.getByTestId('admin-delete-cancel').click();
  await waitForFocus(admin.app, (element) => element?.testid === 'admin-delete');
  assert.equal(await doomed.count(), 1, 'cancel keeps the account');

  const namesBefore = await panel.getByTestId('admin-user').evaluateAll((rows) => rows.map((item) => item.dataset.username));
  await doomed.getByTestId('admin-delete').click();
  await admin.app.getByTestId('admin-delete-confirm').click();
  await until(() => doomed.count(), (count) => count === 0, 'the deleted row gone');
  assert.equal(await panel.getByTestId('admin-removed-result').textContent(), `The account ${second.username} was deleted.`);
  await until(() => announced(admin.app), (text) => text.includes(`The account ${second.username} was deleted.`), 'the deletion read by the live region');
  // Focus: the row that took its place (or the one before), never <body>.
  const index = namesBefore.indexOf(second.username);
  const namesAfter = await panel.getByTestId('admin-user').evaluateAll((rows) => rows.map((item) => item.dataset.username));
  const expected = namesBefore.slice(index + 1).find((name) => namesAfter.includes(name)) ?? namesBefore.slice(0, index).reverse().find((name) => namesAfter.includes(name));
  const focused = await focusedElement(admin.app);
  assert.ok(focused, 'focus is not on <body>');
  const focusedRow = await admin.app.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return active?.closest('li')?.dataset.username ?? null;
  });
  assert.equal(focusedRow, expected);
  // The deleted user's window is told its session ended, and the name can no longer log in.
  await second.app.getByTestId('session-ended').waitFor({ timeout: 10_000 });
  assert.deepEqual(await violationsOf(admin.app), []);
});

test('an action on an account deleted meanwhile: the server\'s refusal is said under its row and describes the button that keeps focus', { timeout: 120_000 }, async (t) => {
  const user = await registeredUser(t, browser, server.origin, 'meanwhile');
  const admin = await adminWindow(t);
  const panel = await openPanel(admin.app);
  const row = rowOf(panel, user.username);
  await row.waitFor();
  // Another administrator (here: the same admin from another client) deletes the account.
  const { cookie } = await login(server, adminName, strongPassword);
  const removed = await request(server, 'DELETE', `/api/v1/admin/users/${user.username}`, { cookie });
  assert.equal(removed.status, 200, removed.body);

  await row.getByTestId('admin-disable').click();
  const result = row.getByTestId('admin-row-result');
  await until(() => result.getAttribute('data-kind'), (kind) => kind === 'error', 'the refusal under the row');
  assert.equal(await result.getAttribute('data-code'), 'unknown_user');
  assert.equal(await result.textContent(), `${user.username} no longer exists. Refresh the list.`);
  await waitForFocus(admin.app, { testid: 'admin-disable' });
  assert.equal(await row.getByTestId('admin-disable').getAttribute('aria-describedby'), await result.getAttribute('id'));
  await until(() => announced(admin.app), (text) => text.includes(`${user.username} no longer exists.`), 'the refusal read by the live region');
  const violations = await axeViolations(admin.app, { scope: 'secms-admin-panel', frames: false });
  assert.deepEqual(describeViolations(violations), [], 'axe: a row with a refusal');
  await panel.getByTestId('admin-refresh').click();
  await until(() => row.count(), (count) => count === 0, 'the row gone after a refresh');
  assert.deepEqual(await violationsOf(admin.app), []);
});

test('axe finds nothing in the panel (and its confirmation) at 1100 px and 390 px; no sideways scroll on a phone', { timeout: 120_000 }, async (t) => {
  await registeredUser(t, browser, server.origin, 'axeuser');
  const admin = await adminWindow(t);
  for (const size of [{ width: 1100, height: 760 }, { width: 390, height: 800 }]) {
    await admin.app.setViewportSize(size);
    const panel = await openPanel(admin.app);
    let violations = await axeViolations(admin.app, { scope: 'secms-admin-panel', frames: false });
    assert.deepEqual(describeViolations(violations), [], `axe: panel at ${size.width} px`);
    const overflow = await panel.evaluate((dialog) => dialog.scrollWidth - dialog.clientWidth);
    assert.ok(overflow <= 0, `the panel scrolls sideways by ${overflow} px at ${size.width} px`);
    const inWindow = await panel.evaluate((dialog) => { const box = dialog.getBoundingClientRect(); return box.left >= 0 && box.right <= window.innerWidth; });
    assert.ok(inWindow, `the panel is inside the window at ${size.width} px`);

    const other = panel.locator('[data-testid="admin-user"]:not([data-username="' + adminName + '"])').first();
    await other.getByTestId('admin-delete').click();
    await admin.app.getByTestId('admin-delete-dialog').waitFor();
    violations = await axeViolations(admin.app, { scope: 'secms-admin-panel', frames: false });
    assert.deepEqual(describeViolations(violations), [], `axe: confirmation at ${size.width} px`);
    await admin.app.keyboard.press('Escape');
    await waitForFocus(admin.app, { testid: 'admin-delete' });
    await admin.app.keyboard.press('Escape');
    await waitForFocus(admin.app, { testid: 'account-menu' });
  }
  assert.deepEqual(await violationsOf(admin.app), []);
});
