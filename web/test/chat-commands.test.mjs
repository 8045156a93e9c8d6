import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChatInput, chatCommands, parseRollSpec, ChatCommandError, kickLimits } from '../src/chat/commands.js';
import en from '../src/i18n/en.js';
import fr from '../src/i18n/fr.js';

const ok = (line, expected) => {
  const result = parseChatInput(line);
  assert.equal(result.error, undefined, `${JSON.stringify(line)} → ${JSON.stringify(result.error)}`);
  assert.deepEqual({ ...result }, expected, JSON.stringify(line));
};
const fails = (line, code, params) => {
  const result = parseChatInput(line);
  assert.ok(result.error, `${JSON.stringify(line)} should fail with ${code}, got ${JSON.stringify(result)}`);
  assert.equal(result.error.code, code, JSON.stringify(line));
  assert.equal(result.error.messageKey, `chat.error.${code}`);
  assert.ok(result.error.messageKey in en && result.error.messageKey in fr, result.error.messageKey);
  if (params) for (const [key, value] of Object.entries(params)) assert.equal(result.error.params[key], value, `${line}: ${key}`);
  return result.error;
};

test('plain text is a message; // escapes a leading slash; a leading space is not a command', () => {
  ok('hello world', { type: 'message', text: 'hello world' });
  ok('//etc/passwd', { type: 'message', text: '/etc/passwd' });
  ok('//', { type: 'message', text: '/' });
  ok('  /quit', { type: 'message', text: '  /quit' });
  ok('a /me in the middle', { type: 'message', text: 'a /me in the middle' });
  ok('line 1\nline 2', { type: 'message', text: 'line 1\nline 2' });
  fails('', ChatCommandError.emptyMessage);
  fails('   \n\t', ChatCommandError.emptyMessage);
  fails(undefined, ChatCommandError.emptyMessage);
  fails('/', ChatCommandError.emptyCommand);
  fails('/ me', ChatCommandError.emptyCommand);
});

test('unknown commands are refused with their name', () => {
  fails('/frobnicate', ChatCommandError.unknownCommand, { command: 'frobnicate' });
  fails('/ban bob', ChatCommandError.unknownCommand, { command: 'ban' });
  fails('/etc/passwd', ChatCommandError.unknownCommand, { command: 'etc/passwd' });
  const long = fails(`/${'x'.repeat(200)}`, ChatCommandError.unknownCommand);
  assert.ok(long.params.command.length <= 32, 'the echoed name is cut');
  assert.equal(fails('/\u202Eevil', ChatCommandError.unknownCommand).params.command, 'evil', 'bidi controls neutralised in params');
});

test('command names are case-insensitive', () => {
  ok('/QUIT', { type: 'quit' });
  ok('/Msg bob hi', { type: 'msg', user: 'bob', text: 'hi' });
});

test('/query, /invite, /uninvite, /whereis take one valid username', () => {
  for (const name of ['query', 'invite', 'uninvite', 'whereis']) {
    ok(`/${name} bob`, { type: name, user: 'bob' });
    ok(`/${name}   alice.b-c_d  `, { type: name, user: 'alice.b-c_d' });
    fails(`/${name}`, ChatCommandError.missingUser, { command: name });
    fails(`/${name} bo`, ChatCommandError.invalidUser, { user: 'bo' });
    fails(`/${name} _bob`, ChatCommandError.invalidUser);
    fails(`/${name} bob bob`, ChatCommandError.tooManyArguments, { command: name, usage: `/${name} <user>` });
  }
  fails('/query bob<script>', ChatCommandError.invalidUser);
  fails(`/query ${'a'.repeat(33)}`, ChatCommandError.invalidUser);
  ok(`/query ${'a'.repeat(32)}`, { type: 'query', user: 'a'.repeat(32) });
  fails('/query bób', ChatCommandError.invalidUser);
});

test('/msg and /describe take a user and the rest of the line as text', () => {
  ok('/msg bob hello  there', { type: 'msg', user: 'bob', text: 'hello  there' });
  ok('/msg bob [b]bold[/b] :)', { type: 'msg', user: 'bob', text: '[b]bold[/b] :)' });
  ok('/describe carol waves at you', { type: 'describe', user: 'carol', text: 'waves at you' });
  for (const name of ['msg', 'describe']) {
    fails(`/${name}`, ChatCommandError.missingUser, { command: name });
    fails(`/${name} bob`, ChatCommandError.missingText, { command: name, usage: `/${name} <user> <text>` });
    fails(`/${name} bob    `, ChatCommandError.missingText);
    fails(`/${name} x! hi`, ChatCommandError.invalidUser);
  }
});

test('/join with a channel, or without one for a private room; /who likewise', () => {
  ok('/join Lobby', { type: 'join', channel: 'Lobby', private: false });
  ok('/join dev_team-2', { type: 'join', channel: 'dev_team-2', private: false });
  ok('/join', { type: 'join', channel: null, private: true });
  ok('/join x', { type: 'join', channel: 'x', private: false });
  fails('/join a.b', ChatCommandError.invalidChannel, { channel: 'a.b' });
  fails(`/join ${'c'.repeat(33)}`, ChatCommandError.invalidChannel);
  fails('/join café', ChatCommandError.invalidChannel);
  fails('/join #general', ChatCommandError.invalidChannel);
  fails('/join a b', ChatCommandError.tooManyArguments);
  ok('/who', { type: 'who', channel: null });
  ok('/who Lobby', { type: 'who', channel: 'Lobby' });
  fails('/who <b>', ChatCommandError.invalidChannel);
  fails('/who a b', ChatCommandError.tooManyArguments);
});

test('commands without arguments refuse extra words', () => {
  for (const name of ['quit', 'list', 'clear']) {
    ok(`/${name}`, { type: name });
    ok(`/${name}  `, { type: name });
    fails(`/${name} now`, ChatCommandError.tooManyArguments, { command: name, usage: `/${name}` });
  }
  ok('/bans', { type: 'bans', requiresRole: 'moderator' });
  fails('/bans all', ChatCommandError.tooManyArguments);
});

test('/me and /action are the same action with a text', () => {
  ok('/me waves', { type: 'action', text: 'waves', command: 'me' });
  ok('/action waves  twice', { type: 'action', text: 'waves  twice', command: 'action' });
  fails('/me', ChatCommandError.missingText, { command: 'me' });
  fails('/action   ', ChatCommandError.missingText, { command: 'action' });
});

test('/roll: [N]d[S], defaults 1d6, bounds 1–20 dice of 2–1000 sides', () => {
  ok('/roll', { type: 'roll', count: 1, sides: 6 });
  ok('/roll 2d6', { type: 'roll', count: 2, sides: 6 });
  ok('/roll d20', { type: 'roll', count: 1, sides: 20 });
  ok('/roll 3d', { type: 'roll', count: 3, sides: 6 });
  ok('/roll d', { type: 'roll', count: 1, sides: 6 });
  ok('/roll 20D1000', { type: 'roll', count: 20, sides: 1000 });
  ok('/roll 1d2', { type: 'roll', count: 1, sides: 2 });
  fails('/roll 0d6', ChatCommandError.rollCountOutOfRange, { min: 1, max: 20, value: '0' });
  fails('/roll 21d6', ChatCommandError.rollCountOutOfRange, { value: '21' });
  fails('/roll 1d1', ChatCommandError.rollSidesOutOfRange, { min: 2, max: 1000, value: '1' });
  fails('/roll 1d0', ChatCommandError.rollSidesOutOfRange);
  fails('/roll 1d1001', ChatCommandError.rollSidesOutOfRange);
  fails('/roll 99999999999999999999d6', ChatCommandError.rollCountOutOfRange);
  fails('/roll 1d99999999999999999999', ChatCommandError.rollSidesOutOfRange);
  fails('/roll 6', ChatCommandError.invalidRoll, { spec: '6' });
  fails('/roll 2x6', ChatCommandError.invalidRoll);
  fails('/roll -1d6', ChatCommandError.invalidRoll);
  fails('/roll 1.5d6', ChatCommandError.invalidRoll);
  fails('/roll 2d6 3d6', ChatCommandError.tooManyArguments);
  assert.deepEqual({ ...parseRollSpec('4d8') }, { count: 4, sides: 8 });
});

test('/nick takes a name under the account rules', () => {
  ok('/nick alice2', { type: 'nick', name: 'alice2' });
  fails('/nick', ChatCommandError.invalidNick, { name: '' });
  fails('/nick al', ChatCommandError.invalidNick, { name: 'al' });
  fails('/nick Ａlice', ChatCommandError.invalidNick);
  fails('/nick a b', ChatCommandError.tooManyArguments);
});

test('/ignore with a user, or without to list', () => {
  ok('/ignore bob', { type: 'ignore', user: 'bob' });
  ok('/ignore', { type: 'ignore_list' });
  fails('/ignore b', ChatCommandError.invalidUser);
  fails('/ignore bob carol', ChatCommandError.tooManyArguments);
});

test('/help with or without a known command name', () => {
  ok('/help', { type: 'help', command: null });
  ok('/help msg', { type: 'help', command: 'msg' });
  ok('/help /KICK', { type: 'help', command: 'kick' });
  fails('/help nope', ChatCommandError.unknownCommand, { command: 'nope' });
  fails('/help a b', ChatCommandError.tooManyArguments);
});

test('moderator commands carry requiresRole and validate their arguments', () => {
  ok('/kick bob', { type: 'kick', user: 'bob', minutes: kickLimits.defaultMinutes, requiresRole: 'moderator' });
  ok('/kick bob 1', { type: 'kick', user: 'bob', minutes: 1, requiresRole: 'moderator' });
  ok('/kick bob 10080', { type: 'kick', user: 'bob', minutes: 10080, requiresRole: 'moderator' });
  fails('/kick', ChatCommandError.missingUser, { command: 'kick' });
  fails('/kick bob 0', ChatCommandError.invalidMinutes, { min: 1, max: 10080, value: '0' });
  fails('/kick bob 10081', ChatCommandError.invalidMinutes);
  fails('/kick bob -5', ChatCommandError.invalidMinutes);
  fails('/kick bob 5m', ChatCommandError.invalidMinutes);
  fails('/kick bob 1e3', ChatCommandError.invalidMinutes);
  fails('/kick bob 5 min', ChatCommandError.tooManyArguments);
  fails('/kick b0 5', ChatCommandError.invalidUser);
  ok('/unban bob', { type: 'unban', user: 'bob', requiresRole: 'moderator' });
  fails('/unban', ChatCommandError.missingUser);
  ok('/whois bob', { type: 'whois', user: 'bob', requiresRole: 'moderator' });
  fails('/whois', ChatCommandError.missingUser);
  for (const line of ['/query bob', '/msg bob hi', '/roll', '/me x']) {
    assert.equal(parseChatInput(line).requiresRole, undefined, line);
  }
});

test('the command table lists every command once, with usage and a help text in both languages', () => {
  const names = chatCommands.map((c) => c.name);
  assert.deepEqual(names, ['query', 'msg', 'join', 'invite', 'uninvite', 'quit', 'list', 'who', 'whereis', 'me', 'action',
    'describe', 'roll', 'nick', 'ignore', 'clear', 'help', 'kick', 'bans', 'unban', 'whois']);
  for (const command of chatCommands) {
    assert.ok(command.usage.startsWith(`/${command.name}`));
    assert.ok(command.descriptionKey in en && command.descriptionKey in fr, command.descriptionKey);
  }
  assert.deepEqual(chatCommands.filter((c) => c.requiresRole === 'moderator').map((c) => c.name), ['kick', 'bans', 'unban', 'whois']);
  for (const code of Object.values(ChatCommandError)) assert.ok(`chat.error.${code}` in en, code);
});

test('results are frozen', () => {
  assert.ok(Object.isFrozen(parseChatInput('/msg bob hi')));
  assert.ok(Object.isFrozen(parseChatInput('/nope').error));
});
