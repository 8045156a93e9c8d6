// One app window per account (docs/api.md, close code 4409): the same login opens the app in two
// pages of one browser context. The newer page takes over; the older one shows "Opened in another
// window" (focus on "Use here", axe clean, fits 390 px) and holds no socket; a third user sees the
// account online once; a room line reaches the new window readable and the old one nothing;
// "Use here" takes the connection back with the key still in the old window's Worker, and the
// newer window shows the notice in turn.
//
// A window taken over by another device's login learns when its login ends there (password
// changed): it stops its Worker and wipes, as a window with a socket does on 4401.
//
//   npm run build && node --test tests/e2e/one-window.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAppServer } from './helpers/server.mjs';
import { newContext } from './helpers/browser.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { violationsOf } from './helpers/browser.mjs';
import {
  registeredUser, createIdentityInApp, ownReportFingerprint, unexpectedProblems, joinRoom, selectRoom,
  acceptChannelsUntilSecure, waitForRoomKeys, waitForRoomLine, sendChannelMessage, openLanding, logInAndOpenApp,
  strongPassword,
} from './helpers/app-flows.mjs';
import { waitForFocus } from './helpers/focus.mjs';
import { axeViolations, describeViolations } from '../helpers/axe.mjs';

const suite = await useAppServer({ extraArgs: [...loopbackRateLimits] });
const { skip } = suite;

// Every WebSocket each page opens (watched from before the page loads), to tell whether a page
// still holds one.
const socketsByPage = new Map();
function watchSockets(page) {
  const sockets = [];
  socketsByPage.set(page, sockets);
  page.on('websocket', (socket) => sockets.push(socket));
}
const openSockets = (page) => (socketsByPage.get(page) ?? []).filter((socket) => !socket.isClosed()).length;

/** Polls `check` until it returns true; fails with `what` after the deadline. */
async function waitUntil(page, check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const notice = (page) => page.getByTestId('superseded-notice');
const connection = (page) => page.getByTestId('connection-status');
// Attached, not visible: a narrow window shows the connection as an icon only.
const online = (page) => page.locator('[data-testid=connection-status][data-state=online]');
const entriesOf = (page, username) => page.locator(`[data-testid=online-user][data-username="${username}"]`);

test('the newest app window of an account takes over; the older one shows "Opened in another window" and can take it back', { skip, timeout: 240_000 }, async (t) => {
  const alice = await registeredUser(t, suite.browser, suite.server.origin, 'alice', { onPage: watchSockets });
  const bob = await registeredUser(t, suite.browser, suite.server.origin, 'bob');
  const carol = await registeredUser(t, suite.browser, suite.server.origin, 'carol');   // watches presence
  const first = alice.app;
  await createIdentityInApp(first, { name: 'Alice', email: 'alice@example.org' });
  const firstFingerprint = await ownReportFingerprint(first);
  await online(first).waitFor({ state: 'attached' });
  assert.equal(openSockets(first), 1);
  await entriesOf(carol.app, alice.username).waitFor({ timeout: 15_000 });

  // --- a second page of the same context (same login) opens the app: it takes over ----------
  const second = await alice.context.newPage();
  await second.goto(`${suite.server.origin}/app.html`);
  await second.getByTestId('app-shell').waitFor();
  await online(second).waitFor({ state: 'attached', timeout: 15_000 });

  await notice(first).waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await notice(first).locator('h2').textContent(), /Opened in another window/);
  await waitForFocus(first, { testid: 'superseded-use-here' });
  assert.equal(await connection(first).getAttribute('data-state'), 'offline');
  await waitUntil(first, async () => openSockets(first) === 0, 'the first window to hold no socket');
  // It does not reconnect by itself: still no socket a while later, still the notice.
  await first.waitForTimeout(3000);
  assert.equal(openSockets(first), 0, 'the superseded window opened a socket again');
  assert.ok(await notice(first).isVisible());
  assert.equal(await notice(second).isVisible(), false);

  // The notice: axe clean, and usable in a 390 px wide window.
  assert.deepEqual(describeViolations(await axeViolations(first, { frames: false })), [], 'axe: the superseded notice');
  await first.setViewportSize({ width: 390, height: 844 });
  const fit = await first.evaluate(() => {
    const root = document.querySelector('secms-superseded-notice').shadowRoot;
    const box = root.querySelector('[data-testid="superseded-use-here"]').getBoundingClientRect();
    const dialog = root.querySelector('dialog').getBoundingClientRect();
    return { button: box.left >= 0 && box.right <= 390 && box.bottom <= 844 && box.width > 0, dialogWidth: Math.round(dialog.width), scroll: document.documentElement.scrollWidth };
  });
  assert.deepEqual(fit, { button: true, dialogWidth: 390, scroll: 390 });

  // The server sees one connection of alice: the third user lists her once.
  await waitUntil(carol.app, async () => (await entriesOf(carol.app, alice.username).count()) === 1, 'carol to list alice once');
  await carol.app.waitForTimeout(1000);
  assert.equal(await entriesOf(carol.app, alice.username).count(), 1);

  // --- a room line from another member reaches the new window readable, the old one nothing --
  await createIdentityInApp(second, { name: 'Alice', email: 'alice@example.org' });
  await createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' });
  const room = `one${Date.now().toString(36)}`;
  await joinRoom(second, room);
  await joinRoom(bob.app, room);
  await Promise.all([acceptChannelsUntilSecure(second, 1), acceptChannelsUntilSecure(bob.app, 1)]);
  await selectRoom(second, room);
  await selectRoom(bob.app, room);
  await waitForRoomKeys(bob.app, [alice.username]);
  await waitForRoomKeys(second, [bob.username]);
  const marker = `only-the-newest-${Date.now().toString(36)}`;
  await sendChannelMessage(bob.app, `hello ${marker}`);
  await waitForRoomLine(second, bob.username, marker);
  assert.equal(await second.locator('[data-testid=chat-system][data-level=error]').count(), 0, 'no undecryptable line in the new window');
  assert.equal(await first.locator('[data-testid=channel-message]').filter({ hasText: marker }).count(), 0);
  assert.equal(openSockets(first), 0);

  // --- "Use here" in the old window takes over back ---------------------------------------------
  await first.getByTestId('superseded-use-here').click();
  await notice(second).waitFor({ state: 'visible', timeout: 15_000 });
  await waitForFocus(second, { testid: 'superseded-use-here' });
  await waitUntil(second, async () => openSockets(second) === 0, 'the second window to hold no socket');
  await online(first).waitFor({ state: 'attached', timeout: 15_000 });
  assert.equal(await notice(first).isVisible(), false);
  assert.equal(openSockets(first), 1);
  // The key stayed in the first window's Worker: its certificate is proven again on the new
  // socket (the server asks for a fresh possession proof), and carol sees it.
  await first.locator('[data-testid=own-report] [data-testid=report-fingerprint]').waitFor({ state: 'attached', timeout: 20_000 });
  assert.equal(await ownReportFingerprint(first), firstFingerprint);
  await entriesOf(carol.app, alice.username).and(carol.app.locator('[data-certified=true]')).waitFor({ timeout: 20_000 });
  assert.equal(await entriesOf(carol.app, alice.username).count(), 1);

  for (const page of [first, second, bob.app, carol.app]) {
    assert.deepEqual(await violationsOf(page), [], `CSP / Trusted Types violations in ${page.url()}`);
  }
  for (const user of [alice, bob, carol]) assert.deepEqual(unexpectedProblems(user.problems), [], 'console errors');
});

test('a window taken over learns that its login ended on the other device: Worker stopped, storage wiped, "session ended"', { skip, timeout: 180_000 }, async (t) => {
  const alice = await registeredUser(t, suite.browser, suite.server.origin, 'alice');
  const first = alice.app;
  await createIdentityInApp(first, { name: 'Alice', email: 'alice@example.org' });
  await first.evaluate(() => localStorage.setItem('one-window-marker', 'kept until the login ends'));
  assert.equal(await first.evaluate(() => document.documentElement.dataset.cryptoWorker), 'ready');

  // Another device: a second browser context, a second login of alice, takes over.
  const device = await newContext(suite.browser);
  t.after(() => device.context.close().catch(() => {}));
  const landing = await device.context.newPage();
  await openLanding(landing, suite.server.origin);
  const second = await logInAndOpenApp(landing, { username: alice.username });
  await notice(first).waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await first.evaluate(() => document.documentElement.dataset.cryptoWorker), 'ready', 'the key stays while only taken over');

  // From there she changes her password, which ends every other login (the first window's).
  const status = await second.evaluate(async (password) => (await fetch('/api/v1/me/password', {
    method: 'PUT', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ current_password: password, new_password: `${password} and more` }),
  })).status, strongPassword);
  assert.equal(status, 204);

  // The first window asks on a slow timer and when it comes back into view: the user returns to it.
  await first.evaluate(() => window.dispatchEvent(new Event('focus')));
  await first.getByTestId('session-ended').waitFor({ timeout: 15_000 });
  await waitUntil(first, async () => (await first.evaluate(() => document.documentElement.dataset.cryptoWorker)) === 'stopped', 'the Worker (unlocked key) to stop');
  await waitUntil(first, async () => (await first.evaluate(() => localStorage.length)) === 0, 'the storage to be wiped');
  assert.equal(await notice(first).isVisible(), false, 'the notice no longer covers the page');
  // The device that changed the password keeps its window.
  assert.equal(await notice(second).isVisible(), false);
  await online(second).waitFor({ state: 'attached', timeout: 15_000 });
  assert.deepEqual(await violationsOf(first), [], 'CSP / Trusted Types violations');
});
