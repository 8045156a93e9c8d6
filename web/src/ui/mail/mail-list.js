// The message list: a virtual grid (only the visible rows plus an overscan are in the DOM; the
// rows come from the store's sparse window, and missing ones are asked of mailActions.loadRange).
// Columns: flags, sender, subject, date, size; sortable headers with aria-sort. Selection by
// click, Shift+click (range), Ctrl/Cmd+click (toggle), arrows, Space, Ctrl+A; Enter opens.
// Rows can be dragged onto a folder (mail-folders.js).
//
// Conversation view (threads): the grid becomes a treegrid; each thread's root comes first
// (aria-level 1) with its replies under it, indented by depth (aria-level depth + 1). A root of
// more than one message carries a toggle button (aria-expanded; its name, "Collapse conversation
// (3 messages)", is its own hidden text, not an aria-label the visible "▾ 3" would not match) that hides or shows the
// replies; Right arrow expands the focused thread (or, already expanded, goes to its first
// reply), Left arrow collapses it (or, on a reply, goes to its root). Conversations start
// expanded, as Roundcube's thread view does: nothing is hidden until the user asks. A
// collapsed root shows its message count and says, in words, when a reply is unread. Selection
// follows what is visible: collapsing drops the hidden replies from the selection, so Delete,
// Move and drag of a collapsed thread act on its root only (mail-controller setThreadCollapsed).
// The virtual list scrolls over display rows of one height (listLayout in mail-store.js), so
// hidden replies take no room and the positions stay exact.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons } from './mail-icons.js';
import { summaryView, localSearchRows, listLayout, layoutRowAt, threadIdOf, threadReplies, hasUnreadReplies } from '../../state/mail-store.js';
import {
  rowHeights, virtualWindow, missingRuns, scrollToRow, senderLabel, formatListDate, formatBytes, hasFlag, mailDragType,
} from './mail-view.js';

const headerHeight = 36;
// Below this width (px) of the list, rows take two lines (see the styles).
const stackedBelow = 480;
const sortColumns = Object.freeze([['from', 'mail.list.sender'], ['subject', 'mail.list.subject'], ['date', 'mail.list.date'], ['size', 'mail.list.size']]);

export class MailList extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    scrollTop: { state: true },
    viewportHeight: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; flex: 1; }
    .scroller { flex: 1; overflow: auto; position: relative; min-height: 0; outline-offset: -2px; }
    [role="grid"] { min-width: 100%; }
    .row {
      display: grid; grid-template-columns: 4.5rem minmax(6rem, 12rem) minmax(8rem, 1fr) 6rem 4.5rem;
      align-items: center; gap: var(--space-2); padding: 0 var(--space-2); box-sizing: border-box;
      border-bottom: 1px solid var(--color-border); cursor: default; user-select: none;
    }
    .header { position: sticky; top: 0; z-index: 1; height: ${headerHeight}px; background: var(--color-surface); font-size: 0.82rem; }
    .header button { border: 0; background: transparent; font-weight: 600; cursor: pointer; padding: 0; text-align: left; }
    .rows { position: relative; box-sizing: border-box; }
    .row.item { height: var(--mail-row-height, 56px); }
    :host([density="compact"]) .row.item { height: 32px; font-size: 0.88rem; }
    :host([density="comfortable"]) .row.item { height: 56px; }
    .row.item[aria-selected="true"] { background: var(--color-accent-soft); }
    .row.item.focused { box-shadow: inset 3px 0 0 var(--color-accent); }
    .row.item.unread .sender, .row.item.unread .subject { font-weight: 700; }
    .row.item.placeholder .subject { color: var(--color-text-muted); }
    .cell { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
    .flags { display: flex; gap: 2px; align-items: center; color: var(--color-text-muted); }
    .flags svg { width: 14px; height: 14px; }
    .flags .flagged { color: var(--color-warning); }
    .flags .unread-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--color-accent); }
    .date, .size { text-align: right; color: var(--color-text-muted); font-size: 0.85rem; }
    .subject.encrypted { font-style: italic; }
    .thread-toggle {
      display: inline-flex; align-items: center; gap: 2px; border: 1px solid var(--color-border); border-radius: 4px;
      background: transparent; color: inherit; font: inherit; font-size: 0.8rem; padding: 0 4px; margin-right: var(--space-1); cursor: pointer;
    }
    .thread-unread { font-size: 0.78rem; font-weight: 600; margin-left: var(--space-1); }
    .depth-1 { padding-left: 1rem; } .depth-2 { padding-left: 2rem; } .depth-3 { padding-left: 3rem; } .depth-4 { padding-left: 4rem; }
    .empty, .state { padding: var(--space-4); color: var(--color-text-muted); }
    .local-results { border-bottom: 2px solid var(--color-border); max-height: 40%; overflow: auto; flex: none; }
    .local-results h3 { margin: 0; padding: var(--space-1) var(--space-2); font-size: 0.82rem; font-weight: 600; color: var(--color-text-muted); }
    .local-results ul { list-style: none; margin: 0; padding: 0; }
    .local-result {
      display: grid; grid-template-columns: 4.5rem minmax(6rem, 12rem) minmax(8rem, 1fr) 6rem; gap: var(--space-2); align-items: center;
      width: 100%; min-height: 40px; padding: 0 var(--space-2); border: 0; border-top: 1px solid var(--color-border);
      background: transparent; text-align: left; cursor: pointer; font: inherit; color: inherit;
    }
    .local-result:hover { background: var(--color-surface-hover); }
    .local-result[aria-current="true"] { background: var(--color-accent-soft); }
    .local-result .badge-local { font-size: 0.75rem; color: var(--color-text-muted); display: flex; gap: 2px; align-items: center; }
    .local-result .badge-local svg { width: 14px; height: 14px; }
    :host([layout="stacked"]) .local-result { grid-template-columns: 2rem minmax(0, 1fr) 5.5rem; padding-block: var(--space-1); }
    :host([layout="stacked"]) .local-result .badge-local { grid-row: 1 / 3; }
    :host([layout="stacked"]) .local-result .subject { grid-column: 2 / 4; grid-row: 2; }
    /* A list narrower than stackedBelow (a phone, or a wide window's middle column): two lines
       per message, sender and date above the subject; no Size column. */
    :host([layout="stacked"]) .row { grid-template-columns: 2.25rem minmax(0, 1fr) auto; column-gap: var(--space-2); }
    :host([layout="stacked"]) .row.item .flags { flex-wrap: wrap; align-content: center; }
    :host([layout="stacked"]) .row .size, :host([layout="stacked"]) .header .subject-header, :host([layout="stacked"]) .header .size-header { display: none; }
    :host([layout="stacked"]) .row.item .subject { grid-column: 2 / 4; grid-row: 2; }
    :host([layout="stacked"]) .row.item { height: 56px; grid-template-rows: 1fr 1fr; }
    :host([layout="stacked"]) .row.item .flags { grid-row: 1 / 3; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.scrollTop = 0;
    this.viewportHeight = 600;
    this.requested = new Set();   // "version:offset:count" already asked
  }

  firstUpdated() {
    const scroller = this.renderRoot.querySelector('.scroller');
    // Capped by the window: should a layout leave the scroller unbounded, the list still renders
    // only a window's worth of rows.
    this.resizeObserver = new ResizeObserver(() => {
      this.viewportHeight = Math.min(scroller.clientHeight, window.innerHeight);
      const layout = scroller.clientWidth > 0 && scroller.clientWidth < stackedBelow ? 'stacked' : 'columns';
      if (this.getAttribute('layout') !== layout) { this.setAttribute('layout', layout); this.requestUpdate(); }
    });
    this.resizeObserver.observe(scroller);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
  }

  get rowHeight() {
    const density = this.snapshot.value?.prefs?.density;
    return this.getAttribute('layout') === 'stacked' ? rowHeights.comfortable : (rowHeights[density] ?? rowHeights.comfortable);
  }

  /** The ordered uids of the loaded visible rows (for ranges and j/k). */
  loadedUids() {
    const list = this.snapshot.value?.list;
    return list ? [...listLayout(list).order] : [];
  }

  /** The display row of a uid (a visible reply included), or -1. */
  offsetOf(uid) {
    const list = this.snapshot.value?.list;
    return list ? (listLayout(list).indexOf.get(uid) ?? -1) : -1;
  }

  /** The loaded thread row (root) whose conversation holds uid, or null. */
  threadRowOf(uid) {
    for (const summary of this.snapshot.value?.list?.rows.values() ?? []) {
      if (summary.uid === uid || summary.thread_messages?.some((message) => message.uid === uid)) return summary;
    }
    return null;
  }

  toggleThread(root, collapsed) {
    this.mailActions?.setThreadCollapsed(threadIdOf(root), collapsed);
  }

  /** Right/Left arrows in conversation view (the treegrid keys); true when handled. */
  threadKey(key, focused) {
    const list = this.snapshot.value?.list;
    if (!list?.threads || focused === null) return false;
    const root = this.threadRowOf(focused);
    if (!root) return false;
    const replies = threadReplies(root);
    const collapsed = list.collapsed.has(threadIdOf(root));
    if (key === 'ArrowRight') {
      if (focused !== root.uid || replies.length === 0) return true;
      if (collapsed) this.toggleThread(root, false);
      else { this.mailActions.select(replies[0].uid); this.revealUid(replies[0].uid); }
      return true;
    }
    if (focused !== root.uid) { this.mailActions.select(root.uid); this.revealUid(root.uid); }
    else if (replies.length > 0 && !collapsed) this.toggleThread(root, true);
    return true;
  }

  /** Moves the focus (and the selection) by `step` rows; extend with Shift. */
  moveFocus(step, { extend = false } = {}) {
    const state = this.snapshot.value;
    if (!state) return;
    const uids = this.loadedUids();
    if (uids.length === 0) return;
    const current = uids.indexOf(state.selection.focused);
    const next = uids[Math.max(0, Math.min(uids.length - 1, current < 0 ? 0 : current + step))];
    this.mailActions?.select(next, { extend });
    this.revealUid(next);
  }

  revealUid(uid) {
    const offset = this.offsetOf(uid);
    const scroller = this.renderRoot.querySelector('.scroller');
    if (offset < 0 || !scroller) return;
    scroller.scrollTop = scrollToRow({ index: offset, scrollTop: scroller.scrollTop, viewportHeight: scroller.clientHeight, rowHeight: this.rowHeight, headerHeight });
  }

  focusGrid() {
    this.renderRoot.querySelector('[data-testid="mail-list"]')?.focus();
  }

  onScroll(event) {
    this.scrollTop = event.target.scrollTop;
  }

  onKeydown(event) {
    const state = this.snapshot.value;
    if (!state || !this.mailActions) return;
    const uids = this.loadedUids();
    const focused = state.selection.focused;
    const page = Math.max(1, Math.floor(this.viewportHeight / this.rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if ((event.key === 'ArrowRight' || event.key === 'ArrowLeft') && !event.shiftKey && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (this.threadKey(event.key, focused)) event.preventDefault();
    } else if (event.key in moves) {
      event.preventDefault();
      const step = moves[event.key];
      if (Number.isFinite(step)) this.moveFocus(step, { extend: event.shiftKey });
      else {
        const target = step < 0 ? uids[0] : uids[uids.length - 1];
        if (target !== undefined) { this.mailActions.select(target, { extend: event.shiftKey }); this.revealUid(target); }
      }
    } else if (event.key === ' ' && focused !== null) {
      event.preventDefault();
      this.mailActions.select(focused, { toggle: true });
    } else if (event.key === 'Enter' && focused !== null) {
      event.preventDefault();
      this.dispatchEvent(new CustomEvent('mail-open', { detail: { uid: focused }, bubbles: true, composed: true }));
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      this.mailActions.selectAll();
    }
  }

  onRowClick(event, uid) {
    this.mailActions?.select(uid, { extend: event.shiftKey, toggle: event.ctrlKey || event.metaKey });
    if (!event.shiftKey && !event.ctrlKey && !event.metaKey) {
      this.dispatchEvent(new CustomEvent('mail-open', { detail: { uid }, bubbles: true, composed: true }));
    }
  }

  onDragStart(event, uid) {
    const state = this.snapshot.value;
    const uids = state.selection.uids.has(uid) ? [...state.selection.uids] : [uid];
    event.dataTransfer.setData(mailDragType, JSON.stringify({ folder: state.list.folder, uids }));
    event.dataTransfer.setData('text/plain', t('mail.list.dragging', { count: uids.length }));
    event.dataTransfer.effectAllowed = 'copyMove';
  }

  sort(key) {
    const list = this.snapshot.value?.list;
    if (!list || !this.mailActions) return;
    const order = list.sort === key ? (list.order === 'desc' ? 'asc' : 'desc') : (key === 'date' || key === 'size' ? 'desc' : 'asc');
    this.mailActions.setSort(key, order);
  }

  updated() {
    const state = this.snapshot.value;
    if (!state || !this.mailActions) return;
    this.setAttribute('density', state.prefs?.density ?? 'comfortable');
    const { list } = state;
    const layout = listLayout(list);
    const { first, end, padTop, fullHeight } = virtualWindow({ scrollTop: Math.max(0, this.scrollTop - headerHeight), viewportHeight: this.viewportHeight, rowHeight: this.rowHeight, total: layout.total });
    // Sizes through the CSSOM (the CSP allows no style attribute).
    const rows = this.renderRoot.querySelector('.rows');
    if (rows) {
      rows.style.height = `${fullHeight}px`;
      rows.style.paddingTop = `${padTop}px`;
    }
    if (list.loading) return;
    // The store offsets the window shows (display rows of a thread's replies share its offset).
    const firstOffset = layoutRowAt(layout, first).offset;
    const endOffset = end > first ? layoutRowAt(layout, end - 1).offset + 1 : firstOffset;
    for (const [offset, count] of missingRuns(list.rows, firstOffset, endOffset)) {
      const key = `${list.version}:${offset}:${count}`;
      if (this.requested.has(key)) continue;
      this.requested.add(key);
      if (this.requested.size > 500) this.requested.clear();
      Promise.resolve(this.mailActions.loadRange(offset, count)).catch(() => {});
    }
  }

  renderFlags(summary, view) {
    const unread = !hasFlag(summary, '\\Seen');
    return html`<span class="cell flags" role="gridcell">
      ${unread ? html`<span class="unread-dot" title=${t('mail.flag.unread')}></span><span class="visually-hidden">${t('mail.flag.unread')}</span>` : nothing}
      ${hasFlag(summary, '\\Flagged') ? html`<span class="flagged" title=${t('mail.flag.flagged')}>${mailIcons.star}</span><span class="visually-hidden">${t('mail.flag.flagged')}</span>` : nothing}
      ${hasFlag(summary, '\\Answered') ? html`<span title=${t('mail.flag.answered')}>${mailIcons.answered}</span><span class="visually-hidden">${t('mail.flag.answered')}</span>` : nothing}
      ${summary.has_attachment ? html`<span title=${t('mail.flag.attachment')}>${mailIcons.attachment}</span><span class="visually-hidden">${t('mail.flag.attachment')}</span>` : nothing}
      ${view.encrypted ? html`<span title=${t('mail.flag.encrypted')}>${mailIcons.lock}</span><span class="visually-hidden">${t('mail.flag.encrypted')}</span>` : nothing}
    </span>`;
  }

  /** Display row `index`: a placeholder, a thread's root (or a plain message), or one of its replies. */
  renderRow(state, index, layout) {
    const { list } = state;
    const { offset, reply } = layoutRowAt(layout, index);
    const row = list.rows.get(offset);
    const threaded = list.threads;
    if (!row) {
      return html`<div class="row item" role="row" aria-rowindex=${index + 2} aria-level=${threaded ? 1 : nothing} aria-busy="true" data-testid="mail-row-loading">
        <span class="cell" role="gridcell"></span><span class="cell muted" role="gridcell">${t('mail.list.loading_row')}</span>
        <span class="cell" role="gridcell"></span><span class="cell" role="gridcell"></span><span class="cell" role="gridcell"></span></div>`;
    }
    const summary = reply < 0 ? row : threadReplies(row)[reply];
    const view = summaryView(state, list.folder, summary);
    const selected = state.selection.uids.has(summary.uid);
    const focused = state.selection.focused === summary.uid;
    const depth = Math.max(0, Math.min(4, summary.thread?.depth ?? (reply < 0 ? 0 : 1)));
    const unread = !hasFlag(summary, '\\Seen');
    const subject = view.subjectKnown ? (view.subject || t('mail.no_subject')) : t('mail.encrypted_subject');
    const classes = ['row', 'item', unread ? 'unread' : '', focused ? 'focused' : '', view.subjectKnown ? '' : 'placeholder'].join(' ');
    // The toggle: on a root of more than one message in conversation view.
    const count = threaded && reply < 0 ? (row.thread_messages?.length ?? 1) : 1;
    const expanded = count > 1 ? !list.collapsed.has(threadIdOf(row)) : null;
    const toggle = expanded === null ? nothing : html`<button type="button" class="thread-toggle" tabindex="-1" data-testid="mail-thread-toggle"
        aria-expanded=${String(expanded)} @click=${(event) => { event.stopPropagation(); this.toggleThread(row, expanded); }}>
        <span aria-hidden="true">${expanded ? '▾' : '▸'} ${count}</span><span class="visually-hidden">${t(expanded ? 'mail.list.thread_collapse' : 'mail.list.thread_expand', { count })}</span></button>`;
    const unreadReplies = expanded === false && hasUnreadReplies(row)
      ? html`<span class="thread-unread" data-testid="mail-thread-unread">${t('mail.list.thread_unread_replies')}</span>` : nothing;
    return html`<div class=${classes} role="row" id=${`mail-row-${summary.uid}`} aria-rowindex=${index + 2} aria-selected=${String(selected)}
        aria-level=${threaded ? depth + 1 : nothing} aria-expanded=${expanded === null ? nothing : String(expanded)}
        data-testid="mail-row" data-uid=${summary.uid} data-unread=${String(unread)} data-depth=${threaded ? depth : nothing}
        data-thread=${threaded ? threadIdOf(row) : nothing} draggable="true"
        @click=${(event) => this.onRowClick(event, summary.uid)} @dragstart=${(event) => this.onDragStart(event, summary.uid)}>
      ${this.renderFlags(summary, view)}
      <span class="cell sender" role="gridcell">${senderLabel(view.from) || t('mail.unknown_sender')}</span>
      <span class=${`cell subject depth-${depth} ${view.subjectKnown ? '' : 'encrypted'}`} role="gridcell" data-testid="mail-row-subject">${toggle}<span data-testid="mail-row-subject-text">${subject}</span>${unreadReplies}</span>
      <span class="cell date" role="gridcell">${formatListDate(summary.date, { language: getLanguage() })}</span>
      <span class="cell size" role="gridcell">${formatBytes(summary.size, getLanguage())}</span>
    </div>`;
  }

  /**
   * Encrypted mail found by the local search over the decrypted headers of opened messages (the
   * server searched only their "[...]" subject): listed above the server's rows, each named as such.
   */
  renderLocalResults(state, rows) {
    if (rows.length === 0) return nothing;
    return html`<section class="local-results" aria-labelledby="local-results-title" data-testid="mail-local-results">
      <h3 id="local-results-title">${t('mail.list.local_results')}</h3>
      <ul>${rows.map((result) => {
        const subject = result.subject || t('mail.no_subject');
        const sender = senderLabel(result.from) || t('mail.unknown_sender');
        return html`<li><button type="button" class="local-result" data-testid="mail-local-result" data-uid=${result.uid}
            aria-current=${String(state.reading.uid === result.uid && state.reading.folder === result.folder)}
            aria-label=${t('mail.list.local_result_label', { subject, sender })}
            @click=${() => this.dispatchEvent(new CustomEvent('mail-open', { detail: { uid: result.uid }, bubbles: true, composed: true }))}>
          <span class="cell badge-local" title=${t('mail.list.local_results')}>${mailIcons.lock}</span>
          <span class="cell sender">${sender}</span>
          <span class="cell subject" data-testid="mail-local-result-subject">${subject}</span>
          <span class="cell date">${result.date ? formatListDate(result.date, { language: getLanguage() }) : ''}</span>
        </button></li>`;
      })}</ul>
    </section>`;
  }

  render() {
    const state = this.snapshot.value;
    if (!state) return html`<p class="state">${t('mail.loading')}</p>`;
    const { list, selection } = state;
    const localRows = localSearchRows(state);
    const layout = listLayout(list);
    const { first, end } = virtualWindow({ scrollTop: Math.max(0, this.scrollTop - headerHeight), viewportHeight: this.viewportHeight, rowHeight: this.rowHeight, total: layout.total });
    const indexes = [];
    for (let index = first; index < end; index += 1) indexes.push(index);
    const ariaSort = (key) => (list.sort === key ? (list.order === 'asc' ? 'ascending' : 'descending') : 'none');
    const focusedIndex = selection.focused === null ? -1 : this.offsetOf(selection.focused);
    const focusedId = focusedIndex >= first && focusedIndex < end ? `mail-row-${selection.focused}` : nothing;
    return html`
      ${this.renderLocalResults(state, localRows)}
      <div class="scroller" @scroll=${this.onScroll}>
        <div role=${list.threads ? 'treegrid' : 'grid'} tabindex="0" aria-label=${t('mail.list.label')} aria-rowcount=${layout.total + 1} aria-multiselectable="true"
          aria-activedescendant=${focusedId} aria-busy=${String(list.loading)} data-testid="mail-list" data-total=${list.total}
          @keydown=${this.onKeydown}>
          <div class="row header" role="row" aria-rowindex="1">
            <span class="cell" role="columnheader"><span class="visually-hidden">${t('mail.list.flags')}</span></span>
            ${sortColumns.map(([key, label]) => html`<span class=${`cell ${key}-header`} role="columnheader" aria-sort=${ariaSort(key)}>
              <button type="button" data-testid=${`mail-sort-${key}`} @click=${() => this.sort(key)}>${t(label)}${list.sort === key ? (list.order === 'asc' ? ' ▲' : ' ▼') : ''}</button></span>`)}
          </div>
          <div class="rows" role="rowgroup">${indexes.map((index) => this.renderRow(state, index, layout))}</div>
        </div>
        ${list.total === 0 && !list.loading && localRows.length === 0 ? html`<p class="empty" data-testid="mail-list-empty">${list.error ? '' : t('mail.list.empty')}</p>` : nothing}
        ${list.error ? html`<p class="message error" role="alert" data-testid="mail-list-error">${t('mail.error.list', { message: list.error.message ?? list.error.code ?? '' })}</p>` : nothing}
      </div>`;
  }
}

customElements.define('secms-mail-list', MailList);
