// Lit reactive controllers that re-render a component when shared state changes:
// the interface language, or a store from web/src/state.

import { onLanguageChange } from '../i18n/index.js';

export class LanguageController {
  constructor(host) {
    this.host = host;
    host.addController(this);
  }

  hostConnected() {
    this.unsubscribe = onLanguageChange(() => this.host.requestUpdate());
  }

  hostDisconnected() {
    this.unsubscribe?.();
  }
}

/** Keeps host[property] equal to store.get(); the store is read from host[storeProperty]. */
export class StoreController {
  constructor(host, storeProperty) {
    this.host = host;
    this.storeProperty = storeProperty;
    this.subscribedStore = null;
    host.addController(this);
  }

  get value() {
    return this.host[this.storeProperty]?.get();
  }

  hostConnected() {
    this.resubscribe();
  }

  // The store may be assigned after the element was connected.
  hostUpdate() {
    if (this.host[this.storeProperty] !== this.subscribedStore) this.resubscribe();
  }

  hostDisconnected() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.subscribedStore = null;
  }

  resubscribe() {
    this.unsubscribe?.();
    this.subscribedStore = this.host[this.storeProperty] ?? null;
    this.unsubscribe = this.subscribedStore?.subscribe(() => this.host.requestUpdate()) ?? null;
  }
}
