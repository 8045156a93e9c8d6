// Guard: a hostile caller renegotiates with extra m-lines (a second and third
// video, a second audio) in an audio call; the callee's camera turned on afterwards and
// screen-share replaceTrack go only through transformed senders; no sender or receiver is late.
// Run from /work/main: node --test web/test/call-third-mline.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, fakeWebRtc, FakeStream, FakeTrack } from './helpers/fake-calls.mjs';
import { createCallSession } from '../src/calls/call-session.js';

const call = '12'.repeat(16);
const session = 'ab'.repeat(16);
const sdp = (kinds) => `${['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=fingerprint:sha-256 ${'AA:'.repeat(31)}AA`, ...kinds.map((k) => `m=${k} 9 UDP/TLS/RTP/SAVPF 96`)].join('\r\n')}\r\n`;

test('extra m-lines from the peer: every transceiver transformed before the answer, camera and screen only on a transformed sender', async () => {
  const webrtc = fakeWebRtc();
  const side = { sent: [], errors: [] };
  const s = createCallSession({
    env: { RTCPeerConnection: webrtc.RTCPeerConnection, RTCRtpReceiver: webrtc.RTCRtpReceiver, MediaStream: FakeStream },
    call, session, polite: true, iceServers: [], iceTransportPolicy: 'all', e2ee: true, transformMode: 'script',
    transforms: { createScriptTransform: (options) => ({ options }), attachEncodedStreams: () => {} },
    localTracks: Promise.resolve([new FakeTrack('audio')]),
    sendSignal: (f) => side.sent.push(f), onRemoteStream: () => {}, onConnectionState: () => {}, onError: (e) => side.errors.push(e),
  });
  await s.handleDescription({ type: 'offer', sdp: sdp(['audio']) });
  await settle();
  await s.handleDescription({ type: 'offer', sdp: sdp(['audio', 'video', 'video', 'audio']) });
  await settle();
  await s.replaceTrack('video', new FakeTrack('video'));   // camera on later
  await settle();
  await s.replaceTrack('video', new FakeTrack('video'));   // screen share
  await settle();
  const pc = s.pc;
  assert.equal(side.errors.length, 0, String(side.errors[0]));
  assert.equal(pc.getTransceivers().length, 4);
  for (const t of pc.getTransceivers()) {
    assert.ok(t.sender.transform && !t.sender.late, `sender ${t.mid} transformed in time`);
    assert.ok(t.receiver.transform && !t.receiver.late, `receiver ${t.mid} transformed in time`);
  }
  const withTrack = pc.getTransceivers().filter((t) => t.sender.track);
  assert.equal(withTrack.length, 2);
});
