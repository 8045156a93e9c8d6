// The bytes of an encoded frame that stay in clear in front of the SFrame ciphertext, because the
// packetizer or the depacketizer and decoder of the receiving browser read them (the approach of
// Jitsi's and Chromium's end-to-end encryption samples). They are authenticated as SFrame
// metadata (AAD), so they can be read but not changed.
//
// VP8 (RFC 6386 §9.1, the frame tag; RFC 7741 §4.3 calls its first bit P, "inverse key frame"):
//   P = 0 (key frame): 3-byte frame tag + 7 bytes start code and dimensions = 10 bytes
//   P = 1 (interframe): the 3-byte frame tag
// Opus (RFC 6716 §3.1): the TOC byte.
// Any other codec is refused: the calls negotiate Opus and VP8 only, and a frame whose layout is
// not known must not be passed on (it would be in clear) nor mangled.

export const MediaCodec = Object.freeze({ opus: 'audio/opus', vp8: 'video/vp8' });

export const VP8_KEY_FRAME_PREFIX = 10;
export const VP8_DELTA_FRAME_PREFIX = 3;
export const OPUS_PREFIX = 1;

export class CodecPrefixError extends Error {
  constructor(reason, detail) {
    super(`codec prefix: ${reason}${detail ? `: ${detail}` : ''}`);
    this.name = 'CodecPrefixError';
    this.reason = reason;
  }
}

export const CodecPrefixErrorReason = Object.freeze({
  unsupported_codec: 'the codec is neither Opus nor VP8',
  too_short: 'the frame is shorter than the clear prefix its codec needs',
});

/** Normalises an RTP mime type ("video/VP8", "audio/opus") to a MediaCodec value, or null. */
export function codecOf(mimeType) {
  if (typeof mimeType !== 'string') return null;
  const lower = mimeType.toLowerCase();
  return Object.values(MediaCodec).includes(lower) ? lower : null;
}

/**
 * Length of the clear prefix of `data` for `codec` (a MediaCodec value or a mime type). The VP8
 * key/delta decision reads the frame's own P bit, which both sides see (it is in the prefix), so
 * sender and receiver always agree on the split.
 */
export function clearPrefixLength({ codec, data }) {
  const normalised = codecOf(codec);
  let length;
  if (normalised === MediaCodec.opus) length = OPUS_PREFIX;
  else if (normalised === MediaCodec.vp8) {
    if (data.length < 1) throw new CodecPrefixError('too_short', 'empty VP8 frame');
    length = (data[0] & 0x01) === 0 ? VP8_KEY_FRAME_PREFIX : VP8_DELTA_FRAME_PREFIX;
  } else {
    throw new CodecPrefixError('unsupported_codec', String(codec));
  }
  if (data.length < length) throw new CodecPrefixError('too_short', `${data.length} < ${length}`);
  return length;
}
