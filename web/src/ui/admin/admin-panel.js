// The administration panel (account menu → Administration, admin logins only): the accounts
// of the server, a page at a time, and per account: disable or enable, change the role, end its
// logins, delete it (after a confirmation naming it). The server decides (docs/api.md "Admin");
// the panel says what it answered under the row the action was about, and the window's live
// region reads it (ui/announcer.js), so the outcome is heard where the user's focus is.
//
// Focus (WAI-ARIA APG): buttons are never disabled while a request runs (aria-disabled keeps
// them focusable, so focus is not dropped on <body>); rows are keyed by username, so the control
// that was used keeps focus when the list is read again; when a row is gone, focus moves to the
// row that took its place (admin-model.js), else to the list's heading.

import { LitElement, html, css, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { icons } from '../icons.js';
import { adminRoles } from '../../net/admin-api.js';
import { adminErrorKey, adminResultKey, offsetAfterDelete, pageOf, usernameToFocusAfterRemoval } from './admin-model.js';

export const ADMIN_PAGE_SIZE = 25;

// Present participles shown while an action runs ("Disabling alice…").
const progressKeyOf = Object.freeze({
  disable: 'admin.progress.disable', enable: 'admin.progress.enable', role: 'admin.progress.role',
  'end-logins': 'admin.progress.end_logins', delete: 'admin.progress.delete',
});

export class AdminPanel extends LitElement {
  static properties = {
    api: { attribute: false },        // net/admin-api.js client
    self: { attribute: false },       // the username of this login (its own row offers less)
    announce: { attribute: false },   // (sentence) => void: the window's polite live region
    users: { state: true },
    total: { state: true },
    offset: { state: true },
    loading: { state: true },
    listError: { state: true },       // { key, params } when the list could not be read
    outcomes: { state: true },        // Map username → { kind: 'ok'|'error'|'busy', key, params, code }
    roleChoices: { state: true },     // { [username]: role chosen in the row's select }
    confirming: { state: true },      // username whose deletion is being confirmed, or null
    removed: { state: true },         // the outcome of the last deletion (its row is gone), or null
  };

  static styles = [controlStyles, css`
    :host { display: contents; }
    dialog.panel {
      width: min(960px, calc(100vw - 16px)); max-height: calc(100dvh - 16px); padding: 0;
      border: 1px solid var(--color-border); border-radius: var(--radius-l);
      background: var(--color-surface); color: var(--color-text); box-shadow: var(--shadow-pop);
    }
    dialog::backdrop { background: rgb(0 0 0 / 45%); }
    .panel-body { display: flex; flex-direction: column; gap: var(--space-3); padding: var(--space-4); }
    header { display: flex; align-items: center; gap: var(--space-3); }
    header h2 { margin: 0; flex: 1; font-size: 1.2rem; }
    h2:focus, h3:focus { outline: none; }
    h2:focus-visible, h3:focus-visible { outline: 2px solid var(--color-focus); outline-offset: 2px; }
    .list-head { display: flex; align-items: center; justify-content: space-between; gap: var(--space-2); flex-wrap: wrap; }
    .list-head h3 { margin: 0; font-size: 1rem; }
    .count { margin: 0; color: var(--color-text-muted); }
    ul.users { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: var(--space-2); }
    li.user {
      display: grid; grid-template-columns: minmax(10rem, 1fr) auto; gap: var(--space-2) var(--space-4);
      align-items: center; padding: var(--space-3); border: 1px solid var(--color-border); border-radius: var(--radius-m);
      background: var(--color-surface-2);
    }
    li.user[data-disabled="true"] { border-style: dashed; }
    .who { min-width: 0; }
    .name { margin: 0; font-size: 1rem; overflow-wrap: anywhere; }
    .you { font-weight: 400; color: var(--color-text-muted); }
    .facts { margin: var(--space-1) 0 0; color: var(--color-text-muted); font-size: 0.88rem; display: flex; flex-wrap: wrap; gap: 0 var(--space-3); }
    .state-disabled { color: var(--color-danger); font-weight: 600; }
    .controls { display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end; gap: var(--space-2); }
    .role { display: flex; align-items: center; gap: var(--space-2); }
    .role label { font-weight: 600; font-size: 0.9rem; }
    select {
      min-height: 40px; padding: 0 var(--space-2); border: 1px solid var(--color-border);
      border-radius: var(--radius-m); background: var(--color-surface);
    }
    .controls .button { min-height: 40px; padding: 0 var(--space-3); }
    .own-note { margin: 0; color: var(--color-text-muted); font-size: 0.88rem; max-width: 28rem; }
    .outcome { grid-column: 1 / -1; margin: 0; font-size: 0.9rem; font-weight: 600; }
    .outcome[data-kind="ok"] { color: var(--color-success); }
    .outcome[data-kind="error"] { color: var(--color-danger); }
    .outcome[data-kind="busy"] { color: var(--color-text-muted); font-weight: 400; }
    nav.pages { display: flex; align-items: center; justify-content: space-between; gap: var(--space-2); flex-wrap: wrap; }
    dialog.confirm { width: min(440px, calc(100vw - 32px)); padding: var(--space-5); border: 1px solid var(--color-border);
      border-radius: var(--radius-l); background: var(--color-surface); color: var(--color-text); box-shadow: var(--shadow-pop); }
    dialog.confirm h2 { margin: 0 0 var(--space-3); font-size: 1.1rem; overflow-wrap: anywhere; }
    dialog.confirm p { margin: 0 0 var(--space-4); color: var(--color-text-muted); }
    .dialog-actions { display: flex; justify-content: flex-end; flex-wrap: wrap; gap: var(--space-2); }
    /* Phones (phone-layout.js): a row is a card, its controls under the name. */
    @media (max-width: 760px) {
      dialog.panel { width: 100vw; max-width: 100vw; max-height: 100dvh; border-radius: 0; }
      .panel-body { padding: var(--space-3); }
      li.user { grid-template-columns: minmax(0, 1fr); }
      .controls { justify-content: flex-start; }
    }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.users = [];
    this.total = 0;
    this.offset = 0;
    this.loading = false;
    this.listError = null;
    this.outcomes = new Map();
    this.roleChoices = {};
    this.confirming = null;
    this.confirmOrigin = null;
    this.removed = null;
  }

  get panelDialog() {
    return this.renderRoot.querySelector('dialog.panel');
  }

  /** Opens the panel on the first page; focus goes to its heading, which names it. */
  async show() {
    await this.updateComplete;
    this.outcomes = new Map();
    this.roleChoices = {};
    this.removed = null;
    if (!this.panelDialog.open) this.panelDialog.showModal();
    this.renderRoot.querySelector('#admin-title')?.focus();
    await this.load(0);
  }

  close() {
    this.panelDialog?.close();
  }

  onPanelClose() {
    this.dispatchEvent(new CustomEvent('admin-panel-close'));
  }

  say(sentence) {
    this.announce?.(sentence);
  }

  /** Reads the page at `offset`; → whether it was read. */
  async load(offset) {
    this.loading = true;
    this.listError = null;
    try {
      const page = await this.api.listUsers({ offset, limit: ADMIN_PAGE_SIZE });
      this.users = page.users;
      this.total = page.total;
      this.offset = offset;
      return true;
    } catch (error) {
      this.listError = adminErrorKey(error, '');
      this.say(t(this.listError.key, this.listError.params));
      return false;
    } finally {
      this.loading = false;
    }
  }

  async goToPage(offset, event) {
    if (offset === null || this.loading) return;
    const button = event?.currentTarget;
    this.outcomes = new Map();
    this.removed = null;
    if (await this.load(offset)) {
      const page = pageOf({ offset: this.offset, limit: ADMIN_PAGE_SIZE, shown: this.users.length, total: this.total });
      this.say(t('admin.page', { from: page.from, to: page.to, total: page.total }));
    }
    // The button used stays focused (aria-disabled on the first or last page: still focusable).
    button?.focus();
  }

  setOutcome(username, outcome) {
    const outcomes = new Map(this.outcomes);
    if (outcome) outcomes.set(username, outcome);
    else outcomes.delete(username);
    this.outcomes = outcomes;
  }

  isBusy(username) {
    return this.outcomes.get(username)?.kind === 'busy';
  }

  /**
   * Runs one action on `username`'s account: progress and then the server's answer under the
   * row, read by the live region; the list is read again after a success. → whether it worked.
   */
  async runAction(username, action, perform, details = {}) {
    if (this.isBusy(username)) return false;
    this.removed = null;
    this.setOutcome(username, { kind: 'busy', key: progressKeyOf[action], params: { username } });
    let result;
    try {
      result = await perform();
    } catch (error) {
      const message = adminErrorKey(error, username);
      this.setOutcome(username, { kind: 'error', code: String(error?.code ?? 'network'), ...message });
      this.say(t(message.key, message.params));
      return false;
    }
    const message = adminResultKey(action, { username, role: details.role ? t(`admin.role.${details.role}`) : '', ended: result });
    this.setOutcome(username, { kind: 'ok', ...message });
    this.say(t(message.key, message.params));
    return true;
  }

  async onToggle(user) {
    if (this.isBusy(user.username)) return;
    const action = user.disabled ? 'enable' : 'disable';
    const done = await this.runAction(user.username, action, () => (user.disabled ? this.api.enable(user.username) : this.api.disable(user.username)));
    if (done) await this.load(this.offset);
  }

  async onRole(user) {
    const role = this.roleChoices[user.username] ?? user.role;
    if (role === user.role || this.isBusy(user.username)) return;
    const done = await this.runAction(user.username, 'role', () => this.api.setRole(user.username, role), { role });
    if (done) {
      const { [user.username]: _chosen, ...others } = this.roleChoices;
      this.roleChoices = others;
      await this.load(this.offset);
    }
  }

  async onEndLogins(user) {
    if (this.isBusy(user.username)) return;
    const done = await this.runAction(user.username, 'end-logins', () => this.api.endLogins(user.username));
    if (done) await this.load(this.offset);
  }

  async onAskDelete(user, event) {
    if (this.isBusy(user.username)) return;
    this.confirming = user.username;
    this.confirmOrigin = event.currentTarget;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('#confirm-delete');
    dialog.showModal();
    // The safe choice first: Enter on an unread dialog does not delete.
    dialog.querySelector('[data-testid="admin-delete-cancel"]')?.focus();
  }

  onConfirmClose() {
    // Cancelled (button or Escape): focus back on the Delete button that asked.
    if (this.confirming !== null) this.confirmOrigin?.focus();
    this.confirming = null;
    this.confirmOrigin = null;
  }

  async onConfirmDelete() {
    const username = this.confirming;
    this.confirming = null;
    this.renderRoot.querySelector('#confirm-delete')?.close();
    const before = this.users.map((user) => user.username);
    const done = await this.runAction(username, 'delete', () => this.api.deleteUser(username));
    if (!done) {
      this.focusRow(username, '[data-action="delete"]');
      return;
    }
    await this.load(offsetAfterDelete({ offset: this.offset, limit: ADMIN_PAGE_SIZE, total: this.total }));
    // The row is gone, and its outcome with it: the sentence stays above the list.
    this.removed = this.outcomes.get(username) ?? null;
    this.setOutcome(username, null);
    const next = usernameToFocusAfterRemoval(before, username, this.users.map((user) => user.username));
    if (!next || !(await this.focusRow(next))) this.renderRoot.querySelector('#admin-users-title')?.focus();
  }

  /** Focuses a control of `username`'s row (its first one by default); → whether it could. */
  async focusRow(username, selector = 'select, button') {
    await this.updateComplete;
    const row = [...this.renderRoot.querySelectorAll('li.user')].find((item) => item.dataset.username === username);
    const control = row?.querySelector(selector);
    if (!control) return false;
    control.focus();
    return true;
  }

  formatCreated(createdAt) {
    return new Intl.DateTimeFormat(getLanguage(), { dateStyle: 'medium' }).format(new Date(createdAt));
  }

  renderOutcome(user, index) {
    const outcome = this.outcomes.get(user.username);
    if (!outcome) return nothing;
    return html`<p class="outcome" id=${`admin-outcome-${index}`} data-testid="admin-row-result" data-kind=${outcome.kind}
      data-code=${outcome.code ?? nothing}>${t(outcome.key, outcome.params)}</p>`;
  }

  renderRow(user, index) {
    const own = user.username === this.self;
    const busy = this.isBusy(user.username);
    const outcomeId = this.outcomes.has(user.username) ? `admin-outcome-${index}` : nothing;
    const nameId = `admin-user-${index}`;
    const chosen = this.roleChoices[user.username] ?? user.role;
    const ariaBusy = busy ? 'true' : nothing;
    return html`
      <li class="user" data-testid="admin-user" data-username=${user.username} data-role=${user.role} data-disabled=${String(user.disabled)}
        data-logins=${String(user.logins)}>
        <div class="who">
          <h3 class="name" id=${nameId}>${user.username}${own ? html` <span class="you">${t('admin.you')}</span>` : nothing}</h3>
          <p class="facts">
            <span data-testid="admin-user-role">${t(`admin.role.${user.role}`)}</span>
            <span data-testid="admin-user-state" class=${user.disabled ? 'state-disabled' : ''}>${t(user.disabled ? 'admin.state.disabled' : 'admin.state.enabled')}</span>
            <span data-testid="admin-user-logins">${t('admin.logins', { count: user.logins })}</span>
            ${user.createdAt ? html`<span>${t('admin.created', { date: this.formatCreated(user.createdAt) })}</span>` : nothing}
          </p>
        </div>
        <div class="controls" role="group" aria-labelledby=${nameId}>
          ${own ? html`<p class="own-note">${t('admin.own_account')}</p>` : html`
            <span class="role">
              <label for=${`admin-role-${index}`}>${t('admin.role')}</label>
              <select id=${`admin-role-${index}`} data-testid="admin-role-select" aria-describedby=${outcomeId}
                @change=${(event) => { this.roleChoices = { ...this.roleChoices, [user.username]: event.target.value }; }}>
                ${adminRoles.map((role) => html`<option value=${role} ?selected=${role === chosen}>${t(`admin.role.${role}`)}</option>`)}
              </select>
              <button class="button secondary" type="button" data-action="role" data-testid="admin-role-apply"
                aria-disabled=${busy || chosen === user.role ? 'true' : 'false'} aria-describedby=${outcomeId}
                @click=${() => this.onRole(user)}>${t('admin.role.apply')}</button>
            </span>
            <button class="button secondary" type="button" data-action="toggle" data-testid=${user.disabled ? 'admin-enable' : 'admin-disable'}
              aria-disabled=${ariaBusy} aria-describedby=${outcomeId} @click=${() => this.onToggle(user)}>${t(user.disabled ? 'admin.enable' : 'admin.disable')}</button>`}
          <button class="button secondary" type="button" data-action="end-logins" data-testid="admin-end-logins"
            aria-disabled=${ariaBusy} aria-describedby=${outcomeId} @click=${() => this.onEndLogins(user)}>${t('admin.end_logins')}</button>
          ${own ? nothing : html`<button class="button danger" type="button" data-action="delete" data-testid="admin-delete"
            aria-disabled=${ariaBusy} aria-describedby=${outcomeId} @click=${(event) => this.onAskDelete(user, event)}>${t('admin.delete')}</button>`}
        </div>
        ${this.renderOutcome(user, index)}
      </li>`;
  }

  renderList() {
    if (this.listError) {
      return html`
        <p class="message error" role="alert" data-testid="admin-list-error">${t(this.listError.key, this.listError.params)}</p>
        <div><button class="button secondary" type="button" data-testid="admin-retry" @click=${() => this.load(this.offset)}>${t('admin.retry')}</button></div>`;
    }
    const page = pageOf({ offset: this.offset, limit: ADMIN_PAGE_SIZE, shown: this.users.length, total: this.total });
    return html`
      <p class="count" data-testid="admin-count">${this.loading && !this.users.length ? t('admin.loading') : t('admin.page', { from: page.from, to: page.to, total: page.total })}</p>
      <ul class="users" aria-labelledby="admin-users-title" aria-busy=${this.loading ? 'true' : 'false'}>
        ${repeat(this.users, (user) => user.username, (user, index) => this.renderRow(user, index))}
      </ul>
      ${page.previousOffset === null && page.nextOffset === null ? nothing : html`
        <nav class="pages" aria-label=${t('admin.pages')}>
          <button class="button secondary" type="button" data-testid="admin-previous" aria-disabled=${page.previousOffset === null ? 'true' : 'false'}
            @click=${(event) => this.goToPage(page.previousOffset, event)}>${t('admin.previous')}</button>
          <button class="button secondary" type="button" data-testid="admin-next" aria-disabled=${page.nextOffset === null ? 'true' : 'false'}
            @click=${(event) => this.goToPage(page.nextOffset, event)}>${t('admin.next')}</button>
        </nav>`}`;
  }

  render() {
    const removed = this.removed;
    return html`
      <dialog class="panel" aria-labelledby="admin-title" data-testid="admin-panel" @close=${this.onPanelClose}>
        <div class="panel-body">
          <header>
            <h2 id="admin-title" tabindex="-1">${t('admin.title')}</h2>
            <button class="button secondary" type="button" data-testid="admin-close" @click=${() => this.close()}>${icons.close}${t('account.close')}</button>
          </header>
          <div class="list-head">
            <h3 id="admin-users-title" tabindex="-1">${t('admin.users')}</h3>
            <button class="button secondary" type="button" data-testid="admin-refresh" @click=${() => this.load(this.offset)}>${t('admin.refresh')}</button>
          </div>
          ${removed ? html`<p class="outcome" data-testid="admin-removed-result" data-kind=${removed.kind}>${t(removed.key, removed.params)}</p>` : nothing}
          ${this.renderList()}
        </div>
      </dialog>

      <dialog class="confirm" id="confirm-delete" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text"
        data-testid="admin-delete-dialog" @close=${this.onConfirmClose}>
        <h2 id="confirm-delete-title">${t('admin.delete.title', { username: this.confirming ?? '' })}</h2>
        <p id="confirm-delete-text">${t('admin.delete.warning', { username: this.confirming ?? '' })}</p>
        <div class="dialog-actions">
          <button class="button secondary" type="button" data-testid="admin-delete-cancel"
            @click=${(event) => event.target.closest('dialog').close()}>${t('account.cancel')}</button>
          <button class="button danger" type="button" data-testid="admin-delete-confirm"
            @click=${() => this.onConfirmDelete()}>${t('admin.delete.submit', { username: this.confirming ?? '' })}</button>
        </div>
      </dialog>`;
  }
}

customElements.define('secms-admin-panel', AdminPanel);
