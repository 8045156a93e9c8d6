// The call-security indicator: whether this call's media is end-to-end encrypted, by which
// path it travels, and the channel's SAS to compare aloud. "End-to-end encrypted" appears only
// when the call store says 'encrypted' AND the facts behind it hold (SFrame transform active both
// ways, DTLS fingerprints equal to those signalled inside the secure channel): anything else is
// shown as not secure, never as secure. The compact form sits in the status bar.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';

/** 'encrypted' | 'checking' | 'not-encrypted', from the call's security object. */
export function callSecurityState(security) {
  if (!security) return 'not-encrypted';
  if (security.state === 'encrypted') {
    const proven = security.e2ee === true && security.transform?.sendActive === true
      && security.transform?.receiveActive === true && security.fingerprintsMatch === true;
    return proven ? 'encrypted' : 'not-encrypted';
  }
  return security.state === 'checking' ? 'checking' : 'not-encrypted';
}

/** The reason shown beside "Not end-to-end encrypted" (a catalogue key or a plain code). */
function reasonText(security, state) {
  if (state !== 'not-encrypted') return null;
  const reason = security?.reason ?? (security?.state === 'encrypted' ? 'unproven' : null);
  if (!reason) return null;
  const key = `call.security.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

export class CallSecurity extends LitElement {
  static properties = {
    security: { attribute: false },   // call.security from the call store
    compact: { type: Boolean, reflect: true },
  };

  static styles = [controlStyles, css`
    :host { display: block; min-width: 0; }
    .box {
      display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2) var(--space-3);
      padding: var(--space-2) var(--space-3); border-radius: var(--radius-m);
      border: 1px solid var(--color-border); background: var(--color-surface-2); color: var(--color-text);
    }
    .box[data-state="encrypted"] { background: var(--color-success-soft); border-color: transparent; }
    .box[data-state="checking"] { background: var(--color-warning-soft); border-color: transparent; }
    .box[data-state="not-encrypted"] { background: var(--color-danger-soft); border-color: var(--color-danger); }
    /* The words stay in the text colour: green or amber text on its soft background is under
       4.5:1 in the light theme (WCAG 1.4.3); the icon carries the colour. */
    .label { display: inline-flex; align-items: center; gap: var(--space-2); font-weight: 700; }
    .box[data-state="encrypted"] .label svg { color: var(--color-success); }
    .box[data-state="checking"] .label svg { color: var(--color-warning); }
    .box[data-state="not-encrypted"] .label svg { color: var(--color-danger); }
    .label svg { width: 18px; height: 18px; flex: none; }
    .reason, .path { font-size: 0.88rem; }
    .sas { display: flex; flex-wrap: wrap; align-items: baseline; gap: var(--space-2); flex-basis: 100%; }
    .sas .emoji { font-size: 1.3rem; letter-spacing: 0.15em; }
    .sas .decimal { font-family: var(--font-mono); font-weight: 700; }
    .sas .hint { color: var(--color-text-muted); font-size: 0.82rem; flex-basis: 100%; }
    :host([compact]) .box { padding: 0 var(--space-3); min-height: 30px; border-radius: 999px; font-size: 0.85rem; flex-wrap: nowrap; white-space: nowrap; }
    :host([compact]) .label svg { width: 16px; height: 16px; }
    :host([compact]) .reason, :host([compact]) .path { overflow: hidden; text-overflow: ellipsis; }
  `];

  constructor() {
    super();
    new LanguageController(this);
    this.compact = false;
  }

  render() {
    const security = this.security;
    const state = callSecurityState(security);
    const label = t(`call.security.${state}`);
    const reason = reasonText(security, state);
    const path = security?.path === 'relay' ? t('call.path.relay') : security?.path === 'direct' ? t('call.path.direct') : null;
    const sas = security?.sas;
    const icon = state === 'encrypted' ? icons.shield : state === 'checking' ? icons.clock : icons.lockOpen;
    const summary = [label, reason, path, sas ? `${t('channel.sas')}: ${sas.emojiText} ${sas.decimalText}` : null].filter(Boolean).join(' · ');
    if (this.compact) {
      return html`
        <span class="box" data-testid="status-call-security" data-state=${state} data-path=${security?.path ?? nothing}
          role="img" aria-label=${`${t('call.security.title')}: ${summary}`} title=${summary}>
          <span class="label">${icon}${label}</span>
        </span>`;
    }
    return html`
      <section class="box" data-testid="call-security" data-state=${state} data-path=${security?.path ?? nothing}
        aria-label=${t('call.security.title')}>
        <span class="label" data-testid="call-security-label">${icon}${label}</span>
        ${reason ? html`<span class="reason" data-testid="call-security-reason" data-reason=${security?.reason ?? nothing}>— ${reason}</span>` : nothing}
        ${path ? html`<span class="path" data-testid="call-path">${path}</span>` : nothing}
        ${sas ? html`
          <div class="sas" data-testid="call-sas">
            <span class="visually-hidden">${t('channel.sas')}:</span>
            <span class="emoji" data-testid="call-sas-emoji">${sas.emojiText}</span>
            <span class="decimal" data-testid="call-sas-decimal">${sas.decimalText}</span>
            <span class="hint">${t('call.security.sas_hint')}</span>
          </div>` : nothing}
      </section>`;
  }
}

customElements.define('secms-call-security', CallSecurity);
