// Attacks of a hostile relay on room lines, through the real channel and room-key managers (an
// in-memory relay that keeps a copy of every frame and delivers as it likes):
//   - replaying a member's old lines into a tab that got the sender key late (a second tab, or
//     the same tab after a reconnect): the sender key carries the owner's next counter, the tab
//     installs it there and refuses every earlier frame (docs/protocol.md "Room messages").
//   - hiding a dropped line by forcing a rotation (a phantom join/leave told to the sender
//     only): the new key names the old one and how many frames went out under it, so the
//     receiver reports the gap at the first line under the new key.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelManager } from '../src/crypto/channel-manager.js';
import { createRoomKeyManager } from '../src/crypto/room-keys.js';
import { decodeRelayFrame } from '../src/crypto/relay-frame.js';
import { encodeRoomFrame } from '../src/crypto/room-frame.js';
import { describeIdentity, exportPublicCertificate, generateIdentity } from '../src/crypto/identity.js';
import { toHex } from '../src/crypto/protocol/bytes.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const room = 'a0'.repeat(16);
const identities = {};
for (const name of ['alice', 'bob']) identities[name] = await generateIdentity({ name, email: `${name}@example.org` });
const fp = (name) => describeIdentity(identities[name]).fingerprint;
const workers = new Map();     // id → worker (several ids may share a username: tabs)
const sessions = new Map();    // session → [id, id]
after(() => { for (const w of workers.values()) { w.channels.dropAll(); w.rooms.forgetAll(); } });

function worker(id, name) {
  const events = [];
  const w = { id, name, events };
  w.channels = createChannelManager({
    identity: () => ({ privateKey: identities[name], fingerprint: fp(name) }),
    localUsername: () => name,
    emit(event) {
      events.push(event);
      if (event.type !== 'channel.outbound') return;
      const { sessionId } = decodeRelayFrame(event.frame);
      const peer = sessions.get(sessionId)?.find((other) => other !== id);
      const copy = event.frame.slice(0);
      if (peer) queueMicrotask(() => workers.get(peer)?.channels.receiveFrame({ frame: copy }));
    },
    onSenderKey: (message) => w.rooms.receiveSenderKey(message),
    // The page calls room.distribute when a channel becomes secure.
    onSecure: (message) => { w.rooms.peerChannelSecured(message); w.rooms.distribute({}).catch(() => {}); },
    handshakeTimeoutMs: 5000, rekeyCheckMs: 1e9,
  });
  w.rooms = createRoomKeyManager({
    emit: (event) => events.push(event),
    sendSenderKey: (peerUser, plaintext) => w.channels.sendSenderKey({ peerUser, plaintext }),
    self: () => name, selfFingerprint: () => fp(name),
  });
  w.lines = () => events.filter((e) => e.type === 'room.message').map((e) => `${e.from}: ${e.text}`);
  w.failures = () => events.filter((e) => e.type === 'room.undecryptable').map((e) => e.reason + (e.count ? `(${e.count})` : ''));
  workers.set(id, w);
  return w;
}

async function connect(a, b) {
  const session = toHex(crypto.getRandomValues(new Uint8Array(16)));
  sessions.set(session, [a, b]);
  const A = workers.get(a);
  const B = workers.get(b);
  await A.channels.prepare({ session, role: 'initiator', peerFingerprint: fp(B.name), peerCertificate: exportPublicCertificate(identities[B.name]), peerUser: B.name });
  await B.channels.prepare({ session, role: 'responder', peerFingerprint: fp(A.name), peerCertificate: exportPublicCertificate(identities[A.name]), peerUser: A.name });
  B.channels.open({ session });
  A.channels.open({ session });
  const secure = (w) => w.events.some((e) => e.type === 'channel.state' && e.session === session && e.state === 'secure');
  for (let i = 0; i < 500 && !(secure(A) && secure(B)); i += 1) await sleep(5);
  assert.ok(secure(A) && secure(B), 'channel secure');
  await sleep(30);
  return session;
}

function end(session) {
  for (const id of sessions.get(session) ?? []) workers.get(id)?.channels.drop({ session });
  sessions.delete(session);
}

const sequences = new Map();
/** The sender's page seals and hands the frame to the relay, which decides where it goes. */
async function seal(id, text) {
  const { body } = await workers.get(id).rooms.seal({ room, frameType: 3, text });
  const sequence = sequences.get(id) ?? 0;
  sequences.set(id, sequence + 1);
  return encodeRoomFrame({ frameType: 3, room, sequence, body: new Uint8Array(body) });
}
const deliver = (frame, ids) => { for (const id of ids) workers.get(id).rooms.receiveFrame({ frame: Uint8Array.from(frame).buffer }); };
const keyCount = (id, from) => workers.get(id).events.filter((e) => e.type === 'room.key_received' && e.from === from).length;
async function waitKeys(id, from, count = 1) {
  for (let i = 0; i < 400 && keyCount(id, from) < count; i += 1) await sleep(5);
  assert.ok(keyCount(id, from) >= count, `${id}: ${count} key(s) from ${from}`);
}
const both = ['alice', 'bob'];

test('a second tab gets the current key at the sender\'s counter: the relay cannot replay earlier lines into it', async () => {
  const alice = worker('alice#1', 'alice');
  const bob1 = worker('bob#1', 'bob');
  await connect('alice#1', 'bob#1');
  await alice.rooms.members({ room, members: both });
  await bob1.rooms.members({ room, members: both });
  await waitKeys('bob#1', 'alice');
  const captured = [];
  for (const text of ['yes, send the 500 EUR now', 'thanks']) {
    const frame = await seal('alice#1', text);
    captured.push(frame);   // the relay keeps a copy of every frame
    deliver(frame, ['bob#1']);
  }
  await sleep(50);
  assert.deepEqual(bob1.lines(), ['alice: yes, send the 500 EUR now', 'alice: thanks']);

  // Bob opens a second tab (no membership change, no rotation): Alice re-sends her current key.
  const bob2 = worker('bob#2', 'bob');
  await bob2.rooms.members({ room, members: both });
  await connect('alice#1', 'bob#2');
  await waitKeys('bob#2', 'alice');
  for (const frame of captured) deliver(frame, ['bob#2']);
  await sleep(50);
  assert.deepEqual(bob2.lines(), [], 'no line sealed before the tab got the key is shown');
  assert.deepEqual(bob2.failures(), ['replay', 'replay']);
  // Alice's next line opens in both tabs, with no gap reported.
  const next = await seal('alice#1', 'a new line');
  deliver(next, ['bob#1', 'bob#2']);
  await sleep(50);
  assert.deepEqual(bob2.lines(), ['alice: a new line']);
  assert.deepEqual(bob2.failures(), ['replay', 'replay']);
  assert.deepEqual(bob1.lines().at(-1), 'alice: a new line');
});

test('the same tab after a reconnect (room.leave, channels dropped, the sender not told): the replay is refused', async () => {
  const alice = worker('alice#3', 'alice');
  const bob = worker('bob#3', 'bob');
  let session = await connect('alice#3', 'bob#3');
  await alice.rooms.members({ room, members: both });
  await bob.rooms.members({ room, members: both });
  await waitKeys('bob#3', 'alice');
  const frame = await seal('alice#3', 'I resign');
  deliver(frame, ['bob#3']);
  await sleep(50);
  // The relay closes Bob's socket; Bob's page leaves its rooms and drops its channels.
  bob.rooms.leave({ room });
  end(session);
  await bob.rooms.members({ room, members: both });
  session = await connect('alice#3', 'bob#3');
  await waitKeys('bob#3', 'alice', 2);
  deliver(frame, ['bob#3']);
  await sleep(50);
  assert.deepEqual(bob.lines(), ['alice: I resign'], 'shown once, not again after the reconnect');
  assert.deepEqual(bob.failures(), ['replay']);
  end(session);
});

test('a member still owed the key gets it at counter 0: lines sealed while their channel came up are read', async () => {
  const alice = worker('alice#4', 'alice');
  const bob = worker('bob#4', 'bob');
  await alice.rooms.members({ room, members: both });
  await bob.rooms.members({ room, members: both });
  const early = await seal('alice#4', 'sent before the channel was up');   // Bob lacks the key: buffered
  deliver(early, ['bob#4']);
  await connect('alice#4', 'bob#4');
  await waitKeys('bob#4', 'alice');
  await sleep(50);
  assert.deepEqual(bob.lines(), ['alice: sent before the channel was up']);
  assert.deepEqual(bob.failures(), []);
});

test('a dropped line followed by a rotation the relay forces (phantom join/leave) is reported', async () => {
  const alice = worker('alice#5', 'alice');
  const bob = worker('bob#5', 'bob');
  await connect('alice#5', 'bob#5');
  await alice.rooms.members({ room, members: both });
  await bob.rooms.members({ room, members: both });
  await waitKeys('bob#5', 'alice');
  deliver(await seal('alice#5', 'line 1'), ['bob#5']);
  const dropped = await seal('alice#5', 'line 2: do NOT sign the contract');   // the relay drops it
  // Told to Alice's page only: zed joined, zed left → Alice rotates (twice), Bob gets the new key.
  await alice.rooms.members({ room, members: [...both, 'zed'] });
  await alice.rooms.members({ room, members: both });
  await waitKeys('bob#5', 'alice', 2);
  deliver(await seal('alice#5', 'line 3'), ['bob#5']);   // counter 0 under the new key
  await sleep(50);
  assert.deepEqual(bob.lines(), ['alice: line 1', 'alice: line 3']);
  assert.deepEqual(bob.failures(), ['missing(1)'], 'the line dropped under the old key is reported');
  // The dropped frame, delivered after all, is not shown out of its place.
  deliver(dropped, ['bob#5']);
  await sleep(50);
  assert.deepEqual(bob.failures(), ['missing(1)', 'replay']);
  assert.equal(bob.lines().length, 2);
  // Drops within one key are reported as before.
  await seal('alice#5', 'line 4');
  deliver(await seal('alice#5', 'line 5'), ['bob#5']);
  await sleep(50);
  assert.deepEqual(bob.failures(), ['missing(1)', 'replay', 'missing(1)']);
});

test('no false report when the new key overtakes the last line under the old one; two rotations in a row keep the count', async () => {
  const alice = worker('alice#6', 'alice');
  const bob = worker('bob#6', 'bob');
  await connect('alice#6', 'bob#6');
  await alice.rooms.members({ room, members: both });
  await bob.rooms.members({ room, members: both });
  await waitKeys('bob#6', 'alice');
  const last = await seal('alice#6', 'last under the first key');
  await alice.rooms.members({ room, members: [...both, 'zed'] });   // rotation; the key reaches Bob first
  await waitKeys('bob#6', 'alice', 2);
  deliver(last, ['bob#6']);
  deliver(await seal('alice#6', 'first under the second key'), ['bob#6']);
  await sleep(50);
  assert.deepEqual(bob.lines(), ['alice: last under the first key', 'alice: first under the second key']);
  assert.deepEqual(bob.failures(), []);
  // Two lines dropped, then two rotations without a line in between: both counted at the next line.
  await seal('alice#6', 'dropped a');
  await seal('alice#6', 'dropped b');
  await alice.rooms.members({ room, members: both });
  await alice.rooms.members({ room, members: [...both, 'zed'] });
  await waitKeys('bob#6', 'alice', 4);
  deliver(await seal('alice#6', 'after two rotations'), ['bob#6']);
  await sleep(50);
  assert.deepEqual(bob.lines().at(-1), 'alice: after two rotations');
  assert.deepEqual(bob.failures(), ['missing(2)']);
});
