// The input line of a conversation, shared by private channels and rooms: the text field with
// its live "n/1040" counter, the send button, and the error of the last line (a bad command, a
// refused message) shown beside the counter. `submit(text)` → { ok } | { error: {code,
// messageKey, params} }; the field is cleared at once, so what is typed while a line is being
// sealed is kept, and the text comes back only if it could not be sent.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { messageLength } from '../chat/limits.js';

export class ChatCompose extends LitElement {
  static properties = {
    submit: { attribute: false },
    placeholder: { type: String },
    maxLength: { attribute: false },   // characters per line (the server's limit in rooms)
    sending: { state: true },
    draft: { state: true },
    inputError: { state: true },
  };

  static styles = [controlStyles, css`
    :host { display: block; }
    form { display: flex; flex-wrap: wrap; gap: var(--space-2); padding: var(--space-3) var(--space-4); border-top: 1px solid var(--color-border); }
    input { flex: 1; min-width: 0; height: 40px; padding: 0 var(--space-3); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); }
    .under { flex-basis: 100%; display: flex; gap: var(--space-3); font-size: 0.8rem; color: var(--color-text-muted); }
    .counter[data-over] { color: var(--color-danger); font-weight: 600; }
    .input-error { color: var(--color-danger); flex: 1; overflow-wrap: anywhere; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.sending = false;
    this.draft = '';
    this.inputError = null;
  }

  async onSend(event) {
    event.preventDefault();
    const input = event.target.elements['message-text'];
    const text = input.value;
    if (!text.trim() || this.sending || messageLength(text, this.limit()).over) return;
    this.sending = true;
    this.inputError = null;
    input.value = '';
    this.draft = '';
    const restore = () => {
      if (!input.value) {
        input.value = text;
        this.draft = text;
      }
    };
    try {
      const result = await this.submit(text);
      if (result?.error) {
        this.inputError = result.error;
        restore();
      }
    } catch {
      // The conversation went down meanwhile; its state line says why.
      restore();
    } finally {
      this.sending = false;
      input.focus();
    }
  }

  limit() {
    return this.maxLength ? { maxLength: this.maxLength } : {};
  }

  // The counter is seen as "0/1040" and heard as "0 of 1040 characters", the input's description
  // (with the error of the last line first, when there is one); it is not live: read on demand.
  render() {
    const length = messageLength(this.draft, this.limit());
    return html`
      <form autocomplete="off" novalidate @submit=${this.onSend}>
        <input name="message-text" type="text" autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" maxlength="4096" aria-label=${t('channel.message_label')}
          placeholder=${this.placeholder ?? t('channel.message_placeholder')} data-testid="message-input"
          aria-describedby=${this.inputError ? 'message-error message-counter-text' : 'message-counter-text'} aria-invalid=${this.inputError || length.over ? 'true' : nothing}
          @input=${(event) => { this.draft = event.target.value; this.inputError = null; }}>
        <button class="button" type="submit" ?disabled=${this.sending || length.over} data-testid="message-send">${t('channel.send')}</button>
        <div class="under">
          <span class="counter" aria-hidden="true" data-testid="message-counter" ?data-over=${length.over}>${length.counterText}</span>
          <span class="visually-hidden" id="message-counter-text" data-testid="message-counter-text">${t('chat.counter_text', { length: length.length, max: length.max })}</span>
          ${this.inputError ? html`<span class="input-error" id="message-error" role="alert" data-testid="chat-input-error" data-code=${this.inputError.code}>${t(this.inputError.messageKey, this.inputError.params)}</span>` : nothing}
        </div>
      </form>`;
  }
}

customElements.define('secms-chat-compose', ChatCompose);
