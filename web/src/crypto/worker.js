// Crypto Worker (a module worker, never the page): the "local proxy" of DESIGN.md §2. The
// private key, the session keys and every DH secret live only here; the page talks to it with
// typed messages ({id, type, payload}) and gets back public facts, signatures, relay frames
// and the text of incoming messages. Unknown types and unknown payload fields are refused.
//
// No console calls in this folder: nothing here may ever print key bytes.

import {
  IdentityError, describeIdentity, exportPublicCertificate, generateIdentity, importIdentity,
  protectForStorage, signChallenge, unlockStoredIdentity,
} from './identity.js';
import { createIdentityVault } from './identity-vault.js';
import { createChannelManager } from './channel-manager.js';

let account = null;          // the logged-in username: the vault's key
let unlocked = null;         // { privateKey, fingerprint, summary }
const vault = createIdentityVault();

function post(message, transfer) {
  self.postMessage(message, transfer ?? []);
}

const channels = createChannelManager({
  emit: (event, transfer) => post(event, transfer),
  identity: () => unlocked && { privateKey: unlocked.privateKey, fingerprint: unlocked.fingerprint },
});

class RequestError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

/** Checks the payload has only the named fields; returns it (an empty object when absent). */
function fields(payload, allowed) {
  const value = payload ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new RequestError('invalid_request');
  for (const name of Object.keys(value)) if (!allowed.includes(name)) throw new RequestError('invalid_request');
  return value;
}

function requireAccount() {
  if (!account) throw new RequestError('no_account');
  return account;
}

function requireIdentity() {
  if (!unlocked) throw new RequestError('no_identity');
  return unlocked;
}

async function storedSummary() {
  if (!account) return null;
  try {
    const record = await vault.load({ account });
    return record && { fingerprint: record.fingerprint, userId: record.userId };
  } catch {
    return null;
  }
}

async function becomeIdentity(privateKey, { remember, passphrase }) {
  const summary = describeIdentity(privateKey);
  if (remember) {
    const armoredKey = await protectForStorage({ privateKey, passphrase });
    await vault.save({ account: requireAccount(), armoredKey, fingerprint: summary.fingerprint, userId: summary.userId });
  }
  // A new identity invalidates channels bound to the old one.
  channels.dropAll();
  unlocked = { privateKey, fingerprint: summary.fingerprint, summary };
  return { identity: summary, remembered: Boolean(remember) };
}

const handlers = Object.freeze({
  health: () => ({ ok: true }),

  async 'session.bind'(payload) {
    const { account: name } = fields(payload, ['account']);
    if (typeof name !== 'string' || !name) throw new RequestError('invalid_request');
    if (account !== name) {
      channels.dropAll();
      unlocked = null;
    }
    account = name;
    return { stored: await storedSummary(), identity: unlocked?.summary ?? null };
  },

  async 'identity.status'(payload) {
    fields(payload, []);
    return { stored: await storedSummary(), identity: unlocked?.summary ?? null };
  },

  async 'identity.create'(payload) {
    const { name, email, passphrase, remember } = fields(payload, ['name', 'email', 'passphrase', 'remember']);
    requireAccount();
    if (remember && !passphrase) throw new IdentityError('remember_needs_passphrase');
    return becomeIdentity(await generateIdentity({ name, email }), { remember, passphrase });
  },

  async 'identity.import'(payload) {
    const { armoredKey, passphrase, remember } = fields(payload, ['armoredKey', 'passphrase', 'remember']);
    requireAccount();
    if (remember && !passphrase) throw new IdentityError('remember_needs_passphrase');
    return becomeIdentity(await importIdentity({ armoredKey, passphrase }), { remember, passphrase });
  },

  async 'identity.unlock'(payload) {
    const { passphrase } = fields(payload, ['passphrase']);
    const record = await vault.load({ account: requireAccount() });
    if (!record) throw new RequestError('no_stored_identity');
    return becomeIdentity(await unlockStoredIdentity({ armoredKey: record.armoredKey, passphrase }), { remember: false });
  },

  'identity.export_public'(payload) {
    fields(payload, []);
    return { armored: exportPublicCertificate(requireIdentity().privateKey) };
  },

  async 'identity.forget'(payload) {
    fields(payload, []);
    channels.dropAll();
    unlocked = null;
    if (account) await vault.remove({ account });
    return { forgotten: true };
  },

  async 'identity.sign_challenge'(payload) {
    const { challenge } = fields(payload, ['challenge']);
    if (typeof challenge !== 'string' || !challenge) throw new RequestError('invalid_request');
    return { signature: await signChallenge({ privateKey: requireIdentity().privateKey, challenge }) };
  },

  async 'channel.prepare'(payload) {
    return channels.prepare(fields(payload, ['session', 'role', 'peerFingerprint', 'peerCertificate']));
  },
  'channel.open': (payload) => channels.open(fields(payload, ['session'])),
  'channel.frame': (payload) => channels.receiveFrame(fields(payload, ['frame'])),
  'channel.send': (payload) => channels.send(fields(payload, ['session', 'text'])),
  'channel.close': (payload) => channels.close(fields(payload, ['session'])),
  'channel.drop': (payload) => channels.drop(fields(payload, ['session'])),
  'channel.drop_all'(payload) {
    fields(payload, []);
    channels.dropAll();
    return { dropped: true };
  },
});

// Only a code crosses the boundary: an error message could quote secret input.
function errorReply(error) {
  const code = error instanceof IdentityError || error instanceof RequestError ? error.code
    : typeof error?.reason === 'string' ? error.reason
      : 'failed';
  return { type: 'error', error: { code, message: String(error?.name ?? 'Error') } };
}

self.addEventListener('message', (event) => {
  const request = event.data;
  const id = request && typeof request === 'object' ? request.id : undefined;
  const handler = request && typeof request.type === 'string' && Object.hasOwn(handlers, request.type)
    ? handlers[request.type]
    : null;
  const reply = (message) => post(id === undefined ? message : { ...message, id });
  if (!handler) {
    reply({ type: 'error', error: { code: 'unknown_type', message: 'unknown request type' } });
    return;
  }
  let result;
  try {
    result = handler(request.payload);
  } catch (error) {
    reply(errorReply(error));
    return;
  }
  // Synchronous answers go out at once (health), the others when their promise settles.
  if (result && typeof result.then === 'function') {
    result.then((value) => reply({ type: request.type, ...value }), (error) => reply(errorReply(error)));
  } else {
    reply({ type: request.type, ...result });
  }
});
