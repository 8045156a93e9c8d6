// End-to-end tests of chat rooms with three Chromium users against the real server: a public
// room and a private one, sender keys handed out over the pairwise secure channels, invite and
// uninvite (a removed member does not get what follows), /me, /nick, /roll with the same dice
// for all, /ignore, deletion by the author and by a moderator, a moderator's kick with a timed
// ban the server enforces and /unban, the length counter and flood control at the server's
// limits, /msg to a private conversation alongside, and a marker sent to a room found nowhere on
// the server side (frames on the wire, the server's trace log, its data directory).
//
//   npm run build && node --test tests/e2e/rooms.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits, runServerCommand } from '../helpers/secms-server.mjs';
import { newContext, violationsOf } from './helpers/browser.mjs';
import {
  openLanding, logInAndOpenApp, uniqueName, strongPassword, createIdentityInApp, registeredUser, unexpectedProblems,
  joinRoom, selectRoom, acceptChannelsUntilSecure, waitForRoomKeys, waitForRoomLine, sendChannelMessage, waitForPeerMessage,
} from './helpers/app-flows.mjs';

// Trace logging: the ciphertext-only check reads every line the server writes. Receipts and
// dice steps are control frames; a higher control limit keeps this long test within it.
const suite = await useAppServer({ extraArgs: [...loopbackRateLimits, '--chat-control-per-minute', '600'], logLevel: 'trace' });
const { skip } = suite;

/** A moderator account made with the admin CLI, logged in through the landing page. */
async function moderator(t, prefix) {
  const username = uniqueName(prefix);
  const made = await runServerCommand(['--data-dir', suite.server.dataDir, '--log-level', 'warn', '--mail-enabled', 'false', 'user', 'add', username, '--role', 'moderator'], { input: `${strongPassword}\n` });
  assert.equal(made.code, 0, made.stderr);
  const entry = await newContext(suite.browser);
  t.after(() => entry.context.close().catch(() => {}));
  const landing = await entry.context.newPage();
  await openLanding(landing, suite.server.origin);
  const app = await logInAndOpenApp(landing, { username });
  return { ...entry, landing, app, username };
}

const say = (page, text) => sendChannelMessage(page, text);
const roomLines = (page) => page.locator('[data-testid=channel-message]');
const text = async (locator) => (await locator.textContent()).trim();

async function inputError(page) {
  const error = page.getByTestId('chat-input-error');
  await error.waitFor();
  return error.getAttribute('data-code');
}

test('three users: public and private rooms, commands, moderation, limits, all end-to-end encrypted', { skip, timeout: 300_000 }, async (t) => {
  const alice = await moderator(t, 'alice');
  // Every binary frame bob's browser receives, as the server sent it (after TLS).
  const wireFrames = [];
  const tap = (page) => page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => { if (typeof payload !== 'string') wireFrames.push(Buffer.from(payload)); }));
  const bob = await registeredUser(t, suite.browser, suite.server.origin, 'bob', { onPage: tap });
  const carol = await registeredUser(t, suite.browser, suite.server.origin, 'carol');
  const everyone = [alice, bob, carol];
  const names = everyone.map((user) => user.username);
  await Promise.all(everyone.map((user, i) => createIdentityInApp(user.app, { name: ['Alice', 'Bob', 'Carol'][i], email: `${['alice', 'bob', 'carol'][i]}@example.org` })));

  // --- the public room: everyone joins; the pairwise channels are reviewed once each --------
  for (const user of everyone) await joinRoom(user.app, 'lobby');
  await Promise.all(everyone.map((user) => acceptChannelsUntilSecure(user.app, 2)));
  for (const user of everyone) {
    await selectRoom(user.app, 'lobby');
    await waitForRoomKeys(user.app, names.filter((name) => name !== user.username));
  }
  assert.match(await text(alice.app.getByTestId('room-title')), /#lobby/);
  assert.match(await text(alice.app.getByTestId('chat-history-note')), /only in this window’s memory/);
  assert.equal(await alice.app.getByTestId('channel-status').getAttribute('data-state'), 'secure');

  // A line, rendered from BBCode, delivered to both others.
  const marker = `room-marker-${Date.now().toString(36)}`;
  await say(alice.app, `hello [b]everyone[/b] ${marker}`);
  for (const user of [bob, carol]) {
    const line = await waitForRoomLine(user.app, alice.username, marker);
    assert.equal(await text(line.locator('strong')), 'everyone');
  }
  await alice.app.locator('[data-testid=channel-message][data-from=me][data-status=delivered]').first().waitFor({ timeout: 15_000 });

  // /me, /nick.
  await say(bob.app, '/nick Bobby');
  await say(bob.app, '/me waves');
  for (const user of [alice, carol]) {
    const line = await waitForRoomLine(user.app, bob.username, 'waves');
    assert.equal(await line.getAttribute('data-kind'), 'action');
    assert.equal(await text(line.locator('[data-testid=channel-message-text]')), `* Bobby (${bob.username}) waves`);
  }

  // Unread lines while the Chat tab is not shown: the total on the tab's label.
  await carol.app.getByTestId('tab-voip').click();
  await say(alice.app, 'while you were away');
  await carol.app.getByTestId('chat-unread-total').filter({ hasText: '1' }).waitFor({ timeout: 10_000 });
  await carol.app.getByTestId('tab-chat').click();
  await waitForRoomLine(carol.app, alice.username, 'while you were away');
  assert.equal(await carol.app.getByTestId('chat-unread-total').count(), 0);

  // /roll: the same dice for all three.
  await say(carol.app, '/roll 3d6');
  const rolls = await Promise.all(everyone.map(async (user) => {
    const result = user.app.locator('[data-testid=chat-system][data-level=roll]').last();
    await result.waitFor({ timeout: 20_000 });
    return result.getAttribute('data-value');
  }));
  assert.equal(new Set(rolls).size, 1, `same dice everywhere: ${rolls.join(' | ')}`);
  assert.equal(rolls[0].split(',').length, 3);

  // /ignore: carol no longer sees bob's lines; alice does.
  await say(carol.app, `/ignore ${bob.username}`);
  await say(bob.app, 'only some will see this');
  await waitForRoomLine(alice.app, bob.username, 'only some will see this');
  await carol.app.waitForTimeout(1000);
  assert.equal(await carol.app.locator('[data-testid=channel-message]').filter({ hasText: 'only some will see this' }).count(), 0);
  await say(carol.app, `/ignore ${bob.username}`);

  // Deletion: bob withdraws his own line; alice, a moderator, withdraws carol's.
  await say(carol.app, 'carol says something regrettable');
  await waitForRoomLine(alice.app, carol.username, 'regrettable');
  await bob.app.locator('[data-testid=channel-message][data-from=me]').filter({ hasText: 'only some will see this' }).getByTestId('message-delete').click();
  await alice.app.locator(`[data-testid=channel-message][data-user="${bob.username}"][data-deleted]`).first().waitFor({ timeout: 10_000 });
  assert.equal(await bob.app.locator('[data-testid=channel-message][data-from=peer]').filter({ hasText: 'regrettable' }).getByTestId('message-delete').count(), 0, 'bob cannot delete carol’s line');
  await alice.app.locator('[data-testid=channel-message][data-from=peer]').filter({ hasText: 'regrettable' }).getByTestId('message-delete').click();
  for (const user of [bob, carol]) {
    await user.app.locator(`[data-testid=channel-message][data-user="${carol.username}"][data-deleted]`).first().waitFor({ timeout: 10_000 });
  }

  // /msg from the room: the private conversation with bob, beside the room.
  await say(alice.app, `/msg ${bob.username} just between us`);
  await alice.app.locator('[data-testid=channel-state][data-state=secure]').waitFor();
  await bob.app.locator(`[data-testid=channel-entry][data-peer="${alice.username}"]`).click();
  await waitForPeerMessage(bob.app, 'just between us');

  // --- a private room: invite, join, uninvite; the removed member gets nothing after --------
  await alice.app.getByTestId('room-create-private').click();
  await alice.app.getByTestId('room-title').filter({ hasText: '🔒' }).waitFor();
  await say(alice.app, `/invite ${bob.username}`);
  await say(alice.app, `/invite ${carol.username}`);
  for (const user of [bob, carol]) {
    await user.app.getByTestId('room-invitation-join').click();
    await user.app.getByTestId('room-title').filter({ hasText: '🔒' }).waitFor();
  }
  for (const user of everyone) await waitForRoomKeys(user.app, names.filter((name) => name !== user.username));
  await say(alice.app, 'private hello');
  for (const user of [bob, carol]) await waitForRoomLine(user.app, alice.username, 'private hello');
  await say(alice.app, `/uninvite ${carol.username}`);
  await carol.app.locator('[data-testid=room-state][data-state=ended]').waitFor({ timeout: 10_000 });
  await alice.app.locator('[data-testid=chat-system][data-key="chat.system.member_removed"]').waitFor();
  await waitForRoomKeys(alice.app, [bob.username]);
  await say(alice.app, 'after carol left');
  await waitForRoomLine(bob.app, alice.username, 'after carol left');
  await carol.app.waitForTimeout(1500);
  assert.equal(await carol.app.locator('[data-testid=channel-message]').filter({ hasText: 'after carol left' }).count(), 0);
  assert.equal(await carol.app.getByTestId('message-input').count(), 0, 'no input in a room one was removed from');

  // --- moderation: kick with a timed ban, enforced by the server, lifted by /unban ---------
  await selectRoom(alice.app, 'lobby');
  await say(alice.app, `/kick ${carol.username} 5`);
  await alice.app.locator('[data-testid=chat-system][data-key="chat.system.mod_kicked"]').waitFor();
  await selectRoom(carol.app, 'lobby');
  await carol.app.locator('[data-testid=room-state][data-state=ended]').waitFor({ timeout: 10_000 });
  await carol.app.getByTestId('room-join-name').fill('lobby');
  await carol.app.getByTestId('room-join').click();
  await carol.app.locator('[data-testid=channel-notice][data-code=banned]').waitFor({ timeout: 10_000 });
  await say(alice.app, '/bans');
  await alice.app.locator('[data-testid=chat-system][data-key="chat.system.mod_bans"]').filter({ hasText: carol.username }).waitFor();
  await say(alice.app, `/whois ${carol.username}`);
  const whois = alice.app.locator('[data-testid=chat-system][data-key="chat.system.mod_whois"]').last();
  await whois.waitFor();
  assert.match(await text(whois), /127\.0\.0\.1|::1/, 'moderators see the address');
  await say(bob.app, `/whois ${carol.username}`);
  // Shown by code only (web/src/app/server-errors.js): the text of `forbidden`.
  await bob.app.locator('[data-testid=chat-system][data-level=error]').filter({ hasText: 'You are not allowed to do this.' }).first().waitFor();
  await say(alice.app, `/unban ${carol.username}`);
  await alice.app.locator('[data-testid=chat-system][data-key="chat.system.mod_unbanned"]').waitFor();
  await joinRoom(carol.app, 'lobby');
  for (const user of everyone) {
    await selectRoom(user.app, 'lobby');
    await waitForRoomKeys(user.app, names.filter((name) => name !== user.username));
  }
  await say(carol.app, 'back again');
  await waitForRoomLine(alice.app, carol.username, 'back again');

  // --- the limits: the counter at the server's 1040, flood control at its 20 a minute -------
  await bob.app.getByTestId('message-input').fill('x'.repeat(1041));
  assert.equal(await text(bob.app.getByTestId('message-counter')), '1041/1040');
  assert.equal(await bob.app.getByTestId('message-send').isDisabled(), true);
  await bob.app.getByTestId('message-input').fill('');
  let refused = null;
  for (let i = 0; i < 25 && !refused; i += 1) {
    await say(bob.app, `burst ${i}`);
    if (await bob.app.getByTestId('chat-input-error').count()) refused = await inputError(bob.app);
  }
  assert.equal(refused, 'flood');

  // --- nothing of the marker on the server side ---------------------------------------------
  assert.ok(wireFrames.length > 10, `bob's browser received ${wireFrames.length} binary frames`);
  assert.equal(wireFrames.filter((frame) => frame.includes(marker)).length, 0, 'the marker is not in any relayed frame');
  assert.ok(wireFrames.some((frame) => frame[0] === 3), 'room frames were relayed');
  const logs = suite.server.output();
  assert.ok(logs.length > 0);
  assert.equal(logs.includes(marker), false, 'the marker is not in the server log');
  for (const file of await fs.readdir(suite.server.dataDir, { recursive: true })) {
    const full = path.join(suite.server.dataDir, file);
    if ((await fs.stat(full)).isFile()) assert.equal((await fs.readFile(full)).includes(marker), false, `the marker is not in ${file}`);
  }

  for (const user of everyone) {
    assert.deepEqual(await violationsOf(user.app), []);
    assert.deepEqual(unexpectedProblems(user.problems), []);
  }
});
