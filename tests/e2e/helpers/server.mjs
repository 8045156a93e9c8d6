// The real secms-server for browser tests: the shared launcher (tests/helpers/secms-server.mjs)
// after one build of the front end per test process, so the pages under test are the current
// sources.

import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import https from 'node:https';
import { build } from '../../../web/build.mjs';
import { startServer as startSharedServer, serverBinary, repoRoot, freePort } from '../../helpers/secms-server.mjs';

export { serverBinary, repoRoot, freePort };

/**
 * True when the server binary exists. Outside CI a missing binary lets the browser tests skip with
 * the reason; under CI (CI set) it is an error, so a broken build can never pass as skipped tests.
 */
export async function serverBinaryAvailable() {
  try {
    await access(serverBinary, constants.X_OK);
    return true;
  } catch {
    if (process.env.CI) throw new Error(`secms-server is not built (${serverBinary})`);
    return false;
  }
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

let webBuilt = null;

/** Builds web/dist once per process, then starts the server. Resolves { origin, dataDir, stop(), output() }. */
export async function startServer({ extraArgs = [], logLevel = 'warn' } = {}) {
  webBuilt ??= build();
  await webBuilt;
  const server = await startSharedServer({ extraArgs, logLevel });
  return {
    origin: server.origin,
    dataDir: server.dataDir,
    stop: () => server.stop(),
    output: () => { const { stdout, stderr } = server.logs(); return stdout + stderr; },
  };
}

/**
 * The usual set-up of a browser test file: the real server (options as startServer's) and
 * Chromium, started before the file's tests and stopped after them. Resolves
 * { skip (false, or why the file is skipped: no server binary), server, browser }; server and
 * browser are set once the tests run.
 */
export async function useAppServer(options = {}) {
  const { before, after } = await import('node:test');
  const { launchBrowser } = await import('./browser.mjs');
  const available = await serverBinaryAvailable();
  const suite = { skip: available ? false : `secms-server not built (${serverBinary})`, server: null, browser: null };
  before(async () => {
    if (!available) return;
    suite.server = await startServer(options);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  return suite;
}
