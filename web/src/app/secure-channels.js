// Page-side wiring of identities and secure channels (page runtime): the WebSocket's control
// messages and relay frames on one side, the crypto Worker on the other, the stores the UI
// reads in between. The page never holds key material: it forwards relay frames unread
// (transferring their ArrayBuffers) and asks the Worker for public facts and signatures.
// Plaintext of messages exists here only in memory (the channel store), never logged.

import { isLivePhase } from '../state/channel-store.js';
import { createPrivateChat } from './private-chat.js';
import { createRoomChat } from './room-chat.js';
import { createServerCommands } from './server-commands.js';
import { RoomFrameType } from '../crypto/room-frame.js';
import { ClaimProblem, compareReportWithFacts } from '../state/certificate-claims.js';
import { parsePossessionChallenge } from '../crypto/protocol/signing-contexts.js';

const GENERATE_TIMEOUT_MS = 120_000;   // RSA imports and slow machines
const WORKER_TIMEOUT_MS = 30_000;
const ROOM_CHANNEL_RETRY_MS = 30_000;   // a room's channel request not answered: asked again after this
const MAX_PENDING_PRIVATE = 10;        // lines typed with /msg before the channel is up

/**
 * Options: { getSocket() → websocket client | null, getWorker() → crypto connection | null,
 *            identityStore, channelStore, roomStore, getTrustStore() → trust store | null,
 *            userOf(username) → {userid, username} from the presence list | null, self() → own username,
 *            onCallSignal({session, peerUser, signal}) for each call signal (record type call) of a live channel,
 *            onChannelEnded({session, peerUser, reason}) once when a channel ends or is torn down (calls end with it) }.
 */
export function createSecureChannelController({
  getSocket, getWorker, identityStore, channelStore, roomStore, getTrustStore, userOf = () => null, self = () => channelStore.get().self, isVisible, onChatEvent,
  onCallSignal = () => {}, onChannelEnded = () => {},
}) {
  let socketOnline = false;
  let submission = 0;   // identifies the current certificate submission; a newer one wins
  let awaitingChallenge = 0;   // the submission whose one challenge may still be answered (0: none)
  const roomChannelAsked = new Map();   // username → when this side last asked for a channel for a room
  const pendingPrivate = new Map();     // username → [{kind, text}] to send once the channel is secure
  const endReported = new Set();        // sessions whose end onChannelEnded was told of

  const send = (message) => getSocket()?.send(message) ?? false;

  async function ask(type, payload, options = {}) {
    const worker = getWorker();
    if (!worker) throw Object.assign(new Error(`${type}: the crypto worker is not running`), { code: 'worker_unavailable' });
    return worker.request({ type, ...(payload === undefined ? {} : { payload }), timeoutMs: options.timeoutMs ?? WORKER_TIMEOUT_MS, ...(options.transfer ? { transfer: options.transfer } : {}) });
  }

  /** Tells onChannelEnded once per session (a teardown, channel_ended and a close may all come). */
  function reportEnded(session, reason) {
    const channel = channelStore.find(session);
    if (!channel || channel.phase === 'offered' || endReported.has(session)) return;
    endReported.add(session);
    try {
      onChannelEnded({ session, peerUser: channel.peer.username, reason: typeof reason === 'string' ? reason : 'ended' });
    } catch {
      // the channel's own handling goes on
    }
  }

  // --- certificate submission (docs/api.md: certificate_submit → challenge → proof) ---------

  async function submitCertificate() {
    if (!socketOnline || identityStore.get().phase !== 'ready') return;
    const mine = ++submission;
    identityStore.submitting();
    try {
      // forSubmission opens the Worker's one-shot window for this submission's challenge.
      const { armored } = await ask('identity.export_public', { forSubmission: true });
      if (mine !== submission) return;
      awaitingChallenge = mine;
      send({ type: 'certificate_submit', certificate: armored });
    } catch (error) {
      if (mine === submission) identityStore.rejected({ code: error.code ?? 'worker_unavailable', message: '' });
    }
  }

  // A submission refused for its rate (after a burst of reconnects) is tried once more when the
  // server says it may be; a newer submission or a lost socket cancels the wait.
  let retryTimer = null;
  function retryRateLimitedSubmission(error) {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (error?.code !== 'rate_limited') return;
    const seconds = Math.min(120, Math.max(1, Number(error.retry_after) || 1));
    const waitingFor = submission;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (waitingFor === submission) submitCertificate();
    }, seconds * 1000);
  }

  /**
   * Only the one challenge that follows this page's own certificate_submit is passed to the
   * Worker, and only when it has the documented v2 form: any other server text is never
   * relayed to the signer (docs/protocol.md "Signing contexts").
   */
  async function answerChallenge(challenge) {
    const mine = submission;
    if (awaitingChallenge === 0 || awaitingChallenge !== mine) return;
    awaitingChallenge = 0;
    try {
      parsePossessionChallenge(challenge);
    } catch {
      identityStore.rejected({ code: 'challenge_refused', message: '' });
      return;
    }
    try {
      const { signature } = await ask('identity.sign_challenge', { challenge });
      if (mine === submission) send({ type: 'certificate_proof', signature });
    } catch (error) {
      if (mine === submission) identityStore.rejected({ code: error.code ?? 'worker_unavailable', message: '' });
    }
  }

  // --- identity actions (from the UI) --------------------------------------------------------

  async function afterIdentityChange(result) {
    // Channels bound to an old identity are gone in the Worker; end them on the server too.
    for (const channel of channelStore.get().channels) {
      if (isLivePhase(channel.phase)) endChannel(channel.session);
    }
    identityStore.setIdentity(result.identity);
    if (result.remembered) identityStore.applyStatus({ identity: result.identity, stored: { fingerprint: result.identity.fingerprint, userId: result.identity.userId } });
    await submitCertificate();
    roomChat.identityChanged();
    return result.identity;
  }

  const identityActions = Object.freeze({
    /** localDomain: the server's mail domain, accepted in `email` even without a dot. */
    async create({ name, email, passphrase, remember, localDomain }) {
      return afterIdentityChange(await ask('identity.create', {
        name, email, passphrase: passphrase || undefined, remember: Boolean(remember), ...(localDomain ? { localDomain: String(localDomain) } : {}),
      }, { timeoutMs: GENERATE_TIMEOUT_MS }));
    },
    async import({ armoredKey, passphrase, remember }) {
      return afterIdentityChange(await ask('identity.import', { armoredKey, passphrase: passphrase || undefined, remember: Boolean(remember) }, { timeoutMs: GENERATE_TIMEOUT_MS }));
    },
    async unlock({ passphrase }) {
      const result = await ask('identity.unlock', { passphrase }, { timeoutMs: GENERATE_TIMEOUT_MS });
      identityStore.applyStatus({ identity: result.identity, stored: identityStore.get().stored });
      await submitCertificate();
      roomChat.identityChanged();
      return result.identity;
    },
    async forget() {
      for (const channel of channelStore.get().channels) {
        if (isLivePhase(channel.phase)) endChannel(channel.session);
      }
      submission += 1;
      await ask('identity.forget');
      identityStore.forget();
    },
    async exportPublic() {
      return (await ask('identity.export_public')).armored;
    },
  });

  // --- channels ------------------------------------------------------------------------------

  function requestChannel(userid) {
    channelStore.notify(null);
    channelStore.noteRequest(userid);
    if (!send({ type: 'channel_request', peer: userid })) channelStore.notify({ code: 'offline' });
  }

  /**
   * Reads the offer's certificate in the Worker and compares the server's report with it; the
   * panel shows the certificate's own facts, and Accept is possible only when they agree.
   * → true when they agree.
   */
  async function checkOfferCertificate(session) {
    const channel = channelStore.find(session);
    if (!channel) return false;
    let facts;
    try {
      ({ facts } = await ask('certificate.facts', { armored: channel.report.armored }));
    } catch (error) {
      // Refused before anything was verified: the Worker's cost limits (docs/threat-model.md).
      const problems = error?.code === 'certificate_too_costly' ? [ClaimProblem.too_costly] : [];
      channelStore.certificateChecked(session, { state: 'unreadable', problems });
      return false;
    }
    const { agrees, problems } = compareReportWithFacts(channel.report, facts);
    channelStore.certificateChecked(session, { state: agrees ? 'agrees' : 'disagrees', facts, problems });
    return agrees;
  }

  async function acceptChannel(session, { remember = false } = {}) {
    const channel = channelStore.find(session);
    if (!channel || channel.phase !== 'offered') return;
    // The report must agree with its own certificate (the panel shows no Accept otherwise).
    if (channel.certificateCheck?.state !== 'agrees') return;
    try {
      // Bound now, to exactly the certificate the user saw and accepted.
      await ask('channel.prepare', {
        session, role: channel.role, peerFingerprint: channel.report.fingerprint, peerCertificate: channel.report.armored, peerUser: channel.peer.username,
      });
    } catch (error) {
      // The report's certificate does not match its fingerprint, or it is unreadable: a
      // server-side substitution is one explanation, so the channel counts as compromised.
      const reason = error.code === 'certificate_mismatch' ? 'fingerprint_mismatch' : 'malformed';
      channelStore.compromised(session, reason);
      send({ type: 'channel_end', session, reason });
      return;
    }
    if (remember) getTrustStore()?.remember({ username: channel.peer.username, fingerprint: channel.report.fingerprint });
    channelStore.accepted(session);
    send({ type: 'channel_accept', session });
  }

  function rejectChannel(session) {
    const channel = channelStore.find(session);
    if (!channel || channel.phase !== 'offered') return;
    send({ type: 'channel_reject', session });
  }

  function endChannel(session) {
    const channel = channelStore.find(session);
    if (!channel || !isLivePhase(channel.phase)) return;
    if (channel.phase === 'offered') {
      send({ type: 'channel_reject', session });
      return;
    }
    reportEnded(session, 'ended');
    // The close record goes out before channel_end: the peer sees a clean close.
    ask('channel.close', { session }).catch(() => {}).finally(() => send({ type: 'channel_end', session }));
  }

  // --- the safety code compared (docs/protocol.md §8) ----------------------------------------

  /** "Codes match": the peer's certificate is pinned and marked verified. → true when stored. */
  function markVerified(session) {
    const channel = channelStore.find(session);
    const trust = getTrustStore();
    if (!channel || !trust || (channel.phase !== 'secure' && channel.phase !== 'rekeying')) return false;
    return trust.markVerified({ username: channel.peer.username, fingerprint: channel.report.fingerprint });
  }

  /**
   * "Codes differ": someone may be in the middle. The channel ends at once (no close record:
   * nothing more goes through it) with the reason `sas_mismatch`, which the server passes to
   * the peer; the pin is forgotten and a local report kept (trust-store.js).
   */
  function reportSasMismatch(session) {
    const channel = channelStore.find(session);
    if (!channel || (channel.phase !== 'secure' && channel.phase !== 'rekeying')) return;
    getTrustStore()?.reportMismatch({ username: channel.peer.username, fingerprint: channel.report.fingerprint, session });
    reportEnded(session, 'sas_mismatch');
    channelStore.compromised(session, 'sas_mismatch');
    channelStore.addSystem(session, { messageKey: 'verify.reported_line', params: { username: channel.peer.username }, level: 'info' });   // the view's warning is the alert
    ask('channel.drop', { session }).catch(() => {});
    send({ type: 'channel_end', session, reason: 'sas_mismatch' });
  }

  // --- conversations: private (one per channel) and rooms --------------------------------------

  const serverCommands = createServerCommands({ sendControl: send, onError: () => onChatEvent?.('error') });
  const liveChannelWith = (username) => channelStore.get().channels.find((channel) => channel.peer.username === username && isLivePhase(channel.phase)) ?? null;
  const isSecure = (channel) => channel && (channel.phase === 'secure' || channel.phase === 'rekeying');
  const isRoomMate = (username) => roomStore.get().rooms.some((room) => room.joined && room.members.includes(username));

  function selectChannel(session) {
    roomStore.select(null);
    channelStore.select(session);
  }

  function selectRoom(room) {
    channelStore.select(null);
    roomStore.select(room);
  }

  /**
   * A room member without a channel: one side asks (the one whose username sorts first, so the
   * two do not cross), again after ROOM_CHANNEL_RETRY_MS if nothing came of it.
   */
  function ensureChannel(username) {
    if (username === self() || liveChannelWith(username) || !(self() < username)) return;
    if (identityStore.get().certificate.state !== 'accepted') return;   // asked again once it is (below)
    const user = userOf(username);
    const asked = roomChannelAsked.get(username);
    // Only once they are online with a certificate the server accepted (else the server refuses).
    if (!user?.fingerprint || (asked && Date.now() - asked < ROOM_CHANNEL_RETRY_MS)) return;
    roomChannelAsked.set(username, Date.now());
    send({ type: 'channel_request', peer: user.userid });
  }

  /** /query, /msg, /describe and the online list: the private conversation with `username`. */
  function openPrivate(username, line = null) {
    const existing = liveChannelWith(username);
    if (line && !isSecure(existing)) {
      const queue = pendingPrivate.get(username) ?? [];
      if (queue.length >= MAX_PENDING_PRIVATE) return Object.freeze({ error: Object.freeze({ code: 'busy', messageKey: 'chat.error.busy', params: Object.freeze({}) }) });
      pendingPrivate.set(username, [...queue, line]);
    }
    if (existing) {
      selectChannel(existing.session);
      if (line && isSecure(existing)) return privateChat.sendLine(existing.session, line.kind, line.text);
      return { ok: true };
    }
    const user = userOf(username);
    if (!user) {
      pendingPrivate.delete(username);
      return Object.freeze({ error: Object.freeze({ code: 'user_offline', messageKey: 'chat.error.user_offline', params: Object.freeze({ user: username }) }) });
    }
    roomStore.select(null);
    requestChannel(user.userid);
    return { ok: true };
  }

  async function flushPendingPrivate(session) {
    const channel = channelStore.find(session);
    const queue = channel && pendingPrivate.get(channel.peer.username);
    if (!queue) return;
    pendingPrivate.delete(channel.peer.username);
    for (const line of queue) await privateChat.sendLine(session, line.kind, line.text);
  }

  const roomChat = createRoomChat({
    roomStore,
    ask,
    sendControl: send,
    sendBinary: (frame) => getSocket()?.sendBinary(frame) ?? false,
    serverCommands,
    self,
    isIgnored: (username) => channelStore.get().ignored.includes(username.toLowerCase()),
    toggleIgnore: (username) => channelStore.toggleIgnore(username),
    ignoredList: () => channelStore.get().ignored,
    ensureChannel,
    openPrivate,
    isVisible,
    onEvent: (kind) => onChatEvent?.(kind),
    onRefused: (error) => channelStore.notify(error),
  });

  const privateChat = createPrivateChat({
    channelStore,
    sealText: (session, text) => ask('channel.send', { session, text }),
    sendControl: send,
    serverCommands,
    currentRoom: roomChat.currentRoom,
    openPrivate,
    isVisible,
    onEvent: onChatEvent,
  });
  // Channel texts are handled one at a time, in arrival order (dice steps depend on it).
  let inbound = Promise.resolve();

  /** A plain chat message (the envelope's `message` kind). */
  async function sendMessage(session, text) {
    const channel = channelStore.find(session);
    if (!channel || (channel.phase !== 'secure' && channel.phase !== 'rekeying')) return false;
    const result = await privateChat.submit(session, text.startsWith('/') ? `/${text}` : text);
    return Boolean(result.ok);
  }

  // --- inbound -------------------------------------------------------------------------------

  /** A control message from the server; returns true when it was one of ours. */
  function handleServerMessage(message) {
    if (roomChat.handleServerMessage(message)) return true;
    if (privateChat.handleServerMessage(message)) return true;
    switch (message.type) {
      case 'hello':
        submitCertificate();
        return false;   // presence handles it too
      case 'certificate_challenge':
        if (typeof message.challenge === 'string') answerChallenge(message.challenge);
        return true;
      case 'certificate_accepted':
        awaitingChallenge = 0;
        identityStore.accepted(message.report && typeof message.report === 'object' ? message.report : null);
        presenceChanged();
        return true;
      case 'certificate_rejected':
        awaitingChallenge = 0;
        identityStore.rejected(message.error);
        retryRateLimitedSubmission(message.error);
        return true;
      case 'channel_offer': {
        const fingerprint = message.certificate?.fingerprint;
        const username = message.peer?.username;
        const trust = getTrustStore()?.check({ username, fingerprint }) ?? { status: 'unknown', knownFingerprint: null };
        // While a room is shown, an offer does not take the view away; the room lists it.
        const channel = channelStore.applyOffer(message, { trust, quiet: roomStore.get().selected !== null });
        if (channel) {
          checkOfferCertificate(channel.session).then((agrees) => {
            // A room-mate whose certificate this user accepted and remembered before: no second review.
            if (agrees && trust.status === 'trusted' && isRoomMate(username)) acceptChannel(channel.session);
          });
        }
        return true;
      }
      case 'channel_open':
        if (channelStore.find(message.session)) {
          channelStore.opened(message.session);
          ask('channel.open', { session: message.session }).catch(() => {});
        }
        return true;
      case 'channel_ended':
        if (channelStore.find(message.session)) {
          ask('channel.drop', { session: message.session }).catch(() => {});
          reportEnded(message.session, message.reason === 'compromised' && typeof message.detail === 'string' ? message.detail : message.reason);
          channelStore.applyEnded(message);
        }
        return true;
      case 'error':
        if (message.error?.code === 'no_challenge') identityStore.rejected(message.error);
        else channelStore.notify(message.error ?? { code: 'unknown' });
        return true;
      default:
        return false;
    }
  }

  /** A binary frame from the server (relay or room): straight to the Worker, moved not copied. */
  function handleBinary(frame) {
    const type = frame.byteLength > 0 ? new Uint8Array(frame, 0, 1)[0] : 0;
    const room = type === RoomFrameType.message || type === RoomFrameType.control;
    ask(room ? 'room.frame' : 'channel.frame', { frame }, { transfer: [frame] }).catch(() => {});
  }

  /** What the Worker sends unasked. */
  function handleWorkerEvent(event) {
    switch (event.type) {
      case 'channel.outbound':
        if (event.frame instanceof ArrayBuffer) getSocket()?.sendBinary(event.frame);
        break;
      case 'channel.state': {
        const before = channelStore.find(event.session)?.phase;
        if (event.state === 'closed') reportEnded(event.session, 'closed');   // the peer's close record
        channelStore.applyWorkerState(event);
        if (event.state === 'secure' && before !== 'secure' && before !== 'rekeying') {
          roomChat.distribute();
          flushPendingPrivate(event.session).catch(() => {});
        }
        break;
      }
      case 'room.message':
        if (typeof event.text === 'string') {
          const { room, from, frameType, text } = event;
          roomChat.handleRoomText({ room, from, frameType, text }).catch(() => {});
        }
        break;
      case 'room.undecryptable':
        roomChat.undecryptable(event);
        break;
      case 'channel.message':
        if (typeof event.text === 'string') {
          const { session, text } = event;
          inbound = inbound.then(() => privateChat.handleChannelText(session, text)).catch(() => {});
        }
        break;
      case 'call.signal': {
        // Authenticated by the channel: it speaks for the peer the channel was accepted for.
        const channel = channelStore.find(event.session);
        if (typeof event.signal === 'string' && channel && (channel.phase === 'secure' || channel.phase === 'rekeying')) {
          onCallSignal({ session: event.session, peerUser: channel.peer.username, signal: event.signal });
        }
        break;
      }
      case 'channel.teardown':
        reportEnded(event.session, event.reason);
        channelStore.compromised(event.session, event.reason);
        send({ type: 'channel_end', session: event.session, reason: event.reason });
        break;
      default:
        break;
    }
  }

  function handleSocketStatus(status) {
    const online = status === 'online';
    if (socketOnline && !online) {
      // The server ends every channel and forgets the certificate with the connection.
      submission += 1;
      for (const channel of channelStore.get().channels) {
        if (isLivePhase(channel.phase)) reportEnded(channel.session, 'connection_lost');
      }
      channelStore.connectionLost();
      roomChat.connectionLost();
      roomChannelAsked.clear();
      pendingPrivate.clear();
      identityStore.connectionLost();
      ask('channel.drop_all').catch(() => {});
    }
    socketOnline = online;
  }

  /** The online list changed: a room-mate who just got their certificate accepted can be asked now. */
  function presenceChanged() {
    for (const room of roomStore.get().rooms) {
      if (room.joined) for (const member of room.members) ensureChannel(member);
    }
  }

  return Object.freeze({
    handleServerMessage, handleBinary, handleWorkerEvent, handleSocketStatus, submitCertificate, presenceChanged,
    actions: Object.freeze({
      identity: identityActions,
      requestChannel, acceptChannel, rejectChannel, endChannel, sendMessage, markVerified, reportSasMismatch,
      submitChatLine: privateChat.submit,
      deleteMessage: privateChat.deleteOwn,
      toggleIgnore: (username) => channelStore.toggleIgnore(username),
      selectChannel,
      removeChannel: (session) => channelStore.remove(session),
      openPrivate,
      submitRoomLine: roomChat.submit,
      deleteRoomMessage: roomChat.deleteMessage,
      joinRoom: roomChat.join,
      leaveRoom: roomChat.leave,
      selectRoom,
      removeRoom: (room) => roomStore.remove(room),
      dismissInvitation: (room) => roomStore.dismissInvitation(room),
      // Calls (docs/protocol.md "Call signalling", "Media encryption (SFrame)"): the signal is
      // sealed as a record of type call; media keys and frames stay in the Worker.
      sendCallSignal: (session, signal) => ask('call.send', { session, signal }),
      callMediaStats: async (call) => (await ask('call.media_stats', { call })).stats ?? null,
      endCallMedia: (call) => ask('call.media_end', { call }),
      createCallTransform: (options) => {
        const worker = getWorker();
        if (!worker) throw Object.assign(new Error('createCallTransform: the crypto worker is not running'), { code: 'worker_unavailable' });
        return worker.createScriptTransform(options);
      },
      attachCallStreams: (options) => {
        const worker = getWorker();
        if (!worker) return Promise.reject(Object.assign(new Error('attachCallStreams: the crypto worker is not running'), { code: 'worker_unavailable' }));
        return worker.attachEncodedStreams(options);
      },
    }),
  });
}
