// Top status bar: brand, connection state, secure-channel slot, language, account menu. It is
// the window's banner landmark, so screen-reader users can jump to it (and past it).

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { channelStatusOf } from '../state/channel-store.js';
import { roomLabel } from '../state/room-store.js';
import { channelReasonText } from './channel-text.js';
import { groupFingerprint, suiteNames } from './format.js';
import './language-switcher.js';
import './account-menu.js';
import { callSecurityState } from './call-security.js';
import { isVerifiedContact, requestContactsContext, sasWords, verifiedBadge, verifiedBadgeStyles } from './contact-badge.js';

export class StatusBar extends LitElement {
  static properties = {
    connection: { attribute: false },   // store of 'connecting' | 'online' | 'reconnecting' | 'offline'
    user: { attribute: false },
    actions: { attribute: false },
    channels: { attribute: false },     // channel store: the pill shows the selected channel
    rooms: { attribute: false },        // room store: … or the selected room
    calls: { attribute: false },        // call store: the call-security indicator while a call exists
    detailsFor: { state: true },        // session whose fingerprint and safety code are shown as text, or null
    contacts: { attribute: false },     // pins and verified contacts (asked for when connected: contact-badge.js)
  };

  static styles = [controlStyles, verifiedBadgeStyles, css`
    :host { display: block; background: var(--color-surface); border-bottom: 1px solid var(--color-border); }
    .bar {
      display: flex; align-items: center; gap: var(--space-3);
      min-height: 56px; padding: var(--space-2) var(--space-4); flex-wrap: wrap;
    }
    .brand { display: flex; align-items: center; gap: var(--space-2); font-weight: 700; font-size: 1.05rem; margin-right: var(--space-2); }
    .brand .logo {
      display: grid; place-items: center; width: 30px; height: 30px; border-radius: 9px;
      background: var(--color-accent); color: var(--color-accent-text);
    }
    .brand .logo svg { width: 18px; height: 18px; }
    .pill {
      display: inline-flex; align-items: center; gap: var(--space-2);
      height: 30px; padding: 0 var(--space-3); border-radius: 999px;
      background: var(--color-surface-2); border: 1px solid var(--color-border);
      font-size: 0.85rem; white-space: nowrap;
    }
    .pill svg { width: 16px; height: 16px; }
    .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--color-text-muted); }
    .pill[data-state="online"] .dot { background: var(--color-success); }
    .pill[data-state="connecting"] .dot, .pill[data-state="reconnecting"] .dot { background: var(--color-warning); }
    .pill[data-state="offline"] .dot { background: var(--color-danger); }
    .channel { color: var(--color-text-muted); max-width: 32rem; }
    .channel .text { overflow: hidden; text-overflow: ellipsis; }
    .channel[data-state="secure"] { color: var(--color-success); background: var(--color-success-soft); border-color: transparent; }
    .channel[data-state="verifying"], .channel[data-state="waiting"], .channel[data-state="key_exchange"], .channel[data-state="rekeying"] {
      color: var(--color-warning); background: var(--color-warning-soft); border-color: transparent;
    }
    .channel[data-state="compromised"] { color: var(--color-danger); background: var(--color-danger-soft); border-color: var(--color-danger); font-weight: 600; }
    .spacer { flex: 1; }
    .call-link { border: 0; padding: 0; background: none; border-radius: 999px; cursor: pointer; min-width: 0; }
    .bar { position: relative; }
    .details-toggle { height: 30px; padding: 0 var(--space-3); border-radius: 999px; border: 1px solid var(--color-border); background: var(--color-surface-2); font-size: 0.85rem; cursor: pointer; }
    .details-toggle[aria-expanded="true"] { background: var(--color-accent-soft); border-color: var(--color-accent); }
    .details {
      position: absolute; top: 100%; left: var(--space-4); z-index: 20; max-width: min(40rem, calc(100vw - 2 * var(--space-4)));
      padding: var(--space-3) var(--space-4); background: var(--color-surface); color: var(--color-text);
      border: 1px solid var(--color-border); border-radius: var(--radius-l); box-shadow: 0 6px 20px rgb(0 0 0 / 18%);
    }
    .details dl { display: grid; grid-template-columns: max-content 1fr; gap: var(--space-1) var(--space-3); margin: 0; }
    .details dt { font-weight: 600; }
    .details dd { margin: 0; overflow-wrap: anywhere; }
    .details .mono { font-family: var(--font-mono); }
    @media (max-width: 640px) {
      .brand .name { display: none; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.connectionState = new StoreController(this, 'connection');
    this.channelSnapshot = new StoreController(this, 'channels');
    this.roomSnapshot = new StoreController(this, 'rooms');
    this.callSnapshot = new StoreController(this, 'calls');
    this.contactSnapshot = new StoreController(this, 'contacts');
  }

  connectedCallback() {
    super.connectedCallback();
    requestContactsContext(this);
  }

  // A room: encrypted with sender keys while joined; who cannot read yet is named.
  renderRoom(room) {
    const state = room.joined ? (room.waitingFor.length ? 'key_exchange' : 'secure') : 'ended';
    const label = room.joined ? t('room.encrypted') : t(`room.ended.${room.endReason ?? 'left'}`);
    // A live region: the state changes are read where the user is.
    return html`
      <span class="pill channel" role="status" data-testid="channel-status" data-state=${state} data-room=${room.room}
        title=${room.waitingFor.length ? `${t('room.no_channel')}: ${room.waitingFor.join(', ')}` : nothing}>
        ${room.joined ? icons.shield : icons.lockOpen}<span class="visually-hidden">${t('status.channel')}: </span><span class="text" data-testid="status-channel-state">${label} · ${roomLabel(room)}</span>
      </span>`;
  }

  renderChannel() {
    const rooms = this.roomSnapshot.value;
    const room = rooms?.rooms.find((entry) => entry.room === rooms.selected);
    if (room) return this.renderRoom(room);
    const snapshot = this.channelSnapshot.value;
    const channel = snapshot?.channels.find((entry) => entry.session === snapshot.selected) ?? null;
    const status = channelStatusOf(channel);
    const label = channel ? t(`channel.status.${status.state}`) : t('status.no_channel');
    const reason = status.reason ? channelReasonText(status) : null;
    // The tooltip carries what users compare out of band: suite, peer fingerprint and SAS.
    const details = channel && (status.state === 'secure' || status.state === 'rekeying') && channel.sas
      ? [t('channel.with', { username: channel.peer.username }), suiteNames[channel.suite] ?? '',
        `${t('report.fingerprint')}: ${groupFingerprint(channel.report.fingerprint)}`, `${t('channel.sas')}: ${channel.sas.emojiText} ${channel.sas.decimalText}`].join('\n')
      : channel ? t('channel.with', { username: channel.peer.username }) : '';
    const icon = status.state === 'secure' ? icons.shield : status.state === 'compromised' ? icons.alert : icons.lockOpen;
    // A live region (its state changes are read), and what users compare out of band as text
    // behind a disclosure button, not only in the hover title.
    return html`
      <span class="pill channel" role="status" data-testid="channel-status" data-state=${status.state} title=${details || nothing}>
        ${icon}<span class="visually-hidden">${t('status.channel')}: </span><span class="text" data-testid="status-channel-state">${label}${channel ? ` · ${channel.peer.username}` : ''}</span>
        ${reason ? html`<span class="text" data-testid="status-channel-reason" data-reason=${status.reason}>— ${reason}</span>` : nothing}
        ${details && channel.sas ? html`<span class="text" aria-hidden="true" data-testid="status-channel-sas">${channel.sas.emojiText}</span>` : nothing}
      </span>
      ${channel && status.state !== 'compromised' && isVerifiedContact(this.contactSnapshot.value, channel.peer.username, channel.report?.fingerprint)
        ? verifiedBadge({ username: channel.peer.username, testid: 'status-verified-badge' }) : nothing}
      ${channel && channel.sas && (status.state === 'secure' || status.state === 'rekeying') ? this.renderChannelDetails(channel) : nothing}`;
  }

  toggleDetails(session) {
    this.detailsFor = this.detailsFor === session ? null : session;
  }

  closeDetails(event) {
    if (event.key !== 'Escape' || !this.detailsFor) return;
    event.preventDefault();
    this.detailsFor = null;
    this.renderRoot.querySelector('[data-testid="status-channel-details-toggle"]')?.focus();
  }

  // The peer's fingerprint and the safety code (emoji with their names, and the digits), as text.
  renderChannelDetails(channel) {
    const open = this.detailsFor === channel.session;
    return html`
      <button class="details-toggle" type="button" aria-expanded=${String(open)} aria-controls="channel-details"
        aria-label=${t('announce.channel_details_label')} data-testid="status-channel-details-toggle"
        @click=${() => this.toggleDetails(channel.session)} @keydown=${this.closeDetails}>${t('announce.channel_details')}</button>
      <div class="details" id="channel-details" role="region" aria-label=${t('announce.channel_details_label')} ?hidden=${!open}
        data-testid="status-channel-details" @keydown=${this.closeDetails}>
        ${open ? html`<dl>
          <dt>${t('announce.channel_peer')}</dt><dd>${channel.peer.username}</dd>
          <dt>${t('report.fingerprint')}</dt><dd class="mono" data-testid="status-channel-fingerprint">${groupFingerprint(channel.report.fingerprint)}</dd>
          <dt>${t('channel.sas')}</dt><dd data-testid="status-channel-sas-text"><span aria-hidden="true">${channel.sas.emojiText}</span>
            ${sasWords(channel.sas)} · <span class="mono">${channel.sas.decimalText}</span></dd>
          <dt>${t('announce.channel_suite')}</dt><dd>${suiteNames[channel.suite] ?? ''}</dd>
        </dl>` : nothing}
      </div>`;
  }

  // The compact call-security indicator, for as long as a call is shown (web/src/ui/call-security.js).
  renderCall() {
    const call = this.callSnapshot.value?.call;
    if (!call || call.phase === 'ended') return nothing;
    // A button: from any tab, one press brings the call view back.
    const state = t(`call.security.${callSecurityState(call.security)}`);
    return html`<button class="call-link" type="button" data-testid="status-call" title=${t('call.show')}
      aria-label=${`${t('call.show')} — ${state}`}
      @click=${() => this.dispatchEvent(new CustomEvent('secms-show-call', { bubbles: true, composed: true }))}>
      <secms-call-security compact .security=${call.security}></secms-call-security></button>`;
  }

  render() {
    const state = this.connectionState.value ?? 'connecting';
    return html`
      <header class="bar" role="banner" aria-label=${t('app.status_bar')} data-testid="status-bar">
        <div class="brand"><span class="logo">${icons.shield}</span><span class="name">${t('app.name')}</span></div>
        <span class="pill" role="status" data-state=${state} data-testid="connection-status"
          aria-label=${`${t('status.connection')}: ${t(`status.${state}`)}`}>
          <span class="dot"></span>${t(`status.${state}`)}
        </span>
        ${this.renderChannel()}
        ${this.renderCall()}
        <span class="spacer"></span>
        <secms-language-switcher></secms-language-switcher>
        <secms-account-menu .user=${this.user} .actions=${this.actions}></secms-account-menu>
      </header>`;
  }
}

customElements.define('secms-status-bar', StatusBar);
