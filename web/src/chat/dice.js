// Fair dice for /roll between browsers: commit-reveal, so no participant — and not the server,
// which only relays — can choose or predict the result alone. The exact scheme is in
// docs/protocol.md, "Fair dice for /roll"; this file is its reference implementation.
//
// Runtime-neutral: WebCrypto (crypto.subtle.digest SHA-256, crypto.getRandomValues) from
// globalThis, present in pages, Workers and node ≥ 20. No DOM, no network: the Chat tab sends
// the messages this module produces and feeds back what arrives. Times are injected.
//
// Shape of one roll:
//   1. A roll request names rollId (16 random bytes), the spec (count, sides) and the
//      participants (the room members present).
//   2. Each participant draws a 32-byte nonce and a 32-byte contribution, and sends only
//      commitment = H(label ‖ rollId ‖ participant ‖ spec ‖ nonce ‖ contribution).
//   3. Once a participant holds every commitment, it reveals nonce and contribution, with the
//      hash of the commitment set it saw (so a participant who sent different commitments to
//      different people is caught).
//   4. Everyone checks every reveal against its commitment; the seed is a hash of the commitment
//      set and of all contributions; dice come from a SHA-256 stream by rejection sampling.
// Errors are values, { error: { code, messageKey: 'chat.dice.error.' + code, params } }.

const encoder = new TextEncoder();

export const diceDefaults = Object.freeze({ commitTimeoutMs: 30_000, revealTimeoutMs: 30_000, maxParticipants: 100 });
export const diceLabels = Object.freeze({
  commit: 'secms-dice-v1 commit',
  commitSet: 'secms-dice-v1 commit-set',
  seed: 'secms-dice-v1 seed',
  stream: 'secms-dice-v1 stream',
});

export const DiceError = Object.freeze({
  malformed: 'malformed',
  unknownParticipant: 'unknown_participant',
  duplicateCommitment: 'duplicate_commitment',
  lateCommitment: 'late_commitment',
  missingCommitment: 'missing_commitment',
  earlyReveal: 'early_reveal',
  lateReveal: 'late_reveal',
  duplicateReveal: 'duplicate_reveal',
  commitmentMismatch: 'commitment_mismatch',
  commitSetMismatch: 'commit_set_mismatch',
  missingReveal: 'missing_reveal',
  aborted: 'aborted',
});

function failure(code, params = {}) {
  return Object.freeze({ error: Object.freeze({ code, messageKey: `chat.dice.error.${code}`, params: Object.freeze(params) }) });
}

// --- encoding (docs/protocol.md notation: u8/u16/u32 big-endian, field(x) = u16(len(x)) ‖ x)

const u8 = (n) => Uint8Array.of(n);
const u16 = (n) => Uint8Array.of(n >>> 8, n & 0xff);
const u32 = (n) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
function field(bytes) {
  if (bytes.length > 0xffff) throw new RangeError('dice: field too long');
  return concat(u16(bytes.length), bytes);
}
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Lowercase hex of exactly `length` bytes → bytes, or null. */
export function fromHex(text, length) {
  if (typeof text !== 'string' || text.length !== length * 2 || !/^[0-9a-f]*$/.test(text)) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function sha256(...parts) {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', concat(...parts)));
}

const specBytes = ({ count, sides }) => concat(u8(count), u16(sides));
const label = (text) => field(encoder.encode(text));
const participantField = (id) => field(encoder.encode(id));

function checkSpec(spec) {
  const { count, sides } = spec ?? {};
  if (!Number.isSafeInteger(count) || count < 1 || count > 255 || !Number.isSafeInteger(sides) || sides < 2 || sides > 0xffff) {
    throw new RangeError('dice: spec must be { count 1–255, sides 2–65535 }');
  }
  return { count, sides };
}

function checkRollId(rollId) {
  const bytes = fromHex(rollId, 16);
  if (!bytes) throw new TypeError('dice: rollId must be 32 lowercase hex digits');
  return bytes;
}

// --- the scheme

const defaultRandom = (bytes) => globalThis.crypto.getRandomValues(bytes);

/** A fresh roll id (16 random bytes, hex). */
export function newRollId({ random = defaultRandom } = {}) {
  return toHex(random(new Uint8Array(16)));
}

/** commitment = H(field(label) ‖ field(rollId) ‖ field(participant) ‖ u8(count) ‖ u16(sides) ‖ nonce ‖ contribution), hex. */
export async function commitmentOf({ rollId, participant, spec, nonce, contribution }) {
  return toHex(await sha256(label(diceLabels.commit), field(checkRollId(rollId)), participantField(participant),
    specBytes(checkSpec(spec)), nonce, contribution));
}

/**
 * Own share of a roll: { nonce, contribution, commitment } (hex). `random` fills a Uint8Array
 * (injectable for tests; defaults to crypto.getRandomValues).
 */
export async function createContribution({ rollId, participant, spec, random = defaultRandom }) {
  const nonce = random(new Uint8Array(32));
  const contribution = random(new Uint8Array(32));
  const commitment = await commitmentOf({ rollId, participant, spec, nonce, contribution });
  return Object.freeze({ nonce: toHex(nonce), contribution: toHex(contribution), commitment });
}

const byId = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** H(field(label) ‖ field(rollId) ‖ u8(count) ‖ u16(sides) ‖ u16(n) ‖ Σ sorted field(id) ‖ commitment), hex. */
export async function commitSetHash({ rollId, spec, commitments }) {
  const ids = Object.keys(commitments).sort(byId);
  const parts = ids.map((id) => concat(participantField(id), fromHex(commitments[id], 32)));
  return toHex(await sha256(label(diceLabels.commitSet), field(checkRollId(rollId)), specBytes(checkSpec(spec)), u16(ids.length), ...parts));
}

/** seed = H(field(label) ‖ commitSet ‖ Σ sorted field(id) ‖ contribution). */
export async function rollSeed({ commitSet, contributions }) {
  const ids = Object.keys(contributions).sort(byId);
  const parts = ids.map((id) => concat(participantField(id), fromHex(contributions[id], 32)));
  return sha256(label(diceLabels.seed), fromHex(commitSet, 32), ...parts);
}

/**
 * One uniform value in 1..sides from a source of uint32 values, by rejection sampling: values
 * at or above the largest multiple of `sides` below 2^32 are drawn again, so every face has
 * exactly floor(2^32 / sides) preimages (no modulo bias).
 */
export function uniformFromUint32(nextUint32, sides) {
  const limit = 2 ** 32 - (2 ** 32 % sides);
  for (;;) {
    const value = nextUint32();
    if (value < limit) return 1 + (value % sides);
  }
}

/**
 * The dice for a seed: block k = H(field(label) ‖ seed ‖ u32(k)), read as eight big-endian
 * u32 values each, consumed in order by uniformFromUint32 for die 1, 2, … count.
 */
export async function diceFromSeed(seed, spec) {
  const { count, sides } = checkSpec(spec);
  const values = [];
  let block = 0;
  const refill = async () => {
    const bytes = await sha256(label(diceLabels.stream), seed, u32(block));
    block += 1;
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 32; i += 4) values.push(view.getUint32(i));
  };
  await refill();
  const dice = [];
  let at = 0;
  while (dice.length < count) {
    // Fill ahead so the synchronous sampler never runs dry (one die needs one value, rarely two).
    while (values.length - at < 8) await refill();
    dice.push(uniformFromUint32(() => {
      // Eight rejections in a row (probability below 2^-180 for sides ≤ 65535) never happen;
      // stopping beats looping on a value that is not there.
      if (at >= values.length) throw new Error('dice: random stream exhausted');
      return values[at++];
    }, sides));
  }
  return dice;
}

/**
 * One roll, from one participant's point of view.
 *   const roll = createDiceRoll({ rollId, spec, participants, startedAt })
 *   roll.addCommitment({ participant, commitment }, at)          → { ok } | { error }
 *   await roll.commitSet()                                       → hex, once all committed
 *   await roll.addReveal({ participant, nonce, contribution, commitSet }, at) → { ok } | { error }
 *   await roll.result(at)                                        → { dice, total, seed } | { error }
 * Deadlines: commitments by startedAt + commitTimeoutMs; reveals by (time the last
 * commitment arrived) + revealTimeoutMs. A reveal before every commitment is in is refused:
 * revealing early would let a later committer choose after seeing it.
 *
 * An end without a result is final. Once every commitment is in, the last revealer can learn
 * the result first and withhold or spoil their reveal; if a roll could then still complete (a
 * late reveal) or be restarted, that participant could pick between outcomes. So once the reveal
 * phase has begun, the roll ends for good in one of three ways, and everything after —
 * commitments, reveals, result() — answers the same failure:
 *   'aborted'    a reveal arrived that its author's own commitment disproves (commitment_mismatch,
 *                or two different reveals): the reveal came under its author's room key, so it
 *                is proof, and abortedBy() names them.
 *   'incomplete' a reveal did not arrive by the deadline (missing_reveal), or arrived after it
 *                (late_reveal). Nobody is blamed: the relay can withhold or delay one
 *                participant's reveal towards one member only, so that member's roll fails while
 *                the others complete it. notReceivedFrom() names whose reveal is missing here.
 *   'void'       a reveal names another commitment set (commit_set_mismatch): someone sent
 *                different commitments to different members, not necessarily the revealer.
 * A completed result is what this participant computed from the reveals it received; another
 * participant from whom a reveal was withheld ends 'incomplete' instead (no agreement round).
 */
export function createDiceRoll({ rollId, spec, participants, startedAt, commitTimeoutMs = diceDefaults.commitTimeoutMs, revealTimeoutMs = diceDefaults.revealTimeoutMs }) {
  checkRollId(rollId);
  checkSpec(spec);
  if (!Array.isArray(participants) || participants.length < 1 || participants.length > diceDefaults.maxParticipants
    || participants.some((p) => typeof p !== 'string' || p === '') || new Set(participants).size !== participants.length) {
    throw new TypeError('dice: participants must be distinct non-empty ids');
  }
  if (!Number.isFinite(startedAt)) throw new TypeError('dice: startedAt must be a time in ms');
  const members = new Set(participants);
  const commitments = new Map();
  const reveals = new Map();
  let allCommittedAt = null;
  let commitSetValue = null;
  let ended = null;                 // { phase, failure } once the roll ended without a result (final)
  let abortedBy = null;             // sorted participants whose own reveal proves the abort
  let notReceived = null;           // sorted participants whose reveal did not arrive in time here

  /** Ends the roll for good (only once the reveal phase started: before it nobody knows anything). */
  function endWith(phase, result, { by = null, missing = null, final = result } = {}) {
    if (allCommittedAt === null || ended !== null) return result;
    const sorted = (list) => Object.freeze([...new Set(list)].sort(byId));
    if (by) abortedBy = sorted(by);
    if (missing) notReceived = sorted(missing);
    ended = { phase, failure: final };
    return result;
  }
  const abortWith = (result, culprits) => endWith('aborted', result, {
    by: culprits, final: failure(DiceError.aborted, { participants: [...new Set(culprits)].sort(byId).join(', ') }),
  });
  /** Reveals not received by the deadline: the roll cannot complete here; nobody is blamed. */
  const incomplete = (result) => {
    const missing = pendingOf(reveals);
    return endWith('incomplete', result, { missing, final: failure(DiceError.missingReveal, { participants: missing.join(', ') }) });
  };

  const commitDeadline = startedAt + commitTimeoutMs;
  const pendingOf = (map) => participants.filter((p) => !map.has(p)).sort(byId);

  function addCommitment({ participant, commitment } = {}, at) {
    if (ended) return ended.failure;
    if (!members.has(participant)) return failure(DiceError.unknownParticipant, { participant: String(participant).slice(0, 40) });
    if (!fromHex(commitment, 32)) return failure(DiceError.malformed, { participant });
    if (commitments.has(participant)) {
      // The same commitment again is a harmless resend; a different one is an attempt to change it.
      return commitments.get(participant) === commitment ? { ok: true } : failure(DiceError.duplicateCommitment, { participant });
    }
    if (!(at <= commitDeadline)) return failure(DiceError.lateCommitment, { participant });
    commitments.set(participant, commitment);
    if (commitments.size === participants.length) allCommittedAt = at;
    return { ok: true };
  }

  async function commitSet() {
    if (allCommittedAt === null) return failure(DiceError.missingCommitment, { participants: pendingOf(commitments).join(', ') });
    commitSetValue ??= await commitSetHash({ rollId, spec, commitments: Object.fromEntries(commitments) });
    return commitSetValue;
  }

  async function addReveal({ participant, nonce, contribution, commitSet: theirSet } = {}, at) {
    if (ended) return ended.failure;
    if (!members.has(participant)) return failure(DiceError.unknownParticipant, { participant: String(participant).slice(0, 40) });
    const nonceBytes = fromHex(nonce, 32);
    const contributionBytes = fromHex(contribution, 32);
    if (!nonceBytes || !contributionBytes || !fromHex(theirSet, 32)) return failure(DiceError.malformed, { participant });
    if (allCommittedAt === null) return failure(DiceError.earlyReveal, { participant });
    // Late is not proof of anything: the relay may have held the reveal back.
    if (!(at <= allCommittedAt + revealTimeoutMs)) return incomplete(failure(DiceError.lateReveal, { participant }));
    const expected = await commitmentOf({ rollId, participant, spec, nonce: nonceBytes, contribution: contributionBytes });
    if (expected !== commitments.get(participant)) return abortWith(failure(DiceError.commitmentMismatch, { participant }), [participant]);
    if (theirSet !== await commitSet()) {
      const mismatch = failure(DiceError.commitSetMismatch, { participant });
      return endWith('void', mismatch);
    }
    if (reveals.has(participant)) {
      return reveals.get(participant) === contribution ? { ok: true } : abortWith(failure(DiceError.duplicateReveal, { participant }), [participant]);
    }
    reveals.set(participant, contribution);
    return { ok: true };
  }

  async function result(at) {
    if (ended) return ended.failure;
    if (allCommittedAt === null) return failure(DiceError.missingCommitment, { participants: pendingOf(commitments).join(', ') });
    if (reveals.size < participants.length) {
      // Still waiting is not an error until the deadline has passed.
      const late = !(at <= allCommittedAt + revealTimeoutMs);
      return late ? incomplete(failure(DiceError.missingReveal, { participants: pendingOf(reveals).join(', ') })) : { pending: pendingOf(reveals) };
    }
    const seed = await rollSeed({ commitSet: await commitSet(), contributions: Object.fromEntries(reveals) });
    const dice = await diceFromSeed(seed, spec);
    return Object.freeze({ dice: Object.freeze(dice), total: dice.reduce((a, b) => a + b, 0), seed: toHex(seed) });
  }

  return Object.freeze({
    addCommitment,
    commitSet,
    addReveal,
    result,
    /** 'committing' | 'revealing' | 'complete' | 'aborted' | 'incomplete' | 'void' (the last three final) */
    phase: () => (ended ? ended.phase : allCommittedAt === null ? 'committing' : reveals.size < participants.length ? 'revealing' : 'complete'),
    /** The participants whose own reveal proves they aborted the roll (sorted), or null. */
    abortedBy: () => abortedBy,
    /** The participants whose reveal did not arrive here in time (sorted), or null: not blame. */
    notReceivedFrom: () => notReceived,
    waitingFor: () => (allCommittedAt === null ? pendingOf(commitments) : pendingOf(reveals)),
  });
}
