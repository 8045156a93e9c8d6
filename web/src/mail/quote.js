// Reply and forward text (pure): the "Re:"/"Fwd:" subjects, the "> " quote of a reply, the
// "Forwarded message" block, and the recipient lists of reply / reply-all.

const replyPrefix = /^\s*(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*/i;
const forwardPrefix = /^\s*(?:fwd?|tr|wg)\s*:\s*/i;
const MAX_QUOTED_CHARS = 512 * 1024;   // a reply to a huge message quotes its start only

/** "Re: " once: "Re: Re: x" and "RE: x" stay one "Re: ". */
export function replySubject(subject) {
  let rest = String(subject ?? '');
  while (replyPrefix.test(rest)) rest = rest.replace(replyPrefix, '');
  return `Re: ${rest}`.trimEnd();
}

/** "Fwd: " once. */
export function forwardSubject(subject) {
  let rest = String(subject ?? '');
  while (forwardPrefix.test(rest)) rest = rest.replace(forwardPrefix, '');
  return `Fwd: ${rest}`.trimEnd();
}

/** "Name <address>" or the address alone. */
export function formatAddress(entry) {
  if (!entry?.address) return String(entry?.name ?? '');
  return entry.name ? `${entry.name} <${entry.address}>` : entry.address;
}

export const formatAddressList = (list) => (Array.isArray(list) ? list.map(formatAddress).filter(Boolean).join(', ') : '');

/** Each line prefixed with "> " (">" alone for empty lines, the usual form: RFC 3676 §4.5). */
export function quoteLines(text) {
  const source = String(text ?? '').slice(0, MAX_QUOTED_CHARS).replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  return source.split('\n').map((line) => (line.length === 0 ? '>' : line.startsWith('>') ? `>${line}` : `> ${line}`)).join('\n');
}

/** The reply body: an empty line for the answer, the attribution line, then the quote. */
export function replyBody({ text, date, from }) {
  const who = formatAddressList(from) || 'unknown sender';
  const when = date ? new Date(date) : null;
  const attribution = when && Number.isFinite(when.getTime()) ? `On ${when.toUTCString()}, ${who} wrote:` : `${who} wrote:`;
  return `\n\n${attribution}\n${quoteLines(text)}\n`;
}

/** The forward-inline body: the original's headers and text under the usual separator line. */
export function forwardBody({ text, headers }) {
  const lines = ['', '', '---------- Forwarded message ----------', `From: ${formatAddressList(headers?.from)}`];
  if (headers?.date) lines.push(`Date: ${headers.date}`);
  lines.push(`Subject: ${headers?.subject ?? ''}`);
  lines.push(`To: ${formatAddressList(headers?.to)}`);
  if (headers?.cc?.length) lines.push(`Cc: ${formatAddressList(headers.cc)}`);
  lines.push('', String(text ?? '').slice(0, MAX_QUOTED_CHARS).replace(/\r\n?/g, '\n'));
  return lines.join('\n');
}

const lower = (address) => String(address ?? '').toLowerCase();

/** Unique by address (case-insensitive), first occurrence wins, entries without an address dropped. */
export function uniqueAddresses(list, exclude = []) {
  const seen = new Set(exclude.map(lower));
  const result = [];
  for (const entry of list ?? []) {
    const key = lower(entry?.address);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    result.push({ name: entry.name ?? '', address: entry.address });
  }
  return result;
}

/**
 * Recipients of a reply: {to, cc}. reply → Reply-To (else From); reply_all → that plus the
 * original To in To and its Cc in Cc, never the own addresses. A reply to one's own sent
 * message goes to its original recipients.
 */
export function replyRecipients(headers, { all = false, self = [] }) {
  const own = self.map(lower);
  const isOwn = (entry) => own.includes(lower(entry?.address));
  const author = headers?.reply_to?.length ? headers.reply_to : headers?.from ?? [];
  let to = author;
  if ((headers?.from ?? []).length > 0 && headers.from.every(isOwn)) to = headers?.to ?? [];
  if (!all) return { to: uniqueAddresses(to, own), cc: [] };
  const allTo = uniqueAddresses([...to, ...(headers?.to ?? [])], own);
  const cc = uniqueAddresses(headers?.cc ?? [], [...own, ...allTo.map((entry) => entry.address)]);
  return { to: allTo, cc };
}

/** References of a reply: the parent's References (or In-Reply-To) then its Message-ID (RFC 5322 §3.6.4). */
export function replyReferences(headers) {
  const chain = Array.isArray(headers?.references) && headers.references.length
    ? [...headers.references]
    : headers?.in_reply_to ? [headers.in_reply_to] : [];
  if (headers?.message_id && !chain.includes(headers.message_id)) chain.push(headers.message_id);
  // A long thread keeps its root and the newest parents: enough for threading, bounded in size.
  return chain.length > 50 ? [chain[0], ...chain.slice(-49)] : chain;
}
