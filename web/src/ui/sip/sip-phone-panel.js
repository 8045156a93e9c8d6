// The "Phone (SIP)" part of the VoIP tab: the user's SIP address and registration state, the
// address field with its dial pad, the call in progress (controls, timer, keypad for DTMF,
// transfer), the history of this login and the phone (device) credentials. A SIP call is never
// shown as end-to-end encrypted: its indicator says it is encrypted to the server only.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { icons } from '../icons.js';
import { peerLabel } from './sip-peer.js';
import { formatCallDuration } from '../call-view.js';
import { requestSipContext } from './sip-context.js';
import '../dial-pad.js';
import './sip-devices.js';

/** The words for the registration state, e.g. "Failed: 403 Forbidden". */
export function registrationText(registration) {
  const state = registration?.state ?? 'off';
  if (state === 'failed') return t('sip.registration.failed', { reason: registration.reason ?? '' });
  return t(`sip.registration.${state}`);
}

/** The words for an address field error code (sip-address.js, or not_registered). */
export function addressErrorText(code) {
  const key = `sip.address.error.${code}`;
  return t(key) === key ? t('sip.address.error.user') : t(key);
}

export class SipPhonePanel extends LitElement {
  static properties = {
    sipStore: { attribute: false },
    sipActions: { attribute: false },
    address: { state: true },
    addressError: { state: true },
    keypad: { state: true },
    transferOpen: { state: true },
    transferError: { state: true },
    announcement: { state: true },
  };

  static styles = [controlStyles, css`
    :host { display: block; grid-column: 1 / -1; }
    section { background: var(--color-surface); border: 1px solid var(--color-border); border-radius: var(--radius-l); padding: var(--space-4); min-width: 0; }
    h2 { margin: 0 0 var(--space-3); font-size: 1rem; }
    h3 { margin: var(--space-4) 0 var(--space-2); font-size: 0.95rem; }
    p { margin: 0 0 var(--space-2); }
    .hint, .empty { color: var(--color-text-muted); font-size: 0.85rem; }
    .facts { display: flex; flex-wrap: wrap; gap: var(--space-2) var(--space-5); margin-bottom: var(--space-3); }
    .aor { font-family: var(--font-mono); overflow-wrap: anywhere; }
    .state { font-weight: 600; }
    .state[data-state="registered"] { color: var(--color-success, inherit); }
    .state[data-state="failed"] { color: var(--color-danger); }
    .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 16rem), 1fr)); gap: var(--space-4); align-items: start; }
    form .row, .controls { display: flex; flex-wrap: wrap; gap: var(--space-2); }
    input[type="text"] { width: 100%; box-sizing: border-box; min-height: 40px; }
    .field { margin-bottom: var(--space-2); }
    .error-text { color: var(--color-danger); font-size: 0.85rem; margin: var(--space-1) 0 var(--space-2); }
    .indicator {
      display: inline-flex; align-items: center; gap: var(--space-2); padding: var(--space-1) var(--space-3);
      border-radius: 999px; border: 1px solid var(--color-warning); background: var(--color-warning-soft); color: var(--color-text); font-weight: 600; font-size: 0.85rem;
    }
    .indicator svg { width: 16px; height: 16px; }
    .peer { font-size: 1.1rem; font-weight: 700; overflow-wrap: anywhere; margin: var(--space-2) 0 var(--space-1); }
    .phase { color: var(--color-text-muted); }
    .timer { font-family: var(--font-mono); }
    .controls { margin: var(--space-3) 0; }
    .controls .button { min-height: 40px; }
    .controls svg, .row svg { width: 16px; height: 16px; }
    .button.danger { color: var(--color-surface); }
    video { width: 100%; max-height: 18rem; background: #000; border-radius: var(--radius-m); }
    ul { list-style: none; margin: 0; padding: 0; }
    li { display: flex; flex-wrap: wrap; gap: var(--space-1) var(--space-3); padding: var(--space-2) 0; border-bottom: 1px solid var(--color-border); }
    li:last-child { border-bottom: 0; }
    li .who { font-weight: 600; overflow-wrap: anywhere; flex: 1 1 10rem; min-width: 0; }
    li .outcome { font-size: 0.85rem; color: var(--color-text-muted); }
    li[data-outcome="missed"] .outcome, li[data-outcome="failed"] .outcome { color: var(--color-danger); font-weight: 600; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'sipStore');
    this.address = '';
    this.addressError = null;
    this.keypad = false;
    this.transferOpen = false;
    this.transferError = null;
    this.announcement = '';
    this.lastRegistration = null;
    this.lastPhase = null;
    this.ticker = null;
  }

  connectedCallback() {
    super.connectedCallback();
    if (!this.sipStore) requestSipContext(this);
  }

  disconnectedCallback() {
    clearInterval(this.ticker);
    this.ticker = null;
    super.disconnectedCallback();
  }

  willUpdate() {
    const value = this.snapshot.value;
    if (!value) return;
    // The live region speaks changes of registration and the arrival of a call, once each.
    const registration = value.status === 'ready' ? registrationText(value.registration) : null;
    if (registration && registration !== this.lastRegistration) {
      if (this.lastRegistration !== null || value.registration.state !== 'registering') this.announcement = t('sip.registration.label', { state: registration });
      this.lastRegistration = registration;
    }
    const phase = value.call && value.call.phase !== 'ended' ? value.call.phase : null;
    if (phase !== this.lastPhase) {
      if (phase === 'incoming') this.announcement = t('sip.incoming.title', { peer: value.call.peer.username });
      else if (phase === 'connected') this.announcement = t('sip.call.connected_with', { peer: value.call.peer.username });
      else if (!phase && this.lastPhase) this.announcement = t('sip.call.ended');
      this.focusAfterPhase = phase;
      this.lastPhase = phase;
      if (!phase) {
        this.keypad = false;
        this.transferOpen = false;
      }
    }
    const connected = phase === 'connected';
    if (connected && !this.ticker) this.ticker = setInterval(() => this.requestUpdate(), 1000);
    if (!connected && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  updated() {
    const call = this.snapshot.value?.call;
    for (const video of this.renderRoot.querySelectorAll('video[data-stream]')) {
      const stream = video.dataset.stream === 'remote' ? call?.remoteStream : call?.localStream;
      if (video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
    }
    if (this.focusAfterPhase !== undefined) {
      const phase = this.focusAfterPhase;
      this.focusAfterPhase = undefined;
      // On connect, the next action is hanging up; when the call ends, dialling again. Only when
      // the tab is shown: a hidden panel must not take the focus from the tab the user is in.
      if (this.checkVisibility?.() === false) return;
      if (phase === 'connected' || phase === 'ringing') this.renderRoot.querySelector('[data-testid="sip-hang-up"]')?.focus();
      else if (!phase) this.renderRoot.querySelector('#sip-address')?.focus();
    }
  }

  dial(video) {
    const result = this.sipActions?.dial(this.address, { video });
    if (!result) return;
    if (result.error) {
      this.addressError = result.error;
      this.renderRoot.querySelector('#sip-address')?.focus();
      return;
    }
    this.addressError = result.result === 'busy' ? 'busy' : null;
  }

  onAddressInput(event) {
    this.address = event.target.value;
    this.addressError = null;
  }

  transfer(event) {
    event.preventDefault();
    const input = this.renderRoot.querySelector('#sip-transfer');
    const result = this.sipActions?.transfer(input?.value ?? '');
    this.transferError = result?.error ?? null;
    if (this.transferError) input?.focus();
  }

  formatTime(at) {
    try {
      return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(at));
    } catch {
      return '';
    }
  }

  renderDialer(snapshot) {
    const registered = snapshot.registration.state === 'registered';
    const describedBy = this.addressError ? 'sip-address-hint sip-address-error' : 'sip-address-hint';
    return html`
      <form data-testid="sip-dialer" @submit=${(event) => { event.preventDefault(); this.dial(false); }}>
        <div class="field">
          <label for="sip-address">${t('sip.address.label')}</label>
          <input id="sip-address" type="text" data-testid="sip-address" .value=${this.address} autocomplete="off" spellcheck="false"
            autocapitalize="none" inputmode="text" aria-describedby=${describedBy} aria-invalid=${this.addressError ? 'true' : 'false'}
            @input=${this.onAddressInput}>
        </div>
        <p class="hint" id="sip-address-hint">${t('sip.address.hint', { domain: snapshot.account?.domain ?? '' })}</p>
        ${this.addressError ? html`<p class="error-text" id="sip-address-error" data-testid="sip-address-error" data-code=${this.addressError}>${addressErrorText(this.addressError)}</p>` : nothing}
        <div class="row">
          <button class="button" type="submit" data-testid="sip-call-audio" ?disabled=${!registered}>${icons.phone}${t('sip.call.audio')}</button>
          <button class="button secondary" type="button" data-testid="sip-call-video" ?disabled=${!registered} @click=${() => this.dial(true)}>${icons.video}${t('sip.call.video')}</button>
        </div>
      </form>
      <secms-dial-pad .send=${(digit) => { this.address += digit; this.addressError = null; }} .sent=${this.address}></secms-dial-pad>`;
  }

  renderCall(call) {
    const connected = call.phase === 'connected';
    return html`
      <div data-testid="sip-call" data-phase=${call.phase} data-direction=${call.direction}>
        <p class="indicator" data-testid="sip-call-security">${icons.lockOpen ?? nothing}${t('sip.call.security')}</p>
        <p class="peer" data-testid="sip-call-peer">${peerLabel(call.peer)}</p>
        <p class="phase" data-testid="sip-call-phase">
          ${t(`sip.phase.${call.held ? 'held' : call.phase}`)}
          ${connected && call.connectedAt ? html` · <span class="timer" data-testid="sip-call-timer" role="timer">${formatCallDuration(Date.now() - call.connectedAt)}</span>` : nothing}
        </p>
        ${call.remoteVideo ? html`<video data-stream="remote" autoplay playsinline muted aria-label=${t('sip.call.remote_video')}></video>` : nothing}
        ${call.localVideo ? html`<video data-stream="local" autoplay playsinline muted aria-label=${t('sip.call.local_video')}></video>` : nothing}
        <div class="controls">
          ${connected ? html`
            <button class="button secondary" type="button" data-testid="sip-mute" aria-pressed=${call.muted ? 'true' : 'false'}
              @click=${() => this.sipActions?.mute(!call.muted)}>${icons.mic ?? nothing}${t(call.muted ? 'sip.call.unmute' : 'sip.call.mute')}</button>
            <button class="button secondary" type="button" data-testid="sip-hold" aria-pressed=${call.held ? 'true' : 'false'} ?disabled=${call.holdPending}
              @click=${() => this.sipActions?.hold(!call.held)}>${t(call.held ? 'sip.call.resume' : 'sip.call.hold')}</button>
            <button class="button secondary" type="button" data-testid="sip-keypad" aria-expanded=${this.keypad ? 'true' : 'false'} aria-controls="sip-keypad-pad"
              @click=${() => { this.keypad = !this.keypad; }}>${t('sip.call.keypad')}</button>
            <button class="button secondary" type="button" data-testid="sip-transfer-open" aria-expanded=${this.transferOpen ? 'true' : 'false'}
              @click=${() => { this.transferOpen = !this.transferOpen; this.updateComplete.then(() => this.renderRoot.querySelector('#sip-transfer')?.focus()); }}>${t('sip.call.transfer')}</button>` : nothing}
          <button class="button danger" type="button" data-testid="sip-hang-up" @click=${() => this.sipActions?.hangUp()}>${icons.hangUp}${t('sip.call.hang_up')}</button>
        </div>
        ${connected && this.keypad ? html`<div id="sip-keypad-pad">
          <secms-dial-pad .send=${(digit) => this.sipActions?.sendDtmf(digit)} .sent=${call.dtmfSent}></secms-dial-pad>
          ${call.dtmfMethod ? html`<p class="hint" data-testid="sip-dtmf-method" data-method=${call.dtmfMethod}>${t(`sip.dtmf.${call.dtmfMethod}`)}</p>` : nothing}
        </div>` : nothing}
        ${connected && this.transferOpen ? html`
          <form data-testid="sip-transfer-form" @submit=${this.transfer}>
            <div class="field">
              <label for="sip-transfer">${t('sip.transfer.label')}</label>
              <input id="sip-transfer" type="text" autocomplete="off" spellcheck="false" autocapitalize="none"
                aria-describedby=${this.transferError ? 'sip-transfer-error' : nothing} aria-invalid=${this.transferError ? 'true' : 'false'}>
            </div>
            ${this.transferError ? html`<p class="error-text" id="sip-transfer-error">${addressErrorText(this.transferError)}</p>` : nothing}
            <button class="button secondary" type="submit" data-testid="sip-transfer">${t('sip.transfer.submit')}</button>
          </form>` : nothing}
        ${call.transfer ? html`<p class="hint" role="status" data-testid="sip-transfer-state">${t(`sip.transfer.${call.transfer}`)}</p>` : nothing}
      </div>`;
  }

  renderHistory(history) {
    return html`
      <h3 id="sip-history-title">${t('sip.history.title')}</h3>
      ${history.length === 0 ? html`<p class="empty" data-testid="sip-history-empty">${t('sip.history.empty')}</p>` : html`
        <ul data-testid="sip-history" aria-labelledby="sip-history-title">
          ${history.map((entry) => html`
            <li data-testid="sip-history-entry" data-outcome=${entry.outcome} data-direction=${entry.direction}>
              <span class="who"><bdi>${entry.peer}</bdi></span>
              <span class="outcome">${t(`sip.history.${entry.direction}`)} · ${t(`sip.outcome.${entry.outcome}`)}${entry.outcome === 'answered' && entry.durationMs > 0 ? ` · ${formatCallDuration(entry.durationMs)}` : ''}</span>
              <span class="hint"><time datetime=${new Date(entry.at).toISOString()}>${this.formatTime(entry.at)}</time></span>
            </li>`)}
        </ul>`}`;
  }

  renderBody(snapshot) {
    if (!snapshot || snapshot.status === 'idle' || snapshot.status === 'loading') return html`<p class="hint" data-testid="sip-loading">${t('sip.loading')}</p>`;
    if (snapshot.status === 'not_enabled') return html`<p data-testid="sip-not-enabled">${t('sip.not_enabled')}</p>`;
    if (snapshot.status === 'stopped') return html`<p class="hint">${t('sip.stopped')}</p>`;
    if (snapshot.status === 'failed') {
      return html`<p class="error-text" data-testid="sip-failed" data-code=${snapshot.error ?? ''}>${snapshot.error === 'chunk_unavailable' ? t('sip.chunk_unavailable') : t('sip.failed', { code: snapshot.error ?? '' })}</p>
        <button class="button secondary" type="button" data-testid="sip-retry" @click=${() => this.sipActions?.retry()}>${t('sip.retry')}</button>`;
    }
    const call = snapshot.call && snapshot.call.phase !== 'ended' ? snapshot.call : null;
    return html`
      <div class="facts">
        <p>${t('sip.account.address')} <span class="aor" data-testid="sip-aor">${snapshot.account?.aor?.replace(/^sip:/, '') ?? ''}</span></p>
        <p>${t('sip.registration.title')} <span class="state" data-testid="sip-registration" data-state=${snapshot.registration.state}>${registrationText(snapshot.registration)}</span></p>
        ${snapshot.registration.state === 'failed' ? html`<button class="button secondary" type="button" data-testid="sip-reregister" @click=${() => this.sipActions?.reRegister()}>${t('sip.registration.retry')}</button>` : nothing}
      </div>
      <div class="columns">
        <div>${call ? this.renderCall(call) : this.renderDialer(snapshot)}</div>
        <div>${this.renderHistory(snapshot.history)}</div>
      </div>`;
  }

  render() {
    const snapshot = this.snapshot.value;
    return html`
      <section aria-labelledby="sip-title" data-testid="sip-phone" data-status=${snapshot?.status ?? 'idle'}>
        <h2 id="sip-title">${t('sip.title')}</h2>
        <p class="hint">${t('sip.intro')}</p>
        <div class="visually-hidden" role="status" aria-live="polite" data-testid="sip-live">${this.announcement}</div>
        ${this.renderBody(snapshot)}
        ${snapshot?.status === 'ready' ? html`<secms-sip-devices .sipStore=${this.sipStore} .sipActions=${this.sipActions}></secms-sip-devices>` : nothing}
      </section>`;
  }
}

customElements.define('secms-sip-phone', SipPhonePanel);
