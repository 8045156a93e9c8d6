// A simple, honest estimate of a passphrase's strength, shared by the page (the meter) and the
// crypto Worker (which refuses to store a key under a weak passphrase). No dependencies, no
// DOM: it runs in the page, the Worker and Node.
//
// The estimate is an upper bound on what a guesser must try: the length after collapsing
// repeats, runs and repeated short patterns (aaaa, abcd, 4321, ababab, abcabc), times log2 of the
// alphabet the character classes suggest (non-ASCII characters: as many as distinct ones are used) — and almost nothing when the passphrase is, or is built on, a common password. It
// over-rates a sentence of common words; the minimum below is set with that in mind (and the
// key file is further slowed by Argon2, RFC 9580 §3.7.1.4).

export const MIN_PASSPHRASE_LENGTH = 12;
export const MIN_PASSPHRASE_BITS = 60;

// The most common passwords of public breach lists (lower-case; digits and symbols at the
// ends are stripped before the comparison, so "Password123!" is "password").
const commonPasswords = new Set([
  '123456', '12345678', '123456789', '1234567890', 'password', 'passw0rd', 'qwerty', 'qwertyuiop', 'azerty',
  'azertyuiop', 'abc123', 'letmein', 'welcome', 'iloveyou', 'admin', 'administrator', 'monkey', 'dragon',
  'football', 'baseball', 'sunshine', 'princess', 'master', 'shadow', 'superman', 'trustno', 'trustnoone',
  'secret', 'topsecret', 'motdepasse', 'soleil', 'bonjour', 'doudou', 'chouchou', 'loulou', 'changeme',
  'starwars', 'whatever', 'freedom', 'michael', 'jennifer', 'charlie', 'jordan', 'hunter', 'passphrase',
  'mypassword', 'mypassphrase', 'thepassword', 'thisismypassword', 'password1', 'qwerty123', 'asdfghjkl',
  'zxcvbnm', 'correcthorsebatterystaple', 'security', 'securityms', 'openpgp', 'privatekey',
]);

const classes = Object.freeze([
  { name: 'lower', pattern: /[a-z]/, size: 26 },
  { name: 'upper', pattern: /[A-Z]/, size: 26 },
  { name: 'digit', pattern: /[0-9]/, size: 10 },
  { name: 'symbol', pattern: /[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/, size: 33 },
]);
// Non-ASCII characters have no small class to name: one "é" does not make a guesser try 100
// more symbols per position, so they widen the alphabet by the distinct ones used (at most 100).
const MAX_OTHER_ALPHABET = 100;

function alphabetSize(text, chars) {
  const ascii = classes.reduce((sum, item) => sum + (item.pattern.test(text) ? item.size : 0), 0);
  const other = new Set(chars.filter((char) => char.codePointAt(0) > 0x7f)).size;
  return ascii + Math.min(other, MAX_OTHER_ALPHABET);
}

/** Whether chars[i] continues a pattern of period p (2 or 3) already repeated once: ababab, abcabc. */
const continuesPattern = (chars, i, p) => i > p && chars[i] === chars[i - p] && chars[i - 1] === chars[i - 1 - p];

/**
 * Characters that add little: a repeat of the previous one, the next/previous code point, or
 * the continuation of a repeated pattern of period 2 or 3.
 */
function effectiveLength(chars) {
  let length = 0;
  for (let i = 0; i < chars.length; i += 1) {
    if (i === 0) { length += 1; continue; }
    const step = chars[i].codePointAt(0) - chars[i - 1].codePointAt(0);
    const little = step === 0 || step === 1 || step === -1 || continuesPattern(chars, i, 2) || continuesPattern(chars, i, 3);
    length += little ? 0.25 : 1;
  }
  return length;
}

function isCommon(passphrase) {
  const core = passphrase.toLowerCase().replace(/\s+/g, '').replace(/^[^a-z]+|[^a-z]+$/g, '');
  return commonPasswords.has(passphrase.toLowerCase()) || (core.length > 0 && commonPasswords.has(core));
}

/**
 * → { bits, level (0 very weak … 4 very strong), acceptable, reason }
 * reason (when not acceptable): 'empty' | 'too_short' | 'common' | 'too_simple'.
 */
export function estimatePassphrase(passphrase) {
  const text = typeof passphrase === 'string' ? passphrase : '';
  const chars = [...text];
  if (chars.length === 0) return Object.freeze({ bits: 0, level: 0, acceptable: false, reason: 'empty' });
  const pool = alphabetSize(text, chars);
  const common = isCommon(text);
  const bits = common ? Math.min(10, chars.length) : Math.round(effectiveLength(chars) * Math.log2(Math.max(pool, 2)));
  const level = bits < 30 ? 0 : bits < MIN_PASSPHRASE_BITS ? 1 : bits < 80 ? 2 : bits < 100 ? 3 : 4;
  const reason = common ? 'common'
    : chars.length < MIN_PASSPHRASE_LENGTH ? 'too_short'
      : bits < MIN_PASSPHRASE_BITS ? 'too_simple'
        : null;
  return Object.freeze({ bits, level: reason ? Math.min(level, 1) : level, acceptable: reason === null, reason });
}
