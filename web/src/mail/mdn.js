// Read receipts: Message Disposition Notifications (RFC 8098). Pure module (page and node).
//
// A receipt is sent only when the user presses "Send receipt" for a message that asks for one
// (Disposition-Notification-To) and has not had one yet ($MDNSent, RFC 3503): never
// automatically (RFC 8098 §2.1 lets the user decide, and an automatic receipt tells a sender
// when and that an address is read). The receipt travels unencrypted, so it never repeats the
// subject of an encrypted message.

import {
  formatAddress, formatDate, messageHeaderFields, multipartEntity, normaliseFields, entityBytes, textEntity, withMessageHeaders,
} from './mime-build.js';

export const MDN_SENT_FLAG = '$MDNSent';
export const REPORTING_UA = 'secms; Security.MS';

/**
 * Whether the reader offers "Send receipt": the message asks for one and the flags of the
 * message (IMAP keywords) do not say one was sent already.
 */
export function readReceiptWanted(message, flags = []) {
  if (!message?.read_receipt_to) return false;
  return !(Array.isArray(flags) && flags.includes(MDN_SENT_FLAG));
}

const lineSafe = (value) => String(value ?? '').replace(/[\r\n\0]+/g, ' ').trim();

/**
 * The receipt for `original` (the mime-read model of the message shown) → Uint8Array.
 * Options: { from: {name?, address} (the own address: the server only sends From it),
 *   to: address (the Disposition-Notification-To address), original, date?, messageId? }.
 */
export function buildReadReceipt({ from, to, original, date = new Date(), messageId }) {
  const headers = original?.headers ?? {};
  const encrypted = Boolean(original?.security?.encrypted);
  const originalId = typeof headers.message_id === 'string' && /^<[^\s<>]+@[^\s<>]+>$/.test(headers.message_id) ? headers.message_id : null;
  const subject = !encrypted && headers.subject ? `Read: ${lineSafe(headers.subject)}` : 'Read receipt';
  const sentOn = headers.date ? formatDate(new Date(headers.date)) : null;
  const human = [
    `This is a receipt for the message you sent${sentOn ? ` on ${sentOn}` : ''} to ${from.address}${encrypted || !headers.subject ? '' : `, subject "${lineSafe(headers.subject)}"`}.`,
    '',
    'It was displayed on the recipient\'s screen. This is no guarantee that it was read or understood.',
  ].join('\n');
  // RFC 8098 §3.1: one field per line, the disposition of a user who chose to send it.
  const report = [
    `Reporting-UA: ${REPORTING_UA}`,
    `Final-Recipient: rfc822; ${from.address}`,
    ...(originalId ? [`Original-Message-ID: ${originalId}`] : []),
    'Disposition: manual-action/MDN-sent-manually; displayed',
  ].join('\r\n');
  const notification = {
    headers: [['Content-Type', 'message/disposition-notification'], ['Content-Transfer-Encoding', '7bit']],
    body: [`${report}\r\n`],
  };
  const body = multipartEntity('report', [textEntity(human), notification], ['report-type=disposition-notification']);
  const fields = normaliseFields({
    from, to: [{ name: '', address: to }], subject, date, ...(messageId ? { messageId } : {}),
    ...(originalId ? { inReplyTo: originalId, references: [originalId] } : {}),
  });
  formatAddress(fields.to[0]); // refuses a malformed address before anything is built
  return entityBytes(withMessageHeaders(body, messageHeaderFields(fields, { includeBcc: false })));
}
