// Part 2: concurrent calls bridged by rtpengine (userspace). sipp is the caller (G.711 RTP
// stream, 50 packets/s) and the registered callee (answers every call, -rtp_echo returns its
// media); Kamailio routes the calls (the deployed configuration) and rtpengine relays the media.
// Loss is read from rtpengine's own counters (ng "query"): packets it received from the callers
// against packets it received back from the far end's echo, over a window in which every call
// is up. Exported for run.mjs.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpRange } from './edge.mjs';
import { processTreeTicks, ticksPerSecond } from './proc.mjs';

const scenarios = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function spawnSipp(args, tag, workDir) {
  const child = spawn('sipp', [...args, '-nostdin', '-trace_err', '-error_file', path.join(workDir, `${tag}-err.log`)],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr, tag };
}

/** 1 s of G.711 μ-law silence (0xFF), looped by sipp's rtp_stream: 160 bytes every 20 ms. */
export function writeSilence(file) {
  writeFileSync(file, Buffer.alloc(8000, 0xff));
}

/**
 * The registered callee: registers `user` (its credential) at Kamailio from port P, then answers
 * calls on P with -rtp_echo on its media port. Resolves to { stop() }.
 */
export async function startCallee({ kamailioPort, user, credential, injectionFile, workDir, domain }) {
  const sipPort = await freeUdpRange(1);
  const mediaPort = await freeUdpRange(2);
  writeFileSync(injectionFile, `SEQUENTIAL\n${user};[authentication username=${credential.username} password=${credential.password}];\n`, { mode: 0o600 });
  const reg = spawnSipp([`127.0.0.1:${kamailioPort}`, '-sf', path.join(scenarios, 'register-csv.xml'), '-inf', injectionFile,
    '-key', 'domain', domain, '-i', '127.0.0.1', '-p', String(sipPort), '-m', '1', '-timeout', '10s', '-timeout_error'], 'callee-register', workDir);
  const r = await reg.exited;
  if (r.code !== 0) throw new Error(`the callee could not register (sipp exit ${r.code}): ${reg.stderr().slice(-400)}`);
  const uas = spawnSipp([ '-sf', path.join(scenarios, 'call-uas.xml'), '-key', 'user', user, '-i', '127.0.0.1',
    '-p', String(sipPort), '-mp', String(mediaPort), '-rtp_echo'], 'callee', workDir);
  await sleep(300);
  return {
    pid: uas.child.pid,
    stop: async () => {
      uas.child.kill('SIGTERM');
      const t = sleep(3000).then(() => 'timeout');
      if ((await Promise.race([uas.exited, t])) === 'timeout') uas.child.kill('SIGKILL');
      await uas.exited;
    },
  };
}

// Packets rtpengine received per side of one call: { caller, callee } (RTP streams only).
function packetsBySide(answer) {
  const sides = { caller: 0, callee: 0 };
  for (const tag of Object.values(answer.tags ?? {})) {
    const side = /uac/.test(tag.tag ?? '') ? 'caller' : /uas/.test(tag.tag ?? '') ? 'callee' : null;
    if (!side) continue;
    for (const media of tag.medias ?? []) {
      for (const stream of media.streams ?? []) {
        if (stream.flags?.includes?.('RTCP')) continue;
        sides[side] += Number(stream.stats?.packets ?? 0);
      }
    }
  }
  return sides;
}

async function snapshot(ng, callIds, rtpenginePid) {
  const totals = { caller: 0, callee: 0, calls: 0 };
  const batch = 25;
  for (let i = 0; i < callIds.length; i += batch) {
    const answers = await Promise.all(callIds.slice(i, i + batch).map((id) => ng.command({ command: 'query', 'call-id': id })));
    for (const a of answers) {
      if (a.result !== 'ok') continue;
      const s = packetsBySide(a);
      totals.caller += s.caller;
      totals.callee += s.callee;
      totals.calls += 1;
    }
  }
  return { ...totals, ticks: processTreeTicks(rtpenginePid), at: process.hrtime.bigint() };
}

/**
 * One step: `calls` simultaneous calls through Kamailio, each from its own caller (the lines of
 * the injection file `callers`: register.mjs's writeInjectionFile), held long enough for a measured window
 * of `windowS` seconds once all are up. Resolves to { calls, up, windowS, callerPps,
 * calleePps, expectedPps, loss, rtpengineCores, cpuMsPerCallSecond, failedCalls }.
 */
export async function callStep({ calls, windowS, kamailioPort, rtpengine, ng, callers, callee, audioFile, workDir, domain, tag }) {
  // sipp starts 100 calls per second; each call lasts the ramp, the streams' start (1.5 s), the
  // window and a margin for the snapshots, so that every call is up during the window.
  const rampS = Math.ceil(calls / 100);
  const holdMs = (rampS + 1.5 + windowS + 1 + calls / 200) * 1000;
  const sipPort = await freeUdpRange(1);
  // sipp 3.6 binds its RTP streams' ports from its media port (-mp) upwards.
  const rtpMin = await freeUdpRange(4 * calls + 8);
  const before = new Set((await ng.command({ command: 'list', limit: 10000 })).calls ?? []);
  // sipp does not substitute keys inside an exec action: the audio file's path is written into
  // a copy of the scenario.
  const scenario = path.join(workDir, 'call-uac.xml');
  writeFileSync(scenario, readFileSync(path.join(scenarios, 'call-uac.xml'), 'utf8').replace('rtp_stream="[audio],', `rtp_stream="${audioFile},`));
  const uac = spawnSipp([`127.0.0.1:${kamailioPort}`, '-sf', scenario,
    '-inf', callers, '-key', 'callee', callee, '-key', 'domain', domain,
    '-i', '127.0.0.1', '-p', String(sipPort), '-m', String(calls), '-l', String(calls), '-r', '100',
    '-d', String(Math.round(holdMs)), '-mp', String(rtpMin), '-rtp_threadtasks', '50',
    '-timeout', `${Math.ceil(holdMs / 1000) + 20}s`, '-trace_stat', '-stf', path.join(workDir, `${tag}-stat.csv`), '-fd', '1'],
  tag, workDir);
  try {
    // Wait until every call is in rtpengine (offer and answer done), then let the streams start.
    const deadline = Date.now() + (rampS + 10) * 1000;
    let ids = [];
    while (Date.now() < deadline) {
      ids = ((await ng.command({ command: 'list', limit: 10000 })).calls ?? []).filter((id) => !before.has(id));
      if (ids.length >= calls) break;
      await sleep(100);
    }
    if (ids.length < calls) throw new Error(`only ${ids.length} of ${calls} calls reached rtpengine (sipp: ${uac.child.exitCode ?? 'running'}, ${uac.stderr().slice(-600)}); see ${workDir}/${tag}-err.log`);
    await sleep(1500);
    const a = await snapshot(ng, ids, rtpengine.pid);
    await sleep(windowS * 1000);
    const b = await snapshot(ng, ids, rtpengine.pid);
    const seconds = Number(b.at - a.at) / 1e9;
    const callerPackets = b.caller - a.caller;
    const calleePackets = b.callee - a.callee;
    const cpuS = (b.ticks - a.ticks) / ticksPerSecond;
    const exit = await uac.exited;
    let failedCalls = null;
    try {
      const lines = readFileSync(path.join(workDir, `${tag}-stat.csv`), 'utf8').trim().split('\n');
      const header = lines[0].split(';');
      failedCalls = Number(lines.at(-1).split(';')[header.indexOf('FailedCall(C)')]);
    } catch {
      // no statistics: reported as unknown
    }
    return {
      calls, up: Math.min(a.calls, b.calls), windowS: seconds,
      callerPps: callerPackets / seconds, calleePps: calleePackets / seconds, expectedPps: 50 * calls,
      loss: callerPackets > 0 ? Math.max(0, 1 - calleePackets / callerPackets) : 1,
      rtpengineCores: cpuS / seconds, cpuMsPerCallSecond: (1000 * cpuS) / seconds / calls,
      failedCalls, sippExit: exit.code,
    };
  } finally {
    if (uac.child.exitCode === null && uac.child.signalCode === null) {
      uac.child.kill('SIGTERM');
      await uac.exited;
    }
  }
}
