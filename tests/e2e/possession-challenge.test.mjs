// The login challenge in the real app (docs/protocol.md "Signing contexts"): the page certifies
// through the server's v2 challenge as before, and a certificate_challenge the server sends
// outside the page's own submission — a valid-looking v2 text, a handshake signature input, the
// old v1 text — gets no certificate_proof at all. The app's WebSocket runs through a Playwright
// route that forwards every message both ways and lets the test speak as the server.
//
//   npm run build && node --test tests/e2e/possession-challenge.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAppServer } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { newContext, violationsOf } from './helpers/browser.mjs';
import { openLanding, registerAndOpenApp, uniqueName, createIdentityInApp, unexpectedProblems } from './helpers/app-flows.mjs';
import { SignatureRole, handshakeSignatureInput, possessionChallengeText } from '../../web/src/crypto/protocol/signing-contexts.js';

const suite = await useAppServer({ extraArgs: [...loopbackRateLimits] });
const { skip } = suite;

test('the app certifies through the v2 challenge; challenges injected outside its submission get no answer', { skip, timeout: 90_000 }, async (t) => {
  const { context, problems } = await newContext(suite.browser);
  t.after(() => context.close().catch(() => {}));
  const sockets = [];   // one per app WebSocket: what the page sent, and a way to speak as the server
  await context.routeWebSocket(/\/ws$/, (page) => {
    const server = page.connectToServer();
    const socket = { page, sent: [], received: [] };
    sockets.push(socket);
    page.onMessage((message) => {
      socket.sent.push(message);
      server.send(message);
    });
    server.onMessage((message) => {
      socket.received.push(message);
      page.send(message);
    });
  });
  const landing = await context.newPage();
  await openLanding(landing, suite.server.origin);
  const username = uniqueName('pp');
  const app = await registerAndOpenApp(landing, { username });

  // The real app still certifies: submit, v2 challenge, proof, verified report.
  const fingerprint = await createIdentityInApp(app, { name: 'Possession Test', email: 'pp@example.org' });
  assert.match(fingerprint, /^[0-9A-F]{40}$/);
  const json = (list) => list.filter((m) => typeof m === 'string').map((m) => JSON.parse(m));
  const socket = sockets.find((s) => json(s.sent).some((m) => m.type === 'certificate_submit'));
  assert.ok(socket, 'the app submitted its certificate over the routed socket');
  const challenges = json(socket.received).filter((m) => m.type === 'certificate_challenge');
  assert.equal(challenges.length, 1);
  assert.match(challenges[0].challenge, new RegExp(`^Security\\.MS proof of possession v2\\norigin: ${suite.server.origin.replaceAll('.', '\\.')}\\nuser: ${username}\\nfingerprint: ${fingerprint.toLowerCase()}\\nnonce: [0-9a-f]{64}\\ntime: [1-9][0-9]*\\n$`));
  const proofs = () => json(socket.sent).filter((m) => m.type === 'certificate_proof').length;
  assert.equal(proofs(), 1);

  // The server speaks again, unasked: nothing is relayed to the signer, no proof goes out.
  const injected = [
    possessionChallengeText({ origin: suite.server.origin, user: username, fingerprint: fingerprint.toLowerCase(), nonce: '5a'.repeat(32), time: Math.floor(Date.now() / 1000) }),
    String.fromCharCode(...handshakeSignatureInput({ role: SignatureRole.responder, transcriptHash: new Uint8Array(32).fill(0x41) })),
    `Security.MS proof of possession v1\norigin: ${suite.server.origin}\nuser: ${username}\nfingerprint: ${fingerprint}\nnonce: x\n`,
  ];
  for (const challenge of injected) socket.page.send(JSON.stringify({ type: 'certificate_challenge', challenge }));
  await app.waitForTimeout(3000);
  assert.equal(proofs(), 1, 'no certificate_proof for an injected challenge');
  // The certificate stays verified; no error from the server's text is shown.
  await app.locator('[data-testid=own-report] [data-testid=report-fingerprint]').waitFor({ state: 'attached' });
  assert.equal(await app.getByTestId('certificate-error').count(), 0);
  assert.deepEqual(await violationsOf(app), []);
  assert.deepEqual(unexpectedProblems(problems), []);
});
