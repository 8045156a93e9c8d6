// End-to-end tests of OpenPGP identities and the secure channel, in two Chromium contexts
// against the real server: keys created and imported in the UI, certificate submission and
// proof, the verified report, channel offer/accept, the handshake in the Workers, SAS,
// messages both ways, ending, and the warning when a remembered fingerprint changes.
//
//   npm run build && node --test tests/e2e/secure-channel.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { newContext, violationsOf } from './helpers/browser.mjs';
import {
  openLanding, registerAndOpenApp, uniqueName, createIdentityInApp, ownReportFingerprint, requestChannelWith,
  waitForChannelState, sendChannelMessage, waitForPeerMessage, unexpectedProblems, registeredUser
} from './helpers/app-flows.mjs';

const suite = await useAppServer({ extraArgs: [...loopbackRateLimits] });
const { skip } = suite;

const unexpected = unexpectedProblems;

/** A registered user with the app window open, in a fresh context closed after the test. */
const user = (t, prefix) => registeredUser(t, suite.browser, suite.server.origin, prefix);

async function openSecureChannel(alice, bob, { aliceRemembers = false } = {}) {
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('peer-report').waitFor();
  if (aliceRemembers) await alice.app.getByTestId('remember-certificate').check();
  await alice.app.getByTestId('channel-accept').click();
  await bob.app.getByTestId('peer-report').waitFor();
  await bob.app.getByTestId('channel-accept').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
}

test('two users create keys, open a secure channel, compare the SAS, exchange messages and end it', { skip, timeout: 90_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');

  const aliceFingerprint = await createIdentityInApp(alice.app, { name: 'Alice Example', email: 'alice@example.org' });
  const bobFingerprint = await createIdentityInApp(bob.app, { name: 'Bob Example', email: 'bob@example.org' });
  assert.match(aliceFingerprint, /^[0-9A-F]{40}$/);
  assert.notEqual(aliceFingerprint, bobFingerprint);
  // The own report panel: the verified heading, name, email, grouped fingerprint.
  assert.match(await alice.app.locator('[data-testid=own-report] header').textContent(), /PGP Certificate has been successfully verified/);
  assert.equal((await alice.app.getByTestId('report-name').textContent()).trim(), 'Alice Example');
  assert.equal((await alice.app.getByTestId('report-email').textContent()).trim(), 'alice@example.org');
  assert.match((await alice.app.locator('[data-testid=own-report] [data-testid=report-fingerprint]').textContent()).trim(), /^([0-9A-F]{4} ){9}[0-9A-F]{4}$/);
  assert.equal(await alice.app.getByTestId('keyserver-openpgp').getAttribute('href'), `https://keys.openpgp.org/search?q=${aliceFingerprint}`);
  assert.equal(await alice.app.getByTestId('keyserver-ubuntu').getAttribute('rel'), 'noopener noreferrer');

  await requestChannelWith(alice.app, bob.username);
  // Each side sees the OTHER's certificate before deciding.
  await alice.app.getByTestId('peer-report').waitFor();
  assert.equal(await alice.app.locator('[data-testid=peer-report] [data-testid=report-fingerprint]').getAttribute('data-fingerprint'), bobFingerprint);
  assert.match(await alice.app.getByTestId('status-channel-state').textContent(), /Verifying certificate/);
  await bob.app.getByTestId('peer-report').waitFor();
  assert.equal(await bob.app.locator('[data-testid=peer-report] [data-testid=report-fingerprint]').getAttribute('data-fingerprint'), aliceFingerprint);
  await alice.app.getByTestId('channel-accept').click();
  await waitForChannelState(alice.app, 'waiting');
  await bob.app.getByTestId('channel-accept').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);

  const aliceSas = await alice.app.getByTestId('channel-sas').getAttribute('data-sas');
  const bobSas = await bob.app.getByTestId('channel-sas').getAttribute('data-sas');
  assert.equal(aliceSas, bobSas);
  assert.match((await alice.app.getByTestId('channel-sas-decimal').textContent()).trim(), /^\d{4}-\d{4}-\d{4}$/);
  assert.match(await alice.app.getByTestId('status-channel-state').textContent(), /Secure/);
  const tooltip = await alice.app.getByTestId('channel-status').getAttribute('title');
  assert.ok(tooltip.includes(bobSas.split(' ').pop()), 'the status-bar tooltip carries the SAS');
  assert.ok(tooltip.replaceAll(' ', '').includes(bobFingerprint), 'and the peer fingerprint');
  assert.equal(await alice.app.locator(`[data-testid=channel-entry][data-peer="${bob.username}"]`).getAttribute('data-state'), 'secure');

  await sendChannelMessage(alice.app, 'Hello Bob, this is encrypted ✓');
  await waitForPeerMessage(bob.app, 'Hello Bob, this is encrypted ✓');
  await sendChannelMessage(bob.app, 'Hi Alice <b>not bold</b>');
  await waitForPeerMessage(alice.app, 'Hi Alice <b>not bold</b>');
  assert.equal(await alice.app.locator('[data-testid=channel-message] b').count(), 0, 'message text is never parsed as HTML');
  await sendChannelMessage(alice.app, 'second');
  await waitForPeerMessage(bob.app, 'second');

  await alice.app.getByTestId('channel-end').click();
  await Promise.all([waitForChannelState(alice.app, 'ended'), waitForChannelState(bob.app, 'ended')]);
  assert.equal(await bob.app.getByTestId('channel-teardown-reason').getAttribute('data-reason'), 'ended');
  assert.match(await bob.app.getByTestId('status-channel-state').textContent(), /Ended/);

  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), [], `CSP violations in ${page.url()}`);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});

test('a remembered peer whose fingerprint changes raises a blocking warning naming both fingerprints', { skip, timeout: 90_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  await createIdentityInApp(alice.app, { name: 'Alice', email: 'alice@example.org' });
  const oldBobFingerprint = await createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' });

  await openSecureChannel(alice, bob, { aliceRemembers: true });
  await alice.app.getByTestId('channel-end').click();
  await Promise.all([waitForChannelState(alice.app, 'ended'), waitForChannelState(bob.app, 'ended')]);

  // Bob deletes his key and makes a new one (same account).
  await bob.app.getByTestId('own-identity-entry').click();
  bob.app.once('dialog', (dialog) => dialog.accept());
  await bob.app.getByTestId('identity-forget').click();
  const newBobFingerprint = await createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' });
  assert.notEqual(newBobFingerprint, oldBobFingerprint);
  await alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"][data-certified=true]`).waitFor();

  await requestChannelWith(alice.app, bob.username);
  const warning = alice.app.getByTestId('fingerprint-warning');
  await warning.waitFor();
  assert.equal((await alice.app.getByTestId('fingerprint-old').textContent()).replaceAll(' ', ''), oldBobFingerprint);
  assert.equal((await alice.app.getByTestId('fingerprint-new').textContent()).replaceAll(' ', ''), newBobFingerprint);
  await bob.app.getByTestId('peer-report').waitFor();
  await bob.app.getByTestId('channel-accept').click();
  await waitForChannelState(bob.app, 'waiting');
  // Blocked: Bob accepted, but nothing happens until Alice decides.
  await alice.app.waitForTimeout(1500);
  assert.equal(await alice.app.getByTestId('channel-state').getAttribute('data-state'), 'verifying');
  assert.equal(await bob.app.getByTestId('channel-state').getAttribute('data-state'), 'waiting');
  await alice.app.getByTestId('channel-accept').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  assert.equal(await alice.app.getByTestId('channel-sas').getAttribute('data-sas'), await bob.app.getByTestId('channel-sas').getAttribute('data-sas'));
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});

test('importing an armored key with its passphrase works; a wrong passphrase is refused clearly', { skip, timeout: 60_000 }, async (t) => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Carol Imported', email: 'carol@example.org' }],
    passphrase: 'carol passphrase 42', format: 'armored', config: { v6Keys: false },
  });
  const expected = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  const carol = await user(t, 'carol');
  await carol.app.getByTestId('identity-mode-import').click();
  await carol.app.locator('#identity-armored').fill(privateKey);
  await carol.app.locator('#identity-import-passphrase').fill('not the passphrase');
  await carol.app.getByTestId('identity-import-submit').click();
  await carol.app.getByTestId('identity-error').waitFor();
  assert.match(await carol.app.getByTestId('identity-error').textContent(), /Wrong passphrase/);
  assert.equal(await carol.app.locator('#identity-armored').inputValue(), '', 'the key text is cleared after use');

  await carol.app.locator('#identity-armored').fill(privateKey);
  await carol.app.locator('#identity-import-passphrase').fill('carol passphrase 42');
  await carol.app.getByTestId('identity-import-submit').click();
  assert.equal(await ownReportFingerprint(carol.app), expected);
  assert.equal((await carol.app.getByTestId('report-name').textContent()).trim(), 'Carol Imported');
  assert.deepEqual(await violationsOf(carol.app), []);
  assert.deepEqual(unexpected(carol.problems), []);
});
