// Control-message amplification against the real binary: one account joining and leaving a room
// of 40 listeners as fast as it can used to make the server send each listener the whole member
// list per change (71 KB in, 101 MB out in under 2 s). Now the changes reach the listeners as
// small deltas, every control message is paid for from a per-user token bucket, and the attacker
// is told rate_limited. Also: private rooms per user.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, openWebSocket, register, startServer } from '../helpers/secms-server.mjs';

const LISTENERS = 40;
const MEMBERSHIP_BURST = 40;       // the defaults of [control_limits]
const MEMBERSHIP_PER_MINUTE = 30;
const MAX_DELTA_BYTES = 160;       // one room_member_joined/left (about 120 bytes)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let server;
const sockets = [];

async function connect(name) {
  const { res, cookie } = await login(server, name, `${name} password`);
  assert.equal(res.status, 200, res.body);
  const client = await openWebSocket(server, { cookie });
  await client.next('hello');
  sockets.push(client);
  return client;
}

before(async () => {
  server = await startServer({
    extraArgs: ['--register-per-ip-burst', '1000', '--register-per-ip-per-minute', '1000',
      '--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000'],
    logLevel: 'warn',
  });
  const names = ['attacker', 'owner', ...Array.from({ length: LISTENERS }, (_, i) => `listener${i}`)];
  for (const name of names) assert.equal((await register(server, name, `${name} password`)).status, 201);
});

after(async () => {
  for (const c of sockets) c.ws.terminate();
  await server?.stop();
});

describe('control-message limits', { timeout: 180_000 }, () => {
  test('join/leave flooding a room of 40 listeners is bounded and answered with rate_limited', async () => {
    const listeners = [];
    for (let i = 0; i < LISTENERS; i += 1) {
      const client = await connect(`listener${i}`);
      client.send({ type: 'room_join', room: 'crowd' });
      await client.next('room_joined');
      listeners.push(client);
    }
    const attacker = await connect('attacker');
    await sleep(300);   // the presence update of the attacker's arrival is not part of the attack
    let delivered = 0;
    for (const client of listeners) client.ws.on('message', (data) => { delivered += data.length; });

    let sent = 0;
    let sentBytes = 0;
    const started = Date.now();
    while (Date.now() - started < 2_000) {
      for (const type of ['room_join', 'room_leave']) {
        const text = JSON.stringify({ type, room: 'crowd' });
        attacker.ws.send(text);
        sent += 1;
        sentBytes += text.length;
      }
      await sleep(2);
    }
    await sleep(1_500);   // let everything queued arrive
    const seconds = (Date.now() - started) / 1000;

    const refusals = attacker.messages.filter((m) => m.type === 'error' && m.error?.code === 'rate_limited');
    assert.ok(refusals.length > 0, 'the attacker is told rate_limited');
    assert.ok(Number.isInteger(refusals[0].error.retry_after) && refusals[0].error.retry_after >= 1);
    assert.ok(['room_join', 'room_leave'].includes(refusals[0].request));
    const admitted = attacker.messages.filter((m) => m.type === 'room_joined' || m.type === 'room_left').length;
    const bound = Math.ceil(MEMBERSHIP_BURST + (MEMBERSHIP_PER_MINUTE * seconds) / 60) + 1;
    assert.ok(admitted <= bound, `${admitted} joins/leaves admitted, at most ${bound} expected`);
    assert.ok(sent > 4 * bound, `the attacker sent ${sent} requests (${sentBytes} bytes)`);
    // Each admitted change reaches each listener as one small delta.
    assert.ok(delivered <= bound * LISTENERS * MAX_DELTA_BYTES,
      `${delivered} bytes reached the listeners, at most ${bound * LISTENERS * MAX_DELTA_BYTES} expected`);
    assert.ok(delivered < 2 * 1024 * 1024);
    console.log(`# attacker sent ${sent} requests (${sentBytes} bytes) in ${seconds.toFixed(1)} s: ${admitted} admitted, ${refusals.length} rate_limited, ${delivered} bytes to ${LISTENERS} listeners`);
    const changes = listeners[0].messages.filter((m) => m.user === 'attacker');
    assert.ok(changes.length > 0 && changes.length <= bound);
    assert.ok(changes.every((m) => ['room_member_joined', 'room_member_left'].includes(m.type) && !('members' in m)), JSON.stringify(changes[0]));
    assert.equal(listeners[0].messages.filter((m) => m.type === 'room_members').length, 1, 'only the own join carried the list');
  });

  test('one account may own only a few private rooms; public rooms stay available', async () => {
    const owner = await connect('owner');
    const codes = [];
    for (let i = 0; i < 12; i += 1) {
      owner.send({ type: 'room_join' });
      let answer;
      do answer = await owner.next(); while (answer.type !== 'room_joined' && answer.type !== 'error');
      codes.push(answer.type === 'room_joined' ? 'ok' : answer.error.code);
    }
    assert.deepEqual(codes, [...Array(8).fill('ok'), ...Array(4).fill('too_many_private_rooms')]);
    owner.send({ type: 'room_join', room: 'stillpublic' });
    assert.equal((await owner.next('room_joined')).name, 'stillpublic');
  });
});
