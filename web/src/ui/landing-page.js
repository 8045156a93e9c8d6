// Landing page: register, log in, then open the app in its own window (DESIGN.md §2).
// Autofill and form history are off on every field: this may be a shared computer,
// and a browser-stored password would outlive the logout wipe.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { errorMessageKey } from '../net/api-client.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { privateInput } from './private-input.js';
import { describedBy, fieldError, focusFirstInvalid } from './field-errors.js';
import './language-switcher.js';

// The form's fields in order (the first invalid one takes focus), and the server errors that are
// about one of them.
const authFields = Object.freeze(['username', 'password', 'repeat']);
const fieldOfError = Object.freeze({ username_taken: 'username', invalid_username: 'username', invalid_password: 'password' });

export class LandingPage extends LitElement {
  static properties = {
    api: { attribute: false },
    openAppWindow: { attribute: false },   // () => boolean: false when the pop-up was blocked
    logout: { attribute: false },          // async () => { loggedOut, stillLoggedIn? } (session-end.js logOutAndWipe)
    mode: { state: true },                 // 'login' | 'register'
    phase: { state: true },                // 'checking' | 'form' | 'signed-in'
    busy: { state: true },
    error: { state: true },                // { key, params } | null: about the whole form (wrong credentials, network)
    fieldErrors: { state: true },          // { username?, password?, repeat? : { key, params } } (field-errors.js)
    notice: { state: true },               // { key, params, kind } | null
    user: { state: true },
    popupBlocked: { state: true },
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex-direction: column; min-height: 100vh; }

    header {
      display: flex; justify-content: flex-end; padding: var(--space-4) var(--space-5);
    }
    main {
      flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center;
      padding: var(--space-4);
    }
    .brand { display: flex; flex-direction: column; align-items: center; text-align: center; margin-bottom: var(--space-5); }
    .logo {
      display: grid; place-items: center; width: 56px; height: 56px; border-radius: 16px;
      background: var(--color-accent); color: var(--color-accent-text); margin-bottom: var(--space-3);
    }
    .logo svg { width: 30px; height: 30px; }
    h1 { margin: 0; font-size: 1.7rem; letter-spacing: -0.01em; }
    .tagline { margin: var(--space-2) 0 0; color: var(--color-text-muted); max-width: 30rem; }

    .card {
      width: 100%; max-width: 420px; padding: var(--space-5);
      background: var(--color-surface); border: 1px solid var(--color-border);
      border-radius: var(--radius-l); box-shadow: var(--shadow-card);
    }
    .switch {
      display: grid; grid-template-columns: 1fr 1fr; gap: var(--space-1);
      padding: var(--space-1); margin-bottom: var(--space-5);
      background: var(--color-surface-2); border-radius: var(--radius-m);
    }
    .switch button {
      height: 36px; border: 0; border-radius: var(--radius-s); background: transparent;
      color: var(--color-text-muted); font-weight: 600; cursor: pointer;
    }
    .switch button[aria-selected="true"] {
      background: var(--color-surface); color: var(--color-text); box-shadow: 0 1px 3px rgb(0 0 0 / 12%);
    }
    .signed-in p { margin: 0 0 var(--space-4); }
    .actions { display: flex; flex-direction: column; gap: var(--space-3); }
    .actions .link { text-align: center; }
    footer { padding: var(--space-5); text-align: center; color: var(--color-text-muted); font-size: 0.85rem; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.mode = 'login';
    this.phase = 'checking';
    this.busy = false;
    this.error = null;
    this.fieldErrors = {};
    this.notice = null;
    this.user = null;
    this.popupBlocked = false;
  }

  async connectedCallback() {
    super.connectedCallback();
    // Someone already logged in (this tab was reloaded, or the app window is open):
    // offer to open the app rather than asking for the password again.
    try {
      this.user = await this.api.me();
      this.phase = 'signed-in';
    } catch {
      this.phase = 'form';
    }
  }

  /** Called by the page when the app window reports a logout. */
  showLoggedOut() {
    this.user = null;
    this.phase = 'form';
    this.mode = 'login';
    this.busy = false;
    this.error = null;
    this.fieldErrors = {};
    this.popupBlocked = false;
    this.notice = { key: 'landing.logged_out', params: {}, kind: 'success' };
    // The form is back: focus on its first field, where the next action is (not left on <body>).
    this.updateComplete.then(() => this.renderRoot.querySelector('#username')?.focus());
  }

  /**
   * Called when a logout did not end the server session (here or in the app window): the user is
   * told plainly and the logout button stays, to retry.
   */
  showLogoutFailed(stillLoggedIn) {
    this.phase = 'signed-in';
    this.busy = false;
    this.notice = null;
    this.error = { key: stillLoggedIn === true ? 'logout.failed.still_logged_in' : 'logout.failed.unknown', params: {} };
    if (!this.user) this.api.me().then((user) => { this.user = user; }, () => {});
  }

  selectMode(mode) {
    if (this.busy) return;
    this.mode = mode;
    this.error = null;
    this.fieldErrors = {};
    this.notice = null;
  }

  onModeKeydown(event) {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
    event.preventDefault();
    const next = this.mode === 'login' ? 'register' : 'login';
    const target = event.key === 'Home' ? 'login' : event.key === 'End' ? 'register' : next;
    this.selectMode(target);
    this.updateComplete.then(() => this.renderRoot.querySelector(`#mode-${target}`)?.focus());
  }

  async onSubmit(event) {
    event.preventDefault();
    if (this.busy) return;
    const form = event.target;
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const repeat = form.elements.repeat?.value;
    this.error = null;
    this.notice = null;
    const missing = {};
    if (!username) missing.username = { key: 'form.required.username', params: {} };
    if (!password) missing.password = { key: 'form.required.password', params: {} };
    if (this.mode === 'register' && !repeat) missing.repeat = { key: 'form.required.repeat', params: {} };
    else if (this.mode === 'register' && password && password !== repeat) missing.repeat = { key: 'form.password_mismatch', params: {} };
    this.fieldErrors = missing;
    if (Object.keys(missing).length) {
      focusFirstInvalid(this, authFields, missing);
      return;
    }
    this.busy = true;
    try {
      if (this.mode === 'register') {
        await this.api.register({ username, password });
        this.notice = { key: 'landing.registered', params: { username }, kind: 'success' };
      }
      this.user = await this.api.login({ username, password });
      form.reset();
      this.phase = 'signed-in';
      this.popupBlocked = !this.openAppWindow();
      // The form is gone: this page's next action is opening the app (again).
      this.updateComplete.then(() => this.renderRoot.querySelector('[data-testid="open-app"]')?.focus());
    } catch (error) {
      // An error about one field is said under it; others (wrong credentials, network) above the form.
      const message = errorMessageKey(error);
      const field = fieldOfError[error?.code];
      if (field) this.fieldErrors = { [field]: message };
      else this.error = message;
      // Clear the passwords after a failure: the user retypes them anyway.
      form.elements.password.value = '';
      if (form.elements.repeat) form.elements.repeat.value = '';
    } finally {
      this.busy = false;
    }
    // Fields are enabled again once rendered: focus the field to fix, or the password to retype.
    if (this.phase === 'form' && (this.error || Object.keys(this.fieldErrors).length)) {
      focusFirstInvalid(this, authFields, Object.keys(this.fieldErrors).length ? this.fieldErrors : { password: true });
    }
  }

  onOpenClick() {
    this.popupBlocked = !this.openAppWindow();
  }

  async onLogoutClick() {
    this.busy = true;
    this.error = null;
    let result;
    try {
      result = await this.logout();
    } finally {
      this.busy = false;
    }
    if (result?.loggedOut === false) this.showLogoutFailed(result.stillLoggedIn);
    else this.showLoggedOut();
  }

  // Notices go to a status region that stays in the card whatever it shows (a live region added
  // together with its text is often not read, and the card itself is not live); errors about the
  // whole form are alerts.
  renderStatus() {
    return html`<div role="status" data-testid="landing-status">${this.notice
      ? html`<p class="message ${this.notice.kind}" data-testid="notice">${t(this.notice.key, this.notice.params)}</p>` : nothing}</div>`;
  }

  renderMessages() {
    return this.error ? html`<p class="message error" role="alert" id="form-error" data-testid="error">${t(this.error.key, this.error.params)}</p>` : nothing;
  }

  renderForm() {
    const registering = this.mode === 'register';
    const errors = this.fieldErrors;
    // autocomplete="off" on the form, "new-password"/"off" on each field (privateInput), plus the
    // ignore hints that common password managers honour; spellcheck off so typed text stays local.
    return html`
      <div class="switch" role="tablist" aria-label=${t('app.name')} @keydown=${this.onModeKeydown}>
        <button id="mode-login" role="tab" type="button" aria-selected=${String(!registering)}
          aria-controls="auth-panel" tabindex=${registering ? -1 : 0}
          @click=${() => this.selectMode('login')}>${t('landing.tab.login')}</button>
        <button id="mode-register" role="tab" type="button" aria-selected=${String(registering)}
          aria-controls="auth-panel" tabindex=${registering ? 0 : -1}
          @click=${() => this.selectMode('register')}>${t('landing.tab.register')}</button>
      </div>
      ${this.renderMessages()}
      <div id="auth-panel" role="tabpanel" aria-labelledby=${registering ? 'mode-register' : 'mode-login'}>
      <form id="auth-form" autocomplete="off" novalidate data-testid="auth-form" aria-describedby=${this.error ? 'form-error' : nothing} @submit=${this.onSubmit}>
        <div class="field">
          <label for="username">${t('landing.username')}</label>
          ${privateInput({ id: 'username', type: 'text', maxlength: 64, describedBy: describedBy('username', errors, registering ? 'username-hint' : null), invalid: Boolean(errors.username), disabled: this.busy })}
          ${fieldError('username', errors)}
          ${registering ? html`<span class="hint" id="username-hint">${t('landing.username.hint')}</span>` : nothing}
        </div>
        <div class="field">
          <label for="password">${t('landing.password')}</label>
          ${privateInput({ id: 'password', describedBy: describedBy('password', errors, registering ? 'password-hint' : null), invalid: Boolean(errors.password), disabled: this.busy })}
          ${fieldError('password', errors)}
          ${registering ? html`<span class="hint" id="password-hint">${t('landing.password.hint')}</span>` : nothing}
        </div>
        ${registering ? html`
          <div class="field">
            <label for="repeat">${t('landing.password.repeat')}</label>
            ${privateInput({ id: 'repeat', describedBy: describedBy('repeat', errors), invalid: Boolean(errors.repeat), disabled: this.busy })}
            ${fieldError('repeat', errors)}
          </div>` : nothing}
        <button class="button full" type="submit" ?disabled=${this.busy} data-testid="submit">
          ${this.busy ? t('landing.busy') : t(registering ? 'landing.submit.register' : 'landing.submit.login')}
        </button>
      </form>
      </div>`;
  }

  renderSignedIn() {
    return html`
      <div class="signed-in" data-testid="signed-in">
        ${this.renderMessages()}
        <p>${t('landing.signed_in_as', { username: this.user?.username ?? '' })}</p>
        ${this.popupBlocked
          ? html`<p class="message error" role="alert" data-testid="popup-blocked">${t('landing.popup_blocked')}</p>`
          : html`<p class="message info">${t('landing.app_opened')}</p>`}
        <div class="actions">
          <button class="button ${this.popupBlocked ? '' : 'secondary'}" type="button"
            data-testid="open-app" @click=${this.onOpenClick}>${icons.external}${t('landing.open_app')}</button>
          ${this.popupBlocked
            ? html`<a class="link" href="/app.html" data-testid="open-in-tab">${t('landing.open_in_tab')}</a>`
            : nothing}
          <button class="button secondary" type="button" data-testid="landing-logout"
            ?disabled=${this.busy} @click=${this.onLogoutClick}>${icons.logout}${t('landing.logout')}</button>
        </div>
      </div>`;
  }

  render() {
    return html`
      <header><secms-language-switcher></secms-language-switcher></header>
      <main>
        <div class="brand">
          <div class="logo">${icons.shield}</div>
          <h1>${t('app.name')}</h1>
          <p class="tagline">${t('app.tagline')}</p>
        </div>
        <section class="card">
          ${this.renderStatus()}
          ${this.phase === 'checking' ? html`<p>${t('app.loading')}</p>`
            : this.phase === 'signed-in' ? this.renderSignedIn() : this.renderForm()}
        </section>
      </main>
      <footer>${t('landing.footer')}</footer>`;
  }
}

customElements.define('secms-landing-page', LandingPage);
