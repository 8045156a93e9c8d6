// The compose pane of one draft (mailActions.compose → draftId): From, To/Cc/Bcc as address
// chips with completion (a WAI-ARIA APG combobox with a listbox popup), a key badge per
// recipient (lock: key known; warning: missing or changed), Subject, plain text or rich text
// (contenteditable; a reopened rich draft's HTML is sanitised before it shows, see draftHtmlNodes,
// and only the user's own signed drafts reopen rich; what the editor holds is cleaned the same
// way before it reaches the draft, see editorHtml; the From identity's signature is its own
// block, swapped with the identity), attachments (file
// input and drop zone, progress), encrypt / sign / read-receipt toggles, Send, Save, Discard,
// the auto-save indicator, and the "send unencrypted?" confirmation.

import { LitElement, html, css, nothing } from 'lit';
import { t, getLanguage } from '../../i18n/index.js';
import { LanguageController, StoreController } from '../controllers.js';
import { controlStyles } from '../shared-styles.js';
import { mailStyles } from './mail-styles.js';
import { mailIcons } from './mail-icons.js';
import { formatBytes } from './mail-view.js';
import { unencryptedReasons } from './mail-security.js';
import { errorText } from './mail-folders.js';
import DOMPurify from 'dompurify';
import { signatureFor, signatureBlock } from '../../app/mail-compose.js';

const addressPattern = /^[^\s@<>()",;]+@[^\s@<>()",;]+$/;

/** Addresses typed or pasted into a recipient field ("a@x, B <b@y>; c@z") → [address]. */
export function parseAddressInput(text) {
  return String(text ?? '').split(/[,;\n]+/).map((part) => {
    const angle = /<([^>]+)>/.exec(part);
    return (angle ? angle[1] : part).trim();
  }).filter((address) => addressPattern.test(address));
}

// --- a reopened rich draft, and the editor's HTML going out --------------------------------------
// A draft's HTML comes back from the Drafts folder, where anyone able to write to the mailbox
// can put a message encrypted to the user's public key. The composer gives the editor only the
// HTML of a draft signed by the user's own key (app/mail-compose.js isOwnDraft); it is still
// cleaned here as any mail would be (defence in depth, should that check ever be wrong). The page
// never hands a string to an HTML sink (Trusted Types: only Lit's and the Worker URL's policies
// exist): the Sanitizer API's Document.parseHTML parses it into an inert document (a safe parse,
// scripts and handlers already dropped, no Trusted Types sink), DOMPurify then cleans that tree
// in place down to the editor's own markup, and the result is imported node by node.

/** What the rich editor makes (execCommand bold/italic/list/link, line breaks, its signature block). */
const editorElements = Object.freeze(['b', 'strong', 'i', 'em', 'u', 'ul', 'ol', 'li', 'a', 'br', 'div', 'p', 'span']);
/** The class of the signature block in the rich editor (the one class a draft keeps). */
const signatureClass = 'signature';
// DOMPurify would create a Trusted Types policy of its own ("dompurify"), which the page's CSP
// does not name; it gets this one, which blesses nothing (it never parses a string here).
const noTrustedStrings = Object.freeze({ createHTML: () => '', createScriptURL: () => '' });
let draftPurifier = null;

function purifier() {
  if (draftPurifier) return draftPurifier;
  draftPurifier = DOMPurify(window);
  draftPurifier.addHook('uponSanitizeAttribute', (node, data) => {
    if (data.attrName === 'class' && data.attrValue !== signatureClass) data.keepAttr = false;
  });
  return draftPurifier;
}

/**
 * Cleans `root` (in an inert document) in place down to the editor's own markup: its elements,
 * href (http, https, mailto only) and the signature class; no other attribute, no style.
 */
function cleanInPlace(root) {
  purifier().sanitize(root, {
    IN_PLACE: true, ALLOWED_TAGS: [...editorElements], ALLOWED_ATTR: ['href', 'class'], ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i, TRUSTED_TYPES_POLICY: noTrustedStrings,
  });
}

/**
 * A draft's HTML → the nodes of the rich editor (imported into `target`), or null when this
 * browser cannot parse HTML safely (no Document.parseHTML): the draft then opens as its text.
 */
export function draftHtmlNodes(htmlText, target = document) {
  if (typeof Document.parseHTML !== 'function') return null;
  // The safe parse keeps only the attributes named here (its default drops class, and with it
  // the signature block a From switch looks for); DOMPurify below decides what survives.
  const parsed = Document.parseHTML(String(htmlText ?? ''), { sanitizer: { attributes: ['class', 'href'] } });
  const root = parsed.createElement('div');
  root.append(...parsed.body.childNodes);
  cleanInPlace(root);
  return [...root.childNodes].map((node) => target.importNode(node, true));
}

/**
 * The editor's content as the HTML that goes into the draft and the sent text/html part, cleaned
 * with the same allowlist as a reopened draft: what a paste brought in (remote images that would
 * tell the sender when the mail is read, forms, styles, handlers, scripts) never reaches the
 * recipients. The nodes are copied into an inert document (no browsing context: nothing loads or
 * runs there) and DOMPurify cleans that copy in place; the live editor is left as it is.
 */
export function editorHtml(editor) {
  const inert = document.implementation.createHTMLDocument('');
  const root = inert.createElement('div');
  root.append(...[...editor.childNodes].map((node) => inert.importNode(node, true)));
  cleanInPlace(root);
  return root.innerHTML;
}

/** How long typing in the rich editor waits before its content goes to the draft (auto-save sees it). */
const RICH_SYNC_DELAY_MS = 500;

/** Lines of text → text nodes separated by <br> (built, never parsed). */
function textNodes(text) {
  const nodes = [];
  String(text ?? '').split(/\r?\n/).forEach((line, index) => {
    if (index) nodes.push(document.createElement('br'));
    if (line) nodes.push(document.createTextNode(line));
  });
  return nodes;
}

/** The rich editor's signature block: "-- " and the signature's lines. */
function signatureElement(signature) {
  const block = document.createElement('div');
  block.className = signatureClass;
  block.replaceChildren(...textNodes(`-- \n${signature}`));
  return block;
}

/** The text of an editor subtree as the signature comparison needs it (<br> → newline). */
function editorText(node) {
  if (node.nodeType === Node.TEXT_NODE) return node.data;
  if (node.nodeName === 'BR') return '\n';
  return [...node.childNodes].map(editorText).join('');
}

export class MailCompose extends LitElement {
  static properties = {
    mail: { attribute: false },
    mailActions: { attribute: false },
    draftId: {},
    suggestions: { state: true },     // { field, items: [{name, address, hasKey}], active }
    confirmMissing: { state: true },  // [{address, reason, text}] that cannot be encrypted to, while the dialog asks
    sendError: { state: true },
    dragging: { state: true },
  };

  static styles = [controlStyles, mailStyles, css`
    :host { display: flex; flex-direction: column; min-height: 0; overflow: auto; }
    form { padding: var(--space-3) var(--space-4); display: flex; flex-direction: column; gap: var(--space-2); }
    h2 { margin: 0; font-size: 1.05rem; }
    .recipients { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-1); border: 1px solid var(--color-border); border-radius: var(--radius-m); padding: 2px var(--space-2); background: var(--color-surface-2); position: relative; }
    .recipients input { flex: 1; min-width: 8rem; border: 0; background: transparent; min-height: 32px; }
    .recipients input:focus-visible { outline: none; }
    .recipients:focus-within { outline: 2px solid var(--color-focus); }
    .chip { display: inline-flex; align-items: center; gap: 2px; padding: 0 var(--space-1) 0 var(--space-2); border-radius: 999px; background: var(--color-surface-hover); font-size: 0.85rem; }
    .chip svg { width: 14px; height: 14px; }
    .chip[data-key="missing"] { background: var(--color-warning-soft); }
    .chip[data-key="changed"] { background: var(--color-danger-soft); color: var(--color-danger); }
    .chip button { border: 0; background: transparent; cursor: pointer; padding: 0 4px; min-height: 24px; }
    [role="listbox"] { position: absolute; top: 100%; left: 0; right: 0; z-index: 3; margin: 2px 0 0; padding: var(--space-1) 0; list-style: none; background: var(--color-surface); border: 1px solid var(--color-border); border-radius: var(--radius-m); max-height: 14rem; overflow: auto; }
    [role="option"] { padding: var(--space-1) var(--space-3); cursor: pointer; }
    [role="option"][aria-selected="true"] { background: var(--color-accent-soft); }
    .row { display: grid; grid-template-columns: 4rem 1fr; align-items: center; gap: var(--space-2); }
    .row label { font-weight: 600; font-size: 0.9rem; }
    .row input[type="text"], .row select { min-height: 36px; border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); padding: 0 var(--space-2); }
    textarea.body, .rich { min-height: 14rem; padding: var(--space-2); border: 1px solid var(--color-border); border-radius: var(--radius-m); background: var(--color-surface-2); font: inherit; color: inherit; resize: vertical; overflow: auto; }
    .drop { border: 2px dashed var(--color-border); border-radius: var(--radius-m); padding: var(--space-2); text-align: center; }
    .drop.over { border-color: var(--color-accent); background: var(--color-accent-soft); }
    ul.files { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: var(--space-1); }
    ul.files li { display: flex; align-items: center; gap: var(--space-2); }
    progress { width: 8rem; }
    .options { display: flex; flex-wrap: wrap; gap: var(--space-3); }
    .options label { display: inline-flex; gap: var(--space-1); align-items: center; }
    .actions { display: flex; flex-wrap: wrap; gap: var(--space-2); align-items: center; }
    .saved { margin-left: auto; }
    @media (max-width: 600px) { .row { grid-template-columns: 1fr; } }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.snapshot = new StoreController(this, 'mail');
    this.suggestions = null;
    this.confirmMissing = null;
    this.sendError = null;
    this.dragging = false;
    this.completionRequest = 0;
  }

  get draft() {
    return this.snapshot.value?.drafts?.get(this.draftId) ?? null;
  }

  /** Focus goes to To (or the body of a reply, whose recipients are filled). */
  async focusFirst() {
    await this.updateComplete;
    const draft = this.draft;
    const target = draft?.to?.length ? this.renderRoot.querySelector('.body, .rich') : this.renderRoot.querySelector('#compose-to');
    target?.focus();
  }

  patchDraft(patch) {
    this.mailActions?.updateDraft(this.draftId, patch);
  }

  addRecipients(field, text) {
    const draft = this.draft;
    const added = parseAddressInput(text);
    if (!draft || added.length === 0) return false;
    const current = draft[field] ?? [];
    const known = new Set(current.map((entry) => String(entry.address ?? entry).toLowerCase()));
    const next = [...current, ...added.filter((address) => !known.has(address.toLowerCase())).map((address) => ({ name: '', address }))];
    this.patchDraft({ [field]: next });
    return true;
  }

  removeRecipient(field, index) {
    const current = [...(this.draft?.[field] ?? [])];
    current.splice(index, 1);
    this.patchDraft({ [field]: current });
  }

  async onRecipientInput(event, field) {
    const value = event.target.value;
    if (/[,;]$/.test(value)) {
      if (this.addRecipients(field, value)) event.target.value = '';
      this.suggestions = null;
      return;
    }
    const prefix = value.trim();
    const request = ++this.completionRequest;
    if (prefix.length < 1 || !this.mailActions?.completeAddress) { this.suggestions = null; return; }
    const items = await Promise.resolve(this.mailActions.completeAddress(prefix)).catch(() => []);
    if (request !== this.completionRequest) return;   // a newer keystroke already asked
    this.suggestions = items?.length ? { field, items: items.slice(0, 8), active: 0 } : null;
  }

  pick(field, item, input) {
    this.addRecipients(field, item.address);
    input.value = '';
    this.suggestions = null;
    input.focus();
  }

  onRecipientKeydown(event, field) {
    const input = event.target;
    const open = this.suggestions?.field === field ? this.suggestions : null;
    if (open && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.suggestions = { ...open, active: (open.active + step + open.items.length) % open.items.length };
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      if (open && event.key === 'Enter') {
        event.preventDefault();
        this.pick(field, open.items[open.active], input);
      } else if (input.value.trim() && this.addRecipients(field, input.value)) {
        if (event.key === 'Enter') event.preventDefault();
        input.value = '';
        this.suggestions = null;
      }
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      this.suggestions = null;
    } else if (event.key === 'Backspace' && input.value === '' && (this.draft?.[field]?.length ?? 0) > 0) {
      this.removeRecipient(field, this.draft[field].length - 1);
    }
  }

  keyState(address) {
    const wanted = String(address).toLowerCase();
    const status = this.draft?.keyStatus?.find((entry) => String(entry.address).toLowerCase() === wanted);
    return status?.state ?? 'unknown';
  }

  renderRecipients(field, label) {
    const draft = this.draft;
    const open = this.suggestions?.field === field ? this.suggestions : null;
    const listId = `compose-${field}-list`;
    return html`<div class="row">
      <label for=${`compose-${field}`}>${label}</label>
      <div class="recipients" data-testid=${`compose-${field}`}>
        ${(draft?.[field] ?? []).map((entry, index) => {
          const address = entry.address ?? entry;
          const key = this.keyState(address);
          return html`<span class="chip" data-key=${key} data-testid="compose-chip" data-address=${address}>
            ${key === 'known' ? mailIcons.lock : key === 'missing' || key === 'changed' ? mailIcons.alert : nothing}
            <span>${entry.name ? `${entry.name} <${address}>` : address}</span>
            <span class="visually-hidden">${t(`mail.compose.key_${key}`)}</span>
            <button type="button" aria-label=${t('mail.compose.remove_recipient', { address })} @click=${() => this.removeRecipient(field, index)}>×</button></span>`;
        })}
        <input id=${`compose-${field}`} type="text" role="combobox" aria-autocomplete="list" aria-expanded=${String(Boolean(open))}
          aria-controls=${listId} aria-activedescendant=${open ? `${listId}-${open.active}` : nothing}
          autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" data-testid=${`compose-${field}-input`}
          @input=${(event) => this.onRecipientInput(event, field)} @keydown=${(event) => this.onRecipientKeydown(event, field)}
          @blur=${(event) => { if (event.target.value.trim() && this.addRecipients(field, event.target.value)) event.target.value = ''; setTimeout(() => { if (this.suggestions?.field === field) this.suggestions = null; }, 150); }}>
        <ul role="listbox" id=${listId} aria-label=${t('mail.compose.suggestions')} ?hidden=${!open}>
          ${open ? open.items.map((item, index) => html`<li role="option" id=${`${listId}-${index}`} aria-selected=${String(index === open.active)}
            @mousedown=${(event) => { event.preventDefault(); this.pick(field, item, this.renderRoot.querySelector(`#compose-${field}`)); }}>
            ${item.name ? `${item.name} <${item.address}>` : item.address}${item.hasKey ? html` ${mailIcons.lock}<span class="visually-hidden">${t('mail.compose.key_known')}</span>` : nothing}</li>`) : nothing}
        </ul>
      </div>
    </div>`;
  }

  async addFiles(files) {
    if (!files?.length) return;
    try {
      const { refused = [] } = (await this.mailActions.addAttachments(this.draftId, files)) ?? {};
      // A file not added is said, with why (the size the server accepts, once encrypted).
      this.sendError = refused.length
        ? refused.map(({ filename, code, capacity }) => t(`mail.compose.attachment_${code === 'too_large' ? 'too_large' : 'unreadable'}`, { filename, size: formatBytes(capacity ?? 0, getLanguage()) })).join(' ')
        : null;
    } catch (error) {
      this.sendError = errorText(error);
    }
  }

  async send({ confirmUnencrypted = false } = {}) {
    this.sendError = null;
    this.syncRich();
    try {
      const result = await this.mailActions.send(this.draftId, { confirmUnencrypted });
      if (result?.state === 'needs_confirmation') {
        this.confirmMissing = unencryptedReasons(result);
        await this.updateComplete;
        const dialog = this.renderRoot.querySelector('dialog.confirm');
        dialog?.showModal();
        dialog?.querySelector('.cancel')?.focus();
        return;
      }
      if (result?.state === 'sent') {
        this.dispatchEvent(new CustomEvent('mail-compose-closed', { detail: { sent: true }, bubbles: true, composed: true }));
      } else if (result?.error) {
        this.sendError = errorText(result.error);
      }
    } catch (error) {
      this.sendError = errorText(error);
    }
  }

  confirmSend(ok) {
    this.renderRoot.querySelector('dialog.confirm')?.close();
    this.confirmMissing = null;
    if (ok) this.send({ confirmUnencrypted: true });
    else this.renderRoot.querySelector('[data-testid="compose-send"]')?.focus();
  }

  async save() {
    this.syncRich();
    try {
      await this.mailActions.saveDraft(this.draftId);
    } catch (error) {
      this.sendError = errorText(error);
    }
  }

  async discard() {
    await Promise.resolve(this.mailActions.discardDraft(this.draftId)).catch(() => {});
    this.dispatchEvent(new CustomEvent('mail-compose-closed', { detail: { sent: false }, bubbles: true, composed: true }));
  }

  /** The signature text of an identity (prefs.signatures, the older prefs.signature for the mailbox). */
  signatureOf(address) {
    const state = this.snapshot.value;
    return signatureFor(state?.prefs, address, state?.status?.address);
  }

  /**
   * Another From identity. A plain body's signature is swapped by the composer (updateDraft); the
   * rich editor's is swapped here in its DOM: the signature block, when it still holds the old
   * identity's signature unchanged, gets the new one's (none yet: the new one is added).
   */
  changeIdentity(address) {
    const draft = this.draft;
    const editor = this.renderRoot.querySelector('.rich');
    if (!draft || draft.format !== 'rich' || !editor) {
      this.patchDraft({ from: address });
      return;
    }
    const before = this.signatureOf(draft.from?.address ?? draft.from);
    const after = this.signatureOf(address);
    const blocks = editor.querySelectorAll(`div.${signatureClass}`);
    const block = blocks[blocks.length - 1] ?? null;
    if (block && before && editorText(block) === `-- \n${before}`) {
      if (after) block.replaceWith(signatureElement(after));
      else block.remove();
    } else if (!block && !before && after) {
      editor.append(signatureElement(after));
    }
    this.cancelRichSync();
    this.patchDraft({ from: address, html: editorHtml(editor), text: editor.innerText });
  }

  /**
   * The rich editor's content goes to draft `draftId` (default: the shown one), its HTML cleaned
   * (editorHtml): on blur, RICH_SYNC_DELAY_MS after typing stops (so the auto-save, which reads
   * the draft, has edits made while the focus stays in the editor), and before Save and Send.
   */
  syncRich(draftId = this.draftId) {
    this.cancelRichSync();
    const editor = this.renderRoot.querySelector('.rich');
    const draft = this.snapshot.value?.drafts?.get(draftId) ?? null;
    if (!editor || draft?.format !== 'rich' || this.richEditorDraft !== draftId) return;
    const html = editorHtml(editor);
    const text = editor.innerText;
    // A blur or a keystroke that changed nothing (arrows, a selection) is not an edit: no new save.
    if (html === draft.html && text === draft.text) return;
    try {
      this.mailActions?.updateDraft(draftId, { html, text });
    } catch {
      // The draft was sent or discarded meanwhile: nothing left to sync into.
    }
  }

  scheduleRichSync() {
    this.cancelRichSync();
    const draftId = this.draftId;
    this.richSyncTimer = setTimeout(() => { this.richSyncTimer = null; this.syncRich(draftId); }, RICH_SYNC_DELAY_MS);
  }

  cancelRichSync() {
    if (this.richSyncTimer) clearTimeout(this.richSyncTimer);
    this.richSyncTimer = null;
  }

  willUpdate(changed) {
    super.willUpdate?.(changed);
    // Another draft in this form: edits still waiting go to the draft they were made in.
    if (changed.has('draftId') && this.richSyncTimer && changed.get('draftId') !== undefined) this.syncRich(changed.get('draftId'));
  }

  disconnectedCallback() {
    // The form goes away (another folder, another view) with edits still waiting: keep them.
    if (this.richSyncTimer) this.syncRich();
    super.disconnectedCallback();
  }

  /**
   * The rich editor's content belongs to the DOM, not to Lit: the template has no child part in
   * it (a Lit text binding there lost track of its nodes once execCommand and typing moved them,
   * and every re-render after a blur inserted the whole text again beside the edits). A new
   * editor element (rich format chosen, another draft) is filled once: from the draft's HTML
   * when it has one (a rich draft reopened: sanitised, see draftHtmlNodes), else from its text
   * with text nodes and <br>, the signature of the From identity as its own block (built, never
   * parsed: no HTML sink, Trusted Types stay strict); afterwards it is only read (syncRich).
   */
  fillRichEditor() {
    const editor = this.renderRoot.querySelector('.rich');
    if (!editor || (this.richEditor === editor && this.richEditorDraft === this.draftId)) return;
    this.richEditor = editor;
    this.richEditorDraft = this.draftId;
    const draft = this.draft;
    const fromHtml = draft?.html ? draftHtmlNodes(draft.html) : null;
    if (fromHtml) {
      editor.replaceChildren(...fromHtml);
      return;
    }
    const text = String(draft?.text ?? '');
    const signature = this.signatureOf(draft?.from?.address ?? draft?.from);
    const block = signatureBlock(signature);
    const at = block ? text.lastIndexOf(block) : -1;
    if (at < 0) {
      editor.replaceChildren(...textNodes(text));
      return;
    }
    const after = text.slice(at + block.length);
    editor.replaceChildren(...textNodes(text.slice(0, at)), document.createElement('br'), signatureElement(signature), ...textNodes(after));
  }

  updated(changed) {
    super.updated?.(changed);
    this.fillRichEditor();
  }

  richCommand(command) {
    const editor = this.renderRoot.querySelector('.rich');
    editor?.focus();
    if (command === 'link') {
      const url = window.prompt(t('mail.compose.link_prompt'), 'https://');
      if (!url || !/^(https?:|mailto:)/i.test(url)) return;
      document.execCommand('createLink', false, url);
    } else {
      document.execCommand(command, false);
    }
    this.syncRich();
  }

  renderBody(draft) {
    if (draft.format === 'rich') {
      return html`<div class="toolbar" role="toolbar" aria-label=${t('mail.compose.formatting')}>
          <button type="button" class="tool" @click=${() => this.richCommand('bold')}><b>${t('mail.compose.bold')}</b></button>
          <button type="button" class="tool" @click=${() => this.richCommand('italic')}><i>${t('mail.compose.italic')}</i></button>
          <button type="button" class="tool" @click=${() => this.richCommand('insertUnorderedList')}>${t('mail.compose.list')}</button>
          <button type="button" class="tool" @click=${() => this.richCommand('link')}>${t('mail.compose.link')}</button>
        </div>
        <div class="rich" contenteditable="true" role="textbox" aria-multiline="true" aria-label=${t('mail.compose.body')} spellcheck="true"
          data-testid="compose-body" @input=${this.scheduleRichSync} @blur=${() => this.syncRich()}></div>`;
    }
    return html`<label class="visually-hidden" for="compose-body">${t('mail.compose.body')}</label>
      <textarea id="compose-body" class="body" .value=${draft.text ?? ''} data-testid="compose-body"
        @input=${(event) => this.patchDraft({ text: event.target.value })}></textarea>`;
  }

  render() {
    const draft = this.draft;
    const state = this.snapshot.value;
    if (!draft) return nothing;
    const savedAt = draft.lastSavedAt ? new Intl.DateTimeFormat(getLanguage(), { timeStyle: 'short' }).format(new Date(draft.lastSavedAt)) : null;
    const identities = [state?.status?.external?.email, state?.status?.address].filter(Boolean);
    const titleKey = { reply: 'mail.compose.title_reply', reply_all: 'mail.compose.title_reply', forward_inline: 'mail.compose.title_forward', forward_attachment: 'mail.compose.title_forward' }[draft.mode] ?? 'mail.compose.title_new';
    return html`<form aria-labelledby="compose-title" autocomplete="off" @submit=${(event) => { event.preventDefault(); this.send(); }}
        @dragover=${(event) => { if (event.dataTransfer.types.includes('Files')) { event.preventDefault(); this.dragging = true; } }}
        @dragleave=${() => { this.dragging = false; }}
        @drop=${(event) => { if (!event.dataTransfer.files.length) return; event.preventDefault(); this.dragging = false; this.addFiles(event.dataTransfer.files); }}
        data-testid="mail-compose" data-draft=${draft.id}>
      <h2 id="compose-title">${t(titleKey)}</h2>
      <div class="row"><label for="compose-from">${t('mail.header.from')}</label>
        <select id="compose-from" data-testid="compose-from" @change=${(event) => this.changeIdentity(event.target.value)}>
          ${identities.map((address) => html`<option value=${address} ?selected=${(draft.from?.address ?? draft.from) === address}>${address}</option>`)}
        </select></div>
      ${this.renderRecipients('to', t('mail.header.to'))}
      ${this.renderRecipients('cc', t('mail.header.cc'))}
      ${this.renderRecipients('bcc', t('mail.header.bcc'))}
      <div class="row"><label for="compose-subject">${t('mail.header.subject')}</label>
        <input id="compose-subject" type="text" maxlength="998" .value=${draft.subject ?? ''} data-testid="compose-subject"
          autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="true" @input=${(event) => this.patchDraft({ subject: event.target.value })}></div>
      ${draft.notice === 'formatting_dropped' ? html`<p class="message info" role="status" data-testid="compose-notice">${t('mail.compose.formatting_dropped')}</p>` : nothing}
      ${this.renderBody(draft)}
      <div class=${`drop ${this.dragging ? 'over' : ''}`}>
        <label class="tool" for="compose-files">${mailIcons.attachment}${t('mail.compose.attach')}</label>
        <input id="compose-files" type="file" multiple class="visually-hidden" data-testid="compose-files" @change=${(event) => { this.addFiles(event.target.files); event.target.value = ''; }}>
        <span class="muted small">${t('mail.compose.drop_hint', { size: formatBytes(state?.status?.maxMessageBytes ?? 0, getLanguage()) })}</span>
        ${draft.attachments?.length ? html`<ul class="files" data-testid="compose-attachments">${draft.attachments.map((attachment) => html`<li>
          <span>${attachment.filename}</span><span class="muted small">${formatBytes(attachment.size, getLanguage())}</span>
          ${attachment.progress !== undefined && attachment.progress !== null && attachment.progress < 1 ? html`<progress max="1" .value=${attachment.progress} aria-label=${t('mail.compose.reading', { name: attachment.filename })}></progress>` : nothing}
          <button type="button" class="tool" aria-label=${t('mail.compose.remove_attachment', { name: attachment.filename })} @click=${() => this.mailActions.removeAttachment(this.draftId, attachment.id)}>${mailIcons.trash}</button></li>`)}</ul>` : nothing}
      </div>
      <div class="options">
        <label><select aria-label=${t('mail.compose.encryption')} data-testid="compose-encrypt" @change=${(event) => this.patchDraft({ encrypt: event.target.value })}>
          ${['auto', 'on', 'off'].map((mode) => html`<option value=${mode} ?selected=${(draft.encrypt ?? 'auto') === mode}>${t(`mail.compose.encrypt_${mode}`)}</option>`)}
        </select></label>
        <label><input type="checkbox" .checked=${draft.sign !== false} data-testid="compose-sign" @change=${(event) => this.patchDraft({ sign: event.target.checked })}>${t('mail.compose.sign')}</label>
        <label><input type="checkbox" .checked=${Boolean(draft.readReceipt)} data-testid="compose-receipt" @change=${(event) => this.patchDraft({ readReceipt: event.target.checked })}>${t('mail.compose.read_receipt')}</label>
        <label><input type="checkbox" .checked=${draft.format === 'rich'} data-testid="compose-rich" @change=${(event) => { this.syncRich(); this.patchDraft(event.target.checked ? { format: 'rich' } : { format: 'plain', html: null }); }}>${t('mail.compose.rich')}</label>
      </div>
      ${draft.error || this.sendError ? html`<p class="message error" role="alert" data-testid="compose-error">${this.sendError ?? errorText(draft.error)}</p>` : nothing}
      ${draft.sending && draft.sendProgress ? html`<progress max="1" .value=${draft.sendProgress} aria-label=${t('mail.compose.sending')}></progress>` : nothing}
      <div class="actions">
        <button type="submit" class="button" ?disabled=${Boolean(draft.sending)} data-testid="compose-send">${mailIcons.sent}${draft.sending ? t('mail.compose.sending') : t('mail.compose.send')}</button>
        <button type="button" class="button secondary" ?disabled=${Boolean(draft.saving)} data-testid="compose-save" @click=${this.save}>${t('mail.compose.save')}</button>
        <button type="button" class="button secondary" data-testid="compose-discard" @click=${this.discard}>${t('mail.compose.discard')}</button>
        <span class="saved muted small" role="status" data-testid="compose-saved">${draft.saving ? t('mail.compose.saving') : savedAt ? t('mail.compose.saved_at', { time: savedAt }) : ''}</span>
      </div>
      <dialog class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-body" data-testid="compose-confirm" @cancel=${() => this.confirmSend(false)}>
        <h2 id="confirm-title">${t('mail.compose.confirm_title')}</h2>
        <p id="confirm-body">${t('mail.compose.confirm_body')}</p>
        <ul>${(this.confirmMissing ?? []).map(({ address, reason, text }) => html`<li data-testid="compose-confirm-missing" data-address=${address} data-reason=${reason}><span>${address}</span>: <span>${text}</span></li>`)}</ul>
        <div class="dialog-actions">
          <button type="button" class="button secondary cancel" data-testid="compose-confirm-cancel" @click=${() => this.confirmSend(false)}>${t('mail.cancel')}</button>
          <button type="button" class="button danger" data-testid="compose-confirm-send" @click=${() => this.confirmSend(true)}>${t('mail.compose.confirm_send')}</button>
        </div>
      </dialog>
    </form>`;
  }
}

customElements.define('secms-mail-compose', MailCompose);
