// Starts the real secms-server binary for a test: fresh temporary data directory (new
// SQLite database, new SoftHSM2 token, new self-signed certificate), free loopback ports,
// the freshly built front end as web root. Stops it and removes the directory afterwards.

import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../../web/build.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const serverBinary = process.env.SECMS_SERVER_BIN
  ?? path.join(repoRoot, 'build/dev/server/app/secms-server');

/** True when the server binary exists and is executable (tests skip otherwise). */
export async function serverBinaryAvailable() {
  try {
    await access(serverBinary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of the call). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// The server's certificate is self-signed and made at first start: trust is not the
// point of these tests, so Node skips verification for this loopback agent only.
export const insecureLoopbackAgent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });

/** GET over HTTPS to the test server; resolves { status, headers, body }. */
export function httpsRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method, headers, agent: insecureLoopbackAgent, timeout: 5000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('timeout', () => request.destroy(new Error(`timeout: ${method} ${url}`)));
    request.on('error', reject);
    request.end(body);
  });
}

async function waitForHealth(origin, child, deadlineMs) {
  const started = Date.now();
  let lastError;
  while (Date.now() - started < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`secms-server exited with code ${child.exitCode}`);
    try {
      const response = await httpsRequest(`${origin}/healthz`);
      if (response.status === 200) return;
      lastError = new Error(`healthz answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`secms-server not healthy after ${deadlineMs} ms: ${lastError?.message}`);
}

let webBuilt = null;

/**
 * Builds web/dist once per test process, starts the server, waits for /healthz.
 * Resolves { origin, dataDir, stop(), output() }.
 */
export async function startServer({ startTimeoutMs = 60_000, extraArgs = [] } = {}) {
  webBuilt ??= build();
  await webBuilt;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'secms-e2e-'));
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const origin = `https://localhost:${httpsPort}`;
  const args = [
    '--data-dir', dataDir, '--listen', '127.0.0.1',
    '--https-port', String(httpsPort), '--http-port', String(httpPort),
    '--public-origin', origin, '--web-root', path.join(repoRoot, 'web/dist'),
    '--log-level', 'warn', ...extraArgs,
  ];
  const child = spawn(serverBinary, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => child.once('exit', resolve));

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  try {
    await waitForHealth(origin, child, startTimeoutMs);
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n--- server output ---\n${output}`);
  }
  return { origin, dataDir, stop, output: () => output };
}
