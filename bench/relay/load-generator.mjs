// Relay load generator: N channel pairs over TLS WebSockets, each pair's initiator sending relay
// frames (docs/api.md "Relay frames") that its responder receives, against either secms-server
// or the reference relay on Node's `ws` (reference-relay.mjs). Reports relayed frames per second,
// p50/p99 latency and the relay process's CPU time in the measured window, hence relayed frames
// per server CPU-second. bench/README.md explains the method; run.mjs runs both targets side by side.
//
//   node bench/relay/load-generator.mjs --target secms --pairs 10 --size 100 --duration 10
//   node bench/relay/load-generator.mjs --target reference --pairs 10,50 --size 100,1024
//   node bench/relay/load-generator.mjs --target secms --smoke --json
//
// Load model (closed loop by default): each pair keeps up to --window frames in flight; every
// frame the responder receives lets the initiator send the next one. With --rate R the load is
// open loop instead: each pair sends R frames/s on a 1 ms timer whatever the relay does (a slot
// whose pair already has 10 000 frames in flight is dropped and counted).
//
// Latency = responder's receive time − the send time the initiator wrote into the body just
// before ws.send. Both ends live in this process, so one clock (process.hrtime.bigint()).
// Body layout: bytes 0–7 send time (ns, u64 BE), 8–15 the frame's sequence again (to catch a
// header paired with another frame's body), then random filler up to --size bytes.
//
// All traffic stays on 127.0.0.1.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as openpgp from 'openpgp';
import { FRAME_TYPE_RECORD, HEADER_LENGTH, SESSION_ID_LENGTH, makeFrame, readSequence } from './frame.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const releaseBinary = path.join(repoRoot, 'build', 'release', 'server', 'app', 'secms-server');
export const devBinary = path.join(repoRoot, 'build', 'dev', 'server', 'app', 'secms-server');
const launcherUrl = pathToFileURL(path.join(repoRoot, 'tests', 'helpers', 'secms-server.mjs')).href;
const referenceScript = path.join(here, 'reference-relay.mjs');

const BODY_PREFIX = 16; // send time + sequence copy
const OPEN_LOOP_MAX_IN_FLIGHT = 10_000;
const SETUP_TIMEOUT_MS = 15_000;
const PASSWORD = 'bench-password-not-secret';

// Generous limits so that setting up 100 accounts, and their sockets, from one IP is not
// throttled or capped (the per-address connection cap defaults to 64); everything else
// stays at the defaults (io threads: one per core; write queue 1024 messages / 4 MiB). The
// launcher already passes --log-level info (given twice the option is refused); the relay path
// logs nothing per frame.
export const SECMS_BENCH_ARGS = [
  '--login-per-ip-burst', '10000', '--login-per-ip-per-minute', '10000',
  '--register-per-ip-burst', '10000', '--register-per-ip-per-minute', '10000',
  '--max-connections-per-ip', '100000',
];

/** The secms-server binary to measure: $SECMS_SERVER_BIN, else the release build, else dev. */
export function defaultServerBinary() {
  if (process.env.SECMS_SERVER_BIN) return process.env.SECMS_SERVER_BIN;
  return existsSync(releaseBinary) ? releaseBinary : devBinary;
}

// tests/helpers/secms-server.mjs fixes its binary from $SECMS_SERVER_BIN when first imported, so
// the variable is set before the (one) import and checked after it.
let launcher;
async function loadLauncher(binary) {
  if (!launcher) {
    if (binary) process.env.SECMS_SERVER_BIN = binary;
    launcher = await import(launcherUrl);
  }
  if (binary && launcher.serverBinary !== binary) {
    throw new Error(`launcher already bound to ${launcher.serverBinary}, cannot switch to ${binary}`);
  }
  return launcher;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs fn over items with at most `limit` calls in flight (setup only: Argon2id and certificate
// checks run on the server's worker pool, so unbounded parallelism just queues there).
async function inBatches(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

const range = (n, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/**
 * Key pairs the way the web front end makes them: OpenPGP.js v4 EdDSA legacy + ECDH Curve25519
 * (docs/certificates.md). Generated once per invocation and reused by every run.
 */
export async function generateKeys(count, firstIndex = 0) {
  const keys = [];
  for (const i of range(count, firstIndex)) {
    keys.push(await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: `Bench User ${i}`, email: `bench${i}@example.org` }],
      format: 'object',
      config: { v6Keys: false },
    }));
  }
  return keys;
}

// Messages of one of `types`, skipping others (presence). Setup only: while a socket certifies,
// nothing else it could receive matters.
async function nextOf(client, types, timeoutMs = SETUP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const msg = await client.next(undefined, Math.max(1, deadline - Date.now()));
    if (types.includes(msg.type)) return msg;
  }
}

async function closeClients(clients) {
  await Promise.all(clients.map(async (c) => {
    if (c.ws.readyState === c.ws.CLOSED) return;
    c.ws.close(1000);
    const timeout = sleep(3_000).then(() => 'timeout');
    if ((await Promise.race([c.closed, timeout])) === 'timeout') c.ws.terminate();
  }));
}

/**
 * secms-server started by the shared launcher with a fresh data directory. Accounts (2 per pair)
 * are registered and logged in once and reused by later runs; every run opens new sockets,
 * submits the certificate, proves possession and opens one channel per pair.
 */
export async function startSecmsTarget({ binary = defaultServerBinary(), extraArgs = [], env = {}, keys = [] } = {}) {
  const helper = await loadLauncher(binary);
  const server = await helper.startServer({ extraArgs: [...SECMS_BENCH_ARGS, ...extraArgs], env });
  const users = [];
  let keyPool = keys;

  async function ensureUsers(count) {
    if (keyPool.length < count) keyPool = keyPool.concat(await generateKeys(count - keyPool.length, keyPool.length));
    const missing = range(count).filter((i) => !users[i]);
    await inBatches(missing, 4, async (i) => {
      const username = `bench${i}`;
      const reg = await helper.register(server, username, PASSWORD);
      if (reg.status !== 201) throw new Error(`register ${username}: HTTP ${reg.status} ${reg.body}`);
      const { res, cookie } = await helper.login(server, username, PASSWORD);
      if (res.status !== 200 || !cookie) throw new Error(`login ${username}: HTTP ${res.status} ${res.body}`);
      users[i] = { username, cookie, key: keyPool[i] };
    });
  }

  async function connectCertified(user) {
    const client = await helper.openWebSocket(server, { cookie: user.cookie });
    try {
      const hello = await client.next('hello', SETUP_TIMEOUT_MS);
      client.userid = hello.user.userid;
      client.send({ type: 'certificate_submit', certificate: user.key.publicKey.armor() });
      const challenge = await nextOf(client, ['certificate_challenge', 'certificate_rejected', 'error']);
      if (challenge.type !== 'certificate_challenge') throw new Error(`certificate_submit: ${JSON.stringify(challenge)}`);
      // Sign the exact UTF-8 bytes: a text message would be canonicalised (line endings).
      const message = await openpgp.createMessage({ binary: new TextEncoder().encode(challenge.challenge) });
      const signature = await openpgp.sign({
        message, signingKeys: user.key.privateKey, detached: true, format: 'armored', config: { v6Keys: false },
      });
      client.send({ type: 'certificate_proof', signature });
      const verdict = await nextOf(client, ['certificate_accepted', 'certificate_rejected', 'error']);
      if (verdict.type !== 'certificate_accepted') throw new Error(`certificate_proof: ${JSON.stringify(verdict)}`);
      return client;
    } catch (e) {
      await closeClients([client]);
      throw e;
    }
  }

  return {
    kind: 'secms',
    label: 'secms-server',
    binary: helper.serverBinary,
    pid: server.process.pid,
    server,
    tlsFiles: { certFile: path.join(server.dataDir, 'tls', 'cert.pem'), keyFile: path.join(server.dataDir, 'tls', 'key.pem') },
    async connectPairs(n) {
      await ensureUsers(2 * n);
      const clients = [];
      try {
        await inBatches(range(2 * n), 8, async (i) => {
          clients[i] = await connectCertified(users[i]);
        });
        return await Promise.all(range(n).map(async (p) => {
          const initiator = clients[2 * p];
          const responder = clients[2 * p + 1];
          initiator.send({ type: 'channel_request', peer: responder.userid });
          const offerI = await nextOf(initiator, ['channel_offer', 'error']);
          const offerR = await nextOf(responder, ['channel_offer']);
          if (offerI.type !== 'channel_offer' || offerI.role !== 'initiator' || offerR.session !== offerI.session) {
            throw new Error(`channel_request: ${JSON.stringify(offerI)} / ${JSON.stringify(offerR)}`);
          }
          initiator.send({ type: 'channel_accept', session: offerI.session });
          responder.send({ type: 'channel_accept', session: offerR.session });
          await initiator.next('channel_open', SETUP_TIMEOUT_MS);
          await responder.next('channel_open', SETUP_TIMEOUT_MS);
          return { sessionId: offerI.session, initiator, responder };
        }));
      } catch (e) {
        await closeClients(clients.filter(Boolean));
        throw e;
      }
    },
    closePairs: (pairs) => closeClients(pairs.flatMap((p) => [p.initiator, p.responder])),
    // Idle authenticated sockets of one account (memory mode): TLS, upgrade, hello and
    // presence read, certificate submitted and proved, then nothing. The server must be started
    // with room for them (memory.mjs passes the limits).
    async connectIdle(n, { parallel = 16 } = {}) {
      await ensureUsers(1);
      const clients = [];
      await inBatches(range(n), parallel, async (i) => {
        clients[i] = await connectCertified(users[0]);
      });
      for (const c of clients) c.ws.removeAllListeners('message'); // no queue grows meanwhile
      return clients;
    },
    closeClients,
    async stop() {
      const info = await server.stop();
      return { ...info, logs: server.logs() };
    },
  };
}

/**
 * The reference relay in its own Node process (so its CPU time is its own), paired by a JSON
 * `join` message. TLS certificate: certFile/keyFile if given (run.mjs passes secms-server's own,
 * so both targets present the same P-256 certificate), else a fresh self-signed one.
 */
export async function startReferenceTarget({ certFile, keyFile } = {}) {
  const helper = await loadLauncher();
  const args = [referenceScript];
  if (certFile && keyFile) args.push('--cert', certFile, '--key', keyFile);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`reference relay not ready: ${stderr}`)), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line).listening);
      }
    });
    exited.then((info) => reject(new Error(`reference relay exited: ${JSON.stringify(info)} ${stderr}`)));
  });
  // Enough of the launcher's "server" shape for its openWebSocket().
  const endpoint = { httpsPort: port, origin: `https://localhost:${port}` };
  return {
    kind: 'reference',
    label: 'reference (ws)',
    pid: child.pid,
    async connectPairs(n) {
      const clients = [];
      try {
        return await Promise.all(range(n).map(async () => {
          const sessionId = randomBytes(SESSION_ID_LENGTH / 2).toString('hex');
          const initiator = await helper.openWebSocket(endpoint);
          clients.push(initiator);
          const responder = await helper.openWebSocket(endpoint);
          clients.push(responder);
          initiator.send({ type: 'join', session: sessionId, role: 'initiator' });
          responder.send({ type: 'join', session: sessionId, role: 'responder' });
          await initiator.next('channel_open', SETUP_TIMEOUT_MS);
          await responder.next('channel_open', SETUP_TIMEOUT_MS);
          return { sessionId, initiator, responder };
        }));
      } catch (e) {
        await closeClients(clients);
        throw e;
      }
    },
    closePairs: (pairs) => closeClients(pairs.flatMap((p) => [p.initiator, p.responder])),
    // Idle sockets (memory mode): TLS and the upgrade, then nothing (it has no login to make).
    async connectIdle(n, { parallel = 16 } = {}) {
      const clients = [];
      await inBatches(range(n), parallel, async (i) => {
        clients[i] = await helper.openWebSocket(endpoint); // resolves once open
      });
      return clients;
    },
    closeClients,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timeout = sleep(3_000).then(() => 'timeout');
      if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
      return { ...(await exited), logs: { stderr } };
    },
  };
}

let clockTicks;
/** sysconf(_SC_CLK_TCK), the unit of utime/stime in /proc/<pid>/stat (100 on Linux). */
export function clockTicksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a whole process (all its threads), in seconds. */
export function processCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  return (utime + stime) / clockTicksPerSecond();
}

// Latencies in microseconds, in a growable typed array (a 10 s run records around a million).
class LatencyRecorder {
  constructor() {
    this.values = new Float64Array(1 << 16);
    this.count = 0;
  }
  add(us) {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = us;
  }
  percentiles(...ps) {
    const sorted = this.values.slice(0, this.count).sort();
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    return ps.map((p) => (this.count === 0 ? NaN : sorted[Math.max(0, Math.ceil(p * this.count) - 1)]));
  }
}

/**
 * One measured run against a started target. Options:
 *   pairs, bodySize (bytes after the 41-byte header, ≥ 16), durationMs (measured window),
 *   warmupMs (load before the window), window (closed loop: frames in flight per pair),
 *   rate (open loop: frames/s per pair; overrides window), framesPerPair (stop each pair after
 *   that many frames; the run then ends as soon as all arrived), drainMs (wait for stragglers).
 * Returns figures plus correctness counters; it never throws for relay misbehaviour, it counts it.
 */
export async function measure(target, {
  pairs: pairCount, bodySize, durationMs = 10_000, warmupMs = 1_000, window = 16, rate,
  framesPerPair, drainMs = 5_000,
}) {
  if (!(bodySize >= BODY_PREFIX)) throw new Error(`body size must be at least ${BODY_PREFIX} bytes`);
  const setupStarted = performance.now();
  const connected = await target.connectPairs(pairCount);
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  try {
    const result = await drive(target, connected, { bodySize, durationMs, warmupMs, window, rate, framesPerPair, drainMs });
    return { target: target.kind, label: target.label, pairs: pairCount, bodySize, setupSeconds, ...result };
  } finally {
    await target.closePairs(connected);
  }
}

async function drive(target, connected, { bodySize, durationMs, warmupMs, window, rate, framesPerPair, drainMs }) {
  const openLoop = rate !== undefined;
  const sendLimit = framesPerPair ?? Infinity;
  const filler = randomBytes(bodySize);
  const latencies = new LatencyRecorder();
  const stats = {
    sent: 0, received: 0, windowReceived: 0, outOfOrder: 0, corrupt: 0, droppedByGenerator: 0,
    serverErrors: {}, channelEnded: [], socketsClosed: [],
  };
  let sending = true;
  let measuring = false;
  let finish; // resolves early when every pair got its framesPerPair
  const allArrived = new Promise((resolve) => (finish = resolve));

  const pairs = connected.map((c, index) => ({
    index,
    sessionBytes: Buffer.from(c.sessionId, 'latin1'),
    initiator: c.initiator.ws,
    responder: c.responder.ws,
    nextSend: 0,
    nextReceive: 0,
    received: 0,
    inFlight: 0,
    slots: 0, // open loop: send slots elapsed so far
    phase: connected.length > 1 ? index / connected.length : 0, // spreads pairs over a period
  }));
  let pairsComplete = 0;

  function sendOne(p) {
    const sequence = p.nextSend++;
    const frame = makeFrame(FRAME_TYPE_RECORD, p.sessionBytes, sequence, bodySize);
    filler.copy(frame, HEADER_LENGTH + BODY_PREFIX, BODY_PREFIX);
    frame.writeUInt32BE(Math.floor(sequence / 2 ** 32), HEADER_LENGTH + 8);
    frame.writeUInt32BE(sequence % 2 ** 32, HEADER_LENGTH + 12);
    p.inFlight++;
    stats.sent++;
    frame.writeBigUInt64BE(process.hrtime.bigint(), HEADER_LENGTH); // last, right before sending
    p.initiator.send(frame, { binary: true });
  }

  function onText(data) {
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (msg.type === 'error') {
      const code = msg.error?.code ?? 'unknown';
      stats.serverErrors[code] = (stats.serverErrors[code] ?? 0) + 1;
    } else if (msg.type === 'channel_ended') {
      stats.channelEnded.push(msg.reason);
    }
    // presence, pong: not the relay's business here
  }

  for (const p of pairs) {
    // The launcher's client queues every message for next(); from here on this handler alone
    // consumes them, so a long run does not pile a million frames into that queue.
    p.responder.removeAllListeners('message');
    p.initiator.removeAllListeners('message');
    p.initiator.on('message', (data, isBinary) => {
      if (isBinary) stats.corrupt++; // nobody sends to the initiator
      else onText(data);
    });
    p.responder.on('message', (data, isBinary) => {
      const now = process.hrtime.bigint();
      if (!isBinary) return onText(data);
      const sequence = readSequence(data);
      if (data.length !== HEADER_LENGTH + bodySize || data[0] !== FRAME_TYPE_RECORD ||
          data.compare(p.sessionBytes, 0, SESSION_ID_LENGTH, 1, 1 + SESSION_ID_LENGTH) !== 0 ||
          data.readUInt32BE(HEADER_LENGTH + 8) * 2 ** 32 + data.readUInt32BE(HEADER_LENGTH + 12) !== sequence) {
        stats.corrupt++;
      }
      if (sequence !== p.nextReceive) stats.outOfOrder++;
      p.nextReceive = sequence + 1;
      p.inFlight--;
      p.received++;
      stats.received++;
      if (measuring) {
        stats.windowReceived++;
        latencies.add(Number(now - data.readBigUInt64BE(HEADER_LENGTH)) / 1000);
      }
      if (!openLoop && sending && p.nextSend < sendLimit) sendOne(p);
      if (p.received === sendLimit && ++pairsComplete === pairs.length) finish();
    });
    for (const [role, ws] of [['initiator', p.initiator], ['responder', p.responder]]) {
      ws.once('close', (code) => {
        if (sending) stats.socketsClosed.push({ pair: p.index, role, code });
      });
    }
  }

  let window0;
  function beginWindow() {
    window0 = { t: process.hrtime.bigint(), server: processCpuSeconds(target.pid), generator: process.cpuUsage() };
    stats.windowReceived = 0;
    measuring = true;
  }

  let timer;
  if (warmupMs <= 0) beginWindow();
  if (openLoop) {
    const t0 = performance.now();
    timer = setInterval(() => {
      if (!sending) return;
      const elapsed = (performance.now() - t0) / 1000;
      for (const p of pairs) {
        const due = Math.min(sendLimit, Math.floor(elapsed * rate + p.phase));
        while (p.slots < due) {
          p.slots++;
          if (p.inFlight >= OPEN_LOOP_MAX_IN_FLIGHT) stats.droppedByGenerator++;
          else sendOne(p);
        }
      }
    }, 1);
  } else {
    for (const p of pairs) for (let i = 0; i < window && p.nextSend < sendLimit; ++i) sendOne(p);
  }
  if (warmupMs > 0) {
    await sleep(warmupMs);
    beginWindow();
  }
  await Promise.race([sleep(durationMs), allArrived]);
  measuring = false;
  const window1 = { t: process.hrtime.bigint(), server: processCpuSeconds(target.pid), generator: process.cpuUsage(window0.generator) };
  sending = false;
  clearInterval(timer);

  // Let frames still in flight arrive, so that lost frames can be told from late ones.
  const drainDeadline = performance.now() + drainMs;
  while (pairs.some((p) => p.inFlight > 0) && performance.now() < drainDeadline && stats.socketsClosed.length === 0) {
    await sleep(10);
  }

  const seconds = Number(window1.t - window0.t) / 1e9;
  const serverCpuSeconds = window1.server - window0.server;
  const [p50, p99, max] = latencies.percentiles(0.5, 0.99, 1);
  const tlsSocket = pairs[0]?.initiator._socket;
  return {
    mode: openLoop ? `open loop ${rate}/s per pair` : `closed loop, window ${window}`,
    seconds,
    framesRelayed: stats.windowReceived,
    framesPerSecond: stats.windowReceived / seconds,
    serverCpuSeconds,
    serverCores: serverCpuSeconds / seconds,
    framesPerCpuSecond: serverCpuSeconds > 0 ? stats.windowReceived / serverCpuSeconds : NaN,
    latencyUs: { p50, p99, max },
    generatorCpuSeconds: (window1.generator.user + window1.generator.system) / 1e6,
    tls: tlsSocket ? `${tlsSocket.getProtocol()} ${tlsSocket.getCipher()?.name}` : undefined,
    check: {
      sent: stats.sent,
      received: stats.received,
      lost: pairs.reduce((sum, p) => sum + p.inFlight, 0),
      outOfOrder: stats.outOfOrder,
      corrupt: stats.corrupt,
      droppedByGenerator: stats.droppedByGenerator,
      serverErrors: stats.serverErrors,
      channelEnded: stats.channelEnded,
      socketsClosed: stats.socketsClosed,
      perPairReceived: pairs.map((p) => p.received),
    },
  };
}

/** True when a run relayed everything it sent, in order, unchanged, without errors. */
export function runIsClean(r) {
  const c = r.check;
  return c.lost === 0 && c.sent === c.received && c.outOfOrder === 0 && c.corrupt === 0 &&
    Object.keys(c.serverErrors).length === 0 && c.channelEnded.length === 0 && c.socketsClosed.length === 0;
}

export function describeRun(r) {
  const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
  return `${r.label.padEnd(15)} pairs=${r.pairs} body=${r.bodySize}B ${r.mode}: ` +
    `${fmt(r.framesPerSecond)} frames/s, server ${fmt(r.serverCpuSeconds, 2)} CPU-s in ${fmt(r.seconds, 2)} s ` +
    `(${fmt(r.framesPerCpuSecond)} frames/CPU-s), latency p50 ${fmt(r.latencyUs.p50 / 1000, 2)} ms ` +
    `p99 ${fmt(r.latencyUs.p99 / 1000, 2)} ms; generator ${fmt(r.generatorCpuSeconds, 2)} CPU-s; ` +
    `sent ${r.check.sent} received ${r.check.received}${runIsClean(r) ? '' : ` PROBLEM ${JSON.stringify({ ...r.check, perPairReceived: undefined })}`}`;
}

const numberList = (s) => s.split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x) && x > 0);

async function main() {
  const { values: o } = parseArgs({
    options: {
      target: { type: 'string', default: 'secms' }, // secms | reference
      pairs: { type: 'string', default: '10' }, // comma-separated list allowed
      size: { type: 'string', default: '100' }, // body bytes, comma-separated list allowed
      duration: { type: 'string', default: '10' }, // seconds measured
      warmup: { type: 'string', default: '1' }, // seconds before the window
      window: { type: 'string', default: '16' },
      rate: { type: 'string' },
      frames: { type: 'string' },
      'server-bin': { type: 'string' },
      'server-arg': { type: 'string', multiple: true, default: [] }, // extra secms-server flag(s)
      'server-env': { type: 'string', multiple: true, default: [] }, // KEY=VALUE for secms-server
      smoke: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (o.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\n')[0] + '\n');
    return 0;
  }
  // --smoke: the benchmark still works end to end — 1 pair, 50 frames, at most 1 s.
  const settings = o.smoke
    ? { pairs: [1], sizes: numberList(o.size), durationMs: 1_000, warmupMs: 0, window: Number(o.window), framesPerPair: 50 }
    : {
        pairs: numberList(o.pairs),
        sizes: numberList(o.size),
        durationMs: Number(o.duration) * 1000,
        warmupMs: Number(o.warmup) * 1000,
        window: Number(o.window),
        rate: o.rate === undefined ? undefined : Number(o.rate),
        framesPerPair: o.frames === undefined ? undefined : Number(o.frames),
      };
  let target;
  const env = Object.fromEntries(o['server-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (o.target === 'secms') {
    target = await startSecmsTarget({ binary: o['server-bin'] ?? defaultServerBinary(), extraArgs: o['server-arg'], env });
  } else if (o.target === 'reference') {
    target = await startReferenceTarget();
  } else {
    throw new Error(`--target must be secms or reference, not ${o.target}`);
  }

  const results = [];
  let stopInfo;
  try {
    for (const pairs of settings.pairs) {
      for (const bodySize of settings.sizes) {
        const r = await measure(target, { ...settings, pairs, bodySize });
        results.push(r);
        if (!o.json) process.stdout.write(`${describeRun(r)}\n`);
      }
    }
  } finally {
    stopInfo = await target.stop();
  }
  // A relay that died under load is a finding, not a detail: say so.
  const crashed = stopInfo.signal !== null && stopInfo.signal !== 'SIGTERM';
  if (o.json) process.stdout.write(`${JSON.stringify({ binary: target.binary, results, stop: { code: stopInfo.code, signal: stopInfo.signal } }, null, 2)}\n`);
  if (crashed) process.stderr.write(`target exited abnormally: ${JSON.stringify(stopInfo)}\n`);
  return results.every(runIsClean) && !crashed ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${e.stack ?? e}\n`);
      process.exit(2);
    },
  );
}
