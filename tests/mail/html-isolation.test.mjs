// Hostile HTML mail (tests/mail/fixtures/html-attacks.mjs, ≥ 50 cases: scripts, handlers,
// javascript:/data: URLs, frames, objects, refresh, base, forms, remote images, fonts and style
// sheets, CSS url() tricks, mutation XSS) through the real stack: delivered over LMTP into the
// real Dovecot, listed and opened in the Email tab of real Chromium. For every case: no script
// ran (no flag in the page or any frame, no message posted, no dialog), NO request left for any
// host but the app (every request of the context is watched, and the loopback "internet" servers
// the remote URLs point at got none), the sanitised DOM in the frame keeps no remote reference,
// and the app still works. Then "Load remote content" on one harmless mail loads exactly its
// one image.
//
// The first test runs the same corpus through the mail frame as secms-server serves it (its own
// CSP and headers) without the mail UI: a quicker view of the frame's own defence.
//
//   SECMS_SERVER_BIN=… flock /tmp/secms-browser.lock node --test tests/mail/html-isolation.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useMailStack } from './helpers/mail-stack.mjs';
import { startRemoteSink } from './helpers/remote-sink.mjs';
import { htmlAttacks, remoteImageMail } from './fixtures/html-attacks.mjs';
import { htmlMail, messageId } from './helpers/mime.mjs';
import { newContext, violationsOf } from '../e2e/helpers/browser.mjs';
import { mailTraps, mailTrapsOf, mailUser, openRow, findAndOpen, messageRows } from './helpers/mail-app.mjs';

const suite = await useMailStack();
let sink;
before(async () => { sink = await startRemoteSink(); });
after(async () => { await sink?.stop(); });

/** Every request of a browser context, with what asked for it. */
function watchRequests(context) {
  const seen = [];
  context.on('request', (request) => seen.push({ url: request.url(), frame: request.frame()?.url() ?? '' }));
  return seen;
}

/** Requests to anything but the app's own origin (data: and blob: stay in the browser). */
const foreign = (seen, origin) => seen.filter(({ url }) => !url.startsWith(`${origin}/`) && !/^(data|blob|about):/.test(url));

/**
 * Remote references left in a frame's sanitised DOM (attributes and style text naming the sink
 * or any http(s) URL that would be fetched on display; links' href are not fetched).
 */
async function remoteReferencesIn(frame, sinkHosts) {
  return frame.evaluate((hosts) => {
    const found = [];
    const fetchedAttributes = /^(src|srcset|background|poster|lowsrc|dynsrc|data|href|xlink:href|action|formaction|ping|style|codebase|manifest)$/i;
    for (const node of document.querySelectorAll('*')) {
      for (const name of node.getAttributeNames()) {
        const value = node.getAttribute(name);
        if (/^on/i.test(name)) found.push(`${node.localName}[${name}]`);
        if (!fetchedAttributes.test(name)) continue;
        if (name.toLowerCase() === 'href' && node.namespaceURI === 'http://www.w3.org/1999/xhtml' && ['a', 'area'].includes(node.localName)) continue;
        if (hosts.some((host) => value.includes(host)) || /__leak/.test(value)) found.push(`${node.localName}[${name}=${value.slice(0, 80)}]`);
      }
      if (node.localName === 'style' && (hosts.some((host) => node.textContent.includes(host)) || /__leak|@import/.test(node.textContent))) found.push(`style{${node.textContent.slice(0, 80)}}`);
      if (['script', 'iframe', 'object', 'embed', 'meta', 'base', 'link', 'form', 'portal', 'frame', 'applet'].includes(node.localName) && node.closest('body')) found.push(`<${node.localName}>`);
    }
    return found;
  }, sinkHosts);
}

test('the corpus in the mail frame as secms-server serves it: nothing runs, nothing leaves, no remote reference kept', { timeout: 180_000 }, async (t) => {
  const cases = htmlAttacks(sink);
  assert.ok(cases.length >= 50, `corpus of ${cases.length}`);
  const { context, problems } = await newContext(suite.browser);
  t.after(() => context.close());
  await context.addInitScript(mailTraps);
  const seen = watchRequests(context);
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
  await page.goto(`${suite.stack.origin}/`);
  sink.clear();

  const findings = [];
  const batch = 15;
  for (let start = 0; start < cases.length; start += batch) {
    const slice = cases.slice(start, start + batch);
    const states = await page.evaluate(async (entries) => {
      const waits = entries.map(({ id, html }) => new Promise((resolve) => {
        const frame = document.createElement('iframe');
        frame.setAttribute('sandbox', 'allow-scripts allow-popups allow-popups-to-escape-sandbox');
        frame.title = id;
        frame.dataset.case = id;
        const timer = setTimeout(() => resolve({ id, state: 'no-render' }), 10_000);
        window.addEventListener('message', (event) => {
          if (event.source !== frame.contentWindow || typeof event.data !== 'object' || event.data === null) return;
          if (event.data.type === 'ready') frame.contentWindow.postMessage({ type: 'render', html, cidUrls: {} }, '*');
          if (event.data.type === 'rendered') { clearTimeout(timer); resolve({ id, state: 'rendered' }); }
        });
        frame.src = '/mail-frame.html';
        document.body.append(frame);
      }));
      return Promise.all(waits);
    }, slice);
    for (const state of states) if (state.state !== 'rendered') findings.push(`${state.id}: the frame did not render (${state.state})`);
    await page.waitForTimeout(600);  // late loads (images, fonts, refresh) have their chance
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const id = await frame.frameElement().then((element) => element.getAttribute('data-case')).catch(() => null);
      if (!id) continue;
      for (const reference of await remoteReferencesIn(frame, sink.hosts).catch((error) => [`unreadable: ${error.message}`])) findings.push(`${id}: ${reference}`);
    }
    const traps = await mailTrapsOf(page);
    for (const flag of traps.frameFlags) findings.push(`${flag}: script ran in the frame`);
    for (const heard of traps.heard) findings.push(`${heard}: script posted to the page`);
    await page.evaluate(() => { for (const frame of document.querySelectorAll('iframe[data-case]')) frame.remove(); });
  }
  assert.deepEqual(findings, [], 'every case: rendered, nothing ran, no remote reference in the sanitised DOM');
  assert.deepEqual(dialogs, [], 'no dialog');
  assert.deepEqual(foreign(seen, suite.stack.origin).map(({ url }) => url), [], 'no request left for another host');
  assert.deepEqual(sink.requests.map(({ url }) => url), [], 'the loopback "internet" got nothing');
  assert.deepEqual(seen.filter(({ url }) => /__leak/.test(url)).map(({ url }) => url), [], 'nothing of the mails was asked of the app either');
  assert.equal(context.pages().length, 1, 'no window opened');
  assert.deepEqual(problems.filter((text) => !/Content Security Policy|Refused|ERR_BLOCKED|Trusted Type|Failed to load resource/.test(text)), []);
});

test('the corpus delivered over LMTP and opened in the Email tab: nothing runs, nothing leaves, the app keeps working', { timeout: 300_000 }, async (t) => {
  const { stack, browser } = suite;
  const cases = htmlAttacks(sink);
  const bob = await mailUser(t, stack, browser, 'bob', { identity: false });
  const seen = watchRequests(bob.context);
  const dialogs = [];
  bob.app.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
  for (const entry of cases) {
    await stack.deliver(htmlMail({ from: 'Mallory <mallory@example.org>', to: bob.address, subject: `attack [${entry.id}]`, html: entry.html, id: messageId('example.org') }), { from: 'mallory@example.org', to: bob.address });
  }
  sink.clear();
  // The list fills by push (mail_new) or by the folder's own load.
  await bob.app.locator(`[data-testid=mail-list][data-total="${cases.length}"]`).waitFor({ timeout: 30_000 });

  const findings = [];
  for (const entry of cases) {
    const before = (await mailTrapsOf(bob.app)).rendered;
    await findAndOpen(bob.app, `[${entry.id}]`);
    // The frame says "rendered" once it shows the sanitised HTML (the reader may also refuse).
    const started = Date.now();
    while ((await mailTrapsOf(bob.app)).rendered <= before && Date.now() - started < 5_000) await bob.app.waitForTimeout(50);
    await bob.app.waitForTimeout(150);
    const frame = bob.app.frames().find((candidate) => /\/mail-frame(-remote)?\.html/.test(candidate.url()));
    if (!frame) findings.push(`${entry.id}: no mail frame shown`);
    else for (const reference of await remoteReferencesIn(frame, sink.hosts).catch((error) => [`unreadable: ${error.message}`])) findings.push(`${entry.id}: ${reference}`);
    if (entry.id === 'a-javascript') await frame?.locator('#go').click({ timeout: 2_000 }).catch(() => {});
  }
  await bob.app.waitForTimeout(500);
  const traps = await mailTrapsOf(bob.app);
  assert.deepEqual(findings, []);
  assert.equal(traps.flag, null, 'no script ran in the page');
  assert.deepEqual(traps.frameFlags, [], 'no script ran in a frame');
  assert.deepEqual(traps.heard, [], 'no script posted to the page');
  assert.equal(traps.dialogs, 0);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(foreign(seen, stack.origin).map(({ url }) => url), [], 'no request left for another host');
  assert.deepEqual(sink.requests.map(({ url }) => url), [], 'the loopback "internet" got nothing');
  assert.deepEqual(seen.filter(({ url }) => /__leak/.test(url)).map(({ url }) => url), []);
  // Still working: the list answers and a plain mail opens.
  await stack.deliver(htmlMail({ from: 'friend@example.org', to: bob.address, subject: 'still fine', html: '<p id="fine">all good</p>' }), { to: bob.address });
  await findAndOpen(bob.app, 'still fine');
  // The reader reads the message before it shows the frame: wait for the frame to be there.
  const frameShown = Date.now();
  let frame;
  while (!(frame = bob.app.frames().find((candidate) => /\/mail-frame\.html/.test(candidate.url()))) && Date.now() - frameShown < 10_000) await bob.app.waitForTimeout(100);
  assert.ok(frame, 'the plain mail is shown in the mail frame');
  await frame.locator('#fine').waitFor({ timeout: 5_000 });
  await bob.app.getByTestId('mail-quick-search').fill('');
  await bob.app.getByTestId('mail-quick-search').press('Enter');
  await bob.app.locator(`[data-testid=mail-list][data-total="${cases.length + 1}"]`).waitFor({ timeout: 10_000 });
  assert.ok(await messageRows(bob.app).count() > 0);
  assert.equal(bob.context.pages().filter((page) => page !== bob.landing && page !== bob.app).length, 0, 'no window opened');
  // Last, as it is the weakest signal: the page's own sanitising pass must not make the browser
  // report violations of the app's policy (a hostile mail's <style>, handlers, <base> met by a
  // parser that shares the page's policy).
  assert.deepEqual(await violationsOf(bob.app), [], 'no CSP / Trusted Types violation in the page');
});

test('"Load remote content" loads exactly the one remote image of the open mail', { timeout: 120_000 }, async (t) => {
  const { stack, browser } = suite;
  const carol = await mailUser(t, stack, browser, 'carol', { identity: false });
  const seen = watchRequests(carol.context);
  await stack.deliver(htmlMail({ from: 'news@example.org', to: carol.address, subject: 'newsletter with a logo', html: remoteImageMail(sink) }), { to: carol.address });
  sink.clear();
  await openRow(carol.app, 'newsletter with a logo');
  await carol.app.waitForTimeout(500);
  assert.deepEqual(sink.requests, [], 'blocked until asked');
  const load = carol.app.getByTestId('mail-remote-load');
  await load.waitFor({ timeout: 5_000 });
  await load.click();
  const frame = () => carol.app.frames().find((candidate) => /\/mail-frame-remote\.html/.test(candidate.url()));
  const started = Date.now();
  while (!frame() && Date.now() - started < 10_000) await carol.app.waitForTimeout(100);
  assert.ok(frame(), 'the remote variant of the frame is shown');
  const image = frame().locator('img[data-remote-probe]');
  await image.waitFor({ timeout: 10_000 });
  await carol.app.waitForFunction(() => true);
  const loaded = await image.evaluate((node) => new Promise((resolve) => {
    if (node.complete) resolve(node.naturalWidth);
    else { node.addEventListener('load', () => resolve(node.naturalWidth)); node.addEventListener('error', () => resolve(-1)); }
  }));
  assert.deepEqual(sink.requests.map(({ url }) => url), ['/__remote/logo.png'], 'exactly the one image was asked for');
  assert.equal(sink.requests[0].scheme, 'https');
  assert.equal(sink.requests[0].headers.referer, undefined, 'no referrer sent with it');
  assert.equal(loaded, 16, 'the image is shown (a tracker answers without Cross-Origin-Resource-Policy)');
  assert.deepEqual(foreign(seen, stack.origin).map(({ url }) => url), [`${sink.https}/__remote/logo.png`]);
});
