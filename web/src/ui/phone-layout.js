// Narrow windows (phones) show one pane at a time, as Signal's and Element's web apps do: the
// lists (online users, conversations), a conversation (with a way back to the lists), or a
// conversation's details (a room's members, with a way back to the conversation). Wider windows
// show the panes side by side. The components' CSS uses the same width in its media queries.

export const phoneLayoutQuery = '(max-width: 760px)';

/** Whether the window is narrow enough for the one-pane layout. */
export const isPhoneLayout = () => globalThis.matchMedia?.(phoneLayoutQuery).matches ?? false;

/**
 * Keeps `--app-viewport-height` on the document equal to the visual viewport's height, so the app
 * window ends above an on-screen keyboard (which shrinks the visual viewport but, in most mobile
 * browsers, not the layout viewport nor 100dvh). Pinch zoom also shrinks the visual viewport: the
 * property is dropped then (the window keeps 100dvh). A constructable stylesheet: no style
 * attribute (the CSP has no 'unsafe-inline'). → a function that stops it.
 */
export function trackVisualViewport(documentRef = globalThis.document) {
  const viewport = documentRef?.defaultView?.visualViewport;
  if (!viewport || typeof CSSStyleSheet !== 'function') return () => {};
  const sheet = new CSSStyleSheet();
  documentRef.adoptedStyleSheets = [...documentRef.adoptedStyleSheets, sheet];
  let shown = null;
  const update = () => {
    const zoomed = Math.abs(viewport.scale - 1) > 0.01;
    const height = zoomed ? null : Math.round(viewport.height);
    if (height === shown) return;
    shown = height;
    sheet.replaceSync(height ? `:root { --app-viewport-height: ${height}px; }` : '');
  };
  update();
  viewport.addEventListener('resize', update);
  return () => {
    viewport.removeEventListener('resize', update);
    documentRef.adoptedStyleSheets = documentRef.adoptedStyleSheets.filter((entry) => entry !== sheet);
  };
}
