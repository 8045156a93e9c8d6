// What a logged-in user can do with the TURN credentials of GET /api/v1/turn against the coturn
// configuration scripts/run.sh renders (server/calls/turnserver.conf.in), with a raw TURN client
// instead of a browser:
// - with a public relay address (the production layout, no allow-loopback-peers) the relay
//   refuses loopback and private peers. It does relay to the host's own public address: coturn
//   cannot deny by port, so that is left to the host firewall rule of docs/operations.md
//   ("coturn (TURN relay)"), a known limit in docs/threat-model.md;
// - allocations are counted per user id (coturn strips the "<expiry>:" of REST usernames): one
//   account holds at most user-quota (6) of them whatever credentials it mints, and a few
//   accounts no longer fill run.sh's default relay range;
// - bps-capacity caps the bandwidth coturn commits: each allocation reserves max-bps of it.
//
// Runs in a loopback-only network namespace (it uses run.sh's fixed ports and adds a stand-in
// public address to lo there):
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh \
//     node --test --test-concurrency=1 tests/calls/turn-abuse.test.mjs
// Credentials are minted with the shared secret exactly as GET /api/v1/turn mints them
// (tests/integration/turn.test.mjs and tests/calls/turn-relay.test.mjs check that equivalence).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  assertTurnserverInstalled, MAX_BPS, renderCoturnConfig, turnPassword, turnserverBinary,
} from '../helpers/coturn.mjs';
import { repoRoot } from '../helpers/secms-server.mjs';
import { turnClient } from './helpers/turn-client.mjs';

// Stands for the host's public address: outside every denied range, and only on lo, inside the
// namespace.
const PUBLIC_IP = '11.0.0.1';
const USER_QUOTA = 6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// scripts/run.sh's default relay range (SECMS_TURN_RELAY_PORTS), read from the script itself.
function runShRelayRange() {
  const script = readFileSync(path.join(repoRoot, 'scripts', 'run.sh'), 'utf8');
  const m = script.match(/SECMS_TURN_RELAY_PORTS:-(\d+)-(\d+)\}/);
  assert.ok(m, 'scripts/run.sh sets a default SECMS_TURN_RELAY_PORTS');
  return { relayMinPort: Number(m[1]), relayMaxPort: Number(m[2]) };
}

const instances = [];
const clients = [];

function listening(ip, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: ip });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// One coturn from the template, in its own 0700 directory; resolves once it listens.
async function startTurn({ listenIp, port, relayMinPort, relayMaxPort, bpsCapacity }) {
  const secret = randomBytes(32).toString('hex');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-turn-abuse-'));
  await chmod(dir, 0o700);
  const conf = renderCoturnConfig({ secret, listenIp, port, relayMinPort, relayMaxPort, dir, bpsCapacity });
  const configPath = path.join(dir, 'turnserver.conf');
  await writeFile(configPath, conf, { mode: 0o600 });
  const child = spawn(turnserverBinary, ['-c', configPath], { stdio: 'ignore' });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const instance = { secret, dir, conf, child, listenIp, port };
  instances.push(instance);
  const deadline = Date.now() + 10_000;
  while (!(await listening(listenIp, port))) {
    if (exited || Date.now() > deadline) {
      let log = '';
      try {
        log = readFileSync(path.join(dir, 'turnserver.log'), 'utf8').slice(-2000);
      } catch { /* no log yet */ }
      throw new Error(`turnserver on ${listenIp}:${port}: ${exited ? `exited ${JSON.stringify(exited)}` : 'not listening'}\n${log}`);
    }
    await sleep(50);
  }
  return instance;
}

// A fresh client (its own UDP 5-tuple, so its own allocation) with the credential that
// GET /api/v1/turn would give `userid`; `expiresIn` varies the credential, not the user.
async function clientOf(turn, userid, { expiresIn = 43200, localIp = turn.listenIp } = {}) {
  const username = `${Math.floor(Date.now() / 1000) + expiresIn}:${userid}`;
  const c = await turnClient({
    server: turn.listenIp, port: turn.port, username, password: turnPassword(turn.secret, username), localIp,
  });
  clients.push(c);
  return c;
}

before(() => {
  const ifaces = Object.keys(os.networkInterfaces());
  if (ifaces.some((n) => n !== 'lo')) {
    throw new Error(`run inside scripts/loopback-netns.sh (interfaces: ${ifaces.join(', ')})`);
  }
  assertTurnserverInstalled();
  const added = spawnSync('ip', ['addr', 'add', `${PUBLIC_IP}/32`, 'dev', 'lo'], { encoding: 'utf8' });
  if (added.status !== 0 && !/File exists/.test(added.stderr)) {
    throw new Error(`ip addr add ${PUBLIC_IP}/32 dev lo: ${added.stderr}`);
  }
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  for (const { child } of instances) child.kill('SIGTERM');
  await sleep(300);
  await Promise.all(instances.map(({ dir }) => rm(dir, { recursive: true, force: true })));
});

test('a public relay refuses loopback, private and reserved peers', async () => {
  const turn = await startTurn({ listenIp: PUBLIC_IP, port: 3478, relayMinPort: 49570, relayMaxPort: 49579 });
  assert.doesNotMatch(turn.conf, /^allow-loopback-peers$/m, 'what run.sh renders for a public address');
  const c = await clientOf(turn, 42);
  const allocation = await c.allocate();
  assert.ok(allocation.ok, `allocate: ${JSON.stringify(allocation.error)}`);
  assert.equal(allocation.relayed.ip, PUBLIC_IP);
  for (const peer of ['127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0']) {
    const r = await c.permit(peer);
    assert.equal(r.ok, false, `CreatePermission for ${peer} must be refused`);
    assert.equal(r.error?.code, 403, `${peer}: ${JSON.stringify(r.error)}`);
  }
  // A public peer is allowed: the refusals above are the deny list, not a broken client.
  assert.deepEqual(await c.permit('11.0.0.2'), { ok: true });
});

test('one user id holds at most user-quota allocations, whatever credentials it mints', async () => {
  const range = runShRelayRange();
  const ports = range.relayMaxPort - range.relayMinPort + 1;
  assert.ok(ports >= 400, `run.sh's default relay range has ${ports} ports`);
  const turn = await startTurn({ listenIp: '127.0.0.1', port: 3478, ...range });
  assert.match(turn.conf, new RegExp(`^user-quota=${USER_QUOTA}$`, 'm'));

  for (let i = 0; i < USER_QUOTA; i += 1) {
    const r = await (await clientOf(turn, 1)).allocate();
    assert.ok(r.ok, `user 1, allocation ${i + 1}: ${JSON.stringify(r.error)}`);
  }
  const seventh = await (await clientOf(turn, 1)).allocate();
  assert.equal(seventh.ok, false, 'user 1, allocation 7');
  assert.ok([486, 508].includes(seventh.error?.code), `refused as over quota: ${JSON.stringify(seventh.error)}`);
  // Another expiry is another credential but the same user id: still refused.
  const otherCredential = await (await clientOf(turn, 1, { expiresIn: 600 })).allocate();
  assert.equal(otherCredential.ok, false, 'a fresh credential of user 1 does not add to its quota');

  // Three accounts at their quota leave the relay to everyone else (the 41-port range was full).
  let held = USER_QUOTA;
  for (const userid of [2, 3]) {
    for (let i = 0; i < USER_QUOTA + 2; i += 1) if ((await (await clientOf(turn, userid)).allocate()).ok) held += 1;
  }
  assert.equal(held, 3 * USER_QUOTA);
  for (const userid of [4, 5]) {
    const r = await (await clientOf(turn, userid)).allocate();
    assert.ok(r.ok, `user ${userid} after ${held} allocations by users 1-3: ${JSON.stringify(r.error)}`);
  }
});

test('bps-capacity: each allocation reserves max-bps; beyond the capacity, Allocate is refused', async () => {
  const turn = await startTurn({
    listenIp: '127.0.0.1', port: 3479, relayMinPort: 49600, relayMaxPort: 49609, bpsCapacity: 2 * MAX_BPS,
  });
  assert.match(turn.conf, new RegExp(`^bps-capacity=${2 * MAX_BPS}$`, 'm'));
  for (const userid of [11, 12]) {
    const r = await (await clientOf(turn, userid)).allocate();
    assert.ok(r.ok, `user ${userid}: ${JSON.stringify(r.error)}`);
  }
  const third = await (await clientOf(turn, 13)).allocate();
  assert.equal(third.ok, false, 'a third allocation exceeds 2 × max-bps');
  assert.equal(third.error?.code, 486, JSON.stringify(third.error));
});
