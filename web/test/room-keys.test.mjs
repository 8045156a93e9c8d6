// Room sender keys end to end in Node: three (or four) users, each with a real channel manager
// (OpenPGP identities, the secure-channel handshake) and a room key manager, wired through an
// in-memory relay: pairwise relay frames go to the session's other member, room frames fan out
// to every other member of the room as the server sees it. The relay can be hostile (tamper,
// replay, hand frames to a removed member). A fake clock drives the buffer and pending limits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelManager } from '../src/crypto/channel-manager.js';
import { createRoomKeyManager, roomKeyLimits } from '../src/crypto/room-keys.js';
import { decodeRoomFrame, encodeRoomFrame } from '../src/crypto/room-frame.js';
import {
  ROOM_BODY_LIMITS, ROOM_BODY_OVERHEAD, decodeSenderKeyPlaintext, deriveRoomKeyId, encodeSenderKeyPlaintext, generateRoomSigningKey, importRoomAesKey, sealRoomBody,
} from '../src/crypto/room-cipher.js';
import { decodeRelayFrame } from '../src/crypto/relay-frame.js';
import { createInitiator, createResponder } from '../src/crypto/protocol/index.js';
import { describeIdentity, exportPublicCertificate, generateIdentity } from '../src/crypto/identity.js';
import { runHandshake, signers, FP_A, FP_B } from './helpers/parties.mjs';
import { fromHex, toHex } from '../src/crypto/protocol/bytes.js';

const names = ['alice', 'bob', 'carol', 'dave', 'mallory'];
const identities = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await generateIdentity({ name, email: `${name}@example.org` })])));
const room = 'a0'.repeat(16);
const otherRoom = 'b0'.repeat(16);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Users without an OpenPGP identity here (keys crafted by the test) get fixed fingerprints.
const fixedFingerprints = { mallory: '4d'.repeat(20), zed: '5a'.repeat(20) };
const fp = (name) => (identities[name] ? describeIdentity(identities[name]).fingerprint.toLowerCase() : fixedFingerprints[name]);

/** A sender key made by the test for `owner`: plaintext() gives a fresh v3 plaintext (counter floor 0, no predecessor) each call. */
async function craftKey({ owner, id = room, raw = new Uint8Array(32).fill(0x42), ownerFingerprint = fp(owner), keyId } = {}) {
  const signing = await generateRoomSigningKey();
  const ownAes = await importRoomAesKey(Uint8Array.from(raw));
  const derived = await deriveRoomKeyId({ room: id, owner, ownerFingerprint, verify: signing.verify });
  const useId = keyId ?? derived;
  return {
    owner, ownerFingerprint, signing, raw, keyId: useId, keyIdBytes: fromHex(useId), aesKey: await importRoomAesKey(Uint8Array.from(raw)),
    plaintext: ({ next = 0, prevKeyId = null, prevCount = 0 } = {}) => encodeSenderKeyPlaintext({ room: id, owner, ownerFingerprint, keyId: useId, key: raw, verify: toHex(signing.verify), next, prevKeyId, prevCount }),
    /** A body sealed under this key; `as` names the owner put in the AAD (default: the owner). */
    seal: ({ counter = 0, text = 'hi', bytes = new TextEncoder().encode(text), frameType = 3, iv = new Uint8Array(12).fill(counter & 0xff), aesKey, as = owner, asFingerprint = ownerFingerprint } = {}) => sealRoomBody({
      frameType, room: id, keyId: fromHex(useId), counter, owner: as, ownerFingerprint: asFingerprint, iv, aesKey: aesKey ?? ownAes, signingKey: signing.privateKey, plaintext: bytes,
    }),
  };
}

// Channels keep a re-key timer: every net's channels are dropped when the file is done.
const nets = [];
after(() => {
  for (const net of nets) for (const user of net.users.values()) { user.channels.dropAll(); user.rooms.forgetAll(); }
});

/** The fake network: users, their pairwise sessions, room membership as the server holds it. */
function createNet() {
  const clock = { t: 1_700_000_000_000 };
  const users = new Map();
  const sessions = new Map();       // session id → [userA, userB]
  const membership = new Map();     // room → Set(users), the server's view
  const sequences = new Map();      // `${user} ${room}` → next room-frame sequence
  const net = { clock, users, membership, roomTamper: null, sentFrames: [] };
  nets.push(net);

  net.user = (name) => {
    const events = [];
    const user = { name, events };
    user.channels = createChannelManager({
      identity: () => ({ privateKey: identities[name], fingerprint: describeIdentity(identities[name]).fingerprint }),
      localUsername: () => name,
      localUsername: () => name,
      emit(event) {
        events.push(event);
        if (event.type !== 'channel.outbound') return;
        const { sessionId } = decodeRelayFrame(event.frame);
        const peer = sessions.get(sessionId).find((other) => other !== name);
        const copy = event.frame.slice(0);
        queueMicrotask(() => users.get(peer).channels.receiveFrame({ frame: copy }));
      },
      onSenderKey: ({ peerUser, peerFingerprint, plaintext }) => {
        user.tap?.({ peerUser, plaintext: Uint8Array.from(plaintext) });   // what a hostile member's Worker could keep
        return user.rooms.receiveSenderKey({ peerUser, peerFingerprint, plaintext });
      },
      onSecure: (message) => user.rooms.peerChannelSecured(message),
    });
    user.rooms = createRoomKeyManager({
      emit: (event) => events.push(event),
      sendSenderKey: (peerUser, plaintext) => user.channels.sendSenderKey({ peerUser, plaintext }),
      self: () => name,
      selfFingerprint: () => fp(name),
      now: () => clock.t,
    });
    user.waitFor = async (predicate, what = 'event', timeoutMs = 5000) => {
      const started = Date.now();
      while (Date.now() - started < timeoutMs) {
        const found = events.find(predicate);
        if (found) return found;
        await sleep(3);
      }
      throw new Error(`${name}: ${what} not seen; saw ${events.filter((e) => !e.type.startsWith('channel.outbound')).map((e) => `${e.type}:${e.from ?? e.reason ?? e.state ?? ''}`).join(', ')}`);
    };
    user.of = (type, predicate = () => true) => events.filter((e) => e.type === type && predicate(e));
    users.set(name, user);
    return user;
  };

  /** A secure pairwise channel between two users, each naming the other as peerUser. */
  net.connect = async (a, b, { peerUsers = true } = {}) => {
    const session = toHex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    sessions.set(session, [a, b]);
    const prepare = (me, peer, role) => users.get(me).channels.prepare({
      session, role, peerFingerprint: describeIdentity(identities[peer]).fingerprint,
      peerCertificate: exportPublicCertificate(identities[peer]), ...(peerUsers ? { peerUser: peer } : {}),
    });
    await prepare(a, b, 'initiator');
    await prepare(b, a, 'responder');
    users.get(b).channels.open({ session });
    users.get(a).channels.open({ session });
    const secure = (e) => e.type === 'channel.state' && e.session === session && e.state === 'secure';
    await Promise.all([users.get(a).waitFor(secure, 'secure'), users.get(b).waitFor(secure, 'secure')]);
    await sleep(1);   // let onSecure run
    return session;
  };

  /** What the server does with a room frame: forward it to every other member it knows of. */
  net.deliver = (from, frame, { to } = {}) => {
    const { room: id } = decodeRoomFrame(frame);
    const targets = to ?? [...(membership.get(id) ?? [])].filter((name) => name !== from);
    for (const name of targets) {
      const copy = net.roomTamper ? net.roomTamper(Uint8Array.from(frame), name) : Uint8Array.from(frame);
      if (copy) users.get(name).rooms.receiveFrame({ frame: copy.buffer });
    }
  };

  /** The page's side of a send: seal in the Worker, add the header and sequence, hand to the server. */
  net.say = async (from, text, { frameType = 3, id = room, to } = {}) => {
    const { body, waitingFor } = await users.get(from).rooms.seal({ room: id, frameType, text });
    assert.ok(body instanceof ArrayBuffer);
    const key = `${from} ${id}`;
    const sequence = sequences.get(key) ?? 0;
    sequences.set(key, sequence + 1);
    const frame = encodeRoomFrame({ frameType, room: id, sequence, body: new Uint8Array(body) });
    net.sentFrames.push({ from, text, frame });
    net.deliver(from, frame, { to });
    return { frame, waitingFor };
  };

  /** The server's room_members: every current member's page passes it to its Worker. */
  net.setMembers = async (id, list, { removed = [], tell = list } = {}) => {
    membership.set(id, new Set(list));
    const answers = {};
    for (const name of tell) answers[name] = await users.get(name).rooms.members({ room: id, members: [...list], removed });
    return answers;
  };

  net.sweepAll = () => { for (const user of users.values()) user.rooms.sweep(); };
  return net;
}

/** Alice, Bob and Carol, pairwise secure, all three in `room`, every key delivered. */
async function threeInRoom() {
  const net = createNet();
  for (const name of ['alice', 'bob', 'carol']) net.user(name);
  await net.connect('alice', 'bob');
  await net.connect('alice', 'carol');
  await net.connect('bob', 'carol');
  const answers = await net.setMembers(room, ['alice', 'bob', 'carol']);
  await everyoneHasKeys(net, ['alice', 'bob', 'carol']);
  return { net, answers, ...Object.fromEntries([...net.users].map(([name, user]) => [name, user])) };
}

async function everyoneHasKeys(net, list, since = new Map()) {
  for (const name of list) {
    for (const other of list) {
      if (other === name) continue;
      const before = since.get(`${name} ${other}`) ?? 0;
      await net.users.get(name).waitFor((e) => e.type === 'room.key_received' && e.from === other && e.room === room
        && net.users.get(name).of('room.key_received', (k) => k.from === other && k.room === room).length > before, `${other}'s key`);
    }
  }
}

const keyCounts = (net, list) => new Map(list.flatMap((name) => list.filter((o) => o !== name)
  .map((other) => [`${name} ${other}`, net.users.get(name).of('room.key_received', (k) => k.from === other).length])));

const lines = (user) => user.of('room.message').map((e) => `${e.from}: ${e.text}`);
const failures = (user) => user.of('room.undecryptable').map((e) => e.reason);
const flush = () => sleep(50);   // long enough for queued frames to be handled; "nothing happened" checks need it

// ---- the channel record type ------------------------------------------------------------------

test('record type 4: sealSenderKey opens as sender_key, data stays data; both sides count it in the sequence', async () => {
  const A = createInitiator({ sessionId: 's', suite: 2, localUsername: 'alice', peerUsername: 'bob', localFingerprint: FP_A, peerFingerprint: FP_B, sign: signers.alice.sign, verify: signers.bob.verify });
  const B = createResponder({ sessionId: 's', localUsername: 'bob', peerUsername: 'alice', localFingerprint: FP_B, peerFingerprint: FP_A, sign: signers.bob.sign, verify: signers.alice.verify });
  await runHandshake(A, B);
  const key = await A.sealSenderKey({ plaintext: Uint8Array.of(1, 2, 3) });
  assert.equal(key[1], 4, 'record type byte');
  const data = await A.seal({ plaintext: Uint8Array.of(4) });
  assert.equal(data[1], 1);
  assert.deepEqual(await B.open({ record: key }), { type: 'sender_key', plaintext: Uint8Array.of(1, 2, 3) });
  assert.deepEqual(await B.open({ record: data }), { type: 'data', plaintext: Uint8Array.of(4) });
  // The type is in the AAD: relabelling a data record as a sender key breaks the tag.
  const relabelled = await A.seal({ plaintext: Uint8Array.of(5) });
  relabelled[1] = 4;
  await assert.rejects(B.open({ record: relabelled }), (e) => e.reason === 'bad_tag');
  await assert.rejects(A.sealSenderKey({ plaintext: 'x' }), (e) => e.reason === 'invalid_argument');
});

// ---- distribution and messages ------------------------------------------------------------

test('three members: each key reaches the other two; a message decrypts for both others with the right sender', async () => {
  const { net, answers, alice, bob, carol } = await threeInRoom();
  // Alice's Worker was the first told: Bob's and Carol's had no room yet, so her key waited
  // (pending) until their own room.members — and was then applied.
  assert.deepEqual(answers.alice.sentTo, ['bob', 'carol']);
  assert.deepEqual(answers.carol.waitingFor, []);
  assert.match(answers.alice.keyId, /^[0-9a-f]{32}$/);
  assert.notEqual(answers.alice.keyId, answers.bob.keyId);
  const { frame, waitingFor } = await net.say('alice', '{"kind":"message","text":"hello room ✓"}');
  assert.deepEqual(waitingFor, []);
  await net.say('bob', 'from bob');
  await net.say('carol', 'control from carol', { frameType: 4 });
  await bob.waitFor((e) => e.type === 'room.message' && e.from === 'carol');
  await alice.waitFor((e) => e.type === 'room.message' && e.from === 'carol');
  await carol.waitFor((e) => e.type === 'room.message' && e.from === 'bob');
  assert.deepEqual(lines(bob), ['alice: {"kind":"message","text":"hello room ✓"}', 'carol: control from carol']);
  assert.deepEqual(lines(carol), ['alice: {"kind":"message","text":"hello room ✓"}', 'bob: from bob']);
  assert.deepEqual(lines(alice), ['bob: from bob', 'carol: control from carol']);
  assert.deepEqual(alice.of('room.message').map((e) => e.frameType), [3, 4]);
  assert.deepEqual([...failures(alice), ...failures(bob), ...failures(carol)], []);
  // The server sees ciphertext only.
  assert.equal(Buffer.from(frame).includes(Buffer.from('hello room')), false);
  // Keys never became channel messages.
  assert.deepEqual([alice, bob, carol].flatMap((u) => u.of('channel.message')), []);
});

test('room.distribute after a channel comes up: a member without a channel waits, then gets the key', async () => {
  const net = createNet();
  const [alice, bob] = [net.user('alice'), net.user('bob')];
  const first = await net.setMembers(room, ['alice', 'bob'], { tell: ['alice'] });
  assert.deepEqual(first.alice.sentTo, []);
  assert.deepEqual(first.alice.waitingFor, ['bob'], 'no channel to Bob yet');
  const sealed = await alice.rooms.seal({ room, frameType: 3, text: 'too early' });
  assert.deepEqual(sealed.waitingFor, ['bob']);
  await net.connect('alice', 'bob');
  const { rooms } = await alice.rooms.distribute({});
  assert.deepEqual(rooms, [{ room, keyId: first.alice.keyId, sentTo: ['bob'], waitingFor: [] }]);
  assert.deepEqual((await alice.rooms.distribute({ room })).rooms[0].sentTo, [], 'nothing left to send');
  await net.setMembers(room, ['alice', 'bob'], { tell: ['bob'] });
  await bob.waitFor((e) => e.type === 'room.key_received' && e.from === 'alice');
  await net.say('alice', 'now readable', { to: ['bob'] });
  await bob.waitFor((e) => e.type === 'room.message');
  assert.deepEqual(lines(bob), ['alice: now readable']);
});

test('a second channel to the same user (another tab) gets the current key again; the duplicate is ignored', async () => {
  const net = createNet();
  const [alice, bob] = [net.user('alice'), net.user('bob')];
  await net.connect('alice', 'bob');
  await net.setMembers(room, ['alice', 'bob']);
  await bob.waitFor((e) => e.type === 'room.key_received' && e.from === 'alice');
  const keyRecords = () => alice.of('channel.outbound').length;
  const before = keyRecords();
  await net.connect('alice', 'bob');
  const { rooms } = await alice.rooms.distribute({ room });
  assert.deepEqual(rooms[0].sentTo, ['bob']);
  assert.ok(keyRecords() - before >= 2, 'the key went over both channels');
  await flush();
  assert.equal(bob.of('room.key_received', (e) => e.from === 'alice').length, 1, 'same key id: applied once');
});

// ---- post-removal secrecy ---------------------------------------------------------------

for (const [how, removed] of [['kicked', ['carol']], ['left', []]]) {
  test(`Carol ${how}: Alice and Bob rotate, only to each other; Carol, handed the new frames, cannot read them`, async () => {
    const { net, answers, alice, bob, carol } = await threeInRoom();
    const carolKeys = carol.of('room.key_received').length;
    const since = keyCounts(net, ['alice', 'bob']);
    const after = await net.setMembers(room, ['alice', 'bob'], { removed });
    assert.notEqual(after.alice.keyId, answers.alice.keyId, 'Alice rotated');
    assert.notEqual(after.bob.keyId, answers.bob.keyId, 'Bob rotated');
    assert.deepEqual(after.alice.sentTo, ['bob']);
    assert.deepEqual(after.bob.sentTo, ['alice']);
    await everyoneHasKeys(net, ['alice', 'bob'], since);
    // A hostile server keeps handing Carol the room's frames.
    await net.say('alice', 'after carol', { to: ['bob', 'carol'] });
    await net.say('bob', 'bob after carol', { to: ['alice', 'carol'] });
    await bob.waitFor((e) => e.type === 'room.message' && e.text === 'after carol');
    await alice.waitFor((e) => e.type === 'room.message' && e.text === 'bob after carol');
    await flush();
    assert.equal(carol.of('room.key_received').length, carolKeys, 'no new key reached Carol');
    assert.equal(carol.of('room.message').length, 0);
    assert.deepEqual(failures(carol), [], 'buffered while a key might still come');
    net.clock.t += roomKeyLimits.bufferedFrameMs;
    net.sweepAll();
    assert.deepEqual(failures(carol), ['unknown_key', 'unknown_key']);
    assert.deepEqual(failures(alice), []);
    assert.deepEqual(failures(bob), []);
  });
}

test('a removed member\'s old key is deleted at once: their frames are stale_member, not buffered', async () => {
  const { net, alice, bob, carol } = await threeInRoom();
  await net.setMembers(room, ['alice', 'bob'], { removed: ['carol'] });
  // Carol's Worker does not know (or pretends not to); the server forwards her frame anyway.
  await net.say('carol', 'still here', { to: ['alice', 'bob'] });
  await alice.waitFor((e) => e.type === 'room.undecryptable');
  await bob.waitFor((e) => e.type === 'room.undecryptable');
  assert.deepEqual(failures(alice), ['stale_member']);
  assert.deepEqual(failures(bob), ['stale_member']);
  assert.equal(carol.of('room.message').length, 0);
});

test('a sender key from a removed member (a non-member) is not used; it expires unused', async () => {
  const { net, alice, bob, carol } = await threeInRoom();
  await net.setMembers(room, ['alice', 'bob'], { removed: ['carol'] });
  const carolKeysAtBob = bob.of('room.key_received', (e) => e.from === 'carol').length;
  // Carol's Worker sees a join (the server lying to her), rotates, and sends her new key over
  // the channels that still exist.
  net.user('dave');
  const carolView = await carol.rooms.members({ room, members: ['alice', 'bob', 'carol', 'dave'], removed: [] });
  assert.deepEqual(carolView.sentTo, ['alice', 'bob']);
  await flush();
  assert.equal(bob.of('room.key_received', (e) => e.from === 'carol').length, carolKeysAtBob, 'kept pending, not applied');
  await net.say('carol', 'new key, still out', { to: ['alice', 'bob'] });
  await flush();
  net.clock.t += roomKeyLimits.pendingKeyMs;
  net.sweepAll();
  assert.deepEqual(failures(bob), ['unknown_key']);
  assert.deepEqual(failures(alice), ['unknown_key']);
  assert.equal(alice.of('room.message').length + bob.of('room.message').length, 0);
  // Even re-admitted later, the expired key is gone: Carol must send a new one.
  await net.setMembers(room, ['alice', 'bob', 'carol'], { tell: ['bob'] });
  await flush();
  assert.equal(bob.of('room.key_received', (e) => e.from === 'carol').length, carolKeysAtBob);
});

test('a key that arrives before its sender is a member waits, and is applied when the member list names them', async () => {
  const net = createNet();
  const [alice, bob] = [net.user('alice'), net.user('bob')];
  await net.connect('alice', 'bob');
  await net.setMembers(room, ['alice'], { tell: ['alice'] });
  await net.setMembers(room, ['bob'], { tell: ['bob'] });   // Bob's view lags: Alice not yet in it
  // Alice's view gains Bob: her key goes to Bob, who does not count her as a member yet.
  const sent = await net.setMembers(room, ['alice', 'bob'], { tell: ['alice'] });
  assert.deepEqual(sent.alice.sentTo, ['bob']);
  await flush();
  assert.equal(bob.of('room.key_received').length, 0);
  await net.say('alice', 'early', { to: ['bob'] });
  await flush();
  assert.equal(bob.rooms.describe()[0].buffered, 1);
  await net.setMembers(room, ['alice', 'bob'], { tell: ['bob'] });
  await bob.waitFor((e) => e.type === 'room.message');
  assert.deepEqual(lines(bob), ['alice: early'], 'the buffered frame opened once the key applied');
  assert.deepEqual(failures(bob), []);
});

test('a join rotates: the newcomer cannot read what was sent before; everyone reads what follows', async () => {
  const net = createNet();
  for (const name of ['alice', 'bob', 'carol']) net.user(name);
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((name) => net.users.get(name));
  await net.connect('alice', 'bob');
  await net.connect('alice', 'carol');
  await net.connect('bob', 'carol');
  const first = await net.setMembers(room, ['alice', 'bob']);
  await bob.waitFor((e) => e.type === 'room.key_received' && e.from === 'alice');
  await alice.waitFor((e) => e.type === 'room.key_received' && e.from === 'bob');
  const { frame: before } = await net.say('alice', 'before carol');
  await bob.waitFor((e) => e.type === 'room.message');
  const joined = await net.setMembers(room, ['alice', 'bob', 'carol']);
  assert.notEqual(joined.alice.keyId, first.alice.keyId, 'a join retires the key');
  assert.deepEqual(joined.alice.sentTo, ['bob', 'carol'], 'the new key goes to everyone, Carol included');
  await carol.waitFor((e) => e.type === 'room.key_received' && e.from === 'alice');
  net.deliver('alice', before, { to: ['carol'] });   // the server (or a recording) hands Carol history
  await net.say('alice', 'welcome carol');
  await carol.waitFor((e) => e.type === 'room.message');
  await bob.waitFor((e) => e.type === 'room.message' && e.text === 'welcome carol');
  net.clock.t += roomKeyLimits.bufferedFrameMs;
  net.sweepAll();
  assert.deepEqual(lines(carol), ['alice: welcome carol']);
  assert.deepEqual(failures(carol), ['unknown_key']);
  assert.deepEqual(lines(bob), ['alice: before carol', 'alice: welcome carol']);
});

test('rotation also follows the message limit of the rules (1000 frames per key)', async () => {
  const net = createNet();
  const [alice] = [net.user('alice'), net.user('bob')];
  const first = await net.setMembers(room, ['alice', 'bob'], { tell: ['alice'] });
  for (let i = 0; i < 1000; i += 1) await alice.rooms.seal({ room, frameType: 4, text: 'x' });
  const [state] = alice.rooms.describe();
  assert.equal(state.ownKeyId, first.alice.keyId);
  await alice.rooms.seal({ room, frameType: 3, text: 'the 1001st' });
  assert.notEqual(alice.rooms.describe()[0].ownKeyId, first.alice.keyId);
});

// ---- a hostile relay ----------------------------------------------------------------------

test('a replayed frame is refused (same bytes, or a new server sequence); the counter is per key', async () => {
  const { net, alice, bob } = await threeInRoom();
  const { frame } = await net.say('alice', 'once');
  await bob.waitFor((e) => e.type === 'room.message');
  net.deliver('alice', frame, { to: ['bob'] });
  const renumbered = decodeRoomFrame(frame);
  net.deliver('alice', encodeRoomFrame({ ...renumbered, sequence: renumbered.sequence + 7 }), { to: ['bob'] });
  await flush();
  assert.deepEqual(failures(bob), ['replay', 'replay']);
  await net.say('alice', 'twice');
  await bob.waitFor((e) => e.type === 'room.message' && e.text === 'twice');
  assert.deepEqual(lines(bob), ['alice: once', 'alice: twice']);
  // Out of order counters (a relay holding one back) are refused too: only increasing ones pass.
  const { frame: third } = await net.say('alice', 'third', { to: [] });
  const { frame: fourth } = await net.say('alice', 'fourth', { to: [] });
  net.deliver('alice', fourth, { to: ['bob'] });
  net.deliver('alice', third, { to: ['bob'] });
  await flush();
  assert.deepEqual(lines(bob).slice(2), ['alice: fourth']);
  // The held-back frame is then a replay; its counter was skipped, which is said once.
  assert.deepEqual(failures(bob), ['replay', 'replay', 'missing', 'replay']);
  assert.deepEqual(alice.of('room.undecryptable'), []);
});

test('bit flips in every part of the body and the header are refused, none decrypts', async () => {
  const { net, bob } = await threeInRoom();
  const { frame } = await net.say('alice', 'attack at dawn', { to: [] });
  const header = 41;
  const parts = {
    version: [header], keyId: [header + 1, header + 16], counter: [header + 17, header + 20], iv: [header + 21, header + 32],
    ciphertext: [header + 33], tag: [frame.length - 64 - 16, frame.length - 65], signature: [frame.length - 64, frame.length - 1],
  };
  const expected = { version: 'malformed', keyId: 'unknown_key', counter: 'bad_signature', iv: 'bad_signature', ciphertext: 'bad_signature', tag: 'bad_signature', signature: 'bad_signature' };
  for (const [part, positions] of Object.entries(parts)) {
    for (const position of positions) {
      const before = failures(bob).length;
      const flipped = Uint8Array.from(frame);
      flipped[position] ^= 0x10;
      net.deliver('alice', flipped, { to: ['bob'] });
      await flush();
      if (part === 'keyId') {
        net.clock.t += roomKeyLimits.bufferedFrameMs;
        bob.rooms.sweep();
      }
      assert.deepEqual(failures(bob).slice(before), [expected[part]], `${part} byte ${position}`);
    }
  }
  // Header: the frame type and the room are in the AAD; a flip there either fails to decode
  // (not accepted) or names a room the Worker is not in.
  for (const position of [0, 1, 16, 32]) {
    const flipped = Uint8Array.from(frame);
    flipped[position] ^= 0x01;
    assert.deepEqual(bob.rooms.receiveFrame({ frame: flipped.buffer }), { accepted: false }, `header byte ${position}`);
  }
  // The sequence is the server's ordering, not authenticated end to end: a flip there changes
  // nothing, and the original still opens exactly once.
  const resequenced = Uint8Array.from(frame);
  resequenced[40] ^= 0x01;
  net.deliver('alice', resequenced, { to: ['bob'] });
  net.deliver('alice', frame, { to: ['bob'] });
  await flush();
  assert.deepEqual(lines(bob), ['alice: attack at dawn']);
  assert.equal(failures(bob).at(-1), 'replay');
});

test('a frame moved to the other type (3 ↔ 4) or to another room the receiver is in is refused', async () => {
  const { net, bob } = await threeInRoom();
  await net.setMembers(otherRoom, ['alice', 'bob', 'carol']);
  await bob.waitFor((e) => e.type === 'room.key_received' && e.room === otherRoom && e.from === 'alice');
  const { frame: message } = await net.say('alice', 'a line', { to: [] });
  const { frame: control } = await net.say('alice', 'a control', { frameType: 4, to: [] });
  const swap = (frame, changes) => encodeRoomFrame({ ...decodeRoomFrame(frame), ...changes });
  net.deliver('alice', swap(message, { frameType: 4 }), { to: ['bob'] });
  net.deliver('alice', swap(control, { frameType: 3 }), { to: ['bob'] });
  await flush();
  assert.deepEqual(failures(bob), ['bad_signature', 'bad_signature']);
  // Moved to another room: Alice's key for `room` is unknown there.
  net.deliver('alice', swap(message, { room: otherRoom }), { to: ['bob'] });
  await flush();
  net.clock.t += roomKeyLimits.bufferedFrameMs;
  bob.rooms.sweep();
  assert.deepEqual(failures(bob).slice(2), ['unknown_key']);
  net.deliver('alice', message, { to: ['bob'] });
  net.deliver('alice', control, { to: ['bob'] });
  await flush();
  assert.deepEqual(bob.of('room.message').map((e) => [e.frameType, e.text]), [[3, 'a line'], [4, 'a control']]);
});

test('page text cannot masquerade as a sender key: channel.send text is a channel.message, never a key', async () => {
  const { net, alice, bob } = await threeInRoom();
  const crafted = await craftKey({ owner: 'alice', raw: new Uint8Array(32).fill(0x11) });
  const forged = crafted.plaintext();
  const session = [...bob.of('channel.state', (e) => e.state === 'secure')].map((e) => e.session)
    .find((id) => alice.of('channel.state', (e) => e.session === id).length);
  const keysBefore = bob.of('room.key_received').length;
  await alice.channels.send({ session, text: new TextDecoder().decode(forged) });
  const shown = await bob.waitFor((e) => e.type === 'channel.message');
  assert.equal(shown.text, new TextDecoder().decode(forged));
  await flush();
  assert.equal(bob.of('room.key_received').length, keysBefore);
  // A frame under the forged key id finds no key.
  const body = await crafted.seal({ text: 'forged' });
  net.deliver('alice', encodeRoomFrame({ frameType: 3, room, sequence: 0, body }), { to: ['bob'] });
  await flush();
  net.clock.t += roomKeyLimits.bufferedFrameMs;
  bob.rooms.sweep();
  assert.deepEqual(failures(bob), ['unknown_key']);
});

test('a channel must name its peer user (sender keys are bound to it); without a channel no key goes out', async () => {
  const net = createNet();
  const [alice] = [net.user('alice'), net.user('bob')];
  await assert.rejects(net.connect('alice', 'bob', { peerUsers: false }), (e) => e.reason === 'invalid_argument');
  const answers = await net.setMembers(room, ['alice', 'bob']);
  assert.deepEqual(answers.alice.sentTo, []);
  assert.deepEqual(answers.alice.waitingFor, ['bob']);
  assert.equal(await alice.channels.sendSenderKey({ peerUser: 'bob', plaintext: Uint8Array.of(1) }), false);
});

// ---- issue: a member claims another member's sender key --------------------------------

test('Mallory relays Bob\'s sender key over her own channel before Bob\'s copy arrives: Alice refuses it, then shows Bob\'s lines as Bob\'s', async () => {
  const net = createNet();
  const [alice, bob, mallory] = ['alice', 'bob', 'mallory'].map((name) => net.user(name));
  await net.connect('alice', 'mallory');
  await net.connect('bob', 'mallory');
  const bobsKeys = [];
  mallory.tap = ({ peerUser, plaintext }) => { if (peerUser === 'bob') bobsKeys.push(plaintext); };
  await net.setMembers(room, ['alice', 'bob', 'mallory']);
  await mallory.waitFor((e) => e.type === 'room.key_received' && e.from === 'bob', 'Bob\'s key at Mallory');
  assert.equal(bobsKeys.length, 1);
  const bobsKeyId = decodeSenderKeyPlaintext(Uint8Array.from(bobsKeys[0])).keyId;

  // 1. The relay as is: the key names Bob, the channel's peer is Mallory.
  assert.equal(await mallory.channels.sendSenderKey({ peerUser: 'alice', plaintext: Uint8Array.from(bobsKeys[0]) }), true);
  await alice.waitFor((e) => e.type === 'room.undecryptable' && e.reason === 'foreign_key', 'the refusal');
  assert.deepEqual(alice.of('room.undecryptable', (e) => e.reason === 'foreign_key').map((e) => e.from), ['mallory']);
  // 2. Owner rewritten to Mallory, Bob's key id kept: the id no longer derives from the contents.
  const stolen = decodeSenderKeyPlaintext(Uint8Array.from(bobsKeys[0]));
  const relabel = (keyId) => encodeSenderKeyPlaintext({ room, owner: 'mallory', ownerFingerprint: fp('mallory'), keyId, key: stolen.key, verify: toHex(stolen.verify), next: 0 });
  await mallory.channels.sendSenderKey({ peerUser: 'alice', plaintext: relabel(bobsKeyId) });
  await alice.waitFor((e) => e.type === 'room.undecryptable' && e.reason === 'bad_key_id', 'the id check');
  // 3. Owner rewritten and the id re-derived: a valid key of Mallory's — under another id, so
  //    Bob's frames never open with it.
  const mallorysId = await deriveRoomKeyId({ room, owner: 'mallory', ownerFingerprint: fp('mallory'), verify: stolen.verify });
  assert.notEqual(mallorysId, bobsKeyId);
  await mallory.channels.sendSenderKey({ peerUser: 'alice', plaintext: relabel(mallorysId) });
  await flush();

  // Bob speaks while Alice has no channel to him: his lines wait for his key.
  await net.say('bob', 'bob here');
  await net.say('bob', 'delete 1234', { frameType: 4 });
  await flush();
  assert.deepEqual(lines(alice), [], 'nothing of Bob\'s is shown under anyone\'s name yet');
  assert.equal(alice.rooms.describe()[0].buffered, 2);

  // Bob's own copy arrives over his channel: taken, and his lines open as his.
  await net.connect('alice', 'bob');
  await bob.rooms.distribute({ room });
  await alice.waitFor((e) => e.type === 'room.key_received' && e.from === 'bob', 'Bob\'s real key');
  await alice.waitFor((e) => e.type === 'room.message' && e.text === 'delete 1234');
  assert.deepEqual(lines(alice), ['bob: bob here', 'bob: delete 1234']);
  assert.ok(!alice.of('room.message').some((e) => e.from === 'mallory'));
});

test('a frame whose AAD names another owner than the key\'s fails the signature, even when signed by the key\'s holder', async () => {
  const { bob, seal, deliver } = await bobWithCraftedMember();
  await deliver(await seal({ counter: 0, text: 'as alice', as: 'alice', asFingerprint: fp('alice') }));
  await deliver(await seal({ counter: 1, text: 'other fingerprint', asFingerprint: fp('carol') }));
  await deliver(await seal({ counter: 2, text: 'as herself' }));
  assert.deepEqual(failures(bob), ['bad_signature', 'bad_signature', 'missing']);
  assert.deepEqual(lines(bob), ['mallory: as herself']);
});

// ---- keys from a member who misbehaves (direct calls, crafted bodies) -------------------

/** Bob's Worker with Mallory as a member whose sender key the test knows. */
async function bobWithCraftedMember() {
  const net = createNet();
  const bob = net.user('bob');
  await net.setMembers(room, ['bob', 'mallory'], { tell: ['bob'] });
  const crafted = await craftKey({ owner: 'mallory' });
  const { signing } = crafted;
  const plaintext = crafted.plaintext();
  assert.deepEqual(bob.rooms.receiveSenderKey({ peerUser: 'mallory', peerFingerprint: fp('mallory'), plaintext }), { accepted: true });
  assert.ok(plaintext.every((byte) => byte === 0), 'the plaintext (with the AES key digits) is zero-filled once read');
  await bob.waitFor((e) => e.type === 'room.key_received' && e.from === 'mallory');
  const seal = async ({ counter, key, ...rest }) => encodeRoomFrame({ frameType: rest.frameType ?? 3, room, sequence: counter, body: await crafted.seal({ counter, aesKey: key, ...rest }) });
  const deliver = async (frame) => {
    bob.rooms.receiveFrame({ frame: frame.buffer ?? frame });
    await flush();
  };
  return { net, bob, seal, deliver, signing };
}

test('checks after the signature: bad_tag (signed, but under another AES key), non-UTF-8 text; a counter gap is said once, with its size', async () => {
  const { bob, seal, deliver } = await bobWithCraftedMember();
  const otherKey = await importRoomAesKey(new Uint8Array(32).fill(0x99));
  await deliver(await seal({ counter: 0, key: otherKey }));
  await deliver(await seal({ counter: 1, bytes: Uint8Array.of(0xff, 0xfe) }));
  // The relay drops counters 2, 3 and 4: the line after them comes with one "3 missing" event.
  await deliver(await seal({ counter: 5, text: 'after a gap' }));
  await deliver(await seal({ counter: 5, text: 'same counter again', iv: new Uint8Array(12).fill(77) }));
  await deliver(await seal({ counter: 6, text: 'no gap' }));
  assert.deepEqual(failures(bob), ['bad_tag', 'malformed', 'missing', 'replay']);
  assert.deepEqual(bob.of('room.undecryptable', (e) => e.reason === 'missing').map(({ from, count }) => ({ from, count })), [{ from: 'mallory', count: 3 }]);
  assert.deepEqual(lines(bob), ['mallory: after a gap', 'mallory: no gap']);
  // The gap event comes before the line that revealed it.
  const order = bob.events.filter((e) => e.type === 'room.message' || e.reason === 'missing').map((e) => e.reason ?? e.text);
  assert.deepEqual(order, ['missing', 'after a gap', 'no gap']);
});

test('size limits: the Worker seals up to the server\'s limits and refuses beyond; larger bodies are not opened', async () => {
  const net = createNet();
  const alice = net.user('alice');
  await net.setMembers(room, ['alice'], { tell: ['alice'] });
  const max3 = ROOM_BODY_LIMITS[3] - ROOM_BODY_OVERHEAD;
  const max4 = ROOM_BODY_LIMITS[4] - ROOM_BODY_OVERHEAD;
  assert.deepEqual([ROOM_BODY_LIMITS[3], ROOM_BODY_LIMITS[4]], [4 * 1040 + 1024, 2048]);
  assert.equal((await alice.rooms.seal({ room, frameType: 3, text: 'x'.repeat(max3) })).body.byteLength, 5184);
  assert.equal((await alice.rooms.seal({ room, frameType: 4, text: 'x'.repeat(max4) })).body.byteLength, 2048);
  // 1040 four-byte characters fit a message frame.
  assert.ok((await alice.rooms.seal({ room, frameType: 3, text: '😀'.repeat(520) + 'x'.repeat(500) })).body.byteLength <= 5184);
  const refused = (promise) => assert.rejects(promise, (e) => e.code === 'invalid_request');
  await refused(alice.rooms.seal({ room, frameType: 3, text: 'x'.repeat(max3 + 1) }));
  await refused(alice.rooms.seal({ room, frameType: 4, text: 'x'.repeat(max4 + 1) }));
  await refused(alice.rooms.seal({ room, frameType: 5, text: 'x' }));
  await refused(alice.rooms.seal({ room, frameType: 3, text: '' }));
  await refused(alice.rooms.seal({ room, frameType: 3, text: 42 }));
  await assert.rejects(alice.rooms.seal({ room: otherRoom, frameType: 3, text: 'x' }), (e) => e.code === 'not_in_room');

  const { bob, seal, deliver } = await bobWithCraftedMember();
  await deliver(await seal({ counter: 0, frameType: 4, text: 'y'.repeat(max4) }));
  assert.equal(lines(bob).length, 1);
  // A body over the limit of its type is refused before any crypto (malformed), whoever signed it.
  const big = await seal({ counter: 1, frameType: 3, text: 'y'.repeat(max4 + 1) });
  await deliver(encodeRoomFrame({ ...decodeRoomFrame(big), frameType: 4 }));
  const short = await seal({ counter: 2 });
  await deliver(encodeRoomFrame({ ...decodeRoomFrame(short), body: decodeRoomFrame(short).body.subarray(0, ROOM_BODY_OVERHEAD) }));
  assert.deepEqual(failures(bob), ['malformed', 'malformed']);
});

test('at most 4 keys per member: older ones still open frames in flight, the fifth pushes the first out', async () => {
  const net = createNet();
  const bob = net.user('bob');
  await net.setMembers(room, ['bob', 'mallory'], { tell: ['bob'] });
  const keys = [];
  for (let i = 0; i < 5; i += 1) {
    const key = await craftKey({ owner: 'mallory', raw: new Uint8Array(32).fill(i + 1) });
    bob.rooms.receiveSenderKey({ peerUser: 'mallory', peerFingerprint: fp('mallory'), plaintext: key.plaintext() });
    keys.push(key);
  }
  await flush();
  assert.equal(bob.of('room.key_received').length, 5);
  for (const [i, key] of keys.entries()) {
    const body = await key.seal({ text: `k${i}` });
    bob.rooms.receiveFrame({ frame: encodeRoomFrame({ frameType: 3, room, sequence: i, body }).buffer });
  }
  await flush();
  assert.deepEqual(lines(bob), ['mallory: k1', 'mallory: k2', 'mallory: k3', 'mallory: k4']);
  assert.deepEqual(failures(bob), ['stale_member']);
});

test('malformed, outdated or misdirected sender keys are dropped: bad form, version 1, own name, wrong owner or id', async () => {
  const net = createNet();
  const bob = net.user('bob');
  await net.setMembers(room, ['bob', 'mallory', 'alice'], { tell: ['bob'] });
  const key = await craftKey({ owner: 'mallory', raw: new Uint8Array(32).fill(0xc1) });
  const text = new TextDecoder().decode(key.plaintext());
  const hexKey = 'c1'.repeat(32);
  const variants = [
    text.replace('{"v":3,', '{"v":4,'),
    text.replace('"next":0,', '"next":01,'),
    text.replace('"prevCount":0}', '"prevCount":2}'),
    text.replace('"room"', '"Room"'),
    text.replace('{', '{ '),
    `${text.slice(0, -1)},"x":1}`,
    text.replace(hexKey, hexKey.toUpperCase()),
    text.replace(hexKey, `${hexKey.slice(0, -1)}g`),
    text.replace('"owner":"mallory"', '"owner":"mal\\u006cory"'),
    text.replace(`"verify":"04`, `"verify":"02`),
    text.replace(toHex(key.signing.verify), `04${'00'.repeat(64)}`),   // not a point on the curve (and another id)
  ];
  const from = { peerUser: 'mallory', peerFingerprint: fp('mallory') };
  for (const variant of variants) {
    assert.notEqual(variant, text);
    bob.rooms.receiveSenderKey({ ...from, plaintext: new TextEncoder().encode(variant) });
  }
  assert.deepEqual(bob.rooms.receiveSenderKey({ ...from, plaintext: new TextEncoder().encode(` ${text}`) }), { accepted: false, reason: 'malformed' });
  // Version 1 (no owner) is refused with its own reason.
  const v1 = `{"v":1,"room":"${room}","keyId":"${'ab'.repeat(16)}","key":"${hexKey}","verify":"${toHex(key.signing.verify)}"}`;
  assert.deepEqual(bob.rooms.receiveSenderKey({ ...from, plaintext: new TextEncoder().encode(v1) }), { accepted: false, reason: 'old_version' });
  // Version 2 (no counter floor: a late tab would take replays) too.
  const v2 = text.replace('{"v":3,', '{"v":2,').replace(/,"next":.*\}$/, '}');
  assert.deepEqual(bob.rooms.receiveSenderKey({ ...from, plaintext: new TextEncoder().encode(v2) }), { accepted: false, reason: 'old_version' });
  // A key naming the receiver itself, or arriving over the receiver's own name, is refused.
  const own = await craftKey({ owner: 'bob' });
  assert.deepEqual(bob.rooms.receiveSenderKey({ peerUser: 'bob', peerFingerprint: fp('bob'), plaintext: own.plaintext() }), { accepted: false });
  // The fingerprint of the channel's certificate must be the owner's too.
  assert.deepEqual(bob.rooms.receiveSenderKey({ peerUser: 'mallory', peerFingerprint: fp('alice'), plaintext: key.plaintext() }), { accepted: false, reason: 'foreign_key' });
  // An id that is not the derivation of the key's contents: refused when applied (bad_key_id).
  const relabelled = await craftKey({ owner: 'mallory', keyId: 'ab'.repeat(16) });
  assert.deepEqual(bob.rooms.receiveSenderKey({ ...from, plaintext: relabelled.plaintext() }), { accepted: true });
  await flush();
  assert.equal(bob.of('room.key_received').length, 0);
  // The point off the curve changed the verification key, so its id no longer matches either.
  assert.deepEqual(failures(bob).sort(), ['bad_key_id', 'bad_key_id', 'foreign_key', 'old_version', 'old_version']);
  bob.rooms.receiveSenderKey({ ...from, plaintext: key.plaintext() });
  await flush();
  assert.deepEqual(bob.of('room.key_received').map((e) => e.from), ['mallory']);
});

test('bounded buffers: 64 frames per room without a key, 8 pending keys per room', async () => {
  const { bob, signing } = await bobWithCraftedMember();
  const aesKey = await importRoomAesKey(new Uint8Array(32));
  for (let i = 0; i < roomKeyLimits.bufferedFramesPerRoom + 3; i += 1) {
    const body = await sealRoomBody({ frameType: 4, room, keyId: new Uint8Array(16).fill(0xee), counter: i, owner: 'mallory', ownerFingerprint: fp('mallory'), iv: new Uint8Array(12).fill(i), aesKey, signingKey: signing.privateKey, plaintext: Uint8Array.of(0x61) });
    bob.rooms.receiveFrame({ frame: encodeRoomFrame({ frameType: 4, room, sequence: i, body }).buffer });
  }
  await flush();
  assert.equal(bob.rooms.describe()[0].buffered, roomKeyLimits.bufferedFramesPerRoom);
  assert.deepEqual(failures(bob), ['unknown_key', 'unknown_key', 'unknown_key'], 'the oldest are dropped, with an event');
  for (let i = 0; i < roomKeyLimits.pendingKeysPerRoom + 2; i += 1) {
    bob.rooms.receiveSenderKey({ peerUser: 'zed', peerFingerprint: fp('zed'), plaintext: (await craftKey({ owner: 'zed' })).plaintext() });
  }
  await flush();
  assert.equal(bob.rooms.describe()[0].pendingKeys, roomKeyLimits.pendingKeysPerRoom);
});

test('room.members validates its input; room.leave forgets the room; forgetAll forgets every room', async () => {
  const net = createNet();
  const alice = net.user('alice');
  const invalid = (promise) => assert.rejects(promise, (e) => e.code === 'invalid_request');
  await invalid(alice.rooms.members({ room: 'lobby', members: ['alice'] }));
  await invalid(alice.rooms.members({ room, members: 'alice' }));
  await invalid(alice.rooms.members({ room, members: ['alice', 'alice'] }));
  await invalid(alice.rooms.members({ room, members: ['<script>'] }));
  await invalid(alice.rooms.members({ room, members: ['alice', 'bob'], removed: ['bob'] }));
  await invalid(alice.rooms.members({ room, members: ['bob'], removed: ['alice'] }));
  await alice.rooms.members({ room, members: ['alice', 'bob'], removed: [] });
  await alice.rooms.members({ room: otherRoom, members: ['bob'] });
  assert.equal(alice.rooms.describe().length, 2);
  assert.deepEqual(alice.rooms.leave({ room }), { room });
  assert.deepEqual(alice.rooms.describe().map((r) => r.room), [otherRoom]);
  await assert.rejects(alice.rooms.seal({ room, frameType: 3, text: 'x' }), (e) => e.code === 'not_in_room');
  await assert.rejects(alice.rooms.distribute({ room }), (e) => e.code === 'not_in_room');
  alice.rooms.forgetAll();
  assert.deepEqual(alice.rooms.describe(), []);
  assert.deepEqual(await alice.rooms.distribute({}), { rooms: [] });
});

// ---- the Worker's message interface -----------------------------------------------------

test('worker.js: room.* handlers take exactly their fields, answer as documented, move the body', async () => {
  const posted = [];
  let listener;
  globalThis.self = {
    addEventListener: (type, fn) => { if (type === 'message') listener = fn; },
    postMessage: (message, transfer) => posted.push({ message, transfer }),
  };
  await import('../src/crypto/worker.js');
  let nextId = 1;
  const ask = async (type, payload) => {
    const id = nextId++;
    listener({ data: { id, type, payload } });
    for (let i = 0; i < 500; i += 1) {
      const found = posted.find((p) => p.message.id === id);
      if (found) return found;
      await sleep(2);
    }
    throw new Error(`no answer to ${type}`);
  };
  const code = async (type, payload) => (await ask(type, payload)).message.error?.code;
  assert.equal(await code('room.members', { room, members: ['alice'] }), 'no_account');
  await ask('session.bind', { account: 'alice' });
  // The own key names its owner's fingerprint: no key without an unlocked identity.
  assert.equal(await code('room.members', { room, members: ['alice', 'bob'] }), 'invalid_request');
  assert.equal((await ask('identity.create', { name: 'alice', email: 'alice@example.org', passphrase: 'correct horse battery staple 42', remember: false })).message.error, undefined);
  const members = (await ask('room.members', { room, members: ['alice', 'bob'], removed: [] })).message;
  assert.deepEqual(Object.keys(members).sort(), ['id', 'keyId', 'notReadmitted', 'room', 'sentTo', 'type', 'waitingFor']);
  assert.deepEqual([members.type, members.room, members.sentTo, members.waitingFor], ['room.members', room, [], ['bob']]);
  const sealed = await ask('room.seal', { room, frameType: 3, text: '{"v":1}' });
  assert.ok(sealed.message.body instanceof ArrayBuffer);
  assert.deepEqual(sealed.transfer, [sealed.message.body], 'the body is transferred, not copied');
  assert.deepEqual(sealed.message.waitingFor, ['bob']);
  const distributed = (await ask('room.distribute', {})).message;
  assert.deepEqual(distributed.rooms, [{ room, keyId: members.keyId, sentTo: [], waitingFor: ['bob'] }]);
  assert.equal((await ask('room.distribute', { room })).message.rooms.length, 1);
  const frame = encodeRoomFrame({ frameType: 3, room, sequence: 0, body: new Uint8Array(sealed.message.body) });
  assert.equal((await ask('room.frame', { frame: frame.buffer })).message.accepted, true);
  assert.equal((await ask('room.frame', { frame: new ArrayBuffer(3) })).message.accepted, false);
  assert.equal(await code('room.frame', { frame: 'text' }), 'invalid_request');
  assert.equal(await code('room.seal', { room: otherRoom, frameType: 3, text: 'x' }), 'not_in_room');
  assert.equal(await code('room.seal', { room, frameType: 3, text: 'x', extra: 1 }), 'invalid_request');
  assert.equal(await code('room.seal', { room, frameType: 2, text: 'x' }), 'invalid_request');
  assert.equal(await code('room.members', { room, members: ['alice'], joined: ['bob'] }), 'invalid_request');
  assert.equal(await code('room.members', { room, members: ['alice'], readmit: 'bob' }), 'invalid_request');
  assert.equal(await code('room.distribute', { room: 'lobby' }), 'invalid_request');
  assert.equal(await code('room.leave', { room, now: 1 }), 'invalid_request');
  // channel.prepare takes peerUser (refused here only for the empty certificate).
  assert.equal(await code('channel.prepare', { session: 'ab'.repeat(16), role: 'initiator', peerFingerprint: 'AB', peerCertificate: '', peerUser: 'bob' }), 'not_a_certificate');
  assert.equal(await code('channel.prepare', { session: 'ab'.repeat(16), role: 'initiator', peerFingerprint: 'AB', peerCertificate: '', peerName: 'bob' }), 'invalid_request');
  assert.deepEqual((await ask('room.leave', { room })).message, { type: 'room.leave', room, id: nextId - 1 });
  assert.equal(await code('room.seal', { room, frameType: 3, text: 'x' }), 'not_in_room');
  // The identity forgotten: every room is forgotten with it (and no key is made without one).
  await ask('room.members', { room, members: ['alice'] });
  assert.equal(await code('session.bind', { account: 'bob' }), 'account_bound');
  await ask('identity.forget', {});
  assert.equal(await code('room.seal', { room, frameType: 3, text: 'x' }), 'not_in_room');
  assert.equal(await code('room.members', { room, members: ['alice'] }), 'invalid_request');
  assert.equal(posted.filter((p) => p.message.id === undefined && p.message.type?.startsWith('room.')).length, 0, 'no events for own frames yet');
  delete globalThis.self;
});

test('work queued for a room that is left meanwhile fails with not_in_room, frames are dropped quietly', async () => {
  const net = createNet();
  const alice = net.user('alice');
  await net.setMembers(room, ['alice', 'bob'], { tell: ['alice'] });
  const sealing = alice.rooms.seal({ room, frameType: 3, text: 'late' });
  alice.rooms.leave({ room });
  await assert.rejects(sealing, (e) => e.code === 'not_in_room');
  await alice.rooms.members({ room, members: ['alice', 'bob'] });
  const all = alice.rooms.distribute({});
  alice.rooms.leave({ room });
  assert.deepEqual(await all, { rooms: [] });
});

test('a removed member comes back only when readmitted (a join the page showed); a bare reappearance gets no key', async () => {
  const net = createNet();
  const alice = net.user('alice');
  await net.setMembers(room, ['alice', 'bob', 'carol'], { tell: ['alice'] });
  await net.setMembers(room, ['alice', 'bob'], { removed: ['carol'], tell: ['alice'] });
  const back = await alice.rooms.members({ room, members: ['alice', 'bob', 'carol'] });
  assert.deepEqual(back.notReadmitted, ['carol']);
  assert.deepEqual(alice.rooms.describe()[0].members, ['bob'], 'carol is not a member in the Worker\'s view');
  assert.deepEqual(back.waitingFor, ['bob', 'carol'], 'listed but kept out: she cannot read (bob has no channel here)');
  const readmitted = await alice.rooms.members({ room, members: ['alice', 'bob', 'carol'], readmit: ['carol'] });
  assert.deepEqual(readmitted.notReadmitted, []);
  assert.deepEqual(alice.rooms.describe()[0].members, ['bob', 'carol']);
  assert.notEqual(readmitted.keyId, back.keyId, 'the re-admission rotates');
  await assert.rejects(alice.rooms.members({ room, members: ['alice'], readmit: ['<x>'] }), (e) => e.code === 'invalid_request');
});
