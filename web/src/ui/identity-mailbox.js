// What the identity form takes from the user's mailbox (GET /api/v1/mail/status): the address to
// pre-fill the email field with, and the server's mail domain, which the key's address may use
// even when it has no dot (the default mail domain is "localhost"). Pure, tested in node.

/** status (mail status answer or null) → { address, localDomain } | null. */
export function mailboxIdentityDefaults(status) {
  if (!status || typeof status !== 'object' || status.enabled === false) return null;
  const address = typeof status.address === 'string' && /^[^\s<>@]+@[^\s<>@]+$/.test(status.address) ? status.address : null;
  const domain = typeof status.domain === 'string' && status.domain ? status.domain
    : address ? address.slice(address.lastIndexOf('@') + 1) : null;
  if (!address && !domain) return null;
  return { address, localDomain: domain };
}

/** The mail status once, or null (mail off, not reachable, not logged in: the form works without). */
export async function fetchMailboxIdentityDefaults(fetchImpl = globalThis.fetch?.bind(globalThis)) {
  if (!fetchImpl) return null;
  try {
    const response = await fetchImpl('/api/v1/mail/status', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    return mailboxIdentityDefaults(await response.json());
  } catch {
    return null;
  }
}
