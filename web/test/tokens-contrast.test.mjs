// WCAG 2.1 AA (1.4.3): the light theme's text colours reach 4.5:1 on every surface and soft
// background they are used on (web/src/styles/tokens.css). The contrast and dark themes have
// their own tokens; axe-core checks the rendered screens in the browser tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const css = readFileSync(new URL('../src/styles/tokens.css', import.meta.url), 'utf8');
// The first block: the light theme (the defaults).
const light = css.slice(0, css.indexOf('@media'));
const token = (name) => {
  const match = new RegExp(`--${name}:\\s*#([0-9a-fA-F]{6});`).exec(light);
  assert.ok(match, `--${name} is a #rrggbb colour in the light theme`);
  return match[1];
};

const luminance = (hex) => {
  const [r, g, b] = hex.match(/../g).map((pair) => parseInt(pair, 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

test('light theme: text, muted, accent, success, warning and danger reach 4.5:1 on every surface and soft background', () => {
  const backgrounds = ['color-bg', 'color-surface', 'color-surface-2', 'color-surface-hover', 'color-accent-soft', 'color-success-soft', 'color-warning-soft', 'color-danger-soft'];
  const texts = ['color-text', 'color-text-muted', 'color-accent', 'color-success', 'color-warning', 'color-danger'];
  const failing = [];
  for (const text of texts) {
    for (const background of backgrounds) {
      const ratio = contrast(token(text), token(background));
      if (ratio < 4.5) failing.push(`${text} on ${background}: ${ratio.toFixed(2)}:1`);
    }
  }
  assert.deepEqual(failing, []);
});

test('light theme: white text on the accent (buttons) reaches 4.5:1', () => {
  assert.ok(contrast(token('color-accent-text'), token('color-accent')) >= 4.5);
  assert.ok(contrast(token('color-accent-text'), token('color-accent-hover')) >= 4.5);
});
