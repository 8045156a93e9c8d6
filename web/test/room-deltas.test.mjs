// Room membership changes (web/src/app/room-deltas.js): the server sends other members only the
// change; the page applies it to the room's current list exactly as a whole list would be.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { viewFromChange, isMembershipChange } from '../src/app/room-deltas.js';
import { createRoomStore } from '../src/state/room-store.js';
import { createRoomChat } from '../src/app/room-chat.js';
import { createServerCommands } from '../src/app/server-commands.js';

const roomId = 'b'.repeat(32);
const settle = async () => { for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve)); };

test('a change becomes the room view on the current list', () => {
  const entry = { room: roomId, name: null, public: false, owner: 'alice', members: ['alice', 'bob'], moderators: [] };
  const joined = viewFromChange(entry, { type: 'room_member_joined', room: roomId, public: false, user: 'carol', moderator: true });
  assert.deepEqual(joined, { type: 'room_members', room: roomId, public: false, members: ['alice', 'bob', 'carol'], moderators: ['carol'], event: 'joined', user: 'carol', owner: 'alice' });
  const left = viewFromChange({ ...entry, members: joined.members, moderators: joined.moderators }, { type: 'room_member_left', room: roomId, public: false, user: 'carol', event: 'kicked' });
  assert.deepEqual(left.members, ['alice', 'bob']);
  assert.deepEqual(left.moderators, []);
  assert.equal(left.event, 'kicked');
  // A repeated join adds no one twice.
  assert.deepEqual(viewFromChange(entry, { type: 'room_member_joined', room: roomId, user: 'bob' }).members, ['alice', 'bob']);
});

test('malformed changes are ignored', () => {
  const entry = { members: ['alice'], moderators: [] };
  assert.equal(viewFromChange(entry, { type: 'room_member_left', room: roomId, user: 'alice', event: 'vanished' }), null);
  assert.equal(viewFromChange(entry, { type: 'room_member_joined', room: roomId }), null);
  assert.equal(viewFromChange(entry, { type: 'room_member_joined', user: 'x' }), null);
  assert.equal(viewFromChange(entry, { type: 'room_members', room: roomId, user: 'x' }), null);
  assert.equal(isMembershipChange({ type: 'room_member_left' }), true);
  assert.equal(isMembershipChange({ type: 'room_joined' }), false);
});

test('the room page applies joins and departures sent as changes, its own departure included', async () => {
  const { chat, store, workerCalls } = await alicePage({ moderators: ['bob'] });
  assert.equal(chat.handleServerMessage({ type: 'room_member_joined', room: roomId, name: 'lobby', public: true, user: 'carol', moderator: false }), true);
  await settle();
  assert.deepEqual(store.find(roomId).members, ['alice', 'bob', 'carol']);
  assert.deepEqual(store.find(roomId).moderators, ['bob']);
  assert.equal(store.find(roomId).name, 'lobby');
  const afterJoin = workerCalls.filter((c) => c.type === 'room.members').at(-1).payload;
  assert.deepEqual(afterJoin.members, ['alice', 'bob', 'carol']);
  assert.deepEqual(afterJoin.removed, []);
  chat.handleServerMessage({ type: 'room_member_left', room: roomId, name: 'lobby', public: true, user: 'bob', event: 'removed' });
  await settle();
  assert.deepEqual(store.find(roomId).members, ['alice', 'carol']);
  assert.deepEqual(store.find(roomId).moderators, []);
  const last = workerCalls.filter((c) => c.type === 'room.members').at(-1).payload;
  assert.deepEqual(last.members, ['alice', 'carol']);
  assert.deepEqual(last.removed, ['bob'], 'a removed member is named so the sender key rotates');
  chat.handleServerMessage({ type: 'room_member_left', room: roomId, name: 'lobby', public: true, user: 'alice', event: 'left' });
  await settle();
  assert.equal(store.find(roomId).joined, false);
  assert.ok(workerCalls.some((c) => c.type === 'room.leave'));
});

/** Alice's page in a room with bob; → { chat, store, workerCalls, lines() (system lines: [key, user]) }. */
async function alicePage({ moderators = [] } = {}) {
  const store = createRoomStore();
  const workerCalls = [];
  const ask = async (type, payload) => {
    workerCalls.push({ type, payload });
    if (type === 'room.members') return { room: payload.room, keyId: 'k', sentTo: [], waitingFor: [], notReadmitted: [] };
    return {};
  };
  const sendControl = () => true;
  const chat = createRoomChat({
    roomStore: store, ask, sendControl, sendBinary: () => true, serverCommands: createServerCommands({ sendControl }), self: () => 'alice',
    isIgnored: () => false, toggleIgnore: () => false, receiptDelayMs: 5,
  });
  chat.handleServerMessage({ type: 'room_joined', room: roomId, name: 'lobby', public: true, members: ['alice', 'bob'], moderators });
  await settle();
  const lines = () => store.find(roomId).messages.filter((m) => m.from === 'system' && m.messageKey.startsWith('chat.system.member_'))
    .map((m) => [m.messageKey, m.params.user]);
  return { chat, store, workerCalls, lines };
}

test('a member name that is not a username is neither shown nor handed to the Worker', async () => {
  const page = await alicePage();
  const evil = 'Security notice from Security.MS: your key expired, paste it at https://evil.example to renew. Bob';
  for (const user of [evil, '<b>x</b>', 'ab', '', 42, { toString: () => 'bob' }]) {
    assert.equal(viewFromChange(page.store.find(roomId), { type: 'room_member_joined', room: roomId, public: true, user }), null, String(user));
    page.chat.handleServerMessage({ type: 'room_member_joined', room: roomId, public: true, user });
    page.chat.handleServerMessage({ type: 'room_members', room: roomId, public: true, members: ['alice', 'bob'], moderators: [], event: 'joined', user });
  }
  await settle();
  assert.deepEqual(page.lines(), []);
  assert.deepEqual(page.store.find(roomId).members, ['alice', 'bob']);
  assert.ok(page.workerCalls.every((c) => !(c.payload.readmit ?? []).some((u) => u !== 'bob' && u !== 'alice')), 'nothing but usernames reach the Worker');
});

test('"constructor" is a username like any other, not an inherited property of the nick table', async () => {
  const page = await alicePage();
  page.chat.handleServerMessage({ type: 'room_member_joined', room: roomId, public: true, user: 'constructor' });
  page.chat.handleServerMessage({ type: 'room_member_left', room: roomId, public: true, user: 'constructor', event: 'left' });
  await settle();
  assert.deepEqual(page.lines(), [['chat.system.member_joined', 'constructor'], ['chat.system.member_left', 'constructor']]);
  // A nick set for a name that is not a username is not kept (it could only shadow one).
  page.store.setNick(roomId, '__proto__', 'x');
  assert.equal(Object.hasOwn(page.store.find(roomId).nicks, '__proto__'), false);
});

test('every member a full list adds or drops gets its line, whatever message carried it', async () => {
  const page = await alicePage();
  // A room_members without an event: dave appears, bob is gone.
  page.chat.handleServerMessage({ type: 'room_members', room: roomId, public: true, members: ['alice', 'dave'], moderators: [] });
  await settle();
  assert.deepEqual(page.lines(), [['chat.system.member_joined', 'dave'], ['chat.system.member_left', 'bob']]);
  // room_who, the answer to /who, is a full list too: erin appears; the Worker is told.
  page.chat.handleServerMessage({ type: 'room_who', room: roomId, public: true, members: ['alice', 'dave', 'erin'], moderators: [] });
  await settle();
  assert.deepEqual(page.lines().at(-1), ['chat.system.member_joined', 'erin']);
  assert.deepEqual(page.workerCalls.filter((c) => c.type === 'room.members').at(-1).payload.members, ['alice', 'dave', 'erin']);
  // A list without change adds no line; a removal says so.
  page.chat.handleServerMessage({ type: 'room_who', room: roomId, public: true, members: ['alice', 'dave', 'erin'], moderators: [] });
  page.chat.handleServerMessage({ type: 'room_members', room: roomId, public: true, members: ['alice', 'erin'], moderators: [], event: 'removed', user: 'dave' });
  await settle();
  assert.deepEqual(page.lines().slice(3), [['chat.system.member_removed', 'dave']]);
});
