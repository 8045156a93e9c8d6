// The chat commands answered in the page alone, the same in a private conversation and in a
// room: /clear, /help, /ignore (listing or toggling; the list is shared by all conversations).

/**
 * Runs `parsed` (web/src/chat/commands.js) if it is a local command: { ok: true }, else null.
 * conversation: { say(messageKey, params, level) (a system line), clear(), ignored() → [usernames],
 * toggleIgnore(username) → true when now ignored }.
 */
export function runLocalCommand(parsed, { say, clear, ignored, toggleIgnore }) {
  switch (parsed.type) {
    case 'clear':
      clear();
      return { ok: true };
    case 'help':
      say('chat.system.help', { command: parsed.command ?? '' }, 'help');
      return { ok: true };
    case 'ignore_list': {
      const list = ignored();
      say(list.length ? 'chat.system.ignore_list' : 'chat.system.ignore_list_empty', { users: list.join(', ') }, 'info');
      return { ok: true };
    }
    case 'ignore':
      say(toggleIgnore(parsed.user) ? 'chat.system.ignored' : 'chat.system.unignored', { user: parsed.user }, 'info');
      return { ok: true };
    default:
      return null;
  }
}
