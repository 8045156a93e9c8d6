// key-armor.js: the one armor/base64 code of Autocrypt keydata and vCard KEY values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as openpgp from 'openpgp';
import { armorPublicKey, base64ToBytes, bytesToBase64, dearmorPublicKey } from '../src/mail/key-armor.js';

test('a real public key survives dearmor → armor, and OpenPGP.js reads the armor', async () => {
  const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'armor@localhost' }], format: 'armored' });
  const bytes = dearmorPublicKey(publicKey);
  assert.ok(bytes && bytes.length > 32);
  const again = armorPublicKey(bytes);
  assert.deepEqual(dearmorPublicKey(again), bytes);
  const key = await openpgp.readKey({ armoredKey: again });
  assert.equal(key.getUserIDs()[0], '<armor@localhost>');
});

test('a wrong checksum, broken base64 or no armor at all gives null, never a throw', () => {
  const armored = armorPublicKey(Uint8Array.of(0xc6, 1, 2, 3, 4, 5));
  const lines = armored.split('\n');
  const checksumAt = lines.findIndex((line) => line.startsWith('='));
  lines[checksumAt] = lines[checksumAt] === '=AAAA' ? '=BBBB' : '=AAAA';
  assert.equal(dearmorPublicKey(lines.join('\n')), null);
  assert.equal(dearmorPublicKey('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nA\n-----END PGP PUBLIC KEY BLOCK-----\n'), null);
  assert.equal(dearmorPublicKey('not a key'), null);
  assert.equal(base64ToBytes('a'), null);        // a length no base64 text has (atob throws)
  assert.equal(base64ToBytes('ab$c'), null);
  assert.deepEqual(base64ToBytes(' AQID\n'), Uint8Array.of(1, 2, 3));
  assert.equal(bytesToBase64(Uint8Array.of(1, 2, 3)), 'AQID');
});
