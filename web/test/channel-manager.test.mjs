// Two Worker channel managers wired through an in-process relay: the real protocol, real
// OpenPGP keys, relay frames, messages both ways, re-key, and teardown on tampering, on a
// relay-sequence gap and on a handshake timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelManager } from '../src/crypto/channel-manager.js';
import { generateIdentity, describeIdentity, exportPublicCertificate } from '../src/crypto/identity.js';
import { createRekeyPolicy } from '../src/crypto/protocol/index.js';
import { decodeRelayFrame } from '../src/crypto/relay-frame.js';

const session = 'aa'.repeat(16);
const aliceKey = await generateIdentity({ name: 'Alice', email: 'alice@example.org' });
const bobKey = await generateIdentity({ name: 'Bob', email: 'bob@example.org' });
const malloryKey = await generateIdentity({ name: 'Mallory', email: 'mallory@example.org' });
const own = (key) => () => ({ privateKey: key, fingerprint: describeIdentity(key).fingerprint });

/** A side: its manager and everything it emitted; `relay(frame)` decides what the peer gets. */
function side(name, key, options = {}) {
  const events = [];
  const self = { name, events, peer: null, tamper: null };
  self.manager = createChannelManager({
    identity: own(key),
    localUsername: () => name,
    emit(event) {
      events.push(event);
      if (event.type === 'channel.outbound') {
        const frame = self.tamper ? self.tamper(new Uint8Array(event.frame)) : new Uint8Array(event.frame);
        if (frame) queueMicrotask(() => self.peer.manager.receiveFrame({ frame: frame.buffer }));
      }
    },
    ...options,
  });
  self.waitFor = async (predicate, timeoutMs = 5000) => {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const found = events.find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${name}: event not seen; saw ${events.map((e) => `${e.type}:${e.state ?? e.reason ?? ''}`).join(', ')}`);
  };
  return self;
}

async function pair({ aliceOptions, bobOptions, bobSeesAliceAs = aliceKey, bobSeesAliceNamed = 'alice', aliceSeesBobNamed = 'bob' } = {}) {
  const alice = side('alice', aliceKey, aliceOptions);
  const bob = side('bob', bobKey, bobOptions);
  alice.peer = bob;
  bob.peer = alice;
  await alice.manager.prepare({ session, role: 'initiator', peerFingerprint: describeIdentity(bobKey).fingerprint, peerCertificate: exportPublicCertificate(bobKey), peerUser: aliceSeesBobNamed });
  await bob.manager.prepare({ session, role: 'responder', peerFingerprint: describeIdentity(bobSeesAliceAs).fingerprint, peerCertificate: exportPublicCertificate(bobSeesAliceAs), peerUser: bobSeesAliceNamed });
  return { alice, bob };
}

const isSecure = (e) => e.type === 'channel.state' && e.state === 'secure';

test('handshake over relay frames reaches secure on both sides with the same SAS; messages flow both ways', async () => {
  const { alice, bob } = await pair();
  bob.manager.open({ session });
  alice.manager.open({ session });
  const [a, b] = await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  assert.equal(a.sas.decimalText, b.sas.decimalText);
  assert.equal(a.sas.emojiText, b.sas.emojiText);
  assert.ok(a.suite === 1 || a.suite === 2);
  const frames = alice.events.filter((e) => e.type === 'channel.outbound').map((e) => decodeRelayFrame(e.frame));
  assert.deepEqual(frames.map((f) => [f.frameType, f.sequence]), [[1, 0], [1, 1]], 'M1 then M3, sequences 0 and 1');
  await alice.manager.send({ session, text: 'hello Bob ✓' });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.message')).text, 'hello Bob ✓');
  await bob.manager.send({ session, text: 'hello Alice' });
  assert.equal((await alice.waitFor((e) => e.type === 'channel.message')).text, 'hello Alice');
  await alice.manager.close({ session });
  await bob.waitFor((e) => e.type === 'channel.state' && e.state === 'closed');
  assert.equal(alice.manager.size, 0);
  assert.equal(bob.manager.size, 0);
});

test('the re-key policy is wired: after maxRecords the channel re-keys (new epoch) and messages still flow', async () => {
  const policy = createRekeyPolicy({ maxRecords: 3, maxAgeMs: 3_600_000 });
  const { alice, bob } = await pair({ aliceOptions: { rekeyPolicy: policy }, bobOptions: { rekeyPolicy: policy } });
  alice.manager.open({ session });
  bob.manager.open({ session });
  await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  for (let i = 0; i < 4; i += 1) await alice.manager.send({ session, text: `m${i}` });
  await alice.waitFor((e) => e.type === 'channel.state' && e.state === 'rekeying');
  await alice.waitFor((e) => e.type === 'channel.state' && e.state === 'secure' && e.epoch === 1);
  await bob.manager.send({ session, text: 'after re-key' });
  await alice.waitFor((e) => e.type === 'channel.message' && e.text === 'after re-key');
  assert.deepEqual(bob.events.filter((e) => e.type === 'channel.message').map((e) => e.text), ['m0', 'm1', 'm2', 'm3']);
  alice.manager.dropAll();
  bob.manager.dropAll();
});

test('a flipped bit in a record tears the receiver down with bad_tag', async () => {
  const { alice, bob } = await pair();
  alice.manager.open({ session });
  bob.manager.open({ session });
  await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  alice.tamper = (frame) => { frame[frame.length - 1] ^= 1; return frame; };
  await alice.manager.send({ session, text: 'tampered' });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'bad_tag');
  assert.equal(bob.events.some((e) => e.type === 'channel.message'), false);
  assert.equal(bob.manager.size, 0);
  alice.manager.dropAll();
});

test('a relay that drops a frame is caught by the frame sequence (out_of_order)', async () => {
  const { alice, bob } = await pair();
  alice.manager.open({ session });
  bob.manager.open({ session });
  await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  let dropNext = true;
  alice.tamper = (frame) => { if (dropNext) { dropNext = false; return null; } return frame; };
  await alice.manager.send({ session, text: 'lost' });
  await alice.manager.send({ session, text: 'after the gap' });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'out_of_order');
  alice.manager.dropAll();
});

test('Bob accepted another certificate than Alice holds: fingerprint_mismatch on message 1, never secure', async () => {
  const { alice, bob } = await pair({ bobSeesAliceAs: malloryKey });
  alice.manager.open({ session });
  bob.manager.open({ session });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'fingerprint_mismatch');
  assert.equal(bob.events.some(isSecure), false);
  alice.manager.dropAll();
});

test('the server names Alice "carol" to Bob (her real certificate under another name): username_mismatch on message 1, never secure', async () => {
  const { alice, bob } = await pair({ bobSeesAliceNamed: 'carol' });
  alice.manager.open({ session });
  bob.manager.open({ session });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'username_mismatch');
  assert.equal(bob.events.some(isSecure), false);
  assert.equal(alice.events.some(isSecure), false);
  alice.manager.dropAll();
});

test('the server names Bob "carol" to Alice: Bob sees another responder name in message 1 → username_mismatch', async () => {
  const { alice, bob } = await pair({ aliceSeesBobNamed: 'carol' });
  alice.manager.open({ session });
  bob.manager.open({ session });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'username_mismatch');
  assert.equal(alice.events.some(isSecure), false);
  alice.manager.dropAll();
});

test('no answer from the peer: handshake_timeout', async () => {
  const alice = side('alice', aliceKey, { handshakeTimeoutMs: 100 });
  alice.peer = { manager: { receiveFrame() {} } };
  await alice.manager.prepare({ session, role: 'initiator', peerFingerprint: describeIdentity(bobKey).fingerprint, peerCertificate: exportPublicCertificate(bobKey), peerUser: 'bob' });
  alice.manager.open({ session });
  assert.equal((await alice.waitFor((e) => e.type === 'channel.teardown')).reason, 'handshake_timeout');
});

test('prepare refuses a certificate that does not match the accepted fingerprint, and a bad session id', async () => {
  const alice = side('alice', aliceKey);
  await assert.rejects(alice.manager.prepare({ session, role: 'initiator', peerFingerprint: describeIdentity(malloryKey).fingerprint, peerCertificate: exportPublicCertificate(bobKey), peerUser: 'bob' }), (e) => e.code === 'certificate_mismatch');
  await assert.rejects(alice.manager.prepare({ session: 'x', role: 'initiator', peerFingerprint: 'AB', peerCertificate: '' }), (e) => e.reason === 'invalid_argument');
  // version 2 binds both usernames: without the peer's name (or with an invalid one) nothing is prepared
  for (const peerUser of [undefined, '', 'x', 'bad name']) {
    await assert.rejects(alice.manager.prepare({ session, role: 'initiator', peerFingerprint: describeIdentity(bobKey).fingerprint, peerCertificate: exportPublicCertificate(bobKey), peerUser }), (e) => e.reason === 'invalid_argument');
  }
  assert.throws(() => createChannelManager({ emit() {}, identity: own(aliceKey) }), TypeError);
});
