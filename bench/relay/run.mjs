// Runs the relay benchmark against secms-server and the reference relay (Node `ws`) in one
// invocation with the same parameters, and prints markdown tables with the secms/reference
// ratios — the figure that matters, since absolute numbers move with the machine.
//
//   node bench/relay/run.mjs                      # the bench/README.md run (~2.5 min on 2 cores)
//   node bench/relay/run.mjs --pairs 10 --sizes 100 --duration 3 --latency-duration 2
//
// Two parts:
//   1. throughput: closed loop, --window frames in flight per pair, for every --pairs × --sizes;
//   2. latency: open loop at --latency-rate frames/s per pair (well below both relays' capacity,
//      so queueing does not dominate), --latency-pairs pairs, every --sizes.
// Runs alternate which target goes first, so slow drift of the machine hits both alike.
// Stops by itself: a watchdog ends everything after --deadline seconds. 127.0.0.1 only.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  defaultServerBinary, describeRun, generateKeys, measure, runIsClean, startReferenceTarget, startSecmsTarget,
} from './load-generator.mjs';

const { values: o } = parseArgs({
  options: {
    pairs: { type: 'string', default: '10,50' },
    sizes: { type: 'string', default: '100,1024' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    window: { type: 'string', default: '16' },
    'latency-rate': { type: 'string', default: '500' },
    'latency-pairs': { type: 'string', default: '10' },
    'latency-duration': { type: 'string', default: '5' },
    'server-bin': { type: 'string' },
    'server-env': { type: 'string', multiple: true, default: [] }, // KEY=VALUE for secms-server
    'server-arg': { type: 'string', multiple: true, default: [] }, // extra secms-server flag(s), e.g. --server-arg=--io-threads --server-arg=1
    json: { type: 'string' }, // also write every result to this file
    deadline: { type: 'string', default: '600' },
  },
});
const list = (s) => s.split(',').map(Number).filter((x) => Number.isFinite(x) && x > 0);
const pairsList = list(o.pairs);
const sizes = list(o.sizes);
const latencyPairs = Number(o['latency-pairs']);
const common = { warmupMs: Number(o.warmup) * 1000, window: Number(o.window) };
const serverEnv = Object.fromEntries(o['server-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

let secms;
let reference;
const stopAll = async () => {
  await Promise.allSettled([secms?.stop(), reference?.stop()]);
};
const watchdog = setTimeout(async () => {
  process.stderr.write(`run.mjs: deadline of ${o.deadline} s reached, stopping\n`);
  await stopAll();
  process.exit(3);
}, Number(o.deadline) * 1000);
watchdog.unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stopAll().then(() => process.exit(130)));

const started = Date.now();
const log = (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

const results = [];
let secmsStop;
try {
  const maxPairs = Math.max(...pairsList, latencyPairs);
  log(`generating ${2 * maxPairs} OpenPGP keys`);
  const keys = await generateKeys(2 * maxPairs);
  secms = await startSecmsTarget({ binary: o['server-bin'] ?? defaultServerBinary(), env: serverEnv, extraArgs: o['server-arg'], keys });
  log(`secms-server ${secms.binary} pid ${secms.pid}`);
  reference = await startReferenceTarget(secms.tlsFiles); // same certificate for both
  log(`reference relay pid ${reference.pid}`);

  const plan = [];
  for (const pairs of pairsList) {
    for (const bodySize of sizes) {
      plan.push({ part: 'throughput', pairs, bodySize, durationMs: Number(o.duration) * 1000, ...common });
    }
  }
  for (const bodySize of sizes) {
    plan.push({ part: 'latency', pairs: latencyPairs, bodySize, durationMs: Number(o['latency-duration']) * 1000, ...common, rate: Number(o['latency-rate']) });
  }
  for (const [i, step] of plan.entries()) {
    const order = i % 2 === 0 ? [secms, reference] : [reference, secms];
    for (const target of order) {
      const r = await measure(target, step);
      r.part = step.part;
      results.push(r);
      log(describeRun(r));
    }
  }
} finally {
  clearTimeout(watchdog);
  [secmsStop] = await Promise.all([secms?.stop(), reference?.stop()]);
}

// ---- report ----
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const ms = (us) => fmt(us / 1000, 2);
const find = (part, pairs, bodySize, kind) => results.find((r) => r.part === part && r.pairs === pairs && r.bodySize === bodySize && r.target === kind);
const out = [];
const header = (cols) => {
  out.push(`| ${cols.join(' | ')} |`);
  out.push(`|${cols.map(() => '---').join('|')}|`);
};
const row = (cells) => out.push(`| ${cells.join(' | ')} |`);

function tables(part, title) {
  const keys = [...new Set(results.filter((r) => r.part === part).map((r) => `${r.pairs}/${r.bodySize}`))]
    .map((k) => k.split('/').map(Number));
  if (keys.length === 0) return;
  const mode = results.find((r) => r.part === part).mode;
  out.push(`### ${title} (${mode})`, '');
  header(['pairs', 'body', 'relay', 'frames/s', 'server CPU (cores)', 'frames per server CPU-s', 'p50 ms', 'p99 ms', 'load generator CPU (cores)', 'all relayed in order']);
  for (const [pairs, bodySize] of keys) {
    for (const kind of ['secms', 'reference']) {
      const r = find(part, pairs, bodySize, kind);
      if (!r) continue;
      row([pairs, `${bodySize} B`, r.label, fmt(r.framesPerSecond), fmt(r.serverCores, 2), fmt(r.framesPerCpuSecond),
        ms(r.latencyUs.p50), ms(r.latencyUs.p99), fmt(r.generatorCpuSeconds / r.seconds, 2), runIsClean(r) ? 'yes' : '**NO**']);
    }
  }
  out.push('', `Ratio secms-server / reference:`, '');
  header(['pairs', 'body', 'frames per server CPU-s', 'frames/s', 'p50 latency', 'p99 latency']);
  for (const [pairs, bodySize] of keys) {
    const s = find(part, pairs, bodySize, 'secms');
    const r = find(part, pairs, bodySize, 'reference');
    if (!s || !r) continue;
    row([pairs, `${bodySize} B`, fmt(s.framesPerCpuSecond / r.framesPerCpuSecond, 2), fmt(s.framesPerSecond / r.framesPerSecond, 2),
      fmt(s.latencyUs.p50 / r.latencyUs.p50, 2), fmt(s.latencyUs.p99 / r.latencyUs.p99, 2)]);
  }
  out.push('');
}
tables('throughput', 'Throughput');
tables('latency', 'Latency');
const tlsSeen = [...new Set(results.map((r) => `${r.label}: ${r.tls}`))];
out.push(`TLS: ${tlsSeen.join('; ')}. Measured window ${o.duration} s (latency part ${o['latency-duration']} s) after ${o.warmup} s warm-up.`);
process.stdout.write(`${out.join('\n')}\n`);

const problems = results.filter((r) => !runIsClean(r));
for (const r of problems) process.stdout.write(`\nPROBLEM ${r.label} ${r.part} pairs=${r.pairs} body=${r.bodySize}: ${JSON.stringify({ ...r.check, perPairReceived: undefined })}\n`);
const crashed = secmsStop && secmsStop.signal !== null && secmsStop.signal !== 'SIGTERM';
if (crashed) process.stdout.write(`\nPROBLEM secms-server exited abnormally: ${JSON.stringify(secmsStop)}\n`);
if (o.json) writeFileSync(o.json, JSON.stringify({ binary: secms?.binary, results }, null, 2));
process.exit(problems.length > 0 || crashed ? 1 : 0);
