// The phone's address field: what the user typed, as the SIP URI to call. A bare number or name
// is completed with "@<domain>" (the user's own SIP domain), as softphones do; a full sip:/sips:
// URI or "user@host" is taken as it is. Pure (no DOM), so the rules are unit-tested.

const MAX_ADDRESS_LENGTH = 256;

// RFC 3261 §25.1 "user": unreserved / escaped / user-unreserved characters.
const userPattern = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
// A host name (labels of letters, digits, hyphens), an IPv4 address, or a bracketed IPv6 one.
const hostNamePattern = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ipv6Pattern = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
// URI parameters after the host, e.g. ";transport=tcp" (token characters only).
const parametersPattern = /^(?:;[A-Za-z0-9\-_.!~*'%]+(?:=[A-Za-z0-9\-_.!~*'%[\]:]+)?)*$/;
// A telephone number as people type it: digits with spaces, dots, dashes or brackets between.
const dialledNumberPattern = /^\+?[0-9*#][0-9*# ().-]*$/;

// "01 23-45" → "012345"; '#' must be escaped in a SIP user part (RFC 3261 §25.1), '*' need not.
const compactNumber = (number) => number.replace(/[ ().-]/g, '').replace(/#/g, '%23');

function validHost(host) {
  if (ipv6Pattern.test(host)) return true;
  return hostNamePattern.test(host);
}

/**
 * The SIP URI for what was typed: { uri, user, host } or { error } where error is one of
 * 'empty' | 'too_long' | 'scheme' | 'user' | 'host' | 'port' | 'no_domain'.
 * `domain` is the user's own SIP domain, used to complete a bare number or name.
 */
export function sipAddressOf(input, domain) {
  let text = String(input ?? '').trim();
  if (!text) return { error: 'empty' };
  if (text.length > MAX_ADDRESS_LENGTH) return { error: 'too_long' };
  let scheme = 'sip';
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  // "alice@host:5060" has no scheme; only a known word before the first ':' is one.
  if (schemeMatch && !text.slice(0, schemeMatch[0].length).includes('@')) {
    const named = schemeMatch[1].toLowerCase();
    if (named === 'sip' || named === 'sips') {
      scheme = named;
      text = text.slice(schemeMatch[0].length);
    } else if (named === 'tel') {
      text = text.slice(schemeMatch[0].length);
      if (!dialledNumberPattern.test(text) || text.includes('@')) return { error: 'user' };
    } else if (!/^\d/.test(text.slice(schemeMatch[0].length)) || text.includes('@')) {
      // "host:5060" (a port) is not a scheme; "https://…" or "mailto:…" is one we do not call.
      return { error: 'scheme' };
    }
  }
  let user;
  let hostPart;
  const at = text.lastIndexOf('@');
  if (at === -1) {
    if (scheme !== 'sip' && scheme !== 'sips') return { error: 'user' };
    user = dialledNumberPattern.test(text) ? compactNumber(text) : text;
    if (!domain) return { error: 'no_domain' };
    hostPart = String(domain);
  } else {
    user = text.slice(0, at);
    hostPart = text.slice(at + 1);
    if (dialledNumberPattern.test(user)) user = compactNumber(user);
  }
  if (!user || !userPattern.test(user)) return { error: 'user' };
  const paramsAt = hostPart.indexOf(';');
  const parameters = paramsAt === -1 ? '' : hostPart.slice(paramsAt);
  let hostPort = paramsAt === -1 ? hostPart : hostPart.slice(0, paramsAt);
  if (!parametersPattern.test(parameters)) return { error: 'host' };
  let port = '';
  const portMatch = /:(\d*)$/.exec(hostPort);
  if (portMatch && !(hostPort.startsWith('[') && !hostPort.includes(']:'))) {
    const value = Number(portMatch[1]);
    if (!portMatch[1] || !Number.isInteger(value) || value < 1 || value > 65535) return { error: 'port' };
    port = `:${value}`;
    hostPort = hostPort.slice(0, portMatch.index);
  }
  if (!validHost(hostPort)) return { error: 'host' };
  const host = hostPort.toLowerCase().replace(/\.$/, '');
  return { uri: `${scheme}:${user}@${host}${port}${parameters}`, user, host };
}
