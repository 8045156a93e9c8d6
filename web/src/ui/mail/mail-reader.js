// The reading pane: the open message's headers (short, or the long table of every header), the
// security banner (encryption and signature as mime-read.js found them, a changed key), the
// body (plain text as text nodes with safe links, preferred when present; HTML in the
// sandboxed frame, ./mail-frame.js), attachments with their sizes and download buttons, the
// "load remote content" offer, the read-receipt prompt, view source and print.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons } from './mail-icons.js';
import { addressText, formatBytes, formatFullDate, linkSegments, textBlocks } from './mail-view.js';
import { errorText } from './mail-folders.js';
import { securitySummary, visibleFileName } from './mail-security.js';
import { readReceiptWanted } from '../../mail/mdn.js';
import './mail-frame.js';

export { securitySummary };

export class MailReader extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    showHtml: { state: true },
    blockedRemote: { state: true },
    source: { state: true },
    receiptAnswered: { state: true },
    actionError: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; overflow: auto; }
    article { padding: var(--space-4); }
    h2 { margin: 0 0 var(--space-2); font-size: 1.2rem; overflow-wrap: anywhere; }
    h2:focus { outline: none; }
    h2:focus-visible { outline: 2px solid var(--color-focus); }
    dl.headers { display: grid; grid-template-columns: auto 1fr; gap: 2px var(--space-3); margin: 0 0 var(--space-3); font-size: 0.9rem; }
    dl.headers dt { color: var(--color-text-muted); }
    dl.headers dd { margin: 0; overflow-wrap: anywhere; }
    table.long { font-size: 0.8rem; border-collapse: collapse; margin-bottom: var(--space-3); width: 100%; }
    table.long th, table.long td { text-align: left; vertical-align: top; padding: 1px var(--space-2) 1px 0; overflow-wrap: anywhere; }
    .banner { display: flex; gap: var(--space-2); align-items: flex-start; padding: var(--space-2) var(--space-3); border-radius: var(--radius-m); margin-bottom: var(--space-3); font-size: 0.9rem; border: 1px solid var(--color-border); }
    .banner p { margin: 0; }
    .banner div { min-width: 0; overflow-wrap: anywhere; }
    .banner.ok { background: var(--color-success-soft); }
    .banner.warning { background: var(--color-warning-soft); }
    .banner.danger { background: var(--color-danger-soft); color: var(--color-danger); }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit; margin: 0; }
    .text .quoted { display: block; color: var(--color-text-muted); border-left: 3px solid var(--color-border); padding-left: var(--space-2); }
    .text a { color: var(--color-accent); }
    ul.attachments { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: var(--space-2); }
    ul.attachments li { display: flex; align-items: center; gap: var(--space-2); border: 1px solid var(--color-border); border-radius: var(--radius-m); padding: var(--space-1) var(--space-2); }
    .placeholder { padding: var(--space-5); color: var(--color-text-muted); text-align: center; }
    .notice { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: center; margin-bottom: var(--space-3); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.showHtml = false;
    this.blockedRemote = 0;
    this.source = null;
    this.receiptAnswered = false;
    this.shownUid = null;
  }

  /** Focus moves to the subject when a message opens (called by the panel). */
  async focusHeading() {
    await this.updateComplete;
    this.renderRoot.querySelector('h2')?.focus();
  }

  willUpdate() {
    const reading = this.snapshot.value?.reading;
    const key = reading ? `${reading.folder}\n${reading.uid}` : null;
    if (key !== this.shownUid) {
      this.shownUid = key;
      this.showHtml = false;
      this.blockedRemote = 0;
      this.receiptAnswered = false;
      this.actionError = null;
    }
  }

  async viewSource() {
    const reading = this.snapshot.value?.reading;
    try {
      const text = await this.mailActions.viewSource(reading.uid);
      this.source = typeof text === 'string' ? text : (this.snapshot.value?.reading?.source ?? '');
      await this.updateComplete;
      this.renderRoot.querySelector('dialog.source')?.showModal();
    } catch (error) {
      this.actionError = errorText(error);
    }
  }

  print() {
    const frame = this.renderRoot.querySelector('secms-mail-frame');
    if (frame) frame.print();
    else window.print();
  }

  async download(attachment) {
    try {
      const result = await this.mailActions.downloadAttachment(attachment.index);
      const blob = result instanceof Blob ? result : result?.blob;
      const url = result?.url ?? (blob ? URL.createObjectURL(blob) : null);
      if (!url) return;
      const link = document.createElement('a');
      link.href = url;
      // The controller's name: bidi and control characters, path separators removed.
      link.download = result?.filename || 'attachment';
      link.rel = 'noopener';
      link.click();
      // Whoever made the object URL, it is released once the download has started.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      this.actionError = errorText(error);
    }
  }

  async answerReceipt(send) {
    this.receiptAnswered = true;
    if (!send) return;
    try {
      await this.mailActions.sendReadReceipt(this.snapshot.value.reading.uid);
    } catch (error) {
      this.receiptAnswered = false;   // not sent: the prompt stays
      this.actionError = errorText(error);
    }
  }

  /**
   * A Reply-To no signature covers was set aside (Reply goes to From): answering it is the
   * user's explicit choice, asked of the panel (mail-compose-request) with the warning in its name.
   */
  renderUnprotectedReplyTo(message, reading) {
    const from = String(message.headers?.from?.[0]?.address ?? '').toLowerCase();
    const replyTo = (message.security?.unprotected_reply_to ?? []).map((entry) => entry.address).filter((address) => String(address).toLowerCase() !== from);
    if (!replyTo.length) return nothing;
    return html`<div class="notice message warning" data-testid="mail-unprotected-reply-to">
      <button type="button" class="button secondary" @click=${() => this.dispatchEvent(new CustomEvent('mail-compose-request', {
        detail: { mode: 'reply', uid: reading.uid, unprotectedReplyTo: true }, bubbles: true, composed: true,
      }))}>${t('mail.reader.reply_unprotected', { address: replyTo.join(', ') })}</button></div>`;
  }

  /** A message of the Drafts folder reopens in the compose form (its own format, its own From). */
  isDraft(state, reading) {
    const drafts = state?.folders?.find((folder) => folder.special_use === 'drafts')?.path ?? 'Drafts';
    return reading.folder === drafts;
  }

  /** data: URLs of inline parts by Content-ID, for cid: references in the HTML. */
  cidUrls(message) {
    const urls = {};
    for (const attachment of message.attachments ?? []) {
      if (!attachment.content_id || !(attachment.data instanceof Uint8Array) || !/^image\//i.test(attachment.content_type)) continue;
      if (attachment.data.length > 4 * 1024 * 1024) continue;
      let binary = '';
      for (let index = 0; index < attachment.data.length; index += 0x8000) binary += String.fromCharCode(...attachment.data.subarray(index, index + 0x8000));
      urls[String(attachment.content_id).replace(/^<|>$/g, '')] = `data:${attachment.content_type.split(';')[0]};base64,${btoa(binary)}`;
    }
    return urls;
  }

  renderText(text) {
    return html`<div class="text" data-testid="mail-text">${textBlocks(text).map((block) => html`<span class=${block.quoted ? 'quoted' : ''}>${linkSegments(block.text).map((segment) => (segment.href
      ? html`<a href=${segment.href} target="_blank" rel="noopener noreferrer">${segment.text}</a>` : segment.text))}${'\n'}</span>`)}</div>`;
  }

  /**
   * The From line. A sender that cannot be determined (several or malformed From fields) is
   * said so instead of picking one; a display name holding another address shows the real
   * address first and strong, the name after it as a claim.
   */
  renderFrom(message) {
    const from = message.headers?.from ?? [];
    const problem = message.security?.sender_problem;
    if (problem === 'ambiguous' || from.length === 0) return html`<span class="sender-warning">${mailIcons.alert}${t('mail.reader.sender_unknown')}</span>`;
    if (problem === 'display_name_address') {
      return from.map((entry, index) => html`${index ? ', ' : ''}<strong data-testid="mail-from-address">${entry.address}</strong>${entry.name
        ? html` <span class="muted">(${t('mail.reader.name_claims', { name: entry.name })})</span>` : nothing}`);
    }
    return from.map(addressText).join(', ');
  }

  renderHeaders(message, state) {
    const headers = message.headers ?? {};
    const list = (entries) => (entries ?? []).map(addressText).join(', ');
    if (state.prefs?.showLongHeaders) {
      return html`<table class="long" data-testid="mail-long-headers"><caption class="visually-hidden">${t('mail.reader.all_headers')}</caption>
        <tbody>${(headers.list ?? []).map(([name, value]) => html`<tr><th scope="row">${name}</th><td>${value}</td></tr>`)}</tbody></table>`;
    }
    return html`<dl class="headers" data-testid="mail-headers">
      <dt>${t('mail.header.from')}</dt><dd data-testid="mail-from" data-sender-problem=${message.security?.sender_problem ?? 'none'}>${this.renderFrom(message)}</dd>
      ${headers.to?.length ? html`<dt>${t('mail.header.to')}</dt><dd>${list(headers.to)}</dd>` : nothing}
      ${headers.cc?.length ? html`<dt>${t('mail.header.cc')}</dt><dd>${list(headers.cc)}</dd>` : nothing}
      ${headers.date ? html`<dt>${t('mail.header.date')}</dt><dd>${formatFullDate(headers.date, getLanguage())}</dd>` : nothing}
    </dl>`;
  }

  render() {
    const state = this.snapshot.value;
    const reading = state?.reading;
    if (!reading || reading.state === 'idle') return html`<p class="placeholder" data-testid="mail-reader-empty">${t('mail.reader.none')}</p>`;
    if (reading.state === 'loading') return html`<p class="placeholder" role="status" data-testid="mail-reader-loading">${t('mail.reader.loading')}</p>`;
    if (reading.state === 'error') return html`<p class="message error" role="alert" data-testid="mail-reader-error">${errorText(reading.error)}</p>`;
    const message = reading.message;
    if (!message) return nothing;
    const security = securitySummary(message.security, state.keys, message.headers?.from?.[0]?.address ?? null);
    const hasText = typeof message.text === 'string' && message.text.length > 0;
    const hasHtml = typeof message.html === 'string' && message.html.length > 0;
    const showHtml = hasHtml && (!hasText || this.showHtml);
    const attachments = (message.attachments ?? []).filter((attachment) => attachment.disposition !== 'inline' || !attachment.content_id);
    return html`<article aria-labelledby="mail-subject" data-testid="mail-reader" data-uid=${reading.uid}>
      <h2 id="mail-subject" tabindex="-1" data-testid="mail-subject">${message.headers?.subject || t('mail.no_subject')}</h2>
      ${this.renderHeaders(message, state)}
      <div class="toolbar">
        <button type="button" class="tool" aria-pressed=${String(Boolean(state.prefs?.showLongHeaders))} data-testid="mail-long-toggle"
          @click=${() => this.mailActions?.setPref('showLongHeaders', !state.prefs?.showLongHeaders)}>${t('mail.reader.long_headers')}</button>
        ${hasText && hasHtml ? html`<button type="button" class="tool" aria-pressed=${String(this.showHtml)} data-testid="mail-html-toggle" @click=${() => { this.showHtml = !this.showHtml; }}>${t('mail.reader.show_html')}</button>` : nothing}
        ${this.isDraft(state, reading) ? html`<button type="button" class="tool" data-testid="mail-edit-draft" @click=${() => this.dispatchEvent(new CustomEvent('mail-compose-request', {
          detail: { mode: 'draft', uid: reading.uid }, bubbles: true, composed: true,
        }))}>${mailIcons.compose}${t('mail.reader.edit_draft')}</button>` : nothing}
        <button type="button" class="tool" data-testid="mail-view-source" @click=${this.viewSource}>${t('mail.action.view_source')}</button>
        <button type="button" class="tool" data-testid="mail-print" @click=${this.print}>${mailIcons.print}${t('mail.action.print')}</button>
      </div>
      <div class=${`banner ${security.tone}`} data-testid="mail-security" data-tone=${security.tone}
        data-signature=${message.security?.signature ?? 'none'} data-encrypted=${String(Boolean(message.security?.encrypted))}>
        ${security.tone === 'ok' ? mailIcons.lock : security.tone === 'danger' ? mailIcons.alert : mailIcons.shield}
        <div>${security.lines.map((line) => html`<p>${line}</p>`)}</div>
      </div>
      ${readReceiptWanted(message, reading.flags) && !this.receiptAnswered ? html`<div class="notice message info" data-testid="mail-receipt-prompt">
        <span>${t('mail.reader.receipt_asked', { address: message.read_receipt_to })}</span>
        <button type="button" class="button secondary" @click=${() => this.answerReceipt(true)}>${t('mail.reader.receipt_send')}</button>
        <button type="button" class="button secondary" @click=${() => this.answerReceipt(false)}>${t('mail.reader.receipt_ignore')}</button></div>` : nothing}
      ${this.renderUnprotectedReplyTo(message, reading)}
      ${showHtml && this.blockedRemote > 0 && !reading.remoteContentAllowed ? html`<div class="notice message info" data-testid="mail-remote-offer">
        <span>${t('mail.reader.remote_blocked', { count: this.blockedRemote })}</span>
        <button type="button" class="button secondary" data-testid="mail-remote-load" @click=${() => this.mailActions?.allowRemoteContent()}>${t('mail.reader.remote_load')}</button></div>` : nothing}
      ${this.actionError ? html`<p class="message error" role="alert">${this.actionError}</p>` : nothing}
      ${showHtml
        ? html`<secms-mail-frame .html=${message.html} .cidUrls=${this.cidUrls(message)} ?remote=${reading.remoteContentAllowed} label=${message.headers?.subject || t('mail.reader.frame_title')}
            @mail-frame-remote=${(event) => { if (!reading.remoteContentAllowed) this.blockedRemote = event.detail.blockedRemote; }}></secms-mail-frame>`
        : this.renderText(message.text ?? '')}
      ${attachments.length ? html`<h3 class="small">${t('mail.reader.attachments', { count: attachments.length })}</h3>
        <ul class="attachments" data-testid="mail-attachments">${attachments.map((attachment) => html`<li>
          ${mailIcons.attachment}<span data-testid="mail-attachment-name">${visibleFileName(attachment.filename) || t('mail.reader.unnamed')}</span><span class="muted small">${formatBytes(attachment.size, getLanguage())}</span>
          ${attachment.covered === false ? html`<span class="muted small" data-testid="mail-attachment-not-covered">${t('mail.attachment.not_covered')}</span>` : nothing}
          <button type="button" class="tool" aria-label=${t('mail.reader.download', { name: visibleFileName(attachment.filename) || t('mail.reader.unnamed') })} data-testid="mail-attachment-download"
            @click=${() => this.download(attachment)}>${mailIcons.download}</button></li>`)}</ul>` : nothing}
      <dialog class="source" aria-labelledby="source-title" data-testid="mail-source-dialog">
        <h2 id="source-title">${t('mail.action.view_source')}</h2>
        <pre class="source" tabindex="0">${this.source ?? ''}</pre>
        <div class="dialog-actions"><button type="button" class="button" @click=${(event) => event.target.closest('dialog').close()}>${t('mail.close')}</button></div>
      </dialog>
    </article>`;
  }
}

customElements.define('secms-mail-reader', MailReader);
