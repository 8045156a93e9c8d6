// Chat rooms over the real binary: membership, fan-out of room frames (type 3) to the other
// members, moderation (kick = timed ban, bans list, unban, whois), the moderators named in room
// views, room_sent for control frames (type 4), bans surviving a restart, flood control and the
// message length limit. The frame bodies are stand-ins: the server never reads them.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { login, openWebSocket, register, runServerCommand, startServer } from '../helpers/secms-server.mjs';

const FLOOD = 5;
const CHARS = 100;
const extraArgs = [
  '--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000',
  '--chat-flood-per-minute', String(FLOOD),
  '--chat-max-message-chars', String(CHARS),
];
const users = {
  roomalice: 'roomalice password',
  roombob: 'roombob password',
  roomcarol: 'roomcarol password',
  roommod: 'roommod password',
};

let dataDir;
let server;
const clients = {};

function roomFrame(type, roomId, sequence, body) {
  const header = Buffer.alloc(41);
  header[0] = type;
  header.write(roomId, 1, 'ascii');
  header.writeBigUInt64BE(BigInt(sequence), 33);
  return Buffer.concat([header, Buffer.from(body)]);
}

async function connect(name) {
  const { res, cookie } = await login(server, name, users[name]);
  assert.equal(res.status, 200, res.body);
  const client = await openWebSocket(server, { cookie });
  await client.next('hello');
  clients[name] = client;
  return client;
}

async function join(client, room) {
  client.send({ type: 'room_join', room });
  return client.next('room_joined');
}

before(async () => {
  const first = await startServer({ extraArgs });
  dataDir = first.dataDir;
  for (const [name, pw] of Object.entries(users)) {
    assert.equal((await register(first, name, pw)).status, 201);
  }
  assert.equal((await first.stop({ keepDataDir: true })).code, 0);
  const r = await runServerCommand(['--data-dir', dataDir, '--log-level', 'warn', 'user', 'role', 'roommod', 'moderator']);
  assert.equal(r.code, 0, r.stderr);
  server = await startServer({ dataDir, extraArgs });
});

after(async () => {
  for (const c of Object.values(clients)) c.ws.terminate();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('chat rooms', { timeout: 60_000 }, () => {
  let roomId;

  test('three users join a public room; a frame reaches the other two unchanged', async () => {
    const alice = await connect('roomalice');
    const bob = await connect('roombob');
    const carol = await connect('roomcarol');
    const joined = await join(alice, 'tea');
    roomId = joined.room;
    assert.match(roomId, /^[0-9a-f]{32}$/);
    assert.equal(joined.public, true);
    await join(bob, 'tea');
    const third = await join(carol, 'Tea');
    assert.equal(third.room, roomId);
    assert.deepEqual(third.members, ['roomalice', 'roombob', 'roomcarol']);
    let event;
    // The others get the change alone; the list went to the joiner.
    do event = await alice.next('room_member_joined'); while (event.user !== 'roomcarol');
    assert.equal(event.room, roomId);
    assert.equal(event.moderator, false);
    assert.equal(event.members, undefined);

    const frame = roomFrame(3, roomId, 0, 'opaque ciphertext 0');
    alice.send(frame);
    assert.deepEqual((await alice.next('room_sent')), { type: 'room_sent', room: roomId, sequence: 0 });
    assert.ok((await bob.next('<binary>')).data.equals(frame));
    assert.ok((await carol.next('<binary>')).data.equals(frame));
    assert.equal(alice.messages.filter((m) => m.type === '<binary>').length, 0, 'not echoed to the sender');

    alice.send({ type: 'room_list' });
    const list = await alice.next('room_list');
    assert.deepEqual(list.rooms.find((r) => r.name === 'tea'), { room: roomId, name: 'tea', members: 3 });
  });

  test('a frame with a gap is refused; a non-member cannot send', async () => {
    clients.roomalice.send(roomFrame(3, roomId, 7, 'gap'));
    const e = await clients.roomalice.next('error');
    assert.equal(e.error.code, 'out_of_order');
    assert.equal(e.room, roomId);
    const mod = await connect('roommod');
    mod.send(roomFrame(3, roomId, 0, 'x'));
    assert.equal((await mod.next('error')).error.code, 'not_a_member');
  });

  test('a message over the length limit is refused', async () => {
    const bob = clients.roombob;
    bob.send(roomFrame(3, roomId, 0, 'x'.repeat(CHARS * 4 + 1024 + 1)));
    assert.equal((await bob.next('error')).error.code, 'message_too_long');
    bob.send(roomFrame(3, roomId, 0, 'x'.repeat(CHARS * 4 + 1024)));
    assert.equal((await bob.next('room_sent')).sequence, 0);
  });

  test(`flood control: message ${FLOOD + 1} within a minute is refused with retry_after`, async () => {
    const alice = clients.roomalice;
    for (let seq = 1; seq < FLOOD; seq += 1) {  // one was sent already
      alice.send(roomFrame(3, roomId, seq, `m${seq}`));
      assert.equal((await alice.next('room_sent')).sequence, seq);
    }
    alice.send(roomFrame(3, roomId, FLOOD, 'one too many'));
    const e = await alice.next('error');
    assert.equal(e.error.code, 'flood_limited');
    assert.ok(e.error.retry_after >= 1 && e.error.retry_after <= 60, JSON.stringify(e));
  });

  test('whois shows IP addresses to moderators only', async () => {
    clients.roombob.send({ type: 'mod_whois', user: 'roomalice' });
    assert.equal((await clients.roombob.next('error')).error.code, 'forbidden');
    clients.roommod.send({ type: 'mod_whois', user: 'roomalice' });
    const w = await clients.roommod.next('mod_whois');
    assert.deepEqual(w.addresses, ['127.0.0.1']);
    assert.equal(w.role, 'user');
    assert.equal(w.rooms[0].room, roomId);
  });

  test('a moderator kicks for 1 minute: removed, banned, listed; unban lets them rejoin', async () => {
    const { roomalice: alice, roomcarol: carol, roommod: mod } = clients;
    carol.send({ type: 'mod_kick', user: 'roomalice', minutes: 1 });
    assert.equal((await carol.next('error')).error.code, 'forbidden');

    mod.send({ type: 'mod_kick', user: 'roomcarol', minutes: 1 });
    const kicked = await mod.next('mod_kicked');
    assert.equal(kicked.user, 'roomcarol');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(kicked.until - (now + 60)) <= 5);
    let event;
    do event = await alice.next('room_member_left'); while (event.event !== 'kicked');
    assert.equal(event.user, 'roomcarol');
    alice.send({ type: 'room_who', room: roomId });
    assert.deepEqual((await alice.next('room_who')).members, ['roomalice', 'roombob']);
    assert.equal((await carol.next('room_banned')).until, kicked.until);

    carol.send({ type: 'room_join', room: 'tea' });
    const refused = await carol.next('error');
    assert.equal(refused.error.code, 'banned');
    assert.equal(refused.error.until, kicked.until);

    mod.send({ type: 'mod_bans' });
    const bans = await mod.next('mod_bans');
    assert.deepEqual(bans.bans.map((b) => [b.user, b.by]), [['roomcarol', 'roommod']]);

    mod.send({ type: 'mod_unban', user: 'roomcarol' });
    assert.equal((await mod.next('mod_unbanned')).user, 'roomcarol');
    assert.equal((await join(carol, 'tea')).room, roomId);
  });

  test('a control frame (type 4) is forwarded and answered with room_sent control:true', async () => {
    const { roomalice: alice, roombob: bob, roomcarol: carol } = clients;
    // carol rejoined after her unban, so her sequence starts again at 0.
    const frame = roomFrame(4, roomId, 0, 'opaque deletion request');
    carol.send(frame);
    assert.deepEqual(await carol.next('room_sent'), { type: 'room_sent', room: roomId, sequence: 0, control: true });
    for (const other of [alice, bob]) {
      let got;
      do got = await other.next('<binary>'); while (!got.data.equals(frame));
    }
    // Control and message frames share one sequence.
    const message = roomFrame(3, roomId, 1, 'opaque ciphertext');
    carol.send(message);
    assert.deepEqual(await carol.next('room_sent'), { type: 'room_sent', room: roomId, sequence: 1 });
  });

  test('room views name the moderators among the members', async () => {
    const { roomalice: alice, roombob: bob, roommod: mod } = clients;
    bob.send({ type: 'room_who', room: roomId });
    assert.deepEqual((await bob.next('room_who')).moderators, []);

    const joined = await join(mod, 'tea');
    assert.deepEqual(joined.members, ['roomalice', 'roombob', 'roomcarol', 'roommod']);
    assert.deepEqual(joined.moderators, ['roommod']);
    let event;
    do event = await alice.next('room_member_joined'); while (event.user !== 'roommod');
    assert.equal(event.moderator, true);
    bob.send({ type: 'room_who', room: 'tea' });
    assert.deepEqual((await bob.next('room_who')).moderators, ['roommod']);

    mod.send({ type: 'room_leave', room: roomId });
    await mod.next('room_left');
    do event = await alice.next('room_member_left'); while (event.user !== 'roommod' || event.event !== 'left');
    alice.send({ type: 'room_who', room: roomId });
    assert.deepEqual((await alice.next('room_who')).moderators, []);
  });

  test('a ban survives a server restart', async () => {
    clients.roommod.send({ type: 'mod_kick', user: 'roomcarol', minutes: 10 });
    const kicked = await clients.roommod.next('mod_kicked');
    for (const name of Object.keys(clients)) {
      clients[name].ws.terminate();
      delete clients[name];
    }
    assert.equal((await server.stop()).code, 0);
    server = await startServer({ dataDir, extraArgs });
    const carol = await connect('roomcarol');
    carol.send({ type: 'room_join', room: 'lobby' });
    const refused = await carol.next('error');
    assert.equal(refused.error.code, 'banned');
    assert.equal(refused.error.until, kicked.until);
    const mod = await connect('roommod');
    mod.send({ type: 'mod_bans' });
    assert.deepEqual((await mod.next('mod_bans')).bans.map((b) => b.user), ['roomcarol']);
  });
});
