// What a hostile SIP peer must not get from the call manager: a REFER never places a call by
// itself, no microphone or camera track stays live once a call ended (stray sessions included),
// an audio-only answer refuses the offered video and never shows the peer's, and a caller's
// name and address are shown without bidi tricks and within a bounded length.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSipCallManager, refuseVideo, guardSession } from '../src/sip/sip-call.js';
import { createSipHistory } from '../src/sip/sip-history.js';
import { displayAddressOf, displayNameOf, MAX_DISPLAY_ADDRESS } from '../src/sip/sip-states.js';

const audioVideoOffer = 'v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\nm=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n';

function fakeTrack(kind) {
  return { kind, enabled: true, readyState: 'live', stop() { this.readyState = 'ended'; } };
}

/** A SIP.js session as far as the manager uses it, with real-looking media objects. */
class FakeSession {
  constructor({ id = 's1', uri = 'sip:bob@localhost', body = '', displayName = '', remoteVideo = false } = {}) {
    this.id = id;
    this.state = 'Initial';
    this.listeners = [];
    this.stateChange = { addListener: (fn) => this.listeners.push(fn) };
    this.remoteIdentity = { uri: { toString: () => uri }, displayName };
    this.body = body;
    this.sent = [];
    this.disposed = false;
    const mic = fakeTrack('audio');
    const remoteTracks = [fakeTrack('audio'), ...(remoteVideo ? [fakeTrack('video')] : [])];
    this.liveTracks = [mic, ...remoteTracks];
    const peerConnection = {
      signalingState: 'stable',
      getSenders: () => [{ track: mic }],
      getReceivers: () => remoteTracks.map((track) => ({ track })),
      close() { this.signalingState = 'closed'; },
    };
    this.peerConnection = peerConnection;
    this.sessionDescriptionHandler = {
      peerConnection,
      remoteMediaStream: { getVideoTracks: () => remoteTracks.filter((t) => t.kind === 'video'), addEventListener() {} },
      localMediaStream: { getVideoTracks: () => [], getTracks: () => [mic] },
    };
  }
  setState(state) {
    this.state = state;
    for (const fn of this.listeners) fn(state);
  }
  reject(options) { this.sent.push(['reject', options?.statusCode]); this.setState('Terminated'); return Promise.resolve(); }
  accept(options) { this.sent.push(['accept', options]); this.setState('Established'); return Promise.resolve(); }
  bye() { this.sent.push(['bye']); this.setState('Terminated'); return Promise.resolve(); }
  cancel() { this.sent.push(['cancel']); this.setState('Terminated'); return Promise.resolve(); }
  dispose() { this.disposed = true; return Promise.resolve(); }
}

function setup({ strays = [] } = {}) {
  const published = [];
  const inviters = [];
  class Inviter extends FakeSession {
    constructor(userAgent, target, options) {
      super({ id: `out${inviters.length}`, uri: target });
      this.options = options;
      inviters.push(this);
    }
    invite() {
      this.sent.push(['invite']);
      this.setState('Establishing');
      return Promise.resolve();
    }
  }
  const manager = createSipCallManager({
    sip: { Inviter, makeURI: (uri) => uri },
    userAgent: () => ({}),
    publish: (call) => published.push(call),
    history: createSipHistory({ now: () => 1000 }),
    sessions: () => strays,
    env: { now: () => 1000 },
  });
  return { manager, published, inviters };
}

const flush = async () => { for (let i = 0; i < 5; i += 1) await Promise.resolve(); };

test('a peer\'s REFER is declined (603), never followed, on incoming and outgoing calls', async () => {
  const { manager, inviters } = setup();
  const invitation = new FakeSession();
  manager.incoming(invitation);
  assert.equal(typeof invitation.delegate?.onRefer, 'function', 'the Invitation has a REFER handler before it is answered');
  await manager.accept();
  const referral = { answers: [], accept() { this.answers.push('accept'); return Promise.resolve(); }, reject(options) { this.answers.push(options.statusCode); return Promise.resolve(); }, makeInviter() { throw new Error('must not follow'); } };
  invitation.delegate.onRefer(referral);
  await flush();
  assert.deepEqual(referral.answers, [603]);
  manager.hangUp();

  manager.dial('sip:carol@localhost');
  assert.equal(typeof inviters[0].delegate?.onRefer, 'function', 'the Inviter has a REFER handler before its INVITE goes out');
  const second = { answers: [], reject(options) { this.answers.push(options.statusCode); return Promise.resolve(); } };
  inviters[0].delegate.onRefer(second);
  assert.deepEqual(second.answers, [603]);
});

test('an INVITE refused as busy still gets the REFER guard', () => {
  const { manager } = setup();
  manager.incoming(new FakeSession({ id: 'a' }));
  const other = new FakeSession({ id: 'b' });
  assert.equal(manager.incoming(other), 'busy');
  assert.equal(typeof other.delegate?.onRefer, 'function');
  const session = guardSession({});
  assert.ok(Object.isFrozen(session.delegate));
});

test('once a call ends no track of it is live and its peer connection is closed', async () => {
  const { manager } = setup();
  const invitation = new FakeSession({ body: audioVideoOffer, remoteVideo: true });
  manager.incoming(invitation);
  await manager.accept({ video: false });
  assert.ok(invitation.liveTracks.every((track) => track.readyState === 'live'));
  manager.hangUp();
  await flush();
  assert.equal(manager.current(), null);
  assert.deepEqual(invitation.liveTracks.map((track) => track.readyState), ['ended', 'ended', 'ended'], 'microphone and received tracks stopped');
  assert.equal(invitation.peerConnection.signalingState, 'closed');
});

test('a session the manager does not show (a stray one) is ended with its media when a call ends', async () => {
  const stray = new FakeSession({ id: 'hidden' });
  const strays = [];
  const { manager } = setup({ strays });
  const invitation = new FakeSession();
  manager.incoming(invitation);
  await manager.accept();
  strays.push(invitation, stray);
  manager.hangUp();
  await flush();
  assert.equal(stray.disposed, true, 'the hidden session is disposed');
  assert.ok(stray.liveTracks.every((track) => track.readyState === 'ended'), 'no live track is left in it');
  assert.equal(stray.peerConnection.signalingState, 'closed');
});

test('"accept (audio only)" refuses the offered video and never shows the peer\'s', async () => {
  const { manager } = setup();
  const invitation = new FakeSession({ body: audioVideoOffer, remoteVideo: true });
  manager.incoming(invitation);
  await manager.accept({ video: false });
  const [, options] = invitation.sent.find(([what]) => what === 'accept');
  assert.ok(options.sessionDescriptionHandlerModifiers.includes(refuseVideo), 'the answer refuses video');
  assert.ok(invitation.sessionDescriptionHandlerModifiersReInvite.includes(refuseVideo), 'a re-INVITE cannot bring it back');
  assert.equal(manager.current().media, 'audio');
  assert.equal(manager.current().remoteVideo, false, 'the remote video track is not shown');
  const refused = await refuseVideo({ type: 'offer', sdp: audioVideoOffer });
  assert.match(refused.sdp, /^m=video 0 RTP\/AVP 96$/m);
  assert.match(refused.sdp, /^m=audio 4000 /m);
  assert.equal(refused.type, 'offer');
});

test('accepting with video keeps it; an outgoing audio call refuses video in re-INVITEs', async () => {
  const { manager, inviters } = setup();
  const invitation = new FakeSession({ body: audioVideoOffer, remoteVideo: true });
  manager.incoming(invitation);
  await manager.accept({ video: true });
  const [, options] = invitation.sent.find(([what]) => what === 'accept');
  assert.ok(!options.sessionDescriptionHandlerModifiers.includes(refuseVideo));
  assert.equal(manager.current().remoteVideo, true);
  manager.hangUp();
  await flush();
  manager.dial('sip:carol@localhost');
  assert.ok(inviters[0].sessionDescriptionHandlerModifiersReInvite.includes(refuseVideo));
});

test('a caller\'s display name loses bidi and control characters; name and address are capped', () => {
  const { manager } = setup();
  const longUser = '1'.repeat(10_000);
  manager.incoming(new FakeSession({ uri: `sip:${longUser}@ecila`, displayName: 'Alice\u202E\u2066\u200f\u0007' }));
  const { peer } = manager.current();
  assert.equal(peer.displayName, 'Alice');
  assert.equal([...peer.username].length, MAX_DISPLAY_ADDRESS);
  assert.ok(peer.username.endsWith('…'));
  assert.equal(peer.uri, `sip:${longUser}@ecila`, 'the full address is kept for calling back');
  assert.equal(displayNameOf('\u202Etsohlacol\u202C'), 'tsohlacol');
  assert.equal(displayNameOf('x'.repeat(200)).length, 64);
  assert.equal(displayAddressOf('sip:bob@localhost;transport=ws'), 'bob@localhost');
});
