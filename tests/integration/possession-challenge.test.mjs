// The server's proof-of-possession challenge (docs/api.md, docs/protocol.md "Signing contexts"):
// exactly the v2 text the client's Worker accepts — six ASCII lines naming the server's public
// origin, the account, the lower-case fingerprint, a fresh 64-hex nonce and the server's time —
// and the proof must be a signature over exactly that text, by the submitted key.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as openpgp from 'openpgp';
import { login, openWebSocket, register, startServer } from '../helpers/secms-server.mjs';
import { makeIdentity } from '../helpers/channel-client.mjs';
import { parsePossessionChallenge, possessionChallengeText } from '../../web/src/crypto/protocol/signing-contexts.js';
import { checkPossessionChallenge, createPossessionSigner } from '../../web/src/crypto/identity.js';

let server;
const extraOrigin = 'https://chat.example:9443';
const password = 'possession password';

before(async () => {
  server = await startServer({ extraArgs: ['--login-per-ip-burst', '1000', '--login-per-ip-per-minute', '1000', '--extra-origins', extraOrigin] });
  for (const name of ['ppalice', 'ppbob', 'ppcarol']) assert.equal((await register(server, name, password)).status, 201);
});
after(() => server?.stop());

async function connect(name, origin = server.origin) {
  const { res, cookie } = await login(server, name, password);
  assert.equal(res.status, 200, res.body);
  const ws = await openWebSocket(server, { cookie, origin });
  await ws.next('hello');
  return ws;
}

async function challengeFor(ws, identity) {
  ws.send({ type: 'certificate_submit', certificate: identity.armored });
  return (await ws.next('certificate_challenge', 10_000)).challenge;
}

const binarySignature = async (privateKey, bytes) => openpgp.sign({
  message: await openpgp.createMessage({ binary: bytes }), signingKeys: privateKey, detached: true, format: 'armored',
});

test('the challenge is the documented v2 text; the Worker-side check accepts it; a fresh nonce each time', async () => {
  const ws = await connect('ppalice');
  const identity = await makeIdentity({ name: 'PP Alice', email: 'ppalice@example.org' });
  const before = Math.floor(Date.now() / 1000);
  const text = await challengeFor(ws, identity);
  const after = Math.floor(Date.now() / 1000);
  const fields = parsePossessionChallenge(text);
  assert.equal(fields.origin, server.origin);
  assert.equal(fields.user, 'ppalice');
  assert.equal(fields.fingerprint, identity.fingerprint.toLowerCase());
  assert.match(fields.nonce, /^[0-9a-f]{64}$/);
  assert.ok(fields.time >= before && fields.time <= after, `time ${fields.time} in [${before}, ${after}]`);
  assert.equal(text, possessionChallengeText(fields), 'byte for byte the documented layout');
  assert.match(text, /^[\x20-\x7e\n]+$/, 'ASCII only');
  // What the Worker checks before signing passes for this origin, account and key.
  checkPossessionChallenge({ challenge: text, origin: server.origin, account: 'ppalice', fingerprint: identity.fingerprint, nowSeconds: after });

  const again = parsePossessionChallenge(await challengeFor(ws, identity));
  assert.notEqual(again.nonce, fields.nonce);

  // The Worker's signer, in a submission it started, signs it; the server accepts the proof.
  const signer = createPossessionSigner({ origin: server.origin });
  signer.begin({ fingerprint: identity.privateKey.getFingerprint() });
  const latest = await challengeFor(ws, identity);
  ws.send({ type: 'certificate_proof', signature: await signer.sign({ privateKey: identity.privateKey, account: 'ppalice', challenge: latest }) });
  const verdict = await ws.next('certificate_accepted', 10_000);
  assert.equal(verdict.report.fingerprint, identity.fingerprint);
  await ws.close();
});

test('a proof over any other bytes — the v1 text, the challenge with CRLF, a handshake-like input — is refused', async () => {
  const ws = await connect('ppbob');
  const identity = await makeIdentity({ name: 'PP Bob', email: 'ppbob@example.org' });
  const others = [
    (text) => new TextEncoder().encode(text.replace('possession v2', 'possession v1')),
    (text) => new TextEncoder().encode(text.replaceAll('\n', '\r\n')),
    (text) => new Uint8Array([0xff, ...new TextEncoder().encode(text)]),
  ];
  for (const other of others) {
    const text = await challengeFor(ws, identity);
    ws.send({ type: 'certificate_proof', signature: await binarySignature(identity.privateKey, other(text)) });
    const verdict = await ws.next('certificate_rejected', 10_000);
    assert.equal(verdict.error.code, 'bad_signature');
  }
  await ws.close();
});

test('a page on an allowed extra origin gets a challenge naming that origin (the one its Worker compares)', async () => {
  const ws = await connect('ppcarol', extraOrigin);
  const identity = await makeIdentity({ name: 'PP Carol', email: 'ppcarol@example.org' });
  const fields = parsePossessionChallenge(await challengeFor(ws, identity));
  assert.equal(fields.origin, extraOrigin);
  await ws.close();
});
