// The private conversation inside one secure channel (page runtime): chat lines typed by the
// user (parseChatInput), the envelope codec (web/src/chat/envelope.js) both ways, receipts,
// deletion, nicknames, the ignore list, fair dice between the two peers, and the room/moderation
// commands that go to the server as control messages (their answers become system lines).
// Plaintext stays in page memory (the channel store) and leaves only through channel.send,
// i.e. encrypted by the Worker.

import { parseChatInput } from '../chat/commands.js';
import { createFloodControl, floodError, checkMessageLength } from '../chat/limits.js';
import { encodeEnvelope, decodeEnvelope, newEnvelopeId } from '../chat/envelope.js';
import { createReceiptBatcher } from '../chat/receipt-batcher.js';
import { createContribution, createDiceRoll } from '../chat/dice.js';
import { isIgnored } from '../state/channel-store.js';
import { createServerCommands, serverRequestFor } from './server-commands.js';
import { runLocalCommand } from './local-commands.js';

export { describeServerReply } from './server-commands.js';

const failure = (code, params = {}) => Object.freeze({ error: Object.freeze({ code, messageKey: `chat.error.${code}`, params: Object.freeze(params) }) });

// At most this many dice rolls open at once per conversation: a peer cannot pile up rolls.
const MAX_OPEN_ROLLS = 4;
// Receipts wait this long, so that a burst of messages costs one receipt record, not one each.
const RECEIPT_DELAY_MS = 1000;

/**
 * Options: { channelStore, sealText(session, text) → Promise (channel.send in the Worker),
 * sendControl(message) → boolean (the WebSocket), serverCommands (./server-commands.js, shared
 * with the rooms; made from sendControl when absent), currentRoom() → the room id commands like
 * /invite are about (the last joined) | null, openPrivate(username, {kind, text}?) → result (the
 * conversation with someone else: /query, /msg, /describe), isVisible() → boolean, onEvent(kind) (sounds,
 * notifications: 'private' | 'error'), now() }.
 */
export function createPrivateChat({
  channelStore, sealText, sendControl, serverCommands = createServerCommands({ sendControl }), currentRoom: roomOf = null, openPrivate = null,
  isVisible = () => true, onEvent = () => {}, now = () => Date.now(), receiptDelayMs = RECEIPT_DELAY_MS,
}) {
  const flood = createFloodControl({ now });
  const receipts = createReceiptBatcher({
    delayMs: receiptDelayMs,
    send: (session, targets) => { if (live(session)) sendEnvelope(session, { kind: 'receipt', targets }).catch(() => {}); },
  });
  const rolls = new Map();   // rollId → { session, roll, mine, spec, by, revealed }
  let lastJoined = null;   // without roomOf: the room of the last room_joined
  const currentRoom = () => (roomOf ? roomOf() : lastJoined);

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
    return serverCommands.ask((messageKey, params, level) => {
      system(session, messageKey, params, level);
      if (level === 'error') onEvent('error');
    }, message);
  }

  const openRolls = (session) => [...rolls.values()].filter((entry) => entry.session === session).length;

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
      case 'msg': {
        const kind = parsed.type === 'describe' ? 'action' : 'message';
        if (parsed.user.toLowerCase() === peer.toLowerCase()) return sendChat(session, kind, parsed.text);
        return openPrivate ? openPrivate(parsed.user, { kind, text: parsed.text }) : failure('not_this_peer', { user: parsed.user });
      }
      case 'query':
        if (parsed.user.toLowerCase() === peer.toLowerCase()) return { ok: true };
        return openPrivate ? openPrivate(parsed.user) : failure('not_this_peer', { user: parsed.user });
      case 'clear': case 'help': case 'ignore_list': case 'ignore':
        return runLocalCommand(parsed, {
          say: (messageKey, params, level) => system(session, messageKey, params, level),
          clear: () => channelStore.clearMessages(session),
          ignored: () => channelStore.get().ignored,
          toggleIgnore: (username) => channelStore.toggleIgnore(username),
        });
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
      case 'join': case 'list': case 'who': case 'whereis': case 'invite': case 'uninvite': case 'quit':
      case 'kick': case 'bans': case 'unban': case 'whois': {
        const request = serverRequestFor(parsed, currentRoom());
        return request.error ? request : control(session, request);
      }
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
        receipts.queue(session, envelope.id);
        if (!isIgnored(channelStore.get(), channel)) onEvent('private');
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
    if (message.type === 'room_joined' && typeof message.room === 'string') lastJoined = message.room;
    if (message.type === 'room_left' && message.room === lastJoined) lastJoined = null;
    const selected = channelStore.get().selected;
    if (message.type === 'room_invitation' && selected && typeof message.room === 'string') {
      // Shown, not acted on: joining stays the user's decision (/join <room>).
      system(selected, 'chat.system.room_invitation', { by: String(message.by ?? ''), room: message.room });
      return true;
    }
    return serverCommands.handle(message);
  }

  /** A line for `session` that did not come from its own input (/msg typed elsewhere). */
  async function sendLine(session, kind, text) {
    if (!live(session)) return failure('not_secure');
    return sendChat(session, kind === 'action' ? 'action' : 'message', text);
  }

  return Object.freeze({ submit, sendLine, deleteOwn, handleChannelText, handleServerMessage });
}
