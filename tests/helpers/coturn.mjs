// Starts Debian's coturn (turnserver) on loopback for the call tests, with the configuration
// template that scripts/run.sh renders (server/calls/turnserver.conf.in), in a private temporary
// directory, on free ports. Missing turnserver is an error, never a skip (DESIGN.md §11: CI
// installs it through scripts/install-deps.sh).
//
//   const turn = await startCoturn({ secret: await readFile(`${dataDir}/turn/secret`, 'utf8') });
//   … new RTCPeerConnection({ iceServers: [{ urls: turn.urls, username, credential }] }) …
//   assert.ok(turn.allocations() > 0);
//   await turn.stop();

import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnCompanion } from './companion-process.mjs';
import { freePort, repoRoot } from './secms-server.mjs';

export const coturnTemplate = path.join(repoRoot, 'server', 'calls', 'turnserver.conf.in');
export const turnserverBinary = process.env.SECMS_TURNSERVER ?? 'turnserver';

// scripts/coturn.sh's COTURN_BPS_CAPACITY_DEFAULT and the template's max-bps (bytes/s).
export const BPS_CAPACITY_DEFAULT = 125_000_000;
export const MAX_BPS = 750_000;
const RELAY_PORTS = 8; // two peer connections, UDP and TCP candidates, and room for a restart

/** Throws unless turnserver can be run. */
export function assertTurnserverInstalled() {
  const probe = spawnSync(turnserverBinary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `coturn's turnserver is needed (${turnserverBinary}: ${probe.error?.message ?? `exit ${probe.status}`}); ` +
        'scripts/install-deps.sh installs Debian\'s coturn',
    );
  }
}

/**
 * The template with every @PLACEHOLDER@ replaced. Values are checked so that none adds a line;
 * `extraLines` are whole configuration lines appended (e.g. 'verbose'). Throws on a placeholder
 * left unrendered (the template and this renderer must agree, as scripts/coturn.sh does).
 */
export function renderCoturnConfig({
  template = readFileSync(coturnTemplate, 'utf8'),
  secret, listenIp = '127.0.0.1', port, relayIp = listenIp, relayMinPort, relayMaxPort,
  realm = 'localhost', dir, tls = null, allowPrivatePeers = false, extraLines = [],
  bpsCapacity = BPS_CAPACITY_DEFAULT,
}) {
  const check = (name, value, re) => {
    if (!re.test(String(value))) throw new Error(`coturn: invalid ${name}: ${JSON.stringify(value)}`);
  };
  check('secret', secret, /^[0-9a-f]{64}$/);
  check('listening address', listenIp, /^[0-9a-fA-F:.]+$/);
  check('relay address', relayIp, /^[0-9a-fA-F:.]+$/);
  for (const [name, value] of [['port', port], ['relay min port', relayMinPort], ['relay max port', relayMaxPort]]) {
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`coturn: invalid ${name}: ${value}`);
  }
  // As scripts/coturn.sh: 0 (no cap) or at least the template's max-bps, within 32 bits.
  if (!Number.isInteger(bpsCapacity) || (bpsCapacity !== 0 && (bpsCapacity < MAX_BPS || bpsCapacity > 0xffffffff))) {
    throw new Error(`coturn: invalid bandwidth capacity: ${bpsCapacity}`);
  }
  check('realm', realm, /^[A-Za-z0-9.-]{1,253}$/);
  check('directory', dir, /^\/[^\p{Cc}]*$/u);
  for (const line of extraLines) check('extra line', line, /^[^\p{Cc}]+$/u);

  const tlsLines = tls
    ? [`tls-listening-port=${tls.port ?? 5349}`, `cert=${tls.cert}`, `pkey=${tls.key}`, 'no-dtls']
    : ['no-tls', 'no-dtls'];
  const loopbackRelay = relayIp.startsWith('127.') || relayIp === '::1';
  const extra = [...(loopbackRelay ? ['allow-loopback-peers'] : []), ...extraLines];
  const values = {
    LISTEN_IP: listenIp,
    LISTEN_PORT: String(port),
    RELAY_IP: relayIp,
    RELAY_MIN_PORT: String(relayMinPort),
    RELAY_MAX_PORT: String(relayMaxPort),
    TLS_LINES: tlsLines.join('\n'),
    SECRET: secret,
    REALM: realm,
    DENY: allowPrivatePeers ? '# ' : '',
    BPS_CAPACITY: String(bpsCapacity),
    DB_PATH: path.join(dir, 'turndb'),
    PID_FILE: path.join(dir, 'turnserver.pid'),
    LOG_FILE: path.join(dir, 'turnserver.log'),
    EXTRA_LINES: extra.join('\n'),
  };
  const text = template.replace(/@([A-Z_]+)@/g, (whole, name) => {
    if (!(name in values)) throw new Error(`coturn: the template has an unknown placeholder ${whole}`);
    return values[name];
  });
  return text.endsWith('\n') ? text : `${text}\n`;
}

function udpPortFree(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

function tcpPortFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

// A listening port free for both UDP and TCP (coturn takes both), and a run of `count` free UDP
// ports for relay allocations above the usual ephemeral range's start.
async function freePorts(count) {
  let port;
  do port = await freePort(); while (!(await udpPortFree(port)));
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const min = 20_000 + Math.floor(Math.random() * 12_000);
    const range = Array.from({ length: count }, (_, i) => min + i);
    if (range.includes(port)) continue;
    const free = await Promise.all(range.map(udpPortFree));
    if (free.every(Boolean)) return { port, relayMinPort: min, relayMaxPort: min + count - 1 };
  }
  throw new Error('coturn: no free run of UDP relay ports found');
}

function listening(port) {
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
 * Starts turnserver with the shared TURN REST `secret` (the text of secms-server's
 * <data_dir>/turn/secret). Resolves to { urls, port, relayPorts:[min,max], dir, configPath,
 * logPath, log(), allocations(), stop() }. allocations() counts the allocations coturn logged
 * as created (RFC 8656 §7.2 Allocate successes).
 */
export async function startCoturn({ secret, realm = 'localhost', extraLines = [] } = {}) {
  assertTurnserverInstalled();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-coturn-'));
  await chmod(dir, 0o700);
  const { port, relayMinPort, relayMaxPort } = await freePorts(RELAY_PORTS);
  const configPath = path.join(dir, 'turnserver.conf');
  const logPath = path.join(dir, 'turnserver.log');
  // verbose: coturn logs each allocation only then, and allocations() counts them.
  const text = renderCoturnConfig({
    secret: String(secret).trim(), port, relayMinPort, relayMaxPort, realm, dir, extraLines: ['verbose', ...extraLines],
  });
  await writeFile(configPath, text, { mode: 0o600 });

  const companion = spawnCompanion({ binary: turnserverBinary, args: ['-c', configPath], dir, logPath });
  const { log } = companion;

  const turn = {
    urls: [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
    port,
    relayPorts: [relayMinPort, relayMaxPort],
    dir,
    configPath,
    logPath,
    process: companion.process,
    log,
    allocations: () => log().match(/: new, realm=</g)?.length ?? 0,
    /** SIGTERM, wait up to 5 s, then SIGKILL; removes the directory. */
    stop: companion.stop,
  };

  await companion.waitReady({ name: 'turnserver', port, ready: () => listening(port), notReady: 'not listening' });
  return turn;
}

/** The TURN REST password for `username` (base64 HMAC-SHA1 keyed with the secret's text as is). */
export function turnPassword(secret, username) {
  return createHmac('sha1', String(secret).trim()).update(username).digest('base64');
}
