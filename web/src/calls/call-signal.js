// Call signals: the plaintext of channel record type 5 (docs/protocol.md "Call signalling").
// Pure (no DOM, no network), so the strict parser is tested in Node. Every signal is a JSON
// object {"v":1,"call":"<32 lower-case hex>","kind":K, ...fields of K}; anything else — an
// unknown kind, a missing or extra field, a wrong type, an over-long string — is refused whole,
// so a peer (or a bug) can never make the page act on half of a signal.

export const CALL_SIGNAL_VERSION = 1;
export const MAX_SIGNAL_BYTES = 60_000;     // the record's plaintext bound (common with the Worker)
export const MAX_SDP_CHARS = 48 * 1024;
export const MAX_CANDIDATE_CHARS = 1024;
const MAX_MID_CHARS = 32;
const MAX_UFRAG_CHARS = 256;

const callIdPattern = /^[0-9a-f]{32}$/;

export class CallSignalError extends Error {
  constructor(reason) {
    super(`call signal: ${reason}`);
    this.name = 'CallSignalError';
    this.reason = reason;
  }
}

const fail = (reason) => { throw new CallSignalError(reason); };
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const isBool = (value) => typeof value === 'boolean';
const isMedia = (value) => value === 'audio' || value === 'video';
const isSdp = (value) => typeof value === 'string' && value.length <= MAX_SDP_CHARS && value.startsWith('v=0');

function isCandidate(value) {
  if (value === null) return true;   // end of candidates
  if (!isObject(value)) return false;
  const names = Object.keys(value).sort().join(',');
  if (names !== 'candidate,sdpMLineIndex,sdpMid,usernameFragment') return false;
  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = value;
  return typeof candidate === 'string' && candidate.length <= MAX_CANDIDATE_CHARS
    && (sdpMid === null || (typeof sdpMid === 'string' && sdpMid.length <= MAX_MID_CHARS))
    && (sdpMLineIndex === null || (Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0 && sdpMLineIndex < 64))
    && (usernameFragment === null || (typeof usernameFragment === 'string' && usernameFragment.length <= MAX_UFRAG_CHARS));
}

/** Each kind's own fields with their checks; exactly these fields, no others. */
const kinds = Object.freeze({
  invite: { media: isMedia, e2ee: isBool },
  ringing: {},
  busy: {},
  decline: {},
  accept: { media: isMedia, e2ee: isBool },
  cancel: {},
  offer: { sdp: isSdp },
  answer: { sdp: isSdp },
  ice: { candidate: isCandidate },
  hold: { on: isBool },
  state: { camera: isBool, muted: isBool, screen: isBool },
  hangup: { reason: (value) => value === 'normal' || value === 'timeout' || value === 'failed' },
});

export const CallSignalKinds = Object.freeze(Object.keys(kinds));

/** Checks a signal object and returns a frozen copy of exactly its documented fields. */
export function checkCallSignal(signal) {
  if (!isObject(signal)) fail('not_an_object');
  if (signal.v !== CALL_SIGNAL_VERSION) fail('version');
  if (typeof signal.call !== 'string' || !callIdPattern.test(signal.call)) fail('call_id');
  if (typeof signal.kind !== 'string' || !Object.hasOwn(kinds, signal.kind)) fail('kind');
  const fields = kinds[signal.kind];
  for (const name of Object.keys(signal)) {
    if (name !== 'v' && name !== 'call' && name !== 'kind' && !Object.hasOwn(fields, name)) fail(`unknown_field:${name.slice(0, 20)}`);
  }
  const copy = { v: CALL_SIGNAL_VERSION, call: signal.call, kind: signal.kind };
  for (const [name, check] of Object.entries(fields)) {
    if (!Object.hasOwn(signal, name) || !check(signal[name])) fail(`field:${name}`);
    const value = signal[name];
    copy[name] = isObject(value) ? Object.freeze({ ...value }) : value;
  }
  return Object.freeze(copy);
}

/** The JSON text of a signal (checked first: this side never sends what it would refuse). */
export function encodeCallSignal(signal) {
  const text = JSON.stringify(checkCallSignal(signal));
  if (new TextEncoder().encode(text).byteLength > MAX_SIGNAL_BYTES) fail('too_long');
  return text;
}

/** Parses the JSON text of a signal strictly; throws CallSignalError. */
export function parseCallSignal(text) {
  if (typeof text !== 'string') fail('not_text');
  if (text.length > MAX_SIGNAL_BYTES) fail('too_long');
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    fail('json');
  }
  return checkCallSignal(value);
}

/** A new call id: 16 random bytes as 32 lower-case hex digits. */
export function newCallId(randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  return Array.from(randomBytes(16), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The DTLS certificate fingerprints an SDP announces (RFC 8122 §5 `a=fingerprint`, session and
 * media level): [{algorithm (lower case), value (upper-case hex with colons)}], duplicates removed.
 * The SDP came inside the authenticated channel, so these are the fingerprints the peer's
 * RTCPeerConnection must present (RFC 8827 §6.5 relies on exactly this binding).
 */
export function remoteFingerprints(sdp) {
  if (typeof sdp !== 'string') return [];
  const found = new Map();
  for (const line of sdp.split(/\r?\n/)) {
    const match = /^a=fingerprint:([A-Za-z0-9-]{1,16}) ((?:[0-9A-Fa-f]{2}:){15,63}[0-9A-Fa-f]{2})\s*$/.exec(line);
    if (!match) continue;
    const entry = { algorithm: match[1].toLowerCase(), value: match[2].toUpperCase() };
    found.set(`${entry.algorithm} ${entry.value}`, Object.freeze(entry));
  }
  return Object.freeze([...found.values()]);
}

/** Whether a certificate seen by getStats ({fingerprint, fingerprintAlgorithm}) is one of `fingerprints`. */
export function fingerprintMatches(fingerprints, certificate) {
  if (!certificate || typeof certificate.fingerprint !== 'string' || typeof certificate.fingerprintAlgorithm !== 'string') return false;
  const algorithm = certificate.fingerprintAlgorithm.toLowerCase();
  const value = certificate.fingerprint.toUpperCase();
  return fingerprints.some((entry) => entry.algorithm === algorithm && entry.value === value);
}
