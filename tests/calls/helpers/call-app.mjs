// The application side of the call tests and benchmarks: the real secms-server (optionally with
// coturn beside it, sharing the TURN secret of the data directory), certified users in browser
// contexts, secure channels between them, and the call UI driven the way a user drives it
// (buttons by data-testid; Playwright's locators pierce the Lit shadow roots). State is read from
// the documented hooks: <html data-call-phase>, data-call-security, data-call-media-frames
// ("<encrypted>:<decrypted>", the crypto Worker's SFrame frame counts) and the call UI's
// data-testids (tests/e2e/helpers/README.md, web/src/ui/call-view.js).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../../web/build.mjs';
import { startCoturn } from '../../helpers/coturn.mjs';
import { loopbackRateLimits, runServerCommand, startServer } from '../../helpers/secms-server.mjs';
import { serverBinaryAvailable, serverBinary, startServer as startAppServer } from '../../e2e/helpers/server.mjs';
import { registeredUser, createIdentityInApp, requestChannelWith, waitForChannelState } from '../../e2e/helpers/app-flows.mjs';
import { launchCallBrowser } from './browser.mjs';
import { until } from '../../helpers/until.mjs';

let webBuilt = null;

/**
 * Builds the front end once per process, initialises a data directory (`secms-server init`
 * makes the TURN secret), starts coturn with that secret when `turn` is true, then the server
 * with coturn's URLs (or none). Resolves { origin, server, turn, secret, stop() }.
 */
export async function startCallServer({ turn = false, extraArgs = [] } = {}) {
  assert.ok(await serverBinaryAvailable(), `secms-server not built (${serverBinary})`);
  webBuilt ??= build();
  await webBuilt;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-calls-'));
  const init = await runServerCommand(['--data-dir', dataDir, 'init']);
  assert.equal(init.code, 0, `secms-server init: ${init.stdout}${init.stderr}`);
  const secret = (await readFile(path.join(dataDir, 'turn', 'secret'), 'utf8')).trim();
  const coturn = turn ? await startCoturn({ secret }) : null;
  const server = await startServer({
    dataDir,
    logLevel: 'warn',
    extraArgs: [...loopbackRateLimits, '--turn-urls', coturn ? coturn.urls.join(',') : '', ...extraArgs],
  });
  return {
    origin: server.origin,
    server,
    turn: coturn,
    secret,
    async stop() {
      await server.stop().catch(() => {});
      await coturn?.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registered users with an identity each, registered in parallel. `t` needs only after(fn) (a
 * test context, or { after } collecting clean-ups outside node:test).
 */
export async function certifiedUsers(t, browser, origin, prefixes) {
  const users = await Promise.all(prefixes.map((prefix) => registeredUser(t, browser, origin, prefix)));
  // Failed loads, with their URL (the console message of a failed load does not name it).
  for (const user of users) {
    user.failedLoads = [];
    user.context.on('response', (response) => {
      if (response.status() >= 404) user.failedLoads.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
  }
  await Promise.all(users.map((u, i) => createIdentityInApp(u.app, { name: `User ${i}`, email: `${u.username}@example.org` })));
  return users;
}

/**
 * Opens a secure channel from `a` to `b`, each side reviewing and accepting the other's
 * certificate. `b` first picks `a`'s offer from its channel list; with `pickOffer` false it
 * accepts the offer its app shows by itself (its only one).
 */
export async function openChannel(a, b, { pickOffer = true } = {}) {
  await requestChannelWith(a.app, b.username);
  await a.app.getByTestId('peer-report').waitFor();
  await a.app.getByTestId('channel-accept').click();
  if (pickOffer) {
    const offer = b.app.locator(`[data-testid=channel-entry][data-peer="${a.username}"][data-state=verifying]`);
    await offer.waitFor({ timeout: 20_000 });
    await offer.click();
  }
  await b.app.getByTestId('peer-report').waitFor();
  await b.app.getByTestId('channel-accept').click();
  await Promise.all([waitForChannelState(a.app, 'secure'), waitForChannelState(b.app, 'secure')]);
}

/**
 * The set-up of a call test file on the server alone (no coturn): the real server with the
 * loopback rate limits and a call browser, started before the file's tests and stopped after
 * them. A missing server binary fails the file. Resolves { server, browser }, set once the
 * tests run.
 */
export async function useCallApp() {
  const { before, after } = await import('node:test');
  const suite = { server: null, browser: null };
  before(async () => {
    assert.ok(await serverBinaryAvailable(), `secms-server not built (${serverBinary})`);
    suite.server = await startAppServer({ extraArgs: [...loopbackRateLimits] });
    suite.browser = await launchCallBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  return suite;
}

/**
 * Two users of `suite` (useCallApp) registered in parallel (`names`, with registeredUser's
 * `options` each), an identity each ("A", "B"), and a secure channel the first opens to the
 * second. Resolves [a, b].
 */
export async function securePair(t, suite, { names = ['alice', 'bob'], options = [{}, {}] } = {}) {
  const [a, b] = await Promise.all(names.map((name, index) => registeredUser(t, suite.browser, suite.server.origin, name, options[index])));
  await createIdentityInApp(a.app, { name: 'A', email: 'a@example.org' });
  await createIdentityInApp(b.app, { name: 'B', email: 'b@example.org' });
  await openChannel(a, b, { pickOffer: false });
  return [a, b];
}

const html = (page) => page.evaluate(() => ({ ...document.documentElement.dataset }));

/** Calls root.callActions[name](argument) in the page; resolves its result as JSON data (null for none). */
export const callAction = (page, name, argument) => page.evaluate(([n, a]) => {
  const result = document.querySelector('secms-app-root').callActions[n](a);
  return Promise.resolve(result).then((value) => (value === undefined ? null : JSON.parse(JSON.stringify(value))));
}, [name, argument ?? null]);

/** Waits until <html data-call-phase> is `phase`. */
export const phaseIs = (page, phase, timeout = 20_000) =>
  page.waitForFunction((p) => document.documentElement.dataset.callPhase === p, phase, { timeout });

/** Waits until <html data-call-security> is `state`. */
export const securityIs = (page, state, timeout = 20_000) =>
  page.waitForFunction((s) => document.documentElement.dataset.callSecurity === s, state, { timeout });

/** The crypto Worker's SFrame counts: { encrypted, decrypted } frames of the current call. */
export async function mediaFrames(page) {
  const { callMediaFrames } = await html(page);
  assert.match(callMediaFrames ?? '', /^\d+:\d+$/, 'data-call-media-frames is set while a call is connected');
  const [encrypted, decrypted] = callMediaFrames.split(':').map(Number);
  return { encrypted, decrypted };
}

/** Frames the call view's remote <video> has presented so far (getVideoPlaybackQuality). */
export const remoteVideoFrames = (page) =>
  page.getByTestId('call-remote-video').evaluate((video) => video.getVideoPlaybackQuality().totalVideoFrames);

/**
 * Frames decoded from the call's remote stream, measured by playing it in a video element of its
 * own for `ms`; -1 when it does not start playing within 5 s.
 */
export const decodedFrames = (page, ms = 1500) => page.evaluate(async (wait) => {
  const { call } = document.querySelector('secms-app-root').calls.get();
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = call.remoteStream;
  const played = await Promise.race([video.play().then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
  if (!played) return -1;
  const before = video.getVideoPlaybackQuality().totalVideoFrames;
  await new Promise((resolve) => setTimeout(resolve, wait));
  const after = video.getVideoPlaybackQuality().totalVideoFrames;
  video.srcObject = null;
  return after - before;
}, ms);

export { until };

/** Waits until the remote video element has presented more than `after` frames. */
export const remoteVideoRisesAbove = (page, after, timeoutMs = 15_000) =>
  until(() => remoteVideoFrames(page).catch(() => -1), (n) => n > after, 'remote video frames', timeoutMs);

/** From the VoIP tab: "Audio call" / "Video call" beside the peer. */
export async function callFromVoip(page, peer, { video }) {
  await page.getByTestId('tab-voip').click();
  await page.getByTestId(`call-${video ? 'video' : 'audio'}-${peer}`).click();
}

/** The callee's incoming-call dialog: accept (with or without video) or decline. */
export async function answer(page, choice) {
  const id = { audio: 'call-accept', video: 'call-accept-video', decline: 'call-decline' }[choice];
  await page.getByTestId(id).click();
}

/** The call-log entries of the VoIP tab, newest first: [{ outcome, peer, direction, media }]. */
export const callLog = (page) =>
  page.getByTestId('call-log-entry').evaluateAll((items) => items.map(({ dataset }) => ({
    outcome: dataset.outcome, peer: dataset.peer, direction: dataset.direction, media: dataset.media,
  })));
