// The mail settings kept on the user's own mail server (r3 F4) and the list's local results of
// the encrypted-mail search (r3 F2): with fakes for the mail API, the crypto Worker (a fake
// "encryption" that records who signed) and localStorage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SETTINGS_FOLDER, buildSettingsMessage, cacheKeys, createSettingsSync, isSettingsFolder, openSettingsMessage, readLocalSettings,
} from '../src/mail/settings-store.js';
import { createMailStore, localSearchRows } from '../src/state/mail-store.js';
import { createAddressBook } from '../src/mail/address-book.js';
import { createKeyDirectory } from '../src/mail/key-directory.js';
import { createMailController } from '../src/app/mail-controller.js';

const OWN = 'A'.repeat(40);
const OTHER = 'B'.repeat(40);
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/** A Worker whose "encryption" is base64 of {signer, data}; decrypt reports the signer as a valid signature. */
function fakeCrypto({ signer = OWN, fingerprint = OWN } = {}) {
  const connection = {
    signer,
    fingerprint,
    async request({ type, payload }) {
      if (type === 'identity.status') return { identity: connection.fingerprint ? { fingerprint: connection.fingerprint } : null };
      if (type === 'mail.encrypt') {
        if (!connection.fingerprint) throw Object.assign(new Error('locked'), { code: 'locked' });
        const body = b64(Buffer.from(JSON.stringify({ signer: payload.sign ? connection.signer : null, data: b64(payload.data) })));
        return { armored: `-----BEGIN PGP MESSAGE-----\n\n${body.match(/.{1,64}/g).join('\n')}\n-----END PGP MESSAGE-----\n` };
      }
      if (type === 'mail.decrypt') {
        const text = String(payload.data).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
        let parsed;
        try {
          parsed = JSON.parse(Buffer.from(text, 'base64').toString());
        } catch {
          throw Object.assign(new Error('decrypt_failed'), { code: 'decrypt_failed', reason: 'corrupt' });
        }
        return { data: new Uint8Array(Buffer.from(parsed.data, 'base64')), signatures: parsed.signer ? [{ status: 'valid', fingerprint: parsed.signer, keyId: parsed.signer.slice(-16) }] : [] };
      }
      throw new Error(`unexpected ${type}`);
    },
  };
  return connection;
}

function fakeApi() {
  const folders = new Map([['INBOX', []]]);
  let nextUid = 1;
  const calls = [];
  const notFound = () => Object.assign(new Error('no folder'), { code: 'folder_not_found', status: 404 });
  return {
    folders: () => Promise.resolve({ folders: [...folders.keys()].map((path) => ({ path, name: path, delimiter: '/', special_use: path === 'INBOX' ? 'inbox' : null, selectable: true, total: folders.get(path).length, unseen: 0 })) }),
    box: folders,
    calls,
    status: async () => ({ enabled: true, address: 'alice@mail.test', domain: 'mail.test', account: 'local', connection: 'connected', max_message_bytes: 1 << 20 }),
    async messages({ folder }) {
      if (!folders.has(folder)) throw notFound();
      const list = [...folders.get(folder)].sort((a, b) => b.uid - a.uid);
      return { folder, total: list.length, offset: 0, messages: list.map(({ uid, raw }) => ({ uid, size: raw.length, flags: [], subject: '[...]', from: [] })) };
    },
    async rawMessage(folder, uid) {
      const entry = folders.get(folder)?.find((message) => message.uid === uid);
      if (!entry) throw Object.assign(new Error('gone'), { code: 'message_not_found' });
      return entry.raw;
    },
    async append(folder, raw, flags) {
      calls.push(['append', folder, flags]);
      if (!folders.has(folder)) throw notFound();
      const uid = nextUid++;
      folders.get(folder).push({ uid, raw: new Uint8Array(raw) });
      return { uid };
    },
    async createFolder(path) {
      calls.push(['createFolder', path]);
      folders.set(path, []);
      return { path };
    },
    async remove({ folder, uids, permanent }) {
      calls.push(['remove', folder, uids, permanent]);
      folders.set(folder, folders.get(folder).filter((message) => !uids.includes(message.uid)));
    },
    put(folder, raw) {
      if (!folders.has(folder)) folders.set(folder, []);
      folders.get(folder).push({ uid: nextUid++, raw });
    },
  };
}

function memoryStorage() {
  const map = new Map();
  return { map, getItem: (key) => map.get(key) ?? null, setItem: (key, value) => map.set(key, String(value)), removeItem: (key) => map.delete(key) };
}

function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout: (fn, ms) => { pending.set(next, { fn, ms }); return next++; },
    clearTimeout: (handle) => pending.delete(handle),
    pending,
    /** Runs the timers due within `ms` (not the retry ones). */
    async run(ms = 2000) {
      for (const [handle, { fn, ms: delay }] of [...pending]) {
        if (delay > ms) continue;
        pending.delete(handle);
        await fn();
      }
    },
  };
}

const fakeKey = (tag) => `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${tag}\n-----END PGP PUBLIC KEY BLOCK-----\n`;

function setup({ crypto = fakeCrypto(), api = fakeApi(), storage = memoryStorage() } = {}) {
  const store = createMailStore();
  store.setStatus({ enabled: true, account: 'local', address: 'alice@mail.test', connection: 'connected' });
  const timers = fakeTimers();
  const addressBook = createAddressBook({ storage, account: 'alice' });
  let loadedCount = 0;
  const sync = createSettingsSync({
    api, store, storage, account: 'alice', crypto: () => crypto,
    ownFingerprint: async () => (await crypto.request({ type: 'identity.status', payload: {} })).identity?.fingerprint ?? null,
    ownAddress: () => 'alice@mail.test',
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout,
    onLoaded: () => { loadedCount += 1; store.setContacts(addressBook.list()); },
  });
  return { store, timers, api, storage, crypto, addressBook, sync, loaded: () => loadedCount };
}

async function copyWith(crypto, settings) {
  return buildSettingsMessage({ connection: crypto, settings: { version: 1, saved_at: null, contacts: [], keys: [], prefs: {}, ...settings }, address: 'alice@mail.test' });
}
const contact = (id, name, email) => ({ id, name, emails: [email], key: null, fingerprint: null, keySource: null });

test('the settings folder is recognised in any case', () => {
  assert.equal(isSettingsFolder('Security.MS'), true);
  assert.equal(isSettingsFolder('security.ms'), true);
  assert.equal(isSettingsFolder('Security'), false);
  assert.equal(isSettingsFolder('INBOX/Security.MS'), false);
});

test('a change is saved 2 s later: folder created, one copy encrypted and signed, the previous copy expunged', async () => {
  const { store, timers, api, addressBook, sync, crypto } = setup();
  await sync.start();
  assert.equal(sync.loaded(), true);
  assert.equal(api.calls.length, 0, 'nothing saved while nothing is stored');

  addressBook.add({ name: 'Carol', emails: ['carol@example.org'] });
  store.setContacts(addressBook.list());
  assert.equal([...timers.pending.values()][0]?.ms, 2000, 'debounced 2 s');
  await timers.run();
  await sync.flush();
  assert.deepEqual(api.calls.map(([name]) => name), ['append', 'createFolder', 'append']);
  const copies = api.box.get(SETTINGS_FOLDER);
  assert.equal(copies.length, 1);
  const raw = Buffer.from(copies[0].raw).toString('latin1');
  assert.match(raw, /^X-Secms-Store: mail-settings-v1\r$/m);
  assert.match(raw, /^Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted"/m);
  assert.doesNotMatch(raw, /Carol|carol@example/, 'the contact is not in clear text');
  const opened = await openSettingsMessage({ connection: crypto, raw: copies[0].raw, ownFingerprint: OWN });
  assert.deepEqual(opened.contacts.map((entry) => entry.name), ['Carol']);

  addressBook.add({ name: 'Dave', emails: ['dave@example.org'] });
  store.setContacts(addressBook.list());
  await timers.run();
  await sync.flush();
  const after = api.box.get(SETTINGS_FOLDER);
  assert.equal(after.length, 1, 'the replaced copy is gone');
  assert.notEqual(after[0].uid, copies[0].uid);
  assert.deepEqual(api.calls.at(-1), ['remove', SETTINGS_FOLDER, [copies[0].uid], true], 'deleted permanently');

  // A store change that changes nothing stored saves nothing.
  const count = api.calls.length;
  store.setContacts(addressBook.list());
  await timers.run();
  await sync.flush();
  assert.equal(api.calls.length, count);
  sync.stop();
});

test('at start the newest verified copy fills the empty caches (contacts, keys with source and state, prefs)', async () => {
  const crypto = fakeCrypto();
  const api = fakeApi();
  api.put(SETTINGS_FOLDER, await copyWith(crypto, { contacts: [contact('c1', 'Old', 'old@example.org')] }));
  api.put(SETTINGS_FOLDER, await copyWith(crypto, {
    contacts: [contact('c2', 'New', 'new@example.org')],
    keys: [{ address: 'bob@mail.test', armored: fakeKey('bob'), fingerprint: 'C'.repeat(40), source: 'pinned', preferEncrypt: true, lastSeen: 5, pending: { armored: fakeKey('bob2'), fingerprint: 'D'.repeat(40), source: 'autocrypt' } }],
    prefs: { density: 'compact', signature: '-- Alice' },
  }));
  const { store, storage, sync, loaded } = setup({ crypto, api });
  assert.equal(await sync.start(), 'loaded');
  assert.equal(loaded(), 1);
  assert.deepEqual(store.get().contacts.map((entry) => entry.name), ['New']);
  const keys = createKeyDirectory({ storage, account: 'alice', readKeyFacts: async () => ({}) });
  const bob = keys.keyFor('bob@mail.test');
  assert.equal(bob.source, 'pinned');
  assert.equal(bob.state, 'changed');
  assert.equal(bob.pending.fingerprint, 'D'.repeat(40));
  assert.deepEqual(JSON.parse(storage.getItem(cacheKeys('alice').prefs)), { density: 'compact', signature: '-- Alice' });
  assert.equal(store.get().status.error, null, 'no warning');
  sync.stop();
});

test('the copy signed as saved last wins, whatever order the server lists the copies in', async () => {
  const crypto = fakeCrypto();
  const api = fakeApi();
  api.put(SETTINGS_FOLDER, await copyWith(crypto, { saved_at: '2026-12-01T10:00:00.000Z', contacts: [contact('c2', 'New', 'new@example.org')] }));
  // Appended after it, so listed first (newest arrival): an older copy a server kept back.
  api.put(SETTINGS_FOLDER, await copyWith(crypto, { saved_at: '2026-11-01T10:00:00.000Z', contacts: [contact('c1', 'Old', 'old@example.org')] }));
  const { store, sync } = setup({ crypto, api });
  assert.equal(await sync.start(), 'loaded');
  assert.deepEqual(store.get().contacts.map((entry) => entry.name), ['New']);
  sync.stop();
});

test('a copy not signed by the own key (other signer, unsigned, altered) is ignored with a warning; nothing is saved over it', async () => {
  for (const forge of ['other signer', 'unsigned', 'altered']) {
    const crypto = fakeCrypto();
    const api = fakeApi();
    api.put(SETTINGS_FOLDER, await copyWith(crypto, { contacts: [contact('c1', 'Genuine', 'genuine@example.org')] }));
    if (forge === 'other signer') crypto.signer = OTHER;
    const bad = await buildSettingsMessage({ connection: { request: (request) => (forge === 'unsigned' ? crypto.request({ ...request, payload: { ...request.payload, sign: false } }) : crypto.request(request)) }, settings: { version: 1, contacts: [contact('c9', 'Planted', 'evil@example.org')], keys: [], prefs: {} }, address: 'alice@mail.test' });
    crypto.signer = OWN;
    const tampered = forge === 'altered' ? Buffer.from(Buffer.from(bad).toString('latin1').replace(/\n([A-Za-z0-9+/]{10})/, '\nAAAAAAAAAA'), 'latin1') : bad;
    api.put(SETTINGS_FOLDER, new Uint8Array(tampered));
    const { store, sync } = setup({ crypto, api });
    assert.equal(await sync.start(), 'loaded', forge);
    assert.deepEqual(store.get().contacts.map((entry) => entry.name), ['Genuine'], forge);
    assert.equal(store.get().status.error?.code, 'settings_unverified', forge);
    assert.equal(api.box.get(SETTINGS_FOLDER).length, 2, `${forge}: the refused copy is left alone`);
    sync.stop();
  }
});

test('nothing is saved before the copy could be read (own key locked); a change made meanwhile is merged in', async () => {
  const crypto = fakeCrypto({ fingerprint: null });
  const api = fakeApi();
  crypto.fingerprint = OWN;
  api.put(SETTINGS_FOLDER, await copyWith(crypto, { contacts: [contact('c1', 'Server', 'server@example.org')] }));
  crypto.fingerprint = null;
  const { store, timers, addressBook, sync } = setup({ crypto, api });
  assert.equal(await sync.start(), 'locked');
  addressBook.add({ name: 'Meanwhile', emails: ['meanwhile@example.org'] });
  store.setContacts(addressBook.list());
  await timers.run();
  assert.equal(api.calls.length, 0, 'no save while locked');
  crypto.fingerprint = OWN;
  await timers.run(5000);   // the retry
  await sync.tryLoad();
  assert.deepEqual(store.get().contacts.map((entry) => entry.name).sort(), ['Meanwhile', 'Server']);
  await timers.run();
  await sync.flush();
  const copies = api.box.get(SETTINGS_FOLDER);
  assert.equal(copies.length, 1, 'the merged copy replaced the old one');
  const opened = await openSettingsMessage({ connection: crypto, raw: copies[0].raw, ownFingerprint: OWN });
  assert.deepEqual(opened.contacts.map((entry) => entry.name).sort(), ['Meanwhile', 'Server']);
  sync.stop();
});

test('stop() forgets the schedule: an emptied store after logout saves nothing', async () => {
  const { store, timers, api, addressBook, sync, storage } = setup();
  await sync.start();
  addressBook.add({ name: 'Carol', emails: ['carol@example.org'] });
  store.setContacts(addressBook.list());
  sync.stop();
  storage.map.clear();
  store.clear();
  await timers.run();
  assert.equal(api.calls.length, 0);
  assert.deepEqual(readLocalSettings(storage, 'alice').contacts, []);
});

test('a save answered after logout (stop, storage wiped) writes nothing back to the storage', async () => {
  const api = fakeApi();
  api.box.set(SETTINGS_FOLDER, []);
  const { store, api: held, addressBook, sync, storage } = setup({ api });
  await sync.start();
  let release;
  const append = held.append;
  held.append = (...args) => new Promise((resolve) => { release = () => resolve(append(...args)); });
  addressBook.add({ name: 'Late', emails: ['late@example.org'] });
  store.setContacts(addressBook.list());
  const flushed = sync.flush();
  while (!release) await new Promise((resolve) => setImmediate(resolve));
  sync.stop();
  storage.map.clear();
  release();
  await flushed;
  assert.deepEqual([...storage.map.keys()], [], 'nothing written after the wipe');
});

test('the controller hides the settings folder and loads the copy at start', async () => {
  const crypto = fakeCrypto();
  const api = fakeApi();
  api.put(SETTINGS_FOLDER, await copyWith(crypto, { contacts: [contact('c1', 'Kept', 'kept@example.org')], prefs: { density: 'compact' } }));
  const storage = memoryStorage();
  const store = createMailStore();
  const timers = fakeTimers();
  const { actions } = createMailController({
    api, store, crypto, mime: {}, keys: createKeyDirectory({ storage, account: 'alice', readKeyFacts: async () => ({}) }),
    addressBook: createAddressBook({ storage, account: 'alice' }), storage, account: 'alice',
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout,
  });
  await actions.start();
  for (let attempt = 0; attempt < 50 && store.get().contacts.length === 0; attempt += 1) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(store.get().folders.map((folder) => folder.path), ['INBOX']);
  assert.deepEqual(store.get().contacts.map((entry) => entry.name), ['Kept']);
  assert.equal(store.get().prefs.density, 'compact');
  actions.stop();
});

test('the list shows encrypted mail found by the local search beside the server rows, once per uid, this folder only', () => {
  const store = createMailStore();
  const version = store.resetList({ folder: 'INBOX' });
  store.putRows(version, { offset: 0, messages: [{ uid: 5, subject: '[...]' }], total: 1 });
  store.setSearchResults({
    query: { quick: 'zebra' },
    results: [
      { folder: 'INBOX', uid: 5, subject: 'Zebra in server rows', from: [] },
      { folder: 'INBOX', uid: 7, subject: 'Zebra secret plan', from: [] },
      { folder: 'INBOX', uid: 7, subject: 'Zebra secret plan', from: [] },
      { folder: 'Archive', uid: 9, subject: 'Zebra elsewhere', from: [] },
    ],
  });
  assert.deepEqual(localSearchRows(store.get()).map((row) => row.uid), [7]);
  store.setSearchResults(null);
  assert.deepEqual(localSearchRows(store.get()), []);
});
