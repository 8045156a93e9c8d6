// Client of the administration API (/api/v1/admin, docs/api.md "Admin"): one function per
// endpoint, for logins with the admin role. Same-origin, cookie only, JSON bodies. Every failure
// is an ApiError (net/api-client.js) with a stable `code`; answers are checked against the
// documented form before the panel shows them (a username outside the server's rules, a role it
// does not know, is a bad_response, never rendered).

import { ApiError, networkErrorCode, parseRetryAfter } from './api-client.js';

const base = '/api/v1/admin';

export const adminRoles = Object.freeze(['user', 'moderator', 'admin']);
/** Page size bounds of GET /users (the server refuses others). */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

// The server's username rule (auth/: 3 to 32 of [A-Za-z0-9._-], starting with a letter or digit).
const usernamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$/;
const codePattern = /^[a-z_]{1,64}$/;

// Used when an error answer has no readable code (a proxy page, an empty 502…).
const codeByStatus = new Map([
  [400, 'bad_request'], [401, 'not_authenticated'], [403, 'forbidden'], [404, 'not_found'],
  [409, 'conflict'], [413, 'payload_too_large'], [415, 'unsupported_media_type'], [429, 'rate_limited'],
  [500, 'internal'], [502, 'unavailable'], [503, 'unavailable'], [504, 'unavailable'],
]);

export const isValidUsername = (username) => typeof username === 'string' && usernamePattern.test(username);

// The server writes errors as {"error":{"code","message"}}; the short form {"error":"code"} is
// read too, so the panel never depends on which of the two an endpoint uses.
async function readErrorCode(response) {
  try {
    const body = await response.json();
    const error = body && typeof body === 'object' ? body.error : null;
    if (typeof error === 'string' && codePattern.test(error)) return error;
    if (error && typeof error.code === 'string' && codePattern.test(error.code)) return error.code;
  } catch {
    // Not JSON: the status tells what it can.
  }
  return null;
}

const badResponse = (cause) => new ApiError({ status: 200, code: 'bad_response', cause });

/** One user of the list answer, checked; throws bad_response when it is not of the documented form. */
function checkUser(entry) {
  if (!entry || typeof entry !== 'object') throw badResponse();
  const { username, role, disabled, created_at: createdAt, logins } = entry;
  if (!isValidUsername(username) || !adminRoles.includes(role) || typeof disabled !== 'boolean') throw badResponse();
  if (!Number.isSafeInteger(logins) || logins < 0) throw badResponse();
  return Object.freeze({ username, role, disabled, createdAt: creationTime(createdAt), logins });
}

// created_at is an ISO 8601 time; Unix seconds (as /api/v1/me gives them) are read too. → an ISO
// string, or '' when absent or unreadable (the panel then leaves the date out).
function creationTime(value) {
  if (value === undefined || value === null) return '';
  const date = typeof value === 'number' && Number.isSafeInteger(value) ? new Date(value * 1000)
    : typeof value === 'string' && value.length <= 64 ? new Date(value) : null;
  if (!date) throw badResponse();
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** The GET /users answer, checked: → { users: [{username, role, disabled, createdAt, logins}], total }. */
export function checkUserPage(body) {
  if (!body || typeof body !== 'object' || !Array.isArray(body.users) || body.users.length > MAX_PAGE_SIZE) throw badResponse();
  if (!Number.isSafeInteger(body.total) || body.total < 0) throw badResponse();
  return Object.freeze({ users: Object.freeze(body.users.map(checkUser)), total: body.total });
}

/**
 * Options: { baseUrl = '', fetchImpl = globalThis.fetch }. Unknown options are rejected so a typo
 * does not silently change behaviour.
 */
export function createAdminApi(options = {}) {
  for (const name of Object.keys(options)) {
    if (!['baseUrl', 'fetchImpl'].includes(name)) throw new TypeError(`createAdminApi: unknown option ${name}`);
  }
  const baseUrl = options.baseUrl ?? '';
  const fetchImpl = options.fetchImpl ?? globalThis.fetch.bind(globalThis);

  async function request(method, path, body) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${base}${path}`, init);
    } catch (cause) {
      throw new ApiError({ status: 0, code: networkErrorCode, cause });
    }
    if (!response.ok) {
      const code = await readErrorCode(response);
      throw new ApiError({
        status: response.status,
        code: code ?? codeByStatus.get(response.status) ?? `http_${response.status}`,
        retryAfterSeconds: parseRetryAfter(response.headers?.get?.('Retry-After') ?? null),
      });
    }
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (cause) {
      throw new ApiError({ status: response.status, code: 'bad_response', cause });
    }
  }

  // A username goes into the path only when it follows the server's rule: nothing else can
  // change the path (no "/", "..", "?" or "#" can get through).
  const userPath = (username, tail = '') => {
    if (!isValidUsername(username)) throw new ApiError({ status: 0, code: 'bad_username' });
    return `/users/${encodeURIComponent(username)}${tail}`;
  };
  // Runs `make` lazily so a bad username is a rejected promise, as every other failure is.
  const call = (make) => Promise.resolve().then(make);

  return Object.freeze({
    /** → { users, total }; offset ≥ 0, 1 ≤ limit ≤ MAX_PAGE_SIZE. */
    listUsers({ offset = 0, limit = DEFAULT_PAGE_SIZE } = {}) {
      return call(() => {
        if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('listUsers: offset must be a non-negative integer');
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new RangeError(`listUsers: limit must be 1 to ${MAX_PAGE_SIZE}`);
        return request('GET', `/users?offset=${offset}&limit=${limit}`).then(checkUserPage);
      });
    },
    disable: (username) => call(() => request('POST', userPath(username, '/disable'), {})),
    enable: (username) => call(() => request('POST', userPath(username, '/enable'), {})),
    setRole: (username, role) => call(() => {
      if (!adminRoles.includes(role)) throw new ApiError({ status: 0, code: 'bad_role' });
      return request('POST', userPath(username, '/role'), { role });
    }),
    /** → the number of logins ended. */
    endLogins: (username) => call(() => request('POST', userPath(username, '/end-logins'), {})
      .then((body) => (Number.isSafeInteger(body?.ended) && body.ended >= 0 ? body.ended : 0))),
    deleteUser: (username) => call(() => request('DELETE', userPath(username))),
  });
}
