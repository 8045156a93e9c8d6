// Searching encrypted mail (r3 F2): the server only sees the outer "[...]" subject, so its quick
// search cannot find an encrypted message by its real subject. Once the user has opened it, the
// page knows the decrypted subject and the list shows the match beside the server's results,
// marked "Found in opened encrypted mail" (visible heading and accessible name), once.
// Real Chromium, secms-server and Dovecot; the user mails herself (encrypted to her own key).
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/encrypted-search.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useMailStack } from './helpers/mail-stack.mjs';
import { headerOf } from './helpers/mime.mjs';
import { mailUser, composeAndSend, openRow, readerSubject, messageRows, securityOf } from './helpers/mail-app.mjs';

const suite = await useMailStack();

test('an opened encrypted mail is found by a word of its decrypted subject, listed once and named as such', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const word = `Zebra${randomBytes(3).toString('hex')}`;
  const subject = `${word} secret plan`;
  await composeAndSend(alice.app, { to: [alice.address], subject, text: 'Meet at the usual place.' });
  const [delivered] = await stack.waitForMaildir(alice.username, 'INBOX', 1);
  assert.equal(headerOf(delivered.toString('latin1'), 'Subject'), '[...]', 'the server never sees the subject');

  // Before it is opened, nothing can find it.
  const search = alice.app.getByTestId('mail-quick-search');
  await search.fill(word);
  await search.press('Enter');
  await alice.app.getByTestId('mail-list-empty').waitFor({ timeout: 10_000 });
  assert.equal(await alice.app.getByTestId('mail-local-result').count(), 0);
  await search.fill('');
  await search.press('Enter');

  // Open it (decrypted in the page), then search for a word of its subject.
  await openRow(alice.app, 'Encrypted message');
  assert.equal((await securityOf(alice.app)).encrypted, 'true');
  await readerSubject(alice.app).filter({ hasText: subject }).waitFor({ timeout: 10_000 });
  await search.fill(word.toLowerCase());
  await search.press('Enter');
  const result = alice.app.getByTestId('mail-local-result');
  await result.first().waitFor({ timeout: 10_000 });
  assert.equal(await result.count(), 1, 'listed once');
  assert.match(await result.textContent(), new RegExp(subject));
  assert.equal(await result.getAttribute('aria-label'), `Found in opened encrypted mail: ${subject}, from ${await result.locator('.sender').textContent()}`);
  const section = alice.app.getByTestId('mail-local-results');
  assert.match(await section.textContent(), /Found in opened encrypted mail/, 'a visible label');
  assert.equal(await alice.app.getByTestId('mail-list-empty').count(), 0, 'not "No messages here" beside a result');
  assert.equal(await messageRows(alice.app).count(), 0, 'the server found nothing itself');

  // It opens from there.
  await alice.app.getByTestId('mail-reader').first().evaluate(() => {}).catch(() => {});
  await result.click();
  await readerSubject(alice.app).filter({ hasText: subject }).waitFor({ timeout: 10_000 });

  // Cleared search: the section goes.
  await search.fill('');
  await search.press('Enter');
  await result.first().waitFor({ state: 'detached', timeout: 10_000 });
});
