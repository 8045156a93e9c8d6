// Large attachments through the Email tab's streamed send path (the File kept as it is, streamed
// through base64 into a Blob message, encrypted in the Worker from the Blob, uploaded as a Blob):
//  - a 20 MiB attachment sent unencrypted (confirmed): the raw message in the recipient's Maildir
//    and in the sender's Sent holds it with an equal SHA-256, and the recipient's Email tab
//    downloads it with an equal SHA-256;
//  - a 12 MiB attachment sent encrypted and signed: the Maildir file has neither subject nor
//    attachment in the clear, the recipient decrypts and verifies it and downloads it with an
//    equal SHA-256. (12 MiB: encrypted, its armor is ~23 MiB, under the 32 MiB a message is
//    read up to; a 20 MiB attachment encrypted would be ~38 MiB.)
// The server's maximum message size is raised to 48 MiB for these (default 25 MiB).
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/large-attachment.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import PostalMime from 'postal-mime';
import { useMailStack } from './helpers/mail-stack.mjs';
import { headerOf } from './helpers/mime.mjs';
import {
  mailUser, exchangeKeysByChannel, openRow, openThisRow, openEmailTab, messageRows, readerSubject, securityOf, downloadAttachment,
  fillCompose, pressSend, startCompose, composeForm, eventually,
} from './helpers/mail-app.mjs';

const MIB = 1024 * 1024;
const suite = await useMailStack({ mail: { '--mail-max-message-bytes': String(48 * MIB) } });
const tag = () => randomBytes(3).toString('hex');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The attachment named `filename` in a raw message (parsed by postal-mime), or null. */
async function attachmentOf(raw, filename) {
  const parsed = await PostalMime.parse(raw);
  const found = parsed.attachments.find((attachment) => attachment.filename === filename);
  return found ? Buffer.from(found.content) : null;
}

/** Sends the open compose form; confirms sending unencrypted when asked and `unencrypted`. */
async function send(app, { unencrypted }) {
  let outcome = await pressSend(app, 120_000);
  if (outcome === 'confirm' && unencrypted) {
    await app.getByTestId('compose-confirm-send').click();
    await composeForm(app).waitFor({ state: 'detached', timeout: 120_000 });
    outcome = 'sent';
  }
  if (outcome !== 'sent') {
    const error = await app.getByTestId('compose-error').textContent({ timeout: 1_000 }).catch(() => '');
    throw new Error(`send ended as ${outcome} ${error}`);
  }
}

test('a 20 MiB attachment unencrypted and a 12 MiB one encrypted arrive with equal SHA-256', { timeout: 420_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const bob = await mailUser(t, stack, browser, 'bob');

  // 20 MiB, unencrypted (Bob's key is not known yet: the confirmation comes first).
  const big = randomBytes(20 * MIB);
  const bigSubject = `Big file ${tag()}`;
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: [bob.address], subject: bigSubject, text: 'The big file.', attachments: [{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big }] });
  await send(alice.app, { unencrypted: true });
  const [delivered] = await stack.waitForMaildir(bob.username, 'INBOX', 1, 60_000);
  assert.equal(headerOf(delivered, 'Subject'), bigSubject);
  assert.equal(sha256(await attachmentOf(delivered, 'big.bin') ?? ''), sha256(big), 'the delivered message holds the attachment unchanged');
  const [sent] = await stack.waitForMaildir(alice.username, 'Sent', 1, 60_000);
  assert.equal(sha256(await attachmentOf(sent, 'big.bin') ?? ''), sha256(big), 'the Sent copy holds it unchanged');
  await openRow(bob.app, bigSubject, { timeoutMs: 60_000 });
  const bigDownload = await downloadAttachment(bob.app, 'big.bin');
  assert.equal(sha256(bigDownload.bytes), sha256(big), 'downloaded in the recipient\'s Email tab unchanged');

  // 12 MiB, encrypted and signed.
  await exchangeKeysByChannel(alice, bob);
  for (const user of [alice, bob]) await openEmailTab(user.app);
  const secret = randomBytes(12 * MIB);
  const secretSubject = `Sealed file ${tag()}`;
  await startCompose(alice.app);
  await fillCompose(alice.app, { to: [bob.address], subject: secretSubject, text: 'The sealed file.', attachments: [{ name: 'sealed.bin', mimeType: 'application/octet-stream', buffer: secret }] });
  await send(alice.app, { unencrypted: false });
  const inbox = await stack.waitForMaildir(bob.username, 'INBOX', 2, 60_000);
  const encrypted = inbox.find((raw) => headerOf(raw, 'Subject') === '[...]');
  assert.ok(encrypted, 'the encrypted message is delivered with the subject hidden');
  assert.match(headerOf(encrypted, 'Content-Type'), /multipart\/encrypted/i);
  assert.equal(encrypted.includes(secretSubject), false, 'subject absent from the raw file');
  assert.equal(encrypted.includes(secret.subarray(0, 64)), false, 'attachment absent in the clear');
  // The list shows the encrypted one without its subject: the row that is not the first message.
  const sealedRow = messageRows(bob.app).filter({ hasNotText: bigSubject });
  await eventually(async () => (await sealedRow.count()) === 1 || `${await messageRows(bob.app).count()} rows`, 'the encrypted message listed', 30_000);
  await openThisRow(bob.app, sealedRow.first(), { timeoutMs: 60_000 });
  await readerSubject(bob.app).filter({ hasText: secretSubject }).waitFor({ timeout: 60_000 });
  const security = await securityOf(bob.app);
  assert.equal(security.encrypted, 'true', security.text);
  assert.equal(security.signature, 'verified', security.text);
  const secretDownload = await downloadAttachment(bob.app, 'sealed.bin');
  assert.equal(sha256(secretDownload.bytes), sha256(secret), 'decrypted and downloaded unchanged');
});
