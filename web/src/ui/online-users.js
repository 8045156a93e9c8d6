// The list of users online now, live from the WebSocket presence messages. A call refused from
// here (busy, unsupported, …) is said under the person's row, in the VoIP tab's words.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { isLivePhase } from '../state/channel-store.js';
import { callRefusal, callErrorText } from './voip-panel.js';
import { requestConversationFocus } from './focus.js';
import { isVerifiedContact, requestContactsContext, verifiedBadge, verifiedBadgeStyles } from './contact-badge.js';

export class OnlineUsers extends LitElement {
  static properties = {
    presence: { attribute: false },
    identity: { attribute: false },   // identity store: only a certified user can ask for a channel
    channels: { attribute: false },   // channel store: one live channel per peer at a time
    actions: { attribute: false },
    calls: { attribute: false },        // call store: one call at a time
    callActions: { attribute: false },
    callError: { state: true },         // { username, code } of the last refused call, or null
    contacts: { attribute: false },     // pins and verified contacts (asked for when connected: contact-badge.js)
  };

  static styles = [controlStyles, verifiedBadgeStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; }
    h2 {
      display: flex; justify-content: space-between; align-items: baseline;
      margin: 0; padding: var(--space-4) var(--space-4) var(--space-2);
      font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--color-text-muted);
    }
    h2 .count { text-transform: none; letter-spacing: 0; font-weight: 500; }
    ul { list-style: none; margin: 0; padding: 0 var(--space-2) var(--space-2); overflow-y: auto; }
    li {
      display: flex; align-items: center; gap: var(--space-3);
      padding: var(--space-2) var(--space-2); border-radius: var(--radius-m);
    }
    li:hover { background: var(--color-surface-hover); }
    .avatar {
      position: relative; flex: none; display: grid; place-items: center;
      width: 36px; height: 36px; border-radius: 50%;
      background: var(--color-accent-soft); color: var(--color-accent); font-weight: 700; text-transform: uppercase;
    }
    .avatar::after {
      content: ""; position: absolute; right: -1px; bottom: -1px; width: 11px; height: 11px;
      border-radius: 50%; background: var(--color-success); border: 2px solid var(--color-surface);
    }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .you { margin-left: auto; color: var(--color-text-muted); font-size: 0.8rem; }
    .empty { padding: var(--space-2) var(--space-4); color: var(--color-text-muted); margin: 0; }
    .certified { display: inline-flex; color: var(--color-success); }
    .certified svg { width: 15px; height: 15px; }
    .open-channel { margin-left: auto; min-height: 30px; padding: 0 var(--space-2); font-size: 0.8rem; }
    .open-channel svg { width: 15px; height: 15px; }
    .call { min-height: 30px; min-width: 30px; padding: 0 6px; }
    .call svg { width: 15px; height: 15px; }
    li { flex-wrap: wrap; }
    .call-error { flex-basis: 100%; margin: 0; font-size: 0.82rem; }
    .reason { flex-basis: 100%; margin: 0; font-size: 0.8rem; color: var(--color-text-muted); }
    .need-certificate { margin: 0 var(--space-4) var(--space-2); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'presence');
    this.identitySnapshot = new StoreController(this, 'identity');
    this.channelSnapshot = new StoreController(this, 'channels');
    this.callSnapshot = new StoreController(this, 'calls');
    this.contactSnapshot = new StoreController(this, 'contacts');
    this.callError = null;
  }

  connectedCallback() {
    super.connectedCallback();
    requestContactsContext(this);
  }

  async call(username, video) {
    this.callError = null;
    const code = await callRefusal(this.callActions.call({ username, video }));
    this.callError = code ? { username, code } : null;
  }

  // The new conversation takes focus once shown (ui/focus.js); a room on screen makes way for it.
  requestChannel(user) {
    requestConversationFocus(user.username);
    this.actions.selectChannel(null);
    this.actions.requestChannel(user.userid);
  }

  // While a channel cannot be asked for, the button stays focusable (aria-disabled, not disabled)
  // and its description is the visible reason: keyboard and screen-reader users find it and hear
  // why. Without a certificate the reason is said once, under the heading, for every row.
  renderChannelButton(user) {
    if (user.isSelf || !user.fingerprint || !this.actions) return nothing;
    const certified = this.identitySnapshot.value?.certificate?.state === 'accepted';
    const busy = (this.channelSnapshot.value?.channels ?? []).some((channel) => channel.peer.userid === user.userid && isLivePhase(channel.phase));
    const reasonId = !certified ? 'channel-need-certificate' : busy ? `channel-open-${user.userid}` : null;
    return html`<button class="button secondary open-channel" type="button" data-testid="request-channel"
      aria-disabled=${reasonId ? 'true' : nothing} aria-describedby=${reasonId ?? nothing} title=${reasonId ? nothing : t('users.open_channel_hint')}
      aria-label=${t('users.open_channel_with', { username: user.username })}
      @click=${() => { if (!reasonId) this.requestChannel(user); }}>${icons.shield}${t('users.open_channel')}</button>
      ${certified && busy ? html`<p class="reason" id=${reasonId} data-testid="request-channel-reason">${t('users.channel_already_open', { username: user.username })}</p>` : nothing}`;
  }

  // Audio and video call buttons (icon only, labelled): a verified peer, one's own certificate
  // accepted, no other call in progress.
  renderCallButtons(user) {
    if (user.isSelf || !user.fingerprint || !this.callActions) return nothing;
    const certified = this.identitySnapshot.value?.certificate?.state === 'accepted';
    const call = this.callSnapshot.value?.call;
    const usable = certified && (!call || call.phase === 'ended');
    return html`
      <button class="button secondary call" type="button" data-testid="user-call-audio" ?disabled=${!usable}
        aria-label=${t('users.call_audio_with', { username: user.username })} title=${t('users.call_audio_with', { username: user.username })}
        @click=${() => this.call(user.username, false)}>${icons.phone}</button>
      <button class="button secondary call" type="button" data-testid="user-call-video" ?disabled=${!usable}
        aria-label=${t('users.call_video_with', { username: user.username })} title=${t('users.call_video_with', { username: user.username })}
        @click=${() => this.call(user.username, true)}>${icons.video}</button>
      ${this.callError?.username === user.username ? html`<p class="message error call-error" role="alert" data-testid="user-call-error"
        data-code=${this.callError.code}>${callErrorText(this.callError.code)}</p>` : nothing}`;
  }

  /** Whether some row's "Secure channel" button waits for the user's own certificate. */
  needsCertificateNote(users) {
    return Boolean(this.actions) && this.identitySnapshot.value?.certificate?.state !== 'accepted'
      && users.some((user) => !user.isSelf && user.fingerprint);
  }

  render() {
    const presence = this.snapshot.value;
    const users = presence?.users ?? [];
    return html`
      <h2 id="online-heading">
        <span>${t('users.title')}</span>
        ${presence?.known ? html`<span class="count">${t('users.count', { count: users.length })}</span>` : nothing}
      </h2>
      ${this.needsCertificateNote(users) ? html`<p class="reason need-certificate" id="channel-need-certificate" data-testid="request-channel-reason">${t('users.need_certificate')}</p>` : nothing}
      ${!presence?.known ? html`<p class="empty">${t('users.waiting')}</p>`
        : users.length === 0 ? html`<p class="empty">${t('users.empty')}</p>`
        : html`
          <ul aria-labelledby="online-heading" data-testid="online-users">
            ${users.map((user) => html`
              <li data-testid="online-user" data-username=${user.username} data-self=${String(user.isSelf)} data-certified=${String(Boolean(user.fingerprint))}>
                <span class="avatar" aria-hidden="true">${user.username.slice(0, 1)}</span>
                <span class="name">${user.username}</span>
                ${user.fingerprint ? html`<span class="certified" role="img" title=${t('users.certified')} aria-label=${t('users.certified')}>${icons.shield}</span>` : nothing}
                ${!user.isSelf && user.fingerprint && isVerifiedContact(this.contactSnapshot.value, user.username, user.fingerprint)
                  ? verifiedBadge({ username: user.username, testid: 'online-verified-badge' }) : nothing}
                ${user.isSelf ? html`<span class="you">${t('users.you')}</span>` : nothing}
                ${this.renderChannelButton(user)}
                ${this.renderCallButtons(user)}
              </li>`)}
          </ul>`}`;
  }
}

customElements.define('secms-online-users', OnlineUsers);
