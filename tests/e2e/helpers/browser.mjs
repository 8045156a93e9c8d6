// Headless Debian Chromium for the end-to-end tests (DESIGN.md §9 flags). Each context is
// fresh (its own cookies and storage); the server's self-signed certificate is accepted
// for these loopback tests only.

import { chromium } from 'playwright-core';

export const chromiumPath = process.env.SECMS_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = Object.freeze([
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]);

export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs] });
}

/**
 * Records, in every page of the context, CSP violations and Trusted Types refusals
 * into window.__secmsViolations (read it with violationsOf(page)).
 */
const recordViolations = () => {
  window.__secmsViolations = [];
  window.addEventListener('securitypolicyviolation', (event) => {
    window.__secmsViolations.push(`${event.effectiveDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
  }, true);  // capture on window: sees violations targeted at any node and at the window
};

/** A fresh context; pageErrors collects uncaught errors and console errors of all its pages. */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 760 }, ...options });
  await context.addInitScript(recordViolations);
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (error) => problems.push(`pageerror ${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console ${page.url()}: ${message.text()}`);
    });
  };
  context.on('page', watch);
  return { context, problems };
}

/** The violations recorded in a page; fails if the recorder did not run (an empty list must mean "none"). */
export async function violationsOf(page) {
  const violations = await page.evaluate(() => window.__secmsViolations);
  if (!Array.isArray(violations)) throw new Error(`violation recorder missing in ${page.url()}`);
  return violations;
}
