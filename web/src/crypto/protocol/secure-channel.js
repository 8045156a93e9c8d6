// One side of a secure channel: the handshake, then records and re-keys, under one explicit
// state machine. Every public method takes one options object (unknown options are refused),
// and calls are serialized on an internal queue so records are processed strictly in order
// even when the caller does not await between them.
import { ChannelError, wrapError } from './errors.js';
import { bytesFromOption, checkOptions, concatBytes, zeroize } from './bytes.js';
import {
  CloseCode, HandshakeMessageType, Limits, RekeyMessageKind, decodeCloseMessage, decodeRekeyMessage,
  encodeCloseMessage, encodeRekeyMessage, encodeSessionId, encodeUsername, peekHandshakeMessageType,
} from './encoding.js';
import { createInitiatorHello, processInitiatorFinish, processResponderHello, respondToInitiatorHello } from './handshake.js';
import { deriveRekeySecrets, deriveTrafficKeys, exportKeyingMaterial, importHmacKey, sha256, zeroizeSecrets } from './key-schedule.js';
import { Direction, MAX_RECORD_PLAINTEXT, RecordDirectionState, RecordType, decodeRecord, importRecordKey } from './records.js';
import { createRekeyPolicy } from './rekey.js';
import { ChannelState, ChannelStateMachine, Role } from './state.js';
import {
  deriveSharedSecret, detectPreferredSuite, generateEphemeralKeyPair, importEphemeralKeyPairForTesting,
  importPeerPublicKey, isKnownSuite, supportedSuites as runtimeSupportedSuites,
} from './suites.js';

const endpointOptions = [
  'sessionId', 'localUsername', 'peerUsername', 'localFingerprint', 'peerFingerprint', 'sign', 'verify',
  'suite', 'supportedSuites', 'rekeyPolicy', 'maxRecordPlaintext', 'clock', 'testing',
];
const testingOptions = ['ephemeralKey', 'nonce', 'sasSecret', 'rekeyEphemeralKeys'];

/** Errors that come from the peer or the transport tear the channel down; argument errors do not. */
const nonFatalReasons = new Set(['invalid_argument', 'closed', 'compromised']);

export class SecureChannelEndpoint {
  #machine;
  #sessionId;
  #localUsername;
  #peerUsername;
  #localFingerprint;
  #peerFingerprint;
  #sign;
  #verify;
  #suite;
  #supportedSuites;
  #policy;
  #maxPlaintext;
  #clock;
  #testing;
  #queue = Promise.resolve();
  #pending = null; // handshake state between messages
  #send = null; // RecordDirectionState
  #receive = null;
  #pendingReceive = null; // answerer's next-epoch receive state, until the peer switches
  #rekeyRequest = null; // { epoch, privateKey, message } while this side awaits a response
  #epoch = 0;
  #epochStartedAt = 0;
  #recordsSent = 0;
  #recordsReceived = 0;
  #exporterKey = null;
  #rekeyChainKey = null;
  #sas = null;
  #secureWaiters;

  constructor(role, options) {
    checkOptions(role === Role.initiator ? 'createInitiator' : 'createResponder', options, endpointOptions,
      ['sessionId', 'localUsername', 'peerUsername', 'localFingerprint', 'peerFingerprint', 'sign', 'verify']);
    if (options.testing !== undefined) checkOptions('testing', options.testing, testingOptions);
    if (typeof options.sign !== 'function') throw new ChannelError('invalid_argument', 'sign must be a function');
    if (typeof options.verify !== 'function') throw new ChannelError('invalid_argument', 'verify must be a function');
    if (role === Role.responder && options.suite !== undefined) throw new ChannelError('invalid_argument', 'the responder takes supportedSuites, not suite');
    if (role === Role.initiator && options.supportedSuites !== undefined) throw new ChannelError('invalid_argument', 'the initiator takes suite, not supportedSuites');
    encodeSessionId(options.sessionId); // validates
    encodeUsername(options.localUsername, 'localUsername'); // validates (the server's username rule)
    encodeUsername(options.peerUsername, 'peerUsername');
    this.#machine = new ChannelStateMachine(role);
    this.#sessionId = options.sessionId;
    this.#localUsername = options.localUsername;
    this.#peerUsername = options.peerUsername;
    this.#localFingerprint = bytesFromOption('localFingerprint', options.localFingerprint);
    this.#peerFingerprint = bytesFromOption('peerFingerprint', options.peerFingerprint);
    for (const [name, fp] of [['localFingerprint', this.#localFingerprint], ['peerFingerprint', this.#peerFingerprint]]) {
      if (!Limits.fingerprintLengths.includes(fp.length)) throw new ChannelError('invalid_argument', `${name} must be 20 or 32 bytes`);
    }
    this.#sign = options.sign;
    this.#verify = options.verify;
    if (options.suite !== undefined && !isKnownSuite(options.suite)) throw new ChannelError('unsupported_suite', `suite ${options.suite}`);
    this.#suite = options.suite ?? null;
    if (options.supportedSuites !== undefined
        && (!Array.isArray(options.supportedSuites) || !options.supportedSuites.every(isKnownSuite))) {
      throw new ChannelError('invalid_argument', 'supportedSuites must list known suite ids');
    }
    this.#supportedSuites = options.supportedSuites ?? null;
    this.#policy = options.rekeyPolicy ?? createRekeyPolicy();
    if (typeof this.#policy !== 'function') throw new ChannelError('invalid_argument', 'rekeyPolicy must be a function');
    this.#maxPlaintext = options.maxRecordPlaintext ?? MAX_RECORD_PLAINTEXT;
    if (!Number.isInteger(this.#maxPlaintext) || this.#maxPlaintext < 1 || this.#maxPlaintext > MAX_RECORD_PLAINTEXT) {
      throw new ChannelError('invalid_argument', `maxRecordPlaintext must be 1..${MAX_RECORD_PLAINTEXT}`);
    }
    this.#clock = options.clock ?? (() => Date.now());
    this.#testing = options.testing ?? null;
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    promise.catch(() => {}); // observed through whenSecure(); avoid unhandled rejections
    this.#secureWaiters = { promise, resolve, reject };
  }

  get role() { return this.#machine.role; }
  get state() { return this.#machine.state; }
  get teardownReason() { return this.#machine.teardownReason; }
  get sessionId() { return this.#sessionId; }
  get localUsername() { return this.#localUsername; }
  get peerUsername() { return this.#peerUsername; }
  get suite() { return this.#suite; }
  get epoch() { return this.#epoch; }
  /** The SAS ({emoji, emojiText, decimal, decimalText}) once secure, else null. */
  get sas() { return this.#sas; }

  /** Resolves when the handshake reaches `secure`; rejects with the teardown error otherwise. */
  whenSecure() { return this.#secureWaiters.promise; }

  // ---- handshake --------------------------------------------------------------------------

  /** Initiator only: returns message 1. */
  start(options = {}) {
    return this.#run('Error starting handshake', async () => {
      checkOptions('start', options, []);
      this.#machine.check('start');
      if (this.#suite === null) this.#suite = await detectPreferredSuite();
      const { message, pending } = await createInitiatorHello({
        suite: this.#suite, sessionId: this.#sessionId,
        localUsername: this.#localUsername, peerUsername: this.#peerUsername,
        localFingerprint: this.#localFingerprint, peerFingerprint: this.#peerFingerprint,
        testing: this.#testing,
      });
      this.#pending = pending;
      this.#machine.apply('start');
      return message;
    });
  }

  /**
   * Feeds one handshake message. Returns { reply: Uint8Array | null, state }.
   * Responder: message 1 → reply message 2; message 3 → secure. Initiator: message 2 → reply
   * message 3 and secure.
   */
  receiveHandshake(options) {
    return this.#run('Error processing handshake message', async () => {
      checkOptions('receiveHandshake', options, ['message'], ['message']);
      const { message } = options;
      const type = peekHandshakeMessageType(message);
      const event = { [HandshakeMessageType.initiatorHello]: 'initiator_hello',
        [HandshakeMessageType.responderHello]: 'responder_hello',
        [HandshakeMessageType.initiatorFinish]: 'initiator_finish' }[type];
      this.#machine.check(event);
      let reply = null;
      if (event === 'initiator_hello') {
        const suites = this.#supportedSuites ?? await runtimeSupportedSuites();
        const result = await respondToInitiatorHello({
          message, sessionId: this.#sessionId, localUsername: this.#localUsername, peerUsername: this.#peerUsername,
          localFingerprint: this.#localFingerprint,
          peerFingerprint: this.#peerFingerprint, supportedSuites: suites, sign: this.#sign,
          testing: this.#testing,
        });
        this.#suite = result.pending.suite;
        this.#pending = result.pending;
        reply = result.message;
      } else if (event === 'responder_hello') {
        const result = await processResponderHello({ message, pending: this.#pending, sign: this.#sign, verify: this.#verify });
        this.#pending = null;
        await this.#installSession(result.session);
        reply = result.message;
      } else {
        const session = await processInitiatorFinish({ message, pending: this.#pending, verify: this.#verify });
        this.#pending = null;
        await this.#installSession(session);
      }
      this.#machine.apply(event);
      if (this.#machine.state === ChannelState.secure) this.#secureWaiters.resolve(this);
      return { reply, state: this.#machine.state };
    });
  }

  async #installSession(session) {
    const own = this.role === Role.initiator ? session.initiatorToResponder : session.responderToInitiator;
    const peer = this.role === Role.initiator ? session.responderToInitiator : session.initiatorToResponder;
    this.#send = await this.#directionState(own, this.#ownDirection(), 0);
    this.#receive = await this.#directionState(peer, this.#peerDirection(), 0);
    this.#exporterKey = session.exporterKey;
    this.#rekeyChainKey = session.rekeyChainKey;
    this.#sas = session.sas;
    this.#startEpoch(0);
  }

  async #directionState({ key, iv }, direction, epoch) {
    const state = new RecordDirectionState({ key: await importRecordKey(key), iv, direction, sessionId: this.#sessionId, epoch });
    zeroize(iv);
    return state;
  }

  #ownDirection() { return this.role === Role.initiator ? Direction.initiatorToResponder : Direction.responderToInitiator; }
  #peerDirection() { return this.role === Role.initiator ? Direction.responderToInitiator : Direction.initiatorToResponder; }

  #startEpoch(epoch) {
    this.#epoch = epoch;
    this.#epochStartedAt = this.#clock();
    this.#recordsSent = 0;
    this.#recordsReceived = 0;
  }

  // ---- records ----------------------------------------------------------------------------

  /** Encrypts application data into one record. */
  seal(options) {
    return this.#run('Error sealing record', () => this.#sealApplication('seal', RecordType.data, options));
  }

  /**
   * Encrypts a room sender key (docs/protocol.md "Room messages") into one record of type
   * sender_key. A separate method, not an option of seal(), so a caller that forwards page
   * text through seal() cannot produce this type by accident.
   */
  sealSenderKey(options) {
    return this.#run('Error sealing sender key', () => this.#sealApplication('sealSenderKey', RecordType.senderKey, options));
  }

  /**
   * Encrypts a call signal (docs/protocol.md "Call signalling": UTF-8 JSON) into one record of
   * type call. Its own method for the same reason as sealSenderKey: chat text forwarded through
   * seal() can never be read by the peer as call set-up.
   */
  sealCall(options) {
    return this.#run('Error sealing call signal', () => this.#sealApplication('sealCall', RecordType.call, options));
  }

  async #sealApplication(name, type, options) {
    checkOptions(name, options, ['plaintext'], ['plaintext']);
    if (!(options.plaintext instanceof Uint8Array)) throw new ChannelError('invalid_argument', 'plaintext must be a Uint8Array');
    if (options.plaintext.length > this.#maxPlaintext) throw new ChannelError('invalid_argument', `plaintext of ${options.plaintext.length} bytes exceeds ${this.#maxPlaintext}`);
    this.#machine.check('seal');
    this.#recordsSent++;
    return this.#send.seal(type, options.plaintext, this.#maxPlaintext);
  }

  /**
   * Decrypts one record. Returns
   *   { type: 'data', plaintext } |
   *   { type: 'sender_key', plaintext } (a room sender key; never shown as a message) |
   *   { type: 'call', plaintext } (a call signal; never shown as a message) |
   *   { type: 'rekey', reply: Uint8Array | null } (send `reply` to the peer when not null) |
   *   { type: 'close', closeCode }.
   * Any failure throws a ChannelError and leaves the channel `compromised`.
   */
  open(options) {
    return this.#run('Error opening record', async () => {
      checkOptions('open', options, ['record'], ['record']);
      this.#machine.check('open');
      const { record } = options;
      const peek = decodeRecord(record, { maxPlaintext: this.#maxPlaintext });
      if (this.#pendingReceive !== null && peek.epoch === this.#pendingReceive.epoch
          && peek.direction === this.#pendingReceive.direction && peek.sessionId === this.#sessionId) {
        // The peer switched to the new epoch: from now on the old receive key is useless.
        this.#receive.destroy();
        this.#receive = this.#pendingReceive;
        this.#pendingReceive = null;
      }
      const opened = await this.#receive.open(record, this.#maxPlaintext);
      this.#recordsReceived++;
      if (opened.type === RecordType.data) return { type: 'data', plaintext: opened.plaintext };
      if (opened.type === RecordType.senderKey) return { type: 'sender_key', plaintext: opened.plaintext };
      if (opened.type === RecordType.call) return { type: 'call', plaintext: opened.plaintext };
      if (opened.type === RecordType.close) {
        const close = decodeCloseMessage(opened.plaintext);
        this.#teardown('closed', `peer closed (${close.name})`);
        return { type: 'close', closeCode: close.name };
      }
      return this.#handleRekeyMessage(opened.plaintext);
    });
  }

  // ---- re-key -----------------------------------------------------------------------------

  /** Asks the caller's policy whether a re-key is due now (count or age of this epoch). */
  rekeyDue(options = {}) {
    checkOptions('rekeyDue', options, ['now']);
    if (this.#machine.state !== ChannelState.secure) return false;
    const now = options.now ?? this.#clock();
    return this.#policy({
      recordsSent: this.#recordsSent, recordsReceived: this.#recordsReceived,
      epochAgeMs: now - this.#epochStartedAt, epoch: this.#epoch,
    }) === true;
  }

  /** Starts a re-key: returns the request record to send. */
  startRekey(options = {}) {
    return this.#run('Error starting re-key', async () => {
      checkOptions('startRekey', options, []);
      this.#machine.check('rekey_start');
      if (this.#pendingReceive !== null) throw new ChannelError('invalid_argument', 're-key already in progress (peer has not switched yet)');
      const ephemeral = await this.#rekeyEphemeral();
      const message = encodeRekeyMessage({ kind: RekeyMessageKind.request, epoch: this.#epoch + 1, ephemeralPublicKey: ephemeral.publicKey });
      const record = await this.#send.seal(RecordType.rekey, message, this.#maxPlaintext);
      this.#rekeyRequest = { epoch: this.#epoch + 1, privateKey: ephemeral.privateKey, message };
      this.#machine.apply('rekey_start');
      return record;
    });
  }

  async #rekeyEphemeral() {
    const injected = this.#testing?.rekeyEphemeralKeys;
    if (injected && injected.length > 0) return importEphemeralKeyPairForTesting(this.#suite, injected.shift());
    return generateEphemeralKeyPair(this.#suite);
  }

  async #handleRekeyMessage(plaintext) {
    const rekey = decodeRekeyMessage(plaintext, { suite: this.#suite });
    if (rekey.epoch !== this.#epoch + 1) throw new ChannelError('rekey_error', `epoch ${rekey.epoch}, expected ${this.#epoch + 1}`);
    if (rekey.kind === RekeyMessageKind.request) {
      if (this.#rekeyRequest !== null) {
        // Simultaneous requests: the channel initiator's request wins.
        if (this.role === Role.initiator) return { type: 'rekey', reply: null };
        this.#rekeyRequest = null;
        this.#machine.apply('rekey_done');
      }
      if (this.#pendingReceive !== null) throw new ChannelError('rekey_error', 'request while the previous re-key is unfinished');
      const ephemeral = await this.#rekeyEphemeral();
      const response = encodeRekeyMessage({ kind: RekeyMessageKind.response, epoch: rekey.epoch, ephemeralPublicKey: ephemeral.publicKey });
      const next = await this.#deriveNextEpoch({
        privateKey: ephemeral.privateKey, peerPublicKey: rekey.ephemeralPublicKey,
        request: plaintext, response, epoch: rekey.epoch,
      });
      // The response is this side's last record of the old epoch; then its sending side moves on.
      const reply = await this.#send.seal(RecordType.rekey, response, this.#maxPlaintext);
      this.#send.destroy();
      this.#send = next.send;
      this.#pendingReceive = next.receive;
      this.#startEpoch(rekey.epoch);
      return { type: 'rekey', reply };
    }
    // response
    if (this.#rekeyRequest === null || this.#machine.state !== ChannelState.rekeying) {
      throw new ChannelError('rekey_error', 'response without a request');
    }
    const request = this.#rekeyRequest;
    this.#rekeyRequest = null;
    const next = await this.#deriveNextEpoch({
      privateKey: request.privateKey, peerPublicKey: rekey.ephemeralPublicKey,
      request: request.message, response: plaintext, epoch: rekey.epoch,
    });
    this.#send.destroy();
    this.#receive.destroy();
    this.#send = next.send;
    this.#receive = next.receive;
    this.#startEpoch(rekey.epoch);
    this.#machine.apply('rekey_done');
    return { type: 'rekey', reply: null };
  }

  async #deriveNextEpoch({ privateKey, peerPublicKey, request, response, epoch }) {
    const peerKey = await importPeerPublicKey(this.#suite, peerPublicKey);
    const sharedSecret = await deriveSharedSecret(this.#suite, privateKey, peerKey);
    let secrets;
    try {
      secrets = await deriveRekeySecrets({
        chainSecret: this.#rekeyChainKey, sharedSecret,
        rekeyTranscriptHash: await sha256(concatBytes(request, response)),
      });
    } finally {
      zeroize(sharedSecret);
    }
    try {
      const i2r = await deriveTrafficKeys(secrets.initiatorToResponderTrafficSecret);
      const r2i = await deriveTrafficKeys(secrets.responderToInitiatorTrafficSecret);
      const own = this.role === Role.initiator ? i2r : r2i;
      const peer = this.role === Role.initiator ? r2i : i2r;
      // The old chain and exporter keys are released here: epoch n's secrets cannot be
      // recomputed from epoch n+1's state (forward secrecy across re-keys).
      this.#rekeyChainKey = await importHmacKey(secrets.rekeyChainSecret);
      this.#exporterKey = await importHmacKey(secrets.exporterSecret);
      return {
        send: await this.#directionState(own, this.#ownDirection(), epoch),
        receive: await this.#directionState(peer, this.#peerDirection(), epoch),
      };
    } finally {
      zeroizeSecrets(secrets);
    }
  }

  // ---- exporter, close, teardown ----------------------------------------------------------

  /** RFC 8446 §7.5-style exporter over the current epoch's exporter secret. */
  exportKeyingMaterial(options) {
    return this.#run('Error exporting keying material', async () => {
      checkOptions('exportKeyingMaterial', options, ['label', 'context', 'length'], ['label', 'length']);
      if (this.#exporterKey === null || this.#machine.isTerminal) throw new ChannelError('closed', 'no exporter secret');
      if (typeof options.label !== 'string' || options.label.length === 0) throw new ChannelError('invalid_argument', 'label');
      const context = options.context ?? new Uint8Array(0);
      if (!(context instanceof Uint8Array)) throw new ChannelError('invalid_argument', 'context must be a Uint8Array');
      if (!Number.isInteger(options.length) || options.length < 1 || options.length > 255) throw new ChannelError('invalid_argument', 'length must be 1..255');
      return exportKeyingMaterial({ exporterSecret: this.#exporterKey, label: options.label, context, length: options.length });
    });
  }

  /** Orderly close: returns the close record to send; the keys are dropped afterwards. */
  close(options = {}) {
    return this.#run('Error closing channel', async () => {
      checkOptions('close', options, ['code']);
      const code = options.code ?? 'normal';
      if (!Object.hasOwn(CloseCode, code)) throw new ChannelError('invalid_argument', `close code ${code}`);
      this.#machine.check('close');
      const record = await this.#send.seal(RecordType.close, encodeCloseMessage(CloseCode[code]), this.#maxPlaintext);
      this.#teardown('closed', 'closed locally');
      return record;
    });
  }

  /** Local teardown without a record (timeouts, transport loss, user abort). */
  abort(options = {}) {
    checkOptions('abort', options, ['reason']);
    const reason = options.reason ?? 'closed';
    this.#teardown(reason === 'closed' ? 'closed' : 'compromised', reason);
  }

  /**
   * The transport ended. Without a close record first, that is a truncation: the peer (or the
   * relay) may have cut the conversation short, so the caller is told so.
   */
  transportEnded() {
    if (this.#machine.state === ChannelState.closed) return;
    this.#teardown('compromised', 'truncated');
    throw new ChannelError('truncated', 'transport ended before a close record');
  }

  #teardown(kind, reason) {
    if (kind === 'closed') this.#machine.close(reason);
    else this.#machine.compromise(reason);
    this.#send?.destroy();
    this.#receive?.destroy();
    this.#pendingReceive?.destroy();
    this.#send = this.#receive = this.#pendingReceive = null;
    this.#pending = null;
    this.#rekeyRequest = null;
    this.#exporterKey = null;
    this.#rekeyChainKey = null;
    this.#secureWaiters.reject(new ChannelError(kind === 'closed' ? 'closed' : 'compromised', reason));
  }

  /** Serializes `task` after every earlier call; peer-caused failures tear the channel down. */
  #run(context, task) {
    const result = this.#queue.then(task).catch((error) => {
      const reason = error instanceof ChannelError ? error.reason : 'malformed';
      if (!nonFatalReasons.has(reason) && !this.#machine.isTerminal) this.#teardown('compromised', reason);
      throw wrapError(context, error, 'malformed');
    });
    this.#queue = result.catch(() => {});
    return result;
  }
}

export function createInitiator(options) {
  try {
    return new SecureChannelEndpoint(Role.initiator, options);
  } catch (error) {
    throw wrapError('Error creating initiator', error, 'invalid_argument');
  }
}

export function createResponder(options) {
  try {
    return new SecureChannelEndpoint(Role.responder, options);
  } catch (error) {
    throw wrapError('Error creating responder', error, 'invalid_argument');
  }
}

/**
 * Handshake timeout: resolves with the endpoint once secure, or aborts it and rejects with
 * ChannelError('handshake_timeout') when `timeoutMs` passes first (e.g. a dropped Finished).
 */
export function awaitSecure(options) {
  checkOptions('awaitSecure', options, ['endpoint', 'timeoutMs'], ['endpoint', 'timeoutMs']);
  const { endpoint, timeoutMs } = options;
  if (!(endpoint instanceof SecureChannelEndpoint)) throw new ChannelError('invalid_argument', 'endpoint');
  if (!(timeoutMs > 0)) throw new ChannelError('invalid_argument', 'timeoutMs must be positive');
  if (endpoint.state === ChannelState.secure || endpoint.state === ChannelState.rekeying) return Promise.resolve(endpoint);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const stuckIn = endpoint.state;
      endpoint.abort({ reason: 'handshake_timeout' });
      reject(new ChannelError('handshake_timeout', `${endpoint.role} still in ${stuckIn} after ${timeoutMs} ms`));
    }, timeoutMs);
    endpoint.whenSecure().then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}
