// The admin panel's pure decisions (web/src/ui/admin/admin-model.js): the sentences of results
// and failures (in both languages), paging, and where focus goes after a deletion.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminErrorKey, adminResultKey, offsetAfterDelete, pageOf, usernameToFocusAfterRemoval } from '../src/ui/admin/admin-model.js';
import { ApiError } from '../src/net/api-client.js';
import { t, setLanguage } from '../src/i18n/index.js';
import en from '../src/i18n/en.js';

const apiError = (code, status = 409) => new ApiError({ status, code });

test('self and last_admin refusals name what happened, in English and French', () => {
  setLanguage('en');
  try {
    let message = adminErrorKey(apiError('self'), 'root1');
    assert.equal(t(message.key, message.params), 'You cannot do this to your own account.');
    message = adminErrorKey(apiError('last_admin'), 'root2');
    assert.match(t(message.key, message.params), /without an enabled administrator/);
    message = adminErrorKey(apiError('unknown_user', 404), 'gone');
    assert.equal(t(message.key, message.params), 'gone no longer exists. Refresh the list.');
    setLanguage('fr');
    message = adminErrorKey(apiError('last_admin'), 'root2');
    assert.match(t(message.key, message.params), /administrateur actif/);
  } finally {
    setLanguage('en');
  }
});

test('every admin error code and every general code has a sentence; an unknown one says its code', () => {
  for (const code of ['forbidden', 'bad_username', 'unknown_user', 'bad_role', 'self', 'last_admin', 'bad_response']) {
    assert.ok(adminErrorKey(apiError(code), 'x').key in en, code);
  }
  assert.deepEqual(adminErrorKey(apiError('rate_limited', 429), 'x'), { key: 'error.rate_limited', params: {} });
  assert.deepEqual(adminErrorKey(apiError('network', 0), 'x'), { key: 'error.network', params: {} });
  assert.deepEqual(adminErrorKey(new TypeError('boom'), 'x'), { key: 'error.network', params: {} });
  const unknown = adminErrorKey(apiError('strange_code'), 'x');
  assert.equal(t(unknown.key, unknown.params), 'Something went wrong (code strange_code).');
});

test('results say what was done to whom, with the plural of ended logins', () => {
  const say = (action, details) => { const { key, params } = adminResultKey(action, details); return t(key, params); };
  assert.equal(say('disable', { username: 'bob' }), 'bob is disabled; their logins were ended.');
  assert.equal(say('enable', { username: 'bob' }), 'bob is enabled.');
  assert.equal(say('role', { username: 'bob', role: 'Moderator' }), 'The role of bob is now Moderator.');
  assert.equal(say('end-logins', { username: 'bob', ended: 1 }), '1 login of bob was ended.');
  assert.equal(say('end-logins', { username: 'bob', ended: 3 }), '3 logins of bob were ended.');
  assert.equal(say('delete', { username: 'bob' }), 'The account bob was deleted.');
  assert.throws(() => adminResultKey('promote', { username: 'bob' }), RangeError);
});

test('paging: first, middle, last and empty pages', () => {
  assert.deepEqual({ ...pageOf({ offset: 0, limit: 25, shown: 25, total: 60 }) }, { from: 1, to: 25, total: 60, previousOffset: null, nextOffset: 25 });
  assert.deepEqual({ ...pageOf({ offset: 25, limit: 25, shown: 25, total: 60 }) }, { from: 26, to: 50, total: 60, previousOffset: 0, nextOffset: 50 });
  assert.deepEqual({ ...pageOf({ offset: 50, limit: 25, shown: 10, total: 60 }) }, { from: 51, to: 60, total: 60, previousOffset: 25, nextOffset: null });
  assert.deepEqual({ ...pageOf({ offset: 0, limit: 25, shown: 0, total: 0 }) }, { from: 0, to: 0, total: 0, previousOffset: null, nextOffset: null });
});

test('after a deletion the same page is shown, or the one before when the last page empties', () => {
  assert.equal(offsetAfterDelete({ offset: 25, limit: 25, total: 60 }), 25);
  assert.equal(offsetAfterDelete({ offset: 50, limit: 25, total: 51 }), 25, 'the only row of the last page went');
  assert.equal(offsetAfterDelete({ offset: 0, limit: 25, total: 1 }), 0);
});

test('focus after a deletion: the row that took its place, else the one before, else none', () => {
  assert.equal(usernameToFocusAfterRemoval(['a', 'b', 'c'], 'b', ['a', 'c']), 'c');
  assert.equal(usernameToFocusAfterRemoval(['a', 'b', 'c'], 'c', ['a', 'b']), 'b');
  assert.equal(usernameToFocusAfterRemoval(['a'], 'a', []), null);
  // The page moved back after its last row went: its rows are all new, the last one takes focus.
  assert.equal(usernameToFocusAfterRemoval(['z'], 'z', ['w', 'x', 'y']), 'y');
});
