// The browser's own SIP credentials (GET /api/v1/sip, docs/api.md): short-lived, derived by the
// server (Kamailio auth_ephemeral), renewed when 2/3 of their lifetime has passed so a refresh
// REGISTER never carries an expired one. The keeper only fetches and schedules; the phone
// re-REGISTERs with what it hands over. Clock and fetch are injected (unit tests use fakes).

/** Shortest wait before a renewal, whatever the lifetime says (a loop guard). */
export const MIN_RENEWAL_MS = 5_000;
/** Waits between failed renewals: doubled from the first to the last, then kept there. */
export const RETRY_FIRST_MS = 5_000;
export const RETRY_MAX_MS = 60_000;
/** Credential lifetimes the server may give (the contract's sip_credential_ttl_s range). */
export const MIN_TTL_S = 60;
export const MAX_TTL_S = 86_400;
/** Longest delay a browser timer keeps: beyond 2^31-1 ms it fires at once (a fetch loop). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

// Every field below is written into SIP headers (SIP.js does not escape the digest username) or
// into the address the phone connects to, so each is held to exactly what the server makes
// (docs/api.md): a CR/LF, quote or userinfo trick in the answer is refused, not passed on.
const userPattern = /^[a-z0-9._-]{3,32}$/;
const authorizationUsernamePattern = /^\d{1,12}:[a-z0-9._-]{3,32}$/;
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const bracketedIpv6Pattern = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const printableAsciiPattern = /^[\x21-\x7e]{1,300}$/;

/** A host name, IPv4 address, or bracketed IPv6 address. */
function isHost(text) {
  return typeof text === 'string' && (hostNamePattern.test(text) || bracketedIpv6Pattern.test(text));
}

/**
 * The WebSocket URL the phone connects to: wss: only (the SIP password and the signalling never
 * go over a clear WebSocket), no userinfo, a plain host, and nothing after it but a port and "/".
 * The raw text is checked too: URL() drops tabs and newlines and reads "\" as "/".
 */
function isWebsocketUrl(text) {
  if (typeof text !== 'string' || !printableAsciiPattern.test(text) || text.includes('\\')) return false;
  let url;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return url.protocol === 'wss:' && url.username === '' && url.password === '' && isHost(url.hostname)
    && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === ''
    && !text.includes('?') && !text.includes('#') && !text.includes('@');
}

class SipCredentialError extends Error {
  constructor(code) {
    super(`SIP credentials: ${code}`);
    this.name = 'SipCredentialError';
    this.code = code;
  }
}

/**
 * The /api/v1/sip answer, checked and frozen; throws { code: 'bad_response' } when malformed:
 * a user outside [a-z0-9._-]{3,32}, a domain that is not a host, an AOR other than
 * sip:<user>@<domain>, an authorization username other than <expiry>:<user>, a WebSocket URL
 * that is not a plain wss://host[:port][/], a lifetime outside 60..86400 s, an expiry already past.
 */
export function checkSipCredentials(body, nowMs = Date.now()) {
  const ok = body && typeof body === 'object'
    && typeof body.user === 'string' && userPattern.test(body.user)
    && isHost(body.domain)
    && body.aor === `sip:${body.user}@${body.domain}`
    && isWebsocketUrl(body.websocketUrl)
    && typeof body.authorizationUsername === 'string' && authorizationUsernamePattern.test(body.authorizationUsername)
    && body.authorizationUsername.endsWith(`:${body.user}`)
    && typeof body.password === 'string' && body.password.length > 0 && body.password.length <= 200
    && Number.isSafeInteger(body.ttl) && body.ttl >= MIN_TTL_S && body.ttl <= MAX_TTL_S
    && Number.isSafeInteger(body.expiresAt) && body.expiresAt > Math.floor(nowMs / 1000);
  if (!ok) throw new SipCredentialError('bad_response');
  return Object.freeze({
    aor: body.aor, user: body.user, domain: body.domain, websocketUrl: body.websocketUrl,
    authorizationUsername: body.authorizationUsername, password: body.password, ttl: body.ttl, expiresAt: body.expiresAt,
  });
}

/** Milliseconds from receiving credentials of lifetime `ttl` seconds to their renewal. */
export function renewalDelayMs(ttl) {
  return Math.min(MAX_TIMER_MS, Math.max(MIN_RENEWAL_MS, Math.floor((ttl * 1000 * 2) / 3)));
}

/**
 * Keeps fresh credentials. Options:
 *   fetchCredentials(): Promise<body of /api/v1/sip>
 *   onRenewed(credentials): called with each renewal (not the first fetch, which start() returns)
 *   onRenewalFailed(error): called when a renewal failed (it is retried)
 *   clock: { setTimeout, clearTimeout }
 * → { start(initial?): Promise<credentials>, stop(), current() }; start() fetches unless it is
 * given the credentials just fetched (the page fetched them to learn whether SIP is on).
 */
export function createSipCredentialKeeper({ fetchCredentials, onRenewed = () => {}, onRenewalFailed = () => {}, clock }) {
  let current = null;
  let timer = null;
  let generation = 0;      // bumped by stop(): answers of an older generation are dropped
  let retryMs = RETRY_FIRST_MS;

  function schedule(delay) {
    clock.clearTimeout(timer);
    const mine = generation;
    timer = clock.setTimeout(() => {
      timer = null;
      if (mine === generation) renew(mine);
    }, delay);
  }

  async function renew(mine) {
    try {
      const fresh = checkSipCredentials(await fetchCredentials());
      if (mine !== generation) return;
      current = fresh;
      retryMs = RETRY_FIRST_MS;
      schedule(renewalDelayMs(fresh.ttl));
      onRenewed(fresh);
    } catch (error) {
      if (mine !== generation) return;
      onRenewalFailed(error);
      // A 404 (SIP turned off) or 401 (logged out) will not heal by retrying.
      if (error?.status === 401 || error?.status === 404) return;
      schedule(retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
  }

  return Object.freeze({
    async start(initial = null) {
      const mine = ++generation;
      const fresh = checkSipCredentials(initial ?? await fetchCredentials());
      if (mine !== generation) throw new SipCredentialError('stopped');
      current = fresh;
      retryMs = RETRY_FIRST_MS;
      schedule(renewalDelayMs(fresh.ttl));
      return fresh;
    },
    stop() {
      generation += 1;
      clock.clearTimeout(timer);
      timer = null;
      current = null;
    },
    current: () => current,
  });
}
