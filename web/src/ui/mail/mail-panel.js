// <secms-mail-panel .mail .mailActions .preferences>: the Email tab. Folder pane, message list,
// reading pane (right / bottom / off per the mail preferences), compose in place of the reader;
// toolbar, quick and extended search, the connection line (mail_status) and errors. At 600 px
// and below one pane shows at a time (folders → list → message) with a Back button.
// Keyboard shortcuts: ./mail-shortcuts.js (help dialog with "?").

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons } from './mail-icons.js';
import { mailShortcuts, shortcutAction } from './mail-shortcuts.js';
import { folderTree, hasFlag } from './mail-view.js';
import { folderLabel, errorText } from './mail-folders.js';
import './mail-folders.js';
import './mail-list.js';
import './mail-reader.js';
import './mail-compose.js';
import './mail-contacts.js';
import './mail-settings.js';

export class MailPanel extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    preferences: { attribute: false },
    pane: { reflect: true },          // 'folders' | 'list' | 'message' (narrow screens)
    view: { state: true },            // 'mail' | 'contacts' | 'settings'
    draftId: { state: true },
    searchOpen: { state: true },
    actionError: { state: true },
    announcement: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; flex: 1; min-width: 0; min-height: 0; }
    header { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: center; padding: var(--space-2) var(--space-3); border-bottom: 1px solid var(--color-border); background: var(--color-surface); }
    .search { display: flex; gap: var(--space-1); align-items: center; flex: 1 1 14rem; }
    .search input { flex: 1; min-height: 34px; border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); padding: 0 var(--space-2); }
    .status { padding: var(--space-1) var(--space-3); font-size: 0.82rem; color: var(--color-text-muted); display: flex; gap: var(--space-2); }
    .status[data-connection="error"] { color: var(--color-danger); }
    .body { flex: 1; display: grid; grid-template-columns: 14rem minmax(18rem, 2fr) minmax(18rem, 3fr); min-height: 0; }
    :host([reading="bottom"]) .body { grid-template-columns: 14rem 1fr; grid-template-rows: 1fr 1fr; }
    :host([reading="bottom"]) .reading { grid-column: 2; }
    :host([reading="off"]) .body { grid-template-columns: 14rem 1fr; }
    :host([reading="off"]:not([pane="message"])) .reading { display: none; }
    :host([reading="off"][pane="message"]) .list { display: none; }
    .folders { border-right: 1px solid var(--color-border); background: var(--color-surface); display: flex; flex-direction: column; min-height: 0; }
    .list { display: flex; flex-direction: column; min-height: 0; min-width: 0; border-right: 1px solid var(--color-border); }
    .reading { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
    .views { display: flex; gap: var(--space-1); padding: var(--space-2); border-top: 1px solid var(--color-border); }
    form.extended { padding: var(--space-3); border-bottom: 1px solid var(--color-border); background: var(--color-surface); }
    .back { display: none; }
    .page { flex: 1; overflow: auto; padding: var(--space-4); }
    .alert { margin: var(--space-2) var(--space-3) 0; }
    @media (max-width: 600px) {
      .body, :host([reading]) .body { grid-template-columns: 1fr; grid-template-rows: 1fr; }
      .folders, .list, .reading { display: none; border: 0; }
      :host([pane="folders"]) .folders, :host([pane="list"]) .list, :host([pane="message"]) .reading { display: flex; grid-column: 1; grid-row: 1; }
      :host([reading="off"][pane="message"]) .reading { display: flex; }
      .back { display: inline-flex; }
      .wide-only { display: none; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.pane = 'list';
    this.view = 'mail';
    this.draftId = null;
    this.searchOpen = false;
    this.actionError = null;
    this.announcement = '';
    this.started = false;
    this.lastUnseen = null;
    this.onKeydown = this.onKeydown.bind(this);
  }

  connectedCallback() {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKeydown);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.onKeydown);
  }

  willUpdate() {
    const state = this.snapshot.value;
    if (!this.started && this.mailActions && state?.status?.connection === 'off') {
      this.started = true;
      Promise.resolve(this.mailActions.start?.()).catch(() => {});
    }
    this.setAttribute('reading', state?.prefs?.readingPane ?? 'right');
    // "New mail" for screen readers, when the Inbox's unseen count grows.
    const inbox = state?.folders?.find((folder) => String(folder.path).toUpperCase() === 'INBOX');
    if (inbox && this.lastUnseen !== null && inbox.unseen > this.lastUnseen) this.announcement = t('mail.new_mail', { count: inbox.unseen - this.lastUnseen });
    if (inbox) this.lastUnseen = inbox.unseen;
  }

  /** The uids an action applies to: the selection, else the open message. */
  targetUids() {
    const state = this.snapshot.value;
    if (!state) return [];
    if (state.selection.uids.size) return [...state.selection.uids];
    return state.reading?.uid !== null && state.reading?.uid !== undefined ? [state.reading.uid] : [];
  }

  async run(action) {
    this.actionError = null;
    try {
      const result = await action();
      if (result?.error) this.actionError = errorText(result.error);
      return result;
    } catch (error) {
      this.actionError = errorText(error);
      return null;
    }
  }

  async open(uid) {
    this.pane = 'message';
    this.view = 'mail';
    this.draftId = null;
    await this.run(() => this.mailActions.open(uid));
    this.renderRoot.querySelector('secms-mail-reader')?.focusHeading();
  }

  async compose(mode, uid) {
    if (!this.mailActions) return;
    const id = await this.run(() => this.mailActions.compose({ mode, uid }));
    if (id === null || id === undefined) return;
    this.draftId = id;
    this.view = 'mail';
    this.pane = 'message';
    await this.updateComplete;
    this.renderRoot.querySelector('secms-mail-compose')?.focusFirst();
  }

  composeClosed() {
    this.draftId = null;
    this.pane = 'list';
    // After send or discard the focus goes back to the list.
    this.updateComplete.then(() => this.renderRoot.querySelector('secms-mail-list')?.focusGrid());
  }

  special(use) {
    return this.snapshot.value?.folders?.find((folder) => folder.special_use === use)?.path ?? null;
  }

  moveTo(path, copy = false) {
    const uids = this.targetUids();
    if (!path || uids.length === 0) return;
    this.run(() => this.mailActions.move(uids, path, { copy }));
  }

  flagUnread(unread) {
    const uids = this.targetUids();
    if (uids.length) this.run(() => this.mailActions.setFlags(uids, unread ? { remove: ['\\Seen'] } : { add: ['\\Seen'] }));
  }

  async download() {
    const state = this.snapshot.value;
    const uid = state?.reading?.uid;
    if (uid === null || uid === undefined) return;
    const text = await this.run(() => this.mailActions.viewSource(uid));
    if (typeof text !== 'string') return;
    const url = URL.createObjectURL(new Blob([text], { type: 'message/rfc822' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `message-${uid}.eml`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  onKeydown(event) {
    if (this.view !== 'mail') return;
    const action = shortcutAction(event, event.composedPath());
    if (!action || !this.mailActions) return;
    const state = this.snapshot.value;
    const list = this.renderRoot.querySelector('secms-mail-list');
    const current = state?.reading?.uid ?? state?.selection?.focused;
    const handlers = {
      next: () => list?.moveFocus(1),
      previous: () => list?.moveFocus(-1),
      open: () => state?.selection?.focused !== null && this.open(state.selection.focused),
      reply: () => current !== null && this.compose('reply', current),
      reply_all: () => current !== null && this.compose('reply_all', current),
      forward: () => current !== null && this.compose('forward_inline', current),
      compose: () => this.compose('new'),
      delete: () => this.targetUids().length && this.run(() => this.mailActions.remove(this.targetUids())),
      mark_unread: () => this.flagUnread(true),
      mark_read: () => this.flagUnread(false),
      flag: () => this.targetUids().length && this.run(() => this.mailActions.toggleFlag(this.targetUids())),
      search: () => this.renderRoot.querySelector('#mail-quick-search')?.focus(),
      help: () => this.renderRoot.querySelector('dialog.help')?.showModal(),
    };
    event.preventDefault();
    handlers[action]?.();
  }

  quickSearch(event) {
    event.preventDefault();
    const quick = new FormData(event.target).get('quick')?.toString() ?? '';
    this.run(() => (quick.trim() ? this.mailActions.search({ quick: quick.trim() }) : this.mailActions.clearSearch()));
    this.pane = 'list';
  }

  extendedSearch(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const query = {};
    for (const name of ['from', 'to', 'subject', 'body', 'since', 'before']) {
      const value = form.get(name)?.toString().trim();
      if (value) query[name] = value;
    }
    const flags = form.getAll('flags').map(String);
    if (flags.length) query.flags = flags.join(',');
    const folder = form.get('folder')?.toString();
    this.run(async () => {
      if (folder && folder !== this.snapshot.value?.currentFolder) await this.mailActions.openFolder(folder);
      return this.mailActions.search(query);
    });
    this.searchOpen = false;
    this.pane = 'list';
  }

  renderToolbar(state) {
    const uids = this.targetUids();
    const none = uids.length === 0;
    const current = state.reading?.uid ?? (uids.length === 1 ? uids[0] : null);
    const summaryFlagged = [...state.list.rows.values()].some((summary) => uids.includes(summary.uid) && hasFlag(summary, '\\Flagged'));
    const folders = folderTree(state.folders).filter(({ folder }) => folder.selectable !== false && folder.path !== state.currentFolder);
    return html`<div class="toolbar" role="toolbar" aria-label=${t('mail.toolbar')}>
      <button type="button" class="tool back" data-testid="mail-back" @click=${() => { this.pane = this.pane === 'message' ? 'list' : 'folders'; }}>${mailIcons.back}${t('mail.back')}</button>
      <button type="button" class="tool primary" data-testid="mail-compose" @click=${() => this.compose('new')}>${mailIcons.compose}${t('mail.action.compose')}</button>
      <button type="button" class="tool" ?disabled=${current === null} data-testid="mail-reply" @click=${() => this.compose('reply', current)}>${mailIcons.reply}${t('mail.action.reply')}</button>
      <button type="button" class="tool" ?disabled=${current === null} data-testid="mail-reply-all" @click=${() => this.compose('reply_all', current)}>${mailIcons.replyAll}<span class="wide-only">${t('mail.action.reply_all')}</span></button>
      <button type="button" class="tool" ?disabled=${current === null} data-testid="mail-forward" @click=${() => this.compose('forward_inline', current)}>${mailIcons.forward}<span class="wide-only">${t('mail.action.forward')}</span></button>
      <button type="button" class="tool" ?disabled=${current === null} data-testid="mail-forward-attachment" @click=${() => this.compose('forward_attachment', current)}><span>${t('mail.action.forward_attachment')}</span></button>
      <button type="button" class="tool" ?disabled=${none} data-testid="mail-delete" aria-label=${t('mail.action.delete')} @click=${() => this.run(() => this.mailActions.remove(uids))}>${mailIcons.trash}</button>
      <button type="button" class="tool" ?disabled=${none || !this.special('archive')} data-testid="mail-archive" @click=${() => this.moveTo(this.special('archive'))}>${mailIcons.archive}<span class="wide-only">${t('mail.action.archive')}</span></button>
      <button type="button" class="tool" ?disabled=${none || !this.special('junk')} data-testid="mail-junk" @click=${() => this.moveTo(this.special('junk'))}>${mailIcons.junk}<span class="wide-only">${t('mail.action.junk')}</span></button>
      <button type="button" class="tool" ?disabled=${none} data-testid="mail-mark-read" @click=${() => this.flagUnread(false)}>${t('mail.action.mark_read')}</button>
      <button type="button" class="tool" ?disabled=${none} data-testid="mail-mark-unread" @click=${() => this.flagUnread(true)}>${t('mail.action.mark_unread')}</button>
      <button type="button" class="tool" ?disabled=${none} aria-pressed=${String(summaryFlagged)} data-testid="mail-flag" @click=${() => this.run(() => this.mailActions.toggleFlag(uids))}>${mailIcons.star}<span class="wide-only">${t('mail.action.flag')}</span></button>
      <label class="visually-hidden" for="mail-move">${t('mail.action.move')}</label>
      <select id="mail-move" class="tool" ?disabled=${none} data-testid="mail-move" @change=${(event) => { this.moveTo(event.target.value); event.target.value = ''; }}>
        <option value="">${t('mail.action.move')}</option>
        ${folders.map(({ folder, use }) => html`<option value=${folder.path}>${folderLabel(folder, use)}</option>`)}
      </select>
      <label class="visually-hidden" for="mail-copy">${t('mail.action.copy')}</label>
      <select id="mail-copy" class="tool" ?disabled=${none} data-testid="mail-copy" @change=${(event) => { this.moveTo(event.target.value, true); event.target.value = ''; }}>
        <option value="">${t('mail.action.copy')}</option>
        ${folders.map(({ folder, use }) => html`<option value=${folder.path}>${folderLabel(folder, use)}</option>`)}
      </select>
      <button type="button" class="tool" ?disabled=${state.reading?.uid === null || state.reading?.uid === undefined} data-testid="mail-download" @click=${this.download}>${mailIcons.download}<span class="wide-only">${t('mail.action.download')}</span></button>
      <button type="button" class="tool" aria-pressed=${String(Boolean(state.list.threads))} data-testid="mail-threads" @click=${() => this.run(() => this.mailActions.setThreads(!state.list.threads))}>${t('mail.action.threads')}</button>
      ${['trash', 'junk'].includes(state.folders.find((folder) => folder.path === state.currentFolder)?.special_use)
        ? html`<button type="button" class="tool" data-testid="mail-empty" @click=${() => window.confirm(t('mail.action.empty_confirm')) && this.run(() => this.mailActions.emptyFolder(state.currentFolder))}>${t('mail.action.empty')}</button>` : nothing}
      <button type="button" class="tool" data-testid="mail-mark-all-read" @click=${() => this.run(() => this.mailActions.markAllRead(state.currentFolder))}>${t('mail.action.mark_all_read')}</button>
      <button type="button" class="tool" aria-label=${t('mail.keys.title')} data-testid="mail-help" @click=${() => this.renderRoot.querySelector('dialog.help')?.showModal()}>?</button>
    </div>`;
  }

  renderSearch(state) {
    return html`<form class="search" role="search" @submit=${this.quickSearch} autocomplete="off">
      <label class="visually-hidden" for="mail-quick-search">${t('mail.search.quick')}</label>
      <input id="mail-quick-search" name="quick" type="search" placeholder=${t('mail.search.quick')} .value=${state.list.query?.quick ?? ''}
        autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" data-testid="mail-quick-search">
      <button type="submit" class="tool" aria-label=${t('mail.search.go')}>${mailIcons.search}</button>
      <button type="button" class="tool" aria-expanded=${String(this.searchOpen)} aria-controls="mail-extended-search" data-testid="mail-search-more"
        @click=${() => { this.searchOpen = !this.searchOpen; }}>${t('mail.search.more')}</button>
    </form>`;
  }

  renderExtendedSearch(state) {
    const field = (name, type = 'text') => html`<div class="field"><label for=${`search-${name}`}>${t(`mail.search.${name}`)}</label>
      <input id=${`search-${name}`} name=${name} type=${type} autocomplete="off" spellcheck="false" .value=${state.list.query?.[name] ?? ''}></div>`;
    return html`<form class="extended" id="mail-extended-search" ?hidden=${!this.searchOpen} @submit=${this.extendedSearch} autocomplete="off" data-testid="mail-extended-search">
      <div class="grid-form">
        <div class="field"><label for="search-folder">${t('mail.search.folder')}</label>
          <select id="search-folder" name="folder">${folderTree(state.folders).map(({ folder, use }) => html`<option value=${folder.path} ?selected=${folder.path === state.currentFolder}>${folderLabel(folder, use)}</option>`)}</select></div>
        ${field('from')}${field('to')}${field('subject')}${field('body')}${field('since', 'date')}${field('before', 'date')}
      </div>
      <fieldset><legend>${t('mail.search.flags')}</legend>
        ${['seen', 'unseen', 'flagged', 'unflagged', 'answered'].map((flag) => html`<label class="small"><input type="checkbox" name="flags" value=${flag}> ${t(`mail.search.flag_${flag}`)}</label> `)}
      </fieldset>
      <div class="dialog-actions">
        <button type="button" class="button secondary" @click=${() => { this.searchOpen = false; this.run(() => this.mailActions.clearSearch()); }}>${t('mail.search.clear')}</button>
        <button type="submit" class="button" data-testid="mail-search-submit">${t('mail.search.go')}</button>
      </div>
    </form>`;
  }

  renderStatus(state) {
    const status = state.status;
    return html`<div class="status" role="status" data-testid="mail-status" data-connection=${status.connection}>
      <span>${t(`mail.connection.${status.connection}`)}</span>
      ${status.address ? html`<span>${status.account === 'external' ? status.external?.email : status.address}</span>` : nothing}
      ${status.error ? html`<span>${errorText(status.error)}</span>` : nothing}
      <span class="visually-hidden" aria-live="polite" data-testid="mail-announcement">${this.announcement}</span>
    </div>`;
  }

  renderHelp() {
    return html`<dialog class="help" aria-labelledby="help-title" data-testid="mail-help-dialog">
      <h2 id="help-title">${t('mail.keys.title')}</h2>
      <table class="keys"><tbody>${mailShortcuts.map(([key, , label]) => html`<tr><th scope="row"><kbd>${key}</kbd></th><td>${t(label)}</td></tr>`)}</tbody></table>
      <p class="muted small">${t('mail.keys.typing')}</p>
      <div class="dialog-actions"><button type="button" class="button" @click=${(event) => event.target.closest('dialog').close()}>${t('mail.close')}</button></div>
    </dialog>`;
  }

  render() {
    const state = this.snapshot.value;
    if (!state || !this.mailActions) {
      return html`<p class="page muted" data-testid="mail-unavailable">${t('mail.unavailable')}</p>`;
    }
    if (state.status.enabled === false && state.status.connection !== 'off') {
      return html`<p class="page muted" data-testid="mail-disabled">${t('mail.disabled')}</p>`;
    }
    const notice = state.notice;
    return html`
      <header>
        ${this.view === 'mail' ? this.renderToolbar(state) : html`<button type="button" class="tool" data-testid="mail-back-to-mail" @click=${() => { this.view = 'mail'; }}>${mailIcons.back}${t('mail.back_to_mail')}</button>`}
        ${this.view === 'mail' ? this.renderSearch(state) : nothing}
      </header>
      ${this.view === 'mail' ? this.renderExtendedSearch(state) : nothing}
      ${this.renderStatus(state)}
      ${this.actionError ? html`<p class="message error alert" role="alert" data-testid="mail-error">${this.actionError}</p>` : nothing}
      ${notice?.kind === 'error' ? html`<p class="message error alert" role="alert" data-testid="mail-notice">${errorText(notice)}</p>` : nothing}
      ${this.view === 'contacts' ? html`<div class="page"><secms-mail-contacts .mail=${this.mail} .mailActions=${this.mailActions}></secms-mail-contacts></div>` : nothing}
      ${this.view === 'settings' ? html`<div class="page"><secms-mail-settings .mail=${this.mail} .mailActions=${this.mailActions}></secms-mail-settings></div>` : nothing}
      <div class="body" ?hidden=${this.view !== 'mail'}>
        <div class="folders">
          <secms-mail-folders .mail=${this.mail} .mailActions=${this.mailActions} @mail-folder-opened=${() => { this.pane = 'list'; }}></secms-mail-folders>
          <div class="views">
            <button type="button" class="tool" data-testid="mail-contacts" @click=${() => { this.view = 'contacts'; }}>${mailIcons.contacts}${t('mail.contacts.title')}</button>
            <button type="button" class="tool" data-testid="mail-settings" @click=${() => { this.view = 'settings'; }}>${mailIcons.settings}${t('mail.settings.title')}</button>
          </div>
        </div>
        <section class="list" aria-label=${t('mail.list.label')}>
          <secms-mail-list .mail=${this.mail} .mailActions=${this.mailActions} @mail-open=${(event) => this.open(event.detail.uid)}></secms-mail-list>
        </section>
        <section class="reading" aria-label=${this.draftId !== null ? t('mail.compose.title_new') : t('mail.reader.label')}>
          ${this.draftId !== null
            ? html`<secms-mail-compose .mail=${this.mail} .mailActions=${this.mailActions} .draftId=${this.draftId} @mail-compose-closed=${this.composeClosed}></secms-mail-compose>`
            : html`<secms-mail-reader .mail=${this.mail} .mailActions=${this.mailActions}></secms-mail-reader>`}
        </section>
      </div>
      ${this.renderHelp()}`;
  }
}

customElements.define('secms-mail-panel', MailPanel);
