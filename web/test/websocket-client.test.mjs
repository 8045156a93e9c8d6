import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWebSocketClient, sessionEndedCloseCode, wsSubprotocol } from '../src/net/websocket-client.js';

/** Fake WebSocket class recording instances; the test opens, feeds and closes them. */
function fakeSocketClass() {
  const instances = [];
  class FakeWebSocket {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.sent = [];
      this.closedWith = null;
      instances.push(this);
    }
    send(data) { this.sent.push(data); }
    close(code, reason) { this.closedWith = { code, reason }; }
    serverOpens() { this.onopen?.({}); }
    serverSends(message) { this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) }); }
    serverCloses(code) { this.onclose?.({ code }); }
  }
  return { FakeWebSocket, instances };
}

/** Manual timers: run() fires the earliest pending one. */
function fakeTimers() {
  let nextId = 1;
  const pending = new Map();
  return {
    setTimer: (fn, ms) => { const id = nextId++; pending.set(id, { fn, ms }); return id; },
    clearTimer: (id) => pending.delete(id),
    delays: () => [...pending.values()].map((t) => t.ms),
    runNext() {
      const [id, timer] = [...pending.entries()].sort((a, b) => a[1].ms - b[1].ms)[0];
      pending.delete(id);
      timer.fn();
    },
    count: () => pending.size,
  };
}

function setup(extra = {}) {
  const { FakeWebSocket, instances } = fakeSocketClass();
  const timers = fakeTimers();
  const statuses = [];
  const messages = [];
  const events = [];
  const client = createWebSocketClient({
    url: 'wss://localhost:8443/ws',
    WebSocketImpl: FakeWebSocket,
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
    random: () => 0,
    keepAliveMs: 0,
    onStatus: (s) => statuses.push(s),
    onMessage: (m) => messages.push(m),
    onSessionEnded: () => events.push('session-ended'),
    onConnectFailure: (info) => events.push(['connect-failure', info.consecutiveFailures]),
    ...extra,
  });
  return { client, instances, timers, statuses, messages, events };
}

test('connects with the secms.v1 subprotocol and goes online', () => {
  const { client, instances, statuses } = setup();
  client.start();
  assert.equal(instances.length, 1);
  assert.equal(instances[0].protocol, wsSubprotocol);
  assert.equal(instances[0].url, 'wss://localhost:8443/ws');
  assert.equal(client.status, 'connecting');
  instances[0].serverOpens();
  assert.deepEqual(statuses, ['connecting', 'online']);
});

test('JSON control messages are delivered; junk and binary frames are dropped', () => {
  const { client, instances, messages } = setup();
  client.start();
  instances[0].serverOpens();
  instances[0].serverSends({ type: 'hello', user: { userid: 1, username: 'alice' } });
  instances[0].serverSends('not json');
  instances[0].serverSends('[1,2]');
  instances[0].onmessage({ data: new ArrayBuffer(4) });
  assert.deepEqual(messages.map((m) => m.type), ['hello']);
});

test('after a drop it reconnects with growing delays and resets after success', () => {
  const { client, instances, timers, statuses } = setup();
  client.start();
  instances[0].serverOpens();
  instances[0].serverCloses(1006);
  assert.equal(client.status, 'reconnecting');
  assert.deepEqual(timers.delays(), [250]);   // attempt 1, random 0: half of 500
  timers.runNext();
  assert.equal(instances.length, 2);
  instances[1].serverCloses(1006);             // failed before opening
  assert.deepEqual(timers.delays(), [500]);   // attempt 2
  timers.runNext();
  instances[2].serverCloses(1006);
  assert.deepEqual(timers.delays(), [1000]);  // attempt 3
  timers.runNext();
  instances[3].serverOpens();
  assert.equal(client.status, 'online');
  instances[3].serverCloses(1001);
  assert.deepEqual(timers.delays(), [250], 'backoff starts over after a successful open');
  assert.deepEqual(statuses, ['connecting', 'online', 'reconnecting', 'online', 'reconnecting']);
});

test('consecutive failed attempts are reported so the app can check the login', () => {
  const { client, instances, timers, events } = setup();
  client.start();
  instances[0].serverCloses(1006);
  timers.runNext();
  instances[1].serverCloses(1006);
  assert.deepEqual(events, [['connect-failure', 1], ['connect-failure', 2]]);
});

test('close code 4401 ends the session: no reconnect, status offline', () => {
  const { client, instances, timers, events } = setup();
  client.start();
  instances[0].serverOpens();
  instances[0].serverCloses(sessionEndedCloseCode);
  assert.equal(client.status, 'offline');
  assert.equal(timers.count(), 0);
  assert.deepEqual(events, ['session-ended']);
});

test('stop() closes normally and cancels a pending retry', () => {
  const { client, instances, timers } = setup();
  client.start();
  instances[0].serverOpens();
  client.stop('logout');
  assert.deepEqual(instances[0].closedWith, { code: 1000, reason: 'logout' });
  assert.equal(client.status, 'offline');
  instances[0].serverCloses(1000);               // late close event: ignored
  assert.equal(timers.count(), 0);

  client.start();
  instances[1].serverCloses(1006);
  assert.equal(timers.count(), 1);
  client.stop();
  assert.equal(timers.count(), 0);
  assert.equal(instances.length, 2);
});

test('send() only while online', () => {
  const { client, instances } = setup();
  client.start();
  assert.equal(client.send({ type: 'ping' }), false);
  instances[0].serverOpens();
  assert.equal(client.send({ type: 'ping' }), true);
  assert.deepEqual(instances[0].sent, ['{"type":"ping"}']);
});

test('keep-alive pings, and a silent connection is dropped and retried', () => {
  let clock = 0;
  const { client, instances, timers } = setup({ keepAliveMs: 1000, now: () => clock });
  client.start();
  instances[0].serverOpens();
  clock = 1000;
  timers.runNext();
  assert.deepEqual(instances[0].sent, ['{"type":"ping"}']);
  clock = 3500;                                   // nothing received for > 2 intervals
  timers.runNext();
  assert.equal(instances[0].closedWith.code, 4000);
  assert.equal(client.status, 'reconnecting');
});

test('options are checked', () => {
  assert.throws(() => createWebSocketClient({ url: 'wss://x/ws', retries: 3 }), /unknown option retries/);
  assert.throws(() => createWebSocketClient({}), /url must be a string/);
  assert.throws(() => createWebSocketClient(), /options object required/);
});
