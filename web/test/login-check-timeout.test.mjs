// The login check's question has a time limit (web/src/app/login-check.js): one GET /api/v1/me
// that never settles (a hung server, a black-holed path) must not switch the check off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLoginCheck, askLogin } from '../src/app/login-check.js';

/** Timers run by hand: fire() runs every pending one. */
function manualTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout: (fn, ms) => { const id = next++; pending.set(id, { fn, ms }); return id; },
    clearTimeout: (id) => { pending.delete(id); },
    fire() {
      const due = [...pending.values()];
      pending.clear();
      for (const { fn } of due) fn();
    },
    count: () => pending.size,
  };
}

const unauthorized = () => Promise.reject(Object.assign(new Error('401'), { status: 401 }));

test('login check: a question that never settles times out, and the next failure asks again', async () => {
  const timers = manualTimers();
  const signals = [];
  let gone = 0;
  const answers = [() => new Promise(() => {}), unauthorized];
  const check = createLoginCheck({
    me: ({ signal } = {}) => { signals.push(signal); return answers.shift()(); },
    onLoginGone: () => { gone += 1; },
    timeoutMs: 10_000,
    ...timers,
  });
  const hung = check({ consecutiveFailures: 1 });
  assert.equal(await check({ consecutiveFailures: 2 }), 'skipped', 'one question at a time');
  assert.equal(timers.count(), 1);
  timers.fire();   // the time limit passes
  assert.equal(await hung, 'unknown');
  assert.equal(signals[0].aborted, true, 'the hung request is aborted');
  // The server is back and says the login is gone: told at the next failure.
  assert.equal(await check({ consecutiveFailures: 3 }), 'gone');
  assert.equal(gone, 1);
  assert.equal(signals.length, 2);
  assert.equal(timers.count(), 0, 'no timer left behind by an answered question');
});

test('askLogin: an answer before the time limit clears the timer; a synchronous throw is no answer', async () => {
  const timers = manualTimers();
  assert.equal(await askLogin({ me: () => Promise.resolve({}), ...timers }), 'valid');
  assert.equal(await askLogin({ me: unauthorized, ...timers }), 'gone');
  assert.equal(await askLogin({ me: () => { throw new TypeError('boom'); }, ...timers }), 'unknown');
  assert.equal(timers.count(), 0);
});
