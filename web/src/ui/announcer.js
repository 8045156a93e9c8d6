// The app window's polite live region, visually hidden: what happens away from the user's
// focus (an incoming secure-channel request) is read by screen readers without moving focus.
// The region exists before anything is said in it (a region inserted with its text is often
// not read); the same sentence twice is read twice (the text is cleared, then set again).

import { LitElement, html, css } from 'lit';

const RESET_MS = 50;

export class Announcer extends LitElement {
  static properties = {
    text: { state: true },
  };

  static styles = css`
    :host { display: contents; }
    .visually-hidden {
      position: absolute; width: 1px; height: 1px; overflow: hidden;
      clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
    }
  `;

  constructor() {
    super();
    this.text = '';
    this.queued = [];
    this.timer = null;
  }

  /** Says `sentence` politely (after what is being read). Sentences of one moment are read together. */
  announce(sentence) {
    if (typeof sentence !== 'string' || !sentence) return;
    this.queued.push(sentence);
    if (this.timer) return;
    this.text = '';
    this.timer = setTimeout(() => {
      this.timer = null;
      this.text = this.queued.join(' ');
      this.queued = [];
    }, RESET_MS);
  }

  render() {
    return html`<div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">${this.text}</div>`;
  }
}

customElements.define('secms-announcer', Announcer);
