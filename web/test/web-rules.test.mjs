// The front-end rules of DESIGN.md §8 as tests, so they fail in CI and not only in a hook:
// no inline script/style/handler in HTML, no HTML built from strings, no console in crypto.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');

async function filesUnder(dir, suffix) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath ?? e.path, e.name));
}

test('HTML templates carry no inline script, style or event handler', async () => {
  for (const file of await filesUnder(join(webDir, 'src'), '.html')) {
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /<script[^>]*>[^<]+<\/script>|<script>[^<]/, file);
    assert.doesNotMatch(text, /\son[a-z]+=["']/, file);
    assert.doesNotMatch(text, /\sstyle=["']/, file);
    assert.doesNotMatch(text, /<style/, file);
  }
});

test('the pages ask for no caching (the original specification\'s meta tags)', async () => {
  for (const name of ['index.html', 'app.html']) {
    const text = await readFile(join(webDir, 'src', 'pages', name), 'utf8');
    assert.match(text, /<meta http-equiv="Cache-Control" content="no-cache, no-store, must-revalidate">/);
    assert.match(text, /<meta http-equiv="Pragma" content="no-cache">/);
    assert.match(text, /<meta http-equiv="Expires" content="0">/);
  }
});

test('no source builds HTML from strings or sets style attributes', async () => {
  for (const file of await filesUnder(join(webDir, 'src'), '.js')) {
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|unsafeHTML|unsafeCSS/, file);
    assert.doesNotMatch(text, /\sstyle=|\.setAttribute\(\s*['"]style/, file);
    assert.doesNotMatch(text, /\beval\(|new Function\(/, file);
  }
});

test('no console calls in the crypto code', async () => {
  for (const file of await filesUnder(join(webDir, 'src', 'crypto'), '.js')) {
    assert.doesNotMatch(await readFile(file, 'utf8'), /console\./, file);
  }
});

test('every credential field has autofill and spellcheck off', async () => {
  const factory = await readFile(join(webDir, 'src', 'ui', 'private-input.js'), 'utf8');
  for (const attribute of ['autocomplete="off"', 'spellcheck="false"', 'data-lpignore="true"']) {
    assert.ok(factory.includes(attribute), `private-input.js lacks ${attribute}`);
  }
  for (const name of ['landing-page.js', 'account-menu.js', 'identity-setup.js']) {
    const text = await readFile(join(webDir, 'src', 'ui', name), 'utf8');
    assert.match(text, /privateInput\(/, name);
    // Text and password fields come from privateInput only; a checkbox has nothing to remember.
    const rawInputs = (text.match(/<input\b[^>]*>/g) ?? []).filter((input) => !/type="checkbox"/.test(input));
    assert.deepEqual(rawInputs, [], `${name} builds a field without privateInput`);
    const forms = text.match(/<form\b[^>]*>/g) ?? [];
    assert.ok(forms.length > 0, name);
    for (const form of forms) assert.match(form, /autocomplete="off"/, `${name}: ${form}`);
  }
});
