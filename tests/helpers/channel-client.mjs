// A Node secure-channel client that drives the real server exactly as the browser does:
// register and log in over HTTPS; the application WebSocket (subprotocol secms.v1, the login
// cookie, an Origin); an OpenPGP.js v4 identity whose certificate is submitted and proved
// (certificate_submit → certificate_challenge → detached signature over the exact UTF-8 bytes of
// the challenge → certificate_proof → certificate_accepted); channel_request / channel_offer /
// channel_accept / channel_open; then the secure channel protocol of web/src/crypto/protocol/
// with handshake messages and records carried in binary relay frames.
//
// On a protocol failure it tears the channel down and tells the server why (`channel_end` with
// `reason` = the ChannelError reason), as the browser does, so the peer is shown the code.
//
//   const alice = await ChannelClient.connect(server, { username: 'alice1', password });
//   const bob = await ChannelClient.connect(server, { username: 'bob1', password });
//   const { mine, theirs } = await alice.secureChannelWith(bob);
//   await mine.send('hello');
//   assert.equal(await theirs.nextMessage(), 'hello');
//
// `server` is anything with { httpsPort, origin } — the real server of secms-server.mjs or the
// hostile relay of hostile-relay.mjs (then the client talks to the relay's origin).

import { EventEmitter } from 'node:events';
import * as openpgp from 'openpgp';
import { login, openWebSocket, register } from './secms-server.mjs';
import { RelayFrameType, encodeRelayFrame, parseRelayFrame } from './relay-frame.mjs';
import { ChannelError, awaitSecure, createInitiator, createResponder } from '../../web/src/crypto/protocol/index.js';
import { parsePossessionChallenge } from '../../web/src/crypto/protocol/signing-contexts.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * A v4 OpenPGP identity (EdDSA legacy + ECDH Curve25519): the only OpenPGP.js 6 key type that
 * librnp 0.16 on the server reads (RFC 9580 Ed25519/X25519, algos 27/25, and v6 keys it refuses).
 */
export async function makeIdentity({ name, email }) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email }], format: 'object',
    config: { v6Keys: false },
  });
  return {
    privateKey, publicKey,
    armored: publicKey.armor(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
  };
}

/** The Worker-side signing adapter the protocol expects: sign(data) → detached binary signature. */
export function openpgpSigner(privateKey) {
  return async (data) => openpgp.sign({
    message: await openpgp.createMessage({ binary: data }), signingKeys: privateKey, detached: true, format: 'binary',
  });
}

/** verify({data, signature}) → true only for a good signature by the ACCEPTED certificate. */
export function openpgpVerifier(acceptedCertificate) {
  return async ({ data, signature }) => {
    try {
      const { signatures } = await openpgp.verify({
        message: await openpgp.createMessage({ binary: data }),
        signature: await openpgp.readSignature({ binarySignature: signature }),
        verificationKeys: acceptedCertificate,
      });
      if (signatures.length !== 1) return false;
      await signatures[0].verified; // throws unless valid and made by a key of acceptedCertificate
      return true;
    } catch {
      return false;
    }
  };
}

function deadline(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One secure channel as one side sees it. `status` is what the browser's status bar shows:
 * 'offered' → 'handshaking' (after channel_open) → 'secure'; 'compromised' when this side's
 * protocol refused something or the server ended it as compromised; 'ended' for any other end.
 */
export class SecureChannel {
  #client;
  #endpoint = null;
  #sendSequence = 0;
  #receiveSequence = 0;
  #incoming = Promise.resolve();
  #outgoing = Promise.resolve();
  #inbox = [];
  #inboxWaiters = [];
  #events = new EventEmitter();
  #handshakeTimeoutMs;

  constructor(client, offer, { handshakeTimeoutMs }) {
    this.#client = client;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.sessionId = offer.session;
    this.role = offer.role;
    this.peer = offer.peer;
    /** The peer's certificate report as the offer showed it (what the user accepted). */
    this.peerCertificate = offer.certificate;
    this.status = 'offered';
    /** True once this side reached 'secure' (it never goes back to false). */
    this.everSecure = false;
    /** This side's own protocol reason when it tore the channel down (a ChannelError reason). */
    this.teardownReason = null;
    /** The server's channel_ended message, once it came. */
    this.ended = null;
    /** Server errors about this session ({code, message}). */
    this.errors = [];
    /** Every plaintext received, in order (also consumed by nextMessage()). */
    this.received = [];
    this.startTime = null;
  }

  /** The protocol endpoint (null before the offer was accepted). */
  get endpoint() { return this.#endpoint; }
  /** The protocol state ('idle', 'sent_hello', 'awaiting_finish', 'secure', 'compromised', …). */
  get state() { return this.#endpoint?.state ?? 'idle'; }
  get sas() { return this.#endpoint?.sas ?? null; }

  /** Resolves when this side is secure (after its last handshake message went out). */
  whenSecure(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.status === 'secure') return Promise.resolve(this);
    if (this.status === 'compromised' || this.status === 'ended' || this.status === 'rejected') {
      return Promise.reject(new Error(`channel ${this.role} is ${this.status} (${this.teardownReason ?? this.ended?.detail ?? this.ended?.reason})`));
    }
    return deadline(new Promise((resolve, reject) => {
      this.#events.once('secure', () => resolve(this));
      this.#events.once('down', () => reject(new Error(`channel ${this.role} went ${this.status} (${this.teardownReason ?? this.ended?.detail ?? this.ended?.reason}) instead of secure`)));
    }), timeoutMs, `${this.role} ${this.sessionId} to be secure`);
  }

  /** Resolves with the server's channel_ended message. */
  whenEnded(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.ended) return Promise.resolve(this.ended);
    return deadline(new Promise((resolve) => this.#events.once('ended', resolve)), timeoutMs, `${this.role} ${this.sessionId} to end`);
  }

  /** Encrypts `text` into a record and sends it. */
  send(text) {
    const task = this.#outgoing.then(async () => {
      const record = await this.#endpoint.seal({ plaintext: textEncoder.encode(text) });
      this.#sendFrame(RelayFrameType.record, record);
    });
    this.#outgoing = task.catch(() => {});
    return task;
  }

  /** The next plaintext received (in order). */
  nextMessage(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.#inbox.length) return Promise.resolve(this.#inbox.shift());
    return deadline(new Promise((resolve, reject) => this.#inboxWaiters.push({ resolve, reject })), timeoutMs, `a message on ${this.role} ${this.sessionId}`);
  }

  async *[Symbol.asyncIterator]() {
    while (this.status === 'secure' || this.#inbox.length) yield await this.nextMessage();
  }

  /** Orderly end: a close record (when secure), then channel_end without a reason. */
  async end() {
    if (this.status === 'secure') {
      const task = this.#outgoing.then(async () => this.#sendFrame(RelayFrameType.record, await this.#endpoint.close({})));
      this.#outgoing = task.catch(() => {});
      await task;
    }
    this.#client.sendJson({ type: 'channel_end', session: this.sessionId });
  }

  // ---- driven by the client ---------------------------------------------------------------

  accept() {
    const certificate = this.#client.acceptedCertificates.get(this.sessionId);
    const options = {
      sessionId: this.sessionId,
      // Protocol version 2 binds both names: the own account and the name the offer gave the peer.
      localUsername: this.#client.username,
      peerUsername: this.peer.username,
      localFingerprint: this.#client.identity.fingerprint,
      peerFingerprint: this.peerCertificate.fingerprint,
      sign: openpgpSigner(this.#client.identity.privateKey),
      // Bound to the certificate the user accepted in the offer, and to nothing else.
      verify: openpgpVerifier(certificate),
    };
    this.#endpoint = this.role === 'initiator' ? createInitiator(options) : createResponder(options);
    this.status = 'accepted';
    this.#client.sendJson({ type: 'channel_accept', session: this.sessionId });
  }

  onOpen(message) {
    this.startTime = message.start_time;
    this.status = 'handshaking';
    // A dropped or withheld handshake message must not leave the channel hanging.
    awaitSecure({ endpoint: this.#endpoint, timeoutMs: this.#handshakeTimeoutMs }).catch((error) => {
      if (error instanceof ChannelError && error.reason === 'handshake_timeout') this.#fail(error);
    });
    if (this.role === 'initiator') {
      this.#incoming = this.#incoming.then(async () => {
        try {
          this.#sendFrame(RelayFrameType.handshake, await this.#endpoint.start());
        } catch (error) {
          this.#fail(error);
        }
      });
    }
  }

  onFrame(frame) {
    this.#incoming = this.#incoming.then(() => this.#handleFrame(frame));
  }

  onError(error) {
    this.errors.push(error);
  }

  onEnded(message) {
    this.ended = message;
    if (this.#endpoint && !['closed', 'compromised'].includes(this.#endpoint.state)) {
      this.#endpoint.abort({ reason: message.reason === 'compromised' ? 'compromised' : 'closed' });
    }
    if (this.status !== 'compromised') this.status = message.reason === 'compromised' ? 'compromised' : 'ended';
    for (const waiter of this.#inboxWaiters.splice(0)) waiter.reject(new Error(`channel ended (${message.reason}${message.detail ? `: ${message.detail}` : ''})`));
    this.#events.emit('down');
    this.#events.emit('ended', message);
  }

  async #handleFrame({ type, sequence, body }) {
    if (this.status === 'compromised' || this.status === 'ended') return; // refused, nothing more to say
    try {
      // As the browser's channel manager does: the relay numbers frames 0, 1, 2, … per session,
      // so a gap or a repeat is refused before the protocol sees the body. (The hostile relay of
      // the tests renumbers what it delivers, so its attacks reach the protocol's own checks.)
      if (sequence !== this.#receiveSequence) {
        throw new ChannelError(sequence < this.#receiveSequence ? 'replay' : 'out_of_order', `relay frame sequence ${sequence}, expected ${this.#receiveSequence}`);
      }
      this.#receiveSequence++;
      if (type === RelayFrameType.handshake) {
        const { reply, state } = await this.#endpoint.receiveHandshake({ message: body });
        if (reply) this.#sendFrame(RelayFrameType.handshake, reply);
        if (state === 'secure') this.#becameSecure();
        return;
      }
      const opened = await this.#endpoint.open({ record: body });
      if (opened.type === 'data') {
        const text = textDecoder.decode(opened.plaintext);
        this.received.push(text);
        const waiter = this.#inboxWaiters.shift();
        if (waiter) waiter.resolve(text);
        else this.#inbox.push(text);
      } else if (opened.type === 'rekey' && opened.reply) {
        this.#sendFrame(RelayFrameType.record, opened.reply);
      } else if (opened.type === 'close') {
        this.status = 'ended';
        this.#events.emit('down');
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #becameSecure() {
    this.status = 'secure';
    this.everSecure = true;
    this.#events.emit('secure');
  }

  /** A protocol check failed: tear down and tell the server (and through it the peer) why. */
  #fail(error) {
    const reason = error instanceof ChannelError ? error.reason : 'malformed';
    // 'compromised'/'closed' are refusals after the teardown; the first reason stands.
    if (this.teardownReason !== null || reason === 'compromised' || reason === 'closed') return;
    this.teardownReason = reason;
    this.teardownError = error;
    this.status = 'compromised';
    if (this.#endpoint && !['closed', 'compromised'].includes(this.#endpoint.state)) this.#endpoint.abort({ reason });
    for (const waiter of this.#inboxWaiters.splice(0)) waiter.reject(new Error(`channel torn down (${reason})`));
    this.#events.emit('down');
    if (!this.ended) this.#client.sendJson({ type: 'channel_end', session: this.sessionId, reason });
  }

  #sendFrame(type, body) {
    this.#client.sendBinary(encodeRelayFrame({ type, sessionId: this.sessionId, sequence: this.#sendSequence++, body }));
  }
}

export class ChannelClient {
  #socket;
  #messages = []; // every JSON message from the server, in order
  #taken = new Set();
  #waiters = [];
  #events = new EventEmitter();
  #handshakeTimeoutMs;
  #acceptOffer;

  /**
   * Registers (unless register: false), logs in, opens the WebSocket, and submits and proves an
   * OpenPGP certificate (unless certify: false). Options: username, password, identity
   * (default: a fresh one), handshakeTimeoutMs, acceptOffer(offer) → boolean (default: accept
   * every offer whose certificate is self-consistent — a user who does not check further).
   */
  static async connect(server, { username, password, identity, register: doRegister = true, certify = true,
    handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, acceptOffer = () => true } = {}) {
    if (doRegister) {
      const res = await register(server, username, password);
      if (res.status !== 201) throw new Error(`register ${username}: HTTP ${res.status} ${res.body}`);
    }
    const { res, cookie } = await login(server, username, password);
    if (res.status !== 200 || !cookie) throw new Error(`login ${username}: HTTP ${res.status} ${res.body}`);
    const client = new ChannelClient();
    client.username = username;
    client.cookie = cookie;
    client.identity = identity ?? await makeIdentity({ name: `Test ${username}`, email: `${username.toLowerCase()}@example.org` });
    client.#handshakeTimeoutMs = handshakeTimeoutMs;
    client.#acceptOffer = acceptOffer;
    client.#socket = await openWebSocket(server, { cookie });
    // openWebSocket queues every message; drain its queue on each one so nothing is missed,
    // including what arrived before this listener was attached.
    const drain = () => { for (const message of client.#socket.messages.splice(0)) client.#dispatch(message); };
    client.#socket.ws.on('message', drain);
    drain();
    const hello = await client.waitFor((m) => m.type === 'hello');
    client.userid = hello.user.userid;
    if (certify) await client.certify();
    return client;
  }

  constructor() {
    this.channels = new Map();
    /** Certificates the user accepted per session (OpenPGP.js key objects), for the verifier. */
    this.acceptedCertificates = new Map();
    /** Server 'error' messages without a session. */
    this.errors = [];
    this.report = null;
  }

  get closed() { return this.#socket.closed; }

  sendJson(message) {
    if (this.#socket.ws.readyState === 1) this.#socket.ws.send(JSON.stringify(message));
  }

  sendBinary(frame) {
    if (this.#socket.ws.readyState === 1) this.#socket.ws.send(frame, { binary: true });
  }

  /** The first not yet taken JSON message that matches (waits for it). */
  waitFor(predicate, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a server message') {
    const index = this.#messages.findIndex((m, i) => !this.#taken.has(i) && predicate(m));
    if (index >= 0) {
      this.#taken.add(index);
      return Promise.resolve(this.#messages[index]);
    }
    return deadline(new Promise((resolve) => this.#waiters.push({ predicate, resolve })), timeoutMs, `${what} (${this.username})`);
  }

  /** certificate_submit → challenge → detached signature over its exact UTF-8 bytes → proof. */
  async certify() {
    this.sendJson({ type: 'certificate_submit', certificate: this.identity.armored });
    const challenge = await this.waitFor((m) => m.type === 'certificate_challenge' || m.type === 'certificate_rejected', DEFAULT_TIMEOUT_MS, 'certificate_challenge');
    if (challenge.type === 'certificate_rejected') throw new Error(`certificate rejected: ${JSON.stringify(challenge.error)}`);
    // Signed only when it is the documented v2 text naming this user and key (as the Worker does).
    const fields = parsePossessionChallenge(challenge.challenge);
    if (fields.user !== this.username || fields.fingerprint !== this.identity.fingerprint.toLowerCase()) throw new Error(`challenge for another user or key: ${challenge.challenge}`);
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: textEncoder.encode(challenge.challenge) }),
      signingKeys: this.identity.privateKey, detached: true, format: 'armored',
    });
    this.sendJson({ type: 'certificate_proof', signature });
    const verdict = await this.waitFor((m) => m.type === 'certificate_accepted' || m.type === 'certificate_rejected', DEFAULT_TIMEOUT_MS, 'certificate_accepted');
    if (verdict.type === 'certificate_rejected') throw new Error(`proof rejected: ${JSON.stringify(verdict.error)}`);
    this.report = verdict.report;
    return this.report;
  }

  /**
   * Asks the server for a channel with `other` (a ChannelClient) and resolves once both sides
   * have their SecureChannel (offered and accepted): { mine (initiator), theirs (responder) }.
   * The handshake then runs by itself; await mine.whenSecure() or whenEnded().
   */
  async openChannelWith(other, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const mine = this.#nextChannel((c) => c.role === 'initiator' && c.peer.userid === other.userid, timeoutMs);
    const theirs = other.#nextChannel((c) => c.role === 'responder' && c.peer.userid === this.userid, timeoutMs);
    this.sendJson({ type: 'channel_request', peer: other.userid });
    return { mine: await mine, theirs: await theirs };
  }

  /** openChannelWith, then both sides secure. */
  async secureChannelWith(other, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const pair = await this.openChannelWith(other, timeoutMs);
    await Promise.all([pair.mine.whenSecure(timeoutMs), pair.theirs.whenSecure(timeoutMs)]);
    return pair;
  }

  async close() {
    if (this.#socket.ws.readyState === 1) await this.#socket.close(1000);
  }

  #nextChannel(predicate, timeoutMs) {
    return deadline(new Promise((resolve) => {
      const listener = (channel) => {
        if (!predicate(channel)) return;
        this.#events.off('channel', listener);
        resolve(channel);
      };
      this.#events.on('channel', listener);
    }), timeoutMs, `a channel offer (${this.username})`);
  }

  #dispatch(message) {
    if (message.type === '<binary>') return this.#onFrame(message.data);
    const index = this.#messages.push(message) - 1;
    const waiter = this.#waiters.findIndex((w) => w.predicate(message));
    if (waiter >= 0) {
      this.#taken.add(index);
      this.#waiters.splice(waiter, 1)[0].resolve(message);
    }
    switch (message.type) {
      case 'channel_offer': return void this.#onOffer(message);
      case 'channel_open': return this.channels.get(message.session)?.onOpen(message);
      case 'channel_ended': return this.channels.get(message.session)?.onEnded(message);
      case 'error':
        if (message.session && this.channels.has(message.session)) return this.channels.get(message.session).onError(message.error);
        return void this.errors.push(message.error);
      default:
    }
  }

  #onOffer(offer) {
    const channel = new SecureChannel(this, offer, { handshakeTimeoutMs: this.#handshakeTimeoutMs });
    this.channels.set(offer.session, channel);
    // The offer's certificate is what the user is shown; reading it must give the same
    // fingerprint the report states, or the client refuses it outright.
    openpgp.readKey({ armoredKey: offer.certificate?.armored ?? '' }).then((certificate) => {
      if (certificate.isPrivate() || certificate.getFingerprint().toUpperCase() !== offer.certificate.fingerprint
          || !this.#acceptOffer(offer)) {
        channel.status = 'rejected';
        this.sendJson({ type: 'channel_reject', session: offer.session });
      } else {
        this.acceptedCertificates.set(offer.session, certificate);
        channel.accept();
      }
      this.#events.emit('channel', channel);
    }, () => {
      channel.status = 'rejected';
      this.sendJson({ type: 'channel_reject', session: offer.session });
      this.#events.emit('channel', channel);
    });
  }

  #onFrame(data) {
    const frame = parseRelayFrame(data);
    if (frame) this.channels.get(frame.sessionId)?.onFrame(frame);
  }
}
