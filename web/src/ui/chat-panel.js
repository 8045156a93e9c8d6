// The Chat tab: identity first (create, import or unlock), then the conversations — rooms (join
// one by name, make a private one, answer invitations) and private secure channels — beside the
// selected one, or the user's own certificate when none is selected.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { channelStatusOf } from '../state/channel-store.js';
import { roomLabel } from '../state/room-store.js';
import { serverErrorText } from '../app/server-errors.js';
import { focusFirstInvalid } from './field-errors.js';
import { deepActiveElement, focusIsLost, moveFocus } from './focus.js';
import { isPhoneLayout } from './phone-layout.js';
import './identity-setup.js';
import './room-view.js';
import './own-identity.js';
import './channel-view.js';
import './notice-card.js';

export class ChatPanel extends LitElement {
  static properties = {
    identity: { attribute: false },
    channels: { attribute: false },
    rooms: { attribute: false },
    actions: { attribute: false },
    joinError: { state: true },
    pane: { state: true },   // on phones (phone-layout.js): 'lists' | 'conversation' | 'details' (a room's members)
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
    form.join { display: flex; gap: var(--space-1); padding: 0 var(--space-2); }
    form.join input { flex: 1; min-width: 0; height: 32px; padding: 0 var(--space-2); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); }
    form.join button, .invitation button, nav button.new-room { width: auto; padding: 0 var(--space-2); height: 32px; }
    nav button.new-room { font-size: 0.85rem; color: var(--color-accent); }
    .invitation { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-1); padding: var(--space-2); border: 1px dashed var(--color-border); border-radius: var(--radius-m); font-size: 0.85rem; overflow-wrap: anywhere; }
    .pane-bar { display: none; }
    /* Phones (phone-layout.js): the lists or the conversation, never both; "Back" on top of the
       conversation (a touch target of 44 px). */
    @media (max-width: 760px) {
      .layout { grid-template-columns: minmax(0, 1fr); }
      nav { border-right: 0; overflow: visible; }
      .layout[data-pane="lists"] .detail { display: none; }
      .layout:not([data-pane="lists"]) nav { display: none; }
      .pane-bar { display: flex; flex: none; border-bottom: 1px solid var(--color-border); background: var(--color-surface); }
      .pane-bar button { display: inline-flex; align-items: center; gap: var(--space-1); min-height: 44px; padding: 0 var(--space-3); border: 0; background: transparent; color: var(--color-accent); font-weight: 600; cursor: pointer; }
      .pane-bar svg { width: 18px; height: 18px; transform: rotate(90deg); }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.identitySnapshot = new StoreController(this, 'identity');
    this.channelSnapshot = new StoreController(this, 'channels');
    this.roomSnapshot = new StoreController(this, 'rooms');
    this.pane = 'lists';
    this.shownSelection = null;       // the selection the pane follows ('room:…', 'channel:…' or '')
    this.identityPhase = null;
    this.paneFocus = null;            // { force, from } after a pane change: focus goes to the pane once it is shown
    // A conversation asked for from the online list or a room's members (ui/focus.js) is shown.
    this.onConversationRequested = () => this.showPane('conversation');
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener('secms-conversation-requested', this.onConversationRequested);
  }

  disconnectedCallback() {
    document.removeEventListener('secms-conversation-requested', this.onConversationRequested);
    super.disconnectedCallback();
  }

  /**
   * Shows one pane on phones. `force`: focus goes to the pane even if it is not lost (the user
   * pressed a button that stays on screen); otherwise only focus lost with the pane that went.
   */
  showPane(pane, { force = false } = {}) {
    if (pane === this.pane) return;
    this.paneFocus = { force, from: this.pane };
    this.pane = pane;
  }

  // The pane follows the conversations: one newly selected (by the user, a command, a request
  // this user made) is shown; a key just made or unlocked shows the user's own certificate and
  // what to do next; details belong to the room they were opened for.
  willUpdate(changed) {
    super.willUpdate?.(changed);
    const identityPhase = this.identitySnapshot.value?.phase ?? null;
    if (identityPhase === 'ready' && this.identityPhase && !['ready', 'starting'].includes(this.identityPhase)) this.showPane('conversation');
    this.identityPhase = identityPhase;
    const channels = this.channelSnapshot.value;
    const rooms = this.roomSnapshot.value;
    const ownIdentityAsked = this.ownIdentityAsked;
    this.ownIdentityAsked = false;
    if (!channels || !rooms) return;
    const selection = rooms.selected ? `room:${rooms.selected}` : channels.selected ? `channel:${channels.selected}` : '';
    if (selection === this.shownSelection) return;
    const first = this.shownSelection === null;
    this.shownSelection = selection;
    if (first) return;
    // No selection left: the user's own certificate if they asked for it, else the conversation
    // shown was removed and the lists come back.
    this.showPane(selection || ownIdentityAsked ? 'conversation' : 'lists');
  }

  updated(changed) {
    super.updated?.(changed);
    if (changed.has('pane')) {
      this.dispatchEvent(new CustomEvent('secms-chat-pane', { detail: { pane: this.pane }, bubbles: true, composed: true }));
    }
    if (this.paneFocus) {
      const request = this.paneFocus;
      this.paneFocus = null;
      if (isPhoneLayout()) this.focusPane(this.pane, request);
    }
  }

  /** The pane's heading or first action takes focus once the pane is on screen. */
  async focusPane(pane, { force, from }) {
    const view = this.renderRoot.querySelector('.detail > secms-channel-view, .detail > secms-room-view, .detail > secms-own-identity');
    await view?.updateComplete;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    if (pane !== this.pane) return;
    const active = deepActiveElement();
    // A view that already put focus on its next action (ui/focus.js) keeps it.
    if (!force && !focusIsLost() && active?.checkVisibility?.() !== false) return;
    if (pane === 'lists') {
      moveFocus(this.renderRoot.querySelector('nav button[aria-current="true"]') ?? this.renderRoot.querySelector('nav button'));
    } else if (view?.focusPaneStart) {
      view.focusPaneStart(pane, from);
    } else {
      moveFocus(view?.renderRoot?.querySelector('h2') ?? this.renderRoot.querySelector('.pane-bar button'));
    }
  }

  /** Whether a room or a channel is selected (a conversation to show, not the own certificate). */
  hasSelection() {
    return Boolean(this.shownSelection);
  }

  /** "Back": from a room's members to the room, from a conversation to the lists. */
  back() {
    this.showPane(this.pane === 'details' ? 'conversation' : 'lists', { force: true });
  }

  /** A conversation of the list was picked: on phones it takes the window. */
  openFromList(select) {
    select();
    this.showPane('conversation');
  }

  async onJoin(event) {
    event.preventDefault();
    const input = event.target.elements['room-name'];
    const name = input.value.trim();
    if (!name) {
      this.joinError = { code: 'required', messageKey: 'form.required.room_name', params: {} };
      focusFirstInvalid(this, ['room-join-name'], { 'room-join-name': true });
      return;
    }
    const result = await this.actions.joinRoom(name);
    this.joinError = result?.error ?? null;
    if (!this.joinError) input.value = '';
    else focusFirstInvalid(this, ['room-join-name'], { 'room-join-name': true });
  }

  renderRooms(roomSnapshot) {
    return html`
      <h2>${t('room.list')}</h2>
      <form class="join" @submit=${this.onJoin} novalidate>
        <input name="room-name" id="room-join-name" type="text" maxlength="64" autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" placeholder="lobby"
          aria-label=${t('room.join_label')} data-testid="room-join-name"
          aria-invalid=${this.joinError ? 'true' : nothing} aria-describedby=${this.joinError ? 'room-join-error' : nothing}
          @input=${() => { if (this.joinError?.code === 'required') this.joinError = null; }}>
        <button class="button secondary" type="submit" data-testid="room-join">${t('room.join')}</button>
      </form>
      ${this.joinError ? html`<p class="message error" role="alert" id="room-join-error" data-testid="room-join-error" data-code=${this.joinError.code}>${t(this.joinError.messageKey, this.joinError.params)}</p>` : nothing}
      <button type="button" class="new-room" data-testid="room-create-private" @click=${() => this.actions.joinRoom(null)}>${t('room.create_private')}</button>
      ${roomSnapshot.invitations.map((invitation) => html`
        <div class="invitation" data-testid="room-invitation" data-room=${invitation.room}>
          <span>${t('room.invited_by', { user: invitation.by })}</span>
          <button class="button" type="button" data-testid="room-invitation-join" @click=${() => this.actions.joinRoom(invitation.room)}>${t('room.join')}</button>
          <button class="button secondary" type="button" data-testid="room-invitation-dismiss" @click=${() => this.actions.dismissInvitation(invitation.room)}>${t('room.dismiss')}</button>
        </div>`)}
      ${roomSnapshot.rooms.map((room) => html`
        <button type="button" aria-current=${String(room.room === roomSnapshot.selected)} data-testid="room-entry"
          data-room=${room.room} data-name=${room.name ?? nothing} data-joined=${String(room.joined)} @click=${() => this.openFromList(() => this.actions.selectRoom(room.room))}>
          ${icons.chat}<span class="entry"><span class="name">${roomLabel(room)}</span>
          <span class="state">${room.joined ? t('room.members_count', { count: room.members.length }) : t(`room.ended.${room.endReason ?? 'left'}`)}</span></span>
          ${room.unread ? html`<span class="unread" data-testid="room-unread" aria-label=${t('chat.unread', { count: room.unread })}>${room.unread}</span>` : nothing}
        </button>`)}`;
  }

  renderNotice(notice) {
    if (!notice) return nothing;
    const text = serverErrorText(notice, { prefixes: ['channel.error', 'server.error'] });
    return html`<p class="message error notice" role="alert" data-testid="channel-notice" data-code=${notice.code}>
      ${t(text.key, text.params)}
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
    const roomSnapshot = this.roomSnapshot.value;
    const selectedRoom = roomSnapshot.rooms.find((room) => room.room === roomSnapshot.selected) ?? null;
    const selected = selectedRoom ? null : snapshot.channels.find((channel) => channel.session === snapshot.selected) ?? null;
    return html`
      <div class="layout" data-pane=${this.pane}>
        <nav aria-label=${t('chat.conversations')}>
          <button type="button" aria-current=${String(!selected && !selectedRoom)} data-testid="own-identity-entry" @click=${() => { this.ownIdentityAsked = true; this.openFromList(() => this.actions.selectChannel(null)); }}>
            ${icons.key}<span class="entry"><span class="name">${t('identity.yours')}</span></span>
          </button>
          ${this.renderRooms(roomSnapshot)}
          <h2>${t('channel.list')}</h2>
          ${snapshot.channels.length === 0 ? html`<p class="empty">${t('channel.none')}</p>` : nothing}
          ${[...snapshot.channels].reverse().map((channel) => {
            const status = channelStatusOf(channel);
            return html`
              <button type="button" aria-current=${String(channel.session === snapshot.selected)} data-testid="channel-entry"
                data-session=${channel.session} data-peer=${channel.peer.username} data-state=${status.state}
                @click=${() => this.openFromList(() => this.actions.selectChannel(channel.session))}>
                ${status.state === 'secure' ? icons.shield : status.state === 'compromised' ? icons.alert : icons.lockOpen}
                <span class="entry"><span class="name">${channel.peer.username}</span><span class="state">${t(`channel.status.${status.state}`)}</span></span>
                ${channel.unread ? html`<span class="unread" data-testid="channel-unread" aria-label=${t('chat.unread', { count: channel.unread })}>${channel.unread}</span>` : nothing}
              </button>`;
          })}
        </nav>
        <div class="detail">
          <div class="pane-bar"><button type="button" data-testid="pane-back" @click=${() => this.back()}>${icons.chevronDown}${t(this.pane === 'details' ? 'layout.back_to_conversation' : 'layout.back_to_conversations')}</button></div>
          ${this.renderNotice(snapshot.notice)}
          ${selectedRoom
            ? html`<secms-room-view .room=${selectedRoom} .pane=${this.pane} @secms-pane-request=${(event) => this.showPane(event.detail.pane, { force: true })} .ignored=${snapshot.ignored} .self=${snapshot.self} .actions=${this.actions}
                .offers=${Object.fromEntries(snapshot.channels.filter((channel) => channel.phase === 'offered').map((channel) => [channel.peer.username, channel.session]))}></secms-room-view>`
            : selected
              ? html`<secms-channel-view .channel=${selected} .ignored=${snapshot.ignored} .self=${snapshot.self} .actions=${this.actions}></secms-channel-view>`
              : html`<secms-own-identity .identity=${this.identity} .actions=${this.actions}></secms-own-identity>`}
        </div>
      </div>`;
  }
}

customElements.define('secms-chat-panel', ChatPanel);
