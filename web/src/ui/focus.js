// Focus management after the app's main actions (WAI-ARIA APG: focus goes where the user's next
// action is, never left on <body>). Components call these from their updated() hooks.
//
// Two rules:
// - a view that appears while focus is lost (on <body>: the element that had it was removed or
//   disabled) takes focus on its first sensible target;
// - a conversation the user asked for (the "Secure channel" and "Private conversation" buttons)
//   takes focus once it is shown, through a one-shot intent, as long as the user did not put
//   focus somewhere else meanwhile.

const INTENT_TTL_MS = 30_000;   // an intent the server never answered does not steer focus later

/** The focused element, followed through open shadow roots; null when nothing is focused. */
export function deepActiveElement(root = document) {
  let active = root.activeElement ?? null;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** Focus is lost: on <body>, on nothing, or on an element that left the page or was disabled. */
export function focusIsLost() {
  const active = deepActiveElement();
  return !active || active === document.body || active === document.documentElement || !active.isConnected || active.disabled === true;
}

/** Focuses `element` (if any and shown); → whether it now has focus. */
export function moveFocus(element) {
  if (!element || !element.isConnected) return false;
  element.focus();
  return deepActiveElement() === element;
}

let intent = null;   // { peer, origin, at }

/**
 * The user asked for a conversation with `peer` (a username): its view takes focus once it is
 * shown. Tells the tabs to show the Chat tab (document event 'secms-conversation-requested').
 */
export function requestConversationFocus(peer) {
  intent = { peer, origin: deepActiveElement(), at: Date.now() };
  document.dispatchEvent(new CustomEvent('secms-conversation-requested', { detail: { peer } }));
}

/**
 * Takes the pending intent for `peer`, if any: → { origin } (the element that had focus when the
 * user asked, which the view may take focus from) or null.
 */
export function takeConversationFocus(peer) {
  if (!intent || Date.now() - intent.at > INTENT_TTL_MS) {
    intent = null;
    return null;
  }
  if (intent.peer !== peer) return null;
  const { origin } = intent;
  intent = null;
  return { origin };
}

/**
 * Whether focus may be moved without taking it from the user: it is lost, or still on one of
 * `ours` (elements this code focused or the button that started the action).
 */
export function focusIsOurs(ours = []) {
  if (focusIsLost()) return true;
  const active = deepActiveElement();
  return ours.some((element) => element && element === active);
}
