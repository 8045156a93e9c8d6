// Two users of the real stack (secms-server + Dovecot + Chromium) who know each other's keys the
// product's way (a secure channel accepted with the certificate remembered) mail each other:
// encrypted and signed with an attachment (verified, identical bytes), a reply (Re:, quoted,
// In-Reply-To), forwards inline and as attachment. On disk the recipient's Maildir file holds
// neither subject nor body (outer Subject "[...]"), and the sender's Sent has the copy. A draft
// survives a failed send (external address, no smarthost) in Drafts, and sending to a
// recipient without a key asks first, naming them.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/encrypted-mail.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useMailStack } from './helpers/mail-stack.mjs';
import { headerOf, armoredMessageOf } from './helpers/mime.mjs';
import { register } from '../helpers/secms-server.mjs';
import { strongPassword, uniqueName } from '../e2e/helpers/app-flows.mjs';
import {
  mailUser, exchangeKeysByChannel, composeAndSend, openRow, securityOf, readerSubject, readerBody, attachmentEntries,
  downloadAttachment, replyToOpen, fillCompose, pressSend, startCompose, composeForm, openFolder, messageRows,
  composeSubject, composeBody, openThisRow, eventually,
} from './helpers/mail-app.mjs';

const suite = await useMailStack();
const tag = () => randomBytes(3).toString('hex');

test('encrypted mail with an attachment, a reply and two forwards between two browsers', { timeout: 240_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const bob = await mailUser(t, stack, browser, 'bob');
  await exchangeKeysByChannel(alice, bob);

  const subject = `Project plan ${tag()}`;
  const text = `Here is the plan, see the attached file. ${tag()}`;
  const attachment = randomBytes(20_000);
  await composeAndSend(alice.app, { to: [bob.address], subject, text, attachments: [{ name: 'plan.bin', mimeType: 'application/octet-stream', buffer: attachment }] });

  // On disk: nothing readable for the server, the copy in Sent.
  const [delivered] = await stack.waitForMaildir(bob.username, 'INBOX', 1);
  assert.equal(delivered.includes(subject), false, 'subject absent from the raw file');
  assert.equal(delivered.includes(text), false, 'body absent from the raw file');
  assert.equal(headerOf(delivered, 'Subject'), '[...]');
  assert.match(headerOf(delivered, 'Content-Type'), /multipart\/encrypted/i);
  const originalId = headerOf(delivered, 'Message-ID');
  assert.ok(originalId);
  const [sentCopy] = await stack.waitForMaildir(alice.username, 'Sent', 1);
  assert.equal(headerOf(sentCopy, 'Message-ID'), originalId, 'Sent holds the same message');
  assert.ok(armoredMessageOf(sentCopy));
  assert.equal(sentCopy.includes(subject), false);

  // Bob reads it: decrypted, verified, the attachment unchanged.
  await openRow(bob.app, alice.username);
  const security = await securityOf(bob.app);
  assert.equal(security.encrypted, 'true', security.text);
  assert.equal(security.signature, 'verified', security.text);
  await readerSubject(bob.app).filter({ hasText: subject }).waitFor({ timeout: 10_000 });
  assert.match(await readerBody(bob.app).textContent(), new RegExp(text.split(' ').slice(0, 4).join(' ')));
  const file = await downloadAttachment(bob.app, 'plan.bin');
  assert.ok(file.bytes.equals(attachment), 'identical attachment bytes');

  // Bob replies: "Re: " once, the text quoted, In-Reply-To the original.
  await replyToOpen(bob.app, 'reply');
  assert.equal(await composeSubject(bob.app).inputValue(), `Re: ${subject}`);
  assert.match(await composeBody(bob.app).inputValue(), /^> Here is the plan/m);
  const replyText = `Looks good ${tag()}`;
  await composeBody(bob.app).press('Control+Home');
  await composeBody(bob.app).pressSequentially(`${replyText}\n`);
  assert.equal(await pressSend(bob.app), 'sent');
  const [reply] = await stack.waitForMaildir(alice.username, 'INBOX', 1);
  assert.equal(headerOf(reply, 'In-Reply-To'), originalId);
  assert.ok((headerOf(reply, 'References') ?? '').includes(originalId));
  assert.equal(reply.includes(replyText), false);
  await openRow(alice.app, bob.username);
  await readerSubject(alice.app).filter({ hasText: `Re: ${subject}` }).waitFor({ timeout: 10_000 });
  assert.match(await readerBody(alice.app).textContent(), new RegExp(replyText));
  assert.equal((await securityOf(alice.app)).signature, 'verified');

  // Alice forwards the reply inline, then as an attachment.
  await replyToOpen(alice.app, 'forward');
  assert.equal(await composeSubject(alice.app).inputValue(), `Fwd: Re: ${subject}`);
  assert.match(await composeBody(alice.app).inputValue(), /-+ Forwarded message -+/);
  await fillCompose(alice.app, { to: [bob.address] });
  assert.equal(await pressSend(alice.app), 'sent');
  await replyToOpen(alice.app, 'forward-attachment');
  await fillCompose(alice.app, { to: [bob.address] });
  assert.equal(await pressSend(alice.app), 'sent');
  await stack.waitForMaildir(bob.username, 'INBOX', 3);
  // Bob's list shows the three messages from Alice (the original and both forwards: their
  // subjects are encrypted, the rows name the sender) once the pushes have reloaded it.
  const fromAlice = messageRows(bob.app).filter({ hasText: alice.username });
  await eventually(async () => (await fromAlice.count()) >= 3 || `${await fromAlice.count()} rows from Alice`, 'both forwards listed', 30_000);
  // Bob opens each: the inline forward quotes the reply; the other carries it as .eml.
  const seen = { inline: false, attached: false };
  for (let index = 0; index < 3; index += 1) {
    await openThisRow(bob.app, fromAlice.nth(index));
    // The reader shows this message (its uid): body and attachments are rendered with it.
    const body = await readerBody(bob.app).textContent({ timeout: 5000 }).catch(() => '');
    if (/Forwarded message/.test(body) && body.includes(replyText)) seen.inline = true;
    if (await attachmentEntries(bob.app).filter({ hasText: '.eml' }).count() > 0) seen.attached = true;
  }
  assert.deepEqual(seen, { inline: true, attached: true });
});

test('a failed send keeps the draft; a recipient without a key is named before anything unencrypted goes', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const dave = uniqueName('dave');
  assert.equal((await register(stack.server, dave, strongPassword)).status, 201);
  const daveAddress = stack.address(dave);

  // No key for Dave: the confirmation names him; cancelling sends nothing.
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: [daveAddress], subject: `No key ${tag()}`, text: 'hello' });
  assert.equal(await pressSend(alice.app), 'confirm');
  const confirmation = alice.app.getByTestId('compose-confirm');
  assert.match(await confirmation.textContent(), new RegExp(daveAddress.replace('.', '\\.')));
  await alice.app.getByTestId('compose-confirm-cancel').click();
  await composeForm(alice.app).waitFor();
  assert.equal((await stack.maildirMessages(dave, 'INBOX')).length, 0, 'nothing sent before the confirmation');
  await alice.app.getByTestId('compose-discard').click();

  // External recipient, no smarthost: the error is shown, the draft is in Drafts.
  const subject = `Outside ${tag()}`;
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: ['someone@example.org'], subject, text: 'this cannot leave without a smarthost' });
  await alice.app.getByTestId('compose-save').click();
  await stack.waitForMaildir(alice.username, 'Drafts', 1);
  let outcome = await pressSend(alice.app);
  if (outcome === 'confirm') {
    await alice.app.getByTestId('compose-confirm-send').click();
    await alice.app.getByTestId('compose-error').waitFor({ timeout: 15_000 });
    outcome = 'error';
  }
  assert.equal(outcome, 'error');
  assert.match(await alice.app.getByTestId('compose-error').textContent(), /smarthost|other domains|cannot be sent|outside/i);
  assert.ok(await composeForm(alice.app).isVisible(), 'the compose form stays open');
  const drafts = await stack.maildirMessages(alice.username, 'Drafts');
  assert.ok(drafts.length >= 1, 'the draft is kept in Drafts');
  assert.equal((await stack.maildirMessages(alice.username, 'Sent')).length, 0, 'nothing in Sent');
  // openFolder waits for the Drafts list to be loaded: its rows are the server's answer.
  await openFolder(alice.app, 'Drafts');
  assert.ok(Number(await alice.app.getByTestId('mail-list').getAttribute('data-total')) >= 1, 'Drafts lists the draft');
  await messageRows(alice.app).first().waitFor({ timeout: 10_000 });
  assert.ok(await messageRows(alice.app).count() >= 1);
});
