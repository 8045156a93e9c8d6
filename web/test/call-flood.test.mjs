// A peer with a secure channel floods the call logic (docs/protocol.md "Call signalling",
// CallSignalLimits in call-controller.js): invites while busy, invite-then-cancel cycles, and
// media signals of a call. Each bound is checked by performing the flood.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock, settle, fakeWebRtc, callSide, connect, secureChannelStore, SESSION } from './helpers/fake-calls.mjs';
import { encodeCallSignal } from '../src/calls/call-signal.js';
import { MAX_CALL_LOG } from '../src/state/call-store.js';
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

test('a burst of 200 invites while busy: a bucket of 3 busy answers refilled one per 5 s, one merged log entry and conversation line, the real call kept', async () => {
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
  assert.equal(busy(), CallSignalLimits.busyBurst, 'the bucket of busy records for the whole burst');
  const log = bob.store.get().log;
  assert.equal(log.length, 2, 'the real call and one merged entry');
  assert.ok(log.includes(realEntry), 'the real call is still in the log');
  assert.equal(log[0].outcome, 'missed');
  assert.equal(log[0].count, 200);
  const lines = systemMessages(bob).slice(linesBefore);
  assert.equal(lines.length, 1, 'one conversation line');
  assert.equal(lines[0].messageKey, 'call.log.missed-many');
  assert.equal(lines[0].params.count, 200);
  // Another invite before one token is back: no busy; once it is, one more.
  await clock.advance(CallSignalLimits.busyIntervalMs - 1);
  invite(bob, 5000);
  await settle();
  assert.equal(busy(), CallSignalLimits.busyBurst);
  await clock.advance(1);
  invite(bob, 5001);
  await settle();
  assert.equal(busy(), CallSignalLimits.busyBurst + 1);
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

// --- invite floods that do not end with `cancel`, several peers, redials, ignored users ---------

const S_CAROL = 'cd'.repeat(16);
const S_MALLORY = 'cd'.repeat(16);
const S_EVE = 'ef'.repeat(16);

function addSecure(channels, session, username, userid) {
  channels.applyOffer({ session, role: 'responder', peer: { userid, username }, certificate: { fingerprint: 'E'.repeat(40), armored: 'x' } }, { trust: { status: 'unknown' } });
  channels.accepted(session);
  channels.opened(session);
  channels.applyWorkerState({ session, state: 'secure', suite: 1, epoch: 0, sas: { words: ['b'] } });
}

test('invite-then-hangup cycles are quieted and merged like invite-then-cancel (60 in 6 s ring 3 times, one entry and line)', async () => {
  const { alice, bob, clock } = pair();
  // A real call in Bob's log first (declined after it rang a while: not a quick end).
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  await clock.advance(CallSignalLimits.quickEndMs);
  bob.controller.actions.decline();
  await settle();
  const realEntry = bob.store.get().log[0];
  const linesBefore = systemMessages(bob).length;
  const ringingBefore = bob.sent.filter((s) => s.kind === 'ringing').length;
  // The hostile Alice: 60 invites within 6 s, each ended by `hangup` instead of `cancel`.
  let rang = 0;
  for (let i = 0; i < 60; i++) {
    deliver(bob, { call: idOf(0x1000 + i), kind: 'invite', media: 'audio', e2ee: true });
    if (bob.call()?.phase === 'incoming') rang += 1;
    deliver(bob, { call: idOf(0x1000 + i), kind: 'hangup', reason: 'normal' });
    await clock.advance(100);
  }
  await settle();
  assert.equal(rang, CallSignalLimits.cancelLimit, 'only the first invites ring');
  assert.equal(bob.sent.filter((s) => s.kind === 'ringing').length - ringingBefore, CallSignalLimits.cancelLimit);
  const log = bob.store.get().log;
  assert.equal(log.length, 2, 'the real call and one merged missed entry');
  assert.ok(log.includes(realEntry), 'the real call is still in the log');
  assert.deepEqual([log[0].outcome, log[0].count], ['missed', 60]);
  const lines = systemMessages(bob).slice(linesBefore);
  assert.equal(lines.length, 1, 'one conversation line');
  assert.equal(lines[0].params.count, 60);
});

test('any incoming call ended unanswered within 5 s counts towards the quiet (here: the channel ends it)', async () => {
  const { bob, clock } = pair();
  for (let i = 0; i < CallSignalLimits.cancelLimit; i++) {
    invite(bob, 0x3000 + i);
    assert.equal(bob.call().phase, 'incoming');
    await clock.advance(CallSignalLimits.quickEndMs - 1);
    bob.controller.channelEnded({ session: SESSION });
    assert.equal(bob.call().phase, 'ended');
  }
  invite(bob, 0x3100);
  assert.equal(bob.call().phase, 'ended', 'the next invite does not ring');
  // An invite that rang longer than quickEndMs before its end does not count.
  const fresh = pair();
  for (let i = 0; i < CallSignalLimits.cancelLimit; i++) {
    invite(fresh.bob, 0x3200 + i);
    await fresh.clock.advance(CallSignalLimits.quickEndMs);
    fresh.bob.controller.channelEnded({ session: SESSION });
  }
  invite(fresh.bob, 0x3300);
  assert.equal(fresh.bob.call().phase, 'incoming');
});

test('two peers alternating 60 invites while the user is busy: at most 5 new entries, the real one kept', async () => {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  webrtc.setClock(clock.now);
  const channels = secureChannelStore({ self: 'bob', peer: 'alice', role: 'responder' });
  addSecure(channels, S_MALLORY, 'mallory', 3);
  addSecure(channels, S_EVE, 'eve', 4);
  const alice = callSide({ self: 'alice', peer: 'bob', role: 'initiator', clock, webrtc });
  const bob = callSide({ self: 'bob', peer: 'alice', role: 'responder', clock, webrtc, channels });
  connect(alice, bob);
  bob.store.addLog({ peer: 'carol', direction: 'outgoing', media: 'audio', outcome: 'answered', at: clock.now(), durationMs: 1000 });
  const realEntry = bob.store.get().log[0];
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(bob.call().phase, 'incoming');
  for (let i = 0; i < 60; i++) {
    const session = i % 2 === 0 ? S_MALLORY : S_EVE;
    bob.controller.handleSignal({ session, signal: encodeCallSignal({ v: 1, call: idOf(0x2000 + i), kind: 'invite', media: 'audio', e2ee: true }) });
  }
  await settle();
  const log = bob.store.get().log;
  assert.ok(log.length < MAX_CALL_LOG);
  assert.equal(log.length, 1 + CallSignalLimits.missedEntriesPerWindow, 'the real entry and the global bound of new entries');
  assert.ok(log.includes(realEntry), 'the real entry is kept');
  assert.equal(log.filter((e) => e.outcome === 'missed').reduce((sum, e) => sum + e.count, 0), 60, 'every invite counted');
  const lines = (s) => bob.channels.find(s).messages.filter((m) => m.from === 'system').length;
  assert.equal(lines(S_MALLORY) + lines(S_EVE), CallSignalLimits.missedEntriesPerWindow, 'a line per entry, not per invite');
});

test('a redial within 5 s of a busy answer hears busy again', async () => {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  webrtc.setClock(clock.now);
  const channels = secureChannelStore({ self: 'bob', peer: 'alice', role: 'responder' });
  addSecure(channels, S_CAROL, 'carol', 3);
  const alice = callSide({ self: 'alice', peer: 'bob', role: 'initiator', clock, webrtc });
  const bob = callSide({ self: 'bob', peer: 'alice', role: 'responder', clock, webrtc, channels });
  connect(alice, bob);
  bob.controller.handleSignal({ session: S_CAROL, signal: encodeCallSignal({ v: 1, call: 'c'.repeat(32), kind: 'invite', media: 'audio', e2ee: true }) });
  assert.equal(bob.call().phase, 'incoming');
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.store.get().log[0].outcome, 'busy');
  await clock.advance(2000);
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.call().phase, 'ended', 'the redial is answered at once');
  assert.deepEqual(alice.store.get().log.slice(0, 2).map((e) => e.outcome), ['busy', 'busy']);
  // Still bounded: a third redial spends the last token, a fourth at once gets nothing.
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.call().phase, 'ended');
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.call().phase, 'calling', 'the bucket is empty');
});

test('an ignored user\'s invite does not ring: declined at once, logged as missed, no conversation line', async () => {
  const { alice, bob, clock } = pair();
  bob.channels.toggleIgnore('Alice');
  const linesBefore = systemMessages(bob).length;
  const sentBefore = bob.sent.length;
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(bob.call(), null, 'no incoming call (no dialog, ringtone or notification)');
  assert.deepEqual(bob.sent.slice(sentBefore).map((s) => s.kind), ['decline']);
  assert.equal(alice.call().phase, 'ended');
  assert.equal(alice.store.get().log[0].outcome, 'declined');
  assert.deepEqual([bob.store.get().log[0].peer, bob.store.get().log[0].outcome], ['alice', 'missed']);
  assert.equal(systemMessages(bob).length, linesBefore, 'no conversation line');
  // A flood from the ignored user: bounded declines, one entry.
  for (let i = 0; i < 50; i++) invite(bob, 0x4000 + i);
  await settle();
  assert.ok(bob.sent.slice(sentBefore).filter((s) => s.kind === 'decline').length <= CallSignalLimits.busyBurst);
  assert.equal(bob.store.get().log.length, 1);
  assert.equal(bob.store.get().log[0].count, 51);
  assert.equal(systemMessages(bob).length, linesBefore);
  // No longer ignored: the call rings again.
  bob.channels.toggleIgnore('alice');
  await clock.advance(CallSignalLimits.cancelQuietMs);
  invite(bob, 0x5000);
  assert.equal(bob.call().phase, 'incoming');
});
