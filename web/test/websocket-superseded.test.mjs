// One app window per account: the server closes an older app WebSocket of the account with 4409
// "superseded" when a newer one takes over. The client must not reconnect on its own (two
// windows would take the socket from each other for ever); start() ("Use here") takes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWebSocketClient, supersededCloseCode } from '../src/net/websocket-client.js';

function setup() {
  const instances = [];
  class FakeWebSocket {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      instances.push(this);
    }
    send() {}
    close(code, reason) { this.closedWith = { code, reason }; }
  }
  const timers = new Map();
  let nextTimer = 1;
  const statuses = [];
  const events = [];
  const client = createWebSocketClient({
    url: 'wss://localhost:8443/ws',
    WebSocketImpl: FakeWebSocket,
    setTimer: (fn, ms) => { const id = nextTimer++; timers.set(id, { fn, ms }); return id; },
    clearTimer: (id) => timers.delete(id),
    random: () => 0,
    keepAliveMs: 0,
    onStatus: (s) => statuses.push(s),
    onSessionEnded: () => events.push('session-ended'),
    onSuperseded: () => events.push('superseded'),
    onConnectFailure: () => events.push('connect-failure'),
  });
  const runAllTimers = () => {
    for (let round = 0; round < 20 && timers.size > 0; round++) {
      for (const [id, timer] of [...timers]) {
        timers.delete(id);
        timer.fn();
      }
    }
  };
  return { client, instances, timers, statuses, events, runAllTimers };
}

test('the close code is 4409', () => {
  assert.equal(supersededCloseCode, 4409);
});

test('4409 stops the client: status offline, onSuperseded once, no retry timer, no new socket', () => {
  const { client, instances, timers, statuses, events, runAllTimers } = setup();
  client.start();
  instances[0].onopen({});
  instances[0].onclose({ code: supersededCloseCode, reason: 'superseded' });
  assert.equal(client.status, 'offline');
  assert.deepEqual(events, ['superseded']);
  assert.equal(timers.size, 0, 'no reconnect is scheduled');
  runAllTimers();
  assert.equal(instances.length, 1, 'no new socket was opened');
  assert.deepEqual(statuses, ['connecting', 'online', 'offline']);
  assert.equal(client.send({ type: 'ping' }), false, 'nothing is sent on a superseded client');
});

test('a 4409 on a socket that never opened does not count as a connection failure', () => {
  const { client, instances, timers, events } = setup();
  client.start();
  instances[0].onclose({ code: supersededCloseCode });
  assert.deepEqual(events, ['superseded']);
  assert.equal(timers.size, 0);
});

test('start() after 4409 ("Use here") opens one new socket and goes online; being superseded again stops again', () => {
  const { client, instances, timers, statuses, events } = setup();
  client.start();
  instances[0].onopen({});
  instances[0].onclose({ code: supersededCloseCode });
  client.start();
  assert.equal(instances.length, 2);
  assert.equal(client.status, 'reconnecting');
  instances[1].onopen({});
  assert.equal(client.status, 'online');
  instances[1].onclose({ code: supersededCloseCode });
  assert.equal(client.status, 'offline');
  assert.equal(timers.size, 0);
  assert.equal(instances.length, 2);
  assert.deepEqual(events, ['superseded', 'superseded']);
  assert.deepEqual(statuses, ['connecting', 'online', 'offline', 'reconnecting', 'online', 'offline']);
});

test('other close codes still reconnect (the rule is about 4409 only)', () => {
  const { client, instances, timers, events } = setup();
  client.start();
  instances[0].onopen({});
  instances[0].onclose({ code: 4408 });
  assert.equal(client.status, 'reconnecting');
  assert.equal(timers.size, 1);
  assert.deepEqual(events, []);
});
