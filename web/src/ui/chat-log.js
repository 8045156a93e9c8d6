// The lines of one conversation (a private channel or a room), shared by both views: chat
// lines rendered from BBCode (web/src/chat/bbcode.js → ./chat-markup.js: DOM nodes, never
// parsed HTML), actions, system lines (command answers, errors, dice), delivery state and the
// delete button. Content slotted before the list (an offer, a notice) scrolls with it. New lines
// scroll into view when the reader was at the bottom; links open only after a confirm that shows
// the full address.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { chatMarkupStyles } from './shared-styles.js';
import { parseBBCode } from '../chat/bbcode.js';
import { chatCommands } from '../chat/commands.js';
import { createLinkGuard, renderChatMarkup } from './chat-markup.js';
import { formatClock } from './format.js';

// Call lines carry the call's media as data ("audio" | "video"), so the words follow the reader's
// language when the line is drawn, not the language of the moment the call ended.
const mediaKeys = Object.freeze({ audio: 'call.media.audio', video: 'call.media.video' });

/** The text of a system line: its message key filled with its params, translated on render. */
export function systemLineText({ messageKey, params }) {
  if (!params) return t(messageKey);
  const filled = Object.hasOwn(mediaKeys, params.media) ? { ...params, media: t(mediaKeys[params.media]) } : params;
  if (params.reason) return t(messageKey, { ...filled, reason: t(params.reason, params) });
  return t(messageKey, filled);
}

export class ChatLog extends LitElement {
  static properties = {
    messages: { attribute: false },
    conversation: { attribute: false },   // an id: a new one scrolls to the bottom
    nameOf: { attribute: false },         // message → the author's display name
    actorOf: { attribute: false },        // message → the name in "* name text" actions
    canDelete: { attribute: false },      // message → whether this user may withdraw it
    statusOf: { attribute: false },       // own message → its status text
    hide: { attribute: false },           // message → true for lines of ignored users
    onDelete: { attribute: false },       // message → void
  };

  static styles = [chatMarkupStyles, css`
    :host { display: flex; flex-direction: column; flex: 1; min-height: 0; }
    .scroll { flex: 1; overflow: auto; padding: var(--space-4); }
    .scroll:focus-visible { outline: 2px solid var(--color-focus); outline-offset: -2px; }
    ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: var(--space-2); }
    li { max-width: 75%; padding: var(--space-2) var(--space-3); border-radius: var(--radius-m); background: var(--color-surface-2); border: 1px solid var(--color-border); align-self: flex-start; }
    li[data-from="me"] { align-self: flex-end; background: var(--color-accent-soft); border-color: transparent; }
    li .meta { display: block; font-size: 0.75rem; color: var(--color-text-muted); margin-bottom: 2px; overflow-wrap: anywhere; }
    li .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    li[data-deleted] .text { font-style: italic; color: var(--color-text-muted); }
    li .status { margin-left: var(--space-1); }
    li .status[data-status="delivered"] { color: var(--color-success); }
    li .status[data-status="unconfirmed"] { color: var(--color-danger); }
    li .delete { margin-left: var(--space-2); border: 0; background: transparent; color: var(--color-text-muted); cursor: pointer; font-size: 0.75rem; text-decoration: underline; padding: 0; }
    li.system { max-width: 100%; align-self: stretch; background: transparent; border-style: dashed; color: var(--color-text-muted); font-size: 0.88rem; overflow-wrap: anywhere; }
    li.system[data-level="error"] { color: var(--color-danger); border-color: var(--color-danger); }
    li.system[data-level="roll"] { color: var(--color-text); font-weight: 600; }
    li.system ul { margin: var(--space-1) 0 0; padding-left: var(--space-4); }
    li.system code { font-family: var(--font-mono); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.messages = [];
    this.markup = new WeakMap();   // message entry → its rendered markup node (entries are immutable)
    this.nameOf = () => '';
    this.actorOf = () => '';
    this.canDelete = () => false;
    this.statusOf = (message) => t(`chat.message.${message.status}`);
    this.hide = () => false;
    this.onDelete = () => {};
  }

  // Follows the conversation: a new line scrolls into view when the reader was at the bottom
  // (or sent it); someone reading older lines is not pulled away.
  willUpdate() {
    const scroller = this.renderRoot?.querySelector?.('.scroll');
    this.stickToBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  }

  updated() {
    const count = this.messages?.length ?? 0;
    const last = this.messages?.at(-1);
    const changed = this.conversation !== this.shownConversation || count !== this.shownCount;
    this.shownConversation = this.conversation;
    this.shownCount = count;
    if (!changed) return;
    const scroller = this.renderRoot.querySelector('.scroll');
    if (scroller && (this.stickToBottom || last?.from === 'me' || last?.from === 'system')) scroller.scrollTop = scroller.scrollHeight;
  }

  // Links open only after the full address was shown: a link's text can say anything. Middle
  // click, the context menu and dragging are guarded too (createLinkGuard).
  onLinkEvent = createLinkGuard({
    confirmOpen: (url) => window.confirm(t('chat.link.confirm', { url })),
    openUrl: (url) => window.open(url, '_blank', 'noopener,noreferrer'),
  });

  markupOf(message) {
    let node = this.markup.get(message);
    if (!node) {
      node = renderChatMarkup(parseBBCode(message.text));
      this.markup.set(message, node);
    }
    return node;
  }

  systemText(message) {
    return systemLineText(message);
  }

  renderSystem(message) {
    return html`
      <li class="system" data-testid="chat-system" data-level=${message.level} data-key=${message.messageKey}
        data-value=${message.text || nothing}>
        <span class="meta">${formatClock(message.at)}</span>
        <span class="text">${this.systemText(message)}</span>
        ${message.level === 'help' ? html`<ul data-testid="chat-help">
          ${chatCommands.filter((command) => !message.params.command || command.name === message.params.command).map((command) => html`
            <li><code>${command.usage}</code> — ${t(command.descriptionKey)}</li>`)}
        </ul>` : nothing}
      </li>`;
  }

  renderMessage(message) {
    if (message.from === 'system') return this.renderSystem(message);
    const mine = message.from === 'me';
    return html`
      <li data-testid="channel-message" data-from=${message.from} data-kind=${message.kind} data-key=${message.key ?? nothing}
        data-user=${message.user ?? nothing} ?data-deleted=${message.deleted} data-status=${message.status ?? nothing}>
        <span class="meta"><span data-testid="message-author">${this.nameOf(message)}</span> · ${formatClock(message.at)}${mine && message.status
          ? html`<span class="status" data-testid="message-status" data-status=${message.status}>· ${this.statusOf(message)}</span>` : nothing}${
          !message.deleted && message.key && this.canDelete(message)
            ? html`<button class="delete" type="button" data-testid="message-delete" aria-label=${t('chat.message.delete_label')}
                @click=${() => this.onDelete(message)}>${t('chat.message.delete')}</button>` : nothing}</span>
        <span class="text" data-testid="channel-message-text">${message.deleted ? t('chat.message.deleted')
          : message.kind === 'action' ? html`* ${this.actorOf(message)} ${this.markupOf(message)}` : this.markupOf(message)}</span>
      </li>`;
  }

  // The scroll box is a named, focusable region: older lines scroll with the keyboard even when no
  // line holds a button (WCAG 2.1.1). The list is a polite live region that reads each line added,
  // error lines included (an <li> cannot be an alert).
  render() {
    return html`
      <div class="scroll" role="region" aria-label=${t('channel.messages')} tabindex="0">
        <slot></slot>
        <ol aria-live="polite" aria-relevant="additions" data-testid="channel-messages"
          @click=${this.onLinkEvent} @auxclick=${this.onLinkEvent} @contextmenu=${this.onLinkEvent} @dragstart=${this.onLinkEvent}>
          ${(this.messages ?? []).filter((message) => !this.hide(message)).map((message) => this.renderMessage(message))}
        </ol>
      </div>`;
  }
}

customElements.define('secms-chat-log', ChatLog);
