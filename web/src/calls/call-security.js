// The call-security verdict (pure, tested in Node). "End-to-end encrypted" is said only when
// every condition holds at once: SFrame keys from the secure channel are in use on both sides
// (e2ee), the Worker's transform has handled frames in both directions, for every kind of media
// that flows, and the DTLS certificate the RTCPeerConnection sees is one the
// channel-authenticated SDP announced. Anything missing is shown as not secure, never as secure;
// 'checking' only before the first verdict.

/** How long after the connection a missing transform direction is still 'checking'. */
export const FIRST_VERDICT_GRACE_MS = 5000;
/** How long a kind that just started to flow (a camera turned on) may go without transformed frames. */
export const KIND_GRACE_MS = 5000;

const KINDS = ['audio', 'video'];

/**
 * Inputs: { e2ee, sendActive, receiveActive, fingerprintsMatch (true|false|null),
 * connectedFor (ms since the media connected, null before), hadVerdict (a verdict was given),
 * unprotected (kinds of media flowing without SFrame, from transformCoverage) }.
 * → { state: 'checking'|'encrypted'|'not-encrypted', reason: null|string }
 */
export function securityVerdict({ e2ee, sendActive, receiveActive, fingerprintsMatch, connectedFor, hadVerdict = false, unprotected = [] }) {
  if (e2ee !== true) return { state: 'not-encrypted', reason: 'e2ee_off' };
  if (fingerprintsMatch === false) return { state: 'not-encrypted', reason: 'fingerprint_mismatch' };
  // A kind seen flowing without SFrame is never vouched for by another kind that decrypts.
  const kind = KINDS.find((entry) => unprotected.includes(entry));
  if (kind) return { state: 'not-encrypted', reason: `${kind}_not_encrypted` };
  if (sendActive === true && receiveActive === true && fingerprintsMatch === true) return { state: 'encrypted', reason: null };
  const waiting = connectedFor === null || connectedFor === undefined || connectedFor < FIRST_VERDICT_GRACE_MS;
  if (!hadVerdict && waiting) return { state: 'checking', reason: null };
  if (fingerprintsMatch !== true) return { state: 'not-encrypted', reason: 'fingerprint_unchecked' };
  if (sendActive !== true) return { state: 'not-encrypted', reason: 'send_transform_inactive' };
  return { state: 'not-encrypted', reason: 'receive_transform_inactive' };
}

const failuresOf = (counters) => (counters?.noKey ?? 0) + (counters?.badHeader ?? 0) + (counters?.authFailures ?? 0);

/**
 * Per-kind coverage of the Worker's transform (pure). Inputs:
 *   media, previous: the Worker's stats now and at the last check (null when unknown);
 *   sending: kinds with a live local track on a sender; receiving: kinds whose inbound-rtp bytes
 *   rose since the last check (getStats); since: {send:{kind→ms}, receive:{kind→ms}}, when each
 *   required kind started to be required (kept by the caller); now (ms).
 * Rules: every kind sending must be `active` on send, every kind whose bytes arrive must be
 * `active` on receive (each after KIND_GRACE_MS from when it started); a kind whose refused
 * frames (noKey, badHeader, authFailures) rise while none of its own decrypt and another kind's
 * do is unprotected at once (clear frames read as SFrame).
 * → { sendActive, receiveActive, unprotected: [kind] }
 */
export function transformCoverage({ media, previous = null, sending = [], receiving = [], since = { send: {}, receive: {} }, now }) {
  const unprotected = new Set();
  let sendOk = true;
  let receiveOk = true;
  const settled = (direction, kind) => now - (since[direction]?.[kind] ?? now) >= KIND_GRACE_MS;
  // A kind is named (`<kind>_not_encrypted`) when something else in its direction looks fine;
  // when nothing in the direction is active the direction's own reason says more.
  const vouched = (direction, kind) => media?.[`${direction}Active`] === true || KINDS.some((other) => other !== kind && media?.[direction]?.[other]?.active === true);
  for (const kind of sending) {
    if (media?.send?.[kind]?.active === true || !settled('send', kind)) continue;
    if (vouched('send', kind)) unprotected.add(kind);
    sendOk = false;
  }
  for (const kind of receiving) {
    if (media?.receive?.[kind]?.active === true || !settled('receive', kind)) continue;
    if (vouched('receive', kind)) unprotected.add(kind);
    receiveOk = false;
  }
  if (media && previous) {
    const grew = (kind, read) => read(media.receive?.[kind]) > read(previous.receive?.[kind]);
    for (const kind of KINDS) {
      const failing = grew(kind, failuresOf) && !grew(kind, (c) => c?.frames ?? 0);
      const otherDecrypts = KINDS.some((other) => other !== kind && grew(other, (c) => c?.frames ?? 0));
      if (failing && otherDecrypts) {
        unprotected.add(kind);
        receiveOk = false;
      }
    }
  }
  return {
    sendActive: media?.sendActive === true && sendOk,
    receiveActive: media?.receiveActive === true && receiveOk,
    unprotected: KINDS.filter((kind) => unprotected.has(kind)),
  };
}
