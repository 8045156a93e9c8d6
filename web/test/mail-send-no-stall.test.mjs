// Every send mode finishes on the Worker's answers alone: the real controller, composer,
// pgp-mime and crypto-client run against a fake Worker that answers each request it gets, with
// the clock frozen (mock timers). A step of the send path that waited for an answer never asked
// for, or for a timer (the 30 s mail request timeout, a retry, the auto-save), would leave the
// send unresolved here. Checked: unencrypted after the confirmation (signed and plain),
// encrypted, save draft, and send after a save; every Worker request is answered.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore } from '../src/state/mail-store.js';
import { createMailController } from '../src/app/mail-controller.js';
import { openCryptoWorker } from '../src/crypto/crypto-client.js';
import { composeEncrypted, composePlain, composeSigned } from '../src/mail/pgp-mime.js';
import * as openpgp from 'openpgp';

const realSetTimeout = globalThis.setTimeout;   // taken before the clock is mocked
const realClearTimeout = globalThis.clearTimeout;
const STALLED = Symbol('stalled');
const STALL_MS = 2_000;                          // real time: the whole send takes milliseconds

// Real public keys: the Autocrypt header and the key directory read them.
const publicKey = async (email) => (await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email }], format: 'armored' })).publicKey;
const ownArmored = await publicKey('me@localhost');
const friendArmored = await publicKey('friend@localhost');
const armor = (kind) => `-----BEGIN PGP ${kind}-----\r\n\r\nwcBMA0\r\n=AbCd\r\n-----END PGP ${kind}-----\r\n`;

/** A Worker-like object answering the mail requests (except the types in `silent`). */
function fakeWorker({ silent = [] } = {}) {
  const asked = [];
  const answered = new Set();
  const answers = {
    health: () => ({ ok: true }),
    'identity.export_public': () => ({ armored: ownArmored }),
    'mail.encrypt': () => ({ armoredBytes: new TextEncoder().encode(armor('MESSAGE')) }),
    'mail.sign': () => ({ armoredSignature: armor('SIGNATURE'), micalg: 'pgp-sha256' }),
  };
  const worker = {
    onmessage: null,
    onerror: null,
    postMessage({ id, type }) {
      asked.push({ id, type });
      if (silent.includes(type)) return;
      const answer = answers[type] ? { type, ...answers[type]() } : { type: 'error', error: { code: 'unknown_type' } };
      // Asynchronous like a real Worker, but on no timer.
      queueMicrotask(() => {
        answered.add(id);
        worker.onmessage({ data: { ...answer, id } });
      });
    },
    terminate() {},
  };
  const unanswered = () => asked.filter(({ id }) => !answered.has(id)).map(({ type }) => type);
  return { worker, asked, unanswered };
}

async function setup(t, { silent = [] } = {}) {
  const fake = fakeWorker({ silent });
  const connection = await openCryptoWorker({ url: '/assets/worker.js', workerFactory: () => fake.worker });
  const sent = [];
  const appended = [];
  const api = {
    status: async () => ({ enabled: true, address: 'me@localhost', domain: 'localhost', connection: 'connected', max_message_bytes: 1_000_000 }),
    folders: async () => ({ folders: [{ path: 'Drafts', special_use: 'drafts', total: 0, unseen: 0 }, { path: 'Sent', special_use: 'sent', total: 0, unseen: 0 }] }),
    messages: async () => ({ total: 0, offset: 0, messages: [] }),
    async send(request) { sent.push(request); return { sent: true, sent_uid: 7, refused: [] }; },
    async append(folder, raw, flags) { appended.push({ folder, raw, flags }); return { uid: 40 + appended.length }; },
    remove: async () => null,
    setFlags: async () => null,
  };
  const keys = { 'friend@localhost': { armored: friendArmored, fingerprint: 'F'.repeat(40), source: 'imported', state: 'ok' } };
  const keyDirectory = { keyFor: (address) => keys[address] ?? null, verificationKeys: () => [], list: () => [] };
  const scheduled = [];
  const controller = createMailController({
    api, store: createMailStore(), crypto: () => connection, keys: keyDirectory, addressBook: null,
    mime: { openMessage: async () => null, composeEncrypted, composeSigned, composePlain },
    setTimeout: (fn, ms) => { scheduled.push({ fn, ms }); return scheduled.length; }, clearTimeout: () => {},
  });
  await controller.actions.start();
  // From here on no timer fires unless a test ticks the clock.
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  t.after(() => connection.terminate());
  return { actions: controller.actions, fake, sent, appended };
}

/** The promise's value, or a failure naming the step when it does not settle without timers. */
async function withoutStall(promise, what, fake) {
  let guard;
  const stalled = new Promise((resolve) => { guard = realSetTimeout(() => resolve(STALLED), STALL_MS); });
  const outcome = await Promise.race([promise, stalled]);
  realClearTimeout(guard);
  assert.notEqual(outcome, STALLED, `${what} waited on something other than the Worker's answers (unanswered: ${fake.unanswered().join(', ') || 'none'})`);
  assert.deepEqual(fake.unanswered(), [], `${what}: every Worker request is answered`);
  return outcome;
}

test('unencrypted after the confirmation (signed, then plain) resolves on the answers alone', async (t) => {
  const { actions, fake, sent } = await setup(t);
  for (const sign of [true, false]) {
    const id = await actions.compose({ mode: 'new', to: 'keyless@localhost' });
    actions.updateDraft(id, { subject: `unencrypted ${sign}`, text: 'hello', sign });
    assert.equal((await actions.send(id)).state, 'needs_confirmation');
    const result = await withoutStall(actions.send(id, { confirmUnencrypted: true }), `unencrypted send (sign ${sign})`, fake);
    assert.equal(result.state, 'sent', JSON.stringify(result.error));
    assert.equal(result.encrypted, false);
  }
  assert.equal(sent.length, 2);
  assert.match(new TextDecoder().decode(sent[0].raw), /multipart\/signed/);
  assert.doesNotMatch(new TextDecoder().decode(sent[1].raw), /multipart\/signed/);
  assert.deepEqual(fake.asked.map(({ type }) => type).filter((type) => type.startsWith('mail.')), ['mail.sign']);
});

test('encrypted send, save draft and send after the save resolve on the answers alone', async (t) => {
  const { actions, fake, sent, appended } = await setup(t);
  const first = await actions.compose({ mode: 'new', to: 'friend@localhost' });
  actions.updateDraft(first, { subject: 'encrypted', text: 'hello' });
  const result = await withoutStall(actions.send(first), 'encrypted send', fake);
  assert.equal(result.state, 'sent', JSON.stringify(result.error));
  assert.equal(result.encrypted, true);

  const second = await actions.compose({ mode: 'new', to: 'friend@localhost' });
  actions.updateDraft(second, { subject: 'draft', text: 'kept' });
  assert.equal(await withoutStall(actions.saveDraft(second), 'save draft', fake), 41);
  assert.equal(appended.length, 1);
  const afterSave = await withoutStall(actions.send(second), 'send after a save', fake);
  assert.equal(afterSave.state, 'sent', JSON.stringify(afterSave.error));
  assert.equal(sent.at(-1).draftUid, 41);
  assert.deepEqual(fake.asked.map(({ type }) => type).filter((type) => type === 'mail.encrypt').length, 3);
});

test('the check sees a stall: a Worker that never answers mail.sign leaves the send waiting', async (t) => {
  const { actions, fake } = await setup(t, { silent: ['mail.sign'] });
  const id = await actions.compose({ mode: 'new', to: 'keyless@localhost' });
  actions.updateDraft(id, { subject: 'stalls', text: 'hello' });
  const sending = actions.send(id, { confirmUnencrypted: true });
  await assert.rejects(withoutStall(sending, 'unencrypted send', fake), /waited on something other than the Worker's answers \(unanswered: mail\.sign\)/);
  // Only the request timeout ends it: 30 s plus the share for the message's size.
  t.mock.timers.tick(31_000);
  const result = await sending;
  assert.equal(result.state, 'error');
  assert.match(result.error.message, /mail\.sign: no answer from the crypto worker within 3000\d ms/);
});
