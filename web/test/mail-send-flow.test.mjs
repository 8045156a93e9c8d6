import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore } from '../src/state/mail-store.js';
import { createMailController } from '../src/app/mail-controller.js';
import { attachmentCapacity, decideSend, envelopeOf, parseRecipients } from '../src/app/mail-compose.js';
import { buildMessage } from '../src/mail/mime-build.js';
import { composePlain } from '../src/mail/pgp-mime.js';
import * as openpgp from 'openpgp';
import { replySubject, forwardSubject, quoteLines, replyRecipients, replyReferences } from '../src/mail/quote.js';

const { publicKey: ownArmored } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'me@localhost' }], format: 'armored' });
const keyOf = (armored, state = 'ok') => ({ armored, fingerprint: 'F'.repeat(40), source: 'imported', state });

function setup({ keys = {}, sendError = null, sendAnswer = { sent: true, sent_uid: 7, refused: [] } } = {}) {
  const sent = [];
  const appended = [];
  const removed = [];
  const composed = [];
  const api = {
    status: async () => ({ enabled: true, address: 'me@localhost', domain: 'localhost', connection: 'connected', max_message_bytes: 10_000 }),
    folders: async () => ({ folders: [{ path: 'Drafts', special_use: 'drafts', total: 0, unseen: 0 }] }),
    messages: async () => ({ total: 0, offset: 0, messages: [] }),
    rawMessage: async () => new TextEncoder().encode('From: a@x\r\nSubject: original\r\n\r\nhello'),
    async send(request) {
      if (sendError) throw sendError;
      sent.push(request);
      return sendAnswer;
    },
    async append(folder, raw, flags) {
      appended.push({ folder, raw, flags });
      return { uid: 40 + appended.length };
    },
    async remove(request) { removed.push(request); },
    setFlags: async () => null,
  };
  // The real plain composer (so the Bcc check reads real bytes); encryption and signing are faked.
  const mime = {
    openMessage: async () => ({
      headers: { subject: 'Re: Re: plans', from: [{ name: 'Ann', address: 'ann@x' }], to: [{ name: '', address: 'me@localhost' }, { name: '', address: 'bob@x' }], cc: [{ name: '', address: 'carol@x' }], reply_to: [], date: '2024-05-01T10:00:00Z', message_id: '<m2@x>', references: ['<m1@x>'] },
      text: 'line one\n\nline two', security: { encrypted: true }, attachments: [{ index: 0, filename: 'a.txt', content_type: 'text/plain', data: new Uint8Array([65]) }],
    }),
    async composeEncrypted(options) { composed.push({ kind: 'encrypted', options }); return buildMessage({ ...options, subject: '[...]' }); },
    async composeSigned(options) { composed.push({ kind: 'signed', options }); return composePlain(options); },
    composePlain(options) { composed.push({ kind: 'plain', options }); return composePlain(options); },
  };
  const keyDirectory = { keyFor: (address) => keys[address] ?? null, verificationKeys: () => [], list: () => [] };
  const crypto = { request: async ({ type }) => (type === 'identity.export_public' ? { armored: ownArmored } : null) };
  const store = createMailStore();
  const timers = [];
  const controller = createMailController({
    api, store, crypto, mime, keys: keyDirectory, addressBook: null,
    setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; }, clearTimeout: () => {},
  });
  return { store, actions: controller.actions, sent, appended, removed, composed, timers };
}

test('decideSend: all keys → encrypted; one missing → needs confirmation naming it; confirmed → signed; off → signed', () => {
  const keys = { 'a@x': keyOf('KA'), 'b@x': keyOf('KB') };
  const keyFor = (address) => keys[address] ?? null;
  assert.equal(decideSend({ recipients: ['a@x', 'b@x'], keyFor }).kind, 'encrypted');
  assert.deepEqual(decideSend({ recipients: ['a@x', 'b@x'], keyFor }).recipientKeys, ['KA', 'KB']);
  assert.deepEqual(decideSend({ recipients: ['a@x', 'c@x'], keyFor }), { kind: 'needs_confirmation', missing: ['c@x'], reasons: [{ address: 'c@x', reason: 'no_key' }] });
  assert.equal(decideSend({ recipients: ['a@x', 'c@x'], keyFor, confirmUnencrypted: true }).kind, 'signed');
  assert.equal(decideSend({ recipients: ['a@x', 'c@x'], keyFor, confirmUnencrypted: true, sign: false }).kind, 'plain');
  assert.equal(decideSend({ recipients: ['a@x'], keyFor, encrypt: 'off' }).kind, 'signed');
  assert.equal(decideSend({ recipients: ['c@x'], keyFor, encryptByDefault: false }).kind, 'signed');
  assert.equal(decideSend({ recipients: ['c@x'], keyFor, encryptByDefault: false, encrypt: 'on' }).kind, 'needs_confirmation');
});

test('recipients: parsing, envelope = To + Cc + Bcc, unique and lower-case', () => {
  assert.deepEqual(parseRecipients('Ann <Ann@X>, b@y; b@y'), [{ name: 'Ann', address: 'Ann@X' }, { name: '', address: 'b@y' }]);
  assert.deepEqual(envelopeOf({ to: [{ address: 'A@x' }], cc: [{ address: 'b@x' }], bcc: [{ address: 'a@x' }, { address: 'c@x' }] }), ['a@x', 'b@x', 'c@x']);
});

test('send with all keys: encrypted to every key (Bcc included), Bcc in the envelope only, gossip of To/Cc only', async () => {
  const { actions, sent, composed } = setup({ keys: { 'a@x': keyOf('KA'), 'b@x': keyOf('KB'), 'hidden@x': keyOf('KH') } });
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  actions.updateDraft(id, { to: 'a@x', cc: 'b@x', bcc: 'hidden@x', subject: 'secret plan', text: 'hi' });
  const result = await actions.send(id);
  assert.equal(result.state, 'sent');
  assert.equal(result.encrypted, true);
  assert.deepEqual(composed[0].options.recipientKeys, ['KA', 'KB', 'KH']);
  assert.equal('bcc' in composed[0].options, false);
  assert.deepEqual(composed[0].options.gossip.map((entry) => entry.addr), ['a@x', 'b@x']);
  assert.equal(composed[0].options.autocryptKey, ownArmored);
  assert.deepEqual(sent[0].to, ['a@x', 'b@x', 'hidden@x']);
  assert.equal(new TextDecoder().decode(sent[0].raw).includes('hidden@x'), false);
});

test('send with a missing key: needs confirmation, nothing sent; confirmed → signed, Bcc absent from the bytes', async () => {
  const { store, actions, sent, composed } = setup({ keys: { 'a@x': keyOf('KA') } });
  await actions.start();
  const id = await actions.compose({ mode: 'new', to: 'a@x' });
  actions.updateDraft(id, { bcc: 'Hidden One <hidden@x>', subject: 'hello', text: 'body' });
  assert.deepEqual(store.get().drafts.get(id).keyStatus.map((entry) => [entry.address, entry.state]), [['a@x', 'known'], ['hidden@x', 'missing']]);
  assert.deepEqual(await actions.send(id), { state: 'needs_confirmation', missing: ['hidden@x'], reasons: [{ address: 'hidden@x', reason: 'no_key' }] });
  assert.equal(sent.length, 0);
  const result = await actions.send(id, { confirmUnencrypted: true });
  assert.equal(result.state, 'sent');
  assert.equal(composed.at(-1).kind, 'signed');
  const text = new TextDecoder().decode(sent[0].raw);
  assert.match(text, /^To: <?a@x>?\r$/m);
  assert.doesNotMatch(text, /hidden/i);
  assert.doesNotMatch(text, /^Bcc:/im);
  assert.deepEqual(sent[0].to, ['a@x', 'hidden@x']);
  assert.equal(store.get().drafts.has(id), false, 'a sent draft is closed');
});

test('a refused send keeps the draft with the error', async () => {
  const error = Object.assign(new Error('550 no such user'), { code: 'send_failed', status: 502 });
  const { store, actions } = setup({ sendError: error });
  await actions.start();
  const id = await actions.compose({ mode: 'new', to: 'a@x' });
  actions.updateDraft(id, { encrypt: 'off', text: 'x' });
  const result = await actions.send(id);
  assert.equal(result.state, 'error');
  assert.equal(result.error.code, 'send_failed');
  const draft = store.get().drafts.get(id);
  assert.equal(draft.sending, false);
  assert.equal(draft.error.code, 'send_failed');
  assert.equal(draft.text, 'x');
});

test('send refuses no recipients and malformed addresses before composing', async () => {
  const { actions, composed } = setup();
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  assert.equal((await actions.send(id)).error.code, 'no_recipients');
  actions.updateDraft(id, { to: 'not an address' });
  assert.equal((await actions.send(id)).error.code, 'invalid_recipient');
  assert.equal(composed.length, 0);
});

test('drafts: saved encrypted to self only and signed by the own key into Drafts with \\Draft; the previous copy expunged (not to Trash); auto-save armed while dirty', async () => {
  const { actions, appended, removed, composed, timers, store } = setup();
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  actions.updateDraft(id, { to: 'a@x', text: 'one' });
  assert.equal(timers.length, 1);
  assert.equal(timers[0].ms, 30_000);
  timers[0].fn();
  await new Promise((resolve) => setImmediate(resolve));
  await actions.saveDraft(id);
  assert.deepEqual(composed.map((entry) => [entry.kind, entry.options.recipientKeys.length, entry.options.sign]), [['encrypted', 0, true], ['encrypted', 0, true]]);
  assert.deepEqual(appended.map((entry) => [entry.folder, entry.flags.join(',')]), [['Drafts', '\\Draft,\\Seen'], ['Drafts', '\\Draft,\\Seen']]);
  assert.deepEqual(removed, [{ folder: 'Drafts', uids: [41], permanent: true }]);
  assert.equal(store.get().drafts.get(id).savedUid, 42);
  assert.equal(store.get().drafts.get(id).dirty, false);
  await actions.discardDraft(id);
  assert.deepEqual(removed.at(-1), { folder: 'Drafts', uids: [42], permanent: true });
});

test('reply, reply all, forwards', async () => {
  const { store, actions } = setup();
  await actions.start();
  const draftOf = async (options) => {
    const id = await actions.compose(options);
    return store.get().drafts.get(id);
  };
  const reply = await draftOf({ mode: 'reply', uid: 5 });
  assert.equal(reply.subject, 'Re: plans');
  assert.deepEqual(reply.to, [{ name: 'Ann', address: 'ann@x' }]);
  assert.equal(reply.inReplyTo, '<m2@x>');
  assert.deepEqual(reply.references, ['<m1@x>', '<m2@x>']);
  assert.match(reply.text, /Ann <ann@x> wrote:\n> line one\n>\n> line two/);
  assert.equal(reply.encrypt, 'on', 'answering encrypted mail stays encrypted');
  const all = await draftOf({ mode: 'reply_all', uid: 5 });
  assert.deepEqual(all.to.map((entry) => entry.address), ['ann@x', 'bob@x']);
  assert.deepEqual(all.cc.map((entry) => entry.address), ['carol@x']);
  const inline = await draftOf({ mode: 'forward_inline', uid: 5 });
  assert.equal(inline.subject, 'Fwd: Re: Re: plans');
  assert.match(inline.text, /---------- Forwarded message ----------/);
  assert.equal(inline.attachments[0].filename, 'a.txt');
  const attached = await draftOf({ mode: 'forward_attachment', uid: 5 });
  assert.equal(attached.attachments[0].contentType, 'message/rfc822');
  assert.match(attached.attachments[0].filename, /\.eml$/);
});

test('attachments beyond the server limit are refused', async () => {
  const { store, actions } = setup();
  await actions.start();
  const id = await actions.compose({ mode: 'new' });
  const file = (name, size) => new File([new Uint8Array(size)], name, { type: 'application/octet-stream' });
  // The limit is 10 000 bytes. 6 000 bytes fit in base64 (≈ 8 700) but not once the draft is
  // encrypted and armored (≈ 14 000): refused when added, not at the first save with a 413.
  const result = await actions.addAttachments(id, [file('small.bin', 100), file('big.bin', 20_000), file('armored.bin', 6_000)]);
  assert.equal(result.added.length, 1);
  assert.deepEqual(result.refused, [{ filename: 'big.bin', code: 'too_large', capacity: attachmentCapacity(10_000) }, { filename: 'armored.bin', code: 'too_large', capacity: attachmentCapacity(10_000) }]);
  assert.ok(attachmentCapacity(10_000) > 100 && attachmentCapacity(10_000) < 2_000, String(attachmentCapacity(10_000)));
  assert.ok(Math.abs(attachmentCapacity(25 * 1024 * 1024) / (1024 * 1024) - 13.3) < 0.5, 'about 13 MiB of files under the default 25 MiB');
  assert.equal(store.get().drafts.get(id).attachments[0].progress, 1);
  assert.ok(store.get().drafts.get(id).attachments[0].data instanceof File, 'the File is kept, not read into the page');
  const notABlob = await actions.addAttachments(id, [{ name: 'fake.bin', type: '', size: 3, arrayBuffer: async () => new ArrayBuffer(3) }]);
  assert.deepEqual(notABlob.refused, [{ filename: 'fake.bin', code: 'unreadable' }]);
});

test('quote helpers', () => {
  assert.equal(replySubject('RE: Re: x'), 'Re: x');
  assert.equal(forwardSubject('Fwd: x'), 'Fwd: x');
  assert.equal(quoteLines('a\n> b\n'), '> a\n>> b');
  assert.deepEqual(replyRecipients({ from: [{ address: 'me@l' }], to: [{ address: 'z@x' }] }, { self: ['ME@l'] }).to, [{ name: '', address: 'z@x' }]);
  const long = Array.from({ length: 60 }, (_, index) => `<${index}@x>`);
  const chain = replyReferences({ references: long, message_id: '<new@x>' });
  assert.equal(chain.length, 50);
  assert.equal(chain[0], '<0@x>');
  assert.equal(chain.at(-1), '<new@x>');
});

test('sent, but refused for some recipients or without a Sent copy: the panel notice says so', async () => {
  const cases = [
    [{ sent: true, sent_uid: 7, refused: [], sent_copy_error: null }, null],
    [{ sent: true, sent_uid: 7, refused: [{ address: 'b@x', code: '552', message: '' }] }, { code: 'sent_not_delivered', addresses: 'b@x (552)', cause: null }],
    [{ sent: true, sent_uid: null, refused: [], sent_copy_error: { code: 'quota_exceeded', message: 'The mailbox is full' } }, { code: 'sent_no_copy', addresses: '', cause: 'quota_exceeded' }],
    [{ sent: true, sent_uid: null, refused: [{ address: 'b@x', code: '552' }], sent_copy_error: { code: 'quota_exceeded', message: 'full' } }, { code: 'sent_not_delivered_no_copy', addresses: 'b@x (552)', cause: 'quota_exceeded' }],
  ];
  for (const [sendAnswer, expected] of cases) {
    const { actions, store } = setup({ sendAnswer });
    await actions.start();
    const id = await actions.compose({ mode: 'new' });
    actions.updateDraft(id, { to: 'a@x, b@x', subject: 'hello', text: 'hi' });
    const result = await actions.send(id, { confirmUnencrypted: true });
    assert.equal(result.state, 'sent');
    const notice = store.get().notice;
    if (!expected) {
      assert.equal(notice, null);
      continue;
    }
    assert.equal(notice.kind, 'error');
    assert.equal(notice.code, expected.code);
    assert.equal(notice.params.addresses, expected.addresses);
    assert.equal(notice.cause?.code ?? null, expected.cause);
  }
});
