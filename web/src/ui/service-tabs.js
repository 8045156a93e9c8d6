// The Chat / VoIP / Email tabs and their panels, in one shadow root so that the ARIA
// id references (aria-controls, aria-labelledby) resolve. Keyboard: WAI-ARIA APG tabs
// pattern with automatic activation (arrows, Home, End).

import { LitElement, html, css } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { unreadTotal } from '../state/channel-store.js';
import { roomUnreadTotal } from '../state/room-store.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import './notice-card.js';
import './chat-panel.js';
import './voip-panel.js';
import './mail/mail-panel.js';

const services = Object.freeze([
  { id: 'chat', icon: 'chat' },
  { id: 'voip', icon: 'phone' },
  { id: 'email', icon: 'mail' },
]);

export class ServiceTabs extends LitElement {
  static properties = {
    selected: { state: true },
    webRtcAvailable: { attribute: false },
    identity: { attribute: false },   // identity store
    channels: { attribute: false },   // channel store
    rooms: { attribute: false },      // room store
    actions: { attribute: false },    // secure-channel actions
    calls: { attribute: false },      // call store (web/src/state/call-store.js)
    callActions: { attribute: false },
    presence: { attribute: false },   // presence store: the VoIP tab lists whom to call
    preferences: { attribute: false },   // preferences (state/preferences.js): the VoIP tab's ringing setting
    mail: { attribute: false },          // mail store (state/mail-store.js)
    mailActions: { attribute: false },   // mail actions (app/mail-controller.js)
    requests: { attribute: false },      // unseen secure-channel requests (app/channel-requests.js), asked for with an event
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
    [role="tablist"] {
      display: flex; gap: var(--space-1); padding: 0 var(--space-4);
      border-bottom: 1px solid var(--color-border); background: var(--color-surface);
    }
    [role="tab"] {
      display: inline-flex; align-items: center; gap: var(--space-2);
      height: 46px; padding: 0 var(--space-4); border: 0; border-bottom: 2px solid transparent;
      background: transparent; color: var(--color-text-muted); font-weight: 600; cursor: pointer;
    }
    [role="tab"]:hover { color: var(--color-text); }
    [role="tab"][aria-selected="true"] { color: var(--color-accent); border-bottom-color: var(--color-accent); }
    .unread { min-width: 1.5em; padding: 0 6px; border-radius: 999px; background: var(--color-accent); color: var(--color-accent-text); font-size: 0.75rem; font-weight: 700; text-align: center; }
    [role="tabpanel"] { flex: 1; display: flex; overflow: auto; }
    [role="tabpanel"][hidden] { display: none; }
    @media (max-width: 480px) {
      [role="tab"] { padding: 0 var(--space-3); }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.selected = 'chat';
    this.webRtcAvailable = true;
    this.channelSnapshot = new StoreController(this, 'channels');
    this.roomSnapshot = new StoreController(this, 'rooms');
    this.callSnapshot = new StoreController(this, 'calls');
    this.requestSnapshot = new StoreController(this, 'requests');
    this.shownCall = null;   // the call the VoIP tab was brought forward for
    // A conversation the user asked for from the online list is in the Chat tab (ui/focus.js).
    this.onConversationRequested = () => {
      if (this.selected !== 'chat') this.select('chat');
    };
  }

  connectedCallback() {
    super.connectedCallback();
    const detail = {};
    this.dispatchEvent(new CustomEvent('secms-requests-context', { detail, bubbles: true, composed: true }));
    if (detail.store) this.requests = detail.store;
    document.addEventListener('secms-conversation-requested', this.onConversationRequested);
  }

  disconnectedCallback() {
    document.removeEventListener('secms-conversation-requested', this.onConversationRequested);
    super.disconnectedCallback();
  }

  /** The tab's badge: the number shown, and words read as part of the tab's name. */
  renderBadge(count, words, testid) {
    return html`<span class="unread" aria-hidden="true" data-testid=${testid}>${count}</span><span class="visually-hidden">, ${words}</span>`;
  }

  /** Badges of a tab: unread lines and unseen channel requests on Chat, a ringing call on VoIP. */
  renderBadges(id, unread) {
    if (id === 'chat') {
      const requests = this.requestSnapshot.value?.pending.length ?? 0;
      return html`${unread ? html`<span class="unread" data-testid="chat-unread-total" aria-label=${t('chat.unread', { count: unread })}>${unread}</span>` : ''}${requests
        ? this.renderBadge(requests, t('announce.requests_badge', { count: requests }), 'chat-requests') : ''}`;
    }
    if (id === 'voip' && this.callSnapshot.value?.call?.phase === 'incoming') {
      return this.renderBadge(1, t('announce.call_badge'), 'voip-incoming');
    }
    return '';
  }

  /** Unread lines over every conversation, shown on the Chat tab's label. */
  chatUnread() {
    return (this.channelSnapshot.value ? unreadTotal(this.channelSnapshot.value) : 0) + (this.roomSnapshot.value ? roomUnreadTotal(this.roomSnapshot.value) : 0);
  }

  select(id, { focus = false } = {}) {
    this.selected = id;
    this.dispatchEvent(new CustomEvent('service-change', { detail: { service: id }, bubbles: true, composed: true }));
    if (focus) this.updateComplete.then(() => this.renderRoot.querySelector(`#tab-${id}`)?.focus());
  }

  updated(changed) {
    // A call placed (from a conversation, the online list) or accepted brings the VoIP tab forward
    // once, so its controls and security indicator are in view.
    const call = this.callSnapshot.value?.call;
    if (call && call.phase !== 'incoming' && call.phase !== 'ended' && call.id !== this.shownCall) {
      this.shownCall = call.id;
      if (this.selected !== 'voip') this.select('voip');
    }
    // The channel store counts lines as unread while the Chat tab is not the one shown.
    if (changed.has('selected') || changed.has('channels') || changed.has('rooms')) {
      this.channels?.setViewing(this.selected === 'chat');
      this.rooms?.setViewing(this.selected === 'chat');
    }
  }

  onKeydown(event) {
    const index = services.findIndex((service) => service.id === this.selected);
    const last = services.length - 1;
    const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    this.select(services[next].id, { focus: true });
  }

  renderPanel(id) {
    if (id === 'chat') {
      return this.identity
        ? html`<secms-chat-panel .identity=${this.identity} .channels=${this.channels} .rooms=${this.rooms} .actions=${this.actions}></secms-chat-panel>`
        : html`<secms-notice-card icon="chat" heading=${t('chat.empty.title')} body=${t('chat.empty.body')}></secms-notice-card>`;
    }
    if (id === 'voip') {
      return html`<secms-voip-panel .calls=${this.calls} .callActions=${this.callActions} .presence=${this.presence}
        .identity=${this.identity} .webRtcAvailable=${this.webRtcAvailable} .preferences=${this.preferences}></secms-voip-panel>`;
    }
    return html`<secms-mail-panel .mail=${this.mail} .mailActions=${this.mailActions} .preferences=${this.preferences}></secms-mail-panel>`;
  }

  render() {
    const unread = this.chatUnread();
    return html`
      <div role="tablist" part="tablist" aria-label=${t('tabs.label')} @keydown=${this.onKeydown}>
        ${services.map(({ id, icon }) => html`
          <button role="tab" type="button" id=${`tab-${id}`} aria-controls=${`panel-${id}`}
            aria-selected=${String(this.selected === id)} tabindex=${this.selected === id ? 0 : -1}
            data-testid=${`tab-${id}`} @click=${() => this.select(id)}>${icons[icon]}${t(`tabs.${id}`)}${this.renderBadges(id, unread)}</button>`)}
      </div>
      ${services.map(({ id }) => html`
        <section role="tabpanel" id=${`panel-${id}`} aria-labelledby=${`tab-${id}`} tabindex="0"
          data-testid=${`panel-${id}`} ?hidden=${this.selected !== id}>${this.renderPanel(id)}</section>`)}`;
  }
}

customElements.define('secms-service-tabs', ServiceTabs);
