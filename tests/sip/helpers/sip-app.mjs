// The SIP phone end to end: the real secms-server (its data directory initialised first, so the
// SIP edge can read its users.db and secret), the real Kamailio and rtpengine of
// tests/helpers/sip-edge.mjs on free loopback ports, and the server told the edge's WebSocket
// URL. Browser users come from the end-to-end helpers; the phone is driven by its data-testids
// (web/src/ui/sip/*) and read from the page's hooks: <html data-sip-registration> and
// <html data-sip-call-phase> (web/src/app/app.js).
//
// Audio is measured with RTCPeerConnection statistics: an init script keeps every peer
// connection the page makes in window.__secmsPeerConnections (SIP.js makes one per call).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { registeredUser } from '../../e2e/helpers/app-flows.mjs';
import { build } from '../../../web/build.mjs';
import { serverBinaryAvailable, serverBinary } from '../../e2e/helpers/server.mjs';
import { loopbackRateLimits, runServerCommand, startServer } from '../../helpers/secms-server.mjs';
import { startSipEdge } from '../../helpers/sip-edge.mjs';
import { until as untilCondition } from '../../helpers/until.mjs';

export const SIP_DOMAIN = 'localhost';
let webBuilt = null;

/**
 * `secms-server init` on a fresh data directory, the SIP edge on it, then the server with the
 * edge's WebSocket URL and phone proxies. Resolves { server, edge, secret, dataDir, stop() }.
 */
export async function startSipStack({ extraArgs = [] } = {}) {
  assert.ok(await serverBinaryAvailable(), `secms-server not built (${serverBinary})`);
  webBuilt ??= build();   // the pages under test are the current sources
  await webBuilt;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-sipapp-'));
  const init = await runServerCommand(['--data-dir', dataDir, 'init']);
  assert.equal(init.code, 0, `secms-server init: ${init.stdout}${init.stderr}`);
  const secret = (await readFile(path.join(dataDir, 'sip', 'secret'), 'utf8')).trim();
  let edge = null;
  let server = null;
  const stop = async () => {
    await server?.stop().catch(() => {});
    await edge?.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    edge = await startSipEdge({ dataDir, secret, domain: SIP_DOMAIN });
    server = await startServer({
      dataDir,
      logLevel: 'warn',
      extraArgs: [
        ...loopbackRateLimits,
        '--sip-domain', SIP_DOMAIN, '--sip-websocket-url', edge.wssUrl,
        '--sip-phone-proxy', `127.0.0.1:${edge.udpPort}`, '--sip-phone-tls-proxy', `127.0.0.1:${edge.tlsPort}`,
        ...extraArgs,
      ],
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, edge, secret, dataDir, stop };
}

/** Init script: every RTCPeerConnection the page makes is kept in window.__secmsPeerConnections. */
export const trackPeerConnections = () => {
  const Native = window.RTCPeerConnection;
  const made = [];
  Object.defineProperty(window, '__secmsPeerConnections', { value: made });
  if (!Native) return;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
};

/**
 * A registered, logged-in app user whose VoIP tab was shown once (that starts the phone) and
 * whose phone is registered. Resolves registeredUser's entry plus `sipUser` (lower-cased name).
 */
export async function phoneUser(t, browser, origin, prefix) {
  const user = await registeredUser(t, browser, origin, prefix, { initScript: trackPeerConnections });
  user.sipUser = user.username.toLowerCase();
  await showTab(user.app, 'voip');
  try {
    await registrationIs(user.app, 'registered');
  } catch (error) {
    const seen = await user.app.getByTestId('sip-phone').innerText().catch((e) => e.message);
    throw new Error(`${user.username}'s phone did not register: ${error.message}\nphone: ${seen}\nconsole: ${user.problems.join('\n')}`);
  }
  return user;
}

export const showTab = (page, id) => page.getByTestId(`tab-${id}`).click();

/** Waits until <html data-sip-registration> is `state`. */
export const registrationIs = (page, state, timeout = 30_000) =>
  page.waitForFunction((s) => document.documentElement.dataset.sipRegistration === s, state, { timeout });

/** Waits until <html data-sip-call-phase> is `phase` ('none' when no call). */
export const sipPhaseIs = (page, phase, timeout = 30_000) =>
  page.waitForFunction((p) => document.documentElement.dataset.sipCallPhase === p, phase, { timeout });

/** Waits until the SIP call has ended (no call, or the last one ended). */
export const sipCallOver = (page, timeout = 30_000) =>
  page.waitForFunction(() => ['none', 'ended'].includes(document.documentElement.dataset.sipCallPhase), null, { timeout });

/** Types `address` in the phone's address field and presses "Call". */
export async function dial(page, address) {
  await page.getByTestId('sip-address').fill(address);
  await page.getByTestId('sip-call-audio').click();
}

/** Accepts the ringing call in its dialog (its button is armed a moment after it opens). */
export async function acceptIncoming(page) {
  const accept = page.getByTestId('sip-accept');
  await accept.waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => {
    const dialog = document.querySelector('secms-sip-incoming')?.shadowRoot;
    return dialog?.querySelector('[data-testid="sip-accept"]')?.getAttribute('aria-disabled') === 'false';
  }, null, { timeout: 10_000 });
  await accept.click();
}

/**
 * RTP audio counters of the page's newest peer connection still open:
 * { received: inbound bytes, sent: outbound bytes, direction: the audio transceiver's
 * currentDirection }, or null when there is none.
 */
export const audioStats = (page) => page.evaluate(async () => {
  const open = window.__secmsPeerConnections.filter((pc) => pc.connectionState !== 'closed');
  const pc = open[open.length - 1];
  if (!pc) return null;
  let received = 0;
  let sent = 0;
  for (const report of (await pc.getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') received += report.bytesReceived ?? 0;
    if (report.type === 'outbound-rtp' && report.kind === 'audio') sent += report.bytesSent ?? 0;
  }
  const transceiver = pc.getTransceivers().find((tr) => tr.receiver.track?.kind === 'audio');
  return { received, sent, direction: transceiver?.currentDirection ?? null, state: pc.connectionState };
});

/** Polls `read` until `accept(value)` (every 200 ms, 30 s by default: SIP set-up through the edge is slow on a loaded machine). */
export const until = (read, accept, what, timeoutMs = 30_000) => untilCondition(read, accept, what, timeoutMs, 200);

/** Waits until the page's inbound audio bytes grow by more than `bytes` from now. */
export async function audioArrives(page, what, bytes = 2000) {
  const start = await until(() => audioStats(page), (s) => s !== null, `${what}: a peer connection`);
  return until(() => audioStats(page), (s) => s !== null && s.received > start.received + bytes, `${what}: inbound audio grows`);
}

/** The phone's history entries, newest first: [{ outcome, direction }]. */
export const sipHistory = (page) =>
  page.getByTestId('sip-history-entry').evaluateAll((items) => items.map(({ dataset }) => ({ outcome: dataset.outcome, direction: dataset.direction })));

/** Waits until the newest history entry has `outcome` (and `direction` when given). */
export const lastHistoryIs = (page, outcome, direction) =>
  until(() => sipHistory(page), (list) => list[0]?.outcome === outcome && (!direction || list[0]?.direction === direction),
    `history entry ${direction ?? ''} ${outcome}`);

// Sum of the inbound audio energy of the page's newest open peer connection (grows while sound,
// not just packets, arrives).
const inboundAudioEnergy = (page) => page.evaluate(async () => {
  const open = window.__secmsPeerConnections.filter((pc) => pc.connectionState !== 'closed');
  let energy = 0;
  for (const report of (await open[open.length - 1].getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') energy += report.totalAudioEnergy ?? 0;
  }
  return energy;
});

/** Waits until the page's inbound audio energy grows over a second (sound is heard). */
export async function inboundSoundArrives(page, what) {
  await until(async () => {
    const first = await inboundAudioEnergy(page);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return (await inboundAudioEnergy(page)) - first;
  }, (delta) => delta > 1e-3, `${what}: inbound audio energy grows`);
}
