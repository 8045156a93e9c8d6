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
});
