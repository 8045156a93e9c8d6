// The certificate report panel ("PGP Certificate has been successfully verified"): what the
// server verified about a certificate (docs/certificates.md), with links to check the
// fingerprint by hand on public keyservers. Every value is rendered as text nodes only.
//
// With `check` (an offer: channel.certificateCheck), the panel shows what the crypto Worker read
// from the certificate itself — user IDs, expiry, revocation, subkeys — and labels what only the
// server vouches for (third-party signature checks). When the server's report disagrees with its
// certificate, or the certificate cannot be read, the panel refuses: a blocking error instead of
// the "verified" heading (and the offer shows no Accept). Without `check` (the own certificate),
// it shows the report as the server sent it.

import { LitElement, html, css, nothing } from 'lit';
import { t } from '../i18n/index.js';
import { LanguageController } from './controllers.js';
import { controlStyles } from './shared-styles.js';
import { icons } from './icons.js';
import { describeAlgorithm, formatUnixTime, groupFingerprint } from './format.js';

const hexPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;

export class CertificateReport extends LitElement {
  static properties = {
    report: { attribute: false },
    check: { attribute: false },   // { state: 'pending'|'agrees'|'disagrees'|'unreadable', facts, problems } | undefined
    heading: {},
  };

  static styles = [controlStyles, css`
    :host { display: block; }
    .panel { border: 1px solid var(--color-border); border-radius: var(--radius-l); background: var(--color-surface); overflow: hidden; }
    header { display: flex; align-items: center; gap: var(--space-3); padding: var(--space-3) var(--space-4); background: var(--color-success-soft); color: var(--color-success); font-weight: 700; }
    header svg { flex: none; }
    .body { padding: var(--space-4); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: var(--space-2) var(--space-4); margin: 0 0 var(--space-4); }
    dt { color: var(--color-text-muted); font-size: 0.88rem; }
    dd { margin: 0; overflow-wrap: anywhere; }
    .fingerprint { font-family: var(--font-mono, monospace); font-size: 1rem; letter-spacing: 0.02em; }
    h3 { margin: var(--space-4) 0 var(--space-2); font-size: 0.95rem; }
    table { width: 100%; border-collapse: collapse; font-size: 0.86rem; }
    th, td { text-align: left; padding: var(--space-1) var(--space-2); border-bottom: 1px solid var(--color-border); vertical-align: top; overflow-wrap: anywhere; }
    th { color: var(--color-text-muted); font-weight: 600; }
    /* Headers are single words: never broken inside one ("Usag e"); a table wider than the
       panel scrolls sideways in its own focusable region instead of squeezing the words. */
    th { white-space: nowrap; overflow-wrap: normal; word-break: normal; }
    .table-scroll { overflow-x: auto; max-width: 100%; }
    .table-scroll:focus-visible { outline: 2px solid var(--color-focus, var(--color-accent)); outline-offset: 2px; }
    td { min-width: 4.5em; }
    td.mono { min-width: 9em; }
    .mono { font-family: var(--font-mono, monospace); }
    .status-verified { color: var(--color-success); }
    .status-invalid, .status-expired { color: var(--color-danger); }
    .links { display: flex; flex-wrap: wrap; gap: var(--space-3); margin-top: var(--space-4); }
    .links a { display: inline-flex; align-items: center; gap: var(--space-1); }
    .links svg { width: 16px; height: 16px; }
    .hint { color: var(--color-text-muted); font-size: 0.85rem; margin: var(--space-2) 0 0; }
    header.refused { background: var(--color-danger-soft); color: var(--color-danger); }
    header.pending { background: var(--color-surface-2); color: var(--color-text-muted); }
    .problems { margin: 0 0 var(--space-4); padding-left: var(--space-5); color: var(--color-danger); }
    .server-only { margin-top: var(--space-4); padding-top: var(--space-2); border-top: 1px dashed var(--color-border); }
  `];

  constructor() {
    super();
    new LanguageController(this);
  }

  renderSubkeys(subkeys) {
    if (!Array.isArray(subkeys) || subkeys.length === 0) return nothing;
    return html`
      <h3 id="report-subkeys-heading">${t('report.subkeys')}</h3>
      <div class="table-scroll" tabindex="0" role="region" aria-labelledby="report-subkeys-heading">
      <table data-testid="report-subkeys">
        <thead><tr><th>${t('report.key_id')}</th><th>${t('report.algorithm')}</th><th>${t('report.usage')}</th><th>${t('report.created')}</th><th>${t('report.expires')}</th><th>${t('report.status')}</th></tr></thead>
        <tbody>${subkeys.map((subkey) => html`
          <tr>
            <td class="mono">${String(subkey.key_id ?? '')}</td>
            <td>${describeAlgorithm(subkey)}</td>
            <td>${(subkey.usage ?? []).map((usage) => t(`report.usage.${usage}`)).join(', ')}</td>
            <td>${formatUnixTime(subkey.created) ?? '—'}</td>
            <td>${formatUnixTime(subkey.expires) ?? t('report.never')}</td>
            <td>${subkey.revoked ? t('report.revoked') : subkey.valid ? t('report.valid') : t('report.not_valid')}</td>
          </tr>`)}</tbody>
      </table>
      </div>`;
  }

  renderSignatures(signatures) {
    if (!Array.isArray(signatures) || signatures.length === 0) return nothing;
    return html`
      <h3 id="report-signatures-heading">${t('report.signatures')}</h3>
      <div class="table-scroll" tabindex="0" role="region" aria-labelledby="report-signatures-heading">
      <table data-testid="report-signatures">
        <thead><tr><th>${t('report.issuer')}</th><th>${t('report.signature_type')}</th><th>${t('report.created')}</th><th>${t('report.status')}</th></tr></thead>
        <tbody>${signatures.map((signature) => html`
          <tr>
            <td class="mono">${String(signature.issuer_key_id ?? '')}${signature.self_signature ? html` <span>(${t('report.self')})</span>` : nothing}</td>
            <td>${String(signature.type ?? '')}</td>
            <td>${formatUnixTime(signature.created) ?? '—'}</td>
            <td class=${`status-${String(signature.status ?? '')}`}>${t(`report.signature_status.${signature.status}`)}</td>
          </tr>`)}</tbody>
      </table>
      </div>`;
  }

  /** The panel of an offer: the certificate's own facts; the server's claims labelled as such. */
  /** Where the user can look the fingerprint up for themselves, outside this server. */
  renderKeyserverLinks(fingerprint) {
    return html`
      <div class="links">
        <a class="link" href=${`https://keys.openpgp.org/search?q=${fingerprint}`} target="_blank" rel="noopener noreferrer" data-testid="keyserver-openpgp">${icons.external}keys.openpgp.org</a>
        <a class="link" href=${`https://keyserver.ubuntu.com/pks/lookup?search=0x${fingerprint}&op=index`} target="_blank" rel="noopener noreferrer" data-testid="keyserver-ubuntu">${icons.external}keyserver.ubuntu.com</a>
      </div>
      <p class="hint">${t('report.keyserver_hint')}</p>`;
  }

  renderChecked(report, check) {
    const facts = check.facts;
    const refused = check.state === 'disagrees' || check.state === 'unreadable';
    const headingText = refused ? t('report.refused') : check.state === 'pending' ? t('report.checking') : this.heading ?? t('report.verified');
    const claimed = [report.name, report.email ? `<${report.email}>` : ''].filter(Boolean).join(' ');
    const fingerprint = String(facts?.fingerprint ?? '').toUpperCase();
    const linkable = hexPattern.test(fingerprint);
    return html`
      <section class="panel" aria-label=${headingText} data-testid="certificate-report" data-check=${check.state}>
        <header class=${refused ? 'refused' : check.state === 'pending' ? 'pending' : ''}>${refused ? icons.alert : icons.shield}<span>${headingText}</span></header>
        <div class="body">
          ${refused ? html`
            <div role="alert" data-testid="report-mismatch">
              <p>${t(check.state === 'unreadable' ? 'report.unreadable' : 'report.mismatch')}</p>
              <ul class="problems">${check.problems.map((problem) => html`<li data-problem=${problem}>${t(`report.problem.${problem}`)}</li>`)}</ul>
              ${check.state === 'disagrees' ? html`<p>${t('report.server_claimed')} <span data-testid="report-claimed">${String(claimed)}</span></p>` : nothing}
            </div>` : nothing}
          ${facts ? html`
            <p class="hint">${t('report.from_certificate')}</p>
            <dl>
              <dt>${t('report.name')}</dt><dd data-testid="report-name">${String(facts.primaryUserId?.name ?? '')}</dd>
              <dt>${t('report.email')}</dt><dd data-testid="report-email">${String(facts.primaryUserId?.email ?? '')}</dd>
              ${facts.userIds.length > 1 ? html`<dt>${t('report.user_ids')}</dt><dd data-testid="report-user-ids">${facts.userIds.map((entry) => html`<div>${String(entry.userId)}</div>`)}</dd>` : nothing}
              <dt>${t('report.fingerprint')}</dt><dd class="fingerprint" data-testid="report-fingerprint" data-fingerprint=${fingerprint}>${groupFingerprint(fingerprint)}</dd>
              <dt>${t('report.key_id')}</dt><dd class="mono">${String(facts.keyId ?? '')}</dd>
              <dt>${t('report.algorithm')}</dt><dd>${describeAlgorithm(facts)}</dd>
              <dt>${t('report.usage')}</dt><dd>${(facts.usage ?? []).map((usage) => t(`report.usage.${usage}`)).join(', ')}</dd>
              <dt>${t('report.created')}</dt><dd>${formatUnixTime(facts.created) ?? '—'}</dd>
              <dt>${t('report.expires')}</dt><dd data-testid="report-expires">${facts.expires === null ? '—' : formatUnixTime(facts.expires) ?? t('report.never')}</dd>
              <dt>${t('report.revocation')}</dt><dd data-testid="report-revoked">${facts.revoked ? t('report.revoked') : t('report.not_revoked')}</dd>
            </dl>
            ${this.renderSubkeys((facts.subkeys ?? []).map((subkey) => ({ ...subkey, key_id: subkey.keyId })))}` : nothing}
          ${!refused && check.state === 'agrees' ? html`
            <div class="server-only" data-testid="report-server-only">
              <h3>${t('report.server_only')}</h3>
              <p class="hint">${t('report.server_only.hint')}</p>
              ${this.renderSignatures(report.signatures)}
            </div>` : nothing}
          ${linkable && !refused ? this.renderKeyserverLinks(fingerprint) : nothing}
        </div>
      </section>`;
  }

  render() {
    const report = this.report;
    if (!report) return nothing;
    if (this.check) return this.renderChecked(report, this.check);
    const fingerprint = String(report.fingerprint ?? '').toUpperCase();
    const linkable = hexPattern.test(fingerprint);
    return html`
      <section class="panel" aria-label=${this.heading ?? t('report.verified')} data-testid="certificate-report">
        <header>${icons.shield}<span>${this.heading ?? t('report.verified')}</span></header>
        <div class="body">
          <dl>
            <dt>${t('report.name')}</dt><dd data-testid="report-name">${String(report.name ?? '')}</dd>
            <dt>${t('report.email')}</dt><dd data-testid="report-email">${String(report.email ?? '')}</dd>
            <dt>${t('report.fingerprint')}</dt><dd class="fingerprint" data-testid="report-fingerprint" data-fingerprint=${fingerprint}>${groupFingerprint(fingerprint)}</dd>
            <dt>${t('report.key_id')}</dt><dd class="mono">${String(report.key_id ?? '')}</dd>
            <dt>${t('report.algorithm')}</dt><dd>${describeAlgorithm(report)}</dd>
            <dt>${t('report.usage')}</dt><dd>${(report.usage ?? []).map((usage) => t(`report.usage.${usage}`)).join(', ')}</dd>
            <dt>${t('report.created')}</dt><dd>${formatUnixTime(report.created) ?? '—'}</dd>
            <dt>${t('report.expires')}</dt><dd>${formatUnixTime(report.expires) ?? t('report.never')}</dd>
          </dl>
          ${this.renderSubkeys(report.subkeys)}
          ${this.renderSignatures(report.signatures)}
          ${linkable ? this.renderKeyserverLinks(fingerprint) : nothing}
        </div>
      </section>`;
  }
}

customElements.define('secms-certificate-report', CertificateReport);
