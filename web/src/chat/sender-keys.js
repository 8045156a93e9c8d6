// Room sender keys: the rules, not the crypto. Pure state machine (no clock, no randomness, no
// I/O); the crypto Worker will hold the keys themselves and ask this module what to do.
//
// How it maps to the sender-key design (Signal's "sender keys", as in libsignal's
// group_cipher / sender_key_state and the Signal Protocol's group messaging):
//   - Each member of a room has one symmetric sender key of its own for that room, identified
//     by a key id. A message is encrypted once, under the sender's current key, and the server
//     fans the one ciphertext out to the room. Here: `ownKeyId`, and `peerKeyOf(member)` for
//     the keys of others.
//   - A sender key is distributed to each other member over the pairwise secure channel
//     (docs/protocol.md), never through the server in the clear. Here: `membersToSendKeyTo()`
//     says who still needs the current key, `key_sent_to` records each delivery.
//   - Post-removal secrecy: when a member leaves or is removed, every remaining member creates a
//     new sender key and sends it to the remaining members only; the member who is gone keeps
//     the old keys but never receives a new one, so cannot read what follows. Here: the
//     `member_left` / `member_removed` events make `mustRotate()` true, and a removed member is
//     excluded from every later distribution until an explicit re-admission.
//   - No history for newcomers: a member receives only keys created after they joined. Signal
//     hands a newcomer its chain key at the current iteration (the chain ratchets forward, so
//     older messages stay out of reach); the Worker's sender keys are not promised to ratchet,
//     so the rule here is stricter and simpler: a join makes the current key retire too, and
//     the newcomer gets the next one.
//   - Key wear-out: the own key also retires after maxMessages messages (default 1000) or
//     maxAgeMs (default 7 days), which bounds what one leaked key exposes.
//
// Events (apply(event); an event that breaks a rule throws a SenderKeyError with a code):
//   { type: 'member_joined', member, readmit? }   readmit: true to let a removed member back
//   { type: 'member_left', member }
//   { type: 'member_removed', member }
//   { type: 'key_created', keyId, at }             the Worker made a new own key (at: ms)
//   { type: 'key_sent_to', member, keyId }         the own key reached that member
//   { type: 'message_sent', keyId }                a message was encrypted under the own key
//   { type: 'key_received', member, keyId }        a member's new sender key arrived
// Queries: mustRotate(now), rotationReason(now), rotationNeeded(event), membersToSendKeyTo(now),
// canSend(now), ownKeyId(), peerKeyOf(member), members().

export const senderKeyDefaults = Object.freeze({ maxMessages: 1000, maxAgeMs: 7 * 24 * 60 * 60 * 1000 });

export const RotationReason = Object.freeze({
  noKey: 'no_key',
  memberJoined: 'member_joined',
  memberLeft: 'member_left',
  memberRemoved: 'member_removed',
  messageLimit: 'message_limit',
  ageLimit: 'age_limit',
});

export class SenderKeyError extends Error {
  constructor(code, detail) {
    super(`sender keys: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'SenderKeyError';
    this.code = code;
  }
}

function memberId(value) {
  if (typeof value !== 'string' || value === '') throw new SenderKeyError('bad_member');
  return value;
}

function keyId(value) {
  if (typeof value !== 'string' || value === '') throw new SenderKeyError('bad_key_id');
  return value;
}

/**
 * One room, as seen by the member `self`. `members`: the others present when the state is
 * created (they count as joined before any key of ours).
 */
export function createRoomSenderKeys({ self, members = [], maxMessages = senderKeyDefaults.maxMessages, maxAgeMs = senderKeyDefaults.maxAgeMs } = {}) {
  memberId(self);
  if (!Number.isSafeInteger(maxMessages) || maxMessages < 1) throw new RangeError('sender keys: maxMessages must be a positive integer');
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) throw new RangeError('sender keys: maxAgeMs must be positive');

  // A logical clock: every event gets the next sequence number, so "created after they joined"
  // is an exact order, not a comparison of wall-clock times that may tie or go backwards.
  let seq = 0;
  const current = new Map();        // member → { joinedSeq }
  const removed = new Set();        // removed, not re-admitted: never sent a new key
  const peerKeys = new Map();       // member → their current sender key id
  const usedKeyIds = new Set();     // own key ids, never reused
  let ownKey = null;                // { keyId, createdSeq, createdAt, messages, sentTo: Set }
  let pending = RotationReason.noKey;

  for (const member of members) {
    if (memberId(member) === self || current.has(member)) throw new SenderKeyError('bad_member', member);
    current.set(member, { joinedSeq: 0 });
  }

  function rotationReason(now) {
    if (pending) return pending;
    if (ownKey.messages >= maxMessages) return RotationReason.messageLimit;
    if (Number.isFinite(now) && now - ownKey.createdAt >= maxAgeMs) return RotationReason.ageLimit;
    return null;
  }

  function requireMember(member) {
    if (removed.has(member)) throw new SenderKeyError('member_removed', member);
    if (!current.has(member)) throw new SenderKeyError('not_member', member);
    return current.get(member);
  }

  function apply(event) {
    const type = event?.type;
    seq += 1;
    switch (type) {
      case 'member_joined': {
        const member = memberId(event.member);
        if (member === self) throw new SenderKeyError('self_event');
        if (current.has(member)) throw new SenderKeyError('already_member', member);
        // A hostile server could slip a removed member back in; only an explicit re-admission
        // lets them in again: room-keys.js sets readmit only for a user the page names in
        // room.members' `readmit`, which it does for a join it showed ("carol joined").
        if (removed.has(member) && event.readmit !== true) throw new SenderKeyError('member_removed', member);
        removed.delete(member);
        current.set(member, { joinedSeq: seq });
        if (ownKey) pending ??= RotationReason.memberJoined;
        return;
      }
      case 'member_left':
      case 'member_removed': {
        const member = memberId(event.member);
        if (member === self) throw new SenderKeyError('self_event');
        requireMember(member);
        current.delete(member);
        peerKeys.delete(member);
        if (type === 'member_removed') removed.add(member);
        // A shrink outranks a join as the stated reason: it is the one that protects secrecy.
        if (ownKey && pending !== RotationReason.memberRemoved) {
          pending = type === 'member_removed' ? RotationReason.memberRemoved : RotationReason.memberLeft;
        }
        return;
      }
      case 'key_created': {
        const id = keyId(event.keyId);
        if (usedKeyIds.has(id)) throw new SenderKeyError('key_reused', id);
        if (!Number.isFinite(event.at)) throw new SenderKeyError('bad_time');
        usedKeyIds.add(id);
        ownKey = { keyId: id, createdSeq: seq, createdAt: event.at, messages: 0, sentTo: new Set() };
        pending = null;
        return;
      }
      case 'key_sent_to': {
        const member = memberId(event.member);
        const info = requireMember(member);
        if (!ownKey || event.keyId !== ownKey.keyId) throw new SenderKeyError('stale_key', event.keyId);
        if (pending) throw new SenderKeyError('rotation_pending', pending);
        if (info.joinedSeq >= ownKey.createdSeq) throw new SenderKeyError('key_predates_member', member);
        ownKey.sentTo.add(member);
        return;
      }
      case 'message_sent': {
        if (!ownKey) throw new SenderKeyError('no_key');
        if (event.keyId !== undefined && event.keyId !== ownKey.keyId) throw new SenderKeyError('stale_key', event.keyId);
        if (pending) throw new SenderKeyError('rotation_pending', pending);
        if (ownKey.messages >= maxMessages) throw new SenderKeyError('rotation_pending', RotationReason.messageLimit);
        ownKey.messages += 1;
        return;
      }
      case 'key_received': {
        const member = memberId(event.member);
        requireMember(member);
        peerKeys.set(member, keyId(event.keyId));
        return;
      }
      default:
        seq -= 1;
        throw new SenderKeyError('unknown_event', String(type));
    }
  }

  return Object.freeze({
    apply,
    /** Whether the own key must be replaced before anything else is sent or distributed. */
    mustRotate: (now) => rotationReason(now) !== null,
    /** Why (a RotationReason), or null. */
    rotationReason,
    /**
     * Whether applying `event` now would make the own key retire: a member leaving or removed
     * (every remaining member rotates), a member joining (no history for them), the
     * maxMessages-th message, or, for { type: 'tick', at }, the key's age reaching maxAgeMs.
     */
    rotationNeeded(event) {
      if (!ownKey) return false;
      switch (event?.type) {
        case 'member_left':
        case 'member_removed':
          return current.has(event.member);
        case 'member_joined':
          return !current.has(event.member);
        case 'message_sent':
          return ownKey.messages + 1 >= maxMessages;
        case 'tick':
          return Number.isFinite(event.at) && event.at - ownKey.createdAt >= maxAgeMs;
        default:
          return false;
      }
    },
    /** Members who still need the current own key; empty while a rotation is due. */
    membersToSendKeyTo(now) {
      if (!ownKey || rotationReason(now) !== null) return [];
      return [...current].filter(([member, info]) => !removed.has(member) && info.joinedSeq < ownKey.createdSeq && !ownKey.sentTo.has(member))
        .map(([member]) => member).sort();
    },
    /** { ok: true } or { ok: false, reason } — reason 'key_not_delivered' lists `waitingFor`. */
    canSend(now) {
      const reason = ownKey ? rotationReason(now) : RotationReason.noKey;
      if (reason) return { ok: false, reason };
      const waitingFor = [...current.keys()].filter((member) => !ownKey.sentTo.has(member)).sort();
      return waitingFor.length ? { ok: false, reason: 'key_not_delivered', waitingFor } : { ok: true };
    },
    ownKeyId: () => ownKey?.keyId ?? null,
    ownKeyMessages: () => ownKey?.messages ?? 0,
    peerKeyOf: (member) => peerKeys.get(member) ?? null,
    members: () => [...current.keys()].sort(),
    isRemoved: (member) => removed.has(member),
  });
}
