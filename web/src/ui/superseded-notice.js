// "Opened in another window": shown over the whole window when a newer app window of the same
// account took over the connection (the server closed this one with 4409 "superseded"). This
// window then holds no socket and does not reconnect by itself; "Use here" takes the connection
// back (the other window then shows this notice in turn). The keys stay in this window's Worker.
//
// A modal dialog: the page behind is inert, Escape does not dismiss it (there is nothing to go
// back to without a connection). Opening it moves the focus to "Use here", and a screen reader
// reads the dialog's title and text with it (that is how the change is announced: a live region
// outside a modal dialog is inert and may not be read).

import { LitElement, html, css } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';

export class SupersededNotice extends LitElement {
  static properties = {
    open: { type: Boolean, reflect: true },
    onUseHere: { attribute: false },   // () => void: reconnect, taking over from the other window
  };

  static styles = [controlStyles, css`
    dialog {
      box-sizing: border-box; width: 100vw; height: 100vh; max-width: none; max-height: none;
      height: 100dvh; margin: 0; padding: var(--space-5); border: 0;
      background: var(--color-surface); color: var(--color-text);
    }
    dialog[open] { display: flex; align-items: center; justify-content: center; }
    dialog::backdrop { background: var(--color-surface); }
    .card { max-width: 30rem; text-align: center; }
    h2 { margin: 0 0 var(--space-3); font-size: 1.3rem; overflow-wrap: anywhere; }
    p { margin: 0 0 var(--space-4); color: var(--color-text-muted); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.open = false;
  }

  updated() {
    const dialog = this.renderRoot.querySelector('dialog');
    if (!dialog) return;
    if (this.open && !dialog.open) {
      dialog.showModal();
      dialog.querySelector('[data-testid="superseded-use-here"]')?.focus();
    } else if (!this.open && dialog.open) {
      dialog.close();
    }
  }

  useHere() {
    this.open = false;
    this.onUseHere?.();
  }

  render() {
    return html`
      <dialog aria-labelledby="superseded-title" aria-describedby="superseded-body" data-testid="superseded-notice"
        @cancel=${(event) => event.preventDefault()}>
        <div class="card">
          <h2 id="superseded-title">${t('superseded.title')}</h2>
          <p id="superseded-body">${t('superseded.body')}</p>
          <button class="button" type="button" data-testid="superseded-use-here" @click=${() => this.useHere()}>${t('superseded.use_here')}</button>
        </div>
      </dialog>`;
  }
}

customElements.define('secms-superseded-notice', SupersededNotice);
