import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { parseVCards, formatVCards, VCardError } from '../src/mail/vcard.js';
import { createAddressBook, AddressBookError } from '../src/mail/address-book.js';

const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'ann@example.org' }], format: 'armored' });
const memoryStorage = () => {
  const map = new Map();
  return { getItem: (key) => map.get(key) ?? null, setItem: (key, value) => map.set(key, value), removeItem: (key) => map.delete(key) };
};

test('vCard 3.0: folded lines, escapes, several EMAILs, N when FN is absent, base64 KEY', async () => {
  const binary = (await openpgp.readKey({ armoredKey: publicKey })).write();
  const base64 = Buffer.from(binary).toString('base64');
  const text = [
    'BEGIN:VCARD', 'VERSION:3.0', 'N:Dupont;Zoé;;;', 'EMAIL;TYPE=INTERNET,HOME:zoe@example.org',
    'item1.EMAIL:ZOE@work.example', `KEY;TYPE=PGP;ENCODING=b:${base64.slice(0, 40)}`, ` ${base64.slice(40)}`, 'END:VCARD',
    'BEGIN:VCARD', 'VERSION:3.0', 'FN:Smith\\, John', 'END:VCARD',
  ].join('\r\n');
  const { contacts, skipped } = parseVCards(text);
  assert.equal(skipped, 1, 'a card without e-mail is skipped');
  assert.equal(contacts[0].name, 'Zoé Dupont');
  assert.deepEqual(contacts[0].emails, ['zoe@example.org', 'zoe@work.example']);
  const key = await openpgp.readKey({ armoredKey: contacts[0].key });
  assert.equal(key.getFingerprint(), (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint());
});

test('round trip: export (vCard 4.0, folded ≤ 75 octets, data: URI key) → import gives the same contacts', async () => {
  const contacts = [
    { name: 'Ann; "the, first"', emails: ['ann@example.org', 'a2@example.org'], key: publicKey },
    { name: 'Ünïcødé '.repeat(12).trim(), emails: ['u@example.org'], key: null },
  ];
  const text = formatVCards(contacts);
  for (const line of text.split('\r\n')) assert.ok(new TextEncoder().encode(line).length <= 75, line);
  const back = parseVCards(text).contacts;
  assert.deepEqual(back.map((contact) => [contact.name, contact.emails]), contacts.map((contact) => [contact.name, contact.emails]));
  const original = await openpgp.readKey({ armoredKey: publicKey });
  assert.equal((await openpgp.readKey({ armoredKey: back[0].key })).getFingerprint(), original.getFingerprint());
  assert.equal(back[1].key, null);
});

test('malformed and oversized input', () => {
  assert.throws(() => parseVCards('hello'), (error) => error instanceof VCardError && error.code === 'no_cards');
  assert.throws(() => parseVCards('BEGIN:VCARD\n'.repeat(2001)), (error) => error.code === 'too_large');
  assert.throws(() => parseVCards('x'.repeat(9 * 1024 * 1024)), (error) => error.code === 'too_large');
  const { contacts } = parseVCards('BEGIN:VCARD\nEMAIL:not an address\nEMAIL:ok@example.org\nKEY:data:text/html,<b>x</b>\nnonsense line\nEND:VCARD');
  assert.deepEqual(contacts, [{ name: '', emails: ['ok@example.org'], key: null }]);
  assert.deepEqual(parseVCards('BEGIN:VCARD\nFN:x\nEND:VCARD'), { contacts: [], skipped: 1 });
});

test('address book: CRUD with checks, import merges by address, persisted per account', () => {
  const storage = memoryStorage();
  const book = createAddressBook({ storage, account: 'Alice' });
  const ann = book.add({ name: 'Ann', emails: 'Ann@Example.org, ann2@example.org' });
  assert.deepEqual(ann.emails, ['ann@example.org', 'ann2@example.org']);
  assert.throws(() => book.add({ name: 'x', emails: [] }), (error) => error instanceof AddressBookError && error.code === 'no_email');
  assert.throws(() => book.add({ emails: ['bad'] }), (error) => error.code === 'bad_email');
  assert.throws(() => book.add({ emails: ['a@example.org'], key: 'not a key' }), (error) => error.code === 'bad_key');
  book.update(ann.id, { name: 'Ann B' });
  const result = book.importVCard('BEGIN:VCARD\nFN:Other\nEMAIL:ann@example.org\nEMAIL:third@example.org\nEND:VCARD\nBEGIN:VCARD\nFN:Bob\nEMAIL:bob@example.org\nEND:VCARD');
  assert.equal(result.added.length, 2);
  const again = createAddressBook({ storage, account: 'alice' });
  assert.deepEqual(again.list().map((contact) => [contact.name, contact.emails.length]), [['Ann B', 3], ['Bob', 1]]);
  again.remove(ann.id);
  assert.equal(again.list().length, 1);
  assert.equal(createAddressBook({ storage, account: 'bob' }).list().length, 0);
  assert.match(again.exportVCard(), /^BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bob\r\nEMAIL:bob@example.org\r\nEND:VCARD\r\n$/);
});
