// Small static sites on http://127.0.0.1 for the call tests and benchmarks that drive a page of
// their own rather than the application: loopback http is a secure context, so getUserMedia,
// WebRTC and module Workers work there without a certificate.

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HTML = 'text/html; charset=utf-8';
const JAVASCRIPT = 'text/javascript';

/** Bundles the module at `entry` (a path) for the browser as one ES module; resolves its bytes. */
export async function bundleModule(entry) {
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true, format: 'esm', platform: 'browser', target: ['es2022'], write: false, logLevel: 'warning',
  });
  return Buffer.from(built.outputFiles[0].contents);
}

/**
 * Serves `files` ({ '/path': { type, body } }) on 127.0.0.1 at a free port, never cached; every
 * other path is 404. Resolves { origin, close() }.
 */
export function serveStaticPages(files) {
  const server = http.createServer((request, response) => {
    const file = files[new URL(request.url, 'http://127.0.0.1').pathname];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    response.end(file.body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      origin: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((done) => server.close(done)),
    }));
  });
}

/**
 * A test page with its own Worker: `html` at /, the module `page` at /page.mjs as it is, and the
 * module `worker` bundled at /worker.js (all file URLs or paths). Resolves { origin, close() }.
 */
export async function serveWorkerPage({ html, page, worker }) {
  return serveStaticPages({
    '/': { type: HTML, body: await readFile(html) },
    '/page.mjs': { type: JAVASCRIPT, body: await readFile(page) },
    '/worker.js': { type: JAVASCRIPT, body: await bundleModule(worker instanceof URL ? fileURLToPath(worker) : worker) },
  });
}

/** An HTML page's { type, body } entry for serveStaticPages. */
export const htmlPage = (body) => ({ type: HTML, body });

/** A JavaScript module's { type, body } entry for serveStaticPages. */
export const scriptFile = (body) => ({ type: JAVASCRIPT, body });
