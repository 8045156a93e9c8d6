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
