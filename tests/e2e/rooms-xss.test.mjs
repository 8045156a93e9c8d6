// The XSS corpus (tests/fixtures/xss/payloads.json: script tags, event handlers, javascript: and
// data: URLs, SVG, BBCode tricks, Unicode direction overrides…) through the real app: every
// payload sent as a room line from one Chromium user to another (end-to-end encrypted, through
// the real server), and tried as a nickname and as a room name. Nothing runs, nothing breaks the
// layout, every line is shown as text, and no CSP / Trusted Types violation is reported.
//
//   npm run build && node --test tests/e2e/rooms-xss.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { violationsOf } from './helpers/browser.mjs';
import {
  createIdentityInApp, registeredUser, unexpectedProblems, joinRoom, selectRoom, acceptChannelsUntilSecure, waitForRoomKeys, sendChannelMessage,
} from './helpers/app-flows.mjs';

// The whole corpus goes out in one burst: the room limits are raised for this test only.
const suite = await useAppServer({ extraArgs: [...loopbackRateLimits, '--chat-flood-per-minute', '1000', '--chat-control-per-minute', '1000'] });
const { skip } = suite;
const corpus = JSON.parse(await readFile(new URL('../fixtures/xss/payloads.json', import.meta.url), 'utf8'));
const maxChars = 1040;
const fits = corpus.filter((payload) => [...payload].length <= maxChars);

// Every function a payload means to call records the call instead (before any page script runs).
// window.open and confirm stay: the landing page opens the app window, links ask with confirm().
const traps = () => {
  window.__xss = 0;
  for (const name of ['alert', 'prompt', 'print']) window[name] = () => { window.__xss += 1; };
};

test('the XSS corpus as room lines, nicknames and room names: shown as text, never run', { skip, timeout: 240_000 }, async (t) => {
  assert.ok(corpus.length >= 100);
  const alice = await registeredUser(t, suite.browser, suite.server.origin, 'alice', { initScript: traps });
  const bob = await registeredUser(t, suite.browser, suite.server.origin, 'bob', { initScript: traps });
  await createIdentityInApp(alice.app, { name: 'Alice', email: 'alice@example.org' });
  await createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' });
  for (const user of [alice, bob]) await joinRoom(user.app, 'xss');
  await Promise.all([alice, bob].map((user) => acceptChannelsUntilSecure(user.app, 1)));
  for (const [user, other] of [[alice, bob], [bob, alice]]) {
    await selectRoom(user.app, 'xss');
    await waitForRoomKeys(user.app, [other.username]);
  }

  // Room lines: each payload as typed (a leading "/" would be a command: none in the corpus).
  assert.equal(fits.some((payload) => payload.startsWith('/')), false);
  for (const payload of fits) await sendChannelMessage(alice.app, payload);
  const lines = bob.app.locator(`[data-testid=channel-message][data-user="${alice.username}"]`);
  const started = Date.now();
  while (await lines.count() < fits.length && Date.now() - started < 90_000) await bob.app.waitForTimeout(250);
  assert.equal(await lines.count(), fits.length, 'every payload arrived as one line');
  // The longer ones are refused at the input with the length error, not sent.
  for (const payload of corpus.filter((entry) => !fits.includes(entry)).slice(0, 2)) {
    await alice.app.getByTestId('message-input').fill(payload);
    assert.equal(await alice.app.getByTestId('message-send').isDisabled(), true);
  }
  await alice.app.getByTestId('message-input').fill('');

  const report = await bob.app.evaluate(() => {
    const deep = (root, selector, out = []) => {
      out.push(...root.querySelectorAll(selector));
      for (const host of root.querySelectorAll('*')) if (host.shadowRoot) deep(host.shadowRoot, selector, out);
      return out;
    };
    const allowed = new Set(['SPAN', 'STRONG', 'EM', 'U', 'BLOCKQUOTE', 'CODE', 'PRE', 'A', 'BR']);
    const problems = [];
    const texts = deep(document, '[data-testid=channel-message-text]');
    for (const text of texts) {
      for (const node of text.querySelectorAll('*')) {
        if (!allowed.has(node.nodeName)) problems.push(`element ${node.nodeName}`);
        for (const attribute of node.getAttributeNames()) if (/^on/i.test(attribute)) problems.push(`handler ${attribute}`);
        if (node.nodeName === 'A' && !/^https?:$/.test(new URL(node.href).protocol)) problems.push(`link ${node.href}`);
      }
    }
    const [log] = deep(document, 'secms-chat-log');
    const scroller = log.shadowRoot.querySelector('.scroll');
    const box = scroller.getBoundingClientRect();
    const outside = deep(document, '[data-testid=channel-message]').filter((line) => {
      const rect = line.getBoundingClientRect();
      return rect.left < box.left - 1 || rect.right > box.right + 1;
    }).length;
    return { calls: window.__xss ?? `no traps at ${location.pathname}`, problems, texts: texts.length, overflow: scroller.scrollWidth - scroller.clientWidth, outside };
  });
  assert.equal(report.calls, 0, 'no payload called alert/prompt/print');
  assert.deepEqual(report.problems, []);
  assert.ok(report.texts >= fits.length);
  assert.ok(report.overflow <= 1, `no horizontal overflow (${report.overflow}px)`);
  assert.equal(report.outside, 0, 'every line stays inside the conversation');

  // Nicknames and room names: refused at the input with a clear error, shown as text.
  for (const payload of corpus.slice(0, 60)) {
    await sendChannelMessage(alice.app, `/nick ${payload}`);
    await alice.app.getByTestId('chat-input-error').waitFor();
    await alice.app.getByTestId('message-input').fill('');
    await alice.app.getByTestId('room-join-name').fill(payload.slice(0, 64));
    await alice.app.getByTestId('room-join').click();
    await alice.app.getByTestId('room-join-error').waitFor();
  }
  assert.equal(await alice.app.locator('[data-testid=room-entry]').count(), 1, 'no room was made from a payload');

  for (const user of [alice, bob]) {
    assert.equal(await user.app.evaluate(() => window.__xss), 0);
    assert.deepEqual(await violationsOf(user.app), []);
    assert.deepEqual(unexpectedProblems(user.problems), []);
  }
});
