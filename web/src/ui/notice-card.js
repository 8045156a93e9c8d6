// An honest empty state: an icon, a title, one sentence, and optional actions (slot).

import { LitElement, html, css } from 'lit';
import { icons } from './icons.js';

export class NoticeCard extends LitElement {
  static properties = {
    icon: {},
    heading: {},
    body: {},
    tone: {},   // 'neutral' | 'warning'
  };

  static styles = css`
    :host { display: flex; flex: 1; align-items: center; justify-content: center; padding: var(--space-6) var(--space-4); }
    .notice { max-width: 28rem; text-align: center; }
    .icon {
      display: inline-grid; place-items: center; width: 64px; height: 64px; border-radius: 50%;
      background: var(--color-accent-soft); color: var(--color-accent); margin-bottom: var(--space-4);
    }
    :host([tone="warning"]) .icon { background: var(--color-warning-soft); color: var(--color-warning); }
    .icon svg { width: 30px; height: 30px; }
    h2 { margin: 0 0 var(--space-2); font-size: 1.2rem; }
    p { margin: 0 0 var(--space-4); color: var(--color-text-muted); }
  `;

  render() {
    return html`
      <div class="notice">
        <div class="icon">${icons[this.icon] ?? icons.shield}</div>
        <h2>${this.heading}</h2>
        <p>${this.body}</p>
        <slot></slot>
      </div>`;
  }
}

customElements.define('secms-notice-card', NoticeCard);
