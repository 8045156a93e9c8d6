import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  parseBBCode, astToSource, astToText, walkAst, validateLinkUrl, parseColor, namedColors, emoticons, bbcodeLimits,
} from '../src/chat/bbcode.js';
import { neutraliseText, truncateCodePoints } from '../src/chat/text.js';

const corpusUrl = new URL('../../tests/fixtures/xss/payloads.json', import.meta.url);

// A compact view of an AST for assertions: text as strings, elements as [type, extra?, ...children].
function shape(node) {
  switch (node.type) {
    case 'root': return node.children.map(shape);
    case 'text': return node.text;
    case 'emoji': return ['emoji', node.source];
    case 'link': return ['link', node.href, ...node.children.map(shape)];
    case 'color': return ['color', node.color, ...node.children.map(shape)];
    case 'quote': return ['quote', node.cite, ...node.children.map(shape)];
    default: return [node.type, ...node.children.map(shape)];
  }
}
const parsed = (input, options) => shape(parseBBCode(input, options));

test('every tag', () => {
  assert.deepEqual(parsed('[b]B[/b] [i]I[/i] [u]U[/u]'), [['bold', 'B'], ' ', ['italic', 'I'], ' ', ['underline', 'U']]);
  assert.deepEqual(parsed('[quote]q[/quote]'), [['quote', null, 'q']]);
  assert.deepEqual(parsed('[quote=alice]q[/quote]'), [['quote', 'alice', 'q']]);
  assert.deepEqual(parsed('[quote="Alice Smith"]q[/quote]'), [['quote', 'Alice Smith', 'q']]);
  assert.deepEqual(parsed('[code]x = [1];[/code]'), [['code', 'x = [1];']]);
  assert.deepEqual(parsed('[url]https://example.com/a?b=c#d[/url]'), [['link', 'https://example.com/a?b=c#d', 'https://example.com/a?b=c#d']]);
  assert.deepEqual(parsed('[url=https://example.com]site[/url]'), [['link', 'https://example.com/', 'site']]);
  assert.deepEqual(parsed('[url="http://example.com/x"]site[/url]'), [['link', 'http://example.com/x', 'site']]);
  assert.deepEqual(parsed('[color=red]r[/color]'), [['color', 'red', 'r']]);
  assert.deepEqual(parsed('[color=#F00]r[/color][color=#00ff00]g[/color]'), [['color', '#ff0000', 'r'], ['color', '#00ff00', 'g']]);
  const color = parseBBCode('[color=Navy]n[/color]').children[0];
  assert.equal(color.className, 'chat-color-navy');
  assert.equal(parseBBCode('[color=#abc]n[/color]').children[0].className, null);
});

test('tag names are case-insensitive and the source is kept as typed', () => {
  const ast = parseBBCode('[B]x[/b] [URL=https://EXAMPLE.com/]y[/Url]');
  assert.deepEqual(shape(ast), [['bold', 'x'], ' ', ['link', 'https://example.com/', 'y']]);
  assert.equal(ast.children[0].open, '[B]');
  assert.equal(ast.children[0].close, '[/b]');
  assert.equal(astToSource(ast), '[B]x[/b] [URL=https://EXAMPLE.com/]y[/Url]');
});

test('nesting', () => {
  assert.deepEqual(parsed('[b]a [i]b [u]c[/u][/i][/b]'), [['bold', 'a ', ['italic', 'b ', ['underline', 'c']]]]);
  assert.deepEqual(parsed('[quote=bob][b]hi[/b] [url=https://a.example]x[/url][/quote]'),
    [['quote', 'bob', ['bold', 'hi'], ' ', ['link', 'https://a.example/', 'x']]]);
  assert.deepEqual(parsed('[url=https://a.example][b]bold link[/b][/url]'), [['link', 'https://a.example/', ['bold', 'bold link']]]);
  assert.deepEqual(parsed('[color=red][b]x[/b][/color]'), [['color', 'red', ['bold', 'x']]]);
  assert.deepEqual(parsed('[quote][quote=a]inner[/quote]outer[/quote]'), [['quote', null, ['quote', 'a', 'inner'], 'outer']]);
});

test('links cannot nest, and block tags do not go inside links', () => {
  assert.deepEqual(parsed('[url=https://a.example][url=https://b.example]x[/url][/url]'),
    [['link', 'https://a.example/', '[url=https://b.example]x'], '[/url]']);
  assert.deepEqual(parsed('[url=https://a.example][url]https://b.example[/url][/url]'),
    [['link', 'https://a.example/', '[url]https://b.example'], '[/url]']);
  assert.deepEqual(parsed('[url=https://a.example][quote]x[/quote][/url]'), [['link', 'https://a.example/', '[quote]x[/quote]']]);
  assert.deepEqual(parsed('[url=https://a.example][code]x[/code][/url]'), [['link', 'https://a.example/', '[code]x[/code]']]);
});

test('unbalanced and overlapping tags stay literal', () => {
  assert.deepEqual(parsed('[b]open'), ['[b]open']);
  assert.deepEqual(parsed('close[/b]'), ['close[/b]']);
  assert.deepEqual(parsed('[b][i]x[/b][/i]'), [['bold', '[i]x'], '[/i]']);
  assert.deepEqual(parsed('[b]a[i]b[/b]c[/i]'), [['bold', 'a[i]b'], 'c[/i]']);
  assert.deepEqual(parsed('[b]x[/b][/b]'), [['bold', 'x'], '[/b]']);
  assert.deepEqual(parsed('[b][b]x[/b]'), ['[b]', ['bold', 'x']]);
  assert.deepEqual(parsed('[quote]a[b]b[/quote]'), [['quote', null, 'a[b]b']]);
  assert.deepEqual(parsed('[b]x[/b=1]'), ['[b]x[/b=1]']);
  assert.deepEqual(parsed('[b=1]x[/b]'), ['[b=1]x[/b]']);
  assert.deepEqual(parsed('[color]x[/color]'), ['[color]x[/color]']);
  assert.deepEqual(parsed('[quote=]x[/quote]'), ['[quote=]x[/quote]']);
  assert.deepEqual(parsed('[['), ['[[']);
  assert.deepEqual(parsed('[b'), ['[b']);
  assert.deepEqual(parsed('a]b'), ['a]b']);
});

test('unknown tags are literal text', () => {
  assert.deepEqual(parsed('[img]https://example.com/x.png[/img]'), ['[img]https://example.com/x.png[/img]']);
  assert.deepEqual(parsed('[script]alert(1)[/script]'), ['[script]alert(1)[/script]']);
  assert.deepEqual(parsed('[size=9][b]x[/b][/size]'), ['[size=9]', ['bold', 'x'], '[/size]']);
  assert.deepEqual(parsed('[ b ]x[/ b ]'), ['[ b ]x[/ b ]']);
});

test('[code] content is literal: no tags, no emoticons; unterminated [code] is literal', () => {
  assert.deepEqual(parsed('[code][b]x[/b] :) [url]https://a.example[/url][/code]'), [['code', '[b]x[/b] :) [url]https://a.example[/url]']]);
  assert.deepEqual(parsed('[code]a\n  b[/code]'), [['code', 'a\n  b']]);
  assert.deepEqual(parsed('[code][code]x[/code][/code]'), [['code', '[code]x'], '[/code]']);
  assert.deepEqual(parsed('[code]x :) [b]y[/b]'), ['[code]x ', ['emoji', ':)'], ' ', ['bold', 'y']]);
  assert.deepEqual(parsed('[code][/code]'), [['code']]);
  assert.deepEqual(parsed('[b][code]x[/b][/code][/b]'), [['bold', ['code', 'x[/b]']]]);
});

test('emoticons become emoji only when they stand alone', () => {
  for (const [code, emoji] of emoticons) {
    const ast = parseBBCode(`a ${code} b`);
    assert.deepEqual(shape(ast), ['a ', ['emoji', code], ' b'], code);
    assert.equal(ast.children[1].text, emoji);
  }
  assert.deepEqual(parsed(':)'), [['emoji', ':)']]);
  assert.deepEqual(parsed('ok :D.'), ['ok ', ['emoji', ':D'], '.']);
  assert.deepEqual(parsed(':-):)'), [':-):)']);
  assert.deepEqual(parsed('std::Dog a:b x<3 (:)'), ['std::Dog a:b x<3 (:)']);
  assert.deepEqual(parsed('[b]:)[/b]'), [['bold', ['emoji', ':)']]]);
  assert.deepEqual(parsed('[url]https://a.example/:P[/url]'), [['link', 'https://a.example/:P', 'https://a.example/:P']]);
  assert.equal(astToText(parseBBCode('hi :) <3')), 'hi 🙂 ❤️');
});

test('URL whitelist: absolute http(s) without credentials only', () => {
  for (const good of ['http://example.com', 'https://example.com/a/b?c=d&e=f#g', 'https://sub.example.co.uk:8443/x', 'HTTPS://EXAMPLE.COM/', 'https://[::1]/', 'https://127.0.0.1:3000/']) {
    assert.ok(validateLinkUrl(good), good);
  }
  assert.equal(validateLinkUrl('https://EXAMPLE.com'), 'https://example.com/');
  assert.equal(validateLinkUrl('https://bücher.example/'), 'https://xn--bcher-kva.example/', 'IDN shown as punycode');
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', ' javascript:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd',
    'ftp://example.com', '//example.com', '/path', 'path', 'example.com', 'http:example.com', 'https:/example.com', 'https:\\\\example.com',
    'https://user:pw@example.com', 'https://user@example.com', 'https://@example.com', 'https://example.com\\@evil.example',
    'https://exa mple.com', 'https://example.com/\n', 'https://example.com/"x', "https://example.com/'x", 'https://example.com/<x>',
    'https://example.com/`x', 'https://', 'https:///x', 'blob:https://example.com/x', '', 'https://' + 'a'.repeat(2100) + '.com',
    'http://exa\u0000mple.com', 'https://example.com/\u00A0']) {
    assert.equal(validateLinkUrl(bad), null, JSON.stringify(bad));
  }
  assert.equal(validateLinkUrl(42), null);
  assert.deepEqual(parsed('[url=javascript:alert(1)]x[/url]'), ['[url=javascript:alert(1)]x[/url]']);
  assert.deepEqual(parsed('[url]javascript:alert(1)[/url]'), ['[url]javascript:alert(1)[/url]']);
  assert.deepEqual(parsed('[url]https://a.example'), ['[url]https://a.example']);
  assert.deepEqual(parsed('[url=https://a.example]x'), ['[url=https://a.example]x']);
});

test('colour whitelist: named colours and #rgb/#rrggbb only', () => {
  for (const name of namedColors) assert.deepEqual({ ...parseColor(name) }, { color: name, className: `chat-color-${name}` });
  assert.deepEqual({ ...parseColor('#AbC') }, { color: '#aabbcc', className: null });
  assert.deepEqual({ ...parseColor('#A0b1C2') }, { color: '#a0b1c2', className: null });
  for (const bad of ['', 'rgb(1,2,3)', 'transparent', 'currentcolor', 'inherit', 'red;x', ' red', '#ab', '#abcd', '#12345', '#1234567',
    '#ggg', 'expression(alert(1))', 'url(x)', 'var(--x)', 'hsl(0 0% 0%)', 'rebeccapurple', undefined, 7]) {
    assert.equal(parseColor(bad), null, String(bad));
  }
  assert.deepEqual(parsed('[color=red;background:url(x)]x[/color]'), ['[color=red;background:url(x)]x[/color]']);
});

test('depth limit: an element beyond depth 8 stays literal', () => {
  const nine = `${'[b]'.repeat(9)}x${'[/b]'.repeat(9)}`;
  const ast = parseBBCode(nine);
  let depth = 0;
  let node = ast;
  while (node.children?.some((c) => c.type === 'bold')) {
    node = node.children.find((c) => c.type === 'bold');
    depth += 1;
  }
  assert.equal(depth, 8);
  assert.equal(astToSource(ast), nine);
  assert.equal(parseBBCode(`${'[i]'.repeat(3)}x${'[/i]'.repeat(3)}`, { maxDepth: 2 }).children.length, 2);
});

test('input length limit: cut at 4096 code points and flagged', () => {
  const long = '😀'.repeat(5000);
  const ast = parseBBCode(long);
  assert.equal(ast.truncated, true);
  assert.equal(astToSource(ast), '😀'.repeat(bbcodeLimits.maxInputLength));
  assert.equal(parseBBCode('short').truncated, false);
  assert.equal(parseBBCode('abcdef', { maxInputLength: 3 }).children[0].text, 'abc');
});

test('bidi overrides and isolates are removed everywhere, controls made visible', () => {
  assert.deepEqual(parsed('\u202Egnp.exe'), ['gnp.exe']);
  assert.deepEqual(parsed('[quote=\u202Eadmin]x[/quote]'), [['quote', 'admin', 'x']]);
  assert.deepEqual(parsed('[b]\u2067x\u2069[/b]'), [['bold', 'x']]);
  assert.deepEqual(parsed('a\u0000b'), ['a\uFFFDb']);
  assert.deepEqual(parsed('[url]https://a.example/\u202E[/url]'), [['link', 'https://a.example/', 'https://a.example/']]);
});

test('parser never throws and always yields known node types', () => {
  for (const input of [undefined, null, '', 0, {}, '['.repeat(1000), '[/'.repeat(500), '[url='.repeat(300)]) {
    const ast = parseBBCode(input);
    for (const node of walkAst(ast)) assert.ok(['root', 'text', 'emoji', 'bold', 'italic', 'underline', 'quote', 'code', 'color', 'link'].includes(node.type));
  }
});

// --- the XSS corpus -------------------------------------------------------------------------

const allowedTypes = new Set(['root', 'text', 'emoji', 'bold', 'italic', 'underline', 'quote', 'code', 'color', 'link']);

function checkAst(input, ast) {
  const label = JSON.stringify(input.slice(0, 80));
  // Nothing dropped, nothing added: the AST gives back the input after the documented
  // transform (neutralisation, then the length cut).
  const expected = truncateCodePoints(neutraliseText(input), bbcodeLimits.maxInputLength);
  assert.equal(astToSource(ast), expected, `source round trip ${label}`);
  let maxDepth = 0;
  const visit = (node, depth) => {
    assert.ok(allowedTypes.has(node.type), `${label}: node type ${node.type}`);
    assert.ok(Object.isFrozen(node), `${label}: frozen`);
    if (node.type === 'link') {
      const url = new URL(node.href);
      assert.ok(url.protocol === 'http:' || url.protocol === 'https:', `${label}: link ${node.href}`);
      assert.equal(url.username + url.password, '', `${label}: credentials in ${node.href}`);
      assert.equal(validateLinkUrl(node.href), node.href, `${label}: href is normalised and valid`);
    }
    if (node.type === 'color') {
      assert.ok(namedColors.includes(node.color) || /^#[0-9a-f]{6}$/.test(node.color), `${label}: colour ${node.color}`);
      assert.equal(node.className, namedColors.includes(node.color) ? `chat-color-${node.color}` : null);
    }
    if (node.type === 'text' || node.type === 'emoji') {
      assert.doesNotMatch(node.text, /[\u202A-\u202E\u2066-\u2069\u0000]/, `${label}: bidi control or NUL left`);
    }
    if (node.type === 'quote' && node.cite !== null) assert.doesNotMatch(node.cite, /[\u202A-\u202E\u2066-\u2069]/);
    if (!['root', 'text', 'emoji'].includes(node.type)) maxDepth = Math.max(maxDepth, depth);
    for (const child of node.children ?? []) visit(child, node.type === 'root' ? 1 : depth + 1);
  };
  visit(ast, 0);
  assert.ok(maxDepth <= bbcodeLimits.maxDepth, `${label}: depth ${maxDepth}`);
  // Without any "[" there is no markup: the reader sees the text itself (HTML included, as
  // text), emoticons aside.
  if (!expected.includes('[')) {
    assert.ok(ast.children.every((n) => n.type === 'text' || n.type === 'emoji'), `${label}: markup without brackets`);
    const emojiFree = ast.children.every((n) => n.type === 'text');
    if (emojiFree) assert.equal(astToText(ast), expected, `${label}: shown text`);
  }
}

test('XSS corpus: no dangerous link or colour, nothing silently dropped', async () => {
  const corpus = JSON.parse(await readFile(corpusUrl, 'utf8'));
  assert.ok(Array.isArray(corpus) && corpus.length >= 100, `corpus has ${corpus.length} payloads`);
  let links = 0;
  let colors = 0;
  for (const payload of corpus) {
    const ast = parseBBCode(payload);
    checkAst(payload, ast);
    for (const node of walkAst(ast)) {
      if (node.type === 'link') links += 1;
      if (node.type === 'color') colors += 1;
    }
  }
  // The corpus exercises the accepting paths too, not only refusals.
  assert.ok(links >= 5, `links ${links}`);
  assert.ok(colors >= 3, `colours ${colors}`);
});

test('XSS corpus: specific refusals', () => {
  const linksOf = (input) => [...walkAst(parseBBCode(input))].filter((n) => n.type === 'link').map((n) => n.href);
  assert.deepEqual(linksOf('[url=https://example.com]ok[/url][url=javascript:alert(1)]bad[/url]'), ['https://example.com/']);
  assert.deepEqual(linksOf('[url=https://evil.example/"onmouseover="alert(1)]x[/url]'), []);
  assert.deepEqual(linksOf('[url=https://bank.example@evil.example/]x[/url]'), []);
  assert.deepEqual(linksOf('[url=ｊａｖａｓｃｒｉｐｔ:alert(1)]x[/url]'), []);
  assert.deepEqual(linksOf('[url=java\u0000script:alert(1)]x[/url]'), []);
  assert.deepEqual(linksOf('[url=https://example.com/path?q=<script>alert(1)</script>#<img>]x[/url]'), []);
});
