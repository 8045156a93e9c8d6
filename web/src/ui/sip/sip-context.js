// How the phone's elements find the SIP store and actions: they ask with a composed event when
// connected, and the app (web/src/app/app.js) answers by filling `detail`. The tab components
// between them need not carry SIP properties.

/** Fills `host.sipStore` and `host.sipActions` from the page, if it answers. */
export function requestSipContext(host) {
  const detail = { store: null, actions: null };
  host.dispatchEvent(new CustomEvent('secms-sip-context', { detail, bubbles: true, composed: true }));
  if (detail.store) host.sipStore = detail.store;
  if (detail.actions) host.sipActions = detail.actions;
}

/** The element that has focus, looking inside shadow roots. */
export function deepActiveElement() {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}
