// The private-conversation envelope: what the plaintext of a secure-channel message is.
// A small JSON object, {v:1, kind, id, ...}, built and parsed strictly here (pure, no DOM).
// The channel authenticates the sender, so a decoded envelope's author is the peer; the fields
// below are all a peer can say. Unknown kinds, unknown versions, extra-large or malformed
// envelopes decode to null and are ignored (docs/protocol.md, "Private conversation envelope").
//
//   message     {text}                          a line of chat (BBCode source, ≤ maxText code points)
//   action      {text}                          "/me text"
//   delete      {target}                        the author withdraws their message `target`
//   receipt     {targets}                       the peer's browser received these messages (1–64 ids,
//                                               coalesced: one receipt per short burst)
//   roll_commit {roll, count, sides, commitment, participants?} fair dice, step 1 (web/src/chat/dice.js);
//                                               in a room, participants = the members' usernames (sorted)
//   roll_reveal {roll, nonce, contribution, commitSet} fair dice, step 2
//   nick        {name}                          the display name the sender wants to be shown with

import { codePointLength } from './text.js';
import { usernamePattern, rollLimits } from './commands.js';
import { defaultLimits } from './limits.js';

export const envelopeLimits = Object.freeze({ maxBytes: 8192, maxText: defaultLimits.maxLength, maxReceiptTargets: 64, maxParticipants: 64 });
export const envelopeKinds = Object.freeze(['message', 'action', 'delete', 'receipt', 'roll_commit', 'roll_reveal', 'nick']);

const idPattern = /^[0-9a-f]{32}$/;
const hex64 = /^[0-9a-f]{64}$/;

/** A fresh random 128-bit id, lowercase hex. */
export function newEnvelopeId(random = (bytes) => globalThis.crypto.getRandomValues(bytes)) {
  return Array.from(random(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const isText = (value) => typeof value === 'string' && value.trim() !== '' && codePointLength(value) <= envelopeLimits.maxText;
const isCount = (value, min, max) => Number.isSafeInteger(value) && value >= min && value <= max;

const isParticipants = (value) => value === undefined || (Array.isArray(value) && value.length >= 2 && value.length <= envelopeLimits.maxParticipants
  && value.every((name) => typeof name === 'string' && usernamePattern.test(name)) && value.every((name, i) => i === 0 || value[i - 1] < name));

// kind → [required field names, check(envelope) → boolean, optional field names]
const schemas = Object.freeze({
  message: [['text'], (e) => isText(e.text)],
  action: [['text'], (e) => isText(e.text)],
  delete: [['target'], (e) => typeof e.target === 'string' && idPattern.test(e.target)],
  receipt: [['targets'], (e) => Array.isArray(e.targets) && e.targets.length >= 1 && e.targets.length <= envelopeLimits.maxReceiptTargets
    && e.targets.every((target) => typeof target === 'string' && idPattern.test(target)) && new Set(e.targets).size === e.targets.length],
  roll_commit: [['roll', 'count', 'sides', 'commitment'], (e) => typeof e.roll === 'string' && idPattern.test(e.roll)
    && isCount(e.count, rollLimits.minCount, rollLimits.maxCount) && isCount(e.sides, rollLimits.minSides, rollLimits.maxSides)
    && typeof e.commitment === 'string' && hex64.test(e.commitment) && isParticipants(e.participants), ['participants']],
  roll_reveal: [['roll', 'nonce', 'contribution', 'commitSet'], (e) => typeof e.roll === 'string' && idPattern.test(e.roll)
    && [e.nonce, e.contribution, e.commitSet].every((value) => typeof value === 'string' && hex64.test(value))],
  nick: [['name'], (e) => typeof e.name === 'string' && usernamePattern.test(e.name)],
});

function validate(envelope) {
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) return null;
  if (envelope.v !== 1 || typeof envelope.kind !== 'string' || !Object.hasOwn(schemas, envelope.kind)) return null;
  if (typeof envelope.id !== 'string' || !idPattern.test(envelope.id)) return null;
  const [fields, check, optional = []] = schemas[envelope.kind];
  const allowed = new Set(['v', 'kind', 'id', ...fields, ...optional]);
  if (Object.keys(envelope).some((key) => !allowed.has(key))) return null;
  if (!check(envelope)) return null;
  const out = { v: 1, kind: envelope.kind, id: envelope.id };
  for (const field of [...fields, ...optional.filter((name) => envelope[name] !== undefined)]) {
    out[field] = Array.isArray(envelope[field]) ? Object.freeze([...envelope[field]]) : envelope[field];
  }
  return Object.freeze(out);
}

/** {kind, ...fields} → JSON text; throws on an envelope this side would refuse to receive. */
export function encodeEnvelope({ kind, id = newEnvelopeId(), ...fields }) {
  const envelope = validate({ v: 1, kind, id, ...fields });
  if (!envelope) throw new TypeError(`envelope: invalid ${String(kind)} envelope`);
  const text = JSON.stringify(envelope);
  if (new TextEncoder().encode(text).length > envelopeLimits.maxBytes) throw new RangeError('envelope: too large');
  return text;
}

/** JSON text from the channel → a frozen envelope, or null (ignored) when anything is off. */
export function decodeEnvelope(text) {
  if (typeof text !== 'string' || text.length > envelopeLimits.maxBytes || new TextEncoder().encode(text).length > envelopeLimits.maxBytes) return null;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  return validate(parsed);
}
