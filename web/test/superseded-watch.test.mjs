// A window taken over by another one (close 4409) asks whether its login still exists, on a slow
// timer and when it comes back into view (web/src/app/superseded-watch.js), so a login ended
// elsewhere (password change, logins ended, account disabled) is wiped here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSupersededWatch } from '../src/app/superseded-watch.js';

function manualTimers() {
  const intervals = new Map();
  const timeouts = new Map();
  let next = 1;
  return {
    setInterval: (fn, ms) => { const id = next++; intervals.set(id, { fn, ms }); return id; },
    clearInterval: (id) => { intervals.delete(id); },
    setTimeout: (fn, ms) => { const id = next++; timeouts.set(id, { fn, ms }); return id; },
    clearTimeout: (id) => { timeouts.delete(id); },
    tick() { for (const { fn } of [...intervals.values()]) fn(); },
    expire() { const due = [...timeouts.values()]; timeouts.clear(); for (const { fn } of due) fn(); },
    intervals,
    timeouts,
  };
}

const unauthorized = () => Promise.reject(Object.assign(new Error('401'), { status: 401 }));
const valid = () => Promise.resolve({ username: 'alice' });
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setUp(answers) {
  const timers = manualTimers();
  const events = new EventTarget();
  const visibility = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  let asked = 0;
  let gone = 0;
  const watch = createSupersededWatch({
    me: () => { asked += 1; return (answers.shift() ?? valid)(); },
    onLoginGone: () => { gone += 1; },
    everyMs: 30_000,
    events,
    visibility,
    ...timers,
  });
  return { watch, timers, events, visibility, asked: () => asked, gone: () => gone };
}

test('superseded watch: asks on its slow timer; a 401 ends the session once and stops asking', async () => {
  const s = setUp([valid, unauthorized]);
  s.watch.start();
  assert.equal(s.timers.intervals.size, 1);
  assert.equal([...s.timers.intervals.values()][0].ms, 30_000);
  s.timers.tick();
  await settle();
  assert.deepEqual([s.asked(), s.gone()], [1, 0]);
  s.timers.tick();
  await settle();
  assert.deepEqual([s.asked(), s.gone()], [2, 1]);
  assert.equal(s.watch.active(), false);
  assert.equal(s.timers.intervals.size, 0);
  s.events.dispatchEvent(new Event('focus'));
  await settle();
  assert.deepEqual([s.asked(), s.gone()], [2, 1], 'no question after the end');
});

test('superseded watch: focus, online and becoming visible ask at once; hidden does not', async () => {
  const s = setUp([valid, valid, valid, unauthorized]);
  s.watch.start();
  s.events.dispatchEvent(new Event('focus'));
  await settle();
  s.events.dispatchEvent(new Event('online'));
  await settle();
  s.visibility.visibilityState = 'hidden';
  s.visibility.dispatchEvent(new Event('visibilitychange'));
  await settle();
  assert.equal(s.asked(), 2);
  s.visibility.visibilityState = 'visible';
  s.visibility.dispatchEvent(new Event('visibilitychange'));
  await settle();
  assert.equal(s.asked(), 3);
  s.events.dispatchEvent(new Event('focus'));
  await settle();
  assert.equal(s.gone(), 1);
});

test('superseded watch: stopped by "Use here", it neither asks nor reports a late 401', async () => {
  let release;
  const s = setUp([() => new Promise((resolve, reject) => { release = reject; })]);
  s.watch.start();
  s.events.dispatchEvent(new Event('focus'));
  s.watch.stop();
  release(Object.assign(new Error('401'), { status: 401 }));
  await settle();
  assert.equal(s.gone(), 0, 'the reconnecting socket handles its own 401');
  s.events.dispatchEvent(new Event('focus'));
  s.timers.tick();
  await settle();
  assert.equal(s.asked(), 1);
  // Started again by a later takeover: asks again.
  s.watch.start();
  s.events.dispatchEvent(new Event('focus'));
  await settle();
  assert.equal(s.asked(), 2);
});

test('superseded watch: a hung question times out, one at a time, and the next one is asked', async () => {
  const s = setUp([() => new Promise(() => {}), unauthorized]);
  s.watch.start();
  s.events.dispatchEvent(new Event('focus'));
  s.events.dispatchEvent(new Event('focus'));
  await settle();
  assert.equal(s.asked(), 1, 'a burst of events asks once');
  s.timers.expire();
  await settle();
  s.timers.tick();
  await settle();
  assert.deepEqual([s.asked(), s.gone()], [2, 1]);
  assert.throws(() => createSupersededWatch({ me: null, onLoginGone: () => {} }), TypeError);
});
