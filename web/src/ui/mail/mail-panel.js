// <secms-mail-panel .mail .mailActions .preferences>: the Email tab. Folder pane, message list,
// reading pane (right / bottom / off per the mail preferences), compose in place of the reader;
// toolbar, quick and extended search, the connection line (mail_status) and errors. At 600 px
// and below one pane shows at a time (folders → list → message) with a Back button.
// Keyboard shortcuts: ./mail-shortcuts.js (help dialog with "?").

import { LitElement, html, css, nothing } from 'lit';
import { getLanguage, t } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons } from './mail-icons.js';
import { mailShortcuts, shortcutAction } from './mail-shortcuts.js';
import { folderTree, formatBytes, hasFlag } from './mail-view.js';
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
    narrow: { state: true },          // the 600 px breakpoint: one pane at a time, compact toolbar
    menuOpen: { state: true },        // the toolbar's "More actions" menu
    folderPick: { state: true },      // 'move' | 'copy': the folder dialog's purpose
    foldersCollapsed: { state: true, attribute: 'folders-collapsed', reflect: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; flex: 1; min-width: 0; min-height: 0; }
    header { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: center; padding: var(--space-2) var(--space-3); border-bottom: 1px solid var(--color-border); background: var(--color-surface); }
    .search { display: flex; gap: var(--space-1); align-items: center; flex: 1 1 14rem; }
    .search input { flex: 1; min-height: 34px; border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); padding: 0 var(--space-2); }
    .status { padding: var(--space-1) var(--space-3); font-size: 0.82rem; color: var(--color-text-muted); display: flex; gap: var(--space-2); }
    .status[data-connection="error"] { color: var(--color-danger); }
    /* The folder pane is narrow and can be hidden; the list keeps room for a two-line row
       (mail-list.js switches to it below 30rem) and the reader shares the rest. */
    .body { --folders-width: 12rem; flex: 1; display: grid; grid-template-columns: var(--folders-width) minmax(18rem, 1fr) minmax(18rem, 1.2fr); min-height: 0; }
    :host([folders-collapsed]) .body { --folders-width: 0; }
    :host([folders-collapsed]) .folders { display: none; }
    :host([reading="bottom"]) .body { grid-template-columns: var(--folders-width) 1fr; grid-template-rows: 1fr 1fr; }
    :host([reading="bottom"]) .reading { grid-column: 2; }
    :host([reading="off"]) .body { grid-template-columns: var(--folders-width) 1fr; }
    :host([reading="off"]:not([pane="message"])) .reading { display: none; }
    :host([reading="off"][pane="message"]) .list { display: none; }
    .folders { border-right: 1px solid var(--color-border); background: var(--color-surface); display: flex; flex-direction: column; min-height: 0; }
    .list { display: flex; flex-direction: column; min-height: 0; min-width: 0; border-right: 1px solid var(--color-border); }
    .reading { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
    .views { display: flex; flex-wrap: wrap; gap: var(--space-1); padding: var(--space-2); border-top: 1px solid var(--color-border); }
    .views .tool { white-space: nowrap; }
    form.extended { padding: var(--space-3); border-bottom: 1px solid var(--color-border); background: var(--color-surface); }
    .toolbar { flex-wrap: nowrap; min-width: 0; }
    .toolbar select.tool { max-width: 9rem; }
    .more { position: relative; }
    .menu {
      position: absolute; right: 0; top: calc(100% + 4px); z-index: 20; min-width: 14rem; display: flex; flex-direction: column;
      padding: var(--space-1); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface);
      box-shadow: 0 6px 24px rgb(0 0 0 / 0.18);
    }
    .menu[hidden] { display: none; }
    .menu-item {
      display: flex; align-items: center; gap: var(--space-2); min-height: 36px; padding: 0 var(--space-3); border: 0; border-radius: var(--radius-s);
      background: transparent; color: var(--color-text); font: inherit; font-size: 0.9rem; text-align: left; cursor: pointer;
    }
    .menu-item:hover, .menu-item:focus { background: var(--color-surface-hover); }
    .menu-item[aria-disabled="true"] { color: var(--color-text-muted); cursor: default; }
    .menu-item[aria-checked="true"]::after { content: "✓"; margin-left: auto; }
    .page { flex: 1; overflow: auto; padding: var(--space-4); }
    .alert { margin: var(--space-2) var(--space-3) 0; }
    @media (max-width: 600px) {
      .body, :host([reading]) .body { grid-template-columns: 1fr; grid-template-rows: 1fr; }
      .folders, .list, .reading { display: none; border: 0; }
      :host([pane="folders"]) .folders, :host([pane="list"]) .list, :host([pane="message"]) .reading { display: flex; grid-column: 1; grid-row: 1; }
      :host([reading="off"][pane="message"]) .reading { display: flex; }
      header { padding: var(--space-1) var(--space-2); }
      .toolbar { gap: 0; }
      /* Reading a message, the search row gives its height to the message. */
      :host([pane="message"]) .search { display: none; }
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
    this.narrowQuery = window.matchMedia('(max-width: 600px)');
    this.narrow = this.narrowQuery.matches;
    this.onNarrowChange = () => { this.narrow = this.narrowQuery.matches; this.menuOpen = false; };
    this.menuOpen = false;
    this.folderPick = 'move';
    this.foldersCollapsed = false;
  }

  connectedCallback() {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKeydown);
    this.narrowQuery.addEventListener('change', this.onNarrowChange);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.onKeydown);
    this.narrowQuery.removeEventListener('change', this.onNarrowChange);
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

  /** `unprotectedReplyTo`: the reader's explicit "reply to the Reply-To no signature covers". */
  async compose(mode, uid, { unprotectedReplyTo = false } = {}) {
    if (!this.mailActions) return;
    const id = await this.run(() => this.mailActions.compose(unprotectedReplyTo ? { mode, uid, unprotectedReplyTo } : { mode, uid }));
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
    // Escape leaves an open message for the list where the list is hidden (reading pane off, or
    // one pane at a time), unless a dialog, the compose form or a text field has it.
    if (event.key === 'Escape' && this.showsBack() && this.pane === 'message' && this.draftId === null
      && !event.composedPath().some((node) => node.tagName === 'DIALOG' || node.tagName === 'INPUT' || node.tagName === 'SELECT' || node.tagName === 'TEXTAREA')) {
      event.preventDefault();
      this.goBack();
      return;
    }
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

  /**
   * The toolbar's actions, in order. `place`: 'bar' (always a button), 'menu' (always in the
   * "More actions" menu), 'wide' (a button on wide windows, in the menu when narrow). Buttons
   * show their icon; the name is the label text (visually hidden for icon-only buttons).
   */
  toolbarActions(state) {
    const uids = this.targetUids();
    const none = uids.length === 0;
    const current = state.reading?.uid ?? (uids.length === 1 ? uids[0] : null);
    const flagged = [...state.list.rows.values()].some((summary) => uids.includes(summary.uid) && hasFlag(summary, '\\Flagged'));
    const noMessage = state.reading?.uid === null || state.reading?.uid === undefined;
    const emptiable = ['trash', 'junk'].includes(state.folders.find((folder) => folder.path === state.currentFolder)?.special_use);
    return [
      { id: 'compose', label: 'mail.action.compose', icon: mailIcons.compose, place: 'bar', primary: true, text: !this.narrow, run: () => this.compose('new') },
      { id: 'reply', label: 'mail.action.reply', icon: mailIcons.reply, place: 'bar', text: !this.narrow, disabled: current === null, run: () => this.compose('reply', current) },
      { id: 'reply-all', label: 'mail.action.reply_all', icon: mailIcons.replyAll, place: 'bar', disabled: current === null, run: () => this.compose('reply_all', current) },
      { id: 'forward', label: 'mail.action.forward', icon: mailIcons.forward, place: 'bar', disabled: current === null, run: () => this.compose('forward_inline', current) },
      { id: 'delete', label: 'mail.action.delete', icon: mailIcons.trash, place: 'bar', disabled: none, run: () => this.run(() => this.mailActions.remove(uids)) },
      { id: 'archive', label: 'mail.action.archive', icon: mailIcons.archive, place: 'wide', disabled: none || !this.special('archive'), run: () => this.moveTo(this.special('archive')) },
      { id: 'junk', label: 'mail.action.junk', icon: mailIcons.junk, place: 'wide', disabled: none || !this.special('junk'), run: () => this.moveTo(this.special('junk')) },
      { id: 'flag', label: 'mail.action.flag', icon: mailIcons.star, place: 'wide', disabled: none, pressed: flagged, run: () => this.run(() => this.mailActions.toggleFlag(uids)) },
      // Wide: the Move select of renderMoveSelect; narrow: a menu item that opens the folder dialog.
      ...(this.narrow ? [{ id: 'move', label: 'mail.action.move', place: 'menu', disabled: none, run: () => this.pickFolder('move') }] : []),
      { id: 'copy', label: 'mail.action.copy', place: 'menu', disabled: none, run: () => this.pickFolder('copy') },
      { id: 'forward-attachment', label: 'mail.action.forward_attachment', place: 'menu', disabled: current === null, run: () => this.compose('forward_attachment', current) },
      { id: 'mark-read', label: 'mail.action.mark_read', place: 'menu', disabled: none, run: () => this.flagUnread(false) },
      { id: 'mark-unread', label: 'mail.action.mark_unread', place: 'menu', disabled: none, run: () => this.flagUnread(true) },
      { id: 'download', label: 'mail.action.download', place: 'menu', disabled: noMessage, run: () => this.download() },
      { id: 'threads', label: 'mail.action.threads', place: 'menu', pressed: Boolean(state.list.threads), run: () => this.run(() => this.mailActions.setThreads(!state.list.threads)) },
      ...(emptiable ? [{ id: 'empty', label: 'mail.action.empty', place: 'menu', run: () => window.confirm(t('mail.action.empty_confirm')) && this.run(() => this.mailActions.emptyFolder(state.currentFolder)) }] : []),
      { id: 'mark-all-read', label: 'mail.action.mark_all_read', place: 'menu', run: () => this.run(() => this.mailActions.markAllRead(state.currentFolder)) },
      { id: 'help', label: 'mail.keys.title', place: 'menu', run: () => this.renderRoot.querySelector('dialog.help')?.showModal() },
    ];
  }

  inMenu(action) {
    return action.place === 'menu' || (action.place === 'wide' && this.narrow);
  }

  /** Back: narrow, one pane up (message → list → folders); wide, from a full-width message (reading pane off) to the list. */
  showsBack() {
    if (this.narrow) return this.pane !== 'folders';
    return this.snapshot.value?.prefs?.readingPane === 'off' && this.pane === 'message';
  }

  goBack() {
    const toList = this.pane === 'message';
    this.pane = toList ? 'list' : 'folders';
    if (toList) this.updateComplete.then(() => this.renderRoot.querySelector('secms-mail-list')?.focusGrid());
  }

  renderMoveSelect(state) {
    const folders = folderTree(state.folders).filter(({ folder }) => folder.selectable !== false && folder.path !== state.currentFolder);
    return html`<label class="visually-hidden" for="mail-move">${t('mail.action.move')}</label>
      <select id="mail-move" class="tool" ?disabled=${this.targetUids().length === 0} data-testid="mail-move" @change=${(event) => { this.moveTo(event.target.value); event.target.value = ''; }}>
        <option value="">${t('mail.action.move')}</option>
        ${folders.map(({ folder, use }) => html`<option value=${folder.path}>${folderLabel(folder, use)}</option>`)}
      </select>`;
  }

  renderToolbar(state) {
    const actions = this.toolbarActions(state);
    const button = (action) => html`<button type="button" class=${action.primary ? 'tool primary' : 'tool'} ?disabled=${action.disabled}
        aria-pressed=${action.pressed === undefined ? nothing : String(action.pressed)} title=${action.text ? nothing : t(action.label)}
        data-testid=${`mail-${action.id}`} @click=${action.run}>${action.icon}<span class=${action.text ? '' : 'visually-hidden'}>${t(action.label)}</span></button>`;
    return html`<div class="toolbar" role="toolbar" aria-label=${t('mail.toolbar')}>
      ${this.showsBack() ? html`<button type="button" class="tool" data-testid="mail-back" @click=${this.goBack}>${mailIcons.back}${t('mail.back')}</button>` : nothing}
      ${this.narrow ? nothing : html`<button type="button" class="tool" aria-expanded=${String(!this.foldersCollapsed)} aria-controls="mail-folder-pane"
        title=${t('mail.folders.toggle')} data-testid="mail-folders-toggle" @click=${() => { this.foldersCollapsed = !this.foldersCollapsed; }}>${mailIcons.folder}<span class="visually-hidden">${t('mail.folders.toggle')}</span></button>`}
      ${actions.filter((action) => !this.inMenu(action)).map(button)}
      ${this.narrow ? nothing : this.renderMoveSelect(state)}
      ${this.renderMoreMenu(actions.filter((action) => this.inMenu(action)))}
    </div>`;
  }

  // --- the "More actions" menu button (WAI-ARIA APG menu button pattern) ----------------------

  menuItems() {
    return [...this.renderRoot.querySelectorAll('#mail-more-menu [role^="menuitem"]')];
  }

  async openMenu(focus = 'first') {
    this.menuOpen = true;
    await this.updateComplete;
    const items = this.menuItems();
    (focus === 'last' ? items[items.length - 1] : items[0])?.focus();
  }

  closeMenu({ restoreFocus = true } = {}) {
    if (!this.menuOpen) return;
    this.menuOpen = false;
    if (restoreFocus) this.renderRoot.querySelector('#mail-more-button')?.focus();
  }

  onMenuButtonKeydown(event) {
    const where = { ArrowDown: 'first', Enter: 'first', ' ': 'first', ArrowUp: 'last' }[event.key];
    if (!where) return;
    event.preventDefault();
    event.stopPropagation();
    this.openMenu(where);
  }

  onMenuKeydown(event) {
    if (event.key === 'Tab') { this.closeMenu({ restoreFocus: false }); return; }
    // Every other key belongs to the menu: none reaches the list's single-key shortcuts.
    event.stopPropagation();
    const items = this.menuItems();
    const index = items.indexOf(this.renderRoot.activeElement);
    const focusAt = (position) => items[(position + items.length) % items.length]?.focus();
    if (event.key === 'ArrowDown') focusAt(index + 1);
    else if (event.key === 'ArrowUp') focusAt(index - 1);
    else if (event.key === 'Home') focusAt(0);
    else if (event.key === 'End') focusAt(items.length - 1);
    else if (event.key === 'Escape') this.closeMenu();
    else if (event.key.length === 1 && /\S/.test(event.key)) {
      // Type-ahead: the next item whose label starts with the character.
      const key = event.key.toLocaleLowerCase();
      for (let step = 1; step <= items.length; step += 1) {
        const item = items[(index + step) % items.length];
        if (item.textContent.trim().toLocaleLowerCase().startsWith(key)) { item.focus(); break; }
      }
    } else return;
    event.preventDefault();
  }

  activateMenuItem(action) {
    if (action.disabled) return;
    this.closeMenu({ restoreFocus: !['move', 'copy', 'help'].includes(action.id) });
    action.run();
  }

  renderMoreMenu(actions) {
    return html`<div class="more" @focusout=${(event) => { if (!event.currentTarget.contains(event.relatedTarget)) this.closeMenu({ restoreFocus: false }); }}>
      <button type="button" class="tool" id="mail-more-button" aria-haspopup="menu" aria-expanded=${String(this.menuOpen)} aria-controls="mail-more-menu"
        title=${this.narrow ? t('mail.action.more') : nothing} data-testid="mail-more"
        @click=${() => (this.menuOpen ? this.closeMenu() : this.openMenu())} @keydown=${this.onMenuButtonKeydown}>
        ${mailIcons.more}<span class=${this.narrow ? 'visually-hidden' : ''}>${t('mail.action.more')}</span></button>
      <div class="menu" role="menu" id="mail-more-menu" aria-labelledby="mail-more-button" ?hidden=${!this.menuOpen} @keydown=${this.onMenuKeydown}>
        ${this.menuOpen ? actions.map((action) => html`<button type="button" tabindex="-1" class="menu-item"
          role=${action.pressed === undefined ? 'menuitem' : 'menuitemcheckbox'} aria-checked=${action.pressed === undefined ? nothing : String(action.pressed)}
          aria-disabled=${action.disabled ? 'true' : nothing} data-testid=${`mail-${action.id}`} @click=${() => this.activateMenuItem(action)}>
          ${action.icon ?? nothing}<span>${t(action.label)}</span></button>`) : nothing}
      </div>
    </div>`;
  }

  // --- Move to / Copy to a folder chosen in a dialog (narrow windows, and Copy) -------------------

  async pickFolder(mode) {
    this.folderPick = mode;
    await this.updateComplete;
    this.renderRoot.querySelector('dialog.folder-pick')?.showModal();
  }

  renderFolderPick(state) {
    const folders = folderTree(state.folders).filter(({ folder }) => folder.selectable !== false && folder.path !== state.currentFolder);
    const copy = this.folderPick === 'copy';
    const submit = (event) => {
      event.preventDefault();
      const path = new FormData(event.target).get('folder')?.toString();
      event.target.closest('dialog').close();
      this.moveTo(path, copy);
    };
    return html`<dialog class="folder-pick" aria-labelledby="folder-pick-title" data-testid="mail-folder-pick"
        @close=${() => this.renderRoot.querySelector('#mail-more-button')?.focus()}>
      <form @submit=${submit}>
        <h2 id="folder-pick-title">${t(copy ? 'mail.action.copy' : 'mail.action.move')}</h2>
        <div class="field"><label for="folder-pick-select">${t('mail.folders.label')}</label>
          <select id="folder-pick-select" name="folder" data-testid="mail-folder-pick-select">
            ${folders.map(({ folder, use }) => html`<option value=${folder.path}>${folderLabel(folder, use)}</option>`)}
          </select></div>
        <div class="dialog-actions">
          <button type="button" class="button secondary" @click=${(event) => event.target.closest('dialog').close()}>${t('mail.cancel')}</button>
          <button type="submit" class="button" data-testid="mail-folder-pick-submit">${t(copy ? 'mail.action.copy_submit' : 'mail.action.move_submit')}</button>
        </div>
      </form>
    </dialog>`;
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
      ${status.quota ? html`<span data-testid="mail-quota">${t('mail.quota.used', {
        used: formatBytes(status.quota.usedBytes, getLanguage()), limit: formatBytes(status.quota.limitBytes, getLanguage()) })}</span>` : nothing}
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
    if (state.status.connection === 'disabled') {
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
        <div class="folders" id="mail-folder-pane">
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
            : html`<secms-mail-reader .mail=${this.mail} .mailActions=${this.mailActions}
                @mail-compose-request=${(event) => this.compose(event.detail.mode, event.detail.uid, { unprotectedReplyTo: event.detail.unprotectedReplyTo === true })}></secms-mail-reader>`}
        </section>
      </div>
      ${this.renderHelp()}
      ${this.view === 'mail' ? this.renderFolderPick(state) : nothing}`;
  }
}

customElements.define('secms-mail-panel', MailPanel);
