// GnuPG ↔ the browser through the real Dovecot:
//  1. a PGP/MIME message made by GnuPG (encrypted to Alice's public key as the browser exports
//     it, signed by a gpg key whose public key Alice imported in the address book, with an
//     attachment and protected headers) is delivered over LMTP; Alice's Email tab shows it
//     decrypted, the signature verified, the attachment listed and downloadable unchanged;
//  2. a message Alice sends from the browser to a local user whose key lives in gpg decrypts and
//     verifies with `gpg --decrypt` on the raw file from that user's Maildir, and the subject is
//     nowhere in the raw file.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/gnupg-interop.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useMailStack } from './helpers/mail-stack.mjs';
import { gnupgHome } from './helpers/gnupg.mjs';
import { innerEntity, pgpMimeMail, armoredMessageOf, headerOf, messageId } from './helpers/mime.mjs';
import { register } from '../helpers/secms-server.mjs';
import { strongPassword, uniqueName } from '../e2e/helpers/app-flows.mjs';
import {
  mailUser, openRow, securityOf, readerSubject, readerBody, attachmentEntries, downloadAttachment, composeAndSend,
  exportOwnKey, importContactKey, waitForRow,
} from './helpers/mail-app.mjs';

const suite = await useMailStack();
let gpg;
before(async () => { gpg = await gnupgHome(); });
after(async () => { await gpg?.close(); });

test('a PGP/MIME mail made by GnuPG opens decrypted and verified in the browser, with its attachment', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  const aliceKey = await exportOwnKey(alice.app);
  const [aliceFpr] = await gpg.importKey(aliceKey);
  assert.equal(aliceFpr, alice.fingerprint.toUpperCase(), 'gpg reads the key the browser exported');

  const dave = await gpg.generateKey({ name: 'Dave GnuPG', email: 'dave@example.org' });
  await importContactKey(alice.app, { name: 'Dave GnuPG', email: 'dave@example.org', armored: dave.armoredPublic });

  const subject = `Quarterly numbers ${randomBytes(3).toString('hex')}`;
  const body = 'The figures are in the attached file.\nDave';
  const attachment = randomBytes(5000);
  const date = new Date();
  const id = messageId('example.org');
  const inner = innerEntity({
    text: body,
    attachments: [{ filename: 'report.bin', contentType: 'application/octet-stream', data: attachment }],
    protectedHeaders: { subject, from: 'Dave GnuPG <dave@example.org>', to: alice.address, id, date },
  });
  const armored = await gpg.encryptSign({ data: inner, recipients: [alice.fingerprint], signer: dave.fingerprint });
  const raw = pgpMimeMail({ armored, from: 'Dave GnuPG <dave@example.org>', to: alice.address, date, id });
  assert.equal(raw.includes(subject), false);
  await stack.deliver(raw, { from: 'dave@example.org', to: alice.address });

  await openRow(alice.app, 'Dave GnuPG');
  const security = await securityOf(alice.app);
  assert.equal(security.encrypted, 'true', security.text);
  assert.equal(security.signature, 'verified', security.text);
  await readerSubject(alice.app).filter({ hasText: subject }).waitFor({ timeout: 10_000 });
  assert.match(await readerBody(alice.app).textContent(), /The figures are in the attached file/);
  assert.equal(await attachmentEntries(alice.app).filter({ hasText: 'report.bin' }).count(), 1);
  const file = await downloadAttachment(alice.app, 'report.bin');
  assert.equal(file.filename, 'report.bin');
  assert.ok(file.bytes.equals(attachment), 'identical attachment bytes');
  // The decrypted subject replaces the placeholder in the list.
  await waitForRow(alice.app, subject, 10_000);
});

test('a mail sent from the browser decrypts and verifies with gpg --decrypt on the Maildir file', { timeout: 180_000 }, async (t) => {
  const { stack, browser } = suite;
  const alice = await mailUser(t, stack, browser, 'alice');
  // Carol: a local user (so LMTP delivers to her mailbox) whose key pair lives in gpg only.
  const carolName = uniqueName('carol');
  assert.equal((await register(stack.server, carolName, strongPassword)).status, 201);
  const carolAddress = stack.address(carolName);
  const carol = await gpg.generateKey({ name: 'Carol GnuPG', email: carolAddress });
  await gpg.importKey(await exportOwnKey(alice.app));
  await importContactKey(alice.app, { name: 'Carol GnuPG', email: carolAddress, armored: carol.armoredPublic });

  const subject = `Meeting notes ${randomBytes(3).toString('hex')}`;
  const text = `Secret body ${randomBytes(4).toString('hex')}`;
  await composeAndSend(alice.app, { to: [carolAddress], subject, text });

  const [raw] = await stack.waitForMaildir(carolName, 'INBOX', 1);
  assert.equal(raw.includes(subject), false, 'the subject is not in the raw file');
  assert.equal(raw.includes(text), false, 'the body is not in the raw file');
  assert.match(headerOf(raw, 'Content-Type'), /multipart\/encrypted/i);
  assert.equal(headerOf(raw, 'Subject'), '[...]');
  const armored = armoredMessageOf(raw);
  assert.ok(armored, 'an armored OpenPGP message inside');
  const result = await gpg.decrypt(armored);
  assert.ok(result.ok, result.stderr);
  assert.equal(result.signerFingerprint, alice.fingerprint.toUpperCase(), `signed by Alice: ${result.stderr}`);
  assert.ok(result.goodSignature, `a good signature: ${result.stderr}`);
  const inner = result.data.toString('utf8');
  assert.match(inner, new RegExp(`Subject: ${subject}`), 'the inner entity carries the protected subject');
  assert.match(inner, /protected-headers="v1"/);
  assert.ok(inner.includes(text), 'the body is inside (ASCII: the same in quoted-printable)');
  // Sent has the copy, encrypted too.
  const [sent] = await stack.waitForMaildir(alice.username, 'Sent', 1);
  assert.equal(sent.includes(subject), false);
  assert.ok(armoredMessageOf(sent));
});
