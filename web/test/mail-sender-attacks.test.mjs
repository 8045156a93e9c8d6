// A hostile sender (or a hostile server on the way) against the reading side of the Email tab:
// each test is one attack of the review r1 (signature trust bound to the From address through the
// key directory, protected headers, unsigned encrypted mail, compression bombs, inline PGP, vCard
// keys, gossip, attachment names) and fails when the attack works again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { createMailCrypto, MAX_DECOMPRESSED_BYTES } from '../src/crypto/mail-crypto.js';
import { setLanguage } from '../src/i18n/index.js';
import { localCrypto } from './helpers/mail-parties.mjs';

setLanguage('en');

async function makeKey(name, email, extraEmails = []) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email }, ...extraEmails.map((extra) => ({ name, email: extra }))], format: 'object', config: { v6Keys: false },
  });
  return { privateKey, armoredPublic: privateKey.toPublic().armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

const bob = await makeKey('Bob', 'bob@localhost');

// ---- F5: compression bomb ---------------------------------------------------------------------

test('F5: a compressed message that inflates past the limit is refused as too_large, without inflating it all', async () => {
  const size = MAX_DECOMPRESSED_BYTES + (16 << 20);
  let left = size;
  const zeros = new Uint8Array(4 << 20);
  const source = new ReadableStream({
    pull(controller) {
      if (left <= 0) { controller.close(); return; }
      const n = Math.min(left, zeros.length);
      controller.enqueue(zeros.subarray(0, n));
      left -= n;
    },
  });
  const message = await openpgp.createMessage({ binary: source });
  const armoredStream = await openpgp.encrypt({ message, encryptionKeys: bob.privateKey.toPublic(), config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } });
  let armored = '';
  for await (const piece of armoredStream) armored += piece;
  assert.ok(armored.length < 1 << 20, 'the bomb is small on the wire');
  const mail = createMailCrypto({ identity: () => bob.privateKey });
  await assert.rejects(mail.decrypt({ data: armored, verificationKeys: [] }), (error) => {
    assert.equal(error.code, 'decrypt_failed');
    assert.equal(error.reason, 'too_large');
    return true;
  });
  // The reader says so in words.
  const { openMessage } = await import('../src/mail/mime-read.js');
  const raw = new TextEncoder().encode([
    'From: <mallory@evil.example>', 'To: <bob@localhost>', 'Subject: [...]', 'MIME-Version: 1.0',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"', '',
    '--b', 'Content-Type: application/pgp-encrypted', '', 'Version: 1', '',
    '--b', 'Content-Type: application/octet-stream', '', armored, '--b--', '',
  ].join('\r\n'));
  const model = await openMessage({ raw, crypto: localCrypto(bob.privateKey), keyring: { verificationKeys: [] } });
  assert.equal(model.security.decryption_error, 'too_large');
  const { securitySummary } = await import('../src/ui/mail/mail-security.js');
  assert.ok(securitySummary(model.security).lines.some((line) => /too large once decompressed/.test(line)));
});

test('F5: an ordinary compressed message still opens', async () => {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode('hello '.repeat(1000)) });
  const armored = await openpgp.encrypt({ message, encryptionKeys: bob.privateKey.toPublic(), config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } });
  const mail = createMailCrypto({ identity: () => bob.privateKey });
  const { data } = await mail.decrypt({ data: armored, verificationKeys: [] });
  assert.equal(data.length, 6000);
});

// ---- the victim's Email tab: real controller, store, key directory, mime-read -----------------

const { openMessage } = await import('../src/mail/mime-read.js');
const { composeEncrypted, composeSigned, composePlain } = await import('../src/mail/pgp-mime.js');
const { createKeyDirectory } = await import('../src/mail/key-directory.js');
const { readCertificateFacts } = await import('../src/crypto/certificate-facts.js');
const { createMailStore } = await import('../src/state/mail-store.js');
const { createMailController } = await import('../src/app/mail-controller.js');
const { securitySummary } = await import('../src/ui/mail/mail-security.js');
const { signatureTrust } = await import('../src/mail/signer-trust.js');

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k) };
}
const keyDirectory = () => createKeyDirectory({ storage: memoryStorage(), account: 'bob', readKeyFacts: (armored) => readCertificateFacts({ armored }) });
const wire = (value) => (typeof value === 'string' ? new TextEncoder().encode(value) : value);
const asText = (value) => new TextDecoder().decode(value);

function victim({ keys, addressBook = null, privateKey = bob.privateKey }) {
  const mailbox = new Map();
  const sent = [];
  const api = {
    status: async () => ({ enabled: true, address: 'bob@localhost', domain: 'localhost', account: 'local', external: null, smarthost: false, max_message_bytes: 25 << 20, connection: 'connected', error: null }),
    folders: async () => ({ folders: [{ path: 'INBOX', name: 'INBOX', special_use: 'inbox', total: mailbox.size, unseen: 0 }, { path: 'Drafts', special_use: 'drafts' }, { path: 'Sent', special_use: 'sent' }] }),
    messages: async (p) => ({ folder: 'INBOX', uidvalidity: 1, total: mailbox.size, offset: p.offset, messages: [...mailbox.keys()].map((uid) => ({ uid, flags: ['\\Seen'], subject: '', from: [] })) }),
    setFlags: async () => null,
    rawMessage: async (folder, uid) => mailbox.get(uid),
    send: async (body) => { sent.push(body); return { sent: true, sent_uid: 1, refused: [] }; },
    append: async () => ({ uid: 9 }),
  };
  const store = createMailStore();
  const controller = createMailController({
    api, store, crypto: () => localCrypto(privateKey), mime: { openMessage, composeEncrypted, composeSigned, composePlain }, keys, addressBook,
    setTimeout: () => 0, clearTimeout: () => {}, account: 'bob',
    // What the Worker reports for the unlocked identity (identity.status).
    ownFingerprint: async () => privateKey.getFingerprint().toUpperCase(),
  });
  let next = 1;
  const deliver = (raw) => { const uid = next++; mailbox.set(uid, wire(raw)); return uid; };
  const banner = (message) => securitySummary(message.security, store.get().keys, message.headers.from[0]?.address ?? null);
  return { store, actions: controller.actions, sent, deliver, banner, keys };
}

const saysVerified = (summary) => summary.lines.some((line) => /signature verified/.test(line));

// ---- F1 / F1b / F2: who signed is decided by the key directory, for the From address ---------

test('F1: a key learnt for another address that names the boss in its user ID does not verify mail From: boss', async () => {
  const boss = await makeKey('Boss', 'boss@localhost');
  const mallory = await makeKey('Boss', 'boss@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'boss@localhost', armored: boss.armoredPublic, source: 'pinned' });
  const v = victim({ keys });
  await v.actions.start();
  await v.actions.open(v.deliver(composePlain({ from: { address: 'mallory@evil.example' }, to: [{ address: 'bob@localhost' }], subject: 'hello', text: 'hi', autocryptKey: mallory.armoredPublic })));
  assert.equal(keys.keyFor('mallory@evil.example')?.fingerprint, mallory.fingerprint);
  const message = await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(mallory.privateKey), recipientKeys: [bob.armoredPublic],
    from: { name: 'Boss', address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'Wire 40k today', text: 'Pay today.',
  })));
  assert.notEqual(signatureTrust(message.security), 'verified');
  assert.equal(signatureTrust(message.security), 'other_address');
  const summary = v.banner(message);
  assert.ok(!saysVerified(summary), summary.lines.join(' | '));
  assert.notEqual(summary.tone, 'ok');
  assert.ok(summary.lines.some((line) => line.includes('Signed by mallory@evil.example, not by the sender boss@localhost')), summary.lines.join(' | '));
  // The boss's real key still verifies the boss (and is green when encrypted).
  const genuine = await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(boss.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(signatureTrust(genuine.security), 'verified');
  assert.equal(v.banner(genuine).tone, 'ok');
  assert.ok(v.banner(genuine).lines.some((line) => line.includes('Signed by boss@localhost')));
});

test('F1b: a key verified for mallory whose user IDs also say boss is not the boss', async () => {
  const boss = await makeKey('Boss', 'boss@localhost');
  const twoFaced = await makeKey('Boss', 'boss@localhost', ['mallory@localhost']);
  const keys = keyDirectory();
  await keys.learn({ address: 'boss@localhost', armored: boss.armoredPublic, source: 'pinned' });
  await keys.learn({ address: 'mallory@localhost', armored: twoFaced.armoredPublic, source: 'verified' });
  const v = victim({ keys });
  await v.actions.start();
  const message = await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(twoFaced.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(message.security.signer.from_matches, false);
  assert.equal(signatureTrust(message.security), 'other_address');
  assert.ok(!saysVerified(v.banner(message)));
  // Even with no key at all for the boss, the user ID does not bind it.
  const keys2 = keyDirectory();
  await keys2.learn({ address: 'mallory@localhost', armored: twoFaced.armoredPublic, source: 'verified' });
  const v2 = victim({ keys: keys2 });
  await v2.actions.start();
  const again = await v2.actions.open(v2.deliver(await composeSigned({ crypto: localCrypto(twoFaced.privateKey), from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't' })));
  assert.equal(signatureTrust(again.security), 'other_address');
});

test('F2: a key learnt from an Autocrypt header is "learnt, not verified"; a changed key not accepted verifies nothing', async () => {
  const fakeCarol = await makeKey('Carol', 'carol@localhost');
  const dave = await makeKey('Dave', 'dave@localhost');
  const fakeDave = await makeKey('Dave', 'dave@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'dave@localhost', armored: dave.armoredPublic, source: 'verified' });
  const v = victim({ keys });
  await v.actions.start();
  // (a) spoofed From: carol with an Autocrypt header, then a signed mail "from carol".
  await v.actions.open(v.deliver(composePlain({ from: { address: 'carol@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'phone', text: 'hi', autocryptKey: fakeCarol.armoredPublic })));
  let message = await v.actions.open(v.deliver(await composeSigned({ crypto: localCrypto(fakeCarol.privateKey), from: { address: 'carol@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'bank', text: 'IBAN XX00 EVIL' })));
  assert.equal(signatureTrust(message.security), 'learnt');
  let summary = v.banner(message);
  assert.ok(!saysVerified(summary));
  assert.ok(summary.lines.some((line) => /learned from this sender's mail .*not verified/.test(line)), summary.lines.join(' | '));
  // Encrypted + learnt key: not green either.
  message = await v.actions.open(v.deliver(await composeEncrypted({ crypto: localCrypto(fakeCarol.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'carol@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't' })));
  assert.notEqual(v.banner(message).tone, 'ok');
  // (b) spoofed From: dave with another key → pending change; a mail signed with that key.
  await v.actions.open(v.deliver(composePlain({ from: { address: 'dave@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'x', text: 'x', autocryptKey: fakeDave.armoredPublic })));
  assert.equal(keys.keyFor('dave@localhost').state, 'changed');
  assert.ok(!keys.verificationKeys().some((armored) => armored.trim() === fakeDave.armoredPublic.trim()), 'a pending key is no verification key');
  message = await v.actions.open(v.deliver(await composeSigned({ crypto: localCrypto(fakeDave.privateKey), from: { address: 'dave@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'y', text: 'y' })));
  assert.equal(message.security.signature, 'unknown_key');
  summary = v.banner(message);
  assert.ok(!saysVerified(summary));
  assert.equal(summary.tone, 'danger');
  assert.ok(summary.lines.some((line) => /key of dave@localhost has changed/.test(line)), summary.lines.join(' | '));
  // Dave's real (verified) key while the change is unsettled: not green, a warning.
  message = await v.actions.open(v.deliver(await composeEncrypted({ crypto: localCrypto(dave.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'dave@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'z', text: 'z' })));
  assert.equal(signatureTrust(message.security), 'changed');
  assert.notEqual(v.banner(message).tone, 'ok');
  keys.rejectChange('dave@localhost');
  message = await v.actions.open(v.deliver(await composeEncrypted({ crypto: localCrypto(dave.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'dave@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'z', text: 'z' })));
  assert.equal(signatureTrust(message.security), 'verified');
});

test('F1: the own key verifies mail from the own address only', async () => {
  const keys = keyDirectory();
  const v = victim({ keys });
  await v.actions.start();
  const mine = await v.actions.open(v.deliver(await composeEncrypted({ crypto: localCrypto(bob.privateKey), recipientKeys: [], from: { address: 'bob@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't' })));
  assert.equal(signatureTrust(mine.security), 'verified');
  const spoof = await v.actions.open(v.deliver(await composeSigned({ crypto: localCrypto(bob.privateKey), from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't' })));
  assert.equal(signatureTrust(spoof.security), 'other_address');
});

// ---- F3: outer fields next to protected headers ---------------------------------------------

const addOuter = (raw, lines) => wire(asText(raw).replace('\r\n', `\r\n${lines.join('\r\n')}\r\n`));

test('F3: Reply-To / Cc / read-receipt requests a relay adds outside protected headers are ignored; Reply goes to the protected sender', async () => {
  const alice = await makeKey('Alice', 'alice@localhost');
  const mallory = await makeKey('Mallory', 'mallory@evil.example');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  await keys.learn({ address: 'mallory@evil.example', armored: mallory.armoredPublic, source: 'autocrypt' });
  const v = victim({ keys });
  await v.actions.start();
  const injected = ['Reply-To: mallory@evil.example', 'Cc: mallory@evil.example', 'Disposition-Notification-To: mallory@evil.example', 'Mail-Followup-To: mallory@evil.example'];
  for (const make of [
    () => composeEncrypted({ crypto: localCrypto(alice.privateKey), recipientKeys: [bob.armoredPublic], from: { name: 'Alice', address: 'alice@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'merger', text: 'The price is 41.20. Secret.' }),
    () => composeSigned({ crypto: localCrypto(alice.privateKey), from: { name: 'Alice', address: 'alice@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'merger', text: 'Signed only.' }),
  ]) {
    const uid = v.deliver(addOuter(await make(), injected));
    const message = await v.actions.open(uid);
    assert.equal(signatureTrust(message.security), 'verified');
    assert.deepEqual(message.headers.from.map((a) => a.address), ['alice@localhost']);
    assert.deepEqual(message.headers.reply_to, []);
    assert.deepEqual(message.headers.cc, []);
    assert.equal(message.read_receipt_to, null);
    assert.ok(message.security.outer_ignored.includes('reply-to'), JSON.stringify(message.security.outer_ignored));
    for (const mode of ['reply', 'reply_all']) {
      const id = await v.actions.compose({ mode, uid });
      const draft = v.store.draft(id);
      const everyone = [...draft.to, ...(draft.cc ?? []), ...(draft.bcc ?? [])].map((a) => a.address);
      assert.ok(!everyone.includes('mallory@evil.example'), `${mode}: ${everyone}`);
      assert.ok(everyone.includes('alice@localhost'), `${mode}: ${everyone}`);
    }
  }
});

// ---- F4: encrypted but unsigned ---------------------------------------------------------------

test('F4: an encrypted unsigned message is not green and its inner From does not replace the outer From', async () => {
  const mallory = await makeKey('Mallory', 'mallory@evil.example');
  const keys = keyDirectory();
  const v = victim({ keys });
  await v.actions.start();
  const raw = await composeEncrypted({
    crypto: localCrypto(mallory.privateKey), recipientKeys: [bob.armoredPublic], sign: false,
    from: { name: 'CEO', address: 'ceo@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'urgent', text: 'Buy 20 gift cards.',
  });
  const forged = wire(asText(raw).replace(/^From: .*$/m, 'From: <mallory@evil.example>\r'));
  const message = await v.actions.open(v.deliver(forged));
  assert.equal(message.security.signature, 'none');
  assert.deepEqual(message.headers.from.map((a) => a.address), ['mallory@evil.example']);
  assert.equal(message.security.unproven_from, 'ceo@localhost');
  const summary = v.banner(message);
  assert.notEqual(summary.tone, 'ok');
  assert.ok(summary.lines.some((line) => /Encrypted, but not signed: the sender is not proven/.test(line)), summary.lines.join(' | '));
  assert.ok(summary.lines.some((line) => line.includes('ceo@localhost') && line.includes('mallory@evil.example')), summary.lines.join(' | '));
  // Unsigned with the same From inside and out: no mismatch line, still not green.
  const plainUnsigned = await v.actions.open(v.deliver(raw));
  assert.equal(plainUnsigned.security.unproven_from, null);
  assert.notEqual(v.banner(plainUnsigned).tone, 'ok');
});

test('suspicion: a protected Subject with CR/LF is one line and Reply does not throw', async () => {
  const alice = await makeKey('Alice', 'alice@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  const v = victim({ keys });
  await v.actions.start();
  const { privateKey } = alice;
  // An encoded word that decodes to CR LF, in the protected (inner) and the outer Subject.
  const signed = asText(await composeSigned({ crypto: localCrypto(privateKey), from: { address: 'alice@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'x', text: 't' }));
  const encodedWord = `=?utf-8?B?${Buffer.from('Invoice\r\nBcc: mallory@evil.example').toString('base64')}?=`;
  const hostile = wire(signed.replace(/^Subject: x\r$/gm, `Subject: ${encodedWord}\r`));
  const uid = v.deliver(hostile);
  const opened = await v.actions.open(uid);
  assert.ok(!/[\r\n]/.test(opened.headers.subject), JSON.stringify(opened.headers.subject));
  const id = await v.actions.compose({ mode: 'reply', uid });
  assert.ok(!/[\r\n]/.test(v.store.draft(id).subject));
});

// ---- F9: keys in vCards ------------------------------------------------------------------------

test('F9: a vCard key is stored only for addresses its own user IDs name and never replaces a pinned key silently', async () => {
  const { createAddressBook } = await import('../src/mail/address-book.js');
  const boss = await makeKey('Boss', 'boss@localhost');
  const mallory = await makeKey('Mallory', 'mallory@evil.example');
  const bossNew = await makeKey('Boss', 'boss@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'boss@localhost', armored: boss.armoredPublic, source: 'pinned' });
  const v = victim({ keys, addressBook: createAddressBook({ storage: memoryStorage(), account: 'bob' }) });
  const card = (name, email, armored) => `BEGIN:VCARD\r\nVERSION:4.0\r\nFN:${name}\r\nEMAIL:${email}\r\nKEY:${armored.replace(/\n/g, '\\n')}\r\nEND:VCARD\r\n`;
  // Mallory's key (user ID mallory only) in a card for boss: refused for boss.
  const first = await v.actions.importVCard(card('Boss', 'boss@localhost', mallory.armoredPublic));
  assert.deepEqual(first.keys, [{ address: 'boss@localhost', result: 'address_not_in_key' }]);
  assert.equal(keys.keyFor('boss@localhost').fingerprint, boss.fingerprint);
  // A key that does name boss, but boss's key is pinned: a pending change, the pinned key stays in use.
  const v2 = victim({ keys, addressBook: createAddressBook({ storage: memoryStorage(), account: 'bob' }) });
  const second = await v2.actions.importVCard(card('Boss 2', 'boss@localhost', bossNew.armoredPublic));
  assert.deepEqual(second.keys, [{ address: 'boss@localhost', result: 'changed' }]);
  const entry = keys.keyFor('boss@localhost');
  assert.equal(entry.fingerprint, boss.fingerprint);
  assert.equal(entry.state, 'changed');
  // For an address without a key, a matching card key is stored as a card's key (r4 G4: not 'imported').
  const third = await v.actions.importVCard(card('Mallory', 'mallory@evil.example', mallory.armoredPublic));
  assert.deepEqual(third.keys, [{ address: 'mallory@evil.example', result: 'added' }]);
  assert.equal(keys.keyFor('mallory@evil.example').source, 'vcard');
});

// ---- gossip ------------------------------------------------------------------------------------

test('gossip keys are learnt only from a verified signer and only for the message recipients', async () => {
  const alice = await makeKey('Alice', 'alice@localhost');
  const mallory = await makeKey('Mallory', 'mallory@evil.example');
  const carolKey = await makeKey('Carol', 'carol@localhost');
  const daveKey = await makeKey('Dave', 'dave@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  await keys.learn({ address: 'mallory@evil.example', armored: mallory.armoredPublic, source: 'autocrypt' });
  const v = victim({ keys });
  await v.actions.start();
  const gossip = [{ addr: 'carol@localhost', armored: carolKey.armoredPublic }, { addr: 'dave@localhost', armored: daveKey.armoredPublic }];
  // Mallory (a key learnt from mail) gossips carol's and dave's keys: nothing learnt.
  await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(mallory.privateKey), recipientKeys: [bob.armoredPublic, carolKey.armoredPublic], gossip,
    from: { address: 'mallory@evil.example' }, to: [{ address: 'bob@localhost' }, { address: 'carol@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(keys.keyFor('carol@localhost'), null);
  assert.equal(keys.keyFor('dave@localhost'), null);
  // Alice (verified) to bob and carol, gossiping carol and dave (not a recipient): only carol.
  await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(alice.privateKey), recipientKeys: [bob.armoredPublic, carolKey.armoredPublic], gossip,
    from: { address: 'alice@localhost' }, to: [{ address: 'bob@localhost' }, { address: 'carol@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(keys.keyFor('carol@localhost')?.fingerprint, carolKey.fingerprint);
  assert.equal(keys.keyFor('carol@localhost')?.source, 'gossip');
  assert.equal(keys.keyFor('dave@localhost'), null);
});

// ---- F6: inline PGP covers only its block ---------------------------------------------------

test('F6: a reused cleartext-signed block next to an unsigned attachment: "only part is signed", attachments not covered', async () => {
  const alice = await makeKey('Alice', 'alice@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  const v = victim({ keys });
  await v.actions.start();
  const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: 'Please find my invoice attached.' }), signingKeys: alice.privateKey });
  const head = ['From: Alice <alice@localhost>', 'To: bob@localhost', 'Subject: invoice', 'MIME-Version: 1.0'];
  const hostile = [...head, 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', signed.trim(), '',
    '--b', 'Content-Type: application/x-msdownload', 'Content-Disposition: attachment; filename="invoice.exe"', 'Content-Transfer-Encoding: base64', '', 'TVqQAAMAAAAEAAAA', '',
    '--b--', ''].join('\r\n');
  const message = await v.actions.open(v.deliver(hostile));
  assert.equal(message.security.kind, 'inline-pgp');
  assert.equal(message.security.inline_partial, true);
  assert.equal(message.attachments.length, 1);
  assert.equal(message.attachments[0].covered, false);
  const summary = v.banner(message);
  assert.ok(summary.lines.some((line) => /Only part of this message is signed/.test(line)), summary.lines.join(' | '));
  assert.equal(summary.tone, 'warning');
  // Text around the signed block: partial too.
  const around = await v.actions.open(v.deliver([...head, 'Content-Type: text/plain; charset=utf-8', '', 'PS: new IBAN XX00 EVIL', signed.trim(), ''].join('\r\n')));
  assert.equal(around.security.inline_partial, true);
  // Exactly the signed text, nothing else: the whole message is signed.
  const whole = await v.actions.open(v.deliver([...head, 'Content-Type: text/plain; charset=utf-8', '', signed.trim(), ''].join('\r\n')));
  assert.equal(whole.security.inline_partial, false);
  assert.equal(signatureTrust(whole.security), 'verified');
  assert.ok(!v.banner(whole).lines.some((line) => /Only part/.test(line)));
  // Inline-encrypted with a plain attachment: the attachment was never encrypted.
  const encrypted = await openpgp.encrypt({ message: await openpgp.createMessage({ text: 'secret' }), encryptionKeys: bob.privateKey.toPublic(), signingKeys: alice.privateKey });
  const mixed = await v.actions.open(v.deliver([...head, 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', encrypted.trim(), '',
    '--b', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '',
    '--b--', ''].join('\r\n')));
  assert.equal(mixed.security.inline_partial, true);
  assert.ok(v.banner(mixed).lines.some((line) => /Only part of this message was encrypted/.test(line)));
  assert.notEqual(v.banner(mixed).tone, 'ok');
});

// ---- attachment names ------------------------------------------------------------------------

test('suspicion: an attachment name with bidi or control characters is downloaded under a plain name', async () => {
  const { downloadName } = await import('../src/app/mail-controller.js');
  assert.equal(downloadName('invoice\u202Egpj.exe'), 'invoice_gpj.exe');
  assert.equal(downloadName('a\u2066b\u2069c\u200F.pdf'), 'a_b_c_.pdf');
  assert.equal(downloadName('line\r\nbreak.txt'), 'line__break.txt');
  assert.ok(!/[/\\]/.test(downloadName('../../etc/passwd')));
  assert.equal(downloadName('\u202E'), '');
  assert.equal(downloadName('report.pdf'), 'report.pdf');
  const keys = keyDirectory();
  const v = victim({ keys });
  await v.actions.start();
  const raw = ['From: <mallory@evil.example>', 'To: bob@localhost', 'Subject: s', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain', '', 'hi', '',
    '--b', 'Content-Type: application/octet-stream', `Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEgpj.exe`, 'Content-Transfer-Encoding: base64', '', 'TVqQ', '',
    '--b--', ''].join('\r\n');
  const message = await v.actions.open(v.deliver(raw));
  const download = v.actions.downloadAttachment(message.attachments[0].index);
  assert.equal(download.filename, 'invoice_gpj.exe');
});

// ---- review r4 ---------------------------------------------------------------------------------

/** A message Mallory built: `plaintext` encrypted to Bob's public key, signed by nobody, as PGP/MIME. */
async function encryptedByMallory(outerHeader, plaintext) {
  const armored = await openpgp.encrypt({ message: await openpgp.createMessage({ binary: wire(plaintext) }), encryptionKeys: bob.privateKey.toPublic(), config: { aeadProtect: false } });
  return `${outerHeader}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"\r\n\r\n`
    + `--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\n${armored}\r\n--b1--\r\n`;
}

test('r4 G1: gossip in the header of a multipart/signed wrapper under an unsigned encryption is not learnt, and the banner says who encrypted', async () => {
  const { buildGossipHeader } = await import('../src/mail/autocrypt.js');
  const alice = await makeKey('Alice', 'alice@localhost');
  const mallory = await makeKey('Carol', 'carol@localhost');   // Mallory's key, user ID naming carol
  const carol = await makeKey('Carol', 'carol@localhost');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  const v = victim({ keys });
  await v.actions.start();
  // Alice's genuine signed-only mail to bob and carol, captured on the wire.
  const signedOnly = asText(await composeSigned({
    crypto: localCrypto(alice.privateKey), from: { name: 'Alice', address: 'alice@localhost' },
    to: [{ address: 'bob@localhost' }, { address: 'carol@localhost' }], subject: 'lunch', text: 'Lunch at 12?',
  }));
  const sep = signedOnly.indexOf('\r\n\r\n');
  const head = signedOnly.slice(0, sep).split(/\r\n(?![ \t])/);
  const contentType = head.filter((line) => /^(content-type|mime-version):/i.test(line)).join('\r\n');
  const gossip = `Autocrypt-Gossip: ${buildGossipHeader({ addr: 'carol@localhost', armored: mallory.armoredPublic })}`;
  const outer = head.filter((line) => !/^(content-type|mime-version|autocrypt):/i.test(line)).join('\r\n');
  const rewrapped = await encryptedByMallory(outer, `${contentType}\r\n${gossip}\r\n\r\n${signedOnly.slice(sep + 4)}`);
  const message = await v.actions.open(v.deliver(rewrapped));
  assert.equal(message.text.trim(), 'Lunch at 12?');
  assert.equal(keys.keyFor('carol@localhost'), null, 'no key planted for carol');
  assert.deepEqual(message.gossip, []);
  assert.equal(message.security.signature, 'verified');
  assert.equal(message.security.signed_inside_encryption, false);
  const summary = v.banner(message);
  assert.notEqual(summary.tone, 'ok', summary.lines.join(' | '));
  assert.ok(!summary.lines.includes('Encrypted to you end to end.'), summary.lines.join(' | '));
  assert.ok(summary.lines.some((line) => /by an unknown party/.test(line)), summary.lines.join(' | '));
  assert.ok(summary.lines.some((line) => /Signed by alice@localhost/.test(line)), summary.lines.join(' | '));
  // The same wrapper gossip inside an encryption Alice signed herself (sign-then-encrypt) is hers.
  const genuine = await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(alice.privateKey), recipientKeys: [bob.armoredPublic, carol.armoredPublic], gossip: [{ addr: 'bob@localhost', armored: bob.armoredPublic }, { addr: 'carol@localhost', armored: carol.armoredPublic }],
    from: { address: 'alice@localhost' }, to: [{ address: 'bob@localhost' }, { address: 'carol@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(genuine.security.signed_inside_encryption, true);
  assert.equal(v.banner(genuine).tone, 'ok');
  assert.equal(keys.keyFor('carol@localhost')?.fingerprint, carol.fingerprint);
});

test('r4 G2: no key is ever learnt for an own address; mail to oneself is encrypted to the own key only', async () => {
  const { decideSend } = await import('../src/app/mail-compose.js');
  const carol = await makeKey('Carol', 'carol@localhost');
  const mallory = await makeKey('Bob', 'bob@localhost');   // Mallory's key, user ID copying Bob's
  const keys = keyDirectory();
  await keys.learn({ address: 'carol@localhost', armored: carol.armoredPublic, source: 'verified' });
  // A key planted before the rule existed is dropped when the tab starts.
  await keys.learn({ address: 'bob@localhost', armored: mallory.armoredPublic, source: 'autocrypt' });
  const v = victim({ keys });
  await v.actions.start();
  assert.equal(keys.keyFor('bob@localhost'), null);
  assert.ok(!keys.list().some((entry) => entry.address === 'bob@localhost'));
  // Anyone can deliver "From: bob@localhost" with an Autocrypt header.
  await v.actions.open(v.deliver(composePlain({ from: { address: 'bob@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'note', text: 'x', autocryptKey: mallory.armoredPublic })));
  assert.equal(keys.keyFor('bob@localhost'), null);
  assert.ok(!keys.list().some((entry) => entry.address === 'bob@localhost'));
  await assert.rejects(keys.learn({ address: 'BOB@localhost', armored: mallory.armoredPublic, source: 'gossip' }), (error) => error.code === 'own_address');
  assert.deepEqual((await keys.importKey(mallory.armoredPublic)).map((entry) => entry.result), ['own_address']);
  // Bob writes to carol with a Cc to himself: encrypted, to carol's key and his own only.
  const id = await v.actions.compose({ mode: 'new' });
  v.actions.updateDraft(id, { to: [{ address: 'carol@localhost' }], cc: [{ address: 'bob@localhost' }], subject: 's', text: 'secret plan' });
  assert.deepEqual(v.store.draft(id).keyStatus.map((entry) => [entry.address, entry.state, entry.source]), [['carol@localhost', 'known', 'verified'], ['bob@localhost', 'known', 'own']]);
  const result = await v.actions.send(id);
  assert.equal(result.state, 'sent');
  assert.equal(result.encrypted, true);
  const armored = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(asText(v.sent[0].raw))[0].replace(/\r/g, '');
  const recipients = (await openpgp.readMessage({ armoredMessage: armored })).getEncryptionKeyIDs().map((keyId) => keyId.toHex());
  const malloryIds = mallory.privateKey.getKeyIDs().map((keyId) => keyId.toHex());
  assert.ok(!recipients.some((keyId) => malloryIds.includes(keyId)), 'not encrypted to the planted key');
  const { data } = await openpgp.decrypt({ message: await openpgp.readMessage({ armoredMessage: armored }), decryptionKeys: bob.privateKey, format: 'binary' });
  assert.ok(!/Autocrypt-Gossip: addr=bob@localhost/i.test(asText(data)), 'no gossip for the own address');
  // The pure decision: an own address is never looked up nor missing.
  const lookups = [];
  const decision = decideSend({ recipients: ['bob@localhost'], keyFor: (address) => { lookups.push(address); return null; }, ownAddresses: ['bob@localhost'] });
  assert.equal(decision.kind, 'encrypted');
  assert.deepEqual(lookups, []);
});

test('r4 G3: without protected headers an outer Reply-To / read-receipt request is set aside; Reply goes to the signed From', async () => {
  const alice = await makeKey('Alice', 'alice@localhost');
  const mallory = await makeKey('Mallory', 'mallory@evil.example');
  const keys = keyDirectory();
  await keys.learn({ address: 'alice@localhost', armored: alice.armoredPublic, source: 'verified' });
  await keys.learn({ address: 'mallory@evil.example', armored: mallory.armoredPublic, source: 'autocrypt' });
  const v = victim({ keys });
  await v.actions.start();
  // Alice's client: RFC 3156 encrypted+signed, inner part without protected headers.
  const inner = 'Content-Type: text/plain; charset=utf-8\r\n\r\nThe merger price is 41.20 per share. Keep it secret.\r\n';
  const armored = await openpgp.encrypt({ message: await openpgp.createMessage({ binary: wire(inner) }), encryptionKeys: bob.privateKey.toPublic(), signingKeys: alice.privateKey, config: { aeadProtect: false } });
  const genuine = `From: Alice <alice@localhost>\r\nTo: bob@localhost\r\nSubject: merger\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"\r\n\r\n`
    + `--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\n${armored}\r\n--b1--\r\n`;
  const uid = v.deliver(addOuter(wire(genuine), ['Reply-To: mallory@evil.example', 'Disposition-Notification-To: mallory@evil.example']));
  const message = await v.actions.open(uid);
  assert.equal(signatureTrust(message.security), 'verified');
  assert.deepEqual(message.headers.reply_to, []);
  assert.equal(message.read_receipt_to, null);
  assert.equal(message.security.headers_unprotected, true);
  assert.deepEqual(message.security.unprotected_reply_to.map((entry) => entry.address), ['mallory@evil.example']);
  assert.equal(message.read_receipt_to, null);
  assert.equal(message.security.unprotected_receipt_to, 'mallory@evil.example');
  const summary = v.banner(message);
  assert.notEqual(summary.tone, 'ok', summary.lines.join(' | '));
  assert.ok(summary.lines.some((line) => /header fields .* are not protected/.test(line)), summary.lines.join(' | '));
  assert.ok(summary.lines.some((line) => line.includes('mallory@evil.example') && /not covered by the signature/.test(line)), summary.lines.join(' | '));
  const reply = v.store.draft(await v.actions.compose({ mode: 'reply', uid }));
  assert.deepEqual(reply.to.map((entry) => entry.address), ['alice@localhost']);
  assert.equal(reply.encrypt, 'on');
  // Only the user's explicit choice answers the Reply-To, and the draft carries the warning.
  const chosen = v.store.draft(await v.actions.compose({ mode: 'reply', uid, unprotectedReplyTo: true }));
  assert.deepEqual(chosen.to.map((entry) => entry.address), ['mallory@evil.example']);
  assert.equal(chosen.warning, 'unprotected_reply_to');
  // The same message without the added fields: still "not protected", but no warning tone.
  const clean = await v.actions.open(v.deliver(genuine));
  assert.equal(clean.security.headers_unprotected, true);
  assert.equal(v.banner(clean).tone, 'ok');
});

test('r4 G4: a card\'s key is a weak "vcard" key: a verified key replaces it without a prompt, it never replaces another key silently', async () => {
  const { createAddressBook } = await import('../src/mail/address-book.js');
  const boss = await makeKey('Boss', 'boss@localhost');
  const mallory = await makeKey('Boss', 'boss@localhost');   // Mallory's key with boss's user ID
  const dave = await makeKey('Dave', 'dave@localhost');
  const fakeDave = await makeKey('Dave', 'dave@localhost');
  const keys = keyDirectory();
  const v = victim({ keys, addressBook: createAddressBook({ storage: memoryStorage(), account: 'bob' }) });
  await v.actions.start();
  const card = (name, email, armored) => `BEGIN:VCARD\r\nVERSION:4.0\r\nFN:${name}\r\nEMAIL:${email}\r\nKEY:${armored.replace(/\n/g, '\\n')}\r\nEND:VCARD\r\n`;
  assert.deepEqual((await v.actions.importVCard(card('Boss', 'boss@localhost', mallory.armoredPublic))).keys, [{ address: 'boss@localhost', result: 'added' }]);
  assert.equal(keys.keyFor('boss@localhost').source, 'vcard');
  assert.equal(v.store.get().contacts[0].keySource, 'vcard');
  // Mail signed with the card's key: named as a card's key, never "verified".
  const byCard = await v.actions.open(v.deliver(await composeSigned({ crypto: localCrypto(mallory.privateKey), from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'x', text: 'x' })));
  assert.equal(signatureTrust(byCard.security), 'vcard');
  assert.ok(!saysVerified(v.banner(byCard)));
  assert.ok(v.banner(byCard).lines.some((line) => /contact card/.test(line)), v.banner(byCard).lines.join(' | '));
  // Bob meets boss in a secure channel: the verified key replaces the card's key, no prompt.
  assert.equal((await keys.learn({ address: 'boss@localhost', armored: boss.armoredPublic, source: 'verified' })).result, 'updated');
  assert.deepEqual([keys.keyFor('boss@localhost').fingerprint, keys.keyFor('boss@localhost').state], [boss.fingerprint, 'ok']);
  const real = await v.actions.open(v.deliver(await composeSigned({ crypto: localCrypto(boss.privateKey), from: { address: 'boss@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'x', text: 'real boss' })));
  assert.equal(signatureTrust(real.security), 'verified');
  // A card never replaces a key learnt from mail silently: it waits as a change.
  await v.actions.open(v.deliver(composePlain({ from: { address: 'dave@localhost' }, to: [{ address: 'bob@localhost' }], subject: 'x', text: 'x', autocryptKey: dave.armoredPublic })));
  assert.equal(keys.keyFor('dave@localhost').source, 'autocrypt');
  assert.deepEqual((await v.actions.importVCard(card('Dave', 'dave@localhost', fakeDave.armoredPublic))).keys, [{ address: 'dave@localhost', result: 'changed' }]);
  assert.deepEqual([keys.keyFor('dave@localhost').fingerprint, keys.keyFor('dave@localhost').state], [dave.fingerprint, 'changed']);
  // An explicit import by the user stays 'imported'.
  const erin = await makeKey('Erin', 'erin@localhost');
  await v.actions.importKey(erin.armoredPublic);
  assert.equal(keys.keyFor('erin@localhost').source, 'imported');
});

test('r4 suspicion: the own key is recognised by the fingerprint the Worker reports, never inferred from absence', async () => {
  const mallory = await makeKey('Bob', 'bob@localhost');
  const directory = keyDirectory();
  // The race: the Worker checked with a learnt key that is gone from the directory by the time
  // the signer is annotated (evicted by a concurrent learn in this or another tab).
  const keys = { ...directory, verificationKeys: () => [...directory.verificationKeys(), mallory.armoredPublic] };
  const v = victim({ keys });
  await v.actions.start();
  const forged = await v.actions.open(v.deliver(await composeEncrypted({
    crypto: localCrypto(mallory.privateKey), recipientKeys: [bob.armoredPublic], from: { address: 'bob@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't',
  })));
  assert.equal(forged.security.signature, 'verified');
  assert.notEqual(forged.security.signer.source, 'own');
  assert.notEqual(signatureTrust(forged.security), 'verified');
  assert.notEqual(v.banner(forged).tone, 'ok');
  // The real own key still is the own key.
  const mine = await v.actions.open(v.deliver(await composeEncrypted({ crypto: localCrypto(bob.privateKey), recipientKeys: [], from: { address: 'bob@localhost' }, to: [{ address: 'bob@localhost' }], subject: 's', text: 't' })));
  assert.equal(mine.security.signer.source, 'own');
  assert.equal(signatureTrust(mine.security), 'verified');
});

test('r4 suspicion: the attachment list writes bidi and control characters out and marks attachments outside an inline signature', async () => {
  const { visibleFileName } = await import('../src/ui/mail/mail-security.js');
  assert.equal(visibleFileName('invoice\u202Egpj.exe'), 'invoice⟨U+202E⟩gpj.exe');
  assert.equal(visibleFileName('a\u2066b\u200Fc\u0007.pdf'), 'a⟨U+2066⟩b⟨U+200F⟩c⟨U+0007⟩.pdf');
  assert.equal(visibleFileName('report.pdf'), 'report.pdf');
  const { readFile } = await import('node:fs/promises');
  const reader = await readFile(new URL('../src/ui/mail/mail-reader.js', import.meta.url), 'utf8');
  assert.match(reader, /visibleFileName\(attachment\.filename\)/, 'the list shows the escaped name');
  assert.match(reader, /attachment\.covered === false[^\n]*mail\.attachment\.not_covered/, 'uncovered attachments are marked');
});
