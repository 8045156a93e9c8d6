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
import { requestConversationFocus } from './focus.js';

export class RoomView extends LitElement {
  static properties = {
    room: { attribute: false },
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
    @media (max-width: 760px) { .body { grid-template-columns: 1fr; } aside { display: none; } }
  `];

  constructor() {
    super();
    new LanguageController(this);
  }

  nameOf(user) {
    const nick = Object.hasOwn(this.room.nicks, user) ? this.room.nicks[user] : null;
    return typeof nick === 'string' && nick && nick !== user ? `${nick} (${user})` : user;
  }

  renderMembers(room) {
    return html`
      <aside aria-label=${t('room.members')}>
        <h3>${t('room.members_count', { count: room.members.length })}</h3>
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
      <header>
        <h2 data-testid="room-title">${roomLabel(room)}</h2>
        <span class="badge" data-testid="room-state" data-state=${room.joined ? 'joined' : 'ended'} role="status">
          ${room.joined ? icons.shield : icons.lockOpen}${t(room.joined ? 'room.encrypted' : `room.ended.${room.endReason ?? 'left'}`)}</span>
        <span class="spacer"></span>
        ${room.joined
          ? html`<button class="button secondary" type="button" data-testid="room-leave" @click=${() => this.actions.leaveRoom(room.room)}>${t('room.leave')}</button>`
          : html`<button class="button secondary" type="button" data-testid="room-remove" @click=${() => this.actions.removeRoom(room.room)}>${t('channel.remove')}</button>`}
      </header>
      <div class="body">
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
