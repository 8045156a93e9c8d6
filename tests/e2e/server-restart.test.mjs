// The server dies under two browsers (issue 14, "Faults survived"): alice and bob share a room
// and the pairwise secure channel it made; the server stops answering (SIGSTOP), each types a line
// (bob in the channel, alice in the room) that the page sends into a socket nobody reads, and the
// server is killed (SIGKILL) and restarted on the same port and data directory.
//
// Required, and checked here:
// - both pages see the connection drop and retry (more than one attempt while the server is
//   down, spaced by web/src/net/reconnect-backoff.js); no input is offered while offline;
// - the two lines sent into the dead server are marked "not confirmed", never "sent" or
//   "delivered", and they never arrive;
// - logins live in the server's memory only, so after the restart every login is gone: each page
//   says so ("Your session has ended", naming a server restart) and stops retrying;
// - after logging in again (alice from the notice's "Go to the start page", bob from his start
//   page tab; either way the app opens again in the app window), with a new identity, the room
//   joined again by name and the channel offer accepted, the room and the channel work again
//   with fresh keys: lines are delivered and marked so on both sides.
//
//   npm run build && node --test tests/e2e/server-restart.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../web/build.mjs';
import { startServer, request, serverBinary, loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, violationsOf } from './helpers/browser.mjs';
import {
  registeredUser, createIdentityInApp, joinRoom, selectRoom, acceptChannelsUntilSecure, waitForRoomKeys, waitForRoomLine,
  sendChannelMessage, waitForPeerMessage, openLanding, strongPassword,
} from './helpers/app-flows.mjs';

const HEALTH_TIMEOUT_MS = 30_000;
// The page retries with a backoff that reaches 30 s; the restart is noticed at the next retry.
const NOTICE_TIMEOUT_MS = 90_000;

try {
  await access(serverBinary, constants.X_OK);
} catch {
  throw new Error(`secms-server is not built (${serverBinary}): cmake --preset dev && cmake --build --preset dev`);
}

await build();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-restart-'));
const first = await startServer({ dataDir, extraArgs: [...loopbackRateLimits], logLevel: 'warn' });
const browser = await launchBrowser();
let restarted = null;   // the child process of the second run
let restartedOutput = '';

after(async () => {
  await browser.close().catch(() => {});
  await first.stop().catch(() => {});
  if (restarted && restarted.exitCode === null && restarted.signalCode === null) {
    const exited = new Promise((resolve) => restarted.once('exit', resolve));
    restarted.kill('SIGTERM');
    const timer = setTimeout(() => restarted.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; throws `what` after timeoutMs. */
async function until(what, probe, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Starts the binary again with the first run's arguments (same ports, origin, data directory). */
async function restartServer() {
  restarted = spawn(serverBinary, first.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  restarted.stdout.on('data', (data) => (restartedOutput += data));
  restarted.stderr.on('data', (data) => (restartedOutput += data));
  let spawnError = null;
  restarted.on('error', (error) => { spawnError = error; });
  await until('the restarted server to answer /healthz', async () => {
    if (spawnError) throw new Error(`the restarted server could not start: ${spawnError.message}`);
    if (restarted.exitCode !== null) throw new Error(`the restarted server exited (${restarted.exitCode}):\n${restartedOutput}`);
    try {
      return (await request(first, 'GET', '/healthz', { timeoutMs: 1_000 })).status === 200;
    } catch {
      return false;   // not listening yet
    }
  }, HEALTH_TIMEOUT_MS);
}

const connectionState = (page) => page.getByTestId('connection-status').getAttribute('data-state');
const ownLine = (page, text) => page.locator('[data-testid=channel-message][data-from=me]').filter({ hasText: text });

/** Shows the private conversation with `peer` (the channel the room made). */
async function selectChannel(page, peer) {
  await page.locator(`[data-testid=channel-entry][data-peer="${peer}"]`).first().click();
  await page.locator('[data-testid=channel-state][data-state=secure]').waitFor({ timeout: 25_000 });
}

/** Logs in on the start page `formPage`; the app opens in the window named for it, `appPage`. */
async function logInAgain(formPage, appPage, username) {
  await formPage.getByTestId('auth-form').waitFor();
  await formPage.getByRole('tab', { name: 'Log in' }).click();
  await formPage.locator('#username').fill(username);
  await formPage.locator('#password').fill(strongPassword);
  await formPage.getByTestId('submit').click();
  await appPage.getByTestId('app-shell').waitFor({ timeout: 30_000 });
  return appPage;
}

/** Counts the WebSocket connections a page opens (successful or not). */
function countSockets(page) {
  const counter = { count: 0 };
  page.on('websocket', () => { counter.count += 1; });
  return counter;
}

test('SIGKILL under two browsers: lines sent into the dead server are marked not confirmed, both are told to log in again, then room and channel come back with fresh keys',
  { timeout: 420_000 }, async (t) => {
    const room = `restart${Date.now().toString(36)}`;
    const alice = await registeredUser(t, browser, first.origin, 'alice');
    const bob = await registeredUser(t, browser, first.origin, 'bob');
    const aliceSockets = countSockets(alice.app);
    const bobSockets = countSockets(bob.app);
    const fingerprintsBefore = await Promise.all([
      createIdentityInApp(alice.app, { name: 'Alice', email: 'alice@example.org' }),
      createIdentityInApp(bob.app, { name: 'Bob', email: 'bob@example.org' }),
    ]);

    // --- before: a room and the secure channel it made, both carrying lines ----------------
    for (const user of [alice, bob]) await joinRoom(user.app, room);
    await Promise.all([alice, bob].map((user) => acceptChannelsUntilSecure(user.app, 1)));
    await selectRoom(alice.app, room);
    await waitForRoomKeys(alice.app, [bob.username]);
    await selectRoom(bob.app, room);
    await waitForRoomKeys(bob.app, [alice.username]);
    await sendChannelMessage(alice.app, 'room line before');
    await waitForRoomLine(bob.app, alice.username, 'room line before');
    await ownLine(alice.app, 'room line before').and(alice.app.locator('[data-status=delivered]')).waitFor({ timeout: 15_000 });

    await selectChannel(bob.app, alice.username);
    await selectChannel(alice.app, bob.username);
    const sessionBefore = await alice.app.locator('[data-testid=channel-entry][data-state=secure]').first().getAttribute('data-session');
    await sendChannelMessage(bob.app, 'private line before');
    await waitForPeerMessage(alice.app, 'private line before');
    await ownLine(bob.app, 'private line before').and(bob.app.locator('[data-status=delivered]')).waitFor({ timeout: 15_000 });
    await selectRoom(alice.app, room);

    // --- the server hangs: each page sends a line into a socket nobody reads -------------------
    first.process.kill('SIGSTOP');
    await sendChannelMessage(bob.app, 'private line lost');
    await sendChannelMessage(alice.app, 'room line lost');
    await ownLine(bob.app, 'private line lost').waitFor();
    await ownLine(alice.app, 'room line lost').waitFor();
    assert.equal(await ownLine(bob.app, 'private line lost').getAttribute('data-status'), 'sent');
    assert.equal(await ownLine(alice.app, 'room line lost').getAttribute('data-status'), 'sent');

    // --- SIGKILL: the connections drop --------------------------------------------------------
    const socketsAtKill = [aliceSockets.count, bobSockets.count];
    first.process.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');

    for (const page of [alice.app, bob.app]) {
      await until('the page to notice the drop', async () => ['reconnecting', 'connecting'].includes(await connectionState(page)));
    }
    // The lines sent into the dead server say so: not confirmed, not "sent", never "delivered".
    await ownLine(bob.app, 'private line lost').and(bob.app.locator('[data-status=unconfirmed]')).waitFor({ timeout: 10_000 });
    await ownLine(alice.app, 'room line lost').and(alice.app.locator('[data-status=unconfirmed]')).waitFor({ timeout: 10_000 });
    assert.match(await ownLine(bob.app, 'private line lost').getByTestId('message-status').textContent(), /not confirmed/);
    assert.match(await ownLine(alice.app, 'room line lost').getByTestId('message-status').textContent(), /not confirmed · delivered to 0\/1/);
    // Lines that had their receipt keep it.
    assert.equal(await ownLine(alice.app, 'room line before').getAttribute('data-status'), 'delivered');
    // Offline, nothing can be typed: neither the ended channel nor the left room offers an input.
    assert.equal(await bob.app.getByTestId('message-input').count(), 0, 'no input in the ended channel');
    assert.equal(await alice.app.getByTestId('message-input').count(), 0, 'no input in the room while offline');
    assert.equal(await bob.app.locator('[data-testid=channel-state]').getAttribute('data-state'), 'ended');

    // Both pages retry while the server is down (the backoff spaces the attempts).
    await until('a second connection attempt from each page', () => aliceSockets.count >= socketsAtKill[0] + 2 && bobSockets.count >= socketsAtKill[1] + 2, 30_000);

    // --- restart on the same port and data directory: every login is gone -------------------
    await restartServer();
    for (const page of [alice.app, bob.app]) {
      const notice = page.getByTestId('session-ended');
      await notice.waitFor({ timeout: NOTICE_TIMEOUT_MS });
      // The notice card draws its heading and text in its own shadow root: text locators pierce it.
      await notice.getByText('Your session has ended').waitFor();
      await notice.getByText(/the server restarted \(it keeps logins in memory only\)\. Log in again/).waitFor();
      await page.getByTestId('back-to-start').waitFor();
      assert.equal(await page.getByTestId('connection-status').count(), 0, 'the app shell is gone');
    }
    // And the pages stop retrying: no new attempt once the notice is shown.
    const socketsAtNotice = [aliceSockets.count, bobSockets.count];
    await sleep(5_000);
    assert.deepEqual([aliceSockets.count, bobSockets.count], socketsAtNotice, 'no reconnect loop after the login ended');

    // --- log in again: alice from the notice's "Back to the start page", bob from his start page
    // The app window keeps its window name ('secms-app'): logging in again, from the start page the
    // notice leads to (in that same window) or from the start page tab, opens the app in it again.
    await alice.app.getByTestId('back-to-start').click();
    const aliceApp = await logInAgain(alice.app, alice.app, alice.username);
    await openLanding(bob.landing, first.origin);
    const bobApp = await logInAgain(bob.landing, bob.app, bob.username);
    for (const page of [aliceApp, bobApp]) {
      await until('the new window online', async () => (await connectionState(page)) === 'online');
    }

    // The page kept nothing (logins end with a wipe): a new key pair each, the room joined again
    // by name (one action), the channel offer reviewed again.
    const fingerprintsAfter = await Promise.all([
      createIdentityInApp(aliceApp, { name: 'Alice', email: 'alice@example.org' }),
      createIdentityInApp(bobApp, { name: 'Bob', email: 'bob@example.org' }),
    ]);
    assert.notEqual(fingerprintsAfter[0], fingerprintsBefore[0]);
    assert.notEqual(fingerprintsAfter[1], fingerprintsBefore[1]);
    for (const page of [aliceApp, bobApp]) await joinRoom(page, room);
    await Promise.all([aliceApp, bobApp].map((page) => acceptChannelsUntilSecure(page, 1)));
    await selectRoom(aliceApp, room);
    await waitForRoomKeys(aliceApp, [bob.username]);
    await selectRoom(bobApp, room);
    await waitForRoomKeys(bobApp, [alice.username]);
    await sendChannelMessage(aliceApp, 'room line after');
    await waitForRoomLine(bobApp, alice.username, 'room line after');
    await ownLine(aliceApp, 'room line after').and(aliceApp.locator('[data-status=delivered]')).waitFor({ timeout: 15_000 });

    await selectChannel(bobApp, alice.username);
    await selectChannel(aliceApp, bob.username);
    const sessionAfter = await aliceApp.locator('[data-testid=channel-entry][data-state=secure]').first().getAttribute('data-session');
    assert.notEqual(sessionAfter, sessionBefore, 'a new channel, not the old one resumed');
    await sendChannelMessage(bobApp, 'private line after');
    await waitForPeerMessage(aliceApp, 'private line after');
    await ownLine(bobApp, 'private line after').and(bobApp.locator('[data-status=delivered]')).waitFor({ timeout: 15_000 });

    // The lines lost with the server never arrived anywhere.
    for (const page of [aliceApp, bobApp]) {
      assert.equal(await page.locator('[data-testid=channel-message]').filter({ hasText: 'line lost' }).count(), 0);
    }
    await selectRoom(bobApp, room);
    assert.equal(await bobApp.locator('[data-testid=channel-message]').filter({ hasText: 'room line lost' }).count(), 0);

    for (const page of [bob.landing, aliceApp, bobApp]) assert.deepEqual(await violationsOf(page), []);
  });
