// Fixes of the Email tab's web side: read receipts (RFC 8098), Bcc kept inside encrypted drafts,
// superseded drafts expunged, mail Worker timeouts by size, i18n coverage of the mail code, one
// start(), signature trust by key source and From address, reasons in the unencrypted-send dialog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createMailStore } from '../src/state/mail-store.js';
import { createMailController } from '../src/app/mail-controller.js';
import { decideSend } from '../src/app/mail-compose.js';
import { createMailApi } from '../src/net/mail-api.js';
import { composeEncrypted } from '../src/mail/pgp-mime.js';
import { openMessage, parseContentType } from '../src/mail/mime-read.js';
import { buildReadReceipt, readReceiptWanted, MDN_SENT_FLAG } from '../src/mail/mdn.js';
import { annotateSigner, signatureTrust } from '../src/mail/signer-trust.js';
import { mailEncrypt, mailDecrypt, mailTimeoutMs } from '../src/crypto/crypto-client.js';
import { securitySummary, unencryptedReasons } from '../src/ui/mail/mail-security.js';
import { setLanguage } from '../src/i18n/index.js';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';
import { localCrypto, makeIdentity, text } from './helpers/mail-parties.mjs';

setLanguage('en');
const me = await makeIdentity('me');
const meCrypto = localCrypto(me.privateKey);
const tick = () => new Promise((resolve) => setImmediate(resolve));

function fakeApi({ raw = new Uint8Array([1]), flags = [] } = {}) {
  const calls = { status: 0, messages: 0, sent: [], flags: [], removed: [], appended: [] };
  let stored = raw;
  const api = {
    calls,
    async status() { calls.status += 1; return { enabled: true, address: 'me@localhost', domain: 'localhost', account: 'local', connection: 'connected', max_message_bytes: 1 << 20 }; },
    folders: async () => ({ folders: [{ path: 'INBOX', special_use: 'inbox', total: 1, unseen: 0 }, { path: 'Drafts', special_use: 'drafts', total: 0, unseen: 0 }] }),
    async messages(params) {
      calls.messages += 1;
      return { folder: params.folder, total: 1, offset: 0, messages: [{ uid: 5, flags, subject: 's', from: [], content_type: 'text/plain' }] };
    },
    rawMessage: async () => stored,
    async send(request) { calls.sent.push(request); return { sent: true, sent_uid: 9, refused: [] }; },
    async setFlags(request) { calls.flags.push(request); },
    async append(folder, bytes, appendFlags) { calls.appended.push({ folder, bytes, flags: appendFlags }); stored = bytes; return { uid: 100 + calls.appended.length }; },
    async remove(request) { calls.removed.push(request); },
  };
  return api;
}

function setup({ api = fakeApi(), mime, keys = null, crypto = meCrypto } = {}) {
  const store = createMailStore();
  const controller = createMailController({
    api, store, crypto, keys, addressBook: null, setTimeout: () => 0, clearTimeout: () => {},
    mime: mime ?? { openMessage: async () => receiptAsking },
  });
  return { api, store, actions: controller.actions };
}

const receiptAsking = {
  headers: { subject: 'Secret plans', from: [{ name: 'Ann', address: 'ann@x' }], to: [{ name: '', address: 'me@localhost' }], message_id: '<orig-1@x>', date: '2024-05-01T10:00:00Z', list: [] },
  text: 'hi', html: null, attachments: [], read_receipt_to: 'Ann@x',
  security: { encrypted: true, encrypted_to_me: true, signature: 'none', signer: null },
};

// ---- 1. read receipts -----------------------------------------------------------------------

test('read receipt: a multipart/report disposition notification (RFC 8098) that never repeats an encrypted subject', async () => {
  const raw = buildReadReceipt({ from: { address: 'me@localhost' }, to: 'ann@x', original: receiptAsking, date: new Date('2024-05-02T00:00:00Z') });
  const source = text(raw);
  const top = /^Content-Type: (.*(?:\r\n[ \t].*)*)/m.exec(source)[1].replace(/\r\n[ \t]+/g, ' ');
  const { type, params } = parseContentType(top);
  assert.equal(type, 'multipart/report');
  assert.equal(params.get('report-type'), 'disposition-notification');
  assert.match(source, /^To: <ann@x>\r$/m);
  assert.match(source, /^From: <me@localhost>\r$/m);
  assert.match(source, /Content-Type: text\/plain; charset=utf-8/);
  assert.match(source, /Content-Type: message\/disposition-notification\r\n/);
  assert.match(source, /^Reporting-UA: secms; Security\.MS\r$/m);
  assert.match(source, /^Final-Recipient: rfc822; me@localhost\r$/m);
  assert.match(source, /^Original-Message-ID: <orig-1@x>\r$/m);
  assert.match(source, /^Disposition: manual-action\/MDN-sent-manually; displayed\r$/m);
  assert.doesNotMatch(source, /Secret plans/, 'the subject of an encrypted message stays out of the clear receipt');
  assert.match(source, /^Subject: Read receipt\r$/m);
  const plain = text(buildReadReceipt({ from: { address: 'me@localhost' }, to: 'ann@x', original: { ...receiptAsking, security: { encrypted: false } } }));
  assert.match(plain, /^Subject: Read: Secret plans\r$/m);
});

test('read receipt: the prompt only when asked and $MDNSent is absent; never sent on open; sent once, then $MDNSent', async () => {
  assert.equal(readReceiptWanted(receiptAsking, []), true);
  assert.equal(readReceiptWanted(receiptAsking, ['\\Seen', MDN_SENT_FLAG]), false);
  assert.equal(readReceiptWanted({ ...receiptAsking, read_receipt_to: null }, []), false);

  const { api, actions, store } = setup();
  await actions.start();
  await actions.open(5);
  await tick();
  assert.equal(api.calls.sent.length, 0, 'opening never sends a receipt');
  assert.equal(typeof actions.sendReadReceipt, 'function');
  assert.deepEqual(await actions.sendReadReceipt(5), { state: 'sent' });
  assert.equal(api.calls.sent.length, 1);
  assert.deepEqual(api.calls.sent[0].to, ['ann@x']);
  assert.match(text(api.calls.sent[0].raw), /Disposition: manual-action\/MDN-sent-manually; displayed/);
  assert.deepEqual(api.calls.flags.at(-1), { folder: 'INBOX', uids: [5], add: [MDN_SENT_FLAG], remove: [] });
  assert.equal(readReceiptWanted(store.get().reading.message, store.get().reading.flags), false, 'the prompt does not come back');
  assert.deepEqual(await actions.sendReadReceipt(5), { state: 'already_sent' });
  assert.equal(api.calls.sent.length, 1);
});

test('read receipt: a message already flagged $MDNSent gets no prompt and no second receipt', async () => {
  const { api, actions, store } = setup({ api: fakeApi({ flags: ['\\Seen', MDN_SENT_FLAG] }) });
  await actions.start();
  await actions.open(5);
  assert.equal(readReceiptWanted(store.get().reading.message, store.get().reading.flags), false);
  assert.deepEqual(await actions.sendReadReceipt(5), { state: 'already_sent' });
  assert.equal(api.calls.sent.length, 0);
});

// ---- 2. Bcc inside encrypted drafts ---------------------------------------------------------

const draftFields = {
  from: { name: '', address: me.address }, to: [{ name: '', address: 'ann@x' }], bcc: [{ name: 'Hidden', address: 'hidden@y' }],
  subject: 'draft', text: 'body',
};

test('composeEncrypted keepBcc: Bcc only in the encrypted inner header, read back; without it no Bcc anywhere', async () => {
  const kept = await composeEncrypted({ crypto: meCrypto, ...draftFields, recipientKeys: [], sign: false, keepBcc: true });
  assert.doesNotMatch(text(kept), /hidden@y|^Bcc:/mi, 'the outer header never has Bcc');
  const opened = await openMessage({ raw: kept, crypto: meCrypto });
  assert.deepEqual(opened.headers.bcc, [{ name: 'Hidden', address: 'hidden@y' }]);
  const dropped = await composeEncrypted({ crypto: meCrypto, ...draftFields, recipientKeys: [], sign: false });
  assert.deepEqual((await openMessage({ raw: dropped, crypto: meCrypto })).headers.bcc, []);
});

test('a saved draft reopened keeps its Bcc; the sent bytes still have none', async () => {
  const api = fakeApi();
  const { actions, store } = setup({ api, mime: { openMessage, composeEncrypted, composeSigned: null, composePlain: null } });
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  actions.updateDraft(id, { to: 'ann@x', bcc: 'Hidden <hidden@y>', subject: 'draft', text: 'body' });
  const uid = await actions.saveDraft(id);
  const reopenedId = await actions.compose({ mode: 'draft', uid, folder: 'Drafts' });
  const reopened = store.get().drafts.get(reopenedId);
  assert.deepEqual(reopened.bcc.map((entry) => entry.address), ['hidden@y']);
  assert.equal(reopened.savedUid, uid);
  // Sending (encrypt off → a signed message): Bcc is an envelope recipient only.
  const keys = { keyFor: () => null, verificationKeys: () => [], list: () => [] };
  const sent = [];
  const sending = setup({
    api: { ...fakeApi(), send: async (request) => { sent.push(request); return { sent: true, sent_uid: 1 }; } },
    keys,
    crypto: { request: async (request) => (request.type === 'identity.export_public' ? { armored: me.armoredPublic } : meCrypto.request(request)) },
    mime: { openMessage, composeEncrypted, composeSigned: (await import('../src/mail/pgp-mime.js')).composeSigned, composePlain: null },
  });
  await sending.actions.start();
  const draft = await sending.actions.compose({ mode: 'new' });
  sending.actions.updateDraft(draft, { to: 'ann@x', bcc: 'hidden@y', subject: 's', text: 't', encrypt: 'off' });
  assert.equal((await sending.actions.send(draft)).state, 'sent');
  assert.deepEqual(sent[0].to, ['ann@x', 'hidden@y']);
  assert.doesNotMatch(text(sent[0].raw), /hidden@y|^Bcc:/mi);
});

// ---- 3. superseded drafts expunged ----------------------------------------------------------

test('drafts: the superseded copy and a discarded draft are deleted with permanent: true (never to Trash)', async () => {
  const api = fakeApi();
  const { actions } = setup({ api, mime: { openMessage, composeEncrypted } });
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  actions.updateDraft(id, { to: 'ann@x', text: 'one' });
  await actions.saveDraft(id);
  actions.updateDraft(id, { text: 'two' });
  await actions.saveDraft(id);
  assert.deepEqual(api.calls.removed, [{ folder: 'Drafts', uids: [101], permanent: true }]);
  await actions.discardDraft(id);
  assert.deepEqual(api.calls.removed.at(-1), { folder: 'Drafts', uids: [102], permanent: true });
});

test('mail-api remove: permanent: true goes in the body only when asked', async () => {
  const bodies = [];
  const api = createMailApi({ fetch: async (url, init) => { bodies.push(JSON.parse(init.body)); return new Response(null, { status: 204 }); } });
  await api.remove({ folder: 'Drafts', uids: [3], permanent: true });
  await api.remove({ folder: 'INBOX', uids: [4] });
  assert.deepEqual(bodies, [{ folder: 'Drafts', uids: [3], permanent: true }, { folder: 'INBOX', uids: [4] }]);
});

// ---- 4. Worker timeouts by size ---------------------------------------------------------------

test('mail Worker requests get a timeout that grows with the data (25 MiB is not cut off like a small one)', async () => {
  const MiB = 1024 * 1024;
  assert.ok(mailTimeoutMs(0) >= 10_000);
  assert.ok(mailTimeoutMs(25 * MiB) >= 10_000 + 2_000 * 25, 'at least 10 s + 2 s per MiB');
  assert.ok(mailTimeoutMs(25 * MiB) > mailTimeoutMs(MiB));
  const asked = [];
  const connection = { request: async (options) => { asked.push(options); return { armored: 'x', data: new Uint8Array(0), signatures: [] }; } };
  await mailEncrypt({ connection, data: new Uint8Array(25 * MiB), recipientKeys: [] });
  await mailEncrypt({ connection, data: new Uint8Array(10), recipientKeys: [] });
  await mailDecrypt({ connection, data: 'x'.repeat(12 * MiB) });
  assert.equal(asked[0].timeoutMs, mailTimeoutMs(25 * MiB));
  assert.equal(asked[1].timeoutMs, mailTimeoutMs(10));
  assert.equal(asked[2].timeoutMs, mailTimeoutMs(12 * MiB));
});

// ---- 5. i18n ----------------------------------------------------------------------------------

test('every mail.* string the web code names exists in en and fr', () => {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.js') && !path.includes('/i18n/')) files.push(path);
    }
  };
  walk(new URL('../src', import.meta.url).pathname);
  const used = new Set();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*(['"])(mail\.[^'"]+)\1/g)) used.add(match[2]);
  }
  assert.ok(used.has('mail.notify.new'));
  const missing = [...used].filter((key) => !(key in en) || !(key in fr));
  assert.deepEqual(missing, []);
  for (const reason of ['no_key', 'key_changed']) assert.ok(`mail.compose.reason_${reason}` in en && `mail.compose.reason_${reason}` in fr);
});

// ---- 6. one start -----------------------------------------------------------------------------

test('start() is idempotent: the panel and app.js both calling it start once; after stop it starts again', async () => {
  const { api, actions } = setup();
  const [first, second] = [actions.start(), actions.start()];
  assert.equal(first, second);
  await first;
  await actions.start();
  assert.equal(api.calls.status, 1);
  assert.equal(api.calls.messages, 1);
  actions.stop();
  await actions.start();
  assert.equal(api.calls.status, 2);
});

// ---- 7. signature trust -----------------------------------------------------------------------

const FP = 'A'.repeat(40);
const signedBy = (extra = {}) => ({
  headers: { from: [{ name: '', address: 'ann@x' }] },
  security: { encrypted: true, encrypted_to_me: true, signature: 'verified', signed_inside_encryption: true, signer: { fingerprint: FP, email: 'ann@x', emails: ['ann@x'], ...extra } },
});
const directory = (entries) => ({
  list: () => entries,
  keyFor: (address) => entries.find((entry) => entry.address === address) ?? null,
});
const bannerOf = (message, keys = []) => securitySummary(message.security, keys, message.headers.from[0].address);

test('signatures by keys learnt from mail (Autocrypt, gossip) are not called verified; verified/pinned are', () => {
  for (const source of ['autocrypt', 'gossip']) {
    const message = annotateSigner(signedBy(), directory([{ address: 'ann@x', fingerprint: FP, source, state: 'ok' }]));
    assert.equal(message.security.signer.source, source);
    assert.equal(message.security.signature, 'verified', 'the contract status is kept');
    assert.equal(signatureTrust(message.security, 'ann@x'), 'learnt');
    const banner = bannerOf(message);
    assert.ok(banner.lines.some((line) => /learned from this sender's mail \(key A+\), not verified/.test(line)), banner.lines.join(' | '));
    assert.ok(!banner.lines.some((line) => /signature verified/.test(line)));
    assert.equal(banner.tone, 'info');
  }
  for (const source of ['verified', 'pinned']) {
    const message = annotateSigner(signedBy(), directory([{ address: 'ann@x', fingerprint: FP, source, state: 'ok' }]));
    assert.equal(signatureTrust(message.security, 'ann@x'), 'verified');
    assert.ok(bannerOf(message).lines.some((line) => /signature verified/.test(line)));
    assert.equal(bannerOf(message).tone, 'ok');
  }
  const imported = annotateSigner(signedBy(), directory([{ address: 'ann@x', fingerprint: FP, source: 'imported', state: 'ok' }]));
  assert.equal(signatureTrust(imported.security, 'ann@x'), 'imported');
  assert.ok(!bannerOf(imported).lines.some((line) => /signature verified/.test(line)));
  // A changed key not accepted yet (it is among the verification keys) is not verified either.
  const pending = annotateSigner(signedBy(), directory([{ address: 'ann@x', fingerprint: 'B'.repeat(40), source: 'pinned', state: 'changed', pending: { fingerprint: FP, source: 'autocrypt' } }]));
  assert.equal(signatureTrust(pending.security, 'ann@x'), 'pending');
  // A message model that was never annotated is not called verified.
  assert.equal(signatureTrust(signedBy().security, 'ann@x'), 'learnt');
});

test('a key whose user IDs do not have the From address: a warning naming the other address, never "verified"', () => {
  const message = annotateSigner(
    { ...signedBy({ email: 'mallory@evil', emails: ['mallory@evil'] }) },
    directory([{ address: 'mallory@evil', fingerprint: FP, source: 'pinned', state: 'ok' }]),
  );
  assert.equal(message.security.signer.from_matches, false);
  assert.equal(signatureTrust(message.security, 'ann@x'), 'other_address');
  const banner = bannerOf(message);
  assert.equal(banner.tone, 'warning');
  assert.ok(banner.lines.some((line) => line.includes('Signed by mallory@evil, not by the sender ann@x')), banner.lines.join(' | '));
  assert.ok(!banner.lines.some((line) => /signature verified/.test(line)));
  // The server-verified channel certificate of ann@x whose user ID has another e-mail: bound by the directory.
  const channel = annotateSigner(signedBy({ email: 'ann@home', emails: ['ann@home'] }), directory([{ address: 'ann@x', fingerprint: FP, source: 'verified', state: 'ok' }]));
  assert.equal(signatureTrust(channel.security, 'ann@x'), 'verified');
  // …and an Autocrypt binding is the directory's too (the key's user IDs never decide), but only "learnt".
  const learnt = annotateSigner(signedBy({ email: 'ann@home', emails: ['ann@home'] }), directory([{ address: 'ann@x', fingerprint: FP, source: 'autocrypt', state: 'ok' }]));
  assert.equal(signatureTrust(learnt.security, 'ann@x'), 'learnt');
});

test('the controller annotates the opened message with the signer source', async () => {
  const keys = { ...directory([{ address: 'ann@x', fingerprint: FP, source: 'gossip', state: 'ok' }]), verificationKeys: () => [] };
  const { actions, store } = setup({ keys, mime: { openMessage: async () => ({ ...signedBy(), text: '', attachments: [] }) } });
  await actions.start();
  await actions.open(5);
  assert.equal(store.get().reading.message.security.signer.source, 'gossip');
  assert.equal(signatureTrust(store.get().reading.message.security, 'ann@x'), 'learnt');
});

// ---- 9. why a recipient cannot get encrypted mail -------------------------------------------

test('the unencrypted-send confirmation names the reason per recipient', () => {
  const keyFor = (address) => ({
    'ok@x': { armored: 'K', state: 'ok' },
    'changed@x': { armored: null, state: 'changed', pending: { fingerprint: FP } },
  })[address] ?? null;
  const decision = decideSend({ recipients: ['ok@x', 'none@x', 'changed@x'], keyFor });
  assert.equal(decision.kind, 'needs_confirmation');
  assert.deepEqual(decision.reasons, [{ address: 'none@x', reason: 'no_key' }, { address: 'changed@x', reason: 'key_changed' }]);
  const shown = unencryptedReasons({ missing: decision.missing, reasons: decision.reasons });
  assert.deepEqual(shown.map((entry) => [entry.address, entry.text]), [['none@x', 'no key'], ['changed@x', 'key changed and not accepted']]);
  // An answer without reasons (older controller) still names each recipient as without a key.
  assert.deepEqual(unencryptedReasons({ missing: ['a@x'] }).map((entry) => entry.reason), ['no_key']);
});

// ---- 8. less work on the page's main thread when sending ----------------------------------------

test('the Worker gives the armor as CRLF bytes (moved, not a string the page re-encodes); the message is unchanged', async () => {
  const asked = [];
  const connection = { request: async (request) => { asked.push(request); return meCrypto.request(request); } };
  const raw = await composeEncrypted({ crypto: connection, ...draftFields, recipientKeys: [], sign: true });
  assert.equal(asked[0].payload.output, 'crlf-bytes');
  const source = text(raw);
  assert.doesNotMatch(source.replace(/\r\n/g, ''), /[\r\n]/, 'every line end is CRLF');
  assert.match(source, /-----BEGIN PGP MESSAGE-----\r\n/);
  const opened = await openMessage({ raw, crypto: meCrypto });
  assert.equal(opened.headers.subject, 'draft');
  assert.equal(opened.security.signature, 'verified');
  const { armoredBytes } = await meCrypto.request({ type: 'mail.encrypt', payload: { data: new TextEncoder().encode('x\n'), recipientKeys: [], output: 'crlf-bytes' } });
  assert.ok(armoredBytes instanceof Uint8Array);
  await assert.rejects(meCrypto.request({ type: 'mail.encrypt', payload: { data: new Uint8Array(1), recipientKeys: [], output: 'html' } }), (error) => error.code === 'invalid_request');
});

test('attachments are base64-encoded straight into bytes, identical to the string route', async () => {
  const { base64Lines, base64LineBytes } = await import('../src/mail/mime-build.js');
  for (const size of [0, 1, 2, 3, 56, 57, 58, 114, 1000, 57 * 1024 + 5]) {
    const data = Uint8Array.from({ length: size }, (_, index) => (index * 131 + 7) & 255);
    assert.equal(text(base64LineBytes(data)), base64Lines(data).join(''), `size ${size}`);
  }
});
