// Reading an RTCStatsReport (W3C webrtc-stats): the remote DTLS certificate, the selected
// candidate pair (path and round-trip time), and the quality figures the call view shows.
// Pure over the report's entries, so it is tested in Node with plain objects.

/** The report as a Map id → stats (an RTCStatsReport is map-like; a plain array is accepted too). */
function entriesOf(report) {
  const byId = new Map();
  if (!report) return byId;
  const values = typeof report.values === 'function' ? report.values() : report;
  for (const entry of values) if (entry && typeof entry.id === 'string') byId.set(entry.id, entry);
  return byId;
}

function selectedPair(byId, transport) {
  if (transport?.selectedCandidatePairId && byId.has(transport.selectedCandidatePairId)) return byId.get(transport.selectedCandidatePairId);
  // Firefox reports no transport link: the nominated, succeeded pair marked selected.
  for (const entry of byId.values()) if (entry.type === 'candidate-pair' && (entry.selected || (entry.nominated && entry.state === 'succeeded'))) return entry;
  return null;
}

/**
 * → { remoteCertificate: {fingerprint, fingerprintAlgorithm}|null, path: 'direct'|'relay'|null,
 *     rttMs: number|null, bytesSent, bytesReceived, packetsLost, packetsReceived, at (ms),
 *     kindBytes: {sent: {audio, video}, received: {audio, video}} }
 * (kindBytes: the RTP payload bytes per media kind, for the per-kind security check.)
 */
export function readStats(report) {
  const byId = entriesOf(report);
  let transport = null;
  let bytesSent = 0;
  let bytesReceived = 0;
  let packetsLost = 0;
  let packetsReceived = 0;
  let at = null;
  const kindBytes = { sent: { audio: 0, video: 0 }, received: { audio: 0, video: 0 } };
  // `kind` (webrtc-stats); older browsers named it `mediaType`.
  const kindOf = (entry) => { const kind = entry.kind ?? entry.mediaType; return kind === 'audio' || kind === 'video' ? kind : null; };
  for (const entry of byId.values()) {
    if (entry.type === 'transport' && !transport) transport = entry;
    if (entry.type === 'outbound-rtp') {
      bytesSent += entry.bytesSent ?? 0;
      if (kindOf(entry)) kindBytes.sent[kindOf(entry)] += entry.bytesSent ?? 0;
    }
    if (entry.type === 'inbound-rtp') {
      bytesReceived += entry.bytesReceived ?? 0;
      if (kindOf(entry)) kindBytes.received[kindOf(entry)] += entry.bytesReceived ?? 0;
      packetsLost += Math.max(0, entry.packetsLost ?? 0);
      packetsReceived += entry.packetsReceived ?? 0;
    }
    if (typeof entry.timestamp === 'number') at = Math.max(at ?? 0, entry.timestamp);
  }
  const certificate = transport?.remoteCertificateId ? byId.get(transport.remoteCertificateId) : null;
  const pair = selectedPair(byId, transport);
  let path = null;
  if (pair) {
    const local = byId.get(pair.localCandidateId);
    const remote = byId.get(pair.remoteCandidateId);
    if (local || remote) path = local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'relay' : 'direct';
  }
  return {
    remoteCertificate: certificate && typeof certificate.fingerprint === 'string'
      ? { fingerprint: certificate.fingerprint, fingerprintAlgorithm: certificate.fingerprintAlgorithm ?? '' } : null,
    path,
    rttMs: typeof pair?.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null,
    bytesSent, bytesReceived, packetsLost, packetsReceived, at, kindBytes,
  };
}

/**
 * The figures shown on demand, from two successive readStats samples:
 * { bitrateKbps: {send, receive}, packetLoss (0..1 over the interval), rttMs, path }.
 */
export function qualityOf(previous, current) {
  const seconds = previous && current.at !== null && previous.at !== null ? (current.at - previous.at) / 1000 : 0;
  const rate = (now, before) => (seconds > 0 ? Math.max(0, Math.round(((now - before) * 8) / seconds / 1000)) : 0);
  const lost = previous ? current.packetsLost - previous.packetsLost : 0;
  const received = previous ? current.packetsReceived - previous.packetsReceived : 0;
  return {
    bitrateKbps: { send: previous ? rate(current.bytesSent, previous.bytesSent) : 0, receive: previous ? rate(current.bytesReceived, previous.bytesReceived) : 0 },
    packetLoss: lost > 0 && lost + received > 0 ? lost / (lost + received) : 0,
    rttMs: current.rttMs,
    path: current.path,
  };
}
