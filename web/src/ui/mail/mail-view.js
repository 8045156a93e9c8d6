// Pure helpers of the Email tab's views (no DOM): the virtual list's window, folder tree and
// names, sizes and dates, addresses, plain-text links. Tested in web/test/mail-ui.test.mjs.

/** Row heights in CSS pixels per density; the list's CSS uses the same numbers. */
export const rowHeights = Object.freeze({ comfortable: 56, compact: 32 });

/**
 * The rows a virtual list shows for a scroll position: [first, end) with `overscan` rows
 * either side, the space above them, and the full height of the list.
 */
export function virtualWindow({ scrollTop = 0, viewportHeight = 0, rowHeight, total, overscan = 8 }) {
  const safeTotal = Math.max(0, Math.floor(total) || 0);
  const height = Math.max(1, rowHeight);
  const visibleFirst = Math.max(0, Math.floor(Math.max(0, scrollTop) / height));
  const visibleCount = Math.ceil(Math.max(0, viewportHeight) / height) + 1;
  const first = Math.max(0, Math.min(safeTotal, visibleFirst - overscan));
  const end = Math.min(safeTotal, visibleFirst + visibleCount + overscan);
  return { first, end: Math.max(first, end), padTop: first * height, fullHeight: safeTotal * height };
}

/** The runs [offset, count] of [first, end) that have no row in `rows` (a Map offset → row). */
export function missingRuns(rows, first, end) {
  const runs = [];
  let start = null;
  for (let offset = first; offset < end; offset += 1) {
    if (!rows.has(offset)) {
      if (start === null) start = offset;
    } else if (start !== null) {
      runs.push([start, offset - start]);
      start = null;
    }
  }
  if (start !== null) runs.push([start, end - start]);
  return runs;
}

/** The scrollTop that brings row `index` into a viewport (unchanged when already visible). */
export function scrollToRow({ index, scrollTop, viewportHeight, rowHeight, headerHeight = 0 }) {
  const top = index * rowHeight;
  const visibleTop = scrollTop;
  const visibleBottom = scrollTop + viewportHeight - headerHeight;
  if (top < visibleTop) return top;
  if (top + rowHeight > visibleBottom) return top + rowHeight - (viewportHeight - headerHeight);
  return scrollTop;
}

export const specialUseOrder = Object.freeze(['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash']);

/** The special use of a folder ('inbox' for INBOX even when the server did not say). */
export function specialUseOf(folder) {
  if (String(folder?.path).toUpperCase() === 'INBOX') return 'inbox';
  return specialUseOrder.includes(folder?.special_use) ? folder.special_use : null;
}

/**
 * Folders in display order with their depth: special-use folders first (Inbox, Drafts, Sent,
 * Archive, Junk, Trash), then the others by path, each child under its parent.
 */
export function folderTree(folders) {
  const list = Array.isArray(folders) ? folders : [];
  const rank = (folder) => {
    const use = specialUseOf(folder);
    return use ? specialUseOrder.indexOf(use) : specialUseOrder.length;
  };
  const depthOf = (folder) => {
    const delimiter = folder.delimiter;
    if (!delimiter || specialUseOf(folder)) return 0;
    return Math.min(8, String(folder.path).split(delimiter).length - 1);
  };
  return [...list]
    .sort((a, b) => rank(a) - rank(b) || String(a.path).localeCompare(String(b.path)))
    .map((folder) => ({ folder, depth: depthOf(folder), use: specialUseOf(folder) }));
}

/** The last segment of a folder path (what the tree shows for a non-special folder). */
export function folderLeafName(folder) {
  if (folder?.name) return String(folder.name);
  const path = String(folder?.path ?? '');
  return folder?.delimiter ? path.split(folder.delimiter).pop() : path;
}

/** "1.2 MB"-style size with the language's digits. */
export function formatBytes(bytes, language = 'en') {
  const value = Math.max(0, Number(bytes) || 0);
  const units = ['B', 'kB', 'MB', 'GB'];
  let unit = 0;
  let scaled = value;
  while (scaled >= 1000 && unit < units.length - 1) {
    scaled /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || scaled >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(language, { maximumFractionDigits: digits }).format(scaled)} ${units[unit]}`;
}

/** A list date: the time for today, else the date (short). Empty for an unreadable date. */
export function formatListDate(iso, { now = new Date(), language = 'en' } = {}) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === now.toDateString();
  try {
    return new Intl.DateTimeFormat(language, sameDay ? { timeStyle: 'short' } : { dateStyle: 'short' }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

export function formatFullDate(iso, language = 'en') {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '');
  try {
    return new Intl.DateTimeFormat(language, { dateStyle: 'full', timeStyle: 'short' }).format(date);
  } catch {
    return date.toISOString();
  }
}

/** "Name <address>" or the address alone. */
export function addressText(entry) {
  if (!entry) return '';
  const name = String(entry.name ?? '').trim();
  const address = String(entry.address ?? '').trim();
  if (name && address && name !== address) return `${name} <${address}>`;
  return name || address;
}

/** What the list's sender column shows: the name, else the address. */
export function senderLabel(list) {
  const first = Array.isArray(list) ? list[0] : null;
  return first ? String(first.name || first.address || '') : '';
}

export const hasFlag = (summary, flag) => Array.isArray(summary?.flags) && summary.flags.some((entry) => String(entry).toLowerCase() === flag.toLowerCase());

/**
 * Plain text cut into text and link segments: [{ text } | { text, href }]. Only http(s) URLs
 * and addresses of the form name@host.tld become links; the page renders them as text nodes
 * and <a> elements, never as HTML.
 */
export function linkSegments(text) {
  const source = String(text ?? '');
  const pattern = /\bhttps?:\/\/[^\s<>"'`]+|\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;
  const segments = [];
  let last = 0;
  for (const match of source.matchAll(pattern)) {
    let value = match[0];
    // Sentence punctuation right after a URL is not part of it.
    const trailing = /[.,;:!?)\]]+$/.exec(value);
    if (trailing && value.startsWith('http')) value = value.slice(0, -trailing[0].length);
    if (match.index > last) segments.push({ text: source.slice(last, match.index) });
    const href = value.startsWith('http') ? value : `mailto:${value}`;
    segments.push({ text: value, href });
    last = match.index + value.length;
  }
  if (last < source.length) segments.push({ text: source.slice(last) });
  return segments;
}

/** Lines of a quoted reply ("> ") are marked so the reader can tone them down. */
export function textBlocks(text) {
  const blocks = [];
  for (const line of String(text ?? '').split(/\r?\n/)) {
    const quoted = /^\s*>/.test(line);
    const previous = blocks[blocks.length - 1];
    if (previous && previous.quoted === quoted) previous.lines.push(line);
    else blocks.push({ quoted, lines: [line] });
  }
  return blocks.map((block) => ({ quoted: block.quoted, text: block.lines.join('\n') }));
}

/** Whether a drag carries messages of the Email tab, and which. */
export const mailDragType = 'application/x-secms-mail';
export function parseMailDrag(text) {
  try {
    const value = JSON.parse(text);
    if (typeof value?.folder !== 'string' || !Array.isArray(value.uids)) return null;
    const uids = value.uids.filter((uid) => Number.isSafeInteger(uid) && uid > 0).slice(0, 10000);
    return uids.length ? { folder: value.folder, uids } : null;
  } catch {
    return null;
  }
}
