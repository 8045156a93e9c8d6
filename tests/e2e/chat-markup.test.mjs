// Renders the whole XSS corpus (tests/fixtures/xss/payloads.json) with the real chat markup
// code — web/src/chat/bbcode.js parsing, web/src/ui/chat-markup.js building DOM nodes — in
// headless Chromium, on a page served with the server's own Content-Security-Policy
// (require-trusted-types-for 'script' included). Asserts that no payload ran script, that only
// the allowed elements exist, that every link is http(s), that the page made no request
// beyond its own two files, that the shown text is exactly the parsed text, and that no CSP or
// Trusted Types violation was reported. web/test/chat-markup.test.mjs is the node-side twin.
//
//   node --test tests/e2e/chat-markup.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { launchBrowser, newContext, violationsOf } from './helpers/browser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The server's policy (server/http/security_headers.hpp), verbatim.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  + "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
  + "media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
  + "object-src 'none'; require-trusted-types-for 'script'; trusted-types lit-html secms-crypto-worker";

// Every function a payload means to call records the call instead; the page script runs
// before any payload is rendered.
const trapNames = ['alert', 'prompt', 'confirm', 'print', 'open'];

const pageSource = `
import { parseBBCode, astToText } from ${JSON.stringify(path.join(root, 'web/src/chat/bbcode.js'))};
import { renderChatMarkup, quoteCiteText } from ${JSON.stringify(path.join(root, 'web/src/ui/chat-markup.js'))};

window.__xss = {};
for (const name of ${JSON.stringify(trapNames)}) {
  window.__xss[name] = 0;
  window[name] = () => { window.__xss[name] += 1; };
}

const allowed = new Set(['SPAN', 'STRONG', 'EM', 'U', 'BLOCKQUOTE', 'CODE', 'PRE', 'A', 'BR']);
const shownText = (node) => node.nodeType === Node.TEXT_NODE ? node.data
  : node.nodeName === 'BR' ? '\\n' : [...node.childNodes].map(shownText).join('');

window.renderCorpus = (corpus) => {
  const out = document.getElementById('out');
  const problems = [];
  let links = 0;
  for (const [index, payload] of corpus.entries()) {
    const ast = parseBBCode(payload);
    const element = renderChatMarkup(ast);
    out.append(element);
    const where = index + ' ' + JSON.stringify(payload.slice(0, 60));
    for (const node of [element, ...element.querySelectorAll('*')]) {
      if (!allowed.has(node.nodeName)) problems.push(where + ': element ' + node.nodeName);
      for (const attribute of node.getAttributeNames()) {
        if (/^on/i.test(attribute)) problems.push(where + ': handler attribute ' + attribute);
      }
      if (node.nodeName === 'A') {
        links += 1;
        if (!/^https?:\\/\\//.test(node.getAttribute('href')) || !['http:', 'https:'].includes(node.protocol)) problems.push(where + ': link ' + node.href);
        if (node.username || node.password) problems.push(where + ': credentials in ' + node.href);
        if (node.rel !== 'noopener noreferrer nofollow' || node.target !== '_blank' || node.title !== node.href) problems.push(where + ': link attributes');
      }
      if (node.style.length > 1 || (node.style.length === 1 && node.style[0] !== 'color')) problems.push(where + ': style ' + node.style.cssText);
    }
    if (element.getAttribute('dir') !== 'auto') problems.push(where + ': message not isolated');
    const expected = astToText(ast, { cite: quoteCiteText });
    if (shownText(element) !== expected) problems.push(where + ': shown text differs from the parsed text');
  }
  return { problems, links, rendered: out.childElementCount };
};
window.__ready = true;
`;

let dir;
let server;
let baseUrl;
let browser;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'secms-chat-markup-'));
  const bundle = await esbuild.build({
    stdin: { contents: pageSource, resolveDir: root, sourcefile: 'chat-markup-page.mjs' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  const files = {
    '/': { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>chat markup</title><main id="out"></main><script type="module" src="/page.js"></script>' },
    '/page.js': { type: 'text/javascript', body: bundle.outputFiles[0].text },
  };
  server = createServer((request, response) => {
    const pathname = new URL(request.url, 'http://127.0.0.1').pathname;
    const file = files[pathname];
    if (!file) { response.writeHead(404).end(); return; }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store', 'content-security-policy': contentSecurityPolicy }).end(file.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function openPage() {
  const { context, problems } = await newContext(browser);
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(baseUrl);
  await page.waitForFunction(() => window.__ready === true);
  return { context, page, problems, requests };
}

test('the page enforces Trusted Types and the traps record calls (the checks below can fail)', async () => {
  const { context, page } = await openPage();
  try {
    const sink = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        return 'assigned';
      } catch (error) {
        return error.name;
      }
    });
    assert.equal(sink, 'TypeError', 'innerHTML with a string is refused');
    await page.waitForFunction(() => window.__secmsViolations.length > 0);
    assert.match((await violationsOf(page))[0], /^require-trusted-types-for/);
    await page.evaluate(() => { alert(1); prompt(1); });
    assert.deepEqual(await page.evaluate(() => ({ ...window.__xss })), { alert: 1, prompt: 1, confirm: 0, print: 0, open: 0 });
  } finally {
    await context.close();
  }
});

test('every corpus payload renders inert: allowed elements, http(s) links, exact text, no script, no violation', async () => {
  const corpus = JSON.parse(await readFile(path.join(root, 'tests/fixtures/xss/payloads.json'), 'utf8'));
  assert.ok(corpus.length >= 100);
  const { context, page, problems, requests } = await openPage();
  try {
    const result = await page.evaluate((payloads) => window.renderCorpus(payloads), corpus);
    assert.deepEqual(result.problems, []);
    assert.equal(result.rendered, corpus.length);
    assert.ok(result.links >= 5, 'the corpus has accepted links too');
    // Let anything asynchronous a payload could have started (an image error, a timer) happen.
    await page.waitForTimeout(500);
    assert.deepEqual(await page.evaluate(() => ({ ...window.__xss })), Object.fromEntries(trapNames.map((name) => [name, 0])));
    assert.deepEqual(await violationsOf(page), []);
    assert.deepEqual(problems, []);
    // (A favicon request is the browser's own, not a payload's.)
    assert.deepEqual(requests.filter((url) => url !== `${baseUrl}favicon.ico`), [baseUrl, `${baseUrl}page.js`], 'no request beyond the page itself');
    assert.equal(page.url(), baseUrl, 'no navigation');
    // Hex colours went through the CSSOM without a CSP report, and are real colours.
    const colours = await page.evaluate(() => [...document.querySelectorAll('#out span.chat-color')].map((s) => s.style.color).filter(Boolean));
    assert.ok(colours.length >= 2 && colours.every((c) => /^rgb\(\d+, \d+, \d+\)$/.test(c)), colours.join(' '));
  } finally {
    await context.close();
  }
});
