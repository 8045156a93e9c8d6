// DOM side of chat markup: turns the AST of web/src/chat/bbcode.js into DOM nodes. This is the
// only chat file that touches the DOM, and it only ever uses createElement, createTextNode,
// textContent, setAttribute with fixed attribute names, classList and the CSSOM colour
// property — never an HTML parser, so no text of a message can become markup (DESIGN.md §8).
//
// Elements it creates, and nothing else: span, strong, em, u, blockquote, code, pre, a, br.
// Each message and each name is wrapped in an element with dir="auto": HTML gives such an
// element `unicode-bidi: isolate`, so right-to-left text inside cannot reorder what is around it
// (the other half of the bidi rules in web/src/chat/text.js).
//
// The renderer re-checks what it is given (link addresses, colours) rather than trusting the
// AST: an AST built by other code, or a future cache of one, gets the same guarantees.
// Clicks on links are the UI's concern (e.g. a confirmation showing the full address).

import { parseColor, validateLinkUrl } from '../chat/bbcode.js';
import { t } from '../i18n/index.js';

const simpleElements = Object.freeze({ bold: 'strong', italic: 'em', underline: 'u' });

/** The label shown before a quote by `name`, split around the name so the name is isolated. */
function citeParts(name) {
  const template = t('chat.markup.quote_cite');
  const at = template.indexOf('{name}');
  return at === -1 ? [`${template} `, name, ''] : [template.slice(0, at), name, template.slice(at + '{name}'.length)];
}

/** The text of the label before a quote by `name` (what the renderer shows; for tests). */
export function quoteCiteText(name) {
  return citeParts(name).join('');
}

/** A name (user, channel) as an isolated span: its direction cannot leak to the line. */
export function renderName(name, { document = globalThis.document, className = 'chat-name' } = {}) {
  const span = document.createElement('span');
  span.className = className;
  span.setAttribute('dir', 'auto');
  span.textContent = String(name);
  return span;
}

// Text with line breaks → text nodes separated by <br>.
function appendText(parent, text, document) {
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (index > 0) parent.append(document.createElement('br'));
    if (line !== '') parent.append(document.createTextNode(line));
  });
}

function appendChildren(parent, children, document) {
  for (const child of children ?? []) appendNode(parent, child, document);
}

function appendNode(parent, node, document) {
  switch (node?.type) {
    case 'text':
      appendText(parent, String(node.text), document);
      return;
    case 'emoji': {
      const span = document.createElement('span');
      span.className = 'chat-emoji';
      span.setAttribute('role', 'img');
      span.setAttribute('aria-label', String(node.source));
      span.setAttribute('title', String(node.source));
      span.textContent = String(node.text);
      parent.append(span);
      return;
    }
    case 'bold':
    case 'italic':
    case 'underline': {
      const element = document.createElement(simpleElements[node.type]);
      appendChildren(element, node.children, document);
      parent.append(element);
      return;
    }
    case 'quote': {
      const quote = document.createElement('blockquote');
      quote.className = 'chat-quote';
      if (typeof node.cite === 'string' && node.cite !== '') {
        const [before, name, after] = citeParts(node.cite);
        const label = document.createElement('span');
        label.className = 'chat-quote-cite';
        if (before) label.append(document.createTextNode(before));
        label.append(renderName(name, { document }));
        if (after) label.append(document.createTextNode(after));
        quote.append(label);
      }
      appendChildren(quote, node.children, document);
      parent.append(quote);
      return;
    }
    case 'code': {
      const text = (node.children ?? []).map((child) => String(child.text ?? '')).join('');
      const code = document.createElement('code');
      code.textContent = text;  // literal: newlines stay text, shown by <pre>
      if (text.includes('\n')) {
        const pre = document.createElement('pre');
        pre.className = 'chat-code';
        pre.append(code);
        parent.append(pre);
      } else {
        code.className = 'chat-code';
        parent.append(code);
      }
      return;
    }
    case 'color': {
      const color = parseColor(node.color);
      if (!color) break;
      const span = document.createElement('span');
      span.className = color.className ? `chat-color ${color.className}` : 'chat-color';
      // A validated "#rrggbb" through the CSSOM: one property, no CSS text is parsed from
      // the message, and CSP's style-src does not apply to CSSOM property writes.
      if (!color.className) span.style.setProperty('color', color.color);
      appendChildren(span, node.children, document);
      parent.append(span);
      return;
    }
    case 'link': {
      const href = validateLinkUrl(node.href);
      if (!href) break;
      const a = document.createElement('a');
      a.className = 'chat-link';
      a.setAttribute('href', href);
      a.setAttribute('title', href);
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer nofollow');
      a.setAttribute('referrerpolicy', 'no-referrer');
      // Dragging the link to the tab bar would open it without the confirmation (createLinkGuard).
      a.setAttribute('draggable', 'false');
      appendChildren(a, node.children, document);
      parent.append(a);
      return;
    }
    default:
      return;  // unknown node types render nothing rather than something unchecked
  }
  // A colour or link that fails the re-check: its content is still shown, unformatted.
  appendChildren(parent, node.children, document);
}

/**
 * Renders a parsed message (parseBBCode's root) into a new
 * <span class="chat-markup" dir="auto"> and returns it. `document` is injectable for tests.
 */
/**
 * The one handler for every way a chat link can be opened, bound by the log for the events
 * click, auxclick, contextmenu and dragstart. A link's text can say anything, so it opens only
 * after confirmOpen(url) showed the full address and the user agreed:
 *  - click (also Ctrl/Shift/Meta-click and Enter): cancelled unless confirmed;
 *  - auxclick (middle click opens a new tab with no click event): always cancelled; opened
 *    with openUrl(url) once confirmed;
 *  - contextmenu ("Open link in new tab") and dragstart (a drop on the tab bar): cancelled.
 * Options: { confirmOpen(url) → boolean, openUrl(url) }. Returns (event) → void.
 */
export function createLinkGuard({ confirmOpen, openUrl }) {
  return (event) => {
    const path = typeof event.composedPath === 'function' ? event.composedPath() : [event.target];
    const link = path.find((node) => node?.tagName === 'A' && node.classList?.contains('chat-link'));
    if (!link) return;
    const url = validateLinkUrl(link.getAttribute('href'));
    switch (event.type) {
      case 'click':
        if (!url || !confirmOpen(url)) event.preventDefault();
        return;
      case 'auxclick':
        event.preventDefault();
        if (event.button === 1 && url && confirmOpen(url)) openUrl(url);
        return;
      case 'contextmenu':
      case 'dragstart':
        event.preventDefault();
        return;
      default:
        return;
    }
  };
}

export function renderChatMarkup(ast, { document = globalThis.document } = {}) {
  const root = document.createElement('span');
  root.className = 'chat-markup';
  root.setAttribute('dir', 'auto');
  appendChildren(root, ast?.children, document);
  return root;
}
