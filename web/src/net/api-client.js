// JSON API client for /api/v1. Runs wherever fetch exists (page or node tests: fetch is
// injectable). Every failure becomes an ApiError with a stable `code`, so the UI maps codes
// to catalogue keys in one place (errorMessageKey) and never shows raw server text.

/** Error codes the server documents (docs/api.md); anything else shows as error.unknown. */
export const knownErrorCodes = Object.freeze([
  'invalid_username', 'invalid_password', 'username_taken', 'invalid_credentials',
  'account_disabled', 'rate_limited', 'not_authenticated', 'bad_request',
  'payload_too_large', 'forbidden_origin', 'unsupported_media_type', 'not_found',
  'method_not_allowed', 'internal', 'unavailable', 'storage_full',
]);

/** Code used when no HTTP response arrived at all (server down, offline, aborted). */
export const networkErrorCode = 'network';

// Used when a response has no parsable error body (a proxy page, an empty 502...).
const codeByStatus = new Map([
  [400, 'bad_request'], [401, 'not_authenticated'], [403, 'forbidden_origin'],
  [404, 'not_found'], [405, 'method_not_allowed'], [413, 'payload_too_large'],
  [415, 'unsupported_media_type'], [429, 'rate_limited'], [500, 'internal'],
  [502, 'unavailable'], [503, 'unavailable'], [504, 'unavailable'], [507, 'storage_full'],
]);

export class ApiError extends Error {
  constructor({ status, code, serverMessage = '', retryAfterSeconds = null, cause }) {
    super(`API error ${status} ${code}`, cause ? { cause } : undefined);
    this.name = 'ApiError';
    this.status = status;       // 0 when no response arrived
    this.code = code;
    this.serverMessage = serverMessage;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Parses a Retry-After header given in seconds (RFC 9110 §10.2.3); dates are ignored. */
export function parseRetryAfter(value) {
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value.trim())) return null;
  return Number(value.trim());
}

/**
 * Maps an error (ApiError or anything thrown) to a catalogue key and its parameters:
 * { key, params }. The UI calls t(key, params).
 */
export function errorMessageKey(error) {
  const code = error instanceof ApiError ? error.code : networkErrorCode;
  if (code === 'rate_limited' && Number.isInteger(error.retryAfterSeconds) && error.retryAfterSeconds > 0) {
    return { key: 'error.rate_limited_seconds', params: { seconds: error.retryAfterSeconds } };
  }
  if (code === networkErrorCode) return { key: 'error.network', params: {} };
  if (knownErrorCodes.includes(code)) return { key: `error.${code}`, params: {} };
  return { key: 'error.unknown', params: { code: String(code) } };
}

async function readErrorBody(response) {
  try {
    const body = await response.json();
    const error = body && typeof body === 'object' ? body.error : null;
    if (error && typeof error.code === 'string' && /^[a-z_]{1,64}$/.test(error.code)) {
      return { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
    }
  } catch {
    // Not JSON: fall back to the status below.
  }
  return null;
}

// The schemes the server accepts in turn_urls (RFC 7064 stun:/stuns:, RFC 7065 turn:/turns:).
const turnUrlPattern = /^(?:turns?|stuns?):[^\s]{1,250}$/;

/** The /api/v1/turn answer, checked; throws ApiError('bad_response') when it is not of the documented form. */
export function checkTurnCredentials(body) {
  const bad = () => new ApiError({ status: 200, code: 'bad_response' });
  if (!body || typeof body !== 'object' || !Array.isArray(body.iceServers) || body.iceServers.length > 8) throw bad();
  const iceServers = body.iceServers.map((server) => {
    const urls = Array.isArray(server?.urls) ? server.urls : [server?.urls];
    if (urls.length === 0 || urls.length > 8 || !urls.every((url) => typeof url === 'string' && turnUrlPattern.test(url))) throw bad();
    if (typeof server.username !== 'string' || typeof server.credential !== 'string' || server.username.length > 256 || server.credential.length > 256) throw bad();
    return Object.freeze({ urls: Object.freeze([...urls]), username: server.username, credential: server.credential });
  });
  if (body.iceTransportPolicy !== 'all' && body.iceTransportPolicy !== 'relay') throw bad();
  return Object.freeze({
    iceServers: Object.freeze(iceServers), iceTransportPolicy: body.iceTransportPolicy,
    ttl: Number.isSafeInteger(body.ttl) ? body.ttl : 0, expiresAt: Number.isSafeInteger(body.expiresAt) ? body.expiresAt : 0,
  });
}

/**
 * The JSON request function of the API clients: same-origin with the session cookie, no cache;
 * resolves to the parsed body (null for 204); a failure is an ApiError with the server's code.
 * `options.signal` (an AbortSignal) gives the caller a way to give up on a request that never
 * settles (a hung server): the abort is a failure with no answer (status 0, code 'network').
 */
export function createJsonRequest({ baseUrl = '', fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
  return async function request(method, path, body, { signal } = {}) {
    const init = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    };
    if (signal) init.signal = signal;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, init);
    } catch (cause) {
      throw new ApiError({ status: 0, code: networkErrorCode, cause });
    }
    if (response.ok) {
      if (response.status === 204) return null;
      try {
        return await response.json();
      } catch (cause) {
        throw new ApiError({ status: response.status, code: 'bad_response', cause });
      }
    }
    const parsed = await readErrorBody(response);
    throw new ApiError({
      status: response.status,
      code: parsed?.code ?? codeByStatus.get(response.status) ?? `http_${response.status}`,
      serverMessage: parsed?.message ?? '',
      retryAfterSeconds: parseRetryAfter(response.headers?.get?.('Retry-After') ?? null),
    });
  };
}

/**
 * Creates the API client. Options: { baseUrl = '', fetchImpl = globalThis.fetch }.
 * Unknown options are rejected so a typo does not silently change behaviour.
 */
export function createApiClient(options = {}) {
  const allowed = ['baseUrl', 'fetchImpl'];
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) throw new TypeError(`createApiClient: unknown option ${name}`);
  }
  const baseUrl = options.baseUrl ?? '';
  const fetchImpl = options.fetchImpl ?? globalThis.fetch.bind(globalThis);

  const request = createJsonRequest({ baseUrl, fetchImpl });

  return Object.freeze({
    register: ({ username, password }) =>
      request('POST', '/api/v1/accounts', { username, password }).then((r) => r.user),
    login: ({ username, password }) =>
      request('POST', '/api/v1/session', { username, password }).then((r) => r.user),
    logout: () => request('DELETE', '/api/v1/session'),
    /** `{ signal }`: an AbortSignal ending the question (the login checks time it out). */
    me: ({ signal } = {}) => request('GET', '/api/v1/me', undefined, { signal }).then((r) => r.user),
    changePassword: ({ currentPassword, newPassword }) =>
      request('PUT', '/api/v1/me/password', { current_password: currentPassword, new_password: newPassword }),
    deleteAccount: ({ password }) => request('DELETE', '/api/v1/me', { password }),
    /**
     * Short-lived TURN credentials and the ICE server list (docs/api.md "TURN credentials"):
     * { iceServers: [{urls, username, credential}], iceTransportPolicy: 'all'|'relay', ttl, expiresAt }.
     * Only well-formed entries are kept: the result goes straight into an RTCPeerConnection.
     */
    turnCredentials: () => request('GET', '/api/v1/turn').then(checkTurnCredentials),
  });
}
