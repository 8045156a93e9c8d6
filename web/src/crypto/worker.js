// Crypto Worker (a module worker, never the page): the "local proxy" of DESIGN.md §2. The
// private key, the session keys and every DH secret live only here; the page talks to it with
// typed messages ({id, type, payload}) and gets back public facts, signatures, relay frames
// and the text of incoming messages. Unknown types and unknown payload fields are refused.
//
// No console calls in this folder: nothing here may ever print key bytes.

import {
  IdentityError, createPossessionSigner, describeIdentity, exportPublicCertificate, generateIdentity, importIdentity,
  protectForStorage, storageNeedsUpgrade, unlockStoredIdentity,
} from './identity.js';
import { estimatePassphrase } from './passphrase-strength.js';
import { CertificateFactsError, readCertificateFacts } from './certificate-facts.js';
import { createIdentityVault } from './identity-vault.js';
import { createChannelManager } from './channel-manager.js';
import { RoomKeyError, createRoomKeyManager } from './room-keys.js';
import { createMediaTransforms } from './media/media-transforms.js';
import { MailCryptoError, createMailCrypto } from './mail-crypto.js';

let account = null;          // the logged-in username: the vault's key
let unlocked = null;         // { privateKey, fingerprint, summary }
const vault = createIdentityVault();
// Signs a possession challenge only for this origin, this account and the loaded key, once per
// submission this Worker started (docs/protocol.md "Signing contexts").
const possession = createPossessionSigner({ origin: self.location?.origin });

function post(message, transfer) {
  self.postMessage(message, transfer ?? []);
}

// Room sender keys travel over the pairwise channels (record type sender_key) and are bound
// to the username the page named for each channel's peer; the two managers only meet here.
let rooms = null;
let media = null;
const channels = createChannelManager({
  emit: (event, transfer) => post(event, transfer),
  identity: () => unlocked && { privateKey: unlocked.privateKey, fingerprint: unlocked.fingerprint },
  localUsername: () => account, // bound into every handshake (protocol version 2)
  onSenderKey: ({ peerUser, peerFingerprint, plaintext }) => rooms.receiveSenderKey({ peerUser, peerFingerprint, plaintext }),
  onSecure: ({ peerUser }) => rooms.peerChannelSecured({ peerUser }),
  // SFrame keys follow the channel's epoch and go with the channel (docs/protocol.md
  // "Media encryption (SFrame)").
  onEpochChanged: ({ session }) => media.channelEpochChanged({ session }),
  onDropped: ({ session }) => media.endSession({ session }),
});
rooms = createRoomKeyManager({
  emit: (event) => post(event),
  sendSenderKey: (peerUser, plaintext) => channels.sendSenderKey({ peerUser, plaintext }),
  self: () => account,
  selfFingerprint: () => unlocked?.fingerprint ?? null,
});

// Media frames of calls are encrypted here, beside the channel keys they come from: the
// exporter bytes reach only the media module, never the page.
media = createMediaTransforms({
  exporter: (options) => channels.exporterFor(options),
  roleOf: (session) => channels.roleOf(session),
  epochOf: (session) => channels.epochOf(session),
});

// OpenPGP mail (docs/protocol.md "Email (OpenPGP)"): the own key encrypts, signs and decrypts
// here; the page passes message bytes and public keys only.
const mail = createMailCrypto({
  identity: () => unlocked?.privateKey ?? null,
  emit: (event) => post(event),
});

const CALL_ID = /^[0-9a-f]{32}$/;
const MEDIA_OPTIONS = ['session', 'call', 'direction', 'kind'];

/** The options of one encoded-transform stream: exactly {session, call, direction, kind}. */
function mediaOptions(options) {
  const value = fields(options, MEDIA_OPTIONS);
  if (!MEDIA_OPTIONS.every((name) => typeof value[name] === 'string') || !CALL_ID.test(value.call)) throw new RequestError('invalid_request');
  return { session: value.session, call: value.call, direction: value.direction, kind: value.kind };
}

// RTCRtpScriptTransform (crypto-client.js createScriptTransform): each sender's or receiver's
// encoded frames arrive here. Options the media module refuses leave the streams unconnected,
// so no frame passes unencrypted (the page's indicator shows the transform as inactive).
self.onrtctransform = (event) => {
  const { readable, writable, options } = event.transformer;
  try {
    media.attach({ readable, writable, options: mediaOptions(options) });
  } catch {
    // Refused: nothing is piped, so no frame reaches the network or the decoder unencrypted.
    readable.cancel().catch(() => {});
  }
};

// Answers that move an ArrayBuffer instead of copying it (room.seal's body).
const transfers = new WeakMap();
function withTransfer(value, transfer) {
  transfers.set(value, transfer);
  return value;
}

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
  // A new identity invalidates channels bound to the old one, and the room keys made under it.
  channels.dropAll();
  rooms.forgetAll();
  possession.cancel();
  unlocked = { privateKey, fingerprint: summary.fingerprint, summary };
  return { identity: summary, remembered: Boolean(remember) };
}

const handlers = Object.freeze({
  health: () => ({ ok: true }),

  async 'session.bind'(payload) {
    const { account: name } = fields(payload, ['account']);
    if (typeof name !== 'string' || !name) throw new RequestError('invalid_request');
    // Bound once: the account is what every possession challenge must name, so the page cannot
    // switch it later (a new login gets a new Worker).
    if (account !== null && account !== name) throw new RequestError('account_bound');
    if (account !== name) {
      channels.dropAll();
      rooms.forgetAll();
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
    const { name, email, passphrase, remember, localDomain } = fields(payload, ['name', 'email', 'passphrase', 'remember', 'localDomain']);
    requireAccount();
    if (remember && !passphrase) throw new IdentityError('remember_needs_passphrase');
    if (remember && !estimatePassphrase(passphrase).acceptable) throw new IdentityError('weak_passphrase');
    return becomeIdentity(await generateIdentity({ name, email, localDomain: typeof localDomain === 'string' ? localDomain : null }), { remember, passphrase });
  },

  async 'identity.import'(payload) {
    const { armoredKey, passphrase, remember } = fields(payload, ['armoredKey', 'passphrase', 'remember']);
    requireAccount();
    if (remember && !passphrase) throw new IdentityError('remember_needs_passphrase');
    if (remember && !estimatePassphrase(passphrase).acceptable) throw new IdentityError('weak_passphrase');
    return becomeIdentity(await importIdentity({ armoredKey, passphrase }), { remember, passphrase });
  },

  async 'identity.unlock'(payload) {
    const { passphrase } = fields(payload, ['passphrase']);
    const record = await vault.load({ account: requireAccount() });
    if (!record) throw new RequestError('no_stored_identity');
    const privateKey = await unlockStoredIdentity({ armoredKey: record.armoredKey, passphrase });
    // A key stored in the older form (iterated SHA-256 S2K, CFB + SHA-1) is re-protected with
    // Argon2 + AEAD now that the passphrase is at hand; its passphrase predates the minimum.
    if (await storageNeedsUpgrade({ armoredKey: record.armoredKey })) {
      const armoredKey = await protectForStorage({ privateKey, passphrase, allowWeak: true });
      await vault.save({ account: requireAccount(), armoredKey, fingerprint: record.fingerprint, userId: record.userId });
    }
    return becomeIdentity(privateKey, { remember: false });
  },

  // Public facts read from an armored certificate itself (user IDs, expiry, revocation,
  // subkeys), so the page does not have to believe the server's report about them.
  async 'certificate.facts'(payload) {
    const { armored } = fields(payload, ['armored']);
    if (typeof armored !== 'string' || !armored) throw new RequestError('invalid_request');
    return { facts: await readCertificateFacts({ armored }) };
  },

  // forSubmission: the page is about to send certificate_submit; this opens the one-shot window
  // in which a single possession challenge may be signed.
  'identity.export_public'(payload) {
    const { forSubmission } = fields(payload, ['forSubmission']);
    if (forSubmission !== undefined && typeof forSubmission !== 'boolean') throw new RequestError('invalid_request');
    const { privateKey } = requireIdentity();
    if (forSubmission) possession.begin({ fingerprint: privateKey.getFingerprint() });
    return { armored: exportPublicCertificate(privateKey) };
  },

  async 'identity.forget'(payload) {
    fields(payload, []);
    channels.dropAll();
    rooms.forgetAll();
    possession.cancel();
    unlocked = null;
    if (account) await vault.remove({ account });
    return { forgotten: true };
  },

  async 'identity.sign_challenge'(payload) {
    const { challenge } = fields(payload, ['challenge']);
    if (typeof challenge !== 'string' || !challenge) throw new RequestError('invalid_request');
    const { privateKey } = requireIdentity();
    return { signature: await possession.sign({ privateKey, account: requireAccount(), challenge }) };
  },

  async 'channel.prepare'(payload) {
    return channels.prepare(fields(payload, ['session', 'role', 'peerFingerprint', 'peerCertificate', 'peerUser']));
  },
  'channel.open': (payload) => channels.open(fields(payload, ['session'])),
  'channel.frame': (payload) => channels.receiveFrame(fields(payload, ['frame'])),
  'channel.send': (payload) => channels.send(fields(payload, ['session', 'text'])),
  'channel.close': (payload) => channels.close(fields(payload, ['session'])),
  'channel.drop': (payload) => channels.drop(fields(payload, ['session'])),
  // Rooms survive channel drops: the keys already handed out stay valid, and a channel that
  // comes back gets the current key at the next room.distribute.
  'channel.drop_all'(payload) {
    fields(payload, []);
    channels.dropAll();
    return { dropped: true };
  },

  'room.members'(payload) {
    requireAccount();
    return rooms.members(fields(payload, ['room', 'members', 'removed', 'readmit']));
  },
  'room.distribute'(payload) {
    requireAccount();
    return rooms.distribute(fields(payload, ['room']));
  },
  async 'room.seal'(payload) {
    requireAccount();
    const result = await rooms.seal(fields(payload, ['room', 'frameType', 'text']));
    return withTransfer(result, [result.body]);
  },
  'room.frame'(payload) {
    const { frame } = fields(payload, ['frame']);
    if (!(frame instanceof ArrayBuffer || frame instanceof Uint8Array)) throw new RequestError('invalid_request');
    return rooms.receiveFrame({ frame });
  },
  'room.leave': (payload) => rooms.leave(fields(payload, ['room'])),

  // Calls: signals travel as channel records of type call; media keys never leave this Worker.
  'call.send': (payload) => channels.sendCall(fields(payload, ['session', 'signal'])),
  'call.media_stats'(payload) {
    const { call } = fields(payload, ['call']);
    if (typeof call !== 'string' || !CALL_ID.test(call)) throw new RequestError('invalid_request');
    return { stats: media.stats({ call }) ?? null };
  },
  'call.media_end'(payload) {
    const { call } = fields(payload, ['call']);
    if (typeof call !== 'string' || !CALL_ID.test(call)) throw new RequestError('invalid_request');
    media.endCall({ call });
    return { call };
  },
  // Browsers with only createEncodedStreams: the page transfers the two streams here.
  'call.encoded_streams'(payload) {
    const { readable, writable, options } = fields(payload, ['readable', 'writable', 'options']);
    if (!(readable instanceof ReadableStream) || !(writable instanceof WritableStream)) throw new RequestError('invalid_request');
    media.attach({ readable, writable, options: mediaOptions(options) });
    return { attached: true };
  },

  // Mail: payload limits (32 MiB) and key checks are in mail-crypto.js.
  async 'mail.encrypt'(payload) {
    const result = await mail.encrypt(fields(payload, ['data', 'recipientKeys', 'sign', 'job', 'output']));
    return result.armoredBytes ? withTransfer(result, [result.armoredBytes.buffer]) : result;
  },
  'mail.sign': (payload) => mail.sign(fields(payload, ['data'])),
  async 'mail.decrypt'(payload) {
    const result = await mail.decrypt(fields(payload, ['data', 'verificationKeys', 'job']));
    return withTransfer(result, [result.data.buffer]);
  },
  'mail.verify': (payload) => mail.verify(fields(payload, ['data', 'signature', 'cleartext', 'verificationKeys'])),
});

// Only a code crosses the boundary: an error message could quote secret input.
function errorReply(error) {
  // Mail errors also say why (decrypt_failed: not_for_me|corrupt|no_key|locked) or which key.
  if (error instanceof MailCryptoError) {
    return { type: 'error', error: { code: error.code, message: error.name, ...(error.reason ? { reason: error.reason } : {}), ...(error.index !== null ? { index: error.index } : {}) } };
  }
  const code = error instanceof IdentityError || error instanceof RequestError || error instanceof RoomKeyError || error instanceof CertificateFactsError ? error.code
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
  const reply = (message, transfer) => post(id === undefined ? message : { ...message, id }, transfer);
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
    result.then((value) => reply({ type: request.type, ...value }, transfers.get(value)), (error) => reply(errorReply(error)));
  } else {
    reply({ type: request.type, ...result }, transfers.get(result));
  }
});
