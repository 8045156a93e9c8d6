// The chat input line → a typed action. Pure: the Chat tab calls parseChatInput() on submit and
// acts on the result; nothing here talks to the network or touches the DOM.
//
// Commands are AJAX Chat's set (https://github.com/Frug/AJAX-Chat, lib/class/AJAXChat.php,
// parseCommandRequest) with the same names and argument shapes, so users of that chat find them.
// Rules:
//   - A line is a command only when its very first character is "/" (no leading space is
//     trimmed: "  /quit" is a message, like in AJAX Chat). "//text" sends the message "/text".
//   - Command names are case-insensitive; arguments are separated by spaces or tabs; a text
//     argument is the rest of the line, its inner spacing kept.
//   - Too many arguments is an error, not silently ignored: a mistyped "/kick bob 5 min" should
//     not ban for the default time.
//   - Usernames follow the account rule (docs/api.md): 3–32 ASCII letters, digits, '.', '_',
//     '-', starting with a letter or digit — anything else cannot be an account.
//   - Channel names (decision): 1–32 ASCII letters, digits, '-' and '_'. ASCII only, so a
//     channel cannot impersonate another with look-alike letters or carry bidi controls; no
//     '.', so a channel name is never mistaken for a username or a host name.
// Errors are values, `{ error: { code, messageKey, params } }` with messageKey = 'chat.error.' +
// code, so the UI shows t(messageKey, params). Moderator commands carry
// `requiresRole: 'moderator'` so the UI can refuse early; the server enforces it regardless.

import { excerpt } from './text.js';

export const usernamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;
/** A username as the server allows it (docs/api.md); the one check for names the server sends too. */
export const isUsername = (value) => typeof value === 'string' && usernamePattern.test(value);
export const channelPattern = /^[A-Za-z0-9_-]{1,32}$/;

export const rollLimits = Object.freeze({ minCount: 1, maxCount: 20, minSides: 2, maxSides: 1000, defaultCount: 1, defaultSides: 6 });
// AJAX Chat's default ban time is 5 minutes; a week is the longest a moderator's kick lasts
// (a longer exclusion is an administrator's decision, not a chat command).
export const kickLimits = Object.freeze({ minMinutes: 1, maxMinutes: 10080, defaultMinutes: 5 });

export const ChatCommandError = Object.freeze({
  emptyMessage: 'empty_message',
  emptyCommand: 'empty_command',
  unknownCommand: 'unknown_command',
  missingUser: 'missing_user',
  missingText: 'missing_text',
  invalidUser: 'invalid_user',
  invalidNick: 'invalid_nick',
  invalidChannel: 'invalid_channel',
  tooManyArguments: 'too_many_arguments',
  invalidRoll: 'invalid_roll',
  rollCountOutOfRange: 'roll_count_out_of_range',
  rollSidesOutOfRange: 'roll_sides_out_of_range',
  invalidMinutes: 'invalid_minutes',
});

function failure(code, params = {}) {
  return Object.freeze({ error: Object.freeze({ code, messageKey: `chat.error.${code}`, params: Object.freeze(params) }) });
}

function ok(result) {
  return Object.freeze(result);
}

// One row per command: the argument shape, the usage line /help shows, and the description key.
// `aliases` map to the same result type (AJAX Chat has /me and /action).
const definitions = [
  ['query', '<user>', 'user'],
  ['msg', '<user> <text>', 'user+text'],
  ['join', '[channel]', 'channel?'],
  ['invite', '<user>', 'user'],
  ['uninvite', '<user>', 'user'],
  ['quit', '', 'none'],
  ['list', '', 'none'],
  ['who', '[channel]', 'channel?'],
  ['whereis', '<user>', 'user'],
  ['me', '<text>', 'text'],
  ['action', '<text>', 'text'],
  ['describe', '<user> <text>', 'user+text'],
  ['roll', '[N]d[S]', 'roll'],
  ['nick', '<name>', 'nick'],
  ['ignore', '[user]', 'user?'],
  ['clear', '', 'none'],
  ['help', '[command]', 'help'],
  ['kick', '<user> [minutes]', 'kick', 'moderator'],
  ['bans', '', 'none', 'moderator'],
  ['unban', '<user>', 'user', 'moderator'],
  ['whois', '<user>', 'user', 'moderator'],
];

/** [{ name, usage: '/msg <user> <text>', descriptionKey, requiresRole? }] in /help order. */
export const chatCommands = Object.freeze(definitions.map(([name, args, , role]) => Object.freeze({
  name,
  usage: args ? `/${name} ${args}` : `/${name}`,
  descriptionKey: `chat.help.${name}`,
  ...(role ? { requiresRole: role } : {}),
})));

const byName = new Map(definitions.map(([name, args, shape, role]) => [name, { name, args, shape, role }]));

/** Splits off the first whitespace-separated word: [word, rest] (rest keeps its inner spacing). */
function splitWord(text) {
  const match = /^([^ \t]+)(?:[ \t]+([\s\S]*))?$/.exec(text);
  return match ? [match[1], match[2] ?? ''] : ['', ''];
}

function words(text) {
  return text.split(/[ \t]+/).filter(Boolean);
}

function usageOf(definition) {
  return definition.args ? `/${definition.name} ${definition.args}` : `/${definition.name}`;
}

function checkUser(user) {
  return usernamePattern.test(user) ? null : failure(ChatCommandError.invalidUser, { user: excerpt(user) });
}

function checkChannel(channel) {
  return channelPattern.test(channel) ? null : failure(ChatCommandError.invalidChannel, { channel: excerpt(channel) });
}

function tooMany(definition) {
  return failure(ChatCommandError.tooManyArguments, { command: definition.name, usage: usageOf(definition) });
}

/** "/roll" argument: [N]d[S], each part optional (AJAX Chat: "/roll 2d6"), defaults 1d6. */
export function parseRollSpec(text) {
  const match = /^(\d*)[dD](\d*)$/.exec(text);
  if (!match) return failure(ChatCommandError.invalidRoll, { spec: excerpt(text) });
  // More than 7 digits is out of range whatever it says; parse only what fits a safe integer.
  const count = match[1] === '' ? rollLimits.defaultCount : (match[1].length > 7 ? Infinity : Number(match[1]));
  const sides = match[2] === '' ? rollLimits.defaultSides : (match[2].length > 7 ? Infinity : Number(match[2]));
  if (count < rollLimits.minCount || count > rollLimits.maxCount) {
    return failure(ChatCommandError.rollCountOutOfRange, { min: rollLimits.minCount, max: rollLimits.maxCount, value: excerpt(match[1], 10) });
  }
  if (sides < rollLimits.minSides || sides > rollLimits.maxSides) {
    return failure(ChatCommandError.rollSidesOutOfRange, { min: rollLimits.minSides, max: rollLimits.maxSides, value: excerpt(match[2], 10) });
  }
  return ok({ count, sides });
}

function parseArguments(definition, rest) {
  const { name, shape } = definition;
  const args = words(rest);
  const base = { type: name === 'me' ? 'action' : name };
  if (definition.role) base.requiresRole = definition.role;
  switch (shape) {
    case 'none':
      return args.length ? tooMany(definition) : ok(base);
    case 'user':
    case 'user?': {
      if (args.length === 0) {
        if (shape === 'user?') return ok({ type: 'ignore_list' });
        return failure(ChatCommandError.missingUser, { command: name, usage: usageOf(definition) });
      }
      if (args.length > 1) return tooMany(definition);
      return checkUser(args[0]) ?? ok({ ...base, user: args[0] });
    }
    case 'user+text': {
      const [user, text] = splitWord(rest);
      if (!user) return failure(ChatCommandError.missingUser, { command: name, usage: usageOf(definition) });
      const bad = checkUser(user);
      if (bad) return bad;
      if (text.trim() === '') return failure(ChatCommandError.missingText, { command: name, usage: usageOf(definition) });
      return ok({ ...base, user, text });
    }
    case 'text':
      if (rest.trim() === '') return failure(ChatCommandError.missingText, { command: name, usage: usageOf(definition) });
      return ok({ ...base, text: rest, ...(name === 'action' || name === 'me' ? { command: name } : {}) });
    case 'channel?':
      if (args.length === 0) return ok(name === 'join' ? { ...base, channel: null, private: true } : { ...base, channel: null });
      if (args.length > 1) return tooMany(definition);
      return checkChannel(args[0]) ?? ok(name === 'join' ? { ...base, channel: args[0], private: false } : { ...base, channel: args[0] });
    case 'roll': {
      if (args.length > 1) return tooMany(definition);
      const spec = parseRollSpec(args[0] ?? 'd');
      return spec.error ? spec : ok({ ...base, count: spec.count, sides: spec.sides });
    }
    case 'nick':
      if (args.length === 0) return failure(ChatCommandError.invalidNick, { name: '' });
      if (args.length > 1) return tooMany(definition);
      return usernamePattern.test(args[0]) ? ok({ ...base, name: args[0] }) : failure(ChatCommandError.invalidNick, { name: excerpt(args[0]) });
    case 'help': {
      if (args.length === 0) return ok({ ...base, command: null });
      if (args.length > 1) return tooMany(definition);
      const topic = args[0].replace(/^\//, '').toLowerCase();
      return byName.has(topic) ? ok({ ...base, command: topic }) : failure(ChatCommandError.unknownCommand, { command: excerpt(args[0].replace(/^\//, ''), 32) });
    }
    case 'kick': {
      if (args.length === 0) return failure(ChatCommandError.missingUser, { command: name, usage: usageOf(definition) });
      if (args.length > 2) return tooMany(definition);
      const bad = checkUser(args[0]);
      if (bad) return bad;
      let minutes = kickLimits.defaultMinutes;
      if (args.length === 2) {
        minutes = /^\d{1,7}$/.test(args[1]) ? Number(args[1]) : NaN;
        if (!(minutes >= kickLimits.minMinutes && minutes <= kickLimits.maxMinutes)) {
          return failure(ChatCommandError.invalidMinutes, { min: kickLimits.minMinutes, max: kickLimits.maxMinutes, value: excerpt(args[1], 10) });
        }
      }
      return ok({ ...base, user: args[0], minutes });
    }
    default:
      throw new Error(`commands: no parser for shape ${shape}`);
  }
}

/**
 * Parses one line typed into the chat input.
 *   'hello'          → { type: 'message', text: 'hello' }
 *   '//etc/passwd'   → { type: 'message', text: '/etc/passwd' }
 *   '/msg bob hi'    → { type: 'msg', user: 'bob', text: 'hi' }
 *   '/kick bob'      → { type: 'kick', user: 'bob', minutes: 5, requiresRole: 'moderator' }
 *   '/frobnicate'    → { error: { code: 'unknown_command', messageKey: 'chat.error.unknown_command', params: { command: 'frobnicate' } } }
 * Length and flood limits are separate (limits.js): the UI applies them to what is sent.
 */
export function parseChatInput(line) {
  const input = String(line ?? '');
  if (input.startsWith('//')) return ok({ type: 'message', text: input.slice(1) });
  if (!input.startsWith('/')) {
    return input.trim() === '' ? failure(ChatCommandError.emptyMessage) : ok({ type: 'message', text: input });
  }
  const [word, rest] = splitWord(input.slice(1));
  if (word === '') return failure(ChatCommandError.emptyCommand);
  const definition = byName.get(word.toLowerCase());
  if (!definition) return failure(ChatCommandError.unknownCommand, { command: excerpt(word, 32) });
  return parseArguments(definition, rest);
}
