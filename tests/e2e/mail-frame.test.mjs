// The sandboxed mail frame (web/src/mail-frame/, built into web/dist/mail-frame*.html) in
// Chromium: hostile HTML posted to it runs no script and fetches nothing; the page's own
// layer of sanitising is not involved here (the frame must hold on its own). The pages are
// served by a small HTTP server on loopback with the headers secms-server sends on every
// answer (COOP/COEP/CORP, the app's CSP with frame-src 'self', the frame's CSP), so the test
// also shows that the frame loads under COEP require-corp.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { build } from '../../web/build.mjs';
import { launchBrowser, newContext, violationsOf } from './helpers/browser.mjs';
import { repoRoot } from './helpers/server.mjs';

const distDir = join(repoRoot, 'web', 'dist');
const appPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'; "
  + "require-trusted-types-for 'script'; trusted-types lit-html secms-crypto-worker";
const framePolicy = (images) => "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
  + `img-src ${images}; font-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; `
  + "require-trusted-types-for 'script'; trusted-types secms-mail-frame";

let server;
let origin;
let browser;
const requests = [];   // every path asked of the server, with the page's Origin header

before(async () => {
  await build();
  server = http.createServer(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    requests.push(path);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin', 'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'Content-Security-Policy': appPolicy,
      'X-Frame-Options': 'DENY',
    };
    if (path === '/mail-frame.html' || path === '/mail-frame-remote.html') {
      headers['Content-Security-Policy'] = framePolicy(path === '/mail-frame.html' ? 'data: blob:' : 'data: blob: https:');
      headers['X-Frame-Options'] = 'SAMEORIGIN';
    }
    // The frame's opaque origin asks for its module script with Origin: null (CORS mode).
    if (/^\/assets\/mail-frame-[A-Za-z0-9]+\.js$/.test(path)) headers['Access-Control-Allow-Origin'] = '*';
    const file = path === '/parent.html' ? null : normalize(join(distDir, path));
    if (path === '/parent.html') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>parent</title><link rel="icon" href="data:,"></head><body></body></html>');
      return;
    }
    if (!file.startsWith(distDir)) { response.writeHead(404, headers).end(); return; }
    try {
      const body = await readFile(file);
      const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream';
      response.writeHead(200, { ...headers, 'Content-Type': type });
      response.end(body);
    } catch {
      response.writeHead(404, headers).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/**
 * In the parent page: embeds the frame as mail-frame.js does, posts `html`, and resolves every
 * message the frame sent within `settleMs` after it rendered.
 */
async function renderInFrame(page, html, { remote = false, settleMs = 700 } = {}) {
  return page.evaluate(async ({ html, remote, settleMs }) => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts allow-popups allow-popups-to-escape-sandbox');
    frame.title = 'message';
    const messages = [];
    const rendered = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`frame did not render; messages: ${JSON.stringify(messages)}`)), 8000);
      window.addEventListener('message', (event) => {
        if (event.source !== frame.contentWindow) return;
        messages.push(event.data);
        // The frame's origin is opaque: no origin but '*' can name it.
        if (event.data?.type === 'ready') frame.contentWindow.postMessage({ type: 'render', html, cidUrls: { 'logo@x': 'data:image/png;base64,iVBORw0KGgo=' } }, '*');
        if (event.data?.type === 'rendered') { clearTimeout(timer); resolve(); }
      });
    });
    frame.src = remote ? '/mail-frame-remote.html' : '/mail-frame.html';
    document.body.append(frame);
    await rendered;
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return messages;
  }, { html, remote, settleMs });
}

const hostile = (leak) => `
  <p id="visible">Hello</p>
  <script>parent.postMessage('script-ran', '*')</script>
  <img src="x" onerror="parent.postMessage('onerror-ran', '*')">
  <img src="${leak}/img.png">
  <img srcset="${leak}/srcset.png 1x">
  <div style="background-image: url('${leak}/style.png')">styled</div>
  <style>@import url("${leak}/import.css"); body { background: url(${leak}/css.png) }</style>
  <meta http-equiv="refresh" content="0; url=${leak}/refresh">
  <form action="${leak}/form"><input name="q" value="1"><button>go</button></form>
  <svg><script>parent.postMessage('svg-script-ran', '*')</script><image href="${leak}/svg.png"/></svg>
  <iframe src="${leak}/frame"></iframe>
  <object data="${leak}/object"></object>
  <a href="javascript:parent.postMessage('js-url', '*')" id="js">x</a>
  <a href="https://example.invalid/" id="out">out</a>
  <link rel="stylesheet" href="${leak}/link.css">
  <video poster="${leak}/poster.png"></video>
  <table background="${leak}/table.png"><tr><td>t</td></tr></table>
  <math><mtext><table><mglyph><style><img src=x onerror="parent.postMessage('mxss', '*')">`;

test('hostile HTML in the mail frame runs nothing and requests nothing', async (t) => {
  const { context, problems } = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  const seen = [];
  page.on('request', (request) => seen.push(request.url()));
  await page.goto(`${origin}/parent.html`);
  // Leaks go to this same server (a path the test can see) and to a name that cannot resolve.
  const messages = await renderInFrame(page, hostile(`${origin}/leak`));
  const types = messages.map((message) => (typeof message === 'string' ? message : message?.type));
  assert.ok(types.includes('ready') && types.includes('rendered'), JSON.stringify(messages));
  assert.deepEqual(types.filter((type) => !['ready', 'rendered', 'height'].includes(type)), [], 'only the frame script speaks');
  const rendered = messages.find((message) => message?.type === 'rendered');
  assert.ok(rendered.blockedRemote >= 6, `remote references counted: ${rendered.blockedRemote}`);
  const frame = page.frames().find((candidate) => candidate.url().endsWith('/mail-frame.html'));
  assert.ok(frame, 'the frame loaded');
  assert.equal(await frame.locator('#visible').textContent(), 'Hello');
  assert.equal(await frame.locator('body :is(form, input, button, iframe, object, embed, meta, link, script)').count(), 0);
  assert.equal(await frame.locator('#out').getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await frame.locator('#out').getAttribute('target'), '_blank');
  assert.equal(await frame.locator('#js').getAttribute('href'), null);
  const allowed = (url) => url === `${origin}/parent.html` || url === `${origin}/mail-frame.html` || /\/assets\/mail-frame-[A-Za-z0-9]+\.js$/.test(url)
    || url.startsWith('data:');
  assert.deepEqual(seen.filter((url) => !allowed(url)), [], 'no request leaves the frame');
  assert.deepEqual(requests.filter((path) => path.startsWith('/leak')), []);
  assert.deepEqual(await violationsOf(page), []);
  // The frame cannot read the page: it is an opaque origin.
  assert.equal(await frame.evaluate(() => { try { return String(parent.document); } catch { return 'blocked'; } }), 'blocked');
  assert.equal(await frame.evaluate(() => origin), 'null');
  assert.deepEqual(problems.filter((text) => !/Ignored call|ERR_BLOCKED|Refused|Content Security Policy|Trusted Type/.test(text)), []);
});

test('a page of another origin cannot use the frame', async (t) => {
  const { context } = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  // localhost and 127.0.0.1 are two origins of the same server.
  await page.goto(`${origin.replace('127.0.0.1', 'localhost')}/parent.html`);
  const answer = await page.evaluate(async (frameUrl) => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.src = frameUrl;
    const heard = [];
    window.addEventListener('message', (event) => heard.push(event.data?.type));
    document.body.append(frame);
    await new Promise((resolve) => setTimeout(resolve, 800));
    frame.contentWindow.postMessage({ type: 'render', html: '<p>a</p>' }, '*');
    await new Promise((resolve) => setTimeout(resolve, 500));
    return heard;
  }, `${origin}/mail-frame.html`);
  assert.deepEqual(answer, []);
});

test('remote images load only in the remote variant, and only over https', async (t) => {
  const { context } = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(`${origin}/parent.html`);
  const messages = await renderInFrame(page, `<img id="r" src="https://example.invalid/a.png"><img id="h" src="${origin}/leak/http.png"><img id="c" src="cid:logo@x">`, { remote: true, settleMs: 200 });
  const frame = page.frames().find((candidate) => candidate.url().endsWith('/mail-frame-remote.html'));
  assert.ok(frame, JSON.stringify(messages));
  assert.equal(await frame.locator('#r').getAttribute('src'), 'https://example.invalid/a.png');
  assert.equal(await frame.locator('#h').getAttribute('src'), null);
  assert.match(await frame.locator('#c').getAttribute('src'), /^data:image\/png;base64,/);
  assert.deepEqual(requests.filter((path) => path.startsWith('/leak')), []);
});
