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

/** The attribute values a Lit template binds, by attribute name (static and bound ones). */
function templateAttributes(result) {
  const attributes = new Map();
  let source = '';
  result.strings.forEach((part, index) => {
    source += part;
    const bound = /([a-z-]+)=$/.exec(part);
    if (bound && index < result.values.length) attributes.set(bound[1], result.values[index]);
  });
  for (const [, name, value] of source.matchAll(/\s([a-z-]+)="([^"]*)"/g)) attributes.set(name, value);
  return attributes;
}

test('every credential field has autofill and spellcheck off', async () => {
  const { privateInput } = await import('../src/ui/private-input.js');
  // Chromium ignores autocomplete="off" on password fields; "new-password" keeps saved passwords out.
  const password = templateAttributes(privateInput({ id: 'p' }));
  assert.equal(password.get('autocomplete'), 'new-password');
  const text = templateAttributes(privateInput({ id: 'u', type: 'text' }));
  assert.equal(text.get('autocomplete'), 'off');
  for (const field of [password, text]) {
    assert.equal(field.get('spellcheck'), 'false');
    assert.equal(field.get('autocorrect'), 'off');
    assert.equal(field.get('autocapitalize'), 'none');
    assert.equal(field.get('data-lpignore'), 'true');
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

test('message and room inputs keep mobile keyboards from learning their text', async () => {
  for (const [name, field] of [['chat-compose.js', 'message-text'], ['chat-panel.js', 'room-name']]) {
    const source = await readFile(join(webDir, 'src', 'ui', name), 'utf8');
    const input = source.match(new RegExp(`<input name="${field}"[^>]*>`, 's'))?.[0];
    assert.ok(input, `${name}: the ${field} input`);
    for (const attribute of ['autocomplete="off"', 'autocapitalize="off"', 'autocorrect="off"', 'spellcheck="false"']) {
      assert.ok(input.includes(attribute), `${name}: ${field} lacks ${attribute}`);
    }
  }
});

/** The text of a string constant of security_headers.hpp (its adjacent literals joined). */
function cspConstant(header, name) {
  const start = header.search(new RegExp(` ${name} =`));
  assert.ok(start >= 0, `security_headers.hpp defines ${name}`);
  const constant = header.slice(start, header.indexOf('";\n', start) + 2);
  return [...constant.matchAll(/^\s*"([^"]*)"/gm)].map((match) => match[1]).join('');
}

/** The trusted-types names of a CSP, checked to be named ones only (no default, no duplicates). */
function trustedTypesOf(policy, label) {
  const directive = /(?:^|;\s*)trusted-types ([^;]+)/.exec(policy)?.[1];
  assert.ok(directive, `${label} has a trusted-types directive`);
  assert.match(policy, /require-trusted-types-for 'script'/, label);
  const allowed = directive.trim().split(/\s+/).sort();
  assert.ok(!allowed.includes("'allow-duplicates'") && !allowed.includes('*') && !allowed.includes('default'), `${label}: ${directive}`);
  return allowed;
}

/** Every createPolicy name in these files. */
async function policiesCreatedIn(files) {
  const created = new Set();
  for (const file of files) {
    for (const match of (await readFile(file, 'utf8')).matchAll(/createPolicy\(\s*['"]([^'"]+)['"]/g)) created.add(match[1]);
  }
  return [...created].sort();
}

// Each document has its own policy: the app's pages (app CSP) and the sandboxed mail frame, whose
// script is web/src/mail-frame/ (mail-frame CSP, both variants). A policy is compared with the
// CSP of the document that creates it, so a page-side policy the app CSP does not name, or a
// frame policy leaking into the app CSP, both fail.
test('each CSP names exactly the Trusted Types policies its document creates', async () => {
  const header = await readFile(join(webDir, '..', 'server', 'http', 'security_headers.hpp'), 'utf8');
  const frameDir = join(webDir, 'src', 'mail-frame');
  const sources = await filesUnder(join(webDir, 'src'), '.js');
  const frameSources = sources.filter((file) => file.startsWith(`${frameDir}/`));
  const appSources = sources.filter((file) => !file.startsWith(`${frameDir}/`));
  assert.ok(frameSources.length > 0, 'the mail frame has its own sources');

  // The app's pages: every policy created outside the frame's sources, and the one Lit creates.
  const appCreated = await policiesCreatedIn([...appSources, join(webDir, '..', 'node_modules', 'lit-html', 'lit-html.js')]);
  assert.ok(appCreated.includes('lit-html') && appCreated.includes('secms-crypto-worker'), appCreated.join(' '));
  assert.deepEqual(trustedTypesOf(cspConstant(header, 'content_security_policy'), 'app CSP'), appCreated);
  // The Worker's script gets the page policy plus WebAssembly compilation: the same names.
  assert.deepEqual(trustedTypesOf(cspConstant(header, 'worker_content_security_policy'), 'Worker CSP'), appCreated);

  // The mail frame: only its own policy, in both variants; none of the app's.
  const frameCreated = await policiesCreatedIn(frameSources);
  assert.deepEqual(frameCreated, ['secms-mail-frame']);
  for (const name of ['mail_frame_content_security_policy', 'mail_frame_remote_content_security_policy']) {
    assert.deepEqual(trustedTypesOf(cspConstant(header, name), name), frameCreated, name);
  }
  assert.deepEqual(appCreated.filter((policy) => frameCreated.includes(policy)), [], 'no policy name shared by the two documents');
});
