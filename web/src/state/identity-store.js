// The user's own OpenPGP identity as the page knows it (public facts only — the key stays in
// the crypto Worker) and the state of its certificate submission to the server. Pure.

import { createStore } from './store.js';

/**
 * Snapshot: {
 *   phase: 'starting' | 'none' | 'locked' | 'ready' | 'unavailable',
 *   identity: { fingerprint, userId, algorithm, bits, curve, created } | null,
 *   stored: { fingerprint, userId } | null,      // a remembered key on this device
 *   certificate: { state: 'idle' | 'submitting' | 'accepted' | 'rejected', report, error: {code, message} | null },
 * }
 */
const initial = Object.freeze({
  phase: 'starting', identity: null, stored: null,
  certificate: Object.freeze({ state: 'idle', report: null, error: null }),
});

export function createIdentityStore() {
  const store = createStore(initial);
  const update = (changes) => store.set(Object.freeze({ ...store.get(), ...changes }));
  const setCertificate = (certificate) => update({ certificate: Object.freeze({ report: null, error: null, ...certificate }) });

  return Object.freeze({
    get: store.get,
    subscribe: store.subscribe,
    /** What the worker said after session.bind / identity.status. */
    applyStatus({ identity, stored }) {
      update({ identity: identity ?? null, stored: stored ?? null, phase: identity ? 'ready' : stored ? 'locked' : 'none' });
      if (!identity) setCertificate({ state: 'idle' });
    },
    setIdentity(identity) {
      update({ identity, phase: 'ready' });
      setCertificate({ state: 'idle' });
    },
    forget() {
      update({ identity: null, stored: null, phase: 'none' });
      setCertificate({ state: 'idle' });
    },
    unavailable() {
      update({ phase: 'unavailable' });
    },
    submitting() {
      setCertificate({ state: 'submitting' });
    },
    accepted(report) {
      setCertificate({ state: 'accepted', report });
    },
    rejected(error) {
      setCertificate({ state: 'rejected', error: { code: String(error?.code ?? 'unknown'), message: String(error?.message ?? '') } });
    },
    /** The socket dropped: the server forgot the certificate with the connection. */
    connectionLost() {
      if (store.get().certificate.state !== 'rejected') setCertificate({ state: 'idle' });
    },
  });
}
