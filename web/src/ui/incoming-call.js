// Over every tab: the incoming call (who, audio or video; accept, accept with video, decline) and
// the consent prompt of a call that would not be end-to-end encrypted. A modal <dialog> with
// role=alertdialog: the page behind is inert and focus returns to where it was when the dialog
// closes (WAI-ARIA APG alert dialog pattern). Nothing is accepted by Escape: a call is answered
// or refused by an explicit button only.
//
// An invite can arrive while the user is typing: the dialog opens under their fingers, so no
// keystroke meant for the page may answer it (the microphone would go live and the peer would
// learn this browser's addresses). The focus therefore goes to the dialog's heading (tabindex=-1,
// read out with the dialog's name and description), never to "Accept"; and the choices that
// open the microphone or drop end-to-end encryption stay disabled for ACTIVATION_DELAY_MS after
// the prompt appears, as browsers do with their own permission prompts. The safe choice of the
// consent prompt ("End call") keeps the focus: a stray Enter there can only end the call.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';

/** The element that has focus, looking inside shadow roots. */
function deepActiveElement() {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** The first element matching `selector` under `root`, looking into open shadow roots. */
function findDeep(root, selector) {
  const found = root.querySelector(selector);
  if (found) return found;
  for (const element of root.querySelectorAll('*')) {
    const inner = element.shadowRoot && findDeep(element.shadowRoot, selector);
    if (inner) return inner;
  }
  return null;
}

/** How long after a prompt appears its risky choices (accept, continue unencrypted) stay inert. */
export const ACTIVATION_DELAY_MS = 1000;

/** What the dialog shows for a call store snapshot: null | 'incoming' | 'consent'. */
export function callPromptOf(snapshot) {
  const call = snapshot?.call;
  if (!call || call.phase === 'ended') return null;
  if (call.needsConsent) return 'consent';
  return call.phase === 'incoming' ? 'incoming' : null;
}

export class IncomingCall extends LitElement {
  static properties = {
    calls: { attribute: false },     // call store
    actions: { attribute: false },   // callActions
  };

  static styles = [controlStyles, css`
    dialog {
      /* Shadow roots do not inherit the page's box-sizing rule: without it the padding makes the
         dialog wider than a 390 px window. */
      box-sizing: border-box; max-width: calc(100vw - 2 * var(--space-4));
      width: min(26rem, calc(100vw - 2 * var(--space-4))); padding: var(--space-5);
      border: 1px solid var(--color-border); border-radius: var(--radius-l);
      background: var(--color-surface); color: var(--color-text); box-shadow: var(--shadow-pop);
    }
    dialog::backdrop { background: rgb(0 0 0 / 45%); }
    .who { display: flex; align-items: center; gap: var(--space-3); margin-bottom: var(--space-3); }
    .avatar {
      flex: none; display: grid; place-items: center; width: 56px; height: 56px; border-radius: 50%;
      background: var(--color-accent-soft); color: var(--color-accent); font-size: 1.5rem; font-weight: 700; text-transform: uppercase;
    }
    .consent .avatar { background: var(--color-danger-soft); color: var(--color-danger); }
    h2 { margin: 0; font-size: 1.15rem; overflow-wrap: anywhere; }
    p { margin: 0 0 var(--space-3); }
    .muted { color: var(--color-text-muted); }
    .choices { display: flex; flex-wrap: wrap; gap: var(--space-2); margin-top: var(--space-4); }
    .choices .button { flex: 1 1 auto; }
    /* White on the dark theme's lighter red is under 4.5:1; the surface colour passes in every theme. */
    .button.danger { color: var(--color-surface); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'calls');
    this.shown = null;          // the prompt the open dialog shows, or null
    this.returnFocus = null;
    this.armedFor = null;       // '<prompt>:<call id>' whose activation delay started
    this.armedAt = 0;           // when that prompt appeared (performance.now())
    this.armTimer = null;
  }

  disconnectedCallback() {
    clearTimeout(this.armTimer);
    super.disconnectedCallback();
  }

  // A new prompt (or the same prompt for another call) starts its activation delay before it is
  // rendered, so its risky buttons are disabled from the first frame.
  willUpdate() {
    const prompt = callPromptOf(this.snapshot.value);
    const key = prompt ? `${prompt}:${this.snapshot.value.call.id}` : null;
    if (key === this.armedFor) return;
    this.armedFor = key;
    this.armedAt = performance.now();
    clearTimeout(this.armTimer);
    if (key) this.armTimer = setTimeout(() => this.requestUpdate(), ACTIVATION_DELAY_MS);
  }

  /** Whether the risky choices of the prompt shown may be used yet. */
  armed() {
    return this.armedFor !== null && performance.now() - this.armedAt >= ACTIVATION_DELAY_MS;
  }

  // The click handlers check the delay too: a disabled attribute is the visible half, this is the
  // half nothing can skip (a synthetic click, a re-render racing the timer).
  guarded(action) {
    return () => {
      if (this.armed()) action();
    };
  }

  updated() {
    const prompt = callPromptOf(this.snapshot.value);
    const dialog = this.renderRoot.querySelector('dialog');
    if (prompt && dialog && !dialog.open) {
      this.returnFocus = deepActiveElement();
      dialog.showModal();
    }
    if (prompt && dialog && prompt !== this.shown) {
      this.shown = prompt;
      // The heading for the incoming call (no keystroke can answer), "End call" for the consent prompt.
      dialog.querySelector('[data-autofocus]')?.focus();
    }
    if (!prompt && this.shown) {
      this.shown = null;
      dialog?.close();
      const target = this.returnFocus;
      this.returnFocus = null;
      // Back where it was; when that is now hidden (the VoIP tab came forward with the answered
      // call), to the call's first control instead of nowhere.
      requestAnimationFrame(() => {
        if (target?.isConnected && target.checkVisibility?.() !== false) target.focus();
        else if (this.snapshot.value?.call) findDeep(this.getRootNode(), '[data-testid="call-mute"]')?.focus();
      });
    }
  }

  renderIncoming(call) {
    const peer = call.peer?.username ?? '';
    const video = call.media === 'video';
    const armed = this.armed();
    return html`
      <div class="who">
        <span class="avatar" aria-hidden="true">${peer.slice(0, 1)}</span>
        <div>
          <h2 id="call-prompt-title" data-testid="incoming-call-title" tabindex="-1" autofocus data-autofocus>${t(video ? 'call.incoming.video' : 'call.incoming.audio', { username: peer })}</h2>
          <p class="muted" id="call-prompt-body">${t(video ? 'call.incoming.body.video' : 'call.incoming.body.audio')}</p>
        </div>
      </div>
      <div class="choices">
        <button class="button" type="button" data-testid="call-accept" ?disabled=${!armed}
          @click=${this.guarded(() => this.actions?.accept({ video: false }))}>${icons.phone}${t(video ? 'call.accept.audio_only' : 'call.accept')}</button>
        <button class="button" type="button" data-testid="call-accept-video" ?disabled=${!armed}
          @click=${this.guarded(() => this.actions?.accept({ video: true }))}>${icons.video}${t('call.accept.video')}</button>
        <button class="button danger" type="button" data-testid="call-decline"
          @click=${() => this.actions?.decline()}>${icons.hangUp}${t('call.decline')}</button>
      </div>`;
  }

  renderConsent(call) {
    const reason = call.needsConsent?.reason;
    const reasonKey = reason ? `call.security.reason.${reason}` : null;
    const reasonText = reasonKey && t(reasonKey) !== reasonKey ? t(reasonKey) : reason;
    return html`
      <div class="consent">
        <div class="who">
          <span class="avatar" aria-hidden="true">${icons.lockOpen}</span>
          <h2 id="call-prompt-title">${t('call.consent.title', { username: call.peer?.username ?? '' })}</h2>
        </div>
        <div id="call-prompt-body">
          <p>${t('call.consent.body')}</p>
          ${reasonText ? html`<p class="muted" data-testid="call-consent-reason" data-reason=${reason}>${t('call.consent.reason', { reason: reasonText })}</p>` : nothing}
        </div>
        <div class="choices">
          <button class="button secondary" type="button" data-testid="call-consent-end" autofocus data-autofocus
            @click=${() => this.actions?.consentUnencrypted(false)}>${t('call.consent.end')}</button>
          <button class="button danger" type="button" data-testid="call-consent-continue" ?disabled=${!this.armed()}
            @click=${this.guarded(() => this.actions?.consentUnencrypted(true))}>${t('call.consent.continue')}</button>
        </div>
      </div>`;
  }

  render() {
    const prompt = callPromptOf(this.snapshot.value);
    const call = this.snapshot.value?.call;
    return html`
      <dialog role="alertdialog" aria-modal="true" aria-labelledby="call-prompt-title" aria-describedby="call-prompt-body"
        data-testid=${prompt === 'consent' ? 'call-consent' : 'incoming-call'}
        @cancel=${(event) => event.preventDefault()}>
        ${prompt === 'incoming' ? this.renderIncoming(call) : prompt === 'consent' ? this.renderConsent(call) : nothing}
      </dialog>`;
  }
}

customElements.define('secms-incoming-call', IncomingCall);
