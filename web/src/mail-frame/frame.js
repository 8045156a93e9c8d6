// The script of the sandboxed mail frame (web/src/pages/mail-frame.html, served as
// /mail-frame.html and /mail-frame-remote.html). The frame is embedded with sandbox
// "allow-scripts allow-popups allow-popups-to-escape-sandbox" (no allow-modals: the page prints,
// and no page that got into the frame could raise alert()/prompt() over the app) and no
// allow-same-origin: its origin is opaque (no cookies, no storage, no access to the page), and
// its CSP allows no script but this file. It takes HTML only from the window that embeds it,
// and only when that window is the app's origin (the frame's own URL origin), sanitises it
// with DOMPurify here (the only sanitising pass: the page hands the mail's HTML over unparsed),
// shows it, and reports its height and how many remote references it dropped.

import DOMPurify from 'dompurify';
import { sanitizeMailHtml } from './sanitize.js';

const appOrigin = new URL(globalThis.location.href).origin;
// The remote variant: its CSP allows https: images, so https: URLs may stay.
const remoteAllowed = /\/mail-frame-remote\.html$/.test(globalThis.location.pathname);
const ancestor = globalThis.location.ancestorOrigins?.[0];
const embeddedByApp = window.parent !== window && (ancestor === undefined || ancestor === appOrigin);

// DOMPurify parses through this policy; what comes out is the sanitised fragment, never a string
// handed to a sink. The frame CSP names only this policy (trusted-types secms-mail-frame).
// DOMPurify also asks the policy for a TrustedScriptURL when it meets a script-URL attribute
// (<script src>, <embed src>…) before the element is dropped; without createScriptURL the policy
// throws, the render fails and the frame stays blank. Such elements are forbidden anyway, so
// the URL becomes the empty string.
const policy = globalThis.trustedTypes?.createPolicy('secms-mail-frame', {
  createHTML: (text) => text,
  createScriptURL: () => '',
}) ?? null;

const baseCss = `
  html { color-scheme: light dark; }
  body { margin: 0; padding: 8px 12px; font: 15px/1.5 system-ui, sans-serif; overflow-wrap: anywhere; }
  img, video { max-width: 100%; height: auto; }
  table { max-width: 100%; }
  pre { white-space: pre-wrap; }
  @media print { body { padding: 0; } }
`;

function addBaseStyle() {
  const style = document.createElement('style');
  style.textContent = baseCss;
  document.head.append(style);
}

function post(message) {
  window.parent.postMessage(message, appOrigin);
}

function reportHeight() {
  post({ type: 'height', height: Math.ceil(document.documentElement.scrollHeight) });
}

function render({ html, cidUrls }) {
  const { fragment, blockedRemote } = sanitizeMailHtml(DOMPurify, String(html ?? ''), {
    remote: remoteAllowed, cidUrls: cidUrls && typeof cidUrls === 'object' ? cidUrls : {}, policy,
  });
  document.body.replaceChildren(fragment);
  post({ type: 'rendered', blockedRemote });
  reportHeight();
}

function onMessage(event) {
  if (event.source !== window.parent || event.origin !== appOrigin) return;
  const data = event.data;
  if (!data || typeof data !== 'object') return;
  if (data.type === 'render') render(data);
}

/**
 * The frame never navigates itself: a click on anything but an HTML link the sanitiser made
 * target=_blank (http/https/mailto) does nothing; such a link opens a new window (allow-popups),
 * never this frame. A second guard behind sanitize.js's link rule.
 */
function onClick(event) {
  const path = typeof event.composedPath === 'function' ? event.composedPath() : [];
  const link = path.find((node) => node?.nodeType === 1 && (node.hasAttribute('href') || node.hasAttribute('xlink:href')));
  if (!link) return;
  const html = link.namespaceURI === 'http://www.w3.org/1999/xhtml';
  const name = String(link.localName).toLowerCase();
  const href = String(link.getAttribute('href') ?? '').trim();
  const opensElsewhere = html && (name === 'a' || name === 'area') && link.getAttribute('target') === '_blank' && /^(https?:|mailto:)/i.test(href);
  if (!opensElsewhere) event.preventDefault();
}

if (embeddedByApp) {
  addBaseStyle();
  window.addEventListener('message', onMessage);
  document.addEventListener('click', onClick, true);
  document.addEventListener('auxclick', onClick, true);
  new ResizeObserver(reportHeight).observe(document.documentElement);
  post({ type: 'ready' });
}
