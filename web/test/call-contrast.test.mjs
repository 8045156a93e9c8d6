// WCAG 2.1 AA contrast (1.4.3 text 4.5:1, 1.4.11 graphics 3:1) of the colour pairs the call UI
// uses, in every theme of web/src/styles/tokens.css. (The light theme's green and amber now reach
// 4.5:1 on their soft backgrounds too, web/test/tokens-contrast.test.mjs, so indicator words may
// be written in them.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tokens = await readFile(join(webDir, 'src', 'styles', 'tokens.css'), 'utf8');

/** The hex colour custom properties of the first rule with exactly this selector. */
function colours(selector) {
  const start = tokens.indexOf(`${selector} {`);
  assert.ok(start >= 0, `tokens.css has ${selector}`);
  const body = tokens.slice(start, tokens.indexOf('\n}', start));
  return Object.fromEntries([...body.matchAll(/--(color-[a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\b/g)].map((match) => [match[1], match[2]]));
}

const light = colours(':root');
const themes = {
  light,
  dark: { ...light, ...colours(':root[data-theme="dark"]') },
  contrast: { ...light, ...colours(':root[data-theme="contrast"]') },
};

// WCAG 2.1 relative luminance and contrast ratio.
const luminance = (hex) => {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255)
    .map((value) => (value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
};

// [foreground, background, minimum]: text pairs 4.5, state icons 3.
const pairs = [
  ['color-text', 'color-surface', 4.5],             // cards, controls
  ['color-text-muted', 'color-surface', 4.5],       // hints, log outcome, keypad letters
  ['color-text', 'color-surface-2', 4.5],           // the indicator's neutral box, selects
  ['color-text', 'color-success-soft', 4.5],        // "End-to-end encrypted"
  ['color-text', 'color-warning-soft', 4.5],        // "Checking encryption…", the no-transform notice
  ['color-text', 'color-danger-soft', 4.5],         // "Not end-to-end encrypted"
  ['color-text', 'color-accent-soft', 4.5],         // a pressed control
  ['color-accent-text', 'color-accent', 4.5],       // Accept
  ['color-surface', 'color-danger', 4.5],           // Hang up, Decline, Continue without E2EE
  ['color-danger', 'color-surface', 4.5],           // a missed or failed call in the log
  ['color-success', 'color-success-soft', 3],       // shield icon
  ['color-warning', 'color-warning-soft', 3],       // clock icon
  ['color-danger', 'color-danger-soft', 3],         // open-lock icon
];

test('the call UI colour pairs meet WCAG 2.1 AA in every theme', () => {
  const failures = [];
  for (const [theme, palette] of Object.entries(themes)) {
    for (const [foreground, background, minimum] of pairs) {
      assert.ok(palette[foreground] && palette[background], `${theme} defines ${foreground} and ${background}`);
      const ratio = contrast(palette[foreground], palette[background]);
      if (ratio < minimum) failures.push(`${theme}: ${foreground} on ${background} = ${ratio.toFixed(2)} < ${minimum}`);
    }
  }
  assert.deepEqual(failures, []);
  // White text on the call stage and its badges (fixed colours, not themed).
  assert.ok(contrast('#ffffff', '#101318') >= 4.5);
});
