// A verified contact survives a logout (issue 15): the certificate pins and the verified marks
// are part of the mail settings copy in the user's own mailbox (web/src/mail/settings-store.js,
// field `trust`), encrypted to and signed by the own key. Real Chromium, secms-server and
// Dovecot: Alice compares the safety code with Bob and marks him verified, logs out (the
// browser's storage is wiped), logs in again, unlocks the same key, and sees Bob as verified
// again: the badge in the online list and an offer that says they verified each other before.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/trust-persist.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { useMailStack } from './helpers/mail-stack.mjs';
import {
  logInAndOpenApp, logOutFromApp, ownReportFingerprint, requestChannelWith, storageOf, waitForChannelState, waitForOnline,
} from '../e2e/helpers/app-flows.mjs';
import { eventually, mailUser } from './helpers/mail-app.mjs';

const suite = await useMailStack();
const passphrase = 'pins kept on the mail server 9';

async function importIdentity(app, privateKey) {
  await app.getByTestId('tab-chat').click();
  await app.getByTestId('identity-mode-import').click();
  await app.locator('#identity-armored').fill(privateKey);
  await app.locator('#identity-import-passphrase').fill(passphrase);
  await app.getByTestId('identity-import-submit').click();
  return ownReportFingerprint(app);
}

test('a contact marked verified is still verified after logout and login (the pin in the encrypted settings copy)', { timeout: 240_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice', { identity: false });
  const bob = await mailUser(t, stack, browser, 'bob');
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Alice', email: alice.address }], passphrase, format: 'armored', config: { v6Keys: false },
  });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  assert.equal(await importIdentity(alice.app, privateKey), fingerprint);
  await bob.app.getByTestId('tab-chat').click();
  await waitForOnline(alice.app, [alice.username, bob.username]);

  // A channel, both accept, Alice says the codes match.
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('offer-decision').waitFor();
  assert.equal(await alice.app.getByTestId('offer-decision').getAttribute('data-contact'), 'first');
  await bob.app.locator('[data-testid=channel-entry][data-state=verifying]').first().click();
  await bob.app.getByTestId('offer-decision').waitFor();
  await alice.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await bob.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  await alice.app.getByTestId('sas-match').click();
  const bobRow = (app) => app.locator(`[data-testid=online-user][data-username="${bob.username}"]`);
  await bobRow(alice.app).getByTestId('online-verified-badge').waitFor();

  // The copy on the mail server: the pin is not in clear text there.
  await eventually(async () => (await stack.maildirMessages(alice.username, 'Security.MS')).length === 1 || 'no copy yet', 'the settings copy on the mail server', 20_000);
  await eventually(async () => {
    const [raw] = await stack.maildirMessages(alice.username, 'Security.MS');
    return (raw && !raw.toString('latin1').includes(bob.username)) || 'a copy with the username in clear';
  }, 'an encrypted copy', 20_000);

  // Log out (the storage is wiped, a pending save is flushed), log in, unlock the same key.
  await logOutFromApp(alice.app);
  assert.equal((await storageOf(alice.landing)).localStorage, 0, 'localStorage wiped at logout');
  const app = await logInAndOpenApp(alice.landing, { username: alice.username });
  await waitForOnline(app, [alice.username, bob.username]);
  assert.equal(await bobRow(app).getByTestId('online-verified-badge').count(), 0, 'not verified before the key is unlocked');
  assert.equal(await importIdentity(app, privateKey), fingerprint);
  await bobRow(app).getByTestId('online-verified-badge').waitFor({ timeout: 30_000 });

  // A new offer reads as a verified contact, not a first one.
  await waitForChannelState(bob.app, 'ended');
  await requestChannelWith(app, bob.username);
  await app.locator('[data-testid=offer-decision][data-contact=verified]').waitFor({ timeout: 20_000 });
  assert.match(await app.getByTestId('fingerprint-known').textContent(), /You verified .* before/);
  assert.equal(await app.getByTestId('offer-first-contact').count(), 0);
});
