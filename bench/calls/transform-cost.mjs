// Transform cost of end-to-end encrypted call media (issue: calls, "Benchmark"): the CPU that
// Chromium burns per second of a call with Opus audio and 720p VP8 video when every sender and
// receiver runs the SFrame transform of the crypto Worker, against a pass-through encoded
// transform and against no transform at all. Two RTCPeerConnections in one page exchange media
// both ways (so the figure covers 2 encodes, 2 decodes, 2 encryptions and 2 decryptions); each
// configuration runs in a fresh Chromium, and the CPU time of all its processes is read from
// /proc over a fixed wall time after a warm-up (the bandwidth estimate ramps the bitrate up first).
//
// Runs inside the loopback-only network namespace (tests/calls/helpers/browser.mjs refuses
// otherwise):
//   bash scripts/loopback-netns.sh node bench/calls/transform-cost.mjs [--seconds 20] [--warmup 8]
//     [--modes none,passthrough,sframe] [--scenarios video,audio] [--repeat 1] [--json FILE]
// Prints a table and, with --json, writes the figures.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { launchCallBrowser } from '../../tests/calls/helpers/browser.mjs';
import { serveWorkerPage } from '../../tests/calls/helpers/static-pages.mjs';
import { treeTicks, cpuSecondsBetween } from './proc-cpu.mjs';

const CALL = '0123456789abcdef0123456789abcdef';
const SECRET = '0bd96ddc07ea54c9cd2232c28f82e01fd16b31fc88f1eb973264af81cc4f4efa';
const fixtures = new URL('./fixtures/', import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const sum = (list, kind, field) => list.filter((s) => s.kind === kind).reduce((total, s) => total + s[field], 0);

/** One configuration in a fresh browser: resolves CPU and media figures over `seconds`. */
async function measure({ origin, mode, video, seconds, warmup }) {
  const browser = await launchCallBrowser();
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.costBench !== undefined);
    const size = await page.evaluate((o) => window.costBench.start(o), { mode, video, call: CALL, secret: SECRET, workerUrl: '/worker.js' });
    await sleep(warmup * 1000);
    const inboundBefore = await page.evaluate(() => window.costBench.inbound());
    const ticksBefore = treeTicks();
    const started = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const ticksAfter = treeTicks();
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const inboundAfter = await page.evaluate(() => window.costBench.inbound());
    const workers = await page.evaluate(() => window.costBench.workerStats());
    assert.deepEqual(problems, [], `page errors (${mode})`);
    const cpu = cpuSecondsBetween(ticksBefore, ticksAfter);
    const delta = (kind, field) => sum(inboundAfter, kind, field) - sum(inboundBefore, kind, field);
    const transformed = workers.reduce((total, w) => total + (mode === 'sframe'
      ? w.stats.receive.audio.frames + w.stats.receive.video.frames
      : w.passed), 0);
    const result = {
      mode, scenario: video ? 'video+audio' : 'audio', wallSeconds: wall, cpuSeconds: cpu, cpuPerSecond: cpu / wall,
      videoFramesDecodedPerSecond: delta('video', 'framesDecoded') / wall,
      mediaKbitPerSecond: ((delta('video', 'bytes') + delta('audio', 'bytes')) * 8) / 1000 / wall,
      audioSamplesPerSecond: delta('audio', 'samples') / wall,
      decodedSize: video ? `${inboundAfter.find((s) => s.kind === 'video')?.width}x${inboundAfter.find((s) => s.kind === 'video')?.height}` : null,
      captureSize: video ? `${size.width}x${size.height}` : null,
      codecs: [...new Set(inboundAfter.map((s) => s.mimeType))].sort(),
      framesThroughTransform: transformed,
    };
    // A configuration whose media did not flow (or whose transform did not run) measures nothing.
    assert.ok(result.audioSamplesPerSecond > 1000, `${mode}: audio flows (${JSON.stringify(result)})`);
    if (video) assert.ok(result.videoFramesDecodedPerSecond > 5, `${mode}: video decoded (${result.videoFramesDecodedPerSecond}/s) ${JSON.stringify(workers)}`);
    if (mode !== 'none') assert.ok(transformed > 0, `${mode}: frames went through the transform`);
    return result;
  } finally {
    await browser.close();
  }
}

export async function runTransformCost({ seconds = 20, warmup = 8, modes = ['none', 'passthrough', 'sframe'], scenarios = ['video', 'audio'], repeat = 1, log = console.error } = {}) {
  const server = await serveWorkerPage({
    html: new URL('bench-page.html', fixtures), page: new URL('bench-page.mjs', fixtures), worker: new URL('bench-worker.mjs', fixtures),
  });
  const { origin } = server;
  const runs = [];
  try {
    for (let round = 0; round < repeat; round += 1) {
      for (const scenario of scenarios) {
        for (const mode of modes) {
          const result = await measure({ origin, mode, video: scenario === 'video', seconds, warmup });
          log(`${result.scenario} ${mode}: ${(result.cpuPerSecond * 100).toFixed(1)} % CPU, ${result.videoFramesDecodedPerSecond.toFixed(1)} video frames/s, ${result.mediaKbitPerSecond.toFixed(0)} kbit/s`);
          runs.push({ round, ...result });
        }
      }
    }
  } finally {
    await server.close();
  }
  // Mean CPU per configuration over the rounds, and the extra of each transform over none.
  const summary = [];
  for (const scenario of scenarios.map((s) => (s === 'video' ? 'video+audio' : 'audio'))) {
    const mean = (mode) => {
      const list = runs.filter((r) => r.scenario === scenario && r.mode === mode);
      return list.length ? list.reduce((t, r) => t + r.cpuPerSecond, 0) / list.length : null;
    };
    const none = mean('none');
    for (const mode of modes) {
      const cpu = mean(mode);
      summary.push({ scenario, mode, cpuPerSecond: cpu, extraOverNone: none && cpu !== null ? cpu / none - 1 : null });
    }
  }
  return { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, kernel: os.release() }, seconds, warmup, repeat, runs, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' }, warmup: { type: 'string', default: '8' },
      modes: { type: 'string', default: 'none,passthrough,sframe' }, scenarios: { type: 'string', default: 'video,audio' },
      repeat: { type: 'string', default: '1' }, json: { type: 'string' },
    },
  });
  const figures = await runTransformCost({
    seconds: Number(values.seconds), warmup: Number(values.warmup), repeat: Number(values.repeat),
    modes: values.modes.split(','), scenarios: values.scenarios.split(','),
  });
  console.log('| scenario | transform | CPU (% of one core) | extra vs none |');
  console.log('|---|---|---|---|');
  for (const row of figures.summary) {
    const extra = row.extraOverNone === null ? '—' : `${row.extraOverNone >= 0 ? '+' : ''}${(row.extraOverNone * 100).toFixed(1)} %`;
    console.log(`| ${row.scenario} | ${row.mode} | ${(row.cpuPerSecond * 100).toFixed(1)} | ${row.mode === 'none' ? '—' : extra} |`);
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(figures, null, 2)}\n`);
}
