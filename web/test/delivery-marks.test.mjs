// Delivery marks when the connection drops (a server restart, a network failure): an own line
// still waiting for its receipt never keeps saying "sent" once no receipt can come; it says
// "not confirmed". And the app asks whether the login survived as soon as the server answers
// again (web/src/app/login-check.js), so a restart is told to the user at the next retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelStore } from '../src/state/channel-store.js';
import { createRoomStore } from '../src/state/room-store.js';
import { createLoginCheck, validLoginCheckEvery } from '../src/app/login-check.js';
import { catalogues } from '../src/i18n/index.js';

const session = '0123456789abcdef0123456789abcdef';
const roomId = 'fedcba9876543210fedcba9876543210';
const key = (digit) => String(digit).repeat(32);

function secureChannel() {
  const store = createChannelStore();
  store.applyOffer({
    type: 'channel_offer', session, role: 'initiator', peer: { userid: 2, username: 'bob' },
    certificate: { fingerprint: 'A'.repeat(40), armored: '-----BEGIN PGP PUBLIC KEY BLOCK-----' },
  }, { trust: { status: 'unknown', knownFingerprint: null } });
  store.accepted(session);
  store.opened(session);
  store.applyWorkerState({ session, state: 'secure', suite: 1, epoch: 0, sas: { emojiText: 'x', decimalText: '1000-1000-1000', emoji: [] } });
  return store;
}
const statuses = (messages) => messages.map((message) => [message.text, message.status]);

test('channel: a dropped connection turns own lines without a receipt into unconfirmed, keeps delivered ones', () => {
  const store = secureChannel();
  store.addMessage(session, { from: 'me', text: 'arrived', key: key(1) });
  store.addMessage(session, { from: 'me', text: 'in flight', key: key(2) });
  store.addMessage(session, { from: 'peer', text: 'theirs', key: key(3) });
  store.markDelivered(session, key(1));
  store.connectionLost();
  const channel = store.find(session);
  assert.equal(channel.phase, 'ended');
  assert.equal(channel.endReason, 'connection_lost');
  assert.deepEqual(statuses(channel.messages), [['arrived', 'delivered'], ['in flight', 'unconfirmed'], ['theirs', null]]);
  // No receipt can turn it into "delivered" any more (markDelivered only upgrades 'sent').
  assert.equal(store.markDelivered(session, key(2)), false);
  assert.equal(store.find(session).messages[1].status, 'unconfirmed');
});

test('channel: every other way a channel ends marks the same lines unconfirmed', () => {
  const ends = [
    (store) => store.applyEnded({ session, reason: 'disconnected', by: 'peer' }),
    (store) => store.applyEnded({ session, reason: 'compromised', detail: 'bad_tag' }),
    (store) => store.compromised(session, 'bad_tag'),
    (store) => store.applyWorkerState({ session, state: 'closed' }),
  ];
  for (const end of ends) {
    const store = secureChannel();
    store.addMessage(session, { from: 'me', text: 'pending', key: key(4) });
    end(store);
    assert.equal(store.find(session).messages[0].status, 'unconfirmed', String(end));
  }
});

test('room: a dropped connection or leaving turns lines not delivered to everyone into unconfirmed', () => {
  for (const end of [(store) => store.connectionLost(), (store) => store.ended(roomId, 'left')]) {
    const store = createRoomStore();
    store.applyView({ room: roomId, name: 'lobby', public: true, members: ['alice', 'bob', 'carol'], moderators: [] });
    store.addMessage(roomId, { from: 'me', user: 'alice', text: 'all got it', key: key(1), recipients: ['bob', 'carol'] });
    store.addMessage(roomId, { from: 'me', user: 'alice', text: 'half', key: key(2), recipients: ['bob', 'carol'] });
    store.addMessage(roomId, { from: 'me', user: 'alice', text: 'none', key: key(3), recipients: ['bob', 'carol'] });
    store.addMessage(roomId, { from: 'me', user: 'alice', text: 'alone', key: key(4), recipients: [] });
    store.markDelivered(roomId, [key(1), key(2)], 'bob');
    store.markDelivered(roomId, [key(1)], 'carol');
    end(store);
    const entry = store.find(roomId);
    assert.equal(entry.joined, false);
    assert.deepEqual(statuses(entry.messages), [['all got it', 'delivered'], ['half', 'unconfirmed'], ['none', 'unconfirmed'], ['alone', 'sent']]);
    // A late receipt from one of two does not make it look on its way again; from the last one it is delivered.
    store.markDelivered(roomId, [key(3)], 'bob');
    assert.equal(store.find(roomId).messages[2].status, 'unconfirmed');
    store.markDelivered(roomId, [key(2)], 'carol');
    assert.equal(store.find(roomId).messages[1].status, 'delivered');
  }
});

test('the unconfirmed mark has its text in every language', () => {
  for (const [language, catalogue] of Object.entries(catalogues)) {
    assert.equal(typeof catalogue['chat.message.unconfirmed'], 'string', language);
    assert.match(catalogue['chat.message.room_unconfirmed'], /\{count\}.*\{total\}/, language);
  }
});

// --- the login check after failed connection attempts -----------------------------------------

const unauthorized = () => Promise.reject(Object.assign(new Error('401'), { status: 401 }));
const unreachable = () => Promise.reject(new TypeError('Failed to fetch'));

function scripted(answers) {
  const asked = [];
  let gone = 0;
  const check = createLoginCheck({
    me: () => { asked.push(asked.length); return (answers.shift() ?? unreachable)(); },
    onLoginGone: () => { gone += 1; },
  });
  return { check, asked, gone: () => gone };
}

test('login check: while the server is down every failure asks, so the restart is noticed at the first refused retry', async () => {
  const { check, asked, gone } = scripted([unreachable, unreachable, unreachable, unauthorized]);
  assert.equal(await check({ consecutiveFailures: 1 }), 'unknown');
  assert.equal(await check({ consecutiveFailures: 2 }), 'unknown');
  assert.equal(await check({ consecutiveFailures: 3 }), 'unknown');
  assert.equal(await check({ consecutiveFailures: 4 }), 'gone');
  assert.equal(asked.length, 4);
  assert.equal(gone(), 1);
  assert.equal(await check({ consecutiveFailures: 5 }), 'skipped', 'asked no more once gone');
  assert.equal(gone(), 1);
});

test('login check: once the server says the login is valid, it asks only every few failures', async () => {
  const valid = () => Promise.resolve({ username: 'alice' });
  const { check, asked } = scripted([valid, valid, valid]);
  const results = [];
  for (let failures = 1; failures <= 2 * validLoginCheckEvery; failures += 1) results.push(await check({ consecutiveFailures: failures }));
  assert.equal(results[0], 'valid');
  assert.equal(results.filter((result) => result === 'valid').length, 3);   // 1, 5, 10
  assert.equal(asked.length, 3);
  assert.equal(results[validLoginCheckEvery - 1], 'valid');
});

test('login check: a new drop after a valid answer asks at its first failure', async () => {
  const valid = () => Promise.resolve({});
  const { check, asked, gone } = scripted([valid, unauthorized]);
  assert.equal(await check({ consecutiveFailures: 1 }), 'valid');
  assert.equal(await check({ consecutiveFailures: 2 }), 'skipped');
  assert.equal(await check({ consecutiveFailures: 1 }), 'gone');
  assert.equal(asked.length, 2);
  assert.equal(gone(), 1);
});

test('login check: one question at a time', async () => {
  let release;
  const check = createLoginCheck({ me: () => new Promise((resolve) => { release = resolve; }), onLoginGone: () => {} });
  const first = check({ consecutiveFailures: 1 });
  assert.equal(await check({ consecutiveFailures: 2 }), 'skipped');
  release({});
  assert.equal(await first, 'valid');
  assert.throws(() => createLoginCheck({ me: null, onLoginGone: () => {} }), TypeError);
});
