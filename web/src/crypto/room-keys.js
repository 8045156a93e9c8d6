// Room sender keys as the crypto Worker holds them (docs/protocol.md "Room messages (sender
// keys)"): one own sender key per room, handed to every other member over the pairwise secure
// channels, and the keys the other members handed us. The rules — when to rotate, who still
// needs the current key — come from web/src/chat/sender-keys.js; this module does the crypto
// (room-cipher.js) and the bookkeeping the rules leave out: which key ids belong to whom, replay
// counters, frames that arrive before their key, keys that arrive before their sender is a member.
//
// Owner binding (protocol version 2): a sender key names its owner (username and OpenPGP
// fingerprint) and its key id is derived from (room, owner, fingerprint, verification key). A key
// is taken only when its owner is the peer of the channel it came over — the username the page
// named and the fingerprint the user accepted for that channel — and its id matches the
// derivation; every frame's AAD names the owner the receiver holds the key under. A member who
// relays another member's key over their own channel is refused, and cannot occupy that key id.
//
// Counter floor and key chain (sender-key version 3): every hand-over of a key says the counter
// of the owner's next frame under it, and the receiver installs the key there, so a tab that gets
// the key late refuses the frames sealed before (a relay replaying them, or history it never had).
// A member who still needs the key (it was made after they joined; no tab of theirs has it) gets
// it at 0: every frame under it was meant for them, including those sealed while their channel
// came up. Each key also names its predecessor and how many frames went out under it; at the
// first frame under the new key the receiver reports the old key's frames that never arrived,
// so a rotation the relay forces (a phantom join or leave) cannot hide a dropped line.
//
// Worker side; runs in Node too (the tests wire three managers through a fake relay). Key bytes
// never leave it: the only outputs are sealed bodies, sender-key plaintexts handed to the
// pairwise channel, and the decrypted text of room frames.

import { createRoomSenderKeys } from '../chat/sender-keys.js';
import { usernamePattern } from '../chat/commands.js';
import { fromHex, toHex, zeroize } from './protocol/bytes.js';
import { RoomFrameError, decodeRoomFrame, isRoomFrameType, isRoomId } from './room-frame.js';
import {
  ROOM_COUNTER_MAX, ROOM_IV_BYTES, ROOM_KEY_BYTES, RoomCipherError,
  decodeSenderKeyPlaintext, decryptRoomBody, deriveRoomKeyId, encodeSenderKeyPlaintext, generateRoomSigningKey,
  importRoomAesKey, importRoomVerifyKey, isRoomOwnerFingerprint, maxRoomPlaintext, parseRoomBody, sealRoomBody, verifyRoomBody,
} from './room-cipher.js';

export const roomKeyLimits = Object.freeze({
  keysPerMember: 4,            // a member's newest keys; older ones still open frames in flight
  pendingKeysPerRoom: 8,       // keys from users not (yet) members in our view
  pendingKeyMs: 60_000,
  pendingRooms: 16,            // rooms we have not heard of yet that keys may name
  bufferedFramesPerRoom: 64,   // frames whose key has not arrived yet
  bufferedFrameMs: 30_000,
  retiredKeyIdsPerRoom: 256,   // ids of deleted keys, so their frames are named, not buffered
  membersPerRoom: 1024,
  sweepMs: 1000,
});

/** Closed set of the request errors (the Worker answers them as RequestError codes). */
export const RoomKeyErrorCode = Object.freeze({
  invalid_request: 'the request has a missing, extra or ill-formed field',
  not_in_room: 'the Worker holds no state for this room (room.members first)',
});

/** Closed set of the reasons of room.undecryptable events. */
export const UndecryptableReason = Object.freeze({
  unknown_key: 'no sender key with this id arrived within the buffer time',
  old_version: 'the frame is of protocol version 1 (no owner binding), or the sender key of version 1 or 2 (no counter floor); the sender must update',
  missing: 'counters under this key, or at the end of its predecessor, were skipped: `count` frames from `from` never arrived (dropped on the way)',
  foreign_key: 'a sender key naming another owner than the channel\'s peer (`from`) was refused',
  bad_key_id: 'a sender key whose id is not derived from its room, owner and verification key was refused',
  bad_signature: 'the signature does not verify with the sender key\'s public key',
  bad_tag: 'AES-GCM authentication failed',
  replay: 'the counter is not above the last one accepted under this key, or is below the counter the key was handed over at (sealed before this tab had it)',
  malformed: 'the body or its plaintext does not follow the encoding',
  stale_member: 'the key belonged to a member who left or was removed, or was retired',
});

export class RoomKeyError extends Error {
  constructor(code, detail) {
    if (!Object.hasOwn(RoomKeyErrorCode, code)) throw new TypeError(`RoomKeyError: unknown code ${String(code)}`);
    super(`room keys: ${detail ?? RoomKeyErrorCode[code]}`);
    this.name = 'RoomKeyError';
    this.code = code;
  }
}

const textEncoder = new TextEncoder();
const isUsername = (value) => typeof value === 'string' && usernamePattern.test(value);
const defaultRandom = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

function usernameList(value, { optional = false } = {}) {
  if (value === undefined && optional) return [];
  if (!Array.isArray(value) || value.length > roomKeyLimits.membersPerRoom || !value.every(isUsername)) {
    throw new RoomKeyError('invalid_request', 'usernames');
  }
  if (new Set(value).size !== value.length) throw new RoomKeyError('invalid_request', 'duplicate usernames');
  return value;
}

/** Ends a timer without keeping Node alive for it (tests); a Worker's timers have no unref. */
function unrefTimer(timer) {
  timer?.unref?.();
  return timer;
}

/**
 * Options: { emit(event), sendSenderKey(peerUser, plaintextBytes) → Promise<boolean>,
 *            self() → own username, selfFingerprint() → own OpenPGP fingerprint (hex),
 *            now?() → ms, random?(length) → Uint8Array }.
 * Events: room.message {room, from, frameType, text} · room.key_received {room, from}
 *         · room.undecryptable {room, reason, from?, count?} (reason `missing`: `count` frames
 *         from `from` never arrived; `foreign_key` / `bad_key_id`: a key from `from` was refused).
 */
export function createRoomKeyManager({ emit, sendSenderKey, self, selfFingerprint, now = () => Date.now(), random = defaultRandom }) {
  if (typeof emit !== 'function' || typeof sendSenderKey !== 'function' || typeof self !== 'function' || typeof selfFingerprint !== 'function') {
    throw new TypeError('createRoomKeyManager: emit, sendSenderKey, self and selfFingerprint must be functions');
  }
  const rooms = new Map();          // room id → room state
  const pendingByRoom = new Map();  // room id → [{ from, parsed, at }], keys not applied yet
  let sweepTimer = null;

  function selfName() {
    const name = self();
    if (!isUsername(name)) throw new RoomKeyError('invalid_request', 'no own username');
    return name;
  }

  function selfFingerprintHex() {
    const fingerprint = selfFingerprint();
    const lower = typeof fingerprint === 'string' ? fingerprint.toLowerCase() : '';
    if (!isRoomOwnerFingerprint(lower)) throw new RoomKeyError('invalid_request', 'no own fingerprint');
    return lower;
  }

  function undecryptable(state, reason, extra = {}) {
    emit({ type: 'room.undecryptable', room: state.room, reason, ...extra });
  }

  /**
   * Runs `task` after the room's earlier work: frames and key changes are handled one at a time,
   * in order. Work still queued when the room is left fails with not_in_room.
   */
  function enqueue(state, task) {
    const run = state.queue.then(() => {
      if (state.gone) throw new RoomKeyError('not_in_room');
      return task();
    });
    state.queue = run.catch(() => {});
    return run;
  }

  // ---- own key ----------------------------------------------------------------------------

  function dropOwnKey(state) {
    if (!state.own) return;
    zeroize(state.own.raw);
    state.own = null;
  }

  /**
   * The sender-key plaintext of the own key as handed over now: `next` is the counter of the
   * next frame (0 for a member who still needs the key, see the header). A fresh Uint8Array
   * the caller zero-fills.
   */
  function ownKeyPlaintext(own, room, next) {
    return encodeSenderKeyPlaintext({
      room, owner: own.owner, ownerFingerprint: own.ownerFingerprint, keyId: own.keyId, key: own.raw, verify: own.verifyHex,
      next, prevKeyId: own.prevKeyId, prevCount: own.prevCount,
    });
  }

  /**
   * A new own key: a random AES key, a fresh ECDSA pair, the key id derived from them and the
   * owner. The raw AES key is kept as a Uint8Array only to build sender-key plaintexts (members
   * whose channel comes up later, each with the current counter) and is zero-filled when the key
   * retires; the CryptoKeys are non-extractable. The new key names the one it replaces and how
   * many frames were sealed under it.
   */
  async function rotate(state) {
    const owner = selfName();
    const ownerFingerprint = selfFingerprintHex();
    const raw = Uint8Array.from(random(ROOM_KEY_BYTES));
    let aesKey;
    let keyId;
    let own = null;
    try {
      const signing = await generateRoomSigningKey();
      keyId = await deriveRoomKeyId({ room: state.room, owner, ownerFingerprint, verify: signing.verify });
      // A fresh P-256 key each time: a repeated id would mean a repeated key pair.
      if (state.ownKeyIds.has(keyId)) throw new RoomKeyError('invalid_request', 'key id repeated');
      aesKey = await importRoomAesKey(raw, ['encrypt']);
      const prevKeyId = state.own?.keyId ?? null;
      const prevCount = state.own?.counter ?? 0;
      own = {
        keyId, keyIdBytes: fromHex(keyId), owner, ownerFingerprint, aesKey, signingKey: signing.privateKey,
        raw: Uint8Array.from(raw), verifyHex: toHex(signing.verify), prevKeyId, prevCount, counter: 0,
      };
      // Checks every field once before the key is used (the same encoding serves each hand-over).
      zeroize(ownKeyPlaintext(own, state.room, 0));
      dropOwnKey(state);
      state.own = own;
    } catch (error) {
      if (own && state.own !== own) zeroize(own.raw);
      throw error;
    } finally {
      zeroize(raw);
    }
    state.ownKeyIds.add(keyId);
    state.rules.apply({ type: 'key_created', keyId, at: now() });
    state.resend.clear();
  }

  /**
   * Rotates when the rules say so, then hands the current key to every member lacking it (and
   * to members whose new channel may lead to another tab) that has a live channel.
   */
  async function distribute(state) {
    if (!state.own || state.rules.mustRotate(now())) await rotate(state);
    const { rules, own } = state;
    const at = now();
    const needing = new Set(rules.membersToSendKeyTo(at));
    const members = new Set(rules.members());
    const targets = [...new Set([...needing, ...[...state.resend].filter((user) => members.has(user))])].sort();
    const sentTo = [];
    for (const user of targets) {
      // Floor 0 for a member still owed the key, the current counter for a re-send (another tab).
      const copy = ownKeyPlaintext(own, state.room, needing.has(user) ? 0 : own.counter);
      let delivered = false;
      try {
        delivered = (await sendSenderKey(user, copy)) === true;
      } catch {
        delivered = false;
      } finally {
        zeroize(copy);
      }
      // A rotation (another call) cannot run in between: everything of a room is queued.
      if (!delivered) continue;
      if (needing.has(user)) rules.apply({ type: 'key_sent_to', member: user, keyId: own.keyId });
      state.resend.delete(user);
      sentTo.push(user);
    }
    const status = rules.canSend(at);
    // Listed by the server but kept out (removed, not readmitted): they cannot read either.
    const waitingFor = [...new Set([...(status.waitingFor ?? []), ...state.excluded])].sort();
    return { room: state.room, keyId: own.keyId, sentTo, waitingFor };
  }

  // ---- members ----------------------------------------------------------------------------

  function retire(state, keyId) {
    state.retired.add(keyId);
    if (state.retired.size > roomKeyLimits.retiredKeyIdsPerRoom) state.retired.delete(state.retired.values().next().value);
  }

  /** A member who left or was removed: their keys go at once (post-removal secrecy for them too). */
  function deleteMemberKeys(state, user) {
    for (const key of state.peers.get(user) ?? []) {
      state.keysById.delete(key.keyId);
      retire(state, key.keyId);
    }
    state.peers.delete(user);
  }

  function createRoomState(room, me, others) {
    return {
      room,
      rules: createRoomSenderKeys({ self: me, members: others }),
      queue: Promise.resolve(),
      gone: false,
      own: null,
      ownKeyIds: new Set(),
      resend: new Set(),
      peers: new Map(),      // user → [peer key], oldest first, at most keysPerMember
      keysById: new Map(),   // key id → peer key { user, keyId, aesKey, verifyKey, lastCounter }
      retired: new Set(),    // ids of keys deleted with their member, or pushed out by newer keys
      buffer: [],            // [{ frameType, parsed, at }] frames whose key id is unknown, arrival order
      excluded: new Set(),   // listed by the server, removed earlier and not readmitted: no key
    };
  }

  /**
   * Applies the server's member list to the rules: who left, who was removed, who joined. A
   * member this Worker saw removed comes back only when the page names them in `readmit` — it
   * does so for a join it showed the user ("bob joined"); a removed member who merely reappears
   * in a full list stays out (no key sent, none accepted) and is reported in `notReadmitted`.
   */
  function applyMembers(state, others, removed, readmit) {
    const { rules } = state;
    const before = rules.members();
    for (const user of before) {
      if (others.has(user)) continue;
      rules.apply({ type: removed.has(user) ? 'member_removed' : 'member_left', member: user });
      deleteMemberKeys(state, user);
      state.resend.delete(user);
    }
    const present = new Set(before);
    const notReadmitted = [];
    for (const user of others) {
      if (present.has(user)) continue;
      // sender-keys.js refuses a removed member's join without an explicit re-admission: a
      // hostile server could slip them back into a list. The join still rotates, so even a
      // re-admitted member reads nothing sent while they were out.
      if (rules.isRemoved(user) && !readmit.has(user)) {
        notReadmitted.push(user);
        continue;
      }
      rules.apply({ type: 'member_joined', member: user, readmit: rules.isRemoved(user) });
    }
    return notReadmitted.sort();
  }

  async function members({ room, members: list, removed, readmit }) {
    if (!isRoomId(room)) throw new RoomKeyError('invalid_request', 'room');
    const me = selfName();
    const everyone = usernameList(list);
    const removedList = usernameList(removed, { optional: true });
    const readmitSet = new Set(usernameList(readmit, { optional: true }));
    const others = new Set(everyone.filter((user) => user !== me));
    const removedSet = new Set(removedList);
    if (removedSet.has(me) || removedList.some((user) => others.has(user))) throw new RoomKeyError('invalid_request', 'a removed user is listed as a member');
    let state = rooms.get(room);
    if (!state) {
      state = createRoomState(room, me, [...others].sort());
      rooms.set(room, state);
    }
    const current = state;
    return enqueue(current, async () => {
      const notReadmitted = applyMembers(current, others, removedSet, readmitSet);
      current.excluded = new Set(notReadmitted);
      await applyPendingKeys(current);
      return { ...(await distribute(current)), notReadmitted };
    });
  }

  // ---- receiving keys ---------------------------------------------------------------------

  function releasePending(entry) {
    zeroize(entry.parsed.key);
  }

  function addPending(room, from, parsed) {
    if (!pendingByRoom.has(room)) {
      if (!rooms.has(room) && pendingByRoom.size >= roomKeyLimits.pendingRooms) {
        const [oldest, entries] = pendingByRoom.entries().next().value;
        entries.forEach(releasePending);
        pendingByRoom.delete(oldest);
      }
      pendingByRoom.set(room, []);
    }
    const list = pendingByRoom.get(room);
    list.push({ from, parsed, at: now() });
    while (list.length > roomKeyLimits.pendingKeysPerRoom) releasePending(list.shift());
    scheduleSweep();
  }

  /** Keys that waited for their sender to become a member: applied in arrival order. */
  async function applyPendingKeys(state) {
    const list = pendingByRoom.get(state.room);
    if (!list) return;
    const members = new Set(state.rules.members());
    const ready = list.filter((entry) => members.has(entry.from));
    const rest = list.filter((entry) => !members.has(entry.from));
    if (rest.length) pendingByRoom.set(state.room, rest);
    else pendingByRoom.delete(state.room);
    for (const entry of ready) await installKey(state, entry.from, entry.parsed);
  }

  /**
   * A sender key from a member (its owner, checked against the channel on arrival): the id is
   * checked against its derivation, the keys imported (non-extractable), and any buffered
   * frames under it are opened.
   */
  async function installKey(state, from, parsed) {
    try {
      // A key id names one key for good: not a deleted one again, not an identical re-delivery.
      if (state.retired.has(parsed.keyId) || state.keysById.has(parsed.keyId)) return;
      let derived;
      try {
        derived = await deriveRoomKeyId({ room: parsed.room, owner: parsed.owner, ownerFingerprint: parsed.ownerFingerprint, verify: parsed.verify });
      } catch {
        derived = null;
      }
      if (derived !== parsed.keyId) {
        undecryptable(state, 'bad_key_id', { from });
        return;
      }
      let aesKey;
      let verifyKey;
      try {
        aesKey = await importRoomAesKey(parsed.key, ['decrypt']);
        verifyKey = await importRoomVerifyKey(parsed.verify);
      } catch {
        return;
      }
      // Installed at the owner's next counter: frames sealed before this hand-over are refused.
      const key = {
        user: from, ownerFingerprint: parsed.ownerFingerprint, keyId: parsed.keyId, aesKey, verifyKey, lastCounter: parsed.next - 1,
        prevKeyId: parsed.prevKeyId, prevCount: parsed.prevCount, chainChecked: false,
      };
      const list = state.peers.get(from) ?? [];
      list.push(key);
      state.peers.set(from, list);
      state.keysById.set(key.keyId, key);
      while (list.length > roomKeyLimits.keysPerMember) {
        const old = list.shift();
        state.keysById.delete(old.keyId);
        retire(state, old.keyId);
      }
      state.rules.apply({ type: 'key_received', member: from, keyId: key.keyId });
      emit({ type: 'room.key_received', room: state.room, from });
      await retryBuffered(state, key.keyId);
    } finally {
      zeroize(parsed.key);
    }
  }

  /**
   * A sender_key record from the pairwise channel with `peerUser` (the username the page named
   * when the channel was prepared) whose accepted certificate has `peerFingerprint`. Taken only
   * when the key's owner is that peer (name and fingerprint): a member relaying someone else's
   * key is refused (`foreign_key`). Used only from a current member; from anyone else it waits
   * (bounded) until the member list names them. `plaintext` is zero-filled here.
   */
  function receiveSenderKey({ peerUser, peerFingerprint, plaintext }) {
    let parsed;
    try {
      parsed = decodeSenderKeyPlaintext(plaintext);
    } catch (error) {
      if (error instanceof RoomCipherError) {
        const state = error.reason === 'old_version' ? rooms.get(oldVersionRoom(plaintext)) : undefined;
        if (state && isUsername(peerUser)) undecryptable(state, 'old_version', { from: peerUser });
        return { accepted: false, reason: error.reason };
      }
      throw error;
    } finally {
      if (plaintext instanceof Uint8Array) zeroize(plaintext);
    }
    let me = null;
    try { me = selfName(); } catch { /* no account: nothing can be accepted */ }
    if (!isUsername(peerUser) || peerUser === me || parsed.owner === me) {
      zeroize(parsed.key);
      return { accepted: false };
    }
    const fingerprint = typeof peerFingerprint === 'string' ? peerFingerprint.toLowerCase() : '';
    if (parsed.owner !== peerUser || parsed.ownerFingerprint !== fingerprint) {
      zeroize(parsed.key);
      const held = rooms.get(parsed.room);
      if (held) undecryptable(held, 'foreign_key', { from: peerUser });
      return { accepted: false, reason: 'foreign_key' };
    }
    const state = rooms.get(parsed.room);
    if (!state) {
      addPending(parsed.room, peerUser, parsed);
      return { accepted: true };
    }
    enqueue(state, async () => {
      if (state.rules.members().includes(peerUser)) await installKey(state, peerUser, parsed);
      else addPending(state.room, peerUser, parsed);
    }).catch(() => {});
    return { accepted: true };
  }

  /**
   * A secure channel to `peerUser` came up. It may lead to a tab (a Worker) that does not hold
   * our keys yet although another tab of that user does, so the next distribution sends the
   * current keys again; a receiver ignores a key id it already holds.
   */
  function peerChannelSecured({ peerUser }) {
    if (!isUsername(peerUser)) return;
    for (const state of rooms.values()) if (state.rules.members().includes(peerUser)) state.resend.add(peerUser);
  }

  /** The room a version-1 key names (only to say which room an outdated member is in). */
  function oldVersionRoom(plaintext) {
    const match = /^\{"v":[12],"room":"([0-9a-f]{32})"/.exec(new TextDecoder().decode(plaintext.subarray(0, 48)));
    return match ? match[1] : '';
  }

  // ---- frames -----------------------------------------------------------------------------

  /**
   * At the first frame accepted under `key`: frames its owner sealed under the previous keys
   * (as the new key states their number) that never arrived here. Checked at the first frame,
   * not when the key arrives: the key comes over the pairwise channel, the last frames under the
   * old key over the room relay, in either order; the owner's frames come in order, so by its
   * first frame under the new key every frame under the old one is in. Walks back through keys
   * that carried no frame here (two rotations in a row). Returns the count, and sets each old
   * key's floor to its end so such a frame arriving after all is refused, as in-key gaps are.
   */
  function missingBefore(state, key) {
    let missing = 0;
    let current = key;
    while (current && !current.chainChecked) {
      current.chainChecked = true;
      const previous = current.prevKeyId === null ? undefined : state.keysById.get(current.prevKeyId);
      if (!previous || previous.user !== current.user) break;
      const last = current.prevCount - 1;
      if (last > previous.lastCounter) {
        missing += last - previous.lastCounter;
        previous.lastCounter = last;
      }
      current = previous;
    }
    return missing;
  }

  function bufferFrame(state, item) {
    state.buffer.push(item);
    while (state.buffer.length > roomKeyLimits.bufferedFramesPerRoom) {
      state.buffer.shift();
      undecryptable(state, 'unknown_key');
    }
    scheduleSweep();
  }

  async function retryBuffered(state, keyId) {
    const ready = state.buffer.filter((item) => item.parsed.keyId === keyId);
    if (!ready.length) return;
    state.buffer = state.buffer.filter((item) => item.parsed.keyId !== keyId);
    for (const item of ready) await openFrame(state, item);
  }

  /**
   * Checks in order: the key is known (else buffered, or stale_member for a deleted key), the
   * signature verifies (before any decryption: only the key's holder can have made the frame),
   * the counter is above the last accepted (replay), the GCM tag, the text is UTF-8.
   */
  async function openFrame(state, item) {
    const { frameType, parsed } = item;
    const key = state.keysById.get(parsed.keyId);
    if (!key) {
      if (state.retired.has(parsed.keyId)) undecryptable(state, 'stale_member');
      else bufferFrame(state, item);
      return;
    }
    const owner = { owner: key.user, ownerFingerprint: key.ownerFingerprint };
    if (!(await verifyRoomBody({ parsed, frameType, room: state.room, ...owner, verifyKey: key.verifyKey }))) {
      undecryptable(state, 'bad_signature');
      return;
    }
    if (parsed.counter <= key.lastCounter) {
      undecryptable(state, 'replay');
      return;
    }
    // The signature makes the counter the owner's: it is used up even if the body then fails.
    // Counters under a key go 0, 1, 2, …: a jump means frames were dropped on the way (or
    // refused by the server, which the sender was told). Said once, before the line after it.
    const missing = missingBefore(state, key) + parsed.counter - key.lastCounter - 1;
    key.lastCounter = parsed.counter;
    if (missing > 0) undecryptable(state, 'missing', { from: key.user, count: missing });
    let plaintext;
    try {
      plaintext = await decryptRoomBody({ parsed, frameType, room: state.room, ...owner, aesKey: key.aesKey });
    } catch {
      undecryptable(state, 'bad_tag');
      return;
    }
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    } catch {
      undecryptable(state, 'malformed');
      return;
    } finally {
      zeroize(plaintext);
    }
    emit({ type: 'room.message', room: state.room, from: key.user, frameType, text });
  }

  /** A whole room frame as the server forwarded it; results come as events. */
  function receiveFrame({ frame }) {
    let decoded;
    try {
      decoded = decodeRoomFrame(frame);
    } catch (error) {
      if (error instanceof RoomFrameError) return { accepted: false };
      throw error;
    }
    const state = rooms.get(decoded.room);
    if (!state) return { accepted: false };
    const at = now();
    enqueue(state, async () => {
      let parsed;
      try {
        parsed = parseRoomBody(decoded.body, decoded.frameType);
      } catch (error) {
        undecryptable(state, error?.reason === 'old_version' ? 'old_version' : 'malformed');
        return;
      }
      await openFrame(state, { frameType: decoded.frameType, parsed, at });
    }).catch(() => {});
    return { accepted: true };
  }

  // ---- sending ----------------------------------------------------------------------------

  function requireRoom(room) {
    if (!isRoomId(room)) throw new RoomKeyError('invalid_request', 'room');
    const state = rooms.get(room);
    if (!state) throw new RoomKeyError('not_in_room');
    return state;
  }

  /** Encrypts one frame body under the own key (rotating and distributing first when due). */
  async function seal({ room, frameType, text }) {
    const state = requireRoom(room);
    if (!isRoomFrameType(frameType)) throw new RoomKeyError('invalid_request', 'frame type');
    if (typeof text !== 'string' || text.length === 0) throw new RoomKeyError('invalid_request', 'text');
    const plaintext = textEncoder.encode(text);
    if (plaintext.length > maxRoomPlaintext(frameType)) {
      zeroize(plaintext);
      throw new RoomKeyError('invalid_request', 'text too long for the frame type');
    }
    try {
      return await enqueue(state, async () => {
        const { waitingFor } = await distribute(state);
        const { own } = state;
        // The rules retire a key after maxMessages (1000), far below the u32 counter space.
        if (own.counter > ROOM_COUNTER_MAX) throw new RoomKeyError('invalid_request', 'counter exhausted');
        state.rules.apply({ type: 'message_sent', keyId: own.keyId });
        const counter = own.counter;
        own.counter += 1;   // consumed even if sealing fails: a counter is never used twice
        const body = await sealRoomBody({
          frameType, room, keyId: own.keyIdBytes, counter, owner: own.owner, ownerFingerprint: own.ownerFingerprint, iv: Uint8Array.from(random(ROOM_IV_BYTES)),
          aesKey: own.aesKey, signingKey: own.signingKey, plaintext,
        });
        return { body: body.buffer, waitingFor };
      });
    } finally {
      zeroize(plaintext);
    }
  }

  /** room.distribute: one room, or every room (the page calls it when a channel becomes secure). */
  async function distributeRooms({ room } = {}) {
    const states = room === undefined ? [...rooms.values()] : [requireRoom(room)];
    // A room left while this waited is simply not in the answer (unless it was the one asked for).
    const results = await Promise.all(states.map((state) => enqueue(state, () => distribute(state))
      .catch((error) => { if (room === undefined && error instanceof RoomKeyError) return null; throw error; })));
    return { rooms: results.filter(Boolean) };
  }

  // ---- forgetting -------------------------------------------------------------------------

  function forgetRoom(state) {
    state.gone = true;
    dropOwnKey(state);
    state.peers.clear();
    state.keysById.clear();
    state.buffer = [];
    rooms.delete(state.room);
  }

  function leave({ room }) {
    if (!isRoomId(room)) throw new RoomKeyError('invalid_request', 'room');
    const state = rooms.get(room);
    if (state) forgetRoom(state);
    (pendingByRoom.get(room) ?? []).forEach(releasePending);
    pendingByRoom.delete(room);
    return { room };
  }

  /** Identity change or forget: every room, every key. */
  function forgetAll() {
    for (const state of [...rooms.values()]) forgetRoom(state);
    for (const list of pendingByRoom.values()) list.forEach(releasePending);
    pendingByRoom.clear();
    clearTimeout(sweepTimer);
    sweepTimer = null;
  }

  // ---- time limits ------------------------------------------------------------------------

  /** Drops buffered frames (unknown_key) and pending keys that waited too long. */
  function sweep() {
    const at = now();
    for (const state of rooms.values()) {
      const expired = state.buffer.filter((item) => at - item.at >= roomKeyLimits.bufferedFrameMs);
      if (!expired.length) continue;
      state.buffer = state.buffer.filter((item) => at - item.at < roomKeyLimits.bufferedFrameMs);
      for (let i = 0; i < expired.length; i += 1) undecryptable(state, 'unknown_key');
    }
    for (const [room, list] of pendingByRoom) {
      const keep = list.filter((entry) => at - entry.at < roomKeyLimits.pendingKeyMs);
      list.filter((entry) => at - entry.at >= roomKeyLimits.pendingKeyMs).forEach(releasePending);
      if (keep.length) pendingByRoom.set(room, keep);
      else pendingByRoom.delete(room);
    }
  }

  function hasWaiting() {
    if (pendingByRoom.size) return true;
    for (const state of rooms.values()) if (state.buffer.length) return true;
    return false;
  }

  // A timer only while something waits, so an idle Worker (or a finished test) has none.
  function scheduleSweep() {
    if (sweepTimer) return;
    sweepTimer = unrefTimer(setTimeout(() => {
      sweepTimer = null;
      sweep();
      if (hasWaiting()) scheduleSweep();
    }, roomKeyLimits.sweepMs));
  }

  return Object.freeze({
    members,
    distribute: distributeRooms,
    seal,
    receiveFrame,
    receiveSenderKey,
    peerChannelSecured,
    leave,
    forgetAll,
    sweep,
    /** Test and diagnostic view, no key material: the rooms held and their members. */
    describe: () => [...rooms.values()].map((state) => ({
      room: state.room, members: state.rules.members(), ownKeyId: state.own?.keyId ?? null,
      buffered: state.buffer.length, pendingKeys: pendingByRoom.get(state.room)?.length ?? 0,
    })),
  });
}
