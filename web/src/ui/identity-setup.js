// First step of the Chat tab: bring an OpenPGP identity. Create a key pair in the crypto
// Worker, import an armored private key, or unlock the one remembered on this device. The
// passphrase and the armored key go straight to the Worker; fields are cleared afterwards.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { privateInput } from './private-input.js';
import { describedBy, fieldError, focusFirstInvalid } from './field-errors.js';
import { identityErrorKey } from './identity-errors.js';
import { MIN_PASSPHRASE_LENGTH, estimatePassphrase } from '../crypto/passphrase-strength.js';
import { fetchMailboxIdentityDefaults } from './identity-mailbox.js';
import { focusIsLost, moveFocus } from './focus.js';

export class IdentitySetup extends LitElement {
  static properties = {
    identity: { attribute: false },   // identity store
    actions: { attribute: false },    // channel controller actions (actions.identity.*)
    mode: { state: true },            // 'create' | 'import'
    busy: { state: true },
    error: { state: true },
    fieldErrors: { state: true },     // { [field id]: { key, params } }: what to fix, under its field (field-errors.js)
    strength: { state: true },        // estimatePassphrase() of the passphrase being typed, or null
  };

  static styles = [controlStyles, css`
    :host { display: flex; flex: 1; justify-content: center; padding: var(--space-5) var(--space-4); overflow: auto; }
    .card { width: min(560px, 100%); }
    h2 { margin: 0 0 var(--space-2); font-size: 1.25rem; display: flex; gap: var(--space-2); align-items: center; }
    .lead { margin: 0 0 var(--space-4); color: var(--color-text-muted); }
    .switch { display: flex; gap: var(--space-2); margin-bottom: var(--space-4); }
    .switch button[aria-pressed="true"] { background: var(--color-accent-soft); border-color: var(--color-accent); }
    textarea {
      width: 100%; box-sizing: border-box; min-height: 9rem; padding: var(--space-2) var(--space-3);
      border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2);
      font-family: var(--font-mono); font-size: 0.8rem; color: inherit;
    }
    .progress { display: flex; align-items: center; gap: var(--space-2); color: var(--color-text-muted); margin: var(--space-2) 0; }
    .spinner { width: 16px; height: 16px; border-radius: 50%; border: 2px solid var(--color-border); border-top-color: var(--color-accent); animation: spin 0.8s linear infinite; }
    @keyframes spin { to { transform: rotate(360deg); } }
    @media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
    .stored { padding: var(--space-4); border: 1px solid var(--color-border); border-radius: var(--radius-l); margin-bottom: var(--space-5); }
    .stored h3 { margin: 0 0 var(--space-2); font-size: 1rem; }
    .mono { font-family: var(--font-mono); overflow-wrap: anywhere; }
    .strength { display: flex; align-items: center; gap: var(--space-2); margin-top: var(--space-1); font-size: 0.85rem; }
    .strength meter { flex: none; width: 8rem; }
    .strength[data-acceptable="false"] { color: var(--color-danger); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'identity');
    this.mode = 'create';
    this.busy = false;
    this.error = null;
    this.fieldErrors = {};
    this.strength = null;
    this.mailbox = null;          // { address, localDomain } of the user's mailbox, or null
    this.mailboxPrefilled = false;
  }

  connectedCallback() {
    super.connectedCallback();
    // The key's address is best the user's own mailbox: pre-fill it, and let its domain be
    // dotless when that is the server's mail domain (user@localhost by default).
    fetchMailboxIdentityDefaults().then((mailbox) => {
      this.mailbox = mailbox;
      this.prefillEmail();
    });
  }

  updated() {
    this.prefillEmail();
    // Shown with focus nowhere (the app window just opened, a task ended with an error): the
    // first field of the step takes it.
    if (focusIsLost() && this.checkVisibility?.() !== false) moveFocus(this.firstField());
  }

  firstField() {
    const root = this.renderRoot;
    if (this.busy) return root.querySelector('[data-testid="identity-busy"]');
    if (this.snapshot.value?.stored) return root.querySelector('#identity-unlock-passphrase');
    return root.querySelector(this.mode === 'create' ? '#identity-name' : '#identity-armored');
  }

  /** The mailbox address into an empty email field, once. */
  prefillEmail() {
    if (this.mailboxPrefilled || !this.mailbox?.address) return;
    const field = this.renderRoot?.querySelector?.('#identity-email');
    if (!field) return;
    this.mailboxPrefilled = true;
    if (!field.value) field.value = this.mailbox.address;
  }

  onPassphraseInput(event) {
    this.strength = event.target.value ? estimatePassphrase(event.target.value) : null;
  }

  /** The meter below a passphrase that will protect the stored key: a <meter> plus its words. */
  renderStrength(id) {
    const strength = this.strength;
    if (!strength) return nothing;
    const advice = strength.acceptable ? t('identity.strength.ok')
      : t(`identity.strength.reason.${strength.reason}`, { min: MIN_PASSPHRASE_LENGTH });
    return html`
      <div class="strength" data-testid="passphrase-strength" data-level=${strength.level} data-acceptable=${String(strength.acceptable)}>
        <meter id=${`${id}-meter`} min="0" max="4" low="2" high="3" optimum="4" .value=${strength.level}
          aria-label=${t('identity.strength.label')} aria-describedby=${`${id}-strength-text`}></meter>
        <span id=${`${id}-strength-text`} aria-live="polite">${t('identity.strength.text', { level: t(`identity.strength.${strength.level}`) })} ${advice}</span>
      </div>`;
  }

  /** Remembering needs a passphrase the Worker will accept (it checks again). → error key | null */
  rememberError(passphrase) {
    if (!passphrase) return 'identity.error.remember_needs_passphrase';
    return estimatePassphrase(passphrase).acceptable ? null : 'identity.error.weak_passphrase';
  }

  /** Shows `errors` under their fields, focuses the first of `order`; → whether there were any. */
  showFieldErrors(errors, order) {
    this.error = null;
    this.fieldErrors = errors;
    if (!Object.keys(errors).length) return false;
    focusFirstInvalid(this, order, errors);
    return true;
  }

  async run(task, form) {
    this.busy = true;
    this.error = null;
    this.fieldErrors = {};
    // The submit button is disabled while the Worker works: focus waits on the progress line
    // (read as it appears: its status region was there before).
    this.updateComplete.then(() => moveFocus(this.renderRoot.querySelector('[data-testid="identity-busy"]')));
    try {
      await task();
    } catch (error) {
      this.error = identityErrorKey(error.code);
    } finally {
      this.busy = false;
      this.strength = null;
      // Secrets do not linger in the DOM after use.
      for (const field of form.querySelectorAll('input[type="password"], textarea')) field.value = '';
    }
  }

  onCreate(event) {
    event.preventDefault();
    const form = event.target;
    const name = form.elements['identity-name'].value.trim();
    const email = form.elements['identity-email'].value.trim();
    const passphrase = form.elements['identity-passphrase'].value;
    const remember = form.elements['identity-remember'].checked;
    const errors = {};
    if (!name) errors['identity-name'] = { key: 'form.required.name', params: {} };
    if (!email) errors['identity-email'] = { key: 'form.required.email', params: {} };
    if (remember && this.rememberError(passphrase)) errors['identity-passphrase'] = { key: this.rememberError(passphrase), params: {} };
    if (this.showFieldErrors(errors, ['identity-name', 'identity-email', 'identity-passphrase'])) return;
    this.run(() => this.actions.identity.create({ name, email, passphrase, remember, localDomain: this.mailbox?.localDomain ?? null }), form);
  }

  onImport(event) {
    event.preventDefault();
    const form = event.target;
    const armoredKey = form.elements['identity-armored'].value;
    const passphrase = form.elements['identity-import-passphrase'].value;
    const remember = form.elements['identity-import-remember'].checked;
    const errors = {};
    if (!armoredKey.trim()) errors['identity-armored'] = { key: 'form.required.key', params: {} };
    if (remember && this.rememberError(passphrase)) errors['identity-import-passphrase'] = { key: this.rememberError(passphrase), params: {} };
    if (this.showFieldErrors(errors, ['identity-armored', 'identity-import-passphrase'])) return;
    this.run(() => this.actions.identity.import({ armoredKey, passphrase, remember }), form);
  }

  onUnlock(event) {
    event.preventDefault();
    const form = event.target;
    const passphrase = form.elements['identity-unlock-passphrase'].value;
    if (this.showFieldErrors(passphrase ? {} : { 'identity-unlock-passphrase': { key: 'form.required.passphrase', params: {} } }, ['identity-unlock-passphrase'])) return;
    this.run(() => this.actions.identity.unlock({ passphrase }), form);
  }

  async onForgetStored() {
    this.busy = true;
    try {
      await this.actions.identity.forget();
    } catch (error) {
      this.error = identityErrorKey(error.code);
    } finally {
      this.busy = false;
    }
  }

  /** A field's input with its error (if any) tied to it and shown under it. */
  input(id, { type = 'password', maxlength, hint = null, onInput } = {}) {
    const errors = this.fieldErrors;
    return html`${privateInput({ id, type, maxlength, onInput, disabled: this.busy, describedBy: describedBy(id, errors, hint), invalid: Boolean(errors[id]) })}
      ${fieldError(id, errors, { testId: 'identity-error' })}`;
  }

  renderProgress(key) {
    return html`<div role="status">${this.busy
      ? html`<p class="progress" tabindex="-1" data-testid="identity-busy"><span class="spinner" aria-hidden="true"></span>${t(key)}</p>` : nothing}</div>`;
  }

  renderStored(stored) {
    return html`
      <div class="stored">
        <h3>${t('identity.stored.title')}</h3>
        <p class="lead">${stored.userId} · <span class="mono">${stored.fingerprint}</span></p>
        <form autocomplete="off" novalidate @submit=${this.onUnlock}>
          <div class="field"><label for="identity-unlock-passphrase">${t('identity.passphrase')}</label>${this.input('identity-unlock-passphrase')}</div>
          ${this.renderProgress('identity.unlocking')}
          <button class="button" type="submit" ?disabled=${this.busy} data-testid="identity-unlock-submit">${icons.key}${t('identity.unlock')}</button>
          <button class="button secondary" type="button" ?disabled=${this.busy} data-testid="identity-forget-stored" @click=${this.onForgetStored}>${t('identity.forget_stored')}</button>
        </form>
      </div>`;
  }

  render() {
    const snapshot = this.snapshot.value;
    if (snapshot?.phase === 'unavailable') {
      return html`<secms-notice-card icon="alert" tone="warning" heading=${t('identity.unavailable.title')} body=${t('identity.unavailable.body')}></secms-notice-card>`;
    }
    return html`
      <div class="card" data-testid="identity-setup">
        <h2>${icons.key}${t('identity.title')}</h2>
        <p class="lead">${t('identity.lead')}</p>
        ${this.error ? html`<p class="message error" role="alert" data-testid="identity-error">${t(this.error)}</p>` : nothing}
        ${snapshot?.stored ? this.renderStored(snapshot.stored) : nothing}
        <div class="switch" role="group" aria-label=${t('identity.title')}>
          <button class="button secondary" type="button" aria-pressed=${String(this.mode === 'create')} data-testid="identity-mode-create"
            @click=${() => { this.mode = 'create'; this.error = null; this.fieldErrors = {}; this.strength = null; }}>${t('identity.create')}</button>
          <button class="button secondary" type="button" aria-pressed=${String(this.mode === 'import')} data-testid="identity-mode-import"
            @click=${() => { this.mode = 'import'; this.error = null; this.fieldErrors = {}; this.strength = null; }}>${t('identity.import')}</button>
        </div>
        ${this.mode === 'create' ? html`
          <form autocomplete="off" novalidate @submit=${this.onCreate} data-testid="identity-create-form">
            <div class="field"><label for="identity-name">${t('identity.name')}</label>${this.input('identity-name', { type: 'text', maxlength: 128 })}</div>
            <div class="field"><label for="identity-email">${t('identity.email')}</label>${this.input('identity-email', { type: 'text', maxlength: 254 })}</div>
            <div class="field">
              <label for="identity-passphrase">${t('identity.passphrase_optional')}</label>${this.input('identity-passphrase', { hint: 'passphrase-hint', onInput: (event) => this.onPassphraseInput(event) })}
              <span class="hint" id="passphrase-hint">${t('identity.passphrase.hint')}</span>
              ${this.renderStrength('identity-passphrase')}
            </div>
            <label class="checkbox"><input type="checkbox" name="identity-remember" data-testid="identity-remember" ?disabled=${this.busy}><span>${t('identity.remember')}</span></label>
            ${this.renderProgress('identity.creating')}
            <button class="button" type="submit" ?disabled=${this.busy} data-testid="identity-create-submit">${icons.key}${t('identity.create_submit')}</button>
          </form>` : html`
          <form autocomplete="off" novalidate @submit=${this.onImport} data-testid="identity-import-form">
            <div class="field">
              <label for="identity-armored">${t('identity.armored')}</label>
              <textarea id="identity-armored" name="identity-armored" autocomplete="off" autocapitalize="none" autocorrect="off" spellcheck="false"
                data-lpignore="true" data-1p-ignore data-form-type="other" maxlength="65536" ?disabled=${this.busy}
                aria-invalid=${this.fieldErrors['identity-armored'] ? 'true' : nothing} aria-describedby=${describedBy('identity-armored', this.fieldErrors) ?? nothing}
                placeholder="-----BEGIN PGP PRIVATE KEY BLOCK-----"></textarea>
              ${fieldError('identity-armored', this.fieldErrors, { testId: 'identity-error' })}
              <span class="hint">${t('identity.armored.hint')}</span>
            </div>
            <div class="field"><label for="identity-import-passphrase">${t('identity.passphrase')}</label>${this.input('identity-import-passphrase', { onInput: (event) => this.onPassphraseInput(event) })}
              ${this.renderStrength('identity-import-passphrase')}</div>
            <label class="checkbox"><input type="checkbox" name="identity-import-remember" data-testid="identity-import-remember" ?disabled=${this.busy}><span>${t('identity.remember')}</span></label>
            ${this.renderProgress('identity.importing')}
            <button class="button" type="submit" ?disabled=${this.busy} data-testid="identity-import-submit">${icons.key}${t('identity.import_submit')}</button>
          </form>`}
      </div>`;
  }
}

customElements.define('secms-identity-setup', IdentitySetup);
