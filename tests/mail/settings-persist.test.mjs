// The address book and the mail settings survive a logout (r3 F4): they are kept on the user's
// own mail server as one message in the hidden folder "Security.MS", encrypted to the own key and
// signed with it. Real Chromium, secms-server and Dovecot: a contact and a preference are set,
// the copy appears on disk (encrypted: no name, no address in clear), the user logs out (the
// browser's storage is wiped), logs in again, unlocks the same key, and finds both again.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/settings-persist.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { useMailStack } from './helpers/mail-stack.mjs';
import { headerOf } from './helpers/mime.mjs';
import { logInAndOpenApp, logOutFromApp, ownReportFingerprint, storageOf } from '../e2e/helpers/app-flows.mjs';
import { eventually, folderEntry, mailUser, openEmailTab } from './helpers/mail-app.mjs';

const suite = await useMailStack();
const passphrase = 'settings kept on the mail server 7';

async function importIdentity(app, privateKey) {
  await app.getByTestId('tab-chat').click();
  await app.getByTestId('identity-mode-import').click();
  await app.locator('#identity-armored').fill(privateKey);
  await app.locator('#identity-import-passphrase').fill(passphrase);
  await app.getByTestId('identity-import-submit').click();
  return ownReportFingerprint(app);
}

const contactNames = (app) => app.getByTestId('contact').allTextContents();

test('a contact and a preference survive logout and login (encrypted copy in the hidden Security.MS folder)', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice', { identity: false });
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Alice', email: alice.address }], passphrase, format: 'armored', config: { v6Keys: false },
  });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  assert.equal(await importIdentity(alice.app, privateKey), fingerprint);
  await openEmailTab(alice.app);

  // A contact and a preference.
  await alice.app.getByTestId('mail-contacts').click();
  await alice.app.getByTestId('contact-add').click();
  await alice.app.locator('#contact-name').fill('Carol Keeper');
  await alice.app.getByTestId('contact-emails').fill('carol.keeper@example.org');
  await alice.app.getByTestId('contact-save').click();
  await alice.app.getByTestId('contact').filter({ hasText: 'Carol Keeper' }).waitFor({ timeout: 10_000 });
  await alice.app.getByTestId('mail-back-to-mail').click();
  await alice.app.getByTestId('mail-settings').click();
  await alice.app.getByTestId('pref-density').selectOption('compact');
  await alice.app.getByTestId('mail-back-to-mail').click();

  // The copy on disk: one message with the marker header, encrypted, nothing in clear.
  await eventually(async () => {
    const messages = await stack.maildirMessages(alice.username, 'Security.MS');
    if (messages.length !== 1) return `${messages.length} copies`;
    const raw = messages[0].toString('latin1');
    return headerOf(raw, 'X-Secms-Store') === 'mail-settings-v1' || 'no marker header';
  }, 'the settings copy on the mail server', 20_000);
  // Both changes are in the latest copy: wait for the debounced save of the preference too
  // (a second save replaces the first: still one message).
  await alice.app.waitForTimeout(3_000);
  const [raw] = (await stack.maildirMessages(alice.username, 'Security.MS')).map((bytes) => bytes.toString('latin1'));
  assert.match(headerOf(raw, 'Content-Type'), /multipart\/encrypted/i);
  assert.equal(raw.includes('Carol'), false, 'the contact name is not on the server in clear');
  assert.equal(raw.includes('carol.keeper@example.org'), false, 'nor its address');
  assert.equal((await stack.maildirMessages(alice.username, 'Security.MS')).length, 1, 'the superseded copy was expunged');
  assert.equal(await folderEntry(alice.app, 'Security.MS').count(), 0, 'the folder is not in the tree');

  // A change made just before logging out (inside the 2 s debounce) is saved by the logout.
  await alice.app.getByTestId('mail-settings').click();
  await alice.app.getByTestId('pref-readingPane').selectOption('bottom');
  await alice.app.getByTestId('mail-back-to-mail').click();

  // Log out: the browser forgets everything; log in again and unlock the same key.
  await logOutFromApp(alice.app);
  assert.equal((await storageOf(alice.landing)).localStorage, 0, 'localStorage wiped at logout');
  const app = await logInAndOpenApp(alice.landing, { username: alice.username });
  assert.equal(await importIdentity(app, privateKey), fingerprint);
  await openEmailTab(app);
  await app.getByTestId('mail-contacts').click();
  await eventually(async () => {
    const names = await contactNames(app);
    return names.some((text) => text.includes('Carol Keeper')) || names;
  }, 'the contact after logging in again', 20_000);
  await app.getByTestId('mail-back-to-mail').click();
  await app.getByTestId('mail-settings').click();
  assert.equal(await app.getByTestId('pref-density').inputValue(), 'compact', 'the preference came back');
  assert.equal(await app.getByTestId('pref-readingPane').inputValue(), 'bottom', 'the change made just before logout came back');
  assert.equal(await folderEntry(app, 'Security.MS').count(), 0);
});
