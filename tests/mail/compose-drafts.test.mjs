// Compose in real Chromium against the real stack (secms-server, Dovecot): drafts saved by
// themselves (auto-save at the shortest interval, one copy kept in Drafts; rich edits made with
// the focus kept in the editor included), a rich draft of the user's own that reopens from
// Drafts as rich text, a planted one (encrypted to the user's public key, unsigned) that reopens
// as plain text with a notice, outgoing rich HTML cleaned to the editor's markup, Bcc kept out
// of every delivered copy, and the signature of the chosen identity in the body.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test --test-concurrency=1 tests/mail/compose-drafts.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMailStack } from './helpers/mail-stack.mjs';
import * as openpgp from 'openpgp';
import { multipartEntity, partEntity, pgpMimeMail } from './helpers/mime.mjs';
import {
  addRecipients, composeBody, composeForm, composeSubject, eventually, exportOwnKey, fillCompose, mailUser, messageRows, openFolder,
  mailTrapsOf, openThisRow, sendConfirmingUnencrypted, startCompose,
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
  // Rich by default, with a signature: the editor starts with its signature block, which must
  // come back as that block (a From switch finds it by its class; review R1).
  await inSettings(alice.app, async (app) => {
    await app.getByTestId('pref-composeFormat').selectOption('rich');
    const field = app.locator(`[data-testid=pref-signature][data-address="${alice.address}"]`);
    await field.fill('Alice signs');
    await field.press('Tab');
  });
  await startCompose(alice.app);
  await composeSubject(alice.app).fill('Rich draft');
  await alice.app.getByTestId('compose-rich').check();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor();
  await editor.locator('div.signature').waitFor({ timeout: 10_000 });
  // Type before the signature block: at the start of the editor.
  await editor.evaluate((element) => {
    element.focus();
    const range = document.createRange();
    range.setStart(element, 0);
    range.collapse(true);
    const selection = element.getRootNode().getSelection?.() ?? document.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  });
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
  const signatureBlock = reopened.locator('div.signature');
  assert.equal(await signatureBlock.count(), 1, `the signature block came back: ${await reopened.innerHTML()}`);
  assert.match(await signatureBlock.innerText(), /Alice signs/);
  // The reopened HTML went through the sanitiser, not an HTML sink: no Trusted Types or CSP complaint.
  assert.deepEqual(scriptProblems(alice), []);
});

test('a hostile rich "draft" planted in Drafts, encrypted to the user\'s public key but not signed, reopens as plain text with the notice: nothing runs, nothing loads', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
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
  // The mail server holds the user's public key (anyone may): it can encrypt a "draft" to it. It
  // cannot sign with the user's key, which is what marks the user's own drafts.
  const armoredKey = await exportOwnKey(alice.app);
  const inner = multipartEntity('alternative', [
    partEntity({ contentType: 'text/plain; charset=utf-8', data: 'kept bold link js link svg styled' }),
    partEntity({ contentType: 'text/html; charset=utf-8', data: hostile }),
  ]);
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(inner) }),
    encryptionKeys: await openpgp.readKey({ armoredKey }),
  });
  const raw = pgpMimeMail({ armored, from: alice.address, to: alice.address, subject: 'Planted draft' }).toString('utf8');
  const status = await alice.app.evaluate(async (bytes) => (await fetch('/api/v1/mail/append?folder=Drafts&flags=%5CDraft', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'message/rfc822' }, body: bytes,
  })).status, raw);
  assert.equal(status, 201);
  await openFolder(alice.app, 'Drafts');
  // Its only message (the list shows an encrypted message's subject once it is opened).
  const row = messageRows(alice.app).first();
  await row.waitFor({ timeout: 20_000 });
  await openThisRow(alice.app, row);
  await alice.app.getByTestId('mail-edit-draft').click();
  await composeForm(alice.app).waitFor();

  const notice = alice.app.getByTestId('compose-notice');
  await notice.waitFor({ timeout: 10_000 });
  assert.equal(await notice.getAttribute('role'), 'status');
  assert.match(await notice.innerText(), /not saved by you here; its formatting was dropped/);
  assert.equal(await alice.app.getByTestId('compose-rich').isChecked(), false, 'the plain format');
  assert.equal(await alice.app.locator('div.rich[data-testid=compose-body]').count(), 0, 'no rich editor');
  assert.equal(await composeBody(alice.app).inputValue(), 'kept bold link js link svg styled');
  await alice.app.waitForLoadState('networkidle').catch(() => {});
  const traps = await mailTrapsOf(alice.app);
  assert.equal(traps.flag, null, 'no payload ran');
  assert.deepEqual(traps.frameFlags, []);
  assert.equal(traps.dialogs, 0);
  // The reader showed the planted message in its sandboxed frame (whose CSP reports the blocked
  // inline handlers and styles); no script error or Trusted Types refusal in the page.
  const blockedInline = /Executing inline event handler violates|Applying inline style violates/;
  assert.deepEqual(scriptProblems(alice).filter((text) => !blockedInline.test(text)), []);
});

test('rich auto-save: bold text typed with the focus kept in the editor is saved by the auto-save and reopens rich', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  await inSettings(alice.app, async (app) => {
    await app.locator('#pref-autoSaveSeconds').fill('5');
    await app.locator('#pref-autoSaveSeconds').press('Tab');
  });
  await startCompose(alice.app);
  await alice.app.getByTestId('compose-rich').check();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor();
  // Nothing but the editor is touched: only its content can make the draft need saving.
  await editor.click();
  await alice.app.keyboard.type('typed then ');
  await alice.app.keyboard.press('ControlOrMeta+b');
  await alice.app.keyboard.type('Emphasised');
  await alice.app.keyboard.press('ControlOrMeta+b');
  await alice.app.keyboard.type(' after');
  assert.match(await editor.innerHTML(), /<(b|strong)>Emphasised<\/(b|strong)>/);
  await eventually(async () => (await draftFiles(stack, alice.username)).length === 1 || await draftFiles(stack, alice.username), 'the auto-saved draft in Drafts', 30_000);
  await alice.app.getByTestId('compose-saved').filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
  assert.equal(await editor.evaluate((element) => element.getRootNode().activeElement === element), true, 'the focus stayed in the editor');

  // Leaving the editor changes nothing: no new save replaces the copy the auto-save made.
  await openFolder(alice.app, 'Drafts');
  await eventually(async () => (await messageRows(alice.app).count()) === 1 || await messageRows(alice.app).count(), 'one row in Drafts', 20_000);
  await openThisRow(alice.app, messageRows(alice.app).first());
  await alice.app.getByTestId('mail-edit-draft').click();
  const reopened = alice.app.locator('div.rich[data-testid=compose-body]');
  await reopened.waitFor({ timeout: 10_000 });
  assert.equal(await alice.app.getByTestId('compose-notice').count(), 0, 'the own draft has no notice');
  const bold = reopened.locator('b, strong');
  assert.equal(await bold.count(), 1, `one bold run: ${await reopened.innerHTML()}`);
  assert.equal((await bold.textContent()).trim(), 'Emphasised');
  assert.match((await reopened.innerText()).replace(/\s+/g, ' '), /typed then Emphasised after/);
  assert.deepEqual(scriptProblems(alice), []);
});

/** The decoded text/html part of a raw message (quoted-printable, as the composer writes it). */
function htmlPartOf(raw) {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n');   // the Maildir file has LF line ends
  const start = text.search(/^Content-Type: text\/html/im);
  assert.ok(start >= 0, 'the message has a text/html part');
  const afterHeaders = text.indexOf('\n\n', start) + 2;
  const body = text.slice(afterHeaders, text.indexOf('\n--', afterHeaders));
  const bytes = Buffer.from(body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  return bytes.toString('utf8');
}

test('outgoing rich HTML is cleaned to the editor\'s markup: remote image, form, script, style and handlers never reach the recipient', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  await startCompose(alice.app);
  await addRecipients(alice.app, 'to', [bob.address]);
  await composeSubject(alice.app).fill('Cleaned rich');
  await alice.app.getByTestId('compose-rich').check();
  const editor = alice.app.locator('div.rich[data-testid=compose-body]');
  await editor.waitFor();
  await editor.click();
  await alice.app.keyboard.type('Typed first');
  // What a paste can put into a contenteditable (Chromium's own paste keeps remote images,
  // forms, inline styles and classes; it drops scripts and handlers), added to the editor with DOM
  // calls: the page's Trusted Types refuse handler attributes and script text, so those cannot
  // get there, and an empty script element stands for one.
  const added = await editor.evaluate((element) => {
    const add = (parent, tag, attributes = {}, text = '') => {
      const node = document.createElementNS(tag === 'svg' || tag === 'image' ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
      for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
      if (text) node.textContent = text;
      parent.append(node);
      return node;
    };
    const paragraph = add(element, 'p', {}, 'kept ');
    add(paragraph, 'b', {}, 'bold');
    paragraph.append(' ');
    add(paragraph, 'a', { href: 'https://example.org/', title: 'tip' }, 'link');
    paragraph.append(' ');
    add(paragraph, 'a', { href: 'mailto:x@example.org' }, 'mail');
    add(element, 'img', { src: 'https://remote.invalid/pixel.png', alt: 'pixel' });
    add(element, 'script');
    add(element, 'a', { href: 'javascript:void(window.__mailXss=3)' }, 'js link');
    add(element, 'div', { style: 'background:url(https://remote.invalid/bg)', class: 'chip', 'data-track': '1', 'aria-label': 'x' }, 'styled');
    const form = add(element, 'form', { action: 'https://remote.invalid/' });
    add(form, 'input', { name: 'q', value: 'field' });
    add(element, 'style', {}, '.x{color:red}');
    add(add(element, 'svg'), 'image', { href: 'https://remote.invalid/svg.png' });
    add(element, 'iframe', { src: 'https://remote.invalid/frame' });
    let handler = 'refused';
    try {
      element.querySelector('div.chip').setAttribute('onclick', 'window.__mailXss=6');
      handler = 'set';
    } catch {
      // Trusted Types: an event handler attribute takes a TrustedScript only.
    }
    return { images: element.querySelectorAll('img').length, handler };
  });
  assert.equal(added.images, 1, 'the pasted image is in the editor');
  // The editor hears about it as it would about a paste.
  await editor.evaluate((element) => element.dispatchEvent(new Event('input', { bubbles: true })));

  await sendConfirmingUnencrypted(alice.app);
  const [received] = await stack.waitForMaildir(bob.username, 'INBOX', 1);
  const sentHtml = htmlPartOf(received);
  assert.match(sentHtml, /Typed first/);
  assert.match(sentHtml, /<b>bold<\/b>/);
  assert.match(sentHtml, /<a href="https:\/\/example\.org\/">link<\/a>/);
  assert.match(sentHtml, /<a href="mailto:x@example\.org">mail<\/a>/);
  assert.match(sentHtml, /styled/);
  for (const [what, pattern] of [
    ['an img', /<img/i], ['a form', /<form/i], ['an input', /<input/i], ['a script', /<script/i], ['a style element', /<style/i],
    ['an svg', /<svg|<image/i], ['an iframe', /<iframe/i], ['a handler', /\bon[a-z]+=/i], ['a style attribute', /style=/i],
    ['the chip class', /class="chip"/], ['a data attribute', /data-track/], ['a javascript: URL', /javascript:/i],
    ['a remote resource', /remote\.invalid/], ['the payload', /__mailXss/],
  ]) assert.doesNotMatch(sentHtml, pattern, `the sent HTML has ${what}: ${sentHtml}`);
  const traps = await mailTrapsOf(alice.app);
  assert.equal(traps.flag, null, 'nothing ran in the page');
});

test('Bcc: carol gets the mail; neither bob\'s nor carol\'s delivered copy names carol or has a Bcc header (signed, not encrypted)', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  // Bob and Carol have no OpenPGP key: the mail goes signed and unencrypted after the confirmation.
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  const carol = await mailUser(t, stack, browser, 'carol', { identity: false });
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: [bob.address], bcc: [carol.address], subject: 'Blind copy', text: 'Hello Bob' });
  await sendConfirmingUnencrypted(alice.app);

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
