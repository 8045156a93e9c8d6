// Two Worker channel managers wired through an in-process relay: the real protocol, real
// OpenPGP keys, relay frames, messages both ways, re-key, and teardown on tampering, on a
// relay-sequence gap and on a handshake timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannelManager } from '../src/crypto/channel-manager.js';
import { generateIdentity, describeIdentity, exportPublicCertificate } from '../src/crypto/identity.js';
import { createRekeyPolicy } from '../src/crypto/protocol/index.js';
import { RelayFrameType, decodeRelayFrame, encodeRelayFrame } from '../src/crypto/relay-frame.js';
import { createInitiator } from '../src/crypto/protocol/index.js';
import { createOpenpgpSigner, createOpenpgpVerifier } from '../src/crypto/openpgp-adapter.js';
import { readAcceptedCertificate } from '../src/crypto/identity.js';

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

// ---- call signals (record type 5) and the media side's view of the channel -----------------

const callSignal = (kind, extra = {}) => JSON.stringify({ v: 1, call: '0123456789abcdef0123456789abcdef', kind, ...extra });
const RECORD_TYPE_OFFSET = 41 + 1;   // relay header (type ‖ 32-char session ‖ u64), then the record's version byte

async function securePair(options) {
  const parties = await pair(options);
  parties.alice.manager.open({ session });
  parties.bob.manager.open({ session });
  await Promise.all([parties.alice.waitFor(isSecure), parties.bob.waitFor(isSecure)]);
  return parties;
}

test('call signals travel both ways as call.signal events, never as channel.message, in order with chat', async () => {
  const { alice, bob } = await securePair();
  const offer = callSignal('offer', { sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' + 'a=candidate:x\r\n'.repeat(200) });
  await alice.manager.sendCall({ session, signal: callSignal('invite', { media: 'video', e2ee: true }) });
  await alice.manager.send({ session, text: 'calling you' });
  await alice.manager.sendCall({ session, signal: offer });
  await bob.waitFor((e) => e.type === 'call.signal' && e.signal === offer);
  assert.deepEqual(bob.events.filter((e) => e.type === 'call.signal' || e.type === 'channel.message').map((e) => [e.type, e.signal ?? e.text]),
    [['call.signal', callSignal('invite', { media: 'video', e2ee: true })], ['channel.message', 'calling you'], ['call.signal', offer]]);
  assert.ok(bob.events.filter((e) => e.type === 'call.signal').every((e) => e.session === session && Object.keys(e).length === 3));
  await bob.manager.sendCall({ session, signal: callSignal('accept', { media: 'audio', e2ee: true }) });
  assert.equal((await alice.waitFor((e) => e.type === 'call.signal')).signal, callSignal('accept', { media: 'audio', e2ee: true }));
  assert.equal(alice.events.some((e) => e.type === 'channel.message'), false);
  assert.equal(bob.events.some((e) => e.type === 'channel.message' && e.text.includes('"kind"')), false);
  // what went over the relay for the signals were records of type 5
  const types = alice.events.filter((e) => e.type === 'channel.outbound').map((e) => new Uint8Array(e.frame)[RECORD_TYPE_OFFSET]);
  assert.deepEqual(types.slice(2), [5, 1, 5]);   // after M1 and M3
  alice.manager.dropAll();
  bob.manager.dropAll();
});

test('sendCall refuses oversize signals (60000 UTF-8 bytes at most), non-strings, unknown sessions and channels not yet secure', async () => {
  const { alice, bob } = await pair();
  // prepared, handshake not run: nothing may go out
  await assert.rejects(alice.manager.sendCall({ session, signal: callSignal('invite') }), (e) => e.reason === 'invalid_argument');
  assert.throws(() => alice.manager.sendCall({ session: 'bb'.repeat(16), signal: callSignal('invite') }), (e) => e.reason === 'invalid_argument');
  alice.manager.open({ session });
  bob.manager.open({ session });
  await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  for (const signal of [undefined, '', 42, { v: 1 }, 'x'.repeat(60_001), '€'.repeat(20_001)]) {
    assert.throws(() => alice.manager.sendCall({ session, signal }), (e) => e.reason === 'invalid_argument', String(signal).slice(0, 20));
  }
  // exactly the limit goes through (and the refusals above left the channel up)
  const atLimit = 'y'.repeat(60_000);
  await alice.manager.sendCall({ session, signal: atLimit });
  assert.equal((await bob.waitFor((e) => e.type === 'call.signal')).signal.length, 60_000);
  assert.equal(alice.events.some((e) => e.type === 'channel.teardown'), false);
  alice.manager.dropAll();
  bob.manager.dropAll();
});

test('hostile relay: a data record relabelled as call tears the receiver down with bad_tag; no signal, no message', async () => {
  const { alice, bob } = await securePair();
  alice.tamper = (frame) => { frame[RECORD_TYPE_OFFSET] = 5; return frame; };
  await alice.manager.send({ session, text: callSignal('hangup', { reason: 'normal' }) });
  assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'bad_tag');
  assert.equal(bob.events.some((e) => e.type === 'call.signal' || e.type === 'channel.message'), false);
  assert.equal(bob.manager.size, 0);
  alice.manager.dropAll();
});

test('hostile relay: a call record relabelled as data (or as a sender key) tears the receiver down with bad_tag', async () => {
  for (const relabel of [1, 4]) {
    const { alice, bob } = await securePair();
    alice.tamper = (frame) => { frame[RECORD_TYPE_OFFSET] = relabel; return frame; };
    await alice.manager.sendCall({ session, signal: callSignal('ringing') });
    assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'bad_tag');
    assert.equal(bob.events.some((e) => e.type === 'call.signal' || e.type === 'channel.message'), false);
    alice.manager.dropAll();
  }
});

test('exporterFor gives both sides the same bytes per label/context, other bytes after a re-key; onEpochChanged fires on both sides', async () => {
  const policy = createRekeyPolicy({ maxRecords: 3, maxAgeMs: 3_600_000 });
  const changed = { alice: [], bob: [] };
  const { alice, bob } = await securePair({
    aliceOptions: { rekeyPolicy: policy, onEpochChanged: (event) => changed.alice.push(event) },
    bobOptions: { rekeyPolicy: policy, onEpochChanged: (event) => changed.bob.push(event) },
  });
  const call = Uint8Array.from({ length: 16 }, (_, i) => i);
  const ask = (side, label, context = call) => side.manager.exporterFor({ session, label, context, length: 32 });
  assert.equal(alice.manager.roleOf(session), 'initiator');
  assert.equal(bob.manager.roleOf(session), 'responder');
  assert.equal(alice.manager.epochOf(session), 0);
  assert.equal(bob.manager.epochOf(session), 0);
  const i2r = await ask(alice, 'sframe i2r');
  assert.equal(i2r.length, 32);
  assert.deepEqual(await ask(bob, 'sframe i2r'), i2r);
  const r2i = await ask(bob, 'sframe r2i');
  assert.deepEqual(await ask(alice, 'sframe r2i'), r2i);
  assert.notDeepEqual(r2i, i2r);
  assert.notDeepEqual(await ask(alice, 'sframe i2r', new Uint8Array(16)), i2r);
  assert.deepEqual(changed, { alice: [], bob: [] });

  for (let i = 0; i < 4; i += 1) await alice.manager.send({ session, text: `m${i}` });
  await alice.waitFor((e) => e.type === 'channel.state' && e.state === 'secure' && e.epoch === 1);
  await bob.waitFor((e) => e.type === 'channel.state' && e.epoch === 1);
  assert.deepEqual(changed, { alice: [{ session }], bob: [{ session }] });
  assert.equal(alice.manager.epochOf(session), 1);
  assert.equal(bob.manager.epochOf(session), 1);
  const i2rAfter = await ask(alice, 'sframe i2r');
  assert.notDeepEqual(i2rAfter, i2r);
  assert.deepEqual(await ask(bob, 'sframe i2r'), i2rAfter);
  // unknown sessions and bad arguments
  assert.equal(await alice.manager.exporterFor({ session: 'bb'.repeat(16), label: 'sframe i2r', context: call, length: 32 }), null);
  assert.equal(alice.manager.roleOf('bb'.repeat(16)), null);
  assert.equal(alice.manager.epochOf('bb'.repeat(16)), null);
  await assert.rejects(alice.manager.exporterFor({ session, label: '', context: call, length: 32 }), (e) => e.reason === 'invalid_argument');
  alice.manager.dropAll();
  bob.manager.dropAll();
});

test('exporterFor is null before the channel is secure and after it ends; onDropped fires once per ended channel', async () => {
  const dropped = { alice: [], bob: [] };
  const { alice, bob } = await pair({
    aliceOptions: { onDropped: (event) => dropped.alice.push(event) },
    bobOptions: { onDropped: (event) => dropped.bob.push(event) },
  });
  assert.equal(await alice.manager.exporterFor({ session, label: 'sframe i2r', length: 32 }), null);
  assert.equal(alice.manager.roleOf(session), null);
  alice.manager.open({ session });
  bob.manager.open({ session });
  await Promise.all([alice.waitFor(isSecure), bob.waitFor(isSecure)]);
  await alice.manager.close({ session });
  await bob.waitFor((e) => e.type === 'channel.state' && e.state === 'closed');
  bob.manager.drop({ session });
  assert.deepEqual(dropped, { alice: [{ session }], bob: [{ session }] });
  assert.equal(await alice.manager.exporterFor({ session, label: 'sframe i2r', length: 32 }), null);
  assert.equal(bob.manager.epochOf(session), null);

  // a teardown (tampered record) reports the drop too
  const torn = [];
  const second = await securePair({ bobOptions: { onDropped: (event) => torn.push(event) } });
  second.alice.tamper = (frame) => { frame[frame.length - 1] ^= 1; return frame; };
  await second.alice.manager.sendCall({ session, signal: callSignal('ringing') });
  await second.bob.waitFor((e) => e.type === 'channel.teardown');
  assert.deepEqual(torn, [{ session }]);
  second.alice.manager.dropAll();
});

test('a peer whose call record is not UTF-8, empty or over 60000 bytes tears the channel down (malformed); nothing reaches the page', async () => {
  for (const plaintext of [Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d), new Uint8Array(0), new Uint8Array(60_001).fill(0x20)]) {
    // Alice is a bare protocol endpoint (her manager would never send these); Bob is a manager.
    const bob = side('bob', bobKey);
    const toBob = [];
    let sequence = 0;
    const sendToBob = (frameType, body) => bob.manager.receiveFrame({ frame: encodeRelayFrame({ frameType, sessionId: session, sequence: sequence++, body }).buffer });
    const alice = createInitiator({
      sessionId: session, localUsername: 'alice', peerUsername: 'bob',
      localFingerprint: describeIdentity(aliceKey).fingerprint.toLowerCase(), peerFingerprint: describeIdentity(bobKey).fingerprint.toLowerCase(),
      sign: createOpenpgpSigner({ privateKey: aliceKey }),
      verify: createOpenpgpVerifier({ certificate: await readAcceptedCertificate({ armored: exportPublicCertificate(bobKey), fingerprint: describeIdentity(bobKey).fingerprint }), fingerprint: describeIdentity(bobKey).fingerprint }),
    });
    bob.peer = { manager: { receiveFrame: ({ frame }) => toBob.push(decodeRelayFrame(frame)) } };
    await bob.manager.prepare({ session, role: 'responder', peerFingerprint: describeIdentity(aliceKey).fingerprint, peerCertificate: exportPublicCertificate(aliceKey), peerUser: 'alice' });
    bob.manager.open({ session });
    sendToBob(RelayFrameType.handshake, await alice.start());
    while (toBob.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const { reply } = await alice.receiveHandshake({ message: toBob[0].body });
    sendToBob(RelayFrameType.handshake, reply);
    await bob.waitFor(isSecure);
    sendToBob(RelayFrameType.record, await alice.sealCall({ plaintext }));
    assert.equal((await bob.waitFor((e) => e.type === 'channel.teardown')).reason, 'malformed', `${plaintext.length} bytes`);
    assert.equal(bob.events.some((e) => e.type === 'call.signal' || e.type === 'channel.message'), false);
    assert.equal(bob.manager.size, 0);
  }
});
