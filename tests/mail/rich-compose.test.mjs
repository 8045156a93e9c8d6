// Rich-text compose (review r3 F1): typing, Bold on a selection, then leaving the editor (blur)
// twice kept Lit re-rendering a text binding inside the contenteditable, which inserted the
// whole text again on every blur. Here, in real Chromium against the real stack: the editor
// holds the text exactly once after the edits and two blurs, and the message that arrives holds
// it once per alternative (text/plain and text/html), with the bold kept in the HTML.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/rich-compose.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMailStack } from './helpers/mail-stack.mjs';
import { mailUser, startCompose, addRecipients, composeSubject, composeForm, sendConfirmingUnencrypted } from './helpers/mail-app.mjs';

const suite = await useMailStack();
const count = (text, word) => text.split(word).length - 1;

test('typing, Bold and two blurs keep exactly one copy of the rich text, and the sent mail has it once', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');   // sending needs an unlocked key
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  await startCompose(alice.app);
  await addRecipients(alice.app, 'to', [bob.address]);
  await composeSubject(alice.app).fill('rich once');
  await alice.app.getByTestId('compose-rich').check();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor();
  await editor.click();
  await alice.app.keyboard.type('Zanzibar world');
  await alice.app.keyboard.press('ControlOrMeta+a');
  await composeForm(alice.app).locator('[role=toolbar] button').first().click();  // Bold
  await editor.click();
  await alice.app.keyboard.press('End');
  await alice.app.keyboard.type(' more');
  await composeSubject(alice.app).click();                              // blur 1
  await editor.click();
  await alice.app.keyboard.press('End');
  await alice.app.keyboard.type('X');
  await composeSubject(alice.app).click();                              // blur 2
  const text = await editor.innerText();
  assert.equal(count(text, 'Zanzibar'), 1, `editor text: ${JSON.stringify(text)}`);
  assert.match(text.replace(/\s+/g, ' ').trim(), /^Zanzibar world moreX$/);
  assert.match(await editor.innerHTML(), /<b>|<strong>/, 'bold kept');
  assert.doesNotMatch(await editor.innerHTML(), /<!--\?lit/, 'no Lit marker inside the editor');

  await sendConfirmingUnencrypted(alice.app);
  const [received] = await stack.waitForMaildir(bob.username, 'INBOX', 1);
  const raw = received.toString('latin1');
  // One copy in the text/plain part and one in the text/html part.
  assert.equal(count(raw, 'Zanzibar'), 2, raw.slice(-1500));
});
