// The private conversation inside one secure channel (page runtime): chat lines typed by the
// user (parseChatInput), the envelope codec (web/src/chat/envelope.js) both ways, receipts,
// deletion, nicknames, the ignore list, fair dice between the two peers, and the room/moderation
// commands that go to the server as control messages (their answers become system lines).
// Plaintext stays in page memory (the channel store) and leaves only through channel.send,
// i.e. encrypted by the Worker.

import { parseChatInput } from '../chat/commands.js';
import { createFloodControl, floodError, checkMessageLength } from '../chat/limits.js';
import { encodeEnvelope, decodeEnvelope, newEnvelopeId, envelopeLimits } from '../chat/envelope.js';
import { createContribution, createDiceRoll } from '../chat/dice.js';
import { isIgnored } from '../state/channel-store.js';

const failure = (code, params = {}) => Object.freeze({ error: Object.freeze({ code, messageKey: `chat.error.${code}`, params: Object.freeze(params) }) });

// Server answers to the room commands → the i18n key of their system line.
const replyTypes = new Set(['room_joined', 'room_list', 'room_who', 'user_whereis', 'room_invited', 'room_uninvited', 'room_left',
  'mod_kicked', 'mod_bans', 'mod_unbanned', 'mod_whois']);

// At most this many dice rolls open at once per conversation: a peer cannot pile up rolls.
const MAX_OPEN_ROLLS = 4;
// A server answer later than this is no longer attributed to the command that asked.
const REPLY_TIMEOUT_MS = 15_000;

// Receipts wait this long, so that a burst of messages costs one receipt record, not one each.
const RECEIPT_DELAY_MS = 1000;

const list = (items) => (Array.isArray(items) ? items.map((item) => String(item)).join(', ') : '');
const roomName = (message) => String(message.name ?? message.room ?? '');
const clock = (seconds) => (Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : '');

/** A server answer → { messageKey, params } for its system line. */
export function describeServerReply(message) {
  switch (message.type) {
    case 'room_joined':
      return { messageKey: 'chat.system.room_joined', params: { room: roomName(message), members: list(message.members) } };
    case 'room_list':
      return Array.isArray(message.rooms) && message.rooms.length
        ? { messageKey: 'chat.system.room_list', params: { rooms: message.rooms.map((room) => `${room?.name ?? room?.room} (${Number(room?.members) || 0})`).join(', ') } }
        : { messageKey: 'chat.system.room_list_empty', params: {} };
    case 'room_who':
      return { messageKey: 'chat.system.room_who', params: { room: roomName(message), members: list(message.members) } };
    case 'user_whereis':
      return message.online
        ? { messageKey: 'chat.system.whereis_online', params: { user: String(message.user ?? ''), rooms: list((message.rooms ?? []).map((room) => room?.name ?? room?.room)) || '—' } }
        : { messageKey: 'chat.system.whereis_offline', params: { user: String(message.user ?? '') } };
    case 'room_invited':
      return { messageKey: 'chat.system.room_invited', params: { user: String(message.user ?? ''), room: roomName(message) } };
    case 'room_uninvited':
      return { messageKey: 'chat.system.room_uninvited', params: { user: String(message.user ?? ''), room: roomName(message) } };
    case 'room_left':
      return { messageKey: 'chat.system.room_left', params: { room: roomName(message) } };
    case 'mod_kicked':
      return { messageKey: 'chat.system.mod_kicked', params: { user: String(message.user ?? ''), until: clock(message.until) } };
    case 'mod_bans':
      return Array.isArray(message.bans) && message.bans.length
        ? { messageKey: 'chat.system.mod_bans', params: { bans: message.bans.map((ban) => `${ban?.user} (${clock(ban?.until)})`).join(', ') } }
        : { messageKey: 'chat.system.mod_bans_empty', params: {} };
    case 'mod_unbanned':
      return { messageKey: 'chat.system.mod_unbanned', params: { user: String(message.user ?? '') } };
    case 'mod_whois':
      return { messageKey: 'chat.system.mod_whois', params: {
        user: String(message.user ?? ''), role: String(message.role ?? ''), online: String(Boolean(message.online)),
        addresses: list(message.addresses) || '—', rooms: list((message.rooms ?? []).map((room) => room?.name ?? room?.room)) || '—',
      } };
    default:
      return { messageKey: 'chat.system.server_reply', params: { type: String(message.type) } };
  }
}

/**
 * Options: { channelStore, sealText(session, text) → Promise (channel.send in the Worker),
 * sendControl(message) → boolean (the WebSocket), isVisible() → boolean, onEvent(kind) (sounds,
 * notifications: 'message' | 'error'), now() }.
 */
export function createPrivateChat({ channelStore, sealText, sendControl, isVisible = () => true, onEvent = () => {}, now = () => Date.now(), receiptDelayMs = RECEIPT_DELAY_MS }) {
  const flood = createFloodControl({ now });
  const receipts = new Map();   // session → { targets: [ids], timer }
  const rolls = new Map();   // rollId → { session, roll, mine, spec, by, revealed }
  let pendingReply = null;   // the session that asked the server something, until it answers
  let pendingTimer = null;
  let currentRoom = null;

  const live = (session) => ['secure', 'rekeying'].includes(channelStore.find(session)?.phase);
  const system = (session, messageKey, params = {}, level = 'info') => channelStore.addSystem(session, { messageKey, params, level });

  async function sendEnvelope(session, fields) {
    const id = fields.id ?? newEnvelopeId();
    await sealText(session, encodeEnvelope({ ...fields, id }));
    return id;
  }

  async function sendChat(session, kind, text) {
    const tooLong = checkMessageLength(text);
    if (tooLong) return tooLong;
    const refused = floodError(flood.tryConsume());
    if (refused) return refused;
    const id = await sendEnvelope(session, { kind, text });
    channelStore.addMessage(session, { from: 'me', kind, text, key: id });
    return { ok: true };
  }

  function control(session, message) {
    pendingReply = session;
    clearTimeout(pendingTimer);
    pendingTimer = setTimeout(() => { pendingReply = null; }, REPLY_TIMEOUT_MS);
    pendingTimer?.unref?.();
    if (!sendControl(message)) {
      pendingReply = null;
      return failure('offline');
    }
    return { ok: true };
  }

  const openRolls = (session) => [...rolls.values()].filter((entry) => entry.session === session).length;

  const needRoom = (session, build) => (currentRoom ? control(session, build(currentRoom)) : failure('no_room'));

  function flushReceipts(session) {
    const pending = receipts.get(session);
    if (!pending) return;
    receipts.delete(session);
    clearTimeout(pending.timer);
    if (live(session)) sendEnvelope(session, { kind: 'receipt', targets: pending.targets }).catch(() => {});
  }

  function queueReceipt(session, id) {
    let pending = receipts.get(session);
    if (!pending) {
      pending = { targets: [], timer: setTimeout(() => flushReceipts(session), receiptDelayMs) };
      receipts.set(session, pending);
    }
    pending.targets.push(id);
    if (pending.targets.length >= envelopeLimits.maxReceiptTargets) flushReceipts(session);
  }

  // --- dice ---------------------------------------------------------------------------------

  const roleOf = (session) => channelStore.find(session)?.role;
  const peerRoleOf = (session) => (roleOf(session) === 'initiator' ? 'responder' : 'initiator');

  async function startRoll(session, spec, rollId, by) {
    const roll = createDiceRoll({ rollId, spec, participants: ['initiator', 'responder'], startedAt: now() });
    const mine = await createContribution({ rollId, participant: roleOf(session), spec });
    roll.addCommitment({ participant: roleOf(session), commitment: mine.commitment }, now());
    const entry = { session, roll, mine, spec, by, revealed: false, timer: null };
    rolls.set(rollId, entry);
    // Past both deadlines (commit + reveal), a roll still open fails with the dice module's error.
    entry.timer = setTimeout(() => finishRoll(rollId, true).catch(() => {}), 65_000);
    entry.timer?.unref?.();
    return entry;
  }

  function dropRoll(rollId) {
    clearTimeout(rolls.get(rollId)?.timer);
    rolls.delete(rollId);
  }

  async function revealIfReady(rollId) {
    const entry = rolls.get(rollId);
    if (!entry || entry.revealed || entry.roll.phase() !== 'revealing') return;
    entry.revealed = true;
    const commitSet = await entry.roll.commitSet();
    const { nonce, contribution } = entry.mine;
    await entry.roll.addReveal({ participant: roleOf(entry.session), nonce, contribution, commitSet }, now());
    await sendEnvelope(entry.session, { kind: 'roll_reveal', roll: rollId, nonce, contribution, commitSet });
  }

  async function finishRoll(rollId, timedOut = false) {
    const entry = rolls.get(rollId);
    if (!entry) return;
    const result = await entry.roll.result(timedOut ? Infinity : now());
    if (result.pending) return;
    dropRoll(rollId);
    if (result.error) {
      system(entry.session, 'chat.roll.failed', { reason: result.error.messageKey, ...result.error.params }, 'error');
      return;
    }
    const channel = channelStore.find(entry.session);
    channelStore.addSystem(entry.session, {
      messageKey: entry.by === 'me' ? 'chat.roll.result_me' : 'chat.roll.result_peer',
      params: { name: channel?.peerNick ?? channel?.peer.username ?? '', spec: `${entry.spec.count}d${entry.spec.sides}`, dice: result.dice.join(' + '), total: result.total },
      level: 'roll',
      text: result.dice.join(','),
    });
  }

  async function onRollCommit(session, envelope) {
    let entry = rolls.get(envelope.roll);
    if (!entry) {
      if (openRolls(session) >= MAX_OPEN_ROLLS) return;
      entry = await startRoll(session, { count: envelope.count, sides: envelope.sides }, envelope.roll, 'peer');
    }
    if (entry.session !== session) return;
    if (entry.by === 'peer' && !entry.sentCommit) {
      entry.sentCommit = true;
      await sendEnvelope(session, { kind: 'roll_commit', roll: envelope.roll, count: entry.spec.count, sides: entry.spec.sides, commitment: entry.mine.commitment });
    }
    if (envelope.count !== entry.spec.count || envelope.sides !== entry.spec.sides) {
      dropRoll(envelope.roll);
      system(session, 'chat.roll.failed', { reason: 'chat.dice.error.malformed', participant: channelStore.find(session)?.peer.username ?? '' }, 'error');
      return;
    }
    const added = entry.roll.addCommitment({ participant: peerRoleOf(session), commitment: envelope.commitment }, now());
    if (added.error) {
      dropRoll(envelope.roll);
      system(session, 'chat.roll.failed', { reason: added.error.messageKey, ...added.error.params }, 'error');
      return;
    }
    await revealIfReady(envelope.roll);
    await finishRoll(envelope.roll);
  }

  async function onRollReveal(session, envelope) {
    const entry = rolls.get(envelope.roll);
    if (!entry || entry.session !== session) return;
    const added = await entry.roll.addReveal({ participant: peerRoleOf(session), nonce: envelope.nonce, contribution: envelope.contribution, commitSet: envelope.commitSet }, now());
    if (added.error) {
      dropRoll(envelope.roll);
      const channel = channelStore.find(session);
      system(session, 'chat.roll.failed', { reason: added.error.messageKey, ...added.error.params, participant: channel?.peer.username ?? '' }, 'error');
      onEvent('error');
      return;
    }
    await revealIfReady(envelope.roll);
    await finishRoll(envelope.roll);
  }

  // --- the input line -----------------------------------------------------------------------

  /** One line typed by the user: { ok } or { error: {messageKey, params} } (shown inline, not sent). */
  async function submit(session, line) {
    const channel = channelStore.find(session);
    if (!channel || !live(session)) return failure('not_secure');
    const parsed = parseChatInput(line);
    if (parsed.error) return parsed;
    const peer = channel.peer.username;
    switch (parsed.type) {
      case 'message':
        return sendChat(session, 'message', parsed.text);
      case 'action':
        return sendChat(session, 'action', parsed.text);
      case 'describe':
      case 'msg':
        if (parsed.user.toLowerCase() !== peer.toLowerCase()) return failure('not_this_peer', { user: parsed.user });
        return sendChat(session, parsed.type === 'describe' ? 'action' : 'message', parsed.text);
      case 'query':
        return parsed.user.toLowerCase() === peer.toLowerCase() ? { ok: true } : failure('not_this_peer', { user: parsed.user });
      case 'clear':
        channelStore.clearMessages(session);
        return { ok: true };
      case 'help':
        system(session, 'chat.system.help', { command: parsed.command ?? '' }, 'help');
        return { ok: true };
      case 'ignore_list': {
        const { ignored } = channelStore.get();
        system(session, ignored.length ? 'chat.system.ignore_list' : 'chat.system.ignore_list_empty', { users: ignored.join(', ') });
        return { ok: true };
      }
      case 'ignore': {
        const now_ = channelStore.toggleIgnore(parsed.user);
        system(session, now_ ? 'chat.system.ignored' : 'chat.system.unignored', { user: parsed.user });
        return { ok: true };
      }
      case 'nick': {
        await sendEnvelope(session, { kind: 'nick', name: parsed.name });
        channelStore.setOwnNick(session, parsed.name);
        system(session, 'chat.system.nick_me', { name: parsed.name });
        return { ok: true };
      }
      case 'roll': {
        if (openRolls(session) >= MAX_OPEN_ROLLS) return failure('roll_busy');
        const refused = floodError(flood.tryConsume());
        if (refused) return refused;
        const spec = { count: parsed.count, sides: parsed.sides };
        const rollId = newEnvelopeId();
        const entry = await startRoll(session, spec, rollId, 'me');
        await sendEnvelope(session, { kind: 'roll_commit', roll: rollId, ...spec, commitment: entry.mine.commitment });
        system(session, 'chat.roll.started', { spec: `${spec.count}d${spec.sides}` });
        return { ok: true };
      }
      case 'join':
        return control(session, parsed.channel ? { type: 'room_join', room: parsed.channel } : { type: 'room_join' });
      case 'list':
        return control(session, { type: 'room_list' });
      case 'who':
        return parsed.channel ? control(session, { type: 'room_who', room: parsed.channel }) : needRoom(session, (room) => ({ type: 'room_who', room }));
      case 'whereis':
        return control(session, { type: 'user_whereis', user: parsed.user });
      case 'invite':
        return needRoom(session, (room) => ({ type: 'room_invite', room, user: parsed.user }));
      case 'uninvite':
        return needRoom(session, (room) => ({ type: 'room_uninvite', room, user: parsed.user }));
      case 'quit':
        return needRoom(session, (room) => ({ type: 'room_leave', room }));
      case 'kick':
        return control(session, { type: 'mod_kick', user: parsed.user, minutes: parsed.minutes });
      case 'bans':
        return control(session, { type: 'mod_bans' });
      case 'unban':
        return control(session, { type: 'mod_unban', user: parsed.user });
      case 'whois':
        return control(session, { type: 'mod_whois', user: parsed.user });
      default:
        return failure('unknown_command', { command: parsed.type });
    }
  }

  /** Withdraws one of this user's own messages on both sides. */
  async function deleteOwn(session, key) {
    const channel = channelStore.find(session);
    if (!channel || !live(session) || !channel.messages.some((entry) => entry.key === key && entry.from === 'me' && !entry.deleted)) return false;
    await sendEnvelope(session, { kind: 'delete', target: key });
    return channelStore.deleteMessage(session, key, 'me');
  }

  // --- inbound ------------------------------------------------------------------------------

  /** The plaintext of a channel message from the Worker (authenticated as the peer's). */
  async function handleChannelText(session, text) {
    const channel = channelStore.find(session);
    const envelope = decodeEnvelope(text);
    if (!channel || !envelope) return;
    switch (envelope.kind) {
      case 'message':
      case 'action': {
        const added = channelStore.addMessage(session, { from: 'peer', kind: envelope.kind, text: envelope.text, key: envelope.id, seen: isVisible() });
        if (!added) return;
        queueReceipt(session, envelope.id);
        if (!isIgnored(channelStore.get(), channel)) onEvent('message');
        return;
      }
      case 'receipt':
        for (const target of envelope.targets) channelStore.markDelivered(session, target);
        return;
      case 'delete':
        channelStore.deleteMessage(session, envelope.target, 'peer');
        return;
      case 'nick':
        channelStore.setPeerNick(session, envelope.name);
        system(session, 'chat.system.nick_peer', { user: channel.peer.username, name: envelope.name });
        return;
      case 'roll_commit':
        await onRollCommit(session, envelope);
        return;
      case 'roll_reveal':
        await onRollReveal(session, envelope);
        return;
      default:
    }
  }

  /** A server control message; true when it answered one of this chat's commands. */
  function handleServerMessage(message) {
    if (message.type === 'room_joined' && typeof message.room === 'string') currentRoom = message.room;
    if (message.type === 'room_left' && message.room === currentRoom) currentRoom = null;
    const selected = channelStore.get().selected;
    if (message.type === 'room_invitation' && selected && typeof message.room === 'string') {
      // Shown, not acted on: joining stays the user's decision (/join <room>).
      system(selected, 'chat.system.room_invitation', { by: String(message.by ?? ''), room: message.room });
      return true;
    }
    if (pendingReply === null) return false;
    const session = pendingReply;
    if (replyTypes.has(message.type)) {
      pendingReply = null;
      clearTimeout(pendingTimer);
      const { messageKey, params } = describeServerReply(message);
      system(session, messageKey, params);
      return true;
    }
    if (message.type === 'error' && !message.session) {
      pendingReply = null;
      clearTimeout(pendingTimer);
      system(session, 'chat.system.server_error', { code: String(message.error?.code ?? 'unknown'), message: String(message.error?.message ?? '') }, 'error');
      onEvent('error');
      return true;
    }
    return false;
  }

  return Object.freeze({ submit, deleteOwn, handleChannelText, handleServerMessage });
}
