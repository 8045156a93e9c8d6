// Fakes for the call logic's unit tests only: a manual clock, a WebRTC peer connection pair
// whose "DTLS" presents a configurable certificate, media tracks and devices, and two secure
// channel stores joined by a signal pipe. Browser call tests (tests/calls/) use the real parts.

import { createChannelStore } from '../../src/state/channel-store.js';
import { createCallStore } from '../../src/state/call-store.js';
import { createCallController } from '../../src/calls/call-controller.js';

/** setTimeout/setInterval under test control: advance(ms) runs what falls due, in order. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  let next = 1;
  const timers = new Map();
  const schedule = (fn, ms, every) => {
    const id = next++;
    timers.set(id, { at: now + ms, fn, every });
    return id;
  };
  return {
    now: () => now,
    setTimeout: (fn, ms) => schedule(fn, ms, null),
    clearTimeout: (id) => timers.delete(id),
    setInterval: (fn, ms) => schedule(fn, ms, ms),
    clearInterval: (id) => timers.delete(id),
    pending: () => timers.size,
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, timer] = due;
        now = timer.at;
        if (timer.every) timer.at += timer.every;
        else timers.delete(id);
        timer.fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

/** Lets queued promise callbacks (signals, negotiation) run. */
export async function settle(rounds = 30) {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

let trackCounter = 0;
export class FakeTrack {
  constructor(kind, label = `${kind}-${++trackCounter}`) {
    this.kind = kind;
    this.id = label;
    this.enabled = true;
    this.readyState = 'live';
    this.listeners = new Map();
  }
  stop() { this.readyState = 'ended'; }
  addEventListener(type, fn) { this.listeners.set(type, fn); }
  fire(type) { this.listeners.get(type)?.(); }
}

export class FakeStream {
  constructor(tracks = []) { this.tracks = [...tracks]; }
  addTrack(track) { this.tracks.push(track); }
  getTracks() { return [...this.tracks]; }
  getAudioTracks() { return this.tracks.filter((track) => track.kind === 'audio'); }
  getVideoTracks() { return this.tracks.filter((track) => track.kind === 'video'); }
}

const fingerprintOf = (n) => Array.from({ length: 32 }, (_, i) => ((n * 7 + i) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');

/** A fake DTLS world: peer connections pair up by the SDP they exchange. */
/**
 * An RTCDTMFSender: insertDTMF replaces the tone buffer; play() starts the next tone (a
 * tonechange event, tone '' once the buffer is empty), as the browser does every duration + gap.
 */
function fakeDtmfSender() {
  const dtmf = Object.assign(new EventTarget(), {
    canInsertDTMF: true, toneBuffer: '', sent: [],
    insertDTMF(tones) { dtmf.toneBuffer = tones; dtmf.sent.push(tones); },
    play() {
      const tone = dtmf.toneBuffer.slice(0, 1);
      dtmf.toneBuffer = dtmf.toneBuffer.slice(1);
      dtmf.dispatchEvent(Object.assign(new Event('tonechange'), { tone }));
      return tone;
    },
  });
  return dtmf;
}

export function fakeWebRtc() {
  const all = [];
  let counter = 0;
  class FakeRTCPeerConnection {
    constructor(config) {
      this.config = config;
      this.fingerprint = fingerprintOf(++counter);
      this.signalingState = 'stable';
      this.connectionState = 'new';
      this.localDescription = null;
      this.remoteDescription = null;
      this.transceivers = [];
      this.candidates = [];
      this.closed = false;
      this.presentedCertificate = null;   // what the "DTLS handshake" shows; set when connected
      all.push(this);
    }
    sdp(type) {
      const lines = ['v=0', `o=- ${this.fingerprint.slice(0, 2)} 1 IN IP4 127.0.0.1`, 's=-', 't=0 0', `a=fingerprint:sha-256 ${this.fingerprint}`];
      for (const transceiver of this.transceivers) lines.push(`m=${transceiver.kind} 9 UDP/TLS/RTP/SAVPF 96`);
      lines.push(`a=x-type:${type}`);
      return `${lines.join('\r\n')}\r\n`;
    }
    addTrack(track) {
      let transceiver = this.transceivers.find((entry) => entry.kind === track.kind && !entry.sender.track && !entry.usedToSend);
      if (!transceiver) {
        transceiver = makeTransceiver(track.kind);
        this.transceivers.push(transceiver);
        this.negotiate();
      }
      transceiver.usedToSend = true;
      transceiver.sender.track = track;
      return transceiver.sender;
    }
    negotiate() {
      // Browsers fire one negotiationneeded for several changes made together.
      if (this.negotiationQueued) return;
      this.negotiationQueued = true;
      queueMicrotask(() => {
        this.negotiationQueued = false;
        if (!this.closed && this.signalingState === 'stable') this.onnegotiationneeded?.();
      });
    }
    getTransceivers() { return [...this.transceivers]; }
    getSenders() { return this.transceivers.map((transceiver) => transceiver.sender); }
    removeTrack(sender) {
      sender.track = null;
      this.removed = [...(this.removed ?? []), sender];
    }
    async setLocalDescription() {
      await Promise.resolve();
      const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
      this.localDescription = { type, sdp: this.sdp(type) };
      this.transceivers.forEach((transceiver, index) => { transceiver.negotiated = true; transceiver.mid ??= String(index); });
      this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
      if (type === 'offer') queueMicrotask(() => this.onicecandidate?.({ candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' } }));
      this.maybeConnect();
    }
    async setRemoteDescription({ type, sdp }) {
      await Promise.resolve();
      if (type === 'answer' && this.signalingState !== 'have-local-offer') throw new DOMException('no offer', 'InvalidStateError');
      if (type === 'offer' && this.signalingState === 'have-local-offer') this.signalingState = 'stable';   // rollback
      this.remoteDescription = { type, sdp };
      this.signalingState = type === 'offer' ? 'have-remote-offer' : 'stable';
      {
        const kinds = [...sdp.matchAll(/^m=(audio|video)/gm)].map((match) => match[1]);
        kinds.forEach((kind, index) => {
          let transceiver = this.transceivers.filter((entry) => entry.kind === kind)[kinds.slice(0, index).filter((k) => k === kind).length];
          if (!transceiver) {
            if (type === 'answer') return;
            transceiver = makeTransceiver(kind);
            this.transceivers.push(transceiver);
          }
          transceiver.mid ??= String(this.transceivers.indexOf(transceiver));
          if (!transceiver.received) {
            transceiver.received = true;
            this.ontrack?.({ track: transceiver.receiver.track, receiver: transceiver.receiver, transceiver });
          }
        });
      }
      this.maybeConnect();
    }
    maybeConnect() {
      if (this.localDescription && this.remoteDescription && this.connectionState !== 'connected') {
        const peer = all.find((other) => other !== this && this.remoteDescription.sdp.includes(other.fingerprint));
        this.presentedCertificate ??= peer ? { fingerprint: peer.fingerprint, fingerprintAlgorithm: 'sha-256' } : null;
        this.connectionState = 'connected';
        queueMicrotask(() => this.onconnectionstatechange?.());
      }
    }
    async addIceCandidate(candidate) {
      if (!this.remoteDescription) throw new DOMException('no remote description', 'InvalidStateError');
      this.candidates.push(candidate);
    }
    async getStats() {
      const entries = [{ id: 'T', type: 'transport', timestamp: clockNow(), selectedCandidatePairId: 'P', remoteCertificateId: this.presentedCertificate ? 'C' : undefined }];
      if (this.presentedCertificate) entries.push({ id: 'C', type: 'certificate', ...this.presentedCertificate });
      entries.push({ id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.012 });
      entries.push({ id: 'L', type: 'local-candidate', candidateType: this.config.iceTransportPolicy === 'relay' ? 'relay' : 'host' });
      entries.push({ id: 'R', type: 'remote-candidate', candidateType: 'host' });
      // One RTP stream per kind that flows: outbound where a sender has a track, inbound where
      // the peer's offer or answer brought a track (webrtc-stats `kind`).
      this.bytes = this.bytes ?? 0;
      this.transceivers.forEach((transceiver, index) => {
        if (transceiver.sender.track) entries.push({ id: `O${index}`, type: 'outbound-rtp', kind: transceiver.kind, bytesSent: this.bytes, timestamp: clockNow() });
        if (transceiver.received) entries.push({ id: `I${index}`, type: 'inbound-rtp', kind: transceiver.kind, bytesReceived: this.bytes, packetsLost: 1, packetsReceived: 99, timestamp: clockNow() });
      });
      this.bytes += 12_500;
      return new Map(entries.map((entry) => [entry.id, entry]));
    }
    restartIce() { this.restarted = true; }
    close() { this.closed = true; this.connectionState = 'closed'; }
  }
  let clockNow = () => 0;
  function makeTransceiver(kind) {
    const transceiver = {
      kind, usedToSend: false, received: false, codecs: null, mid: null,
      // Chromium honours a sender's transform too only when it was set before the media channel
      // exists: one set after the transceiver's first local description is recorded as late
      // (its frames would leave without SFrame).
      sender: {
        track: null, replaced: [], late: false, current: null,
        get transform() { return this.current; },
        set transform(value) { this.current = value; if (transceiver.negotiated) this.late = true; },
        async replaceTrack(track) { this.replaced.push(track); this.track = track; },
        createEncodedStreams() { return { readable: `readable-${kind}`, writable: `writable-${kind}` }; },
        dtmf: kind === 'audio' ? fakeDtmfSender() : null,
      },
      // Chromium routes frames through a transform only when it was set before the transceiver's
      // media channel exists (its first local description): a later one is recorded as late.
      receiver: {
        track: new FakeTrack(kind, `remote-${kind}-${++trackCounter}`), late: false, current: null,
        get transform() { return this.current; },
        set transform(value) { this.current = value; if (transceiver.negotiated) this.late = true; },
        createEncodedStreams() { return { readable: 'r', writable: 'w' }; },
      },
      setCodecPreferences(codecs) { transceiver.codecs = codecs.map((codec) => codec.mimeType); },
    };
    return transceiver;
  }
  const RTCRtpReceiver = {
    getCapabilities: (kind) => ({
      codecs: kind === 'audio'
        ? [{ mimeType: 'audio/opus' }, { mimeType: 'audio/red' }, { mimeType: 'audio/G722' }, { mimeType: 'audio/telephone-event' }]
        : [{ mimeType: 'video/VP8' }, { mimeType: 'video/H264' }, { mimeType: 'video/AV1' }, { mimeType: 'video/rtx' }],
    }),
  };
  return { RTCPeerConnection: FakeRTCPeerConnection, RTCRtpReceiver, all, setClock: (fn) => { clockNow = fn; } };
}

export function fakeDevices({ failAudio = false } = {}) {
  const opened = [];
  return {
    opened,
    async track(kind, deviceId) {
      if (kind === 'audio' && failAudio) throw Object.assign(new Error('denied'), { name: 'NotAllowedError' });
      const track = new FakeTrack(kind);
      track.deviceId = deviceId;
      opened.push(track);
      return track;
    },
    async screenTrack() {
      const track = new FakeTrack('video', `screen-${++trackCounter}`);
      opened.push(track);
      return track;
    },
    async list() {
      return { audioinput: [{ deviceId: 'mic1', label: 'Mic' }], videoinput: [{ deviceId: 'cam1', label: 'Cam' }], audiooutput: [] };
    },
    meter: () => () => {},
  };
}

const session = 'ab'.repeat(16);

/** A channel store holding one secure channel with `peer` on `session`. */
export function secureChannelStore({ self, peer, role, session: id = session }) {
  const channels = createChannelStore();
  channels.setSelf(self);
  channels.applyOffer({ session: id, role, peer: { userid: peer === 'alice' ? 1 : 2, username: peer }, certificate: { fingerprint: 'F'.repeat(40), armored: 'x' } }, { trust: { status: 'unknown' } });
  channels.accepted(id);
  channels.opened(id);
  channels.applyWorkerState({ session: id, state: 'secure', suite: 1, epoch: 0, sas: { words: ['a'] } });
  return channels;
}

/**
 * The Worker's `call.media_stats` answer from a side's `mediaActive`: {sendActive, receiveActive}
 * apply to both kinds unless `send`/`receive` give per-kind counters themselves.
 */
function mediaStatsOf(active) {
  const kinds = (flag) => ({ audio: { frames: 0, active: flag === true }, video: { frames: 0, active: flag === true } });
  return { ...active, send: active.send ?? kinds(active.sendActive), receive: active.receive ?? kinds(active.receiveActive) };
}

/**
 * One side of a call: its call store, controller, channel store and the fakes behind them.
 * `deliver(signalText, session)` is set by `connect` to hand a signal to the other side.
 */
export function callSide({ self, peer, role, clock, webrtc, support = { webrtc: true, transform: 'script', missing: [] }, mediaActive = { sendActive: true, receiveActive: true }, devices = fakeDevices(), turn = null, hideIp = false, channels = null }) {
  const side = { self, sent: [], ended: [], transforms: [], mediaActive, hideIp, deliver: null, opened: [], otherCall: false };
  side.channels = channels ?? secureChannelStore({ self, peer, role });
  side.store = createCallStore({ support });
  side.devices = devices;
  side.pcs = [];
  const SidePeerConnection = class extends webrtc.RTCPeerConnection {
    constructor(config) {
      super(config);
      side.pcs.push(this);
    }
  };
  side.controller = createCallController({
    store: side.store,
    channelStore: side.channels,
    openPrivate: (username) => {
      side.opened.push(username);
      return side.openPrivateResult ?? { ok: true };
    },
    sendSignal: async ({ session: id, signal }) => {
      side.sent.push(JSON.parse(signal));
      side.deliver?.(signal, id);
    },
    mediaStats: async () => mediaStatsOf(side.mediaActive),
    endMedia: async ({ call }) => { side.ended.push(call); },
    transforms: {
      createScriptTransform: (options) => { side.transforms.push(options); return { options }; },
      attachEncodedStreams: () => { throw new Error('not used'); },
    },
    turnCredentials: async () => turn ?? { iceServers: [], iceTransportPolicy: 'all' },
    preferences: { get: () => ({ hideIp: side.hideIp }), setHideIp: (on) => { side.hideIp = on; } },
    devices,
    otherCallActive: () => side.otherCall,
    env: {
      RTCPeerConnection: SidePeerConnection, RTCRtpReceiver: webrtc.RTCRtpReceiver, MediaStream: FakeStream,
      now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, setInterval: clock.setInterval, clearInterval: clock.clearInterval,
      randomBytes: (n) => Uint8Array.from({ length: n }, (_, i) => (i * 17 + 3) & 0xff),
    },
  });
  side.call = () => side.store.get().call;
  side.kinds = () => side.sent.map((entry) => entry.kind);
  return side;
}

/** Joins two sides: each one's signals reach the other's handleSignal (asynchronously, in order). */
export function connect(a, b) {
  const pipe = (to) => (text, id) => queueMicrotask(() => { if (!to.cut) to.controller.handleSignal({ session: id, signal: text }); });
  a.deliver = pipe(b);
  b.deliver = pipe(a);
}

export const SESSION = session;
