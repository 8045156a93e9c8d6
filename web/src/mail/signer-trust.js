// How far a valid signature can be trusted (pure; page and node). mime-read.js says whether a
// signature checks out against the keys it was given ('verified'); that alone does not say who
// the signer is: anyone can write any user ID into a key, so the key's own user IDs never decide
// the address. The signer is bound to the From address only through the key directory: the key
// the directory holds FOR the From address must be this very key. This adds to security.signer:
//   address: the directory address that holds this key (the From address when bound; the own
//           address for the own key; null for a key the directory holds for nobody);
//   source: the source of that binding — 'verified' | 'pinned' (the server verified it for a user
//           met in a channel / pinned in the chat trust store), 'imported' (the user gave it),
//           'autocrypt' | 'gossip' (learnt from mail, not verified), 'vcard' (from a contact
//           card, not verified), 'own' (the user's own key: its fingerprint is the one the
//           Worker reports for the unlocked identity — said explicitly, never inferred from the
//           key being absent from the directory);
//   pending: true when the signing key is a CHANGED key the user has not accepted;
//   from_matches: the directory holds this key for the From address (or it is the own key and
//           From is an own address);
//   from_key_changed: the From address's entry has a changed key the user has not settled.
// The status values of the contracts ('verified'…) are not changed; the reader's banner words
// as "verified" only a signature by the From address's own verified/pinned key (or the own key
// for an own address) whose entry is not 'changed'.

export const TRUSTED_SIGNER_SOURCES = Object.freeze(['verified', 'pinned', 'own']);
const sourceRank = ['verified', 'pinned', 'imported', 'autocrypt', 'vcard', 'gossip'];
const lower = (value) => String(value ?? '').trim().toLowerCase();

/**
 * message: the mime-read model; keys: the key directory ({ list(), keyFor(address) }) or null;
 * ownAddresses: the user's own addresses; ownFingerprint: the own key's fingerprint as the Worker
 * reports it (null when unknown: then no signature counts as the own one). → the model with
 * security.signer annotated (a new object; the input is not changed). Without a signer the
 * model is returned as is.
 */
export function annotateSigner(message, keys, { ownAddresses = [], ownFingerprint = null } = {}) {
  const signer = message?.security?.signer;
  if (!signer?.fingerprint) return message;
  const fingerprint = String(signer.fingerprint).toUpperCase();
  const entries = keys?.list?.() ?? [];
  const rank = (source) => (sourceRank.includes(source) ? sourceRank.indexOf(source) : sourceRank.length);
  const holding = entries.filter((entry) => entry.fingerprint === fingerprint).sort((a, b) => rank(a.source) - rank(b.source));
  const waiting = entries.filter((entry) => entry.pending?.fingerprint === fingerprint);
  const from = lower(message.headers?.from?.[0]?.address);
  const own = ownAddresses.map(lower).filter(Boolean);
  const bound = from ? keys?.keyFor?.(from) ?? null : null;
  // The own key is recognised by its fingerprint only. Inferring it from absence (a valid
  // signature by a key the directory does not hold) would make a learnt key evicted between the
  // Worker's check and this annotation read as the user's own.
  const isOwn = typeof ownFingerprint === 'string' && ownFingerprint !== '' && ownFingerprint.toUpperCase() === fingerprint;
  const fromMatches = Boolean(from) && ((bound?.fingerprint === fingerprint) || (isOwn && own.includes(from)));
  let source = null;
  let address = null;
  if (fromMatches && !isOwn) {
    source = bound.source;
    address = from;
  } else if (isOwn) {
    source = 'own';
    address = own.includes(from) ? from : own[0] ?? null;
  } else if (holding.length) {
    source = holding[0].source;
    address = holding[0].address;
  } else if (waiting.length) {
    source = waiting[0].pending.source;
    address = waiting[0].address;
  }
  const pending = holding.length === 0 && waiting.length > 0;
  const emails = [...new Set([...(signer.emails ?? []), signer.email].filter(Boolean).map(lower))];
  return {
    ...message,
    security: {
      ...message.security,
      signer: Object.freeze({ ...signer, emails, address, source, pending, from_matches: fromMatches, from_key_changed: bound?.state === 'changed' }),
    },
  };
}

/**
 * What the banner may say of a signature: 'verified' (the From address's own verified/pinned key,
 * or the own key, and no unsettled change), 'imported', 'learnt' (autocrypt/gossip), 'vcard'
 * (a key from a contact card), 'pending'
 * (an unaccepted changed key), 'changed' (From's key has an unsettled change), 'other_address'
 * (the key is not the one the directory holds for From), or the plain status ('unknown_key',
 * 'bad', 'none'). A model that was never annotated is never 'verified'.
 */
export function signatureTrust(security) {
  const status = security?.signature ?? 'none';
  if (status !== 'verified') return status;
  const signer = security.signer ?? {};
  if (signer.from_matches === undefined) return 'learnt';
  if (signer.pending) return 'pending';
  if (signer.from_matches !== true) return 'other_address';
  if (signer.from_key_changed) return 'changed';
  if (TRUSTED_SIGNER_SOURCES.includes(signer.source)) return 'verified';
  if (signer.source === 'vcard') return 'vcard';
  return signer.source === 'imported' ? 'imported' : 'learnt';
}
