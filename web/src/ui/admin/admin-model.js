// What the admin panel decides without the DOM (pure; web/test/admin-model.test.mjs): the text
// of an action's result or failure, the paging of the user list, and where focus goes once a
// row is gone.

import { errorMessageKey } from '../../net/api-client.js';

/** The actions a row offers; each has its result and progress text in the catalogue. */
export const adminActions = Object.freeze(['disable', 'enable', 'role', 'end-logins', 'delete']);

// Codes of the admin API (docs/api.md "Admin") with a sentence of their own; others are the
// app's general errors (error.*).
const adminErrorCodes = Object.freeze(['forbidden', 'bad_username', 'unknown_user', 'bad_role', 'self', 'last_admin', 'bad_response']);

/**
 * The catalogue key of a failed action: → { key, params }. `username` names the account the
 * action was about, so the sentence can say whose it was.
 */
export function adminErrorKey(error, username) {
  const code = error?.code;
  if (adminErrorCodes.includes(code)) return { key: `admin.error.${code}`, params: { username } };
  return errorMessageKey(error);
}

/** The catalogue key of a successful action: → { key, params }. */
export function adminResultKey(action, { username, role, ended } = {}) {
  switch (action) {
    case 'disable': return { key: 'admin.result.disabled', params: { username } };
    case 'enable': return { key: 'admin.result.enabled', params: { username } };
    case 'role': return { key: 'admin.result.role', params: { username, role } };
    case 'end-logins': return { key: 'admin.result.logins_ended', params: { username, count: Number.isSafeInteger(ended) ? ended : 0 } };
    case 'delete': return { key: 'admin.result.deleted', params: { username } };
    default: throw new RangeError(`adminResultKey: unknown action ${action}`);
  }
}

/**
 * The paging of a list answer: → { from, to, total, previousOffset (null on the first page),
 * nextOffset (null on the last) }. from/to are 1-based and 0 when the page is empty.
 */
export function pageOf({ offset, limit, shown, total }) {
  const from = shown > 0 ? offset + 1 : 0;
  const to = shown > 0 ? offset + shown : 0;
  return Object.freeze({
    from, to, total,
    previousOffset: offset > 0 ? Math.max(0, offset - limit) : null,
    nextOffset: offset + limit < total ? offset + limit : null,
  });
}

/**
 * The offset to show after an account was deleted: the same page, unless it was the last one
 * and is now empty (then the page before it).
 */
export function offsetAfterDelete({ offset, limit, total }) {
  const remaining = Math.max(0, total - 1);
  if (offset < remaining) return offset;
  return Math.max(0, offset - limit);
}

/**
 * Where focus goes once `removed` left the list (WAI-ARIA APG: never on <body>): the row that
 * took its place, else the row before it, else the page's last row, else null (the list's heading).
 */
export function usernameToFocusAfterRemoval(before, removed, after) {
  const index = before.indexOf(removed);
  if (index < 0) return after[0] ?? null;
  const following = before.slice(index + 1).find((username) => after.includes(username));
  if (following) return following;
  const preceding = before.slice(0, index).reverse().find((username) => after.includes(username));
  // None of its neighbours is shown: the page moved back after its last row went, so the row
  // nearest to it is the last one of the page now shown.
  return preceding ?? after.at(-1) ?? null;
}
