// The Chat tab: identity first (create, import or unlock), then the list of secure channels
// beside the selected one, or the user's own certificate when none is selected.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { channelStatusOf } from '../state/channel-store.js';
import './identity-setup.js';
import './own-identity.js';
import './channel-view.js';
import './notice-card.js';

export class ChatPanel extends LitElement {
  static properties = {
    identity: { attribute: false },
    channels: { attribute: false },
    actions: { attribute: false },
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex: 1; min-height: 0; min-width: 0; }
    .layout { flex: 1; display: grid; grid-template-columns: 240px 1fr; min-height: 0; }
    nav { border-right: 1px solid var(--color-border); overflow-y: auto; padding: var(--space-2); display: flex; flex-direction: column; gap: var(--space-1); }
    nav h2 { margin: var(--space-2) var(--space-2) var(--space-1); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--color-text-muted); }
    nav button { display: flex; align-items: center; gap: var(--space-2); width: 100%; padding: var(--space-2); border: 0; border-radius: var(--radius-m); background: transparent; text-align: left; cursor: pointer; }
    nav button:hover { background: var(--color-surface-hover); }
    nav button[aria-current="true"] { background: var(--color-accent-soft); }
    nav button svg { width: 16px; height: 16px; flex: none; }
    .entry { display: flex; flex-direction: column; min-width: 0; }
    .entry .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
    .entry .state { font-size: 0.78rem; color: var(--color-text-muted); }
    .unread { margin-left: auto; min-width: 1.5em; padding: 0 6px; border-radius: 999px; background: var(--color-accent); color: var(--color-accent-text); font-size: 0.75rem; font-weight: 700; text-align: center; }
    button[data-state="secure"] .state { color: var(--color-success); }
    button[data-state="compromised"] .state { color: var(--color-danger); }
    .empty { color: var(--color-text-muted); font-size: 0.88rem; padding: 0 var(--space-2); margin: 0; }
    .detail { display: flex; flex-direction: column; min-height: 0; min-width: 0; overflow: auto; }
    .notice { margin: var(--space-3) var(--space-4) 0; display: flex; gap: var(--space-2); align-items: center; }
    .notice button { margin-left: auto; border: 0; background: transparent; cursor: pointer; color: inherit; }
    @media (max-width: 760px) { .layout { grid-template-columns: 1fr; grid-template-rows: auto 1fr; } nav { border-right: 0; border-bottom: 1px solid var(--color-border); max-height: 25vh; } }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.identitySnapshot = new StoreController(this, 'identity');
    this.channelSnapshot = new StoreController(this, 'channels');
  }

  renderNotice(notice) {
    if (!notice) return nothing;
    const key = `channel.error.${notice.code}`;
    return html`<p class="message error notice" role="alert" data-testid="channel-notice" data-code=${notice.code}>
      ${t(key) === key ? t('channel.error.other', { message: notice.message || notice.code }) : t(key)}
      <button type="button" aria-label=${t('account.close')} @click=${() => this.channels.notify(null)}>✕</button></p>`;
  }

  render() {
    const identity = this.identitySnapshot.value;
    if (!identity || identity.phase === 'starting') {
      return html`<secms-notice-card icon="key" heading=${t('app.loading')}></secms-notice-card>`;
    }
    if (identity.phase !== 'ready') {
      return html`<secms-identity-setup .identity=${this.identity} .actions=${this.actions}></secms-identity-setup>`;
    }
    const snapshot = this.channelSnapshot.value;
    const selected = snapshot.channels.find((channel) => channel.session === snapshot.selected) ?? null;
    return html`
      <div class="layout">
        <nav aria-label=${t('channel.list')}>
          <button type="button" aria-current=${String(!selected)} data-testid="own-identity-entry" @click=${() => this.actions.selectChannel(null)}>
            ${icons.key}<span class="entry"><span class="name">${t('identity.yours')}</span></span>
          </button>
          <h2>${t('channel.list')}</h2>
          ${snapshot.channels.length === 0 ? html`<p class="empty">${t('channel.none')}</p>` : nothing}
          ${[...snapshot.channels].reverse().map((channel) => {
            const status = channelStatusOf(channel);
            return html`
              <button type="button" aria-current=${String(channel.session === snapshot.selected)} data-testid="channel-entry"
                data-session=${channel.session} data-peer=${channel.peer.username} data-state=${status.state}
                @click=${() => this.actions.selectChannel(channel.session)}>
                ${status.state === 'secure' ? icons.shield : status.state === 'compromised' ? icons.alert : icons.lockOpen}
                <span class="entry"><span class="name">${channel.peer.username}</span><span class="state">${t(`channel.status.${status.state}`)}</span></span>
                ${channel.unread ? html`<span class="unread" data-testid="channel-unread" aria-label=${t('chat.unread', { count: channel.unread })}>${channel.unread}</span>` : nothing}
              </button>`;
          })}
        </nav>
        <div class="detail">
          ${this.renderNotice(snapshot.notice)}
          ${selected
            ? html`<secms-channel-view .channel=${selected} .ignored=${snapshot.ignored} .self=${snapshot.self} .actions=${this.actions}></secms-channel-view>`
            : html`<secms-own-identity .identity=${this.identity} .actions=${this.actions}></secms-own-identity>`}
        </div>
      </div>`;
  }
}

customElements.define('secms-chat-panel', ChatPanel);
