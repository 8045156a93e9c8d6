// The reader's security banner as data (pure: t() and no DOM, tested in node): encryption,
// decryption errors, and how far the signature can be trusted (web/src/mail/signer-trust.js).
// "Verified" is said only of a key the server verified or the user pinned (or the own key) that
// belongs to the From address; a key learnt from mail (Autocrypt, gossip) or imported is named
// as such, and a key of another address is a warning.

import { t } from '../../i18n/index.js';
import { signatureTrust } from '../../mail/signer-trust.js';

/** → { tone: 'ok'|'info'|'warning'|'danger', lines: [text] }. */
export function securitySummary(security, keys = [], fromAddress = null) {
  const lines = [];
  let tone = 'info';
  if (!security) return { tone, lines: [t('mail.security.none')] };
  if (security.decryption_error) {
    tone = 'danger';
    lines.push(t(`mail.security.decrypt_${security.decryption_error}`) === `mail.security.decrypt_${security.decryption_error}`
      ? t('mail.security.decrypt_failed') : t(`mail.security.decrypt_${security.decryption_error}`));
  } else if (security.encrypted) {
    tone = 'ok';
    lines.push(t('mail.security.encrypted'));
  } else {
    lines.push(t('mail.security.not_encrypted'));
  }
  const signer = security.signer;
  const who = signer ? (signer.username || signer.email || signer.fingerprint || '') : '';
  const fingerprint = signer?.fingerprint ?? '';
  const lessThanVerified = () => { if (tone === 'ok') tone = 'info'; };
  switch (signatureTrust(security, fromAddress)) {
    case 'verified':
      lines.push(t('mail.security.verified', { name: who, fingerprint }));
      break;
    case 'imported':
      lessThanVerified();
      lines.push(t('mail.security.signed_imported', { name: who, fingerprint }));
      break;
    case 'learnt':
      lessThanVerified();
      lines.push(t('mail.security.signed_learnt', { fingerprint }));
      break;
    case 'pending':
      if (tone !== 'danger') tone = 'warning';
      lines.push(t('mail.security.signed_pending', { name: who, fingerprint }));
      break;
    case 'other_address':
      if (tone !== 'danger') tone = 'warning';
      lines.push(t('mail.security.signed_other_address', { email: signer?.emails?.[0] ?? signer?.email ?? fingerprint, from: fromAddress ?? '' }));
      break;
    case 'unknown_key':
      lessThanVerified();
      lines.push(t('mail.security.unknown_key'));
      break;
    case 'bad':
      tone = 'danger';
      lines.push(t('mail.security.bad_signature'));
      break;
    default:
      lines.push(t('mail.security.not_signed'));
  }
  const changed = signer?.email && keys.find((key) => key.address === String(signer.email).toLowerCase() && key.state === 'changed');
  if (changed) {
    tone = 'danger';
    lines.push(t('mail.security.key_changed', { address: signer.email }));
  }
  return { tone, lines };
}

/**
 * The "send unencrypted?" dialog's list: why each recipient cannot be encrypted to, from a
 * send() answer { missing, reasons? } → [{ address, reason: 'no_key'|'key_changed', text }].
 */
export function unencryptedReasons(result) {
  const given = new Map((result?.reasons ?? []).map((entry) => [entry.address, entry.reason]));
  return (result?.missing ?? []).map((address) => {
    const reason = given.get(address) === 'key_changed' ? 'key_changed' : 'no_key';
    return Object.freeze({ address, reason, text: t(`mail.compose.reason_${reason}`) });
  });
}
