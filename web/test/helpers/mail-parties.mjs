// Test helpers for the mail tests: OpenPGP identities and an in-process stand-in for the crypto
// Worker connection whose request() runs the real mail-crypto.js handlers and answers like the
// Worker does (reply {type, ...result}; errors with code, reason and index).
import * as openpgp from 'openpgp';
import { createMailCrypto } from '../../src/crypto/mail-crypto.js';

export async function makeIdentity(name) {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email: `${name}@localhost` }], format: 'object', config: { v6Keys: false },
  });
  return { name, address: `${name}@localhost`, privateKey, armoredPublic: privateKey.toPublic().armor() };
}

/** A connection-like object for `privateKey` (null: locked); `events` collects mail.progress. */
export function localCrypto(privateKey) {
  const events = [];
  const mail = createMailCrypto({ identity: () => privateKey, emit: (event) => events.push(event) });
  const operations = { 'mail.encrypt': mail.encrypt, 'mail.sign': mail.sign, 'mail.decrypt': mail.decrypt, 'mail.verify': mail.verify };
  return {
    events,
    async request({ type, payload }) {
      try {
        return { type, ...(await operations[type](payload)) };
      } catch (cause) {
        const error = new Error(`${type}: refused (${cause.code ?? 'failed'})`);
        error.code = cause.code ?? 'failed';
        if (cause.reason) error.reason = cause.reason;
        if (Number.isInteger(cause.index)) error.index = cause.index;
        throw error;
      }
    },
  };
}

export const bytes = (text) => new TextEncoder().encode(text);
export const text = (data) => new TextDecoder().decode(data);
