// Page-side stores of the secure channel: channel phases and the status-bar mapping, the
// trust store (remember, fingerprint change), the identity store's certificate states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelStatusOf, createChannelStore } from '../src/state/channel-store.js';
import { createTrustStore } from '../src/state/trust-store.js';
import { channelReasonText } from '../src/ui/channel-text.js';
import { catalogues } from '../src/i18n/index.js';
import { createIdentityStore } from '../src/state/identity-store.js';

const FP_OLD = 'A'.repeat(40);
const FP_NEW = 'B'.repeat(40);
const session = '0123456789abcdef0123456789abcdef';
const offer = (overrides = {}) => ({
  type: 'channel_offer', session, role: 'initiator', peer: { userid: 2, username: 'bob' },
  certificate: { fingerprint: FP_OLD, armored: '-----BEGIN PGP PUBLIC KEY BLOCK-----' }, ...overrides,
});
const unknownTrust = { status: 'unknown', knownFingerprint: null };

function memoryStorage() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k), map };
}

test('status mapping: no channel, then each phase to its status-bar state', () => {
  assert.deepEqual(channelStatusOf(null), { state: 'none', reason: null });
  const store = createChannelStore();
  store.applyOffer(offer(), { trust: unknownTrust });
  const status = () => channelStatusOf(store.find(session));
  assert.deepEqual(status(), { state: 'verifying', reason: null });
  store.accepted(session);
  assert.equal(status().state, 'waiting');
  store.opened(session);
  assert.equal(status().state, 'key_exchange');
  store.applyWorkerState({ session, state: 'secure', suite: 1, epoch: 0, sas: { emojiText: 'x', decimalText: '1000-1000-1000', emoji: [] } });
  assert.equal(status().state, 'secure');
  assert.equal(store.find(session).suite, 1);
  store.applyWorkerState({ session, state: 'rekeying' });
  assert.equal(status().state, 'rekeying');
  store.applyWorkerState({ session, state: 'secure', epoch: 1 });
  assert.equal(store.find(session).epoch, 1);
  store.addMessage(session, { from: 'peer', text: 'hi' });
  assert.equal(store.find(session).messages[0].text, 'hi');
  store.applyEnded({ session, reason: 'ended', by: 'peer' });
  assert.deepEqual(status(), { state: 'ended', reason: 'ended' });
});

test('a channel_open for an offer the user has not accepted is ignored (relay injection)', () => {
  const store = createChannelStore();
  store.applyOffer(offer(), { trust: unknownTrust });
  store.opened(session);
  assert.equal(channelStatusOf(store.find(session)).state, 'verifying', 'still waiting for the user');
  store.accepted(session);
  store.opened(session);
  assert.equal(channelStatusOf(store.find(session)).state, 'key_exchange');
});

test('compromise: the local reason wins over the server\'s later channel_ended; server detail is shown', () => {
  const store = createChannelStore();
  store.applyOffer(offer(), { trust: unknownTrust });
  store.accepted(session);
  store.opened(session);
  store.compromised(session, 'bad_tag');
  store.applyEnded({ session, reason: 'compromised', detail: 'bad_tag', by: 'you' });
  assert.deepEqual(channelStatusOf(store.find(session)), { state: 'compromised', reason: 'bad_tag' });

  const other = createChannelStore();
  other.applyOffer(offer(), { trust: unknownTrust });
  other.applyEnded({ session, reason: 'compromised', detail: 'handshake_timeout', by: 'peer' });
  assert.deepEqual(channelStatusOf(other.find(session)), { state: 'compromised', reason: 'handshake_timeout' });
  other.applyEnded({ session, reason: 'ended' });
  assert.equal(channelStatusOf(other.find(session)).state, 'compromised', 'a compromised channel never turns back to "ended"');
});

test('offers are validated; several channels coexist; an incoming offer does not steal the selection from a live channel', () => {
  const store = createChannelStore();
  assert.equal(store.applyOffer(offer({ session: 'nothex' }), { trust: unknownTrust }), null);
  assert.equal(store.applyOffer(offer({ role: 'boss' }), { trust: unknownTrust }), null);
  assert.equal(store.applyOffer(offer({ certificate: { fingerprint: FP_OLD } }), { trust: unknownTrust }), null);
  store.applyOffer(offer(), { trust: unknownTrust });
  assert.equal(store.get().selected, session);
  const second = 'f'.repeat(32);
  store.applyOffer(offer({ session: second, role: 'responder', peer: { userid: 3, username: 'carol' } }), { trust: unknownTrust });
  assert.equal(store.get().channels.length, 2);
  assert.equal(store.get().selected, session);
  store.connectionLost();
  assert.deepEqual(store.get().channels.map((c) => channelStatusOf(c)), [
    { state: 'ended', reason: 'connection_lost' }, { state: 'ended', reason: 'connection_lost' }]);
  store.remove(session);
  assert.equal(store.get().selected, null);
});

test('trust store: remember, recognise, detect a changed fingerprint; per account; tolerant of junk', () => {
  const storage = memoryStorage();
  const trust = createTrustStore({ storage, account: 'alice' });
  assert.deepEqual(trust.check({ username: 'bob', fingerprint: FP_OLD }), { status: 'unknown', knownFingerprint: null });
  trust.remember({ username: 'Bob', fingerprint: FP_OLD.toLowerCase() });
  assert.deepEqual(trust.check({ username: 'bob', fingerprint: FP_OLD }), { status: 'trusted', knownFingerprint: FP_OLD, verified: false });
  assert.deepEqual(trust.check({ username: 'BOB', fingerprint: FP_NEW }), { status: 'changed', knownFingerprint: FP_OLD });
  assert.equal(createTrustStore({ storage, account: 'carol' }).check({ username: 'bob', fingerprint: FP_OLD }).status, 'unknown');
  trust.remember({ username: 'bob', fingerprint: FP_NEW });
  assert.equal(trust.check({ username: 'bob', fingerprint: FP_NEW }).status, 'trusted');
  // Bob's remembered fingerprint offered under another name (the server presenting his real
  // certificate as "carol"): other_user, whatever carol's own entry says.
  assert.deepEqual(trust.check({ username: 'carol', fingerprint: FP_NEW.toLowerCase() }), { status: 'other_user', knownFingerprint: FP_NEW, otherUsername: 'bob' });
  trust.remember({ username: 'carol', fingerprint: FP_OLD });
  assert.deepEqual(trust.check({ username: 'carol', fingerprint: FP_NEW }), { status: 'other_user', knownFingerprint: FP_NEW, otherUsername: 'bob' });
  assert.equal(trust.check({ username: 'carol', fingerprint: FP_OLD }).status, 'trusted', 'carol\'s own fingerprint is no one else\'s');
  trust.forget({ username: 'carol' });
  trust.forget({ username: 'bob' });
  assert.equal(trust.check({ username: 'bob', fingerprint: FP_NEW }).status, 'unknown');
  assert.throws(() => trust.remember({ username: 'bob', fingerprint: 'nope' }), TypeError);
  storage.setItem('secms.trust.alice', '{not json');
  assert.equal(trust.check({ username: 'bob', fingerprint: FP_OLD }).status, 'unknown');
});

test('identity store: phases and certificate submission states', () => {
  const store = createIdentityStore();
  assert.equal(store.get().phase, 'starting');
  store.applyStatus({ identity: null, stored: { fingerprint: FP_OLD, userId: 'A <a@b.c>' } });
  assert.equal(store.get().phase, 'locked');
  store.setIdentity({ fingerprint: FP_OLD, userId: 'A <a@b.c>' });
  assert.equal(store.get().phase, 'ready');
  store.submitting();
  assert.equal(store.get().certificate.state, 'submitting');
  store.rejected({ code: 'weak_algorithm', message: 'weak' });
  assert.deepEqual(store.get().certificate.error, { code: 'weak_algorithm', message: 'weak' });
  store.accepted({ fingerprint: FP_OLD });
  assert.equal(store.get().certificate.report.fingerprint, FP_OLD);
  store.connectionLost();
  assert.equal(store.get().certificate.state, 'idle');
  store.forget();
  assert.equal(store.get().phase, 'none');
});

test('teardown text: an old-version peer, a username mismatch and a bad commitment each get their own sentence', () => {
  const older = channelReasonText({ state: 'compromised', reason: 'unsupported_version' });
  assert.match(older, /older version of Security\.MS/);
  assert.match(older, /^Channel torn down: /);
  assert.match(channelReasonText({ state: 'compromised', reason: 'username_mismatch' }), /usernames in the key exchange/);
  assert.match(channelReasonText({ state: 'compromised', reason: 'bad_commitment' }), /safety code/);
  for (const reason of ['unsupported_version', 'username_mismatch', 'bad_commitment']) {
    assert.ok(Object.hasOwn(catalogues.fr, `channel.reason.${reason}`), `fr: ${reason}`);
  }
});

test('an offer names its peer by a valid username only (no markup, bidi, control or look-alike characters, at most 32)', () => {
  const store = createChannelStore();
  for (const username of ['<b>bob</b>', 'bob\u202e', 'bob\u200b', 'bob\nYour session expired', 'b'.repeat(33), '', 42]) {
    assert.equal(store.applyOffer(offer({ peer: { userid: 2, username } }), { trust: unknownTrust }), null, JSON.stringify(username));
  }
  assert.ok(store.applyOffer(offer(), { trust: unknownTrust }));
});

test('an offer that claims the initiator role takes the view from a live conversation only when this user asked for that peer', () => {
  const store = createChannelStore();
  store.applyOffer(offer({ role: 'responder' }), { trust: unknownTrust });
  assert.equal(store.get().selected, session, 'nothing was selected: the first offer is shown');
  // An initiator offer the user never asked for (the role is the server's word).
  const unasked = 'e'.repeat(32);
  store.applyOffer(offer({ session: unasked, peer: { userid: 3, username: 'carol' } }), { trust: unknownTrust });
  assert.equal(store.get().selected, session, 'the live conversation keeps the view');
  // The user asks for dave; the offer that answers it is shown.
  store.noteRequest(4);
  const asked = 'd'.repeat(32);
  store.applyOffer(offer({ session: asked, peer: { userid: 4, username: 'dave' } }), { trust: unknownTrust });
  assert.equal(store.get().selected, asked);
});
