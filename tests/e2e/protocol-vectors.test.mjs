// Runs the secure-channel known-answer computation inside a Worker in headless Chromium and
// compares it with the committed vectors (tests/vectors/channel/), i.e. the same check as
// web/test/channel-vectors.test.mjs, in the runtime the protocol is built for. Also checks that
// Chromium's X25519 is used (suite detection) and that low-order points are refused there.
//
//   node --test tests/e2e/protocol-vectors.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { splitVector } from '../../web/test/vectors/make-channel-vectors.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(root, 'tests/vectors/channel');
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

const workerSource = `
import { computeChannelVector } from ${JSON.stringify(path.join(root, 'web/test/vectors/channel-kat.mjs'))};
import { detectPreferredSuite, SuiteId } from ${JSON.stringify(path.join(root, 'web/src/crypto/protocol/index.js'))};
import { deriveSharedSecret, importEphemeralKeyPairForTesting, importPeerPublicKey, x25519PublicKeyFromPrivate } from ${JSON.stringify(path.join(root, 'web/src/crypto/protocol/suites.js'))};
import { fromHex } from ${JSON.stringify(path.join(root, 'web/src/crypto/protocol/bytes.js'))};

self.onmessage = async ({ data }) => {
  try {
    const computed = [];
    for (const inputs of data.inputs) computed.push(await computeChannelVector(inputs));
    const lowOrder = [];
    for (const c of data.lowOrderCases) {
      const privateKey = fromHex(c.private);
      const own = await importEphemeralKeyPairForTesting(SuiteId.x25519HkdfSha256Aes256Gcm,
        { privateKey, publicKey: await x25519PublicKeyFromPrivate(privateKey) });
      try {
        const peer = await importPeerPublicKey(SuiteId.x25519HkdfSha256Aes256Gcm, fromHex(c.public));
        await deriveSharedSecret(SuiteId.x25519HkdfSha256Aes256Gcm, own.privateKey, peer);
        lowOrder.push({ tcId: c.tcId, rejected: false });
      } catch (error) {
        lowOrder.push({ tcId: c.tcId, rejected: true, reason: error.reason ?? String(error) });
      }
    }
    self.postMessage({ ok: true, computed, lowOrder, preferredSuite: await detectPreferredSuite(),
      isSecureContext: self.isSecureContext });
  } catch (error) {
    self.postMessage({ ok: false, error: String(error && error.stack || error) });
  }
};
`;

const pageSource = `
// The result promise exists before any await, so the test can never read it too early.
const worker = new Worker('./worker.js', { type: 'module' });
window.__katResult = new Promise((resolve) => {
  worker.onmessage = ({ data }) => resolve(data);
  worker.onerror = (event) => resolve({ ok: false, error: 'worker error: ' + event.message });
});
fetch('./input.json').then((response) => response.json()).then((input) => worker.postMessage(input),
  (error) => { window.__katResult = Promise.resolve({ ok: false, error: String(error) }); });
`;

let dir;
let server;
let baseUrl;
let context;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'secms-protocol-kat-'));
  const site = path.join(dir, 'site');
  await esbuild.build({
    stdin: { contents: workerSource, resolveDir: root, sourcefile: 'kat-worker.mjs' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: path.join(site, 'worker.js'), logLevel: 'silent',
  });
  await writeFile(path.join(site, 'page.js'), pageSource);
  await writeFile(path.join(site, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>protocol KAT</title><script type="module" src="./page.js"></script>');
  const keySchedule = await readJson(path.join(vectorDir, 'key-schedule.json'));
  const x25519 = await readJson(path.join(root, 'tests/vectors/wycheproof/x25519_test.json'));
  const lowOrderCases = x25519.testGroups.flatMap((g) => g.tests).filter((t) => /^0+$/.test(t.shared))
    .map(({ tcId, private: priv, public: pub }) => ({ tcId, private: priv, public: pub }));
  await writeFile(path.join(site, 'input.json'), JSON.stringify({ inputs: keySchedule.vectors.map((v) => v.inputs), lowOrderCases }));

  const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };
  server = createServer(async (request, response) => {
    const name = new URL(request.url, 'http://127.0.0.1').pathname.replace(/^\/+/, '') || 'index.html';
    if (!/^[a-z]+\.(html|js|json)$/.test(name)) { response.writeHead(404).end(); return; }
    try {
      const body = await readFile(path.join(site, name));
      response.writeHead(200, { 'content-type': types[path.extname(name)], 'cache-control': 'no-store' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}/`;

  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Chromium Worker recomputes the committed secure-channel vectors exactly', async () => {
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page.waitForFunction(() => window.__katResult !== undefined);
  const result = await page.evaluate(() => window.__katResult);
  assert.equal(result.ok, true, result.error);
  assert.equal(result.isSecureContext, true, 'http://127.0.0.1 is a secure context');
  assert.equal(result.preferredSuite, 1, 'Chromium offers X25519');

  const keySchedule = await readJson(path.join(vectorDir, 'key-schedule.json'));
  const records = await readJson(path.join(vectorDir, 'records.json'));
  const rekey = await readJson(path.join(vectorDir, 'rekey.json'));
  assert.equal(result.computed.length, keySchedule.vectors.length);
  for (const [i, vector] of keySchedule.vectors.entries()) {
    const parts = JSON.parse(JSON.stringify(splitVector(vector.inputs, result.computed[i])));
    assert.deepEqual(parts.keySchedule, vector, `key schedule ${vector.id}`);
    assert.deepEqual(parts.records, records.vectors[i], `records ${vector.id}`);
    assert.deepEqual(parts.rekey, rekey.vectors[i], `rekey ${vector.id}`);
  }
  await page.close();
});

test('Chromium refuses every Wycheproof X25519 case with an all-zero shared secret', async () => {
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page.waitForFunction(() => window.__katResult !== undefined);
  const result = await page.evaluate(() => window.__katResult);
  assert.equal(result.ok, true, result.error);
  assert.ok(result.lowOrder.length > 0);
  for (const c of result.lowOrder) {
    assert.equal(c.rejected, true, `tcId ${c.tcId}`);
    assert.equal(c.reason, 'low_order_point', `tcId ${c.tcId}`);
  }
  await page.close();
});
