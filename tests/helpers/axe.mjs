// axe-core (WCAG 2.0/2.1 A and AA rules) in a page of the app and in its mail frames.
//
// The app's CSP allows no injected <script> and enforces Trusted Types, so axe is not added as a
// script element: its source is evaluated by Playwright (DevTools Runtime.evaluate in the page's
// main world), which the page's CSP does not govern. The mail frame (sandboxed, no scripts of
// its own) is checked the same way in its own execution context.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
let axeSource = null;

export const wcagTags = Object.freeze(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);

/** The axe run as a page expression: resolves the violations, each with its nodes' targets. */
function axeExpression({ scope = null, exclude = [] } = {}) {
  const options = { runOnly: { type: 'tag', values: wcagTags }, resultTypes: ['violations'], iframes: false };
  return `${axeSource}
;(async () => {
  // scope: the tag of one element, found through shadow roots; axe is given the element itself
  // (its shadow tree included).
  const scope = ${JSON.stringify(scope)};
  let include = [document];
  if (scope) {
    const find = (root) => {
      for (const node of root.querySelectorAll('*')) {
        if (node.localName === scope) return node;
        const inner = node.shadowRoot && find(node.shadowRoot);
        if (inner) return inner;
      }
      return null;
    };
    const target = find(document);
    if (!target) throw new Error('axe scope ' + scope + ' not found');
    include = [target];
  }
  const results = await axe.run({ include, exclude: ${JSON.stringify(exclude)} }, ${JSON.stringify(options)});
  return results.violations.map((violation) => ({
    id: violation.id, impact: violation.impact, help: violation.help,
    nodes: violation.nodes.map((node) => ({ target: node.target, summary: node.failureSummary, html: node.html.slice(0, 200) })),
  }));
})()`;
}

/**
 * The axe violations of the page and of each of its frames, as
 * [{ frame: 'top' | url, id, impact, help, nodes: [{ target, summary, html }] }].
 * `scope`: the tag of the element checked in the top page (found through shadow roots; default
 * the whole document); `exclude`: axe selectors (arrays through shadow roots) left out of it.
 * A frame axe cannot run in is reported as a violation "axe-not-run" (never silently skipped).
 */
export async function axeViolations(page, { scope = null, exclude = [], frames = true } = {}) {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const found = [];
  for (const violation of await page.evaluate(axeExpression({ scope, exclude }))) found.push({ frame: 'top', ...violation });
  if (!frames) return found;
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    try {
      for (const violation of await frame.evaluate(axeExpression())) found.push({ frame: frame.url().slice(0, 60), ...violation });
    } catch (error) {
      found.push({ frame: frame.url().slice(0, 60), id: 'axe-not-run', impact: 'serious', help: error.message.split('\n')[0], nodes: [] });
    }
  }
  return found;
}

/** A readable line per violation and node, for assertion messages. */
export const describeViolations = (violations) => violations.flatMap((violation) =>
  violation.nodes.length === 0 ? [`[${violation.frame}] ${violation.id}: ${violation.help}`]
    : violation.nodes.map((node) => `[${violation.frame}] ${violation.id} (${violation.impact}): ${JSON.stringify(node.target)} ${node.html} — ${node.summary?.replace(/\s+/g, ' ')}`));

/** Fails when axe finds a serious or critical violation on `page` (its own document, not frames). */
export async function assertNoSeriousViolations(page, state = 'page') {
  const violations = (await axeViolations(page, { frames: false })).filter((violation) => ['serious', 'critical'].includes(violation.impact));
  assert.deepEqual(describeViolations(violations), [], `axe: ${state}`);
}
