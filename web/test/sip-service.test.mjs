// The page side of the phone: SIP off on the server (404) loads nothing, the address is checked
// before dialling, and the call alerts follow a ringing SIP call when no end-to-end call is on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSipService, createSipStore } from '../src/sip/sip-service.js';
import { alertingSnapshot, toneFor } from '../src/app/call-alerts.js';

const credentials = {
  aor: 'sip:alice@localhost', user: 'alice', domain: 'localhost', websocketUrl: 'wss://localhost:7443',
  authorizationUsername: `${Math.floor(Date.now() / 1000) + 3600}:alice`, password: 'cHc=', expiresAt: Math.floor(Date.now() / 1000) + 3600, ttl: 3600,
};

test('SIP off on the server: the section says so and SIP.js is never loaded', async () => {
  const store = createSipStore();
  let loaded = 0;
  const service = createSipService({
    store, api: { credentials: async () => { throw Object.assign(new Error('off'), { status: 404, code: 'not_enabled' }); } },
    loadPhone: async () => { loaded += 1; return {}; }, otherCallActive: () => false, selectedDevices: () => ({}), env: {},
  });
  await service.actions.start();
  assert.equal(store.get().status, 'not_enabled');
  assert.equal(loaded, 0);
});

test('dialling checks the address, then the registration, then hands the URI to the phone', async () => {
  const store = createSipStore();
  const dialled = [];
  const service = createSipService({
    store, api: { credentials: async () => credentials },
    loadPhone: async () => ({
      startSipPhone: async ({ update }) => {
        update({ account: { aor: credentials.aor, user: 'alice', domain: 'localhost' }, registration: { state: 'registering', reason: null } });
        return { actions: { dial: (uri, options) => { dialled.push([uri, options.video]); return 'calling'; } }, stop: async () => {} };
      },
    }),
    otherCallActive: () => false, selectedDevices: () => ({}), env: {},
  });
  await service.actions.start();
  assert.equal(store.get().status, 'ready');
  assert.deepEqual(service.actions.dial('b ob'), { error: 'user' });
  assert.deepEqual(service.actions.dial('1000'), { error: 'not_registered' });
  store.set({ ...store.get(), registration: { state: 'registered', reason: null } });
  assert.deepEqual(service.actions.dial('1000', { video: true }), { uri: 'sip:1000@localhost', result: 'calling' });
  assert.deepEqual(dialled, [['sip:1000@localhost', true]]);
  await service.actions.stop();
  assert.equal(store.get().status, 'stopped');
  assert.equal(store.get().registration.state, 'off');
});

test('the ringtone follows a ringing SIP call unless an end-to-end call is on', () => {
  const sipRinging = { call: { id: 'sip-1', phase: 'incoming', direction: 'incoming', peer: { username: 'bob@localhost' } } };
  assert.equal(toneFor(alertingSnapshot({ call: null }, sipRinging)), 'ring');
  assert.equal(toneFor(alertingSnapshot({ call: null }, { call: { ...sipRinging.call, phase: 'ringing', direction: 'outgoing' } })), 'ringback');
  const e2e = { call: { id: 'c1', phase: 'connected', direction: 'outgoing' } };
  assert.equal(toneFor(alertingSnapshot(e2e, sipRinging)), null, 'the end-to-end call in progress wins');
  assert.equal(alertingSnapshot({ call: null }, null).call, null);
});

/** A service whose phone records its starts and stops (stop = hang up and unregister). */
function recordingService() {
  const store = createSipStore();
  const log = [];
  let phones = 0;
  let releaseLoad = null;
  const service = createSipService({
    store, api: { credentials: async () => credentials },
    loadPhone: async () => {
      if (releaseLoad === 'hold') await new Promise((resolve) => { releaseLoad = resolve; });
      return {
        startSipPhone: async ({ update }) => {
          const id = ++phones;
          log.push(`start ${id}`);
          update({ registration: { state: 'registered', reason: null } });
          return { actions: {}, stop: async () => { log.push(`stop ${id}`); } };
        },
      };
    },
    otherCallActive: () => false, selectedDevices: () => ({}), env: {},
  });
  return { store, log, service, holdLoad: () => { releaseLoad = 'hold'; }, releaseLoad: () => releaseLoad?.() };
}

test('a window taken over pauses the phone (unregisters) and "Use here" starts it again', async () => {
  const { store, log, service } = recordingService();
  await service.actions.start();
  assert.equal(store.get().registration.state, 'registered');
  await service.actions.pause();
  assert.deepEqual(log, ['start 1', 'stop 1']);
  assert.equal(store.get().registration.state, 'off');
  await service.actions.start();
  assert.deepEqual(log, ['start 1', 'stop 1'], 'the VoIP tab shown while paused starts nothing');
  await service.actions.resume();
  assert.deepEqual(log, ['start 1', 'stop 1', 'start 2']);
  assert.equal(store.get().status, 'ready');
  // A logout while paused is final: resume() does nothing after stop().
  await service.actions.pause();
  await service.actions.stop();
  await service.actions.resume();
  assert.deepEqual(log, ['start 1', 'stop 1', 'start 2', 'stop 2']);
  assert.equal(store.get().status, 'stopped');
});

test('a phone never started stays unstarted across a takeover; a start in progress when paused gives up', async () => {
  const idle = recordingService();
  await idle.service.actions.pause();
  await idle.service.actions.resume();
  assert.deepEqual(idle.log, []);
  assert.equal(idle.store.get().status, 'idle');

  const racing = recordingService();
  racing.holdLoad();
  const starting = racing.service.actions.start();
  await new Promise((resolve) => setImmediate(resolve));
  await racing.service.actions.pause();
  await racing.service.actions.resume();   // a new start, while the first is still loading
  racing.releaseLoad();
  await starting;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(racing.log.filter((entry) => entry.startsWith('start')).length, 1, 'one phone only');
});
