// The OpenPGP sign/verify adapter the Worker gives the protocol: real signatures, verification
// bound to the accepted certificate and its fingerprint, fail-closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { createOpenpgpSigner, createOpenpgpVerifier } from '../src/crypto/openpgp-adapter.js';

async function keyPair(name) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email: `${name}@example.org` }], format: 'object', config: { v6Keys: false },
  });
  return { privateKey, publicKey, fingerprint: publicKey.getFingerprint().toUpperCase() };
}

const alice = await keyPair('alice');
const mallory = await keyPair('mallory');
const data = new Uint8Array([0, 1, 2, 3, 0x0d, 0x0a, 255]);

test('a signature by the accepted key verifies; the signature is binary, detached, over the exact bytes', async () => {
  const signature = await createOpenpgpSigner({ privateKey: alice.privateKey })(data);
  assert.ok(signature instanceof Uint8Array && signature.length > 0);
  const verify = createOpenpgpVerifier({ certificate: alice.publicKey, fingerprint: alice.fingerprint });
  assert.equal(await verify({ data, signature }), true);
  const changed = data.slice();
  changed[4] = 0x0a;   // a line-ending change must break it: no text canonicalisation
  assert.equal(await verify({ data: changed, signature }), false);
});

test('fails closed: another signer, a wrong fingerprint, garbage', async () => {
  const malloriesSignature = await createOpenpgpSigner({ privateKey: mallory.privateKey })(data);
  const verify = createOpenpgpVerifier({ certificate: alice.publicKey, fingerprint: alice.fingerprint });
  assert.equal(await verify({ data, signature: malloriesSignature }), false);
  assert.equal(await verify({ data, signature: new Uint8Array([1, 2, 3]) }), false);
  const alicesSignature = await createOpenpgpSigner({ privateKey: alice.privateKey })(data);
  const boundToOtherFingerprint = createOpenpgpVerifier({ certificate: alice.publicKey, fingerprint: mallory.fingerprint });
  assert.equal(await boundToOtherFingerprint({ data, signature: alicesSignature }), false);
});

test('the adapter refuses a locked or public key for signing and a private key for verifying', async () => {
  assert.throws(() => createOpenpgpSigner({ privateKey: alice.publicKey }), TypeError);
  const locked = await openpgp.encryptKey({ privateKey: alice.privateKey, passphrase: 'pass phrase' });
  assert.throws(() => createOpenpgpSigner({ privateKey: locked }), TypeError);
  assert.throws(() => createOpenpgpVerifier({ certificate: alice.privateKey, fingerprint: alice.fingerprint }), TypeError);
  assert.throws(() => createOpenpgpVerifier({ certificate: alice.publicKey }), TypeError);
});
