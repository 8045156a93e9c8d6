// The compose and send flow of the Email tab (used by mail-controller.js): drafts in the store,
// reply/forward construction, attachments, auto-save (drafts are encrypted to the own key only
// and signed with it, so a reopened draft can be told from one planted in Drafts: see isOwnDraft),
// and the send decision (Proton/Mailvelope behaviour):
//   - every recipient (To, Cc, Bcc) has a usable key and encryption is on (by default or for
//     this draft) → PGP/MIME encrypted and signed (RFC 3156, protected headers RFC 9788);
//   - some have none and encryption is not off → { state: 'needs_confirmation', missing }; the
//     UI asks, and only send(id, { confirmUnencrypted: true }) sends it unencrypted;
//   - unencrypted mail is signed (multipart/signed) when the draft says so.
// Bcc: never in the sent bytes' headers; every Bcc recipient is still an envelope recipient.
// An encrypted message to Bcc recipients is ONE copy encrypted to every key: the recipients can
// see the key IDs of the Bcc recipients' keys in the ciphertext (PKESK packets), so a Bcc
// recipient with a key is visible as "some key" to the others. Proton sends separate copies;
// one copy is chosen here so the server stores one Sent message and delivers one body, and the
// compose form says so next to Bcc when encryption is on.

import { forwardBody, forwardSubject, replyBody, replyRecipients, replyReferences, replySubject, uniqueAddresses } from '../mail/quote.js';

const addressPattern = /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9.-]{1,253}$/;
export const MAX_RECIPIENTS = 100;
export const composeModes = Object.freeze(['new', 'reply', 'reply_all', 'forward_inline', 'forward_attachment', 'draft']);

export const isAddress = (value) => typeof value === 'string' && addressPattern.test(value);

const lower = (address) => String(address ?? '').toLowerCase();

/** Normalises recipient input: "a@x, Name <b@y>" strings or {name,address} objects → [{name, address}]. */
export function parseRecipients(value) {
  if (Array.isArray(value)) return uniqueAddresses(value.map((entry) => (typeof entry === 'string' ? parseOne(entry) : entry)).filter(Boolean));
  if (typeof value !== 'string') return [];
  return uniqueAddresses(value.split(/[,;\n]/).map(parseOne).filter(Boolean));
}

function parseOne(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return null;
  const angle = /^(.*?)<([^<>]+)>\s*$/.exec(trimmed);
  if (angle) return { name: angle[1].trim().replace(/^"(.*)"$/, '$1'), address: angle[2].trim() };
  return { name: '', address: trimmed };
}

/** Envelope recipients: To + Cc + Bcc, unique, lower-cased. */
export function envelopeOf(draft) {
  return [...new Set([...(draft.to ?? []), ...(draft.cc ?? []), ...(draft.bcc ?? [])].map((entry) => lower(entry.address)).filter(Boolean))];
}

/** Per-address key state for the compose form: known | missing | changed (an own address: known, source 'own'). */
export function keyStatusOf(addresses, keyFor, ownAddresses = []) {
  const own = new Set(ownAddresses.map(lower));
  return addresses.map((address) => {
    if (own.has(lower(address))) return Object.freeze({ address, state: 'known', source: 'own' });
    const entry = keyFor(address);
    if (!entry) return Object.freeze({ address, state: 'missing', source: null });
    return Object.freeze({ address, state: entry.state === 'changed' ? 'changed' : 'known', source: entry.source });
  });
}

/**
 * The send decision (pure). → { kind: 'encrypted', recipientKeys } | { kind: 'signed' | 'plain' }
 *   | { kind: 'needs_confirmation', missing, reasons: [{ address, reason: 'no_key' | 'key_changed' }] }
 *   (key_changed: the address has only a changed key the user has not accepted, and no accepted one).
 * encrypt: the draft's choice 'auto' | 'on' | 'off'. A key in state 'changed' is still the OLD,
 * accepted key (the new one is not used until the user accepts it).
 * ownAddresses: the user's own addresses. Their key is the own key, which the Worker always adds
 * (mail.encrypt): they are never looked up in the key directory (a key planted there for an own
 * address would get the mail), never missing, never gossiped.
 */
export function decideSend({ recipients, keyFor, encrypt = 'auto', encryptByDefault = true, sign = true, confirmUnencrypted = false, ownAddresses = [] }) {
  const unencrypted = () => ({ kind: sign ? 'signed' : 'plain' });
  if (encrypt === 'off') return unencrypted();
  const own = new Set(ownAddresses.map(lower));
  const found = recipients.filter((address) => !own.has(lower(address))).map((address) => [address, keyFor(address)]);
  const missing = found.filter(([, entry]) => !entry?.armored).map(([address]) => address);
  const wanted = encrypt === 'on' || encryptByDefault;
  if (missing.length === 0) {
    return wanted ? { kind: 'encrypted', recipientKeys: found.map(([, entry]) => entry.armored), recipients: found } : unencrypted();
  }
  if (!wanted) return unencrypted();
  const reasons = found.filter(([, entry]) => !entry?.armored)
    .map(([address, entry]) => ({ address, reason: entry && (entry.state === 'changed' || entry.pending) ? 'key_changed' : 'no_key' }));
  return confirmUnencrypted ? unencrypted() : { kind: 'needs_confirmation', missing, reasons };
}

// --- signatures per identity ------------------------------------------------------------------
// prefs.signatures maps an identity (the mailbox address, the external account's address) to its
// signature; the older single prefs.signature is the mailbox address's when it has no entry.

/** The signature text of the identity `address` (mailboxAddress: status.address). */
export function signatureFor(prefs, address, mailboxAddress) {
  const wanted = lower(address);
  if (!wanted) return '';
  for (const [identity, text] of Object.entries(prefs?.signatures ?? {})) if (lower(identity) === wanted) return String(text ?? '');
  return wanted === lower(mailboxAddress) ? String(prefs?.signature ?? '') : '';
}

/** A signature as the body carries it: below the "-- " separator line (RFC 3676 §4.3). */
export const signatureBlock = (signature) => (signature ? `\n\n-- \n${signature}` : '');

/**
 * The body after the From identity changed (as Thunderbird does): the old identity's signature
 * block, when the body still holds it unchanged (its last copy), becomes the new one's; a body
 * without the old signature (none, or the user edited it) is left alone, except that a new
 * signature is added at the end when the old identity had none.
 */
export function swapSignature(text, oldSignature, newSignature) {
  const body = String(text ?? '');
  const oldBlock = signatureBlock(oldSignature);
  const newBlock = signatureBlock(newSignature);
  if (oldBlock === newBlock) return body;
  if (!oldBlock) return body + newBlock;
  // The last copy that ends a line: "Sig" inside an edited "Sig, edited" is not the signature.
  let at = body.lastIndexOf(oldBlock);
  while (at >= 0 && !/^(?:\r?\n|$)/.test(body.slice(at + oldBlock.length))) at = at > 0 ? body.lastIndexOf(oldBlock, at - 1) : -1;
  if (at < 0) return body;
  return body.slice(0, at) + newBlock + body.slice(at + oldBlock.length);
}

// --- reopening a draft ------------------------------------------------------------------------
// Drafts is a folder like any other: the mail server (or anyone able to append to the mailbox)
// can put a message there, and encrypting one to the user's public key proves nothing (the key
// is public). Only the own key's signature inside the encryption shows the draft was saved by
// the user's own composer; only such a draft gets its HTML back into the rich editor.

/**
 * Whether an opened message (the mime-read model) is a draft this user saved: encrypted to the
 * own key, decrypted, and signed inside the encryption by the own key (its fingerprint as the
 * Worker reports it). Drafts saved before drafts were signed are not: they reopen as plain text.
 */
export function isOwnDraft(message, ownFingerprint) {
  const security = message?.security;
  if (!security || typeof ownFingerprint !== 'string' || !ownFingerprint) return false;
  return security.encrypted === true && security.encrypted_to_me === true && !security.decryption_error
    && security.signature === 'verified' && security.signed_inside_encryption === true
    && String(security.signer?.fingerprint ?? '').toUpperCase() === ownFingerprint.toUpperCase();
}

const attachmentOverhead = (size) => Math.ceil(size / 3) * 4 * (78 / 76) + 512;   // base64 lines + part headers
// Drafts are always encrypted (to the own key), and PGP/MIME armors the OpenPGP message: the
// message on the server is the MIME entity in base64 again (OpenPGP.js writes 60-column lines,
// 62 bytes with CRLF), plus the OpenPGP packets (signature, session keys) and the wrapper.
const ARMOR_EXTRA = 8192;
const armoredSize = (size) => Math.ceil(size / 3) * 4 * (62 / 60) + ARMOR_EXTRA;
/** About how many bytes of files one message can carry under the server's limit (for the user). */
export function attachmentCapacity(limitBytes) {
  return Math.max(0, Math.floor(((limitBytes - ARMOR_EXTRA) * (60 / 62) * (3 / 4) - 512) * (3 / 4) * (76 / 78)));
}

/**
 * The own key's fingerprint in upper case: from `ask` () when given, else as the Worker reports it
 * (cryptoOf () → the Worker connection; identity.status); null when locked, unknown or failing.
 */
export async function ownKeyFingerprint(ask, cryptoOf) {
  try {
    const value = ask ? await ask() : (await cryptoOf()?.request({ type: 'identity.status', payload: {} }))?.identity?.fingerprint;
    return typeof value === 'string' && value ? value.toUpperCase() : null;
  } catch {
    return null;
  }
}

/**
 * Options: { api, store, mime, keys, crypto () → Worker connection, now, schedule, unschedule, newId,
 *            ownAddresses () → [own address, external email?], afterSend (), onError(error, action),
 *            ownFingerprint () → Promise<string|null> (default: asked of the Worker, identity.status) }.
 */
export function createComposer({ api, store, mime, keys, crypto, now, schedule, unschedule, newId, ownAddresses, afterSend = async () => {}, onError = () => {}, ownFingerprint: ownFingerprintOption = null }) {
  const timers = new Map();     // draft id → auto-save timer
  const saving = new Map();     // draft id → the running save (saves of one draft never overlap)
  let ownKey = null;

  const keyFor = (address) => keys?.keyFor(address) ?? null;
  const draftsFolder = () => store.get().folders.find((folder) => folder.special_use === 'drafts')?.path ?? 'Drafts';
  const ownAddress = () => ownAddresses()[0] ?? null;

  function withKeyStatus(draft) {
    return { ...draft, keyStatus: Object.freeze(keyStatusOf(envelopeOf(draft), keyFor, ownAddresses())) };
  }

  async function ownPublicKey() {
    if (ownKey) return ownKey;
    const answer = await crypto().request({ type: 'identity.export_public', payload: {} });
    ownKey = answer?.armored ?? null;
    return ownKey;
  }

  const ownFingerprint = () => ownKeyFingerprint(ownFingerprintOption, crypto);

  async function messageFor(uid, folder) {
    const { reading } = store.get();
    if (reading.uid === uid && reading.folder === folder && reading.state === 'ready' && reading.message) return reading.message;
    const raw = await api.rawMessage(folder, uid);
    return mime.openMessage({ raw, crypto: crypto(), keyring: { verificationKeys: keys?.verificationKeys() ?? [] } });
  }

  function baseDraft(id, mode) {
    const { prefs } = store.get();
    const signature = signatureBlock(signatureFor(prefs, ownAddress(), ownAddress()));
    return {
      id, mode, from: ownAddress(), to: [], cc: [], bcc: [], subject: '', text: signature, html: null,
      format: prefs.composeFormat, attachments: [], inReplyTo: null, references: [], readReceipt: false,
      encrypt: 'auto', sign: prefs.signByDefault, keyStatus: [], warning: null, savedUid: null, saving: false, sending: false,
      sendProgress: null, encryptProgress: null, error: null, dirty: false, revision: 0, lastSavedAt: null, source: null,
      // notice: 'formatting_dropped' when a reopened draft's HTML was not taken (not the user's own).
      notice: null,
    };
  }

  /**
   * Opens a compose form. { mode: 'new'|'reply'|'reply_all'|'forward_inline'|'forward_attachment'|'draft',
   * uid? (the message replied to / forwarded / the saved draft to edit), folder? (default: the list's),
   * to? (prefill: string or [{name,address}]), unprotectedReplyTo? (reply: the user chose to answer
   * the Reply-To that no signature covers; the draft carries the warning 'unprotected_reply_to') }
   * → the draft id.
   */
  async function compose({ mode = 'new', uid = null, folder = store.get().list.folder, to = null, unprotectedReplyTo = false } = {}) {
    if (!composeModes.includes(mode)) throw new RangeError(`mail: unknown compose mode ${JSON.stringify(mode)}`);
    const id = newId();
    const draft = baseDraft(id, mode);
    if (to) draft.to = parseRecipients(to);
    if (mode !== 'new') {
      if (uid === null) throw new TypeError(`mail: compose ${mode} needs the message uid`);
      draft.source = { folder, uid };
      if (mode === 'forward_attachment') {
        const [raw, message] = await Promise.all([api.rawMessage(folder, uid), messageFor(uid, folder).catch(() => null)]);
        const subject = message?.headers?.subject ?? findSubject(uid) ?? '';
        draft.subject = forwardSubject(subject);
        draft.attachments = [attachmentEntry({ filename: `${safeName(subject) || 'message'}.eml`, contentType: 'message/rfc822', data: raw })];
      } else {
        const message = await messageFor(uid, folder);
        const headers = message?.headers ?? {};
        const text = message?.text ?? '';
        if (mode === 'reply' || mode === 'reply_all') {
          const { to: replyTo, cc } = replyRecipients(headers, { all: mode === 'reply_all', self: ownAddresses() });
          draft.to = replyTo;
          draft.cc = cc;
          // mime-read set an unprotected Reply-To aside (Reply goes to the signed-for From); only
          // the user's explicit choice sends to it, and the draft says it is not covered.
          const setAside = message?.security?.unprotected_reply_to ?? [];
          if (unprotectedReplyTo && setAside.length) {
            draft.to = uniqueAddresses(setAside);
            draft.warning = 'unprotected_reply_to';
          }
          draft.subject = replySubject(headers.subject);
          draft.text = replyBody({ text, date: headers.date, from: headers.from }) + draft.text;
          draft.inReplyTo = headers.message_id ?? null;
          draft.references = replyReferences(headers);
          // Answering encrypted mail in the clear would undo the sender's choice.
          if (message?.security?.encrypted) draft.encrypt = 'on';
        } else if (mode === 'forward_inline') {
          draft.subject = forwardSubject(headers.subject);
          draft.text = forwardBody({ text, headers }) + draft.text;
          draft.attachments = (message?.attachments ?? []).map((attachment) => attachmentEntry({ filename: attachment.filename, contentType: attachment.content_type, data: attachment.data }));
          if (message?.security?.encrypted) draft.encrypt = 'on';
        } else if (mode === 'draft') {
          // Asked before the check, as the reader does: the own key of this moment.
          const own = isOwnDraft(message, await ownFingerprint());
          draft.to = uniqueAddresses(headers.to ?? []);
          draft.cc = uniqueAddresses(headers.cc ?? []);
          draft.bcc = uniqueAddresses(headers.bcc ?? []);
          draft.subject = headers.subject ?? '';
          // The identity the draft was written from, when it is still one of the user's.
          const savedFrom = lower(headers.from?.[0]?.address);
          draft.from = ownAddresses().find((address) => lower(address) === savedFrom) ?? draft.from;
          draft.text = text;
          // A rich draft reopens rich only when it is the user's own (signed by the own key inside
          // the encryption); the compose form still sanitises its HTML before the editor shows it.
          // Anything else opens as its plain text, and the form says the formatting was dropped.
          draft.html = own ? message?.html ?? null : null;
          draft.format = draft.html ? 'rich' : 'plain';
          draft.notice = message?.html && !own ? 'formatting_dropped' : null;
          // Threading fields only from inside the signed encryption: an outer In-Reply-To or
          // References (no signature covers them) would make the sent mail a reply in a thread
          // the mail server chose.
          const outer = new Set(message?.security?.outer_fallback ?? []);
          draft.inReplyTo = outer.has('in-reply-to') ? null : headers.in_reply_to ?? null;
          draft.references = outer.has('references') ? [] : headers.references ?? [];
          draft.attachments = (message?.attachments ?? []).map((attachment) => attachmentEntry({ filename: attachment.filename, contentType: attachment.content_type, data: attachment.data }));
          draft.savedUid = folder === draftsFolder() ? uid : null;
        }
      }
    }
    store.putDraft(id, withKeyStatus(draft));
    return id;
  }

  function findSubject(uid) {
    for (const summary of store.get().list.rows.values()) if (summary.uid === uid) return summary.subject;
    return null;
  }

  const safeName = (text) => String(text ?? '').replace(/[^\p{L}\p{N} ._-]+/gu, '').trim().slice(0, 80);

  // data: a Uint8Array (forwarded or reopened parts) or a Blob (a File the user picked: kept as
  // the File, streamed when the message is made, never read whole into the page).
  function attachmentEntry({ filename, contentType, data, size = data?.byteLength ?? data?.size ?? 0 }) {
    return Object.freeze({ id: newId(), filename: filename || 'attachment', contentType: contentType || 'application/octet-stream', size, data: data ?? null, progress: data ? 1 : 0 });
  }

  /** Changes draft fields (to/cc/bcc accept strings or lists); marks it dirty and arms the auto-save. */
  function updateDraft(id, patch) {
    const draft = store.draft(id);
    if (!draft) throw new RangeError('mail: no such draft');
    const allowed = ['to', 'cc', 'bcc', 'subject', 'text', 'html', 'format', 'readReceipt', 'encrypt', 'sign', 'from'];
    const changes = {};
    for (const [name, value] of Object.entries(patch ?? {})) {
      if (!allowed.includes(name)) throw new TypeError(`mail: draft field ${name} cannot be changed`);
      changes[name] = ['to', 'cc', 'bcc'].includes(name) ? parseRecipients(value) : value;
    }
    if ('encrypt' in changes && !['auto', 'on', 'off'].includes(changes.encrypt)) throw new RangeError('mail: encrypt is auto, on or off');
    if ('format' in changes && !['plain', 'rich'].includes(changes.format)) throw new RangeError('mail: format is plain or rich');
    // A new From identity brings its signature into a plain body; the rich editor's content is
    // the compose form's DOM, which swaps it there and sends text and html with the change.
    if ('from' in changes && !('text' in changes) && draft.format !== 'rich') {
      const { prefs } = store.get();
      changes.text = swapSignature(draft.text, signatureFor(prefs, draft.from, ownAddress()), signatureFor(prefs, changes.from, ownAddress()));
    }
    const next = withKeyStatus({ ...draft, ...changes, dirty: true, error: null, revision: (draft.revision ?? 0) + 1 });
    store.putDraft(id, next);
    armAutoSave(id);
    return store.draft(id);
  }

  function armAutoSave(id) {
    if (timers.has(id)) return;
    const seconds = store.get().prefs.autoSaveSeconds;
    timers.set(id, schedule(() => {
      timers.delete(id);
      const draft = store.draft(id);
      if (draft?.dirty && !draft.sending) saveDraft(id).catch(() => {});
    }, seconds * 1000));
  }

  function disarm(id) {
    if (timers.has(id)) unschedule(timers.get(id));
    timers.delete(id);
  }

  function totalSize(draft) {
    return (draft.attachments ?? []).reduce((sum, attachment) => sum + attachmentOverhead(attachment.size), 0)
      + new TextEncoder().encode(String(draft.text ?? '') + String(draft.html ?? '')).length * 2;
  }

  /**
   * Adds files (a FileList or Files). Each is kept as its File: the message is made from it by
   * streaming when it is saved or sent (mime-build.js Base64OfBlob), so a large file is never a
   * whole copy in the page. A file that would make the message larger than the server accepts
   * is refused, and one whose first byte cannot be read (or that is not a Blob):
   * → { added: [attachment ids], refused: [{ filename, code: 'too_large' | 'unreadable', capacity? }] }
   * (capacity: about how many bytes of files fit, for the message to the user).
   */
  async function addAttachments(id, files) {
    const limit = store.get().status.maxMessageBytes;
    const added = [];
    const refused = [];
    for (const file of Array.from(files ?? [])) {
      const draft = store.draft(id);
      if (!draft) break;
      if (armoredSize(totalSize(draft) + attachmentOverhead(file.size)) > limit) {
        refused.push({ filename: file.name, code: 'too_large', capacity: attachmentCapacity(limit) });
        continue;
      }
      const entry = attachmentEntry({ filename: file.name, contentType: file.type, data: null, size: file.size });
      store.putDraft(id, { attachments: Object.freeze([...draft.attachments, entry]), dirty: true, revision: (draft.revision ?? 0) + 1 });
      try {
        if (!(file instanceof Blob)) throw new TypeError('mail: an attachment is a File or Blob');
        // Reading one byte finds a file that cannot be read (a folder, a file gone) now, not at send.
        await file.slice(0, 1).arrayBuffer();
        const current = store.draft(id);
        if (!current) break;
        store.putDraft(id, { attachments: Object.freeze(current.attachments.map((attachment) => (attachment.id === entry.id ? Object.freeze({ ...attachment, data: file, size: file.size, progress: 1 }) : attachment))) });
        added.push(entry.id);
      } catch {
        const current = store.draft(id);
        if (current) store.putDraft(id, { attachments: Object.freeze(current.attachments.filter((attachment) => attachment.id !== entry.id)) });
        refused.push({ filename: file.name, code: 'unreadable' });
      }
    }
    if (added.length) armAutoSave(id);
    return { added, refused };
  }

  function removeAttachment(id, attachmentId) {
    const draft = store.draft(id);
    if (!draft) return;
    store.putDraft(id, { attachments: Object.freeze(draft.attachments.filter((attachment) => attachment.id !== attachmentId)), dirty: true, revision: (draft.revision ?? 0) + 1 });
    armAutoSave(id);
  }

  /** The fields mime-build takes, from a draft. `withBcc`: only for the self-encrypted saved draft. */
  async function messageFields(draft, { withBcc = false } = {}) {
    const from = { name: '', address: draft.from ?? ownAddress() };
    const attachments = draft.attachments.filter((attachment) => attachment.data).map((attachment) => ({ filename: attachment.filename, contentType: attachment.contentType, data: attachment.data }));
    if (store.get().prefs.attachOwnKey && !withBcc) {
      const armored = await ownPublicKey().catch(() => null);
      if (armored) attachments.push({ filename: 'OpenPGP_public_key.asc', contentType: 'application/pgp-keys', data: new TextEncoder().encode(armored) });
    }
    return {
      from,
      to: draft.to,
      cc: draft.cc,
      ...(withBcc ? { bcc: draft.bcc } : {}),
      subject: draft.subject ?? '',
      date: new Date(now()),
      inReplyTo: draft.inReplyTo ?? undefined,
      references: draft.references?.length ? draft.references : undefined,
      text: draft.text ?? '',
      // The rich editor's HTML as the compose form put it in the draft: cleaned there to the
      // editor's own markup each time it syncs (ui/mail/mail-compose.js editorHtml), so nothing
      // pasted (remote images, forms, styles, handlers) reaches the recipients.
      html: draft.format === 'rich' && draft.html ? draft.html : undefined,
      attachments,
      readReceiptTo: draft.readReceipt ? from : undefined,
    };
  }

  /**
   * Saves the draft into Drafts, encrypted to the own key only and signed with it (what lets
   * a reopened draft be told from one planted in Drafts: isOwnDraft); the previous saved copy is
   * expunged at once (never to Trash). → the new uid or null. The Bcc field is kept inside the
   * encryption only (keepBcc: the outer header never has it), so reopening restores it; what
   * send() composes never has it.
   */
  async function saveDraft(id) {
    if (saving.has(id)) await saving.get(id).catch(() => {});
    const draft = store.draft(id);
    if (!draft) return null;
    disarm(id);
    const run = (async () => {
      store.putDraft(id, { saving: true, error: null });
      try {
        const fields = await messageFields(draft, { withBcc: true });
        const raw = await mime.composeEncrypted({ crypto: crypto(), ...fields, recipientKeys: [], sign: true, keepBcc: true });
        const folder = draftsFolder();
        const answer = await api.append(folder, raw, ['\\Draft', '\\Seen']);
        const previous = store.draft(id)?.savedUid ?? null;
        const uid = Number.isSafeInteger(answer?.uid) ? answer.uid : null;
        // A superseded copy is expunged (permanent), not moved to Trash: old versions pile up nowhere.
        if (previous !== null && previous !== uid) await api.remove({ folder, uids: [previous], permanent: true }).catch(() => {});
        const current = store.draft(id);
        // Edits made while saving keep the draft dirty (the next auto-save takes them).
        if (current) store.putDraft(id, { savedUid: uid, saving: false, dirty: (current.revision ?? 0) !== (draft.revision ?? 0), lastSavedAt: now() });
        return uid;
      } catch (error) {
        if (store.draft(id)) store.putDraft(id, { saving: false, error: { code: error?.code ?? 'save_failed', message: error?.message ?? '' } });
        throw error;
      }
    })();
    saving.set(id, run);
    try {
      return await run;
    } finally {
      if (saving.get(id) === run) saving.delete(id);
    }
  }

  /**
   * Sends the draft. → { state: 'sent', sentUid, refused } | { state: 'needs_confirmation', missing: [addresses] }
   *   | { state: 'error', error: {code, message} } (the draft is kept with its error).
   */
  async function send(id, { confirmUnencrypted = false } = {}) {
    const draft = store.draft(id);
    if (!draft) throw new RangeError('mail: no such draft');
    const fail = (code, message = '', extra = {}) => {
      const error = { code, message, ...extra };
      if (store.draft(id)) store.putDraft(id, { sending: false, sendProgress: null, error });
      return { state: 'error', error };
    };
    const recipients = envelopeOf(draft);
    if (recipients.length === 0) return fail('no_recipients');
    if (recipients.length > MAX_RECIPIENTS) return fail('too_many_recipients');
    const invalid = recipients.find((address) => !isAddress(address));
    if (invalid) return fail('invalid_recipient', '', { address: invalid });
    if (draft.attachments.some((attachment) => !attachment.data)) return fail('attachments_loading');

    const { prefs } = store.get();
    const decision = decideSend({ recipients, keyFor, encrypt: draft.encrypt, encryptByDefault: prefs.encryptByDefault, sign: draft.sign, confirmUnencrypted, ownAddresses: ownAddresses() });
    if (decision.kind === 'needs_confirmation') return { state: 'needs_confirmation', missing: decision.missing, reasons: decision.reasons };

    disarm(id);
    if (saving.has(id)) await saving.get(id).catch(() => {});
    store.putDraft(id, { sending: true, sendProgress: 0, error: null });
    let raw;
    try {
      const fields = await messageFields(draft);   // no Bcc header in what leaves
      const ownArmored = await ownPublicKey().catch(() => null);
      const autocryptKey = ownArmored ?? undefined;
      if (decision.kind === 'encrypted') {
        // Gossip (Autocrypt Level 1 §2.7): the keys of To and Cc only — a Bcc recipient's key is not advertised.
        const visible = new Set([...draft.to, ...draft.cc].map((entry) => lower(entry.address)));
        const gossip = decision.recipients.filter(([address]) => visible.has(address)).map(([address, entry]) => ({ addr: address, armored: entry.armored }));
        raw = await mime.composeEncrypted({ crypto: crypto(), ...fields, recipientKeys: decision.recipientKeys, sign: draft.sign, autocryptKey, gossip, job: id });
      } else if (decision.kind === 'signed') raw = await mime.composeSigned({ crypto: crypto(), ...fields, autocryptKey });
      else raw = await mime.composePlain({ ...fields, autocryptKey });
    } catch (error) {
      return fail(error?.code ?? 'compose_failed', error?.message ?? '');
    }
    let answer;
    try {
      answer = await api.send({
        raw, to: recipients, draftUid: draft.savedUid ?? undefined,
        onProgress: (sent, total) => { if (store.draft(id)) store.putDraft(id, { sendProgress: total > 0 ? sent / total : 0 }); },
      });
    } catch (error) {
      return fail(error?.code ?? 'send_failed', error?.message ?? '', error?.address ? { address: error.address } : {});
    }
    // The server removed the saved draft and stored the sent copy.
    disarm(id);
    store.removeDraft(id);
    await afterSend().catch(() => {});
    const refused = Array.isArray(answer?.refused) ? answer.refused.filter((entry) => typeof entry?.address === 'string') : [];
    const copyError = answer?.sent_copy_error && typeof answer.sent_copy_error.code === 'string' ? answer.sent_copy_error : null;
    reportSendProblems(refused, copyError);
    return { state: 'sent', sentUid: answer?.sent_uid ?? null, refused, sentCopyError: copyError, encrypted: decision.kind === 'encrypted' };
  }

  // The mail went out, but not to everyone, or without its copy in Sent: the user is told (the
  // compose form is closed by then, so it is the panel's notice).
  function reportSendProblems(refused, copyError) {
    if (!refused.length && !copyError) return;
    const addresses = refused.map((entry) => (entry.code ? `${entry.address} (${entry.code})` : entry.address)).join(', ');
    const code = refused.length ? (copyError ? 'sent_not_delivered_no_copy' : 'sent_not_delivered') : 'sent_no_copy';
    store.setNotice({ kind: 'error', code, params: { addresses }, cause: copyError ? { code: copyError.code, message: String(copyError.message ?? '') } : null });
  }

  /** Closes the form; a saved copy in Drafts is expunged (not moved to Trash). */
  async function discardDraft(id) {
    disarm(id);
    if (saving.has(id)) await saving.get(id).catch(() => {});
    const uid = store.draft(id)?.savedUid ?? null;
    store.removeDraft(id);
    if (uid !== null) {
      try {
        await api.remove({ folder: draftsFolder(), uids: [uid], permanent: true });
      } catch (error) {
        onError(error, 'discard_draft');
      }
    }
  }

  function stop() {
    for (const handle of timers.values()) unschedule(handle);
    timers.clear();
    ownKey = null;
  }

  return Object.freeze({ compose, updateDraft, addAttachments, removeAttachment, saveDraft, send, discardDraft, stop });
}
