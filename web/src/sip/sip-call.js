// One SIP call at a time on SIP.js sessions (Inviter for outgoing, Invitation for incoming):
// ringing, answer, refusal (486 Busy Here / 603 Decline), hang-up, mute, hold/resume by
// re-INVITE, DTMF, blind transfer (REFER), remote audio playback. SIP.js classes and browser
// objects are injected (`sip`, `env`) so the logic runs in Node tests with small fakes.
//
// A second call while one is on (a SIP call or an end-to-end call of the VoIP tab) is refused
// with 486 Busy Here and noted in the history, as a one-line phone does.

import { callPhaseOf, displayAddressOf, displayNameOf, endReasonOf, outcomeOf, rejectStatusOf } from './sip-states.js';

/** Length of one DTMF tone, for RFC 4733 events and for the SIP INFO body (ms). */
export const DTMF_DURATION_MS = 160;
export const DTMF_GAP_MS = 70;
const dtmfTonePattern = /^[0-9A-D*#]$/;

/** Whether the peer's SDP announces RFC 4733 telephone-event (then DTMF goes in the RTP). */
export function peerHasTelephoneEvent(session) {
  const sdp = session?.sessionDescriptionHandler?.peerConnection?.remoteDescription?.sdp ?? '';
  return /^a=rtpmap:\d+ telephone-event\/\d+/im.test(sdp);
}

/**
 * Sends one DTMF tone: RFC 4733 through the session description handler when the peer
 * announced telephone-event and the sender accepted it, else SIP INFO (application/dtmf-relay,
 * the form Asterisk, FreeSWITCH and most phones read). → 'rtp' | 'info'.
 */
export function sendDtmfTone(session, tone) {
  if (!dtmfTonePattern.test(tone)) throw new RangeError(`DTMF: not a tone: ${tone}`);
  const handler = session.sessionDescriptionHandler;
  if (peerHasTelephoneEvent(session) && handler?.sendDtmf?.(tone, { duration: DTMF_DURATION_MS, interToneGap: DTMF_GAP_MS })) return 'rtp';
  session.info({
    requestOptions: {
      body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${tone}\r\nDuration=${DTMF_DURATION_MS}\r\n` },
    },
  });
  return 'info';
}

/** Mutes or unmutes this end's microphone (and camera) without renegotiation. */
export function setSessionMuted(session, muted) {
  const senders = session?.sessionDescriptionHandler?.peerConnection?.getSenders?.() ?? [];
  for (const sender of senders) if (sender.track) sender.track.enabled = !muted;
}

/** Plays or silences what the peer sends (its tracks stay, only their output stops). */
export function setSessionReceiving(session, receiving) {
  const receivers = session?.sessionDescriptionHandler?.peerConnection?.getReceivers?.() ?? [];
  for (const receiver of receivers) if (receiver.track) receiver.track.enabled = receiving;
}

/**
 * Puts the call on hold or resumes it with a re-INVITE: SIP.js's session description handler
 * offers sendonly (hold) or sendrecv (resume) when `hold` is set in the re-INVITE options.
 * "sendonly" is the SIP meaning of hold (the holder may play music), so it does not silence the
 * microphone by itself: the call manager switches the tracks off (see `hold`). Resolves true when the peer accepted, false when it refused (the call stays as it was).
 */
export function setSessionHeld(session, held) {
  const previous = session.sessionDescriptionHandlerOptionsReInvite ?? {};
  session.sessionDescriptionHandlerOptionsReInvite = { ...previous, hold: held };
  return new Promise((resolve, reject) => {
    session.invite({
      requestDelegate: {
        onAccept: () => resolve(true),
        onReject: () => {
          session.sessionDescriptionHandlerOptionsReInvite = { ...previous, hold: !held };
          resolve(false);
        },
      },
    }).catch(reject);
  });
}

/** Whether the INVITE's SDP offers video (an incoming call may then be answered with video). */
export function offersVideo(body) {
  return /^m=video [1-9]/m.test(String(body ?? ''));
}

/**
 * SDP modifier that refuses video: every m=video section gets port 0 (RFC 3264 §6: a rejected
 * stream). Applied to the peer's offer and to this end's answer of an audio-only call, so a
 * caller's video is neither received nor shown when the user answered with audio only, and a
 * re-INVITE that adds video to an audio call is answered without it.
 */
export function refuseVideo(description) {
  const sdp = String(description?.sdp ?? '').replace(/^m=video [0-9]+/gm, 'm=video 0');
  return Promise.resolve({ ...description, sdp });
}

/**
 * Gives a SIP.js session the delegate this phone needs before any request can reach it. Without
 * one, SIP.js accepts an in-dialog REFER by itself and places a new call to the Refer-To target
 * with the user's identity and microphone, a call the page would never show nor end. This phone
 * only transfers calls (it sends REFER), it never follows a peer's REFER: 603 Decline.
 */
export function guardSession(session) {
  session.delegate = Object.freeze({
    onRefer: (referral) => {
      Promise.resolve(referral.reject({ statusCode: 603 })).catch(() => {});
    },
  });
  return session;
}

/** Stops every track of the session's media and closes its peer connection (idempotent). */
export function closeSessionMedia(session) {
  let handler;
  try {
    handler = session?.sessionDescriptionHandler;
  } catch {
    return;
  }
  const peerConnection = handler?.peerConnection;
  try {
    for (const sender of peerConnection?.getSenders?.() ?? []) sender.track?.stop?.();
    for (const receiver of peerConnection?.getReceivers?.() ?? []) receiver.track?.stop?.();
  } catch {
    // A closed peer connection: its tracks are stopped already.
  }
  for (const track of handler?.localMediaStream?.getTracks?.() ?? []) track.stop?.();
  if (peerConnection && peerConnection.signalingState !== 'closed') peerConnection.close?.();
}

/** Media constraints for the chosen devices (the VoIP tab's device pickers). */
export function constraintsFor({ video, selected = {} }) {
  const pick = (deviceId) => (deviceId ? { deviceId: { exact: deviceId } } : true);
  return { audio: pick(selected.audioinput), video: video ? pick(selected.videoinput) : false };
}

/**
 * Options:
 *   sip: { Inviter, makeURI } (SIP.js), userAgent(): the UserAgent,
 *   publish(call | null): the call snapshot for the store,
 *   history: ./sip-history.js instance,
 *   otherCallActive(): true while an end-to-end call is on,
 *   selectedDevices(): { audioinput, videoinput, audiooutput } device ids (or null),
 *   sessions(): every session the UserAgent holds (a guard: any the manager does not know is
 *     ended when a call ends, so no hidden call can keep the microphone),
 *   env: { now, createAudioElement?() }.
 */
export function createSipCallManager({ sip, userAgent, publish, history, otherCallActive = () => false, selectedDevices = () => ({}), sessions = () => [], env }) {
  let current = null;   // { session, direction, call (snapshot), historyId, audio }

  function snapshot(patch) {
    current.call = Object.freeze({ ...current.call, ...patch });
    publish(current.call);
  }

  function playRemote(entry) {
    const stream = entry.session.sessionDescriptionHandler?.remoteMediaStream;
    if (!stream || !env.createAudioElement) return;
    entry.audio ??= env.createAudioElement();
    entry.audio.srcObject = stream;
    const sinkId = selectedDevices().audiooutput;
    if (sinkId && typeof entry.audio.setSinkId === 'function') entry.audio.setSinkId(sinkId).catch(() => {});
    Promise.resolve(entry.audio.play?.()).catch(() => {});
  }

  function mediaState(entry) {
    const handler = entry.session.sessionDescriptionHandler;
    const remote = handler?.remoteMediaStream ?? null;
    const local = handler?.localMediaStream ?? null;
    // The peer's video shows only in a call the user took (or placed) with video.
    const video = entry.call.media === 'video';
    return { remoteStream: remote, localStream: local, remoteVideo: video && Boolean(remote?.getVideoTracks?.().length), localVideo: Boolean(local?.getVideoTracks?.().length) };
  }

  /** Ends every session of the UserAgent that is not the visible call (none should exist). */
  function endStraySessions() {
    for (const session of sessions()) {
      if (session === current?.session) continue;
      closeSessionMedia(session);
      Promise.resolve().then(() => session.dispose?.()).catch(() => {});
    }
  }

  function finish(entry) {
    if (entry.finished) return;
    entry.finished = true;
    const connected = entry.call.connectedAt !== null;
    const outcome = outcomeOf({ direction: entry.direction, connected, endReason: entry.call.endReason });
    history.finish(entry.historyId, { outcome, durationMs: connected ? env.now() - entry.call.connectedAt : 0 });
    if (entry.audio) {
      entry.audio.pause?.();
      entry.audio.srcObject = null;
    }
    // SIP.js closes the media when it disposes the session; this makes sure of it, so no
    // microphone or camera stays live once the call is shown as ended.
    closeSessionMedia(entry.session);
    entry.call = Object.freeze({ ...entry.call, phase: 'ended', outcome, remoteStream: null, localStream: null });
    if (current === entry) {
      current = null;
      publish(entry.call);
    }
    endStraySessions();
  }

  /**
   * Switches this end's tracks on or off as the call's state wants: the microphone (and camera)
   * send only once the call is answered (an early-media 183 must not open the room to a callee
   * that never answers), never while held or held pending (a sendonly hold keeps the RTP
   * flowing), never while muted; the peer's media plays except while held.
   */
  function applyMediaState(entry) {
    const holding = entry.holdWanted;
    setSessionMuted(entry.session, !entry.connected || holding || entry.call.muted);
    setSessionReceiving(entry.session, !holding);
  }

  /**
   * SDP modifier that re-applies the media state: SIP.js runs the modifiers after it has got the
   * local media and added (or replaced) the sender tracks, before any description is set, so new
   * tracks (the first offer, a re-INVITE with new constraints) start switched off when they should.
   */
  function mediaGate(entry) {
    return (description) => {
      if (!entry.finished) applyMediaState(entry);
      return Promise.resolve(description);
    };
  }

  function attach(session, direction, peerUri, media) {
    guardSession(session);
    const entry = {
      session, direction, finished: false, audio: null, answered: false, connected: false, holdWanted: false, gate: null,
      historyId: history.add({ direction, peer: displayAddressOf(peerUri), media }),
      call: Object.freeze({
        id: `sip-${session.id ?? env.now()}`, direction, phase: direction === 'incoming' ? 'incoming' : 'ringing',
        peer: Object.freeze({ uri: peerUri, username: displayAddressOf(peerUri), displayName: '' }),
        media, offersVideo: media === 'video', muted: false, held: false, holdPending: false, connectedAt: null, endReason: null,
        dtmfSent: '', dtmfMethod: null, transfer: null, remoteStream: null, localStream: null, remoteVideo: false, localVideo: false,
      }),
    };
    entry.gate = mediaGate(entry);
    // An audio call stays audio: a peer's re-INVITE adding video is answered without it.
    session.sessionDescriptionHandlerModifiersReInvite = media === 'audio' ? [entry.gate, refuseVideo] : [entry.gate];
    current = entry;
    session.stateChange.addListener((state) => {
      const phase = callPhaseOf(state, { direction, answered: entry.answered });
      if (phase === 'ended') {
        // SIP.js ends a refused Inviter before it calls invite()'s onReject with the final
        // response: wait that synchronous call out, so the history says busy, declined…
        if (direction === 'outgoing' && entry.call.connectedAt === null && entry.call.endReason === null) {
          queueMicrotask(() => finish(entry));
          return undefined;
        }
        return finish(entry);
      }
      if (current !== entry) return;
      if (phase === 'connected' && entry.call.connectedAt === null) {
        entry.connected = true;
        applyMediaState(entry);
        playRemote(entry);
        const remote = session.sessionDescriptionHandler?.remoteMediaStream;
        // A track added later (video after a re-INVITE) shows without a new state change.
        remote?.addEventListener?.('addtrack', () => current === entry && snapshot(mediaState(entry)));
        snapshot({ phase, connectedAt: env.now(), ...mediaState(entry) });
        return;
      }
      snapshot({ phase });
    });
    publish(entry.call);
    return entry;
  }

  function requireCall() {
    if (!current) throw Object.assign(new Error('no SIP call'), { code: 'no_call' });
    return current;
  }

  const busy = () => Boolean(current) || otherCallActive();

  const manager = Object.freeze({
    busy,
    current: () => current?.call ?? null,

    /** An incoming INVITE (UserAgent delegate onInvite). */
    incoming(invitation) {
      guardSession(invitation);
      const peerUri = String(invitation.remoteIdentity?.uri ?? 'sip:unknown@invalid');
      const media = offersVideo(invitation.body ?? invitation.request?.body) ? 'video' : 'audio';
      if (busy()) {
        const id = history.add({ direction: 'incoming', peer: displayAddressOf(peerUri), media });
        history.finish(id, { outcome: 'busy' });
        Promise.resolve(invitation.reject({ statusCode: rejectStatusOf('busy') })).catch(() => {});
        return 'busy';
      }
      const entry = attach(invitation, 'incoming', peerUri, media);
      const name = displayNameOf(invitation.remoteIdentity?.displayName);
      if (name) snapshot({ peer: Object.freeze({ ...entry.call.peer, displayName: name }) });
      return 'ringing';
    },

    /** Places a call to `uri` (already checked by sip-address.js). → 'calling' | 'busy' */
    dial(uri, { video = false } = {}) {
      if (busy()) return 'busy';
      const target = sip.makeURI(uri);
      if (!target) throw Object.assign(new Error('bad SIP URI'), { code: 'bad_address' });
      const constraints = constraintsFor({ video, selected: selectedDevices() });
      let gate = () => Promise.resolve();
      // The gate keeps the new tracks off until the callee answers (early media or not).
      const inviter = new sip.Inviter(userAgent(), target, {
        sessionDescriptionHandlerOptions: { constraints },
        sessionDescriptionHandlerModifiers: [(description) => gate(description)],
        earlyMedia: true,
      });
      const entry = attach(inviter, 'outgoing', uri, video ? 'video' : 'audio');
      gate = entry.gate;
      inviter.sessionDescriptionHandlerOptionsReInvite = { constraints };
      inviter.invite({
        requestDelegate: {
          onReject: (response) => {
            if (current === entry) snapshot({ endReason: endReasonOf(response?.message?.statusCode) });
            entry.call = Object.freeze({ ...entry.call, endReason: endReasonOf(response?.message?.statusCode) });
          },
        },
      }).catch(() => {
        entry.call = Object.freeze({ ...entry.call, endReason: 'failed' });
        finish(entry);
      });
      return 'calling';
    },

    async accept({ video = false } = {}) {
      const entry = requireCall();
      if (entry.direction !== 'incoming' || entry.answered) return;
      entry.answered = true;
      const constraints = constraintsFor({ video: video && entry.call.offersVideo, selected: selectedDevices() });
      entry.session.sessionDescriptionHandlerOptionsReInvite = { constraints };
      // Answered with audio only: the offered video is refused (port 0), not received muted.
      const modifiers = constraints.video ? [entry.gate] : [entry.gate, refuseVideo];
      entry.session.sessionDescriptionHandlerModifiersReInvite = modifiers;
      snapshot({ phase: 'connecting', media: constraints.video ? 'video' : 'audio' });
      try {
        await entry.session.accept({ sessionDescriptionHandlerOptions: { constraints }, sessionDescriptionHandlerModifiers: modifiers });
      } catch {
        entry.call = Object.freeze({ ...entry.call, endReason: 'no_media' });
        finish(entry);
      }
    },

    /** Refuses the ringing incoming call: 603 Decline. */
    decline() {
      const entry = requireCall();
      if (entry.direction !== 'incoming' || entry.answered) return;
      entry.call = Object.freeze({ ...entry.call, endReason: 'declined' });
      Promise.resolve(entry.session.reject({ statusCode: rejectStatusOf('decline') })).catch(() => finish(entry));
    },

    /** Ends the call whatever its state: CANCEL while ringing out, 603 while ringing in, else BYE. */
    hangUp() {
      if (!current) return;
      const entry = current;
      const { session } = entry;
      const state = session.state;
      let ending;
      if (state === 'Established') ending = session.bye();
      else if (entry.direction === 'outgoing' && (state === 'Initial' || state === 'Establishing')) {
        entry.call = Object.freeze({ ...entry.call, endReason: 'cancelled' });
        ending = session.cancel();
      } else if (entry.direction === 'incoming' && !entry.answered) {
        entry.call = Object.freeze({ ...entry.call, endReason: 'declined' });
        ending = session.reject({ statusCode: rejectStatusOf('decline') });
      } else if (state === 'Establishing') ending = session.bye?.();
      Promise.resolve(ending).catch(() => finish(entry));
    },

    /** Mutes or unmutes; while held (or before the answer) the microphone stays off either way. */
    mute(muted) {
      const entry = requireCall();
      snapshot({ muted: Boolean(muted) });
      applyMediaState(entry);
    },

    async hold(held) {
      const entry = requireCall();
      if (entry.call.phase !== 'connected' || entry.call.holdPending || entry.call.held === held) return false;
      const wasHeld = entry.call.held;
      // Silenced before the hold re-INVITE leaves; on resume, the tracks come back only once
      // the peer accepted it.
      if (held) {
        entry.holdWanted = true;
        applyMediaState(entry);
      }
      snapshot({ holdPending: true });
      let accepted = false;
      try {
        accepted = await setSessionHeld(entry.session, held);
      } catch {
        accepted = false;
      }
      entry.holdWanted = accepted ? held : wasHeld;
      if (!entry.finished) applyMediaState(entry);
      if (current === entry) snapshot({ holdPending: false, held: accepted ? held : entry.call.held });
      return accepted;
    },

    sendDtmf(tones) {
      const entry = requireCall();
      if (entry.call.phase !== 'connected') return null;
      let method = null;
      for (const tone of String(tones)) method = sendDtmfTone(entry.session, tone);
      snapshot({ dtmfSent: `${entry.call.dtmfSent}${tones}`.slice(-64), dtmfMethod: method });
      return method;
    },

    /** Blind transfer: REFER the peer to `uri`; once the peer took the REFER (202), hang up. */
    transfer(uri) {
      const entry = requireCall();
      if (entry.call.phase !== 'connected') return;
      const target = sip.makeURI(uri);
      if (!target) throw Object.assign(new Error('bad SIP URI'), { code: 'bad_address' });
      snapshot({ transfer: 'pending' });
      entry.session.refer(target, {
        requestDelegate: {
          onAccept: () => {
            if (current === entry) snapshot({ transfer: 'accepted' });
            Promise.resolve(entry.session.bye()).catch(() => finish(entry));
          },
          onReject: () => current === entry && snapshot({ transfer: 'refused' }),
        },
      }).catch(() => current === entry && snapshot({ transfer: 'refused' }));
    },

    /** The output device changed (the VoIP tab's speaker picker): follow it. */
    outputChanged() {
      if (current?.audio) playRemote(current);
    },

    /** Ends any call (logout, page unload). */
    stop() {
      manager.hangUp();
    },
  });
  return manager;
}
