// The page trusts no server text, in real Chromium against the real server, with the
// server→page leg of the WebSocket rewritten in the browser (Playwright's routeWebSocket: the
// page keeps its own origin, so the login and the certificate proof stay genuine):
//  - a channel offer whose report names someone else than its certificate is refused (the panel
//    shows the certificate's own user ID, a blocking error, and no Accept);
//  - a WebSocket error carrying a long "paste your private key" text shows the code only;
//  - a logout whose DELETE fails says "still logged in", and the app window stops and wipes;
//  - an injected script cannot create a "default" Trusted Types policy;
//  - the stored key refuses a weak passphrase, with a strength meter.
//
//   npm run build && node --test tests/e2e/untrusted-server.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { violationsOf } from './helpers/browser.mjs';
import {
  createIdentityInApp, requestChannelWith, registeredUser, storageOf, unexpectedProblems,
} from './helpers/app-flows.mjs';

const suite = await useAppServer({ extraArgs: [...loopbackRateLimits] });
const { skip } = suite;

// Aborted requests (the logout tests) are logged by the browser; nothing else may be.
const unexpected = (problems) => unexpectedProblems(problems).filter((text) => !/net::ERR_FAILED/.test(text));

/**
 * A registered user, the app window open (and a key pair unless identity is false). Every text
 * message from the server to this user's pages passes through `entry.tamper(json)` when set:
 * it returns undefined (unchanged) or the list of texts to deliver instead.
 */
async function user(t, prefix, { identity = true } = {}) {
  const hooks = { tamper: null, tampered: 0 };
  let routed = null;
  const onPage = (page) => {
    routed ??= page.context().routeWebSocket(/\/ws$/, (socket) => {
      const server = socket.connectToServer();
      server.onMessage((message) => {
        const replaced = typeof message === 'string' && hooks.tamper ? hooks.tamper(JSON.parse(message)) : undefined;
        if (replaced) hooks.tampered += 1;
        for (const out of replaced ?? [message]) socket.send(out);
      });
    });
  };
  const entry = await registeredUser(t, suite.browser, suite.server.origin, prefix, { onPage });
  await routed;
  if (identity) await createIdentityInApp(entry.app, { name: `${prefix} Example`, email: `${prefix}@example.org` });
  return Object.assign(entry, { hooks });
}

// The 467-character text of the issue, in the page's voice.
const hostileText = ('Security notice: your key could not be verified. To keep your conversations safe, paste your private key '
  + 'into Import at https://keys.bank-secure.example/import and enter your passphrase there within 10 minutes, otherwise '
  + 'your account and all your messages will be deleted permanently. This is an automated message from the Security.MS '
  + 'administrators; do not reply. Ref: ').padEnd(467, 'X');

test('a report rewritten to name "Carol Jones" is refused: the certificate\'s own user ID is shown, no Accept', { skip, timeout: 90_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  bob.hooks.tamper = (message) => {
    if (message.type !== 'channel_offer') return undefined;
    message.certificate.name = 'Carol Jones';
    message.certificate.email = 'carol@bank.example';
    return [JSON.stringify(message)];
  };
  await requestChannelWith(alice.app, bob.username);

  // Positive control: Alice's offer was not touched; its facts agree and Accept is enabled.
  const alicePanel = alice.app.locator('[data-testid=peer-report] [data-testid=certificate-report]');
  // An agreeing report is behind the offer's disclosure; a refused one opens by itself (below).
  await alice.app.getByTestId('peer-report-toggle').click();
  await alice.app.locator('[data-testid=peer-report] [data-testid=certificate-report][data-check=agrees]').waitFor({ timeout: 15_000 });
  assert.equal((await alicePanel.getByTestId('report-name').textContent()).trim(), 'bob Example');
  assert.equal(await alice.app.getByTestId('channel-accept').isEnabled(), true);
  assert.ok(await alice.app.getByTestId('report-server-only').isVisible(), 'server-only facts are labelled');

  const bobPanel = bob.app.locator('[data-testid=peer-report] [data-testid=certificate-report]');
  await bob.app.locator('[data-testid=peer-report] [data-testid=certificate-report][data-check=disagrees]').waitFor({ timeout: 15_000 });
  assert.equal(bob.hooks.tampered, 1, 'the offer was rewritten');
  assert.equal((await bobPanel.getByTestId('report-name').textContent()).trim(), 'alice Example', 'the certificate\'s own user ID');
  assert.equal((await bobPanel.getByTestId('report-email').textContent()).trim(), 'alice@example.org');
  const mismatch = bobPanel.getByTestId('report-mismatch');
  assert.ok(await mismatch.isVisible());
  assert.equal(await mismatch.getAttribute('role'), 'alert');
  assert.equal(await mismatch.locator('[data-problem=user_id]').count(), 1);
  assert.match(await bobPanel.getByTestId('report-claimed').textContent(), /Carol Jones/);
  assert.doesNotMatch(await bobPanel.locator('header').textContent(), /successfully verified/);
  assert.equal(await bob.app.getByTestId('channel-accept').count(), 0, 'no Accept');
  // "Carol Jones" appears only as the server's claim, never as the name shown.
  assert.equal(await bob.app.getByText('Carol Jones', { exact: false }).count(), 1);

  await bob.app.getByTestId('channel-reject').click();
  await bob.app.locator('[data-testid=channel-state][data-state=ended]').waitFor({ timeout: 10_000 });
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), []);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});

test('a WebSocket error with a 467-character "paste your private key" text shows its code only', { skip, timeout: 60_000 }, async (t) => {
  const carol = await user(t, 'carol');
  // The server's answer to Carol's join is followed by an injected error (no
  // question is open then, so it reaches the page as an unsolicited notice).
  carol.hooks.tamper = (message) => (message.type === 'room_joined' && carol.hooks.tampered === 0
    ? [JSON.stringify(message), JSON.stringify({ type: 'error', error: { code: 'paste_your_key_now', message: hostileText } })]
    : undefined);
  await carol.app.getByTestId('room-join-name').fill('lobby');
  await carol.app.getByTestId('room-join').click();
  const notice = carol.app.getByTestId('channel-notice');
  await notice.waitFor({ timeout: 10_000 });
  assert.equal(carol.hooks.tampered, 1);
  assert.equal((await notice.textContent()).replace(/✕/g, '').trim(), 'The server reported an error (paste_your_key_now).');
  assert.equal(await carol.app.getByText('paste your private key', { exact: false }).count(), 0);
  assert.equal(await carol.app.getByText('bank-secure', { exact: false }).count(), 0);
  assert.deepEqual(unexpected(carol.problems), []);
});

test('logout from the start page with the DELETE aborted: "still logged in" + retry; the app window stops and wipes', { skip, timeout: 90_000 }, async (t) => {
  const dave = await user(t, 'dave');
  assert.equal(await dave.app.evaluate(() => document.documentElement.dataset.cryptoWorker), 'ready');
  await dave.context.route('**/api/v1/session', (route) => (route.request().method() === 'DELETE' ? route.abort() : route.continue()));

  await dave.landing.getByTestId('landing-logout').click();
  const error = dave.landing.getByTestId('error');
  await error.waitFor({ timeout: 10_000 });
  assert.match(await error.textContent(), /Logging out failed: you are still logged in/);
  assert.equal(await dave.landing.getByTestId('notice').count(), 0, 'no "logged out" notice');
  assert.doesNotMatch(await dave.landing.locator('body').innerText(), /logged out|wiped/i);
  // The session really lives: the claim is true.
  assert.equal(await dave.landing.evaluate(async () => (await fetch('/api/v1/me', { credentials: 'same-origin' })).status), 200);

  // The app window heard it: its Worker (the unlocked key) and socket are stopped, its data wiped.
  await dave.app.getByTestId('logout-failed').waitFor({ timeout: 10_000 });
  assert.equal(await dave.app.evaluate(() => document.documentElement.dataset.cryptoWorker), 'stopped');
  assert.match(await dave.app.getByTestId('logout-failed-reason').textContent(), /still logged in/);
  assert.equal(await dave.app.getByTestId('app-shell').count(), 0);
  assert.deepEqual(await storageOf(dave.landing), { localStorage: 0, sessionStorage: 0, indexedDB: [] });

  // Retry once the network is back: now it is a real logout.
  await dave.context.unroute('**/api/v1/session');
  await dave.landing.getByTestId('landing-logout').click();
  await dave.landing.getByTestId('notice').waitFor({ timeout: 10_000 });
  assert.match(await dave.landing.getByTestId('notice').textContent(), /logged out/i);
  assert.equal(await dave.landing.evaluate(async () => (await fetch('/api/v1/me', { credentials: 'same-origin' })).status), 401);
  assert.deepEqual(unexpected(dave.problems), []);
});

test('logout from the app window with the DELETE aborted: the window says so and stops; retry ends the session', { skip, timeout: 90_000 }, async (t) => {
  const erin = await user(t, 'erin');
  await erin.context.route('**/api/v1/session', (route) => (route.request().method() === 'DELETE' ? route.abort() : route.continue()));
  await erin.app.getByTestId('account-menu').click();
  await erin.app.getByTestId('menu-logout').click();
  await erin.app.getByTestId('logout-failed').waitFor({ timeout: 10_000 });
  assert.match(await erin.app.getByTestId('logout-failed-reason').textContent(), /still logged in/);
  assert.equal(await erin.app.evaluate(() => document.documentElement.dataset.cryptoWorker), 'stopped');
  // The start page says it too, and never "logged out".
  await erin.landing.getByTestId('error').waitFor({ timeout: 10_000 });
  assert.match(await erin.landing.getByTestId('error').textContent(), /still logged in/);

  await erin.context.unroute('**/api/v1/session');
  const closed = erin.app.waitForEvent('close');
  await erin.app.getByTestId('logout-retry').click();
  await closed;
  await erin.landing.getByTestId('notice').waitFor({ timeout: 10_000 });
  assert.equal(await erin.landing.evaluate(async () => (await fetch('/api/v1/me', { credentials: 'same-origin' })).status), 401);
  assert.deepEqual(unexpected(erin.problems), []);
});

test('Trusted Types: only the named policies; a script cannot create a "default" policy or a second lit-html one', { skip, timeout: 60_000 }, async (t) => {
  const frank = await user(t, 'frank', { identity: false });
  const attempts = await frank.app.evaluate(() => ['default', 'lit-html', 'secms-crypto-worker', 'attacker'].map((name) => {
    try {
      trustedTypes.createPolicy(name, { createHTML: (s) => s });
      return `${name}: created`;
    } catch (error) {
      return `${name}: ${error.name}`;
    }
  }));
  assert.deepEqual(attempts, ['default: TypeError', 'lit-html: TypeError', 'secms-crypto-worker: TypeError', 'attacker: TypeError']);
  // The app itself made its policies (the shell rendered, the Worker started).
  await frank.app.waitForFunction(() => document.documentElement.dataset.cryptoWorker === 'ready', null, { timeout: 10_000 });
  // The refusals are reported as violations of the trusted-types directive, and nothing else is.
  const violations = await violationsOf(frank.app);
  assert.ok(violations.length >= 1 && violations.every((v) => v.startsWith('trusted-types')), violations.join('\n'));
});

test('remembering a key refuses a weak passphrase; the meter says why', { skip, timeout: 60_000 }, async (t) => {
  const gail = await user(t, 'gail', { identity: false });
  await gail.app.getByTestId('identity-mode-create').click();
  await gail.app.locator('#identity-name').fill('Gail Example');
  await gail.app.locator('#identity-email').fill('gail@example.org');
  await gail.app.locator('#identity-passphrase').fill('password1');
  const meter = gail.app.getByTestId('passphrase-strength');
  await meter.waitFor();
  assert.equal(await meter.getAttribute('data-acceptable'), 'false');
  assert.match(await meter.textContent(), /common password/);
  assert.equal(await gail.app.locator('#identity-passphrase-meter').getAttribute('aria-label'), 'Passphrase strength');
  await gail.app.getByTestId('identity-remember').check();
  await gail.app.getByTestId('identity-create-submit').click();
  assert.match(await gail.app.getByTestId('identity-error').textContent(), /too weak/);
  assert.equal(await gail.app.locator('[data-testid=own-report]').count(), 0, 'no key was made');
  // A strong one is accepted and the key is remembered.
  await gail.app.locator('#identity-passphrase').fill('seven quiet lanterns over the harbour');
  assert.equal(await meter.getAttribute('data-acceptable'), 'true');
  await gail.app.getByTestId('identity-create-submit').click();
  await gail.app.locator('[data-testid=own-report] [data-testid=report-fingerprint]').waitFor({ state: 'attached', timeout: 30_000 });
  assert.deepEqual(unexpected(gail.problems), []);
});
