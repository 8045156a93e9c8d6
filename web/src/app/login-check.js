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
 * Options: { me() → Promise (rejects with error.status 401 when the login is gone),
 * onLoginGone() (called once) }. Returns onConnectFailure({ consecutiveFailures }) → Promise
 * resolving to what it found: 'skipped' | 'gone' | 'valid' | 'unknown'.
 */
export function createLoginCheck({ me, onLoginGone }) {
  if (typeof me !== 'function' || typeof onLoginGone !== 'function') throw new TypeError('createLoginCheck: me and onLoginGone functions required');
  let serverAnswered = false;   // the last question got an answer saying the login is valid
  let gone = false;
  let asking = false;

  return async function onConnectFailure({ consecutiveFailures }) {
    if (gone || asking) return 'skipped';
    const due = consecutiveFailures === 1 || !serverAnswered || consecutiveFailures % validLoginCheckEvery === 0;
    if (!due) return 'skipped';
    asking = true;
    try {
      await me();
      serverAnswered = true;
      return 'valid';
    } catch (error) {
      if (error?.status === 401) {
        gone = true;
        onLoginGone();
        return 'gone';
      }
      // No answer (server down, network) or another error: the next failure asks again.
      serverAnswered = false;
      return 'unknown';
    } finally {
      asking = false;
    }
  };
}
