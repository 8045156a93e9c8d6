// The DOM builder against a minimal recording document (node has no DOM); the same corpus runs
// in real Chromium in tests/e2e/chat-markup.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { renderChatMarkup, renderName, quoteCiteText } from '../src/ui/chat-markup.js';
import { parseBBCode, astToText } from '../src/chat/bbcode.js';

class FakeNode {
  constructor(tagName, data) {
    this.tagName = tagName;
    this.data = data;
    this.childNodes = [];
    this.attributes = new Map();
    this.className = '';
    this.styleProperties = new Map();
    this.style = { setProperty: (name, value) => this.styleProperties.set(name, value) };
  }
  append(...nodes) { this.childNodes.push(...nodes); }
  setAttribute(name, value) { this.attributes.set(name, String(value)); }
  set textContent(value) { this.childNodes = [new FakeNode('#text', String(value))]; }
}
const fakeDocument = {
  createElement: (name) => new FakeNode(name.toUpperCase()),
  createTextNode: (data) => new FakeNode('#text', data),
};

function* elements(node) {
  yield node;
  for (const child of node.childNodes) yield* elements(child);
}
// Text as a reader gets it: text nodes, and a line break for <br>.
const shownText = (node) => (node.tagName === '#text' ? node.data : node.tagName === 'BR' ? '\n' : node.childNodes.map(shownText).join(''));

const allowed = new Set(['SPAN', 'STRONG', 'EM', 'U', 'BLOCKQUOTE', 'CODE', 'PRE', 'A', 'BR', '#text']);
const render = (input) => renderChatMarkup(parseBBCode(input), { document: fakeDocument });

test('each node type becomes its element', () => {
  const root = render('[b]b[/b][i]i[/i][u]u[/u][code]c[/code][code]x\ny[/code][quote=bob]q[/quote][color=red]r[/color][color=#abc]h[/color][url=https://a.example]l[/url] :)\nend');
  assert.equal(root.tagName, 'SPAN');
  assert.equal(root.attributes.get('dir'), 'auto');
  const tags = root.childNodes.map((n) => n.tagName);
  assert.deepEqual(tags, ['STRONG', 'EM', 'U', 'CODE', 'PRE', 'BLOCKQUOTE', 'SPAN', 'SPAN', 'A', '#text', 'SPAN', 'BR', '#text']);
  const [, , , , pre, quote, red, hex, link, , emoji] = root.childNodes;
  assert.equal(pre.childNodes[0].tagName, 'CODE');
  assert.equal(shownText(pre), 'x\ny', 'newlines in code stay text');
  assert.equal(quote.childNodes[0].className, 'chat-quote-cite');
  assert.equal(shownText(quote.childNodes[0]), quoteCiteText('bob'));
  assert.equal(quote.childNodes[0].childNodes.find((n) => n.tagName === 'SPAN').attributes.get('dir'), 'auto', 'the cited name is isolated');
  assert.equal(red.className, 'chat-color chat-color-red');
  assert.equal(red.styleProperties.size, 0);
  assert.equal(hex.className, 'chat-color');
  assert.deepEqual([...hex.styleProperties], [['color', '#aabbcc']]);
  assert.equal(link.attributes.get('href'), 'https://a.example/');
  assert.equal(link.attributes.get('title'), 'https://a.example/');
  assert.equal(link.attributes.get('target'), '_blank');
  assert.equal(link.attributes.get('rel'), 'noopener noreferrer nofollow');
  assert.equal(emoji.attributes.get('title'), ':)');
  assert.equal(shownText(emoji), '🙂');
});

test('the renderer re-checks links and colours of a hand-made AST', () => {
  const ast = { type: 'root', children: [
    { type: 'link', href: 'javascript:alert(1)', children: [{ type: 'text', text: 'x' }] },
    { type: 'color', color: 'red;background:url(x)', className: 'evil', children: [{ type: 'text', text: 'y' }] },
    { type: 'script', children: [{ type: 'text', text: 'z' }] },
    { type: 'text', text: '<img src=x onerror=alert(1)>' },
  ] };
  const root = renderChatMarkup(ast, { document: fakeDocument });
  assert.deepEqual(root.childNodes.map((n) => n.tagName), ['#text', '#text', '#text']);
  assert.equal(shownText(root), 'xy<img src=x onerror=alert(1)>');
});

test('renderName isolates a name', () => {
  const name = renderName('\u05D0bob', { document: fakeDocument });
  assert.equal(name.tagName, 'SPAN');
  assert.equal(name.attributes.get('dir'), 'auto');
  assert.equal(shownText(name), '\u05D0bob');
});

test('XSS corpus through the DOM builder: allowed elements only, http(s) links, text as parsed', async () => {
  const corpus = JSON.parse(await readFile(new URL('../../tests/fixtures/xss/payloads.json', import.meta.url), 'utf8'));
  for (const payload of corpus) {
    const ast = parseBBCode(payload);
    const root = renderChatMarkup(ast, { document: fakeDocument });
    for (const node of elements(root)) {
      assert.ok(allowed.has(node.tagName), `${node.tagName} from ${JSON.stringify(payload.slice(0, 60))}`);
      for (const name of node.attributes.keys()) {
        assert.ok(['dir', 'href', 'title', 'target', 'rel', 'referrerpolicy', 'draggable', 'role', 'aria-label'].includes(name), name);
      }
      if (node.tagName === 'A') {
        assert.match(node.attributes.get('href'), /^https?:\/\//);
        // Dragging to the tab bar would open it without the confirmation (createLinkGuard).
        assert.equal(node.attributes.get('draggable'), 'false');
      }
      for (const [property, value] of node.styleProperties) {
        assert.equal(property, 'color');
        assert.match(value, /^#[0-9a-f]{6}$/);
      }
    }
    assert.equal(shownText(root), astToText(ast, { cite: quoteCiteText }), JSON.stringify(payload.slice(0, 60)));
  }
});
