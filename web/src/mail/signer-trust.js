// How far a valid signature can be trusted (pure; page and node). mime-read.js says whether a
// signature checks out against the keys it was given ('verified'); that alone does not say who
// vouches for the key: a key learnt from an Autocrypt header or gossip came with mail anyone
// could have sent. This adds to the model's security.signer:
//   source: 'verified' | 'pinned' (the server verified it for a user met in a channel / pinned
//           in the chat trust store), 'imported' (the user gave it), 'autocrypt' | 'gossip'
//           (learnt from mail, not verified), 'own' (the user's own key: the only key the
//           Worker checks with that the key directory does not hold);
//   pending: true when the signing key is a CHANGED key the user has not accepted;
//   from_matches: whether the key belongs to the From address (a user ID of the key has it, or
//           the key directory holds this very key for that address from a source the user chose).
// The status values of the contracts ('verified'…) are not changed; the reader's banner words
// only verified/pinned/own signatures whose key matches From as "verified".

export const TRUSTED_SIGNER_SOURCES = Object.freeze(['verified', 'pinned', 'own']);
const sourceRank = ['verified', 'pinned', 'imported', 'autocrypt', 'gossip'];
const userChosen = new Set(['verified', 'pinned', 'imported']);
const lower = (value) => String(value ?? '').trim().toLowerCase();

/**
 * message: the mime-read model; keys: the key directory ({ list(), keyFor(address) }) or null;
 * ownAddresses: the user's own addresses. → the model with security.signer annotated (a new
 * object; the input is not changed). Without a signer the model is returned as is.
 */
export function annotateSigner(message, keys, { ownAddresses = [] } = {}) {
  const signer = message?.security?.signer;
  if (!signer?.fingerprint) return message;
  const fingerprint = String(signer.fingerprint).toUpperCase();
  const entries = keys?.list?.() ?? [];
  const best = (sources) => sources.reduce((found, candidate) => (found === null || sourceRank.indexOf(candidate) < sourceRank.indexOf(found) ? candidate : found), null);
  const holding = entries.filter((entry) => entry.fingerprint === fingerprint).map((entry) => entry.source);
  const waiting = entries.filter((entry) => entry.pending?.fingerprint === fingerprint).map((entry) => entry.pending.source);
  // The Worker checks signatures with the directory's keys (pending ones included) and the own
  // key only: a valid signature by a key the directory does not hold is the user's own.
  const source = holding.length ? best(holding) : waiting.length ? best(waiting) : keys ? 'own' : null;
  const pending = holding.length === 0 && waiting.length > 0;
  const from = lower(message.headers?.from?.[0]?.address);
  const emails = [...new Set([...(signer.emails ?? []), signer.email].filter(Boolean).map(lower))];
  const bound = keys?.keyFor?.(from) ?? null;
  const fromMatches = Boolean(from) && (
    emails.includes(from)
    || (bound?.fingerprint === fingerprint && userChosen.has(bound.source))
    || (source === 'own' && ownAddresses.map(lower).includes(from)));
  return {
    ...message,
    security: { ...message.security, signer: Object.freeze({ ...signer, emails, source, pending, from_matches: fromMatches }) },
  };
}

/**
 * What the banner may say of a signature: 'verified' (trusted source, From matches),
 * 'imported', 'learnt' (autocrypt/gossip), 'pending' (an unaccepted changed key),
 * 'other_address' (the key is not From's), or the plain status ('unknown_key', 'bad', 'none').
 */
export function signatureTrust(security, fromAddress = null) {
  const status = security?.signature ?? 'none';
  if (status !== 'verified') return status;
  const signer = security.signer ?? {};
  if (signer.from_matches === false || (signer.from_matches === undefined && fromAddress && signer.email && lower(signer.email) !== lower(fromAddress))) return 'other_address';
  if (signer.pending) return 'pending';
  if (!signer.source || TRUSTED_SIGNER_SOURCES.includes(signer.source)) return signer.source ? 'verified' : 'learnt';
  return signer.source === 'imported' ? 'imported' : 'learnt';
}
