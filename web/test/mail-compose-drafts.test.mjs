// Reopening a draft (issue 11 "drafts saved automatically"): Drafts is a folder anyone able to
// append to the mailbox can fill, and the user's public key is public, so only a draft signed by
// the own key inside the encryption is the user's own. Only such a draft gives its HTML back to
// the rich editor; any other opens as its plain text with the notice 'formatting_dropped'.
// Real OpenPGP (the Worker's mail-crypto handlers in process) and the real MIME reader/builder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailStore, defaultMailPrefs } from '../src/state/mail-store.js';
import { createComposer, isOwnDraft } from '../src/app/mail-compose.js';
import { composeEncrypted, composePlain } from '../src/mail/pgp-mime.js';
import { openMessage } from '../src/mail/mime-read.js';
import { localCrypto, makeIdentity } from './helpers/mail-parties.mjs';

const me = await makeIdentity('me');
const mallory = await makeIdentity('mallory');
const meCrypto = localCrypto(me.privateKey);
const malloryCrypto = localCrypto(mallory.privateKey);
const myFingerprint = me.privateKey.getFingerprint().toUpperCase();

const richHtml = '<div>plain start <b>Strongly</b> plain end</div>';
const draftFields = {
  from: { name: '', address: me.address }, to: [{ name: '', address: 'ann@x' }], subject: 'A draft',
  date: new Date(0), text: 'plain start Strongly plain end', html: richHtml,
};

/**
 * A composer over a Drafts folder held in memory. knownKeys: armored keys the key directory
 * verifies with (a signer the user knows); fingerprint: what the Worker says the own key is.
 */
function composerOver({ fingerprint = myFingerprint, knownKeys = [] } = {}) {
  const store = createMailStore();
  store.setPrefs({ ...defaultMailPrefs, composeFormat: 'plain' });
  const folder = new Map();
  let nextUid = 0;
  let nextId = 0;
  const api = {
    async append(_folder, raw) {
      nextUid += 1;
      folder.set(nextUid, raw instanceof Blob ? new Uint8Array(await raw.arrayBuffer()) : raw);
      return { uid: nextUid };
    },
    async remove({ uids }) { for (const uid of uids) folder.delete(uid); },
    rawMessage: async (_folder, uid) => folder.get(uid),
  };
  const composer = createComposer({
    api, store, mime: { openMessage, composeEncrypted }, crypto: () => meCrypto, now: () => 0,
    keys: { keyFor: () => null, verificationKeys: () => knownKeys },
    schedule: () => 1, unschedule: () => {}, newId: () => `d${++nextId}`, ownAddresses: () => [me.address],
    ownFingerprint: async () => fingerprint,
  });
  /** Puts raw bytes into Drafts as someone else would (the mail server, an intruder). */
  const plant = (raw) => { nextUid += 1; folder.set(nextUid, raw); return nextUid; };
  const reopen = async (uid) => store.draft(await composer.compose({ mode: 'draft', uid, folder: 'Drafts' }));
  return { store, composer, plant, reopen };
}

test('a rich draft saved by the composer (signed by the own key) reopens rich, without a notice', async () => {
  const { store, composer, reopen } = composerOver();
  const id = await composer.compose({ mode: 'new' });
  composer.updateDraft(id, { to: 'ann@x', subject: 'Rich', format: 'rich', html: richHtml, text: 'plain start Strongly plain end' });
  const uid = await composer.saveDraft(id);
  assert.equal(store.draft(id).error, null);
  const reopened = await reopen(uid);
  assert.equal(reopened.format, 'rich');
  assert.match(reopened.html, /<b>Strongly<\/b>/);
  assert.equal(reopened.notice, null);
  assert.equal(reopened.subject, 'Rich');
});

test('a draft encrypted to the own key but not signed (planted) reopens as plain text with the notice', async () => {
  const { plant, reopen } = composerOver();
  const raw = await composeEncrypted({ crypto: meCrypto, ...draftFields, recipientKeys: [], sign: false, keepBcc: true });
  const reopened = await reopen(plant(raw));
  assert.equal(reopened.format, 'plain');
  assert.equal(reopened.html, null);
  assert.equal(reopened.notice, 'formatting_dropped');
  assert.match(reopened.text, /plain start Strongly plain end/);
  assert.equal(reopened.subject, 'A draft');
});

test('a draft signed by another known key (verified, not the own one) and encrypted to me reopens as plain', async () => {
  const { plant, reopen } = composerOver({ knownKeys: [mallory.armoredPublic] });
  // Mallory signs inside the encryption (her Worker also encrypts to her own key: harmless here).
  const raw = await composeEncrypted({ crypto: malloryCrypto, ...draftFields, recipientKeys: [me.armoredPublic], sign: true });
  const opened = await openMessage({ raw, crypto: meCrypto, keyring: { verificationKeys: [mallory.armoredPublic] } });
  assert.equal(opened.security.signature, 'verified', 'the signature itself is good');
  assert.equal(isOwnDraft(opened, myFingerprint), false);
  const reopened = await reopen(plant(raw));
  assert.equal(reopened.format, 'plain');
  assert.equal(reopened.notice, 'formatting_dropped');
});

test('an unencrypted HTML draft, and the own draft while the own fingerprint is unknown, reopen as plain', async () => {
  const planted = composerOver();
  const reopened = await planted.reopen(planted.plant(await composePlain({ ...draftFields })));
  assert.equal(reopened.format, 'plain');
  assert.equal(reopened.notice, 'formatting_dropped');

  const locked = composerOver({ fingerprint: null });
  const id = await locked.composer.compose({ mode: 'new' });
  locked.composer.updateDraft(id, { format: 'rich', html: richHtml, text: 'x' });
  const again = await locked.reopen(await locked.composer.saveDraft(id));
  assert.equal(again.format, 'plain', 'without the own fingerprint nothing counts as the own signature');
  assert.equal(again.notice, 'formatting_dropped');
});

test('a plain draft that is not the own one opens as plain without the notice (no formatting was dropped)', async () => {
  const { plant, reopen } = composerOver();
  const raw = await composeEncrypted({ crypto: meCrypto, ...draftFields, html: undefined, recipientKeys: [], sign: false });
  const reopened = await reopen(plant(raw));
  assert.equal(reopened.format, 'plain');
  assert.equal(reopened.notice, null);
});

test('isOwnDraft: every condition is needed', () => {
  const own = {
    security: {
      encrypted: true, encrypted_to_me: true, decryption_error: null, signature: 'verified', signed_inside_encryption: true,
      signer: { fingerprint: myFingerprint.toLowerCase() },
    },
  };
  assert.equal(isOwnDraft(own, myFingerprint), true);
  const without = (patch) => ({ security: { ...own.security, ...patch } });
  assert.equal(isOwnDraft(without({ encrypted: false }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ encrypted_to_me: false }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ decryption_error: 'corrupt' }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ signature: 'unknown_key' }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ signature: 'bad' }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ signed_inside_encryption: false }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ signer: { fingerprint: 'AB'.repeat(20) } }), myFingerprint), false);
  assert.equal(isOwnDraft(without({ signer: null }), myFingerprint), false);
  assert.equal(isOwnDraft(own, null), false);
  assert.equal(isOwnDraft(own, ''), false);
  assert.equal(isOwnDraft(null, myFingerprint), false);
});
