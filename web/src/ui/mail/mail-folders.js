// The folder pane: the folder tree (by the server's delimiter), special-use folders first with
// their localised names and icons, unread badges; create / rename / delete / subscribe through
// a small dialog; each folder is a drop target for messages dragged from the list (move; copy
// with Ctrl or Alt held).

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons, folderIcon } from './mail-icons.js';
import { folderTree, folderLeafName, mailDragType, parseMailDrag } from './mail-view.js';
import { isSettingsFolder } from '../../mail/settings-store.js';

/** The name a folder is shown with: the localised special-use name, else its last path segment. */
export const folderLabel = (folder, use) => (use ? t(`mail.folder.${use}`) : folderLeafName(folder));

export class MailFolders extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    dialog: { state: true },        // null | { kind: 'create'|'rename'|'delete', folder }
    dialogError: { state: true },
    dropTarget: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; }
    nav { flex: 1; overflow: auto; }
    ul { list-style: none; margin: 0; padding: var(--space-1) 0; }
    li { display: flex; align-items: center; }
    .folder {
      flex: 1; display: flex; align-items: center; gap: var(--space-2); min-height: 36px; padding: 0 var(--space-3);
      border: 0; background: transparent; text-align: left; cursor: pointer; min-width: 0; border-radius: var(--radius-m);
    }
    .folder:hover { background: var(--color-surface-hover); }
    .folder[aria-current="true"] { background: var(--color-accent-soft); font-weight: 600; }
    .folder.drop { outline: 2px dashed var(--color-accent); }
    .folder .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .folder.unsubscribed .name { color: var(--color-text-muted); font-style: italic; }
    .depth-1 { padding-left: 1.5rem; } .depth-2 { padding-left: 2.5rem; } .depth-3 { padding-left: 3.5rem; } .depth-4, .depth-5, .depth-6, .depth-7, .depth-8 { padding-left: 4.5rem; }
    .menu { min-height: 32px; padding: 0 var(--space-1); }
    .pane-actions { display: flex; flex-wrap: wrap; gap: var(--space-1); padding: var(--space-2); border-top: 1px solid var(--color-border); }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.dialog = null;
    this.dialogError = null;
    this.dropTarget = null;
  }

  open(path) {
    this.mailActions?.openFolder(path);
    this.dispatchEvent(new CustomEvent('mail-folder-opened', { detail: { path }, bubbles: true, composed: true }));
  }

  onDragOver(event, folder) {
    if (!folder.selectable || !event.dataTransfer.types.includes(mailDragType)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = event.ctrlKey || event.altKey ? 'copy' : 'move';
    this.dropTarget = folder.path;
  }

  onDrop(event, folder) {
    this.dropTarget = null;
    const drag = parseMailDrag(event.dataTransfer.getData(mailDragType));
    if (!drag || drag.folder === folder.path) return;
    event.preventDefault();
    const copy = event.ctrlKey || event.altKey;
    Promise.resolve(this.mailActions?.move(drag.uids, folder.path, { copy })).catch(() => {});
  }

  async showDialog(kind, folder = null) {
    this.dialog = { kind, folder };
    this.dialogError = null;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog');
    if (!dialog.open) dialog.showModal();
    dialog.querySelector('input, .cancel')?.focus();
  }

  closeDialog() {
    this.renderRoot.querySelector('dialog')?.close();
    this.dialog = null;
  }

  async submitDialog(event) {
    event.preventDefault();
    const { kind, folder } = this.dialog ?? {};
    const value = new FormData(event.target).get('name')?.toString().trim() ?? '';
    try {
      if (kind === 'create') {
        if (!value) { this.dialogError = t('mail.folders.name_required'); return; }
        const parent = folder?.path && folder.delimiter ? `${folder.path}${folder.delimiter}` : '';
        // The app's hidden settings folder (settings-store.js) is not a name for the user's mail.
        if (isSettingsFolder(`${parent}${value}`)) { this.dialogError = t('mail.folders.reserved'); return; }
        await this.mailActions.createFolder(`${parent}${value}`);
      } else if (kind === 'rename') {
        if (!value) { this.dialogError = t('mail.folders.name_required'); return; }
        const prefix = folder.delimiter && folder.path.includes(folder.delimiter) ? folder.path.slice(0, folder.path.lastIndexOf(folder.delimiter) + 1) : '';
        if (isSettingsFolder(`${prefix}${value}`)) { this.dialogError = t('mail.folders.reserved'); return; }
        await this.mailActions.renameFolder(folder.path, `${prefix}${value}`);
      } else if (kind === 'delete') {
        await this.mailActions.deleteFolder(folder.path);
      }
      this.closeDialog();
    } catch (error) {
      this.dialogError = errorText(error);
    }
  }

  renderDialog() {
    const { kind, folder } = this.dialog ?? {};
    const titles = { create: 'mail.folders.create', rename: 'mail.folders.rename', delete: 'mail.folders.delete' };
    return html`<dialog aria-labelledby="folder-dialog-title" @close=${() => { this.dialog = null; }} data-testid="mail-folder-dialog">
      ${kind ? html`<form @submit=${this.submitDialog} autocomplete="off">
        <h2 id="folder-dialog-title">${t(titles[kind])}</h2>
        ${kind === 'delete'
          ? html`<p>${t('mail.folders.delete_confirm', { name: folderLeafName(folder) })}</p>`
          : html`<div class="field"><label for="folder-name">${t('mail.folders.name')}</label>
              <input id="folder-name" name="name" type="text" maxlength="200" autocomplete="off" spellcheck="false" .value=${kind === 'rename' ? folderLeafName(folder) : ''} data-testid="mail-folder-name"></div>`}
        ${this.dialogError ? html`<p class="message error" role="alert">${this.dialogError}</p>` : nothing}
        <div class="dialog-actions">
          <button type="button" class="button secondary cancel" @click=${this.closeDialog}>${t('mail.cancel')}</button>
          <button type="submit" class=${kind === 'delete' ? 'button danger' : 'button'} data-testid="mail-folder-submit">${t(titles[kind])}</button>
        </div>
      </form>` : nothing}
    </dialog>`;
  }

  renderFolder({ folder, depth, use }, state) {
    const current = state.currentFolder === folder.path;
    const unseen = Number(folder.unseen) || 0;
    const protectedFolder = Boolean(use);
    const label = folderLabel(folder, use);
    return html`<li>
      <button type="button" class=${`folder depth-${depth} ${folder.subscribed === false ? 'unsubscribed' : ''} ${this.dropTarget === folder.path ? 'drop' : ''}`}
        aria-current=${String(current)} ?disabled=${folder.selectable === false} data-testid="mail-folder" data-path=${folder.path} data-use=${use ?? ''}
        @click=${() => this.open(folder.path)} @dragover=${(event) => this.onDragOver(event, folder)}
        @dragleave=${() => { this.dropTarget = null; }} @drop=${(event) => this.onDrop(event, folder)}>
        ${folderIcon(use)}<span class="name">${label}</span>
        ${unseen > 0 ? html`<span class="badge" aria-label=${t('mail.folders.unread', { count: unseen })}>${unseen}</span>` : nothing}
      </button>
      ${protectedFolder ? nothing : html`
        <button type="button" class="tool menu" title=${t('mail.folders.rename')} aria-label=${`${t('mail.folders.rename')}: ${label}`} @click=${() => this.showDialog('rename', folder)}>${mailIcons.compose}</button>
        <button type="button" class="tool menu" title=${t('mail.folders.delete')} aria-label=${`${t('mail.folders.delete')}: ${label}`} @click=${() => this.showDialog('delete', folder)}>${mailIcons.trash}</button>
        <button type="button" class="tool menu" aria-pressed=${String(folder.subscribed !== false)} title=${t('mail.folders.subscribed')} aria-label=${`${t('mail.folders.subscribed')}: ${label}`}
          @click=${() => this.mailActions?.setSubscribed(folder.path, folder.subscribed === false)}>${mailIcons.check}</button>`}
    </li>`;
  }

  render() {
    const state = this.snapshot.value;
    if (!state) return nothing;
    return html`
      <nav aria-label=${t('mail.folders.label')}>
        <ul>${folderTree(state.folders).map((entry) => this.renderFolder(entry, state))}</ul>
        ${state.foldersError ? html`<p class="message error" role="alert">${errorText(state.foldersError)}</p>` : nothing}
      </nav>
      <div class="pane-actions">
        <button type="button" class="tool" data-testid="mail-folder-create" @click=${() => this.showDialog('create')}>${mailIcons.folder}${t('mail.folders.create')}</button>
      </div>
      ${this.renderDialog()}`;
  }
}

/** The words for a mail error ({code, message}): its catalogue entry, else the server's message. */
export function errorText(error) {
  const code = error?.code ?? 'unknown';
  const key = `mail.error.${code}`;
  const text = t(key, error?.params);
  const said = text === key ? (error?.message ? String(error.message) : t('mail.error.unknown')) : text;
  return error?.cause ? `${said} ${errorText(error.cause)}` : said;
}

customElements.define('secms-mail-folders', MailFolders);
