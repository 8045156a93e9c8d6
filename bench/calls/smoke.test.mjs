// Smoke run of the call benchmarks with tiny counts, so they cannot rot: one call direct and one
// through coturn for set-up times, and one second per transform mode for the CPU cost. Asserts
// the runs complete and their figures are real measurements (no timing goal here: figures belong
// in bench/README.md, DESIGN.md §9). Runs in the call-test step of scripts/test.sh:
//   bash scripts/loopback-netns.sh env SECMS_SERVER_BIN=… node --test bench/calls/smoke.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSetup } from './setup.mjs';
import { runTransformCost } from './transform-cost.mjs';

const quiet = () => {};

test('setup.mjs: one call direct and one via coturn, accept-to-first-frame measured on both sides', { timeout: 180_000 }, async () => {
  const figures = await runSetup({ calls: 1, log: quiet });
  assert.deepEqual(figures.results.map((r) => [r.path, r.shownPath]), [['direct', 'direct'], ['relay', 'relay']]);
  for (const result of figures.results) {
    for (const field of ['callerMs', 'calleeMs', 'bothMs']) {
      assert.ok(Number.isFinite(result[field]) && result[field] > 0 && result[field] < 20_000, `${result.path} ${field}: ${result[field]}`);
    }
  }
  assert.deepEqual(figures.summary.map((s) => [s.path, s.both.n]), [['direct', 1], ['relay', 1]]);
});

test('transform-cost.mjs: one second per mode, CPU read from /proc, frames through the transforms', { timeout: 180_000 }, async () => {
  const figures = await runTransformCost({ seconds: 1, warmup: 2, scenarios: ['video'], log: quiet });
  assert.deepEqual(figures.runs.map((r) => r.mode), ['none', 'passthrough', 'sframe']);
  for (const run of figures.runs) {
    assert.ok(run.cpuSeconds > 0, `${run.mode}: CPU time of the browser processes read`);
    assert.ok(run.videoFramesDecodedPerSecond > 5, `${run.mode}: video decoded`);
    assert.deepEqual(run.codecs, ['audio/opus', 'video/VP8']);
  }
  assert.ok(figures.runs.find((r) => r.mode === 'sframe').framesThroughTransform > 0);
  assert.equal(figures.summary.length, 3);
});
