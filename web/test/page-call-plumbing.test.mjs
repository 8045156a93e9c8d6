// The page side of call signalling (web/src/app/secure-channels.js): call.signal events of the
// Worker reach onCallSignal with the peer the channel was accepted for (never the chat), the
// call actions ask the Worker, and onChannelEnded hears once of every way a channel ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureChannelController } from '../src/app/secure-channels.js';
import { createIdentityStore } from '../src/state/identity-store.js';
import { createChannelStore } from '../src/state/channel-store.js';
import { createRoomStore } from '../src/state/room-store.js';

const signal = '{"v":1,"call":"0123456789abcdef0123456789abcdef","kind":"ringing"}';
const sessionOf = (n) => `${n}`.repeat(32).slice(0, 32);

function setUp() {
  const sent = [];
  const asked = [];
  const signals = [];
  const ended = [];
  const channelStore = createChannelStore();
  const worker = {
    async request({ type, payload }) {
      asked.push({ type, payload });
      if (type === 'call.media_stats') return { type, stats: { call: payload.call, keyId: 0, sendActive: true, receiveActive: true } };
      return { type };
    },
    createScriptTransform: (options) => ({ transform: options }),
    attachEncodedStreams: async (options) => ({ attached: options }),
  };
  const socket = { send: (message) => { sent.push(message); return true; }, sendBinary: () => true };
  const controller = createSecureChannelController({
    getSocket: () => socket, getWorker: () => worker, identityStore: createIdentityStore(), channelStore, roomStore: createRoomStore(),
    getTrustStore: () => null, self: () => 'alice', isVisible: () => true,
    onCallSignal: (event) => signals.push(event),
    onChannelEnded: (event) => ended.push(event),
  });
  controller.handleSocketStatus('online');
  /** A channel with `username` in the given phase ('offered', 'waiting_peer' or 'secure'). */
  function channel(n, username, phase = 'secure') {
    const session = sessionOf(n);
    channelStore.applyOffer({
      type: 'channel_offer', session, role: 'initiator', peer: { userid: n, username },
      certificate: { fingerprint: 'A'.repeat(40), armored: 'CERT' },
    }, { trust: { status: 'unknown', knownFingerprint: null } });
    if (phase !== 'offered') channelStore.accepted(session);
    if (phase === 'secure') {
      channelStore.opened(session);
      controller.handleWorkerEvent({ type: 'channel.state', session, state: 'secure', suite: 1, epoch: 0, sas: null });
    }
    return session;
  }
  return { sent, asked, signals, ended, channelStore, controller, channel };
}

test('call.signal of a secure channel goes to onCallSignal with the channel\'s peer, never into the chat', () => {
  const { signals, channelStore, controller, channel } = setUp();
  const bob = channel(1, 'bob');
  const carol = channel(2, 'carol', 'waiting_peer');
  controller.handleWorkerEvent({ type: 'call.signal', session: bob, signal });
  controller.handleWorkerEvent({ type: 'call.signal', session: carol, signal });          // not secure yet
  controller.handleWorkerEvent({ type: 'call.signal', session: sessionOf(3), signal });   // unknown session
  controller.handleWorkerEvent({ type: 'call.signal', session: bob, signal: { v: 1 } }); // not text
  assert.deepEqual(signals, [{ session: bob, peerUser: 'bob', signal }]);
  assert.deepEqual(channelStore.find(bob).messages, []);
});

test('call actions ask the Worker: call.send, call.media_stats (→ the stats), call.media_end, transforms', async () => {
  const { asked, controller, channel } = setUp();
  const bob = channel(1, 'bob');
  const call = '0123456789abcdef0123456789abcdef';
  await controller.actions.sendCallSignal(bob, signal);
  assert.deepEqual(await controller.actions.callMediaStats(call), { call, keyId: 0, sendActive: true, receiveActive: true });
  await controller.actions.endCallMedia(call);
  assert.deepEqual(asked.filter(({ type }) => type.startsWith('call.')).map(({ type, payload }) => [type, payload]), [
    ['call.send', { session: bob, signal }], ['call.media_stats', { call }], ['call.media_end', { call }],
  ]);
  const options = { session: bob, call, direction: 'send', kind: 'audio' };
  assert.deepEqual(controller.actions.createCallTransform(options), { transform: options });
  assert.deepEqual(await controller.actions.attachCallStreams({ options }), { attached: { options } });
});

test('onChannelEnded: once per channel, for a teardown, the peer\'s close, the server\'s channel_ended, the user\'s end and a lost socket', async () => {
  const { ended, controller, channel } = setUp();
  const torn = channel(1, 'bob');
  controller.handleWorkerEvent({ type: 'channel.teardown', session: torn, reason: 'bad_tag' });
  controller.handleServerMessage({ type: 'channel_ended', session: torn, reason: 'compromised', detail: 'bad_tag' });
  const closed = channel(2, 'carol');
  controller.handleWorkerEvent({ type: 'channel.state', session: closed, state: 'closed', suite: 1, epoch: 0, sas: null });
  controller.handleServerMessage({ type: 'channel_ended', session: closed, reason: 'ended', by: 'peer' });
  const byServer = channel(3, 'dave');
  controller.handleServerMessage({ type: 'channel_ended', session: byServer, reason: 'peer_offline' });
  const byUser = channel(4, 'erin');
  controller.actions.endChannel(byUser);
  const offered = channel(5, 'frank', 'offered');
  controller.actions.rejectChannel(offered);
  controller.handleServerMessage({ type: 'channel_ended', session: offered, reason: 'rejected' });
  const lost = channel(6, 'grace');
  controller.handleSocketStatus('offline');
  // The fake Worker answers in microtasks: one macrotask turn lets every answer (and the
  // channel_end sent after channel.close) run before the list is checked.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ended, [
    { session: torn, peerUser: 'bob', reason: 'bad_tag' },
    { session: closed, peerUser: 'carol', reason: 'closed' },
    { session: byServer, peerUser: 'dave', reason: 'peer_offline' },
    { session: byUser, peerUser: 'erin', reason: 'ended' },
    { session: lost, peerUser: 'grace', reason: 'connection_lost' },
  ]);
});
