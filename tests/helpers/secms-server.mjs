// Launches the real secms-server binary on loopback for integration and end-to-end tests, plus
// small HTTPS and WebSocket clients that talk to it. Generic on purpose: any suite may import it.
//
//   const server = await startServer({ extraArgs: ['--login-per-ip-burst', '3'] });
//   const res = await request(server, 'POST', '/api/v1/accounts', { json: { username, password } });
//   await server.stop();

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const serverBinary =
  process.env.SECMS_SERVER_BIN ?? path.join(repoRoot, 'build', 'dev', 'server', 'app', 'secms-server');
export const webRoot = path.join(repoRoot, 'web', 'dist');

// Every test client connects from 127.0.0.1, so suites that register and log in many users raise
// the per-IP limits; the per-account limits keep their defaults (rate-limits.test.mjs checks them).
export const loopbackRateLimits = Object.freeze([
  '--register-per-ip-burst', '1000', '--register-per-ip-per-minute', '1000',
  '--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000',
]);

const HEALTH_TIMEOUT_MS = 20_000; // first start initialises a SoftHSM2 token and a TLS certificate
const STOP_TIMEOUT_MS = 5_000;

// A free TCP port on 127.0.0.1: bind port 0, read what the kernel chose, release it. A small race
// remains (someone else may take it before the server binds); the tests only run on loopback.
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

async function twoDistinctPorts() {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs the binary once (e.g. `user add …` admin commands) and collects its output.
export function runServerCommand(args, { input, env = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBinary, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Starts secms-server with a fresh data directory (or `dataDir` to reuse one) at `logLevel` and
 * waits for /healthz. Resolves to { origin, httpsPort, httpPort, dataDir, process, logs(), exited, stop() }.
 */
export async function startServer({ extraArgs = [], env = {}, dataDir, logLevel = 'info', sipDefaults = false } = {}) {
  const [httpsPort, httpPort] = await twoDistinctPorts();
  const ownDir = !dataDir;
  dataDir ??= await mkdtemp(path.join(os.tmpdir(), 'secms-test-'));
  const origin = `https://localhost:${httpsPort}`;
  const args = [
    '--data-dir', dataDir,
    '--listen', '127.0.0.1',
    '--https-port', String(httpsPort),
    '--http-port', String(httpPort),
    '--public-origin', origin,
    '--web-root', webRoot,
    '--log-level', logLevel,
    // Mail is on by default, and a registration is refused when the mailbox of the new name
    // cannot be erased: a server started without any --mail-… option (no Dovecot) runs without mail.
    ...(extraArgs.some((a) => String(a).startsWith('--mail-')) ? [] : ['--mail-enabled', 'false']),
    // SIP is on by default too, and a page that shows the VoIP tab would then connect to a
    // Kamailio the test did not start: off unless the test sets a --sip… option, a configuration
    // file, or asks for the binary's defaults (sipDefaults).
    ...(sipDefaults || extraArgs.some((a) => /^--(no-)?sip|^--config/.test(String(a))) ? [] : ['--sip-enabled', 'false']),
    ...extraArgs,
  ];
  const child = spawn(serverBinary, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let exitInfo = null;
  exited.then((info) => (exitInfo = info));

  const server = {
    origin,
    httpsPort,
    httpPort,
    dataDir,
    args,
    process: child,
    exited,
    logs: () => ({ stdout, stderr }),
    /** SIGTERM, wait up to 5 s, then SIGKILL. Resolves to { code, signal, ms, killed }. */
    async stop({ keepDataDir = false } = {}) {
      const started = Date.now();
      let killed = false;
      if (exitInfo === null) {
        child.kill('SIGTERM');
        const timeout = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
        if ((await Promise.race([exited, timeout])) === 'timeout') {
          killed = true;
          child.kill('SIGKILL');
        }
      }
      const info = await exited;
      if (ownDir && !keepDataDir) await rm(dataDir, { recursive: true, force: true });
      return { ...info, ms: Date.now() - started, killed };
    },
  };

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (exitInfo !== null) {
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
      throw new Error(
        `secms-server exited before it was healthy (${JSON.stringify(exitInfo)})\n` +
          `stdout:\n${stdout}\nstderr:\n${stderr}`,
      );
    }
    try {
      const res = await request(server, 'GET', '/healthz', { timeoutMs: 1_000 });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`secms-server not healthy after ${HEALTH_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    await sleep(100);
  }
  return server;
}

/** Value of the __Host-sid cookie in a Set-Cookie header list, or undefined. */
export function sessionCookieOf(res) {
  const list = [].concat(res.headers['set-cookie'] ?? []);
  for (const line of list) {
    const m = /^__Host-sid=([^;]*)/.exec(line);
    if (m && m[1] !== '') return m[1];
  }
  return undefined;
}

/** GET /healthz over HTTPS from a chosen loopback source address: the status, or the error code. */
export function healthzFrom(server, localAddress, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.httpsPort,
        path: '/healthz',
        localAddress,
        servername: 'localhost',
        rejectUnauthorized: false,
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.code ?? e.message));
    req.end();
  });
}

/**
 * One HTTPS request to the server. `cookie` is the session token value (sent as __Host-sid) or a
 * full Cookie header if it contains '='. Origin defaults to the server's own; pass
 * headers: { Origin: null } to omit it. `localAddress` binds the client to another loopback
 * address (e.g. '127.0.0.2') to act as a second client. Resolves to { status, headers, body, json }.
 */
export function request(server, method, urlPath, { json, body, headers = {}, cookie, timeoutMs = 10_000, localAddress } = {}) {
  const h = { Origin: server.origin };
  let payload;
  if (json !== undefined) {
    payload = Buffer.from(JSON.stringify(json));
    h['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
    h['Content-Type'] = 'application/json';
  }
  if (cookie !== undefined) h.Cookie = cookie.includes('=') ? cookie : `__Host-sid=${cookie}`;
  Object.assign(h, headers);
  for (const k of Object.keys(h)) if (h[k] === null || h[k] === undefined) delete h[k];
  if (payload) h['Content-Length'] = String(payload.length);

  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.httpsPort,
        method,
        path: urlPath,
        headers: h,
        servername: 'localhost',
        rejectUnauthorized: false, // the server's certificate is self-signed on first run
        agent: false,
        timeout: timeoutMs,
        ...(localAddress ? { localAddress } : {}),
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Registers (201 expected by the caller) and returns the response. */
export function register(server, username, password) {
  return request(server, 'POST', '/api/v1/accounts', { json: { username, password } });
}

/** Logs in; returns { res, cookie }. */
export async function login(server, username, password, options = {}) {
  const res = await request(server, 'POST', '/api/v1/session', { json: { username, password }, ...options });
  return { res, cookie: sessionCookieOf(res) };
}

/**
 * Opens the application WebSocket. Resolves once open (or rejects with the HTTP refusal as
 * err.status / err.body). The returned client queues messages: next(type, timeoutMs) resolves
 * to the next queued message of that type (any type if omitted); closed resolves to { code, reason }.
 */
export function openWebSocket(server, { cookie, origin = server.origin, protocols = 'secms.v1', headers = {}, path: wsPath = '/ws' } = {}) {
  const h = { ...headers };
  if (origin !== null) h.Origin = origin;
  if (cookie !== undefined) h.Cookie = cookie.includes('=') ? cookie : `__Host-sid=${cookie}`;
  const url = `wss://127.0.0.1:${server.httpsPort}${wsPath}`;
  const args = protocols === null ? [url] : [url, protocols];
  const ws = new WebSocket(...args, {
    rejectUnauthorized: false,
    servername: 'localhost',
    headers: h,
    maxPayload: 16 * 1024 * 1024,
  });
  const queue = [];
  const waiters = [];
  let closeInfo;
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const w of waiters.splice(0)) w.reject(new Error(`socket closed (${code}) while waiting for ${w.type ?? 'a message'}`));
      resolve(closeInfo);
    });
  });
  ws.on('message', (data, isBinary) => {
    let msg;
    try {
      msg = isBinary ? { type: '<binary>', data } : JSON.parse(data.toString());
    } catch {
      msg = { type: '<unparsable>', data: data.toString() };
    }
    const i = waiters.findIndex((w) => w.type === undefined || w.type === msg.type);
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(msg);
    } else {
      queue.push(msg);
    }
  });
  const client = {
    ws,
    closed,
    messages: queue,
    send: (obj) => ws.send(typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj)),
    next(type, timeoutMs = 5_000) {
      const i = queue.findIndex((m) => type === undefined || m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      if (closeInfo) return Promise.reject(new Error(`socket already closed (${closeInfo.code})`));
      return new Promise((resolve, reject) => {
        const w = { type, resolve, reject };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${type ?? ''} message within ${timeoutMs} ms; queued: ${JSON.stringify(queue)}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    /** Resolves to { code, reason } once closed; rejects if still open after timeoutMs. */
    closedWithin(timeoutMs = 5_000) {
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms; queued: ${JSON.stringify(queue)}`)), timeoutMs);
      });
      return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    },
    close(code = 1000) {
      ws.close(code);
      return client.closedWithin(5_000);
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const err = new Error(`WebSocket refused: HTTP ${res.statusCode} ${text}`);
        err.status = res.statusCode;
        err.headers = res.headers;
        err.body = text;
        try {
          err.json = JSON.parse(text);
        } catch {}
        reject(err);
      });
      res.on('error', () => {});
    });
    ws.once('error', reject);
  });
}

/**
 * Writes raw bytes over TLS (or plain TCP with { tls: false }) to the HTTPS port and collects
 * whatever comes back until the server closes or timeoutMs passes. For malformed requests the
 * HTTP client would refuse to send. Resolves to
 * { text, status, headers, body, closedByServer, error }; never rejects.
 */
export function rawExchange(server, data, { tls: useTls = true, timeoutMs = 5_000, endWrite = false } = {}) {
  return new Promise(async (resolve) => {
    const tlsModule = useTls ? await import('node:tls') : null;
    const chunks = [];
    let error;
    let closedByServer = false;
    const socket = useTls
      ? tlsModule.connect({ host: '127.0.0.1', port: server.httpsPort, servername: 'localhost', rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port: server.httpsPort });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on(useTls ? 'secureConnect' : 'connect', () => {
      for (const part of [].concat(data)) socket.write(part);
      if (endWrite) socket.end();
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', (e) => {
      error = e;
      if (/ECONNRESET|EPIPE/.test(e.code ?? '')) closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const headers = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const body = rest.join('\r\n\r\n');
      let json;
      try {
        json = JSON.parse(body);
      } catch {}
      resolve({ text, status: m ? Number(m[1]) : undefined, headers, body, json, closedByServer, error });
    });
  });
}
