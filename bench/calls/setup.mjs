// Call set-up time (issue: calls, "Benchmark"): from the callee's click on "Accept with video"
// to the first remote video frame decoded and presented on each side, over N calls placed
// directly and N through coturn ("Hide my IP address" on both sides: iceTransportPolicy
// 'relay'). The application is the real one (secms-server, the crypto Worker's SFrame transform
// on every frame, signalling inside the secure channel); two users in two contexts of one
// Chromium. Times are read in the pages (Date.now(), one machine clock): the accept click by a
// capturing listener on the callee's window, the first frame by polling every 5 ms the call
// view's remote <video> (getVideoPlaybackQuality().totalVideoFrames > 0).
//
// Runs inside the loopback-only network namespace:
//   bash scripts/loopback-netns.sh env SECMS_SERVER_BIN=… node bench/calls/setup.mjs [--calls 20]
//     [--paths direct,relay] [--json FILE]

import assert from 'node:assert/strict';
import os from 'node:os';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { launchCallBrowser } from '../../tests/calls/helpers/browser.mjs';
import {
  startCallServer, certifiedUsers, openChannel, phaseIs, securityIs, callFromVoip, until,
} from '../../tests/calls/helpers/call-app.mjs';

// Installed in both pages before the accept click: records when the call view's remote video
// first presents a frame (and, on the callee, when "Accept with video" was clicked).
const armProbe = () => {
  const deepFind = (root, selector) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const element of root.querySelectorAll('*')) {
      const inner = element.shadowRoot && deepFind(element.shadowRoot, selector);
      if (inner) return inner;
    }
    return null;
  };
  const probe = { acceptAt: null, firstFrameAt: null };
  window.__setupProbe = probe;
  window.addEventListener('click', (event) => {
    if (probe.acceptAt === null && event.composedPath().some((node) => node.dataset?.testid === 'call-accept-video')) probe.acceptAt = Date.now();
  }, { capture: true });
  let video = null;
  const timer = setInterval(() => {
    video ??= deepFind(document, '[data-testid="call-remote-video"]');
    if (video && video.getVideoPlaybackQuality().totalVideoFrames > 0) {
      probe.firstFrameAt = Date.now();
      clearInterval(timer);
    }
  }, 5);
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
function summarise(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return { n: sorted.length, median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), min: sorted[0], max: sorted.at(-1) };
}

async function setHideIp(user, on) {
  await user.app.getByTestId('tab-voip').click();
  await user.app.getByTestId('hide-ip').setChecked(on);
  await until(() => user.app.evaluate(() => document.querySelector('secms-app-root').calls.get().hideIp), (v) => v === on, 'hide-ip preference');
}

async function oneCall(caller, callee, path) {
  await callFromVoip(caller.app, callee.username, { video: true });
  await phaseIs(callee.app, 'incoming');
  await Promise.all([caller.app, callee.app].map((page) => page.evaluate(armProbe)));
  await callee.app.getByTestId('call-accept-video').click();
  const probes = await until(
    () => Promise.all([caller.app, callee.app].map((page) => page.evaluate(() => window.__setupProbe))),
    ([a, b]) => a.firstFrameAt !== null && b.firstFrameAt !== null, 'first remote frames on both sides', 20_000);
  const [{ firstFrameAt: callerFrame }, { acceptAt, firstFrameAt: calleeFrame }] = probes;
  assert.ok(acceptAt !== null, 'the accept click was seen');
  // Each call is end-to-end encrypted (the page's verdict) before its path is read.
  await Promise.all([securityIs(caller.app, 'encrypted'), securityIs(callee.app, 'encrypted')]);
  const shownPath = await caller.app.evaluate(() => document.querySelector('secms-app-root').calls.get().call?.security.path);
  await caller.app.getByTestId('call-hangup').click();
  await Promise.all([phaseIs(caller.app, 'ended'), phaseIs(callee.app, 'ended')]);
  return { path, shownPath, callerMs: callerFrame - acceptAt, calleeMs: calleeFrame - acceptAt, bothMs: Math.max(callerFrame, calleeFrame) - acceptAt };
}

export async function runSetup({ calls = 20, paths = ['direct', 'relay'], log = console.error } = {}) {
  const cleanups = [];
  // Generous TURN credential limits: every call fetches credentials on both sides.
  const app = await startCallServer({ turn: true, extraArgs: ['--turn-per-user-burst', '1000', '--turn-per-user-per-minute', '1000'] });
  const browser = await launchCallBrowser();
  const results = [];
  try {
    const [alice, bob] = await certifiedUsers({ after: (fn) => cleanups.push(fn) }, browser, app.origin, ['alice', 'bob']);
    await openChannel(alice, bob);
    for (const path of paths) {
      for (const user of [alice, bob]) await setHideIp(user, path === 'relay');
      for (let i = 0; i < calls; i += 1) {
        const result = await oneCall(alice, bob, path);
        // The path the call really took, as the page measured it (getStats candidate pair).
        assert.equal(result.shownPath, path, `call ${i} took the ${result.shownPath} path`);
        log(`${path} #${i + 1}: caller ${result.callerMs} ms, callee ${result.calleeMs} ms`);
        results.push(result);
      }
    }
  } finally {
    for (const fn of cleanups) await fn();
    await browser.close();
    await app.stop();
  }
  const summary = paths.map((path) => {
    const of = results.filter((r) => r.path === path);
    return { path, caller: summarise(of.map((r) => r.callerMs)), callee: summarise(of.map((r) => r.calleeMs)), both: summarise(of.map((r) => r.bothMs)) };
  });
  return { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, kernel: os.release() }, calls, results, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '20' }, paths: { type: 'string', default: 'direct,relay' }, json: { type: 'string' } } });
  const figures = await runSetup({ calls: Number(values.calls), paths: values.paths.split(',') });
  console.log('| path | side | median (ms) | p95 (ms) | min–max (ms) | calls |');
  console.log('|---|---|---|---|---|---|');
  for (const row of figures.summary) {
    for (const side of ['caller', 'callee', 'both']) {
      const s = row[side];
      console.log(`| ${row.path} | ${side === 'both' ? 'both sides' : side} | ${s.median} | ${s.p95} | ${s.min}–${s.max} | ${s.n} |`);
    }
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(figures, null, 2)}\n`);
}
