// Interoperability with GnuPG (the gpg binary; a missing gpg fails these tests, it never skips
// them): PGP/MIME made by gpg is read by openMessage, and what composeEncrypted makes is
// decrypted and verified by gpg; multipart/signed and inline PGP from gpg are read too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeEncrypted } from '../src/mail/pgp-mime.js';
import { openMessage } from '../src/mail/mime-read.js';
import { attachmentEntity, entityBytes, multipartEntity, textEntity } from '../src/mail/mime-build.js';
import { bytes, localCrypto, makeIdentity, text } from './helpers/mail-parties.mjs';

let home;
let gpgPublic;
const bob = await makeIdentity('bob');
const bobCrypto = localCrypto(bob.privateKey);

function gpg(args, input) {
  try {
    return execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('gpg is not installed: these interoperability tests need GnuPG (apt-get install gnupg)');
    throw new Error(`gpg ${args.join(' ')} failed: ${error.stderr?.toString() ?? error.message}`);
  }
}

before(() => {
  home = mkdtempSync(join(tmpdir(), 'secms-gpg-'));
  gpg(['--quick-gen-key', 'Gina <gina@localhost>', 'ed25519', 'sign', '0']);
  const fingerprint = /^fpr:::::::::([0-9A-F]{40}):/m.exec(gpg(['--with-colons', '--list-keys', 'gina@localhost']).toString())[1];
  gpg(['--quick-add-key', fingerprint, 'cv25519', 'encr', '0']);
  gpgPublic = gpg(['--armor', '--export', 'gina@localhost']).toString();
  gpg(['--import'], bob.armoredPublic);
});
after(() => rmSync(home, { recursive: true, force: true }));

const gpgTo = ['--trust-model', 'always', '--local-user', 'gina@localhost'];

function wrapEncrypted(armored, subject = '[...]') {
  const outer = multipartEntity('encrypted', [
    { headers: [['Content-Type', 'application/pgp-encrypted']], body: ['Version: 1\r\n'] },
    { headers: [['Content-Type', 'application/octet-stream; name="encrypted.asc"']], body: [armored.replace(/\r?\n/g, '\r\n')] },
  ], ['protocol="application/pgp-encrypted"']);
  outer.headers = [['From', '<gina@localhost>'], ['To', '<bob@localhost>'], ['Subject', subject], ['MIME-Version', '1.0'], ...outer.headers];
  return entityBytes(outer);
}

test('(a) PGP/MIME encrypted+signed by gpg with an attachment: decrypted, verified, attachment equal', async () => {
  const attachment = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 255);
  const inner = multipartEntity('mixed', [textEntity('Hello from GnuPG'), attachmentEntity({ filename: 'data.bin', contentType: 'application/octet-stream', data: attachment })]);
  inner.headers.unshift(['Subject', 'Made by gpg']);
  inner.headers[1][1] += '; protected-headers="v1"';
  const armored = gpg(['--armor', '--encrypt', '--sign', '--recipient', 'bob@localhost', ...gpgTo], entityBytes(inner)).toString();
  const model = await openMessage({ raw: wrapEncrypted(armored), crypto: bobCrypto, keyring: { verificationKeys: [gpgPublic] } });
  assert.equal(model.parse_error, null);
  assert.equal(model.security.encrypted_to_me, true);
  assert.equal(model.security.signature, 'verified');
  assert.equal(model.security.signer.email, 'gina@localhost');
  assert.equal(model.headers.subject, 'Made by gpg');
  assert.match(model.text, /Hello from GnuPG/);
  assert.equal(model.attachments.length, 1);
  assert.deepEqual(model.attachments[0].data, attachment);

  const stranger = await openMessage({ raw: wrapEncrypted(armored), crypto: bobCrypto, keyring: { verificationKeys: [] } });
  assert.equal(stranger.security.signature, 'unknown_key', 'signer key not in the keyring');
});

test('(b) composeEncrypted to the gpg key: gpg decrypts it and reports a good signature by our key', async () => {
  const raw = await composeEncrypted({
    from: { name: 'Bob', address: bob.address }, to: [{ address: 'gina@localhost' }], subject: 'For GnuPG eyes only',
    text: 'Readable by gpg', attachments: [{ filename: 'x.txt', contentType: 'text/plain', data: bytes('attached') }],
    crypto: bobCrypto, recipientKeys: [gpgPublic],
  });
  const wire = text(raw);
  assert.ok(!wire.includes('For GnuPG eyes only'));
  const armored = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(wire)[0];
  const run = spawnSync('gpg', ['--homedir', home, '--batch', '--status-fd', '2', '--decrypt'], { input: armored });
  assert.equal(run.status, 0, `gpg --decrypt failed: ${run.stderr}`);
  const decrypted = run.stdout.toString();
  const status = run.stderr.toString();
  assert.match(decrypted, /^Subject: For GnuPG eyes only\r$/m);
  assert.match(decrypted, /protected-headers="v1"/);
  assert.match(decrypted, /Readable by gpg/);
  assert.match(status, /\[GNUPG:\] GOODSIG [0-9A-F]{16}/);
  assert.match(status, new RegExp(`\\[GNUPG:\\] VALIDSIG [0-9A-F]{40} .* ${bob.privateKey.getFingerprint().toUpperCase()}\\b`));
});

test('(c) multipart/signed by gpg: verified; one changed byte → bad', async () => {
  const part = entityBytes(textEntity('Signed by GnuPG\nsecond line'));
  const signature = gpg(['--armor', '--detach-sign', ...gpgTo], part).toString();
  const build = (signedBytes) => {
    const boundary = 'gpg-signed-boundary';
    return new Uint8Array([
      ...bytes(`From: <gina@localhost>\r\nSubject: signed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature"; boundary="${boundary}"\r\n\r\n--${boundary}\r\n`),
      ...signedBytes,
      ...bytes(`\r\n--${boundary}\r\nContent-Type: application/pgp-signature\r\n\r\n${signature.replace(/\r?\n/g, '\r\n')}\r\n--${boundary}--\r\n`),
    ]);
  };
  const good = await openMessage({ raw: build(part), crypto: bobCrypto, keyring: { verificationKeys: [gpgPublic] } });
  assert.equal(good.security.kind, 'signed');
  assert.equal(good.security.signature, 'verified');
  assert.match(good.text, /Signed by GnuPG/);
  const changed = Uint8Array.from(part);
  changed[changed.length - 3] ^= 0x20;
  const bad = await openMessage({ raw: build(changed), crypto: bobCrypto, keyring: { verificationKeys: [gpgPublic] } });
  assert.equal(bad.security.signature, 'bad');
});

test('(d) inline PGP from gpg: an armored encrypted text is decrypted; a clearsigned text is verified', async () => {
  const armored = gpg(['--armor', '--encrypt', '--recipient', 'bob@localhost', ...gpgTo], 'Inline secret text, ünïcödé').toString();
  const raw = bytes(`From: <gina@localhost>\r\nTo: <bob@localhost>\r\nSubject: inline\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${armored.replace(/\r?\n/g, '\r\n')}`);
  const model = await openMessage({ raw, crypto: bobCrypto, keyring: { verificationKeys: [gpgPublic] } });
  assert.equal(model.security.kind, 'inline-pgp');
  assert.equal(model.security.encrypted_to_me, true);
  assert.equal(model.text, 'Inline secret text, ünïcödé');

  const clearsigned = gpg(['--clearsign', ...gpgTo], 'Cleartext signed line\n').toString();
  const signedRaw = bytes(`From: <gina@localhost>\r\nSubject: clearsigned\r\nContent-Type: text/plain\r\n\r\n${clearsigned.replace(/\r?\n/g, '\r\n')}`);
  const signed = await openMessage({ raw: signedRaw, crypto: bobCrypto, keyring: { verificationKeys: [gpgPublic] } });
  assert.equal(signed.security.kind, 'inline-pgp');
  assert.equal(signed.security.signature, 'verified');
  assert.match(signed.text, /Cleartext signed line/);
});
