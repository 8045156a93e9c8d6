// The SIP edge for the benchmark: Kamailio rendered from server/sip/kamailio.cfg.in by
// scripts/sip.sh (the configuration run.sh deploys: auth_ephemeral + the users.db check), a
// second Kamailio whose configuration differs only in the authentication part (the "static"
// reference: auth with plaintext test passwords in an htable, no database), and rtpengine with
// run.sh's flags. Every process is spawned here directly, so its pid (and its workers' CPU time,
// from /proc) is known; stopAll() ends them.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ngPing, sipOptionsAnswered, sipShell, udpPortFree } from '../../tests/helpers/sip-edge.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function replaceOnce(text, from, to, what) {
  const first = text.indexOf(from);
  if (first < 0 || text.indexOf(from, first + from.length) >= 0) {
    throw new Error(`static configuration: "${what}" is not exactly once in the rendered kamailio.cfg (did the template change?)`);
  }
  return text.slice(0, first) + to + text.slice(first + from.length);
}

/**
 * The static reference: the rendered configuration with auth_ephemeral and the account check
 * replaced by auth's pv_www_authenticate/pv_proxy_authenticate against an htable of plaintext
 * passwords filled at start. Everything else (listeners, children, registrar, pike, sanity,
 * NAT handling, nonce settings) is the same text. `users` is [{ user, password }].
 */
export function staticConfiguration(rendered, { domain, users }) {
  let text = rendered;
  // htable: loaded by the deployed configuration already (its per-account tables), else here.
  const htable = text.includes('loadmodule "htable.so"') ? '' : 'loadmodule "htable.so"';
  text = replaceOnce(text, 'loadmodule "auth_ephemeral.so"', htable, 'auth_ephemeral module');
  text = text.replace(/^modparam\("auth_ephemeral".*\n/gm, '');
  text = replaceOnce(text, 'modparam("auth", "nonce_expire"',
    'modparam("htable", "htable", "sipusers=>size=14;autoexpire=0;")\nmodparam("auth", "nonce_expire"', 'auth modparams');
  // Without credentials the password variable is a placeholder, so that auth answers "no
  // credentials" (-5: challenge) as auth_ephemeral does; an unknown user's is unset (-1: 403).
  const lookup = (header) => `if (is_present_hf("${header}")) { $var(static_pw) = $sht(sipusers=>$(au{s.tolower})); } else { $var(static_pw) = "-"; }\n\t`;
  text = replaceOnce(text, `autheph_www("${domain}");`,
    `${lookup('Authorization')}pv_www_authenticate("${domain}", "$var(static_pw)", "0");`, 'autheph_www');
  text = replaceOnce(text, `autheph_proxy("${domain}");`,
    `${lookup('Proxy-Authorization')}pv_proxy_authenticate("${domain}", "$var(static_pw)", "0");`, 'autheph_proxy');
  // The account route: the credential's user is the From user; no database.
  text = replaceRouteBody(text, 'ACCOUNT', [
    '\t$var(auth_user) = $(au{s.tolower});',
    '\t$var(auth_device) = "";',
    '\tif ($(fU{s.tolower}) != $var(auth_user)) {',
    '\t\tsl_send_reply("403", "Forbidden");',
    '\t\texit;',
    '\t}',
  ].join('\n'), 'static configuration');
  const fill = users.map(({ user, password }) => `\t$sht(sipusers=>${user}) = "${password}";`).join('\n');
  text += `\nevent_route[htable:mod-init] {\n${fill}\n}\n`;
  return text;
}

/** `count` consecutive free UDP ports, none handed out before by this process. */
export async function freeUdpRange(count, taken = handedOut) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const min = 20_000 + 2 * Math.floor(Math.random() * ((40_000 - count) / 2));
    const range = Array.from({ length: count }, (_, i) => min + i);
    if (range.some((p) => taken.has(p))) continue;
    if ((await Promise.all(range.map(udpPortFree))).every(Boolean)) {
      range.forEach((p) => taken.add(p));
      return min;
    }
  }
  throw new Error('no free run of UDP ports found');
}

function tcpPortFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Ports handed out by this process (instances started together must not pick the same ones).
const handedOut = new Set();

// Three consecutive ports free for UDP and TCP: SIP (UDP and TCP), TLS, WSS.
async function freeSipPorts() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = await freeUdpRange(3, handedOut);
    if ((await Promise.all([base, base + 1, base + 2].map(tcpPortFree))).every(Boolean)) return base;
  }
  throw new Error('no three free consecutive TCP and UDP ports found');
}

const started = new Set();

function spawnLogged(binary, args, logPath) {
  const fd = openSync(logPath, 'a', 0o600);
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const entry = { child, exited: new Promise((resolve) => child.on('exit', resolve)), alive: true };
  entry.exited.then(() => (entry.alive = false));
  started.add(entry);
  return entry;
}

// Kamailio 5.6 spends seconds of CPU at start (its default qm allocator, in the TLS module's
// set-up of each worker), tens of seconds on a loaded 2-core machine: a generous deadline.
async function waitFor(entry, name, logPath, probe, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!entry.alive) break;
    if (await probe()) return;
    await sleep(100);
  }
  const tail = (() => { try { return readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; } })();
  const wasAlive = entry.alive;
  await stopEntry(entry);
  throw new Error(`${name} is not ready (${wasAlive ? 'timeout' : 'exited'}); the end of ${logPath}:\n${tail}`);
}

// The pids below `root` (Kamailio's workers are children of its main process).
function descendants(root) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    for (const [child, parent] of parents) {
      if (parent === pid) {
        out.push(child);
        stack.push(child);
      }
    }
  }
  return out;
}

// SIGTERM, SIGKILL after 5 s; then SIGKILL whatever of its process tree is left (a main process
// killed before it could stop its workers leaves them behind).
async function stopEntry(entry) {
  const tree = descendants(entry.child.pid);
  if (entry.alive) {
    entry.child.kill('SIGTERM');
    const timeout = sleep(5000).then(() => 'timeout');
    if ((await Promise.race([entry.exited, timeout])) === 'timeout') entry.child.kill('SIGKILL');
    await entry.exited;
  }
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  started.delete(entry);
}

/** Stops every process this module started (rtpengine and Kamailio instances). */
export async function stopAll() {
  await Promise.all([...started].map(stopEntry));
}

function baseVars({ dataDir, secret, domain, ports, children }) {
  return {
    SIP_SECRET: secret, SIP_DOMAIN: domain, SIP_LISTEN_IP: '127.0.0.1',
    SIP_PORT: String(ports.sip), SIP_TLS_PORT: String(ports.tls), SIP_WSS_PORT: String(ports.wss),
    SIP_NG_PORT: String(ports.ng), SIP_CERT: path.join(dataDir, 'tls', 'cert.pem'),
    SIP_KEY: path.join(dataDir, 'tls', 'key.pem'), SIP_USERS_DB: path.join(dataDir, 'users.db'),
    // The flood guard is the deployed one but with a budget no benchmark load reaches: every
    // request comes from one address here.
    SIP_PIKE_DENSITY: '99999', SIP_PIKE_UNIT: '1', SIP_CHILDREN: String(children),
  };
}

/**
 * A diagnostic between the two: the deployed configuration without the users.db query (the
 * HMAC, the expiry and the From check stay), to tell what the query costs.
 */
export function withoutAccountQuery(rendered) {
  return replaceRouteBody(rendered, 'ACCOUNT_VALID', '\t$var(account_ok) = 1;', 'hmac-only configuration');
}

// Replaces the body of route[name] (up to its closing brace at the start of a line).
function replaceRouteBody(text, name, body, what) {
  const head = `route[${name}] {`;
  const start = text.indexOf(head);
  const end = text.indexOf('\n}\n', start);
  if (start < 0 || end < 0) throw new Error(`${what}: route[${name}] is not in the rendered kamailio.cfg (did the template change?)`);
  return `${text.slice(0, start)}${head}\n${body}\n}\n${text.slice(end + 3)}`;
}

/**
 * Renders and starts one Kamailio in `dir` (mode 'ephemeral': the deployed configuration;
 * 'static': staticConfiguration of it with `users`; 'hmac-only': withoutAccountQuery of it). ngPort: the rtpengine it talks to.
 * memoryManager: see below. Resolves to { port, pid, mode, stop() }.
 */
export async function startKamailio({ dir, mode, dataDir, secret, domain = 'localhost', ngPort, users = [], children = 4, memoryManager = 'tlsf' }) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = await freeSipPorts();
  const ports = { sip: base, tls: base + 1, wss: base + 2, ng: ngPort };
  const vars = baseVars({ dataDir, secret, domain, ports, children });
  await sipShell(`sip_render "${dir}"`, vars);
  const cfg = path.join(dir, 'kamailio.cfg');
  if (mode === 'static') {
    writeFileSync(cfg, staticConfiguration(readFileSync(cfg, 'utf8'), { domain, users }), { mode: 0o600 });
  } else if (mode === 'hmac-only') {
    writeFileSync(cfg, withoutAccountQuery(readFileSync(cfg, 'utf8')), { mode: 0o600 });
  } else if (mode !== 'ephemeral') {
    throw new Error(`unknown Kamailio mode ${mode}`);
  }
  chmodSync(cfg, 0o600);
  const run = path.join(dir, 'run');
  const logPath = path.join(dir, 'kamailio.log');
  const check = spawnSync('kamailio', ['-c', '-Y', run, '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`Kamailio refuses the ${mode} configuration:\n${`${check.stdout}\n${check.stderr}`.split('\n').slice(-20).join('\n')}`);
  }
  // -DD: foreground with its workers (all children of this pid); -E: log to stderr (the file).
  // memoryManager: Kamailio's allocator for shared (-x) and private (-X) memory; scripts/sip.sh
  // runs 'tlsf' (the default here too); 'qm' is Kamailio's own default.
  const memory = memoryManager ? ['-x', memoryManager, '-X', memoryManager] : [];
  const entry = spawnLogged('kamailio', [...memory, '-DD', '-E', '-m', '64', '-M', '8', '-Y', run, '-f', cfg], logPath);
  await waitFor(entry, `kamailio (${mode})`, logPath, () => sipOptionsAnswered(ports.sip));
  return { port: ports.sip, pid: entry.child.pid, mode, logPath, stop: () => stopEntry(entry) };
}

/** Starts rtpengine with scripts/sip.sh's flags (userspace) on `rtpPorts` ports. */
export async function startRtpengine({ dir, rtpPorts = 2000 }) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ngPort = await freeUdpRange(1);
  const rtpMin = await freeUdpRange(rtpPorts);
  const vars = {
    SIP_LISTEN_IP: '127.0.0.1', SIP_NG_PORT: String(ngPort), SIP_RTP_MIN: String(rtpMin),
    SIP_RTP_MAX: String(rtpMin + rtpPorts - 1),
  };
  const args = (await sipShell(`sip_rtpengine_args && printf '%s\\0' "\${RTPENGINE_ARGS[@]}"`, vars))
    .split('\0').filter(Boolean);
  const logPath = path.join(dir, 'rtpengine.log');
  const entry = spawnLogged('rtpengine', args, logPath);
  await waitFor(entry, 'rtpengine', logPath, () => ngPing(ngPort));
  return { ngPort, pid: entry.child.pid, args, logPath, stop: () => stopEntry(entry) };
}

/** Throws unless kamailio, rtpengine and sipp can be run. */
export function assertToolsInstalled() {
  for (const [binary, args] of [['kamailio', ['-v']], ['rtpengine', ['--version']], ['sipp', ['-v']]]) {
    const probe = spawnSync(binary, args, { encoding: 'utf8' });
    if (probe.error) {
      throw new Error(`${binary} is needed for bench/sip (${probe.error.message}); scripts/install-deps.sh installs it`);
    }
  }
}
