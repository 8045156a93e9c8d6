// One secure channel: the peer's certificate to accept or reject (with a loud, blocking
// warning when a remembered fingerprint changed), then the channel's state, SAS, messages
// and the private conversation: chat lines rendered from BBCode (web/src/chat/bbcode.js →
// web/src/ui/chat-markup.js: DOM nodes, never parsed HTML), actions, system lines, delivery
// state, deletion, the input with its live length counter. The lines typed go to
// actions.submitChatLine (web/src/app/private-chat.js), which parses commands.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles, chatMarkupStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { channelStatusOf, isIgnored, peerDisplayName } from '../state/channel-store.js';
import { parseBBCode } from '../chat/bbcode.js';
import { messageLength } from '../chat/limits.js';
import { chatCommands } from '../chat/commands.js';
import { renderChatMarkup } from './chat-markup.js';
import { formatClock, groupFingerprint, suiteNames } from './format.js';
import { channelReasonText } from './channel-text.js';
import './certificate-report.js';

export class ChannelView extends LitElement {
  static properties = {
    channel: { attribute: false },
    actions: { attribute: false },
    ignored: { attribute: false },
    self: { attribute: false },      // this user's username (own actions read "* name text")
    sending: { state: true },
    draft: { state: true },
    inputError: { state: true },
  };

  static styles = [controlStyles, chatMarkupStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; flex: 1; }
    header { display: flex; align-items: center; gap: var(--space-3); flex-wrap: wrap; padding: var(--space-3) var(--space-4); border-bottom: 1px solid var(--color-border); }
    header h2 { margin: 0; font-size: 1.05rem; }
    .badge { display: inline-flex; align-items: center; gap: var(--space-1); padding: 2px var(--space-2); border-radius: 999px; font-size: 0.82rem; font-weight: 600; background: var(--color-surface-2); border: 1px solid var(--color-border); }
    .badge svg { width: 14px; height: 14px; }
    .badge[data-state="secure"] { background: var(--color-success-soft); color: var(--color-success); border-color: transparent; }
    .badge[data-state="compromised"] { background: var(--color-danger-soft); color: var(--color-danger); border-color: transparent; }
    .badge[data-state="rekeying"], .badge[data-state="key_exchange"], .badge[data-state="waiting"], .badge[data-state="verifying"] { background: var(--color-warning-soft); color: var(--color-warning); border-color: transparent; }
    .spacer { flex: 1; }
    .scroll { flex: 1; overflow: auto; padding: var(--space-4); }
    .sas { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-3); padding: var(--space-3) var(--space-4); background: var(--color-accent-soft); border-bottom: 1px solid var(--color-border); }
    .sas .emoji { font-size: 1.5rem; letter-spacing: 0.2em; }
    .sas .decimal { font-family: var(--font-mono); font-size: 1.05rem; font-weight: 700; }
    .sas .hint { color: var(--color-text-muted); font-size: 0.85rem; flex-basis: 100%; }
    .warning { border: 2px solid var(--color-danger); background: var(--color-danger-soft); color: var(--color-text); border-radius: var(--radius-l); padding: var(--space-4); margin-bottom: var(--space-4); }
    .warning h3 { margin: 0 0 var(--space-2); color: var(--color-danger); display: flex; gap: var(--space-2); align-items: center; }
    .warning dl { display: grid; grid-template-columns: max-content 1fr; gap: var(--space-1) var(--space-3); margin: var(--space-2) 0 0; }
    .warning dd { margin: 0; font-family: var(--font-mono); overflow-wrap: anywhere; }
    .decision { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-3); margin-top: var(--space-4); }
    .decision .checkbox { margin: 0; }
    .known { color: var(--color-success); margin: 0 0 var(--space-3); }
    .lead { color: var(--color-text-muted); margin: 0 0 var(--space-3); }
    .ended { margin: var(--space-3) var(--space-4) 0; }
    ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: var(--space-2); }
    li { max-width: 75%; padding: var(--space-2) var(--space-3); border-radius: var(--radius-m); background: var(--color-surface-2); border: 1px solid var(--color-border); align-self: flex-start; }
    li[data-from="me"] { align-self: flex-end; background: var(--color-accent-soft); border-color: transparent; }
    li .meta { display: block; font-size: 0.75rem; color: var(--color-text-muted); margin-bottom: 2px; }
    li .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    li[data-deleted] .text { font-style: italic; color: var(--color-text-muted); }
    li .status { margin-left: var(--space-1); }
    li .status[data-status="delivered"] { color: var(--color-success); }
    li .delete { margin-left: var(--space-2); border: 0; background: transparent; color: var(--color-text-muted); cursor: pointer; font-size: 0.75rem; text-decoration: underline; padding: 0; }
    li.system { max-width: 100%; align-self: stretch; background: transparent; border-style: dashed; color: var(--color-text-muted); font-size: 0.88rem; }
    li.system[data-level="error"] { color: var(--color-danger); border-color: var(--color-danger); }
    li.system[data-level="roll"] { color: var(--color-text); font-weight: 600; }
    li.system ul { margin: var(--space-1) 0 0; padding-left: var(--space-4); }
    li.system code { font-family: var(--font-mono); }
    .history { color: var(--color-text-muted); font-size: 0.8rem; margin: 0 0 var(--space-3); }
    form.compose { display: flex; flex-wrap: wrap; gap: var(--space-2); padding: var(--space-3) var(--space-4); border-top: 1px solid var(--color-border); }
    form.compose input { flex: 1; height: 40px; padding: 0 var(--space-3); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); }
    form.compose .under { flex-basis: 100%; display: flex; gap: var(--space-3); font-size: 0.8rem; color: var(--color-text-muted); }
    form.compose .counter[data-over] { color: var(--color-danger); font-weight: 600; }
    form.compose .input-error { color: var(--color-danger); flex: 1; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.sending = false;
    this.draft = '';
    this.inputError = null;
    this.markup = new WeakMap();   // message entry → its rendered markup node (entries are immutable)
  }

  accept() {
    const remember = this.renderRoot.querySelector('[data-testid="remember-certificate"]')?.checked ?? false;
    this.actions.acceptChannel(this.channel.session, { remember });
  }

  async onSend(event) {
    event.preventDefault();
    const input = event.target.elements['message-text'];
    const text = input.value;
    if (!text.trim() || this.sending || messageLength(text).over) return;
    this.sending = true;
    this.inputError = null;
    // Cleared at once so that what the user types while the message is being sealed is kept;
    // the text comes back only if it could not be sent.
    input.value = '';
    this.draft = '';
    const restore = () => {
      if (!input.value) {
        input.value = text;
        this.draft = text;
      }
    };
    try {
      const result = await this.actions.submitChatLine(this.channel.session, text);
      if (result?.error) {
        this.inputError = result.error;
        restore();
      }
    } catch {
      // The channel went down meanwhile; its state line says why.
      restore();
    } finally {
      this.sending = false;
      input.focus();
    }
  }

  // Follows the conversation: a new line scrolls into view when the reader was at the bottom
  // (or sent it); someone reading older lines is not pulled away.
  willUpdate() {
    const scroller = this.renderRoot?.querySelector?.('.scroll');
    this.stickToBottom = !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  }

  updated() {
    const count = this.channel?.messages.length ?? 0;
    const last = this.channel?.messages.at(-1);
    const changed = this.channel?.session !== this.shownSession || count !== this.shownCount;
    this.shownSession = this.channel?.session;
    this.shownCount = count;
    if (!changed) return;
    const scroller = this.renderRoot.querySelector('.scroll');
    if (scroller && (this.stickToBottom || last?.from === 'me' || last?.from === 'system')) scroller.scrollTop = scroller.scrollHeight;
  }

  // Links open only after the full address was shown: a link's text can say anything.
  onMessagesClick(event) {
    const link = event.composedPath().find((node) => node instanceof HTMLAnchorElement && node.classList.contains('chat-link'));
    if (link && !window.confirm(t('chat.link.confirm', { url: link.href }))) event.preventDefault();
  }

  markupOf(message) {
    let node = this.markup.get(message);
    if (!node) {
      node = renderChatMarkup(parseBBCode(message.text));
      this.markup.set(message, node);
    }
    return node;
  }

  systemText(message) {
    const { messageKey, params } = message;
    if (params?.reason) return t(messageKey, { ...params, reason: t(params.reason, params) });
    return t(messageKey, params);
  }

  renderSystem(message) {
    return html`
      <li class="system" data-testid="chat-system" data-level=${message.level} data-key=${message.messageKey}
        data-value=${message.text || nothing} role=${message.level === 'error' ? 'alert' : nothing}>
        <span class="meta">${formatClock(message.at)}</span>
        <span class="text">${this.systemText(message)}</span>
        ${message.level === 'help' ? html`<ul data-testid="chat-help">
          ${chatCommands.filter((command) => !message.params.command || command.name === message.params.command).map((command) => html`
            <li><code>${command.usage}</code> — ${t(command.descriptionKey)}</li>`)}
        </ul>` : nothing}
      </li>`;
  }

  renderMessage(channel, message) {
    if (message.from === 'system') return this.renderSystem(message);
    const mine = message.from === 'me';
    const name = mine ? t('channel.me') : peerDisplayName(channel);
    const actor = mine ? (channel.ownNick && this.self && channel.ownNick !== this.self ? `${channel.ownNick} (${this.self})` : this.self || name) : name;
    return html`
      <li data-testid="channel-message" data-from=${message.from} data-kind=${message.kind} data-key=${message.key ?? nothing}
        ?data-deleted=${message.deleted} data-status=${message.status ?? nothing}>
        <span class="meta">${name} · ${formatClock(message.at)}${mine ? html`<span class="status" data-testid="message-status" data-status=${message.status}>· ${t(`chat.message.${message.status}`)}</span>` : nothing}${
          mine && !message.deleted && message.key && (channel.phase === 'secure' || channel.phase === 'rekeying')
            ? html`<button class="delete" type="button" data-testid="message-delete" aria-label=${t('chat.message.delete_label')}
                @click=${() => this.actions.deleteMessage(channel.session, message.key)}>${t('chat.message.delete')}</button>` : nothing}</span>
        <span class="text" data-testid="channel-message-text">${message.deleted ? t('chat.message.deleted')
          : message.kind === 'action' ? html`* ${actor} ${this.markupOf(message)}` : this.markupOf(message)}</span>
      </li>`;
  }

  renderOffer(channel) {
    const changed = channel.trust?.status === 'changed';
    return html`
      ${changed ? html`
        <div class="warning" role="alert" data-testid="fingerprint-warning">
          <h3>${icons.alert}${t('channel.changed.title', { username: channel.peer.username })}</h3>
          <p>${t('channel.changed.body', { username: channel.peer.username })}</p>
          <dl>
            <dt>${t('channel.changed.old')}</dt><dd data-testid="fingerprint-old">${groupFingerprint(channel.trust.knownFingerprint)}</dd>
            <dt>${t('channel.changed.new')}</dt><dd data-testid="fingerprint-new">${groupFingerprint(channel.report.fingerprint)}</dd>
          </dl>
        </div>` : channel.trust?.status === 'trusted'
        ? html`<p class="known" data-testid="fingerprint-known">${t('channel.trusted_before')}</p>`
        : html`<p class="lead">${t(channel.role === 'initiator' ? 'channel.offer.initiator' : 'channel.offer.responder', { username: channel.peer.username })}</p>`}
      <secms-certificate-report data-testid="peer-report" .report=${channel.report}></secms-certificate-report>
      <div class="decision">
        <label class="checkbox"><input type="checkbox" data-testid="remember-certificate" ?checked=${changed}><span>${t('channel.remember')}</span></label>
        <span class="spacer"></span>
        <button class="button secondary" type="button" data-testid="channel-reject" @click=${() => this.actions.rejectChannel(channel.session)}>${t('channel.reject')}</button>
        <button class=${changed ? 'button danger' : 'button'} type="button" data-testid="channel-accept" @click=${this.accept}>${icons.shield}${t(changed ? 'channel.accept_changed' : 'channel.accept')}</button>
      </div>`;
  }

  renderSas(channel) {
    if (!channel.sas || (channel.phase !== 'secure' && channel.phase !== 'rekeying')) return nothing;
    return html`
      <div class="sas" data-testid="channel-sas" data-sas=${`${channel.sas.emojiText} ${channel.sas.decimalText}`}>
        <strong>${t('channel.sas')}</strong>
        <span class="emoji" role="img" aria-label=${channel.sas.emoji.map((item) => item.name).join(', ')} data-testid="channel-sas-emoji">${channel.sas.emojiText}</span>
        <span class="decimal" data-testid="channel-sas-decimal">${channel.sas.decimalText}</span>
        <span class="hint">${t('channel.sas.hint')} · ${suiteNames[channel.suite] ?? ''}</span>
      </div>`;
  }

  render() {
    const channel = this.channel;
    if (!channel) return nothing;
    const status = channelStatusOf(channel);
    const live = ['verifying', 'waiting', 'key_exchange', 'secure', 'rekeying'].includes(status.state);
    const canSend = channel.phase === 'secure' || channel.phase === 'rekeying';
    const hidden = isIgnored({ ignored: this.ignored ?? [] }, channel);
    const length = messageLength(this.draft);
    return html`
      <header>
        <h2>${t('channel.with', { username: peerDisplayName(channel) })}</h2>
        <span class="badge" data-state=${status.state} data-testid="channel-state" role="status">
          ${status.state === 'secure' ? icons.shield : status.state === 'compromised' ? icons.alert : icons.lockOpen}${t(`channel.status.${status.state}`)}
        </span>
        <span class="spacer"></span>
        ${live && channel.phase !== 'offered'
          ? html`<button class="button secondary" type="button" data-testid="channel-end" @click=${() => this.actions.endChannel(channel.session)}>${t('channel.end')}</button>`
          : !live ? html`<button class="button secondary" type="button" data-testid="channel-remove" @click=${() => this.actions.removeChannel(channel.session)}>${t('channel.remove')}</button>` : nothing}
      </header>
      ${this.renderSas(channel)}
      ${status.reason ? html`<p class=${`message ended ${status.state === 'compromised' ? 'error' : 'info'}`} role="alert" data-testid="channel-teardown-reason" data-reason=${status.reason}>
          ${channelReasonText(status)}</p>` : nothing}
      <div class="scroll">
        ${channel.phase === 'offered' ? this.renderOffer(channel) : nothing}
        ${channel.phase === 'waiting_peer' ? html`<p class="lead" data-testid="channel-waiting">${t('channel.waiting', { username: channel.peer.username })}</p>` : nothing}
        ${channel.phase === 'key_exchange' ? html`<p class="lead">${t('channel.key_exchange')}</p>` : nothing}
        ${canSend || channel.messages.length ? html`<p class="history" data-testid="chat-history-note">${t('chat.history_note')}</p>` : nothing}
        <ol aria-label=${t('channel.messages')} aria-live="polite" aria-relevant="additions" data-testid="channel-messages" @click=${this.onMessagesClick}>
          ${channel.messages.filter((message) => message.from !== 'peer' || !hidden).map((message) => this.renderMessage(channel, message))}
        </ol>
      </div>
      ${canSend ? html`
        <form class="compose" autocomplete="off" novalidate @submit=${this.onSend}>
          <input name="message-text" type="text" autocomplete="off" spellcheck="false" maxlength="4096" aria-label=${t('channel.message_label')}
            placeholder=${t('channel.message_placeholder')} data-testid="message-input" aria-describedby="message-counter"
            @input=${(event) => { this.draft = event.target.value; this.inputError = null; }}>
          <button class="button" type="submit" ?disabled=${this.sending || length.over} data-testid="message-send">${t('channel.send')}</button>
          <div class="under">
            <span class="counter" id="message-counter" data-testid="message-counter" ?data-over=${length.over} aria-label=${t('chat.counter_label')}>${length.counterText}</span>
            ${this.inputError ? html`<span class="input-error" role="alert" data-testid="chat-input-error" data-code=${this.inputError.code}>${t(this.inputError.messageKey, this.inputError.params)}</span>` : nothing}
          </div>
        </form>` : nothing}`;
  }
}

customElements.define('secms-channel-view', ChannelView);
