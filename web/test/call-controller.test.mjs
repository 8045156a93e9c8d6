// The page's call state machine with fake WebRTC (web/test/helpers/fake-calls.mjs): two
// controllers joined by a signal pipe, a manual clock for the timeouts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock, settle, fakeWebRtc, fakeDevices, callSide, connect, SESSION, secureChannelStore } from './helpers/fake-calls.mjs';
import { encodeCallSignal } from '../src/calls/call-signal.js';
import { CallTimeouts, formatDuration } from '../src/calls/call-controller.js';

function pair(options = {}) {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  webrtc.setClock(clock.now);
  const alice = callSide({ self: 'alice', peer: 'bob', role: 'initiator', clock, webrtc, ...options.alice });
  const bob = callSide({ self: 'bob', peer: 'alice', role: 'responder', clock, webrtc, ...options.bob });
  connect(alice, bob);
  return { clock, webrtc, alice, bob };
}

const systemLines = (side) => side.channels.find(SESSION).messages.filter((entry) => entry.from === 'system').map((entry) => entry.messageKey);

async function connectedCall({ video = true, ...options } = {}) {
  const parties = pair(options);
  const { alice, bob, clock } = parties;
  assert.deepEqual(await alice.controller.actions.call({ username: 'bob', video }), { ok: true });
  await settle();
  await bob.controller.actions.accept({ video });
  await settle();
  await clock.advance(CallTimeouts.securityTickMs);
  return parties;
}

test('invite → ringing → accept: media negotiated, transforms on every sender and receiver, encrypted, hang-up ends both', async () => {
  const { alice, bob, clock, webrtc } = pair();
  const placed = alice.controller.actions.call({ username: 'bob', video: true });
  assert.equal(alice.call().phase, 'calling');
  assert.deepEqual(await placed, { ok: true });
  await settle();
  assert.equal(alice.call().phase, 'ringing');
  assert.equal(bob.call().phase, 'incoming');
  assert.equal(bob.call().peer.username, 'alice');
  assert.equal(bob.call().media, 'video');
  assert.deepEqual(alice.kinds(), ['invite']);
  assert.deepEqual(bob.kinds(), ['ringing']);
  assert.match(alice.call().id, /^[0-9a-f]{32}$/);
  assert.equal(bob.call().id, alice.call().id);

  await bob.controller.actions.accept({ video: true });
  await settle();
  assert.equal(alice.call().phase, 'active');
  assert.equal(bob.call().phase, 'active');
  assert.ok(alice.kinds().includes('offer') && bob.kinds().includes('answer') && alice.kinds().includes('ice'));
  assert.ok(alice.call().remoteStream && bob.call().localStream);
  // Every sender and receiver of both sides runs the SFrame transform with the contract's options.
  const id = alice.call().id;
  for (const side of [alice, bob]) {
    const seen = side.transforms.map(({ session, call, direction, kind }) => `${session === SESSION}/${call === id}/${direction}/${kind}`).sort();
    assert.deepEqual(seen, ['true/true/receive/audio', 'true/true/receive/video', 'true/true/send/audio', 'true/true/send/video']);
  }
  // Every receiver had its transform before its media channel existed (else Chromium would
  // pass its frames by the transform).
  for (const pc of webrtc.all) {
    for (const transceiver of pc.transceivers) {
      assert.ok(transceiver.receiver.transform, `${transceiver.kind} receiver has a transform`);
      assert.equal(transceiver.receiver.late, false, `${transceiver.kind} receiver transform set in time`);
    }
  }
  // Opus (with telephone-event for DTMF) and VP8 only.
  for (const pc of webrtc.all) {
    for (const transceiver of pc.transceivers) assert.deepEqual(transceiver.codecs, transceiver.kind === 'audio' ? ['audio/opus', 'audio/telephone-event'] : ['video/VP8']);
  }
  assert.equal(alice.call().security.state, 'checking');
  await clock.advance(1000);
  for (const side of [alice, bob]) {
    const { security } = side.call();
    assert.equal(security.state, 'encrypted');
    assert.equal(security.fingerprintsMatch, true);
    assert.equal(security.path, 'direct');
    assert.deepEqual({ ...security.transform }, { sendActive: true, receiveActive: true });
    assert.deepEqual(security.sas, { words: ['a'] });
  }
  await clock.advance(65_000);
  alice.controller.actions.hangUp();
  await settle();
  assert.equal(alice.call().phase, 'ended');
  assert.equal(bob.call().phase, 'ended');
  assert.equal(bob.call().endReason, 'peer_normal');
  for (const side of [alice, bob]) {
    assert.equal(side.store.get().log[0].outcome, 'answered');
    assert.ok(side.store.get().log[0].durationMs >= 65_000);
    assert.deepEqual(systemLines(side), ['call.log.answered']);
    assert.equal(side.channels.find(SESSION).messages.at(-1).params.media, 'video');
    assert.deepEqual(side.ended, [id]);
  }
  assert.ok(webrtc.all.every((pc) => pc.closed));
  assert.ok(alice.devices.opened.every((track) => track.readyState === 'ended'));
  assert.equal(clock.pending(), 0, 'no timer left running');
});

test('a callee already in a call answers busy automatically and logs a missed call', async () => {
  const { alice, bob } = pair();
  // Bob is ringing for another call first.
  const other = 'cd'.repeat(16);
  bob.controller.handleSignal({ session: SESSION, signal: encodeCallSignal({ v: 1, call: other, kind: 'invite', media: 'audio', e2ee: true }) });
  assert.equal(bob.call().id, other);
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.call().phase, 'ended');
  assert.equal(alice.store.get().log[0].outcome, 'busy');
  assert.deepEqual(systemLines(alice), ['call.log.busy']);
  assert.equal(bob.call().id, other, 'the first call goes on');
  assert.equal(bob.call().phase, 'incoming');
  assert.equal(bob.store.get().log[0].outcome, 'missed');
  assert.ok(bob.kinds().includes('busy'));
});

test('during a SIP call an end-to-end invite is answered busy, and no end-to-end call can be placed', async () => {
  const { alice, bob } = pair();
  bob.otherCall = true;  // the SIP phone has a call
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(alice.call().phase, 'ended');
  assert.equal(alice.store.get().log[0].outcome, 'busy');
  assert.equal(bob.call(), null, 'nothing rings beside the SIP call');
  assert.equal(bob.store.get().log[0].outcome, 'missed');
  assert.ok(bob.kinds().includes('busy'));
  assert.deepEqual(await bob.controller.actions.call({ username: 'alice', video: false }), { error: { code: 'busy' } });
});

test('decline ends both sides; the caller sees declined', async () => {
  const { alice, bob } = pair();
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  bob.controller.actions.decline();
  await settle();
  assert.equal(alice.store.get().log[0].outcome, 'declined');
  assert.equal(bob.store.get().log[0].outcome, 'declined');
  assert.equal(alice.call().phase, 'ended');
});

test('no answer within 45 s: the caller cancels (no-answer), the callee logs a missed call', async () => {
  const { alice, bob, clock } = pair();
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  await clock.advance(CallTimeouts.ringMs - 1);
  assert.equal(alice.call().phase, 'ringing');
  await clock.advance(1);
  assert.equal(alice.store.get().log[0].outcome, 'no-answer');
  assert.equal(alice.sent.at(-1).kind, 'cancel');
  assert.equal(bob.store.get().log[0].outcome, 'missed');
  assert.deepEqual(systemLines(bob), ['call.log.missed']);
  assert.equal(clock.pending(), 0);
});

test('the caller hanging up while it rings sends cancel (caller: cancelled, callee: missed)', async () => {
  const { alice, bob } = pair();
  await alice.controller.actions.call({ username: 'bob', video: true });
  await settle();
  alice.controller.actions.hangUp();
  await settle();
  assert.equal(alice.sent.at(-1).kind, 'cancel');
  assert.equal(alice.store.get().log[0].outcome, 'cancelled');
  assert.equal(bob.store.get().log[0].outcome, 'missed');
});

test('the channel ending mid-call ends the call with channel-ended', async () => {
  const { alice, bob, webrtc } = await connectedCall();
  bob.channels.applyEnded({ session: SESSION, reason: 'peer_disconnected' });
  alice.controller.channelEnded({ session: SESSION });
  await settle();
  for (const side of [alice, bob]) {
    assert.equal(side.call().phase, 'ended');
    assert.equal(side.store.get().log[0].outcome, 'channel-ended');
  }
  assert.ok(webrtc.all.every((pc) => pc.closed));
});

test('a DTLS certificate other than the one in the authenticated SDP ends the call (fingerprint_mismatch)', async () => {
  const { alice, bob, clock } = await connectedCall();
  const [bobsPc] = bob.pcs;
  bobsPc.presentedCertificate = { fingerprint: '00'.repeat(32).replace(/(..)(?=.)/g, '$1:'), fingerprintAlgorithm: 'sha-256' };
  await clock.advance(CallTimeouts.securityTickMs);
  assert.equal(bob.call().phase, 'ended');
  assert.equal(bob.call().endReason, 'fingerprint_mismatch');
  assert.equal(bob.call().security.fingerprintsMatch, false);
  assert.notEqual(bob.call().security.state, 'encrypted');
  assert.equal(bob.store.get().log[0].outcome, 'failed');
  assert.equal(alice.store.get().log[0].outcome, 'failed');
});

test('security is never "encrypted" while a transform direction is inactive', async () => {
  const { alice, clock } = await connectedCall({ alice: { mediaActive: { sendActive: true, receiveActive: false } } });
  assert.equal(alice.call().security.state, 'checking');
  await clock.advance(6000);
  assert.equal(alice.call().security.state, 'not-encrypted');
  assert.equal(alice.call().security.reason, 'receive_transform_inactive');
  alice.mediaActive.receiveActive = true;
  await clock.advance(1000);
  assert.equal(alice.call().security.state, 'encrypted');
  alice.mediaActive.sendActive = false;
  await clock.advance(1000);
  assert.equal(alice.call().security.state, 'not-encrypted');
  assert.equal(alice.call().security.reason, 'send_transform_inactive');
});

test('without transform support the media waits for explicit consent, then says not end-to-end encrypted', async () => {
  const { alice, bob, clock } = pair({ bob: { support: { webrtc: true, transform: null, missing: ['RTCRtpScriptTransform'] } } });
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  assert.equal(bob.call().security.e2ee, false);
  const accepting = bob.controller.actions.accept({ video: false });
  await settle();
  assert.deepEqual({ ...bob.call().needsConsent }, { reason: 'no_transform' });
  assert.ok(!bob.kinds().includes('accept'), 'nothing accepted before consent');
  bob.controller.actions.consentUnencrypted(true);
  await accepting;
  await settle();
  assert.equal(bob.sent.find((entry) => entry.kind === 'accept').e2ee, false);
  assert.deepEqual({ ...alice.call().needsConsent }, { reason: 'peer_no_transform' });
  assert.equal(alice.transforms.length, 0);
  assert.ok(!alice.kinds().includes('offer'), 'no media before the caller agreed too');
  alice.controller.actions.consentUnencrypted(true);
  await settle();
  await clock.advance(1000);
  for (const side of [alice, bob]) {
    assert.equal(side.call().phase, 'active');
    assert.equal(side.call().security.state, 'not-encrypted');
    assert.equal(side.call().security.reason, 'e2ee_off');
    assert.equal(side.call().security.consentUnencrypted, true);
    assert.equal(side.transforms.length, 0);
  }
});

test('refusing unencrypted media ends the call', async () => {
  const { alice, bob } = pair({ bob: { support: { webrtc: true, transform: null, missing: ['RTCRtpScriptTransform'] } } });
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  const accepting = bob.controller.actions.accept({ video: false });
  await settle();
  bob.controller.actions.consentUnencrypted(false);
  await accepting;
  await settle();
  assert.equal(bob.call().phase, 'ended');
  assert.equal(alice.store.get().log[0].outcome, 'declined');
  assert.ok(!bob.kinds().includes('accept'));
});

test('hostile signals are ignored without a crash: unknown call id, answer without offer, repeated invite, malformed text, wrong channel', async () => {
  const { alice, bob, clock } = await connectedCall();
  const id = alice.call().id;
  const send = (side, fields, session = SESSION) => side.controller.handleSignal({ session, signal: encodeCallSignal({ v: 1, ...fields }) });
  assert.equal(send(alice, { call: 'ee'.repeat(16), kind: 'hangup', reason: 'normal' }), false);
  assert.equal(send(alice, { call: 'ee'.repeat(16), kind: 'offer', sdp: 'v=0\r\n' }), false);
  send(alice, { call: id, kind: 'answer', sdp: 'v=0\r\na=fingerprint:sha-256 ' + '11:'.repeat(31) + '11\r\n' });   // no offer outstanding
  send(bob, { call: id, kind: 'invite', media: 'audio', e2ee: true });   // the same call's invite again
  send(bob, { call: id, kind: 'accept', media: 'audio', e2ee: false });  // a callee-side signal sent to the callee
  assert.equal(bob.controller.handleSignal({ session: SESSION, signal: '{"v":1,"call":"x"' }), false);
  assert.equal(bob.controller.handleSignal({ session: SESSION, signal: 42 }), false);
  assert.equal(send(bob, { call: id, kind: 'hangup', reason: 'normal' }, 'cd'.repeat(16)), false);   // no such channel
  await settle();
  await clock.advance(1000);
  for (const side of [alice, bob]) {
    assert.equal(side.call().phase, 'active');
    assert.equal(side.call().security.state, 'encrypted');
  }
  assert.deepEqual(bob.store.get().log, []);
});

test('a peer who is not online ends the call as offline; a channel being set up is waited for', async () => {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  const channels = secureChannelStore({ self: 'alice', peer: 'bob', role: 'initiator' });
  const alice = callSide({ self: 'alice', peer: 'carol', role: 'initiator', clock, webrtc, channels });
  alice.openPrivateResult = { error: { code: 'user_offline' } };
  assert.deepEqual(await alice.controller.actions.call({ username: 'carol', video: false }), { ok: false });
  assert.deepEqual(alice.opened, ['carol']);
  assert.equal(alice.store.get().log[0].outcome, 'offline');
  // Channel refused by the server: peer_offline notice.
  alice.openPrivateResult = { ok: true };
  const refused = alice.controller.actions.call({ username: 'dave', video: false });
  await settle();
  channels.notify({ code: 'peer_offline' });
  assert.deepEqual(await refused, { ok: false });
  assert.equal(alice.store.get().log[0].outcome, 'offline');
  // No channel ever: failed after 130 s.
  channels.notify(null);
  const waiting = alice.controller.actions.call({ username: 'erin', video: false });
  await settle();
  await clock.advance(CallTimeouts.channelMs);
  assert.deepEqual(await waiting, { ok: false });
  assert.equal(alice.store.get().log[0].outcome, 'failed');
  assert.equal(alice.sent.length, 0, 'no signal without a secure channel');
  // Hanging up while the channel is being set up ends the wait and its timer at once.
  const givenUp = alice.controller.actions.call({ username: 'frank', video: false });
  await settle();
  alice.controller.actions.hangUp();
  assert.deepEqual(await givenUp, { ok: false });
  assert.equal(alice.store.get().log[0].outcome, 'cancelled');
  assert.equal(clock.pending(), 0, 'no timer left running');
});

test('a call ended before its channel was secure (offline, given up) writes its line into the newest conversation with the peer, none without one', async () => {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  const channels = secureChannelStore({ self: 'alice', peer: 'bob', role: 'initiator' });
  const conversationWithCarol = (session) => {
    channels.applyOffer({ session, role: 'initiator', peer: { userid: 3, username: 'carol' }, certificate: { fingerprint: 'C'.repeat(40), armored: 'x' } }, { trust: { status: 'unknown' } });
    channels.accepted(session);
  };
  const older = '01'.repeat(16);
  const newer = '02'.repeat(16);
  for (const session of [older, newer]) {
    conversationWithCarol(session);
    channels.opened(session);
    channels.applyEnded({ session, reason: 'ended' });
  }
  const alice = callSide({ self: 'alice', peer: 'bob', role: 'initiator', clock, webrtc, channels });
  const linesOf = (session) => channels.find(session).messages.filter((entry) => entry.from === 'system');
  const allLines = () => channels.get().channels.flatMap((channel) => linesOf(channel.session).map((entry) => `${channel.session} ${entry.messageKey}`));

  alice.openPrivateResult = { error: { code: 'user_offline' } };
  assert.deepEqual(await alice.controller.actions.call({ username: 'carol', video: false }), { ok: false });
  assert.equal(alice.store.get().log[0].outcome, 'offline');
  assert.deepEqual(allLines(), [`${newer} call.log.offline`], 'the newest conversation with carol only');
  assert.deepEqual(linesOf(newer)[0].params, { media: 'audio', duration: formatDuration(0) });

  // No conversation with dave: the call log has the entry, no conversation gets a line.
  assert.deepEqual(await alice.controller.actions.call({ username: 'dave', video: true }), { ok: false });
  assert.deepEqual([alice.store.get().log[0].peer, alice.store.get().log[0].outcome], ['dave', 'offline']);
  assert.deepEqual(allLines(), [`${newer} call.log.offline`]);

  // The caller gives up while the channel opened for the call still waits for carol.
  alice.openPrivateResult = { ok: true };
  const givenUp = alice.controller.actions.call({ username: 'carol', video: false });
  await settle();
  assert.deepEqual(alice.opened, ['carol', 'dave', 'carol']);
  const pending = '03'.repeat(16);
  conversationWithCarol(pending);
  await settle();
  alice.controller.actions.hangUp();
  assert.deepEqual(await givenUp, { ok: false });
  assert.equal(alice.store.get().log[0].outcome, 'cancelled');
  assert.deepEqual(allLines(), [`${newer} call.log.offline`, `${pending} call.log.cancelled`]);
  assert.equal(alice.sent.length, 0, 'no signal without a secure channel');
});

test('in call: mute, camera, hold, screen share, DTMF and state signals', async () => {
  const { alice, bob, clock } = await connectedCall();
  const { actions } = alice.controller;
  actions.toggleMute();
  await settle();
  assert.equal(alice.call().muted, true);
  assert.deepEqual(bob.call().remote, { camera: true, muted: true, screen: false });
  const audio = alice.call().localStream.getAudioTracks()[0];
  assert.equal(audio.enabled, false);
  await actions.toggleCamera();
  await settle();
  assert.equal(alice.call().cameraOn, false);
  assert.equal(bob.call().remote.camera, false);
  actions.toggleHold();
  await settle();
  assert.deepEqual({ ...alice.call().held }, { local: true, remote: false });
  assert.deepEqual({ ...bob.call().held }, { local: false, remote: true });
  assert.ok(bob.call().remoteStream.getTracks().every((track) => track.enabled === false), 'remote playback paused while held');
  assert.ok(bob.call().localStream.getTracks().every((track) => track.enabled === false));
  actions.toggleHold();
  await settle();
  assert.ok(bob.call().remoteStream.getTracks().every((track) => track.enabled === true));
  await actions.toggleScreenShare();
  await settle();
  assert.equal(alice.call().screenSharing, true);
  assert.equal(bob.call().remote.screen, true);
  const screen = alice.call().localStream.getVideoTracks()[0];
  assert.match(screen.id, /^screen-/);
  screen.fire('ended');   // the browser's own "stop sharing"
  await settle();
  assert.equal(alice.call().screenSharing, false);
  assert.equal(bob.call().remote.screen, false);
  assert.equal(actions.sendDtmf('12#*'), true);
  assert.equal(actions.sendDtmf('<script>'), false);
  const { dtmf } = alice.pcs[0].getSenders().find((sender) => sender.dtmf);
  assert.equal(dtmf.toneBuffer, '12#*');
  assert.equal(alice.call().dtmfSent, '', 'queued tones are not sent yet');
  assert.equal(dtmf.play(), '1');
  assert.equal(alice.call().dtmfSent, '1');
  while (dtmf.play() !== '');
  assert.equal(alice.call().dtmfSent, '12#*', 'each tone counted as it is played out');
  actions.setStatsVisible(true);
  await clock.advance(2000);
  const { stats } = alice.call();
  assert.equal(stats.rttMs, 12);
  assert.equal(stats.path, 'direct');
  assert.ok(stats.bitrateKbps.send > 0 && stats.bitrateKbps.receive > 0);
  await actions.selectDevice({ kind: 'audioinput', deviceId: 'mic1' });
  assert.equal(alice.store.get().devices.selected.audioinput, 'mic1');
  assert.equal(alice.call().localStream.getAudioTracks()[0].deviceId, 'mic1');
  assert.equal(audio.readyState, 'ended', 'the old microphone is released');
  await actions.refreshDevices();
  assert.equal(alice.store.get().devices.videoinput[0].deviceId, 'cam1');
});

test('adding the camera to an audio call renegotiates, with the transform on the new sender', async () => {
  const { alice, bob } = await connectedCall({ video: false });
  const offers = alice.kinds().filter((kind) => kind === 'offer').length;
  await alice.controller.actions.toggleCamera();
  await settle();
  assert.equal(alice.call().cameraOn, true);
  assert.equal(alice.kinds().filter((kind) => kind === 'offer').length, offers + 1);
  assert.ok(alice.transforms.some((entry) => entry.direction === 'send' && entry.kind === 'video'));
  assert.ok(bob.transforms.some((entry) => entry.direction === 'receive' && entry.kind === 'video'));
});

test('ICE failed for 15 s ends the call as failed; the relay policy follows the server and the hide-IP choice', async () => {
  const { alice, bob, clock } = await connectedCall({
    alice: { hideIp: true, turn: { iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }], iceTransportPolicy: 'all' } },
    bob: { turn: { iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }], iceTransportPolicy: 'relay' } },
  });
  const [alicePc] = alice.pcs;
  const [bobPc] = bob.pcs;
  assert.equal(alicePc.config.iceTransportPolicy, 'relay');
  assert.equal(bobPc.config.iceTransportPolicy, 'relay');
  assert.equal(bobPc.config.iceServers[0].urls[0], 'turn:127.0.0.1:3478');
  assert.equal(alice.call().security.path, 'relay');
  alicePc.connectionState = 'failed';
  alicePc.onconnectionstatechange();
  assert.equal(alicePc.restarted, true);
  await clock.advance(CallTimeouts.iceFailedMs - 1000);
  assert.equal(alice.call().phase, 'active');
  await clock.advance(1000);
  assert.equal(alice.call().phase, 'ended');
  assert.equal(alice.call().endReason, 'ice_failed');
  assert.equal(alice.store.get().log[0].outcome, 'failed');
  assert.equal(bob.store.get().log[0].outcome, 'failed');
});

test('a second call while one is on is refused locally; the duration reads m:ss', async () => {
  const { alice } = await connectedCall();
  assert.deepEqual(await alice.controller.actions.call({ username: 'bob', video: false }), { error: { code: 'busy' } });
  assert.equal(formatDuration(65_000), '1:05');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  alice.controller.stop();
  assert.equal(alice.store.get().log[0].outcome, 'channel-ended');
});

test('relay only without any TURN server ends the call at once (no_relay) instead of after the connect timeout', async () => {
  const { alice, bob } = pair({ bob: { hideIp: true } });
  await alice.controller.actions.call({ username: 'bob', video: false });
  await settle();
  await bob.controller.actions.accept({ video: false });
  await settle();
  assert.equal(bob.call().phase, 'ended');
  assert.equal(bob.call().endReason, 'no_relay');
  assert.equal(bob.pcs.length, 0, 'no connection was opened');
  assert.equal(alice.store.get().log[0].outcome, 'failed');
});

test('a microphone refused ends the call as failed before any channel is asked for; device lists are read after a permission', async () => {
  const clock = manualClock();
  const webrtc = fakeWebRtc();
  const channels = secureChannelStore({ self: 'alice', peer: 'bob', role: 'initiator' });
  const denied = callSide({ self: 'alice', peer: 'carol', role: 'initiator', clock, webrtc, channels, devices: fakeDevices({ failAudio: true }) });
  assert.deepEqual(await denied.controller.actions.call({ username: 'carol', video: false }), { ok: false });
  assert.equal(denied.call().endReason, 'no_media');
  assert.deepEqual(denied.opened, [], 'no channel opened for a call that already ended');
  const { alice } = await connectedCall();
  assert.equal(alice.store.get().devices.audioinput[0].deviceId, 'mic1');
});

// Every sender that sends a track had its SFrame transform before its transceiver's first local
// description; a sender transform set later is bypassed by Chromium (frames leave in clear).
function assertSendersTransformed(webrtc, label) {
  let sending = 0;
  for (const pc of webrtc.all) {
    for (const transceiver of pc.transceivers) {
      if (!transceiver.sender.track) continue;
      sending += 1;
      assert.ok(transceiver.sender.transform, `${label}: ${transceiver.kind} sender has a transform`);
      assert.equal(transceiver.sender.late, false, `${label}: ${transceiver.kind} sender transform set before its media channel`);
    }
  }
  return sending;
}

test('a camera turned on later reuses the video transceiver the peer\'s offer made: its sender was transformed in time', async () => {
  // (a) A video call answered audio-only; the callee turns the camera on.
  {
    const parties = pair();
    const { alice, bob, clock, webrtc } = parties;
    await alice.controller.actions.call({ username: 'bob', video: true });
    await settle();
    await bob.controller.actions.accept({ video: false });
    await settle();
    await clock.advance(1000);
    await bob.controller.actions.toggleCamera();
    await settle();
    const bobVideo = bob.pcs[0].transceivers.filter((t) => t.kind === 'video' && t.sender.track);
    assert.equal(bobVideo.length, 1, 'bob sends his camera on the transceiver alice\'s offer created');
    assert.equal(assertSendersTransformed(webrtc, 'video call answered audio-only'), 4);
  }
  // (b) An audio call: the callee adds a camera, then the caller adds one on the transceiver
  // the callee's offer created.
  {
    const { alice, bob, clock, webrtc } = pair();
    await alice.controller.actions.call({ username: 'bob', video: false });
    await settle();
    await bob.controller.actions.accept({ video: false });
    await settle();
    await clock.advance(1000);
    await bob.controller.actions.toggleCamera();
    await settle();
    await alice.controller.actions.toggleCamera();
    await settle();
    assert.equal(alice.pcs[0].transceivers.filter((t) => t.kind === 'video').length, 1, 'alice reuses the video transceiver of bob\'s offer');
    assert.equal(assertSendersTransformed(webrtc, 'audio call, both cameras later'), 4);
    for (const side of [alice, bob]) assert.deepEqual(side.transforms.filter((t) => t.direction === 'send').map((t) => t.kind).sort(), ['audio', 'video']);
  }
});

test('a video sent without SFrame while the audio is encrypted turns the indicator to not-encrypted (video_not_encrypted)', async () => {
  const { alice, clock } = await connectedCall({ video: true });
  await clock.advance(6000);
  assert.equal(alice.call().security.state, 'encrypted');
  // The Worker sees audio frames only, yet alice's video track is live and its bytes go out.
  alice.mediaActive.send = { audio: { frames: 100, active: true }, video: { frames: 0, active: false } };
  await clock.advance(1000);
  assert.equal(alice.call().security.state, 'not-encrypted');
  assert.equal(alice.call().security.reason, 'video_not_encrypted');
  assert.equal(alice.call().security.transform.sendActive, false);
});
