// BBCode for chat messages → a pure AST. No DOM and never HTML: the AST is data that
// web/src/ui/chat-markup.js turns into DOM nodes, so markup in a message can only ever become
// one of a handful of known elements, each with validated attributes.
//
// Supported: [b] [i] [u] [quote] [quote=name] [code] [url] [url=…] [color=…], and emoticons.
//
// Rules (and why):
//   - Tag names are case-insensitive; an unknown tag, a tag with a bad argument, a closing tag
//     without its opening one, an opening tag never closed, an overlap ("[b][i]x[/b][/i]": [i]
//     is cut by [/b]) and a tag beyond the depth limit all stay literal text, as typed. Nothing
//     the user typed is dropped, so the reader sees exactly what was sent.
//   - [code]…[/code] content is literal: no tags, no emoticons inside.
//   - [url]X[/url] content is the address itself, taken literally; [url=X]label[/url] shows the
//     label (the renderer puts the full address in the link's title).
//   - Links: http: and https: only, absolute, written with "//", parsed by the WHATWG URL parser
//     (`new URL`); no credentials (the "https://bank.example@evil.example" trick), no whitespace,
//     controls, backslashes, quotes or angle brackets in what was typed. Everything else —
//     javascript:, data:, vbscript:, relative and protocol-relative addresses — is refused and
//     the tag stays literal text, so the address is still visible. The href is the parser's
//     normalised form (IDN hosts in punycode, so the title shows a homograph for what it is).
//   - [color=…]: a fixed list of named colours (→ a class name chat-color-<name> the stylesheet
//     defines) or #rgb / #rrggbb (→ normalised "#rrggbb", applied through the CSSOM by the
//     renderer). No other CSS can get through: no url(), expression(), var(), ";".
//   - Nesting depth at most 8 elements; input at most 4096 code points (a chat message is at
//     most 1040, limits.js; a longer text from a peer is cut and flagged `truncated`).
//   - Before parsing, the text goes through neutraliseText (text.js): bidi embedding /
//     override / isolate controls and invisible format characters removed, other controls
//     shown as U+FFFD.
// Node shapes:
//   { type: 'root', children, truncated }
//   { type: 'text', text }
//   { type: 'emoji', text: '🙂', source: ':)' }
//   { type: 'bold' | 'italic' | 'underline', children, open, close }
//   { type: 'quote', cite: string | null, children, open, close }
//   { type: 'code', children: [text], open, close }
//   { type: 'color', color: 'red' | '#rrggbb', className: 'chat-color-red' | null, children, open, close }
//   { type: 'link', href, children, open, close }
// `open` / `close` are the tags as typed, so astToSource(parseBBCode(x)) === the neutralised x.

import { codePointLength, neutraliseText, truncateCodePoints } from './text.js';

export const bbcodeLimits = Object.freeze({ maxDepth: 8, maxInputLength: 4096, maxUrlLength: 2048, maxCiteLength: 64 });

// AJAX Chat's colour menu (the CSS basic colours plus orange).
export const namedColors = Object.freeze(['gray', 'silver', 'white', 'yellow', 'orange', 'red', 'fuchsia',
  'purple', 'navy', 'blue', 'aqua', 'teal', 'green', 'lime', 'olive', 'maroon', 'black']);

// Longest codes first where one is a prefix of another (":-)" before ":)").
export const emoticons = Object.freeze([
  [':-)', '🙂'], [':)', '🙂'], [':-(', '🙁'], [':(', '🙁'], [';-)', '😉'], [';)', '😉'],
  [':-D', '😀'], [':D', '😀'], [':-P', '😛'], [':P', '😛'], [':p', '😛'], [':-o', '😮'], [':o', '😮'],
  [':O', '😮'], [":'(", '😢'], [':|', '😐'], ['8-)', '😎'], ['<3', '❤️'],
].map((pair) => Object.freeze(pair)));

const emoticonByCode = new Map(emoticons);
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// An emoticon stands alone: after the start or whitespace, before the end, whitespace or
// sentence punctuation — so "std::Dog", "a:b", "x<3" and URLs stay as typed.
const emoticonPattern = new RegExp(`(?<!\\S)(${[...emoticonByCode.keys()]
  .sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')})(?![^\\s.,!?])`, 'g');

const simpleTags = Object.freeze({ b: 'bold', i: 'italic', u: 'underline' });
const knownTags = new Set(['b', 'i', 'u', 'quote', 'code', 'url', 'color']);
// "[" name ("=" argument)? "]"; an argument cannot hold brackets or a line break.
const tagPattern = /\[(\/?)([A-Za-z]{1,16})(?:=([^[\]\n]*))?\]/y;

function unquote(text) {
  const match = /^(["'])(.*)\1$/s.exec(text);
  return match ? match[2] : text;
}

/**
 * The normalised href for a link typed by a user, or null when it is not an absolute
 * http(s) address without credentials (rules in the header).
 */
export function validateLinkUrl(raw) {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > bbcodeLimits.maxUrlLength) return null;
  if (!/^https?:\/\/[^/]/i.test(raw)) return null;
  if (/[\s\u0000-\u001F\u007F-\u009F\\"'<>`\u2028\u2029\u00A0\uFEFF]/.test(raw)) return null;
  // Credentials: any "@" in the authority, even an empty user ("https://@host") is refused.
  const authority = raw.slice(raw.indexOf('//') + 2).split(/[/?#]/)[0];
  if (authority.includes('@')) return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null;
  return url.href;
}

/** { color, className } for an allowed [color=…] argument, or null. */
export function parseColor(raw) {
  if (typeof raw !== 'string') return null;
  const named = raw.toLowerCase();
  if (namedColors.includes(named)) return Object.freeze({ color: named, className: `chat-color-${named}` });
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(raw);
  if (!hex) return null;
  const digits = hex[1].toLowerCase();
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits;
  return Object.freeze({ color: `#${full}`, className: null });
}

function parseCite(raw) {
  const cite = unquote(raw).trim();
  const length = codePointLength(cite);
  return length >= 1 && length <= bbcodeLimits.maxCiteLength ? cite : null;
}

/** Splits a text into text and emoji nodes. */
function withEmoticons(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(emoticonPattern)) {
    if (match.index > last) nodes.push({ type: 'text', text: text.slice(last, match.index) });
    nodes.push({ type: 'emoji', text: emoticonByCode.get(match[1]), source: match[1] });
    last = match.index + match[1].length;
  }
  if (last < text.length) nodes.push({ type: 'text', text: text.slice(last) });
  return nodes;
}

/** Merges adjacent text nodes, applies emoticons (except in literal content), freezes. */
function finish(children, literal) {
  const merged = [];
  for (const child of children) {
    const previous = merged[merged.length - 1];
    if (child.type === 'text' && previous?.type === 'text') previous.text += child.text;
    else if (child.type === 'text') merged.push({ ...child });
    else merged.push(child);
  }
  const out = [];
  for (const child of merged) {
    if (child.type === 'text') {
      if (child.text === '') continue;
      if (literal) out.push(Object.freeze(child));
      else out.push(...withEmoticons(child.text).map((node) => Object.freeze(node)));
    } else {
      out.push(child);
    }
  }
  return Object.freeze(out);
}

// The first closing tag of `name` at or after `from` (case-insensitive), as {index, raw}, or null.
function findClosing(input, name, from) {
  const pattern = new RegExp(`\\[/${name}\\]`, 'gi');
  pattern.lastIndex = from;
  const match = pattern.exec(input);
  return match ? { index: match.index, raw: match[0] } : null;
}

/**
 * Parses a chat message. Options: { maxDepth = 8, maxInputLength = 4096 (code points) }.
 * Never throws on any string input.
 */
export function parseBBCode(input, { maxDepth = bbcodeLimits.maxDepth, maxInputLength = bbcodeLimits.maxInputLength } = {}) {
  let text = neutraliseText(input ?? '');
  const truncated = codePointLength(text) > maxInputLength;
  if (truncated) text = truncateCodePoints(text, maxInputLength);

  const root = { name: null, children: [] };
  const stack = [root];
  const top = () => stack[stack.length - 1];
  const addText = (value) => top().children.push({ type: 'text', text: value });
  const insideLink = () => stack.some((frame) => frame.name === 'url');
  // A search for a closing [/code] or [/url] that failed fails for every later start too:
  // remembering it keeps "[code][code][code]…" linear.
  const noClosingAfter = new Map();
  const closingOf = (name, from) => {
    if (noClosingAfter.has(name) && noClosingAfter.get(name) <= from) return null;
    const found = findClosing(text, name, from);
    if (!found) noClosingAfter.set(name, from);
    return found;
  };

  // An unclosed or cut frame becomes literal: its opening tag as text, then its children.
  const flatten = (frame, into) => {
    into.children.push({ type: 'text', text: frame.open }, ...frame.children);
  };

  let i = 0;
  while (i < text.length) {
    const bracket = text.indexOf('[', i);
    if (bracket === -1) {
      addText(text.slice(i));
      break;
    }
    if (bracket > i) addText(text.slice(i, bracket));
    tagPattern.lastIndex = bracket;
    const match = tagPattern.exec(text);
    if (!match) {
      addText('[');
      i = bracket + 1;
      continue;
    }
    const [raw, slash, rawName, argument] = match;
    const name = rawName.toLowerCase();
    i = bracket + raw.length;
    if (!knownTags.has(name)) {
      addText(raw);
      continue;
    }

    if (slash) {
      let index = stack.length - 1;
      while (index > 0 && stack[index].name !== name) index -= 1;
      if (index === 0 || argument !== undefined) {
        addText(raw);
        continue;
      }
      // Frames opened after the one being closed were not closed in time: literal.
      while (stack.length - 1 > index) {
        const cut = stack.pop();
        flatten(cut, top());
      }
      const frame = stack.pop();
      const children = finish(frame.children, false);
      top().children.push(Object.freeze({ ...frame.node, children, open: frame.open, close: raw }));
      continue;
    }

    const depthOk = stack.length - 1 < maxDepth;
    // Raw-content tags: [code]…[/code] and [url]address[/url].
    if (name === 'code' || (name === 'url' && argument === undefined)) {
      const closing = argument === undefined && depthOk && !(name === 'code' && insideLink()) && !(name === 'url' && insideLink())
        ? closingOf(name, i) : null;
      const content = closing ? text.slice(i, closing.index) : null;
      const href = name === 'url' && content !== null ? validateLinkUrl(content) : null;
      if (!closing || (name === 'url' && href === null)) {
        addText(raw);
        continue;
      }
      const children = finish([{ type: 'text', text: content }], true);
      const node = name === 'code' ? { type: 'code' } : { type: 'link', href };
      top().children.push(Object.freeze({ ...node, children, open: raw, close: closing.raw }));
      i = closing.index + closing.raw.length;
      continue;
    }

    let node = null;
    if (name in simpleTags) {
      if (argument === undefined) node = { type: simpleTags[name] };
    } else if (name === 'quote') {
      if (!insideLink()) {
        if (argument === undefined) node = { type: 'quote', cite: null };
        else {
          const cite = parseCite(argument);
          if (cite !== null) node = { type: 'quote', cite };
        }
      }
    } else if (name === 'color') {
      const color = argument === undefined ? null : parseColor(argument);
      if (color) node = { type: 'color', color: color.color, className: color.className };
    } else if (name === 'url') {
      const href = insideLink() ? null : validateLinkUrl(unquote(argument));
      if (href) node = { type: 'link', href };
    }
    if (!node || !depthOk) {
      addText(raw);
      continue;
    }
    stack.push({ name, node, open: raw, children: [] });
  }

  while (stack.length > 1) {
    const cut = stack.pop();
    flatten(cut, top());
  }
  return Object.freeze({ type: 'root', children: finish(root.children, false), truncated });
}

/** The message as typed (after neutralisation): the inverse of parseBBCode. */
export function astToSource(node) {
  switch (node.type) {
    case 'text': return node.text;
    case 'emoji': return node.source;
    case 'root': return node.children.map(astToSource).join('');
    default: return node.open + node.children.map(astToSource).join('') + node.close;
  }
}

/**
 * The text a reader sees, without the markup. `cite(name)` gives the text shown before a quote
 * with a name (the renderer's label); by default a named quote shows no extra text.
 */
export function astToText(node, { cite = () => '' } = {}) {
  const inner = (n) => n.children.map((child) => astToText(child, { cite })).join('');
  switch (node.type) {
    case 'text':
    case 'emoji':
      return node.text;
    case 'quote':
      return (node.cite !== null ? cite(node.cite) : '') + inner(node);
    default:
      return inner(node);
  }
}

/** Every node of the tree, depth first (for checks and tests). */
export function* walkAst(node) {
  yield node;
  for (const child of node.children ?? []) yield* walkAst(child);
}
