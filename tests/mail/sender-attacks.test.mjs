// The mail frame as built (web/dist/mail-frame-remote.html and its script, the frame's own CSP)
// embedded with the reader's real sandbox flags, in real Chromium: links a hostile sender puts
// in SVG (<a href>, xlink:href) or HTML never navigate the frame itself (review r1 F7: an SVG <a>
// escaped the link rule and the sender's page then ran inside the reader). Only an HTML link
// forced to target=_blank opens, in a new window. The sandbox has no allow-modals and no
// allow-top-navigation. Needs `npm run build` first (web/dist).
//
//   flock /tmp/secms-browser.lock node --test tests/mail/sender-attacks.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'web', 'dist');
const chromiumPath = process.env.SECMS_CHROMIUM ?? '/usr/bin/chromium';
const sandbox = /export const mailFrameSandbox = '([^']*)'/.exec(readFileSync(join(root, 'web/src/ui/mail/mail-frame.js'), 'utf8'))?.[1];

let browser;
before(async () => {
  if (!existsSync(join(dist, 'mail-frame-remote.html'))) throw new Error('web/dist is missing: run npm run build first');
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (set SECMS_CHROMIUM)`);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
});
after(async () => { await browser?.close(); });

test('the reader frame sandbox: scripts and popups only (no modals, no top navigation, no same origin)', () => {
  assert.ok(sandbox, 'mailFrameSandbox found in web/src/ui/mail/mail-frame.js');
  const flags = sandbox.split(/\s+/);
  for (const flag of ['allow-modals', 'allow-top-navigation', 'allow-top-navigation-by-user-activation', 'allow-same-origin', 'allow-forms']) assert.ok(!flags.includes(flag), flag);
});

async function openFrame(mailHtml) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const evilHits = [];
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.type()); dialog.dismiss().catch(() => {}); });
  await context.route('https://app.test/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') {
      return route.fulfill({ contentType: 'text/html', body: `<!doctype html><iframe id="f" sandbox="${sandbox}" src="/mail-frame-remote.html" style="width:500px;height:300px"></iframe>
<script>
  const frame = document.getElementById('f');
  window.rendered = false;
  window.addEventListener('message', (event) => {
    if (event.source !== frame.contentWindow) return;
    if (event.data?.type === 'ready') frame.contentWindow.postMessage({ type: 'render', html: ${JSON.stringify(mailHtml)}, cidUrls: {} }, '*');
    if (event.data?.type === 'rendered') window.rendered = true;
  });
</script>` });
    }
    const file = join(dist, path.replace(/^\/+/, ''));
    if (!file.startsWith(dist) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: file.endsWith('.js') ? 'text/javascript' : 'text/html', body: readFileSync(file) });
  });
  await context.route('https://evil.example/**', (route) => {
    evilHits.push(route.request().url());
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><h1>evil</h1><script>prompt("passphrase?")</script>' });
  });
  const popups = [];
  context.on('page', (popup) => popups.push(popup));
  await page.goto('https://app.test/');
  await page.waitForFunction(() => window.rendered === true, null, { timeout: 10000 });
  const frame = page.frames().find((entry) => entry.url().endsWith('/mail-frame-remote.html'));
  assert.ok(frame, 'the mail frame loaded');
  return { context, page, frame, evilHits, dialogs, popups };
}

const frameUrls = (page) => page.frames().filter((entry) => entry !== page.mainFrame()).map((entry) => entry.url());

for (const [name, mailHtml, selector] of [
  ['SVG <a href>', '<p>Hello</p><svg style="width:300px;height:60px"><a href="https://evil.example/landing"><rect style="width:300px;height:60px;fill:blue"></rect></a></svg>', 'svg rect'],
  ['SVG <a xlink:href>', '<svg xmlns:xlink="http://www.w3.org/1999/xlink" style="width:300px;height:60px"><a xlink:href="https://evil.example/x"><rect style="width:300px;height:60px;fill:blue"></rect></a></svg>', 'svg rect'],
  ['SVG <A HREF> in upper case', '<svg style="width:300px;height:60px"><A HREF="https://evil.example/u"><rect style="width:300px;height:60px;fill:blue"></rect></A></svg>', 'svg rect'],
]) {
  test(`F7: a click on an ${name} does not navigate the mail frame`, async () => {
    const { context, page, frame, evilHits, dialogs, popups } = await openFrame(mailHtml);
    try {
      const markup = await frame.evaluate(() => document.body.innerHTML);
      if (process.env.SECMS_DEBUG) console.log(markup);
      assert.ok(!/evil\.example/.test(markup), `link kept: ${markup}`);
      await frame.locator(selector).click({ position: { x: 10, y: 10 }, force: true, timeout: 5000 });
      await page.waitForTimeout(800);
      assert.deepEqual(frameUrls(page), ['https://app.test/mail-frame-remote.html']);
      assert.deepEqual(evilHits, []);
      assert.deepEqual(dialogs, []);
      assert.equal(popups.length, 0);
    } finally {
      await context.close();
    }
  });
}

test('F7: an HTML link opens a new window with noopener, never the frame itself', async () => {
  const { context, page, frame, popups } = await openFrame('<p><a id="go" href="https://evil.example/page" target="_self">go</a></p>');
  try {
    const attrs = await frame.evaluate(() => { const a = document.getElementById('go'); return [a.getAttribute('target'), a.getAttribute('rel')]; });
    assert.deepEqual(attrs, ['_blank', 'noopener noreferrer']);
    await frame.click('#go');
    await page.waitForTimeout(800);
    assert.deepEqual(frameUrls(page), ['https://app.test/mail-frame-remote.html']);
    assert.equal(popups.length, 1, 'the link opened in a new window');
  } finally {
    await context.close();
  }
});
