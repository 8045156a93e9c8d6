// <secms-mail-frame .html .cidUrls .remote>: shows HTML mail in the sandboxed frame
// (/mail-frame.html, or /mail-frame-remote.html once the reader allowed remote content). The
// HTML is sanitised here first (defence in depth) and again inside the frame, which is the
// boundary: no allow-same-origin, so it is an opaque origin without cookies, storage or access
// to this page; its own CSP allows no script but its own. allow-modals is there for print()
// only (the frame runs no script of the mail's).

import { LitElement, html, css } from 'lit';
import DOMPurify from 'dompurify';
import { t } from '../../i18n/index.js';
import { sanitizeMailHtml } from '../../mail-frame/sanitize.js';

export const mailFrameSandbox = 'allow-scripts allow-popups allow-popups-to-escape-sandbox allow-modals';
const maxFrameHeight = 20000;

let pagePolicy;
/** The page's policy for DOMPurify's parser (the app CSP names it: trusted-types … secms-mail-sanitize). */
function sanitizePolicy() {
  if (pagePolicy === undefined) {
    pagePolicy = globalThis.trustedTypes?.createPolicy('secms-mail-sanitize', { createHTML: (text) => text }) ?? null;
  }
  return pagePolicy;
}

/** The page's pass: → { html (string), blockedRemote }. */
export function sanitizeInPage(source, { remote = false, cidUrls = {} } = {}) {
  return sanitizeMailHtml(DOMPurify, source, { remote, cidUrls, policy: sanitizePolicy(), output: 'string' });
}

export class MailFrame extends LitElement {
  static properties = {
    html: { attribute: false },
    cidUrls: { attribute: false },
    remote: { type: Boolean },
    label: {},
  };

  static styles = css`
    :host { display: block; }
    iframe { display: block; width: 100%; height: 120px; border: 0; background: #fff; color-scheme: light; }
  `;

  constructor() {
    super();
    this.html = '';
    this.cidUrls = {};
    this.remote = false;
    this.ready = false;
    this.onMessage = this.onMessage.bind(this);
  }

  connectedCallback() {
    super.connectedCallback();
    window.addEventListener('message', this.onMessage);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener('message', this.onMessage);
  }

  get frame() {
    return this.renderRoot.querySelector('iframe');
  }

  onMessage(event) {
    const frame = this.frame;
    // Only our frame's window; its origin is opaque ("null"), so the window is what identifies it.
    if (!frame || event.source !== frame.contentWindow || event.origin !== 'null') return;
    const data = event.data;
    if (data?.type === 'ready') {
      this.ready = true;
      this.post();
    } else if (data?.type === 'height' && Number.isFinite(data.height)) {
      frame.style.height = `${Math.min(maxFrameHeight, Math.max(40, Math.ceil(data.height)))}px`;
    } else if (data?.type === 'rendered') {
      this.dispatchEvent(new CustomEvent('mail-frame-rendered', { detail: { blockedRemote: Number(data.blockedRemote) || 0 }, bubbles: true, composed: true }));
    }
  }

  post() {
    const frame = this.frame;
    if (!frame?.contentWindow || !this.ready) return;
    const { html: clean, blockedRemote } = sanitizeInPage(this.html ?? '', { remote: this.remote, cidUrls: this.cidUrls ?? {} });
    this.dispatchEvent(new CustomEvent('mail-frame-remote', { detail: { blockedRemote }, bubbles: true, composed: true }));
    // The frame's origin is opaque: '*' is the only target origin that reaches it; the window
    // is ours (its src is our page and its sandbox keeps the mail from navigating it).
    frame.contentWindow.postMessage({ type: 'render', html: clean, cidUrls: this.cidUrls ?? {} }, '*');
  }

  print() {
    this.frame?.contentWindow?.postMessage({ type: 'print' }, '*');
  }

  willUpdate(changed) {
    if (changed.has('remote')) this.ready = false;   // a new src: wait for its "ready"
  }

  updated(changed) {
    if ((changed.has('html') || changed.has('cidUrls')) && !changed.has('remote')) this.post();
  }

  render() {
    return html`<iframe sandbox=${mailFrameSandbox} referrerpolicy="no-referrer" title=${this.label || t('mail.reader.frame_title')}
      src=${this.remote ? '/mail-frame-remote.html' : '/mail-frame.html'} data-testid="mail-frame"></iframe>`;
  }
}

customElements.define('secms-mail-frame', MailFrame);
