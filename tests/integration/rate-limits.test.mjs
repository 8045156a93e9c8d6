// Login rate limits per account and per IP (DESIGN.md §8), each on its own server with low limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, register, startServer } from '../helpers/secms-server.mjs';

function assertRateLimited(res) {
  assert.equal(res.status, 429, res.body);
  assert.equal(res.json?.error?.code, 'rate_limited', res.body);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
  assert.equal(res.headers['set-cookie'], undefined);
}

describe('per-account login limit', () => {
  let server;
  before(async () => {
    server = await startServer({
      extraArgs: ['--login-per-account-burst', '3', '--login-per-account-per-minute', '1'],
    });
    assert.equal((await register(server, 'victim', 'victim password')).status, 201);
    assert.equal((await register(server, 'bystander', 'bystander password')).status, 201);
  });
  after(() => server?.stop());

  test('the 4th wrong login for one account gets 429 rate_limited with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const { res } = await login(server, 'victim', `wrong guess ${i}`);
      assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body}`);
      assert.equal(res.json.error.code, 'invalid_credentials');
    }
    assertRateLimited((await login(server, 'victim', 'wrong guess 3')).res);
    // While limited, even the right password does not get through (no oracle for the guesser).
    assertRateLimited((await login(server, 'victim', 'victim password')).res);
    // The limit key ignores case, so VICTIM is the same account.
    assertRateLimited((await login(server, 'VICTIM', 'wrong guess 4')).res);
  });

  test('other accounts are not affected', async () => {
    const { res } = await login(server, 'bystander', 'bystander password');
    assert.equal(res.status, 200, res.body);
  });
});

describe('per-IP login limit', () => {
  let server;
  before(async () => {
    server = await startServer({ extraArgs: ['--login-per-ip-burst', '3', '--login-per-ip-per-minute', '1'] });
  });
  after(() => server?.stop());

  test('the 4th login from one IP, across different accounts, gets 429 rate_limited', async () => {
    for (let i = 0; i < 3; i++) {
      const { res } = await login(server, `user${i}`, 'some password');
      assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body}`);
    }
    assertRateLimited((await login(server, 'user9', 'some password')).res);
  });
});
