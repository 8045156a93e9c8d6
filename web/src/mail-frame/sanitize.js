// The HTML mail sanitiser of the sandboxed mail frame (the boundary: it runs there, in an
// opaque origin under the frame's own CSP; the page does not parse mail HTML at all).
// DOMPurify needs a DOM; the URL and CSS rules below are pure and tested in Node
// (web/test/mail-ui.test.mjs, web/test/mail-frame-css.test.mjs).
//
// Rules: no script, frame, object, form, input, meta, base, link element; no event handler
// (DOMPurify); links open a new top-level context with no opener and no referrer; remote URLs
// (http:, https:, protocol-relative) in src, srcset, background, poster and CSS url() go
// unless the reader allowed remote content (then https: only); cid: URLs become the data: URLs
// of the message's inline parts, given by the page.

/** Elements removed with their content, on top of what DOMPurify never keeps. */
export const forbiddenTags = Object.freeze([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button',
  'select', 'textarea', 'option', 'meta', 'base', 'link', 'portal', 'noscript', 'template', 'dialog',
]);
export const forbiddenAttributes = Object.freeze(['action', 'formaction', 'ping', 'srcdoc', 'http-equiv', 'autofocus']);
/** Attributes holding one URL of a resource the client would fetch on display. */
export const resourceUrlAttributes = Object.freeze(['src', 'background', 'poster', 'lowsrc', 'dynsrc', 'xlink:href', 'data']);

/**
 * What happens to a resource URL: 'keep' (data:, blob: and, with remote allowed, https:),
 * 'cid' (an inline part, replaced when known), or 'drop' (remote or anything else).
 */
export function resourceUrlVerdict(url, { remote = false } = {}) {
  const value = String(url ?? '').trim().replace(/[\u0000-\u0020]+/g, '');
  if (/^data:image\/(png|gif|jpe?g|webp|bmp|avif);/i.test(value)) return 'keep';
  if (/^blob:/i.test(value)) return 'keep';
  if (/^cid:/i.test(value)) return 'cid';
  if (remote && /^https:\/\//i.test(value)) return 'keep';
  return 'drop';
}

/** The data: URL of a cid: reference (Content-ID without <>), or null. */
export function cidTarget(url, cidUrls) {
  const id = decodeURIComponentSafe(String(url).trim().replace(/^cid:/i, '')).replace(/^<|>$/g, '');
  const target = cidUrls?.[id];
  return typeof target === 'string' && /^data:/i.test(target) ? target : null;
}

function decodeURIComponentSafe(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A resource URL after the rules: the URL, a cid's data: URL, or null (drop the attribute).
 * `onBlocked` is called for every remote URL dropped (the page offers "Load remote content").
 */
export function rewriteResourceUrl(url, { remote = false, cidUrls = {}, onBlocked = () => {} } = {}) {
  const verdict = resourceUrlVerdict(url, { remote });
  if (verdict === 'keep') return String(url).trim();
  if (verdict === 'cid') return cidTarget(url, cidUrls);
  if (/^\s*(https?:)?\/\//i.test(String(url))) onBlocked(url);
  return null;
}

/** A srcset with every candidate checked; null when none is left. */
export function rewriteSrcset(srcset, options) {
  // A candidate is a URL (no whitespace; a data: URL may hold commas) and an optional
  // descriptor up to the next comma (HTML's srcset parsing, simplified).
  const kept = [...String(srcset).matchAll(/[\s,]*([^\s]+?)(?:,(?=\s|$)|\s+([^,]*)(?:,|$)|$)/g)]
    .filter((match) => match[1])
    .map((match) => {
      const rewritten = rewriteResourceUrl(match[1], options);
      return rewritten ? [rewritten, match[2]?.trim()].filter(Boolean).join(' ') : null;
    }).filter(Boolean);
  return kept.length ? kept.join(', ') : null;
}

/**
 * CSS text with its escapes decoded (CSS Syntax 3, "consume an escaped code point"): `\72` and
 * `\r` are both "r", so `u\72l(` is `url(` to the browser and must be to the checks below.
 * A decoded backslash is dropped: the result holds no backslash at all, so the browser reads
 * exactly the text that was checked (no escape survives to be decoded a second time).
 */
export function cssUnescape(css) {
  return String(css).replace(/\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?|(\r\n|[\n\r\f])|([^]))?/g, (whole, hex, newline, other) => {
    if (hex !== undefined) {
      const code = Number.parseInt(hex, 16);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      const decoded = String.fromCodePoint(code);
      return decoded === '\\' ? '' : decoded;
    }
    if (newline !== undefined) return '';       // an escaped newline continues a string
    if (other !== undefined) return other === '\\' ? '' : other;
    return '';                                  // a backslash at the end of the text
  });
}

/**
 * CSS text (a style attribute or a <style> element) with its escapes decoded first (see
 * cssUnescape), url(…) references checked, @import rules removed (they fetch a stylesheet),
 * image-set() disabled (it takes bare strings as URLs), and expression()/behavior/-moz-binding
 * gone.
 */
export function rewriteCss(css, options) {
  return cssUnescape(css)
    .replace(/(?:-webkit-)?image-set\s*\(/gi, 'blocked-image-set(')
    .replace(/@import[^;]*;?/gi, '')
    .replace(/expression\s*\(|behavior\s*:|-moz-binding\s*:/gi, 'blocked-')
    // A url( left open at the end of the text is still a URL to the browser (EOF closes it).
    .replace(/url\(\s*(['"]?)(.*?)\1\s*(?:\)|$)/gi, (whole, quote, url) => {
      const rewritten = rewriteResourceUrl(url, options);
      return rewritten ? `url("${rewritten.replace(/["\\\n\r]/g, '')}")` : 'none';
    });
}

/** The DOMPurify configuration (the hooks below do the URL work). */
export function purifyConfig({ policy = null, output = 'fragment' } = {}) {
  return {
    WHOLE_DOCUMENT: false,
    FORCE_BODY: true,
    RETURN_DOM_FRAGMENT: output === 'fragment',
    FORBID_TAGS: [...forbiddenTags],
    FORBID_ATTR: [...forbiddenAttributes],
    ALLOW_UNKNOWN_PROTOCOLS: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|cid:|data:image\/|blob:|#)/i,
    ADD_ATTR: ['target'],
    ...(policy ? { TRUSTED_TYPES_POLICY: policy } : {}),
  };
}

/**
 * Sanitises mail HTML with a DOMPurify instance → { fragment (DocumentFragment; with output
 * 'string': html) , blockedRemote (how many remote references were dropped) }. `policy` is the caller's Trusted Types policy
 * (DOMPurify parses through it; the result is cleaned before it reaches any document).
 */
export function sanitizeMailHtml(purify, html, { remote = false, cidUrls = {}, policy = null, output = 'fragment' } = {}) {
  let blockedRemote = 0;
  const options = { remote, cidUrls, onBlocked: () => { blockedRemote += 1; } };
  purify.removeAllHooks();
  purify.addHook('uponSanitizeElement', (node, data) => {
    if (data.tagName === 'style' && node.textContent) node.textContent = rewriteCss(node.textContent, options);
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    for (const name of resourceUrlAttributes) {
      if (!node.hasAttribute?.(name)) continue;
      const rewritten = rewriteResourceUrl(node.getAttribute(name), options);
      if (rewritten) node.setAttribute(name, rewritten);
      else node.removeAttribute(name);
    }
    if (node.hasAttribute?.('srcset')) {
      const rewritten = rewriteSrcset(node.getAttribute('srcset'), options);
      if (rewritten) node.setAttribute('srcset', rewritten);
      else node.removeAttribute('srcset');
    }
    // Through the CSSOM (the browser re-parses the declarations and drops what it does not know).
    if (node.hasAttribute?.('style') && node.style) node.style.cssText = rewriteCss(node.getAttribute('style'), options);
    // By localName, whatever the namespace and case: an SVG <a> has tagName "a" (not "A") and
    // would otherwise keep an https: href without target, and a click would navigate the mail
    // frame itself to the sender's page (whose script then runs in the reader's frame).
    const localName = String(node.localName ?? '').toLowerCase();
    const isHtml = node.namespaceURI === 'http://www.w3.org/1999/xhtml';
    if ((localName === 'a' || localName === 'area') && !isHtml) {
      // A link in SVG/MathML: no link at all (a same-document "#id" stays).
      node.removeAttribute?.('target');
      for (const name of ['href', 'xlink:href']) {
        const value = node.getAttribute?.(name);
        if (value !== null && value !== undefined && !value.trim().startsWith('#')) node.removeAttribute(name);
      }
    } else if (localName === 'a' || localName === 'area') {
      const href = node.getAttribute('href') ?? '';
      if (/^(https?:|mailto:)/i.test(href.trim())) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      } else if (!href.trim().startsWith('#')) {
        node.removeAttribute('href');
        node.removeAttribute('target');
      }
    } else {
      node.removeAttribute?.('target');
      // href elsewhere (SVG image, use, feImage, pattern…) fetches a resource: same rules, bar
      // a same-document "#id" reference.
      for (const name of ['href', 'xlink:href']) {
        const value = node.getAttribute?.(name);
        if (value === null || value === undefined || value.trim().startsWith('#')) continue;
        const rewritten = rewriteResourceUrl(value, options);
        if (rewritten) node.setAttribute(name, rewritten);
        else node.removeAttribute(name);
      }
    }
  });
  try {
    const result = purify.sanitize(html, purifyConfig({ policy, output }));
    return output === 'fragment' ? { fragment: result, blockedRemote } : { html: String(result), blockedRemote };
  } finally {
    purify.removeAllHooks();
  }
}
