// The mail frame's CSS rules against escaped and unterminated url() references: the browser
// decodes CSS escapes (`u\72l(` is `url(`), so the checks must read the decoded text, and what
// comes out must hold no escape left for the browser to decode a second time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cssUnescape, rewriteCss } from '../src/mail-frame/sanitize.js';

test('cssUnescape decodes hex and character escapes and leaves no backslash', () => {
  assert.equal(cssUnescape('u\\72l(x)'), 'url(x)');
  assert.equal(cssUnescape('u\\000072 l(x)'), 'url(x)');          // six digits, one space eaten
  assert.equal(cssUnescape('\\u\\r\\l(x)'), 'url(x)');
  assert.equal(cssUnescape('a\\\nb'), 'ab');                       // escaped newline
  assert.equal(cssUnescape('\\0 x'), '\ufffdx');
  assert.equal(cssUnescape('\\110000 x'), '\ufffdx');
  // An escaped backslash must not turn into a new escape ("\5c 75rl(" would read as "\75rl(").
  assert.equal(cssUnescape('\\5c 75rl(x)'), '75rl(x)');
  assert.equal(cssUnescape('\\\\75rl(x)'), '75rl(x)');
  assert.doesNotMatch(cssUnescape('a\\'), /\\/);
});

test('escaped url() to a remote host is dropped like a plain one', () => {
  for (const css of [
    'background:u\\72l(https://evil.example/esc.png);height:9px',
    'background:\\75\\72\\6c(https://evil.example/esc.png)',
    'background:U\\52L( "https://evil.example/esc.png" )',
    'background:url(ht\\74ps://evil.example/esc.png)',
    'background:url(\\2f\\2f evil.example/esc.png)',
    'background:url(https://evil.example/esc.png',                  // closed by the end of the text
  ]) {
    const out = rewriteCss(css, {});
    assert.doesNotMatch(out, /evil\.example/, css);
    assert.doesNotMatch(out, /\\/, css);
  }
  let blocked = 0;
  rewriteCss('a{background:u\\72l(https://evil.example/esc.png)}', { onBlocked: () => { blocked += 1; } });
  assert.equal(blocked, 1, 'counted as blocked remote content');
});

test('with remote content allowed, an escaped https: url() is kept decoded', () => {
  assert.match(rewriteCss('background:u\\72l(https://ok.example/a.png)', { remote: true }), /url\("https:\/\/ok\.example\/a\.png"\)/);
});

test('image-set() is disabled (its bare strings are URLs)', () => {
  const out = rewriteCss('background-image:image-set("https://evil.example/a.png" 1x);x:-webkit-image-set("https://evil.example/b.png" 1x)', {});
  assert.doesNotMatch(out, /(^|[^-])image-set\(|-webkit-image-set\(/);
});
