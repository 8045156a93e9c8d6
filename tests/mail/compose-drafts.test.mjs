// Compose in real Chromium against the real stack (secms-server, Dovecot): drafts saved by
// themselves (auto-save at the shortest interval, one copy kept in Drafts), a rich draft that
// reopens from Drafts as rich text, Bcc kept out of every delivered copy, and the signature of
// the chosen identity in the body.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test --test-concurrency=1 tests/mail/compose-drafts.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMailStack } from './helpers/mail-stack.mjs';
import { htmlMail } from './helpers/mime.mjs';
import {
  composeBody, composeForm, composeSubject, eventually, fillCompose, mailUser, messageRows, openFolder,
  mailTrapsOf, openThisRow, pressSend, startCompose,
} from './helpers/mail-app.mjs';

const suite = await useMailStack();

/** Console problems of the page that concern this file's code: script errors, CSP and Trusted Types refusals. */
const scriptProblems = (user) => user.problems.filter((text) => /pageerror|Trusted Type|TrustedHTML|Content Security Policy|Refused/i.test(text));

/** Opens the mail settings, applies `change(app)`, and goes back to the mail view. */
async function inSettings(app, change) {
  await app.getByTestId('mail-settings').click();
  await change(app);
  await app.getByTestId('mail-back-to-mail').click();
}

/** The file names of a user's Drafts folder on disk. */
const draftFiles = async (stack, username) => (await stack.maildirFiles(username, 'Drafts')).map((file) => file.split('/').pop());

test('auto-save at the shortest interval puts the draft in Drafts unasked, and an edit replaces it (one copy); the identity\'s signature is in the body', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');   // drafts are encrypted to the own key
  const signature = 'Alice Example\nWork phone 0123';
  await inSettings(alice.app, async (app) => {
    const autoSave = app.locator('#pref-autoSaveSeconds');
    assert.equal(await autoSave.getAttribute('min'), '5');
    await autoSave.fill('5');
    await autoSave.press('Tab');      // change
    const field = app.locator(`[data-testid=pref-signature][data-address="${alice.address}"]`);
    await field.fill(signature);
    await field.press('Tab');
  });

  await startCompose(alice.app);
  // (d) The From identity is the mailbox address, and its signature is below "-- ".
  assert.equal(await alice.app.getByTestId('compose-from').inputValue(), alice.address);
  assert.equal(await composeBody(alice.app).inputValue(), `\n\n-- \n${signature}`);

  assert.deepEqual(await draftFiles(stack, alice.username), [], 'no draft before typing');
  await composeSubject(alice.app).fill('Saved by itself');
  await composeBody(alice.app).press('ControlOrMeta+Home');
  await alice.app.keyboard.type('First words');
  // Nothing pressed: the auto-save (5 s) puts it in Drafts.
  let first = null;
  await eventually(async () => {
    const files = await draftFiles(stack, alice.username);
    first = files[0] ?? null;
    return files.length === 1 || files;
  }, 'the auto-saved draft in Drafts', 30_000);
  await alice.app.getByTestId('compose-saved').filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });

  // More typing: the next auto-save replaces the copy (a new file, the old one expunged).
  await alice.app.keyboard.type(' and more');
  await eventually(async () => {
    const files = await draftFiles(stack, alice.username);
    return (files.length === 1 && files[0] !== first) || files;
  }, 'the draft replaced by the next auto-save', 30_000);
  // The compose form is still open and idle; still exactly one copy once it settled.
  await alice.app.getByTestId('compose-saved').filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
  assert.equal((await draftFiles(stack, alice.username)).length, 1, 'exactly one copy in Drafts');
  assert.ok(await composeForm(alice.app).isVisible());
  assert.deepEqual(scriptProblems(alice), []);
});

test('a rich draft with bold text, saved and closed, reopens from Drafts as rich text with the bold kept', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  await startCompose(alice.app);
  await composeSubject(alice.app).fill('Rich draft');
  await alice.app.getByTestId('compose-rich').check();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor();
  await editor.click();
  await alice.app.keyboard.type('plain start ');
  await composeForm(alice.app).locator('[role=toolbar] button').first().click();   // Bold on
  await alice.app.keyboard.type('Strongly');
  await composeForm(alice.app).locator('[role=toolbar] button').first().click();   // Bold off
  await alice.app.keyboard.type(' plain end');
  assert.match(await editor.innerHTML(), /<(b|strong)>Strongly<\/(b|strong)>/, 'bold in the editor before saving');
  await alice.app.getByTestId('compose-save').click();
  await stack.waitForMaildir(alice.username, 'Drafts', 1);
  await alice.app.getByTestId('compose-saved').filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });

  // Close the form by going to Drafts and opening the saved draft there, then Edit draft.
  await openFolder(alice.app, 'Drafts');
  await eventually(async () => (await messageRows(alice.app).count()) === 1 || await messageRows(alice.app).count(), 'one row in Drafts', 20_000);
  await openThisRow(alice.app, messageRows(alice.app).first());
  assert.equal(await composeForm(alice.app).count(), 0, 'the compose form is closed');
  await alice.app.getByTestId('mail-edit-draft').click();
  await composeForm(alice.app).waitFor();

  const reopened = alice.app.locator('div.rich[data-testid=compose-body]');
  await reopened.waitFor({ timeout: 10_000 });
  assert.equal(await alice.app.getByTestId('compose-rich').isChecked(), true, 'the rich format is on');
  assert.equal(await composeSubject(alice.app).inputValue(), 'Rich draft');
  const bold = reopened.locator('b, strong');
  assert.equal(await bold.count(), 1, `one bold run: ${await reopened.innerHTML()}`);
  assert.equal((await bold.textContent()).trim(), 'Strongly');
  assert.match((await reopened.innerText()).replace(/\s+/g, ' '), /plain start Strongly plain end/);
  // The reopened HTML went through the sanitiser, not an HTML sink: no Trusted Types or CSP complaint.
  assert.deepEqual(scriptProblems(alice), []);
});

test('a hostile "draft" planted in Drafts reopens with only the editor\'s markup: nothing runs, nothing loads', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice', { identity: false });
  const hostile = [
    '<p>kept <b>bold</b> <a href="https://example.org/">link</a></p>',
    '<img src="https://remote.invalid/pixel.png" onerror="window.__mailXss=1">',
    '<script>window.__mailXss=2</script>',
    '<a href="javascript:window.__mailXss=3" id="js">js link</a>',
    '<svg onload="window.__mailXss=4"><a href="#"><text>svg</text></a></svg>',
    '<iframe srcdoc="<script>parent.__mailXss=5</script>"></iframe>',
    '<div style="background:url(https://remote.invalid/bg)" class="chip" onclick="window.__mailXss=6">styled</div>',
    '<form action="https://remote.invalid/"><input name="q"></form><style>*{display:none}</style>',
  ].join('');
  // Anyone who can write to the mailbox can put this there: appended as the page's own API would.
  const raw = htmlMail({ from: alice.address, to: alice.address, subject: 'Planted draft', html: hostile }).toString('utf8');
  const status = await alice.app.evaluate(async (bytes) => (await fetch('/api/v1/mail/append?folder=Drafts&flags=%5CDraft', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'message/rfc822' }, body: bytes,
  })).status, raw);
  assert.equal(status, 201);
  await openFolder(alice.app, 'Drafts');
  const row = messageRows(alice.app).filter({ hasText: 'Planted draft' }).first();
  await row.waitFor({ timeout: 20_000 });
  await openThisRow(alice.app, row);
  await alice.app.getByTestId('mail-edit-draft').click();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor({ timeout: 10_000 });
  const found = await editor.evaluate((element) => ({
    tags: [...new Set([...element.querySelectorAll('*')].map((node) => node.localName))].sort(),
    attributes: [...new Set([...element.querySelectorAll('*')].flatMap((node) => [...node.attributes].map((attribute) => attribute.name)))].sort(),
    hrefs: [...element.querySelectorAll('[href]')].map((node) => node.getAttribute('href')),
    text: element.textContent,
  }));
  assert.ok(found.tags.every((tag) => ['a', 'b', 'p', 'div', 'br', 'span'].includes(tag)), `tags: ${found.tags}`);
  assert.deepEqual(found.attributes.filter((name) => name !== 'href'), [], 'no attribute but href (no class "chip", style, handler, id)');
  assert.deepEqual(found.hrefs, ['https://example.org/'], 'the javascript: link lost its href');
  assert.match(found.text, /kept bold link/);
  assert.equal(await editor.locator('b').count(), 1);
  await alice.app.waitForLoadState('networkidle').catch(() => {});
  const traps = await mailTrapsOf(alice.app);
  assert.equal(traps.flag, null, 'no payload ran');
  assert.equal(traps.dialogs, 0);
  // The parse reports the handler and style attributes it met to the page's CSP (Chromium checks
  // them as they are parsed, before the sanitiser drops them; they are blocked, never run). What
  // must not appear: a script error, a Trusted Types refusal, or a load the CSP had to refuse
  // (the parse is inert: the remote image is never fetched).
  const blockedInline = /Executing inline event handler violates|Applying inline style violates/;
  assert.deepEqual(scriptProblems(alice).filter((text) => !blockedInline.test(text)), []);
});

test('Bcc: carol gets the mail; neither bob\'s nor carol\'s delivered copy names carol or has a Bcc header (signed, not encrypted)', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  // Bob and Carol have no OpenPGP key: the mail goes signed and unencrypted after the confirmation.
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  const carol = await mailUser(t, stack, browser, 'carol', { identity: false });
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: [bob.address], bcc: [carol.address], subject: 'Blind copy', text: 'Hello Bob' });
  let outcome = await pressSend(alice.app);
  if (outcome === 'confirm') {
    await alice.app.getByTestId('compose-confirm-send').click();
    outcome = await Promise.race([
      composeForm(alice.app).waitFor({ state: 'detached', timeout: 30_000 }).then(() => 'sent'),
      alice.app.getByTestId('compose-error').waitFor({ timeout: 30_000 }).then(() => 'error'),
    ]);
  }
  if (outcome !== 'sent') assert.fail(await alice.app.getByTestId('compose-error').textContent({ timeout: 1000 }).catch(() => outcome));

  const [toBob] = await stack.waitForMaildir(bob.username, 'INBOX', 1);
  const [toCarol] = await stack.waitForMaildir(carol.username, 'INBOX', 1);
  for (const [who, bytes] of [['bob', toBob], ['carol', toCarol]]) {
    const raw = bytes.toString('latin1');
    assert.match(raw, /Hello Bob/, `${who}'s copy is the message`);
    assert.doesNotMatch(raw, /^Bcc:/im, `${who}'s copy has no Bcc header`);
    assert.equal(raw.toLowerCase().includes(carol.username.toLowerCase()), false, `${who}'s copy does not name carol's address`);
    assert.equal(raw.toLowerCase().includes('carol'), false, `${who}'s copy has no "carol" anywhere`);
  }
  // The signed copy Bob reads in the app has no Bcc either.
  await openFolder(bob.app, 'INBOX');
  await openThisRow(bob.app, messageRows(bob.app).first());
  assert.equal((await bob.app.getByTestId('mail-reader').innerText()).toLowerCase().includes('carol'), false);
});

test('rich compose by default: the identity\'s signature is the editor\'s signature block', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = suite;
  const erin = await mailUser(t, stack, browser, 'erin', { identity: false });
  await inSettings(erin.app, async (app) => {
    await app.getByTestId('pref-composeFormat').selectOption('rich');
    const field = app.locator(`[data-testid=pref-signature][data-address="${erin.address}"]`);
    await field.fill('Erin at work\nsecond line');
    await field.press('Tab');
  });
  await startCompose(erin.app);
  const block = erin.app.locator('div.rich[data-testid=compose-body] div.signature');
  await block.waitFor({ timeout: 10_000 });
  // Its text with <br> as line ends (innerText would drop the separator's trailing space).
  const text = await block.evaluate((element) => [...element.childNodes].map((node) => (node.nodeName === 'BR' ? '\n' : node.textContent)).join(''));
  assert.equal(text, '-- \nErin at work\nsecond line');
  await erin.app.getByTestId('compose-discard').click();
  await composeForm(erin.app).waitFor({ state: 'detached' });
  assert.deepEqual(scriptProblems(erin), []);
});
