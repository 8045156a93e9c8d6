// What SIP.js's registerer and session states, and SIP response codes, mean on the phone's
// screen. SIP.js's enums are string-valued ("Registered", "Established"…), so these
// functions take the strings and need no SIP.js import (unit tests pass plain strings).

/**
 * The registration shown: { state: 'off' | 'registering' | 'registered' | 'failed', reason }.
 * `registerer` is RegistererState (or null before one exists); `pending` is true while a
 * REGISTER waits for its answer; `failure` is the last reason text (a SIP status or a
 * transport error), cleared by a success.
 */
export function registrationOf({ registerer, pending = false, failure = null, wanted = true }) {
  if (!wanted) return { state: 'off', reason: null };
  if (registerer === 'Registered') return { state: 'registered', reason: null };
  if (failure) return { state: 'failed', reason: String(failure) };
  if (pending || registerer === 'Initial' || registerer === null || registerer === undefined) return { state: 'registering', reason: null };
  return { state: 'off', reason: null };
}

/** A REGISTER's final failure as words: "403 Forbidden", or the transport's error. */
export function failureReasonOf(response) {
  const message = response?.message ?? response;
  const code = Number(message?.statusCode);
  if (Number.isInteger(code) && code >= 300) return `${code} ${String(message.reasonPhrase ?? '').slice(0, 80)}`.trim();
  return String(response?.message ?? response ?? 'unknown').slice(0, 120);
}

/**
 * The call phase for a SessionState: 'incoming' (an Invitation not yet answered), 'ringing'
 * (an Inviter waiting for the answer), 'connecting' (answered, media being set up),
 * 'connected', 'ending', 'ended'.
 */
export function callPhaseOf(sessionState, { direction, answered = false }) {
  switch (sessionState) {
    case 'Initial':
    case 'Establishing':
      if (direction === 'incoming') return answered ? 'connecting' : 'incoming';
      return 'ringing';
    case 'Established': return 'connected';
    case 'Terminating': return 'ending';
    case 'Terminated': return 'ended';
    default: return 'ended';
  }
}

/** Why an outgoing call did not connect, from the final response's status code. */
export function endReasonOf(statusCode) {
  const code = Number(statusCode);
  if (code === 486 || code === 600) return 'busy';
  if (code === 603) return 'declined';
  if (code === 404 || code === 604) return 'not_found';
  if (code === 480) return 'unavailable';
  if (code === 408) return 'no_answer';
  if (code === 487) return 'cancelled';
  if (code === 401 || code === 403 || code === 407) return 'forbidden';
  if (code === 488 || code === 606) return 'incompatible';
  if (code === 503) return 'unavailable';
  return 'failed';
}

/** The status code of a refusal: 'busy' → 486 Busy Here, 'decline' → 603 Decline. */
export function rejectStatusOf(kind) {
  return kind === 'busy' ? 486 : 603;
}

/**
 * The history outcome of an ended call: 'answered' once connected; for an incoming call that
 * never connected, 'declined' (refused here), 'busy' (refused because another call was on) or
 * 'missed'; for an outgoing one, its end reason.
 */
export function outcomeOf({ direction, connected, endReason }) {
  if (connected) return 'answered';
  if (direction === 'incoming') {
    if (endReason === 'declined' || endReason === 'busy') return endReason;
    return 'missed';
  }
  return endReason ?? 'failed';
}

/** Longest caller address and name shown (the full URI is kept for calling back). */
export const MAX_DISPLAY_ADDRESS = 96;
export const MAX_DISPLAY_NAME = 64;

// C0/C1 controls, and the bidi and invisible format characters that reorder or hide text: a
// caller's name "Alice\u202E" followed by its address would otherwise show a reversed, forged
// address ("Alice (alice@localhost)" for sip:tsohlacol@ecila).
const controlsPattern = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** `text` without control and bidi characters, cut to `max` characters ("…" marks the cut). */
export function displayTextOf(text, max) {
  const clean = [...String(text ?? '').replace(controlsPattern, '')];
  return clean.length > max ? `${clean.slice(0, max - 1).join('')}…` : clean.join('');
}

/** The short form shown for a URI in the history and the call view: "user@host", capped. */
export function displayAddressOf(uri) {
  return displayTextOf(String(uri ?? '').replace(/^sips?:/i, '').replace(/;.*$/, ''), MAX_DISPLAY_ADDRESS);
}

// What makes a name read as an address ("Alice (alice@localhost)" from sip:x@evil.example):
// the name is the caller's own claim, only the address says who calls.
const addressLikePattern = /[@<>():\uff20\ufe6b\uff1c\uff1e\uff08\uff09\uff1a]/g;

/**
 * A caller's display name as shown: no controls, no bidi overrides, none of @ < > ( ) : (so it
 * cannot pose as an address), spaces collapsed, capped, trimmed.
 */
export function displayNameOf(name) {
  const plain = String(name ?? '').replace(controlsPattern, '').replace(addressLikePattern, ' ').replace(/\s+/g, ' ').trim();
  return displayTextOf(plain, MAX_DISPLAY_NAME).trim();
}
