// End-to-end media encryption of calls: the encoded-frame transforms that run in the crypto
// Worker (RTCRtpScriptTransform, or streams from createEncodedStreams handed over by the page).
// Every outgoing audio and video frame becomes
//
//   clear codec prefix ‖ SFrame header ‖ AES-256-GCM ciphertext ‖ tag      (RFC 9605, suite 0x0005)
//
// with AAD = SFrame header ‖ clear prefix, and every incoming frame must pass the SFrame checks
// or it is dropped and counted — a frame is never passed on in clear, on either side. Keys come
// from the pairwise secure channel (media-keys.js): derived on the first attach of a call and on
// every channel epoch change; the receiver keeps the current and the previous epoch's key, each
// with its own replay window. Key bytes stay in this module: nothing here logs or posts them.
//
// Re-key: each side switches its sending KID when its own channel endpoint reaches epoch n+1.
// The peer may still be at epoch n for a moment (until the re-key record reaches it), so frames
// under KID n+1 that arrive first are dropped as noKey; with the usual re-key round trip that is a
// few frames (tens of milliseconds of audio, one or two video frames; the decoder asks for a key
// frame if needed). Frames still in flight under KID n keep decrypting with the previous key.
import { SFrameError, createReceiver, importKey, destroyKey, encryptFrame, MAX_CTR, ReplayWindow, DEFAULT_REPLAY_WINDOW } from './sframe.js';
import { CodecPrefixError, clearPrefixLength, codecOf } from './codec-prefix.js';
import { MEDIA_SUITE, channelDirectionOf, deriveMediaBaseKey, isCallId } from './media-keys.js';

/**
 * A kind counts as active in a direction while one of its frames was encrypted / decrypted within
 * this time, and as in use while any of its frames reached the transform (whatever became of it).
 */
export const ACTIVE_WINDOW_MS = 3000;
/** How often a key derivation is retried when the channel epoch moved while it ran. */
const DERIVATION_ATTEMPTS = 3;

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * One outgoing frame: the codec's clear prefix stays in front and is authenticated as SFrame
 * metadata. `sender` is anything with encrypt({plaintext, metadata}) (sframe.createSender).
 */
export async function sealMediaFrame({ sender, codec, data }) {
  const prefixLength = clearPrefixLength({ codec, data });
  const prefix = data.subarray(0, prefixLength);
  return concat(prefix, await sender.encrypt({ plaintext: data.subarray(prefixLength), metadata: prefix }));
}

/** One incoming frame: { kid, ctr, data } with data = prefix ‖ plaintext, or an error thrown. */
export async function openMediaFrame({ receiver, codec, data }) {
  const prefixLength = clearPrefixLength({ codec, data });
  const prefix = data.subarray(0, prefixLength);
  const { kid, ctr, plaintext } = await receiver.decrypt({ data, offset: prefixLength, metadata: prefix });
  return { kid, ctr, data: concat(prefix, plaintext) };
}

const KINDS = ['audio', 'video'];

function emptyStats() {
  return {
    send: { audio: { frames: 0, bytes: 0, dropped: 0 }, video: { frames: 0, bytes: 0, dropped: 0 } },
    receive: {
      audio: { frames: 0, bytes: 0, authFailures: 0, replays: 0, noKey: 0, badHeader: 0, refused: 0 },
      video: { frames: 0, bytes: 0, authFailures: 0, replays: 0, noKey: 0, badHeader: 0, refused: 0 },
    },
  };
}

function checkOptions(options) {
  const { session, call, direction, kind } = options ?? {};
  if (typeof session !== 'string' || session.length === 0) throw new TypeError('media transform: session is required');
  if (!isCallId(call)) throw new TypeError('media transform: call must be 32 lower-case hex digits');
  if (direction !== 'send' && direction !== 'receive') throw new TypeError('media transform: direction must be send or receive');
  if (!KINDS.includes(kind)) throw new TypeError('media transform: kind must be audio or video');
  return { session, call, direction, kind };
}

function mimeTypeOf(frame) {
  try {
    return typeof frame.getMetadata === 'function' ? frame.getMetadata().mimeType : undefined;
  } catch {
    return undefined;
  }
}

/**
 * createMediaTransforms({ exporter, roleOf, epochOf }) — the Worker's media side (see
 * docs/protocol.md "Media encryption (SFrame)"):
 *   exporter({session, label, context, length}) → Promise<Uint8Array|null>  the channel exporter
 *   roleOf(session) → 'initiator'|'responder'|null, epochOf(session) → number|null
 * `now` and `replayWindow` exist for tests.
 */
export function createMediaTransforms({ exporter, roleOf, epochOf, now = () => Date.now(), replayWindow = DEFAULT_REPLAY_WINDOW, ...rest }) {
  if (Object.keys(rest).length > 0) throw new TypeError(`createMediaTransforms: unknown option ${Object.keys(rest)[0]}`);
  if (typeof exporter !== 'function' || typeof roleOf !== 'function' || typeof epochOf !== 'function') {
    throw new TypeError('createMediaTransforms needs exporter, roleOf and epochOf functions');
  }
  const calls = new Map();
  // Call ids whose keys were dropped. A call id is never keyed again: re-creating its sender
  // would restart the counter at 0 under the same base key (same channel epoch, same call id),
  // which reuses AES-GCM nonces.
  const ended = new Set();

  function createState(call, session) {
    const state = {
      call, session, ended: false,
      sendKey: null, // { kid: bigint, context }
      counters: new Map(), // KID → next CTR of this call's sending direction
      receiver: createReceiver({ suite: MEDIA_SUITE, replayWindow }),
      windows: new Map(), // KID → ReplayWindow, kept across re-derivations of one KID
      receiveEpochs: [], // [current, previous] KIDs held by the receiver
      stats: emptyStats(),
      // Per direction and kind: when a frame last reached the transform (seen) and when one was
      // last encrypted / decrypted (ok). The verdict is per kind: audio flowing must not vouch
      // for a video stream whose frames all fail.
      activity: {
        send: { audio: { seen: -Infinity, ok: -Infinity }, video: { seen: -Infinity, ok: -Infinity } },
        receive: { audio: { seen: -Infinity, ok: -Infinity }, video: { seen: -Infinity, ok: -Infinity } },
      },
      queue: Promise.resolve(),
    };
    state.initial = refresh(state);
    return state;
  }

  function refresh(state) {
    state.queue = state.queue.then(() => derive(state)).catch(() => dropKeys(state));
    return state.queue;
  }

  function dropKeys(state) {
    if (state.sendKey) destroyKey(state.sendKey.context);
    state.sendKey = null;
    for (const kid of state.receiveEpochs) state.receiver.removeKey(kid);
    state.receiveEpochs = [];
  }

  async function derive(state) {
    for (let attempt = 0; attempt < DERIVATION_ATTEMPTS; attempt++) {
      if (state.ended) return;
      const role = roleOf(state.session);
      const epoch = epochOf(state.session);
      if ((role !== 'initiator' && role !== 'responder') || !Number.isSafeInteger(epoch) || epoch < 0) {
        // No secure channel (any more): stop both directions rather than guess.
        dropKeys(state);
        return;
      }
      const sendBase = await deriveMediaBaseKey({ exporter, session: state.session, call: state.call, direction: channelDirectionOf({ role, direction: 'send' }) });
      const receiveBase = await deriveMediaBaseKey({ exporter, session: state.session, call: state.call, direction: channelDirectionOf({ role, direction: 'receive' }) });
      try {
        // The exporter follows the channel's current epoch: if the epoch moved while it ran, the
        // bytes may belong to another KID than `epoch`, so start again.
        if (epochOf(state.session) !== epoch || roleOf(state.session) !== role) continue;
        if (sendBase === null || receiveBase === null) {
          dropKeys(state);
          return;
        }
        const kid = BigInt(epoch);
        const context = await importKey({ suite: MEDIA_SUITE, kid, baseKey: sendBase });
        if (!state.windows.has(kid)) state.windows.set(kid, new ReplayWindow(replayWindow));
        await state.receiver.addKey({ kid, baseKey: receiveBase, window: state.windows.get(kid) });
        if (state.ended) {
          destroyKey(context);
          state.receiver.destroy();
          return;
        }
        // Swap synchronously: frames already being encrypted hold the old context, new frames
        // take the new one; the counter of a KID lives in `counters`, not in the context.
        const previous = state.sendKey;
        state.sendKey = { kid, context };
        if (previous) destroyKey(previous.context);
        const keep = [kid];
        const current = state.receiveEpochs[0];
        if (current !== undefined && current !== kid) keep.push(current);
        else if (state.receiveEpochs[1] !== undefined && state.receiveEpochs[1] !== kid) keep.push(state.receiveEpochs[1]);
        for (const old of state.receiveEpochs) if (!keep.includes(old)) state.receiver.removeKey(old);
        for (const held of state.receiver.kids()) if (!keep.includes(held)) state.receiver.removeKey(held);
        state.receiveEpochs = keep;
        return;
      } finally {
        sendBase?.fill(0);
        receiveBase?.fill(0);
      }
    }
    dropKeys(state);
  }

  function stateFor({ call, session }) {
    if (ended.has(call)) return null;
    let state = calls.get(call);
    if (state && state.session !== session) throw new TypeError('media transform: the call belongs to another session');
    if (!state) {
      state = createState(call, session);
      calls.set(call, state);
    }
    return state;
  }

  function sendingKeyOf(state) {
    const sendKey = state.sendKey;
    if (!sendKey) return null;
    return {
      encrypt({ plaintext, metadata }) {
        // Reserved before any await, so two frames in flight never share a counter.
        const ctr = state.counters.get(sendKey.kid) ?? 0n;
        if (ctr > MAX_CTR) throw new SFrameError('counter_exhausted');
        state.counters.set(sendKey.kid, ctr + 1n);
        return encryptFrame({ key: sendKey.context, ctr, plaintext, metadata });
      },
    };
  }

  async function sendFrame(state, kind, frame, controller) {
    if (!state) return;
    const counters = state.stats.send[kind];
    state.activity.send[kind].seen = now();
    await state.initial;
    const sender = state.ended ? null : sendingKeyOf(state);
    if (!sender) {
      counters.dropped++;
      return;
    }
    try {
      const data = new Uint8Array(frame.data);
      const sealed = await sealMediaFrame({ sender, codec: mimeTypeOf(frame), data });
      if (state.ended) {
        counters.dropped++;
        return;
      }
      frame.data = sealed.buffer;
      counters.frames++;
      counters.bytes += data.length;
      state.activity.send[kind].ok = now();
      controller.enqueue(frame);
    } catch {
      counters.dropped++;
    }
  }

  async function receiveFrame(state, kind, frame, controller) {
    if (!state) return;
    const counters = state.stats.receive[kind];
    state.activity.receive[kind].seen = now();
    await state.initial;
    if (state.ended) {
      counters.noKey++;
      return;
    }
    try {
      const opened = await openMediaFrame({ receiver: state.receiver, codec: mimeTypeOf(frame), data: new Uint8Array(frame.data) });
      if (state.ended) {
        counters.noKey++;
        return;
      }
      frame.data = opened.data.buffer;
      counters.frames++;
      counters.bytes += opened.data.length;
      state.activity.receive[kind].ok = now();
      controller.enqueue(frame);
    } catch (error) {
      if (error instanceof CodecPrefixError) counters.refused++;
      else if (error instanceof SFrameError) {
        if (error.reason === 'auth_failed') counters.authFailures++;
        else if (error.reason === 'replay') counters.replays++;
        else if (error.reason === 'unknown_key' || error.reason === 'ended') counters.noKey++;
        else counters.badHeader++;
      } else counters.badHeader++;
    }
  }

  return {
    /** Pipes readable → SFrame transform → writable for one sender or receiver of a call. */
    attach({ readable, writable, options }) {
      const { session, call, direction, kind } = checkOptions(options);
      const state = stateFor({ call, session });
      const handle = direction === 'send' ? sendFrame : receiveFrame;
      const transform = new TransformStream({ transform: (frame, controller) => handle(state, kind, frame, controller) });
      // The pipe ends when the peer connection closes the streams; that is not an error here.
      readable.pipeThrough(transform).pipeTo(writable).catch(() => {});
    },

    /** Re-derives the keys of every call over `session` for the channel's current epoch. */
    channelEpochChanged({ session }) {
      const pending = [];
      for (const state of calls.values()) if (state.session === session) pending.push(refresh(state));
      return Promise.all(pending).then(() => undefined);
    },

    /** Zero-fills and drops the keys of a call; its frames are dropped from now on. */
    endCall({ call }) {
      if (!isCallId(call)) return;
      ended.add(call);
      const state = calls.get(call);
      if (!state) return;
      calls.delete(call);
      state.ended = true;
      if (state.sendKey) destroyKey(state.sendKey.context);
      state.sendKey = null;
      state.receiver.destroy();
      state.receiveEpochs = [];
      state.counters.clear();
      state.windows.clear();
    },

    endSession({ session }) {
      for (const state of [...calls.values()]) if (state.session === session) this.endCall({ call: state.call });
    },

    /**
     * Counters of a call (no key material); zeroes for a call that has no transform. Each kind of
     * each direction carries `active` (a frame of it encrypted / decrypted within
     * ACTIVE_WINDOW_MS); sendActive / receiveActive hold when at least one kind is in use in that
     * direction and every kind in use is active.
     */
    stats({ call }) {
      const state = calls.get(call);
      const stats = state ? state.stats : emptyStats();
      const at = now();
      const recent = (time) => at - time < ACTIVE_WINDOW_MS;
      const side = (direction) => {
        const out = structuredClone(stats[direction]);
        let inUse = 0;
        let allActive = true;
        for (const kind of KINDS) {
          const activity = state?.activity[direction][kind];
          out[kind].active = activity ? recent(activity.ok) : false;
          if (activity && (recent(activity.seen) || recent(activity.ok))) {
            inUse += 1;
            allActive &&= out[kind].active;
          }
        }
        return { out, active: inUse > 0 && allActive };
      };
      const send = side('send');
      const receive = side('receive');
      return {
        call,
        keyId: state?.sendKey ? Number(state.sendKey.kid) : null,
        send: send.out,
        receive: receive.out,
        sendActive: send.active,
        receiveActive: receive.active,
      };
    },
  };
}
