// User actions shared by the end-to-end tests, written the way a user meets the pages
// (roles and visible state), with data-testid hooks where text would be ambiguous.

import { newContext } from './browser.mjs';

export const strongPassword = 'correct horse battery staple';

/**
 * Console problems a test did not expect: the browser logs every 4xx the tests provoke on
 * purpose (wrong password, duplicate name, no session), so those are left out.
 */
export const unexpectedProblems = (problems) =>
  problems.filter((text) => !/Failed to load resource: the server responded with a status of (400|401|409)/.test(text));

/**
 * A newly registered user with the app window open, in a fresh browser context that is closed
 * when test `t` ends. Resolves { context, problems, landing, app, username, … }. `onPage(page)`
 * sees every page of the context as it opens (before it loads: to watch its WebSocket);
 * `initScript` runs in every page before its own scripts.
 */
export async function registeredUser(t, browser, origin, prefix, { onPage, initScript } = {}) {
  const entry = await newContext(browser);
  t.after(() => entry.context.close().catch(() => {}));
  if (onPage) entry.context.on('page', onPage);
  if (initScript) await entry.context.addInitScript(initScript);
  const landing = await entry.context.newPage();
  await openLanding(landing, origin);
  const username = uniqueName(prefix);
  const app = await registerAndOpenApp(landing, { username });
  return { ...entry, landing, app, username };
}

/** Opens the landing page and waits for the login form. */
export async function openLanding(page, origin) {
  await page.goto(`${origin}/`);
  await page.getByTestId('auth-form').waitFor();
}

async function fillAndSubmit(page, { mode, username, password, repeat }) {
  await page.getByTestId('auth-form').waitFor();
  await page.getByRole('tab', { name: mode === 'register' ? 'Create account' : 'Log in' }).click();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  if (mode === 'register') await page.locator('#repeat').fill(repeat ?? password);
  await page.getByTestId('submit').click();
}

/** Registers (which also logs in) and returns the app pop-up once it has loaded. */
export async function registerAndOpenApp(page, { username, password = strongPassword }) {
  const popup = page.waitForEvent('popup');
  await fillAndSubmit(page, { mode: 'register', username, password });
  const appPage = await popup;
  await appPage.getByTestId('app-shell').waitFor();
  return appPage;
}

export async function logInAndOpenApp(page, { username, password = strongPassword }) {
  const popup = page.waitForEvent('popup');
  await fillAndSubmit(page, { mode: 'login', username, password });
  const appPage = await popup;
  await appPage.getByTestId('app-shell').waitFor();
  return appPage;
}

/** Submits the form expecting an error; resolves the error text shown. */
export async function submitExpectingError(page, fields) {
  await fillAndSubmit(page, fields);
  const error = page.getByTestId('error');
  await error.waitFor();
  return (await error.textContent()).trim();
}

/** Usernames in the online list, in display order. */
export async function onlineUsernames(appPage) {
  return appPage.getByTestId('online-user').evaluateAll((items) => items.map((item) => item.dataset.username));
}

/** Waits until the online list equals `expected` (order-insensitive). */
export async function waitForOnline(appPage, expected, timeoutMs = 10_000) {
  const want = [...expected].sort().join(',');
  const started = Date.now();
  let seen = '';
  while (Date.now() - started < timeoutMs) {
    seen = (await onlineUsernames(appPage)).sort().join(',');
    if (seen === want) return;
    await appPage.waitForTimeout(100);
  }
  throw new Error(`online list: expected [${want}], saw [${seen}]`);
}

/** Logs out from the app window's account menu; resolves when the pop-up has closed. */
export async function logOutFromApp(appPage) {
  const closed = appPage.waitForEvent('close');
  await appPage.getByTestId('account-menu').click();
  await appPage.getByTestId('menu-logout').click();
  await closed;
}

/** Storage this origin holds in the page: web storage sizes and IndexedDB names. */
export async function storageOf(page) {
  return page.evaluate(async () => ({
    localStorage: localStorage.length,
    sessionStorage: sessionStorage.length,
    indexedDB: (await indexedDB.databases()).map((db) => db.name),
  }));
}

export const uniqueName = (prefix) => `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

// --- identities and secure channels (tests/e2e/secure-channel.test.mjs; hooks in README.md) ---

/** Creates a key pair in the app's Chat tab; resolves the fingerprint of the verified report. */
export async function createIdentityInApp(appPage, { name, email, passphrase = '', remember = false }) {
  await appPage.getByTestId('identity-mode-create').click();
  await appPage.locator('#identity-name').fill(name);
  await appPage.locator('#identity-email').fill(email);
  if (passphrase) await appPage.locator('#identity-passphrase').fill(passphrase);
  if (remember) await appPage.getByTestId('identity-remember').check();
  await appPage.getByTestId('identity-create-submit').click();
  return ownReportFingerprint(appPage);
}

/** Waits for the own "verified" report panel and resolves its fingerprint (40 hex, no spaces). */
export async function ownReportFingerprint(appPage, timeoutMs = 20_000) {
  const fingerprint = appPage.locator('[data-testid=own-report] [data-testid=report-fingerprint]');
  // The report is behind a disclosure ("Full certificate report"): present, not necessarily shown.
  await fingerprint.waitFor({ state: 'attached', timeout: timeoutMs });
  return fingerprint.getAttribute('data-fingerprint');
}

/** Clicks "Secure channel" beside `username` in the online list once it is usable (aria-disabled while not). */
export async function requestChannelWith(appPage, username) {
  const button = appPage.locator(`[data-testid=online-user][data-username="${username}"] [data-testid=request-channel]:not([aria-disabled=true])`);
  await button.waitFor({ timeout: 15_000 });
  await button.click();
}

/** Waits until the shown channel's state badge says `state` (secure, ended, compromised, …). */
export async function waitForChannelState(appPage, state, timeoutMs = 25_000) {
  await appPage.locator(`[data-testid=channel-state][data-state=${state}]`).waitFor({ timeout: timeoutMs });
}

export async function sendChannelMessage(appPage, text) {
  await appPage.getByTestId('message-input').fill(text);
  await appPage.getByTestId('message-send').click();
}

/** Waits for an incoming message with exactly this text. */
export async function waitForPeerMessage(appPage, text, timeoutMs = 10_000) {
  await appPage.locator('[data-testid=channel-message][data-from=peer] [data-testid=channel-message-text]', { hasText: text })
    .filter({ hasText: text }).first().waitFor({ timeout: timeoutMs });
}

// --- rooms (tests/e2e/rooms.test.mjs) ------------------------------------------------------

/** Joins a public room by name from the room list; resolves once its view is shown. */
export async function joinRoom(appPage, name) {
  await appPage.getByTestId('room-join-name').fill(name);
  await appPage.getByTestId('room-join').click();
  await appPage.locator(`[data-testid=room-entry][data-name="${name}"][data-joined=true]`).waitFor({ timeout: 10_000 });
}

/** Shows a room of the list (by name, or the first private one when name is null). */
export async function selectRoom(appPage, name = null) {
  const entry = name ? appPage.locator(`[data-testid=room-entry][data-name="${name}"]`) : appPage.locator('[data-testid=room-entry]:not([data-name])');
  await entry.first().click();
  await appPage.getByTestId('room-title').waitFor();
}

/**
 * Accepts (remembering the certificate) every channel offer in the list until `count` channels
 * are secure, as a user reviewing each request would; then shows `returnTo` again (a room name,
 * or null for the first private room, or undefined to stay).
 */
export async function acceptChannelsUntilSecure(appPage, count, { timeoutMs = 40_000 } = {}) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await appPage.locator('[data-testid=channel-entry][data-state=secure]').count() >= count) return;
    const offered = appPage.locator('[data-testid=channel-entry][data-state=verifying]');
    if (await offered.count() > 0) {
      await offered.first().click();
      await appPage.getByTestId('peer-report').waitFor();
      await appPage.getByTestId('remember-certificate').check();
      await appPage.getByTestId('channel-accept').click();
    }
    await appPage.waitForTimeout(150);
  }
  throw new Error(`secure channels: expected ${count}`);
}

/** Waits until every other member of the shown room holds this user's sender key. */
export async function waitForRoomKeys(appPage, members, timeoutMs = 20_000) {
  for (const member of members) {
    await appPage.locator(`[data-testid=room-member][data-username="${member}"][data-waiting=false]`).waitFor({ timeout: timeoutMs });
  }
}

/** Waits for a line from `user` in the shown room containing `text`. */
export async function waitForRoomLine(appPage, user, text, timeoutMs = 15_000) {
  const line = appPage.locator(`[data-testid=channel-message][data-from=peer][data-user="${user}"]`).filter({ hasText: text }).first();
  await line.waitFor({ timeout: timeoutMs });
  return line;
}
