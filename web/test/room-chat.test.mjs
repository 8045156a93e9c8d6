// The page side of chat rooms (web/src/app/room-chat.js, web/src/state/room-store.js) with the
// crypto Worker replaced by a transparent stand-in (the real one is tested in room-keys.test.mjs)
// and the server by a fan-out that checks sequence numbers like the real one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomStore, canModerate, roomUnreadTotal } from '../src/state/room-store.js';
import { createRoomChat } from '../src/app/room-chat.js';
import { createServerCommands } from '../src/app/server-commands.js';
import { decodeRoomFrame, RoomFrameType } from '../src/crypto/room-frame.js';

const roomId = 'a'.repeat(32);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const settle = async () => { for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve)); };

/** Users in one room; `server.refuse(user, error)` makes the server refuse that user's next frame. */
function room(names, { moderators = [] } = {}) {
  const users = {};
  const refusals = new Map();
  const server = {
    members: [...names].sort(),
    sent: [],   // [{from, frameType, envelope}]
    tamper: (from, text) => text,   // a hostile member's client or relay
    withhold: () => false,          // (from, to, text) → true: the relay keeps that copy back
    held: [],                       // [{from, to, frameType, text}] the copies kept back
    clock: { t: 1_700_000_000_000 },
    refuse: (user, error) => refusals.set(user, error),
    view(type, extra = {}) {
      return { type, room: roomId, name: 'lobby', public: true, members: server.members, moderators, ...extra };
    },
    broadcast(message) {
      for (const name of server.members) users[name].chat.handleServerMessage(message);
    },
  };
  for (const name of names) {
    const store = createRoomStore();
    const controls = [];
    const workerCalls = [];
    const expected = { sequence: 0 };
    const user = { store, controls, workerCalls, ignored: new Set() };
    const ask = async (type, payload) => {
      workerCalls.push({ type, payload });
      if (type === 'room.seal') return { body: encoder.encode(payload.text).buffer, waitingFor: [] };
      if (type === 'room.members') return { room: payload.room, keyId: 'k', sentTo: [], waitingFor: [], notReadmitted: user.notReadmitted ?? [] };
      return {};
    };
    const sendBinary = (buffer) => {
      const frame = decodeRoomFrame(buffer);
      queueMicrotask(() => {
        const refusal = refusals.get(name);
        if (refusal) {
          refusals.delete(name);
          user.chat.handleServerMessage({ type: 'error', room: frame.room, error: refusal });
          return;
        }
        assert.equal(frame.sequence, expected.sequence, 'frames carry consecutive sequence numbers');
        expected.sequence += 1;
        const text = server.tamper(name, decoder.decode(frame.body));
        server.sent.push({ from: name, frameType: frame.frameType, envelope: JSON.parse(text) });
        user.chat.handleServerMessage({ type: 'room_sent', room: frame.room, sequence: frame.sequence });
        for (const other of server.members) {
          if (other === name) continue;
          if (server.withhold(name, other, text)) server.held.push({ from: name, to: other, frameType: frame.frameType, text });
          else users[other].chat.handleRoomText({ room: frame.room, from: name, frameType: frame.frameType, text });
        }
      });
      return true;
    };
    const sendControl = (message) => { controls.push(message); return true; };
    user.chat = createRoomChat({
      roomStore: store, ask, sendControl, sendBinary, serverCommands: createServerCommands({ sendControl }), self: () => name,
      isIgnored: (u) => user.ignored.has(u), toggleIgnore: (u) => (user.ignored.has(u) ? !user.ignored.delete(u) : Boolean(user.ignored.add(u))),
      receiptDelayMs: 5, now: () => server.clock.t,
    });
    users[name] = user;
  }
  for (const name of names) users[name].chat.handleServerMessage(server.view('room_joined'));
  return { users, server };
}

const lines = (user) => user.store.find(roomId).messages.filter((m) => m.from !== 'system').map((m) => `${m.user}:${m.kind}:${m.deleted ? '(deleted)' : m.text}`);
const systemKeys = (user) => user.store.find(roomId).messages.filter((m) => m.from === 'system').map((m) => m.messageKey);

test('a line reaches every other member once, marked delivered when all confirmed', async () => {
  const { users, server } = room(['alice', 'bob', 'carol']);
  assert.deepEqual(users.alice.workerCalls[0], { type: 'room.members', payload: { room: roomId, members: ['alice', 'bob', 'carol'], removed: [], readmit: [] } });
  assert.deepEqual(await users.alice.chat.submit(roomId, 'hello [b]all[/b]'), { ok: true });
  assert.deepEqual(await users.alice.chat.submit(roomId, '/me waves'), { ok: true });
  await new Promise((resolve) => setTimeout(resolve, 30));
  await settle();
  for (const name of ['bob', 'carol']) assert.deepEqual(lines(users[name]), ['alice:message:hello [b]all[/b]', 'alice:action:waves']);
  const own = users.alice.store.find(roomId).messages.filter((m) => m.from === 'me');
  assert.deepEqual(own.map((m) => [m.status, [...m.deliveredTo].sort()]), [['delivered', ['bob', 'carol']], ['delivered', ['bob', 'carol']]]);
  // Lines go as type 3, receipts as type 4.
  assert.deepEqual(server.sent.filter((s) => s.from === 'alice').map((s) => s.frameType), [RoomFrameType.message, RoomFrameType.message]);
  assert.ok(server.sent.filter((s) => s.envelope.kind === 'receipt').every((s) => s.frameType === RoomFrameType.control));
});

test('a flood refusal keeps the frame and its number; it goes out again after retry_after', async () => {
  const { users, server } = room(['alice', 'bob']);
  server.refuse('alice', { code: 'flood_limited', retry_after: 1 });
  await users.alice.chat.submit(roomId, 'first');
  await users.alice.chat.submit(roomId, 'second');
  await settle();
  assert.ok(systemKeys(users.alice).includes('chat.system.room_flood_wait'));
  assert.deepEqual(lines(users.bob), []);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await settle();
  assert.deepEqual(lines(users.bob), ['alice:message:first', 'alice:message:second']);
});

test('a too-long line is refused at the input; other refusals become an error line', async () => {
  const { users, server } = room(['alice', 'bob']);
  assert.equal((await users.alice.chat.submit(roomId, 'x'.repeat(1041))).error.code, 'message_too_long');
  server.refuse('alice', { code: 'banned', until: 1 });
  await users.alice.chat.submit(roomId, 'refused');
  await users.alice.chat.submit(roomId, 'after');
  await settle();
  assert.ok(systemKeys(users.alice).includes('chat.system.room_frame_refused'));
  assert.deepEqual(lines(users.bob), ['alice:message:after']);
});

test('deletion: the author, or a moderator of the room; anyone else is not honoured', async () => {
  const { users } = room(['alice', 'bob', 'carol'], { moderators: ['carol'] });
  await users.alice.chat.submit(roomId, 'one');
  await users.alice.chat.submit(roomId, 'two');
  await users.bob.chat.submit(roomId, 'three');
  await settle();
  const keyOf = (text) => users.alice.store.find(roomId).messages.find((m) => m.text === text).key;
  assert.equal(await users.bob.chat.deleteMessage(roomId, keyOf('one')), false, 'bob may not delete alice’s line');
  // A forged request from bob (as if his client ignored the rule) is not honoured by the others.
  users.carol.chat.handleRoomText({ room: roomId, from: 'bob', frameType: RoomFrameType.control, text: JSON.stringify({ v: 1, kind: 'delete', id: 'f'.repeat(32), target: keyOf('one') }) });
  assert.equal(await users.alice.chat.deleteMessage(roomId, keyOf('two')), true);
  assert.equal(await users.carol.chat.deleteMessage(roomId, keyOf('three')), true, 'carol moderates');
  await settle();
  for (const name of ['alice', 'bob', 'carol']) assert.deepEqual(lines(users[name]).sort(), ['alice:message:(deleted)', 'alice:message:one', 'bob:message:(deleted)'].sort());
  assert.equal(canModerate(users.alice.store.find(roomId), 'carol'), true);
});

test('a line in a control frame (or a control in a line frame) is dropped', async () => {
  const { users } = room(['alice', 'bob']);
  await users.bob.chat.handleRoomText({ room: roomId, from: 'alice', frameType: RoomFrameType.control, text: JSON.stringify({ v: 1, kind: 'message', id: 'e'.repeat(32), text: 'sneaky' }) });
  assert.deepEqual(lines(users.bob), []);
});

test('/roll: all three members see the same dice', async () => {
  const { users } = room(['alice', 'bob', 'carol']);
  assert.deepEqual(await users.bob.chat.submit(roomId, '/roll 3d20'), { ok: true });
  const resultsNow = () => ['alice', 'bob', 'carol'].map((name) => users[name].store.find(roomId).messages.find((m) => m.level === 'roll'));
  // The dice hash with WebCrypto on the thread pool: wait for the results, not a number of turns.
  for (let waited = 0; !resultsNow().every(Boolean) && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  const results = resultsNow();
  assert.ok(results.every(Boolean), 'everyone has a result');
  assert.equal(new Set(results.map((r) => r.text)).size, 1);
  assert.equal(results[0].text.split(',').length, 3);
  assert.equal(results[0].params.name, 'bob');
});

test('/nick, /ignore and the server commands about this room', async () => {
  const { users } = room(['alice', 'bob']);
  await users.alice.chat.submit(roomId, '/nick Ally');
  await users.bob.chat.submit(roomId, '/ignore alice');
  await users.alice.chat.submit(roomId, 'ignored line');
  await settle();
  assert.equal(users.bob.store.find(roomId).nicks.alice, 'Ally');
  assert.equal(users.bob.store.find(roomId).unread, 0, 'an ignored member’s lines are not unread');
  await users.alice.chat.submit(roomId, '/invite carol');
  await users.alice.chat.submit(roomId, '/who');
  await users.alice.chat.submit(roomId, '/quit');
  assert.deepEqual(users.alice.controls, [
    { type: 'room_invite', room: roomId, user: 'carol' }, { type: 'room_who', room: roomId }, { type: 'room_leave', room: roomId }]);
});

test('membership: a kicked member is reported to the Worker as removed; the kicked user leaves the room', async () => {
  const { users, server } = room(['alice', 'bob', 'carol']);
  server.members = ['alice', 'bob'];
  server.broadcast(server.view('room_members', { event: 'kicked', user: 'carol' }));
  users.carol.chat.handleServerMessage(server.view('room_members', { event: 'kicked', user: 'carol' }));
  await settle();
  assert.deepEqual(users.alice.workerCalls.at(-1), { type: 'room.members', payload: { room: roomId, members: ['alice', 'bob'], removed: ['carol'], readmit: [] } });
  assert.ok(systemKeys(users.alice).includes('chat.system.member_kicked'));
  assert.equal(users.carol.store.find(roomId).joined, false);
  assert.equal(users.carol.store.find(roomId).endReason, 'kicked');
  assert.deepEqual(users.carol.workerCalls.at(-1), { type: 'room.leave', payload: { room: roomId } });
  assert.equal((await users.carol.chat.submit(roomId, 'still here?')).error.code, 'not_in_room');
});

test('room store: unread counts only while the room is not shown; invitations', () => {
  const store = createRoomStore();
  store.applyView({ room: roomId, name: 'lobby', public: true, members: ['alice', 'bob'], moderators: [] });
  store.addMessage(roomId, { from: 'peer', user: 'bob', text: 'hi', key: '1'.repeat(32), seen: true });
  assert.equal(roomUnreadTotal(store.get()), 1, 'a visible window, but another conversation shown');
  store.select(roomId);
  assert.equal(roomUnreadTotal(store.get()), 0);
  store.addMessage(roomId, { from: 'peer', user: 'bob', text: 'shown', key: '2'.repeat(32), seen: true });
  assert.equal(roomUnreadTotal(store.get()), 0, 'shown in a visible window: read');
  store.setViewing(false);
  store.addMessage(roomId, { from: 'peer', user: 'bob', text: 'other tab', key: '3'.repeat(32), seen: true });
  assert.equal(roomUnreadTotal(store.get()), 1, 'the Chat tab is not shown');
  store.setViewing(true);
  assert.equal(roomUnreadTotal(store.get()), 0);
  assert.equal(store.addMessage(roomId, { from: 'peer', user: 'bob', text: 'hi', key: '1'.repeat(32) }), null, 'a replayed id is refused');
  store.addInvitation({ room: 'b'.repeat(32), by: 'carol' });
  store.addInvitation({ room: '<script>', by: 'carol' });
  assert.deepEqual(store.get().invitations.map((i) => i.room), ['b'.repeat(32)]);
  assert.equal(store.applyView({ room: 'not-an-id', members: [] }), null);
});

test('a dropped connection: the Worker forgets the room keys; the room is joined again on hello', async () => {
  const { users } = room(['alice', 'bob']);
  users.alice.chat.connectionLost();
  assert.equal(users.alice.store.find(roomId).endReason, 'connection_lost');
  assert.deepEqual(users.alice.workerCalls.at(-1), { type: 'room.leave', payload: { room: roomId } });
  users.alice.chat.handleServerMessage({ type: 'hello', user: { userid: 1, username: 'alice', role: 'user' } });
  assert.deepEqual(users.alice.controls.at(-1), { type: 'room_join', room: roomId });
});

test('lines the Worker could not open are said once a minute per room and reason', () => {
  const { users } = room(['alice', 'bob']);
  for (let i = 0; i < 5; i += 1) users.alice.chat.undecryptable({ room: roomId, reason: 'unknown_key' });
  users.alice.chat.undecryptable({ room: roomId, reason: 'bad_signature' });
  users.alice.chat.undecryptable({ room: 'c'.repeat(32), reason: 'bad_signature' });
  assert.deepEqual(systemKeys(users.alice).filter((key) => key === 'chat.system.room_undecryptable').length, 2);
});

test('a counter gap is one line "n lines from <nick> did not arrive"; refused keys and old versions are named', () => {
  const { users } = room(['alice', 'bob']);
  users.alice.chat.undecryptable({ room: roomId, reason: 'missing', from: 'bob', count: 3 });
  users.alice.chat.undecryptable({ room: roomId, reason: 'missing', from: 'bob', count: 1 });
  users.alice.chat.undecryptable({ room: roomId, reason: 'foreign_key', from: 'bob' });
  users.alice.chat.undecryptable({ room: roomId, reason: 'foreign_key', from: 'bob' });
  users.alice.chat.undecryptable({ room: roomId, reason: 'old_version', from: 'bob' });
  const said = users.alice.store.find(roomId).messages.filter((m) => m.from === 'system' && m.level === 'error');
  assert.deepEqual(said.map((m) => [m.messageKey, m.params.count ?? null, m.params.name]), [
    ['chat.system.room_lines_missing', 3, 'bob'], ['chat.system.room_lines_missing', 1, 'bob'],
    ['chat.system.room_key_refused', null, 'bob'], ['chat.system.room_old_version', null, 'bob'],
  ]);
});

test('re-admission: only a join the page showed readmits; a removed member reappearing in a full list is named once', async () => {
  const { users, server } = room(['alice', 'bob', 'carol']);
  server.members = ['alice', 'bob'];
  users.alice.chat.handleServerMessage(server.view('room_members', { event: 'removed', user: 'carol' }));
  await settle();
  // The server lists Carol again without a join event (a hostile or confused server).
  users.alice.notReadmitted = ['carol'];
  server.members = ['alice', 'bob', 'carol'];
  users.alice.chat.handleServerMessage(server.view('room_who'));
  users.alice.chat.handleServerMessage(server.view('room_members', { event: 'left', user: 'bob' }));
  await settle();
  assert.deepEqual(users.alice.workerCalls.at(-1).payload.readmit, []);
  assert.equal(systemKeys(users.alice).filter((key) => key === 'chat.system.room_not_readmitted').length, 1);
  // A visible join ("carol joined") readmits her.
  users.alice.notReadmitted = [];
  users.alice.chat.handleServerMessage(server.view('room_members', { event: 'joined', user: 'carol' }));
  await settle();
  assert.deepEqual(users.alice.workerCalls.at(-1).payload.readmit, ['carol']);
  assert.ok(systemKeys(users.alice).includes('chat.system.member_joined'));
});

test('/roll: the relay withholds an honest member\'s reveal from one member: that member says it did not arrive, blames nobody', async () => {
  const { users, server } = room(['alice', 'bob', 'carol']);
  server.withhold = (from, to, text) => from === 'bob' && to === 'alice' && JSON.parse(text).kind === 'roll_reveal';
  assert.deepEqual(await users.carol.chat.submit(roomId, '/roll 1d20'), { ok: true });
  for (let i = 0; i < 10; i += 1) { await new Promise((resolve) => setTimeout(resolve, 10)); await settle(); }
  assert.equal(server.held.length, 1, 'bob revealed; the relay kept the copy for alice');
  const results = (name) => users[name].store.find(roomId).messages.filter((m) => m.messageKey === 'chat.roll.result_room');
  assert.equal(results('bob').length, 1);
  assert.equal(results('carol').length, 1);
  assert.deepEqual(results('alice'), []);
  // Past the reveal deadline the relay lets the reveal through: too late to complete the roll.
  server.clock.t += 31_000;
  const [late] = server.held;
  await users.alice.chat.handleRoomText({ room: roomId, from: late.from, frameType: late.frameType, text: late.text });
  await settle();
  const messages = users.alice.store.find(roomId).messages;
  assert.deepEqual(results('alice'), [], 'no result from a late reveal');
  assert.ok(!messages.some((m) => m.messageKey === 'chat.roll.aborted'), 'bob is not named as having aborted');
  const incomplete = messages.filter((m) => m.messageKey === 'chat.roll.incomplete');
  assert.equal(incomplete.length, 1);
  assert.equal(incomplete[0].params.names, 'bob');
});

test('/roll: a spoiled reveal aborts the roll for everyone, naming who; the roll id cannot start again', async () => {
  const { users, server } = room(['alice', 'bob', 'carol']);
  let spoiled = null;
  server.tamper = (from, text) => {
    const envelope = JSON.parse(text);
    if (from !== 'bob' || envelope.kind !== 'roll_reveal') return text;
    spoiled = envelope.roll;
    return JSON.stringify({ ...envelope, contribution: envelope.contribution.replace(/^./, (c) => (c === '0' ? '1' : '0')) });
  };
  assert.deepEqual(await users.alice.chat.submit(roomId, '/roll 2d6'), { ok: true });
  for (let i = 0; i < 10; i += 1) { await new Promise((resolve) => setTimeout(resolve, 10)); await settle(); }
  assert.ok(spoiled, 'bob revealed');
  for (const name of ['alice', 'carol']) {
    const messages = users[name].store.find(roomId).messages;
    assert.ok(!messages.some((m) => m.messageKey === 'chat.roll.result_room'), `${name}: no result`);
    const aborted = messages.filter((m) => m.messageKey === 'chat.roll.aborted');
    assert.equal(aborted.length, 1, name);
    assert.equal(aborted[0].params.names, 'bob');
  }
  // Bob's commitment for the same roll again (a restart to roll once more) is ignored.
  server.tamper = (from, text) => text;
  const commit = server.sent.find((s) => s.from === 'bob' && s.envelope.kind === 'roll_commit');
  const before = server.sent.length;
  await users.alice.chat.handleRoomText({ room: roomId, from: 'bob', frameType: RoomFrameType.control, text: JSON.stringify(commit.envelope) });
  await settle();
  assert.equal(server.sent.length, before, 'no new commitment, no new roll under that id');
});
