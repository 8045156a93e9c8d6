// Secure channels as the crypto Worker runs them: one protocol endpoint per server session,
// bound to the own key and the peer's ACCEPTED certificate, fed with relay frames and emitting
// relay frames, states, incoming messages and teardowns. Worker side; runs in Node too (the
// tests wire two managers together). Plaintext and keys never leave this module except the
// decrypted text of incoming messages, which the page shows.

import {
  ChannelError, ChannelErrorReason, ChannelState, awaitSecure, createInitiator, createResponder, createRekeyPolicy,
} from './protocol/index.js';
import { RelayFrameError, RelayFrameType, decodeRelayFrame, encodeRelayFrame, isRelaySessionId } from './relay-frame.js';
import { createOpenpgpSigner, createOpenpgpVerifier } from './openpgp-adapter.js';
import { readAcceptedCertificate } from './identity.js';
import { usernamePattern } from '../chat/commands.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000;
const MAX_MESSAGE_CHARS = 16_000;   // a chat line; well under the record plaintext limit once UTF-8 encoded
/** A call signal's UTF-8 JSON (docs/protocol.md "Call signalling"): an SDP with many candidates fits. */
export const MAX_CALL_SIGNAL_BYTES = 60_000;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// null: the caller misused the API (nothing the peer did), so the channel stays up.
function teardownReasonOf(error) {
  const reason = error?.reason;
  if (reason === 'invalid_argument') return null;
  return typeof reason === 'string' && Object.hasOwn(ChannelErrorReason, reason) ? reason : 'malformed';
}

function sasForPage(sas) {
  return sas ? { emoji: sas.emoji.map(({ emoji, name }) => ({ emoji, name })), emojiText: sas.emojiText, decimalText: sas.decimalText } : null;
}

/**
 * Options: { emit(event, transfer?), identity() → { privateKey, fingerprint } | null,
 *            localUsername() → the logged-in username (bound into every handshake),
 *            handshakeTimeoutMs?, rekeyPolicy?, rekeyCheckMs?,
 *            onSenderKey?({ session, peerUser, peerFingerprint, plaintext }), onSecure?({ session, peerUser }),
 *            onEpochChanged?({ session }) (a re-key moved this side to a new epoch: its exporter changed),
 *            onDropped?({ session }) (the channel is gone: closed, dropped or torn down; once per session) }.
 * Events: channel.outbound {frame: ArrayBuffer} · channel.state {session, state, suite, epoch, sas}
 *         · channel.message {session, text} · call.signal {session, signal} · channel.teardown {session, reason}.
 * Records of type sender_key are never a channel.message: they go to onSenderKey (the room key
 * manager) with the username the page named for the peer in prepare(), or are dropped when the
 * page named none. Records of type call are never a channel.message either: they become
 * call.signal events (the page's call logic parses the JSON strictly).
 *
 * exporterFor / roleOf / epochOf are for the media transforms inside this Worker only (SFrame
 * keys, docs/protocol.md "Media encryption (SFrame)"); nothing they return is ever posted.
 */
export function createChannelManager({
  emit, identity, localUsername, handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, rekeyPolicy = createRekeyPolicy(), rekeyCheckMs = 15_000,
  onSenderKey = () => {}, onSecure = () => {}, onEpochChanged = () => {}, onDropped = () => {},
}) {
  if (typeof localUsername !== 'function') throw new TypeError('createChannelManager: localUsername() required');
  const channels = new Map();

  function emitState(channel) {
    const { endpoint } = channel;
    emit({
      type: 'channel.state', session: channel.session, state: endpoint.state,
      suite: endpoint.suite, epoch: endpoint.epoch, sas: sasForPage(endpoint.sas),
    });
  }

  function sendFrame(channel, frameType, body) {
    const frame = encodeRelayFrame({ frameType, sessionId: channel.session, sequence: channel.sendSequence, body });
    channel.sendSequence += 1;
    emit({ type: 'channel.outbound', frame: frame.buffer }, [frame.buffer]);
  }

  function forget(channel) {
    clearInterval(channel.rekeyTimer);
    if (channels.get(channel.session) !== channel) return;
    channels.delete(channel.session);
    // The media keys of this channel's calls go with it (the callback must not stop the teardown).
    try {
      onDropped({ session: channel.session });
    } catch {
      // nothing to undo here
    }
  }

  /** After a re-key record: tells the media side once the endpoint's epoch has moved on. */
  function noticeEpoch(channel) {
    const { epoch } = channel.endpoint;
    if (epoch === channel.epoch) return;
    channel.epoch = epoch;
    try {
      onEpochChanged({ session: channel.session });
    } catch {
      // the channel goes on; the media side keeps the keys it has
    }
  }

  // Any protocol failure: the endpoint drops its keys; the page ends the relay session with
  // this reason so the peer learns the channel is compromised.
  function tearDown(channel, reason) {
    if (channel.tornDown) return;
    channel.tornDown = true;
    if (channel.endpoint.state !== ChannelState.compromised && channel.endpoint.state !== ChannelState.closed) {
      channel.endpoint.abort({ reason });
    }
    forget(channel);
    emit({ type: 'channel.teardown', session: channel.session, reason });
  }

  /** Runs `task` after the channel's earlier work, so frames are handled in arrival order. */
  function enqueue(channel, task) {
    const run = channel.queue.then(async () => {
      if (channel.tornDown) return undefined;
      try {
        return await task();
      } catch (error) {
        const reason = teardownReasonOf(error);
        if (reason) tearDown(channel, reason);
        throw error;
      }
    });
    channel.queue = run.catch(() => {});
    return run;
  }

  async function rekeyIfDue(channel) {
    if (channel.endpoint.state === ChannelState.secure && channel.endpoint.rekeyDue()) {
      sendFrame(channel, RelayFrameType.record, await channel.endpoint.startRekey());
      emitState(channel);
    }
  }

  /**
   * After the user accepted the peer's certificate: bind an endpoint to it (nothing is sent yet).
   * `peerUser`, the username the server gave for the peer, is bound into the handshake with the
   * own username (protocol version 2: the peer must name the same two users, else
   * `username_mismatch`), and it is what room sender keys coming over this channel are
   * attributed to.
   */
  async function prepare({ session, role, peerFingerprint, peerCertificate, peerUser }) {
    if (!isRelaySessionId(session)) throw new ChannelError('invalid_argument', 'session id');
    if (channels.has(session)) throw new ChannelError('invalid_argument', 'the session is already prepared');
    if (role !== 'initiator' && role !== 'responder') throw new ChannelError('invalid_argument', 'role');
    if (typeof peerUser !== 'string' || !usernamePattern.test(peerUser)) throw new ChannelError('invalid_argument', 'peerUser');
    const own = identity();
    if (!own) throw new ChannelError('invalid_argument', 'no unlocked identity');
    const me = localUsername();
    if (typeof me !== 'string' || !usernamePattern.test(me)) throw new ChannelError('invalid_argument', 'no bound account');
    const certificate = await readAcceptedCertificate({ armored: peerCertificate, fingerprint: peerFingerprint });
    const create = role === 'initiator' ? createInitiator : createResponder;
    const endpoint = create({
      sessionId: session,
      localUsername: me,
      peerUsername: peerUser,
      localFingerprint: own.fingerprint.toLowerCase(),
      peerFingerprint: peerFingerprint.toLowerCase(),
      sign: createOpenpgpSigner({ privateKey: own.privateKey }),
      verify: createOpenpgpVerifier({ certificate, fingerprint: peerFingerprint }),
      rekeyPolicy,
    });
    channels.set(session, {
      session, role, endpoint, peerUser, peerFingerprint: peerFingerprint.toLowerCase(), sendSequence: 0, receiveSequence: 0, opened: false, tornDown: false,
      queue: Promise.resolve(), rekeyTimer: null, epoch: 0,
    });
    return { session, state: endpoint.state };
  }

  /** The server said channel_open: the initiator sends message 1; both start the handshake clock. */
  function open({ session }) {
    const channel = channels.get(session);
    if (!channel) throw new ChannelError('invalid_argument', 'unknown session');
    if (channel.opened) return { session };
    channel.opened = true;
    awaitSecure({ endpoint: channel.endpoint, timeoutMs: handshakeTimeoutMs }).then(() => {
      channel.rekeyTimer = setInterval(() => enqueue(channel, () => rekeyIfDue(channel)).catch(() => {}), rekeyCheckMs);
      if (channel.peerUser && !channel.tornDown) onSecure({ session: channel.session, peerUser: channel.peerUser });
    }, (error) => {
      if (error?.reason === 'handshake_timeout') tearDown(channel, 'handshake_timeout');
    });
    if (channel.role === 'initiator') {
      enqueue(channel, async () => {
        sendFrame(channel, RelayFrameType.handshake, await channel.endpoint.start());
      }).catch(() => {});
    }
    return { session };
  }

  async function handleFrame(channel, { frameType, sequence, body }) {
    // The server already enforces 0,1,2,…; checking again means a relay that reorders or
    // replays frames is caught here too, before the protocol's own checks.
    if (sequence !== channel.receiveSequence) throw new ChannelError(sequence < channel.receiveSequence ? 'replay' : 'out_of_order', 'relay frame sequence');
    channel.receiveSequence += 1;
    const { endpoint } = channel;
    if (frameType === RelayFrameType.handshake) {
      const { reply } = await endpoint.receiveHandshake({ message: body });
      if (reply) sendFrame(channel, RelayFrameType.handshake, reply);
      emitState(channel);
      return;
    }
    const opened = await endpoint.open({ record: body });
    if (opened.type === 'data') {
      emit({ type: 'channel.message', session: channel.session, text: textDecoder.decode(opened.plaintext) });
      opened.plaintext.fill(0);
      await rekeyIfDue(channel);
    } else if (opened.type === 'sender_key') {
      // Authenticated by the channel, so it speaks for the peer; which user that is, the page
      // said in prepare(). The room key manager decides whether the key is used.
      if (channel.peerUser) onSenderKey({ session: channel.session, peerUser: channel.peerUser, peerFingerprint: channel.peerFingerprint, plaintext: Uint8Array.from(opened.plaintext) });
      opened.plaintext.fill(0);
      await rekeyIfDue(channel);
    } else if (opened.type === 'call') {
      // Fatal decode: a call signal that is not UTF-8 (or over the limit) is a malformed record
      // and tears the channel down like any other (the peer's sender never makes one).
      const length = opened.plaintext.length;
      let signal;
      try {
        if (length === 0 || length > MAX_CALL_SIGNAL_BYTES) throw new ChannelError('malformed', `call signal of ${length} bytes`);
        signal = textDecoder.decode(opened.plaintext);
      } finally {
        opened.plaintext.fill(0);
      }
      emit({ type: 'call.signal', session: channel.session, signal });
      await rekeyIfDue(channel);
    } else if (opened.type === 'rekey') {
      if (opened.reply) sendFrame(channel, RelayFrameType.record, opened.reply);
      emitState(channel);
      noticeEpoch(channel);
    } else if (opened.type === 'close') {
      emitState(channel);
      forget(channel);
    }
  }

  /** One binary frame from the relay. Frames of unknown sessions (already ended) are dropped. */
  function receiveFrame({ frame }) {
    let decoded;
    try {
      decoded = decodeRelayFrame(frame);
    } catch (error) {
      if (error instanceof RelayFrameError) return { dropped: true };
      throw error;
    }
    const channel = channels.get(decoded.sessionId);
    if (!channel || !channel.opened) return { dropped: true };
    enqueue(channel, () => handleFrame(channel, decoded)).catch(() => {});
    return { dropped: false };
  }

  function isUp(channel) {
    const state = channel.endpoint.state;
    return state === ChannelState.secure || state === ChannelState.rekeying;
  }

  function send({ session, text }) {
    const channel = channels.get(session);
    if (!channel) throw new ChannelError('invalid_argument', 'unknown session');
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_MESSAGE_CHARS) throw new ChannelError('invalid_argument', 'message text');
    return enqueue(channel, async () => {
      const state = channel.endpoint.state;
      if (state !== ChannelState.secure && state !== ChannelState.rekeying) throw new ChannelError('invalid_argument', 'the channel is not secure');
      const plaintext = textEncoder.encode(text);
      const record = await channel.endpoint.seal({ plaintext });
      plaintext.fill(0);
      sendFrame(channel, RelayFrameType.record, record);
      await rekeyIfDue(channel);
      return { session };
    });
  }

  /**
   * Seals one call signal (the JSON text of docs/protocol.md "Call signalling") into a record
   * of type call. Only on a secure channel: call set-up never waits in a queue for a handshake.
   */
  function sendCall({ session, signal }) {
    const channel = channels.get(session);
    if (!channel) throw new ChannelError('invalid_argument', 'unknown session');
    if (typeof signal !== 'string' || signal.length === 0) throw new ChannelError('invalid_argument', 'call signal');
    const plaintext = textEncoder.encode(signal);
    if (plaintext.length > MAX_CALL_SIGNAL_BYTES) {
      plaintext.fill(0);
      throw new ChannelError('invalid_argument', `call signal of ${plaintext.length} bytes exceeds ${MAX_CALL_SIGNAL_BYTES}`);
    }
    return enqueue(channel, async () => {
      try {
        if (!isUp(channel)) throw new ChannelError('invalid_argument', 'the channel is not secure');
        sendFrame(channel, RelayFrameType.record, await channel.endpoint.sealCall({ plaintext }));
      } finally {
        plaintext.fill(0);
      }
      await rekeyIfDue(channel);
      return { session };
    });
  }

  // ---- for the media transforms (inside the Worker only) ---------------------------------

  const liveChannel = (session) => {
    const channel = typeof session === 'string' ? channels.get(session) : undefined;
    return channel && !channel.tornDown && isUp(channel) ? channel : null;
  };

  /** 'initiator' | 'responder' of a secure channel, else null. */
  function roleOf(session) {
    return liveChannel(session)?.role ?? null;
  }

  /** The current epoch of a secure channel (the KID of its media keys), else null. */
  function epochOf(session) {
    return liveChannel(session)?.endpoint.epoch ?? null;
  }

  /**
   * The channel's exporter (docs/protocol.md §5.3) of the epoch epochOf() reports now; null when
   * the session is unknown or not secure, or when a re-key moved the epoch on before the value
   * was ready (onEpochChanged follows, and the caller asks again), so a key is never filed
   * under another epoch's KID.
   */
  async function exporterFor({ session, label, context, length }) {
    const channel = liveChannel(session);
    if (!channel) return null;
    const { epoch } = channel.endpoint;
    let bytes;
    try {
      bytes = await channel.endpoint.exportKeyingMaterial({ label, context, length });
    } catch (error) {
      if (error?.reason === 'invalid_argument') throw error;
      return null;
    }
    if (channel.tornDown || channel.endpoint.epoch !== epoch) {
      bytes.fill(0);
      return null;
    }
    return bytes;
  }

  /**
   * Hands a room sender-key plaintext to every secure channel with `peerUser` (each may lead to
   * another tab of that user). Resolves true when at least one channel took it. The plaintext
   * is zero-filled once sealed.
   */
  async function sendSenderKey({ peerUser, plaintext }) {
    if (!(plaintext instanceof Uint8Array) || plaintext.length === 0) throw new ChannelError('invalid_argument', 'sender key plaintext');
    const targets = [...channels.values()].filter((channel) => channel.peerUser === peerUser && !channel.tornDown && isUp(channel));
    try {
      const results = await Promise.all(targets.map((channel) => enqueue(channel, async () => {
        if (!isUp(channel)) return false;
        sendFrame(channel, RelayFrameType.record, await channel.endpoint.sealSenderKey({ plaintext }));
        await rekeyIfDue(channel);
        return true;
      }).catch(() => false)));
      return results.includes(true);
    } finally {
      plaintext.fill(0);
    }
  }

  /** The user ends the channel: a close record if the channel is up, then the keys go. */
  async function close({ session }) {
    const channel = channels.get(session);
    if (!channel) return { session };
    const state = channel.endpoint.state;
    if (state === ChannelState.secure || state === ChannelState.rekeying) {
      await enqueue(channel, async () => {
        sendFrame(channel, RelayFrameType.record, await channel.endpoint.close({ code: 'normal' }));
      }).catch(() => {});
    }
    drop({ session });
    return { session };
  }

  /** The server ended the session: forget it (keys dropped with the endpoint). */
  function drop({ session }) {
    const channel = channels.get(session);
    if (!channel) return { session };
    channel.tornDown = true;
    if (channel.endpoint.state !== ChannelState.closed && channel.endpoint.state !== ChannelState.compromised) {
      channel.endpoint.abort({ reason: 'closed' });
    }
    forget(channel);
    return { session };
  }

  function dropAll() {
    for (const session of [...channels.keys()]) drop({ session });
  }

  return Object.freeze({
    prepare, open, receiveFrame, send, sendSenderKey, sendCall, close, drop, dropAll, exporterFor, roleOf, epochOf,
    get size() { return channels.size; },
  });
}
