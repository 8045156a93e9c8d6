// The identity form and the server's mail domain: user@localhost is refused as a typo in
// general, but accepted when "localhost" is exactly the server's mail domain (the default), and
// the form is pre-filled with the user's mailbox address from GET /api/v1/mail/status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEmail, generateIdentity } from '../src/crypto/identity.js';
import { fetchMailboxIdentityDefaults, mailboxIdentityDefaults } from '../src/ui/identity-mailbox.js';

test('a dotless domain is accepted only when it is exactly the server mail domain', () => {
  assert.throws(() => checkEmail('alice@localhost'), { code: 'invalid_email' });
  assert.equal(checkEmail('alice@localhost', { localDomain: 'localhost' }), 'alice@localhost');
  assert.equal(checkEmail(' Alice@LocalHost ', { localDomain: 'localhost' }), 'Alice@LocalHost');
  assert.throws(() => checkEmail('alice@intranet', { localDomain: 'localhost' }), { code: 'invalid_email' });
  assert.throws(() => checkEmail('a b@localhost', { localDomain: 'localhost' }), { code: 'invalid_email' });
  assert.throws(() => checkEmail('@localhost', { localDomain: 'localhost' }), { code: 'invalid_email' });
  assert.throws(() => checkEmail('alice@local host', { localDomain: 'local host' }), { code: 'invalid_email' });
  assert.equal(checkEmail('alice@mail.test', { localDomain: 'localhost' }), 'alice@mail.test', 'dotted domains as before');
});

test('a key is made for user@localhost with the mail domain, refused without it', async () => {
  const key = await generateIdentity({ name: 'Alice', email: 'alice@localhost', localDomain: 'localhost' });
  assert.deepEqual(key.users.map((user) => user.userID.email), ['alice@localhost']);
  await assert.rejects(generateIdentity({ name: 'Alice', email: 'alice@localhost' }), { code: 'invalid_email' });
});

test('the mailbox status gives the address to pre-fill and the local domain', async () => {
  assert.deepEqual(mailboxIdentityDefaults({ enabled: true, address: 'alice@localhost', domain: 'localhost', account: 'local' }),
    { address: 'alice@localhost', localDomain: 'localhost' });
  assert.equal(mailboxIdentityDefaults({ enabled: false, address: 'alice@localhost' }), null);
  assert.equal(mailboxIdentityDefaults(null), null);
  const calls = [];
  const fetchImpl = async (url) => { calls.push(url); return { ok: true, json: async () => ({ enabled: true, address: 'bob@localhost', domain: 'localhost' }) }; };
  assert.deepEqual(await fetchMailboxIdentityDefaults(fetchImpl), { address: 'bob@localhost', localDomain: 'localhost' });
  assert.deepEqual(calls, ['/api/v1/mail/status']);
  assert.equal(await fetchMailboxIdentityDefaults(async () => ({ ok: false, status: 404 })), null, 'mail off: the form works without');
  assert.equal(await fetchMailboxIdentityDefaults(async () => { throw new Error('offline'); }), null);
});
