// Root of the app window. Shows the shell when a session exists, otherwise an honest
// message with a way back to the start page. The page entry (web/src/app/app.js) owns
// the services and sets the properties; this element only renders them.

import { LitElement, html, css } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import './notice-card.js';
import './status-bar.js';
import './online-users.js';
import './service-tabs.js';
import './incoming-call.js';
import { isPhoneLayout, trackVisualViewport } from './phone-layout.js';

/** The first element matching `selector` that is shown, searched through open shadow roots. */
function findShown(root, selector) {
  for (const element of root.querySelectorAll('*')) {
    if (element.matches(selector) && element.checkVisibility()) return element;
    const inner = element.shadowRoot && findShown(element.shadowRoot, selector);
    if (inner) return inner;
  }
  return null;
}

export class AppRoot extends LitElement {
  static properties = {
    phase: {},                         // 'loading' | 'ready' | 'no-session' | 'session-ended' | 'unreachable' | 'logout-failed'
    logoutProblem: { attribute: false },   // with 'logout-failed': true (still logged in) | 'unknown'
    user: { attribute: false },
    presence: { attribute: false },
    connection: { attribute: false },
    actions: { attribute: false },
    webRtcAvailable: { attribute: false },
    identity: { attribute: false },        // identity store
    channels: { attribute: false },        // channel store
    rooms: { attribute: false },           // room store
    channelActions: { attribute: false },  // secure-channel actions (app/secure-channels.js)
    calls: { attribute: false },           // call store (state/call-store.js); absent without call support
    callActions: { attribute: false },     // call actions (calls/)
    mail: { attribute: false },            // mail store (state/mail-store.js)
    mailActions: { attribute: false },     // mail actions (app/mail-controller.js), set after login
    service: { state: true },              // the tab shown: 'chat' | 'voip' | 'email'
    chatPane: { state: true },             // the Chat tab's pane on phones: 'lists' | 'conversation' | 'details'
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex-direction: column; height: 100%; background: var(--color-bg); }
    .layout { flex: 1; display: grid; grid-template-columns: 280px 1fr; min-height: 0; }
    aside {
      display: flex; flex-direction: column; min-height: 0;
      background: var(--color-surface); border-right: 1px solid var(--color-border);
    }
    main { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
    main:focus { outline: none; }
    /* Off screen until focused: then over the status bar's top-left corner. */
    .skip-link { position: absolute; top: var(--space-2); left: var(--space-2); z-index: 100; transform: translateY(-300%); }
    .skip-link:focus { transform: none; }
    secms-service-tabs { flex: 1; }
    .center { flex: 1; display: flex; }
    /* Phones (phone-layout.js): one pane at a time. The Chat tab's lists scroll as one column
       (the online users, then the tabs and the conversations); a conversation takes the whole
       window, its input at the bottom (the status bar and the tabs are one "Back" away); the
       VoIP and Email tabs take the window under the status bar and the tabs. */
    @media (max-width: 760px) {
      .layout { grid-template-columns: minmax(0, 1fr); }
      aside { border-right: 0; border-bottom: 1px solid var(--color-border); }
      .layout[data-view="lists"] { display: block; overflow-y: auto; }
      .layout:not([data-view="lists"]) aside { display: none; }
      secms-status-bar[data-view="conversation"] { display: none; }
      secms-service-tabs[data-view="conversation"]::part(tablist) { display: none; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.phase = 'loading';
    this.webRtcAvailable = true;
    this.service = 'chat';
    this.chatPane = 'lists';
    this.addEventListener('service-change', (event) => { this.service = event.detail?.service ?? 'chat'; });
    this.addEventListener('secms-chat-pane', (event) => { this.chatPane = event.detail?.pane ?? 'lists'; });
    // Call buttons deep in the chat views (channel-view) ask for a call with an event, so the
    // call actions need not be threaded through every view in between. The answer goes back in
    // the event's detail (`result`, a promise of the call action's result), so the button can
    // say why a call was refused.
    this.addEventListener('secms-show-call', () => this.renderRoot.querySelector('secms-service-tabs')?.select('voip', { focus: true }));
    this.addEventListener('secms-call', (event) => {
      const detail = event.detail;
      if (typeof detail?.username !== 'string') return;
      detail.result = this.callActions
        ? Promise.resolve().then(() => this.callActions.call({ username: detail.username, video: Boolean(detail.video) }))
        : Promise.resolve({ error: { code: 'unsupported' } });
    });
  }

  connectedCallback() {
    super.connectedCallback();
    this.stopViewportTracking = trackVisualViewport(document);
  }

  disconnectedCallback() {
    this.stopViewportTracking?.();
    super.disconnectedCallback();
  }

  /** What the window shows on a phone: the Chat tab's lists, a conversation, or another tab. */
  phoneView() {
    if (this.service !== 'chat') return 'service';
    return this.chatPane === 'lists' ? 'lists' : 'conversation';
  }

  /**
   * The skip link's target: the conversation shown in the Chat tab (its message input, else its
   * heading), or the main content when there is none.
   */
  async skipToConversation(event) {
    event.preventDefault();
    // On a phone the Chat tab's lists hide the conversation: it is shown first.
    const chatPanel = this.renderRoot.querySelector('secms-service-tabs')?.renderRoot?.querySelector('secms-chat-panel');
    if (isPhoneLayout() && this.service === 'chat' && chatPanel?.pane === 'lists' && chatPanel.hasSelection?.()) {
      chatPanel.showPane('conversation');
      await chatPanel.updateComplete;
      const shown = chatPanel.renderRoot.querySelector('secms-channel-view, secms-room-view');
      await shown?.updateComplete;
      await shown?.renderRoot?.querySelector('secms-chat-compose')?.updateComplete;
    }
    const view = findShown(this.renderRoot, 'secms-channel-view, secms-room-view');
    const input = view?.shadowRoot && findShown(view.shadowRoot, '[data-testid="message-input"]');
    const heading = view?.shadowRoot?.querySelector('header h2, h2');
    if (heading && !heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    (input ?? heading ?? this.renderRoot.querySelector('main')).focus();
  }

  renderBackToStart(titleKey, bodyKey) {
    return html`
      <div class="center" data-testid=${this.phase}>
        <secms-notice-card icon="user" tone="warning" heading=${t(titleKey)} body=${t(bodyKey)}>
          <a class="button" href="/" data-testid="back-to-start">${t('app.back_to_start')}</a>
        </secms-notice-card>
      </div>`;
  }

  // A logout that did not end the server session: this window is stopped, and says so plainly.
  renderLogoutFailed() {
    return html`
      <div class="center" data-testid="logout-failed">
        <secms-notice-card icon="alert" tone="warning" heading=${t('app.logout_failed.title')} body=${t('app.logout_failed.body')}>
          <p class="message error" role="alert" data-testid="logout-failed-reason">${t(this.logoutProblem === true ? 'logout.failed.still_logged_in' : 'logout.failed.unknown')}</p>
          <button class="button" type="button" data-testid="logout-retry" @click=${() => this.actions?.logout()}>${t('logout.retry')}</button>
          <a class="button secondary" href="/" data-testid="back-to-start">${t('app.back_to_start')}</a>
        </secms-notice-card>
      </div>`;
  }

  // The session ended or a logout failed: the shell (and the focus in it) is gone, so the notice's
  // first action takes focus (a retry, or the way back to the start page).
  updated(changed) {
    if (!changed.has('phase') || ['loading', 'ready'].includes(this.phase)) return;
    this.renderRoot.querySelector('.center .button')?.focus();
  }

  render() {
    if (this.phase === 'logout-failed') return this.renderLogoutFailed();
    if (this.phase === 'no-session') return this.renderBackToStart('app.no_session.title', 'app.no_session.body');
    if (this.phase === 'unreachable') return this.renderBackToStart('app.unreachable.title', 'app.unreachable.body');
    if (this.phase === 'session-ended') return this.renderBackToStart('app.session_ended.title', 'app.session_ended.body');
    if (this.phase !== 'ready') {
      return html`<div class="center"><secms-notice-card icon="shield" heading=${t('app.loading')}></secms-notice-card></div>`;
    }
    // The skip link is the window's first focusable element; the <h1> names the window (hidden:
    // the status bar shows the brand).
    const view = this.phoneView();
    return html`
      <a class="button skip-link" href="#main-content" data-testid="skip-link" @click=${this.skipToConversation}>${t('app.skip_to_conversation')}</a>
      <h1 class="visually-hidden">${t('app.name')}</h1>
      <secms-status-bar data-view=${view} .connection=${this.connection} .user=${this.user} .actions=${this.actions} .channels=${this.channels} .rooms=${this.rooms} .calls=${this.calls}></secms-status-bar>
      <div class="layout" data-testid="app-shell" data-view=${view}>
        <aside><secms-online-users .presence=${this.presence} .identity=${this.identity} .channels=${this.channels} .actions=${this.channelActions} .calls=${this.calls} .callActions=${this.callActions}></secms-online-users></aside>
        <main id="main-content" tabindex="-1"><secms-service-tabs data-view=${view} .webRtcAvailable=${this.webRtcAvailable} .identity=${this.identity} .channels=${this.channels} .rooms=${this.rooms} .actions=${this.channelActions}
          .calls=${this.calls} .callActions=${this.callActions} .presence=${this.presence} .preferences=${this.actions?.preferences}
          .mail=${this.mail} .mailActions=${this.mailActions}></secms-service-tabs></main>
      </div>
      <secms-incoming-call .calls=${this.calls} .actions=${this.callActions}></secms-incoming-call>`;
  }
}

customElements.define('secms-app-root', AppRoot);
