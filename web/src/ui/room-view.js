// One chat room: its name and members (with their nicknames, the moderators marked, and who
// cannot read this user's lines yet because no secure channel with them is up), the lines
// (./chat-log.js) and the input (./chat-compose.js). Lines typed go to actions.submitRoomLine
// (web/src/app/room-chat.js), which parses commands; every line is end-to-end encrypted under
// this user's sender key before it leaves the crypto Worker.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { canModerate, roomLabel } from '../state/room-store.js';
import './chat-log.js';
import './chat-compose.js';
import { moveFocus, requestConversationFocus } from './focus.js';

export class RoomView extends LitElement {
  static properties = {
    room: { attribute: false },
    pane: { attribute: false },      // on phones (phone-layout.js): 'conversation', or 'details' for the members alone
    actions: { attribute: false },
    ignored: { attribute: false },
    self: { attribute: false },
    offers: { attribute: false },   // username → session of a channel offer awaiting this user's review
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; flex: 1; }
    header { display: flex; align-items: center; gap: var(--space-3); flex-wrap: wrap; padding: var(--space-3) var(--space-4); border-bottom: 1px solid var(--color-border); }
    header h2 { margin: 0; font-size: 1.05rem; overflow-wrap: anywhere; }
    .badge { display: inline-flex; align-items: center; gap: var(--space-1); padding: 2px var(--space-2); border-radius: 999px; font-size: 0.82rem; font-weight: 600; background: var(--color-success-soft); color: var(--color-success); }
    .badge[data-state="ended"] { background: var(--color-surface-2); color: var(--color-text-muted); }
    .badge svg { width: 14px; height: 14px; }
    .spacer { flex: 1; }
    .body { flex: 1; display: grid; grid-template-columns: 1fr 200px; min-height: 0; }
    .main { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
    aside { border-left: 1px solid var(--color-border); overflow-y: auto; padding: var(--space-3); font-size: 0.88rem; }
    aside h3 { margin: 0 0 var(--space-2); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--color-text-muted); }
    aside ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: var(--space-2); }
    aside li { display: flex; flex-direction: column; min-width: 0; overflow-wrap: anywhere; }
    aside .role { font-size: 0.75rem; color: var(--color-accent); }
    aside .waiting { font-size: 0.75rem; color: var(--color-warning); }
    aside button { align-self: flex-start; border: 0; background: transparent; color: var(--color-accent); text-decoration: underline; cursor: pointer; padding: 0; font-size: 0.75rem; }
    .history { color: var(--color-text-muted); font-size: 0.8rem; margin: 0 0 var(--space-3); }
    .ended { margin: var(--space-3) var(--space-4) 0; }
    .members-show { display: none; }
    /* Phones (phone-layout.js): the conversation, or its members as a pane of their own (from the
       "Members" button; chat-panel's "Back" returns), so every member's actions stay reachable. */
    @media (max-width: 760px) {
      header { gap: var(--space-2); padding: var(--space-2) var(--space-3); }
      .body { grid-template-columns: minmax(0, 1fr); }
      .members-show { display: inline-flex; }
      .body:not([data-pane="details"]) aside { display: none; }
      .body[data-pane="details"] .main, header[data-pane="details"] { display: none; }
      aside { border-left: 0; padding: var(--space-4); font-size: 0.95rem; }
      aside ul { gap: var(--space-3); }
      aside li { gap: var(--space-1); }
      aside button { min-height: 44px; font-size: 0.9rem; }
      aside h3 { font-size: 0.9rem; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
  }

  // Phones: the members as a pane of their own (chat-panel shows it and moves focus there).
  showMembers() {
    this.dispatchEvent(new CustomEvent('secms-pane-request', { detail: { pane: 'details' } }));
  }

  /** Focus on entering a pane (phones): the members' heading, else the button that opened them, else the room's name. */
  focusPaneStart(pane, from) {
    const target = pane === 'details' ? this.renderRoot.querySelector('[data-testid="room-members-heading"]')
      : from === 'details' ? this.renderRoot.querySelector('[data-testid="room-members-show"]')
        : this.renderRoot.querySelector('header h2');
    moveFocus(target);
  }

  nameOf(user) {
    const nick = Object.hasOwn(this.room.nicks, user) ? this.room.nicks[user] : null;
    return typeof nick === 'string' && nick && nick !== user ? `${nick} (${user})` : user;
  }

  renderMembers(room) {
    return html`
      <aside aria-label=${t('room.members')}>
        <h3 tabindex="-1" data-testid="room-members-heading">${t('room.members_count', { count: room.members.length })}</h3>
        <ul data-testid="room-members">
          ${room.members.map((member) => html`
            <li data-testid="room-member" data-username=${member} data-waiting=${String(room.waitingFor.includes(member))}>
              <span>${this.nameOf(member)}${member === this.self ? html` · ${t('room.you')}` : nothing}</span>
              ${room.moderators.includes(member) ? html`<span class="role">${t('room.moderator')}</span>`
                : !room.public && room.owner === member ? html`<span class="role">${t('room.owner')}</span>` : nothing}
              ${room.waitingFor.includes(member) ? html`<span class="waiting">${t('room.no_channel')}</span>` : nothing}
              ${this.offers?.[member] ? html`<button type="button" data-testid="room-member-review" @click=${() => this.actions.selectChannel(this.offers[member])}>${t('room.review')}</button>` : nothing}
              ${member !== this.self ? html`<button type="button" data-testid="room-member-private" @click=${() => { requestConversationFocus(member); this.actions.openPrivate(member); }}>${t('room.private')}</button>` : nothing}
            </li>`)}
        </ul>
      </aside>`;
  }

  render() {
    const room = this.room;
    if (!room) return nothing;
    const ignored = new Set(this.ignored ?? []);
    const moderator = canModerate(room, this.self);
    return html`
      <header data-pane=${this.pane ?? 'conversation'}>
        <h2 tabindex="-1" data-testid="room-title">${roomLabel(room)}</h2>
        <span class="badge" data-testid="room-state" data-state=${room.joined ? 'joined' : 'ended'} role="status">
          ${room.joined ? icons.shield : icons.lockOpen}${t(room.joined ? 'room.encrypted' : `room.ended.${room.endReason ?? 'left'}`)}</span>
        <span class="spacer"></span>
        <button class="button secondary members-show" type="button" data-testid="room-members-show" @click=${this.showMembers}>${t('layout.members', { count: room.members.length })}</button>
        ${room.joined
          ? html`<button class="button secondary" type="button" data-testid="room-leave" @click=${() => this.actions.leaveRoom(room.room)}>${t('room.leave')}</button>`
          : html`<button class="button secondary" type="button" data-testid="room-remove" @click=${() => this.actions.removeRoom(room.room)}>${t('channel.remove')}</button>`}
      </header>
      <div class="body" data-pane=${this.pane ?? 'conversation'}>
        <div class="main">
          <secms-chat-log .messages=${room.messages} .conversation=${room.room}
            .nameOf=${(message) => (message.from === 'me' ? t('channel.me') : this.nameOf(message.user))}
            .actorOf=${(message) => this.nameOf(message.user)}
            .canDelete=${(message) => room.joined && (message.from === 'me' || moderator)}
            .statusOf=${(message) => (message.recipients.length ? t(`chat.message.room_${message.status}`, { count: message.deliveredTo.length, total: message.recipients.length }) : t('chat.message.sent'))}
            .hide=${(message) => message.from === 'peer' && ignored.has(message.user.toLowerCase())}
            .onDelete=${(message) => this.actions.deleteRoomMessage(room.room, message.key)}>
            <p class="history" data-testid="chat-history-note">${t('room.history_note')}</p>
          </secms-chat-log>
          ${room.joined ? html`<secms-chat-compose .maxLength=${room.limits.maxMessageChars} .submit=${(text) => this.actions.submitRoomLine(room.room, text)}></secms-chat-compose>` : nothing}
        </div>
        ${this.renderMembers(room)}
      </div>`;
  }
}

customElements.define('secms-room-view', RoomView);
