// The address book (pure; storage injected like trust-store.js): contacts with a name, e-mail
// addresses and optionally an OpenPGP public key. Kept in localStorage per account, wiped at
// logout with everything else of the origin. vCard import/export via vcard.js.
//
// A contact: { id, name, emails: [lower-case addresses], key: armored | null, fingerprint: null
// (filled by the key directory's view), keySource: 'imported' (typed in by the user) | 'vcard'
// (from an imported card: anyone can write one) | null }.

import { formatVCards, parseVCards } from './vcard.js';

const keyPrefix = 'secms.mail.contacts.';
export const MAX_CONTACTS = 2000;
export const MAX_EMAILS_PER_CONTACT = 20;
const MAX_NAME_CHARS = 256;
const MAX_KEY_CHARS = 96 * 1024;
const emailPattern = /^[^\s@<>]{1,64}@[^\s@<>]{1,253}$/;

export class AddressBookError extends Error {
  constructor(code) {
    super(`address book: ${code}`);
    this.name = 'AddressBookError';
    this.code = code;   // no_email | bad_email | too_many | not_found | bad_key
  }
}

function clean(fields, keySource = 'imported') {
  const name = String(fields?.name ?? '').trim().slice(0, MAX_NAME_CHARS);
  const list = Array.isArray(fields?.emails) ? fields.emails : String(fields?.emails ?? '').split(/[,;\s]+/);
  const emails = [...new Set(list.map((email) => String(email).trim().toLowerCase()).filter(Boolean))];
  if (emails.length === 0) throw new AddressBookError('no_email');
  if (emails.length > MAX_EMAILS_PER_CONTACT) throw new AddressBookError('too_many');
  if (!emails.every((email) => emailPattern.test(email))) throw new AddressBookError('bad_email');
  const key = fields?.key ? String(fields.key) : null;
  if (key && (key.length > MAX_KEY_CHARS || !/-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(key))) throw new AddressBookError('bad_key');
  return { name, emails, key, keySource: key ? keySource : null };
}

/** Options: { storage | null, account (own username), newId () → string }. */
export function createAddressBook({ storage = null, account, newId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36) }) {
  if (typeof account !== 'string' || !account) throw new TypeError('createAddressBook: account required');
  const storageKey = `${keyPrefix}${account.toLowerCase()}`;
  let memory = null;

  function readAll() {
    if (memory) return memory;
    try {
      const parsed = JSON.parse(storage?.getItem(storageKey) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((contact) => contact && typeof contact.id === 'string' && Array.isArray(contact.emails)) : [];
    } catch {
      return [];
    }
  }

  function writeAll(contacts) {
    try {
      if (!storage) throw new Error('no storage');
      storage.setItem(storageKey, JSON.stringify(contacts));
      memory = null;
    } catch {
      memory = contacts;
    }
  }

  const view = (contact) => Object.freeze({ id: contact.id, name: contact.name, emails: Object.freeze([...contact.emails]), key: contact.key ?? null, fingerprint: contact.fingerprint ?? null, keySource: contact.keySource ?? null });

  function add(fields) {
    const contacts = readAll();
    if (contacts.length >= MAX_CONTACTS) throw new AddressBookError('too_many');
    const contact = { id: newId(), fingerprint: null, ...clean(fields) };
    writeAll([...contacts, contact]);
    return view(contact);
  }

  function update(id, fields) {
    const contacts = readAll();
    const index = contacts.findIndex((contact) => contact.id === id);
    if (index < 0) throw new AddressBookError('not_found');
    const current = contacts[index];
    const keptKey = !('key' in (fields ?? {})) || fields.key === current.key;
    const merged = clean({ name: current.name, emails: current.emails, key: current.key, ...fields }, keptKey ? current.keySource ?? 'imported' : 'imported');
    contacts[index] = { ...current, ...merged };
    writeAll(contacts);
    return view(contacts[index]);
  }

  function remove(id) {
    writeAll(readAll().filter((contact) => contact.id !== id));
  }

  /**
   * Imports vCard text; a card whose e-mail address is already in the book is merged into that
   * contact (a missing name or key is filled in, addresses added). → { added: [contacts touched], skipped }.
   */
  function importVCard(text) {
    const { contacts: cards, skipped: noEmail } = parseVCards(text);
    const contacts = readAll();
    const touched = [];
    let skipped = noEmail;
    for (const card of cards) {
      const existing = contacts.find((contact) => contact.emails.some((email) => card.emails.includes(email)));
      try {
        if (existing) {
          const merged = clean({ name: existing.name || card.name, emails: [...new Set([...existing.emails, ...card.emails])].slice(0, MAX_EMAILS_PER_CONTACT), key: existing.key ?? card.key },
            existing.key ? existing.keySource ?? 'imported' : 'vcard');
          Object.assign(existing, merged);
          touched.push(existing);
        } else {
          if (contacts.length >= MAX_CONTACTS) {
            skipped += 1;
            continue;
          }
          const contact = { id: newId(), fingerprint: null, ...clean(card, 'vcard') };
          contacts.push(contact);
          touched.push(contact);
        }
      } catch {
        skipped += 1;
      }
    }
    writeAll(contacts);
    return { added: touched.map(view), skipped };
  }

  return Object.freeze({
    list: () => readAll().map(view).sort((a, b) => (a.name || a.emails[0]).localeCompare(b.name || b.emails[0])),
    add,
    update,
    remove,
    importVCard,
    exportVCard: () => formatVCards(readAll()),
    find: (email) => {
      const wanted = String(email ?? '').toLowerCase();
      const contact = readAll().find((entry) => entry.emails.includes(wanted));
      return contact ? view(contact) : null;
    },
  });
}
