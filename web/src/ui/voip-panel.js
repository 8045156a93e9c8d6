// The VoIP tab: the call in progress (./call-view.js), the people who can be called (online users
// whose certificate the server verified, as in the online list), the call log, and the call
// settings (relay-only "hide my IP address", devices). A browser without WebRTC or encoded
// transforms gets the "unavailable" notice naming what is missing. Ringing (the ringtone and
// ringback, on by default) is set here, apart from the chat's event sounds.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { formatCallDuration, renderDevicePickers, devicePickerStyles } from './call-view.js';
import './call-view.js';
import './notice-card.js';
import './sip/sip-phone-panel.js';   // the "Phone (SIP)" part; SIP.js itself loads on first use

const emptySupport = Object.freeze({ webrtc: false, transform: null, missing: Object.freeze([]) });

/** A call store snapshot's `support`, or what the page knows without a call store. */
export function callSupportOf(snapshot, webRtcAvailable) {
  if (snapshot?.support) return snapshot.support;
  if (!webRtcAvailable) return { ...emptySupport, missing: ['RTCPeerConnection'] };
  // No call store (yet): the same feature test the store makes, so the notice stays truthful.
  if (typeof globalThis.RTCRtpScriptTransform === 'function') return { webrtc: true, transform: 'script', missing: [] };
  if (typeof globalThis.RTCRtpSender?.prototype?.createEncodedStreams === 'function') return { webrtc: true, transform: 'encoded-streams', missing: [] };
  return { webrtc: true, transform: null, missing: ['RTCRtpScriptTransform'] };
}

/**
 * The code of a refused call (callActions.call → { error: { code } }, or a throw: 'failed'), or
 * null when the call was placed. Every call button (VoIP tab, online list, conversation header)
 * reads its result through this, so each shows the same refusal the same way.
 */
export async function callRefusal(placing) {
  try {
    const result = await placing;
    return result?.error ? String(result.error.code ?? 'failed') : null;
  } catch {
    return 'failed';
  }
}

/** How many calls a log entry stands for: `count` of a merged run of missed calls, else 1. */
export function callLogCount(entry) {
  return Number.isSafeInteger(entry?.count) && entry.count > 1 ? entry.count : 1;
}

/**
 * The outcome line of a call-log entry, e.g. "Incoming audio call · missed". A merged run of
 * missed calls (call-store.js `count`) reads as the conversation line does, "Missed calls
 * (audio) ×3", a text of its own rather than a bare "×3" a screen reader would not explain.
 */
export function callLogOutcomeText(entry) {
  const media = entry.media === 'video' ? 'video' : 'audio';
  if (entry.outcome === 'missed' && callLogCount(entry) > 1) {
    return t('call.log.missed-many', { media: t(`call.media.${media}`), count: callLogCount(entry) });
  }
  return `${t(`voip.log.${entry.direction === 'incoming' ? 'incoming' : 'outgoing'}.${media}`)} · ${t(`call.outcome.${entry.outcome}`)}`;
}

/** The words for a refusal code: its own message, or the generic one for an unknown code. */
export function callErrorText(code) {
  const key = `call.error.${code}`;
  return t(key) === key ? t('call.error.failed') : t(key);
}

export class VoipPanel extends LitElement {
  static properties = {
    calls: { attribute: false },           // call store (web/src/state/call-store.js)
    callActions: { attribute: false },
    presence: { attribute: false },        // presence store
    identity: { attribute: false },        // identity store: calls need one's own verified certificate
    webRtcAvailable: { attribute: false },
    preferences: { attribute: false },     // preferences (state/preferences.js): ringtone
    error: { state: true },                // the code of a call that could not be placed
  };

  static styles = [controlStyles, devicePickerStyles, css`
    :host { display: flex; flex-direction: column; flex: 1; min-width: 0; }
    .sections { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); gap: var(--space-4); padding: var(--space-4); align-content: start; }
    section.card { background: var(--color-surface); border: 1px solid var(--color-border); border-radius: var(--radius-l); padding: var(--space-4); min-width: 0; }
    section.card.wide { grid-column: 1 / -1; }
    h2 { margin: 0 0 var(--space-3); font-size: 1rem; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2) var(--space-3); padding: var(--space-2) 0; border-bottom: 1px solid var(--color-border); }
    li:last-child { border-bottom: 0; }
    .avatar {
      flex: none; display: grid; place-items: center; width: 34px; height: 34px; border-radius: 50%;
      background: var(--color-accent-soft); color: var(--color-accent); font-weight: 700; text-transform: uppercase;
    }
    .name { font-weight: 600; overflow-wrap: anywhere; flex: 1 1 6rem; min-width: 0; }
    .actions { display: flex; flex-wrap: wrap; gap: var(--space-2); }
    .actions .button { min-height: 36px; padding: 0 var(--space-3); font-size: 0.88rem; }
    .actions svg { width: 16px; height: 16px; }
    .empty, .hint { color: var(--color-text-muted); margin: 0; }
    .hint { font-size: 0.85rem; }
    .log .meta { display: flex; flex-direction: column; flex: 1 1 10rem; min-width: 0; }
    .log .meta .name { flex: none; }
    .log .outcome { font-size: 0.85rem; color: var(--color-text-muted); }
    .log li[data-outcome="missed"] .outcome, .log li[data-outcome="failed"] .outcome { color: var(--color-danger); font-weight: 600; }
    .checkbox { margin-bottom: var(--space-2); }
    .warning { margin: var(--space-4) var(--space-4) 0; padding: var(--space-3) var(--space-4); border-radius: var(--radius-m); border: 1px solid var(--color-warning); background: var(--color-warning-soft); }
    .warning h2 { display: flex; align-items: center; gap: var(--space-2); color: var(--color-text); }
    .warning p { margin: 0 0 var(--space-2); }
    .call-error { margin: var(--space-4) var(--space-4) 0; }
    .unavailable { display: flex; flex-direction: column; flex: 1; }
    .unavailable .explain { max-width: 34rem; margin: 0 auto var(--space-5); padding: 0 var(--space-4); color: var(--color-text-muted); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'calls');
    this.presenceSnapshot = new StoreController(this, 'presence');
    this.identitySnapshot = new StoreController(this, 'identity');
    this.preferenceSnapshot = new StoreController(this, 'preferences');
    this.webRtcAvailable = true;
  }

  updated() {
    // The device lists come from enumerateDevices (no prompt); asked once the actions exist, so
    // the pickers are filled before the first call.
    if (!this.devicesAsked && this.callActions) {
      this.devicesAsked = true;
      Promise.resolve(this.callActions.refreshDevices?.()).catch(() => {});
    }
  }

  formatTime(at) {
    try {
      return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(at));
    } catch {
      return '';
    }
  }

  async call(username, video) {
    this.error = null;
    this.error = await callRefusal(this.callActions?.call({ username, video }));
  }

  errorText() {
    return callErrorText(this.error);
  }

  renderPeople(snapshot) {
    const presence = this.presenceSnapshot.value;
    const users = (presence?.users ?? []).filter((user) => !user.isSelf && user.fingerprint);
    const certified = this.identitySnapshot.value?.certificate?.state === 'accepted';
    const inCall = Boolean(snapshot?.call && snapshot.call.phase !== 'ended');
    const usable = certified && !inCall && Boolean(this.callActions);
    return html`
      <section class="card" aria-labelledby="voip-people">
        <h2 id="voip-people">${t('voip.people.title')}</h2>
        ${!certified ? html`<p class="hint" data-testid="voip-need-certificate">${t('users.need_certificate')}</p>` : nothing}
        ${!presence?.known ? html`<p class="empty">${t('users.waiting')}</p>`
          : users.length === 0 ? html`<p class="empty" data-testid="voip-people-empty">${t('voip.people.empty')}</p>`
          : html`<ul data-testid="voip-people">
            ${users.map((user) => html`
              <li data-testid="voip-person" data-username=${user.username}>
                <span class="avatar" aria-hidden="true">${user.username.slice(0, 1)}</span>
                <span class="name">${user.username}</span>
                <span class="actions">
                  <button class="button secondary" type="button" data-testid=${`call-audio-${user.username}`} ?disabled=${!usable}
                    aria-label=${t('call.start.audio_with', { username: user.username })} @click=${() => this.call(user.username, false)}>${icons.phone}${t('call.start.audio')}</button>
                  <button class="button secondary" type="button" data-testid=${`call-video-${user.username}`} ?disabled=${!usable}
                    aria-label=${t('call.start.video_with', { username: user.username })} @click=${() => this.call(user.username, true)}>${icons.video}${t('call.start.video')}</button>
                </span>
              </li>`)}
          </ul>`}
      </section>`;
  }

  renderLog(snapshot) {
    const log = snapshot?.log ?? [];   // newest first, as the store keeps it
    const inCall = Boolean(snapshot?.call && snapshot.call.phase !== 'ended');
    const online = new Set((this.presenceSnapshot.value?.users ?? []).filter((user) => user.fingerprint).map((user) => user.username));
    return html`
      <section class="card log" aria-labelledby="voip-log">
        <h2 id="voip-log">${t('voip.log.title')}</h2>
        ${log.length === 0 ? html`<p class="empty" data-testid="voip-log-empty">${t('voip.log.empty')}</p>` : html`
          <ul data-testid="call-log">
            ${log.map((entry) => html`
              <li data-testid="call-log-entry" data-outcome=${entry.outcome} data-peer=${entry.peer} data-direction=${entry.direction} data-media=${entry.media} data-count=${callLogCount(entry)}>
                <span class="avatar" aria-hidden="true">${String(entry.peer ?? '').slice(0, 1)}</span>
                <span class="meta">
                  <span class="name">${entry.peer}</span>
                  <span class="outcome" data-testid="call-log-outcome">
                    ${callLogOutcomeText(entry)}
                    ${entry.outcome === 'answered' && entry.durationMs > 0 ? html` · <span data-testid="call-log-duration">${formatCallDuration(entry.durationMs)}</span>` : nothing}
                  </span>
                  <span class="hint"><time datetime=${new Date(entry.at).toISOString()}>${this.formatTime(entry.at)}</time></span>
                </span>
                <span class="actions">
                  <button class="button secondary" type="button" data-testid="call-back" ?disabled=${inCall || !online.has(entry.peer) || !this.callActions}
                    aria-label=${t('voip.log.call_back_to', { username: entry.peer })}
                    @click=${() => this.call(entry.peer, entry.media === 'video')}>${entry.media === 'video' ? icons.video : icons.phone}${t('voip.log.call_back')}</button>
                </span>
              </li>`)}
          </ul>`}
      </section>`;
  }

  renderSettings(snapshot) {
    return html`
      <section class="card wide" aria-labelledby="voip-settings">
        <h2 id="voip-settings">${t('voip.settings.title')}</h2>
        <label class="checkbox">
          <input type="checkbox" data-testid="hide-ip" .checked=${Boolean(snapshot?.hideIp)} ?disabled=${!this.callActions}
            aria-describedby="hide-ip-hint" @change=${(event) => this.callActions?.setHideIp(event.target.checked)}>
          <span>${t('voip.settings.hide_ip')}</span>
        </label>
        <p class="hint" id="hide-ip-hint">${t('voip.settings.hide_ip.hint')}</p>
        <label class="checkbox">
          <input type="checkbox" data-testid="ringtone" .checked=${this.preferenceSnapshot.value?.ringtone ?? true} ?disabled=${!this.preferences}
            aria-describedby="ringtone-hint" @change=${(event) => this.preferences?.setRingtone(event.target.checked)}>
          <span>${t('voip.settings.ringtone')}</span>
        </label>
        <p class="hint" id="ringtone-hint">${t('voip.settings.ringtone.hint')}</p>
        <h2 id="voip-devices">${t('call.devices')}</h2>
        ${renderDevicePickers({ devices: snapshot?.devices, actions: this.callActions, idPrefix: 'voip-device' })}
      </section>`;
  }

  renderUnavailable(support) {
    const missing = support.missing?.length ? support.missing.join(', ') : t('voip.unavailable.unknown');
    return html`
      <div class="unavailable" data-testid="voip-unavailable">
        <secms-notice-card icon="alert" tone="warning" heading=${t('voip.unavailable.title')} body=${t('voip.unavailable.missing', { missing })}></secms-notice-card>
        <p class="explain">${t('voip.unavailable.body')}</p>
      </div>`;
  }

  render() {
    const snapshot = this.snapshot.value;
    const support = callSupportOf(snapshot, this.webRtcAvailable);
    if (!support.webrtc) return this.renderUnavailable(support);
    const call = snapshot?.call;
    const showCall = call && call.phase !== 'incoming';
    return html`
      ${!support.transform ? html`
        <div class="warning" role="note" data-testid="voip-no-transform">
          <h2>${icons.alert}${t('voip.unavailable.title')}</h2>
          <p>${t('voip.unavailable.missing', { missing: support.missing?.length ? support.missing.join(', ') : t('voip.unavailable.unknown') })}</p>
          <p>${t('voip.unavailable.unencrypted')}</p>
        </div>` : nothing}
      ${showCall ? html`<secms-call-view .call=${call} .devices=${snapshot.devices} .actions=${this.callActions}></secms-call-view>` : nothing}
      ${this.error ? html`<p class="message error call-error" role="alert" data-testid="call-error" data-code=${this.error}>${this.errorText()}</p>` : nothing}
      <div class="sections">
        ${this.renderPeople(snapshot)}
        ${this.renderLog(snapshot)}
        <secms-sip-phone></secms-sip-phone>
        ${this.renderSettings(snapshot)}
      </div>`;
  }
}

customElements.define('secms-voip-panel', VoipPanel);
