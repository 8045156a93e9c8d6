// Which peer certificates this user chose to remember ("remember this certificate"): username
// → fingerprint, local only. Pure: the storage (localStorage in the page) is injected.
//
// Lifetime: logout wipes it with everything else of the origin (the client wipe and the
// server's Clear-Site-Data "storage" both do), so the UI says "kept on this device until you
// log out". A fingerprint that differs from the remembered one is reported as `changed`, and
// the page blocks the channel until the user decides.

const keyPrefix = 'secms.trust.';
const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;

export const TrustStatus = Object.freeze({ unknown: 'unknown', trusted: 'trusted', changed: 'changed' });

/** Options: { storage: {getItem,setItem,removeItem}, account (own username: one map per account) }. */
export function createTrustStore({ storage, account }) {
  if (!storage || typeof storage.getItem !== 'function') throw new TypeError('createTrustStore: storage required');
  if (typeof account !== 'string' || !account) throw new TypeError('createTrustStore: account required');
  const storageKey = `${keyPrefix}${account.toLowerCase()}`;

  function readAll() {
    try {
      const parsed = JSON.parse(storage.getItem(storageKey) ?? '{}');
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }

  function writeAll(map) {
    try {
      storage.setItem(storageKey, JSON.stringify(map));
      return true;
    } catch {
      return false;   // storage full or disabled: the decision still holds for this channel
    }
  }

  const normalise = (fingerprint) => String(fingerprint ?? '').toUpperCase();

  return Object.freeze({
    /** → { status: 'unknown' | 'trusted' | 'changed', knownFingerprint: string | null } */
    check({ username, fingerprint }) {
      const known = readAll()[String(username).toLowerCase()];
      if (typeof known !== 'string' || !fingerprintPattern.test(known)) return { status: TrustStatus.unknown, knownFingerprint: null };
      return { status: known === normalise(fingerprint) ? TrustStatus.trusted : TrustStatus.changed, knownFingerprint: known };
    },
    remember({ username, fingerprint }) {
      const value = normalise(fingerprint);
      if (!fingerprintPattern.test(value)) throw new TypeError('trust store: not a fingerprint');
      const map = readAll();
      map[String(username).toLowerCase()] = value;
      return writeAll(map);
    },
    forget({ username }) {
      const map = readAll();
      delete map[String(username).toLowerCase()];
      return writeAll(map);
    },
  });
}
