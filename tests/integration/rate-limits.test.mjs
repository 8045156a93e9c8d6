// Login throttling against the real server (OWASP Authentication Cheat Sheet: slow the guesser,
// never lock the owner out). Each block runs its own server with small limits; a second client
// is a second loopback address (127.0.0.2, …), which the server counts as another client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login, loopbackRateLimits, register, request, startServer } from '../helpers/secms-server.mjs';

const ATTACKER = '127.0.0.2';
const OWNER = '127.0.0.1';

function assertRateLimited(res) {
  assert.equal(res.status, 429, res.body);
  assert.equal(res.json?.error?.code, 'rate_limited', res.body);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
  assert.equal(res.headers['set-cookie'], undefined);
  return retryAfter;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

describe('failed logins are throttled per account and address, not per account', () => {
  let server;
  before(async () => {
    server = await startServer({
      extraArgs: [...loopbackRateLimits, '--login-free-failures', '3', '--login-delay-base-s', '1',
        '--login-delay-max-s', '2'],
    });
    assert.equal((await register(server, 'victim', 'victim password')).status, 201);
  });
  after(() => server?.stop());

  const guess = (password, username = 'victim') => login(server, username, password, { localAddress: ATTACKER });

  test('the attacker address gets 429 with Retry-After after its free failures', async () => {
    for (let i = 0; i < 3; i++) {
      const { res } = await guess(`wrong guess ${i}`);
      assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body}`);
    }
    assert.equal(assertRateLimited((await guess('wrong guess 3')).res), 1);
    // While throttled the right password does not get through from there either (no oracle),
    // and the key ignores case.
    assertRateLimited((await guess('victim password')).res);
    assertRateLimited((await guess('wrong guess 4', 'VICTIM')).res);
  });

  test('the owner logs in at once from another address while the attacker is throttled', async () => {
    const { value, ms } = await timed(() => login(server, 'victim', 'victim password', { localAddress: OWNER }));
    assert.equal(value.res.status, 200, value.res.body);
    assert.ok(ms < 2_000, `owner login took ${ms.toFixed(0)} ms`);
    assert.ok(value.cookie);

    // …and changes the password from that session while the attacker keeps hammering.
    for (let i = 0; i < 5; i++) assertRateLimited((await guess(`more guessing ${i}`)).res);
    const changed = await request(server, 'PUT', '/api/v1/me/password', {
      cookie: value.cookie,
      json: { current_password: 'victim password', new_password: 'victim password two' },
    });
    assert.equal(changed.status, 204, changed.body);
    const again = await login(server, 'victim', 'victim password two', { localAddress: OWNER });
    assert.equal(again.res.status, 200, again.res.body);
    assertRateLimited((await guess('victim password two')).res); // the attacker is still throttled
  });

  test('the delay doubles and is capped', async () => {
    await sleep(1_100); // the 1 s delay of the test above
    let { res } = await guess('after waiting 1');
    assert.equal(res.status, 401, res.body);
    assert.equal(assertRateLimited((await guess('too soon')).res), 2);
    await sleep(2_100);
    ({ res } = await guess('after waiting 2'));
    assert.equal(res.status, 401, res.body);
    assert.equal(assertRateLimited((await guess('too soon again')).res), 2); // capped at 2 s
  });
});

describe('the per-account ceiling slows, never refuses', () => {
  let server;
  before(async () => {
    server = await startServer({
      extraArgs: [...loopbackRateLimits, '--login-account-ceiling', '4', '--login-account-slowdown-ms', '1500'],
    });
    assert.equal((await register(server, 'target', 'target password')).status, 201);
    assert.equal((await register(server, 'bystander', 'bystander password')).status, 201);
  });
  after(() => server?.stop());

  test('guesses spread over many addresses slow the account down but the owner still logs in', async () => {
    for (let i = 0; i < 4; i++) {
      const { res } = await login(server, 'target', `spread guess ${i}`, { localAddress: `127.0.0.${10 + i}` });
      assert.equal(res.status, 401, res.body);
    }
    const owner = await timed(() => login(server, 'target', 'target password', { localAddress: OWNER }));
    assert.equal(owner.value.res.status, 200, owner.value.res.body);
    assert.ok(owner.ms >= 1_400, `owner login was not slowed (${owner.ms.toFixed(0)} ms)`);
    const other = await timed(() => login(server, 'bystander', 'bystander password', { localAddress: OWNER }));
    assert.equal(other.value.res.status, 200, other.value.res.body);
    assert.ok(other.ms < 1_400, `another account was slowed (${other.ms.toFixed(0)} ms)`);
  });
});

describe('per-IP login limit', () => {
  let server;
  before(async () => {
    server = await startServer({ extraArgs: ['--login-per-ip-burst', '3', '--login-per-ip-per-minute', '1'] });
  });
  after(() => server?.stop());

  test('over-long usernames answer 400 at once and are not counted', async () => {
    for (let i = 0; i < 10; i++) {
      const username = `${'u'.repeat(60_000)}${i}`;
      const { value, ms } = await timed(() => login(server, username, 'some password'));
      assert.equal(value.res.status, 400, value.res.body);
      assert.equal(value.res.json?.error?.code, 'invalid_username');
      assert.ok(ms < 1_000, `over-long username took ${ms.toFixed(0)} ms`);
    }
    // Not one of them took a token of the per-address limit.
    const { res } = await login(server, 'user0', 'some password');
    assert.equal(res.status, 401, res.body);
  });

  test('the 4th login from one IP, across different accounts, gets 429 rate_limited', async () => {
    for (let i = 1; i < 3; i++) {
      const { res } = await login(server, `user${i}`, 'some password');
      assert.equal(res.status, 401, `attempt ${i + 1}: ${res.body}`);
    }
    assertRateLimited((await login(server, 'user9', 'some password')).res);
    // Another address is another client.
    const { res } = await login(server, 'user9', 'some password', { localAddress: ATTACKER });
    assert.equal(res.status, 401, res.body);
  });
});
