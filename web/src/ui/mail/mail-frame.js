// <secms-mail-frame .html .cidUrls .remote>: shows HTML mail in the sandboxed frame
// (/mail-frame.html, or /mail-frame-remote.html once the reader allowed remote content). The
// frame is the boundary, and the only place the mail's HTML is parsed: no allow-same-origin, so
// it is an opaque origin without cookies, storage or access to this page; its own CSP allows no
// script but its own (web/src/mail-frame/frame.js), which sanitises the HTML with DOMPurify
// under the frame's Trusted Types policy. The page does NOT parse the mail's HTML: a page-side
// DOMPurify pass would run the hostile markup through a parser under the app's CSP (every
// <style>, handler or <base> of the mail then shows up as a violation report of the app's
// policy) and needed a page policy that blesses strings as HTML, for no gain over the frame.

import { LitElement, html, css } from 'lit';
import { t } from '../../i18n/index.js';

// No allow-modals: a page that got into the frame could otherwise raise alert()/prompt() over
// the app (phishing for the passphrase); printing is the page's (print() below). No
// allow-top-navigation, no allow-same-origin.
export const mailFrameSandbox = 'allow-scripts allow-popups allow-popups-to-escape-sandbox';
const maxFrameHeight = 20000;

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
      // The frame counted the remote references its sanitiser dropped (the reader offers
      // "Load remote content" for them).
      const blockedRemote = Math.max(0, Math.trunc(Number(data.blockedRemote) || 0));
      this.dispatchEvent(new CustomEvent('mail-frame-rendered', { detail: { blockedRemote }, bubbles: true, composed: true }));
      this.dispatchEvent(new CustomEvent('mail-frame-remote', { detail: { blockedRemote }, bubbles: true, composed: true }));
    }
  }

  post() {
    const frame = this.frame;
    if (!frame?.contentWindow || !this.ready) return;
    // The unsanitised HTML goes to the frame as a string; it is parsed and sanitised there.
    // The frame's origin is opaque: '*' is the only target origin that reaches it; the window
    // is ours (its src is our page and its sandbox keeps the mail from navigating it).
    frame.contentWindow.postMessage({ type: 'render', html: String(this.html ?? ''), cidUrls: this.cidUrls ?? {} }, '*');
  }

  /** Prints from the page: the frame's sandbox has no allow-modals (print() there is blocked). */
  print() {
    window.print();
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
