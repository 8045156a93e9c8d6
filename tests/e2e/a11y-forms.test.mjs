// Forms, counters, skip link and narrow screens for keyboard and screen-reader users (issue 15,
// "Keyboard and screen readers" 4 to 9, best practice, 320 px):
// - a form error is tied to its field (aria-invalid, aria-describedby to a text naming the field)
//   and focus goes to the first invalid field: landing page, password dialog, room form;
// - account-menu items show the focus token (≥ 3:1 against the menu);
// - the message counter is heard as "0 of 1040 characters", the input's error is its description;
// - a skip link is the app window's first stop and moves focus to the conversation;
// - a "Secure channel" button that cannot be used stays focusable and says why (visible text);
// - one <h1>, the status bar a landmark, no <form role="tabpanel">, the landing card not live;
// - at 320 px neither page scrolls sideways, and axe finds no serious or critical violation.
//
//   npm run build && node --test tests/e2e/a11y-forms.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, newContext } from './helpers/browser.mjs';
import {
  registeredUser, openLanding, createIdentityInApp, waitForOnline, joinRoom, uniqueName, strongPassword, registerAndOpenApp,
} from './helpers/app-flows.mjs';
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

/**
 * The focused element, followed through shadow roots: { id, testid, tag, text }, plus the
 * field's accessibility facts (aria-invalid, the text of its aria-describedby targets, without
 * aria-hidden parts, as the accessible description is computed).
 */
const focusedField = (page) => page.evaluate(() => {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  if (!active) return null;
  const root = active.getRootNode();
  const visibleText = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE || node.getAttribute('aria-hidden') === 'true') return '';
    return [...node.childNodes].map(visibleText).join('');
  };
  const description = (active.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)
    .map((id) => root.getElementById(id)).filter(Boolean).map((node) => visibleText(node).trim()).join(' ');
  return {
    id: active.id, testid: active.dataset.testid ?? null, tag: active.localName, text: active.textContent.trim(),
    invalid: active.getAttribute('aria-invalid'), description,
  };
});

/** The same facts for the element matched by `selector` in the shadow root of `host`. */
const fieldFacts = (page, hostSelector, selector) => page.evaluate(([hostSelector, selector]) => {
  const find = (root) => {
    for (const node of root.querySelectorAll('*')) {
      if (node.matches(hostSelector) && node.shadowRoot?.querySelector(selector)) return node.shadowRoot.querySelector(selector);
      const inner = node.shadowRoot && find(node.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  const field = find(document);
  if (!field) return null;
  const root = field.getRootNode();
  const visibleText = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE || node.getAttribute('aria-hidden') === 'true') return '';
    return [...node.childNodes].map(visibleText).join('');
  };
  const description = (field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)
    .map((id) => root.getElementById(id)).filter(Boolean).map((node) => visibleText(node).trim()).join(' ');
  return { invalid: field.getAttribute('aria-invalid'), description, disabled: field.disabled, ariaDisabled: field.getAttribute('aria-disabled') };
}, [hostSelector, selector]);

async function landingPage(t, viewport) {
  const entry = await newContext(browser, viewport ? { viewport } : {});
  t.after(() => entry.context.close().catch(() => {}));
  const page = await entry.context.newPage();
  await openLanding(page, server.origin);
  return page;
}

test('landing page: each empty field says what to enter, is invalid and described by its error; focus goes to the first', { timeout: 60_000 }, async (t) => {
  const page = await landingPage(t);
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByTestId('submit').click();
  let focused = await until(() => focusedField(page), (value) => value?.id === 'username', 'focus on the username field');
  assert.equal(focused.invalid, 'true');
  assert.match(focused.description, /^Enter your username\. 3 to 32 characters/);
  assert.deepEqual(await page.locator('[data-testid=error][data-field]').evaluateAll((nodes) => nodes.map((node) => [node.dataset.field, node.textContent.trim()])),
    [['username', 'Enter your username.'], ['password', 'Enter your password.'], ['repeat', 'Repeat your password.']]);
  assert.equal(await page.getByText('Fill in every field.').count(), 0);

  // Only the password missing: focus goes there (not to the first field).
  await page.locator('#username').fill(uniqueName('formy'));
  await page.getByTestId('submit').click();
  focused = await until(() => focusedField(page), (value) => value?.id === 'password', 'focus on the password field');
  assert.equal(focused.invalid, 'true');
  assert.match(focused.description, /^Enter your password\./);
  assert.equal((await fieldFacts(page, 'secms-landing-page', '#username')).invalid, null, 'a filled field is not invalid');

  // The two passwords differ: the repeat field.
  await page.locator('#password').fill(strongPassword);
  await page.locator('#repeat').fill(`${strongPassword}!`);
  await page.getByTestId('submit').click();
  focused = await until(() => focusedField(page), (value) => value?.id === 'repeat', 'focus on the repeat field');
  assert.equal(focused.invalid, 'true');
  assert.equal(focused.description, 'The two passwords differ.');

  // A server error about one field (the name is taken) is said under that field.
  const taken = uniqueName('taken');
  const other = await landingPage(t);
  await registerAndOpenApp(other, { username: taken });
  await page.locator('#username').fill(taken);
  await page.locator('#password').fill(strongPassword);
  await page.locator('#repeat').fill(strongPassword);
  await page.getByTestId('submit').click();
  focused = await until(() => focusedField(page), (value) => value?.id === 'username' && value.invalid === 'true', 'focus on the taken username');
  assert.match(focused.description, /^This username is already taken\./);

  // Wrong credentials are about the form, not one field: an alert, the form described by it,
  // and focus on the (cleared) password to type again.
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.locator('#username').fill(taken);
  await page.locator('#password').fill('not the password at all');
  await page.getByTestId('submit').click();
  await until(() => focusedField(page), (value) => value?.id === 'password', 'focus on the password after wrong credentials');
  assert.equal(await page.locator('[role=alert][data-testid=error]').textContent(), 'Wrong username or password.');
  assert.equal((await fieldFacts(page, 'secms-landing-page', 'form')).description, 'Wrong username or password.');
});

test('landing page: no <form role=tabpanel>, the card is not a live region, notices go to a status region', { timeout: 60_000 }, async (t) => {
  const page = await landingPage(t);
  const facts = await page.evaluate(() => {
    const root = document.querySelector('secms-landing-page').shadowRoot;
    const panel = root.querySelector('[role=tabpanel]');
    return {
      formRole: root.querySelector('form').getAttribute('role'),
      panelHoldsForm: Boolean(panel?.querySelector('form')),
      tabsControl: [...root.querySelectorAll('[role=tab]')].map((tab) => tab.getAttribute('aria-controls') === panel?.id),
      live: [...root.querySelectorAll('[aria-live]')].map((node) => node.localName),
      status: root.querySelectorAll('[role=status]').length,
    };
  });
  assert.deepEqual(facts, { formRole: null, panelHoldsForm: true, tabsControl: [true, true], live: [], status: 1 });
});

test('app window: skip link first, one <h1>, the status bar a landmark; the password dialog ties its errors; menu items show the focus token', { timeout: 90_000 }, async (t) => {
  const alice = await registeredUser(t, browser, server.origin, 'fsa');
  const app = alice.app;
  await app.getByTestId('app-shell').waitFor();
  const structure = await app.evaluate(() => {
    const all = [];
    const walk = (root) => { for (const node of root.querySelectorAll('*')) { all.push(node); if (node.shadowRoot) walk(node.shadowRoot); } };
    walk(document);
    return {
      h1: all.filter((node) => node.localName === 'h1').map((node) => node.textContent.trim()),
      banner: all.filter((node) => node.getAttribute('role') === 'banner').map((node) => node.dataset.testid),
      formTabpanels: all.filter((node) => node.localName === 'form' && node.getAttribute('role') === 'tabpanel').length,
    };
  });
  assert.deepEqual(structure, { h1: ['Security.MS'], banner: ['status-bar'], formTabpanels: 0 });

  // From the top of the window (focus on nothing), the first Tab reaches the skip link, which is
  // then on screen. The window puts focus back on its first field when it finds focus lost (and it
  // may re-render between the blur and the Tab): so blur and Tab until nothing took focus between.
  await app.bringToFront();
  const skip = await until(async () => {
    await app.evaluate(() => {
      let active = document.activeElement;
      while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
      active?.blur();
    });
    await app.keyboard.press('Tab');
    return focusedField(app);
  }, (value) => value?.testid === 'skip-link', 'focus on the skip link after a Tab from the top');
  assert.equal(skip.text, 'Skip to conversation');
  const box = await app.getByTestId('skip-link').boundingBox();
  assert.ok(box && box.y >= 0 && box.x >= 0 && box.width > 20, `the focused skip link is on screen: ${JSON.stringify(box)}`);
  // No conversation yet: to the main content.
  await app.keyboard.press('Enter');
  await until(() => focusedField(app), (value) => value?.tag === 'main', 'focus on the main content');

  // Account menu: a focused item has the focus token's outline, ≥ 3:1 against the menu.
  await app.getByTestId('account-menu').focus();
  await app.keyboard.press('ArrowDown');
  const ring = await until(() => app.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    if (!active?.getAttribute('role')?.startsWith('menuitem')) return null;
    const style = getComputedStyle(active);
    const menu = getComputedStyle(active.closest('[role=menu]'));
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor, background: menu.backgroundColor };
  }), Boolean, 'a focused menu item');
  assert.equal(ring.style, 'solid');
  assert.ok(ring.width >= 2, `outline width ${ring.width}`);
  assert.ok(contrast(ring.color, ring.background) >= 3, `focus ring ${ring.color} on ${ring.background}: ${contrast(ring.color, ring.background).toFixed(2)}:1`);

  // The password dialog: every empty field says what to enter; focus on the first.
  await app.keyboard.press('Escape');
  await app.getByTestId('account-menu').click();
  await app.getByTestId('menu-change-password').click();
  await app.getByTestId('change-password-submit').click();
  let focused = await until(() => focusedField(app), (value) => value?.id === 'current-password', 'focus on the current password');
  assert.equal(focused.invalid, 'true');
  assert.equal(focused.description, 'Enter your current password.');
  assert.equal((await fieldFacts(app, 'secms-account-menu', '#new-password')).description, 'Enter a new password. At least 10 characters. A passphrase of several words is best.');
  // A wrong current password is said under that field.
  await app.locator('#current-password').fill('not my password at all');
  await app.locator('#new-password').fill('a much longer new passphrase');
  await app.locator('#repeat-password').fill('a much longer new passphrase');
  await app.getByTestId('change-password-submit').click();
  focused = await until(() => focusedField(app), (value) => value?.id === 'current-password' && value.invalid === 'true' && value.description !== 'Enter your current password.', 'the wrong current password');
  assert.equal(focused.description, 'Wrong username or password.');
});

test('room form, message counter and input error, skip link to the conversation, disabled "Secure channel" reason', { timeout: 120_000 }, async (t) => {
  const alice = await registeredUser(t, browser, server.origin, 'fra');
  const bob = await registeredUser(t, browser, server.origin, 'frb');
  await createIdentityInApp(bob.app, { name: 'Bob Example', email: `${bob.username}@example.org` });
  await waitForOnline(alice.app, [alice.username, bob.username]);

  // Alice has no certificate: Bob's "Secure channel" stays focusable and says why, visibly.
  const button = alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"] [data-testid=request-channel]`);
  await button.waitFor({ timeout: 20_000 });
  const facts = await until(() => fieldFacts(alice.app, 'secms-online-users', '[data-testid=request-channel]'), (value) => value?.ariaDisabled === 'true', 'aria-disabled Secure channel');
  assert.equal(facts.disabled, false, 'not disabled: keyboard users reach it');
  assert.equal(facts.description, 'Your own certificate must be verified first');
  assert.ok(await alice.app.getByTestId('request-channel-reason').isVisible(), 'the reason is visible text');
  await button.focus();
  assert.equal((await focusedField(alice.app)).testid, 'request-channel');
  await alice.app.keyboard.press('Enter');
  assert.equal(await alice.app.getByTestId('channel-entry').count(), 0, 'pressing it asks for nothing');

  // The key form: a missing name is said under that field, which takes focus.
  await alice.app.getByTestId('identity-mode-create').click();
  await alice.app.locator('#identity-name').fill('');
  await alice.app.getByTestId('identity-create-submit').click();
  const nameField = await until(() => focusedField(alice.app), (value) => value?.id === 'identity-name', 'focus on the key owner name');
  assert.equal(nameField.invalid, 'true');
  assert.equal(nameField.description, 'Enter your name.');

  // Alice makes her key; the room form (the Chat tab's list) then shows.
  await createIdentityInApp(alice.app, { name: 'Alice Example', email: `${alice.username}@example.org` });
  await alice.app.getByTestId('room-join').click();
  const focused = await until(() => focusedField(alice.app), (value) => value?.testid === 'room-join-name', 'focus on the room name');
  assert.equal(focused.invalid, 'true');
  assert.equal(focused.description, 'Enter a room name.');

  // In a room: the counter is heard as "n of max characters"; an error becomes the input's description.
  await joinRoom(alice.app, `forms${Date.now().toString(36)}`);
  let input = await until(() => fieldFacts(alice.app, 'secms-chat-compose', '[data-testid=message-input]'), Boolean, 'the message input');
  assert.equal(input.description, '0 of 1040 characters');
  assert.equal(await alice.app.getByTestId('message-counter').textContent(), '0/1040', 'seen as before');
  await alice.app.getByTestId('message-input').fill('hello');
  input = await until(() => fieldFacts(alice.app, 'secms-chat-compose', '[data-testid=message-input]'), (value) => value.description === '5 of 1040 characters', 'the counter after typing');
  assert.equal(input.invalid, null);
  await alice.app.getByTestId('message-input').fill('/frobnicate');
  await alice.app.getByTestId('message-send').click();
  input = await until(() => fieldFacts(alice.app, 'secms-chat-compose', '[data-testid=message-input]'), (value) => value.invalid === 'true', 'the input error');
  assert.match(input.description, /^There is no command \/frobnicate.* 11 of 1040 characters$/);

  // The skip link now goes to the conversation's input.
  await alice.app.getByTestId('skip-link').focus();
  await alice.app.keyboard.press('Enter');
  await until(() => focusedField(alice.app), (value) => value?.testid === 'message-input', 'focus on the conversation input');
});

test('320 px wide: no sideways scroll on the landing page and the app window, and axe finds no serious or critical violation', { timeout: 90_000 }, async (t) => {
  const viewport = { width: 320, height: 640 };
  const page = await landingPage(t, viewport);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(await overflow(), 0, 'landing page (log in)');
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByTestId('submit').click();
  await page.locator('[data-testid=error][data-field=username]').waitFor();
  assert.equal(await overflow(), 0, 'landing page (register, with errors)');
  await assertNoSeriousViolations(page, 'landing page at 320 px');

  const popup = page.waitForEvent('popup');
  await page.locator('#username').fill(uniqueName('narrow'));
  await page.locator('#password').fill(strongPassword);
  await page.locator('#repeat').fill(strongPassword);
  await page.getByTestId('submit').click();
  const app = await popup;
  await app.setViewportSize(viewport);
  await app.getByTestId('app-shell').waitFor();
  await app.locator('[data-testid=online-user][data-self=true]').waitFor();
  const appOverflow = await until(() => app.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), (value) => value === 0, 'app window sideways overflow', 5_000);
  assert.equal(appOverflow, 0);
  await assertNoSeriousViolations(app, 'app window at 320 px');
});

/** WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored: both are opaque here). */
function contrast(first, second) {
  const luminance = (color) => {
    const [r, g, b] = color.match(/[\d.]+/g).slice(0, 3).map(Number).map((value) => {
      const channel = value / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(first), luminance(second)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}
