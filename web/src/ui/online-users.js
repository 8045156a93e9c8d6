// The list of users online now, live from the WebSocket presence messages.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';

export class OnlineUsers extends LitElement {
  static properties = {
    presence: { attribute: false },
  };

  static styles = css`
    :host { display: flex; flex-direction: column; min-height: 0; }
    h2 {
      display: flex; justify-content: space-between; align-items: baseline;
      margin: 0; padding: var(--space-4) var(--space-4) var(--space-2);
      font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--color-text-muted);
    }
    h2 .count { text-transform: none; letter-spacing: 0; font-weight: 500; }
    ul { list-style: none; margin: 0; padding: 0 var(--space-2) var(--space-2); overflow-y: auto; }
    li {
      display: flex; align-items: center; gap: var(--space-3);
      padding: var(--space-2) var(--space-2); border-radius: var(--radius-m);
    }
    li:hover { background: var(--color-surface-hover); }
    .avatar {
      position: relative; flex: none; display: grid; place-items: center;
      width: 36px; height: 36px; border-radius: 50%;
      background: var(--color-accent-soft); color: var(--color-accent); font-weight: 700; text-transform: uppercase;
    }
    .avatar::after {
      content: ""; position: absolute; right: -1px; bottom: -1px; width: 11px; height: 11px;
      border-radius: 50%; background: var(--color-success); border: 2px solid var(--color-surface);
    }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .you { margin-left: auto; color: var(--color-text-muted); font-size: 0.8rem; }
    .empty { padding: var(--space-2) var(--space-4); color: var(--color-text-muted); margin: 0; }
  `;

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'presence');
  }

  render() {
    const presence = this.snapshot.value;
    const users = presence?.users ?? [];
    return html`
      <h2 id="online-heading">
        <span>${t('users.title')}</span>
        ${presence?.known ? html`<span class="count">${t('users.count', { count: users.length })}</span>` : nothing}
      </h2>
      ${!presence?.known ? html`<p class="empty">${t('users.waiting')}</p>`
        : users.length === 0 ? html`<p class="empty">${t('users.empty')}</p>`
        : html`
          <ul aria-labelledby="online-heading" data-testid="online-users">
            ${users.map((user) => html`
              <li data-testid="online-user" data-username=${user.username} data-self=${String(user.isSelf)}>
                <span class="avatar" aria-hidden="true">${user.username.slice(0, 1)}</span>
                <span class="name">${user.username}</span>
                ${user.isSelf ? html`<span class="you">${t('users.you')}</span>` : nothing}
              </li>`)}
          </ul>`}`;
  }
}

customElements.define('secms-online-users', OnlineUsers);
