// autocrypt.js: strict parsing of Autocrypt and Autocrypt-Gossip headers (Level 1 §2.1, §2.7),
// size limits, and armor round trips of the key data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import {
  MAX_KEYDATA_BYTES, armorPublicKey, buildAutocryptHeader, buildGossipHeader, dearmorPublicKey, gossipFrom, parseAutocrypt, senderAutocrypt,
} from '../src/mail/autocrypt.js';
import { makeIdentity } from './helpers/mail-parties.mjs';

const alice = await makeIdentity('alice');

test('build → parse: addr, prefer-encrypt=mutual, keydata readable by OpenPGP.js as the same key', async () => {
  const value = buildAutocryptHeader({ addr: 'Alice@Localhost', armored: alice.armoredPublic });
  assert.match(value, /^addr=alice@localhost; prefer-encrypt=mutual; keydata=/);
  const parsed = parseAutocrypt(value);
  assert.equal(parsed.addr, 'alice@localhost');
  assert.equal(parsed.prefer_encrypt, 'mutual');
  const key = await openpgp.readKey({ armoredKey: parsed.keydata });
  assert.equal(key.getFingerprint(), alice.privateKey.getFingerprint());
  assert.deepEqual(dearmorPublicKey(armorPublicKey(parsed.keyBytes)), parsed.keyBytes);
});

test('strict: unknown critical attribute → ignored; "_" attributes allowed; duplicates, missing parts, bad base64 → ignored', () => {
  const good = buildAutocryptHeader({ addr: 'alice@localhost', armored: alice.armoredPublic });
  assert.ok(parseAutocrypt(`${good}; _comment=hi`));
  assert.equal(parseAutocrypt(`${good}; critical=yes`), null);
  assert.equal(parseAutocrypt(`addr=alice@localhost; ${good}`), null);
  assert.equal(parseAutocrypt('addr=alice@localhost; prefer-encrypt=mutual'), null);
  assert.equal(parseAutocrypt('addr=alice@localhost; keydata=!!!!'), null);
  assert.equal(parseAutocrypt('addr=alice@localhost; keydata=AAAA'), null, 'not a public-key packet');
  assert.equal(parseAutocrypt(good.replace('addr=alice@localhost', 'addr=not-an-address')), null);
  assert.equal(parseAutocrypt(good.replace('prefer-encrypt=mutual', 'prefer-encrypt=always')).prefer_encrypt, 'nopreference');
  assert.equal(parseAutocrypt(good, { gossip: true }), null, 'prefer-encrypt is not a gossip attribute');
});

test('size: keydata over 64 KiB is ignored', () => {
  const huge = new Uint8Array(MAX_KEYDATA_BYTES + 3);
  huge[0] = 0x99;
  const value = `addr=alice@localhost; keydata=${Buffer.from(huge).toString('base64')}`;
  assert.equal(parseAutocrypt(value), null);
  assert.throws(() => buildAutocryptHeader({ addr: 'alice@localhost', keyBytes: huge }), TypeError);
});

test('sender header only for the From address and only when there is exactly one', () => {
  const header = ['Autocrypt', buildAutocryptHeader({ addr: 'alice@localhost', armored: alice.armoredPublic })];
  assert.equal(senderAutocrypt([header], 'alice@localhost').addr, 'alice@localhost');
  assert.equal(senderAutocrypt([header], 'ALICE@localhost').addr, 'alice@localhost');
  assert.equal(senderAutocrypt([header], 'mallory@localhost'), null);
  assert.equal(senderAutocrypt([header, header], 'alice@localhost'), null);
  const gossip = ['Autocrypt-Gossip', buildGossipHeader({ addr: 'alice@localhost', armored: alice.armoredPublic })];
  assert.deepEqual(gossipFrom([gossip, ['Autocrypt-Gossip', 'addr=x@y; keydata=AAAA']]).map((entry) => entry.addr), ['alice@localhost']);
});
