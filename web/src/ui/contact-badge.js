// Verified contacts where a contact appears (online list, conversation header, status bar):
// elements ask for the page's contacts store (pins and verifications, web/src/state/trust-store.js)
// with a composed event, as the SIP elements do, so the components between them need not carry it.
// The safety code's words come from here too: each emoji with its name as visible text, so the
// code reads the same with a screen reader and without an emoji font.

import { html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { icons } from './icons.js';
import { ContactStatus, contactStatus } from '../state/trust-store.js';

/** Sets `host.contacts` to the page's contacts store, when the page answers. */
export function requestContactsContext(host) {
  const detail = { store: null };
  host.dispatchEvent(new CustomEvent('secms-contacts-context', { detail, bubbles: true, composed: true }));
  if (detail.store) host.contacts = detail.store;
}

/** True when `username` with `fingerprint` is a contact this user verified (safety code compared). */
export function isVerifiedContact(snapshot, username, fingerprint) {
  return contactStatus(snapshot, username, fingerprint) === ContactStatus.verified;
}

export const verifiedBadgeStyles = css`
  .verified-badge {
    display: inline-flex; align-items: center; gap: 2px; padding: 1px var(--space-2); border-radius: 999px;
    font-size: 0.75rem; font-weight: 700; white-space: nowrap;
    background: var(--color-success-soft); color: var(--color-success); border: 1px solid var(--color-success);
  }
  .verified-badge svg { width: 13px; height: 13px; flex: none; }
`;

/** The badge: a word, not only an icon (the shield alone already means "certified"). */
export function verifiedBadge({ username = null, testid = 'verified-badge' } = {}) {
  return html`<span class="verified-badge" data-testid=${testid}
    title=${username ? t('verify.badge_title', { username }) : nothing}>${icons.shield}<span>${t('verify.badge')}</span></span>`;
}

/** The localised name of one emoji of the safety code ({index, name} from sas.js). */
export function sasWord(item) {
  const key = `sas.word.${item.index}`;
  const word = t(key);
  return word === key ? item.name : word;
}

/** The words of the whole code, for text that screen readers and people without emoji fonts read. */
export const sasWords = (sas) => sas.emoji.map(sasWord).join(', ');
