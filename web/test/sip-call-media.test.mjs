// When this end's microphone (and camera) may send: a held call sends nothing (SIP's sendonly
// hold would keep the RTP flowing), a refused hold or a resume while muted leaves the tracks as
// the user wants them, and an outgoing call sends nothing before the callee answers, whether or
// not an early-media 183 opened the media path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSipCallManager } from '../src/sip/sip-call.js';
import { createSipHistory } from '../src/sip/sip-history.js';

const track = (kind) => ({ kind, enabled: true, readyState: 'live', stop() { this.readyState = 'ended'; } });

/**
 * A SIP.js session as far as media goes: tracks appear enabled when SIP.js gets the local media
 * (getUserMedia) and the session description modifiers run after that, before the description is
 * set, as SessionDescriptionHandler.getDescription/setDescription do.
 */
class FakeSession {
  constructor({ id = 's1', uri = 'sip:bob@localhost' } = {}) {
    this.id = id;
    this.state = 'Initial';
    this.listeners = [];
    this.stateChange = { addListener: (fn) => this.listeners.push(fn) };
    this.remoteIdentity = { uri: { toString: () => uri }, displayName: '' };
    this.body = '';
    this.sent = [];
    this.senders = [];
    this.receivers = [{ track: track('audio') }];
    this.inviteAnswer = 'accept';
    this.sessionDescriptionHandler = {
      peerConnection: { signalingState: 'stable', getSenders: () => this.senders, getReceivers: () => this.receivers, close() {} },
      remoteMediaStream: { getVideoTracks: () => [], addEventListener() {} },
      localMediaStream: { getVideoTracks: () => [], getTracks: () => this.senders.map((s) => s.track) },
    };
  }
  /** What SIP.js does to make or take a description: local media first, then the modifiers. */
  async describe(modifiers = []) {
    if (this.senders.length === 0) this.senders = [{ track: track('audio') }, { track: track('video') }];
    let description = { type: 'offer', sdp: 'v=0\r\nm=audio 9 RTP/AVP 0\r\n' };
    for (const modifier of modifiers) description = await modifier(description);
    return description;
  }
  sendersEnabled() { return this.senders.map((s) => s.track.enabled); }
  receiversEnabled() { return this.receivers.map((r) => r.track.enabled); }
  setState(state) {
    this.state = state;
    for (const fn of this.listeners) fn(state);
  }
  async accept(options) {
    await this.describe(options?.sessionDescriptionHandlerModifiers);
    this.setState('Established');
  }
  bye() { this.setState('Terminated'); return Promise.resolve(); }
  cancel() { this.setState('Terminated'); return Promise.resolve(); }
  reject() { this.setState('Terminated'); return Promise.resolve(); }
  async invite(options) {
    // The re-INVITE's offer is made (and sent) here: record what the microphone was doing then.
    await this.describe(this.sessionDescriptionHandlerModifiersReInvite);
    this.sent.push({ hold: this.sessionDescriptionHandlerOptionsReInvite?.hold, sending: this.sendersEnabled() });
    queueMicrotask(() => (this.inviteAnswer === 'accept' ? options.requestDelegate.onAccept() : options.requestDelegate.onReject()));
    if (this.inviteAnswer === 'throw') throw new Error('transport closed');
  }
}

function setup() {
  const inviters = [];
  class Inviter extends FakeSession {
    constructor(userAgent, target, options) {
      super({ id: `out${inviters.length}`, uri: target });
      this.options = options;
      inviters.push(this);
    }
    async invite(options) {
      if (this.state !== 'Initial') return super.invite(options);
      this.setState('Establishing');
      await this.describe(this.options.sessionDescriptionHandlerModifiers);
      return undefined;
    }
    /** A 183 Session Progress with SDP, or the 200: SIP.js sets the answer through the modifiers. */
    async answerArrives() {
      await this.describe(this.options.sessionDescriptionHandlerModifiers);
    }
  }
  const manager = createSipCallManager({
    sip: { Inviter, makeURI: (uri) => uri },
    userAgent: () => ({}),
    publish: () => {},
    history: createSipHistory({ now: () => 1000 }),
    env: { now: () => 1000 },
  });
  return { manager, inviters };
}

async function connectedIncoming(manager) {
  const invitation = new FakeSession();
  manager.incoming(invitation);
  await manager.accept();
  assert.equal(manager.current().phase, 'connected');
  assert.deepEqual(invitation.sendersEnabled(), [true, true], 'an answered call sends');
  return invitation;
}

test('hold switches the microphone and camera off before the re-INVITE leaves and silences the peer; resume restores them', async () => {
  const { manager } = setup();
  const session = await connectedIncoming(manager);
  assert.equal(await manager.hold(true), true);
  assert.deepEqual(session.sent.at(-1), { hold: true, sending: [false, false] }, 'silent when the hold offer is made');
  assert.deepEqual(session.sendersEnabled(), [false, false], 'held: nothing is sent');
  assert.deepEqual(session.receiversEnabled(), [false], 'held: the peer is not played');
  manager.mute(false);
  assert.deepEqual(session.sendersEnabled(), [false, false], 'unmuting while held does not open the microphone');
  assert.equal(await manager.hold(false), true);
  assert.deepEqual(session.sendersEnabled(), [true, true], 'resumed');
  assert.deepEqual(session.receiversEnabled(), [true]);
});

test('resuming a muted call keeps the microphone off', async () => {
  const { manager } = setup();
  const session = await connectedIncoming(manager);
  manager.mute(true);
  await manager.hold(true);
  assert.deepEqual(session.sendersEnabled(), [false, false]);
  await manager.hold(false);
  assert.equal(manager.current().held, false);
  assert.deepEqual(session.sendersEnabled(), [false, false], 'still muted');
  assert.deepEqual(session.receiversEnabled(), [true], 'the peer is heard again');
  manager.mute(false);
  assert.deepEqual(session.sendersEnabled(), [true, true]);
});

test('a refused or failed hold restores the tracks; a refused resume keeps them off', async () => {
  const { manager } = setup();
  const session = await connectedIncoming(manager);
  session.inviteAnswer = 'reject';
  assert.equal(await manager.hold(true), false);
  assert.deepEqual(session.sendersEnabled(), [true, true], 'the call goes on as it was');
  assert.deepEqual(session.receiversEnabled(), [true]);
  session.inviteAnswer = 'throw';
  assert.equal(await manager.hold(true), false);
  assert.deepEqual(session.sendersEnabled(), [true, true]);
  session.inviteAnswer = 'accept';
  assert.equal(await manager.hold(true), true);
  session.inviteAnswer = 'reject';
  assert.equal(await manager.hold(false), false);
  assert.equal(manager.current().held, true);
  assert.deepEqual(session.sendersEnabled(), [false, false], 'still held: still silent');
});

test('an outgoing call sends nothing before it is answered, early media or not', async () => {
  const { manager, inviters } = setup();
  manager.dial('sip:carol@localhost', { video: true });
  const inviter = inviters[0];
  await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(inviter.senders.length > 0, 'the offer took the local media');
  assert.deepEqual(inviter.sendersEnabled(), [false, false], 'ringing: microphone and camera off');
  await inviter.answerArrives(); // 183 Session Progress with SDP
  assert.equal(manager.current().phase, 'ringing');
  assert.deepEqual(inviter.sendersEnabled(), [false, false], 'early media: still off');
  inviter.setState('Established');
  assert.equal(manager.current().phase, 'connected');
  assert.deepEqual(inviter.sendersEnabled(), [true, true], 'answered: the call sends');
});

test('muting before the answer keeps the microphone off once the call is answered', async () => {
  const { manager, inviters } = setup();
  manager.dial('sip:carol@localhost');
  await new Promise((resolve) => setImmediate(resolve));
  manager.mute(true);
  manager.mute(false);
  const inviter = inviters[0];
  assert.deepEqual(inviter.sendersEnabled(), [false, false], 'unmuting while ringing does not open it');
  manager.mute(true);
  inviter.setState('Established');
  assert.deepEqual(inviter.sendersEnabled(), [false, false]);
  manager.mute(false);
  assert.deepEqual(inviter.sendersEnabled(), [true, true]);
});
