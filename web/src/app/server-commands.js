// The chat commands answered by the server (rooms and moderation: /join, /list, /who, /whereis,
// /invite, /uninvite, /quit, /kick, /bans, /unban, /whois), shared by private conversations and
// rooms (page runtime). A command becomes one control message; the server's answer — or its
// error — becomes a system line in the conversation that asked. Only one question is open at a
// time: a later one takes over, and an answer later than REPLY_TIMEOUT_MS is no longer
// attributed to anyone.

import { serverCodePattern, serverErrorText } from './server-errors.js';

const failure = (code, params = {}) => Object.freeze({ error: Object.freeze({ code, messageKey: `chat.error.${code}`, params: Object.freeze(params) }) });

const REPLY_TIMEOUT_MS = 15_000;

// Server answers to the room commands.
const replyTypes = new Set(['room_joined', 'room_list', 'room_who', 'user_whereis', 'room_invited', 'room_uninvited', 'room_left',
  'mod_kicked', 'mod_bans', 'mod_unbanned', 'mod_whois']);

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
 * A parsed command (web/src/chat/commands.js) → the control message it sends, a failure
 * ({error}) when it needs a room and there is none, or null when it is not a server command.
 * `room`: the room the command is about when it names none (the conversation's, or the last
 * joined), or null.
 */
export function serverRequestFor(parsed, room) {
  const inRoom = (build) => (room ? build(room) : failure('no_room'));
  switch (parsed.type) {
    case 'join': return parsed.channel ? { type: 'room_join', room: parsed.channel } : { type: 'room_join' };
    case 'list': return { type: 'room_list' };
    case 'who': return parsed.channel ? { type: 'room_who', room: parsed.channel } : inRoom((id) => ({ type: 'room_who', room: id }));
    case 'whereis': return { type: 'user_whereis', user: parsed.user };
    case 'invite': return inRoom((id) => ({ type: 'room_invite', room: id, user: parsed.user }));
    case 'uninvite': return inRoom((id) => ({ type: 'room_uninvite', room: id, user: parsed.user }));
    case 'quit': return inRoom((id) => ({ type: 'room_leave', room: id }));
    case 'kick': return { type: 'mod_kick', user: parsed.user, minutes: parsed.minutes };
    case 'bans': return { type: 'mod_bans' };
    case 'unban': return { type: 'mod_unban', user: parsed.user };
    case 'whois': return { type: 'mod_whois', user: parsed.user };
    default: return null;
  }
}

/**
 * Options: { sendControl(message) → boolean, onError() (the error sound) }.
 * ask(show, message): sends; show(messageKey, params, level) receives the answer's line.
 * handle(message): true when `message` answered the open question (and was shown).
 */
export function createServerCommands({ sendControl, onError = () => {} }) {
  let pending = null;   // show() of the conversation that asked
  let timer = null;

  function settle() {
    const show = pending;
    pending = null;
    clearTimeout(timer);
    return show;
  }

  function ask(show, message) {
    pending = show;
    clearTimeout(timer);
    timer = setTimeout(() => { pending = null; }, REPLY_TIMEOUT_MS);
    timer?.unref?.();
    if (!sendControl(message)) {
      settle();
      return failure('offline');
    }
    return { ok: true };
  }

  function handle(message) {
    if (pending === null) return false;
    if (replyTypes.has(message.type)) {
      const { messageKey, params } = describeServerReply(message);
      settle()(messageKey, params, 'info');
      return true;
    }
    if (message.type === 'error' && !message.session) {
      // The code only, mapped to text (server-errors.js); the server's message is never shown.
      const code = typeof message.error?.code === 'string' && serverCodePattern.test(message.error.code) ? message.error.code : '';
      settle()('chat.system.server_error', { code, reason: serverErrorText(message.error).key }, 'error');
      onError();
      return true;
    }
    return false;
  }

  return Object.freeze({ ask, handle });
}
