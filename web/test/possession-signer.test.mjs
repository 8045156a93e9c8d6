// The Worker's possession signer (docs/protocol.md "Signing contexts"): it signs a challenge only
// of the exact v2 form, for its own origin, account and key, fresh (±15 minutes), and only once
// inside a submission the Worker itself started — directly and through worker.js's handlers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as openpgp from 'openpgp';
import {
  CHALLENGE_MAX_SKEW_SECONDS, IdentityError, SUBMISSION_WINDOW_MS, checkPossessionChallenge, createPossessionSigner,
  generateIdentity,
} from '../src/crypto/identity.js';
import { SignatureRole, handshakeSignatureInput, possessionChallengeText } from '../src/crypto/protocol/signing-contexts.js';

const origin = 'https://localhost:8443';
const key = await generateIdentity({ name: 'Alice', email: 'alice@example.org' });
const otherKey = await generateIdentity({ name: 'Mallory', email: 'mallory@example.org' });
const fingerprint = key.getFingerprint();
const now = 1_800_000_000;
const challengeFor = (overrides = {}) => possessionChallengeText({
  origin, user: 'alice', fingerprint, nonce: 'c3'.repeat(32), time: now, ...overrides,
});
const isCode = (code) => (error) => error instanceof IdentityError && error.code === code;
const check = (challenge, overrides = {}) => checkPossessionChallenge({
  challenge, origin, account: 'alice', fingerprint, nowSeconds: now, ...overrides,
});

async function verifies(armoredSignature, text) {
  const { signatures } = await openpgp.verify({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(text) }),
    signature: await openpgp.readSignature({ armoredSignature }),
    verificationKeys: key.toPublic(),
  });
  return signatures[0].verified.then(() => true, () => false);
}

test('check: the challenge must name this origin, this account, this key, and be fresh', () => {
  assert.equal(check(challengeFor()).user, 'alice');
  assert.equal(check(challengeFor({ fingerprint: fingerprint.toLowerCase() }), { fingerprint: fingerprint.toUpperCase() }).user, 'alice', 'the loaded key may be named in upper case');
  const refusals = {
    'wrong origin': challengeFor({ origin: 'https://evil.example' }),
    'http instead of https': challengeFor({ origin: 'http://localhost:8443' }),
    'other port': challengeFor({ origin: 'https://localhost:8444' }),
    'other user': challengeFor({ user: 'bob' }),
    'same user, other case': challengeFor({ user: 'Alice' }),
    'other fingerprint': challengeFor({ fingerprint: otherKey.getFingerprint() }),
    'stale time': challengeFor({ time: now - CHALLENGE_MAX_SKEW_SECONDS - 1 }),
    'future time': challengeFor({ time: now + CHALLENGE_MAX_SKEW_SECONDS + 1 }),
  };
  for (const [name, challenge] of Object.entries(refusals)) assert.throws(() => check(challenge), isCode('challenge_refused'), name);
  assert.equal(check(challengeFor({ time: now - CHALLENGE_MAX_SKEW_SECONDS })).time, now - CHALLENGE_MAX_SKEW_SECONDS, 'the edge of the window is fresh');
  assert.equal(check(challengeFor({ time: now + CHALLENGE_MAX_SKEW_SECONDS })).time, now + CHALLENGE_MAX_SKEW_SECONDS);
  const good = challengeFor();
  for (const text of [
    good.replace(`nonce: ${'c3'.repeat(32)}`, `nonce: ${'c3'.repeat(16)}`),
    good.replace(`nonce: ${'c3'.repeat(32)}`, `nonce: ${'C3'.repeat(32)}`),
    `${good}extra: line\n`,
    good.slice(0, -1),
    good.replace('alice', 'alicé'),
    String.fromCharCode(...handshakeSignatureInput({ role: SignatureRole.responder, transcriptHash: new Uint8Array(32) })),
    `\u00ff${good}`,
  ]) {
    assert.throws(() => check(text), isCode('challenge_refused'));
  }
  // Nothing to compare with: the Worker's origin or account unknown, or no clock.
  assert.throws(() => check(good, { origin: undefined }), isCode('challenge_refused'));
  assert.throws(() => check(good, { account: null }), isCode('challenge_refused'));
  assert.throws(() => check(good, { nowSeconds: Number.NaN }), isCode('challenge_refused'));
});

test('signer: nothing is signed outside a submission; one signature per submission; the window lasts 2 minutes', async () => {
  let clock = now * 1000;
  const signer = createPossessionSigner({ origin, now: () => clock });
  const challenge = challengeFor();
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge }), isCode('no_pending_submission'), 'no submission started');

  signer.begin({ fingerprint });
  assert.equal(signer.pending, true);
  const signature = await signer.sign({ privateKey: key, account: 'alice', challenge });
  assert.equal(await verifies(signature, challenge), true);
  assert.equal(signer.pending, false);
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge }), isCode('no_pending_submission'), 'one signature closes the window');

  signer.begin({ fingerprint });
  clock += SUBMISSION_WINDOW_MS + 1;
  assert.equal(SUBMISSION_WINDOW_MS, 120_000);
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge: challengeFor({ time: Math.floor(clock / 1000) }) }), isCode('no_pending_submission'), 'expired window');

  // A refused challenge also closes the window: a hostile server gets one attempt per submission.
  signer.begin({ fingerprint });
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge: challengeFor({ user: 'bob', time: Math.floor(clock / 1000) }) }), isCode('challenge_refused'));
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge: challengeFor({ time: Math.floor(clock / 1000) }) }), isCode('no_pending_submission'));

  // A window opened for one key does not sign with another one loaded since.
  signer.begin({ fingerprint });
  await assert.rejects(signer.sign({ privateKey: otherKey, account: 'alice', challenge: challengeFor({ fingerprint: otherKey.getFingerprint(), time: Math.floor(clock / 1000) }) }), isCode('no_pending_submission'));
  signer.begin({ fingerprint });
  signer.cancel();
  assert.equal(signer.pending, false);
  await assert.rejects(signer.sign({ privateKey: key, account: 'alice', challenge: challengeFor({ time: Math.floor(clock / 1000) }) }), isCode('no_pending_submission'));
  // Without an origin (not in a Worker) nothing can ever be signed.
  const noOrigin = createPossessionSigner({ origin: undefined, now: () => now * 1000 });
  noOrigin.begin({ fingerprint });
  await assert.rejects(noOrigin.sign({ privateKey: key, account: 'alice', challenge }), isCode('challenge_refused'));
});

test('worker.js: sign_challenge answers only inside a submission it started, for the bound account; the account binds once', async () => {
  const posted = [];
  let listener;
  const workerOrigin = 'https://localhost:8443';
  globalThis.self = {
    location: { origin: workerOrigin },
    addEventListener: (type, fn) => { if (type === 'message') listener = fn; },
    postMessage: (message) => posted.push(message),
  };
  await import('../src/crypto/worker.js');
  let nextId = 1;
  const ask = async (type, payload) => {
    const id = nextId++;
    listener({ data: { id, type, payload } });
    for (let i = 0; i < 2500; i += 1) {
      const found = posted.find((p) => p.id === id);
      if (found) return found;
      await sleep(2);
    }
    throw new Error(`no answer to ${type}`);
  };
  const code = async (type, payload) => (await ask(type, payload)).error?.code;
  await ask('session.bind', { account: 'carol' });
  const created = await ask('identity.create', { name: 'Carol', email: 'carol@example.org' });
  const own = created.identity.fingerprint.toLowerCase();
  const fresh = (overrides = {}) => possessionChallengeText({
    origin: workerOrigin, user: 'carol', fingerprint: own, nonce: 'e5'.repeat(32), time: Math.floor(Date.now() / 1000), ...overrides,
  });

  // The server's challenge with no submission pending: refused, nothing signed.
  assert.equal(await code('identity.sign_challenge', { challenge: fresh() }), 'no_pending_submission');
  // An export for display does not open the window either.
  assert.match((await ask('identity.export_public', {})).armored, /PUBLIC KEY/);
  assert.equal(await code('identity.sign_challenge', { challenge: fresh() }), 'no_pending_submission');
  assert.equal(await code('identity.export_public', { forSubmission: 'yes' }), 'invalid_request');

  // The submission: one valid challenge is signed, a second one is not.
  await ask('identity.export_public', { forSubmission: true });
  const signed = await ask('identity.sign_challenge', { challenge: fresh() });
  assert.match(signed.signature, /^-----BEGIN PGP SIGNATURE-----/);
  assert.equal(await code('identity.sign_challenge', { challenge: fresh({ nonce: 'e6'.repeat(32) }) }), 'no_pending_submission');

  // Inside a submission, every challenge not of the documented form for this Worker is refused.
  for (const challenge of [
    fresh({ origin: 'https://attacker.example' }),
    fresh({ user: 'dave' }),
    fresh({ fingerprint: 'ab'.repeat(20) }),
    fresh({ time: Math.floor(Date.now() / 1000) - 16 * 60 }),
    String.fromCharCode(...handshakeSignatureInput({ role: SignatureRole.responder, transcriptHash: new Uint8Array(32).fill(0x41) })),
  ]) {
    await ask('identity.export_public', { forSubmission: true });
    assert.equal(await code('identity.sign_challenge', { challenge }), 'challenge_refused');
  }

  // The account is bound once; rebinding the same name is fine, another one is refused.
  assert.equal((await ask('session.bind', { account: 'carol' })).identity.fingerprint, created.identity.fingerprint);
  assert.equal(await code('session.bind', { account: 'dave' }), 'account_bound');
  await ask('identity.export_public', { forSubmission: true });
  assert.equal(await code('identity.sign_challenge', { challenge: fresh({ user: 'dave' }) }), 'challenge_refused');
  delete globalThis.self;
});
