// The only two structures the long-term OpenPGP key ever signs (docs/protocol.md, "Signing
// contexts"). Each has its own context, and the two can never be equal whatever bytes a hostile
// server chooses: a handshake input is fixed-length binary that starts with 0xFF, a byte that
// never occurs in UTF-8 (RFC 3629 §1), while a possession challenge is ASCII text that starts
// with "Security.MS proof of possession v2". Pure module: no DOM, no Worker globals.
import { ChannelError } from './errors.js';

const HANDSHAKE_LABEL = 'Security.MS handshake v2'; // 24 ASCII bytes
export const HANDSHAKE_SIGNATURE_INPUT_BYTES = 1 + HANDSHAKE_LABEL.length + 1 + 1 + 32;

export const SignatureRole = Object.freeze({ initiator: 1, responder: 2 });

/**
 * The exact bytes a handshake signature covers:
 * 0xFF ‖ "Security.MS handshake v2" ‖ 0x00 ‖ u8 role ‖ TH (32 bytes) — always 59 bytes.
 */
export function handshakeSignatureInput({ role, transcriptHash, ...rest }) {
  if (Object.keys(rest).length > 0) throw new ChannelError('invalid_argument', `handshakeSignatureInput: unknown option ${Object.keys(rest)[0]}`);
  if (role !== SignatureRole.initiator && role !== SignatureRole.responder) throw new ChannelError('invalid_argument', 'handshakeSignatureInput: role must be 1 or 2');
  if (!(transcriptHash instanceof Uint8Array) || transcriptHash.length !== 32) throw new ChannelError('invalid_argument', 'handshakeSignatureInput: the transcript hash must be 32 bytes');
  const out = new Uint8Array(HANDSHAKE_SIGNATURE_INPUT_BYTES);
  out[0] = 0xff;
  out.set(new TextEncoder().encode(HANDSHAKE_LABEL), 1);
  out[1 + HANDSHAKE_LABEL.length] = 0x00;
  out[2 + HANDSHAKE_LABEL.length] = role;
  out.set(transcriptHash, 3 + HANDSHAKE_LABEL.length);
  return out;
}

// --- possession challenge v2 (docs/protocol.md "Signing contexts", docs/api.md) ---------------

export const POSSESSION_CHALLENGE_HEADER = 'Security.MS proof of possession v2';
// Longest legal text: header, an origin of at most 256 characters, a 32-character username, a
// 64-hex fingerprint, the nonce and a 16-digit time, with the field names and newlines.
export const MAX_POSSESSION_CHALLENGE_BYTES = 512;

const originPattern = /^https?:\/\/(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::[1-9][0-9]{0,4})?$/;
const userPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;   // docs/api.md: the username rules
const fingerprintPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;   // v4 (RFC 4880 §12.2) or v6 (RFC 9580 §5.5.4)
const noncePattern = /^[0-9a-f]{64}$/;
const timePattern = /^(?:0|[1-9][0-9]{0,15})$/;
const fieldNames = Object.freeze(['origin', 'user', 'fingerprint', 'nonce', 'time']);
const fieldPatterns = Object.freeze({
  origin: originPattern, user: userPattern, fingerprint: fingerprintPattern, nonce: noncePattern, time: timePattern,
});

function refuse(what) {
  return new ChannelError('malformed', `possession challenge: ${what}`);
}

/** Only LF and printable ASCII (0x20–0x7E): no byte of the text can be 0xFF or any non-ASCII byte. */
function checkAscii(text) {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && (c < 0x20 || c > 0x7e)) throw refuse('not printable ASCII');
  }
}

/**
 * Strict reader of the possession challenge v2: a string (or its bytes) of exactly these six
 * lines, each ending in "\n", nothing before or after, every field of its documented form:
 *   Security.MS proof of possession v2
 *   origin: <scheme://host[:port]>   user: <username>   fingerprint: <40 or 64 lowercase hex>
 *   nonce: <64 lowercase hex>        time: <unix seconds, decimal, no leading zeros>
 * → { origin, user, fingerprint, nonce, time } (time a number); anything else throws
 * ChannelError 'malformed'. A handshake signature input always fails here (it starts with 0xFF).
 */
export function parsePossessionChallenge(input) {
  let text;
  if (input instanceof Uint8Array) {
    if (input.length > MAX_POSSESSION_CHALLENGE_BYTES) throw refuse('too long');
    text = '';
    for (const byte of input) text += String.fromCharCode(byte);   // byte-for-byte: ASCII checked below
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw refuse('neither text nor bytes');
  }
  if (text.length > MAX_POSSESSION_CHALLENGE_BYTES) throw refuse('too long');
  checkAscii(text);
  if (!text.endsWith('\n')) throw refuse('the last line does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 1 + fieldNames.length) throw refuse('not exactly six lines');
  if (lines[0] !== POSSESSION_CHALLENGE_HEADER) throw refuse('wrong header');
  const fields = {};
  fieldNames.forEach((name, index) => {
    const line = lines[index + 1];
    const prefix = `${name}: `;
    if (!line.startsWith(prefix)) throw refuse(`line ${index + 2} is not the ${name} field`);
    const value = line.slice(prefix.length);
    if (!fieldPatterns[name].test(value)) throw refuse(`bad ${name}`);
    fields[name] = value;
  });
  const time = Number(fields.time);
  if (!Number.isSafeInteger(time)) throw refuse('bad time');
  return Object.freeze({ ...fields, time });
}

/** The challenge text for these fields (the server's format; also used by tests). Checked by the reader. */
export function possessionChallengeText({ origin, user, fingerprint, nonce, time, ...rest }) {
  if (Object.keys(rest).length > 0) throw new ChannelError('invalid_argument', `possessionChallengeText: unknown option ${Object.keys(rest)[0]}`);
  const text = `${POSSESSION_CHALLENGE_HEADER}\norigin: ${origin}\nuser: ${user}\nfingerprint: ${fingerprint}\nnonce: ${nonce}\ntime: ${time}\n`;
  try {
    parsePossessionChallenge(text);
  } catch (cause) {
    throw new ChannelError('invalid_argument', `possessionChallengeText: ${cause.message}`);
  }
  return text;
}
