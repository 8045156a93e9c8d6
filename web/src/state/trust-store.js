// Which peer certificates this user chose to remember ("remember this certificate"): username
// → fingerprint, local only. Pure: the storage (localStorage in the page) is injected.
//
// Lifetime: logout wipes it with everything else of the origin (the client wipe and the
// server's Clear-Site-Data "storage" both do), so the UI says "kept on this device until you
// log out". A fingerprint that differs from the remembered one is reported as `changed`, and
// the page blocks the channel until the user decides. A fingerprint remembered for ANOTHER
// username is reported as `other_user` (the server presenting Alice's real
// certificate under the name "carol"); it takes precedence over everything else, is shown as a
// warning and is never accepted automatically.

const keyPrefix = 'secms.trust.';
const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;

export const TrustStatus = Object.freeze({ unknown: 'unknown', trusted: 'trusted', changed: 'changed', otherUser: 'other_user' });

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
    /**
     * → { status: 'unknown' | 'trusted' | 'changed', knownFingerprint: string | null }
     *   | { status: 'other_user', knownFingerprint, otherUsername } (remembered for another name)
     */
    check({ username, fingerprint }) {
      const map = readAll();
      const name = String(username).toLowerCase();
      const offered = normalise(fingerprint);
      const otherUsername = Object.keys(map).sort().find((other) => other !== name && map[other] === offered && fingerprintPattern.test(offered));
      if (otherUsername !== undefined) return { status: TrustStatus.otherUser, knownFingerprint: offered, otherUsername };
      const known = map[name];
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
