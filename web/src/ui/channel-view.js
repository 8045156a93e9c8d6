// One secure channel: the peer's certificate to accept or reject (with a loud, blocking
// warning when a remembered fingerprint changed), then the channel's state, SAS, and the private
// conversation (the lines: ./chat-log.js; the input: ./chat-compose.js). The lines typed go to
// actions.submitChatLine (web/src/app/private-chat.js), which parses commands.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { channelStatusOf, isIgnored, isLivePhase, peerDisplayName } from '../state/channel-store.js';
import { groupFingerprint, suiteNames } from './format.js';
import { channelReasonText } from './channel-text.js';
import { callRefusal, callErrorText } from './voip-panel.js';
import { focusIsLost, focusIsOurs, moveFocus, takeConversationFocus } from './focus.js';
import { StoreController } from './controllers.js';
import { isVerifiedContact, requestContactsContext, sasWord, sasWords, verifiedBadge, verifiedBadgeStyles } from './contact-badge.js';
import './certificate-report.js';
import './chat-log.js';
import './chat-compose.js';

export class ChannelView extends LitElement {
  static properties = {
    channel: { attribute: false },
    actions: { attribute: false },
    ignored: { attribute: false },
    self: { attribute: false },      // this user's username (own actions read "* name text")
    callError: { state: true },      // { session, code } of a call refused from this header, or null
    contacts: { attribute: false },  // pins and verified contacts (trust-store.js snapshot store), asked for when connected
    codesDiffer: { state: true },    // session whose user said the safety codes differ (the warning is shown), or null
  };

  static styles = [controlStyles, verifiedBadgeStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; flex: 1; }
    header { display: flex; align-items: center; gap: var(--space-3); flex-wrap: wrap; padding: var(--space-3) var(--space-4); border-bottom: 1px solid var(--color-border); }
    header h2 { margin: 0; font-size: 1.05rem; }
    .badge { display: inline-flex; align-items: center; gap: var(--space-1); padding: 2px var(--space-2); border-radius: 999px; font-size: 0.82rem; font-weight: 600; background: var(--color-surface-2); border: 1px solid var(--color-border); }
    .badge svg { width: 14px; height: 14px; }
    .badge[data-state="secure"] { background: var(--color-success-soft); color: var(--color-success); border-color: transparent; }
    .badge[data-state="compromised"] { background: var(--color-danger-soft); color: var(--color-danger); border-color: transparent; }
    .badge[data-state="rekeying"], .badge[data-state="key_exchange"], .badge[data-state="waiting"], .badge[data-state="verifying"] { background: var(--color-warning-soft); color: var(--color-warning); border-color: transparent; }
    .spacer { flex: 1; }
    .sas { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-3); padding: var(--space-3) var(--space-4); background: var(--color-accent-soft); border-bottom: 1px solid var(--color-border); }
    .sas .emoji { font-size: 1.5rem; letter-spacing: 0.2em; }
    .sas .decimal { font-family: var(--font-mono); font-size: 1.05rem; font-weight: 700; }
    .sas .hint { color: var(--color-text-muted); font-size: 0.85rem; flex-basis: 100%; }
    .warning { border: 2px solid var(--color-danger); background: var(--color-danger-soft); color: var(--color-text); border-radius: var(--radius-l); padding: var(--space-4); margin-bottom: var(--space-4); }
    .warning h3 { margin: 0 0 var(--space-2); color: var(--color-danger); display: flex; gap: var(--space-2); align-items: center; }
    .warning dl { display: grid; grid-template-columns: max-content 1fr; gap: var(--space-1) var(--space-3); margin: var(--space-2) 0 0; }
    .warning dd { margin: 0; font-family: var(--font-mono); overflow-wrap: anywhere; }
    .decision { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-3); margin-top: var(--space-4); }
    .decision .checkbox { margin: 0; }
    .known { color: var(--color-success); margin: 0 0 var(--space-3); }
    .lead { color: var(--color-text-muted); margin: 0 0 var(--space-3); }
    .ended { margin: var(--space-3) var(--space-4) 0; }
    .call { min-height: 36px; padding: 0 var(--space-3); }
    .call svg { width: 16px; height: 16px; }
    @media (max-width: 480px) { .call span { display: none; } }
    /* Phones (phone-layout.js): a tighter header, so the state and the call buttons share a line at 320 px. */
    @media (max-width: 760px) { header { gap: var(--space-2); padding: var(--space-2) var(--space-3); } }
    .history { color: var(--color-text-muted); font-size: 0.8rem; margin: 0 0 var(--space-3); }
    .offer-decision { border: 1px solid var(--color-border); border-radius: var(--radius-l); padding: var(--space-4); margin-bottom: var(--space-3); background: var(--color-surface); }
    .offer-decision h3 { margin: 0 0 var(--space-2); font-size: 1rem; }
    .offer-decision .compare { margin: 0 0 var(--space-2); }
    .offer-decision .fingerprint { font-family: var(--font-mono); font-size: 1rem; font-weight: 700; overflow-wrap: anywhere; margin: 0 0 var(--space-2); }
    .offer-decision .decision { margin-top: var(--space-3); }
    details.report > summary { cursor: pointer; padding: var(--space-2) 0; font-weight: 600; color: var(--color-accent); }
    details.report > summary:focus-visible { outline: 2px solid var(--color-focus, var(--color-accent)); outline-offset: 2px; }
    .sas { flex-direction: column; align-items: stretch; border: 1px solid var(--color-border); border-radius: var(--radius-l); margin-bottom: var(--space-3); }
    .sas h3 { margin: 0; font-size: 1rem; display: flex; align-items: center; gap: var(--space-2); flex-wrap: wrap; }
    .sas-words { display: flex; flex-wrap: wrap; gap: var(--space-2); list-style: none; margin: 0; padding: 0; }
    .sas-words li { display: flex; flex-direction: column; align-items: center; min-width: 4.2rem; padding: var(--space-1) var(--space-2); border-radius: var(--radius-m); background: var(--color-surface); border: 1px solid var(--color-border); }
    .sas-words .glyph { font-size: 1.6rem; line-height: 1.2; }
    .sas-words .word { font-size: 0.8rem; font-weight: 600; }
    .sas .how { margin: 0; }
    .sas .actions { display: flex; flex-wrap: wrap; gap: var(--space-2); }
    .sas .done { margin: 0; color: var(--color-success); font-weight: 600; }
    .sas .warning { margin: 0; }
    .mismatch { margin: var(--space-3) var(--space-4) 0; }
    .mismatch ol { margin: var(--space-2) 0 0; padding-left: var(--space-5); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.callError = null;
    // Focus steering (ui/focus.js): the session whose next action takes focus as it appears,
    // and the elements focus may be taken from meanwhile (ours, or the button that asked).
    this.steerSession = null;
    this.steerFrom = [];
    this.codesDiffer = null;
    this.contactSnapshot = new StoreController(this, 'contacts');
  }

  connectedCallback() {
    super.connectedCallback();
    requestContactsContext(this);
  }

  /** Whether this channel's peer is a contact verified for the certificate of this channel. */
  verified(channel) {
    return isVerifiedContact(this.contactSnapshot.value, channel.peer.username, channel.report?.fingerprint);
  }

  /** The conversation's next action: the offer's decision, the state while waiting, the input once secure. */
  async focusTarget(channel, requested) {
    const root = this.renderRoot;
    if (channel.phase === 'offered') {
      // A changed or foreign certificate: the warning first, never a button that accepts it.
      const warning = root.querySelector('[data-testid="fingerprint-warning"] h3, [data-testid="fingerprint-other-user"] h3');
      if (warning) return warning;
      const accept = root.querySelector('[data-testid="channel-accept"]');
      // Accept is the next action only of a channel this user asked for; an offer that came in
      // unasked starts at its heading (no stray Enter accepts it).
      if (requested && channel.role === 'initiator') return accept && !accept.disabled ? accept : null;
      return root.querySelector('header h2');
    }
    if (channel.phase === 'secure' || channel.phase === 'rekeying') {
      const compose = root.querySelector('secms-chat-compose');
      await compose?.updateComplete;
      return compose?.renderRoot?.querySelector('[data-testid="message-input"]') ?? null;
    }
    return root.querySelector('[data-focus-step]') ?? root.querySelector('header h2');
  }

  updated(changed) {
    const channel = this.channel;
    if (!channel) return;
    if (changed.has('channel') && changed.get('channel')?.session !== channel.session) {
      this.steerSession = null;
      this.steerFrom = [];
    }
    // Only a live channel answers the request (an old, ended one with the same peer may be on screen).
    const intent = isLivePhase(channel.phase) ? takeConversationFocus(channel.peer.username) : null;
    if (intent) {
      this.steerSession = channel.session;
      this.steerFrom = [intent.origin];
    }
    this.steerFocus(channel);
  }

  async steerFocus(channel) {
    const steering = this.steerSession === channel.session;
    // Focus lost inside this view (a button that disappeared): back to the next action.
    if (!steering && !(focusIsLost() && this.checkVisibility?.() !== false)) return;
    if (steering && !focusIsOurs(this.steerFrom)) {
      this.steerSession = null;   // the user went elsewhere: focus is theirs
      return;
    }
    const target = await this.focusTarget(channel, steering);
    if (!target || this.channel?.session !== channel.session) return;
    if (!steering && !focusIsLost()) return;
    if (moveFocus(target)) this.steerFrom = [...this.steerFrom, target];
    // Once at the input the conversation is under way: nothing more to steer.
    if (target.dataset?.testid === 'message-input' && steering) this.steerSession = null;
  }

  /**
   * Phones: the conversation became the pane shown while focus was lost with the pane that went
   * (chat-panel). Its heading takes focus; a focus steered to the next action (the offer's
   * Accept, the input) goes on from there.
   */
  focusPaneStart() {
    const heading = this.renderRoot.querySelector('header h2');
    if (moveFocus(heading) && this.steerSession === this.channel?.session) this.steerFrom = [...this.steerFrom, heading];
  }

  // The request goes up as an event; app-root puts the call action's answer in its detail. A
  // refusal is said as the conversation's notice; nobody listening is a refusal too.
  async call(video) {
    const session = this.channel.session;
    const detail = { username: this.channel.peer.username, video };
    this.callError = null;
    this.dispatchEvent(new CustomEvent('secms-call', { detail, bubbles: true, composed: true }));
    const code = await callRefusal(detail.result ?? { error: { code: 'unsupported' } });
    this.callError = code ? { session, code } : null;
  }

  accept() {
    const remember = this.renderRoot.querySelector('[data-testid="remember-certificate"]')?.checked ?? false;
    // The button goes away with the offer: focus follows the channel to its input.
    this.steerSession = this.channel.session;
    this.steerFrom = [this.renderRoot.querySelector('[data-testid="channel-accept"]')];
    this.actions.acceptChannel(this.channel.session, { remember });
  }

  nameOf(message) {
    return message.from === 'me' ? t('channel.me') : peerDisplayName(this.channel);
  }

  actorOf(message) {
    const channel = this.channel;
    if (message.from !== 'me') return peerDisplayName(channel);
    return channel.ownNick && this.self && channel.ownNick !== this.self ? `${channel.ownNick} (${this.self})` : this.self || t('channel.me');
  }

  /** What to compare before accepting: first contact, a remembered one, or a verified one. */
  renderOfferGuide(channel) {
    const username = channel.peer.username;
    if (channel.trust?.status === 'trusted') {
      const verified = channel.trust.verified === true;
      return html`<p class="known" data-testid="fingerprint-known" data-verified=${String(verified)}>${t(verified ? 'verify.offer.verified_before' : 'verify.offer.known', { username })}</p>`;
    }
    return html`
      <h3 data-testid="offer-first-contact">${t('verify.offer.first_contact', { username })}</h3>
      <p class="compare">${t(channel.role === 'initiator' ? 'verify.offer.compare_initiator' : 'verify.offer.compare_responder', { username })}</p>`;
  }

  renderOffer(channel) {
    const changed = channel.trust?.status === 'changed';
    // A certificate remembered for another user, offered under this name.
    const otherUser = channel.trust?.status === 'other_user';
    const check = channel.certificateCheck;
    // The full report is a disclosure under the decision; a refused report is opened (its problem must be seen).
    const reportOpen = check?.state === 'disagrees' || check?.state === 'unreadable';
    return html`
      ${otherUser ? html`
        <div class="warning" role="alert" data-testid="fingerprint-other-user">
          <h3 tabindex="-1">${icons.alert}${t('channel.other_user.title', { username: channel.peer.username, other: channel.trust.otherUsername })}</h3>
          <p>${t('channel.other_user.body', { username: channel.peer.username, other: channel.trust.otherUsername })}</p>
          <dl><dt>${t('channel.changed.new')}</dt><dd data-testid="fingerprint-new">${groupFingerprint(channel.report.fingerprint)}</dd></dl>
        </div>` : changed ? html`
        <div class="warning" role="alert" data-testid="fingerprint-warning">
          <h3 tabindex="-1">${icons.alert}${t('channel.changed.title', { username: channel.peer.username })}</h3>
          <p>${t('channel.changed.body', { username: channel.peer.username })}</p>
          <dl>
            <dt>${t('channel.changed.old')}</dt><dd data-testid="fingerprint-old">${groupFingerprint(channel.trust.knownFingerprint)}</dd>
            <dt>${t('channel.changed.new')}</dt><dd data-testid="fingerprint-new">${groupFingerprint(channel.report.fingerprint)}</dd>
          </dl>
        </div>` : nothing}
      <section class="offer-decision" aria-label=${t('verify.offer.decision_label', { username: channel.peer.username })} data-testid="offer-decision"
        data-contact=${changed ? 'changed' : otherUser ? 'other_user' : channel.trust?.status === 'trusted' ? (channel.trust.verified ? 'verified' : 'known') : 'first'}>
        ${changed || otherUser ? nothing : this.renderOfferGuide(channel)}
        <p class="hint">${t('verify.offer.fingerprint_label', { username: channel.peer.username })}</p>
        <p class="fingerprint" data-testid="offer-fingerprint">${groupFingerprint(channel.report.fingerprint)}</p>
        <div class="decision">
          <label class="checkbox"><input type="checkbox" data-testid="remember-certificate" ?checked=${changed}><span>${t('channel.remember')}</span></label>
          <span class="spacer"></span>
          <button class="button secondary" type="button" data-testid="channel-reject" @click=${() => this.actions.rejectChannel(channel.session)}>${t('channel.reject')}</button>
          ${check?.state === 'agrees' || check?.state === 'pending' ? html`
            <button class=${changed || otherUser ? 'button danger' : 'button'} type="button" data-testid="channel-accept" ?disabled=${check.state !== 'agrees'}
              @click=${this.accept}>${icons.shield}${t(otherUser ? 'channel.accept_other_user' : changed ? 'channel.accept_changed' : 'channel.accept')}</button>` : nothing}
        </div>
      </section>
      <details class="report" data-testid="peer-report" ?open=${reportOpen}>
        <summary data-testid="peer-report-toggle">${t('verify.report_toggle')}</summary>
        <secms-certificate-report .report=${channel.report} .check=${check}></secms-certificate-report>
      </details>`;
  }

  /** The code: each emoji with its word (read by screen readers, legible without emoji fonts), then the digits. */
  renderSasCode(sas) {
    return html`
      <ul class="sas-words" data-testid="channel-sas-emoji" aria-label=${t('verify.words_label')} data-words=${sasWords(sas)}>
        ${sas.emoji.map((item) => html`<li><span class="glyph" aria-hidden="true">${item.emoji}</span><span class="word" data-testid="sas-word">${sasWord(item)}</span></li>`)}
      </ul>
      <p class="how"><span>${t('verify.digits_label')}</span> <span class="decimal" data-testid="channel-sas-decimal">${sas.decimalText}</span></p>`;
  }

  renderSas(channel) {
    if (!channel.sas || (channel.phase !== 'secure' && channel.phase !== 'rekeying')) return nothing;
    const username = channel.peer.username;
    const verified = this.verified(channel);
    const differ = this.codesDiffer === channel.session;
    return html`
      <section class="sas" data-testid="channel-sas" data-sas=${`${channel.sas.emojiText} ${channel.sas.decimalText}`} data-verified=${String(verified)}
        aria-labelledby="sas-heading">
        <h3 id="sas-heading" tabindex="-1">${t('verify.heading')}${verified ? verifiedBadge({ username, testid: 'sas-verified-badge' }) : nothing}</h3>
        ${this.renderSasCode(channel.sas)}
        ${verified
          ? html`<p class="done" role="status" data-testid="sas-verified">${t('verify.done', { username })}</p>`
          : differ ? html`
            <div class="warning" role="alert" data-testid="sas-differ-warning">
              <h3 tabindex="-1">${icons.alert}${t('verify.differ.title')}</h3>
              <p>${t('verify.differ.body', { username })}</p>
              <div class="actions">
                <button class="button danger" type="button" data-testid="sas-end-report" @click=${() => this.endAndReport(channel)}>${t('verify.differ.end_report')}</button>
                <button class="button secondary" type="button" data-testid="sas-differ-back" @click=${() => this.backToCompare()}>${t('verify.differ.back')}</button>
              </div>
            </div>`
          : html`
            <p class="how hint" data-testid="sas-how">${t('verify.how', { username })}</p>
            <div class="actions">
              <button class="button" type="button" data-testid="sas-match" @click=${() => this.codesMatch(channel)}>${icons.shield}${t('verify.match')}</button>
              <button class="button secondary" type="button" data-testid="sas-differ" @click=${() => this.codesDiffered(channel)}>${t('verify.differ')}</button>
            </div>`}
        <span class="hint">${suiteNames[channel.suite] ?? ''}</span>
      </section>`;
  }

  // The buttons pressed go away: focus goes first to an element that stays (the code's heading,
  // the conversation's), so it is never lost to <body>, then to what the user reads next.
  codesMatch(channel) {
    moveFocus(this.renderRoot.querySelector('#sas-heading'));
    this.actions.markVerified?.(channel.session);
  }

  async codesDiffered(channel) {
    moveFocus(this.renderRoot.querySelector('#sas-heading'));
    this.codesDiffer = channel.session;
    await this.updateComplete;
    moveFocus(this.renderRoot.querySelector('[data-testid="sas-differ-warning"] h3'));
  }

  async backToCompare() {
    moveFocus(this.renderRoot.querySelector('#sas-heading'));
    this.codesDiffer = null;
    await this.updateComplete;
    moveFocus(this.renderRoot.querySelector('[data-testid="sas-differ"]'));
  }

  async endAndReport(channel) {
    moveFocus(this.renderRoot.querySelector('header h2'));
    this.codesDiffer = null;
    this.actions.reportSasMismatch?.(channel.session);
    await this.updateComplete;
    moveFocus(this.renderRoot.querySelector('[data-testid="sas-mismatch"] h3'));
  }

  /** After codes that differed (said here or by the peer): what happened and what to do now. */
  renderMismatch(channel) {
    if (channel.endReason !== 'sas_mismatch') return nothing;
    const byPeer = channel.endBy === 'peer' || channel.endBy === 'server';
    const username = channel.peer.username;
    return html`
      <div class="warning mismatch" role="alert" data-testid="sas-mismatch" data-by=${byPeer ? 'peer' : 'you'}>
        <h3 tabindex="-1">${icons.alert}${t(byPeer ? 'verify.mismatch.title_peer' : 'verify.mismatch.title', { username })}</h3>
        <p>${t(byPeer ? 'verify.mismatch.body_peer' : 'verify.mismatch.body', { username })}</p>
        <ol>
          <li>${t('verify.mismatch.step_contact', { username })}</li>
          <li>${t('verify.mismatch.step_fingerprint', { username })}</li>
          <li>${t('verify.mismatch.step_admin')}</li>
        </ol>
      </div>`;
  }

  // Calls ride on this secure channel: offered only while it is secure. The request goes up as
  // an event (app-root hands it to the call actions).
  renderCallButtons(channel, secure) {
    const call = (video) => this.call(video);
    const hint = secure ? null : t('channel.call.need_secure');
    return html`
      <button class="button secondary call" type="button" data-testid="channel-call-audio" ?disabled=${!secure} title=${hint ?? nothing}
        aria-label=${t('channel.call.audio_with', { username: channel.peer.username })} @click=${() => call(false)}>${icons.phone}<span>${t('channel.call.audio')}</span></button>
      <button class="button secondary call" type="button" data-testid="channel-call-video" ?disabled=${!secure} title=${hint ?? nothing}
        aria-label=${t('channel.call.video_with', { username: channel.peer.username })} @click=${() => call(true)}>${icons.video}<span>${t('channel.call.video')}</span></button>`;
  }

  render() {
    const channel = this.channel;
    if (!channel) return nothing;
    const status = channelStatusOf(channel);
    const live = ['verifying', 'waiting', 'key_exchange', 'secure', 'rekeying'].includes(status.state);
    const canSend = channel.phase === 'secure' || channel.phase === 'rekeying';
    const hidden = isIgnored({ ignored: this.ignored ?? [] }, channel);
    return html`
      <header>
        <h2 tabindex="-1" data-testid="channel-heading">${t('channel.with', { username: peerDisplayName(channel) })}</h2>
        ${this.verified(channel) ? verifiedBadge({ username: channel.peer.username, testid: 'channel-verified-badge' }) : nothing}
        <span class="badge" data-state=${status.state} data-testid="channel-state" role="status">
          ${status.state === 'secure' ? icons.shield : status.state === 'compromised' ? icons.alert : icons.lockOpen}${t(`channel.status.${status.state}`)}
        </span>
        <span class="spacer"></span>
        ${this.renderCallButtons(channel, canSend)}
        ${live && channel.phase !== 'offered'
          ? html`<button class="button secondary" type="button" data-testid="channel-end" @click=${() => this.actions.endChannel(channel.session)}>${t('channel.end')}</button>`
          : !live ? html`<button class="button secondary" type="button" data-testid="channel-remove" @click=${() => this.actions.removeChannel(channel.session)}>${t('channel.remove')}</button>` : nothing}
      </header>
      ${this.renderMismatch(channel)}
      ${this.callError?.session === channel.session ? html`<p class="message ended error" role="alert" data-testid="channel-call-error"
          data-code=${this.callError.code}>${callErrorText(this.callError.code)}</p>` : nothing}
      ${status.reason ? html`<p class=${`message ended ${status.state === 'compromised' ? 'error' : 'info'}`} role="alert" data-testid="channel-teardown-reason" data-reason=${status.reason}>
          ${channelReasonText(status)}</p>` : nothing}
      <secms-chat-log .messages=${channel.messages} .conversation=${channel.session}
        .nameOf=${(message) => this.nameOf(message)} .actorOf=${(message) => this.actorOf(message)}
        .canDelete=${(message) => message.from === 'me' && canSend}
        .hide=${(message) => message.from === 'peer' && hidden}
        .onDelete=${(message) => this.actions.deleteMessage(channel.session, message.key)}>
        ${channel.phase === 'offered' ? this.renderOffer(channel) : nothing}
        ${this.renderSas(channel)}
        ${channel.phase === 'waiting_peer' ? html`<p class="lead" tabindex="-1" data-focus-step data-testid="channel-waiting">${t('channel.waiting', { username: channel.peer.username })}</p>` : nothing}
        ${channel.phase === 'key_exchange' ? html`<p class="lead" tabindex="-1" data-focus-step data-testid="channel-key-exchange">${t('channel.key_exchange')}</p>` : nothing}
        ${canSend || channel.messages.length ? html`<p class="history" data-testid="chat-history-note">${t('chat.history_note')}</p>` : nothing}
      </secms-chat-log>
      ${canSend ? html`<secms-chat-compose .submit=${(text) => this.actions.submitChatLine(channel.session, text)}></secms-chat-compose>` : nothing}`;
  }
}

customElements.define('secms-channel-view', ChannelView);
