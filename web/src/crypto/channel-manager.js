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
 *            onSenderKey?({ session, peerUser, peerFingerprint, plaintext }), onSecure?({ session, peerUser }) }.
 * Events: channel.outbound {frame: ArrayBuffer} · channel.state {session, state, suite, epoch, sas}
 *         · channel.message {session, text} · channel.teardown {session, reason}.
 * Records of type sender_key are never a channel.message: they go to onSenderKey (the room key
 * manager) with the username the page named for the peer in prepare(), or are dropped when the
 * page named none.
 */
export function createChannelManager({
  emit, identity, localUsername, handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, rekeyPolicy = createRekeyPolicy(), rekeyCheckMs = 15_000,
  onSenderKey = () => {}, onSecure = () => {},
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
    channels.delete(channel.session);
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
      queue: Promise.resolve(), rekeyTimer: null,
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
    } else if (opened.type === 'rekey') {
      if (opened.reply) sendFrame(channel, RelayFrameType.record, opened.reply);
      emitState(channel);
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

  return Object.freeze({ prepare, open, receiveFrame, send, sendSenderKey, close, drop, dropAll, get size() { return channels.size; } });
}
