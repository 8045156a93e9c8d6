// The call in progress: the remote video (or the peer's initial when there is no picture), the
// self view in a corner, the phase and timer, the security indicator, and the controls. Every
// control is a real button; toggles carry aria-pressed. It renders the call store's `call`
// snapshot and calls callActions (web/src/state/call-store.js, web/src/calls/); media streams
// are attached as srcObject, never through markup.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import './call-security.js';
import './dial-pad.js';

/** "m:ss", or "h:mm:ss" past an hour. */
export function formatCallDuration(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** The phase line's text for a call snapshot. */
export function callPhaseText(call) {
  if (!call) return '';
  const peer = call.peer?.username ?? '';
  if (call.phase === 'ended') return call.endReason ? t('call.phase.ended_reason', { reason: callEndText(call.endReason) }) : t('call.phase.ended');
  if (call.held?.local) return t('call.phase.held_local');
  if (call.held?.remote) return t('call.phase.held_remote', { username: peer });
  if (call.phase === 'incoming') return t('call.phase.incoming', { username: peer });
  if (['calling', 'ringing', 'connecting', 'active'].includes(call.phase)) return t(`call.phase.${call.phase}`, { username: peer });
  return '';
}

/** An end reason (an outcome of the call log, or a store code) as text. */
export function callEndText(reason) {
  const key = `call.outcome.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

const deviceKinds = Object.freeze(['audioinput', 'videoinput', 'audiooutput']);

/**
 * The microphone, camera and speaker pickers (also in the VoIP tab's settings). `idPrefix` keeps
 * the label/select ids unique in one shadow root.
 */
export function renderDevicePickers({ devices, actions, idPrefix }) {
  const speakerSelectable = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  return html`
    <div class="devices" data-testid=${`${idPrefix}-pickers`}>
      ${deviceKinds.map((kind) => {
        const list = devices?.[kind] ?? [];
        const selected = devices?.selected?.[kind] ?? '';
        const id = `${idPrefix}-${kind}`;
        const unavailable = list.length === 0 || (kind === 'audiooutput' && !speakerSelectable);
        return html`
          <div class="field">
            <label for=${id}>${t(`call.device.${kind}`)}</label>
            <select id=${id} data-testid=${id} ?disabled=${unavailable}
              @change=${(event) => actions?.selectDevice({ kind, deviceId: event.target.value })}>
              ${unavailable ? html`<option value="">${t(kind === 'audiooutput' && !speakerSelectable ? 'call.device.default_only' : 'call.device.none')}</option>` : nothing}
              ${list.map((device, index) => html`
                <option value=${device.deviceId} ?selected=${device.deviceId === selected}>${device.label || t(`call.device.unnamed.${kind}`, { number: index + 1 })}</option>`)}
            </select>
          </div>`;
      })}
      <button class="button secondary" type="button" data-testid=${`${idPrefix}-refresh`} @click=${() => actions?.refreshDevices()}>${t('call.device.refresh')}</button>
    </div>`;
}

export const devicePickerStyles = css`
  .devices { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: var(--space-3); align-items: end; }
  .devices .field { margin: 0; }
  .devices select {
    height: 40px; padding: 0 var(--space-2); border: 1px solid var(--color-border);
    border-radius: var(--radius-m); background: var(--color-surface-2); min-width: 0; max-width: 100%;
  }
  .devices .button { justify-self: start; }
`;

export class CallView extends LitElement {
  static properties = {
    call: { attribute: false },       // the call store's `call`
    devices: { attribute: false },    // the call store's `devices`
    actions: { attribute: false },    // callActions
    panel: { state: true },           // null | 'keypad' | 'devices' | 'stats'
    fullscreen: { state: true },
    now: { state: true },
  };

  static styles = [controlStyles, devicePickerStyles, css`
    :host { display: block; min-width: 0; }
    .call { display: flex; flex-direction: column; gap: var(--space-3); padding: var(--space-4); min-width: 0; }
    .head { display: flex; flex-wrap: wrap; align-items: baseline; gap: var(--space-2) var(--space-4); }
    .head h2 { margin: 0; font-size: 1.15rem; overflow-wrap: anywhere; }
    .phase { color: var(--color-text-muted); margin: 0; }
    .timer { font-family: var(--font-mono); font-weight: 700; margin-left: auto; }
    .stage {
      position: relative; display: grid; place-items: center; width: 100%; aspect-ratio: 16 / 9; max-height: 60vh;
      border-radius: var(--radius-l); overflow: hidden; background: #101318; color: #fff;
    }
    .stage:fullscreen { max-height: none; border-radius: 0; aspect-ratio: auto; }
    .remote { width: 100%; height: 100%; object-fit: contain; background: #101318; }
    .remote[hidden] { display: none; }
    .avatar {
      display: grid; place-items: center; width: min(30%, 128px); aspect-ratio: 1; border-radius: 50%;
      background: #2c6bed; color: #fff; font-size: clamp(2rem, 8vw, 3.5rem); font-weight: 700; text-transform: uppercase;
    }
    .self {
      position: absolute; right: var(--space-3); bottom: var(--space-3); width: 24%; min-width: 88px; max-width: 220px;
      aspect-ratio: 4 / 3; object-fit: cover; border-radius: var(--radius-m); border: 2px solid #fff; background: #000;
      transform: scaleX(-1);
    }
    .self.screen { transform: none; }
    .badges { position: absolute; left: var(--space-3); top: var(--space-3); display: flex; flex-wrap: wrap; gap: var(--space-2); }
    .badges span { display: inline-flex; align-items: center; gap: var(--space-1); padding: 2px var(--space-2); border-radius: 999px; background: rgb(0 0 0 / 72%); color: #fff; font-size: 0.82rem; }
    .badges svg { width: 14px; height: 14px; }
    .stage-tools { position: absolute; right: var(--space-3); top: var(--space-3); }
    .stage-tools button { min-height: 40px; min-width: 40px; border-radius: var(--radius-m); border: 1px solid #fff; background: rgb(0 0 0 / 72%); color: #fff; cursor: pointer; display: grid; place-items: center; }
    .stage-tools button:focus-visible { outline-color: #fff; }
    .level { display: flex; align-items: center; gap: var(--space-2); font-size: 0.85rem; color: var(--color-text-muted); }
    .level meter { width: 8rem; height: 0.8rem; }
    .controls { display: flex; flex-wrap: wrap; justify-content: center; gap: var(--space-2); }
    .control {
      display: inline-flex; flex-direction: column; align-items: center; justify-content: center; gap: 2px;
      min-width: 72px; min-height: 60px; padding: var(--space-1) var(--space-2);
      border: 1px solid var(--color-border); border-radius: var(--radius-m);
      background: var(--color-surface); color: var(--color-text); font-size: 0.78rem; font-weight: 600; cursor: pointer;
    }
    .control:hover { background: var(--color-surface-hover); }
    .control[aria-pressed="true"], .control[aria-expanded="true"] { background: var(--color-accent-soft); border-color: var(--color-accent); }
    .control[disabled] { opacity: 0.55; cursor: not-allowed; }
    .control.hangup { background: var(--color-danger); border-color: var(--color-danger); color: var(--color-surface); }
    .control.hangup:hover { background: var(--color-danger-hover); }
    .panel { border: 1px solid var(--color-border); border-radius: var(--radius-l); padding: var(--space-4); background: var(--color-surface); }
    .panel h3 { margin: 0 0 var(--space-3); font-size: 1rem; }
    dl.stats { display: grid; grid-template-columns: max-content 1fr; gap: var(--space-1) var(--space-4); margin: 0; }
    dl.stats dt { color: var(--color-text-muted); }
    dl.stats dd { margin: 0; font-family: var(--font-mono); }
    .remote-audio { display: none; }
    @media (max-width: 480px) {
      .call { padding: var(--space-3); }
      .control { min-width: 60px; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.panel = null;
    this.fullscreen = false;
    this.now = Date.now();
    this.tick = null;
    this.focusDismiss = false;
    this.onFullscreenChange = () => {
      this.fullscreen = Boolean(this.renderRoot?.fullscreenElement);
    };
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener('fullscreenchange', this.onFullscreenChange);
    this.tick = setInterval(() => {
      if (this.call?.phase === 'active') this.now = Date.now();
    }, 1000);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener('fullscreenchange', this.onFullscreenChange);
    clearInterval(this.tick);
    this.tick = null;
    if (this.panel === 'stats') this.actions?.setStatsVisible(false);
  }

  willUpdate(changed) {
    // WCAG 2.4.3: the call ending disables the control that ended it (Hang up, a keypad key…),
    // and a disabled button drops the focus to the page body. Whether the focus is inside this
    // view has to be read now, before the render disables it; updated() then moves it to
    // "Close", the next action. Focus elsewhere (the user typing in a chat) is left alone.
    if (changed.has('call')) {
      const before = changed.get('call');
      this.focusDismiss = this.call?.phase === 'ended' && Boolean(before) && before.phase !== 'ended'
        && Boolean(this.renderRoot?.activeElement);
    }
  }

  updated(changed) {
    const call = this.call;
    if (this.focusDismiss) {
      this.focusDismiss = false;
      this.renderRoot.querySelector('[data-testid="call-dismiss"]')?.focus();
    }
    // Streams are objects, not markup: attached here, and only when they changed, so a
    // re-render does not restart playback.
    this.attach('[data-testid="call-remote-video"]', call?.remoteStream ?? null);
    this.attach('[data-testid="call-remote-audio"]', call?.remoteStream ?? null);
    this.attach('[data-testid="call-self-video"]', call?.localStream ?? null);
    const audio = this.renderRoot.querySelector('[data-testid="call-remote-audio"]');
    const sinkId = this.devices?.selected?.audiooutput ?? '';
    if (audio && typeof audio.setSinkId === 'function' && audio.sinkId !== sinkId) {
      audio.setSinkId(sinkId).catch(() => {
        // The device went away or the browser refused: the default output keeps playing.
      });
    }
    if (changed.has('call') && call?.id !== changed.get('call')?.id && this.panel) this.closePanel();
  }

  attach(selector, stream) {
    const element = this.renderRoot.querySelector(selector);
    if (element && element.srcObject !== stream) {
      element.srcObject = stream;
      if (stream) element.play?.().catch(() => {
        // Autoplay refused (no user gesture yet): the next control press starts it.
      });
    }
  }

  closePanel() {
    if (this.panel === 'stats') this.actions?.setStatsVisible(false);
    this.panel = null;
  }

  togglePanel(name) {
    const opening = this.panel !== name;
    this.closePanel();
    if (!opening) return;
    this.panel = name;
    if (name === 'stats') this.actions?.setStatsVisible(true);
    if (name === 'keypad') {
      this.updateComplete
        .then(() => this.renderRoot.querySelector('secms-dial-pad')?.updateComplete)
        .then(() => this.renderRoot.querySelector('secms-dial-pad')?.renderRoot?.querySelector('button')?.focus());
    }
  }

  async toggleFullscreen() {
    try {
      if (this.renderRoot.fullscreenElement) await document.exitFullscreen();
      else await this.renderRoot.querySelector('.stage')?.requestFullscreen();
    } catch {
      // Full screen refused (iframe, policy): the call view stays as it is.
    }
  }

  // A toggle keeps one label and says its state with aria-pressed (WAI-ARIA APG button pattern).
  renderControl({ id, label, icon, pressed, expanded, onClick, disabled = false, cls = 'control' }) {
    return html`<button class=${cls} type="button" data-testid=${id} ?disabled=${disabled}
      aria-pressed=${pressed === undefined ? nothing : String(Boolean(pressed))}
      aria-expanded=${expanded === undefined ? nothing : String(Boolean(expanded))}
      @click=${onClick}>${icon}<span>${label}</span></button>`;
  }

  renderStats(call) {
    const stats = call.stats;
    const value = (number, unit) => (Number.isFinite(number) ? `${Math.round(number * 10) / 10} ${unit}` : '—');
    return html`
      <section class="panel" data-testid="call-stats" aria-labelledby="call-stats-heading">
        <h3 id="call-stats-heading">${t('call.stats.title')}</h3>
        ${stats ? html`
          <dl class="stats">
            <dt>${t('call.stats.send')}</dt><dd data-testid="call-stats-send">${value(stats.bitrateKbps?.send, 'kbit/s')}</dd>
            <dt>${t('call.stats.receive')}</dt><dd data-testid="call-stats-receive">${value(stats.bitrateKbps?.receive, 'kbit/s')}</dd>
            <dt>${t('call.stats.loss')}</dt><dd data-testid="call-stats-loss">${value(Number.isFinite(stats.packetLoss) ? stats.packetLoss * 100 : NaN, '%')}</dd>
            <dt>${t('call.stats.rtt')}</dt><dd data-testid="call-stats-rtt">${value(stats.rttMs, 'ms')}</dd>
            <dt>${t('call.stats.path')}</dt><dd data-testid="call-stats-path">${stats.path === 'relay' ? t('call.path.relay') : stats.path === 'direct' ? t('call.path.direct') : '—'}</dd>
          </dl>` : html`<p class="phase">${t('call.stats.waiting')}</p>`}
      </section>`;
  }

  render() {
    const call = this.call;
    if (!call) return nothing;
    const peer = call.peer?.username ?? '';
    const live = call.phase !== 'ended';
    const active = call.phase === 'active';
    const showRemoteVideo = call.media === 'video' && (call.remote?.camera !== false || call.remote?.screen === true) && Boolean(call.remoteStream) && !call.held?.remote;
    const showSelf = Boolean(call.localStream) && (call.cameraOn || call.screenSharing);
    // `now` only schedules the once-a-second render; the time itself is read fresh.
    const elapsed = active && call.connectedAt ? Date.now() - call.connectedAt : 0;
    const a = this.actions;
    return html`
      <article class="call" data-testid="call-view" data-phase=${call.phase} data-media=${call.media} aria-labelledby="call-title">
        <div class="head">
          <h2 id="call-title">${t(call.media === 'video' ? 'call.title.video' : 'call.title.audio', { username: peer })}</h2>
          <p class="phase" role="status" aria-live="polite" data-testid="call-phase" data-phase=${call.phase}>${callPhaseText(call)}</p>
          <span class="timer" role="timer" ?hidden=${!active}><span class="visually-hidden">${t('call.timer')}: </span><span data-testid="call-timer">${formatCallDuration(elapsed)}</span></span>
        </div>
        <secms-call-security .security=${call.security}></secms-call-security>
        <div class="stage" data-testid="call-stage">
          <video class="remote" data-testid="call-remote-video" autoplay playsinline muted ?hidden=${!showRemoteVideo}
            aria-label=${t('call.remote_video', { username: peer })}></video>
          ${showRemoteVideo ? nothing : html`<span class="avatar" role="img" aria-label=${peer} data-testid="call-avatar">${peer.slice(0, 1)}</span>`}
          <video class=${call.screenSharing ? 'self screen' : 'self'} data-testid="call-self-video" autoplay playsinline muted
            ?hidden=${!showSelf} aria-label=${t('call.self_video')}></video>
          <div class="badges">
            ${call.remote?.muted ? html`<span data-testid="call-remote-muted">${icons.micOff}${t('call.remote.muted', { username: peer })}</span>` : nothing}
            ${call.media === 'video' && call.remote?.camera === false ? html`<span data-testid="call-remote-camera-off">${icons.videoOff}${t('call.remote.camera_off')}</span>` : nothing}
            ${call.remote?.screen ? html`<span data-testid="call-remote-screen">${icons.screen}${t('call.remote.screen', { username: peer })}</span>` : nothing}
          </div>
          <div class="stage-tools">
            <button type="button" data-testid="call-fullscreen" aria-pressed=${String(this.fullscreen)}
              aria-label=${t(this.fullscreen ? 'call.fullscreen.exit' : 'call.fullscreen')} title=${t(this.fullscreen ? 'call.fullscreen.exit' : 'call.fullscreen')}
              @click=${this.toggleFullscreen}>${icons.expand}</button>
          </div>
        </div>
        <audio class="remote-audio" data-testid="call-remote-audio" autoplay></audio>
        <div class="level">
          <label for="call-level">${t('call.level')}</label>
          <meter id="call-level" data-testid="call-level" min="0" max="1" low="0.05" high="0.85" optimum="0.5"
            .value=${Math.min(1, Math.max(0, Number(call.level) || 0))}></meter>
        </div>
        <div class="controls" role="group" aria-label=${t('call.controls')}>
          ${this.renderControl({ id: 'call-mute', label: t('call.mute'), icon: call.muted ? icons.micOff : icons.mic, pressed: call.muted, disabled: !live, onClick: () => a?.toggleMute() })}
          ${this.renderControl({ id: 'call-camera', label: t('call.camera'), icon: call.cameraOn ? icons.video : icons.videoOff, pressed: call.cameraOn, disabled: !live, onClick: () => a?.toggleCamera() })}
          ${this.renderControl({ id: 'call-screen', label: t('call.screen'), icon: icons.screen, pressed: call.screenSharing, disabled: !active, onClick: () => a?.toggleScreenShare() })}
          ${this.renderControl({ id: 'call-hold', label: t('call.hold'), icon: icons.pause, pressed: call.held?.local, disabled: !active, onClick: () => a?.toggleHold() })}
          ${this.renderControl({ id: 'call-keypad', label: t('call.keypad'), icon: icons.keypad, expanded: this.panel === 'keypad', disabled: !active, onClick: () => this.togglePanel('keypad') })}
          ${this.renderControl({ id: 'call-devices', label: t('call.devices'), icon: icons.sliders, expanded: this.panel === 'devices', onClick: () => this.togglePanel('devices') })}
          ${this.renderControl({ id: 'call-stats-toggle', label: t('call.stats'), icon: icons.signal, pressed: this.panel === 'stats', onClick: () => this.togglePanel('stats') })}
          ${live ? nothing : this.renderControl({ id: 'call-dismiss', label: t('call.close'), icon: icons.close, onClick: () => a?.dismiss?.() })}
          ${this.renderControl({ id: 'call-hangup', label: t(call.phase === 'calling' || call.phase === 'ringing' ? 'call.cancel' : 'call.hangup'), icon: icons.hangUp, disabled: !live, cls: 'control hangup', onClick: () => a?.hangUp() })}
        </div>
        ${this.panel === 'keypad' ? html`<section class="panel" aria-label=${t('call.keypad')}>
            <secms-dial-pad .send=${(tones) => a?.sendDtmf(tones)} .sent=${call.dtmfSent ?? ''} ?disabled=${!active}></secms-dial-pad></section>` : nothing}
        ${this.panel === 'devices' ? html`<section class="panel" aria-labelledby="call-devices-heading">
            <h3 id="call-devices-heading">${t('call.devices')}</h3>
            ${renderDevicePickers({ devices: this.devices, actions: a, idPrefix: 'call-device' })}</section>` : nothing}
        ${this.panel === 'stats' ? this.renderStats(call) : nothing}
      </article>`;
  }
}

customElements.define('secms-call-view', CallView);
