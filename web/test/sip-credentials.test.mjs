// The browser's SIP credentials: checked, renewed when 2/3 of their lifetime has passed (fake
// clock), retried with growing waits after a failure, never renewed after stop().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSipCredentials, createSipCredentialKeeper, renewalDelayMs, RETRY_FIRST_MS, MIN_RENEWAL_MS, MAX_TIMER_MS } from '../src/sip/sip-credentials.js';

// Expiries an hour from now: an answer whose expiry is already past is refused.
const base = Math.floor(Date.now() / 1000) + 3600;

const answer = (n, ttl = 3600) => ({
  aor: 'sip:alice@localhost', user: 'alice', domain: 'localhost', websocketUrl: 'wss://localhost:7443',
  authorizationUsername: `${base + n}:alice`, password: `pw${n}==`, expiresAt: base + n, ttl,
});

function fakeClock() {
  const timers = new Map();
  let now = 0;
  let next = 1;
  return {
    setTimeout(fn, ms) { const id = next++; timers.set(id, { fn, at: now + ms }); return id; },
    clearTimeout(id) { timers.delete(id); },
    pending: () => [...timers.values()].map((timer) => timer.at - now),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        for (let i = 0; i < 5; i += 1) await Promise.resolve();
      }
      now = until;
    },
  };
}

test('renewal comes at 2/3 of the lifetime, never sooner than the floor', () => {
  assert.equal(renewalDelayMs(3600), 2400 * 1000);
  assert.equal(renewalDelayMs(60), 40 * 1000);
  assert.equal(renewalDelayMs(3), MIN_RENEWAL_MS);
});

test('malformed answers are refused', () => {
  assert.throws(() => checkSipCredentials({ ...answer(0), websocketUrl: 'https://x' }), { code: 'bad_response' });
  assert.throws(() => checkSipCredentials({ ...answer(0), ttl: 0 }), { code: 'bad_response' });
  assert.throws(() => checkSipCredentials({ ...answer(0), aor: 'alice' }), { code: 'bad_response' });
  assert.equal(checkSipCredentials(answer(1)).password, 'pw1==');
});

test('lifetimes outside 60..86400 s, past expiries and clear ws: URLs are refused', () => {
  for (const ttl of [59, 86_401, 4e6, -1, 3600.5]) {
    assert.throws(() => checkSipCredentials(answer(0, ttl)), { code: 'bad_response' }, `ttl ${ttl}`);
  }
  assert.equal(checkSipCredentials(answer(0, 60)).ttl, 60);
  assert.equal(checkSipCredentials(answer(0, 86_400)).ttl, 86_400);
  const now = Date.now();
  assert.throws(() => checkSipCredentials({ ...answer(0), expiresAt: Math.floor(now / 1000) }, now), { code: 'bad_response' }, 'expiry now');
  assert.throws(() => checkSipCredentials({ ...answer(0), expiresAt: -5 }), { code: 'bad_response' }, 'negative expiry');
  assert.throws(() => checkSipCredentials({ ...answer(0), websocketUrl: 'ws://localhost:7443' }), { code: 'bad_response' }, 'clear WebSocket');
  assert.equal(checkSipCredentials(answer(0)).websocketUrl, 'wss://localhost:7443');
});

test('the renewal delay never exceeds what a timer keeps (2^31-1 ms), so a huge ttl cannot loop', () => {
  assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
  assert.ok(renewalDelayMs(4e6) <= MAX_TIMER_MS);
  assert.ok(renewalDelayMs(Number.MAX_SAFE_INTEGER) <= MAX_TIMER_MS);
  assert.equal(renewalDelayMs(86_400), 57_600_000);
});

test('a keeper given a huge ttl refuses it instead of fetching in a loop', async () => {
  const clock = fakeClock();
  let fetched = 0;
  const keeper = createSipCredentialKeeper({ fetchCredentials: async () => { fetched += 1; return answer(fetched, 4e6); }, clock });
  await assert.rejects(keeper.start(), { code: 'bad_response' });
  await clock.advance(1000);
  assert.equal(fetched, 1);
  assert.deepEqual(clock.pending(), []);
});

test('the keeper renews at 2/3 of the lifetime and hands over each new credential', async () => {
  const clock = fakeClock();
  let fetched = 0;
  const renewed = [];
  const keeper = createSipCredentialKeeper({ fetchCredentials: async () => answer(++fetched, 60), onRenewed: (c) => renewed.push(c.authorizationUsername), clock });
  const first = await keeper.start();
  assert.equal(first.authorizationUsername, `${base + 1}:alice`);
  assert.deepEqual(clock.pending(), [40_000]);
  await clock.advance(39_999);
  assert.equal(fetched, 1, 'not renewed before 2/3 of the lifetime');
  await clock.advance(1);
  assert.equal(fetched, 2);
  assert.deepEqual(renewed, [`${base + 2}:alice`]);
  assert.equal(keeper.current().password, 'pw2==');
  await clock.advance(40_000);
  assert.equal(fetched, 3);
  keeper.stop();
  await clock.advance(200_000);
  assert.equal(fetched, 3, 'nothing is fetched after stop()');
  assert.equal(keeper.current(), null);
});

test('start() can take the answer the page already has; failures are retried, 401 is not', async () => {
  const clock = fakeClock();
  let calls = 0;
  let mode = 'fail';
  const failures = [];
  const keeper = createSipCredentialKeeper({
    fetchCredentials: async () => {
      calls += 1;
      if (mode === 'fail') throw Object.assign(new Error('down'), { status: 503 });
      if (mode === 'logout') throw Object.assign(new Error('gone'), { status: 401 });
      return answer(calls, 90);
    },
    onRenewalFailed: (error) => failures.push(error.status),
    clock,
  });
  await keeper.start(answer(0, 90));
  assert.equal(calls, 0, 'the given answer is used as it is');
  await clock.advance(60_000);
  assert.equal(calls, 1);
  assert.deepEqual(clock.pending(), [RETRY_FIRST_MS]);
  await clock.advance(RETRY_FIRST_MS);
  assert.equal(calls, 2);
  assert.deepEqual(clock.pending(), [RETRY_FIRST_MS * 2], 'the wait doubles');
  mode = 'ok';
  await clock.advance(RETRY_FIRST_MS * 2);
  assert.equal(calls, 3);
  assert.deepEqual(clock.pending(), [60_000]);
  mode = 'logout';
  await clock.advance(60_000);
  assert.deepEqual(failures, [503, 503, 401]);
  assert.deepEqual(clock.pending(), [], 'no retry once logged out');
});

test('each field that reaches a SIP header or the WebSocket address is held to what the server makes', () => {
  const bad = {
    'authorizationUsername with CRLF and a header': { authorizationUsername: `${base}:alice"\r\nX-Injected: yes\r\nFoo: "` },
    'authorizationUsername with a quote': { authorizationUsername: `${base}:ali"ce` },
    'authorizationUsername of another user': { authorizationUsername: `${base}:bob` },
    'authorizationUsername without expiry': { authorizationUsername: ':alice' },
    'authorizationUsername with a device part': { authorizationUsername: `${base}:alice:0123456789abcdef` },
    'user with upper case': { user: 'Alice', aor: 'sip:Alice@localhost', authorizationUsername: `${base}:Alice` },
    'user too short': { user: 'al', aor: 'sip:al@localhost', authorizationUsername: `${base}:al` },
    'user with a quote': { user: 'al"ice', aor: 'sip:al"ice@localhost', authorizationUsername: `${base}:al"ice` },
    'domain with CRLF and markup': { domain: 'localhost\r\nX-Injected: yes<img src=x>', aor: 'sip:alice@localhost\r\nX-Injected: yes<img src=x>' },
    'domain with a space': { domain: 'local host', aor: 'sip:alice@local host' },
    'domain with a port': { domain: 'localhost:5060', aor: 'sip:alice@localhost:5060' },
    'aor of another user': { aor: 'sip:bob@localhost' },
    'aor with markup': { aor: 'sip:al"<b>ice@local>host' },
    'aor with another domain': { aor: 'sip:alice@evil.example' },
    'aor sips: while the others say sip:': { aor: 'sips:alice@localhost' },
    'websocketUrl with userinfo': { websocketUrl: 'wss://admin:pw@evil.example/' },
    'websocketUrl with user only': { websocketUrl: 'wss://admin@localhost:7443' },
    'websocketUrl with the backslash host trick': { websocketUrl: 'wss://evil.example\\@localhost/sip' },
    'websocketUrl with a path': { websocketUrl: 'wss://localhost:7443/sip' },
    'websocketUrl with a query': { websocketUrl: 'wss://localhost:7443/?x=1' },
    'websocketUrl with a hash': { websocketUrl: 'wss://localhost:7443/#x' },
    'websocketUrl with a newline': { websocketUrl: 'wss://local\nhost:7443' },
    'websocketUrl with a tab': { websocketUrl: 'wss://localhost:7443\t' },
    'websocketUrl ws:': { websocketUrl: 'ws://localhost:7443' },
    'websocketUrl https:': { websocketUrl: 'https://localhost:7443' },
    'websocketUrl without host': { websocketUrl: 'wss:///' },
  };
  for (const [what, patch] of Object.entries(bad)) {
    assert.throws(() => checkSipCredentials({ ...answer(0), ...patch }), { code: 'bad_response' }, what);
  }
  const good = [
    {},
    { websocketUrl: 'wss://127.0.0.1:7443' },
    { websocketUrl: 'wss://sip.example.org/' },
    { websocketUrl: 'wss://[::1]:7443' },
    { user: 'a.b-c_9', aor: 'sip:a.b-c_9@sip.example.org', domain: 'sip.example.org', authorizationUsername: `${base}:a.b-c_9` },
    { domain: '[::1]', aor: 'sip:alice@[::1]' },
  ];
  for (const patch of good) assert.doesNotThrow(() => checkSipCredentials({ ...answer(0), ...patch }), JSON.stringify(patch));
});
