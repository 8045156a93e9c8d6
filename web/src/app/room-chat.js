// Chat rooms (page runtime): the server's room events (membership, never content) into the room
// store and to the crypto Worker (which rotates and hands out sender keys over the pairwise
// secure channels), the lines typed in a room (commands, messages) sealed by the Worker under
// this user's sender key and sent as room frames, and the decrypted lines the Worker hands back
// (envelopes: messages, receipts, deletions, nicknames, dice). docs/api.md "Chat rooms",
// docs/protocol.md "Room messages".
//
// Room frames go out one at a time per room: the server numbers nothing itself, it checks that
// each frame has the next sequence number and answers room_sent; a refused frame keeps its
// number and is sent again after the server's retry_after (flood) or dropped with an error line.

import { isUsername, parseChatInput } from '../chat/commands.js';
import { createFloodControl, floodError, checkMessageLength } from '../chat/limits.js';
import { encodeEnvelope, decodeEnvelope, newEnvelopeId } from '../chat/envelope.js';
import { createReceiptBatcher } from '../chat/receipt-batcher.js';
import { createContribution, createDiceRoll } from '../chat/dice.js';
import { encodeRoomFrame, RoomFrameType } from '../crypto/room-frame.js';
import { canModerate } from '../state/room-store.js';
import { serverRequestFor } from './server-commands.js';
import { runLocalCommand } from './local-commands.js';
import { viewFromChange } from './room-deltas.js';

const failure = (code, params = {}) => Object.freeze({ error: Object.freeze({ code, messageKey: `chat.error.${code}`, params: Object.freeze(params) }) });

const RECEIPT_DELAY_MS = 3000;     // one receipt per room and burst: receipts share the control flood limit
const SENT_TIMEOUT_MS = 15_000;    // no room_sent by then: the frame is given up
const MAX_QUEUED_FRAMES = 64;
const MAX_OPEN_ROLLS = 4;
const ROLL_TIMEOUT_MS = 65_000;
const frameErrors = new Set(['flood_limited', 'message_too_long', 'out_of_order', 'not_a_member', 'banned', 'room_not_found', 'bad_frame']);
const controlKinds = new Set(['delete', 'receipt', 'nick', 'roll_commit', 'roll_reveal']);
const departures = new Set(['left', 'removed', 'kicked']);

/**
 * Options: { roomStore, ask(type, payload, options) → Promise (the crypto Worker), sendControl(message)
 * → boolean, sendBinary(ArrayBuffer) → boolean, serverCommands, self() → own username,
 * isIgnored(username) → boolean, toggleIgnore(username) → boolean, ignoredList() → [usernames],
 * ensureChannel(username) (ask for a pairwise secure channel), openPrivate(username, {kind, text}?)
 * (/query, /msg, /describe), isVisible() → boolean, onEvent(kind) ('message' | 'join' | 'leave' |
 * 'error'), onRefused({code, message}) (a join asked from the room list was refused), now() }.
 */
export function createRoomChat({
  roomStore, ask, sendControl, sendBinary, serverCommands, self, isIgnored = () => false, toggleIgnore = () => false,
  ignoredList = () => [], ensureChannel = () => {}, openPrivate = () => failure('offline'), isVisible = () => true,
  onEvent = () => {}, onRefused = () => {}, now = () => Date.now(), receiptDelayMs = RECEIPT_DELAY_MS,
}) {
  // One flood window for all rooms, like the server's; its size follows the server's limits.
  let flood = createFloodControl({ now });
  let floodSize = null;
  function adoptLimits(limits) {
    if (!limits || limits.floodPerMinute === floodSize) return;
    floodSize = limits.floodPerMinute;
    flood = createFloodControl({ now, maxMessages: floodSize });
  }
  const outbound = new Map();   // room → { sequence, queue: [{frame, frameType}], inFlight, timer }
  // One receipt per room and burst: receipts share the control flood limit.
  const receipts = createReceiptBatcher({
    delayMs: receiptDelayMs,
    send: (room, targets) => { if (joinedRoom(room)) sendEnvelope(room, { kind: 'receipt', targets }).catch(() => {}); },
  });
  const rolls = new Map();      // rollId → { room, roll, mine, spec, by, revealed, timer, sentCommit }
  let lastJoined = null;

  const system = (room, messageKey, params = {}, level = 'info') => roomStore.addSystem(room, { messageKey, params, level });
  const joinedRoom = (room) => (roomStore.find(room)?.joined ? roomStore.find(room) : null);
  const displayName = (room, user) => {
    const nicks = roomStore.find(room)?.nicks;
    const nick = nicks && Object.hasOwn(nicks, user) ? nicks[user] : null;
    return typeof nick === 'string' && nick && nick !== user ? `${nick} (${user})` : user;
  };

  // --- outbound frames ----------------------------------------------------------------------

  function lane(room) {
    let entry = outbound.get(room);
    if (!entry) {
      entry = { sequence: 0, queue: [], inFlight: null, timer: null };
      outbound.set(room, entry);
    }
    return entry;
  }

  function pump(room) {
    const entry = outbound.get(room);
    if (!entry || entry.inFlight || entry.queue.length === 0) return;
    const item = entry.queue.shift();
    const frame = encodeRoomFrame({ frameType: item.frameType, room, sequence: entry.sequence, body: item.body });
    entry.inFlight = item;
    entry.timer = setTimeout(() => giveUp(room, 'timeout'), SENT_TIMEOUT_MS);
    entry.timer?.unref?.();
    if (!sendBinary(frame.buffer)) giveUp(room, 'offline');
  }

  function giveUp(room, code) {
    const entry = outbound.get(room);
    if (!entry?.inFlight) return;
    clearTimeout(entry.timer);
    entry.inFlight = null;
    system(room, 'chat.system.room_frame_refused', { code }, 'error');
    onEvent('error');
    pump(room);
  }

  /** Seals `fields` as an envelope under this user's sender key and queues its frame. */
  async function sendEnvelope(room, fields) {
    const id = fields.id ?? newEnvelopeId();
    const frameType = controlKinds.has(fields.kind) ? RoomFrameType.control : RoomFrameType.message;
    const entry = lane(room);
    if (entry.queue.length >= MAX_QUEUED_FRAMES) throw Object.assign(new Error('room queue full'), { code: 'busy' });
    const sealed = await ask('room.seal', { room, frameType, text: encodeEnvelope({ ...fields, id }) });
    roomStore.setWaitingFor(room, sealed.waitingFor);
    entry.queue.push({ frameType, body: new Uint8Array(sealed.body) });
    pump(room);
    return { id, waitingFor: sealed.waitingFor ?? [] };
  }

  function onSent(message) {
    const entry = outbound.get(message.room);
    if (!entry?.inFlight || message.sequence !== entry.sequence) return;
    clearTimeout(entry.timer);
    entry.inFlight = null;
    entry.sequence += 1;
    pump(message.room);
  }

  function onFrameError(message) {
    const entry = outbound.get(message.room);
    const code = message.error?.code;
    if (!entry?.inFlight || !frameErrors.has(code)) return false;
    clearTimeout(entry.timer);
    if (code === 'flood_limited') {
      // Same frame, same number, after the wait the server named.
      const seconds = Math.min(120, Math.max(1, Number(message.error.retry_after) || 1));
      system(message.room, 'chat.system.room_flood_wait', { seconds }, 'error');
      entry.timer = setTimeout(() => {
        const item = entry.inFlight;
        entry.inFlight = null;
        if (item) entry.queue.unshift(item);
        pump(message.room);
      }, seconds * 1000);
      entry.timer?.unref?.();
      return true;
    }
    entry.inFlight = null;
    system(message.room, 'chat.system.room_frame_refused', { code }, 'error');
    onEvent('error');
    pump(message.room);
    return true;
  }

  function resetLane(room) {
    const entry = outbound.get(room);
    if (entry) clearTimeout(entry.timer);
    outbound.delete(room);
  }

  // --- membership ---------------------------------------------------------------------------

  // Removed members the Worker keeps out because they came back without a visible join: said once.
  const notReadmittedSaid = new Set();   // room + user

  /**
   * The member list to the Worker. `readmit`: users whose join this page just showed ("bob
   * joined"); only they may come back after a removal (sender-keys.js), a removed member who
   * merely reappears in a full list gets no key.
   */
  async function tellWorker(room, members, removed = [], readmit = []) {
    try {
      const result = await ask('room.members', { room, members: [...members], removed: [...removed], readmit: [...readmit] });
      roomStore.setWaitingFor(room, result.waitingFor);
      for (const user of readmit) notReadmittedSaid.delete(`${room} ${user}`);
      const fresh = (result.notReadmitted ?? []).filter((user) => !notReadmittedSaid.has(`${room} ${user}`));
      for (const user of fresh) notReadmittedSaid.add(`${room} ${user}`);
      if (fresh.length) system(room, 'chat.system.room_not_readmitted', { users: fresh.join(', ') }, 'error');
    } catch {
      // The Worker has no identity (yet): the room works once it has one (distribute).
    }
    for (const member of members) if (member !== self()) ensureChannel(member);
  }

  /**
   * Applies a room view (room_joined, room_who, room_members, or a change turned into one) and
   * shows a line for every member it adds or drops compared with the list shown so far, whatever
   * message carried it: the server cannot put a user into a room — and so into its key
   * distribution and the channel offers of remembered contacts — without the user seeing it.
   * `user`/`event`: the member a change names and what happened to them (removed, kicked).
   * → { entry, arrived, gone } (entry null when the view was refused).
   */
  function applyMembers(message, { select = false, user = '', event = null } = {}) {
    const previous = roomStore.find(message.room);
    // The list shown so far: the room's while joined, or before a dropped connection (the
    // rejoin after reconnecting shows what changed meanwhile); none for a fresh join.
    const before = previous && (previous.joined || previous.endReason === 'connection_lost') ? previous.members : null;
    const entry = roomStore.applyView(message, { select });
    if (!entry || before === null) return { entry, arrived: [], gone: [] };
    const was = new Set(before);
    const is = new Set(entry.members);
    const arrived = entry.members.filter((member) => !was.has(member) && member !== self());
    // A join the server announces is shown even for a member already listed: it is the line
    // that lets the Worker take a removed member back (readmit, docs/protocol.md).
    if (event === 'joined' && user && user !== self() && is.has(user) && !arrived.includes(user)) arrived.push(user);
    const gone = before.filter((member) => !is.has(member) && member !== self());
    for (const member of arrived) system(entry.room, 'chat.system.member_joined', { user: displayName(entry.room, member) });
    for (const member of gone) {
      const how = member === user && departures.has(event) ? event : 'left';
      system(entry.room, `chat.system.member_${how}`, { user: displayName(entry.room, member) });
    }
    if (arrived.length) onEvent('join');
    else if (gone.length) onEvent('leave');
    return { entry, arrived, gone };
  }

  function joined(message) {
    const wasJoined = Boolean(joinedRoom(message.room));
    const { entry } = applyMembers(message, { select: true });
    if (!entry) return;
    lastJoined = entry.room;
    adoptLimits(entry.limits);
    if (!wasJoined) {
      resetLane(entry.room);   // the server starts this connection's sequence again at 0
      system(entry.room, 'chat.system.room_entered', { room: entry.name ?? entry.room });
    }
    tellWorker(entry.room, entry.members);
  }

  function left(room, reason) {
    if (!roomStore.find(room)) return;
    roomStore.ended(room, reason);
    resetLane(room);
    ask('room.leave', { room }).catch(() => {});
    if (lastJoined === room) lastJoined = null;
    for (const [rollId, roll] of rolls) if (roll.room === room) dropRoll(rollId);
  }

  // This user is out of the room (the server says so twice on /quit: room_left and room_members).
  function depart(room, event, name) {
    if (!joinedRoom(room)) return;
    system(room, `chat.system.you_${event}`, { room: name ?? room }, event === 'left' ? 'info' : 'error');
    left(room, event);
  }

  function membersChanged(message) {
    const room = message.room;
    // The member a change names is server text shown to the user and handed to the Worker: a
    // name that is not a username (docs/api.md) makes the whole message void.
    if (message.user !== undefined && !isUsername(message.user)) return;
    const user = message.user ?? '';
    if (user === self() && departures.has(message.event)) {
      depart(room, message.event, message.name);
      return;
    }
    if (!joinedRoom(room)) return;
    const { entry, arrived } = applyMembers(message, { user, event: message.event });
    if (!entry) return;
    // Only a join the server announced as such takes a removed member back (docs/protocol.md).
    const shownJoin = message.event === 'joined' && arrived.includes(user) ? [user] : [];
    tellWorker(room, entry.members, message.event === 'removed' || message.event === 'kicked' ? [user] : [], shownJoin);
  }

  /** A channel became secure: the Worker hands out the current keys the channel lets it. */
  async function distribute() {
    try {
      const result = await ask('room.distribute', {});
      for (const entry of result.rooms ?? []) roomStore.setWaitingFor(entry.room, entry.waitingFor);
    } catch {
      // No identity yet.
    }
  }

  // --- dice among the members ---------------------------------------------------------------

  // Rolls over (done or failed) are remembered for a while, so a late commitment cannot start them again.
  // An aborted roll must stay over (dice.js: a restart would let the aborter pick between
  // outcomes), so ids are kept for the page's session, up to 4096 of them.
  const closedRolls = new Set();

  function dropRoll(rollId) {
    clearTimeout(rolls.get(rollId)?.timer);
    rolls.delete(rollId);
    closedRolls.add(rollId);
    if (closedRolls.size > 4096) closedRolls.delete(closedRolls.values().next().value);
  }

  async function startRoll(room, { rollId, spec, participants, by }) {
    const roll = createDiceRoll({ rollId, spec, participants, startedAt: now() });
    const mine = await createContribution({ rollId, participant: self(), spec });
    roll.addCommitment({ participant: self(), commitment: mine.commitment }, now());
    const entry = { room, roll, mine, spec, by, participants, revealed: false, sentCommit: false, timer: null };
    rolls.set(rollId, entry);
    entry.timer = setTimeout(() => finishRoll(rollId, true).catch(() => {}), ROLL_TIMEOUT_MS);
    entry.timer?.unref?.();
    return entry;
  }

  function rollFailed(rollId, error, params = {}) {
    const entry = rolls.get(rollId);
    dropRoll(rollId);
    if (!entry) return;
    const spec = `${entry.spec.count}d${entry.spec.sides}`;
    const names = (list) => list.map((name) => displayName(entry.room, name)).join(', ');
    // Named as aborting only on proof: a reveal of theirs that arrived, under their room key, and
    // that their own commitment disproves.
    const abortedBy = entry.roll.abortedBy?.();
    if (abortedBy?.length) {
      system(entry.room, 'chat.roll.aborted', { spec, names: names(abortedBy) }, 'error');
      return;
    }
    // A reveal that did not arrive (or arrived late) proves nothing: the relay may have withheld
    // it from this member only, while the others complete the roll.
    const notReceived = entry.roll.notReceivedFrom?.();
    if (notReceived?.length) {
      system(entry.room, 'chat.roll.incomplete', { spec, names: names(notReceived) }, 'error');
      return;
    }
    system(entry.room, 'chat.roll.failed', { reason: error.messageKey, ...error.params, ...params }, 'error');
  }

  async function revealIfReady(rollId) {
    const entry = rolls.get(rollId);
    if (!entry || entry.revealed || entry.roll.phase() !== 'revealing') return;
    entry.revealed = true;
    const commitSet = await entry.roll.commitSet();
    const { nonce, contribution } = entry.mine;
    await entry.roll.addReveal({ participant: self(), nonce, contribution, commitSet }, now());
    await sendEnvelope(entry.room, { kind: 'roll_reveal', roll: rollId, nonce, contribution, commitSet });
  }

  async function finishRoll(rollId, timedOut = false) {
    const entry = rolls.get(rollId);
    if (!entry || (!timedOut && entry.roll.phase() === 'committing')) return;
    const result = await entry.roll.result(timedOut ? Infinity : now());
    if (result.pending) return;
    if (result.error) {
      rollFailed(rollId, result.error);
      return;
    }
    dropRoll(rollId);
    roomStore.addSystem(entry.room, {
      messageKey: 'chat.roll.result_room',
      params: { name: displayName(entry.room, entry.by), spec: `${entry.spec.count}d${entry.spec.sides}`, dice: result.dice.join(' + '), total: result.total },
      level: 'roll',
      text: result.dice.join(','),
    });
  }

  async function onRollCommit(room, from, envelope) {
    let entry = rolls.get(envelope.roll);
    if (!entry) {
      if (closedRolls.has(envelope.roll)) return;
      const members = joinedRoom(room)?.members ?? [];
      const participants = envelope.participants ?? [];
      // A roll is for the members present: every participant must be one, this user included.
      if (!participants.includes(self()) || !participants.includes(from) || !participants.every((name) => members.includes(name))) return;
      if ([...rolls.values()].filter((roll) => roll.room === room).length >= MAX_OPEN_ROLLS) return;
      entry = await startRoll(room, { rollId: envelope.roll, spec: { count: envelope.count, sides: envelope.sides }, participants, by: from });
    }
    if (entry.room !== room) return;
    if (!entry.sentCommit) {
      entry.sentCommit = true;
      await sendEnvelope(room, { kind: 'roll_commit', roll: envelope.roll, count: entry.spec.count, sides: entry.spec.sides, commitment: entry.mine.commitment, participants: entry.participants });
    }
    if (envelope.count !== entry.spec.count || envelope.sides !== entry.spec.sides) {
      rollFailed(envelope.roll, { messageKey: 'chat.dice.error.malformed', params: {} }, { participant: from });
      return;
    }
    const added = entry.roll.addCommitment({ participant: from, commitment: envelope.commitment }, now());
    if (added.error) {
      rollFailed(envelope.roll, added.error);
      return;
    }
    await revealIfReady(envelope.roll);
    await finishRoll(envelope.roll);
  }

  async function onRollReveal(room, from, envelope) {
    const entry = rolls.get(envelope.roll);
    if (!entry || entry.room !== room) return;
    const added = await entry.roll.addReveal({ participant: from, nonce: envelope.nonce, contribution: envelope.contribution, commitSet: envelope.commitSet }, now());
    if (added.error) {
      rollFailed(envelope.roll, added.error, { participant: from });
      onEvent('error');
      return;
    }
    await revealIfReady(envelope.roll);
    await finishRoll(envelope.roll);
  }

  // --- the input line -----------------------------------------------------------------------

  async function sendChat(room, kind, text) {
    const tooLong = checkMessageLength(text, { maxLength: joinedRoom(room).limits.maxMessageChars });
    if (tooLong) return tooLong;
    const refused = floodError(flood.tryConsume());
    if (refused) return refused;
    const entry = joinedRoom(room);
    const recipients = entry.members.filter((member) => member !== self());
    const { id, waitingFor } = await sendEnvelope(room, { kind, text });
    roomStore.addMessage(room, { from: 'me', user: self(), kind, text, key: id, recipients });
    if (waitingFor.length) system(room, 'chat.system.not_readable_by', { users: waitingFor.join(', ') }, 'error');
    return { ok: true };
  }

  function serverCommand(room, request) {
    if (request.error) return request;
    return serverCommands.ask((messageKey, params, level) => {
      system(room, messageKey, params, level);
    }, request);
  }

  /** One line typed in room `room`: { ok } or { error } (shown at the input, nothing sent). */
  async function submit(room, line) {
    if (!joinedRoom(room)) return failure('not_in_room');
    const parsed = parseChatInput(line);
    if (parsed.error) return parsed;
    switch (parsed.type) {
      case 'message':
      case 'action':
        return sendChat(room, parsed.type, parsed.text);
      case 'msg':
        return openPrivate(parsed.user, { kind: 'message', text: parsed.text });
      case 'describe':
        return openPrivate(parsed.user, { kind: 'action', text: parsed.text });
      case 'query':
        return openPrivate(parsed.user);
      case 'clear': case 'help': case 'ignore_list': case 'ignore':
        return runLocalCommand(parsed, {
          say: (messageKey, params, level) => system(room, messageKey, params, level),
          clear: () => roomStore.clearMessages(room),
          ignored: ignoredList,
          toggleIgnore,
        });
      case 'nick':
        await sendEnvelope(room, { kind: 'nick', name: parsed.name });
        roomStore.setNick(room, self(), parsed.name);
        system(room, 'chat.system.nick_me', { name: parsed.name });
        return { ok: true };
      case 'roll': {
        const members = joinedRoom(room).members;
        if (members.length < 2) return failure('roll_alone');
        if ([...rolls.values()].filter((roll) => roll.room === room).length >= MAX_OPEN_ROLLS) return failure('roll_busy');
        const refused = floodError(flood.tryConsume());
        if (refused) return refused;
        const spec = { count: parsed.count, sides: parsed.sides };
        const rollId = newEnvelopeId();
        const entry = await startRoll(room, { rollId, spec, participants: [...members], by: self() });
        entry.sentCommit = true;
        await sendEnvelope(room, { kind: 'roll_commit', roll: rollId, ...spec, commitment: entry.mine.commitment, participants: entry.participants });
        system(room, 'chat.roll.started', { spec: `${spec.count}d${spec.sides}` });
        return { ok: true };
      }
      default:
        return serverCommand(room, serverRequestFor(parsed, room) ?? failure('unknown_command', { command: parsed.type }));
    }
  }

  /** Withdraws a line: this user's own, or anyone's when this user moderates the room. */
  async function deleteMessage(room, key) {
    const entry = joinedRoom(room);
    const author = roomStore.authorOf(room, key);
    if (!entry || !author || (author !== self() && !canModerate(entry, self()))) return false;
    await sendEnvelope(room, { kind: 'delete', target: key });
    return roomStore.deleteMessage(room, key, author, self());
  }

  // --- inbound ------------------------------------------------------------------------------

  // Lines are handled one at a time, in arrival order: a dice step depends on the ones before it.
  let inbound = Promise.resolve();

  /** A line the Worker decrypted and authenticated as `from`'s (event room.message). */
  function handleRoomText(line) {
    const run = inbound.then(() => handleRoomLine(line));
    inbound = run.catch(() => {});
    return run;
  }

  async function handleRoomLine({ room, from, frameType, text }) {
    const entry = joinedRoom(room);
    const envelope = decodeEnvelope(text);
    if (!entry || !envelope || from === self() || typeof from !== 'string') return;
    // Lines travel as type 3 (flood-limited by the server), everything else as type 4.
    if ((frameType === RoomFrameType.control) !== controlKinds.has(envelope.kind)) return;
    switch (envelope.kind) {
      case 'message':
      case 'action': {
        const ignored = isIgnored(from);
        const added = roomStore.addMessage(room, { from: 'peer', user: from, kind: envelope.kind, text: envelope.text, key: envelope.id, seen: isVisible(), ignored });
        if (!added) return;
        receipts.queue(room, envelope.id);
        if (!ignored) onEvent('message');
        return;
      }
      case 'receipt':
        roomStore.markDelivered(room, envelope.targets, from);
        return;
      case 'delete': {
        // Honoured when signed by the line's author, or by a moderator of this room.
        const author = roomStore.authorOf(room, envelope.target);
        if (author && (author === from || canModerate(entry, from))) roomStore.deleteMessage(room, envelope.target, author, from);
        return;
      }
      case 'nick':
        roomStore.setNick(room, from, envelope.name);
        system(room, 'chat.system.nick_peer', { user: from, name: envelope.name });
        return;
      case 'roll_commit':
        await onRollCommit(room, from, envelope);
        return;
      case 'roll_reveal':
        await onRollReveal(room, from, envelope);
        return;
      default:
    }
  }

  /**
   * A server control message. Membership events update the rooms whatever else handles them;
   * returns true only for messages that are this module's alone (room_members, room_sent, the
   * refusal of a frame, invitations are shown by the caller too).
   */
  function handleServerMessage(message) {
    switch (message.type) {
      case 'room_joined':
        joined(message);
        return false;
      case 'room_who':
        if (joinedRoom(message.room)) {
          const { entry, arrived, gone } = applyMembers(message);
          if (entry && (arrived.length || gone.length)) tellWorker(entry.room, entry.members);
        }
        return false;
      case 'room_left':
        depart(message.room, 'left', message.name);
        return false;
      case 'room_members':
        membersChanged(message);
        return true;
      case 'room_member_joined':
      case 'room_member_left': {
        // A change alone: applied to the room's current list, as if the list had come.
        const view = viewFromChange(roomStore.find(message.room), message);
        if (view) membersChanged(view);
        return true;
      }
      case 'hello':
        for (const entry of roomStore.get().rooms) {
          if (!entry.joined && entry.endReason === 'connection_lost') sendControl({ type: 'room_join', room: entry.room });
        }
        return false;
      case 'room_sent':
        onSent(message);
        return true;
      case 'room_invitation':
        roomStore.addInvitation({ room: message.room, by: message.by });
        return false;
      case 'room_banned': {
        const target = roomStore.get().selected;
        if (target && Number.isFinite(message.until)) {
          system(target, 'chat.system.you_banned', { by: String(message.by ?? ''), until: new Date(message.until * 1000).toLocaleString() }, 'error');
        }
        return true;
      }
      case 'error':
        return typeof message.room === 'string' && onFrameError(message);
      default:
        return false;
    }
  }

  /**
   * The join form, an invitation or "new private room" (room: a name, a room id, or null for a
   * new private room). Refusals (bad name, banned, not invited) come back through onRefused.
   */
  function join(room) {
    let request = { type: 'room_join' };
    if (room) {
      const parsed = parseChatInput(`/join ${room}`);
      if (parsed.error) return parsed;
      request = { type: 'room_join', room: parsed.channel };
    }
    return serverCommands.ask((messageKey, params, level) => {
      if (level === 'error') onRefused({ code: params.code });
    }, request);
  }

  // The server forgets a user's rooms with their last connection: the Worker forgets their keys
  // too, and the rooms are joined again when the socket is back (hello), with fresh keys.
  function connectionLost() {
    for (const entry of roomStore.get().rooms) if (entry.joined) ask('room.leave', { room: entry.room }).catch(() => {});
    for (const room of [...outbound.keys()]) resetLane(room);
    for (const rollId of [...rolls.keys()]) dropRoll(rollId);
    receipts.clear();
    roomStore.connectionLost();
    lastJoined = null;
  }

  // A line the Worker could not open is said once a minute per room and reason, not per frame
  // (another tab of this user sends under a key this tab never gets: "unknown_key" each time).
  const undecryptableSaid = new Map();   // room + reason → when
  const UNDECRYPTABLE_QUIET_MS = 60_000;

  function undecryptable({ room, reason, from, count }) {
    if (!joinedRoom(room) || typeof reason !== 'string') return;
    const sender = typeof from === 'string' ? from : null;
    // A counter gap is said each time, once, with its size: it is about lines, not one bad frame.
    if (reason === 'missing' && sender && Number.isSafeInteger(count) && count > 0) {
      system(room, 'chat.system.room_lines_missing', { count, name: displayName(room, sender) }, 'error');
      return;
    }
    const byReason = { foreign_key: 'chat.system.room_key_refused', bad_key_id: 'chat.system.room_key_refused', old_version: 'chat.system.room_old_version' };
    if (byReason[reason] && sender) {
      const key = `${room} ${reason} ${sender}`;
      const said = undecryptableSaid.get(key);
      if (said !== undefined && now() - said < UNDECRYPTABLE_QUIET_MS) return;
      undecryptableSaid.set(key, now());
      system(room, byReason[reason], { name: displayName(room, sender) }, 'error');
      return;
    }
    const key = `${room} ${reason}`;
    const said = undecryptableSaid.get(key);
    if (said !== undefined && now() - said < UNDECRYPTABLE_QUIET_MS) return;
    undecryptableSaid.set(key, now());
    system(room, 'chat.system.room_undecryptable', { reason: reason.slice(0, 40) }, 'error');
  }

  /** A new identity in the Worker (its rooms were forgotten with the old one): tell it the rooms again. */
  function identityChanged() {
    for (const entry of roomStore.get().rooms) if (entry.joined) tellWorker(entry.room, entry.members);
  }

  return Object.freeze({
    submit, deleteMessage, handleRoomText, handleServerMessage, distribute, connectionLost, identityChanged, undecryptable,
    join,
    leave: (room) => (joinedRoom(room) ? sendControl({ type: 'room_leave', room }) : false),
    /** The room commands typed elsewhere are about: the selected room, else the last joined. */
    currentRoom: () => (joinedRoom(roomStore.get().selected) ? roomStore.get().selected : lastJoined),
  });
}
