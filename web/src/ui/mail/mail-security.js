// The reader's security banner as data (pure: t() and no DOM, tested in node): encryption,
// decryption errors, and how far the signature can be trusted (web/src/mail/signer-trust.js).
// "Verified" is said only of the key the key directory holds for the From address, from a source
// the server verified or the user pinned (or the own key for an own address); a key learnt from
// mail (Autocrypt, gossip) or imported is named as such, and a key of another address is a
// warning. Green only for encrypted AND verified with the signature made inside the encryption
// (sign-then-encrypt): a signed part under an encryption layer nobody signed may have been
// encrypted by anyone ("encrypted by an unknown party"). Encrypted but unsigned says the sender
// is not proven. Without protected headers the banner says the header fields are not protected.

import { t } from '../../i18n/index.js';
import { signatureTrust } from '../../mail/signer-trust.js';

/**
 * → { tone: 'ok'|'info'|'warning'|'danger', lines: [text] }. 'ok' (green) only for a message
 * that is encrypted AND signed by the From address's verified/pinned key (or the own key).
 */
export function securitySummary(security, keys = [], fromAddress = null) {
  const lines = [];
  let tone = 'info';
  if (!security) return { tone, lines: [t('mail.security.none')] };
  const warn = () => { if (tone !== 'danger') tone = 'warning'; };
  const trust = signatureTrust(security);
  if (security.decryption_error) {
    tone = 'danger';
    lines.push(t(`mail.security.decrypt_${security.decryption_error}`) === `mail.security.decrypt_${security.decryption_error}`
      ? t('mail.security.decrypt_failed') : t(`mail.security.decrypt_${security.decryption_error}`));
  } else if (security.encrypted) {
    if (security.signature === 'verified' && security.signed_inside_encryption !== true) {
      lines.push(t('mail.security.encrypted_unknown_party'));
    } else {
      if (trust === 'verified' && security.signed_inside_encryption === true) tone = 'ok';
      lines.push(t('mail.security.encrypted'));
    }
  } else {
    lines.push(t('mail.security.not_encrypted'));
  }
  const signer = security.signer;
  // The name is the directory's address for the key, never the key's self-written user ID.
  const fingerprint = signer?.fingerprint ?? '';
  const who = signer ? (signer.username || signer.address || fingerprint) : '';
  switch (trust) {
    case 'verified':
      lines.push(t('mail.security.verified', { name: who, fingerprint }));
      break;
    case 'imported':
      lines.push(t('mail.security.signed_imported', { name: who, fingerprint }));
      break;
    case 'learnt':
      lines.push(t('mail.security.signed_learnt', { fingerprint }));
      break;
    case 'vcard':
      lines.push(t('mail.security.signed_vcard', { fingerprint }));
      break;
    case 'pending':
      warn();
      lines.push(t('mail.security.signed_pending', { name: signer?.address || fromAddress || fingerprint, fingerprint }));
      break;
    case 'changed':
      warn();
      lines.push(t('mail.security.signed_changed', { name: who, fingerprint }));
      break;
    case 'other_address':
      warn();
      lines.push(t('mail.security.signed_other_address', { email: signer?.address || fingerprint, from: fromAddress ?? '' }));
      break;
    case 'unknown_key':
      lines.push(t('mail.security.unknown_key'));
      break;
    case 'bad':
      tone = 'danger';
      lines.push(t('mail.security.bad_signature'));
      break;
    default:
      if (security.encrypted && !security.decryption_error) {
        warn();
        lines.push(t('mail.security.encrypted_unsigned'));
      } else lines.push(t('mail.security.not_signed'));
  }
  if (security.unproven_from) {
    warn();
    lines.push(t('mail.security.from_unproven', { inner: security.unproven_from, outer: fromAddress ?? '' }));
  }
  if (security.sender_problem === 'ambiguous') {
    tone = 'danger';
    lines.push(t('mail.security.sender_ambiguous'));
  } else if (security.sender_problem === 'display_name_address') {
    warn();
    lines.push(t('mail.security.sender_name_address', { address: fromAddress ?? '' }));
  }
  if (security.inline_partial) {
    warn();
    lines.push(t(security.encrypted ? 'mail.security.inline_partial_encrypted' : 'mail.security.inline_partial_signed'));
  }
  if (security.headers_unprotected) {
    lines.push(t('mail.security.headers_unprotected'));
    const from = String(fromAddress ?? '').toLowerCase();
    const replyTo = (security.unprotected_reply_to ?? []).map((entry) => entry.address).filter((address) => String(address).toLowerCase() !== from);
    if (replyTo.length) {
      warn();
      lines.push(t('mail.security.reply_to_unprotected', { address: replyTo.join(', '), from: fromAddress ?? '' }));
    }
    if (security.unprotected_receipt_to) lines.push(t('mail.security.receipt_unprotected', { address: security.unprotected_receipt_to }));
  }
  if (Array.isArray(security.outer_ignored) && security.outer_ignored.length) {
    lines.push(t('mail.security.outer_ignored', { names: security.outer_ignored.join(', ') }));
  }
  // A changed key of the sender (or of the signer's address) the user has not settled.
  const changedFor = [fromAddress, signer?.address].filter(Boolean).map((address) => String(address).toLowerCase())
    .find((address) => keys.some((key) => key.address === address && key.state === 'changed'));
  if (changedFor) {
    tone = 'danger';
    lines.push(t('mail.security.key_changed', { address: changedFor }));
  }
  return { tone, lines };
}

// Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), other control and invisible
// format characters: in a file name they make "invoice\u202Egpj.exe" read as "invoiceexe.jpg".
const hiddenNameCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** An attachment name as shown in the list: every such character written out as ⟨U+202E⟩. */
export function visibleFileName(name) {
  return String(name ?? '').replace(hiddenNameCharacters, (char) => t('mail.reader.control_character', { code: char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') }));
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
