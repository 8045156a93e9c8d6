import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomSenderKeys, RotationReason, SenderKeyError, senderKeyDefaults } from '../src/chat/sender-keys.js';

const throwsCode = (fn, code) => assert.throws(fn, (error) => error instanceof SenderKeyError && error.code === code, code);

// A room with alice (self), bob and carol, alice's first key sent to both.
function room(options = {}) {
  const keys = createRoomSenderKeys({ self: 'alice', members: ['bob', 'carol'], ...options });
  keys.apply({ type: 'key_created', keyId: 'k1', at: 0 });
  for (const member of keys.membersToSendKeyTo(0)) keys.apply({ type: 'key_sent_to', member, keyId: 'k1' });
  return keys;
}

test('defaults: rotate after 1000 messages or 7 days', () => {
  assert.equal(senderKeyDefaults.maxMessages, 1000);
  assert.equal(senderKeyDefaults.maxAgeMs, 604_800_000);
});

test('a new room has no key: it must rotate (create one) before sending', () => {
  const keys = createRoomSenderKeys({ self: 'alice', members: ['bob'] });
  assert.equal(keys.mustRotate(0), true);
  assert.equal(keys.rotationReason(0), RotationReason.noKey);
  assert.deepEqual(keys.membersToSendKeyTo(0), []);
  assert.deepEqual(keys.canSend(0), { ok: false, reason: 'no_key' });
  throwsCode(() => keys.apply({ type: 'message_sent' }), 'no_key');
  keys.apply({ type: 'key_created', keyId: 'k1', at: 0 });
  assert.equal(keys.mustRotate(0), false);
  assert.deepEqual(keys.membersToSendKeyTo(0), ['bob']);
  assert.deepEqual(keys.canSend(0), { ok: false, reason: 'key_not_delivered', waitingFor: ['bob'] });
  keys.apply({ type: 'key_sent_to', member: 'bob', keyId: 'k1' });
  assert.deepEqual(keys.membersToSendKeyTo(0), []);
  assert.deepEqual(keys.canSend(0), { ok: true });
  keys.apply({ type: 'message_sent', keyId: 'k1' });
  assert.equal(keys.ownKeyMessages(), 1);
});

test('a member leaving or removed makes the own key rotate; the new key goes to the rest only', () => {
  for (const type of ['member_left', 'member_removed']) {
    const keys = room();
    assert.equal(keys.rotationNeeded({ type, member: 'carol' }), true, type);
    assert.equal(keys.rotationNeeded({ type, member: 'nobody' }), false, 'not a member: nothing to do');
    keys.apply({ type, member: 'carol' });
    assert.equal(keys.mustRotate(1), true);
    assert.equal(keys.rotationReason(1), type === 'member_left' ? RotationReason.memberLeft : RotationReason.memberRemoved);
    assert.deepEqual(keys.membersToSendKeyTo(1), [], 'nothing is sent under a key that must retire');
    throwsCode(() => keys.apply({ type: 'message_sent', keyId: 'k1' }), 'rotation_pending');
    throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'bob', keyId: 'k1' }), 'rotation_pending');
    keys.apply({ type: 'key_created', keyId: 'k2', at: 1 });
    assert.deepEqual(keys.membersToSendKeyTo(1), ['bob']);
    assert.deepEqual(keys.members(), ['bob']);
  }
});

test('a removed member is never sent a new key, even when the server says they joined again', () => {
  const keys = room();
  keys.apply({ type: 'member_removed', member: 'carol' });
  keys.apply({ type: 'key_created', keyId: 'k2', at: 1 });
  assert.ok(!keys.membersToSendKeyTo(1).includes('carol'));
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'carol', keyId: 'k2' }), 'member_removed');
  throwsCode(() => keys.apply({ type: 'member_joined', member: 'carol' }), 'member_removed');
  assert.equal(keys.isRemoved('carol'), true);
  throwsCode(() => keys.apply({ type: 'key_received', member: 'carol', keyId: 'c9' }), 'member_removed');
  // An explicit re-admission (a moderator's unban) is a new membership: keys from then on only.
  keys.apply({ type: 'member_joined', member: 'carol', readmit: true });
  assert.equal(keys.isRemoved('carol'), false);
  assert.equal(keys.rotationReason(1), RotationReason.memberJoined);
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'carol', keyId: 'k2' }), 'rotation_pending');
  keys.apply({ type: 'key_created', keyId: 'k3', at: 2 });
  assert.deepEqual(keys.membersToSendKeyTo(2), ['bob', 'carol']);
});

test('a member who left (not removed) may come back without re-admission', () => {
  const keys = room();
  keys.apply({ type: 'member_left', member: 'bob' });
  keys.apply({ type: 'key_created', keyId: 'k2', at: 1 });
  keys.apply({ type: 'member_joined', member: 'bob' });
  assert.equal(keys.mustRotate(1), true);
});

test('a new member receives only keys created after they joined', () => {
  const keys = room();
  assert.equal(keys.rotationNeeded({ type: 'member_joined', member: 'dave' }), true);
  assert.equal(keys.rotationNeeded({ type: 'member_joined', member: 'bob' }), false, 'already a member');
  keys.apply({ type: 'member_joined', member: 'dave' });
  assert.equal(keys.rotationReason(0), RotationReason.memberJoined);
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'dave', keyId: 'k1' }), 'rotation_pending');
  keys.apply({ type: 'key_created', keyId: 'k2', at: 5 });
  assert.deepEqual(keys.membersToSendKeyTo(5), ['bob', 'carol', 'dave']);
  keys.apply({ type: 'key_sent_to', member: 'dave', keyId: 'k2' });
  assert.deepEqual(keys.membersToSendKeyTo(5), ['bob', 'carol']);
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'bob', keyId: 'k1' }), 'stale_key');
});

test('a member joining after the key was created cannot be sent that key', () => {
  // Without an own key the join sets nothing pending; the key created before the join must
  // still not reach the newcomer — the joinedSeq/createdSeq order is the rule itself.
  const keys = createRoomSenderKeys({ self: 'alice', members: ['bob'] });
  keys.apply({ type: 'member_joined', member: 'erin' });
  keys.apply({ type: 'key_created', keyId: 'k1', at: 0 });
  assert.deepEqual(keys.membersToSendKeyTo(0), ['bob', 'erin'], 'joined before the key: fine');
  keys.apply({ type: 'member_joined', member: 'frank' });
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'frank', keyId: 'k1' }), 'rotation_pending');
});

test('the own key wears out after maxMessages messages', () => {
  const keys = room({ maxMessages: 3 });
  keys.apply({ type: 'message_sent' });
  assert.equal(keys.rotationNeeded({ type: 'message_sent' }), false);
  keys.apply({ type: 'message_sent' });
  assert.equal(keys.rotationNeeded({ type: 'message_sent' }), true, 'the third message is the last');
  keys.apply({ type: 'message_sent' });
  assert.equal(keys.mustRotate(0), true);
  assert.equal(keys.rotationReason(0), RotationReason.messageLimit);
  throwsCode(() => keys.apply({ type: 'message_sent' }), 'rotation_pending');
  keys.apply({ type: 'key_created', keyId: 'k2', at: 0 });
  assert.equal(keys.mustRotate(0), false);
  assert.equal(keys.ownKeyMessages(), 0);
});

test('the own key wears out after maxAgeMs', () => {
  const keys = room({ maxAgeMs: 1000 });
  assert.equal(keys.mustRotate(999), false);
  assert.equal(keys.rotationNeeded({ type: 'tick', at: 999 }), false);
  assert.equal(keys.rotationNeeded({ type: 'tick', at: 1000 }), true);
  assert.equal(keys.mustRotate(1000), true);
  assert.equal(keys.rotationReason(1000), RotationReason.ageLimit);
  assert.deepEqual(keys.membersToSendKeyTo(1000), []);
  assert.deepEqual(keys.canSend(1000), { ok: false, reason: 'age_limit' });
  keys.apply({ type: 'key_created', keyId: 'k2', at: 1000 });
  assert.equal(keys.mustRotate(1999), false);
});

test('peer keys: recorded per member, dropped when the member goes', () => {
  const keys = room();
  keys.apply({ type: 'key_received', member: 'bob', keyId: 'b1' });
  assert.equal(keys.peerKeyOf('bob'), 'b1');
  keys.apply({ type: 'key_received', member: 'bob', keyId: 'b2' });
  assert.equal(keys.peerKeyOf('bob'), 'b2');
  throwsCode(() => keys.apply({ type: 'key_received', member: 'mallory', keyId: 'm1' }), 'not_member');
  keys.apply({ type: 'member_left', member: 'bob' });
  assert.equal(keys.peerKeyOf('bob'), null);
});

test('invalid events are refused with a code', () => {
  const keys = room();
  throwsCode(() => keys.apply({ type: 'explode' }), 'unknown_event');
  throwsCode(() => keys.apply(null), 'unknown_event');
  throwsCode(() => keys.apply({ type: 'member_joined', member: 'alice' }), 'self_event');
  throwsCode(() => keys.apply({ type: 'member_left', member: 'alice' }), 'self_event');
  throwsCode(() => keys.apply({ type: 'member_joined', member: 'bob' }), 'already_member');
  throwsCode(() => keys.apply({ type: 'member_left', member: 'zed' }), 'not_member');
  throwsCode(() => keys.apply({ type: 'member_joined', member: '' }), 'bad_member');
  throwsCode(() => keys.apply({ type: 'key_created', keyId: 'k1', at: 0 }), 'key_reused');
  throwsCode(() => keys.apply({ type: 'key_created', keyId: '', at: 0 }), 'bad_key_id');
  throwsCode(() => keys.apply({ type: 'key_created', keyId: 'k9' }), 'bad_time');
  throwsCode(() => keys.apply({ type: 'key_sent_to', member: 'zed', keyId: 'k1' }), 'not_member');
  throwsCode(() => keys.apply({ type: 'message_sent', keyId: 'k0' }), 'stale_key');
  assert.throws(() => createRoomSenderKeys({ self: 'alice', members: ['alice'] }), SenderKeyError);
  assert.throws(() => createRoomSenderKeys({ self: 'alice', members: ['bob', 'bob'] }), SenderKeyError);
  assert.throws(() => createRoomSenderKeys({ self: 'alice', maxMessages: 0 }), RangeError);
  assert.throws(() => createRoomSenderKeys({}), SenderKeyError);
});

test('every remaining member rotates: three views of one removal agree', () => {
  const views = Object.fromEntries(['alice', 'bob', 'carol'].map((self) => {
    const others = ['alice', 'bob', 'carol'].filter((m) => m !== self);
    const keys = createRoomSenderKeys({ self, members: others });
    keys.apply({ type: 'key_created', keyId: `${self}-1`, at: 0 });
    return [self, keys];
  }));
  for (const [self, keys] of Object.entries(views)) {
    if (self !== 'carol') keys.apply({ type: 'member_removed', member: 'carol' });
  }
  assert.equal(views.alice.mustRotate(0), true);
  assert.equal(views.bob.mustRotate(0), true);
  views.alice.apply({ type: 'key_created', keyId: 'alice-2', at: 1 });
  views.bob.apply({ type: 'key_created', keyId: 'bob-2', at: 1 });
  assert.deepEqual(views.alice.membersToSendKeyTo(1), ['bob']);
  assert.deepEqual(views.bob.membersToSendKeyTo(1), ['alice']);
});
