// When the app WebSocket cannot connect, is the login still valid? A refused upgrade (401: the
// server forgot the login — it restarted, or the login ended) looks exactly like a network failure
// from inside the page, so the app asks GET /api/v1/me.
//
// Asking on every failed attempt would add a REST request to each retry of a long outage; asking
// only every fifth attempt left the user staring at "reconnecting" for minutes after a server
// restart (the backoff reaches 30 s). So: ask on the first failure and on every failure after a
// question the server did not answer (it was down, so the next answer may be the one that
// counts); once the server has said the login is valid, ask only every fifth failure.

/** Failures between two questions while the server says the login is still valid. */
export const validLoginCheckEvery = 5;

/**
 * How long one question may take. A request to a hung server (or over a black-holed path) would
 * otherwise stay pending for minutes, and every failure meanwhile would be skipped: the check
 * would be off until the browser gave up. A question past this is "no answer".
 */
export const loginQuestionTimeoutMs = 10_000;

/**
 * Asks me({ signal }) once, giving up after timeoutMs: resolves to what it found, 'valid' |
 * 'gone' (401) | 'unknown' (no answer in time, network, another error). Also used while a
 * superseded window waits (./superseded-watch.js).
 */
export async function askLogin({ me, timeoutMs = loginQuestionTimeoutMs, setTimeout: schedule = (fn, ms) => setTimeout(fn, ms), clearTimeout: unschedule = (handle) => clearTimeout(handle) }) {
  const controller = new AbortController();
  let timer = null;
  const timedOut = new Promise((resolve) => {
    timer = schedule(() => {
      controller.abort(new Error('login question timed out'));
      resolve('unknown');
    }, timeoutMs);
  });
  let question;
  try {
    question = Promise.resolve(me({ signal: controller.signal }));
  } catch (error) {
    question = Promise.reject(error);
  }
  const answered = question.then(
    () => 'valid',
    (error) => (error?.status === 401 ? 'gone' : 'unknown'),
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    unschedule(timer);
  }
}

/**
 * Options: { me({ signal }) → Promise (rejects with error.status 401 when the login is gone),
 * onLoginGone() (called once), timeoutMs, setTimeout, clearTimeout (tests) }. Returns
 * onConnectFailure({ consecutiveFailures }) → Promise resolving to what it found:
 * 'skipped' | 'gone' | 'valid' | 'unknown'.
 */
export function createLoginCheck({
  me, onLoginGone, timeoutMs = loginQuestionTimeoutMs,
  setTimeout: schedule = (fn, ms) => setTimeout(fn, ms), clearTimeout: unschedule = (handle) => clearTimeout(handle),
}) {
  if (typeof me !== 'function' || typeof onLoginGone !== 'function') throw new TypeError('createLoginCheck: me and onLoginGone functions required');
  let serverAnswered = false;   // the last question got an answer saying the login is valid
  let gone = false;
  let asking = false;

  return async function onConnectFailure({ consecutiveFailures }) {
    if (gone || asking) return 'skipped';
    const due = consecutiveFailures === 1 || !serverAnswered || consecutiveFailures % validLoginCheckEvery === 0;
    if (!due) return 'skipped';
    asking = true;
    let found;
    try {
      found = await askLogin({ me, timeoutMs, setTimeout: schedule, clearTimeout: unschedule });
    } finally {
      asking = false;
    }
    if (found === 'gone') {
      gone = true;
      onLoginGone();
    } else {
      // 'unknown': no answer (server down, hung, network) or another error: the next failure asks again.
      serverAnswered = found === 'valid';
    }
    return found;
  };
}
