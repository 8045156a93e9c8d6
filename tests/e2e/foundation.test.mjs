// End-to-end tests of the foundation issue: real secms-server, real headless Chromium.
// Registration and login, the app pop-up and its fallback, tabs, live presence, logout
// wiping cookies and storage, error messages, Trusted Types and CSP in force.
//
//   npm run build && node --test tests/e2e/foundation.test.mjs
// (the server binary comes from SECMS_SERVER_BIN or build/dev/server/app/secms-server)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, serverBinaryAvailable, serverBinary } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, newContext, violationsOf } from './helpers/browser.mjs';
import {
  openLanding, registerAndOpenApp, logInAndOpenApp, submitExpectingError, waitForOnline,
  logOutFromApp, storageOf, uniqueName, strongPassword, unexpectedProblems
} from './helpers/app-flows.mjs';

const available = await serverBinaryAvailable();
const skip = available ? false : `secms-server not built (${serverBinary})`;

let server;
let browser;
const contexts = [];

before(async () => {
  if (!available) return;
  // Every test browser connects from 127.0.0.1, so the per-IP limits are raised for this
  // file; the per-account limits keep their defaults (one test checks them).
  server = await startServer({ extraArgs: [
    ...loopbackRateLimits,
  ] });
  browser = await launchBrowser();
});

after(async () => {
  for (const { context } of contexts) await context.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

/** A new browser context, closed when the test ends (so its users go offline). */
async function freshContext(t, options) {
  const entry = await newContext(browser, options);
  contexts.push(entry);
  t.after(() => entry.context.close().catch(() => {}));
  return entry;
}

/** Waits until `pattern` is visible inside `locator` (searching through shadow roots). */
async function expectText(locator, pattern) {
  await locator.getByText(pattern).first().waitFor({ state: 'visible', timeout: 5000 });
}

// Console errors the browser prints by itself for expected HTTP answers (the landing page's
// session probe gets 401, a refused login 401/409...). Anything else is a real problem.
const unexpected = unexpectedProblems;

test('two users register, see each other online, and see each other leave', { skip }, async (t) => {
  const alice = await freshContext(t);
  const bob = await freshContext(t);
  const aliceName = uniqueName('alice');
  const bobName = uniqueName('bob');

  const aliceLanding = await alice.context.newPage();
  await openLanding(aliceLanding, server.origin);
  const aliceApp = await registerAndOpenApp(aliceLanding, { username: aliceName });
  assert.equal(new URL(aliceApp.url()).pathname, '/app.html');

  const bobLanding = await bob.context.newPage();
  await openLanding(bobLanding, server.origin);
  const bobApp = await registerAndOpenApp(bobLanding, { username: bobName });

  await waitForOnline(aliceApp, [aliceName, bobName]);
  await waitForOnline(bobApp, [aliceName, bobName]);
  assert.equal(await aliceApp.locator(`[data-testid=online-user][data-self=true]`).getAttribute('data-username'), aliceName);
  await expectText(aliceApp.getByTestId('connection-status'), 'Online');
  await expectText(aliceApp.getByTestId('channel-status'), 'No secure channel');
  await expectText(aliceLanding.getByTestId('signed-in'), /open in its own window/);

  // Something stored by the app before logout must be gone after it.
  await bobApp.evaluate(async () => {
    localStorage.setItem('probe', '1');
    sessionStorage.setItem('probe', '1');
    await new Promise((resolve) => { indexedDB.open('secms-probe').onsuccess = (event) => { event.target.result.close(); resolve(); }; });
  });
  assert.deepEqual((await storageOf(bobApp)).indexedDB, ['secms-probe']);

  await logOutFromApp(bobApp);
  await waitForOnline(aliceApp, [aliceName]);

  assert.deepEqual(await bob.context.cookies(server.origin), [], 'no cookie left after logout');
  await bobLanding.getByTestId('notice').waitFor();
  assert.deepEqual(await storageOf(bobLanding), { localStorage: 0, sessionStorage: 0, indexedDB: [] });
  await bobLanding.reload();
  await bobLanding.getByTestId('auth-form').waitFor();

  for (const page of [aliceLanding, aliceApp, bobLanding]) assert.deepEqual(await violationsOf(page), [], `CSP violations in ${page.url()}`);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});

test('tabs switch by click and by keyboard, and their panels show', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const landing = await context.newPage();
  await openLanding(landing, server.origin);
  const app = await registerAndOpenApp(landing, { username: uniqueName('tabs') });

  const selected = async () => ({
    tab: await app.locator('[role=tab][aria-selected=true]').getAttribute('data-testid'),
    visible: await app.locator('[role=tabpanel]:not([hidden])').getAttribute('data-testid'),
  });
  assert.deepEqual(await selected(), { tab: 'tab-chat', visible: 'panel-chat' });
  // The Chat tab starts with the identity step (a key is needed before any secure channel).
  await expectText(app.getByTestId('panel-chat'), 'Your OpenPGP identity');

  await app.getByTestId('tab-voip').click();
  assert.deepEqual(await selected(), { tab: 'tab-voip', visible: 'panel-voip' });
  // Chromium has WebRTC and encoded transforms: the VoIP tab lists whom to call, not "unavailable".
  await expectText(app.getByTestId('panel-voip'), 'People to call');

  await app.keyboard.press('ArrowRight');
  assert.deepEqual(await selected(), { tab: 'tab-email', visible: 'panel-email' });
  await expectText(app.getByTestId('panel-email'), 'Email is turned off on this server.');
  await app.keyboard.press('ArrowRight');
  assert.deepEqual(await selected(), { tab: 'tab-chat', visible: 'panel-chat' });
  await app.keyboard.press('End');
  assert.deepEqual(await selected(), { tab: 'tab-email', visible: 'panel-email' });
  await app.keyboard.press('Home');
  assert.deepEqual(await selected(), { tab: 'tab-chat', visible: 'panel-chat' });
  assert.equal(await app.locator('[role=tabpanel]:visible').count(), 1);
});

test('VoIP says plainly when the browser has no WebRTC', { skip }, async (t) => {
  const { context } = await freshContext(t);
  await context.addInitScript(() => { delete window.RTCPeerConnection; });
  const landing = await context.newPage();
  await openLanding(landing, server.origin);
  const app = await registerAndOpenApp(landing, { username: uniqueName('nortc') });
  await app.getByTestId('tab-voip').click();
  await expectText(app.getByTestId('panel-voip'), 'VoIP is unavailable in this browser');
});

test('the app runs with Trusted Types enforced and its crypto worker answers', { skip }, async (t) => {
  const { context, problems } = await freshContext(t);
  const landing = await context.newPage();
  await openLanding(landing, server.origin);
  const app = await registerAndOpenApp(landing, { username: uniqueName('tt') });

  const sinkResult = await app.evaluate(() => {
    try {
      document.createElement('div').innerHTML = '<b>x</b>';
      return 'assigned';
    } catch (error) {
      return error.name;
    }
  });
  assert.equal(sinkResult, 'TypeError');
  await app.waitForFunction(() => document.documentElement.dataset.cryptoWorker !== undefined);
  assert.equal(await app.evaluate(() => document.documentElement.dataset.cryptoWorker), 'ready');
  // The refused assignment above is the only violation allowed, and it is a Trusted Types
  // one (the event is queued, hence the wait).
  await app.waitForFunction(() => window.__secmsViolations.length > 0);
  const violations = await violationsOf(app);
  assert.ok(violations.every((v) => v.startsWith('require-trusted-types-for')), violations.join('\n'));
  assert.equal(violations.length, 1);
  assert.deepEqual(await violationsOf(landing), []);
  assert.deepEqual(unexpected(problems).filter((p) => !/TrustedHTML/.test(p)), []);
});

test('errors: duplicate username, wrong password, short password, mismatch', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const page = await context.newPage();
  await openLanding(page, server.origin);
  const username = uniqueName('carol');
  const app = await registerAndOpenApp(page, { username });
  await logOutFromApp(app);

  await page.getByTestId('auth-form').waitFor();
  assert.equal(await submitExpectingError(page, { mode: 'register', username, password: strongPassword }), 'This username is already taken.');
  assert.equal(await submitExpectingError(page, { mode: 'login', username, password: 'wrong password here' }), 'Wrong username or password.');
  assert.equal(await page.locator('#password').inputValue(), '', 'the password field is cleared after a refusal');
  assert.equal(await submitExpectingError(page, { mode: 'login', username: uniqueName('nobody'), password: 'wrong password here' }), 'Wrong username or password.');
  assert.equal(await submitExpectingError(page, { mode: 'register', username: uniqueName('dave'), password: 'short' }), 'The password must be 10 to 256 characters long.');
  assert.match(await submitExpectingError(page, { mode: 'register', username: '-bad', password: strongPassword }), /This username is not allowed/);
  assert.equal(await submitExpectingError(page, { mode: 'register', username: uniqueName('erin'), password: strongPassword, repeat: `${strongPassword}!` }), 'The two passwords differ.');
});

test('the same errors in French', { skip }, async (t) => {
  const { context } = await freshContext(t, { locale: 'fr-FR' });
  const page = await context.newPage();
  await openLanding(page, server.origin);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  await page.getByRole('tab', { name: 'Se connecter' }).click();
  await page.locator('#username').fill(uniqueName('nobody'));
  await page.locator('#password').fill('wrong password here');
  await page.getByTestId('submit').click();
  assert.equal((await page.getByTestId('error').textContent()).trim(), "Nom d'utilisateur ou mot de passe incorrect.");
  await page.getByTestId('language').selectOption('en');
  assert.equal((await page.getByTestId('error').textContent()).trim(), 'Wrong username or password.');
});

test('fields have autofill and spellcheck off', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const page = await context.newPage();
  await openLanding(page, server.origin);
  await page.getByRole('tab', { name: 'Create account' }).click();
  const fields = await page.locator('form input').evaluateAll((inputs) => inputs.map((input) => ({
    type: input.type, form: input.form.getAttribute('autocomplete'), autocomplete: input.getAttribute('autocomplete'),
    spellcheck: input.spellcheck, lpignore: input.dataset.lpignore,
  })));
  assert.equal(fields.length, 3);
  // Chromium ignores "off" on password fields; "new-password" keeps saved passwords out of them.
  for (const field of fields) {
    assert.deepEqual(field, { type: field.type, form: 'off', autocomplete: field.type === 'password' ? 'new-password' : 'off', spellcheck: false, lpignore: 'true' });
  }
  assert.deepEqual(fields.map((field) => field.type), ['text', 'password', 'password']);
  const metas = await page.locator('meta[http-equiv]').evaluateAll((nodes) => nodes.map((n) => `${n.httpEquiv}: ${n.content}`));
  assert.deepEqual(metas, ['Cache-Control: no-cache, no-store, must-revalidate', 'Pragma: no-cache', 'Expires: 0']);
});

test('a blocked pop-up shows a button and a same-tab link that work', { skip }, async (t) => {
  const { context } = await freshContext(t);
  // Simulates a pop-up blocker for this page only: window.open answers null.
  const landing = await context.newPage();
  await landing.addInitScript(() => { window.open = () => null; });
  await openLanding(landing, server.origin);
  await landing.getByRole('tab', { name: 'Create account' }).click();
  await landing.locator('#username').fill(uniqueName('frank'));
  await landing.locator('#password').fill(strongPassword);
  await landing.locator('#repeat').fill(strongPassword);
  await landing.getByTestId('submit').click();

  await landing.getByTestId('popup-blocked').waitFor();
  assert.ok(await landing.getByTestId('open-app').isVisible());
  assert.match(await landing.getByTestId('open-app').textContent(), /Open Security\.MS/);
  const link = landing.getByTestId('open-in-tab');
  assert.equal(await link.getAttribute('href'), '/app.html');
  await link.click();
  await landing.getByTestId('app-shell').waitFor();
  assert.equal(new URL(landing.url()).pathname, '/app.html');

  // With no opener to return to, logging out goes back to the start page in this tab.
  await landing.getByTestId('account-menu').click();
  await landing.getByTestId('menu-logout').click();
  await landing.waitForURL(`${server.origin}/`);
  await landing.getByTestId('auth-form').waitFor();
  assert.deepEqual(await context.cookies(server.origin), []);
});

test('the button opens the app when the pop-up was first blocked', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const landing = await context.newPage();
  // Blocks only the first attempt (the one after login), as a blocker would without a gesture.
  await landing.addInitScript(() => {
    const realOpen = window.open.bind(window);
    let calls = 0;
    window.open = (...args) => (calls++ === 0 ? null : realOpen(...args));
  });
  await openLanding(landing, server.origin);
  await landing.getByRole('tab', { name: 'Create account' }).click();
  await landing.locator('#username').fill(uniqueName('gina'));
  await landing.locator('#password').fill(strongPassword);
  await landing.locator('#repeat').fill(strongPassword);
  await landing.getByTestId('submit').click();
  await landing.getByTestId('popup-blocked').waitFor();
  const popup = landing.waitForEvent('popup');
  await landing.getByTestId('open-app').click();
  const app = await popup;
  await app.getByTestId('app-shell').waitFor();
  assert.equal(await landing.getByTestId('popup-blocked').count(), 0);
});

test('the app window without a session says so and links to the start page', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const page = await context.newPage();
  await page.goto(`${server.origin}/app.html`);
  await page.getByTestId('no-session').waitFor();
  await expectText(page.getByTestId('no-session'), 'You are not logged in');
  await page.getByTestId('back-to-start').click();
  await page.getByTestId('auth-form').waitFor();
});

test('logging out from the start page ends the app window\'s session', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const landing = await context.newPage();
  await openLanding(landing, server.origin);
  const app = await registerAndOpenApp(landing, { username: uniqueName('hugo') });
  await app.locator('[data-testid=online-user][data-self=true]').waitFor();
  await landing.getByTestId('landing-logout').click();
  await landing.getByTestId('auth-form').waitFor();
  await app.getByTestId('session-ended').waitFor({ timeout: 10_000 });
  assert.deepEqual(await context.cookies(server.origin), []);
});

test('change password, then log in with the new one; delete the account', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const landing = await context.newPage();
  await openLanding(landing, server.origin);
  const username = uniqueName('ivy');
  const newPassword = 'a much longer new passphrase';
  let app = await registerAndOpenApp(landing, { username });

  await app.getByTestId('account-menu').click();
  await app.getByTestId('menu-change-password').click();
  await app.locator('#current-password').fill('not my password at all');
  await app.locator('#new-password').fill(newPassword);
  await app.locator('#repeat-password').fill(newPassword);
  await app.getByTestId('change-password-submit').click();
  assert.equal((await app.getByTestId('account-error').textContent()).trim(), 'Wrong username or password.');

  await app.locator('#current-password').fill(strongPassword);
  await app.locator('#new-password').fill(newPassword);
  await app.locator('#repeat-password').fill(newPassword);
  await app.getByTestId('change-password-submit').click();
  await app.getByTestId('account-notice').waitFor();
  // The session that changed the password stays valid.
  await expectText(app.getByTestId('connection-status'), 'Online');
  await app.getByRole('button', { name: 'Close' }).click();

  await logOutFromApp(app);
  await landing.getByTestId('auth-form').waitFor();
  assert.equal(await submitExpectingError(landing, { mode: 'login', username, password: strongPassword }), 'Wrong username or password.');
  app = await logInAndOpenApp(landing, { username, password: newPassword });

  await app.getByTestId('account-menu').click();
  await app.getByTestId('menu-delete-account').click();
  await app.locator('#delete-password').fill(newPassword);
  await app.getByTestId('delete-submit').click();
  assert.equal((await app.getByTestId('account-error').textContent()).trim(), 'Tick the box to confirm.');
  await app.getByTestId('delete-confirm').check();
  const closed = app.waitForEvent('close');
  await app.getByTestId('delete-submit').click();
  await closed;
  assert.deepEqual(await context.cookies(server.origin), []);
  await landing.getByTestId('auth-form').waitFor();
  assert.equal(await submitExpectingError(landing, { mode: 'login', username, password: newPassword }), 'Wrong username or password.');
});

test('too many wrong passwords for one account: a rate-limit message', { skip }, async (t) => {
  const { context } = await freshContext(t);
  const page = await context.newPage();
  await openLanding(page, server.origin);
  const username = uniqueName('judy');
  const app = await registerAndOpenApp(page, { username });
  await logOutFromApp(app);
  await page.getByTestId('auth-form').waitFor();
  let message = '';
  for (let attempt = 0; attempt < 12 && !message.startsWith('Too many attempts'); attempt += 1) {
    message = await submitExpectingError(page, { mode: 'login', username, password: `wrong password ${attempt}` });
    assert.ok(message === 'Wrong username or password.' || message.startsWith('Too many attempts'), message);
  }
  assert.match(message, /^Too many attempts\. Try again (in \d+ seconds|in a moment)\.$/);
});
