// One call's RTCPeerConnection: perfect negotiation (the callee is the polite side), trickled
// ICE, Opus and VP8 only, and the SFrame transform on every sender and receiver. Signals go out
// through `sendSignal` (inside the secure channel, never to the server in clear); the remote
// descriptions' DTLS fingerprints are kept for the security check. Page runtime; the browser
// classes come from `env` so it is tested in Node with fakes.
//
// Perfect negotiation: W3C webrtc-pc §10.7 ("Perfect negotiation example").

import { remoteFingerprints } from './call-signal.js';

/**
 * The codecs calls negotiate: the SFrame transform knows their clear prefixes (docs/protocol.md).
 * telephone-event (RFC 4733) carries the DTMF tones: without it RTCDTMFSender cannot insert
 * any; its events are RTP payloads of the sender, not encoded frames, so no transform sees them.
 */
const allowedCodecs = Object.freeze({ audio: ['audio/opus', 'audio/telephone-event'], video: ['video/vp8'] });

/**
 * Options: { env: {RTCPeerConnection, RTCRtpReceiver?, MediaStream}, call, session, polite,
 *   iceServers, iceTransportPolicy, e2ee, transformMode: 'script'|'encoded-streams'|null,
 *   transforms: {createScriptTransform(options), attachEncodedStreams({readable, writable, options})},
 *   localTracks: Promise<[MediaStreamTrack]>, sendSignal(fields), onRemoteStream(stream),
 *   onConnectionState(state), onError(error) }.
 */
export function createCallSession({ env, call, session, polite, iceServers, iceTransportPolicy, e2ee, transformMode, transforms, localTracks, sendSignal, onRemoteStream, onConnectionState, onError = () => {} }) {
  const config = { iceServers, iceTransportPolicy, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
  // Chromium without RTCRtpScriptTransform needs this flag before any sender exists.
  if (e2ee && transformMode === 'encoded-streams') config.encodedInsertableStreams = true;
  const pc = new env.RTCPeerConnection(config);
  const remoteStream = new env.MediaStream();
  const transformed = new WeakSet();
  const senders = new Map();   // kind → RTCRtpSender of this side's track of that kind
  let makingOffer = false;
  let ignoreOffer = false;
  let settingRemoteAnswer = false;
  let closed = false;
  let fingerprints = Object.freeze([]);
  let pendingTracks = null;    // the callee's tracks, added while answering the first offer
  let remotePlayback = true;

  function attachTransform(target, direction, kind) {
    if (!e2ee || transformed.has(target)) return;
    transformed.add(target);
    const options = { session, call, direction, kind };
    if (transformMode === 'script') {
      target.transform = transforms.createScriptTransform(options);
    } else if (transformMode === 'encoded-streams') {
      const { readable, writable } = target.createEncodedStreams();
      // Refused streams stay unconnected: no frame passes without SFrame.
      Promise.resolve(transforms.attachEncodedStreams({ readable, writable, options })).catch(onError);
    } else {
      throw Object.assign(new Error('no encoded transform'), { code: 'no_transform' });
    }
  }

  function preferCodecs(transceiver, kind) {
    const capabilities = env.RTCRtpReceiver?.getCapabilities?.(kind);
    if (!capabilities || typeof transceiver?.setCodecPreferences !== 'function') return;
    const codecs = capabilities.codecs.filter((codec) => allowedCodecs[kind]?.includes(codec.mimeType.toLowerCase()));
    if (codecs.length > 0) transceiver.setCodecPreferences(codecs);
  }

  function transceiverOf(sender) {
    return pc.getTransceivers().find((transceiver) => transceiver.sender === sender) ?? null;
  }

  /**
   * Gives every transceiver that has none yet its sender and receiver transforms. Chromium
   * routes a sender's or receiver's frames through a transform only when it was assigned before
   * the transceiver's media channel exists (its first local description); one assigned later is
   * silently bypassed. Transceivers the peer's offer created are therefore covered here, right
   * after setRemoteDescription and before the answer, even when no local track exists yet: a
   * camera turned on later reuses that sender (addTrack) and must already be transformed.
   */
  function transformTransceivers() {
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver?.track?.kind;
      if (kind !== 'audio' && kind !== 'video') continue;
      attachTransform(transceiver.sender, 'send', kind);
      attachTransform(transceiver.receiver, 'receive', kind);
    }
  }

  /** Sends `track` (a new kind adds a sender, and so a renegotiation). */
  function addLocalTrack(track) {
    if (closed) return null;
    const existing = senders.get(track.kind);
    if (existing) {
      existing.replaceTrack(track).catch(onError);
      return existing;
    }
    const sender = pc.addTrack(track);
    const transceiver = transceiverOf(sender);
    // addTrack may reuse a transceiver that the peer's offer created (it has a mid already): its
    // sender must have been transformed before that transceiver's first local description.
    const late = e2ee && !transformed.has(sender) && (transceiver?.mid != null || transceiver?.currentDirection != null);
    try {
      // A sender negotiated without its transform would send this track without SFrame.
      if (late) throw Object.assign(new Error('sender transform set too late'), { code: 'late_transform' });
      attachTransform(sender, 'send', track.kind);
      // Chromium routes a receiver's frames through a transform only when it was set before
      // the media channel exists: the receiver of a new transceiver gets it now, not at ontrack.
      if (transceiver) attachTransform(transceiver.receiver, 'receive', track.kind);
    } catch (error) {
      // A sender without its transform would send frames without SFrame: it never starts.
      pc.removeTrack(sender);
      throw error;
    }
    senders.set(track.kind, sender);
    preferCodecs(transceiver, track.kind);
    return sender;
  }

  pc.ontrack = (event) => {
    const kind = event.track.kind;
    attachTransform(event.receiver, 'receive', kind);
    // The sender of a transceiver the peer's offer created, while no media channel exists yet.
    if (event.transceiver?.sender) attachTransform(event.transceiver.sender, 'send', kind);
    preferCodecs(event.transceiver, kind);
    event.track.enabled = remotePlayback;
    remoteStream.addTrack(event.track);
    onRemoteStream(remoteStream);
  };

  // Candidates gathered while a description is being set go out after it: the peer cannot add
  // a candidate before the description it belongs to.
  let heldCandidates = null;
  function flushCandidates() {
    const held = heldCandidates ?? [];
    heldCandidates = null;
    for (const fields of held) if (!closed) sendSignal(fields);
  }

  pc.onnegotiationneeded = async () => {
    try {
      makingOffer = true;
      heldCandidates ??= [];
      await pc.setLocalDescription();
      if (!closed) sendSignal({ kind: pc.localDescription.type, sdp: pc.localDescription.sdp });
    } catch (error) {
      onError(error);
    } finally {
      makingOffer = false;
      flushCandidates();
    }
  };

  pc.onicecandidate = ({ candidate }) => {
    if (closed) return;
    const fields = {
      kind: 'ice',
      candidate: candidate ? {
        candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null, usernameFragment: candidate.usernameFragment ?? null,
      } : null,
    };
    if (heldCandidates) heldCandidates.push(fields);
    else sendSignal(fields);
  };

  pc.onconnectionstatechange = () => onConnectionState(pc.connectionState);

  // Signals are applied one at a time in channel order: a candidate must not overtake the
  // description it belongs to. The chain starts once the local tracks are there.
  let queue = Promise.resolve(localTracks).then((tracks) => {
    if (polite) pendingTracks = tracks;
    else for (const track of tracks) addLocalTrack(track);
  }).catch(onError);
  const serial = (work) => {
    queue = queue.then(() => (closed ? undefined : work())).catch(onError);
    return queue;
  };

  async function applyDescription(type, sdp) {
    // An answer is only meaningful while this side's offer is outstanding; anything else is
    // a replayed or stray signal and is dropped here (setRemoteDescription would throw).
    if (type === 'answer' && pc.signalingState !== 'have-local-offer' && !settingRemoteAnswer) return;
    const readyForOffer = !makingOffer && (pc.signalingState === 'stable' || settingRemoteAnswer);
    const collision = type === 'offer' && !readyForOffer;
    ignoreOffer = !polite && collision;
    if (ignoreOffer) return;
    settingRemoteAnswer = type === 'answer';
    try {
      await pc.setRemoteDescription({ type, sdp });
    } finally {
      settingRemoteAnswer = false;
    }
    fingerprints = remoteFingerprints(sdp);
    if (type === 'offer') {
      transformTransceivers();
      if (pendingTracks) {
        const tracks = pendingTracks;
        pendingTracks = null;
        for (const track of tracks) addLocalTrack(track);
      }
      heldCandidates ??= [];
      try {
        await pc.setLocalDescription();
        sendSignal({ kind: 'answer', sdp: pc.localDescription.sdp });
      } finally {
        flushCandidates();
      }
    }
  }

  async function applyCandidate(candidate) {
    if (candidate === null) return;   // end of candidates: nothing to do with trickle ICE here
    try {
      await pc.addIceCandidate(candidate);
    } catch (error) {
      if (!ignoreOffer) throw error;
    }
  }

  return Object.freeze({
    pc,
    remoteStream,
    handleDescription: ({ type, sdp }) => serial(() => applyDescription(type, sdp)),
    handleCandidate: (candidate) => serial(() => applyCandidate(candidate)),
    addLocalTrack: (track) => serial(() => { addLocalTrack(track); }),
    /** Replaces what a sender of `kind` sends (screen share, device switch); null stops it. */
    async replaceTrack(kind, track) {
      const sender = senders.get(kind);
      // Only a sender known to carry its transform ever gets a track.
      if (sender && e2ee && track && !transformed.has(sender)) throw Object.assign(new Error('sender without transform'), { code: 'no_transform' });
      if (sender) await sender.replaceTrack(track);
      else if (track) await serial(() => { addLocalTrack(track); });
    },
    hasSender: (kind) => senders.has(kind),
    /** Kinds this side sends now: a sender with a live track (enabled or not: disabled tracks send silence and black). */
    sendingKinds: () => [...senders].filter(([, sender]) => sender.track?.readyState === 'live').map(([kind]) => kind),
    /** Remote playback on or off (hold): receiving tracks disabled render silence and black. */
    setRemotePlayback(on) {
      remotePlayback = Boolean(on);
      for (const track of remoteStream.getTracks()) track.enabled = remotePlayback;
    },
    remoteFingerprints: () => fingerprints,
    getStats: () => pc.getStats(),
    restartIce: () => pc.restartIce?.(),
    close() {
      if (closed) return;
      closed = true;
      pc.ontrack = pc.onnegotiationneeded = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    },
  });
}
