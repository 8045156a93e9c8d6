// Inline SVG icons as Lit templates (no icon font, no extra request, nothing to inject).
// Decorative: each carries aria-hidden so screen readers read the text beside it.

import { svg } from 'lit';

const frame = (body) => svg`<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const icons = Object.freeze({
  shield: frame(svg`<path d="M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6l7-3z"/><path d="M9 12l2 2 4-4"/>`),
  chat: frame(svg`<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/>`),
  phone: frame(svg`<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"/>`),
  mail: frame(svg`<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>`),
  lockOpen: frame(svg`<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 7.7-1.5"/>`),
  user: frame(svg`<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>`),
  chevronDown: frame(svg`<path d="M6 9l6 6 6-6"/>`),
  key: frame(svg`<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9M16 7l3 3"/>`),
  trash: frame(svg`<path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13"/>`),
  logout: frame(svg`<path d="M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10"/>`),
  alert: frame(svg`<path d="M12 3l10 18H2L12 3z"/><path d="M12 10v4M12 17.5v.5"/>`),
  clock: frame(svg`<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>`),
  globe: frame(svg`<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18"/>`),
  external: frame(svg`<path d="M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>`),
  // Calls (web/src/ui/call-view.js, voip-panel.js).
  mic: frame(svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`),
  micOff: frame(svg`<path d="M15 10V6a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 4.6 2.5M5 11a7 7 0 0 0 11.3 5.5M19 11a7 7 0 0 1-.6 2.8M12 18v3M3 3l18 18"/>`),
  video: frame(svg`<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3"/>`),
  videoOff: frame(svg`<path d="M10 6h4a2 2 0 0 1 2 2v4l5-3v9M16 16v0a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2M3 3l18 18"/>`),
  screen: frame(svg`<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4M9 10l3-3 3 3M12 7v6"/>`),
  pause: frame(svg`<path d="M9 5v14M15 5v14"/>`),
  keypad: frame(svg`<circle cx="6" cy="5" r="1.2"/><circle cx="12" cy="5" r="1.2"/><circle cx="18" cy="5" r="1.2"/><circle cx="6" cy="11" r="1.2"/><circle cx="12" cy="11" r="1.2"/><circle cx="18" cy="11" r="1.2"/><circle cx="6" cy="17" r="1.2"/><circle cx="12" cy="17" r="1.2"/><circle cx="18" cy="17" r="1.2"/><circle cx="12" cy="22" r="1"/>`),
  sliders: frame(svg`<path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0"/><circle cx="16" cy="6" r="2"/><circle cx="10" cy="12" r="2"/><circle cx="18" cy="18" r="2"/>`),
  signal: frame(svg`<path d="M4 20v-3M9 20v-7M14 20V9M19 20V4"/>`),
  expand: frame(svg`<path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>`),
  close: frame(svg`<path d="M6 6l12 12M18 6L6 18"/>`),
  hangUp: frame(svg`<path d="M3 14.5c5-4.7 13-4.7 18 0l-2.5 2.5-3.5-1.5v-2.5a10 10 0 0 0-6 0v2.5L5.5 17 3 14.5z"/>`),
});
