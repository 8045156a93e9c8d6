// A first-time user who knows what to do next, and the safety code followed through (issue 15):
// - after making a key: a short "what now" card, the full report one click away, its table
//   headers never broken inside a word (1100 and 390 px);
// - a channel offer says what to compare, keeps "Accept and connect" in view at 1100×760, and
//   reads differently for a first contact and for a remembered one;
// - once connected: "Codes match: mark as verified" → a verified badge in the online list, the
//   conversation header and the status bar, kept over a reload; a later offer says so;
// - "Codes differ" → a warning → "End channel and report" ends the channel on both sides and
//   says what to do; the pin and the verification are gone;
// - the code's words are text (screen readers, no emoji font); axe finds no serious or critical
//   violation in these states; the French texts.
//
//   npm run build && node --test tests/e2e/first-contact.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser } from './helpers/browser.mjs';
import {
  registeredUser, createIdentityInApp, waitForOnline, requestChannelWith, waitForChannelState, unexpectedProblems,
} from './helpers/app-flows.mjs';
import { assertNoSeriousViolations } from '../helpers/axe.mjs';

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

/** Table headers whose text wraps onto more than one line (a word broken: "Usag e"). */
const brokenHeaders = (page) => page.evaluate(() => {
  const found = [];
  const visit = (root) => {
    for (const th of root.querySelectorAll('th')) {
      const range = document.createRange();
      range.selectNodeContents(th);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (th.getClientRects().length && lines.size > 1) found.push(th.textContent.trim());
    }
    for (const element of root.querySelectorAll('*')) if (element.shadowRoot) visit(element.shadowRoot);
  };
  visit(document);
  return found;
});

/** Whether `locator`'s element is wholly inside the viewport (no scrolling needed). */
const inViewport = (locator) => locator.evaluate((element) => {
  const rect = element.getBoundingClientRect();
  return rect.width > 0 && rect.top >= 0 && rect.left >= 0 && rect.bottom <= window.innerHeight && rect.right <= window.innerWidth;
});

/** Both users with keys; both see each other online. */
async function twoCertifiedUsers(t, prefix) {
  const alice = await registeredUser(t, browser, server.origin, `${prefix}a`);
  const bob = await registeredUser(t, browser, server.origin, `${prefix}b`);
  for (const user of [alice, bob]) {
    await user.app.setViewportSize({ width: 1100, height: 760 });
    user.fingerprint = await createIdentityInApp(user.app, { name: `${user.username} Example`, email: `${user.username}@example.org` });
  }
  await waitForOnline(alice.app, [alice.username, bob.username]);
  return { alice, bob };
}

/** Alice asks Bob for a channel; returns once both see the offer (their decision block). */
async function offer(alice, bob) {
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('offer-decision').waitFor();
  await bob.app.locator('[data-testid=channel-entry][data-state=verifying]').first().click();
  await bob.app.getByTestId('offer-decision').waitFor();
}

async function acceptBoth(alice, bob, { aliceRemembers = false } = {}) {
  if (aliceRemembers) await alice.app.getByTestId('remember-certificate').check();
  await alice.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await bob.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
}

test('key made → what now → first contact → codes match → verified badges, kept over a reload; a later offer says so', { timeout: 240_000 }, async (t) => {
  const { alice, bob } = await twoCertifiedUsers(t, 'fc');

  // The "what now" card, the report behind a disclosure.
  const whatNow = alice.app.getByTestId('what-now');
  await whatNow.waitFor();
  assert.match(await whatNow.textContent(), /What now\?/);
  assert.match(await whatNow.textContent(), /Secure channel/);
  assert.match(await whatNow.textContent(), /safety code/);
  assert.equal(await alice.app.getByTestId('what-now-step').count(), 3);
  assert.equal(await alice.app.locator('[data-testid=own-report] [data-testid=report-fingerprint]').isVisible(), false, 'the report is one click away, not on screen');
  assert.ok(await inViewport(whatNow), 'the card is in view at 1100×760');
  await assertNoSeriousViolations(alice.app, 'what-now card (1100 px)');
  await alice.app.getByTestId('own-report-toggle').click();
  await alice.app.locator('[data-testid=own-report] [data-testid=report-subkeys]').waitFor();
  assert.deepEqual(await brokenHeaders(alice.app), [], 'no header broken inside a word at 1100 px');
  await assertNoSeriousViolations(alice.app, 'own report open (1100 px)');
  await alice.app.setViewportSize({ width: 390, height: 800 });
  assert.deepEqual(await brokenHeaders(alice.app), [], 'no header broken inside a word at 390 px');
  await assertNoSeriousViolations(alice.app, 'own report open (390 px)');
  await alice.app.setViewportSize({ width: 1100, height: 760 });

  // First contact: what to compare; the decision in view.
  await offer(alice, bob);
  const aliceDecision = alice.app.getByTestId('offer-decision');
  assert.equal(await aliceDecision.getAttribute('data-contact'), 'first');
  assert.match(await alice.app.getByTestId('offer-first-contact').textContent(), /First contact/);
  assert.match(await aliceDecision.textContent(), /gave you another way/);
  assert.match(await aliceDecision.textContent(), /safety code/);
  assert.equal((await alice.app.getByTestId('offer-fingerprint').textContent()).replaceAll(/\s/g, ''), bob.fingerprint);
  const accept = alice.app.locator('[data-testid=channel-accept]:not([disabled])');
  await accept.waitFor();
  assert.ok(await inViewport(accept), '"Accept and connect" is in view at 1100×760');
  assert.equal(await alice.app.locator('[data-testid=peer-report] [data-testid=certificate-report]').isVisible(), false, 'the full report is collapsed');
  await assertNoSeriousViolations(alice.app, 'first-contact offer');

  await acceptBoth(alice, bob);

  // The code: words as text beside each emoji, the digits; the same on both sides.
  const words = await alice.app.getByTestId('sas-word').allTextContents();
  assert.equal(words.length, 7);
  assert.ok(words.every((word) => /^[a-z ]+$/.test(word.trim())), `words: ${words}`);
  assert.deepEqual(words, await bob.app.getByTestId('sas-word').allTextContents());
  assert.equal(await alice.app.locator('[data-testid=channel-sas-emoji] .glyph[aria-hidden=true]').count(), 7, 'the emoji glyphs are hidden from screen readers; the words are read');
  assert.equal(await alice.app.getByTestId('channel-sas').getAttribute('data-verified'), 'false');
  assert.match(await alice.app.getByTestId('sas-how').textContent(), /by voice or in person/);
  await assertNoSeriousViolations(alice.app, 'safety code to compare');

  // Codes match → verified: badges in the header, the status bar, the online list.
  await alice.app.getByTestId('sas-match').click();
  await alice.app.getByTestId('sas-verified').waitFor();
  assert.equal(await alice.app.getByTestId('channel-sas').getAttribute('data-verified'), 'true');
  const row = `[data-testid=online-user][data-username="${bob.username}"]`;
  for (const badge of ['channel-verified-badge', 'status-verified-badge']) await alice.app.getByTestId(badge).waitFor();
  await alice.app.locator(`${row} [data-testid=online-verified-badge]`).waitFor();
  assert.equal(await bob.app.getByTestId('channel-verified-badge').count(), 0, 'only the one who compared marks it');
  assert.equal(await alice.app.locator(`[data-testid=online-user][data-username="${alice.username}"] [data-testid=online-verified-badge]`).count(), 0);
  await assertNoSeriousViolations(alice.app, 'verified');

  // A reload keeps it (the pins' storage): the online list's badge is back.
  await alice.app.reload();
  await alice.app.getByTestId('app-shell').waitFor();
  await alice.app.locator(`${row} [data-testid=online-verified-badge]`).waitFor({ timeout: 20_000 });

  // The reload ended the channel; the Unlock/identity step comes back with a fresh key only
  // if it was not remembered: make one again, then a new offer reads as a verified contact.
  await bob.app.locator('[data-testid=channel-state][data-state=ended]').waitFor({ timeout: 20_000 });
  await createIdentityInApp(alice.app, { name: `${alice.username} Example`, email: `${alice.username}@example.org` });
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('offer-decision').waitFor();
  assert.equal(await alice.app.getByTestId('offer-decision').getAttribute('data-contact'), 'verified');
  assert.match(await alice.app.getByTestId('fingerprint-known').textContent(), /You verified .* before/);
  assert.equal(await alice.app.getByTestId('offer-first-contact').count(), 0);
  await assertNoSeriousViolations(alice.app, 'remembered (verified) contact offer');
  assert.deepEqual(unexpectedProblems([...alice.problems, ...bob.problems]), []);
});

test('a remembered contact reads differently from a first one; a changed certificate clears the verification', { timeout: 240_000 }, async (t) => {
  const { alice, bob } = await twoCertifiedUsers(t, 'fr');
  await offer(alice, bob);
  await acceptBoth(alice, bob, { aliceRemembers: true });
  await alice.app.getByTestId('channel-end').click();
  await waitForChannelState(bob.app, 'ended');

  await requestChannelWith(alice.app, bob.username);
  await alice.app.locator('[data-testid=offer-decision][data-contact=known]').waitFor();
  assert.match(await alice.app.getByTestId('fingerprint-known').textContent(), /You have talked before/);
  assert.equal(await alice.app.getByTestId('offer-first-contact').count(), 0);
  await bob.app.locator('[data-testid=channel-entry][data-state=verifying]').first().click();
  await acceptBoth(alice, bob);
  await alice.app.getByTestId('sas-match').click();
  await alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"] [data-testid=online-verified-badge]`).waitFor();

  // Bob makes a new key: his online row has a new fingerprint, so no badge; the offer warns.
  await bob.app.getByTestId('channel-end').click();
  await waitForChannelState(alice.app, 'ended');
  bob.app.once('dialog', (dialog) => dialog.accept());
  await bob.app.getByTestId('own-identity-entry').click();
  await bob.app.getByTestId('identity-forget').click();
  await createIdentityInApp(bob.app, { name: 'Bob New', email: 'bob@example.org' });
  const row = alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"]`);
  const deadline = Date.now() + 20_000;
  while (await row.getByTestId('online-verified-badge').count() > 0) {
    assert.ok(Date.now() < deadline, 'the badge stays after the certificate changed');
    await alice.app.waitForTimeout(100);
  }
  await requestChannelWith(alice.app, bob.username);
  await alice.app.locator('[data-testid=offer-decision][data-contact=changed]').waitFor();
  await alice.app.getByTestId('fingerprint-warning').waitFor();
  await alice.app.locator('[data-testid=channel-accept]:not([disabled])').click();   // "I verified it: trust the new certificate"
  await bob.app.locator('[data-testid=channel-entry][data-state=verifying]').first().click();
  await bob.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await waitForChannelState(alice.app, 'secure');
  assert.equal(await alice.app.getByTestId('channel-sas').getAttribute('data-verified'), 'false', 'a new pin is not the certificate compared');
  assert.equal(await alice.app.getByTestId('channel-verified-badge').count(), 0);
  assert.deepEqual(unexpectedProblems([...alice.problems, ...bob.problems]), []);
});

test('codes differ → warning → "End channel and report": the channel ends on both sides, the pin is forgotten, the user is told what to do', { timeout: 240_000 }, async (t) => {
  const { alice, bob } = await twoCertifiedUsers(t, 'fd');
  await offer(alice, bob);
  await acceptBoth(alice, bob, { aliceRemembers: true });

  await alice.app.getByTestId('sas-differ').click();
  const warning = alice.app.getByTestId('sas-differ-warning');
  await warning.waitFor();
  assert.equal(await warning.getAttribute('role'), 'alert');
  assert.match(await warning.textContent(), /someone may be in the middle/i);
  await assertNoSeriousViolations(alice.app, 'codes differ warning');
  // "Back" undoes a misclick; then the real report.
  await alice.app.getByTestId('sas-differ-back').click();
  await alice.app.getByTestId('sas-differ').click();
  await alice.app.getByTestId('sas-end-report').click();

  await waitForChannelState(alice.app, 'compromised');
  await waitForChannelState(bob.app, 'compromised');
  const mine = alice.app.getByTestId('sas-mismatch');
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-by'), 'you');
  assert.match(await mine.textContent(), /Contact .* another way/);
  const theirs = bob.app.getByTestId('sas-mismatch');
  await theirs.waitFor();
  assert.equal(await theirs.getAttribute('data-by'), 'peer');
  assert.equal(await bob.app.getByTestId('channel-teardown-reason').getAttribute('data-reason'), 'sas_mismatch');
  assert.equal(await alice.app.getByTestId('message-input').count(), 0, 'nothing more can be sent');
  await alice.app.locator('[data-testid=chat-system][data-key="verify.reported_line"]').waitFor();
  // The local report, and the pin forgotten: the next offer is a first contact again.
  const stored = await alice.app.evaluate((name) => ({
    reports: JSON.parse(localStorage.getItem(`secms.sas-reports.${name}`) ?? '[]'),
    pins: JSON.parse(localStorage.getItem(`secms.trust.${name}`) ?? '{}'),
  }), alice.username.toLowerCase());
  assert.equal(stored.reports.length, 1);
  assert.equal(stored.reports[0].username, bob.username.toLowerCase());
  assert.equal(stored.pins[bob.username.toLowerCase()], undefined);
  await assertNoSeriousViolations(alice.app, 'after the report');
  await assertNoSeriousViolations(bob.app, 'the peer after the report');

  await requestChannelWith(alice.app, bob.username);
  await alice.app.locator('[data-testid=offer-decision][data-contact=first]').waitFor();
  assert.deepEqual(unexpectedProblems([...alice.problems, ...bob.problems]), []);
});

test('French: the what-now card, the offer and the safety code words', { timeout: 240_000 }, async (t) => {
  const { alice, bob } = await twoCertifiedUsers(t, 'ff');
  for (const user of [alice, bob]) await user.app.getByTestId('language').selectOption('fr');
  await alice.app.locator('[data-testid=what-now]', { hasText: 'Et maintenant' }).waitFor();
  await assertNoSeriousViolations(alice.app, 'what-now card (fr)');
  await offer(alice, bob);
  assert.match(await alice.app.getByTestId('offer-first-contact').textContent(), /Premier contact/);
  await acceptBoth(alice, bob);
  const words = await alice.app.getByTestId('sas-word').allTextContents();
  assert.equal(words.length, 7);
  assert.deepEqual(words, await bob.app.getByTestId('sas-word').allTextContents());
  assert.match(await alice.app.getByTestId('sas-match').textContent(), /marquer comme vérifié/);
  await assertNoSeriousViolations(alice.app, 'safety code (fr)');
});
