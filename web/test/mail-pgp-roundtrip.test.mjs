// Round trips: composeEncrypted / composeSigned / composePlain → openMessage, with real OpenPGP.js
// keys and the real mail-crypto.js operations (in process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeEncrypted, composePlain, composeSigned } from '../src/mail/pgp-mime.js';
import { openMessage } from '../src/mail/mime-read.js';
import { buildMessage } from '../src/mail/mime-build.js';
import { bytes, localCrypto, makeIdentity, text } from './helpers/mail-parties.mjs';

const alice = await makeIdentity('alice');
const bob = await makeIdentity('bob');
const carol = await makeIdentity('carol');
const aliceCrypto = localCrypto(alice.privateKey);
const bobCrypto = localCrypto(bob.privateKey);
const carolCrypto = localCrypto(carol.privateKey);

const secretSubject = 'Quarterly numbers: très confidentiel';
const fields = {
  from: { name: 'Alice', address: alice.address },
  to: [{ name: 'Bob', address: bob.address }],
  subject: secretSubject,
  text: 'The numbers are attached.\nRegards',
  html: '<p>The numbers are attached.</p>',
  attachments: [{ filename: 'numbers.bin', contentType: 'application/octet-stream', data: Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 255) }],
  readReceiptTo: { address: alice.address },
};

test('plain: built, read back with Autocrypt header of the sender', async () => {
  const raw = composePlain({ ...fields, autocryptKey: alice.armoredPublic });
  const model = await openMessage({ raw, crypto: bobCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(model.parse_error, null);
  assert.equal(model.headers.subject, secretSubject);
  assert.equal(model.security.kind, 'plain');
  assert.equal(model.security.signature, 'none');
  assert.equal(model.autocrypt?.addr, alice.address);
  assert.equal(model.autocrypt?.prefer_encrypt, 'mutual');
  assert.match(model.autocrypt.keydata, /BEGIN PGP PUBLIC KEY BLOCK/);
  assert.equal(model.read_receipt_to, alice.address);
  assert.deepEqual(model.attachments[0].data, fields.attachments[0].data);
});

test('encrypted + signed: the subject is absent from the raw bytes; Bob decrypts, verifies, sees the protected subject and the attachment', async () => {
  const raw = await composeEncrypted({ ...fields, crypto: aliceCrypto, recipientKeys: [bob.armoredPublic], autocryptKey: alice.armoredPublic });
  const wire = text(raw);
  assert.ok(!wire.includes('Quarterly'), 'the subject must not appear in the transported bytes');
  assert.ok(!wire.includes('The numbers are attached'), 'nor the body');
  assert.match(wire, /^Subject: \[\.\.\.\]\r$/m);
  assert.match(wire, /Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted";/);
  assert.match(wire, /\r\nVersion: 1\r\n/);
  assert.doesNotMatch(wire, /(^|[^\r])\n/, 'CRLF line ends only');

  const model = await openMessage({ raw, crypto: bobCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(model.parse_error, null);
  assert.equal(model.headers.subject, secretSubject);
  assert.equal(model.security.encrypted, true);
  assert.equal(model.security.encrypted_to_me, true);
  assert.equal(model.security.protected_subject, true);
  assert.equal(model.security.kind, 'pgp-mime');
  assert.equal(model.security.signature, 'verified');
  assert.equal(model.security.signer.fingerprint, alice.privateKey.getFingerprint().toUpperCase());
  assert.equal(model.security.signer.email, alice.address);
  assert.match(model.text, /The numbers are attached/);
  assert.match(model.html, /<p>The numbers/);
  assert.equal(model.attachments.length, 1);
  assert.deepEqual(model.attachments[0].data, fields.attachments[0].data);
  assert.equal(model.read_receipt_to, alice.address);
  assert.ok(!model.headers.list.some(([name]) => name === 'HP-Outer'));

  // The sender can read what she sent (always encrypted to the own key too).
  const own = await openMessage({ raw, crypto: aliceCrypto, keyring: { verificationKeys: [] } });
  assert.equal(own.headers.subject, secretSubject);
  assert.equal(own.security.signature, 'verified');
});

test('encrypted to two recipients: gossip headers inside, read only from the decrypted signed part', async () => {
  const raw = await composeEncrypted({
    ...fields, to: [{ address: bob.address }, { address: carol.address }], crypto: aliceCrypto,
    recipientKeys: [bob.armoredPublic, carol.armoredPublic],
    gossip: [{ addr: bob.address, armored: bob.armoredPublic }, { addr: carol.address, armored: carol.armoredPublic }],
  });
  assert.ok(!text(raw).includes('Autocrypt-Gossip'), 'gossip travels encrypted');
  const model = await openMessage({ raw, crypto: carolCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.deepEqual(model.gossip.map((entry) => entry.addr).sort(), [bob.address, carol.address]);
  assert.match(model.gossip[0].keydata, /BEGIN PGP PUBLIC KEY BLOCK/);
});

test('signed: verified; one changed byte in the signed part → bad; unknown signer → unknown_key', async () => {
  const raw = await composeSigned({ ...fields, crypto: aliceCrypto, autocryptKey: alice.armoredPublic });
  // micalg names the hash the signature really uses (RFC 3156 §5): the key's preference decides.
  const micalg = /Content-Type: multipart\/signed; micalg=(pgp-sha(?:256|384|512));/.exec(text(raw))?.[1];
  assert.ok(micalg, 'multipart/signed with a SHA-2 micalg');
  const signature = /-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----/.exec(text(raw))[0];
  const { readSignature, enums } = await import('openpgp');
  assert.equal(`pgp-${enums.read(enums.hash, (await readSignature({ armoredSignature: signature })).packets[0].hashAlgorithm)}`, micalg);
  const good = await openMessage({ raw, crypto: bobCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(good.security.kind, 'signed');
  assert.equal(good.security.signature, 'verified');
  assert.equal(good.headers.subject, secretSubject);
  assert.deepEqual(good.attachments[0].data, fields.attachments[0].data);

  const wire = text(raw);
  const at = wire.indexOf('The numbers are attached') !== -1 ? wire.indexOf('The numbers are attached') : wire.indexOf('=46rom');
  assert.ok(at > 0);
  const changed = Uint8Array.from(raw);
  changed[at] ^= 0x01;
  const bad = await openMessage({ raw: changed, crypto: bobCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(bad.security.signature, 'bad');

  const unknown = await openMessage({ raw, crypto: bobCrypto, keyring: { verificationKeys: [carol.armoredPublic] } });
  assert.equal(unknown.security.signature, 'unknown_key');
  assert.equal(unknown.security.signer, null);
});

test('not for me → decryption_error not_for_me; truncated armor → corrupt; locked → locked', async () => {
  const raw = await composeEncrypted({ ...fields, crypto: aliceCrypto, recipientKeys: [bob.armoredPublic] });
  const notMine = await openMessage({ raw, crypto: carolCrypto, keyring: {} });
  assert.equal(notMine.security.encrypted, true);
  assert.equal(notMine.security.encrypted_to_me, false);
  assert.equal(notMine.security.decryption_error, 'not_for_me');
  assert.equal(notMine.text, null);
  assert.equal(notMine.headers.subject, '[...]');

  const wire = text(raw);
  const end = wire.indexOf('-----END PGP MESSAGE-----');
  const truncated = bytes(wire.slice(0, end - 400) + wire.slice(end));
  const corrupt = await openMessage({ raw: truncated, crypto: bobCrypto, keyring: {} });
  assert.equal(corrupt.security.decryption_error, 'corrupt');

  const locked = await openMessage({ raw, crypto: localCrypto(null), keyring: {} });
  assert.equal(locked.security.decryption_error, 'locked');
  const noWorker = await openMessage({ raw, crypto: null, keyring: {} });
  assert.equal(noWorker.security.decryption_error, 'locked');
});

test('a 3 MiB attachment is encrypted with progress events and decrypted to equal bytes', async () => {
  const big = new Uint8Array(3 * 1024 * 1024);
  for (let offset = 0; offset < big.length; offset += 65536) globalThis.crypto.getRandomValues(big.subarray(offset, offset + 65536));
  const sender = localCrypto(alice.privateKey);
  const raw = await composeEncrypted({
    ...fields, attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', data: big }], crypto: sender,
    recipientKeys: [bob.armoredPublic], job: 'job-1',
  });
  assert.ok(sender.events.length >= 4, 'progress events while encrypting');
  assert.ok(sender.events.every((event) => event.type === 'mail.progress' && event.job === 'job-1'));
  assert.equal(sender.events.at(-1).done, sender.events.at(-1).total);
  const receiver = localCrypto(bob.privateKey);
  const model = await openMessage({ raw, crypto: receiver, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(model.security.signature, 'verified');
  assert.equal(model.attachments[0].size, big.length);
  assert.deepEqual(model.attachments[0].data, big);
  assert.ok(receiver.events.length > 0, 'progress events while decrypting');
});

test('a File attachment streams: encrypted, signed and plain messages are Blobs that read back exact', async () => {
  const big = new Uint8Array(3 * 1024 * 1024 + 5);
  for (let offset = 0; offset < big.length; offset += 65536) globalThis.crypto.getRandomValues(big.subarray(offset, Math.min(big.length, offset + 65536)));
  const file = new File([big], 'big.bin', { type: 'application/octet-stream' });
  const withFile = { ...fields, attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', data: file }] };
  const blobBytes = async (blob) => {
    assert.ok(blob instanceof Blob, 'a message with a Blob attachment is made as a Blob');
    return new Uint8Array(await blob.arrayBuffer());
  };

  const sender = localCrypto(alice.privateKey);
  const encrypted = await composeEncrypted({ ...withFile, crypto: sender, recipientKeys: [bob.armoredPublic], job: 'job-2', autocryptKey: alice.armoredPublic });
  const encryptedRaw = await blobBytes(encrypted);
  const wire = text(encryptedRaw);
  assert.ok(!wire.includes('Quarterly'), 'the subject must not appear in the transported bytes');
  assert.doesNotMatch(wire, /(^|[^\r])\n/, 'CRLF line ends only');
  assert.match(wire, /Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted";/);
  assert.ok(sender.events.length >= 4 && sender.events.every((event) => event.job === 'job-2'), 'progress events while the Blob streams');
  assert.equal(sender.events.at(-1).done, sender.events.at(-1).total);
  const opened = await openMessage({ raw: encryptedRaw, crypto: localCrypto(bob.privateKey), keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(opened.security.signature, 'verified');
  assert.equal(opened.headers.subject, secretSubject);
  assert.deepEqual(opened.attachments[0].data, big);

  const signed = await blobBytes(await composeSigned({ ...withFile, crypto: aliceCrypto }));
  const verified = await openMessage({ raw: signed, crypto: bobCrypto, keyring: { verificationKeys: [alice.armoredPublic] } });
  assert.equal(verified.security.kind, 'signed');
  assert.equal(verified.security.signature, 'verified');
  assert.deepEqual(verified.attachments[0].data, big);

  const plain = await blobBytes(await composePlain(withFile));
  const read = await openMessage({ raw: plain, crypto: bobCrypto, keyring: { verificationKeys: [] } });
  assert.deepEqual(read.attachments[0].data, big);

  // A draft: encrypted to the own key only, Bcc kept inside.
  const draft = await blobBytes(await composeEncrypted({ ...withFile, bcc: [{ address: carol.address }], crypto: aliceCrypto, recipientKeys: [], sign: false, keepBcc: true }));
  const reopened = await openMessage({ raw: draft, crypto: aliceCrypto, keyring: { verificationKeys: [] } });
  assert.deepEqual(reopened.headers.bcc.map((entry) => entry.address), [carol.address]);
  assert.deepEqual(reopened.attachments[0].data, big);
});

test('a bad recipient key is refused naming its index', async () => {
  await assert.rejects(
    composeEncrypted({ ...fields, crypto: aliceCrypto, recipientKeys: [bob.armoredPublic, alice.privateKey.armor()] }),
    (error) => error.code === 'bad_recipient_key' && error.index === 1,
  );
  await assert.rejects(
    composeEncrypted({ ...fields, crypto: aliceCrypto, recipientKeys: ['not a key'] }),
    (error) => error.code === 'bad_recipient_key' && error.index === 0,
  );
});

test('plain message built by buildMessage keeps Bcc for drafts; compose* never write it', async () => {
  const withBcc = { ...fields, bcc: [{ address: carol.address }] };
  assert.match(text(buildMessage(withBcc)), /^Bcc: <carol@localhost>\r$/m);
  assert.doesNotMatch(text(composePlain(withBcc)), /^Bcc:/m);
  assert.doesNotMatch(text(await composeSigned({ ...withBcc, crypto: aliceCrypto })), /^Bcc:/m);
});
