// "SIP devices": the credentials of the user's phones (desk phone, softphone). "Add a phone"
// creates one and shows it once, as text to copy (the server cannot show the password again);
// "Revoke" asks for confirmation, then the phone's next request is refused.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { icons } from '../icons.js';
import { errorMessageKey } from '../../net/api-client.js';

/** The credentials as the plain text a user copies into a phone's settings. */
export function deviceCredentialsText(credentials) {
  const lines = [
    `${t('sip.devices.field.username')}: ${credentials.username}`,
    `${t('sip.devices.field.password')}: ${credentials.password}`,
    `${t('sip.devices.field.domain')}: ${credentials.domain}`,
    `${t('sip.devices.field.aor')}: ${credentials.aor}`,
  ];
  for (const proxy of credentials.proxies) lines.push(`${t('sip.devices.field.proxy', { transport: proxy.transport.toUpperCase() })}: ${proxy.address}`);
  return lines.join('\n');
}

function deviceErrorText(error) {
  const code = error?.code;
  const own = `sip.devices.error.${code}`;
  if (code && t(own) !== own) return t(own);
  const { key, params } = errorMessageKey(error);
  return t(key, params);
}

export class SipDevices extends LitElement {
  static properties = {
    sipStore: { attribute: false },
    sipActions: { attribute: false },
    label: { state: true },
    busy: { state: true },
    error: { state: true },
    created: { state: true },       // { device, credentials } just created, shown once
    confirming: { state: true },    // the id of the device whose revocation is being confirmed
    copied: { state: true },
  };

  static styles = [controlStyles, css`
    :host { display: block; margin-top: var(--space-4); }
    h3 { margin: 0 0 var(--space-2); font-size: 0.95rem; }
    p { margin: 0 0 var(--space-2); }
    .hint, .empty { color: var(--color-text-muted); font-size: 0.85rem; }
    ul { list-style: none; margin: 0 0 var(--space-3); padding: 0; }
    li { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2) var(--space-3); padding: var(--space-2) 0; border-bottom: 1px solid var(--color-border); }
    li:last-child { border-bottom: 0; }
    .label { font-weight: 600; flex: 1 1 8rem; min-width: 0; overflow-wrap: anywhere; }
    .row { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: end; }
    .row .field { flex: 1 1 12rem; margin: 0; }
    input[type="text"] { width: 100%; box-sizing: border-box; min-height: 40px; }
    .button svg { width: 16px; height: 16px; }
    .button.danger { color: var(--color-surface); }
    .error-text { color: var(--color-danger); font-size: 0.85rem; }
    .secret { border: 1px solid var(--color-warning); background: var(--color-warning-soft); border-radius: var(--radius-m); padding: var(--space-3); margin-bottom: var(--space-3); }
    pre { white-space: pre-wrap; overflow-wrap: anywhere; font-family: var(--font-mono); background: var(--color-surface); padding: var(--space-2); border-radius: var(--radius-s, 4px); margin: var(--space-2) 0; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'sipStore');
    this.label = '';
    this.busy = false;
    this.error = null;
    this.created = null;
    this.confirming = null;
    this.copied = false;
    this.asked = false;
  }

  updated() {
    if (!this.asked && this.sipActions) {
      this.asked = true;
      this.sipActions.refreshDevices();
    }
  }

  async add(event) {
    event.preventDefault();
    const label = this.label.trim();
    if (!label || label.length > 64) {
      this.error = { code: 'invalid_label' };
      this.renderRoot.querySelector('#sip-device-label')?.focus();
      return;
    }
    this.busy = true;
    this.error = null;
    try {
      this.created = await this.sipActions.addDevice(label);
      this.label = '';
      this.copied = false;
      // The next thing to do is copy the credentials: focus their text.
      await this.updateComplete;
      this.renderRoot.querySelector('[data-testid="sip-device-credentials"]')?.focus();
    } catch (error) {
      this.error = error;
    } finally {
      this.busy = false;
    }
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(deviceCredentialsText(this.created.credentials));
      this.copied = true;
    } catch {
      this.copied = false;
      this.error = { code: 'copy_failed' };
    }
  }

  closeCreated() {
    this.created = null;
    this.updateComplete.then(() => this.renderRoot.querySelector('#sip-device-label')?.focus());
  }

  async revoke(device) {
    this.busy = true;
    this.error = null;
    try {
      await this.sipActions.revokeDevice(device.id);
      this.confirming = null;
      await this.updateComplete;
      this.renderRoot.querySelector('#sip-device-label')?.focus();
    } catch (error) {
      this.error = error;
    } finally {
      this.busy = false;
    }
  }

  formatDate(seconds) {
    try {
      return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium' }).format(new Date(seconds * 1000));
    } catch {
      return '';
    }
  }

  renderList(devices) {
    if (devices.state === 'loading' && devices.list.length === 0) return html`<p class="hint">${t('sip.devices.loading')}</p>`;
    if (devices.list.length === 0) return html`<p class="empty" data-testid="sip-devices-empty">${t('sip.devices.empty')}</p>`;
    return html`
      <ul data-testid="sip-devices" aria-labelledby="sip-devices-title">
        ${devices.list.map((device) => html`
          <li data-testid="sip-device" data-id=${device.id}>
            <span class="label">${device.label}</span>
            <span class="hint">${t('sip.devices.expires', { date: this.formatDate(device.expiresAt) })}</span>
            ${this.confirming === device.id ? html`
              <span role="group" aria-label=${t('sip.devices.revoke.confirm', { label: device.label })}>
                <span class="hint">${t('sip.devices.revoke.confirm', { label: device.label })}</span>
                <button class="button danger" type="button" data-testid="sip-device-revoke-confirm" ?disabled=${this.busy}
                  @click=${() => this.revoke(device)}>${t('sip.devices.revoke.yes')}</button>
                <button class="button secondary" type="button" data-testid="sip-device-revoke-cancel"
                  @click=${() => { this.confirming = null; }}>${t('sip.devices.revoke.no')}</button>
              </span>` : html`
              <button class="button secondary" type="button" data-testid="sip-device-revoke" aria-label=${t('sip.devices.revoke.named', { label: device.label })}
                @click=${async () => { this.confirming = device.id; await this.updateComplete; this.renderRoot.querySelector('[data-testid="sip-device-revoke-cancel"]')?.focus(); }}>${icons.trash}${t('sip.devices.revoke')}</button>`}
          </li>`)}
      </ul>`;
  }

  render() {
    const devices = this.snapshot.value?.devices;
    if (!devices) return nothing;
    const full = devices.max > 0 && devices.list.length >= devices.max;
    return html`
      <h3 id="sip-devices-title">${t('sip.devices.title')}</h3>
      <p class="hint">${t('sip.devices.intro')}</p>
      ${devices.state === 'failed' ? html`<p class="error-text" role="alert">${deviceErrorText({ code: devices.error })}</p>` : nothing}
      ${this.created ? html`
        <div class="secret" data-testid="sip-device-created">
          <p><strong>${t('sip.devices.created', { label: this.created.device.label })}</strong></p>
          <p>${t('sip.devices.once')}</p>
          <pre data-testid="sip-device-credentials" tabindex="-1" aria-label=${t('sip.devices.credentials')}>${deviceCredentialsText(this.created.credentials)}</pre>
          <div class="row">
            <button class="button secondary" type="button" data-testid="sip-device-copy" @click=${this.copy}>${t('sip.devices.copy')}</button>
            <button class="button" type="button" data-testid="sip-device-done" @click=${this.closeCreated}>${t('sip.devices.done')}</button>
          </div>
          <p class="hint" role="status">${this.copied ? t('sip.devices.copied') : ''}</p>
        </div>` : nothing}
      ${this.renderList(devices)}
      <form @submit=${this.add} data-testid="sip-device-add-form">
        <div class="row">
          <div class="field">
            <label for="sip-device-label">${t('sip.devices.label')}</label>
            <input id="sip-device-label" type="text" data-testid="sip-device-label" maxlength="64" autocomplete="off" spellcheck="false"
              .value=${this.label} ?disabled=${full} aria-describedby=${this.error ? 'sip-device-error' : nothing}
              @input=${(event) => { this.label = event.target.value; this.error = null; }}>
          </div>
          <button class="button" type="submit" data-testid="sip-device-add" ?disabled=${this.busy || full}>${t('sip.devices.add')}</button>
        </div>
        ${full ? html`<p class="hint">${t('sip.devices.full', { max: devices.max })}</p>` : nothing}
        ${this.error ? html`<p class="error-text" id="sip-device-error" role="alert" data-testid="sip-device-error">${deviceErrorText(this.error)}</p>` : nothing}
      </form>`;
  }
}

customElements.define('secms-sip-devices', SipDevices);
