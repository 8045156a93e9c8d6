// Phones and narrow windows (issue 15): one pane at a time, as Signal's and Element's web apps do
// (web/src/ui/phone-layout.js) — the lists (online users, tabs, conversations) → a conversation
// ("Back to conversations") → a room's members ("Back to conversation").
// - at 390×800 in a secure conversation the message input is wholly inside the window (also at
//   390×450, about what an on-screen keyboard leaves), and a typed message reaches the peer;
// - "Back to conversations" is a button by that name; focus goes into the pane shown (the
//   conversation left, the room's members heading, the Members button on the way back); the
//   skip link shows the conversation hidden behind the lists;
// - in a room the members pane opens and "Private conversation" and "Review their certificate"
//   work; the VoIP and Email tabs are reachable from the lists;
// - no sideways scroll in any of these states (and at 320×640); axe finds no serious or
//   critical violation in them; at 1100 px the panes are side by side again.
//
//   npm run build && node --test tests/e2e/phone-layout.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser } from './helpers/browser.mjs';
import {
  registeredUser, createIdentityInApp, waitForOnline, requestChannelWith, waitForChannelState, waitForPeerMessage,
  joinRoom, unexpectedProblems,
} from './helpers/app-flows.mjs';
import { waitForFocus } from './helpers/focus.mjs';
import { assertNoSeriousViolations } from '../helpers/axe.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ extraArgs: [...loopbackRateLimits] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const phone = { width: 390, height: 800 };

/** Pixels the page scrolls sideways (0: none). */
const sidewaysOverflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

async function noSidewaysScroll(page, state) {
  assert.equal(await sidewaysOverflow(page), 0, `no sideways scroll: ${state}`);
}

/**
 * The element's box, asserted wholly inside the window (no scrolling needed to see it). Polled
 * until a deadline: after a resize the window's height follows the visual viewport's resize event.
 */
async function assertInWindow(page, locator, what, timeoutMs = 5_000) {
  const viewport = page.viewportSize();
  const inside = (box) => Boolean(box) && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5 && box.y + box.height <= viewport.height + 0.5;
  const deadline = Date.now() + timeoutMs;
  let box = await locator.boundingBox();
  while (!inside(box) && Date.now() < deadline) {
    await page.waitForTimeout(100);
    box = await locator.boundingBox();
  }
  assert.ok(box, `${what} is rendered`);
  assert.ok(inside(box), `${what} is inside the ${viewport.width}×${viewport.height} window: ${JSON.stringify(box)}`);
  return box;
}

/** Clicks the pane's "Back" button by its accessible name (a real button). */
async function back(page, name) {
  await page.getByRole('button', { name, exact: true }).click();
}

test('390×800: lists → secure conversation (input in view, a message sent) → back; a room\'s members pane with every action; VoIP and Email reachable; 320×640', { timeout: 300_000 }, async (t) => {
  // Usernames sort carol < alice < bob: in a shared room the one who sorts first asks for the
  // channel, so Carol's offer reaches Alice unasked (her "Review their certificate").
  const carol = await registeredUser(t, browser, server.origin, 'pla');
  const alice = await registeredUser(t, browser, server.origin, 'plb');
  const bob = await registeredUser(t, browser, server.origin, 'plc');
  await alice.app.setViewportSize(phone);
  for (const user of [alice, bob, carol]) {
    await createIdentityInApp(user.app, { name: `${user.username} Example`, email: `${user.username}@example.org` });
  }
  await waitForOnline(alice.app, [alice.username, bob.username, carol.username]);

  // A key just made: the own certificate and what to do next, as the conversation pane.
  await alice.app.getByTestId('what-now').waitFor();
  assert.equal(await alice.app.getByTestId('online-user').first().isVisible(), false, 'the lists are one "Back" away');
  await back(alice.app, 'Back to conversations');
  await waitForFocus(alice.app, { testid: 'own-identity-entry' });
  await alice.app.locator(`[data-testid=online-user][data-username="${bob.username}"]`).waitFor();
  await alice.app.getByTestId('tab-chat').waitFor();
  await noSidewaysScroll(alice.app, 'lists');
  await assertNoSeriousViolations(alice.app, 'lists (390 px)');

  // "Secure channel" from the online list: the conversation takes the window.
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('offer-decision').waitFor();
  assert.equal(await alice.app.getByTestId('online-user').first().isVisible(), false, 'the online list is hidden in a conversation');
  assert.equal(await alice.app.getByTestId('tab-chat').isVisible(), false, 'the tabs are hidden in a conversation');
  await bob.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await alice.app.locator('[data-testid=channel-accept]:not([disabled])').click();
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);

  // The input inside the window, a typed message sent.
  const input = alice.app.getByTestId('message-input');
  await assertInWindow(alice.app, input, 'the message input at 390×800');
  await assertInWindow(alice.app, alice.app.getByTestId('message-send'), 'Send at 390×800');
  await input.click();
  await alice.app.keyboard.type('hello from a phone');
  await alice.app.keyboard.press('Enter');
  await waitForPeerMessage(bob.app, 'hello from a phone');
  await noSidewaysScroll(alice.app, 'secure conversation');
  await assertNoSeriousViolations(alice.app, 'secure conversation (390 px)');
  // About what an on-screen keyboard leaves of the window: the input is still in it.
  await alice.app.setViewportSize({ width: 390, height: 450 });
  await assertInWindow(alice.app, input, 'the message input at 390×450');
  await alice.app.setViewportSize(phone);

  // Back to the lists: focus on the conversation left.
  await back(alice.app, 'Back to conversations');
  const entry = alice.app.locator(`[data-testid=channel-entry][data-peer="${bob.username}"]`);
  await entry.waitFor();
  await waitForFocus(alice.app, { testid: 'channel-entry' });
  assert.equal(await alice.app.getByTestId('message-input').isVisible(), false, 'the conversation is hidden in the lists');
  // The skip link shows the conversation again, focus on its input.
  await alice.app.getByTestId('skip-link').focus();
  await alice.app.keyboard.press('Enter');
  await waitForFocus(alice.app, { testid: 'message-input' });
  await back(alice.app, 'Back to conversations');
  await waitForFocus(alice.app, { testid: 'channel-entry' });

  // The VoIP and Email tabs from the lists: shown, no sideways scroll, their actions in the window.
  await alice.app.getByTestId('tab-voip').click();
  await alice.app.getByTestId('panel-voip').waitFor();
  const audioCall = alice.app.getByTestId(`call-audio-${bob.username}`);
  await audioCall.waitFor();
  await assertInWindow(alice.app, audioCall, 'the VoIP tab\'s audio call button');
  await noSidewaysScroll(alice.app, 'VoIP tab');
  await alice.app.getByTestId('tab-email').click();
  await alice.app.getByTestId('panel-email').waitFor();
  await noSidewaysScroll(alice.app, 'Email tab');
  await assertNoSeriousViolations(alice.app, 'Email tab (390 px)');
  await alice.app.getByTestId('tab-chat').click();
  await entry.waitFor();

  // A room: joined from the lists, shown as the conversation; its members are a pane of their own.
  const room = `phone${Date.now().toString(36)}`;
  await alice.app.getByTestId('room-join-name').fill(room);
  await alice.app.getByTestId('room-join').click();
  await alice.app.getByTestId('room-title').waitFor();
  assert.equal(await alice.app.getByTestId('room-members').isVisible(), false, 'the members are one button away');
  for (const user of [bob, carol]) await joinRoom(user.app, room);
  const membersButton = alice.app.getByRole('button', { name: 'Members (3)' });
  await membersButton.waitFor();
  await assertInWindow(alice.app, alice.app.getByTestId('message-input'), 'the room\'s message input');
  await assertNoSeriousViolations(alice.app, 'room (390 px)');
  await membersButton.click();
  await waitForFocus(alice.app, { testid: 'room-members-heading' });
  assert.equal(await alice.app.getByTestId('room-title').isVisible(), false, 'the members take the pane');
  const carolRow = alice.app.locator(`[data-testid=room-member][data-username="${carol.username}"]`);
  const review = carolRow.getByRole('button', { name: 'Review their certificate' });
  await review.waitFor({ timeout: 30_000 });   // Carol's channel request reaches Alice unasked
  const bobPrivate = alice.app.locator(`[data-testid=room-member][data-username="${bob.username}"]`).getByRole('button', { name: 'Private conversation' });
  for (const [button, what] of [[review, 'Review their certificate'], [bobPrivate, 'Private conversation'],
    [carolRow.getByRole('button', { name: 'Private conversation' }), 'Carol\'s Private conversation']]) {
    await assertInWindow(alice.app, button, what);
  }
  await noSidewaysScroll(alice.app, 'members pane');
  await assertNoSeriousViolations(alice.app, 'members pane (390 px)');

  // "Back to conversation" returns to the room, focus on the Members button.
  await back(alice.app, 'Back to conversation');
  await waitForFocus(alice.app, { testid: 'room-members-show' });
  await alice.app.getByTestId('room-title').waitFor();

  // "Review their certificate": Carol's offer, in the conversation pane.
  await membersButton.click();
  await review.click();
  const decision = alice.app.getByTestId('offer-decision');
  await decision.waitFor();
  assert.match(await alice.app.getByTestId('channel-heading').textContent(), new RegExp(carol.username));
  await assertInWindow(alice.app, alice.app.getByTestId('channel-reject'), 'Reject of Carol\'s offer');
  await assertNoSeriousViolations(alice.app, 'certificate review (390 px)');

  // "Private conversation" with Bob from the room's members: the secure conversation again.
  await back(alice.app, 'Back to conversations');
  await alice.app.locator(`[data-testid=room-entry][data-name="${room}"]`).click();
  await membersButton.click();
  await bobPrivate.click();
  await waitForChannelState(alice.app, 'secure');
  await assertInWindow(alice.app, alice.app.getByTestId('message-input'), 'the input of the private conversation');

  // 320×640: the conversation and the members pane still fit.
  await alice.app.setViewportSize({ width: 320, height: 640 });
  await assertInWindow(alice.app, alice.app.getByTestId('message-input'), 'the message input at 320×640');
  await assertInWindow(alice.app, alice.app.getByTestId('message-send'), 'Send at 320×640');
  await noSidewaysScroll(alice.app, 'secure conversation at 320 px');
  await back(alice.app, 'Back to conversations');
  await alice.app.locator(`[data-testid=room-entry][data-name="${room}"]`).click();
  await membersButton.click();
  await assertInWindow(alice.app, bobPrivate, 'Private conversation at 320×640');
  await noSidewaysScroll(alice.app, 'members pane at 320 px');

  // Wide again: the panes side by side, no "Back", the members beside the room.
  await alice.app.setViewportSize({ width: 1100, height: 760 });
  await alice.app.getByTestId('room-members').waitFor();
  await alice.app.getByTestId('room-title').waitFor();
  assert.equal(await alice.app.getByTestId('pane-back').isVisible(), false, 'no "Back" on a wide window');
  assert.equal(await alice.app.getByTestId('room-members-show').isVisible(), false, 'no Members button on a wide window');
  assert.equal(await alice.app.getByTestId('online-user').first().isVisible(), true, 'the online list beside');

  for (const user of [alice, bob, carol]) assert.deepEqual(unexpectedProblems(user.problems), [], `${user.username}: console problems`);
});
