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
//
// Verification (the safety code compared, docs/protocol.md §8): a contact is `verified` when
// this user compared the channel's safety code with them and said the codes match. It is kept
// beside the pin (same storage, same lifetime), for exactly the pinned fingerprint: a changed
// certificate (a new pin, or the pin forgotten) drops it, and a verification is never shown
// for a fingerprint other than the one compared. Codes that differ forget the pin and the
// verification (the certificate accepted may be an impostor's) and leave a local report.

const keyPrefix = 'secms.trust.';
const verifiedPrefix = 'secms.verified.';
const reportPrefix = 'secms.sas-reports.';
const MAX_REPORTS = 20;
const fingerprintPattern = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;

export const TrustStatus = Object.freeze({ unknown: 'unknown', trusted: 'trusted', changed: 'changed', otherUser: 'other_user' });

/** How a contact is shown: 'verified' (safety code compared), 'pinned' (remembered), 'changed' (a pin for another fingerprint), 'unknown'. */
export const ContactStatus = Object.freeze({ verified: 'verified', pinned: 'pinned', changed: 'changed', unknown: 'unknown' });

export const emptyContacts = Object.freeze({ pins: Object.freeze({}), verified: Object.freeze({}) });

/**
 * The status of `username` offering `fingerprint`, from a trust store snapshot ({pins, verified},
 * lower-case usernames → fingerprints). Verified only for the very fingerprint pinned and compared.
 */
export function contactStatus(snapshot, username, fingerprint) {
  const name = String(username ?? '').toLowerCase();
  const offered = String(fingerprint ?? '').toUpperCase();
  const pinned = snapshot?.pins?.[name];
  if (typeof pinned !== 'string' || !fingerprintPattern.test(pinned)) return ContactStatus.unknown;
  if (!fingerprintPattern.test(offered)) return ContactStatus.unknown;
  if (pinned !== offered) return ContactStatus.changed;
  return snapshot.verified?.[name] === pinned ? ContactStatus.verified : ContactStatus.pinned;
}

/**
 * Options: { storage: {getItem,setItem,removeItem}, account (own username: one map per account),
 *            now() → ms (report times), onChange(snapshot) after every change and once at creation }.
 */
export function createTrustStore({ storage, account, now = () => Date.now(), onChange = () => {} }) {
  if (!storage || typeof storage.getItem !== 'function') throw new TypeError('createTrustStore: storage required');
  if (typeof account !== 'string' || !account) throw new TypeError('createTrustStore: account required');
  const storageKey = `${keyPrefix}${account.toLowerCase()}`;
  const verifiedKey = `${verifiedPrefix}${account.toLowerCase()}`;
  const reportKey = `${reportPrefix}${account.toLowerCase()}`;

  function readMap(key) {
    try {
      const parsed = JSON.parse(storage.getItem(key) ?? '{}');
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }

  function writeMap(key, map) {
    try {
      storage.setItem(key, JSON.stringify(map));
      return true;
    } catch {
      return false;   // storage full or disabled: the decision still holds for this channel
    }
  }

  const readAll = () => readMap(storageKey);
  const writeAll = (map) => writeMap(storageKey, map);
  const normalise = (fingerprint) => String(fingerprint ?? '').toUpperCase();

  /** Only well-formed entries, and a verification only where it equals the pin. */
  function snapshot() {
    const pins = {};
    for (const [name, value] of Object.entries(readAll())) if (typeof value === 'string' && fingerprintPattern.test(value)) pins[name] = value;
    const verified = {};
    for (const [name, value] of Object.entries(readMap(verifiedKey))) if (pins[name] === value) verified[name] = value;
    return Object.freeze({ pins: Object.freeze(pins), verified: Object.freeze(verified) });
  }

  const changed = () => {
    try {
      onChange(snapshot());
    } catch {
      // a listener's failure does not undo the stored decision
    }
  };

  /** Drops verifications that no longer match their pin (a pin changed or was forgotten). */
  function pruneVerified() {
    const pins = readAll();
    const verified = readMap(verifiedKey);
    let pruned = false;
    for (const name of Object.keys(verified)) {
      if (pins[name] !== verified[name]) {
        delete verified[name];
        pruned = true;
      }
    }
    if (pruned) writeMap(verifiedKey, verified);
  }

  pruneVerified();
  queueMicrotask(changed);

  const store = Object.freeze({
    /**
     * → { status: 'unknown' | 'trusted' | 'changed', knownFingerprint: string | null, verified (trusted only: the safety code was compared) }
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
      if (known !== normalise(fingerprint)) return { status: TrustStatus.changed, knownFingerprint: known };
      return { status: TrustStatus.trusted, knownFingerprint: known, verified: readMap(verifiedKey)[name] === known };
    },
    remember({ username, fingerprint }) {
      const value = normalise(fingerprint);
      if (!fingerprintPattern.test(value)) throw new TypeError('trust store: not a fingerprint');
      const map = readAll();
      map[String(username).toLowerCase()] = value;
      const written = writeAll(map);
      pruneVerified();   // a new certificate for this name is not the one compared
      changed();
      return written;
    },
    forget({ username }) {
      const map = readAll();
      delete map[String(username).toLowerCase()];
      const written = writeAll(map);
      pruneVerified();
      changed();
      return written;
    },
    /**
     * The safety codes matched for `fingerprint`: pins it (verifying implies remembering) and
     * marks it verified. → true when stored.
     */
    markVerified({ username, fingerprint }) {
      const value = normalise(fingerprint);
      if (!fingerprintPattern.test(value)) throw new TypeError('trust store: not a fingerprint');
      const name = String(username).toLowerCase();
      const map = readAll();
      map[name] = value;
      const verified = readMap(verifiedKey);
      verified[name] = value;
      const written = writeAll(map) && writeMap(verifiedKey, verified);
      changed();
      return written;
    },
    /**
     * The safety codes differed: the pin and its verification are forgotten (the certificate
     * accepted may not be theirs) and a local report is kept (newest last, at most MAX_REPORTS).
     */
    reportMismatch({ username, fingerprint, session }) {
      const name = String(username).toLowerCase();
      const map = readAll();
      delete map[name];
      writeAll(map);
      pruneVerified();
      let reports = [];
      try {
        const parsed = JSON.parse(storage.getItem(reportKey) ?? '[]');
        if (Array.isArray(parsed)) reports = parsed;
      } catch {
        reports = [];
      }
      const entry = { username: name, fingerprint: normalise(fingerprint), session: String(session ?? ''), at: now() };
      reports = [...reports, entry].slice(-MAX_REPORTS);
      try {
        storage.setItem(reportKey, JSON.stringify(reports));
      } catch {
        // storage full: the channel is ended all the same
      }
      changed();
      return entry;
    },
    /** The local reports of codes that differed (oldest first). */
    reports() {
      try {
        const parsed = JSON.parse(storage.getItem(reportKey) ?? '[]');
        return Array.isArray(parsed) ? parsed : [];
      } catch {
        return [];
      }
    },
    snapshot,
    /** Another window of this origin changed the storage: tell the listener again. */
    reload: changed,
  });
  return store;
}
