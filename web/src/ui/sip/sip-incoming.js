// The ringing SIP call over every tab: who calls, audio or video, accept / accept with video /
// decline (603). A modal alertdialog like the end-to-end call's (incoming-call.js): the page
// behind is inert, Escape does not answer. The focus goes to "Accept", the next action; its
// activation waits ACCEPT_DELAY_MS after the dialog opens (aria-disabled meanwhile) so a
// keystroke meant for the page cannot answer the call and open the microphone.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { icons } from '../icons.js';
import { deepActiveElement, requestSipContext } from './sip-context.js';
import { textWithPeer } from './sip-peer.js';

export const ACCEPT_DELAY_MS = 1000;

export class SipIncoming extends LitElement {
  static properties = {
    sipStore: { attribute: false },
    sipActions: { attribute: false },
    onAccepted: { attribute: false },   // () => void: bring the VoIP tab forward
  };

  static styles = [controlStyles, css`
    dialog {
      box-sizing: border-box; max-width: calc(100vw - 2 * var(--space-4));
      width: min(26rem, calc(100vw - 2 * var(--space-4))); padding: var(--space-5);
      border: 1px solid var(--color-border); border-radius: var(--radius-l);
      background: var(--color-surface); color: var(--color-text); box-shadow: var(--shadow-pop);
    }
    dialog::backdrop { background: rgb(0 0 0 / 45%); }
    h2 { margin: 0 0 var(--space-2); font-size: 1.15rem; overflow-wrap: anywhere; }
    p { margin: 0 0 var(--space-2); }
    .muted { color: var(--color-text-muted); }
    .choices { display: flex; flex-wrap: wrap; gap: var(--space-2); margin-top: var(--space-4); }
    .choices .button { flex: 1 1 auto; }
    .choices svg { width: 16px; height: 16px; }
    .button[aria-disabled="true"] { opacity: 0.6; cursor: not-allowed; }
    .button.danger { color: var(--color-surface); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'sipStore');
    this.shownFor = null;
    this.openedAt = 0;
    this.returnFocus = null;
    this.armTimer = null;
  }

  connectedCallback() {
    super.connectedCallback();
    if (!this.sipStore) requestSipContext(this);
  }

  disconnectedCallback() {
    clearTimeout(this.armTimer);
    super.disconnectedCallback();
  }

  ringing() {
    const call = this.snapshot.value?.call;
    return call?.phase === 'incoming' ? call : null;
  }

  armed() {
    return this.shownFor !== null && performance.now() - this.openedAt >= ACCEPT_DELAY_MS;
  }

  willUpdate() {
    const call = this.ringing();
    if ((call?.id ?? null) !== this.shownFor) {
      this.shownFor = call?.id ?? null;
      this.openedAt = performance.now();
      clearTimeout(this.armTimer);
      if (call) this.armTimer = setTimeout(() => this.requestUpdate(), ACCEPT_DELAY_MS);
    }
  }

  updated() {
    const dialog = this.renderRoot.querySelector('dialog');
    if (this.shownFor && dialog && !dialog.open) {
      this.returnFocus = deepActiveElement();
      dialog.showModal();
      dialog.querySelector('[data-testid="sip-accept"]')?.focus();
    } else if (!this.shownFor && dialog?.open) {
      dialog.close();
      const target = this.returnFocus;
      this.returnFocus = null;
      if (target?.isConnected && target.checkVisibility?.() !== false) target.focus();
    }
  }

  accept(video) {
    if (!this.armed()) return;
    Promise.resolve(this.sipActions?.accept({ video })).catch(() => {});
    this.returnFocus = null;
    this.onAccepted?.();
  }

  render() {
    const call = this.ringing();
    const armed = this.armed();
    return html`
      <dialog role="alertdialog" aria-modal="true" aria-labelledby="sip-incoming-title" aria-describedby="sip-incoming-body"
        data-testid="sip-incoming" @cancel=${(event) => event.preventDefault()}>
        ${call ? html`
          <h2 id="sip-incoming-title" data-testid="sip-incoming-title">${textWithPeer('sip.incoming.title', call.peer)}</h2>
          <div id="sip-incoming-body">
            <p class="muted">${t(call.offersVideo ? 'sip.incoming.video' : 'sip.incoming.audio')}</p>
            <p class="muted">${t('sip.call.security')}</p>
          </div>
          <div class="choices">
            <button class="button" type="button" data-testid="sip-accept" aria-disabled=${armed ? 'false' : 'true'}
              @click=${() => this.accept(false)}>${icons.phone}${t(call.offersVideo ? 'sip.incoming.accept_audio' : 'sip.incoming.accept')}</button>
            ${call.offersVideo ? html`<button class="button secondary" type="button" data-testid="sip-accept-video" aria-disabled=${armed ? 'false' : 'true'}
              @click=${() => this.accept(true)}>${icons.video}${t('sip.incoming.accept_video')}</button>` : nothing}
            <button class="button danger" type="button" data-testid="sip-decline"
              @click=${() => this.sipActions?.decline()}>${icons.hangUp}${t('sip.incoming.decline')}</button>
          </div>` : nothing}
      </dialog>`;
  }
}

customElements.define('secms-sip-incoming', SipIncoming);
