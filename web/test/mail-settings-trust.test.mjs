// The certificate pins and verified marks of the chat's trust store kept in the mail settings
// copy (issue 15): the round trip through the settings JSON, the bounds and the checks on load,
// the merge by change time, and the sync (a verification survives a logout, saved 2 s later).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TRUST, SETTINGS_FOLDER, buildSettingsMessage, cleanSettings, createSettingsSync, mergeTrust, openSettingsMessage, readLocalSettings, writeLocalSettings,
} from '../src/mail/settings-store.js';
import { ContactStatus, contactStatus, createTrustStore, trustStorageKeys } from '../src/state/trust-store.js';
import { createMailStore } from '../src/state/mail-store.js';

const OWN = 'A'.repeat(40);
const BOB = 'B'.repeat(40);
const CAROL = 'C'.repeat(64);
const EVE = 'E'.repeat(40);
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/** A Worker whose "encryption" is base64 of {signer, data}; decrypt reports the signer as a valid signature. */
function fakeCrypto() {
  const connection = {
    fingerprint: OWN,
    async request({ type, payload }) {
      if (type === 'identity.status') return { identity: connection.fingerprint ? { fingerprint: connection.fingerprint } : null };
      if (type === 'mail.encrypt') {
        const body = b64(Buffer.from(JSON.stringify({ signer: payload.sign ? OWN : null, data: b64(payload.data) })));
        return { armored: `-----BEGIN PGP MESSAGE-----\n\n${body.match(/.{1,64}/g).join('\n')}\n-----END PGP MESSAGE-----\n` };
      }
      if (type === 'mail.decrypt') {
        const parsed = JSON.parse(Buffer.from(String(payload.data).replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString());
        return { data: new Uint8Array(Buffer.from(parsed.data, 'base64')), signatures: parsed.signer ? [{ status: 'valid', fingerprint: parsed.signer }] : [] };
      }
      throw new Error(`unexpected ${type}`);
    },
  };
  return connection;
}

function fakeApi() {
  const folders = new Map([['INBOX', []]]);
  let nextUid = 1;
  const notFound = () => Object.assign(new Error('no folder'), { code: 'folder_not_found' });
  return {
    box: folders,
    async messages({ folder }) {
      if (!folders.has(folder)) throw notFound();
      return { messages: [...folders.get(folder)].sort((a, b) => b.uid - a.uid).map(({ uid, raw }) => ({ uid, size: raw.length })) };
    },
    async rawMessage(folder, uid) { return folders.get(folder).find((message) => message.uid === uid).raw; },
    async append(folder, raw) {
      if (!folders.has(folder)) throw notFound();
      const uid = nextUid++;
      folders.get(folder).push({ uid, raw: new Uint8Array(raw) });
      return { uid };
    },
    async createFolder(path) { folders.set(path, []); return { path }; },
    async remove({ folder, uids }) { folders.set(folder, folders.get(folder).filter((message) => !uids.includes(message.uid))); },
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
    async run(ms = 2000) {
      for (const [handle, { fn, ms: delay }] of [...pending]) {
        if (delay > ms) continue;
        pending.delete(handle);
        await fn();
      }
    },
  };
}

const iso = (ms) => new Date(ms).toISOString();
const T0 = Date.UTC(2026, 0, 1);
const entry = (username, fingerprint, verified, at) => ({ username, fingerprint, verified, changed_at: iso(at) });
const settingsWith = (trust, savedAt = T0) => ({ version: 1, saved_at: iso(savedAt), contacts: [], keys: [], prefs: {}, trust });

function setup({ crypto = fakeCrypto(), api = fakeApi(), storage = memoryStorage(), clock = { now: T0 + 10_000 } } = {}) {
  const store = createMailStore();
  store.setStatus({ enabled: true, account: 'local', address: 'alice@mail.test', connection: 'connected' });
  const timers = fakeTimers();
  const trust = createTrustStore({ storage, account: 'alice', now: () => clock.now });
  let sync = null;
  sync = createSettingsSync({
    api, store, storage, account: 'alice', crypto: () => crypto, now: () => clock.now,
    ownFingerprint: async () => (await crypto.request({ type: 'identity.status', payload: {} })).identity?.fingerprint ?? null,
    ownAddress: () => 'alice@mail.test',
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout,
  });
  return { store, timers, api, storage, crypto, trust, sync, clock };
}

async function savedTrust(crypto, api) {
  const copies = api.box.get(SETTINGS_FOLDER) ?? [];
  assert.equal(copies.length, 1, 'one copy on the server');
  return (await openSettingsMessage({ connection: crypto, raw: copies[0].raw, ownFingerprint: OWN })).trust;
}

test('pins and verified marks round-trip through the settings JSON into an emptied trust store', async () => {
  const crypto = fakeCrypto();
  const storage = memoryStorage();
  const trust = createTrustStore({ storage, account: 'alice', now: () => T0 });
  trust.remember({ username: 'Bob', fingerprint: BOB.toLowerCase() });
  trust.markVerified({ username: 'carol', fingerprint: CAROL });
  const local = readLocalSettings(storage, 'alice');
  assert.deepEqual(local.trust.map(({ username, verified }) => [username, verified]).sort(), [['bob', false], ['carol', true]]);
  const raw = await buildSettingsMessage({ connection: crypto, settings: { ...local, saved_at: iso(T0) }, address: 'alice@mail.test' });
  assert.doesNotMatch(Buffer.from(raw).toString('latin1'), /carol|CCCCCCCC/, 'no pin in clear text');
  const opened = await openSettingsMessage({ connection: crypto, raw, ownFingerprint: OWN });

  const fresh = memoryStorage();   // after logout: everything wiped
  writeLocalSettings(fresh, 'alice', opened);
  const snapshot = createTrustStore({ storage: fresh, account: 'alice' }).snapshot();
  assert.equal(contactStatus(snapshot, 'bob', BOB), ContactStatus.pinned);
  assert.equal(contactStatus(snapshot, 'carol', CAROL), ContactStatus.verified);
  assert.equal(contactStatus(snapshot, 'carol', EVE), ContactStatus.changed, 'verified only for the fingerprint compared');
});

test('trust on load: at most MAX_TRUST entries, bad entries dropped, a copy without trust is told apart', () => {
  const many = Array.from({ length: MAX_TRUST + 5 }, (_, index) => entry(`user${index}`, BOB, false, T0));
  assert.equal(cleanSettings(settingsWith(many)).trust.length, MAX_TRUST);
  const bad = [
    entry('ok_name', BOB, true, T0),
    entry('x', BOB, false, T0),                         // too short a username
    entry('Upper', BOB, false, T0),                      // not the stored lower-case form
    entry('evil<script>', BOB, false, T0),
    entry('short_fp', 'B'.repeat(39), false, T0),
    entry('lower_fp', 'b'.repeat(40), false, T0),
    { ...entry('str_verified', BOB, false, T0), verified: 'true' },
    { ...entry('no_date', BOB, false, T0), changed_at: undefined },
    { ...entry('bad_date', BOB, false, T0), changed_at: 'yesterday' },
    { ...entry('old_date', BOB, false, T0), changed_at: '1970-01-01T00:00:00Z' },
    entry('ok_name', EVE, false, T0),                   // a second entry for a name: the first wins
    null, 'bob', [1, 2],
  ];
  assert.deepEqual(cleanSettings(settingsWith(bad)).trust, [entry('ok_name', BOB, true, T0)]);
  assert.equal(cleanSettings({ version: 1, contacts: [], keys: [], prefs: {} }).trust, null);
  assert.deepEqual(cleanSettings(settingsWith({ bob: BOB })).trust, null, 'not a list: as if absent');
});

test('merge: the copy wins for its names; names changed or forgotten here after its save keep the local state', () => {
  const copy = cleanSettings(settingsWith([entry('bob', BOB, true, T0 - 5), entry('carol', CAROL, false, T0 - 5), entry('dave', EVE, false, T0 - 5)], T0));
  const local = [entry('bob', EVE, false, T0 - 100), entry('erin', BOB, false, T0 - 50), entry('frank', BOB, true, T0 + 50), entry('carol', EVE, true, T0 + 60)];
  const changes = new Map([['frank', true], ['carol', true], ['dave', false]]);   // dave forgotten here after the save
  const merged = mergeTrust(copy, local, changes);
  const byName = Object.fromEntries(merged.map((item) => [item.username, item]));
  assert.deepEqual(Object.keys(byName).sort(), ['bob', 'carol', 'frank']);
  assert.equal(byName.bob.fingerprint, BOB, 'the copy wins over an older local pin');
  assert.equal(byName.bob.verified, true);
  assert.equal(byName.carol.fingerprint, EVE, 'a newer local decision wins');
  assert.equal(byName.frank.verified, true, 'a local pin newer than the copy is kept');
  assert.equal(byName.erin, undefined, 'an older local pin the copy lacks was forgotten elsewhere');
  // A copy saved before trust was kept leaves the local pins.
  assert.deepEqual(mergeTrust(cleanSettings({ version: 1 }), local, new Map()), local);
});

test('a verification survives logout: saved 2 s after the change, loaded into the emptied trust store at the next start', async () => {
  const crypto = fakeCrypto();
  const api = fakeApi();
  const first = setup({ crypto, api });
  await first.sync.start();
  first.trust.markVerified({ username: 'bob', fingerprint: BOB });
  first.sync.noteTrustChange();
  assert.equal([...first.timers.pending.values()][0]?.ms, 2000, 'debounced 2 s');
  await first.timers.run();
  await first.sync.flush();
  assert.deepEqual((await savedTrust(crypto, api)).map(({ username, fingerprint, verified }) => [username, fingerprint, verified]), [['bob', BOB, true]]);
  first.sync.stop();

  // Logout wiped the storage; the next login starts with an empty trust store.
  const second = setup({ crypto, api, clock: { now: T0 + 60_000 } });
  assert.equal(contactStatus(second.trust.snapshot(), 'bob', BOB), ContactStatus.unknown);
  assert.equal(await second.sync.start(), 'loaded');
  assert.equal(second.trust.check({ username: 'bob', fingerprint: BOB }).verified, true);
  assert.equal(contactStatus(second.trust.snapshot(), 'bob', BOB), ContactStatus.verified);
  await second.timers.run(0);
  await second.sync.flush();
  assert.equal(api.box.get(SETTINGS_FOLDER).length, 1, 'nothing new to save');

  // Forgetting it is saved as well.
  second.trust.forget({ username: 'bob' });
  second.sync.noteTrustChange();
  await second.timers.run();
  await second.sync.flush();
  assert.deepEqual(await savedTrust(crypto, api), []);
  second.sync.stop();
});

test('a pin made and a pin forgotten before the copy could be read (key locked) are kept and saved', async () => {
  const crypto = fakeCrypto();
  const api = fakeApi();
  api.put(SETTINGS_FOLDER, await buildSettingsMessage({
    connection: crypto, address: 'alice@mail.test',
    settings: settingsWith([entry('bob', BOB, true, T0 - 10), entry('carol', CAROL, true, T0 - 10)], T0),
  }));
  crypto.fingerprint = null;
  const { trust, sync, timers } = setup({ crypto, api, clock: { now: T0 + 1000 } });
  assert.equal(await sync.start(), 'locked');
  trust.markVerified({ username: 'dave', fingerprint: EVE });
  trust.reportMismatch({ username: 'carol', fingerprint: CAROL, session: 's1' });   // the codes differed: carol's pin must not come back
  sync.noteTrustChange();
  crypto.fingerprint = OWN;
  await timers.run(5000);
  await sync.tryLoad();
  const snapshot = trust.snapshot();
  assert.equal(contactStatus(snapshot, 'bob', BOB), ContactStatus.verified, 'from the copy');
  assert.equal(contactStatus(snapshot, 'dave', EVE), ContactStatus.verified, 'made here meanwhile');
  assert.equal(contactStatus(snapshot, 'carol', CAROL), ContactStatus.unknown, 'forgotten here after the copy was saved');
  await timers.run(0);
  await sync.flush();
  assert.deepEqual((await savedTrust(crypto, api)).map(({ username }) => username).sort(), ['bob', 'dave']);
  sync.stop();
});

test('trust storage keys are per account and lower-case', () => {
  assert.deepEqual(trustStorageKeys('Alice'), { pins: 'secms.trust.alice', verified: 'secms.verified.alice', times: 'secms.trust-times.alice' });
});
