// The call-security verdict (pure, tested in Node). "End-to-end encrypted" is said only when
// every condition holds at once: SFrame keys from the secure channel are in use on both sides
// (e2ee), the Worker's transform has handled frames in both directions, and the DTLS certificate
// the RTCPeerConnection sees is one the channel-authenticated SDP announced. Anything missing is
// shown as not secure, never as secure; 'checking' only before the first verdict.

/** How long after the connection a missing transform direction is still 'checking'. */
export const FIRST_VERDICT_GRACE_MS = 5000;

/**
 * Inputs: { e2ee, sendActive, receiveActive, fingerprintsMatch (true|false|null),
 * connectedFor (ms since the media connected, null before), hadVerdict (a verdict was given) }.
 * → { state: 'checking'|'encrypted'|'not-encrypted', reason: null|string }
 */
export function securityVerdict({ e2ee, sendActive, receiveActive, fingerprintsMatch, connectedFor, hadVerdict = false }) {
  if (e2ee !== true) return { state: 'not-encrypted', reason: 'e2ee_off' };
  if (fingerprintsMatch === false) return { state: 'not-encrypted', reason: 'fingerprint_mismatch' };
  if (sendActive === true && receiveActive === true && fingerprintsMatch === true) return { state: 'encrypted', reason: null };
  const waiting = connectedFor === null || connectedFor === undefined || connectedFor < FIRST_VERDICT_GRACE_MS;
  if (!hadVerdict && waiting) return { state: 'checking', reason: null };
  if (fingerprintsMatch !== true) return { state: 'not-encrypted', reason: 'fingerprint_unchecked' };
  if (sendActive !== true) return { state: 'not-encrypted', reason: 'send_transform_inactive' };
  return { state: 'not-encrypted', reason: 'receive_transform_inactive' };
}
