// Starts the SIP edge (Debian's Kamailio and rtpengine) on loopback for the SIP tests, with the
// configuration scripts/run.sh runs: the templates of server/sip/ are rendered by
// scripts/sip.sh's sip_render (one renderer for both), into a private temporary directory, on
// free ports. A missing binary is an error, never a skip (scripts/install-deps.sh installs them).
//
//   const edge = await startSipEdge({ dataDir: server.dataDir, secret, certFile, keyFile });
//   … sipp … 127.0.0.1:${edge.udpPort} …
//   await edge.stop();

import { execFile, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnCompanion } from './companion-process.mjs';
import { freePort, repoRoot } from './secms-server.mjs';

const execFileAsync = promisify(execFile);
const RTP_PORTS = 20; // a few concurrent calls: two ports (RTP, RTCP) per side of each call

/** Throws unless kamailio, rtpengine and sipp can be run. */
export function assertSipToolsInstalled() {
  for (const [binary, args] of [['kamailio', ['-v']], ['rtpengine', ['--version']], ['sipp', ['-v']]]) {
    const probe = spawnSync(binary, args, { encoding: 'utf8' });
    if (probe.error) {
      throw new Error(`${binary} is needed for the SIP tests (${probe.error.message}); scripts/install-deps.sh installs it`);
    }
  }
}

/** The password of an auth_ephemeral credential: base64(HMAC-SHA256(secret text, username)). */
export function sipPassword(secret, username) {
  return createHmac('sha256', String(secret).trim()).update(username).digest('base64');
}

/** A browser-form credential "<expiry>:<user>" (expiry in unix seconds, default in an hour). */
export function browserCredential(secret, user, { expiresAt = Math.floor(Date.now() / 1000) + 3600 } = {}) {
  const username = `${expiresAt}:${user.toLowerCase()}`;
  return { username, password: sipPassword(secret, username) };
}

/** A phone-form credential "<expiry>:<user>:<16 hex device id>". */
export function deviceCredential(secret, user, deviceId, { expiresAt = Math.floor(Date.now() / 1000) + 86400 } = {}) {
  const username = `${expiresAt}:${user.toLowerCase()}:${deviceId}`;
  return { username, password: sipPassword(secret, username) };
}

/** True when UDP port `port` of 127.0.0.1 can be bound. */
export function udpPortFree(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

// A TCP port also free for UDP (SIP listens on both).
async function freeTcpUdpPort(taken) {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port) && (await udpPortFree(port))) {
      taken.add(port);
      return port;
    }
  }
}

async function freeUdpRange(count, taken) {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const min = 32_000 + 2 * Math.floor(Math.random() * 8_000);
    const range = Array.from({ length: count }, (_, i) => min + i);
    if (range.some((p) => taken.has(p))) continue;
    if ((await Promise.all(range.map(udpPortFree))).every(Boolean)) {
      range.forEach((p) => taken.add(p));
      return [min, min + count - 1];
    }
  }
  throw new Error('sip-edge: no free run of UDP ports for RTP found');
}

function tcpListening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Sends one UDP datagram from 127.0.0.1 (`message(localPort)` → its text) to `port` and resolves
 * to whether an answer that `accept(text)` takes comes within `timeoutMs`.
 */
function udpAnswered(port, message, accept, timeoutMs) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (ok) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (msg) => done(accept(msg.toString())));
    socket.on('error', () => done(false));
    socket.bind(0, '127.0.0.1', () => socket.send(message(socket.address().port), port, '127.0.0.1'));
  });
}

// rtpengine answers an ng "ping" (bencoded, after a cookie) with "pong".
export const ngPing = (port) => udpAnswered(port, () => 'probe d7:command4:pinge', (text) => text.includes('pong'), 300);

// Kamailio answers an OPTIONS to itself over UDP: its workers are up (its sockets are bound
// before they are, so a listening port alone is too early).
export function sipOptionsAnswered(port) {
  const id = Math.random().toString(16).slice(2);
  const options = (local) => [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-ready-${id};rport`,
    'Max-Forwards: 70', `From: <sip:ready@127.0.0.1>;tag=${id}`, 'To: <sip:127.0.0.1>', `Call-ID: ready-${id}`,
    'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
  ].join('\r\n');
  return udpAnswered(port, options, (text) => text.startsWith('SIP/2.0 200'), 500);
}

/** Runs a function of scripts/sip.sh with `vars` in the environment; resolves to its stdout. */
export async function sipShell(script, vars) {
  const lib = path.join(repoRoot, 'scripts', 'lib.sh');
  const sip = path.join(repoRoot, 'scripts', 'sip.sh');
  try {
    const { stdout } = await execFileAsync('bash', ['-c', `source "${lib}" && source "${sip}" && ${script}`], {
      env: { ...process.env, ...vars },
    });
    return stdout;
  } catch (error) {
    throw new Error(`scripts/sip.sh failed: ${error.stderr || error.message}`);
  }
}

/**
 * Renders and starts rtpengine then Kamailio. `dataDir` is secms-server's (its users.db is read),
 * `secret` the text of <data_dir>/sip/secret, certFile/keyFile the app's TLS pair (default
 * <dataDir>/tls/cert.pem and key.pem). Options: domain ('localhost'), pikeDensity and pikeUnit
 * (flood guard), trunk ('host:port'), tcpIdleSeconds (60: an idle TCP/TLS/WSS connection's
 * lifetime), maxCalls (4 per account). SECMS_SIP_KAMAILIO_TEMPLATE in the environment renders
 * another template than server/sip/kamailio.cfg.in (to see a test fail against an older one).
 * Resolves to { udpPort, tcpPort, tlsPort, wssPort, wssUrl,
 * ngPort, rtpPorts:[min,max], domain, dir, log(), rtpengineLog(), stop() }.
 */
export async function startSipEdge({
  dataDir, secret, certFile = path.join(dataDir, 'tls', 'cert.pem'), keyFile = path.join(dataDir, 'tls', 'key.pem'),
  domain = 'localhost', pikeDensity = 30, pikeUnit = 2, trunk = '', tcpIdleSeconds = 60, maxCalls = 4,
} = {}) {
  assertSipToolsInstalled();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-sip-'));
  await chmod(dir, 0o700);
  const rtpDir = path.join(dir, 'rtpengine');
  await mkdir(rtpDir, { mode: 0o700 });
  const taken = new Set();
  const sipPort = await freeTcpUdpPort(taken);
  const tlsPort = await freeTcpUdpPort(taken);
  const wssPort = await freeTcpUdpPort(taken);
  const ngPort = await freeTcpUdpPort(taken);
  const [rtpMin, rtpMax] = await freeUdpRange(RTP_PORTS, taken);
  const vars = {
    SIP_SECRET: String(secret).trim(), SIP_DOMAIN: domain, SIP_LISTEN_IP: '127.0.0.1',
    SIP_PORT: String(sipPort), SIP_TLS_PORT: String(tlsPort), SIP_WSS_PORT: String(wssPort),
    SIP_NG_PORT: String(ngPort), SIP_RTP_MIN: String(rtpMin), SIP_RTP_MAX: String(rtpMax),
    SIP_CERT: certFile, SIP_KEY: keyFile, SIP_USERS_DB: path.join(dataDir, 'users.db'),
    SIP_PIKE_DENSITY: String(pikeDensity), SIP_PIKE_UNIT: String(pikeUnit), SIP_TRUNK: trunk, SIP_CHILDREN: '2',
    SIP_TCP_IDLE: String(tcpIdleSeconds), SIP_MAX_CALLS: String(maxCalls),
    ...(process.env.SECMS_SIP_KAMAILIO_TEMPLATE ? { SIP_KAMAILIO_TEMPLATE: process.env.SECMS_SIP_KAMAILIO_TEMPLATE } : {}),
  };
  await sipShell(`sip_render "${dir}"`, vars);
  const rtpArgs = (await sipShell(`sip_rtpengine_args && printf '%s\\0' "\${RTPENGINE_ARGS[@]}"`, vars))
    .split('\0').filter(Boolean);

  // Both log on stderr; a shell that execs them sends it to the file log() reads.
  // umask 077: the logs are 0600 (rtpengine's may hold SDP, Kamailio's names users).
  const redirect = (logPath) => ['-c', `umask 077; exec "$0" "$@" >>"${logPath}" 2>&1`];
  const rtpLog = path.join(rtpDir, 'rtpengine.log');
  const rtpengine = spawnCompanion({ binary: 'sh', args: [...redirect(rtpLog), 'rtpengine', ...rtpArgs], dir: rtpDir, logPath: rtpLog });
  await rtpengine.waitReady({ name: 'rtpengine', port: ngPort, ready: () => ngPing(ngPort), notReady: 'no ng pong' });

  const cfg = path.join(dir, 'kamailio.cfg');
  const kamLog = path.join(dir, 'kamailio.log');
  const check = spawnSync('kamailio', ['-c', '-Y', path.join(dir, 'run'), '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) {
    await rtpengine.stop();
    throw new Error(`Kamailio refuses the rendered configuration:\n${`${check.stdout}\n${check.stderr}`.split('\n').slice(-20).join('\n')}`);
  }
  const kamailio = spawnCompanion({
    binary: 'sh',
    args: [...redirect(kamLog), 'kamailio', '-x', 'tlsf', '-X', 'tlsf', '-DD', '-E', '-m', '64', '-M', '8', '-Y', path.join(dir, 'run'), '-f', cfg],
    dir, logPath: kamLog,
  });
  try {
    await kamailio.waitReady({
      name: 'kamailio', port: sipPort, notReady: 'not listening',
      ready: async () =>
        (await tcpListening(sipPort)) && (await tcpListening(tlsPort)) && (await tcpListening(wssPort)) &&
        (await sipOptionsAnswered(sipPort)),
    });
  } catch (error) {
    await rtpengine.stop();
    throw error;
  }

  return {
    udpPort: sipPort, tcpPort: sipPort, tlsPort, wssPort, ngPort, rtpPorts: [rtpMin, rtpMax], domain, dir,
    wssUrl: `wss://127.0.0.1:${wssPort}`,
    log: kamailio.log,
    rtpengineLog: rtpengine.log,
    /** Stops rtpengine, then Kamailio (SIGTERM, SIGKILL after 5 s) and removes the directory. */
    stop: async () => {
      await rtpengine.stop();
      await kamailio.stop();
    },
  };
}
