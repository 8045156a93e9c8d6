// While this window shows "Opened in another window" (the server closed its socket with 4409),
// it has no socket, so it never gets the 4401 that tells a window its login ended (password
// changed or logins ended on another device, account disabled or deleted, logout elsewhere,
// expiry). Without a question it would keep its Worker, with the unlocked key, its pins and its
// history for as long as the tab stays open. So, while the notice is shown, it asks GET
// /api/v1/me on a slow timer and whenever the window comes back into view (focus,
// visibilitychange, online); a 401 is handled as every other end of the session (stop, wipe,
// "session ended"). A slow timer only: the question is a cheap GET, and the window is idle.

import { askLogin, loginQuestionTimeoutMs } from './login-check.js';

/** Time between two questions while the notice is shown. */
export const supersededCheckEveryMs = 30_000;

/**
 * Options: { me({ signal }) → Promise (rejects with status 401 when the login is gone),
 *   onLoginGone() (called once), everyMs, timeoutMs,
 *   events: an EventTarget for 'focus' and 'online' (the window), visibility: an EventTarget for
 *   'visibilitychange' with a visibilityState (the document),
 *   setInterval/clearInterval/setTimeout/clearTimeout (tests) }.
 * → { start(), stop(), check() → Promise<'valid'|'gone'|'unknown'|'skipped'>, active () → bool }.
 */
export function createSupersededWatch(options) {
  const {
    me, onLoginGone, everyMs = supersededCheckEveryMs, timeoutMs = loginQuestionTimeoutMs,
    events = null, visibility = null,
    setInterval: every = (fn, ms) => setInterval(fn, ms), clearInterval: stopEvery = (handle) => clearInterval(handle),
    setTimeout: schedule = (fn, ms) => setTimeout(fn, ms), clearTimeout: unschedule = (handle) => clearTimeout(handle),
  } = options;
  if (typeof me !== 'function' || typeof onLoginGone !== 'function') throw new TypeError('createSupersededWatch: me and onLoginGone functions required');
  let timer = null;
  let asking = null;
  let gone = false;

  async function check() {
    if (timer === null || gone) return 'skipped';
    if (asking) return asking;   // one question at a time; a burst of focus events asks once
    asking = askLogin({ me, timeoutMs, setTimeout: schedule, clearTimeout: unschedule });
    try {
      const found = await asking;
      // Stopped meanwhile ("Use here" was pressed): the socket's own checks take over.
      if (found === 'gone' && timer !== null && !gone) {
        gone = true;
        stop();
        onLoginGone();
      }
      return found;
    } finally {
      asking = null;
    }
  }

  const onShown = () => { check(); };
  const onVisibility = () => { if (visibility?.visibilityState !== 'hidden') check(); };

  function start() {
    if (timer !== null || gone) return;
    timer = every(onShown, everyMs);
    events?.addEventListener('focus', onShown);
    events?.addEventListener('online', onShown);
    visibility?.addEventListener('visibilitychange', onVisibility);
  }

  function stop() {
    if (timer === null) return;
    stopEvery(timer);
    timer = null;
    events?.removeEventListener('focus', onShown);
    events?.removeEventListener('online', onShown);
    visibility?.removeEventListener('visibilitychange', onVisibility);
  }

  return Object.freeze({ start, stop, check, active: () => timer !== null });
}
