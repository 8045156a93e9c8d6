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
import { isLivePhase, isIgnored } from '../state/channel-store.js';
import { isSecure, waitForSecureChannel } from './call-channel.js';

export const CallTimeouts = Object.freeze({
  ringMs: 45_000,        // the caller gives up (cancel, 'no-answer')
  incomingMs: 60_000,    // the callee stops ringing if no cancel came (a lost caller)
  channelMs: 130_000,    // a secure channel must be up by then (certificate review included)
  iceFailedMs: 15_000,   // ICE failed or disconnected this long → 'failed'
  connectMs: 30_000,     // accepted but no media connection by then → 'failed'
  securityTickMs: 1000,
});

/**
 * Bounds on what one peer's signals can make this page do (each value can be overridden through
 * the `signalLimits` option). A peer with a secure channel could otherwise flood invites (each a
 * busy record out, a log entry and a conversation line in) or media signals (each one a
 * renegotiation, a candidate or a store update).
 */
export const CallSignalLimits = Object.freeze({
  busyBurst: 3,                  // automatic `busy`/`decline` answers per channel: a bucket of this many…
  busyIntervalMs: 5000,          // …refilled by one every this long (a redial still hears busy, a flood does not)
  missedMergeMs: 60_000,         // a missed invite within this of the peer's last one joins its log entry
  missedEntriesPerWindow: 5,     // new missed entries in the log across all peers within missedWindowMs;
  missedWindowMs: 60_000,        // beyond it a peer's missed invite joins its run even when not the newest
  quickEndMs: 5000,              // an incoming call ended unanswered this soon counts as a cancel…
  cancelLimit: 3,                // …and this many invite-then-cancel from one peer within cancelWindowMs…
  cancelWindowMs: 60_000,
  cancelQuietMs: 60_000,         // …and its invites do not ring for this long (logged as missed)
  signalBurst: 200,              // token bucket per call for every signal of the current call…
  signalsPerSecond: 50,          // …refilled at this rate; an empty bucket ends the call (signal_flood)
  candidatesPerDescription: 100, // ICE candidates accepted after each remote offer/answer
});

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
 *         setInterval, clearInterval, randomBytes}, timeouts?,
 *   otherCallActive? () → bool (a call of another kind, the SIP phone's, is on: one call at a time) }.
 */
export function createCallController({ store, channelStore, openPrivate, sendSignal, mediaStats, endMedia, transforms, turnCredentials, preferences, devices, env, timeouts = {}, signalLimits = {}, otherCallActive = () => false }) {
  const limits = { ...CallTimeouts, ...timeouts };
  const bounds = { ...CallSignalLimits, ...signalLimits };
  const busyBuckets = new Map();  // channel session → {tokens, at}: its automatic busy/decline answers
  const missedRuns = new Map();   // peer → {session, logId, lineId, media, count, lastAt, silent}: the open run of missed invites
  let missedEntries = [];         // when each recent new missed entry (all peers) was added, within missedWindowMs
  const cancels = new Map();      // peer → times of its invite-then-cancel, within cancelWindowMs
  const quietUntil = new Map();   // peer → until when its invites do not ring
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

  /**
   * Where a call's conversation line goes: its channel, or — for a call that ended before a
   * channel was secure (peer offline, the caller gave up) — the newest conversation with the
   * peer still in the list; none when there is none (the call log still has the entry).
   */
  function lineSessionOf(call) {
    if (call.channelSession) return call.channelSession;
    const channels = channelStore.get().channels;
    for (let i = channels.length - 1; i >= 0; i -= 1) if (channels[i].peer.username === call.peer) return channels[i].session;
    return null;
  }

  function systemLine(session, outcome, media, durationMs) {
    return session ? channelStore.addSystem(session, { messageKey: `call.log.${outcome}`, params: { media, duration: formatDuration(durationMs) } }) : null;
  }

  /**
   * A missed call from `peer`: consecutive ones (each within missedMergeMs of the last, their
   * entry still the newest of the log) share one log entry and one conversation line,
   * "missed ×N", so a flood of invites neither fills the log (MAX_CALL_LOG) nor the conversation.
   * Peers taking turns defeat "the newest": once missedEntriesPerWindow new missed entries were
   * added within missedWindowMs (all peers together), a peer's missed call joins its open run
   * wherever that entry now is. `silent` (an ignored peer): no conversation line, and its run
   * never merges with a run that has one.
   */
  function logMissed(session, peer, media, at, { silent = false } = {}) {
    const now = env.now();
    missedEntries = missedEntries.filter((added) => now - added < bounds.missedWindowMs);
    const run = missedRuns.get(peer);
    const flooded = missedEntries.length >= bounds.missedEntriesPerWindow;
    const consecutive = run && run.session === session && run.silent === silent && now - run.lastAt <= bounds.missedMergeMs && (flooded || store.get().log[0]?.id === run.logId);
    if (consecutive && store.setLogCount(run.logId, run.count + 1)) {
      run.count += 1;
      run.lastAt = now;
      if (run.lineId !== null) {
        channelStore.updateSystem?.(session, run.lineId, { messageKey: 'call.log.missed-many', params: { media: run.media, duration: formatDuration(0), count: run.count } });
      }
      return;
    }
    const entry = store.addLog({ peer, direction: 'incoming', media, outcome: 'missed', at, durationMs: 0 });
    missedEntries.push(now);
    const line = silent ? null : systemLine(session, 'missed', media, 0);
    missedRuns.set(peer, { session, logId: entry.id, lineId: line?.id ?? null, media, count: 1, lastAt: now, silent });
  }

  /**
   * Answers an invite that cannot ring with `kind` (busy, or decline for an ignored peer) from a
   * per-channel token bucket: busyBurst answers at once, then one per busyIntervalMs, so a
   * caller redialling soon after a busy still hears it while a flood of invites gets a few.
   */
  function answerAutomatically(session, id, kind) {
    const now = env.now();
    const bucket = busyBuckets.get(session) ?? { tokens: bounds.busyBurst, at: now };
    bucket.tokens = Math.min(bounds.busyBurst, bucket.tokens + (now - bucket.at) / bounds.busyIntervalMs);
    bucket.at = now;
    if (bucket.tokens < 1) return;
    bucket.tokens -= 1;
    busyBuckets.set(session, bucket);
    // The map only needs channels whose bucket is not full again.
    for (const [key, other] of busyBuckets) {
      if (key !== session && other.tokens + (now - other.at) / bounds.busyIntervalMs >= bounds.busyBurst) busyBuckets.delete(key);
    }
    signalTo(session, id, { kind });
  }

  /** An invite-then-cancel from `peer`: the cancelLimit-th within cancelWindowMs quiets its invites. */
  function countCancel(peer) {
    const now = env.now();
    const recent = (cancels.get(peer) ?? []).filter((at) => now - at < bounds.cancelWindowMs);
    recent.push(now);
    cancels.set(peer, recent);
    if (recent.length >= bounds.cancelLimit) quietUntil.set(peer, now + bounds.cancelQuietMs);
  }

  /** One signal of the current call spent from its bucket; false once the peer floods. */
  function spendSignal(call, parsed) {
    const now = env.now();
    const bucket = call.bucket;
    bucket.tokens = Math.min(bounds.signalBurst, bucket.tokens + ((now - bucket.at) * bounds.signalsPerSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    if (parsed.kind === 'offer' || parsed.kind === 'answer') call.candidates = 0;
    else if (parsed.kind === 'ice' && parsed.candidate !== null) {
      call.candidates += 1;
      if (call.candidates > bounds.candidatesPerDescription) return false;
    }
    return true;
  }

  /** Ends the current call once: signal (if any), media stopped, log line, conversation line. */
  function finish(call, outcome, { send = null, reason = null, peerGaveUp = false } = {}) {
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
    // An invite ended unanswered by the caller, or within quickEndMs whatever ended it (the
    // channel closed, a hang-up), counts towards quieting that peer: ringing costs it nothing.
    if (call.direction === 'incoming' && !call.acceptSent && (peerGaveUp || now - call.startedAt < bounds.quickEndMs)) countCancel(call.peer);
    if (outcome === 'missed' && call.direction === 'incoming') {
      logMissed(call.channelSession, call.peer, call.media, call.startedAt);
    } else {
      missedRuns.delete(call.peer);   // the next missed call from this peer starts a new entry
      store.addLog({ peer: call.peer, direction: call.direction, media: call.media, outcome, at: call.startedAt, durationMs });
      systemLine(lineSessionOf(call), outcome, call.media, durationMs);
    }
  }

  function newActive({ id, peer, direction, media, channelSession = null, peerE2ee = null }) {
    const call = {
      id, peer, direction, media, channelSession, peerE2ee, startedAt: env.now(), connectedAt: null,
      timers: new Set(), session: null, early: [], inviteSent: false, acceptSent: false, accepted: false,
      consent: null, consented: false, monitor: null, ringTimer: null, statsWanted: false, endHooks: new Set(),
      bucket: { tokens: bounds.signalBurst, at: env.now() }, candidates: 0,
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
    if (active || otherCallActive()) return { error: { code: 'busy' } };
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
    if (isIgnored(channelStore.get(), channel)) {
      // An ignored user's call does not ring: declined at once, in the call log only.
      answerAutomatically(session, parsed.call, 'decline');
      logMissed(session, peer, parsed.media, env.now(), { silent: true });
      return;
    }
    const quiet = (quietUntil.get(peer) ?? -Infinity) > env.now();
    if (!quiet) quietUntil.delete(peer);
    if (active || otherCallActive() || !support.webrtc || quiet) {
      // One call at a time (a SIP call counts): the second caller hears busy, this user sees a missed call. A peer
      // that kept cancelling its invites does not ring for a while either.
      answerAutomatically(session, parsed.call, 'busy');
      logMissed(session, peer, parsed.media, env.now());
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
    if (!spendSignal(call, parsed)) {
      finish(call, 'failed', { send: { kind: 'hangup', reason: 'failed' }, reason: 'signal_flood' });
      return true;
    }
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
        if (!outgoing && !call.acceptSent) finish(call, 'missed', { peerGaveUp: true });
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
        // Before this side accepted, a hang-up is the caller giving up: the same as `cancel`.
        if (!outgoing && !call.acceptSent) finish(call, 'missed', { reason: `peer_${parsed.reason}`, peerGaveUp: true });
        else finish(call, parsed.reason === 'failed' ? 'failed' : call.accepted ? 'answered' : 'cancelled', { reason: `peer_${parsed.reason}` });
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
    // The controls queue the tones and report each one sent as it is played out (tonechange).
    sendDtmf: (tones) => Boolean(active?.session) && active.controls.sendDtmf(tones),
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
