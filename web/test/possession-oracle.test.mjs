// Regression test for the login-challenge signing oracle (docs/threat-model.md): a hostile
// server makes Bob the initiator of a channel "to Alice", plays the responder itself, and needs
// Alice's long-term key to sign its responder signature input. Under protocol v1 it ground its
// nonce until that input ("secms v1 responder signature" ‖ 0x00 ‖ 0x02 ‖ TH) was valid UTF-8,
// sent it to Alice's page as a certificate_challenge, and her Worker signed it silently.
// Now the Worker's signer refuses it (and any handshake input), and the one thing Alice's key
// does sign for the server — a v2 possession text — never verifies as a handshake signature:
// Bob ends with bad_signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';
import { ChannelError, createInitiator, createResponder } from '../src/crypto/protocol/index.js';
import { SignatureRole, handshakeSignatureInput, possessionChallengeText } from '../src/crypto/protocol/signing-contexts.js';
import { IdentityError, createPossessionSigner, generateIdentity } from '../src/crypto/identity.js';
import { createOpenpgpSigner, createOpenpgpVerifier } from '../src/crypto/openpgp-adapter.js';

const origin = 'https://localhost:8443';
const alice = await generateIdentity({ name: 'Alice', email: 'alice@example.org' });
const bob = await generateIdentity({ name: 'Bob', email: 'bob@example.org' });
const server = await generateIdentity({ name: 'Hostile server', email: 'server@example.org' });
const isCode = (code) => (error) => error instanceof IdentityError && error.code === code;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// --- the grinder -----------------------------------------------------------------------------
// The server's grind, reduced to its core: TH = SHA-256(transcript ‖ nB) for successive nB
// until TH is valid UTF-8 (about 2^26.6 tries on average). A full run from nB = 0 found
// nB = 59256731 for this transcript; the test re-runs the same grinder over the last 1,000
// candidates before it, so the grind itself is exercised and the outcome is fixed.
const GRIND_TRANSCRIPT = new TextEncoder().encode('Security.MS hostile transcript ');
const GROUND_NONCE = 59_256_731;

function transcriptHash(nonce) {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(nonce);
  return new Uint8Array(createHash('sha256').update(GRIND_TRANSCRIPT).update(counter).digest());
}

function isUtf8(bytes) {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function grind({ from, to }) {
  for (let nonce = from; nonce <= to; nonce += 1) {
    const th = transcriptHash(nonce);
    if (isUtf8(th)) return { nonce, th };
  }
  return null;
}

/** The OLD (v1) responder signature input, exactly as protocol v1 built it. */
const v1ResponderInput = (th) => new Uint8Array([
  ...new TextEncoder().encode('secms v1 responder signature'), 0x00, 0x02, ...th,
]);

test('the ground v1 responder input is valid UTF-8: the old page would have relayed it as a challenge', () => {
  const found = grind({ from: GROUND_NONCE - 1000, to: GROUND_NONCE + 1000 });
  assert.ok(found, 'the grinder finds the nonce');
  assert.equal(found.nonce, GROUND_NONCE);
  const input = v1ResponderInput(found.th);
  const asText = strictUtf8.decode(input);
  // The v1 signer signed TextEncoder(challenge): exactly the handshake bytes again.
  assert.deepEqual(new TextEncoder().encode(asText), input);
});

test('Alice\'s Worker-side signer refuses the ground input and every handshake input, inside a submission or not', async () => {
  let clock = Date.now();
  const signer = createPossessionSigner({ origin, now: () => clock });
  const groundText = strictUtf8.decode(v1ResponderInput(transcriptHash(GROUND_NONCE)));
  const v2Input = handshakeSignatureInput({ role: SignatureRole.responder, transcriptHash: transcriptHash(GROUND_NONCE) });
  const attempts = [groundText, String.fromCharCode(...v2Input), new TextDecoder().decode(v2Input)];
  for (const challenge of attempts) {
    // No submission pending: nothing is even looked at.
    await assert.rejects(signer.sign({ privateKey: alice, account: 'alice', challenge }), isCode('no_pending_submission'));
    // Even during Alice's own submission, the text is not a possession challenge: refused.
    signer.begin({ fingerprint: alice.getFingerprint() });
    await assert.rejects(signer.sign({ privateKey: alice, account: 'alice', challenge }), isCode('challenge_refused'));
  }
  clock += 1;
});

test('hostile responder: no handshake signature can be had from Alice, so Bob ends bad_signature and never secure', async () => {
  let clock = Date.now();
  const aliceSigner = createPossessionSigner({ origin, now: () => clock });
  const oracleAnswers = [];
  // The best the server can get from Alice's key: a signature over a genuine possession text,
  // made during a real submission of hers (the only thing her Worker signs for it).
  aliceSigner.begin({ fingerprint: alice.getFingerprint() });
  const possessionText = possessionChallengeText({
    origin, user: 'alice', fingerprint: alice.getFingerprint(), nonce: 'ab'.repeat(32), time: Math.floor(clock / 1000),
  });
  const possessionSignature = await aliceSigner.sign({ privateKey: alice, account: 'alice', challenge: possessionText });
  const possessionBinary = (await openpgp.readSignature({ armoredSignature: possessionSignature })).write();

  // Bob: the initiator, bound to Alice's real, accepted certificate.
  const bobEndpoint = createInitiator({
    sessionId: 'oracle-session-1', localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: bob.getFingerprint(), peerFingerprint: alice.getFingerprint(),
    sign: createOpenpgpSigner({ privateKey: bob }),
    verify: createOpenpgpVerifier({ certificate: alice.toPublic(), fingerprint: alice.getFingerprint() }),
  });
  // The server plays "Alice": its responder relays the signature input to Alice's signer.
  const hostile = createResponder({
    sessionId: 'oracle-session-1', localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: alice.getFingerprint(), peerFingerprint: bob.getFingerprint(),
    sign: async (data) => {
      aliceSigner.begin({ fingerprint: alice.getFingerprint() });   // as if Alice were submitting right now
      for (const challenge of [String.fromCharCode(...data), new TextDecoder().decode(data)]) {
        try {
          oracleAnswers.push(await aliceSigner.sign({ privateKey: alice, account: 'alice', challenge }));
        } catch (error) {
          oracleAnswers.push(error.code);
        }
        aliceSigner.begin({ fingerprint: alice.getFingerprint() });
      }
      return possessionBinary;
    },
    verify: createOpenpgpVerifier({ certificate: bob.toPublic(), fingerprint: bob.getFingerprint() }),
  });
  const m1 = await bobEndpoint.start();
  const { reply: m2 } = await hostile.receiveHandshake({ message: m1 });
  assert.deepEqual(oracleAnswers, ['challenge_refused', 'challenge_refused'], 'Alice signed nothing for the handshake');
  await assert.rejects(bobEndpoint.receiveHandshake({ message: m2 }), (error) => error instanceof ChannelError && error.reason === 'bad_signature');
  assert.notEqual(bobEndpoint.state, 'secure');
  assert.equal(bobEndpoint.sas ?? null, null);
  clock += 1;
});

test('control: the same hostile responder WITH Alice\'s key would succeed, so the refusal above is what stops it', async () => {
  const bobEndpoint = createInitiator({
    sessionId: 'oracle-session-2', localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: bob.getFingerprint(), peerFingerprint: alice.getFingerprint(),
    sign: createOpenpgpSigner({ privateKey: bob }),
    verify: createOpenpgpVerifier({ certificate: alice.toPublic(), fingerprint: alice.getFingerprint() }),
  });
  // An unrestricted signer (what the v1 login challenge amounted to) over the handshake input.
  const oracle = createResponder({
    sessionId: 'oracle-session-2', localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: alice.getFingerprint(), peerFingerprint: bob.getFingerprint(),
    sign: createOpenpgpSigner({ privateKey: alice }),
    verify: createOpenpgpVerifier({ certificate: bob.toPublic(), fingerprint: bob.getFingerprint() }),
  });
  const { reply: m2 } = await oracle.receiveHandshake({ message: await bobEndpoint.start() });
  const { reply: m3 } = await bobEndpoint.receiveHandshake({ message: m2 });
  assert.ok(m3 instanceof Uint8Array, 'Bob accepts message 2 signed by Alice\'s key');
  // And a server key of its own is refused as well (the certificate Bob accepted is Alice's).
  const impostor = createResponder({
    sessionId: 'oracle-session-3', localUsername: 'alice', peerUsername: 'bob',
    localFingerprint: alice.getFingerprint(), peerFingerprint: bob.getFingerprint(),
    sign: createOpenpgpSigner({ privateKey: server }),
    verify: createOpenpgpVerifier({ certificate: bob.toPublic(), fingerprint: bob.getFingerprint() }),
  });
  const bob3 = createInitiator({
    sessionId: 'oracle-session-3', localUsername: 'bob', peerUsername: 'alice',
    localFingerprint: bob.getFingerprint(), peerFingerprint: alice.getFingerprint(),
    sign: createOpenpgpSigner({ privateKey: bob }),
    verify: createOpenpgpVerifier({ certificate: alice.toPublic(), fingerprint: alice.getFingerprint() }),
  });
  const { reply: m2b } = await impostor.receiveHandshake({ message: await bob3.start() });
  await assert.rejects(bob3.receiveHandshake({ message: m2b }), (error) => error.reason === 'bad_signature');
});
