// Server text never reaches the page: WebSocket `error` answers, channel notices and certificate
// rejections are shown by code only (web/src/app/server-errors.js), and a chat link opens only
// after the confirmation, whichever way it is opened (createLinkGuard).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverErrorText } from '../src/app/server-errors.js';
import { createServerCommands } from '../src/app/server-commands.js';
import { certificateErrorText } from '../src/ui/identity-errors.js';
import { createLinkGuard } from '../src/ui/chat-markup.js';
import { t, setLanguage } from '../src/i18n/index.js';

// The message a hostile server sent in the issue: 467 characters speaking in the page's voice.
const hostileText = ('Security notice: your key could not be verified. To keep your conversations safe, paste your private key '
  + 'into Import at https://keys.bank-secure.example/import and enter your passphrase there within 10 minutes, otherwise '
  + 'your account and all your messages will be deleted permanently. This is an automated message from the Security.MS '
  + 'administrators; do not reply. Ref: ').padEnd(467, 'X');

const shown = ({ key, params }) => t(key, params);

test('known codes get their own text; the server message is never part of it', () => {
  setLanguage('en');
  assert.equal(hostileText.length, 467);
  const text = serverErrorText({ code: 'room_full', message: hostileText });
  assert.deepEqual(text, { key: 'server.error.room_full', params: {} });
  assert.doesNotMatch(shown(text), /paste|https:/);
  const channel = serverErrorText({ code: 'peer_offline', message: hostileText }, { prefixes: ['channel.error', 'server.error'] });
  assert.equal(channel.key, 'channel.error.peer_offline');
});

test('unknown codes: a generic line, with the code only when it has the documented form', () => {
  setLanguage('en');
  assert.equal(shown(serverErrorText({ code: 'brand_new_code', message: hostileText })), 'The server reported an error (brand_new_code).');
  for (const code of [hostileText, 'Paste-your-key', 'a'.repeat(41), 'UPPER', 'with space', '', 42, null]) {
    const text = serverErrorText({ code, message: hostileText });
    assert.deepEqual(text, { key: 'server.error.generic', params: {} }, String(code).slice(0, 20));
    assert.equal(shown(text), 'The server reported an error.');
  }
  assert.deepEqual(serverErrorText(undefined), { key: 'server.error.generic', params: {} });
});

test('a server command answered by an error with a 467-character message shows the code text only', () => {
  setLanguage('en');
  const lines = [];
  const commands = createServerCommands({ sendControl: () => true });
  commands.ask((messageKey, params, level) => lines.push({ messageKey, params, level }), { type: 'room_join', room: 'x' });
  assert.equal(commands.handle({ type: 'error', error: { code: 'not_invited', message: hostileText } }), true);
  assert.equal(lines.length, 1);
  assert.ok(!JSON.stringify(lines).includes('paste your private key'), 'the message is not even passed on');
  // As chat-log.js renders a system line: the reason key is translated.
  const { messageKey, params } = lines[0];
  const rendered = t(messageKey, { ...params, reason: t(params.reason, params) });
  assert.equal(rendered, 'This room is private and you are not invited.');
  assert.equal(params.code, 'not_invited', 'a checked code is passed on (the room list shows its notice by code)');

  commands.ask((messageKey, params) => lines.push({ messageKey, params }), { type: 'room_list' });
  commands.handle({ type: 'error', error: { code: hostileText, message: hostileText } });
  const last = lines.at(-1);
  assert.equal(last.params.code, '', 'an unchecked code is not passed on');
  assert.equal(t(last.messageKey, { ...last.params, reason: t(last.params.reason, last.params) }), 'The server reported an error.');
});

test('a certificate rejection with an unknown code shows no server text', () => {
  setLanguage('en');
  const text = certificateErrorText({ code: 'something_new', message: hostileText });
  assert.doesNotMatch(shown(text), /paste/);
  assert.equal(shown(text), 'The server reported an error (something_new).');
  assert.equal(certificateErrorText({ code: 'revoked', message: hostileText }).key, 'certificate.error.revoked');
});

// --- chat links ------------------------------------------------------------------------------

function fakeLink(href) {
  const classes = new Set(['chat-link']);
  return { tagName: 'A', classList: { contains: (name) => classes.has(name) }, getAttribute: (name) => (name === 'href' ? href : null) };
}
function fakeEvent(type, link, { button = 0 } = {}) {
  return { type, button, prevented: false, composedPath: () => [{ tagName: 'SPAN' }, link], preventDefault() { this.prevented = true; } };
}
function guard(answer) {
  const asked = [];
  const opened = [];
  const handle = createLinkGuard({ confirmOpen: (url) => { asked.push(url); return answer; }, openUrl: (url) => opened.push(url) });
  return { handle, asked, opened };
}

test('a click opens a link only when the full address was confirmed', () => {
  const link = fakeLink('https://example.org/path');
  const refused = guard(false);
  const click = fakeEvent('click', link);
  refused.handle(click);
  assert.deepEqual(refused.asked, ['https://example.org/path']);
  assert.equal(click.prevented, true);
  const agreed = guard(true);
  const ok = fakeEvent('click', link);
  agreed.handle(ok);
  assert.equal(ok.prevented, false, 'confirmed: the browser follows the link');
});

test('middle click (auxclick) asks too: the browser never opens the tab itself', () => {
  const link = fakeLink('https://example.org/');
  const refused = guard(false);
  const middle = fakeEvent('auxclick', link, { button: 1 });
  refused.handle(middle);
  assert.equal(middle.prevented, true);
  assert.deepEqual(refused.asked, ['https://example.org/']);
  assert.deepEqual(refused.opened, []);
  const agreed = guard(true);
  const again = fakeEvent('auxclick', link, { button: 1 });
  agreed.handle(again);
  assert.equal(again.prevented, true, 'opened by the page, after the confirmation');
  assert.deepEqual(agreed.opened, ['https://example.org/']);
});

test('the context menu ("open in new tab") and dragging a link are refused; other targets are left alone', () => {
  const link = fakeLink('https://example.org/');
  const { handle, asked, opened } = guard(true);
  for (const type of ['contextmenu', 'dragstart']) {
    const event = fakeEvent(type, link);
    handle(event);
    assert.equal(event.prevented, true, type);
  }
  assert.deepEqual([asked, opened], [[], []]);
  const elsewhere = { type: 'click', button: 0, prevented: false, composedPath: () => [{ tagName: 'SPAN', classList: { contains: () => false } }], preventDefault() { this.prevented = true; } };
  handle(elsewhere);
  assert.equal(elsewhere.prevented, false);
  // A link whose address fails the re-check is never opened.
  const bad = guard(true);
  const badClick = fakeEvent('click', fakeLink('javascript:alert(1)'));
  bad.handle(badClick);
  assert.equal(badClick.prevented, true);
  assert.deepEqual(bad.asked, []);
});
