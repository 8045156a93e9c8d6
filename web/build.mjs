// Builds the front end into web/dist/ (served by secms-server as its web root):
//   1. the crypto worker bundle (its hashed path is then known),
//   2. the page bundles, with the worker path injected through esbuild `define`,
//   3. the page stylesheets,
//   4. index.html and app.html from web/src/pages, each with its script and stylesheet
//      tags carrying Subresource Integrity hashes (DESIGN.md §8); the app's lazy chunks (the
//      SIP phone) get theirs inside the app bundle, which checks them before it imports them
//      (web/src/sip/lazy-chunk.js).
// Names carry content hashes so a new release never mixes with a cached old file.

import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(fileURLToPath(import.meta.url));
const srcDir = join(webDir, 'src');
const defaultDistDir = join(webDir, 'dist');
// Where the build in progress writes: web/dist, or the directory build({ outDir }) names (the
// build's own test writes elsewhere, so servers of other suites running beside it keep serving).
let distDir = defaultDistDir;
let assetsDir = join(distDir, 'assets');

const shared = {
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
};

/** Maps each entry name to its output path under dist/, e.g. { app: 'assets/app-XYZ.js' }. */
function outputsByEntry(metafile, entryPoints) {
  const byInput = new Map(Object.entries(entryPoints).map(([name, input]) => [relative(process.cwd(), input).split(sep).join('/'), name]));
  const result = {};
  for (const [output, info] of Object.entries(metafile.outputs)) {
    const name = info.entryPoint && byInput.get(info.entryPoint);
    if (name) result[name] = relative(distDir, output).split(sep).join('/');
  }
  for (const name of Object.keys(entryPoints)) {
    if (!result[name]) throw new Error(`build: no output found for entry ${name}`);
  }
  return result;
}

async function bundle(entryPoints, options = {}) {
  return (await bundleWithMetafile(entryPoints, options)).outputs;
}

async function bundleWithMetafile(entryPoints, options = {}) {
  const result = await esbuild.build({ ...shared, outdir: assetsDir, entryPoints, ...options });
  const outputs = outputsByEntry(result.metafile, entryPoints);
  // An entry must not import a chunk statically: the page's SRI hash covers the entry file
  // only, so every line run at page load has to be inside it. (Chunks loaded by import() run
  // later, on demand, once checked against the hashes sealLazyChunks writes into the entry.)
  for (const path of Object.values(outputs)) {
    const output = result.metafile.outputs[relative(process.cwd(), join(distDir, path)).split(sep).join('/')];
    if (!output) throw new Error(`build: no metafile entry for ${path}`);
    const statics = output.imports.filter((item) => item.kind === 'import-statement' && !item.external);
    if (statics.length > 0) throw new Error(`build: ${path} imports ${statics.map((item) => item.path).join(', ')} statically; keep modules shared with a lazy chunk out of it`);
  }
  return { outputs, metafile: result.metafile };
}

async function sriHash(distPath) {
  const bytes = await readFile(join(distDir, distPath));
  return `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
}

/** Stands in the app bundle for the lazy chunks' hashes until the chunks exist (sealLazyChunks). */
const LAZY_CHUNKS_PENDING = '__SECMS_LAZY_CHUNKS_PENDING__';
const toDistPath = (metafilePath) => relative(distDir, metafilePath).split(sep).join('/');

/**
 * Writes into the app bundle, for each module it imports with import(), the chunks to check
 * before running it: { "sip-phone": [{ href, integrity }, …] } (the chunk and every chunk it
 * imports statically). Every chunk of the build must be covered: none may run unchecked.
 * The entry's file name keeps esbuild's hash: the text replaced is a function of the chunks'
 * contents, whose hashed names the entry already holds.
 */
async function sealLazyChunks(entryPath, metafile) {
  const outputs = metafile.outputs;
  const entryKey = Object.keys(outputs).find((key) => toDistPath(key) === entryPath);
  if (!entryKey) throw new Error(`build: no metafile entry for ${entryPath}`);
  const covered = new Set();
  const closure = (key, seen) => {
    if (seen.includes(key)) return seen;
    if (!outputs[key]) throw new Error(`build: ${key} is not an output of the build`);
    seen.push(key);
    for (const item of outputs[key].imports) {
      if (item.external) continue;
      if (item.kind === 'import-statement') closure(item.path, seen);
      else if (item.kind === 'dynamic-import') throw new Error(`build: lazy chunk ${key} imports ${item.path} with import(); only the entry may`);
    }
    return seen;
  };
  const lazy = {};
  for (const item of outputs[entryKey].imports) {
    if (item.kind !== 'dynamic-import' || item.external) continue;
    const module = outputs[item.path]?.entryPoint;
    if (!module) throw new Error(`build: no module known for the lazy chunk ${item.path}`);
    const name = module.split('/').pop().replace(/\.js$/, '');
    const chunks = [];
    for (const key of closure(item.path, [])) {
      covered.add(key);
      chunks.push({ href: `/${toDistPath(key)}`, integrity: await sriHash(toDistPath(key)) });
    }
    lazy[name] = chunks;
  }
  for (const key of Object.keys(outputs)) {
    if (key.endsWith('.js') && key !== entryKey && !covered.has(key)) throw new Error(`build: chunk ${key} would run without an integrity check`);
  }
  const file = join(distDir, entryPath);
  const text = await readFile(file, 'utf8');
  const placeholder = JSON.stringify(LAZY_CHUNKS_PENDING);
  if (text.split(placeholder).length !== 2) throw new Error(`build: ${entryPath} must hold the lazy-chunk placeholder exactly once`);
  await writeFile(file, text.replace(placeholder, () => JSON.stringify(JSON.stringify(lazy))));
  return lazy;
}

const escapeAttribute = (value) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

async function assetTags({ script, style }) {
  return [
    `<link rel="stylesheet" href="/${escapeAttribute(style)}" integrity="${await sriHash(style)}" crossorigin="anonymous">`,
    `<script type="module" src="/${escapeAttribute(script)}" integrity="${await sriHash(script)}" crossorigin="anonymous"></script>`,
  ].join('\n  ');
}

async function writePage(templateName, tags) {
  const template = await readFile(join(srcDir, 'pages', templateName), 'utf8');
  const marker = /<!-- secms:assets [a-z]+ -->/;
  if (!marker.test(template)) throw new Error(`build: ${templateName} has no secms:assets marker`);
  await writeFile(join(distDir, templateName), template.replace(marker, () => tags));
}

// The sandboxed mail frame (web/src/mail-frame/): one script, no stylesheet (its CSP allows
// inline styles only, for the mail's own). Two pages from one template: /mail-frame.html and
// /mail-frame-remote.html, which differ only in the img-src of their CSP (the server sends the
// same policies as headers; the meta copy holds even where a header is missing).
const mailFramePolicy = (imageSources) => "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
  + `img-src ${imageSources}; font-src data:; base-uri 'none'; form-action 'none'; object-src 'none'; `
  + "require-trusted-types-for 'script'; trusted-types secms-mail-frame";

async function buildMailFrame() {
  const { 'mail-frame': frame } = await bundle({ 'mail-frame': join(srcDir, 'mail-frame', 'frame.js') });
  const tag = `<script type="module" src="/${escapeAttribute(frame)}" integrity="${await sriHash(frame)}" crossorigin="anonymous"></script>`;
  const template = await readFile(join(srcDir, 'pages', 'mail-frame.html'), 'utf8');
  for (const [name, images] of [['mail-frame.html', 'data: blob:'], ['mail-frame-remote.html', 'data: blob: https:']]) {
    const policy = `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(mailFramePolicy(images))}">`;
    if (!template.includes('<!-- secms:frame-policy -->') || !template.includes('<!-- secms:assets frame -->')) throw new Error('build: mail-frame.html lacks its markers');
    await writeFile(join(distDir, name), template.replace('<!-- secms:frame-policy -->', () => policy).replace('<!-- secms:assets frame -->', () => tag));
  }
  return frame;
}

export async function build({ outDir = defaultDistDir } = {}) {
  distDir = outDir;
  assetsDir = join(distDir, 'assets');
  await rm(distDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });

  const worker = await bundle({ worker: join(srcDir, 'crypto', 'worker.js') });
  const define = { __SECMS_WORKER_URL__: JSON.stringify(`/${worker.worker}`) };
  const landing = await bundle({ landing: join(srcDir, 'app', 'landing.js') }, { define });
  // The app is split: what it loads on demand with import() (the SIP phone and SIP.js, the first
  // time the VoIP tab is shown) becomes a chunk of its own, fetched from 'self' (CSP).
  const { outputs: app, metafile: appMetafile } = await bundleWithMetafile({ app: join(srcDir, 'app', 'app.js') }, {
    define: { ...define, __SECMS_LAZY_CHUNKS__: JSON.stringify(LAZY_CHUNKS_PENDING) }, splitting: true, chunkNames: 'chunk-[name]-[hash]',
  });
  const lazyChunks = await sealLazyChunks(app.app, appMetafile);
  const scripts = { ...landing, ...app };
  const styles = await bundle({ landing: join(srcDir, 'styles', 'landing.css'), app: join(srcDir, 'styles', 'app.css') });

  await writePage('index.html', await assetTags({ script: scripts.landing, style: styles.landing }));
  await writePage('app.html', await assetTags({ script: scripts.app, style: styles.app }));
  const mailFrame = await buildMailFrame();
  await copyFile(join(srcDir, 'pages', 'favicon.svg'), join(distDir, 'favicon.svg'));
  return { worker: worker.worker, scripts: { ...scripts, mailFrame }, styles, lazyChunks };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outputs = await build();
  process.stdout.write(`web/dist built: ${JSON.stringify(outputs)}\n`);
}
