// Memory mode of the relay benchmark: resident memory per idle authenticated WebSocket.
//
//   node bench/relay/memory.mjs                      # 1000 and 10000 connections, both relays
//   node bench/relay/memory.mjs --counts 1000 --target secms
//
// For secms-server each connection is a real client's: TLS 1.3, the upgrade with the login
// cookie, hello and presence read, the certificate submitted and proved, then nothing. The
// reference relay (bench/relay/reference-relay.mjs) gets TLS and the upgrade (it has no login).
// One account holds every socket, so presence is one user and costs nothing per socket
// (the server is started with its per-account and connection caps raised accordingly).
// Measured: VmRSS of the relay process (/proc/<pid>/status) with no socket open (after one
// socket was opened and closed, so that lazily made state is in the base), then with N open and
// idle for --settle seconds; per connection = (RSS(N) − RSS(0)) / N. Each count gets a fresh
// process.
// The file limit (RLIMIT_NOFILE) of this process and of the relay is raised to fit with prlimit
// (util-linux); the run stops with a message if it cannot be.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultServerBinary, generateKeys, startReferenceTarget, startSecmsTarget } from './load-generator.mjs';

const { values: o } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000,10000' },
    target: { type: 'string', default: 'secms,reference' },
    settle: { type: 'string', default: '3' },
    'server-bin': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const counts = o.counts.split(',').map(Number).filter((n) => n > 0);
const targets = o.target.split(',');
const maxCount = Math.max(...counts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => process.stderr.write(`${line}\n`);

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// Raises the soft (and if needed the hard) file limit of `pid` to `need`.
function raiseFileLimit(pid, need) {
  const current = execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'], { encoding: 'utf8' })
    .trim().split(/\s+/).map((x) => (x === 'unlimited' ? Infinity : Number(x)));
  if (current[0] >= need) return;
  const hard = Math.max(current[1], need);
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${need}:${hard === Infinity ? 'unlimited' : hard}`]);
  } catch (e) {
    throw new Error(`cannot raise the file limit of pid ${pid} to ${need} (soft ${current[0]}, hard ${current[1]}): ${e.message}`);
  }
}

const need = maxCount + 1024;
raiseFileLimit(process.pid, need);

async function startTarget(kind) {
  if (kind !== 'secms') return startReferenceTarget();
  const caps = String(maxCount + 100);
  const requests = String(3 * maxCount + 100); // certificate_submit and certificate_proof each take one
  return startSecmsTarget({
    binary: o['server-bin'] ?? defaultServerBinary(),
    keys,
    extraArgs: [
      '--max-connections', caps, '--max-websockets-per-user', caps,
      '--certificate-submit-per-account-burst', caps, '--certificate-submit-per-account-per-minute', caps,
      '--control-other-burst', requests, '--control-other-per-minute', requests,
    ],
  });
}

const keys = await generateKeys(1);
const results = [];
for (const kind of targets) {
  for (const n of counts) {
    // A fresh process per count: memory freed by closed sockets stays mapped (malloc keeps it),
    // so a second count on the same process would reuse it and read low.
    const target = await startTarget(kind);
    try {
      raiseFileLimit(target.pid, need);
      await target.closeClients(await target.connectIdle(1)); // first-use state joins the base
      await sleep(1000);
      const base = rssKiB(target.pid);
      const started = performance.now();
      const clients = await target.connectIdle(n);
      const setupSeconds = (performance.now() - started) / 1000;
      await sleep(Number(o.settle) * 1000);
      const loaded = rssKiB(target.pid);
      const r = { target: kind, label: target.label, connections: n, baseKiB: base, loadedKiB: loaded, perConnectionKiB: (loaded - base) / n, setupSeconds };
      results.push(r);
      log(`${r.label.padEnd(15)} ${n} idle sockets: RSS ${base} → ${loaded} KiB, ${r.perConnectionKiB.toFixed(1)} KiB per connection (setup ${setupSeconds.toFixed(0)} s)`);
      await target.closeClients(clients);
    } finally {
      await target.stop();
    }
  }
}

if (o.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const out = ['| relay | idle connections | RSS before (MiB) | RSS with them (MiB) | per connection (KiB) |', '|---|---|---|---|---|'];
  for (const r of results) {
    out.push(`| ${r.label} | ${r.connections.toLocaleString('en-US')} | ${(r.baseKiB / 1024).toFixed(1)} | ${(r.loadedKiB / 1024).toFixed(1)} | ${r.perConnectionKiB.toFixed(1)} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
