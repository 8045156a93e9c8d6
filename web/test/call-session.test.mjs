// One call's RTCPeerConnection handling (perfect negotiation, transforms, codecs) with fake
// WebRTC, and the pure parts beside it: the security verdict, the stats reader, the call store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, fakeWebRtc, FakeStream, FakeTrack } from './helpers/fake-calls.mjs';
import { createCallSession } from '../src/calls/call-session.js';
import { securityVerdict, transformCoverage, FIRST_VERDICT_GRACE_MS, KIND_GRACE_MS } from '../src/calls/call-security.js';
import { readStats, qualityOf } from '../src/calls/call-stats.js';
import { createCallStore, newCall, MAX_CALL_LOG } from '../src/state/call-store.js';

const call = '12'.repeat(16);
const session = 'ab'.repeat(16);

function sessionPair({ transformMode = 'script', e2ee = true } = {}) {
  const webrtc = fakeWebRtc();
  const sides = {};
  for (const [name, polite] of [['caller', false], ['callee', true]]) {
    const side = { sent: [], transforms: [], errors: [], remote: null, states: [] };
    side.session = createCallSession({
      env: { RTCPeerConnection: webrtc.RTCPeerConnection, RTCRtpReceiver: webrtc.RTCRtpReceiver, MediaStream: FakeStream },
      call, session, polite, iceServers: [], iceTransportPolicy: 'all', e2ee, transformMode,
      transforms: {
        createScriptTransform: (options) => { side.transforms.push(options); return { options }; },
        attachEncodedStreams: ({ options }) => side.transforms.push({ ...options, encoded: true }),
      },
      localTracks: Promise.resolve([new FakeTrack('audio'), new FakeTrack('video')]),
      sendSignal: (fields) => side.sent.push(fields),
      onRemoteStream: (stream) => { side.remote = stream; },
      onConnectionState: (state) => side.states.push(state),
      onError: (error) => side.errors.push(error),
    });
    sides[name] = side;
  }
  return sides;
}

/** Delivers every signal sent so far, both ways, until nothing new is sent. */
async function exchange(a, b) {
  const done = { a: 0, b: 0 };
  for (let round = 0; round < 20; round += 1) {
    await settle();
    const newA = a.sent.slice(done.a);
    const newB = b.sent.slice(done.b);
    if (newA.length === 0 && newB.length === 0) return;
    done.a += newA.length;
    done.b += newB.length;
    for (const [from, to] of [[newA, b], [newB, a]]) {
      for (const signal of from) {
        if (signal.kind === 'ice') to.session.handleCandidate(signal.candidate);
        else to.session.handleDescription({ type: signal.kind, sdp: signal.sdp });
      }
    }
  }
}

test('offer/answer: the caller offers, the callee answers with its tracks, transforms and codecs on all', async () => {
  const { caller, callee } = sessionPair();
  await exchange(caller, callee);
  assert.deepEqual(caller.sent.filter((s) => s.kind !== 'ice').map((s) => s.kind), ['offer']);
  assert.deepEqual(callee.sent.filter((s) => s.kind !== 'ice').map((s) => s.kind), ['answer']);
  for (const side of [caller, callee]) {
    assert.equal(side.session.pc.connectionState, 'connected');
    assert.deepEqual(side.transforms.map((t) => `${t.direction}/${t.kind}/${t.call === call}/${t.session === session}`).sort(),
      ['receive/audio/true/true', 'receive/video/true/true', 'send/audio/true/true', 'send/video/true/true']);
    assert.equal(side.remote.getTracks().length, 2);
    assert.equal(side.session.remoteFingerprints().length, 1);
    assert.deepEqual(side.errors, []);
    for (const transceiver of side.session.pc.transceivers) {
      assert.deepEqual(transceiver.codecs, transceiver.kind === 'audio' ? ['audio/opus', 'audio/telephone-event'] : ['video/VP8']);
    }
  }
});

test('glare: both sides offer at once; the polite callee yields and the call still connects', async () => {
  const { caller, callee } = sessionPair();
  await settle();
  // The callee sends too before it has seen the caller's offer.
  await callee.session.addLocalTrack(new FakeTrack('video'));
  callee.session.pc.onnegotiationneeded();
  await settle();
  assert.ok(caller.sent.some((s) => s.kind === 'offer') && callee.sent.some((s) => s.kind === 'offer'));
  await exchange(caller, callee);
  assert.equal(caller.session.pc.signalingState, 'stable');
  assert.equal(callee.session.pc.signalingState, 'stable');
  assert.equal(caller.session.pc.connectionState, 'connected');
});

test('an answer without an offer and candidates before any description do no harm', async () => {
  const { callee } = sessionPair();
  await callee.session.handleDescription({ type: 'answer', sdp: 'v=0\r\n' });
  await callee.session.handleCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null });
  await callee.session.handleCandidate(null);
  assert.equal(callee.session.pc.signalingState, 'stable');
  assert.equal(callee.session.pc.remoteDescription, null);
  assert.equal(callee.errors.length, 1, 'the stray candidate is reported, not thrown');
});

test('without e2ee no transform is attached; createEncodedStreams mode uses attachEncodedStreams', async () => {
  const plain = sessionPair({ e2ee: false });
  await exchange(plain.caller, plain.callee);
  assert.equal(plain.caller.transforms.length + plain.callee.transforms.length, 0);
  const encoded = sessionPair({ transformMode: 'encoded-streams' });
  for (const pc of [encoded.caller.session.pc, encoded.callee.session.pc]) assert.equal(pc.config.encodedInsertableStreams, true);
  await exchange(encoded.caller, encoded.callee);
  assert.equal(encoded.caller.transforms.filter((t) => t.encoded).length, 4);
});

test('a sender whose transform cannot be attached never sends', async () => {
  const { caller } = sessionPair({ transformMode: null });
  await settle();
  assert.equal(caller.session.pc.removed.length, 1, 'the first track is taken back; the rest are never added');
  assert.ok(caller.session.pc.removed.every((sender) => sender.track === null));
  assert.equal(caller.errors[0].code, 'no_transform');
  assert.equal(caller.session.hasSender('audio') || caller.session.hasSender('video'), false);
});

test('a sender negotiated without its transform never gets a track (addTrack reuse and replaceTrack refused)', async () => {
  const { caller, callee } = sessionPair();
  await exchange(caller, callee);
  // A video transceiver negotiated behind the session's back (no ontrack, no handleDescription):
  // its sender has no transform and its media channel exists.
  const { pc } = callee.session;
  const ontrack = pc.ontrack;
  pc.ontrack = null;
  const extra = new FakeTrack('video');
  const offerer = caller.session.pc;
  offerer.transceivers.push({ ...offerer.transceivers.find((t) => t.kind === 'video') });
  await pc.setRemoteDescription({ type: 'offer', sdp: offerer.sdp('offer') });
  await pc.setLocalDescription();
  pc.ontrack = ontrack;
  const bare = pc.transceivers.find((t) => t.kind === 'video' && !t.sender.transform);
  assert.ok(bare && bare.mid !== null, 'a negotiated video transceiver without a sender transform');
  // The callee already sends video on its own sender; a second video sender would reuse `bare`.
  const errorsBefore = callee.errors.length;
  const other = createCallSession({
    env: { RTCPeerConnection: class { constructor() { return pc; } }, RTCRtpReceiver: null, MediaStream: FakeStream },
    call, session, polite: true, iceServers: [], iceTransportPolicy: 'all', e2ee: true, transformMode: 'script',
    transforms: { createScriptTransform: (options) => ({ options }), attachEncodedStreams: () => {} },
    localTracks: Promise.resolve([]), sendSignal: () => {}, onRemoteStream: () => {}, onConnectionState: () => {},
    onError: (error) => callee.errors.push(error),
  });
  await other.addLocalTrack(extra);
  await settle();
  assert.equal(bare.sender.track, null, 'the track was taken back');
  assert.equal(bare.sender.transform, null, 'no transform set late on a negotiated sender');
  assert.equal(callee.errors.slice(errorsBefore)[0]?.code, 'late_transform');
  assert.equal(other.hasSender('video'), false);
  // Asked again, the track goes on a new transceiver (the refused one is not reused), whose
  // sender is transformed before its first negotiation.
  await other.replaceTrack('video', extra);
  await settle();
  assert.equal(bare.sender.track, null);
  assert.equal(other.hasSender('video'), true);
  const fresh = pc.transceivers.find((t) => t.sender.track === extra);
  assert.notEqual(fresh, bare);
  assert.ok(fresh.sender.transform);
  assert.equal(fresh.sender.late, false);
});

test('securityVerdict: encrypted only when every condition holds; checking only before the first verdict', () => {
  const all = { e2ee: true, sendActive: true, receiveActive: true, fingerprintsMatch: true, connectedFor: 10_000 };
  assert.deepEqual(securityVerdict(all), { state: 'encrypted', reason: null });
  const missing = [
    [{ e2ee: false }, 'e2ee_off'], [{ e2ee: undefined }, 'e2ee_off'], [{ fingerprintsMatch: false }, 'fingerprint_mismatch'],
    [{ fingerprintsMatch: null }, 'fingerprint_unchecked'], [{ sendActive: false }, 'send_transform_inactive'],
    [{ receiveActive: false }, 'receive_transform_inactive'], [{ sendActive: 'yes' }, 'send_transform_inactive'],
  ];
  for (const [change, reason] of missing) {
    assert.deepEqual(securityVerdict({ ...all, ...change }), { state: 'not-encrypted', reason }, JSON.stringify(change));
    // Before the grace period ends, a missing part is still being checked, never encrypted.
    const early = securityVerdict({ ...all, ...change, connectedFor: FIRST_VERDICT_GRACE_MS - 1 });
    assert.notEqual(early.state, 'encrypted');
    // Once a verdict was given, a missing part is not-encrypted at once.
    assert.equal(securityVerdict({ ...all, ...change, connectedFor: 0, hadVerdict: true }).state, 'not-encrypted');
  }
  assert.equal(securityVerdict({ ...all, sendActive: false, connectedFor: null }).state, 'checking');
});

test('transformCoverage: each kind that flows must pass the transform; audio never vouches for video', () => {
  const kinds = (audio, video, extra = {}) => ({ audio: { frames: 0, active: audio, ...extra.audio }, video: { frames: 0, active: video, ...extra.video } });
  const now = 100_000;
  const long = { send: { audio: 0, video: 0 }, receive: { audio: 0, video: 0 } };
  // Camera on, its frames bypass the sender transform: the Worker sees audio only (sendActive true).
  const bypass = { sendActive: true, receiveActive: true, send: kinds(true, false), receive: kinds(true, false) };
  let result = transformCoverage({ media: bypass, sending: ['audio', 'video'], receiving: ['audio'], since: long, now });
  assert.deepEqual(result, { sendActive: false, receiveActive: true, unprotected: ['video'] });
  assert.deepEqual(securityVerdict({ e2ee: true, ...result, fingerprintsMatch: true, connectedFor: 60_000, hadVerdict: true }), { state: 'not-encrypted', reason: 'video_not_encrypted' });
  // The same on the receiving side: video bytes arrive, no video frame decrypts.
  result = transformCoverage({ media: bypass, sending: ['audio'], receiving: ['audio', 'video'], since: long, now });
  assert.deepEqual(result, { sendActive: true, receiveActive: false, unprotected: ['video'] });
  // A kind that just started (camera turned on, renegotiating) has KIND_GRACE_MS.
  const fresh = { send: { audio: 0, video: now - KIND_GRACE_MS + 1 }, receive: { audio: 0 } };
  assert.deepEqual(transformCoverage({ media: bypass, sending: ['audio', 'video'], receiving: ['audio'], since: fresh, now }).unprotected, []);
  // Video frames refused (clear VP8 read as SFrame) while audio decrypts: unprotected at once.
  const before = { sendActive: true, receiveActive: true, send: kinds(true, false), receive: kinds(true, false, { audio: { frames: 10 }, video: { noKey: 5 } }) };
  const after = { ...before, receive: kinds(true, false, { audio: { frames: 60 }, video: { noKey: 55 } }) };
  result = transformCoverage({ media: after, previous: before, sending: ['audio'], receiving: [], since: long, now });
  assert.deepEqual(result, { sendActive: true, receiveActive: false, unprotected: ['video'] });
  // A re-key glitch (a few noKey frames while the kind's own frames still decrypt) is not that.
  const glitch = { ...before, receive: kinds(true, true, { audio: { frames: 60 }, video: { frames: 30, noKey: 7 } }) };
  assert.deepEqual(transformCoverage({ media: glitch, previous: before, sending: ['audio'], receiving: ['audio', 'video'], since: long, now }).unprotected, []);
  // Nothing in a direction active: the direction's reason, not a kind's.
  const none = { sendActive: false, receiveActive: true, send: kinds(false, false), receive: kinds(true, false) };
  result = transformCoverage({ media: none, sending: ['audio'], receiving: ['audio'], since: long, now });
  assert.deepEqual(result, { sendActive: false, receiveActive: true, unprotected: [] });
  assert.equal(securityVerdict({ e2ee: true, ...result, fingerprintsMatch: true, connectedFor: 60_000 }).reason, 'send_transform_inactive');
  // All kinds in use active: encrypted.
  const good = { sendActive: true, receiveActive: true, send: kinds(true, true), receive: kinds(true, true) };
  result = transformCoverage({ media: good, sending: ['audio', 'video'], receiving: ['audio', 'video'], since: long, now });
  assert.deepEqual(securityVerdict({ e2ee: true, ...result, fingerprintsMatch: true, connectedFor: 60_000 }), { state: 'encrypted', reason: null });
});

test('readStats and qualityOf: certificate, path, RTT, bitrate and loss', () => {
  const report = (bytes, at) => new Map([
    ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P', remoteCertificateId: 'C', timestamp: at }],
    ['C', { id: 'C', type: 'certificate', fingerprint: 'AA:BB', fingerprintAlgorithm: 'sha-256' }],
    ['P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.05 }],
    ['L', { id: 'L', type: 'local-candidate', candidateType: 'host' }],
    ['R', { id: 'R', type: 'remote-candidate', candidateType: 'relay' }],
    ['O', { id: 'O', type: 'outbound-rtp', bytesSent: bytes, timestamp: at }],
    ['I', { id: 'I', type: 'inbound-rtp', bytesReceived: bytes * 2, packetsLost: bytes / 1000, packetsReceived: bytes / 100, timestamp: at }],
  ]);
  const first = readStats(report(10_000, 1000));
  assert.deepEqual(first.remoteCertificate, { fingerprint: 'AA:BB', fingerprintAlgorithm: 'sha-256' });
  assert.equal(first.path, 'relay');
  assert.equal(first.rttMs, 50);
  const quality = qualityOf(first, readStats(report(20_000, 2000)));
  assert.deepEqual(quality.bitrateKbps, { send: 80, receive: 160 });
  assert.ok(Math.abs(quality.packetLoss - 10 / 110) < 1e-9);
  assert.equal(readStats(null).remoteCertificate, null);
  assert.equal(readStats(null).path, null);
});

test('call store: frozen snapshots, updates only for the current call id, log capped at 50, newest first', () => {
  const store = createCallStore({ support: { webrtc: true, transform: 'script', missing: [] } });
  assert.ok(Object.isFrozen(store.get()) && Object.isFrozen(store.get().support));
  store.begin(newCall({ id: call, peer: 'bob', direction: 'outgoing', media: 'audio', phase: 'calling', startedAt: 1 }));
  store.update('99'.repeat(16), { phase: 'active' });
  assert.equal(store.get().call.phase, 'calling');
  store.update(call, { phase: 'active', remote: { camera: true, muted: false, screen: false } });
  assert.equal(store.get().call.phase, 'active');
  assert.ok(Object.isFrozen(store.get().call) && Object.isFrozen(store.get().call.remote));
  store.updateSecurity(call, { state: 'encrypted' });
  assert.equal(store.get().call.security.state, 'encrypted');
  assert.ok(Object.isFrozen(store.get().call.security));
  for (let i = 0; i < MAX_CALL_LOG + 5; i += 1) store.addLog({ peer: `u${i}`, direction: 'incoming', media: 'audio', outcome: 'missed', at: i });
  assert.equal(store.get().log.length, MAX_CALL_LOG);
  assert.equal(store.get().log[0].peer, `u${MAX_CALL_LOG + 4}`);
  assert.throws(() => store.addLog({ peer: 'x', direction: 'incoming', media: 'audio', outcome: 'hacked', at: 0 }), RangeError);
  store.selectDevice('audiooutput', 'spk');
  assert.equal(store.get().devices.selected.audiooutput, 'spk');
  assert.throws(() => store.selectDevice('usb', 'x'), RangeError);
});
