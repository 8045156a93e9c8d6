// Runs the real build and checks what the server will serve: hashed names, SRI that matches
// the bytes, the worker path inside the app bundle, no inline code in the generated pages.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build as buildWeb } from '../build.mjs';

// A directory of its own: web/dist may be served meanwhile by the servers of suites that run
// beside the unit tests, and a build there would take their files away for a moment.
const distDir = await mkdtemp(join(tmpdir(), 'secms-web-build-'));
after(() => rm(distDir, { recursive: true, force: true }));
const build = () => buildWeb({ outDir: distDir });

test('build writes hashed bundles and pages with matching SRI', async () => {
  const outputs = await build();
  assert.match(outputs.worker, /^assets\/worker-[A-Z0-9]+\.js$/);
  for (const page of ['index.html', 'app.html']) {
    const html = await readFile(join(distDir, page), 'utf8');
    const tags = [...html.matchAll(/<(script|link)\b[^>]*(?:src|href)="\/(assets\/[^"]+)"[^>]*integrity="([^"]+)"[^>]*>/g)];
    assert.equal(tags.length, 2, `${page}: one script and one stylesheet`);
    for (const [tag, , path, integrity] of tags) {
      const bytes = await readFile(join(distDir, path));
      assert.equal(integrity, `sha384-${createHash('sha384').update(bytes).digest('base64')}`, path);
      assert.match(tag, /crossorigin="anonymous"/);
    }
    assert.match(html, /<script type="module" src="\/assets\/(landing|app)-[A-Z0-9]+\.js"/);
    assert.doesNotMatch(html, /secms:assets/);
    assert.doesNotMatch(html, /<script[^>]*>[^<]+<\/script>|\son[a-z]+=["']|\sstyle=["']/);
  }
  const appBundle = await readFile(join(distDir, outputs.scripts.app), 'utf8');
  assert.ok(appBundle.includes(`"/${outputs.worker}"`), 'the app bundle knows the hashed worker path');
  assert.ok(!appBundle.includes('__SECMS_WORKER_URL__'));
});

test('every lazy chunk is checked: the app bundle holds its sha384, and no chunk is left out', async () => {
  const outputs = await build();
  const appBundle = await readFile(join(distDir, outputs.scripts.app), 'utf8');
  assert.ok(!appBundle.includes('__SECMS_LAZY_CHUNKS'), 'the placeholder was replaced');
  const sealed = appBundle.match(/JSON\.parse\(("(?:[^"\\]|\\.)*")\)/g)
    ?.map((call) => JSON.parse(JSON.parse(call.slice('JSON.parse('.length, -1))))
    .find((value) => value && typeof value === 'object' && 'sip-phone' in value);
  assert.ok(sealed, 'the app bundle holds the lazy chunks\' hashes');
  assert.deepEqual(sealed, outputs.lazyChunks);
  const checked = new Set();
  for (const chunks of Object.values(sealed)) {
    assert.ok(chunks.length > 0);
    for (const { href, integrity } of chunks) {
      const bytes = await readFile(join(distDir, href.slice(1)));
      assert.equal(integrity, `sha384-${createHash('sha384').update(bytes).digest('base64')}`, href);
      checked.add(href.slice(1));
    }
  }
  const dynamicImports = [...appBundle.matchAll(/import\("\.\/([^"]+)"\)/g)].map(([, file]) => `assets/${file}`);
  assert.ok(dynamicImports.length > 0, 'the SIP phone is imported on demand');
  for (const path of dynamicImports) assert.ok(checked.has(path), `${path} is imported with a hash to check`);
  const { readdir } = await import('node:fs/promises');
  const chunkFiles = (await readdir(join(distDir, 'assets'))).filter((file) => file.startsWith('chunk-')).map((file) => `assets/${file}`);
  assert.ok(chunkFiles.length > 0);
  for (const path of chunkFiles) assert.ok(checked.has(path), `${path} has an integrity hash`);
  const html = await readFile(join(distDir, 'app.html'), 'utf8');
  assert.doesNotMatch(html, /chunk-/, 'the SIP chunk is not fetched at page load');
});
