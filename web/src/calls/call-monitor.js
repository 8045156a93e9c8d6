// Watches one call's media once it is negotiated: the connection state (connect timeout, ICE
// failure with one restart), and every second the security verdict (call-security.js) from the
// Worker's transform counters and getStats (DTLS certificate, path), plus the quality figures
// when the user shows them. The controller decides what an end means; this file only reports.

import { fingerprintMatches } from './call-signal.js';
import { readStats, qualityOf } from './call-stats.js';
import { securityVerdict, transformCoverage } from './call-security.js';

const KINDS = ['audio', 'video'];

/**
 * Options: { callId, channelSession, session (call-session.js), store (call-store), channelStore,
 *   mediaStats({call}) → Promise<stats>, env: {now, setTimeout, clearTimeout, setInterval,
 *   clearInterval}, limits: {connectMs, iceFailedMs, securityTickMs}, isCurrent() → bool,
 *   onConnected(at), onFail(reason) }.
 */
export function createCallMonitor({ callId, channelSession, session, store, channelStore, mediaStats, env, limits, isCurrent, onConnected, onFail }) {
  let connectedAt = null;
  let failTimer = null;
  let restarted = false;
  let hadVerdict = false;
  let lastStats = null;
  let lastMedia = null;
  let statsVisible = false;
  // When each kind started to be required in each direction (for the per-kind grace).
  const since = { send: {}, receive: {} };
  let stopped = false;

  const arm = (ms, reason) => {
    failTimer = env.setTimeout(() => {
      failTimer = null;
      if (!stopped && isCurrent()) onFail(reason);
    }, ms);
  };
  arm(limits.connectMs, 'connect_timeout');

  function connectionState(state) {
    if (stopped || !isCurrent()) return;
    if (state === 'connected') {
      if (failTimer !== null) env.clearTimeout(failTimer);
      failTimer = null;
      restarted = false;
      if (connectedAt === null) {
        connectedAt = env.now();
        onConnected(connectedAt);
      }
    } else if (state === 'failed' || state === 'disconnected') {
      // One ICE restart per failure episode; the call ends if nothing connects within iceFailedMs.
      if (state === 'failed' && !restarted) {
        restarted = true;
        session.restartIce();
      }
      if (failTimer === null) arm(limits.iceFailedMs, 'ice_failed');
    }
  }

  // The end-to-end tests read the Worker's frame counts here as "<encrypted>:<decrypted>"
  // (audio and video summed): counts only, never a key or a frame.
  function mirrorMediaFrames(media) {
    const root = globalThis.document?.documentElement;
    if (!root || !media) return;
    const sum = (side, field) => (side?.audio?.[field] ?? 0) + (side?.video?.[field] ?? 0);
    root.dataset.callMediaFrames = `${sum(media.send, 'frames')}:${sum(media.receive, 'frames')}`;
  }

  async function tick() {
    const [media, report] = await Promise.all([
      Promise.resolve().then(() => mediaStats({ call: callId })).catch(() => null),
      session.getStats().catch(() => null),
    ]);
    if (stopped || !isCurrent()) return;
    const read = readStats(report);
    const fingerprintsMatch = read.remoteCertificate ? fingerprintMatches(session.remoteFingerprints(), read.remoteCertificate) : null;
    // Per kind (once the media connected): a kind this side sends (a live local track whose
    // outbound bytes rise) must be encrypted by the Worker, a kind whose inbound bytes rise must
    // be decrypted by it; audio flowing must not vouch for a video that bypasses SFrame.
    const rose = (direction, kind) => lastStats !== null && read.kindBytes[direction][kind] > lastStats.kindBytes[direction][kind];
    const live = connectedAt === null ? [] : session.sendingKinds?.() ?? [];
    const sending = connectedAt === null ? [] : KINDS.filter((kind) => live.includes(kind) && rose('sent', kind));
    const receiving = connectedAt === null ? [] : KINDS.filter((kind) => rose('received', kind));
    const at = env.now();
    for (const [direction, kinds] of [['send', sending], ['receive', receiving]]) {
      for (const kind of KINDS) {
        if (kinds.includes(kind)) since[direction][kind] ??= at;
        else delete since[direction][kind];
      }
    }
    const coverage = transformCoverage({ media, previous: lastMedia, sending, receiving, since, now: at });
    if (media) lastMedia = media;
    const { sendActive, receiveActive } = coverage;
    mirrorMediaFrames(media);
    const verdict = securityVerdict({
      e2ee: store.get().call?.security.e2ee, sendActive, receiveActive, fingerprintsMatch,
      connectedFor: connectedAt === null ? null : env.now() - connectedAt, hadVerdict, unprotected: coverage.unprotected,
    });
    if (verdict.state !== 'checking') hadVerdict = true;
    store.updateSecurity(callId, {
      state: verdict.state, reason: verdict.reason, transform: { sendActive, receiveActive }, fingerprintsMatch, path: read.path,
      sas: channelStore.find(channelSession)?.sas ?? null,
    });
    // The DTLS peer is not the one the authenticated SDP named: someone is in the media path.
    if (fingerprintsMatch === false) {
      onFail('fingerprint_mismatch');
      return;
    }
    if (statsVisible) store.update(callId, { stats: qualityOf(lastStats, read) });
    lastStats = read;
  }

  const interval = env.setInterval(() => tick().catch(() => {}), limits.securityTickMs);

  return Object.freeze({
    connectionState,
    connectedAt: () => connectedAt,
    setStatsVisible(on) {
      statsVisible = Boolean(on);
      if (!statsVisible) store.update(callId, { stats: null });
    },
    stop() {
      stopped = true;
      env.clearInterval(interval);
      if (failTimer !== null) env.clearTimeout(failTimer);
      failTimer = null;
    },
  });
}
