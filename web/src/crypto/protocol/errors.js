// Closed list of the reasons a secure channel refuses input or tears itself down.
// One typed error (ChannelError) carries the reason code, so the caller can switch on
// `error.reason` and map it to a teardown message without parsing text.
// Messages never include key material, only lengths, types and sequence numbers.

export const ChannelErrorReason = Object.freeze({
  // --- encoding (what the strict decoders reject) ---
  malformed: 'the message does not follow the canonical encoding',
  truncated: 'the message or record is shorter than its declared length',
  trailing_bytes: 'bytes follow the last field of the message',
  bad_length: 'a field has a length outside its allowed range',
  too_large: 'the message or record exceeds its size limit',
  unsupported_version: 'the protocol version is not supported',
  unknown_message_type: 'the message or record type is unknown',
  unsupported_suite: 'the cipher suite is not supported',
  // --- handshake ---
  unexpected_message: 'the message is not allowed in the current state',
  wrong_session: 'the session id differs from this channel\'s session id',
  fingerprint_mismatch: 'a fingerprint differs from the accepted certificate',
  username_mismatch: 'a username in the handshake differs from the one this side knows',
  bad_commitment: 'the revealed SAS secret does not match the initiator\'s commitment',
  invalid_public_key: 'the peer\'s ephemeral public key is invalid',
  low_order_point: 'the ECDH output is all zero (low-order point, RFC 7748 §6.1)',
  bad_signature: 'the peer\'s signature does not verify against the accepted certificate',
  bad_finished: 'the peer\'s Finished MAC does not verify',
  signer_failed: 'the local signer did not return a signature',
  handshake_timeout: 'the handshake did not reach the secure state in time',
  // --- records ---
  replay: 'the record sequence number was already used',
  out_of_order: 'the record sequence number skips ahead (gap or reordering)',
  bad_tag: 'the record failed AES-GCM authentication',
  wrong_direction: 'the record carries this side\'s own direction (reflection)',
  wrong_epoch: 'the record belongs to another key epoch',
  sequence_exhausted: 'the sequence number space of this epoch is used up',
  rekey_error: 'the re-key message is invalid for the current epoch',
  // --- life cycle ---
  closed: 'the channel is closed',
  compromised: 'the channel was torn down after a protocol violation',
  invalid_argument: 'an argument has the wrong type or value',
});

/** Typed protocol error; `reason` is one key of ChannelErrorReason. */
export class ChannelError extends Error {
  /**
   * @param {keyof typeof ChannelErrorReason} reason
   * @param {string} [detail] context, never secret
   * @param {{cause?: unknown}} [options]
   */
  constructor(reason, detail, options) {
    if (!Object.hasOwn(ChannelErrorReason, reason)) {
      throw new TypeError(`ChannelError: unknown reason ${String(reason)}`);
    }
    const base = ChannelErrorReason[reason];
    super(detail ? `${detail}: ${base}` : base, options);
    this.name = 'ChannelError';
    this.reason = reason;
  }
}

/**
 * Re-throws `error` with a context prefix (OpenPGP.js style "Error doing X: ...").
 * ChannelErrors keep their reason; anything else becomes invalid_argument only when
 * `fallbackReason` says so, otherwise it is wrapped as a plain Error.
 */
export function wrapError(context, error, fallbackReason) {
  if (error instanceof ChannelError) {
    const wrapped = new ChannelError(error.reason, undefined, { cause: error });
    wrapped.message = `${context}: ${error.message}`;
    return wrapped;
  }
  if (fallbackReason) {
    const wrapped = new ChannelError(fallbackReason, undefined, { cause: error });
    wrapped.message = `${context}: ${error?.message ?? String(error)}`;
    return wrapped;
  }
  return new Error(`${context}: ${error?.message ?? String(error)}`, { cause: error });
}
