// Part 1: REGISTER with digest per second through Kamailio, the deployed configuration
// (auth_ephemeral + users.db) against the static reference (htable of plaintext passwords), the
// same sipp scenario and users, interleaved. Exported for run.mjs.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpRange } from './edge.mjs';
import { processTreeTicks, ticksPerSecond } from './proc.mjs';

const scenarios = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios');

/**
 * Writes sipp's injection file: field0 the AOR user, field1 sipp's authentication keyword with
 * the credential (sipp 3.6 expands a keyword inside a field, not a field inside a keyword).
 */
export function writeInjectionFile(file, rows) {
  const lines = ['SEQUENTIAL', ...rows.map(({ user, authUser, password }) => `${user};[authentication username=${authUser} password=${password}];`)];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function lastStatRow(file) {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0].split(';');
  const row = lines[lines.length - 1].split(';');
  const value = (name) => Number(row[header.indexOf(name)]);
  return {
    successful: value('SuccessfulCall(C)'),
    failed: value('FailedCall(C)'),
    retransmissions: value('Retransmissions(C)'),
  };
}

function runSipp({ args, tag, workDir }) {
  const sipp = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sipp.stderr.on('data', (d) => (stderr += d));
  // sipp's own CPU: sampled while it runs (the last sample before it exits).
  let ticks = 0;
  const sampler = setInterval(() => {
    const t = processTreeTicks(sipp.pid);
    if (t > 0) ticks = t;
  }, 100);
  return new Promise((resolve) => {
    sipp.on('exit', (code) => {
      clearInterval(sampler);
      resolve({ code, stderr, ticks, tag, workDir });
    });
  });
}

/**
 * One saturation run: one sipp process per entry of `clients` ({ address, port,
 * injectionFile }: its own loopback address, since Kamailio's flood guard counts per address
 * and one sipp process is a bottleneck of its own; a fixed port and its own share of the users,
 * so that every run refreshes the same contact of each user instead of adding one — the
 * registrar keeps at most a few per account), each with at most `limit` registrations in flight
 * and `rate`/s offered, for `seconds`, against 127.0.0.1:`port`. Kamailio's CPU (its process and
 * workers) and sipp's are read from /proc over the run. Resolves to { registrations, requests,
 * failed, retransmissions, seconds, perSecond, requestsPerSecond, kamailioCpuS, kamailioCores,
 * cpuPer1000Requests, sippCores }.
 */
export async function registerRun({ port, kamailioPid, clients, workDir, tag, seconds, rate, limit, domain }) {
  const runs = [];
  const kamBefore = processTreeTicks(kamailioPid);
  const startedAt = process.hrtime.bigint();
  clients.forEach((client, i) => {
    const name = `${tag}-c${i}`;
    const args = [
      `127.0.0.1:${port}`, '-sf', path.join(scenarios, 'register-csv.xml'), '-inf', client.injectionFile,
      '-key', 'domain', domain, '-i', client.address, '-p', String(client.port), '-nostdin',
      '-r', String(rate), '-l', String(limit), '-timeout', `${seconds}s`,
      '-trace_stat', '-stf', path.join(workDir, `${name}-stat.csv`), '-fd', '1',
      '-trace_err', '-error_file', path.join(workDir, `${name}-err.log`),
    ];
    runs.push(runSipp({ args, tag: name, workDir }));
  });
  const results = await Promise.all(runs);
  const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const kamCpu = (processTreeTicks(kamailioPid) - kamBefore) / ticksPerSecond;
  let successful = 0;
  let failed = 0;
  let retransmissions = 0;
  for (const r of results) {
    let stats;
    try {
      stats = lastStatRow(path.join(workDir, `${r.tag}-stat.csv`));
    } catch (error) {
      throw new Error(`sipp (${r.tag}) wrote no statistics (exit ${r.code}): ${r.stderr.slice(-500)} ${error.message}`);
    }
    if (stats.successful === 0) {
      throw new Error(`sipp (${r.tag}): no registration succeeded (exit ${r.code}); see ${workDir}/${r.tag}-err.log`);
    }
    successful += stats.successful;
    failed += stats.failed;
    retransmissions += stats.retransmissions;
  }
  const requests = 2 * successful; // the challenged REGISTER and the authenticated one
  return {
    registrations: successful, requests, failed, retransmissions, seconds: elapsed,
    perSecond: successful / elapsed, requestsPerSecond: requests / elapsed,
    kamailioCpuS: kamCpu, kamailioCores: kamCpu / elapsed,
    cpuPer1000Requests: (1000 * kamCpu) / requests,
    sippCores: results.reduce((a, r) => a + r.ticks, 0) / ticksPerSecond / elapsed,
  };
}
