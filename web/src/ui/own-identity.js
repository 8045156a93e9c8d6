// The user's own identity once it exists: what to do next (a short "what now" card for people
// who just made or imported a key), certificate submission state, the server's full report one
// click away (a disclosure), export of the public key, and deletion of the identity (and of
// the stored key).

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController, StoreController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { certificateErrorText, identityErrorKey } from './identity-errors.js';
import { groupFingerprint } from './format.js';
import './certificate-report.js';
import { focusIsLost, moveFocus } from './focus.js';

export class OwnIdentity extends LitElement {
  static properties = {
    identity: { attribute: false },
    actions: { attribute: false },
    exported: { state: true },
    error: { state: true },
    copied: { state: true },
  };

  static styles = [controlStyles, css`
    :host { display: block; padding: var(--space-4); overflow: auto; }
    h2 { margin: 0 0 var(--space-3); font-size: 1.15rem; }
    .state { display: flex; align-items: center; gap: var(--space-2); margin-bottom: var(--space-4); }
    .actions { display: flex; flex-wrap: wrap; gap: var(--space-2); margin: var(--space-4) 0; }
    textarea { width: 100%; box-sizing: border-box; min-height: 8rem; font-family: var(--font-mono); font-size: 0.75rem;
      border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); color: inherit; }
    .mono { font-family: var(--font-mono); }
    .what-now { border: 1px solid var(--color-accent); background: var(--color-accent-soft); border-radius: var(--radius-l); padding: var(--space-4); margin: 0 0 var(--space-4); }
    .what-now h3 { margin: 0 0 var(--space-2); font-size: 1.05rem; }
    .what-now ol { margin: 0; padding-left: var(--space-5); display: grid; gap: var(--space-2); }
    .what-now p { margin: var(--space-3) 0 0; }
    details.report > summary { cursor: pointer; padding: var(--space-2) 0; font-weight: 600; color: var(--color-accent); }
    details.report > summary:focus-visible { outline: 2px solid var(--color-focus, var(--color-accent)); outline-offset: 2px; }
    details.report[open] > summary { margin-bottom: var(--space-2); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'identity');
    this.exported = null;
    this.error = null;
    this.copied = false;
  }

  updated() {
    // Shown with focus nowhere (the key was just created or unlocked: the form that had focus is
    // gone): the heading of the user's identity takes it.
    if (focusIsLost() && this.checkVisibility?.() !== false) moveFocus(this.renderRoot.querySelector('h2'));
  }

  async onExport() {
    this.error = null;
    try {
      this.exported = await this.actions.identity.exportPublic();
    } catch (error) {
      this.error = identityErrorKey(error.code);
    }
  }

  onDownload() {
    if (!this.exported) return;
    const fingerprint = this.snapshot.value?.identity?.fingerprint ?? 'key';
    const url = URL.createObjectURL(new Blob([this.exported], { type: 'application/pgp-keys' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `${fingerprint}.asc`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async onCopy() {
    try {
      await navigator.clipboard.writeText(this.exported);
      this.copied = true;
    } catch {
      // Clipboard refused (permissions): the text stays selectable in the box.
      this.renderRoot.querySelector('textarea')?.select();
    }
  }

  async onForget() {
    if (!globalThis.confirm(t('identity.forget_confirm'))) return;
    try {
      this.exported = null;
      await this.actions.identity.forget();
    } catch (error) {
      this.error = identityErrorKey(error.code);
    }
  }

  renderState(certificate) {
    if (certificate.state === 'rejected') {
      const text = certificateErrorText(certificate.error);
      return html`<div class="message error" role="alert" data-testid="certificate-error" data-code=${certificate.error?.code ?? ''}>
        <strong>${t('certificate.rejected')}</strong> ${t(text.key, text.params)}</div>`;
    }
    if (certificate.state === 'accepted') return nothing;
    return html`<p class="state" role="status" data-testid="certificate-state" data-state=${certificate.state}>${t(`certificate.state.${certificate.state}`)}</p>`;
  }

  /** The next steps, in the words of the screens they lead to ("Secure channel", the safety code). */
  renderWhatNow(certificate) {
    return html`
      <section class="what-now" aria-labelledby="what-now-heading" data-testid="what-now">
        <h3 id="what-now-heading">${t('firstrun.heading')}</h3>
        <ol>
          <li data-testid="what-now-step">${t('firstrun.step_pick')}</li>
          <li data-testid="what-now-step">${t('firstrun.step_compare')}</li>
          <li data-testid="what-now-step">${t('firstrun.step_verify')}</li>
        </ol>
        ${certificate.state === 'accepted' ? nothing : html`<p class="hint">${t('firstrun.wait_certificate')}</p>`}
      </section>`;
  }

  render() {
    const snapshot = this.snapshot.value;
    const own = snapshot?.identity;
    if (!own) return nothing;
    const certificate = snapshot.certificate;
    return html`
      <h2 tabindex="-1" data-testid="own-identity-heading">${t('identity.yours')}</h2>
      <p>${own.userId} · <span class="visually-hidden">${t('firstrun.your_fingerprint')} </span><span class="mono" data-testid="own-fingerprint">${groupFingerprint(own.fingerprint)}</span></p>
      ${this.renderWhatNow(certificate)}
      ${this.renderState(certificate)}
      ${certificate.state === 'accepted' && certificate.report ? html`
        <details class="report" data-testid="own-report-details">
          <summary data-testid="own-report-toggle">${t('firstrun.report_toggle')}</summary>
          <secms-certificate-report data-testid="own-report" .report=${certificate.report}></secms-certificate-report>
        </details>` : nothing}
      ${this.error ? html`<p class="message error" role="alert">${t(this.error)}</p>` : nothing}
      <div class="actions">
        <button class="button secondary" type="button" data-testid="identity-export" @click=${this.onExport}>${icons.key}${t('identity.export')}</button>
        <button class="button danger" type="button" data-testid="identity-forget" @click=${this.onForget}>${icons.trash}${t('identity.forget')}</button>
      </div>
      ${this.exported ? html`
        <textarea readonly aria-label=${t('identity.export')} data-testid="identity-export-text" .value=${this.exported}></textarea>
        <div class="actions">
          <button class="button secondary" type="button" data-testid="identity-export-download" @click=${this.onDownload}>${t('identity.download')}</button>
          <button class="button secondary" type="button" data-testid="identity-export-copy" @click=${this.onCopy}>${this.copied ? t('identity.copied') : t('identity.copy')}</button>
        </div>` : nothing}`;
  }
}

customElements.define('secms-own-identity', OwnIdentity);
