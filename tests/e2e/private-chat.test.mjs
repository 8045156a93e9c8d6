// End-to-end tests of the private conversation inside a secure channel (two Chromium contexts
// against the real server): BBCode and emoticons rendered as markup, hostile-looking text shown
// as text, /me actions, delivery receipts, deleting one's own message on both sides, fair /roll
// with the same result on both sides, the length counter, command errors, /ignore, /nick, /help.
//
//   npm run build && node --test tests/e2e/private-chat.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { newContext, violationsOf } from './helpers/browser.mjs';
import {
  openLanding, registerAndOpenApp, uniqueName, createIdentityInApp, requestChannelWith,
  waitForChannelState, sendChannelMessage, waitForPeerMessage, unexpectedProblems, registeredUser
} from './helpers/app-flows.mjs';

const suite = await useAppServer({ extraArgs: [...loopbackRateLimits] });
const { skip } = suite;

const unexpected = unexpectedProblems;

/** A registered user with the app window open, in a fresh context closed after the test. */
const user = (t, prefix) => registeredUser(t, suite.browser, suite.server.origin, prefix);

async function securePair(t) {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  await createIdentityInApp(alice.app, { name: 'Alice', email: 'alice@example.org' });
  await createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' });
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('peer-report').waitFor();
  await alice.app.getByTestId('channel-accept').click();
  await bob.app.getByTestId('peer-report').waitFor();
  await bob.app.getByTestId('channel-accept').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  return { alice, bob };
}

const lastMessage = (page, from) => page.locator(`[data-testid=channel-message][data-from=${from}]`).last();
const text = async (locator) => (await locator.textContent()).trim();

test('markup, text safety, actions, receipts, deletion, counter, errors, nick and help', { skip, timeout: 120_000 }, async (t) => {
  const { alice, bob } = await securePair(t);
  assert.match(await text(alice.app.getByTestId('chat-history-note')), /only in this browser’s memory/);

  // BBCode and emoticons → markup on the other side.
  await sendChannelMessage(alice.app, 'this is [b]bold[/b] and [i]slanted[/i] [color=red]red[/color] :)');
  await waitForPeerMessage(bob.app, 'bold');
  const peerLine = lastMessage(bob.app, 'peer');
  assert.equal(await text(peerLine.locator('[data-testid=channel-message-text] strong')), 'bold');
  assert.equal(await text(peerLine.locator('[data-testid=channel-message-text] em')), 'slanted');
  assert.match(await text(peerLine.locator('[data-testid=channel-message-text]')), /🙂/);
  assert.equal(await peerLine.locator('.chat-color-red').evaluate((node) => getComputedStyle(node).color), 'rgb(255, 0, 0)');

  // A link asks before it opens, showing the full address.
  await sendChannelMessage(bob.app, '[url=https://example.org/path]innocent text[/url]');
  await waitForPeerMessage(alice.app, 'innocent text');
  const dialogs = [];
  alice.app.once('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  await lastMessage(alice.app, 'peer').locator('a.chat-link').click();
  assert.equal(dialogs.length, 1);
  assert.match(dialogs[0], /https:\/\/example\.org\/path/);
  assert.equal(alice.context.pages().length, 2, 'no new tab opened');

  // Delivery: sent, then delivered when Bob's browser returned the receipt.
  await lastMessage(alice.app, 'me').locator('[data-testid=message-status][data-status=delivered]').waitFor({ timeout: 10_000 });

  // An XSS-looking message is shown as text.
  const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>[url=javascript:alert(1)]x[/url]';
  await sendChannelMessage(bob.app, hostile);
  await waitForPeerMessage(alice.app, '<img src=x');
  const hostileLine = lastMessage(alice.app, 'peer').locator('[data-testid=channel-message-text]');
  assert.equal(await hostileLine.locator('img, script, a').count(), 0);
  assert.ok((await text(hostileLine)).includes('<script>window.__pwned=2</script>'));
  assert.equal(await alice.app.evaluate(() => window.__pwned ?? null), null);

  // /me action.
  await sendChannelMessage(alice.app, '/me waves');
  await bob.app.locator('[data-testid=channel-message][data-from=peer][data-kind=action]').waitFor();
  assert.equal(await text(bob.app.locator('[data-testid=channel-message][data-from=peer][data-kind=action] [data-testid=channel-message-text]')),
    `* ${alice.username} waves`);
  assert.equal(await text(alice.app.locator('[data-testid=channel-message][data-from=me][data-kind=action] [data-testid=channel-message-text]')),
    `* ${alice.username} waves`, 'own actions read the same');

  // /nick: Bob sees "name (username)".
  await sendChannelMessage(alice.app, '/nick Ally');
  await bob.app.locator('[data-testid=chat-system][data-key="chat.system.nick_peer"]').waitFor();
  await sendChannelMessage(alice.app, 'after nick');
  await waitForPeerMessage(bob.app, 'after nick');
  assert.match(await text(lastMessage(bob.app, 'peer').locator('.meta')), new RegExp(`^Ally \\(${alice.username}\\)`));
  await sendChannelMessage(alice.app, '/me nods');
  await alice.app.locator('[data-testid=channel-message][data-from=me][data-kind=action]', { hasText: 'nods' }).waitFor();
  assert.equal(await text(alice.app.locator('[data-testid=channel-message][data-from=me][data-kind=action]', { hasText: 'nods' }).locator('[data-testid=channel-message-text]')),
    `* Ally (${alice.username}) nods`);

  // Delete own message: both sides show "message deleted".
  await sendChannelMessage(alice.app, 'to be withdrawn');
  await waitForPeerMessage(bob.app, 'to be withdrawn');
  const own = alice.app.locator('[data-testid=channel-message][data-from=me]', { hasText: 'to be withdrawn' });
  await own.getByTestId('message-delete').click();
  await alice.app.locator('[data-testid=channel-message][data-from=me][data-deleted]').waitFor();
  await bob.app.locator('[data-testid=channel-message][data-from=peer][data-deleted]').waitFor();
  assert.equal(await text(bob.app.locator('[data-testid=channel-message][data-from=peer][data-deleted] [data-testid=channel-message-text]')), 'message deleted');
  assert.equal(await bob.app.locator('[data-testid=channel-message]', { hasText: 'to be withdrawn' }).count(), 0);

  // The live counter and the limit.
  await alice.app.getByTestId('message-input').fill('héllo');
  assert.equal(await text(alice.app.getByTestId('message-counter')), '5/1040');
  await alice.app.getByTestId('message-input').fill('x'.repeat(1041));
  assert.equal(await text(alice.app.getByTestId('message-counter')), '1041/1040');
  assert.ok(await alice.app.getByTestId('message-send').isDisabled());
  await alice.app.getByTestId('message-input').fill('');

  // A bad command: a localised error inline, nothing sent.
  const before_ = await bob.app.locator('[data-testid=channel-message][data-from=peer]').count();
  await sendChannelMessage(alice.app, '/frobnicate now');
  assert.match(await text(alice.app.getByTestId('chat-input-error')), /There is no command \/frobnicate/);
  assert.equal(await alice.app.getByTestId('message-input').inputValue(), '/frobnicate now');
  await sendChannelMessage(alice.app, '/roll 0d6');
  assert.equal(await alice.app.getByTestId('chat-input-error').getAttribute('data-code'), 'roll_count_out_of_range');

  // /help lists the commands.
  await sendChannelMessage(alice.app, '/help');
  assert.ok(await alice.app.locator('[data-testid=chat-help] li').count() >= 20);
  assert.match(await text(alice.app.getByTestId('chat-help')), /\/roll \[N\]d\[S\]/);

  // A room command reaches the server and its answer is a system line.
  await sendChannelMessage(alice.app, '/list');
  await alice.app.locator('[data-testid=chat-system][data-key^="chat.system."]', { hasText: /Rooms|public room|server/ }).last().waitFor();
  assert.equal(await bob.app.locator('[data-testid=channel-message][data-from=peer]').count(), before_, 'no command went to the peer');

  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), [], `CSP violations in ${page.url()}`);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});

test('/roll gives the same fair result on both sides', { skip, timeout: 90_000 }, async (t) => {
  const { alice, bob } = await securePair(t);
  await sendChannelMessage(alice.app, '/roll 3d20');
  const aliceResult = alice.app.locator('[data-testid=chat-system][data-level=roll]');
  const bobResult = bob.app.locator('[data-testid=chat-system][data-level=roll]');
  await Promise.all([aliceResult.waitFor({ timeout: 15_000 }), bobResult.waitFor({ timeout: 15_000 })]);
  const dice = await aliceResult.getAttribute('data-value');
  assert.match(dice, /^\d{1,2},\d{1,2},\d{1,2}$/);
  assert.equal(await bobResult.getAttribute('data-value'), dice);
  for (const value of dice.split(',').map(Number)) assert.ok(value >= 1 && value <= 20);
  assert.match(await text(aliceResult.locator('.text')), /^You rolled 3d20: \d+ \+ \d+ \+ \d+ = \d+$/);
  assert.match(await text(bobResult.locator('.text')), new RegExp(`^${alice.username} rolled 3d20: `));
  // And the other way round.
  await sendChannelMessage(bob.app, '/roll');
  await alice.app.locator('[data-testid=chat-system][data-level=roll]').nth(1).waitFor({ timeout: 15_000 });
  await bob.app.locator('[data-testid=chat-system][data-level=roll]').nth(1).waitFor({ timeout: 15_000 });
  assert.equal(await alice.app.locator('[data-testid=chat-system][data-level=roll]').nth(1).getAttribute('data-value'),
    await bob.app.locator('[data-testid=chat-system][data-level=roll]').nth(1).getAttribute('data-value'));
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), []);
});

test('/ignore hides the peer’s messages; /ignore again shows them; unread counts in the list', { skip, timeout: 90_000 }, async (t) => {
  const { alice, bob } = await securePair(t);
  await sendChannelMessage(bob.app, 'visible one');
  await waitForPeerMessage(alice.app, 'visible one');
  await sendChannelMessage(alice.app, `/ignore ${bob.username}`);
  await alice.app.locator('[data-testid=chat-system][data-key="chat.system.ignored"]').waitFor();
  assert.equal(await alice.app.locator('[data-testid=channel-message][data-from=peer]').count(), 0);
  await sendChannelMessage(bob.app, 'hidden two');
  await bob.app.locator('[data-testid=channel-message][data-from=me]').nth(1).locator('[data-status=delivered]').waitFor({ timeout: 10_000 });
  assert.equal(await alice.app.locator('[data-testid=channel-message][data-from=peer]').count(), 0);
  await sendChannelMessage(alice.app, '/ignore');
  assert.match(await text(alice.app.locator('[data-testid=chat-system][data-key="chat.system.ignore_list"]')), new RegExp(bob.username.toLowerCase()));
  await sendChannelMessage(alice.app, `/ignore ${bob.username}`);
  await waitForPeerMessage(alice.app, 'hidden two');
  assert.equal(await alice.app.locator('[data-testid=channel-message][data-from=peer]').count(), 2);

  // Unread: Alice looks at her own certificate; Bob's messages count in the channel list.
  await alice.app.getByTestId('own-identity-entry').click();
  await sendChannelMessage(bob.app, 'one');
  await sendChannelMessage(bob.app, 'two');
  await alice.app.locator('[data-testid=channel-unread]', { hasText: '2' }).waitFor({ timeout: 10_000 });
  await alice.app.locator(`[data-testid=channel-entry][data-peer="${bob.username}"]`).click();
  assert.equal(await alice.app.getByTestId('channel-unread').count(), 0);
  // On another tab, the open conversation's new lines are unread: the title says so.
  await alice.app.getByTestId('tab-voip').click();
  await sendChannelMessage(bob.app, 'while on VoIP');
  await alice.app.waitForFunction(() => document.title === '(1) Security.MS', null, { timeout: 10_000 });
  await alice.app.getByTestId('tab-chat').click();
  await alice.app.waitForFunction(() => document.title === 'Security.MS');
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), []);
});

test('themes, sounds, notifications and the unread title while the window is hidden', { skip, timeout: 90_000 }, async (t) => {
  const { alice, bob } = await securePair(t);

  // Theme: a class-free data attribute on <html>, kept in localStorage; no inline style.
  await bob.app.getByTestId('account-menu').click();
  await bob.app.locator('[data-testid=menu-theme][data-theme=contrast]').click();
  assert.equal(await bob.app.evaluate(() => document.documentElement.dataset.theme), 'contrast');
  assert.equal(await bob.app.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--color-bg').trim()), '#000000');
  assert.equal(await bob.app.evaluate(() => localStorage.getItem('secms.theme')), 'contrast');
  await bob.app.locator('[data-testid=menu-theme][data-theme=dark]').click();
  assert.equal(await bob.app.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--color-bg').trim()), '#0f1115');
  assert.equal(await bob.app.locator('[data-testid=menu-theme][data-theme=dark]').getAttribute('aria-checked'), 'true');
  assert.equal(await bob.app.evaluate(() => document.documentElement.hasAttribute('style')), false);

  // Sounds on (WebAudio oscillators, no file), kept.
  await bob.app.getByTestId('menu-sound').click();
  assert.equal(await bob.app.getByTestId('menu-sound').getAttribute('aria-checked'), 'true');
  assert.equal(await bob.app.evaluate(() => localStorage.getItem('secms.sound')), 'on');

  // Notifications: permission asked on the click; the body carries no content.
  await bob.context.grantPermissions(['notifications'], { origin: suite.server.origin });
  await bob.app.evaluate(() => {
    window.__notes = [];
    const Base = window.Notification;
    window.Notification = class extends Base {
      constructor(title, options) {
        window.__notes.push([title, options?.body]);
        super(title, options);
      }
    };
  });
  await bob.app.getByTestId('menu-notifications').click();
  await bob.app.locator('[data-testid=menu-notifications][aria-checked=true]').waitFor({ state: 'attached' });

  // Hide Bob's window: messages arriving blink "(n) Security.MS" in the title.
  await bob.app.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await sendChannelMessage(alice.app, 'secret one');
  await sendChannelMessage(alice.app, 'secret two');
  await bob.app.waitForFunction(() => document.title === '(2) Security.MS', null, { timeout: 10_000 });
  await bob.app.waitForFunction(() => document.title === 'Security.MS', null, { timeout: 5_000 });   // it blinks
  const notes = await bob.app.evaluate(() => window.__notes);
  assert.ok(notes.length >= 1);
  for (const [title, body] of notes) {
    assert.equal(title, 'Security.MS');
    assert.equal(body, 'New encrypted message');
  }
  await bob.app.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await bob.app.waitForFunction(() => document.title === 'Security.MS');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(await bob.app.evaluate(() => document.title), 'Security.MS', 'no blinking once visible');
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), []);
});
