// Icons of the Email tab (same drawing rules as ../icons.js: decorative, aria-hidden).

import { svg } from 'lit';
import { icons } from '../icons.js';

const frame = (body) => svg`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const mailIcons = Object.freeze({
  ...icons,
  inbox: frame(svg`<path d="M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z"/>`),
  sent: frame(svg`<path d="M21 3L10 14M21 3l-7 18-4-7-7-4z"/>`),
  drafts: frame(svg`<path d="M4 20h4L19 9l-4-4L4 16zM14 6l4 4"/>`),
  archive: frame(svg`<rect x="3" y="4" width="18" height="5" rx="1"/><path d="M5 9v11h14V9M10 13h4"/>`),
  junk: frame(svg`<circle cx="12" cy="12" r="9"/><path d="M6 6l12 12"/>`),
  folder: frame(svg`<path d="M3 6a1 1 0 0 1 1-1h5l2 2h9a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z"/>`),
  reply: frame(svg`<path d="M10 8L4 13l6 5M4 13h10a6 6 0 0 1 6 6"/>`),
  replyAll: frame(svg`<path d="M13 8l-6 5 6 5M8 8l-6 5 6 5M7 13h8a6 6 0 0 1 6 6"/>`),
  forward: frame(svg`<path d="M14 8l6 5-6 5M20 13H10a6 6 0 0 0-6 6"/>`),
  compose: frame(svg`<path d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"/>`),
  star: frame(svg`<path d="M12 3l2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z"/>`),
  attachment: frame(svg`<path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/>`),
  lock: frame(svg`<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>`),
  search: frame(svg`<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>`),
  back: frame(svg`<path d="M15 6l-6 6 6 6"/>`),
  more: frame(svg`<circle cx="5" cy="12" r="1.3"/><circle cx="12" cy="12" r="1.3"/><circle cx="19" cy="12" r="1.3"/>`),
  contacts: frame(svg`<circle cx="9" cy="8" r="3.5"/><path d="M3 20a6 6 0 0 1 12 0M16 4a3.5 3.5 0 0 1 0 7M18 14a6 6 0 0 1 3 6"/>`),
  settings: frame(svg`<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M4.9 4.9L7 7M17 17l2.1 2.1M2 12h3M19 12h3M4.9 19.1L7 17M17 7l2.1-2.1"/>`),
  check: frame(svg`<path d="M5 12l5 5 9-10"/>`),
  answered: frame(svg`<path d="M10 8L4 13l6 5M4 13h10a6 6 0 0 1 6 6"/>`),
  download: frame(svg`<path d="M12 4v11M7 10l5 5 5-5M5 20h14"/>`),
  print: frame(svg`<path d="M7 9V3h10v6M7 17H4v-7h16v7h-3M7 14h10v7H7z"/>`),
});

/** The icon of a folder by its special use. */
export const folderIcon = (use) => mailIcons[use === 'trash' ? 'trash' : use ?? 'folder'] ?? mailIcons.folder;
