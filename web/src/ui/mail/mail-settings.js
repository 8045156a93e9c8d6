// Mail preferences (the store's prefs: density, reading pane, compose format, signature,
// auto-save, encryption defaults, attaching the own key) and the external mail account form
// (IMAP/SMTP server, username, password). The password goes to the server for this login
// session only; the page keeps it nowhere (the field is emptied once sent).

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { errorText } from './mail-folders.js';
import { privateInput } from '../private-input.js';
import { signatureFor } from '../../app/mail-compose.js';

export class MailSettings extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    error: { state: true },
    accountError: { state: true },
    busy: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; gap: var(--space-4); }
    .field select, .field input[type="number"] { max-width: 20rem; }
    textarea { width: 100%; box-sizing: border-box; }
    fieldset.signatures { border: 0; padding: 0; margin: 0; display: flex; flex-direction: column; gap: var(--space-2); }
    fieldset.signatures legend { font-weight: 600; padding: 0; margin-bottom: var(--space-1); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
  }

  setPref(name, value) {
    this.error = null;
    Promise.resolve().then(() => this.mailActions.setPref(name, value)).catch((error) => { this.error = errorText(error); });
  }

  async saveAccount(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const fields = {};
    for (const name of ['email', 'imap_host', 'imap_tls', 'smtp_host', 'smtp_tls', 'username']) fields[name] = form.get(name)?.toString() ?? '';
    fields.password = form.get('account-password')?.toString() ?? '';   // privateInput names the field by its id
    fields.imap_port = Number(form.get('imap_port'));
    fields.smtp_port = Number(form.get('smtp_port'));
    this.busy = true;
    this.accountError = null;
    try {
      await this.mailActions.setExternalAccount(fields);
      event.target.querySelector('#account-password').value = '';
    } catch (error) {
      this.accountError = errorText(error);
    } finally {
      this.busy = false;
    }
  }

  select(name, values, current) {
    return html`<div class="field"><label for=${`pref-${name}`}>${t(`mail.settings.${name}`)}</label>
      <select id=${`pref-${name}`} data-testid=${`pref-${name}`} @change=${(event) => this.setPref(name, event.target.value)}>
        ${values.map((value) => html`<option value=${value} ?selected=${current === value}>${t(`mail.settings.${name}_${value}`)}</option>`)}
      </select></div>`;
  }

  check(name, current) {
    return html`<label class="checkbox"><input type="checkbox" .checked=${Boolean(current)} data-testid=${`pref-${name}`} @change=${(event) => this.setPref(name, event.target.checked)}>${t(`mail.settings.${name}`)}</label>`;
  }

  /**
   * One signature per identity: the mailbox address and, once added, the external account's
   * address. The older single signature shows as the mailbox address's until that has its own.
   */
  renderSignatures(status, prefs) {
    const identities = [status?.address, status?.external?.email].filter(Boolean)
      .filter((address, index, all) => all.findIndex((other) => other.toLowerCase() === address.toLowerCase()) === index);
    const textOf = (address) => signatureFor(prefs, address, status?.address);
    const save = (address, text) => {
      const signatures = { ...(prefs.signatures ?? {}) };
      for (const identity of Object.keys(signatures)) if (identity.toLowerCase() === address.toLowerCase()) delete signatures[identity];
      signatures[address] = text;
      this.setPref('signatures', signatures);
    };
    return html`<fieldset class="signatures" data-testid="pref-signatures"><legend>${t('mail.settings.signature')}</legend>
      ${identities.map((address, index) => html`<div class="field"><label for=${`pref-signature-${index}`}>${t('mail.settings.signature_for', { address })}</label>
        <textarea id=${`pref-signature-${index}`} rows="4" maxlength="4000" data-testid="pref-signature" data-address=${address}
          .value=${textOf(address)} @change=${(event) => save(address, event.target.value)}></textarea></div>`)}
    </fieldset>`;
  }

  renderAccount(status) {
    const external = status?.external;
    const text = (name, label, value = '', type = 'text') => html`<div class="field"><label for=${`account-${name}`}>${t(label)}</label>
      <input id=${`account-${name}`} name=${name} type=${type} .value=${String(value ?? '')} autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" required></div>`;
    const tls = (name, value) => html`<div class="field"><label for=${`account-${name}`}>${t(`mail.account.${name}`)}</label>
      <select id=${`account-${name}`} name=${name}>${['tls', 'starttls', 'none'].map((mode) => html`<option value=${mode} ?selected=${value === mode}>${t(`mail.account.tls_${mode}`)}</option>`)}</select></div>`;
    return html`<section class="card" aria-labelledby="account-title">
      <h2 class="section" id="account-title">${t('mail.account.title')}</h2>
      <p class="muted small">${status?.account === 'external' ? t('mail.account.using', { email: external?.email ?? '' }) : t('mail.account.local', { address: status?.address ?? '' })}</p>
      <form @submit=${this.saveAccount} autocomplete="off" data-testid="account-form">
        <div class="grid-form">
          ${text('email', 'mail.account.email', external?.email, 'email')}
          ${text('username', 'mail.account.username', external?.username)}
          ${text('imap_host', 'mail.account.imap_host', external?.imap_host)}
          ${text('imap_port', 'mail.account.imap_port', external?.imap_port ?? 993, 'number')}
          ${tls('imap_tls', external?.imap_tls ?? 'tls')}
          ${text('smtp_host', 'mail.account.smtp_host', external?.smtp_host)}
          ${text('smtp_port', 'mail.account.smtp_port', external?.smtp_port ?? 587, 'number')}
          ${tls('smtp_tls', external?.smtp_tls ?? 'starttls')}
          <div class="field"><label for="account-password">${t('mail.account.password')}</label>
            ${privateInput({ id: 'account-password' })}
            <span class="hint">${t('mail.account.password_hint')}</span></div>
        </div>
        ${this.accountError ? html`<p class="message error" role="alert" data-testid="account-error">${this.accountError}</p>` : nothing}
        <div class="dialog-actions">
          ${status?.account === 'external' ? html`<button type="button" class="button secondary" data-testid="account-clear"
            @click=${() => Promise.resolve(this.mailActions.clearExternalAccount()).catch((error) => { this.accountError = errorText(error); })}>${t('mail.account.clear')}</button>` : nothing}
          <button type="submit" class="button" ?disabled=${Boolean(this.busy)} data-testid="account-save">${t('mail.account.save')}</button>
        </div>
      </form>
    </section>`;
  }

  render() {
    const state = this.snapshot.value;
    const prefs = state?.prefs ?? {};
    return html`
      <section class="card" aria-labelledby="prefs-title">
        <h2 class="section" id="prefs-title">${t('mail.settings.title')}</h2>
        ${this.error ? html`<p class="message error" role="alert">${this.error}</p>` : nothing}
        <div class="grid-form">
          ${this.select('density', ['comfortable', 'compact'], prefs.density)}
          ${this.select('readingPane', ['right', 'bottom', 'off'], prefs.readingPane)}
          ${this.select('composeFormat', ['plain', 'rich'], prefs.composeFormat)}
          <div class="field"><label for="pref-autoSaveSeconds">${t('mail.settings.autoSaveSeconds')}</label>
            <input id="pref-autoSaveSeconds" type="number" min="5" max="3600" .value=${String(prefs.autoSaveSeconds ?? 30)}
              @change=${(event) => this.setPref('autoSaveSeconds', Number(event.target.value))}></div>
        </div>
        ${this.check('encryptByDefault', prefs.encryptByDefault)}
        ${this.check('signByDefault', prefs.signByDefault)}
        ${this.check('attachOwnKey', prefs.attachOwnKey)}
        ${this.renderSignatures(state?.status, prefs)}
      </section>
      ${state?.status && state.status.external !== undefined ? this.renderAccount(state.status) : nothing}`;
  }
}

customElements.define('secms-mail-settings', MailSettings);
