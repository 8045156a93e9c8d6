// Account menu (WAI-ARIA menu button): theme, event sounds, desktop notifications, change
// password, delete account, log out; for logins with the admin role, the administration panel
// (ui/admin/admin-panel.js).
// The two forms live in modal <dialog>s; like the landing page, no field is remembered.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { errorMessageKey } from '../net/api-client.js';
import { LanguageController, StoreController } from './controllers.js';
import { themes } from '../state/preferences.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { privateInput } from './private-input.js';
import { describedBy, fieldError, focusFirstInvalid } from './field-errors.js';
import './admin/admin-panel.js';

// The fields of each dialog in order (the first invalid one takes focus), and the server errors
// that are about one of them.
const passwordFields = Object.freeze(['current-password', 'new-password', 'repeat-password']);
const deleteFields = Object.freeze(['delete-password', 'delete-confirm']);
const passwordFieldOfError = Object.freeze({ invalid_credentials: 'current-password', invalid_password: 'new-password' });
const deleteFieldOfError = Object.freeze({ invalid_credentials: 'delete-password' });

export class AccountMenu extends LitElement {
  static properties = {
    user: { attribute: false },
    actions: { attribute: false },   // { logout(), changePassword({currentPassword,newPassword}), deleteAccount({password}), admin (net/admin-api.js), announce(sentence) }
    open: { state: true },
    busy: { state: true },
    error: { state: true },          // { key, params } about the whole dialog (network, rate limit)
    fieldErrors: { state: true },    // { [field id]: { key, params } } (field-errors.js)
    notice: { state: true },
    activeDialog: { state: true },   // id of the open dialog: only it shows the error
  };

  static styles = [controlStyles, css`
    :host { position: relative; display: inline-block; }
    .trigger {
      display: inline-flex; align-items: center; gap: var(--space-2);
      height: 36px; padding: 0 var(--space-2) 0 var(--space-1); border: 1px solid var(--color-border);
      border-radius: 999px; background: var(--color-surface); cursor: pointer; max-width: 14rem;
    }
    .trigger:hover { background: var(--color-surface-hover); }
    .avatar {
      display: grid; place-items: center; width: 28px; height: 28px; border-radius: 50%;
      background: var(--color-accent); color: var(--color-accent-text); font-weight: 700; text-transform: uppercase; flex: none;
    }
    .username { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
    [role="menu"] {
      position: absolute; right: 0; top: calc(100% + 6px); z-index: 10; min-width: 220px;
      margin: 0; padding: var(--space-1); list-style: none;
      background: var(--color-surface); border: 1px solid var(--color-border);
      border-radius: var(--radius-m); box-shadow: var(--shadow-pop);
    }
    [role="menuitem"] {
      display: flex; align-items: center; gap: var(--space-3); width: 100%;
      padding: var(--space-2) var(--space-3); border: 0; border-radius: var(--radius-s);
      background: transparent; text-align: left; cursor: pointer;
    }
    [role="menuitem"]:hover, [role="menuitem"]:focus-visible { background: var(--color-surface-hover); }
    [role="menuitemradio"], [role="menuitemcheckbox"] {
      display: flex; align-items: center; gap: var(--space-3); width: 100%;
      padding: var(--space-1) var(--space-3); border: 0; border-radius: var(--radius-s);
      background: transparent; text-align: left; cursor: pointer; font-size: 0.92rem;
    }
    [role="menuitemradio"]:hover, [role="menuitemradio"]:focus-visible, [role="menuitemcheckbox"]:hover, [role="menuitemcheckbox"]:focus-visible { background: var(--color-surface-hover); }
    /* The focus token as a ring inside the item (the menu's edge would clip one outside): at least
       3:1 against the menu in every theme, unlike the hover background alone. */
    [role="menuitem"]:focus-visible, [role="menuitemradio"]:focus-visible, [role="menuitemcheckbox"]:focus-visible { outline: 2px solid var(--color-focus); outline-offset: -2px; }
    .mark { width: 1em; flex: none; text-align: center; }
    .group-label { padding: var(--space-1) var(--space-3); font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--color-text-muted); }
    [role="menuitem"].danger { color: var(--color-danger); }
    .separator { height: 1px; margin: var(--space-1) 0; background: var(--color-border); }
    dialog {
      width: min(440px, calc(100vw - 32px)); padding: var(--space-5);
      border: 1px solid var(--color-border); border-radius: var(--radius-l);
      background: var(--color-surface); color: var(--color-text); box-shadow: var(--shadow-pop);
    }
    dialog::backdrop { background: rgb(0 0 0 / 45%); }
    dialog h2 { margin: 0 0 var(--space-4); font-size: 1.15rem; }
    .dialog-actions { display: flex; justify-content: flex-end; gap: var(--space-2); margin-top: var(--space-2); }
    .warning { margin: 0 0 var(--space-4); color: var(--color-text-muted); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.open = false;
    this.busy = false;
    this.error = null;
    this.fieldErrors = {};
    this.notice = null;
    this.activeDialog = null;
    this.preferenceSnapshot = new StoreController(this, 'preferences');
    this.onDocumentPointerDown = (event) => {
      if (this.open && !event.composedPath().includes(this)) this.open = false;
    };
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener('pointerdown', this.onDocumentPointerDown);
  }

  disconnectedCallback() {
    document.removeEventListener('pointerdown', this.onDocumentPointerDown);
    super.disconnectedCallback();
  }

  get preferences() {
    return this.actions?.preferences ?? null;
  }

  menuItems() {
    return [...this.renderRoot.querySelectorAll('[role="menuitem"], [role="menuitemradio"], [role="menuitemcheckbox"]')];
  }

  async onNotifications() {
    this.open = false;
    const permission = await this.actions.enableNotifications();
    if (permission !== 'granted') {
      this.notice = { key: permission === 'unsupported' ? 'settings.notifications.unsupported' : 'settings.notifications.denied', params: {} };
      this.activeDialog = 'notice-dialog';
      this.renderRoot.querySelector('#notice-dialog').showModal();
    }
  }

  renderSettings() {
    const prefs = this.preferenceSnapshot.value;
    if (!prefs) return nothing;
    return html`
      <div class="group-label" role="presentation">${t('settings.theme')}</div>
      ${themes.map((theme) => html`
        <button role="menuitemradio" type="button" tabindex="-1" aria-checked=${String(prefs.theme === theme)} data-testid="menu-theme" data-theme=${theme}
          @click=${() => this.preferences.setTheme(theme)}><span class="mark" aria-hidden="true">${prefs.theme === theme ? '●' : ''}</span>${t(`settings.theme.${theme}`)}</button>`)}
      <div class="separator" role="separator"></div>
      <button role="menuitemcheckbox" type="button" tabindex="-1" aria-checked=${String(prefs.sound)} data-testid="menu-sound"
        @click=${() => { this.preferences.setSound(!prefs.sound); if (!prefs.sound) this.actions.testSound?.('message'); }}>
        <span class="mark" aria-hidden="true">${prefs.sound ? '✓' : ''}</span>${t('settings.sound')}</button>
      <button role="menuitemcheckbox" type="button" tabindex="-1" aria-checked=${String(prefs.notify)} data-testid="menu-notifications"
        @click=${() => (prefs.notify ? this.preferences.setNotify(false) : this.onNotifications())}>
        <span class="mark" aria-hidden="true">${prefs.notify ? '✓' : ''}</span>${t('settings.notifications')}</button>
      <div class="separator" role="separator"></div>`;
  }

  async toggleMenu({ focusFirst = false } = {}) {
    this.open = !this.open;
    if (this.open && focusFirst) {
      await this.updateComplete;
      this.menuItems()[0]?.focus();
    }
  }

  closeMenu() {
    this.open = false;
    this.renderRoot.querySelector('.trigger')?.focus();
  }

  onTriggerKeydown(event) {
    if (['ArrowDown', 'Enter', ' '].includes(event.key)) {
      event.preventDefault();
      if (!this.open) this.toggleMenu({ focusFirst: true });
      else this.menuItems()[0]?.focus();
    }
  }

  onMenuKeydown(event) {
    const items = this.menuItems();
    const index = items.indexOf(this.renderRoot.activeElement);
    const moves = { ArrowDown: (index + 1) % items.length, ArrowUp: (index - 1 + items.length) % items.length, Home: 0, End: items.length - 1 };
    if (event.key === 'Escape') {
      event.preventDefault();
      this.closeMenu();
    } else if (event.key === 'Tab') {
      this.open = false;
    } else if (moves[event.key] !== undefined) {
      event.preventDefault();
      items[moves[event.key]]?.focus();
    }
  }

  openDialog(id) {
    this.open = false;
    this.error = null;
    this.notice = null;
    this.activeDialog = id;
    this.fieldErrors = {};
    const dialog = this.renderRoot.querySelector(`#${id}`);
    dialog.querySelector('form')?.reset();
    dialog.showModal();
  }

  // A dialog closed (Cancel, Escape, done): focus goes back to the menu button that led to it
  // (its menu item is gone with the menu), unless another dialog followed it.
  onDialogClose() {
    this.error = null;
    if (!this.renderRoot.querySelector('dialog[open]')) this.renderRoot.querySelector('.trigger')?.focus();
  }

  closeDialog(event) {
    event.target.closest('dialog')?.close();
    this.error = null;
    this.fieldErrors = {};
  }

  /** Shows `errors` under their fields and focuses the first; → whether there were any. */
  showFieldErrors(errors, order) {
    this.fieldErrors = errors;
    if (!Object.keys(errors).length) return false;
    focusFirstInvalid(this, order, errors);
    return true;
  }

  /** A server error: under the field it is about, or above the form. */
  showServerError(fieldOfError, order) {
    const field = fieldOfError[this.failureCode];
    if (field && this.error) {
      this.showFieldErrors({ [field]: this.error }, order);
      this.error = null;
    }
  }

  async runAction(action) {
    this.busy = true;
    this.error = null;
    this.fieldErrors = {};
    this.failureCode = null;
    try {
      return await action();
    } catch (error) {
      this.error = errorMessageKey(error);
      this.failureCode = error?.code;
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  async onChangePassword(event) {
    event.preventDefault();
    const form = event.target;
    const currentPassword = form.elements['current-password'].value;
    const newPassword = form.elements['new-password'].value;
    const repeat = form.elements['repeat-password'].value;
    this.error = null;
    const missing = {};
    if (!currentPassword) missing['current-password'] = { key: 'form.required.current_password', params: {} };
    if (!newPassword) missing['new-password'] = { key: 'form.required.new_password', params: {} };
    if (!repeat) missing['repeat-password'] = { key: 'form.required.repeat_new_password', params: {} };
    else if (newPassword && newPassword !== repeat) missing['repeat-password'] = { key: 'form.password_mismatch', params: {} };
    if (this.showFieldErrors(missing, passwordFields)) return;
    const done = await this.runAction(async () => {
      await this.actions.changePassword({ currentPassword, newPassword });
      return true;
    });
    form.reset();
    if (!done) {
      this.showServerError(passwordFieldOfError, passwordFields);
      if (this.error) focusFirstInvalid(this, passwordFields, { 'current-password': true });
    }
    if (done) {
      form.closest('dialog').close();
      this.notice = { key: 'account.password_changed', params: {} };
      this.activeDialog = 'notice-dialog';
      this.renderRoot.querySelector('#notice-dialog').showModal();
    }
  }

  async onDeleteAccount(event) {
    event.preventDefault();
    const form = event.target;
    const password = form.elements['delete-password'].value;
    this.error = null;
    const missing = {};
    if (!password) missing['delete-password'] = { key: 'form.required.password', params: {} };
    if (!form.elements.confirm.checked) missing['delete-confirm'] = { key: 'account.delete.confirm_required', params: {} };
    if (this.showFieldErrors(missing, deleteFields)) return;
    // On success the page wipes itself and leaves; nothing to render afterwards.
    await this.runAction(() => this.actions.deleteAccount({ password }));
    form.elements['delete-password'].value = '';
    this.showServerError(deleteFieldOfError, deleteFields);
    if (this.error) focusFirstInvalid(this, deleteFields, { 'delete-password': true });
  }

  // The panel is shown to admin logins only; the server refuses the API to any other (403).
  get isAdmin() {
    return this.user?.role === 'admin' && Boolean(this.actions?.admin);
  }

  openAdminPanel() {
    this.open = false;
    this.renderRoot.querySelector('secms-admin-panel')?.show();
  }

  async onLogout() {
    this.open = false;
    this.busy = true;
    try {
      await this.actions.logout();
    } finally {
      this.busy = false;
    }
  }

  renderError(dialogId) {
    return this.error && this.activeDialog === dialogId
      ? html`<p class="message error" role="alert" data-testid="account-error">${t(this.error.key, this.error.params)}</p>`
      : nothing;
  }

  /** A credential field of a dialog with its error under it (tied by aria-invalid / aria-describedby). */
  renderField(id, labelKey, hint = null) {
    const errors = this.fieldErrors;
    return html`
      <div class="field">
        <label for=${id}>${t(labelKey)}</label>
        ${privateInput({ id, describedBy: describedBy(id, errors, hint ? `${id}-hint` : null), invalid: Boolean(errors[id]), disabled: this.busy })}
        ${fieldError(id, errors, { testId: 'account-error' })}
        ${hint ? html`<span class="hint" id=${`${id}-hint`}>${t(hint)}</span>` : nothing}
      </div>`;
  }

  render() {
    const username = this.user?.username ?? '';
    return html`
      <button class="trigger" type="button" aria-haspopup="menu" aria-expanded=${String(this.open)}
        aria-controls="account-menu" data-testid="account-menu"
        @click=${() => this.toggleMenu()} @keydown=${this.onTriggerKeydown}>
        <span class="avatar" aria-hidden="true">${username.slice(0, 1)}</span>
        <span class="username">${username}</span><span class="visually-hidden">${t('account.menu_trigger')}</span>
        ${icons.chevronDown}
      </button>
      <div id="account-menu" role="menu" aria-label=${t('account.menu', { username })} ?hidden=${!this.open} @keydown=${this.onMenuKeydown}>
        ${this.renderSettings()}
        <button role="menuitem" type="button" tabindex="-1" data-testid="menu-change-password"
          @click=${() => this.openDialog('password-dialog')}>${icons.key}${t('account.change_password')}</button>
        <button role="menuitem" type="button" tabindex="-1" class="danger" data-testid="menu-delete-account"
          @click=${() => this.openDialog('delete-dialog')}>${icons.trash}${t('account.delete')}</button>
        ${this.isAdmin ? html`<div class="separator" role="separator"></div>
          <button role="menuitem" type="button" tabindex="-1" data-testid="menu-admin"
            @click=${this.openAdminPanel}>${icons.shield}${t('admin.menu')}</button>` : nothing}
        <div class="separator" role="separator"></div>
        <button role="menuitem" type="button" tabindex="-1" data-testid="menu-logout" ?disabled=${this.busy}
          @click=${this.onLogout}>${icons.logout}${this.busy ? t('account.logging_out') : t('account.logout')}</button>
      </div>

      <dialog id="password-dialog" aria-labelledby="password-title" @close=${() => { this.error = null; this.fieldErrors = {}; this.onDialogClose(); }}>
        <h2 id="password-title">${t('account.change_password')}</h2>
        ${this.renderError('password-dialog')}
        <form autocomplete="off" novalidate @submit=${this.onChangePassword}>
          ${this.renderField('current-password', 'account.current_password')}
          ${this.renderField('new-password', 'account.new_password', 'landing.password.hint')}
          ${this.renderField('repeat-password', 'account.repeat_new_password')}
          <div class="dialog-actions">
            <button class="button secondary" type="button" @click=${this.closeDialog}>${t('account.cancel')}</button>
            <button class="button" type="submit" ?disabled=${this.busy} data-testid="change-password-submit">${t('account.save')}</button>
          </div>
        </form>
      </dialog>

      <dialog id="delete-dialog" aria-labelledby="delete-title" @close=${() => { this.error = null; this.fieldErrors = {}; this.onDialogClose(); }}>
        <h2 id="delete-title">${t('account.delete')}</h2>
        <p class="warning">${t('account.delete.warning')}</p>
        ${this.renderError('delete-dialog')}
        <form autocomplete="off" novalidate @submit=${this.onDeleteAccount}>
          ${this.renderField('delete-password', 'account.delete.password')}
          <label class="checkbox"><input type="checkbox" id="delete-confirm" name="confirm" data-testid="delete-confirm" ?disabled=${this.busy}
            aria-invalid=${this.fieldErrors['delete-confirm'] ? 'true' : nothing} aria-describedby=${describedBy('delete-confirm', this.fieldErrors) ?? nothing}><span>${t('account.delete.confirm')}</span></label>
          ${fieldError('delete-confirm', this.fieldErrors, { testId: 'account-error' })}
          <div class="dialog-actions">
            <button class="button secondary" type="button" @click=${this.closeDialog}>${t('account.cancel')}</button>
            <button class="button danger" type="submit" ?disabled=${this.busy} data-testid="delete-submit">${t('account.delete.submit')}</button>
          </div>
        </form>
      </dialog>

      ${this.isAdmin ? html`<secms-admin-panel .api=${this.actions.admin} .self=${username} .announce=${this.actions.announce}
        @admin-panel-close=${this.onDialogClose}></secms-admin-panel>` : nothing}

      <dialog id="notice-dialog" aria-labelledby="notice-text" @close=${this.onDialogClose}>
        ${this.notice ? html`<p class="message success" id="notice-text" role="status" data-testid="account-notice">${t(this.notice.key, this.notice.params)}</p>` : nothing}
        <div class="dialog-actions"><button class="button" type="button" @click=${this.closeDialog}>${t('account.close')}</button></div>
      </dialog>`;
  }
}

customElements.define('secms-account-menu', AccountMenu);
