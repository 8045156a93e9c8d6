// The call logic of the page: call signals in and out of the secure channel (docs/protocol.md
// "Call signalling"), the state machine of one call, timeouts, the call log and the security
// verdict. The media side lives in call-session.js (RTCPeerConnection) and call-controls.js
// (local tracks); this file decides. Every browser object and clock comes from `env`, so the
// whole state machine is tested in Node with fakes.

import { encodeCallSignal, parseCallSignal, newCallId } from './call-signal.js';
import { createCallSession } from './call-session.js';
import { createCallControls } from './call-controls.js';
import { createCallMonitor } from './call-monitor.js';
import { newCall } from '../state/call-store.js';
import { isLivePhase } from '../state/channel-store.js';
import { isSecure, waitForSecureChannel } from './call-channel.js';

export const CallTimeouts = Object.freeze({
  ringMs: 45_000,        // the caller gives up (cancel, 'no-answer')
  incomingMs: 60_000,    // the callee stops ringing if no cancel came (a lost caller)
  channelMs: 130_000,    // a secure channel must be up by then (certificate review included)
  iceFailedMs: 15_000,   // ICE failed or disconnected this long → 'failed'
  connectMs: 30_000,     // accepted but no media connection by then → 'failed'
  securityTickMs: 1000,
});

const dtmfPattern = /^[0-9A-Da-d#*,]{1,64}$/;

/** "m:ss" (or "h:mm:ss") for the conversation's system line. */
export function formatDuration(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/**
 * Options: { store (call-store), channelStore, openPrivate(username) → {ok}|{error},
 *   sendSignal({session, signal}) → Promise, mediaStats({call}) → Promise<stats>, endMedia({call}),
 *   transforms: {createScriptTransform, attachEncodedStreams}, turnCredentials() → Promise,
 *   preferences: {get() → {hideIp}, setHideIp(bool)}, devices (media-devices.js),
 *   env: {RTCPeerConnection, RTCRtpReceiver, MediaStream, now, setTimeout, clearTimeout,
 *         setInterval, clearInterval, randomBytes}, timeouts? }.
 */
export function createCallController({ store, channelStore, openPrivate, sendSignal, mediaStats, endMedia, transforms, turnCredentials, preferences, devices, env, timeouts = {} }) {
  const limits = { ...CallTimeouts, ...timeouts };
  const support = store.get().support;
  const capable = support.webrtc && support.transform !== null;
  let active = null;   // the current call's private state (the store holds what is shown)

  // --- helpers ------------------------------------------------------------------------------

  const update = (changes) => active && store.update(active.id, changes);
  const snapshot = () => store.get().call;

  function timer(call, ms, fire) {
    const handle = env.setTimeout(() => {
      call.timers.delete(handle);
      if (active === call) fire();
    }, ms);
    call.timers.add(handle);
    return handle;
  }

  function clearTimer(call, handle) {
    if (handle === null || handle === undefined) return;
    env.clearTimeout(handle);
    call.timers.delete(handle);
  }

  function signalTo(session, id, fields) {
    let text;
    try {
      text = encodeCallSignal({ v: 1, call: id, ...fields });
    } catch {
      return;   // this side never sends what it would refuse (e.g. an oversized SDP)
    }
    Promise.resolve().then(() => sendSignal({ session, signal: text })).catch(() => {});
  }
  const signal = (call, fields) => call.channelSession && signalTo(call.channelSession, call.id, fields);

  function systemLine(session, outcome, media, durationMs) {
    if (session) channelStore.addSystem(session, { messageKey: `call.log.${outcome}`, params: { media, duration: formatDuration(durationMs) } });
  }

  /** Ends the current call once: signal (if any), media stopped, log line, conversation line. */
  function finish(call, outcome, { send = null, reason = null } = {}) {
    if (!call || active !== call) return;
    active = null;
    if (send) signal(call, send);
    for (const handle of call.timers) env.clearTimeout(handle);
    call.timers.clear();
    call.monitor?.stop();
    for (const hook of call.endHooks) hook();
    call.consent?.(false);
    call.controls.stop();
    call.session?.close();
    if (call.session) Promise.resolve().then(() => endMedia({ call: call.id })).catch(() => {});
    const now = env.now();
    const durationMs = call.connectedAt ? now - call.connectedAt : 0;
    store.update(call.id, { phase: 'ended', endReason: reason ?? outcome, needsConsent: null, localStream: null, remoteStream: null, level: 0 });
    store.addLog({ peer: call.peer, direction: call.direction, media: call.media, outcome, at: call.startedAt, durationMs });
    systemLine(call.channelSession, outcome, call.media, durationMs);
  }

  function newActive({ id, peer, direction, media, channelSession = null, peerE2ee = null }) {
    const call = {
      id, peer, direction, media, channelSession, peerE2ee, startedAt: env.now(), connectedAt: null,
      timers: new Set(), session: null, early: [], inviteSent: false, acceptSent: false, accepted: false,
      consent: null, consented: false, monitor: null, ringTimer: null, statsWanted: false, endHooks: new Set(),
    };
    call.controls = createCallControls({ call, devices, store, env, signal: (fields) => signal(call, fields), isCurrent: () => active === call });
    return call;
  }

  /** Waits for the user's explicit agreement to media that is not end-to-end encrypted. */
  function askConsent(call, reason) {
    if (call.consented) return Promise.resolve(true);
    return new Promise((resolve) => {
      call.consent = (yes) => {
        call.consent = null;
        resolve(yes);
      };
      update({ needsConsent: Object.freeze({ reason }) });
    });
  }

  // --- the secure channel ---------------------------------------------------------------------

  const secureChannel = (call, username) => waitForSecureChannel({
    channelStore, openPrivate, username, timeoutMs: limits.channelMs, env, isCurrent: () => active === call,
    onEnd: (hook) => call.endHooks.add(hook),
  });

  // --- media ----------------------------------------------------------------------------------

  async function startMedia(call) {
    let ice = { iceServers: [], iceTransportPolicy: 'all' };
    try {
      const turn = await turnCredentials();
      if (Array.isArray(turn?.iceServers)) ice = { iceServers: turn.iceServers, iceTransportPolicy: turn.iceTransportPolicy === 'relay' ? 'relay' : 'all' };
    } catch {
      // No TURN credentials (rate limited, endpoint down): direct paths only, unless relay is required below.
    }
    if (active !== call) return;
    if (preferences.get().hideIp) ice.iceTransportPolicy = 'relay';
    // Relay only without a relay: no candidate could ever pair; say so now instead of after 30 s.
    if (ice.iceTransportPolicy === 'relay' && ice.iceServers.length === 0) {
      finish(call, 'failed', { send: { kind: 'hangup', reason: 'failed' }, reason: 'no_relay' });
      return;
    }
    const e2ee = capable && call.peerE2ee === true;
    store.updateSecurity(call.id, { e2ee, consentUnencrypted: !e2ee && call.consented });
    call.session = createCallSession({
      env, call: call.id, session: call.channelSession, polite: call.direction === 'incoming',
      iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy, e2ee, transformMode: support.transform, transforms,
      localTracks: call.controls.tracksReady(),
      sendSignal: (fields) => active === call && signal(call, fields),
      onRemoteStream: (stream) => active === call && update({ remoteStream: stream }),
      onConnectionState: (state) => call.monitor?.connectionState(state),
    });
    call.controls.attach(call.session);
    for (const early of call.early.splice(0)) applyMediaSignal(call, early);
    call.monitor = createCallMonitor({
      callId: call.id, channelSession: call.channelSession, session: call.session, store, channelStore, mediaStats, env, limits,
      isCurrent: () => active === call,
      onConnected: (at) => {
        call.connectedAt = at;
        update({ phase: 'active', connectedAt: at });
      },
      onFail: (reason) => finish(call, 'failed', { send: { kind: 'hangup', reason: 'failed' }, reason }),
    });
    if (call.statsWanted) call.monitor.setStatsVisible(true);
  }

  function applyMediaSignal(call, parsed) {
    if (!call.session) {
      if (call.early.length < 64) call.early.push(parsed);
      return;
    }
    if (parsed.kind === 'offer' || parsed.kind === 'answer') call.session.handleDescription({ type: parsed.kind, sdp: parsed.sdp });
    else call.session.handleCandidate(parsed.candidate);
  }

  const refreshDevicesQuietly = () => Promise.resolve().then(() => devices.list()).then((lists) => store.setDevices(lists)).catch(() => {});

  // --- caller ---------------------------------------------------------------------------------

  async function placeCall({ username, video }) {
    if (!support.webrtc) return { error: { code: 'unsupported' } };
    if (active) return { error: { code: 'busy' } };
    if (typeof username !== 'string' || !username || username === channelStore.get().self) return { error: { code: 'invalid_peer' } };
    const media = video ? 'video' : 'audio';
    const call = newActive({ id: newCallId(env.randomBytes), peer: username, direction: 'outgoing', media });
    active = call;
    store.begin(newCall({ id: call.id, peer: username, direction: 'outgoing', media, phase: 'calling', startedAt: call.startedAt, e2ee: capable }));
    // The microphone first: without it there is no call, and no channel needs opening for one.
    try {
      await call.controls.acquire(media);
    } catch {
      finish(call, 'failed', { reason: 'no_media' });
      return { ok: false };
    }
    refreshDevicesQuietly();   // device labels are readable once a permission was given
    if (!capable) {
      if (!(await askConsent(call, 'no_transform'))) return { ok: false };
      call.consented = true;
    }
    if (active !== call) return { ok: false };
    let session;
    try {
      session = await secureChannel(call, username);
    } catch (error) {
      if (active === call) finish(call, error.code === 'offline' || error.code === 'channel-ended' ? error.code : 'failed', { reason: error.code });
      return { ok: false };
    }
    if (active !== call) return { ok: false };
    call.channelSession = session;
    update({ session });
    store.updateSecurity(call.id, { sas: channelStore.find(session)?.sas ?? null });
    signalTo(session, call.id, { kind: 'invite', media, e2ee: capable });
    call.inviteSent = true;
    call.ringTimer = timer(call, limits.ringMs, () => finish(call, 'no-answer', { send: { kind: 'cancel' } }));
    return { ok: true };
  }

  async function onAccept(call, parsed) {
    call.accepted = true;
    clearTimer(call, call.ringTimer);
    call.peerE2ee = parsed.e2ee;
    update({ phase: 'connecting', remote: { camera: parsed.media === 'video', muted: false, screen: false } });
    if (!(capable && parsed.e2ee)) {
      if (!(await askConsent(call, capable ? 'peer_no_transform' : 'no_transform'))) return;
      call.consented = true;
      update({ needsConsent: null });
    }
    if (active === call) await startMedia(call);
  }


  // --- callee ---------------------------------------------------------------------------------

  function onInvite(session, channel, parsed) {
    const peer = channel.peer.username;
    if (active?.id === parsed.call) return;   // a repeated invite
    if (active || !support.webrtc) {
      // One call at a time: the second caller hears busy, this user sees a missed call.
      signalTo(session, parsed.call, { kind: 'busy' });
      store.addLog({ peer, direction: 'incoming', media: parsed.media, outcome: 'missed', at: env.now(), durationMs: 0 });
      systemLine(session, 'missed', parsed.media, 0);
      return;
    }
    const call = newActive({ id: parsed.call, peer, direction: 'incoming', media: parsed.media, channelSession: session, peerE2ee: parsed.e2ee });
    active = call;
    store.begin(newCall({ id: call.id, peer, session, direction: 'incoming', media: parsed.media, phase: 'incoming', startedAt: call.startedAt, e2ee: capable && parsed.e2ee, sas: channel.sas }));
    update({ remote: { camera: parsed.media === 'video', muted: false, screen: false } });
    signal(call, { kind: 'ringing' });
    call.ringTimer = timer(call, limits.incomingMs, () => finish(call, 'missed', { send: { kind: 'decline' }, reason: 'timeout' }));
  }

  async function acceptCall({ video = false } = {}) {
    const call = active;
    if (!call || call.direction !== 'incoming' || call.accepted) return;
    call.accepted = true;
    clearTimer(call, call.ringTimer);
    const media = video ? 'video' : 'audio';
    update({ phase: 'connecting', cameraOn: video });
    call.controls.acquire(media).then(refreshDevicesQuietly, () => finish(call, 'failed', { send: { kind: 'hangup', reason: 'failed' }, reason: 'no_media' }));
    if (!(capable && call.peerE2ee)) {
      if (!(await askConsent(call, capable ? 'peer_no_transform' : 'no_transform'))) return;
      call.consented = true;
      update({ needsConsent: null });
    }
    if (active !== call) return;
    signal(call, { kind: 'accept', media, e2ee: capable });
    call.acceptSent = true;
    await startMedia(call);
  }

  // --- inbound signals ------------------------------------------------------------------------

  /** A call signal from the Worker (`call.signal {session, signal}`); anything malformed is dropped. */
  function handleSignal({ session, signal: text }) {
    let parsed;
    try {
      parsed = parseCallSignal(text);
    } catch {
      return false;
    }
    const channel = channelStore.find(session);
    if (!isSecure(channel)) return false;
    if (parsed.kind === 'invite') {
      onInvite(session, channel, parsed);
      return true;
    }
    const call = active;
    // Signals of another call, or of this call id on another channel, are not this call's.
    if (!call || call.id !== parsed.call || call.channelSession !== session) return false;
    const outgoing = call.direction === 'outgoing';
    switch (parsed.kind) {
      case 'ringing':
        if (outgoing && !call.accepted && snapshot().phase === 'calling') update({ phase: 'ringing' });
        break;
      case 'busy':
        if (outgoing && !call.accepted) finish(call, 'busy');
        break;
      case 'decline':
        if (outgoing && !call.accepted) finish(call, 'declined');
        break;
      case 'accept':
        if (outgoing && !call.accepted) onAccept(call, parsed).catch(() => finish(call, 'failed', { send: { kind: 'hangup', reason: 'failed' } }));
        break;
      case 'cancel':
        if (!outgoing && !call.acceptSent) finish(call, 'missed');
        break;
      case 'offer': case 'answer': case 'ice':
        if (call.accepted && (outgoing || call.acceptSent)) applyMediaSignal(call, parsed);
        break;
      case 'hold':
        if (call.accepted) call.controls.remoteHold(parsed.on);
        break;
      case 'state':
        if (call.accepted) update({ remote: { camera: parsed.camera, muted: parsed.muted, screen: parsed.screen } });
        break;
      case 'hangup':
        finish(call, parsed.reason === 'failed' ? 'failed' : call.accepted ? 'answered' : 'cancelled', { reason: `peer_${parsed.reason}` });
        break;
      default:
        return false;
    }
    return true;
  }

  /** The channel of the call ended (peer closed the window, logout, teardown). */
  function channelEnded({ session }) {
    if (active && active.channelSession === session) finish(active, 'channel-ended');
  }

  // The controller also watches the channel list itself: a channel that leaves the live phases
  // ends its call even when no explicit event reached this side.
  const unsubscribeChannels = channelStore.subscribe(() => {
    if (!active?.channelSession) return;
    const channel = channelStore.find(active.channelSession);
    if (!channel || !isLivePhase(channel.phase)) finish(active, 'channel-ended');
  });

  // --- actions (the UI) -----------------------------------------------------------------------

  function hangUp() {
    const call = active;
    if (!call) {
      store.dismiss();
      return;
    }
    if (call.direction === 'incoming' && !call.acceptSent) {
      finish(call, 'declined', { send: { kind: 'decline' } });
    } else if (call.direction === 'outgoing' && !call.accepted) {
      finish(call, 'cancelled', { send: call.inviteSent ? { kind: 'cancel' } : null });
    } else {
      finish(call, 'answered', { send: { kind: 'hangup', reason: 'normal' }, reason: 'normal' });
    }
  }

  const actions = Object.freeze({
    call: placeCall,
    accept: acceptCall,
    decline() {
      if (active?.direction === 'incoming' && !active.acceptSent) finish(active, 'declined', { send: { kind: 'decline' } });
    },
    hangUp,
    toggleMute: () => active?.controls.toggleMute(),
    toggleCamera: () => active?.controls.toggleCamera(),
    toggleHold: () => active?.accepted && active.controls.toggleHold(),
    toggleScreenShare: () => active?.session && active.controls.toggleScreenShare(),
    sendDtmf(tones) {
      if (!active?.session || typeof tones !== 'string' || !dtmfPattern.test(tones)) return false;
      if (!active.session.insertDtmf(tones.toUpperCase())) return false;
      update({ dtmfSent: (snapshot().dtmfSent + tones.toUpperCase()).slice(-64) });
      return true;
    },
    async selectDevice({ kind, deviceId }) {
      store.selectDevice(kind, deviceId);
      if (active && (kind === 'audioinput' || kind === 'videoinput')) await active.controls.switchDevice(kind, deviceId);
    },
    async refreshDevices() {
      store.setDevices(await devices.list());
    },
    setStatsVisible(on) {
      if (!active) return;
      active.statsWanted = Boolean(on);
      active.monitor?.setStatsVisible(on);
    },
    consentUnencrypted(yes) {
      const call = active;
      if (!call?.consent) return;
      if (yes) {
        store.updateSecurity(call.id, { consentUnencrypted: true });
        update({ needsConsent: null });
        call.consent(true);
      } else {
        // Refused: nothing unencrypted starts; the call ends as if given up before media.
        call.consent(false);
        if (call.direction === 'incoming' && !call.acceptSent) finish(call, 'declined', { send: { kind: 'decline' }, reason: 'unencrypted_refused' });
        else if (!call.accepted) finish(call, 'cancelled', { send: call.inviteSent ? { kind: 'cancel' } : null, reason: 'unencrypted_refused' });
        else finish(call, 'cancelled', { send: { kind: 'hangup', reason: 'normal' }, reason: 'unencrypted_refused' });
      }
    },
    setHideIp(on) {
      preferences.setHideIp(Boolean(on));
      store.setHideIp(Boolean(on));
    },
    dismiss: () => store.dismiss(),
  });

  return Object.freeze({
    actions,
    handleSignal,
    channelEnded,
    /** Ends the call with the services (logout, session end); nothing can be sent any more. */
    stop() {
      if (active) finish(active, 'channel-ended', { reason: 'stopped' });
    },
    dispose() {
      this.stop();
      unsubscribeChannels();
    },
  });
}
