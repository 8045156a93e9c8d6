// The address book: contacts with their addresses and key (fingerprint and where it came from),
// add / edit / delete, key import by paste or file, vCard import and export (a file download).

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { errorText } from './mail-folders.js';

const maxImportBytes = 2 * 1024 * 1024;

export class MailContacts extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    editing: { state: true },   // null | contact | {} (new)
    error: { state: true },
    info: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; gap: var(--space-4); }
    ul { list-style: none; padding: 0; margin: 0; }
    li { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: center; padding: var(--space-2) 0; border-bottom: 1px solid var(--color-border); }
    .who { flex: 1 1 12rem; min-width: 0; overflow-wrap: anywhere; }
    .fp { font-family: var(--font-mono); font-size: 0.78rem; overflow-wrap: anywhere; }
    textarea { width: 100%; box-sizing: border-box; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.editing = null;
  }

  async act(action, infoKey) {
    this.error = null;
    this.info = null;
    try {
      await action();
      if (infoKey) this.info = t(infoKey);
      return true;
    } catch (error) {
      this.error = errorText(error);
      return false;
    }
  }

  async readFile(input) {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return null;
    if (file.size > maxImportBytes) { this.error = t('mail.contacts.file_too_big'); return null; }
    return file.text();
  }

  async save(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const contact = {
      name: form.get('name')?.toString().trim() ?? '',
      emails: (form.get('emails')?.toString() ?? '').split(/[\s,;]+/).filter(Boolean),
      key: form.get('key')?.toString().trim() || (this.editing?.key ?? null),
    };
    const saved = await this.act(() => (this.editing?.id ? this.mailActions.updateContact(this.editing.id, contact) : this.mailActions.addContact(contact)));
    if (saved) this.editing = null;
  }

  exportVCard() {
    this.act(async () => {
      const text = await this.mailActions.exportVCard();
      const url = URL.createObjectURL(new Blob([text], { type: 'text/vcard' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = 'contacts.vcf';
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    });
  }

  renderForm() {
    const contact = this.editing;
    return html`<form class="card" @submit=${this.save} autocomplete="off" data-testid="contact-form">
      <h2 class="section">${contact.id ? t('mail.contacts.edit') : t('mail.contacts.add')}</h2>
      <div class="field"><label for="contact-name">${t('mail.contacts.name')}</label>
        <input id="contact-name" name="name" type="text" maxlength="200" autocomplete="off" spellcheck="false" .value=${contact.name ?? ''}></div>
      <div class="field"><label for="contact-emails">${t('mail.contacts.emails')}</label>
        <input id="contact-emails" name="emails" type="text" autocomplete="off" spellcheck="false" .value=${(contact.emails ?? []).join(', ')} data-testid="contact-emails"></div>
      <div class="field"><label for="contact-key">${t('mail.contacts.key_paste')}</label>
        <textarea id="contact-key" name="key" rows="4" spellcheck="false"></textarea>
        <span class="hint">${t('mail.contacts.key_hint')}</span></div>
      <div class="dialog-actions">
        <button type="button" class="button secondary" @click=${() => { this.editing = null; }}>${t('mail.cancel')}</button>
        <button type="submit" class="button" data-testid="contact-save">${t('mail.contacts.save')}</button>
      </div>
    </form>`;
  }

  render() {
    const state = this.snapshot.value;
    const contacts = state?.contacts ?? [];
    return html`
      <section class="card" aria-labelledby="contacts-title">
        <h2 class="section" id="contacts-title">${t('mail.contacts.title')}</h2>
        <div class="toolbar">
          <button type="button" class="button" data-testid="contact-add" @click=${() => { this.editing = {}; }}>${t('mail.contacts.add')}</button>
          <label class="button secondary" for="vcard-import">${t('mail.contacts.import_vcard')}</label>
          <input id="vcard-import" type="file" accept=".vcf,text/vcard" class="visually-hidden" data-testid="contact-import-vcard"
            @change=${async (event) => { const text = await this.readFile(event.target); if (text !== null) this.act(() => this.mailActions.importVCard(text), 'mail.contacts.imported'); }}>
          <button type="button" class="button secondary" data-testid="contact-export-vcard" @click=${this.exportVCard}>${t('mail.contacts.export_vcard')}</button>
          <label class="button secondary" for="key-import">${t('mail.contacts.import_key')}</label>
          <input id="key-import" type="file" accept=".asc,.gpg,.pgp,application/pgp-keys" class="visually-hidden" data-testid="contact-import-key"
            @change=${async (event) => { const text = await this.readFile(event.target); if (text !== null) this.act(() => this.mailActions.importKey(text), 'mail.contacts.key_imported'); }}>
        </div>
        ${this.error ? html`<p class="message error" role="alert" data-testid="contact-error">${this.error}</p>` : nothing}
        ${this.info ? html`<p class="message success" role="status">${this.info}</p>` : nothing}
        ${this.editing ? this.renderForm() : nothing}
        ${contacts.length === 0 ? html`<p class="muted">${t('mail.contacts.empty')}</p>` : html`<ul data-testid="contact-list">${contacts.map((contact) => html`<li data-testid="contact" data-id=${contact.id}>
          <div class="who"><strong>${contact.name || contact.emails?.[0] || ''}</strong><br><span class="small">${(contact.emails ?? []).join(', ')}</span>
            ${contact.fingerprint ? html`<br><span class="fp">${contact.fingerprint}</span> <span class="small muted">${t(`mail.key_source.${contact.keySource ?? 'imported'}`)}</span>` : html`<br><span class="small muted">${t('mail.contacts.no_key')}</span>`}</div>
          <button type="button" class="tool" @click=${() => { this.editing = contact; }}>${t('mail.contacts.edit')}</button>
          <button type="button" class="tool" @click=${() => window.confirm(t('mail.contacts.delete_confirm', { name: contact.name || contact.emails?.[0] || '' })) && this.act(() => this.mailActions.removeContact(contact.id))}>${t('mail.contacts.delete')}</button>
        </li>`)}</ul>`}
      </section>
      <section class="card" aria-labelledby="keys-title">
        <h2 class="section" id="keys-title">${t('mail.keys_dir.title')}</h2>
        ${(state?.keys ?? []).length === 0 ? html`<p class="muted">${t('mail.keys_dir.empty')}</p>` : html`<ul data-testid="key-list">${state.keys.map((key) => html`<li>
          <div class="who">${key.address}<br><span class="fp">${key.fingerprint}</span> <span class="small muted">${t(`mail.key_source.${key.source}`)}</span>
          ${key.state === 'changed' ? html`<br><strong class="small" role="alert">${t('mail.keys_dir.changed')}</strong>` : nothing}</div></li>`)}</ul>`}
      </section>`;
  }
}

customElements.define('secms-mail-contacts', MailContacts);
