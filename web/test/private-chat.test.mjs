// The private conversation: the channel store's conversation logic (receipts, deletion only by
// the author, ignore list, unread counts, nick) and the page-side chat controller, two of them
// wired back to back as the secure channel would carry their envelopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelStore, isIgnored, peerDisplayName, unreadTotal } from '../src/state/channel-store.js';
import { createPrivateChat, describeServerReply } from '../src/app/private-chat.js';
import { decodeEnvelope, encodeEnvelope } from '../src/chat/envelope.js';

const session = '0123456789abcdef0123456789abcdef';
const other = 'fedcba9876543210fedcba9876543210';
const offer = (role, username, s = session) => ({
  type: 'channel_offer', session: s, role, peer: { userid: 2, username },
  certificate: { fingerprint: 'A'.repeat(40), armored: 'x' },
});

function secureStore(role = 'initiator', username = 'bob') {
  const store = createChannelStore();
  for (const s of [session, other]) {
    store.applyOffer(offer(role, username, s), { trust: { status: 'unknown', knownFingerprint: null } });
    store.accepted(s);
    store.opened(s);
    store.applyWorkerState({ session: s, state: 'secure', suite: 1, epoch: 0, sas: null });
  }
  store.select(session);
  return store;
}

const K1 = '1'.repeat(32);
const K2 = '2'.repeat(32);

test('receipts mark only own sent messages delivered', () => {
  const store = secureStore();
  store.addMessage(session, { from: 'me', text: 'hi', key: K1 });
  store.addMessage(session, { from: 'peer', text: 'yo', key: K2 });
  assert.equal(store.find(session).messages[0].status, 'sent');
  assert.equal(store.markDelivered(session, K2), false, 'a receipt for the peer’s own message changes nothing');
  assert.equal(store.markDelivered(session, 'f'.repeat(32)), false);
  assert.equal(store.markDelivered(session, K1), true);
  assert.equal(store.find(session).messages[0].status, 'delivered');
  assert.equal(store.markDelivered(session, K1), false, 'once');
});

test('deletion is honoured only for the author’s own message', () => {
  const store = secureStore();
  store.addMessage(session, { from: 'me', text: 'mine', key: K1 });
  store.addMessage(session, { from: 'peer', text: 'theirs', key: K2 });
  assert.equal(store.deleteMessage(session, K1, 'peer'), false, 'the peer cannot delete my message');
  assert.equal(store.deleteMessage(session, K2, 'me'), false, 'nor I theirs');
  assert.equal(store.deleteMessage(session, K1, 'system'), false);
  assert.equal(store.find(session).messages[0].text, 'mine');
  assert.equal(store.deleteMessage(session, K2, 'peer'), true);
  const deleted = store.find(session).messages[1];
  assert.deepEqual([deleted.deleted, deleted.text], [true, '']);
  assert.equal(store.deleteMessage(session, K2, 'peer'), false, 'once');
});

test('a replayed id from the same side is stored once', () => {
  const store = secureStore();
  assert.ok(store.addMessage(session, { from: 'peer', text: 'a', key: K1 }));
  assert.equal(store.addMessage(session, { from: 'peer', text: 'b', key: K1 }), null);
  assert.equal(store.find(session).messages.length, 1);
});

test('unread counts: other channels, hidden window, ignored peers; reading resets', () => {
  const store = secureStore();
  store.addMessage(session, { from: 'peer', text: 'seen', key: K1, seen: true });
  assert.equal(store.find(session).unread, 0, 'the selected, visible channel');
  store.addMessage(session, { from: 'peer', text: 'hidden window', key: K2, seen: false });
  assert.equal(store.find(session).unread, 1);
  store.addMessage(other, { from: 'peer', text: 'elsewhere', key: K1 });
  store.addMessage(other, { from: 'me', text: 'mine', key: K2 });
  assert.equal(store.find(other).unread, 1, 'own messages never count');
  store.addSystem(other, { messageKey: 'chat.system.help' });
  assert.equal(unreadTotal(store.get()), 2);
  store.select(other);
  assert.equal(store.find(other).unread, 0);
  store.markRead(session);
  assert.equal(unreadTotal(store.get()), 0);
  store.setViewing(false);   // another tab (VoIP, Email) is shown
  store.addMessage(other, { from: 'peer', text: 'other tab', key: '4'.repeat(32), seen: true });
  assert.equal(store.find(other).unread, 1, 'the selected channel, but the Chat tab is not shown');
  store.setViewing(true);
  assert.equal(store.find(other).unread, 0, 'back on the Chat tab: read');
  store.toggleIgnore('BOB');
  store.addMessage(session, { from: 'peer', text: 'ignored', key: '3'.repeat(32), seen: false });
  assert.equal(store.find(session).unread, 0, 'an ignored peer adds no unread');
});

test('ignore list toggles case-insensitively', () => {
  const store = secureStore();
  const channel = () => store.find(session);
  assert.equal(isIgnored(store.get(), channel()), false);
  assert.equal(store.toggleIgnore('Bob'), true);
  assert.deepEqual(store.get().ignored, ['bob']);
  assert.equal(isIgnored(store.get(), channel()), true);
  assert.equal(store.toggleIgnore('bob'), false);
  assert.equal(isIgnored(store.get(), channel()), false);
  store.clear();
  assert.deepEqual(store.get().ignored, []);
});

test('nick: "name (username)"; cleared nick shows the username', () => {
  const store = secureStore();
  assert.equal(peerDisplayName(store.find(session)), 'bob');
  store.setPeerNick(session, 'Robert');
  assert.equal(peerDisplayName(store.find(session)), 'Robert (bob)');
  store.setPeerNick(session, 'bob');
  assert.equal(peerDisplayName(store.find(session)), 'bob');
  store.setPeerNick(session, null);
  assert.equal(store.find(session).peerNick, null);
  store.setOwnNick(session, 'Ally');
  assert.equal(store.find(session).ownNick, 'Ally');
  store.setSelf('alice');
  store.clear();
  assert.equal(store.get().self, 'alice', 'the own username survives clearing the channels');
});

/** Two chat controllers whose sealed texts arrive at each other, in order. */
function pair({ tamper = (text) => text } = {}) {
  const stores = { alice: secureStore('initiator', 'bob'), bob: secureStore('responder', 'alice') };
  const controls = { alice: [], bob: [] };
  const wire = { alice: [], bob: [] };
  const chats = {};
  let queue = Promise.resolve();
  for (const [me, peer] of [['alice', 'bob'], ['bob', 'alice']]) {
    chats[me] = createPrivateChat({
      channelStore: stores[me],
      sealText: async (s, text) => {
        wire[me].push(JSON.parse(text));
        const delivered = tamper(text, me);
        queue = queue.then(() => chats[peer].handleChannelText(s, delivered));
      },
      sendControl: (message) => { controls[me].push(message); return true; },
      receiptDelayMs: 0,
    });
  }
  const settle = async () => { for (let i = 0; i < 20; i += 1) { await queue; await new Promise((r) => setTimeout(r, 5)); } };
  return { stores, chats, controls, wire, settle };
}

const texts = (store, s = session) => store.find(s).messages.map((m) => (m.from === 'system' ? `[${m.messageKey}]` : `${m.from}:${m.kind}:${m.deleted ? '(deleted)' : m.text}`));

test('messages and actions go as envelopes; receipts come back; deletion on both sides', async () => {
  const { stores, chats, wire, settle } = pair();
  assert.deepEqual(await chats.alice.submit(session, 'hello [b]bob[/b]'), { ok: true });
  assert.deepEqual(await chats.alice.submit(session, '/me waves'), { ok: true });
  assert.deepEqual(await chats.alice.submit(session, '//etc'), { ok: true });
  await settle();
  assert.deepEqual(wire.alice.map((e) => e.kind), ['message', 'action', 'message']);
  assert.ok(wire.alice.every((e) => e.v === 1 && /^[0-9a-f]{32}$/.test(e.id)));
  assert.deepEqual(texts(stores.bob), ['peer:message:hello [b]bob[/b]', 'peer:action:waves', 'peer:message:/etc']);
  // One coalesced receipt for the burst.
  assert.deepEqual(wire.bob.map((e) => [e.kind, e.targets]), [['receipt', wire.alice.map((e) => e.id)]]);
  assert.ok(stores.alice.find(session).messages.every((m) => m.status === 'delivered'));

  const key = stores.alice.find(session).messages[0].key;
  assert.equal(await chats.alice.deleteOwn(session, key), true);
  await settle();
  assert.equal(texts(stores.alice)[0], 'me:message:(deleted)');
  assert.equal(texts(stores.bob)[0], 'peer:message:(deleted)');
  assert.equal(await chats.bob.deleteOwn(session, key), false, 'Bob cannot delete Alice’s message');
  // A forged delete from Bob for Alice's message is not honoured on Alice's side.
  await chats.alice.handleChannelText(session, encodeEnvelope({ kind: 'delete', target: stores.alice.find(session).messages[1].key }));
  assert.equal(texts(stores.alice)[1], 'me:action:waves');
});

test('local commands: errors are not sent; /clear, /help, /ignore, /nick', async () => {
  const { stores, chats, wire, settle } = pair();
  assert.equal((await chats.alice.submit(session, '/frobnicate')).error.code, 'unknown_command');
  assert.equal((await chats.alice.submit(session, '/roll 99d6')).error.code, 'roll_count_out_of_range');
  assert.equal((await chats.alice.submit(session, 'x'.repeat(1041))).error.code, 'message_too_long');
  assert.equal((await chats.alice.submit(session, '/describe carol hi')).error.code, 'not_this_peer');
  assert.equal((await chats.alice.submit(session, '/invite carol')).error.code, 'no_room');
  assert.deepEqual(wire.alice, []);
  await chats.alice.submit(session, '/help');
  await chats.alice.submit(session, '/ignore');
  await chats.alice.submit(session, '/ignore bob');
  assert.deepEqual(stores.alice.get().ignored, ['bob']);
  await chats.alice.submit(session, '/nick Ally');
  await settle();
  assert.deepEqual(texts(stores.alice), ['[chat.system.help]', '[chat.system.ignore_list_empty]', '[chat.system.ignored]', '[chat.system.nick_me]']);
  assert.equal(peerDisplayName(stores.bob.find(session)), 'Ally (alice)');
  await chats.alice.submit(session, '/clear');
  assert.deepEqual(texts(stores.alice), []);
  assert.deepEqual(wire.alice.map((e) => e.kind), ['nick']);
});

test('flood control: the 21st message in a minute is refused with a clear error', async () => {
  const { chats } = pair();
  for (let i = 0; i < 20; i += 1) assert.deepEqual(await chats.alice.submit(session, `m${i}`), { ok: true });
  const refused = await chats.alice.submit(session, 'one too many');
  assert.equal(refused.error.code, 'flood');
  assert.ok(refused.error.params.seconds >= 1);
});

test('room commands become control messages; the answer or error is a system line', async () => {
  const { stores, chats, controls } = pair();
  await chats.alice.submit(session, '/join lobby');
  assert.deepEqual(controls.alice.at(-1), { type: 'room_join', room: 'lobby' });
  assert.equal(chats.alice.handleServerMessage({ type: 'room_joined', room: 'c'.repeat(32), name: 'lobby', public: true, members: ['alice'] }), true);
  await chats.alice.submit(session, '/who');
  assert.deepEqual(controls.alice.at(-1), { type: 'room_who', room: 'c'.repeat(32) });
  assert.equal(chats.alice.handleServerMessage({ type: 'error', error: { code: 'not_a_member', message: 'no' } }), true);
  await chats.alice.submit(session, '/kick carol 10');
  assert.deepEqual(controls.alice.at(-1), { type: 'mod_kick', user: 'carol', minutes: 10 });
  await chats.alice.submit(session, '/whereis carol');
  await chats.alice.submit(session, '/list');
  await chats.alice.submit(session, '/quit');
  assert.deepEqual(controls.alice.slice(-3).map((m) => m.type), ['user_whereis', 'room_list', 'room_leave']);
  assert.equal(chats.alice.handleServerMessage({ type: 'presence', online: [] }), false, 'other messages pass through');
  assert.deepEqual(texts(stores.alice).slice(0, 2), ['[chat.system.room_joined]', '[chat.system.server_error]']);
  assert.equal(chats.bob.handleServerMessage({ type: 'room_list', rooms: [] }), false, 'an answer nobody asked for is not ours');
  assert.deepEqual(describeServerReply({ type: 'room_list', rooms: [{ room: 'x', name: 'lobby', members: 2 }] }),
    { messageKey: 'chat.system.room_list', params: { rooms: 'lobby (2)' } });
});

test('/roll: both sides get the same dice', async () => {
  const { stores, chats, wire, settle } = pair();
  await chats.alice.submit(session, '/roll 4d10');
  await settle();
  const result = (store) => store.find(session).messages.find((m) => m.level === 'roll');
  assert.ok(result(stores.alice) && result(stores.bob), 'both have a result');
  assert.equal(result(stores.alice).text, result(stores.bob).text);
  assert.equal(result(stores.alice).text.split(',').length, 4);
  assert.equal(result(stores.alice).messageKey, 'chat.roll.result_me');
  assert.equal(result(stores.bob).messageKey, 'chat.roll.result_peer');
  assert.deepEqual(wire.alice.map((e) => e.kind), ['roll_commit', 'roll_reveal']);
  assert.deepEqual(wire.bob.map((e) => e.kind), ['roll_commit', 'roll_reveal']);
});

test('/roll: a reveal that does not match its commitment voids the roll with an error', async () => {
  const tamper = (text, from) => {
    const { v, ...envelope } = decodeEnvelope(text);
    if (from !== 'bob' || envelope.kind !== 'roll_reveal') return text;
    return encodeEnvelope({ ...envelope, contribution: '0'.repeat(64) });
  };
  const { stores, chats, settle } = pair({ tamper });
  await chats.alice.submit(session, '/roll');
  await settle();
  const alice = stores.alice.find(session).messages;
  assert.equal(alice.some((m) => m.level === 'roll'), false);
  const failed = alice.find((m) => m.messageKey === 'chat.roll.failed');
  assert.equal(failed.params.reason, 'chat.dice.error.commitment_mismatch');
  assert.equal(failed.level, 'error');
});

test('malformed or unknown envelopes are ignored', async () => {
  const { stores, chats } = pair();
  for (const text of ['plain text', '{"v":1,"kind":"shout","id":"' + 'a'.repeat(32) + '","text":"x"}', '{}']) {
    await chats.bob.handleChannelText(session, text);
  }
  assert.deepEqual(texts(stores.bob), []);
});

test('a room invitation is shown in the selected conversation; the user decides', () => {
  const { stores, chats, controls } = pair();
  assert.equal(chats.alice.handleServerMessage({ type: 'room_invitation', room: 'c'.repeat(32), public: false, by: 'carol' }), true);
  const line = stores.alice.find(session).messages.at(-1);
  assert.equal(line.messageKey, 'chat.system.room_invitation');
  assert.deepEqual({ ...line.params }, { by: 'carol', room: 'c'.repeat(32) });
  assert.deepEqual(controls.alice, [], 'nothing joined on its own');
});

test('a peer cannot pile up open rolls', async () => {
  // Alice's answers are lost on the way, so no roll ever completes.
  const { stores, chats, wire } = pair({ tamper: (text, from) => (from === 'alice' ? 'lost' : text) });
  // Bob's commitments for rolls Alice never hears reveals of: only 4 are taken up.
  for (let i = 0; i < 10; i += 1) {
    await chats.alice.handleChannelText(session, encodeEnvelope({ kind: 'roll_commit', roll: i.toString(16).padStart(32, '0'), count: 1, sides: 6, commitment: 'e'.repeat(64) }));
  }
  assert.equal(wire.alice.filter((e) => e.kind === 'roll_commit').length, 4);
  assert.equal((await chats.alice.submit(session, '/roll')).error.code, 'roll_busy');
  assert.equal(stores.alice.find(session).messages.filter((m) => m.level === 'roll').length, 0);
});
