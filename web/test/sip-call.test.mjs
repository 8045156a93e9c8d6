// The SIP call logic with small fakes of SIP.js sessions: state mapping, busy when a call is on
// (SIP or end to end), decline/busy status codes, hold by re-INVITE, mute, DTMF by RFC 4733 or
// SIP INFO, blind transfer, and the history of the login.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSipCallManager, peerHasTelephoneEvent, sendDtmfTone, offersVideo, constraintsFor } from '../src/sip/sip-call.js';
import { callPhaseOf, endReasonOf, registrationOf, failureReasonOf, outcomeOf } from '../src/sip/sip-states.js';
import { createSipHistory } from '../src/sip/sip-history.js';

const telephoneEventSdp = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n';
const plainSdp = 'v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

class FakeSession {
  constructor({ id = 'a1', uri = 'sip:bob@localhost', body = plainSdp, remoteSdp = plainSdp } = {}) {
    this.id = id;
    this.state = 'Initial';
    this.listeners = [];
    this.stateChange = { addListener: (fn) => this.listeners.push(fn) };
    this.remoteIdentity = { uri: { toString: () => uri }, displayName: '' };
    this.body = body;
    this.sent = [];
    this.tracks = [{ enabled: true }, { enabled: true }];
    this.dtmfResult = true;
    this.sessionDescriptionHandler = {
      peerConnection: { remoteDescription: { sdp: remoteSdp }, getSenders: () => this.tracks.map((track) => ({ track })) },
      sendDtmf: (tone) => { this.sent.push(['rtp', tone]); return this.dtmfResult; },
      remoteMediaStream: { getVideoTracks: () => [], addEventListener() {} },
      localMediaStream: { getVideoTracks: () => [] },
    };
    this.inviteAnswer = 'accept';
  }
  setState(state) {
    this.state = state;
    for (const fn of this.listeners) fn(state);
  }
  reject(options) { this.sent.push(['reject', options.statusCode]); this.setState('Terminated'); return Promise.resolve(); }
  accept() { this.sent.push(['accept']); this.setState('Established'); return Promise.resolve(); }
  bye() { this.sent.push(['bye']); this.setState('Terminated'); return Promise.resolve(); }
  cancel() { this.sent.push(['cancel']); this.setState('Terminated'); return Promise.resolve(); }
  info(options) { this.sent.push(['info', options.requestOptions.body.content]); return Promise.resolve(); }
  invite(options) {
    this.sent.push(['re-invite', this.sessionDescriptionHandlerOptionsReInvite?.hold]);
    queueMicrotask(() => (this.inviteAnswer === 'accept' ? options.requestDelegate.onAccept() : options.requestDelegate.onReject()));
    return Promise.resolve();
  }
  refer(target, options) {
    this.sent.push(['refer', target]);
    queueMicrotask(() => options.requestDelegate.onAccept());
    return Promise.resolve();
  }
}

function setup({ otherCall = false } = {}) {
  let now = 1000;
  const published = [];
  const history = createSipHistory({ now: () => now });
  const inviters = [];
  class Inviter extends FakeSession {
    constructor(userAgent, target, options) {
      super({ id: `out${inviters.length}`, uri: target });
      this.options = options;
      inviters.push(this);
    }
    invite(options) {
      if (this.state !== 'Initial') return super.invite(options);
      this.sent.push(['invite']);
      this.setState('Establishing');
      this.inviteDelegate = options.requestDelegate;
      return Promise.resolve();
    }
  }
  const manager = createSipCallManager({
    sip: { Inviter, makeURI: (uri) => (uri.startsWith('sip:') ? uri : undefined) },
    userAgent: () => ({}),
    publish: (call) => published.push(call),
    history,
    otherCallActive: () => otherCall,
    selectedDevices: () => ({ audioinput: 'mic-2', videoinput: null }),
    env: { now: () => now },
  });
  return { manager, history, published, inviters, advance: (ms) => { now += ms; } };
}

test('registerer and session states map to what the phone shows', () => {
  assert.deepEqual(registrationOf({ registerer: 'Registered' }), { state: 'registered', reason: null });
  assert.deepEqual(registrationOf({ registerer: 'Unregistered', failure: '403 Forbidden' }), { state: 'failed', reason: '403 Forbidden' });
  assert.deepEqual(registrationOf({ registerer: 'Initial', pending: true }), { state: 'registering', reason: null });
  assert.deepEqual(registrationOf({ registerer: 'Unregistered' }), { state: 'off', reason: null });
  assert.deepEqual(registrationOf({ registerer: 'Registered', wanted: false }), { state: 'off', reason: null });
  assert.equal(failureReasonOf({ message: { statusCode: 401, reasonPhrase: 'Unauthorized' } }), '401 Unauthorized');
  assert.equal(failureReasonOf(new Error('WebSocket closed')), 'WebSocket closed');
  assert.equal(callPhaseOf('Initial', { direction: 'incoming' }), 'incoming');
  assert.equal(callPhaseOf('Establishing', { direction: 'incoming', answered: true }), 'connecting');
  assert.equal(callPhaseOf('Establishing', { direction: 'outgoing' }), 'ringing');
  assert.equal(callPhaseOf('Established', { direction: 'outgoing' }), 'connected');
  assert.equal(callPhaseOf('Terminated', { direction: 'outgoing' }), 'ended');
  assert.equal(endReasonOf(486), 'busy');
  assert.equal(endReasonOf(603), 'declined');
  assert.equal(endReasonOf(404), 'not_found');
  assert.equal(endReasonOf(500), 'failed');
  assert.equal(outcomeOf({ direction: 'incoming', connected: false, endReason: null }), 'missed');
  assert.equal(outcomeOf({ direction: 'outgoing', connected: true, endReason: 'busy' }), 'answered');
});

test('an incoming call rings, is accepted, held, resumed, and hung up; the history keeps its duration', async () => {
  const { manager, history, published, advance } = setup();
  const invitation = new FakeSession({ uri: 'sip:1000@localhost', body: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\n' });
  assert.equal(manager.incoming(invitation), 'ringing');
  assert.equal(manager.current().phase, 'incoming');
  assert.equal(manager.current().offersVideo, true);
  assert.equal(manager.current().peer.username, '1000@localhost');
  await manager.accept({ video: false });
  assert.equal(manager.current().phase, 'connected');
  assert.equal(manager.current().media, 'audio', 'video offered, audio chosen');
  assert.deepEqual(invitation.sessionDescriptionHandlerOptionsReInvite.constraints, { audio: { deviceId: { exact: 'mic-2' } }, video: false });
  assert.equal(await manager.hold(true), true);
  assert.equal(manager.current().held, true);
  assert.deepEqual(invitation.sent.at(-1), ['re-invite', true], 'hold is a re-INVITE with the hold option');
  assert.equal(await manager.hold(false), true);
  assert.equal(manager.current().held, false);
  assert.deepEqual(invitation.sent.at(-1), ['re-invite', false]);
  advance(65_000);
  manager.hangUp();
  assert.deepEqual(invitation.sent.at(-1), ['bye']);
  assert.equal(manager.current(), null);
  assert.equal(published.at(-1).phase, 'ended');
  const [entry] = history.list();
  assert.equal(entry.outcome, 'answered');
  assert.equal(entry.durationMs, 65_000);
  assert.equal(entry.direction, 'incoming');
});

test('a refused hold leaves the call as it was', async () => {
  const { manager } = setup();
  const invitation = new FakeSession();
  manager.incoming(invitation);
  await manager.accept();
  invitation.inviteAnswer = 'reject';
  assert.equal(await manager.hold(true), false);
  assert.equal(manager.current().held, false);
  assert.equal(manager.current().holdPending, false);
  assert.equal(invitation.sessionDescriptionHandlerOptionsReInvite.hold, false);
});

test('decline answers 603; a second call while one is on gets 486 and is noted as busy', async () => {
  const { manager, history } = setup();
  const first = new FakeSession({ id: 'x1', uri: 'sip:carol@localhost' });
  manager.incoming(first);
  const second = new FakeSession({ id: 'x2', uri: 'sip:dave@localhost' });
  assert.equal(manager.incoming(second), 'busy');
  assert.deepEqual(second.sent, [['reject', 486]]);
  assert.equal(manager.current().peer.username, 'carol@localhost', 'the first call still rings');
  manager.decline();
  assert.deepEqual(first.sent, [['reject', 603]]);
  assert.deepEqual(history.list().map((entry) => [entry.peer, entry.outcome]), [['dave@localhost', 'busy'], ['carol@localhost', 'declined']]);
});

test('busy while an end-to-end call is on: incoming refused with 486, dialling refused', () => {
  const { manager, inviters } = setup({ otherCall: true });
  const invitation = new FakeSession();
  assert.equal(manager.incoming(invitation), 'busy');
  assert.deepEqual(invitation.sent, [['reject', 486]]);
  assert.equal(manager.dial('sip:bob@localhost'), 'busy');
  assert.equal(inviters.length, 0);
});

test('an unanswered incoming call is missed; an outgoing call refused 486 is busy, one cancelled is cancelled', () => {
  const { manager, history, inviters } = setup();
  const invitation = new FakeSession();
  manager.incoming(invitation);
  invitation.setState('Terminated');   // the caller gave up (CANCEL)
  assert.equal(history.list()[0].outcome, 'missed');
  assert.equal(manager.dial('sip:bob@localhost', { video: true }), 'calling');
  assert.equal(manager.current().phase, 'ringing');
  assert.deepEqual(inviters[0].options.sessionDescriptionHandlerOptions.constraints.video, true);
  inviters[0].inviteDelegate.onReject({ message: { statusCode: 486 } });
  inviters[0].setState('Terminated');
  assert.equal(history.list()[0].outcome, 'busy');
  manager.dial('sip:bob@localhost');
  manager.hangUp();
  assert.deepEqual(inviters[1].sent.at(-1), ['cancel'], 'hanging up while it rings cancels');
  assert.equal(history.list()[0].outcome, 'cancelled');
});

test('mute disables the sent tracks without renegotiation', async () => {
  const { manager } = setup();
  const invitation = new FakeSession();
  manager.incoming(invitation);
  await manager.accept();
  manager.mute(true);
  assert.deepEqual(invitation.tracks.map((track) => track.enabled), [false, false]);
  assert.equal(manager.current().muted, true);
  assert.ok(!invitation.sent.some(([kind]) => kind === 're-invite'));
  manager.mute(false);
  assert.deepEqual(invitation.tracks.map((track) => track.enabled), [true, true]);
});

test('DTMF goes in the RTP when the peer announced telephone-event, else by SIP INFO', async () => {
  const withEvent = new FakeSession({ remoteSdp: telephoneEventSdp });
  assert.equal(peerHasTelephoneEvent(withEvent), true);
  assert.equal(sendDtmfTone(withEvent, '5'), 'rtp');
  assert.deepEqual(withEvent.sent, [['rtp', '5']]);

  const without = new FakeSession({ remoteSdp: plainSdp });
  assert.equal(peerHasTelephoneEvent(without), false);
  assert.equal(sendDtmfTone(without, '#'), 'info');
  assert.deepEqual(without.sent, [['info', 'Signal=#\r\nDuration=160\r\n']]);

  const refused = new FakeSession({ remoteSdp: telephoneEventSdp });
  refused.dtmfResult = false;   // no RTCDTMFSender on this sender
  assert.equal(sendDtmfTone(refused, '1'), 'info');
  assert.throws(() => sendDtmfTone(without, 'x'), RangeError);

  const { manager } = setup();
  const invitation = new FakeSession({ remoteSdp: plainSdp });
  manager.incoming(invitation);
  assert.equal(manager.sendDtmf('1'), null, 'no tones before the call is connected');
  await manager.accept();
  assert.equal(manager.sendDtmf('12'), 'info');
  assert.equal(manager.current().dtmfSent, '12');
  assert.equal(manager.current().dtmfMethod, 'info');
});

test('blind transfer REFERs and hangs up once the peer took it', async () => {
  const { manager, history } = setup();
  const invitation = new FakeSession();
  manager.incoming(invitation);
  await manager.accept();
  manager.transfer('sip:carol@localhost');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(invitation.sent.slice(-2), [['refer', 'sip:carol@localhost'], ['bye']]);
  assert.equal(manager.current(), null);
  assert.equal(history.list()[0].outcome, 'answered');
});

test('helpers: video offer detection and device constraints', () => {
  assert.equal(offersVideo('m=audio 1 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n'), false, 'a rejected (port 0) video line is no offer');
  assert.equal(offersVideo('m=video 5004 RTP/AVP 96'), true);
  assert.deepEqual(constraintsFor({ video: true, selected: {} }), { audio: true, video: true });
});

test('the history is newest first, bounded, and finishes an entry once', () => {
  let now = 0;
  const history = createSipHistory({ now: () => now, limit: 3 });
  const ids = [1, 2, 3, 4].map((n) => { now = n; return history.add({ direction: 'outgoing', peer: `u${n}@d` }); });
  assert.deepEqual(history.list().map((entry) => entry.peer), ['u4@d', 'u3@d', 'u2@d']);
  assert.equal(history.finish(ids[3], { outcome: 'answered', durationMs: 5 }), true);
  assert.equal(history.finish(ids[3], { outcome: 'failed' }), false);
  assert.equal(history.list()[0].outcome, 'answered');
  assert.equal(history.finish(ids[0], { outcome: 'failed' }), false, 'an entry dropped by the bound is gone');
  assert.ok(Object.isFrozen(history.list()) && Object.isFrozen(history.list()[0]));
});
