// Media keys of a call, derived from the pairwise secure channel (docs/protocol.md "Media
// encryption (SFrame)"). For the sending side's channel role d ∈ {i2r, r2i} and channel epoch n:
//
//   base_key = export_n("sframe " + d, call_id, 32)       (protocol.md §5.3, RFC 8446 §7.5 shape)
//   KID      = n
//   key/salt = RFC 9605 §4.4.2 for suite 0x0005 AES_256_GCM_SHA512_128
//
// call_id is the call's 16 random bytes (32 lower-case hex in the signalling). The label names the
// direction, so the two directions of a call never share a key (RFC 9605 §4.4.1: a base_key MUST
// be used by one sender only); the context names the call, so two calls over one channel never
// share one either; the epoch follows the channel's re-key, so media keys heal with it.
import { SFrameSuite } from './sframe.js';

export const MEDIA_SUITE = SFrameSuite.AES_256_GCM_SHA512_128;
export const MEDIA_BASE_KEY_BYTES = 32;
export const MEDIA_LABEL_PREFIX = 'sframe ';
export const MediaDirection = Object.freeze({ initiatorToResponder: 'i2r', responderToInitiator: 'r2i' });

const CALL_ID = /^[0-9a-f]{32}$/;

export function isCallId(call) {
  return typeof call === 'string' && CALL_ID.test(call);
}

/** The 16 bytes of a call id given as 32 lower-case hex digits. */
export function callIdBytes(call) {
  if (!isCallId(call)) throw new TypeError('a call id is 32 lower-case hex digits');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(call.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function mediaLabel(direction) {
  if (direction !== MediaDirection.initiatorToResponder && direction !== MediaDirection.responderToInitiator) {
    throw new TypeError('direction must be i2r or r2i');
  }
  return MEDIA_LABEL_PREFIX + direction;
}

/**
 * Channel direction of the frames a transform handles: the initiator sends i2r and receives
 * r2i, the responder the opposite (as for the channel's own records, protocol.md §5.2).
 */
export function channelDirectionOf({ role, direction }) {
  if (role !== 'initiator' && role !== 'responder') return null;
  if (direction !== 'send' && direction !== 'receive') throw new TypeError('direction must be send or receive');
  const initiatorSends = (role === 'initiator') === (direction === 'send');
  return initiatorSends ? MediaDirection.initiatorToResponder : MediaDirection.responderToInitiator;
}

/**
 * base_key for (session, call, channel direction) from the channel exporter of the current
 * epoch; null when the channel cannot export (not secure, or gone). The caller wipes the bytes
 * once the SFrame key is imported.
 */
export async function deriveMediaBaseKey({ exporter, session, call, direction }) {
  const baseKey = await exporter({ session, label: mediaLabel(direction), context: callIdBytes(call), length: MEDIA_BASE_KEY_BYTES });
  if (baseKey === null || baseKey === undefined) return null;
  if (!(baseKey instanceof Uint8Array) || baseKey.length !== MEDIA_BASE_KEY_BYTES) throw new TypeError('the exporter returned no 32-byte key');
  return baseKey;
}
