// The SIP phone's lazy chunk (SIP.js) under Subresource Integrity in real Chromium
// (DESIGN.md §8, web/src/sip/lazy-chunk.js): the real secms-server serves a copy of web/dist
// whose chunk was changed after the build; the VoIP tab then reports the phone as failed, and not
// a line of the changed chunk runs, on the first try or a retry. With the untouched build the
// same steps start the phone, the chunk is fetched only once the VoIP tab is shown, and only
// once: the import() uses the module the checked preload put in the module map.
//
//   npm run build && node --test tests/e2e/sip-chunk-integrity.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, serverBinaryAvailable, serverBinary } from './helpers/server.mjs';
import { loopbackRateLimits, webRoot } from '../helpers/secms-server.mjs';
import { launchBrowser, violationsOf } from './helpers/browser.mjs';
import { registeredUser } from './helpers/app-flows.mjs';

// SIP on, toward a WebSocket nobody listens on: the phone starts (or not) without an edge.
const sipArgs = ['--sip-domain', 'localhost', '--sip-websocket-url', 'wss://127.0.0.1:9'];
const TAMPER = '\n;document.documentElement.dataset.tamperedChunkRan = "yes";\n';

let browser;
let tempDir;
let tamperedRoot;
let chunkPath;
const servers = [];

before(async () => {
  assert.ok(await serverBinaryAvailable(), `secms-server not built (${serverBinary}): scripts/install-deps.sh, then the dev build`);
  // The first server builds web/dist (the current sources) and serves it as built.
  servers.push(await startServer({ extraArgs: [...loopbackRateLimits, ...sipArgs] }));
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'secms-tampered-'));
  tamperedRoot = path.join(tempDir, 'dist');
  await cp(webRoot, tamperedRoot, { recursive: true });
  const chunks = (await readdir(path.join(tamperedRoot, 'assets'))).filter((name) => /^chunk-sip-phone-.*\.js$/.test(name));
  assert.equal(chunks.length, 1, `one SIP chunk in the build: ${chunks}`);
  chunkPath = `/assets/${chunks[0]}`;
  const file = path.join(tamperedRoot, 'assets', chunks[0]);
  await writeFile(file, `${await readFile(file, 'utf8')}${TAMPER}`);
  // The server takes one --web-root: a wrapper swaps the test's for the tampered copy.
  const wrapper = path.join(tempDir, 'secms-server-tampered-root.sh');
  await writeFile(wrapper, `#!/bin/sh
for arg; do
  shift
  if [ "$swap" = 1 ]; then set -- "$@" ${JSON.stringify(tamperedRoot)}; swap=0; continue; fi
  [ "$arg" = --web-root ] && swap=1
  set -- "$@" "$arg"
done
exec ${JSON.stringify(serverBinary)} "$@"
`);
  await chmod(wrapper, 0o700);
  servers.push(await startTamperedServer(wrapper));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const server of servers) await server?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

/** The shared launcher with its binary replaced by the wrapper (read at module load). */
async function startTamperedServer(wrapper) {
  const previous = process.env.SECMS_SERVER_BIN;
  process.env.SECMS_SERVER_BIN = wrapper;
  try {
    const launcher = await import(`../helpers/secms-server.mjs?wrapper=${encodeURIComponent(wrapper)}`);
    assert.equal(launcher.serverBinary, wrapper);
    const server = await launcher.startServer({ logLevel: 'warn', extraArgs: [...loopbackRateLimits, ...sipArgs] });
    return { origin: server.origin, stop: () => server.stop() };
  } finally {
    if (previous === undefined) delete process.env.SECMS_SERVER_BIN;
    else process.env.SECMS_SERVER_BIN = previous;
  }
}

/** A logged-in user; `chunkRequests` lists every request of the page for a SIP chunk. */
async function userOn(t, origin) {
  const chunkRequests = [];
  const user = await registeredUser(t, browser, origin, 'sri', {
    onPage: (page) => page.on('request', (request) => {
      if (/\/assets\/chunk-/.test(request.url())) chunkRequests.push(request.url());
    }),
  });
  return { ...user, chunkRequests };
}

const marker = (page) => page.evaluate(() => document.documentElement.dataset.tamperedChunkRan ?? null);

test('a changed SIP chunk is refused: the phone fails and nothing of it runs, on a retry either', async (t) => {
  const { app, chunkRequests } = await userOn(t, servers[1].origin);
  // The tampered copy is what this server serves (else the test would prove nothing).
  const served = await app.evaluate(async (href) => (await fetch(href, { cache: 'no-store' })).text(), chunkPath);
  assert.ok(served.includes('tamperedChunkRan'), 'the server serves the changed chunk');
  const before = chunkRequests.length;
  await app.getByTestId('tab-voip').click();
  const failed = app.getByTestId('sip-failed');
  await failed.waitFor({ timeout: 20_000 });
  assert.equal(await failed.getAttribute('data-code'), 'chunk_integrity');
  assert.equal(await marker(app), null, 'no line of the changed chunk ran');
  // Twice: by the checked preload, then once as data only (never run) to tell a changed file
  // from a network failure (chunk_integrity against chunk_unavailable).
  assert.equal(chunkRequests.length - before, 2, 'fetched by the checked preload, then once as data');
  // Retrying checks it again (Chromium keeps no failed preload: a second one fetches anew,
  // and so would an import(), unchecked: hence no import() is made after a refused preload).
  await app.getByTestId('sip-retry').click();
  await app.waitForFunction((count) => document.querySelectorAll('link[rel="modulepreload"]').length >= count, 2, { timeout: 20_000 });
  await app.getByTestId('sip-failed').waitFor({ timeout: 20_000 });
  assert.equal(await app.getByTestId('sip-failed').getAttribute('data-code'), 'chunk_integrity');
  assert.equal(await marker(app), null, 'a retry does not run it either');
  assert.equal(await app.getByTestId('sip-registration').count(), 0, 'the phone never started');
  assert.deepEqual(await violationsOf(app), []);
});

test('the untouched SIP chunk passes the check and is fetched only when the VoIP tab is shown', async (t) => {
  const { app, chunkRequests } = await userOn(t, servers[0].origin);
  assert.deepEqual(chunkRequests, [], 'nothing of SIP.js before the VoIP tab');
  await app.getByTestId('tab-voip').click();
  await app.getByTestId('sip-registration').waitFor({ timeout: 20_000 });   // the phone started
  assert.equal(await app.getByTestId('sip-failed').count(), 0);
  assert.equal(chunkRequests.length, 1, 'one fetch of the chunk');
  assert.ok(chunkRequests[0].endsWith(chunkPath));
  const preload = await app.evaluate((href) => {
    const link = document.head.querySelector(`link[rel="modulepreload"][href="${href}"]`);
    return link && { integrity: link.integrity, crossOrigin: link.crossOrigin };
  }, chunkPath);
  assert.match(preload?.integrity ?? '', /^sha384-/, 'the chunk came through a modulepreload with its hash');
  assert.equal(preload.crossOrigin, 'anonymous');
  assert.equal(await marker(app), null);
  assert.deepEqual(await violationsOf(app), []);
});
