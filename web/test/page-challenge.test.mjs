// The page side of the possession proof (web/src/app/secure-channels.js): only the one
// certificate_challenge that follows the page's own certificate_submit reaches the Worker, only
// when it has the v2 form; every other challenge the server sends is dropped unanswered, and a
// malformed one shows the code challenge_refused, never the server's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureChannelController } from '../src/app/secure-channels.js';
import { createIdentityStore } from '../src/state/identity-store.js';
import { createChannelStore } from '../src/state/channel-store.js';
import { createRoomStore } from '../src/state/room-store.js';
import { possessionChallengeText } from '../src/crypto/protocol/signing-contexts.js';

function setUp() {
  const sent = [];
  const asked = [];
  const identityStore = createIdentityStore();
  const channelStore = createChannelStore();
  const roomStore = createRoomStore();
  const worker = {
    async request({ type, payload }) {
      asked.push({ type, payload });
      if (type === 'identity.export_public') return { armored: 'PUBLIC KEY' };
      if (type === 'identity.sign_challenge') return { signature: 'SIGNATURE' };
      return {};
    },
  };
  const socket = { send: (message) => { sent.push(message); return true; }, sendBinary: () => true };
  const controller = createSecureChannelController({
    getSocket: () => socket, getWorker: () => worker, identityStore, channelStore, roomStore,
    getTrustStore: () => null, self: () => 'alice', isVisible: () => true,
  });
  controller.handleSocketStatus('online');
  identityStore.setIdentity({ fingerprint: 'AB'.repeat(20), userId: 'Alice <alice@example.org>' });
  return { sent, asked, identityStore, controller };
}

const challenge = (nonce = 'ab') => possessionChallengeText({
  origin: 'https://localhost:8443', user: 'alice', fingerprint: 'ab'.repeat(20), nonce: nonce.repeat(32), time: 1_800_000_000,
});
const signRequests = (asked) => asked.filter((a) => a.type === 'identity.sign_challenge');
const proofs = (sent) => sent.filter((m) => m.type === 'certificate_proof');

test('a challenge with no submission of the page pending is never relayed to the signer', async () => {
  const { sent, asked, controller } = setUp();
  assert.equal(controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge() }), true);
  await sleep(10);
  assert.deepEqual(signRequests(asked), []);
  assert.deepEqual(proofs(sent), []);
});

test('the submission: export with forSubmission, one challenge answered, the next ones dropped', async () => {
  const { sent, asked, controller } = setUp();
  await controller.submitCertificate();
  assert.deepEqual(asked.find((a) => a.type === 'identity.export_public').payload, { forSubmission: true });
  assert.equal(sent.filter((m) => m.type === 'certificate_submit').length, 1);
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge('ab') });
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge('cd') });
  await sleep(10);
  assert.deepEqual(signRequests(asked).map((a) => a.payload.challenge), [challenge('ab')]);
  assert.deepEqual(proofs(sent), [{ type: 'certificate_proof', signature: 'SIGNATURE' }]);
  // Accepted: a later challenge is not answered either.
  controller.handleServerMessage({ type: 'certificate_accepted', report: {} });
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge('ef') });
  await sleep(10);
  assert.equal(signRequests(asked).length, 1);
});

test('a malformed challenge during the submission: not relayed, the code challenge_refused shown', async () => {
  const { sent, asked, identityStore, controller } = setUp();
  await controller.submitCertificate();
  const handshakeLike = `\u00ffSecurity.MS handshake v2\u0000\u0002${'A'.repeat(32)}`;
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: handshakeLike });
  await sleep(10);
  assert.deepEqual(signRequests(asked), []);
  assert.deepEqual(proofs(sent), []);
  assert.deepEqual(identityStore.get().certificate.error, { code: 'challenge_refused', message: '' });
  // The window is spent: the valid-looking one that follows is not relayed either.
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge() });
  await sleep(10);
  assert.deepEqual(signRequests(asked), []);
});

test('a rejection ends the submission: a challenge after certificate_rejected is dropped', async () => {
  const { asked, controller } = setUp();
  await controller.submitCertificate();
  controller.handleServerMessage({ type: 'certificate_rejected', error: { code: 'weak_algorithm', message: '' } });
  controller.handleServerMessage({ type: 'certificate_challenge', challenge: challenge() });
  await sleep(10);
  assert.deepEqual(signRequests(asked), []);
});

test('a submission refused for its rate is sent again once, after the server’s retry_after', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { sent, controller } = setUp();
  const submits = () => sent.filter((m) => m.type === 'certificate_submit').length;
  await controller.submitCertificate();
  assert.equal(submits(), 1);
  controller.handleServerMessage({ type: 'certificate_rejected', error: { code: 'rate_limited', message: '', retry_after: 20 } });
  t.mock.timers.tick(19_000);
  await Promise.resolve();
  assert.equal(submits(), 1, 'not before retry_after');
  t.mock.timers.tick(1_000);
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  assert.equal(submits(), 2, 'once retry_after has passed');
  // Any other refusal is final: no retry.
  controller.handleServerMessage({ type: 'certificate_rejected', error: { code: 'weak_algorithm', message: '' } });
  t.mock.timers.tick(200_000);
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  assert.equal(submits(), 2);
});
