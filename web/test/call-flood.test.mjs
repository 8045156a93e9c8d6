// A peer with a secure channel floods the call logic (docs/protocol.md "Call signalling",
// CallSignalLimits in call-controller.js): invites while busy, invite-then-cancel cycles, and
// media signals of a call. Each bound is checked by performing the flood.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock, settle, fakeWebRtc, callSide, connect, SESSION } from './helpers/fake-calls.mjs';
import { encodeCallSignal } from '../src/calls/call-signal.js';
import { CallSignalLimits, CallTimeouts } from '../src/calls/call-controller.js';

function pair() {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  webrtc.setClock(clock.now);
  const alice = callSide({ self: 'alice', peer: 'bob', role: 'initiator', clock, webrtc });
  const bob = callSide({ self: 'bob', peer: 'alice', role: 'responder', clock, webrtc });
  connect(alice, bob);
  return { clock, alice, bob };
}

const idOf = (n) => n.toString(16).padStart(32, '0');
const deliver = (side, fields) => side.controller.handleSignal({ session: SESSION, signal: encodeCallSignal({ v: 1, ...fields }) });
const invite = (side, n) => deliver(side, { call: idOf(n), kind: 'invite', media: 'audio', e2ee: true });
const systemMessages = (side) => side.channels.find(SESSION).messages.filter((entry) => entry.from === 'system');

async function connected() {
  const parties = pair();
  const { alice, bob, clock } = parties;
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  await bob.controller.actions.accept({ video: false });
  await settle();
  await clock.advance(CallTimeouts.securityTickMs);
  assert.equal(bob.call().phase, 'active');
  return parties;
}

test('a burst of 200 invites while busy: one busy answer per 5 s, one merged log entry and conversation line, the real call kept', async () => {
  const { alice, bob, clock } = pair();
  // A real call ends first and is logged.
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  bob.controller.actions.decline();
  await settle();
  const realEntry = bob.store.get().log[0];
  assert.equal(realEntry.outcome, 'declined');
  // Bob is ringing for a call: any call keeps him busy.
  invite(bob, 0xabab);
  const linesBefore = systemMessages(bob).length;
  const sentBefore = bob.sent.length;
  for (let i = 0; i < 200; i++) invite(bob, 1000 + i);
  await settle();
  const busy = () => bob.sent.slice(sentBefore).filter((s) => s.kind === 'busy').length;
  assert.equal(busy(), 1, 'one busy record for the whole burst');
  const log = bob.store.get().log;
  assert.equal(log.length, 2, 'the real call and one merged entry');
  assert.ok(log.includes(realEntry), 'the real call is still in the log');
  assert.equal(log[0].outcome, 'missed');
  assert.equal(log[0].count, 200);
  const lines = systemMessages(bob).slice(linesBefore);
  assert.equal(lines.length, 1, 'one conversation line');
  assert.equal(lines[0].messageKey, 'call.log.missed-many');
  assert.equal(lines[0].params.count, 200);
  // Another invite within the busy interval: still no second busy; after it, one more.
  await clock.advance(CallSignalLimits.busyIntervalMs - 1);
  invite(bob, 5000);
  await settle();
  assert.equal(busy(), 1);
  await clock.advance(1);
  invite(bob, 5001);
  await settle();
  assert.equal(busy(), 2);
  assert.equal(bob.store.get().log[0].count, 202);
  // The ringing call still rings (the flood did not end it).
  assert.equal(bob.call().id, idOf(0xabab));
  assert.equal(bob.call().phase, 'incoming');
});

test('missed invites from one peer stop merging after a pause or another call with that peer', async () => {
  const { alice, bob, clock } = await connected();
  invite(bob, 2);           // missed (busy)
  invite(bob, 3);           // merged
  assert.equal(bob.store.get().log.length, 1);
  assert.equal(bob.store.get().log[0].count, 2);
  await clock.advance(CallSignalLimits.missedMergeMs + 1);
  invite(bob, 4);
  assert.equal(bob.store.get().log.length, 2, 'a pause starts a new entry');
  assert.equal(bob.store.get().log[0].count, 1);
  bob.controller.actions.hangUp();
  await settle();
  assert.equal(bob.store.get().log[0].outcome, 'answered');
  // A missed call after another outcome with the peer is a new entry again.
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  alice.controller.actions.hangUp();
  await settle();
  assert.equal(bob.store.get().log[0].outcome, 'missed');
  assert.equal(bob.store.get().log[0].count, 1);
  assert.equal(bob.store.get().log.length, 4);
  // Another call logged in between (here: with someone else) also ends the run.
  bob.store.addLog({ peer: 'carol', direction: 'outgoing', media: 'audio', outcome: 'answered', at: clock.now(), durationMs: 1000 });
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  alice.controller.actions.hangUp();
  await settle();
  assert.deepEqual(bob.store.get().log.slice(0, 3).map((entry) => [entry.peer, entry.outcome, entry.count]), [['alice', 'missed', 1], ['carol', 'answered', 1], ['alice', 'missed', 1]]);
});

test('a peer that cancelled 3 invites within a minute does not ring again for a minute (logged as missed)', async () => {
  const { alice, bob, clock } = pair();
  for (let round = 0; round < 3; round++) {
    await alice.controller.actions.call({ username: 'bob', video: false });
    await settle();
    assert.equal(bob.call().phase, 'incoming', `round ${round} rings`);
    alice.controller.actions.hangUp();   // sends cancel
    await settle();
    assert.equal(bob.call().phase, 'ended');
    await clock.advance(1000);
  }
  const ringingBefore = bob.sent.filter((s) => s.kind === 'ringing').length;
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(bob.call().phase, 'ended', 'the fourth invite does not ring');
  assert.equal(bob.sent.filter((s) => s.kind === 'ringing').length, ringingBefore);
  assert.equal(alice.call().phase, 'ended', 'the caller hears busy');
  assert.equal(alice.store.get().log[0].outcome, 'busy');
  assert.equal(bob.store.get().log[0].outcome, 'missed');
  assert.equal(bob.store.get().log.length, 1, 'the cancelled and quieted invites share one entry');
  assert.equal(bob.store.get().log[0].count, 4);
  // A minute after the third cancel, the peer rings again.
  await clock.advance(CallSignalLimits.cancelQuietMs);
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(bob.call().phase, 'incoming');
});

test('media signals of a call: a steady 50/s passes, a burst past 200 ends the call as failed (signal_flood)', async () => {
  const { alice, bob, clock } = await connected();
  const id = bob.call().id;
  const state = (muted) => deliver(bob, { call: id, kind: 'state', camera: false, muted, screen: false });
  // 40 state signals a second for 10 s: within the refill rate.
  for (let second = 0; second < 10; second++) {
    for (let i = 0; i < 40; i++) state(i % 2 === 0);
    await clock.advance(1000);
  }
  assert.equal(bob.call().phase, 'active');
  // A burst: the bucket (200) runs out.
  for (let i = 0; i < 250 && bob.call().phase === 'active'; i++) state(i % 2 === 0);
  await settle();
  assert.equal(bob.call().phase, 'ended');
  assert.equal(bob.call().endReason, 'signal_flood');
  assert.equal(bob.store.get().log[0].outcome, 'failed');
  assert.equal(bob.sent.at(-1).kind, 'hangup');
  assert.equal(bob.sent.at(-1).reason, 'failed');
  assert.equal(alice.call().phase, 'ended', 'the peer is told');
});

test('more than 100 ICE candidates after one description end the call (signal_flood); a new description resets the count', async () => {
  const { alice, bob, clock } = await connected();
  const id = bob.call().id;
  // Each batch follows a refill of the signal bucket, so only the candidate bound can end the call.
  const refill = () => clock.advance((CallSignalLimits.signalBurst / CallSignalLimits.signalsPerSecond) * 1000);
  // The candidates alice really sent after her offer count too.
  const already = alice.sent.filter((s) => s.kind === 'ice' && s.candidate !== null).length;
  const candidate = (n) => deliver(bob, { call: id, kind: 'ice', candidate: { candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${5000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' } });
  for (let n = 0; n < CallSignalLimits.candidatesPerDescription - already - 5; n++) candidate(n);
  await settle();
  assert.equal(bob.call().phase, 'active');
  for (let n = 0; n < 5; n++) candidate(1000 + n);
  await settle();
  assert.equal(bob.call().phase, 'active', 'exactly the bound is accepted');
  // A renegotiation (a new offer) starts a new count.
  deliver(bob, { call: id, kind: 'offer', sdp: alice.pcs[0].sdp('offer') });
  await settle();
  await refill();
  for (let n = 0; n < CallSignalLimits.candidatesPerDescription; n++) candidate(3000 + n);
  await settle();
  assert.equal(bob.call().phase, 'active', 'the bound applies per description');
  await refill();
  candidate(2000);
  await settle();
  assert.equal(bob.call().phase, 'ended');
  assert.equal(bob.call().endReason, 'signal_flood');
});
