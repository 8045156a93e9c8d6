// The page's side of the SIP phone, loaded with the app: the store the UI reads, the actions it
// calls, and the lazy start. Nothing of SIP.js is here: the first time the VoIP tab is shown,
// start() asks the server for credentials (a 404 not_enabled means SIP is off: nothing more is
// loaded) and only then imports ./sip-phone.js (SIP.js) with a dynamic import().

import { createStore } from '../state/store.js';
import { sipAddressOf } from './sip-address.js';

export const initialSipSnapshot = Object.freeze({
  status: 'idle',        // 'idle' | 'loading' | 'ready' | 'not_enabled' | 'failed' | 'stopped'
  error: null,           // the code of what failed (status 'failed')
  account: null,         // { aor, user, domain }
  registration: Object.freeze({ state: 'off', reason: null }),
  call: null,            // see sip-call.js
  history: Object.freeze([]),
  devices: Object.freeze({ state: 'idle', list: Object.freeze([]), max: 0, error: null }),
});

export function createSipStore() {
  return createStore(initialSipSnapshot);
}

/**
 * Options: { store, api (./sip-api.js), loadPhone: () => import('./sip-phone.js'),
 *            otherCallActive(), selectedDevices(), env }.
 */
export function createSipService({ store, api, loadPhone, otherCallActive, selectedDevices, env }) {
  let phone = null;
  let starting = null;
  let stopped = false;
  let generation = 0;     // a stop() makes a start still in progress of an older generation give up
  let paused = false;     // stopped by pause(): resume() may start again
  let resumeStarts = false;
  let halting = Promise.resolve();

  const update = (patch) => store.set(Object.freeze({ ...store.get(), ...patch }));
  const setDevices = (patch) => update({ devices: Object.freeze({ ...store.get().devices, ...patch }) });

  async function begin() {
    const mine = generation;
    const abandoned = () => stopped || mine !== generation;
    update({ status: 'loading', error: null });
    let credentials;
    try {
      credentials = await api.credentials();
      // SIP turned off on the server: a 200 {"enabled":false} (an older server: a 404).
      if (credentials?.enabled === false) {
        update({ status: 'not_enabled' });
        return;
      }
    } catch (error) {
      if (error?.status === 404) update({ status: 'not_enabled' });
      else update({ status: 'failed', error: error?.code ?? 'failed' });
      return;
    }
    try {
      const { startSipPhone } = await loadPhone();
      if (abandoned()) return;
      const started = await startSipPhone({
        credentials, fetchCredentials: () => api.credentials(), update, otherCallActive, selectedDevices, env,
      });
      if (abandoned()) {
        await started.stop();
        return;
      }
      phone = started;
      update({ status: 'ready' });
    } catch (error) {
      update({ status: 'failed', error: error?.code ?? 'load_failed' });
    }
  }

  function need() {
    if (!phone) throw Object.assign(new Error('SIP phone not started'), { code: 'not_ready' });
    return phone.actions;
  }

  const actions = Object.freeze({
    /** Starts the phone once (the VoIP tab was shown); a failed start may be retried. */
    start() {
      if (stopped || phone) return starting;
      if (!starting || store.get().status === 'failed') starting = begin();
      return starting;
    },
    retry() {
      if (store.get().status === 'failed') {
        starting = null;
        return actions.start();
      }
      return starting;
    },
    /** Checks and completes the address; → { uri } or { error } (sip-address.js codes). */
    address: (input) => sipAddressOf(input, store.get().account?.domain),
    /** → { uri, result: 'calling' | 'busy' } or { error } */
    dial(input, { video = false } = {}) {
      const address = sipAddressOf(input, store.get().account?.domain);
      if (address.error) return address;
      if (store.get().registration.state !== 'registered') return { error: 'not_registered' };
      return { uri: address.uri, result: need().dial(address.uri, { video }) };
    },
    transfer(input) {
      const address = sipAddressOf(input, store.get().account?.domain);
      if (address.error) return address;
      need().transfer(address.uri);
      return { uri: address.uri };
    },
    accept: (options) => need().accept(options),
    decline: () => need().decline(),
    hangUp: () => phone?.actions.hangUp(),
    mute: (muted) => need().mute(muted),
    hold: (held) => need().hold(held),
    sendDtmf: (tones) => need().sendDtmf(tones),
    outputChanged: () => phone?.actions.outputChanged(),
    reRegister: () => phone?.actions.reRegister(),
    /** True while a SIP call is on: the end-to-end calls may then answer busy. */
    inCall: () => Boolean(store.get().call && store.get().call.phase !== 'ended'),

    async refreshDevices() {
      setDevices({ state: 'loading', error: null });
      try {
        const { devices, max } = await api.listDevices();
        setDevices({ state: 'ready', list: devices, max });
      } catch (error) {
        setDevices({ state: error?.status === 404 && error?.code === 'not_enabled' ? 'not_enabled' : 'failed', error: error?.code ?? 'failed' });
      }
    },
    /** → { device, credentials } (the password is shown once) or throws ApiError. */
    async addDevice(label) {
      const created = await api.addDevice(label);
      const { list } = store.get().devices;
      setDevices({ list: Object.freeze([...list, created.device]) });
      return created;
    },
    async revokeDevice(id) {
      await api.revokeDevice(id);
      setDevices({ list: Object.freeze(store.get().devices.list.filter((device) => device.id !== id)) });
    },

    /** Logout or page unload: hang up, unregister, stop. */
    stop() {
      paused = false;
      return halt();
    },
    /**
     * Another window of this account took over (close 4409): hang up and unregister, so the
     * phone rings only in the window in use; resume() ("Use here") starts it again if it was
     * started. A stop() meanwhile is final.
     */
    pause() {
      if (stopped) return halting;
      resumeStarts = Boolean(phone || starting);
      paused = true;
      return halt();
    },
    /** After the unregistration of pause() is done; a stop() or pause() meanwhile wins. */
    resume() {
      if (!paused) return Promise.resolve();
      paused = false;
      const mine = generation;
      return halting.catch(() => {}).then(() => {
        if (mine !== generation) return undefined;
        stopped = false;
        starting = null;
        update({ status: 'idle', error: null });
        return resumeStarts ? actions.start() : undefined;
      });
    },
  });

  function halt() {
    stopped = true;
    generation += 1;
    const running = phone;
    phone = null;
    halting = (async () => {
      if (running) await running.stop();
      update({ status: 'stopped', call: null, registration: Object.freeze({ state: 'off', reason: null }) });
    })();
    return halting;
  }

  return Object.freeze({ actions, store });
}
