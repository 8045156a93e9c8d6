// Drafts against a hostile mail server and the server's size limit (review R3): the real
// composer, mime-read and pgp-mime with real OpenPGP keys (web/test/helpers/mail-parties.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { createMailStore, defaultMailPrefs } from '../src/state/mail-store.js';
import { attachmentCapacity, createComposer } from '../src/app/mail-compose.js';
import { composeEncrypted } from '../src/mail/pgp-mime.js';
import { openMessage } from '../src/mail/mime-read.js';
import { localCrypto, makeIdentity } from './helpers/mail-parties.mjs';

const me = await makeIdentity('me');
const meCrypto = localCrypto(me.privateKey);

/** A composer over a Drafts folder in memory that refuses bodies over `limit` as the server does. */
function composerOver(limit = 1 << 30) {
  const store = createMailStore();
  store.setPrefs({ ...defaultMailPrefs, composeFormat: 'plain' });
  store.setStatus({ maxMessageBytes: limit });
  const folder = new Map();
  let nextUid = 0;
  let nextId = 0;
  const api = {
    async append(_folder, raw) {
      const bytes = raw instanceof Blob ? new Uint8Array(await raw.arrayBuffer()) : raw;
      if (bytes.length > limit) throw Object.assign(new Error('413'), { code: 'too_large', size: bytes.length });
      nextUid += 1;
      folder.set(nextUid, bytes);
      return { uid: nextUid };
    },
    async remove() {},
    rawMessage: async (_folder, uid) => folder.get(uid),
  };
  const composer = createComposer({
    api, store, mime: { openMessage, composeEncrypted }, crypto: () => meCrypto, now: () => 0,
    keys: { keyFor: () => null, verificationKeys: () => [] }, schedule: () => 1, unschedule: () => {},
    newId: () => `d${++nextId}`, ownAddresses: () => [me.address], ownFingerprint: async () => me.privateKey.getFingerprint().toUpperCase(),
  });
  return { store, composer, folder, put: (bytes) => { nextUid += 1; folder.set(nextUid, bytes); return nextUid; } };
}

function randomFile(size) {
  const data = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) webcrypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
  return new File([data], 'big.bin', { type: 'application/octet-stream' });
}

test('the largest file the composer accepts still makes a draft the server takes (armor lines are 60 columns)', async () => {
  const limit = 4 * 1024 * 1024;
  // The largest size addAttachments accepts (only .size matters for the check: a stand-in Blob).
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const { composer } = composerOver(limit);
    const id = await composer.compose({ mode: 'new' });
    const fake = Object.setPrototypeOf({ size: mid, name: 'x', type: '', slice: () => new Blob([new Uint8Array(1)]) }, Blob.prototype);
    const { added } = await composer.addAttachments(id, [fake]);
    if (added.length) lo = mid;
    else hi = mid - 1;
  }
  assert.ok(lo > 0 && Math.abs(lo - attachmentCapacity(limit)) < 4096, `accepted ${lo}, capacity said ${attachmentCapacity(limit)}`);
  const { store, composer } = composerOver(limit);
  const id = await composer.compose({ mode: 'new' });
  assert.equal((await composer.addAttachments(id, [randomFile(lo)])).added.length, 1);
  const uid = await composer.saveDraft(id);
  assert.ok(Number.isSafeInteger(uid), `the draft was refused: ${JSON.stringify(store.draft(id)?.error)}`);
});

test('threading fields a server adds outside an own signed draft are not taken when it reopens', async () => {
  const { store, composer, folder, put } = composerOver();
  const id = await composer.compose({ mode: 'new' });
  composer.updateDraft(id, { to: 'ann@x', subject: 'New topic', format: 'rich', html: '<div>hi <b>ann</b></div>', text: 'hi ann' });
  const uid = await composer.saveDraft(id);
  const raw = new TextDecoder('latin1').decode(folder.get(uid));
  assert.doesNotMatch(raw.split('\r\n\r\n')[0], /References|In-Reply-To/i, 'the saved draft has no threading fields');
  const tampered = put(new TextEncoder().encode(`In-Reply-To: <thread@evil.example>\r\nReferences: <thread@evil.example>\r\n${raw}`));
  const reopened = store.draft(await composer.compose({ mode: 'draft', uid: tampered, folder: 'Drafts' }));
  assert.equal(reopened.format, 'rich', 'still the own draft');
  assert.equal(reopened.inReplyTo, null);
  assert.deepEqual(reopened.references, []);
});
