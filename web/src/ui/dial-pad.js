// A telephone keypad (0–9, *, #) for DTMF tones: real buttons, and the keyboard's digits while
// the keypad has focus. It only reports tones through `send(tones)`; the call logic
// (RTCDTMFSender, RFC 4733 events) lives with the caller, so the same pad can serve SIP later.

import { LitElement, html, css } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';

// ITU-T E.161 layout with the letters printed on phones, so "press 2 for ABC" makes sense.
const keys = Object.freeze([
  ['1', ''], ['2', 'ABC'], ['3', 'DEF'],
  ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'],
  ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'],
  ['*', ''], ['0', '+'], ['#', ''],
]);

export const dtmfKeys = Object.freeze(keys.map(([digit]) => digit));

export class DialPad extends LitElement {
  static properties = {
    send: { attribute: false },      // (tones: string) => void
    sent: { attribute: false },      // the tones sent so far in this call, shown above the keys
    disabled: { type: Boolean },
  };

  static styles = [controlStyles, css`
    :host { display: block; }
    .pad { display: flex; flex-direction: column; gap: var(--space-2); max-width: 16rem; margin: 0 auto; }
    output {
      display: block; min-height: 2rem; padding: var(--space-1) var(--space-2); text-align: center;
      font-family: var(--font-mono); font-size: 1.2rem; letter-spacing: 0.15em; overflow-wrap: anywhere;
      border-bottom: 1px solid var(--color-border);
    }
    .keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: var(--space-2); }
    .keys button {
      display: flex; flex-direction: column; align-items: center; justify-content: center;
      min-height: 52px; border-radius: var(--radius-m); border: 1px solid var(--color-border);
      background: var(--color-surface); cursor: pointer; line-height: 1.1;
    }
    .keys button:hover { background: var(--color-surface-hover); }
    .keys button[disabled] { opacity: 0.6; cursor: not-allowed; }
    .digit { font-size: 1.3rem; font-weight: 700; }
    .letters { font-size: 0.68rem; color: var(--color-text-muted); letter-spacing: 0.08em; min-height: 0.8rem; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.sent = '';
    this.disabled = false;
  }

  press(digit) {
    if (this.disabled || !dtmfKeys.includes(digit)) return;
    this.send?.(digit);
  }

  onKeydown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (!dtmfKeys.includes(event.key)) return;
    event.preventDefault();
    this.press(event.key);
    // Show which key the keyboard pressed by focusing its button.
    this.renderRoot.querySelector(`[data-testid="dtmf-${event.key === '*' ? 'star' : event.key === '#' ? 'hash' : event.key}"]`)?.focus();
  }

  render() {
    return html`
      <div class="pad" role="group" aria-label=${t('call.keypad')} @keydown=${this.onKeydown}>
        <output data-testid="dtmf-sent" aria-live="polite" aria-label=${t('call.keypad.sent')}>${this.sent ?? ''}</output>
        <div class="keys">
          ${keys.map(([digit, letters]) => {
            const id = digit === '*' ? 'star' : digit === '#' ? 'hash' : digit;
            return html`<button type="button" data-testid=${`dtmf-${id}`} ?disabled=${this.disabled}
              aria-label=${`${t('call.keypad.key', { key: digit === '*' ? t('call.keypad.star') : digit === '#' ? t('call.keypad.hash') : digit })}${letters ? ` ${letters}` : ''}`}
              @click=${() => this.press(digit)}><span class="digit" aria-hidden="true">${digit}</span> <span class="letters" aria-hidden="true">${letters}</span></button>`;
          })}
        </div>
      </div>`;
  }
}

customElements.define('secms-dial-pad', DialPad);
