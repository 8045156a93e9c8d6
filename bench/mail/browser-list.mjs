// The browser phase of the mail list benchmark (list.mjs): the Email tab itself, in headless
// Chromium (tests/e2e/helpers/browser.mjs), on the folder list.mjs filled.
//
// Per round, a fresh browser context (no cookies, no storage) logs in as the user on the real
// landing page (tests/e2e/helpers/app-flows.mjs) and, in the app window:
//  - cold: clicks the Email tab as soon as the app shell is there. The app starts the mail
//    controller at load (app.js startMail: status, folders, first page of INBOX), so the click
//    meets those requests in flight; the mailbox on the server is closed before every round (all
//    the user's sessions logged out), so they open secms-server's IMAP connection and sort the
//    folder again (Dovecot's own indexes stay warm). Two figures: click → first row, and the app
//    page's navigation start → first row (what a user waits from the login to a list).
//  - an OpenPGP identity is created in the Chat tab (the user as the app expects it), then back
//    to the Email tab;
//  - warm: another folder opened, then INBOX again (the list is reset and page 0 fetched anew;
//    secms-server's sorted-UID cache is warm): click → first INBOX row, `warmRepeats` times;
//  - scroll to the end: the list's scroller moved down one screen (its clientHeight) at a time,
//    each step waiting until every row of the new screen is a message row (no "Loading" row),
//    until the last (oldest) message is rendered; the time, the /messages requests the page made
//    (counted from Playwright's request events), the longest wait of a step;
//  - memory: the page's JS heap after a forced GC (CDP HeapProfiler.collectGarbage, then
//    Performance.getMetrics JSHeapUsedSize), DOM nodes (Performance.getMetrics Nodes) and the row
//    elements in the list, after the first screen and after reaching the end; secms-server's RSS.
// All times are the app page's own performance.now(), read in the page: the click is
// element.click() on the tab / folder button run inside the page, and "rendered" is the first
// animation frame (requestAnimationFrame poll) at which the row element is in the DOM, so a time
// includes up to one frame (~16 ms) of polling granularity. Nothing is timed around Playwright's
// own round trips.

import { launchBrowser, newContext } from '../../tests/e2e/helpers/browser.mjs';
import { createIdentityInApp, logInAndOpenApp, openLanding } from '../../tests/e2e/helpers/app-flows.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

// --- functions run in the page (serialized by Playwright: self-contained) ------------------------

/**
 * Installs window.__mailBench: a search through open shadow roots (the app is Lit components),
 * a frame poll, and the list's scroller/rows readers. Called once per app page.
 */
function installPageProbe() {
  const deepAll = (selector, root = document, out = []) => {
    for (const node of root.querySelectorAll(selector)) out.push(node);
    for (const host of root.querySelectorAll('*')) if (host.shadowRoot) deepAll(selector, host.shadowRoot, out);
    return out;
  };
  const deepOne = (selector) => deepAll(selector)[0] ?? null;
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
  /** Polls `check` at each animation frame; resolves the frame's time once it is true. */
  const untilFrame = async (check, what, timeoutMs = 60_000) => {
    const started = performance.now();
    for (;;) {
      const at = await nextFrame();
      if (check()) return at;
      if (at - started > timeoutMs) throw new Error(`${what}: not after ${timeoutMs} ms`);
    }
  };
  let listHost = null;
  const list = () => {
    if (!listHost || !listHost.isConnected) listHost = deepOne('secms-mail-list');
    return listHost?.shadowRoot ?? null;
  };
  window.__mailBench = {
    deepOne,
    untilFrame,
    list,
    rowCount: () => list()?.querySelectorAll('[data-testid=mail-row]').length ?? 0,
    loadingRowCount: () => list()?.querySelectorAll('[data-testid=mail-row-loading]').length ?? 0,
    total: () => Number(list()?.querySelector('[data-testid=mail-list]')?.dataset.total ?? NaN),
  };
}

/** Clicks the button `selector` (searched through shadow roots) and waits for a message row. */
async function clickUntilRow(selector) {
  const bench = window.__mailBench;
  const button = bench.deepOne(selector);
  if (!button) throw new Error(`no ${selector} in the page`);
  const clickedAt = performance.now();
  button.click();
  const rowAt = await bench.untilFrame(() => bench.rowCount() > 0, `a message row after clicking ${selector}`);
  return { clickedAt, rowAt, ms: rowAt - clickedAt, rows: bench.rowCount(), total: bench.total() };
}

/** Clicks `selector` and waits until the list shows no message row (an empty folder opened). */
async function clickUntilEmpty(selector) {
  const bench = window.__mailBench;
  bench.deepOne(selector).click();
  await bench.untilFrame(() => bench.rowCount() === 0 && bench.list()?.querySelector('[data-testid=mail-list-empty]'), `the empty folder after ${selector}`);
}

/**
 * Scrolls the list to its end one screen at a time. Each step sets scrollTop one clientHeight
 * further, then waits for the frame at which every row of the visible screen is a message row.
 */
async function scrollToEnd() {
  const bench = window.__mailBench;
  const root = bench.list();
  const scroller = root.querySelector('.scroller');
  const total = bench.total();
  const header = root.querySelector('.row.header')?.offsetHeight ?? 0;
  const rowHeight = root.querySelector('[data-testid=mail-row]').offsetHeight;
  // The screen's rows are [first, last]; each must be rendered as a message row (aria-rowindex = offset + 2).
  const screenLoaded = () => {
    const first = Math.floor(Math.max(0, scroller.scrollTop - header) / rowHeight);
    const last = Math.min(total - 1, Math.floor((scroller.scrollTop + scroller.clientHeight - header - 1) / rowHeight));
    for (const offset of [first, last, Math.floor((first + last) / 2)]) {
      const row = root.querySelector(`[aria-rowindex="${offset + 2}"]`);
      if (!row || row.dataset.testid !== 'mail-row') return false;
    }
    return true;
  };
  const started = performance.now();
  let steps = 0;
  let longestStepMs = 0;
  let maxRows = 0;
  let maxLoadingRows = 0;
  while (scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1) {
    const stepStarted = performance.now();
    scroller.scrollTop += scroller.clientHeight;
    steps += 1;
    const loadedAt = await bench.untilFrame(() => {
      maxRows = Math.max(maxRows, bench.rowCount());
      maxLoadingRows = Math.max(maxLoadingRows, bench.loadingRowCount());
      return screenLoaded();
    }, `screen ${steps} of the scroll`);
    longestStepMs = Math.max(longestStepMs, loadedAt - stepStarted);
  }
  const lastRow = root.querySelector(`[aria-rowindex="${total + 1}"][data-testid=mail-row]`);
  return {
    ms: performance.now() - started, steps, longestStepMs, total, rowHeight, screenPx: scroller.clientHeight,
    lastRowRendered: Boolean(lastRow), lastUid: lastRow ? Number(lastRow.dataset.uid) : null,
    maxRowElements: maxRows, maxLoadingRows, rowElementsAtEnd: bench.rowCount(),
  };
}

/** The app page's first /status, /folders and INBOX /messages requests (resource timing, its own clock). */
function mailResourceTimings() {
  const entries = performance.getEntriesByType('resource').map((entry) => ({ url: new URL(entry.name), startTime: entry.startTime, responseEnd: entry.responseEnd }));
  const first = (path, folder) => entries.find((e) => e.url.pathname === path && (!folder || e.url.searchParams.get('folder') === folder));
  return [first('/api/v1/mail/status'), first('/api/v1/mail/folders'), first('/api/v1/mail/messages', 'INBOX')]
    .filter(Boolean).map((e) => ({ path: e.url.pathname, startTime: e.startTime, responseEnd: e.responseEnd }));
}

// --- node side -----------------------------------------------------------------------------------

/** JS heap after a forced GC, DOM nodes of the page (CDP), and the list's row elements. */
async function pageMemory(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? NaN;
  const rows = await page.evaluate(() => ({ rows: window.__mailBench.rowCount(), loading: window.__mailBench.loadingRowCount() }));
  return { jsHeapUsedBytes: metric('JSHeapUsedSize'), jsHeapTotalBytes: metric('JSHeapTotalSize'), domNodes: metric('Nodes'), rowElements: rows.rows, loadingRowElements: rows.loading };
}

/**
 * Runs `rounds` browser rounds against a running secms-server holding the filled folder; the
 * caller has logged out its own sessions of the user, so the first round starts with the mailbox
 * closed. `logoutSession(cookie)` ends a login session (DELETE /api/v1/session): each round's is
 * ended before the next, which closes the mailbox again. `serverMemory()` resolves secms-server's
 * { rssKiB, hwmKiB }.
 */
export async function runBrowserList({
  origin, username, password, identityEmail, rounds = 3, warmRepeats = 5, otherFolder = 'Drafts',
  logoutSession, serverMemory, log = () => {},
}) {
  const browser = await launchBrowser();
  const out = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      log(`browser: round ${round + 1}`);
      const { context, problems } = await newContext(browser);
      try {
        const landing = await context.newPage();
        await openLanding(landing, origin);
        // The INBOX list requests of the app page (the pop-up), from its first request on (the
        // settings sync of settings-store.js also lists its own folder: not counted).
        const listRequests = [];
        context.on('request', (request) => {
          const url = new URL(request.url());
          if (url.pathname === '/api/v1/mail/messages' && url.searchParams.get('folder') === 'INBOX') listRequests.push(url.searchParams.get('offset'));
        });
        // Which request an error answer was for (the console says only "Failed to load resource").
        const failed = [];
        context.on('response', (response) => {
          if (response.status() >= 400) {
            const url = new URL(response.url());
            failed.push(`${response.status()} ${response.request().method()} ${url.pathname}${url.search}`);
          }
        });
        const app = await logInAndOpenApp(landing, { username, password });
        await app.evaluate(installPageProbe);
        const cold = await app.evaluate(clickUntilRow, '[data-testid=tab-email]');
        const coldTimings = await app.evaluate(mailResourceTimings);
        const cdp = await context.newCDPSession(app);
        await cdp.send('Performance.enable');

        // The user has an identity, as the app expects (created in the Chat tab, not remembered).
        await app.getByTestId('tab-chat').click();
        await createIdentityInApp(app, { name: 'Alice', email: identityEmail });
        await app.getByTestId('tab-email').click();
        await app.locator('[data-testid=mail-status][data-connection=connected]').waitFor({ timeout: 30_000 });
        await app.locator('[data-testid=mail-list][aria-busy=false]').waitFor({ timeout: 30_000 });
        const memoryFirstScreen = await pageMemory(app, cdp);

        const warm = [];
        for (let i = 0; i < warmRepeats; i += 1) {
          await app.evaluate(clickUntilEmpty, `[data-testid=mail-folder][data-path="${otherFolder}"]`);
          warm.push(await app.evaluate(clickUntilRow, '[data-testid=mail-folder][data-path="INBOX"]'));
        }
        await app.locator('[data-testid=mail-list][aria-busy=false]').waitFor({ timeout: 30_000 });

        const requestsBefore = listRequests.length;
        const scroll = await app.evaluate(scrollToEnd);
        scroll.listRequests = listRequests.length - requestsBefore;
        const offsets = listRequests.slice(requestsBefore);
        scroll.repeatedOffsets = offsets.filter((offset, i) => offsets.indexOf(offset) !== i);
        const memoryEnd = await pageMemory(app, cdp);
        const server = await serverMemory();
        const unexpected = problems.filter((text) => !/status of (400|401|409)/.test(text));
        out.push({
          cold: {
            clickToRowMs: cold.ms,
            navigationToRowMs: cold.rowAt,
            clickedAtMs: cold.clickedAt,
            rows: cold.rows,
            total: cold.total,
            requests: coldTimings,
          },
          warm: { clickToRowMs: warm.map((w) => w.ms), median: median(warm.map((w) => w.ms)) },
          scroll,
          memory: { firstScreen: memoryFirstScreen, end: memoryEnd, server },
          problems: unexpected,
          failedRequests: failed,
        });
      } finally {
        const session = (await context.cookies()).find((cookie) => cookie.name === '__Host-sid');
        if (session) await logoutSession(session.value);
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  return out;
}

const f1 = (x) => x.toFixed(1);
const mib = (bytes) => (bytes / 1048576).toFixed(1);

export function formatBrowserReport(rounds) {
  const lines = [];
  lines.push('| Chromium, Email tab | round | cold: click → first row ms | cold: app page start → first row ms | warm re-open (median) ms | scroll to the end ms (screens, /messages requests, longest screen ms) | JS heap first screen / end MiB | DOM nodes first / end | row elements first / end | secms-server RSS MiB |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  rounds.forEach((r, i) => {
    const m = r.memory;
    lines.push(`| | ${i + 1} | ${f1(r.cold.clickToRowMs)} | ${f1(r.cold.navigationToRowMs)} | ${f1(r.warm.median)} | ${Math.round(r.scroll.ms)} (${r.scroll.steps}, ${r.scroll.listRequests}, ${f1(r.scroll.longestStepMs)}) | ${mib(m.firstScreen.jsHeapUsedBytes)} / ${mib(m.end.jsHeapUsedBytes)} | ${m.firstScreen.domNodes} / ${m.end.domNodes} | ${m.firstScreen.rowElements} / ${m.end.rowElements} | ${(m.server.rssKiB / 1024).toFixed(1)} |`);
  });
  const last = rounds.at(-1);
  if (last) {
    lines.push(`last row rendered: ${last.scroll.lastRowRendered} (uid ${last.scroll.lastUid}, total ${last.scroll.total}); row height ${last.scroll.rowHeight} px, screen ${last.scroll.screenPx} px; offsets asked twice while scrolling: ${JSON.stringify(last.scroll.repeatedOffsets)}`);
    lines.push(`page problems: ${rounds.flatMap((r) => r.problems).length}; error answers: ${JSON.stringify(rounds.flatMap((r) => r.failedRequests))}`);
    lines.push(`cold requests (app clock, start → end ms): ${last.cold.requests.map((q) => `${q.path.replace('/api/v1/mail/', '')} ${f1(q.startTime)} → ${f1(q.responseEnd)}`).join('; ')}`);
  }
  return lines.join('\n');
}
