// Keyboard focus after each main action and the announcement of an incoming channel request
// (issue 15, "Keyboard and screen readers" 1–3), in the real app with Chromium:
// - after signing in focus is on the identity step's first field; while the key is made it is on
//   the progress line (a status region), then on the user's identity heading;
// - "Secure channel" moves focus into the new conversation (its Accept button), Accept to the
//   waiting line, and the secure channel to the message input;
// - a request that comes in is said in the polite live region, badges the Chat tab (in its
//   accessible name) and the window title until seen;
// - the status bar's channel pill is a status region; its fingerprint and safety code open as text;
// - closing the password dialog returns focus to the account menu button; logging out puts the
//   landing page's focus on its first field; axe finds no serious/critical violation in these states.
//
//   npm run build && SECMS_SERVER_BIN=build/dev/server/app/secms-server node --test --test-concurrency=1 tests/e2e/focus-flow.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, violationsOf } from './helpers/browser.mjs';
import { registeredUser, createIdentityInApp, logOutFromApp, ownReportFingerprint, waitForChannelState } from './helpers/app-flows.mjs';
import { focusedElement, focusLog, recordFocus, waitForFocus } from './helpers/focus.mjs';
import { assertNoSeriousViolations } from '../helpers/axe.mjs';
import { until } from '../helpers/until.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ extraArgs: [...loopbackRateLimits] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const announcerText = (page) => page.getByTestId('announcer').evaluate((region) => region.textContent.trim());

test('focus follows sign-in, key creation and a secure channel; an incoming request is announced', { timeout: 180_000 }, async (t) => {
  const alice = await registeredUser(t, browser, server.origin, 'ffa');
  const bob = await registeredUser(t, browser, server.origin, 'ffb');

  // Signed in: the app window's focus is on the identity step's first field, not on <body>.
  for (const user of [alice, bob]) await waitForFocus(user.app, { id: 'identity-name' }, { what: 'the identity name field after sign-in' });

  // The key, made from the keyboard: focus waits on the progress line, then the identity heading.
  await recordFocus(alice.app);
  await alice.app.keyboard.type(`${alice.username} Example`);
  await alice.app.keyboard.press('Tab');
  await waitForFocus(alice.app, { id: 'identity-email' });
  await alice.app.locator('#identity-email').fill(`${alice.username}@example.org`);
  await alice.app.keyboard.press('Enter');
  await waitForFocus(alice.app, { testid: 'own-identity-heading' }, { timeoutMs: 30_000, what: 'the identity heading once the key exists' });
  // Focus rests on the progress line while the key is made, when that takes long enough for a
  // focus event to be seen (a fast machine may finish first): never on anything else between.
  // The log is polled by a timer the browser may throttle, so it can miss the short stay on the
  // e-mail field: "between" starts after the last form field it did see.
  const steps = await focusLog(alice.app);
  const lastField = steps.findLastIndex((step) => step.id === 'identity-name' || step.id === 'identity-email');
  assert.ok(lastField >= 0, `the log saw the form: ${JSON.stringify(steps)}`);
  const between = steps.slice(lastField + 1, -1);
  assert.ok(between.every((step) => step.testid === 'identity-busy' && /Creating your key pair/.test(step.text)),
    `focus went only through the progress line: ${JSON.stringify(steps)}`);
  assert.equal(steps.at(-1).testid, 'own-identity-heading');
  assert.equal(await alice.app.locator('[data-testid=identity-busy]').count(), 0);
  await ownReportFingerprint(alice.app);

  await createIdentityInApp(bob.app, { name: `${bob.username} Example`, email: `${bob.username}@example.org` });
  const baseTitle = await bob.app.title();
  assert.equal(baseTitle, 'Security.MS');
  // Bob is elsewhere (the VoIP tab) when the request comes.
  await bob.app.getByTestId('tab-voip').click();

  // "Secure channel" from the keyboard: focus goes into the new conversation, on Accept.
  const request = alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"] [data-testid=request-channel]:not([disabled])`);
  await request.waitFor({ timeout: 20_000 });
  await request.focus();
  await alice.app.keyboard.press('Enter');
  await waitForFocus(alice.app, (element) => element?.testid === 'channel-accept' && !element.disabled, { what: 'Accept and connect' });

  // Bob hears it, sees a badge in the Chat tab's name, and a count in the title.
  await until(() => announcerText(bob.app), (text) => text === `${alice.username} wants a secure channel`, 'live region');
  assert.equal(await bob.app.getByTestId('announcer').getAttribute('role'), 'status');
  await bob.app.getByRole('tab', { name: /^Chat\b.*secure channel requests: 1$/ }).waitFor();
  await until(() => bob.app.title(), (title) => title === '(1) Security.MS', 'title while unseen');
  assert.deepEqual(await focusedElement(bob.app).then((element) => element?.testid), 'tab-voip', 'the request does not take focus');
  await assertNoSeriousViolations(bob.app, 'incoming request badge');

  // Seen: the Chat tab shows it; badge and title count go.
  await bob.app.getByTestId('tab-chat').click();
  await bob.app.getByTestId('peer-report').waitFor();
  await until(() => bob.app.title(), (title) => title === 'Security.MS', 'title once seen');
  assert.equal(await bob.app.getByTestId('chat-requests').count(), 0);
  assert.equal(await bob.app.getByRole('tab', { name: /^Chat$/ }).count(), 1);

  // Alice accepts with Enter: focus on the waiting line, then on the message input once secure.
  await alice.app.keyboard.press('Enter');
  await waitForFocus(alice.app, { testid: 'channel-waiting' }, { what: 'the waiting line after Accept' });
  await bob.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  await waitForFocus(alice.app, { testid: 'message-input' }, { what: 'the message input (requester)' });
  await waitForFocus(bob.app, { testid: 'message-input' }, { what: 'the message input (accepter)' });

  // The status-bar pill: a status region; fingerprint and safety code as text behind a button.
  const pill = alice.app.getByTestId('channel-status');
  assert.equal(await pill.getAttribute('role'), 'status');
  assert.match(await pill.textContent(), /Secure channel:\s*Secure/);
  const toggle = alice.app.getByTestId('status-channel-details-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await alice.app.getByTestId('status-channel-details').isVisible(), false);
  await toggle.focus();
  await alice.app.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const details = alice.app.getByTestId('status-channel-details');
  await details.waitFor({ state: 'visible' });
  const decimal = (await alice.app.getByTestId('channel-sas-decimal').textContent()).trim();
  assert.ok((await alice.app.getByTestId('status-channel-sas-text').textContent()).includes(decimal), 'the safety code digits as text');
  const fingerprintText = (await alice.app.getByTestId('status-channel-fingerprint').textContent()).replace(/\s/g, '');
  assert.match(fingerprintText, /^[0-9A-F]{40}$/i);
  assert.ok((await pill.getAttribute('title')).replaceAll(' ', '').includes(fingerprintText), 'the same fingerprint as the hover title');
  await assertNoSeriousViolations(alice.app, 'secure channel, details open');
  await alice.app.keyboard.press('Escape');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await waitForFocus(alice.app, { testid: 'status-channel-details-toggle' }, { what: 'the details button after Escape' });

  for (const user of [alice, bob]) assert.deepEqual(await violationsOf(user.app), []);
});

test('closing the password dialog returns focus to the menu button; logging out focuses the landing page form', { timeout: 120_000 }, async (t) => {
  const carol = await registeredUser(t, browser, server.origin, 'ffc');
  await waitForFocus(carol.app, { id: 'identity-name' });

  const trigger = carol.app.getByTestId('account-menu');
  await trigger.focus();
  await carol.app.keyboard.press('Enter');
  await waitForFocus(carol.app, (element) => element?.role === 'menuitem' || element?.role === 'menuitemradio', { what: 'the first menu item' });
  await carol.app.getByTestId('menu-change-password').focus();
  await carol.app.keyboard.press('Enter');
  await waitForFocus(carol.app, (element) => element?.id === 'current-password', { what: 'the dialog\'s first field' }).catch(() => {});
  assert.equal(await carol.app.locator('#password-dialog').evaluate((dialog) => dialog.open), true);
  await carol.app.keyboard.press('Escape');
  await waitForFocus(carol.app, { testid: 'account-menu' }, { what: 'the account menu button after Escape' });

  // Cancel too.
  await carol.app.keyboard.press('Enter');
  await carol.app.getByTestId('menu-change-password').focus();
  await carol.app.keyboard.press('Enter');
  await carol.app.locator('#password-dialog').getByRole('button', { name: 'Cancel' }).click();
  await waitForFocus(carol.app, { testid: 'account-menu' }, { what: 'the account menu button after Cancel' });

  // Logging out closes the app window; the landing page's focus is on its first field.
  await logOutFromApp(carol.app);
  await waitForFocus(carol.landing, { id: 'username' }, { what: 'the landing page\'s username field after logout' });
  await assertNoSeriousViolations(carol.landing, 'landing after logout');
});
