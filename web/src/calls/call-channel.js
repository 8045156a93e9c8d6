// A call rides on the pairwise secure channel with the peer: an existing live one is reused,
// else one is opened through the secure channel controller (openPrivate) and the call waits
// until it is secure — the usual certificate review happens meanwhile, so the wait is long.

import { isLivePhase } from '../state/channel-store.js';

export const isSecure = (channel) => Boolean(channel) && (channel.phase === 'secure' || channel.phase === 'rekeying');

// Server refusals of channel_request that mean the peer cannot be reached now (docs/api.md).
const offlineCodes = new Set(['peer_offline', 'offline', 'peer_not_certified']);

/**
 * → Promise<session> of a secure channel with `username`; rejects with {code} one of
 * 'offline' | 'channel-ended' | 'failed' (timeout, other refusal) | 'cancelled' (isCurrent() false,
 * or the call ended: onEnd(hook) registers what to run then). env: {setTimeout, clearTimeout}.
 */
export function waitForSecureChannel({ channelStore, openPrivate, username, timeoutMs, env, isCurrent, onEnd = () => {} }) {
  const liveWith = () => channelStore.get().channels.find((channel) => channel.peer.username === username && isLivePhase(channel.phase)) ?? null;
  const failure = (code) => Object.assign(new Error(`call channel: ${code}`), { code });
  const live = liveWith();
  if (isSecure(live)) return Promise.resolve(live.session);
  channelStore.notify(null);
  if (!live) {
    const opened = openPrivate(username);
    if (opened?.error) return Promise.reject(failure(opened.error.code === 'user_offline' ? 'offline' : 'failed'));
  }
  return new Promise((resolve, reject) => {
    let seen = live?.session ?? null;
    let settled = false;
    let unsubscribe = () => {};
    const done = (code, session = null) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      env.clearTimeout(handle);
      if (code) reject(failure(code));
      else resolve(session);
    };
    const handle = env.setTimeout(() => done('failed'), timeoutMs);
    const check = () => {
      if (!isCurrent()) return done('cancelled');
      const notice = channelStore.get().notice;
      if (notice && offlineCodes.has(notice.code)) return done('offline');
      const channel = liveWith();
      if (isSecure(channel)) return done(null, channel.session);
      if (channel) seen = channel.session;
      else if (seen) return done('channel-ended');   // rejected, expired or torn down before secure
      return undefined;
    };
    unsubscribe = channelStore.subscribe(check);
    onEnd(() => done('cancelled'));
    check();
  });
}
