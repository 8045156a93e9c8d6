// Benchmarks of the SIP edge (bench/README.md, "SIP edge"):
//   1. REGISTER with digest per second and Kamailio CPU per 1000 REGISTERs, the deployed
//      configuration (auth_ephemeral + users.db) against a static reference (htable of
//      plaintext passwords), plus a diagnostic without the users.db query; interleaved, repeated.
//   2. Concurrent calls bridged by rtpengine (userspace): loss and rtpengine CPU per call.
//
//   node bench/sip/run.mjs [--quick] [--users 500] [--reps 3] [--seconds 5] [--clients 3]
//     [--limit 30] [--calls 10,25,50,100,200,300,400] [--window 5] [--json FILE] [--keep]
//     [--parts register,calls] [--kamailio-memory qm|fm|tlsf]
//
// Tables on stdout (Markdown), progress on stderr. Every process it starts is stopped at the end.

import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loopbackRateLimits, register, serverBinary, startServer } from '../../tests/helpers/secms-server.mjs';
import { callStep, startCallee, writeSilence } from './calls.mjs';
import { assertToolsInstalled, freeUdpRange, startKamailio, startRtpengine, stopAll } from './edge.mjs';
import { ngClient } from './ng.mjs';
import { registerRun, writeInjectionFile } from './register.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    reps: { type: 'string' },
    seconds: { type: 'string' },
    clients: { type: 'string', default: '3' },
    limit: { type: 'string', default: '30' },
    calls: { type: 'string' },
    window: { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    parts: { type: 'string', default: 'register,calls' },
    'kamailio-memory': { type: 'string', default: 'tlsf' },
  },
});
const quick = opts.quick;
const settings = {
  users: Number(opts.users ?? (quick ? 12 : 500)),
  reps: Number(opts.reps ?? (quick ? 1 : 3)),
  seconds: Number(opts.seconds ?? (quick ? 1 : 5)),
  clients: Number(opts.clients),
  limit: Number(opts.limit),
  calls: (opts.calls ?? (quick ? '4' : '10,25,50,100,200,300,400')).split(',').map(Number),
  window: Number(opts.window ?? (quick ? 1 : 5)),
  parts: opts.parts.split(','),
  // Diagnostic: Kamailio's allocator (-x/-X), e.g. tlsf; empty = run.sh's command line (qm).
  kamailioMemory: opts['kamailio-memory'],
};
if (settings.kamailioMemory && !/^(qm|fm|tlsf)$/.test(settings.kamailioMemory)) throw new Error('--kamailio-memory: qm, fm or tlsf');
const domain = 'localhost';
const PASSWORD = 'correct horse battery staple 42';
const t0 = Date.now();
const log = (...a) => console.error(`[bench/sip ${((Date.now() - t0) / 1000).toFixed(1)} s]`, ...a);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

assertToolsInstalled();
const work = await mkdtemp(path.join(os.tmpdir(), 'secms-bench-sip-'));
let server;
let callee;
let ng;
const results = { settings, machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, server: serverBinary } };
try {
  log(`secms-server: ${serverBinary}; work directory ${work}`);
  server = await startServer({ extraArgs: [...loopbackRateLimits], sipDefaults: true });
  const secret = (await readFile(path.join(server.dataDir, 'sip', 'secret'), 'utf8')).trim();
  const sipCredential = (authUser) => ({ username: authUser, password: createHmac('sha256', secret).update(authUser).digest('base64') });

  // Accounts through the real API (POST /api/v1/accounts), 4 at a time.
  const started = Date.now();
  const users = Array.from({ length: settings.users }, (_, i) => `Bench.User${String(i).padStart(5, '0')}`);
  for (let i = 0; i < users.length; i += 4) {
    await Promise.all(users.slice(i, i + 4).map(async (name) => {
      const res = await register(server, name, PASSWORD);
      if (res.status !== 201) throw new Error(`registering ${name}: ${res.status} ${res.body}`);
    }));
  }
  for (const name of ['bob']) {
    const res = await register(server, name, PASSWORD);
    if (res.status !== 201) throw new Error(`registering ${name}: ${res.status} ${res.body}`);
  }
  log(`${users.length + 1} accounts created through the API in ${Date.now() - started} ms`);

  const maxCalls = Math.max(...settings.calls);
  // One caller account per call: Kamailio limits the concurrent calls of each account.
  if (settings.parts.includes('calls') && maxCalls > users.length) throw new Error(`--calls up to ${maxCalls} needs at least as many --users (${users.length})`);
  const rtpengine = await startRtpengine({ dir: path.join(work, 'rtpengine'), rtpPorts: 4 * maxCalls + 200 });
  ng = ngClient(rtpengine.ngPort);
  const expiry = Math.floor(Date.now() / 1000) + 86400;
  // The same users for every configuration: browser-form credentials for the deployed one,
  // plaintext passwords (random, test-only) for the static one.
  const sipUsers = users.map((u) => u.toLowerCase());
  const staticUsers = sipUsers.map((user) => ({ user, password: createHmac('sha256', 'static').update(user).digest('hex').slice(0, 24) }));
  const ephemeralRows = sipUsers.map((user) => ({ user, ...renameCredential(sipCredential(`${expiry}:${user}`)) }));
  const staticRows = staticUsers.map(({ user, password }) => ({ user, authUser: user, password }));
  const injection = { ephemeral: path.join(work, 'ephemeral.csv') };
  writeInjectionFile(injection.ephemeral, ephemeralRows);
  // The REGISTER clients: each its own loopback address, fixed port and share of the users.
  const clients = { ephemeral: [], static: [] };
  for (let i = 0; i < settings.clients; i += 1) {
    const address = `127.0.0.${2 + i}`;
    const port = await freeUdpRange(1);
    for (const [kind, rows] of [['ephemeral', ephemeralRows], ['static', staticRows]]) {
      const injectionFile = path.join(work, `${kind}-c${i}.csv`);
      writeInjectionFile(injectionFile, rows.filter((_, j) => j % settings.clients === i));
      clients[kind].push({ address, port, injectionFile });
    }
  }
  clients['hmac-only'] = clients.ephemeral;
  const modes = ['ephemeral', 'static', 'hmac-only'];
  const kamailios = {};
  // Started together: each takes seconds until its workers answer. All settle before a failure
  // is thrown, so that every started instance is stopped by stopAll().
  const starts = await Promise.allSettled(modes.map(async (mode) => {
    kamailios[mode] = await startKamailio({
      dir: path.join(work, `kamailio-${mode}`), mode, dataDir: server.dataDir, secret, domain, ngPort: rtpengine.ngPort,
      users: mode === 'static' ? staticUsers : [], memoryManager: settings.kamailioMemory,
    });
    log(`Kamailio (${mode}) on udp 127.0.0.1:${kamailios[mode].port}, pid ${kamailios[mode].pid}`);
  }));
  const failedStart = starts.find((s) => s.status === 'rejected');
  if (failedStart) throw failedStart.reason;

  // Part 1, interleaved: each repetition runs the three configurations one after the other,
  // in an order rotated each time.
  results.register = [];
  for (let rep = 0; settings.parts.includes('register') && rep < settings.reps; rep += 1) {
    const order = modes.map((_, i) => modes[(i + rep) % modes.length]);
    for (const mode of order) {
      const k = kamailios[mode];
      const r = await registerRun({
        port: k.port, kamailioPid: k.pid, clients: clients[mode], workDir: work, tag: `reg-${mode}-${rep}`,
        seconds: settings.seconds, rate: 50_000, limit: settings.limit, domain,
      });
      results.register.push({ rep, mode, ...r });
      log(`REGISTER ${mode} #${rep + 1}: ${fmt(r.requestsPerSecond)} requests/s, ${fmt(r.cpuPer1000Requests, 4)} CPU-s per 1000, Kamailio ${fmt(r.kamailioCores, 2)} cores, sipp ${fmt(r.sippCores, 2)} cores, ${r.failed} failed`);
      // Let the registrations' retransmission timers and the flood guard's window pass.
      await new Promise((resolve) => setTimeout(resolve, quick ? 300 : 1500));
    }
  }

  // Part 2: calls through the deployed Kamailio and rtpengine.
  const audio = path.join(work, 'silence.ulaw');
  writeSilence(audio);
  if (settings.parts.includes('calls')) callee = await startCallee({
    kamailioPort: kamailios.ephemeral.port, user: 'bob', credential: sipCredential(`${expiry}:bob`),
    injectionFile: path.join(work, 'callee.csv'), workDir: work, domain,
  });
  results.calls = [];
  for (const calls of settings.parts.includes('calls') ? settings.calls : []) {
    const r = await callStep({
      calls, windowS: settings.window, kamailioPort: kamailios.ephemeral.port, rtpengine, ng,
      callers: injection.ephemeral, callee: 'bob', audioFile: audio,
      workDir: work, domain, tag: `calls-${calls}`,
    });
    results.calls.push(r);
    log(`${calls} calls: loss ${fmt(100 * r.loss, 2)} %, rtpengine ${fmt(r.rtpengineCores, 2)} cores, ${fmt(r.cpuMsPerCallSecond, 2)} CPU-ms per call-second`);
    if (r.loss > 0.01) break;
  }

  log('done; stopping');
  printTables(results);
  if (opts.json) await writeFile(opts.json, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  ng?.close();
  await callee?.stop();
  await stopAll();
  await server?.stop();
  if (!opts.keep) await rm(work, { recursive: true, force: true });
}

function renameCredential({ username, password }) {
  return { authUser: username, password };
}

function printTables({ register: reg, calls }) {
  const out = [];
  if (settings.kamailioMemory) out.push(`Kamailio's allocator: ${settings.kamailioMemory} (-x/-X; scripts/sip.sh uses tlsf).`, '');
  if (reg.length > 0) printRegister(reg, out);
  if (calls.length > 0) printCalls(calls, out);
  console.log(out.join('\n'));
}

function printRegister(reg, out) {
  const label = { ephemeral: 'deployed (auth_ephemeral + users.db)', static: 'static reference (htable)', 'hmac-only': 'diagnostic: auth_ephemeral without the users.db query' };
  out.push(`REGISTER with digest (2 requests per registration: challenged, then authenticated), ${settings.clients} sipp clients × ${settings.limit} in flight, ${settings.seconds} s per run, ${settings.reps} interleaved repetitions, ${settings.users} accounts; medians:`, '');
  out.push('| configuration | REGISTER requests/s | registrations/s | Kamailio CPU-s per 1000 REGISTERs | Kamailio cores | sipp cores | failed registrations |');
  out.push('|---|---|---|---|---|---|---|');
  const byMode = (mode) => reg.filter((r) => r.mode === mode);
  for (const mode of ['ephemeral', 'static', 'hmac-only']) {
    const rs = byMode(mode);
    out.push(`| ${label[mode]} | ${fmt(median(rs.map((r) => r.requestsPerSecond)))} | ${fmt(median(rs.map((r) => r.perSecond)))} | ${fmt(median(rs.map((r) => r.cpuPer1000Requests)), 4)} | ${fmt(median(rs.map((r) => r.kamailioCores)), 2)} | ${fmt(median(rs.map((r) => r.sippCores)), 2)} | ${rs.map((r) => r.failed).join(', ')} of ${rs.map((r) => r.registrations + r.failed).join(', ')} |`);
  }
  // Ratios per repetition (runs of one repetition are next to each other in time), then median.
  const ratio = (num, den, f) => median([...new Set(reg.map((r) => r.rep))].map((rep) => {
    const a = reg.find((r) => r.rep === rep && r.mode === num);
    const b = reg.find((r) => r.rep === rep && r.mode === den);
    return f(a, b);
  }));
  out.push('', '| ratio deployed / static (median of the repetitions) | value |', '|---|---|');
  out.push(`| REGISTER requests/s | ${fmt(ratio('ephemeral', 'static', (a, b) => a.requestsPerSecond / b.requestsPerSecond), 2)} |`);
  out.push(`| CPU efficiency (static CPU per 1000 / deployed CPU per 1000) | ${fmt(ratio('ephemeral', 'static', (a, b) => b.cpuPer1000Requests / a.cpuPer1000Requests), 2)} |`);
  out.push(`| CPU efficiency, diagnostic without the query (static / hmac-only) | ${fmt(ratio('hmac-only', 'static', (a, b) => b.cpuPer1000Requests / a.cpuPer1000Requests), 2)} |`);
}

function printCalls(calls, out) {
  out.push('', 'Concurrent calls through Kamailio and rtpengine (userspace), G.711 20 ms (50 packets/s per direction), loss = 1 − packets rtpengine got back from the far end ÷ packets it got from the callers, over the window:', '');
  out.push('| calls | up in the window | caller packets/s | expected | far-end packets/s | loss % | rtpengine cores | rtpengine CPU-ms per call-second | failed calls (sipp) |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of calls) {
    out.push(`| ${c.calls} | ${c.up} | ${fmt(c.callerPps)} | ${fmt(c.expectedPps)} | ${fmt(c.calleePps)} | ${fmt(100 * c.loss, 2)} | ${fmt(c.rtpengineCores, 3)} | ${fmt(c.cpuMsPerCallSecond, 2)} | ${c.failedCalls ?? '?'} |`);
  }
  const over = calls.find((c) => c.loss > 0.01);
  out.push('', over ? `Loss above 1 % from ${over.calls} calls.` : `Loss stayed at or below 1 % up to ${calls.at(-1).calls} calls (the largest step).`);
}
