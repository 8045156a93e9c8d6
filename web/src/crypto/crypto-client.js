// Page-side façade of the crypto Worker (DESIGN.md §10 #7, #9): async functions taking one
// options object; unknown options are rejected; errors say which call failed. The page
// holds only this handle, never key material.

export class CryptoClientError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'CryptoClientError';
  }
}

/** Throws a TypeError naming the call when options is not a plain object or has unknown keys. */
export function checkOptions(callName, options, allowedNames, requiredNames = []) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${callName}: expected one options object`);
  }
  for (const name of Object.keys(options)) {
    if (!allowedNames.includes(name)) throw new TypeError(`${callName}: unknown option "${name}"`);
  }
  for (const name of requiredNames) {
    if (options[name] === undefined) throw new TypeError(`${callName}: missing option "${name}"`);
  }
}

let workerUrlPolicy = null;

// Under `require-trusted-types-for 'script'` the Worker constructor only takes a
// TrustedScriptURL. The policy admits exactly one shape: a same-origin path under
// /assets/ ending in .js, i.e. the hashed bundle the build produced.
function trustedWorkerUrl(url) {
  if (!globalThis.trustedTypes?.createPolicy) return url;
  workerUrlPolicy ??= globalThis.trustedTypes.createPolicy('secms-crypto-worker', {
    createScriptURL(candidate) {
      if (/^\/assets\/[A-Za-z0-9_-]+\.js$/.test(candidate)) return candidate;
      throw new TypeError('crypto worker URL refused by the Trusted Types policy');
    },
  });
  return workerUrlPolicy.createScriptURL(url);
}

function defaultWorkerFactory(url) {
  return new Worker(trustedWorkerUrl(url), { type: 'module', name: 'secms-crypto' });
}

/**
 * Starts the crypto worker and checks it answers.
 * Options: { url (string, required), timeoutMs = 5000, workerFactory(url) → Worker-like,
 *            onEvent(message) for what the worker sends unasked (relay frames, channel states) }.
 * Resolves to a connection { request(options), createScriptTransform(options),
 * attachEncodedStreams(options), terminate() }.
 */
export async function openCryptoWorker(options) {
  checkOptions('openCryptoWorker', options, ['url', 'timeoutMs', 'workerFactory', 'onEvent'], ['url']);
  const { url, timeoutMs = 5000, workerFactory = defaultWorkerFactory, onEvent = () => {} } = options;
  if (typeof url !== 'string') throw new TypeError('openCryptoWorker: "url" must be a string');
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError('openCryptoWorker: "timeoutMs" must be a positive number');

  let worker;
  try {
    worker = workerFactory(url);
  } catch (cause) {
    throw new CryptoClientError('openCryptoWorker: the worker could not be started', { cause });
  }
  if (typeof onEvent !== 'function') throw new TypeError('openCryptoWorker: "onEvent" must be a function');
  const connection = createConnection(worker, timeoutMs, onEvent);
  try {
    await checkHealth({ connection });
  } catch (cause) {
    connection.terminate();
    throw cause;
  }
  return connection;
}

function createConnection(worker, timeoutMs, onEvent) {
  const pending = new Map();
  let nextId = 1;
  let terminated = false;

  function failAll(error) {
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    pending.clear();
  }

  worker.onmessage = (event) => {
    const reply = event.data;
    if (reply && typeof reply === 'object' && reply.id === undefined && typeof reply.type === 'string') {
      onEvent(reply);
      return;
    }
    const entry = reply && pending.get(reply.id);
    if (!entry) return;
    pending.delete(reply.id);
    clearTimeout(entry.timer);
    if (reply.type === 'error') {
      const error = new CryptoClientError(`${entry.type}: the worker refused (${reply.error?.code ?? 'unknown'})`);
      error.code = reply.error?.code ?? 'unknown';
      if (typeof reply.error?.reason === 'string') error.reason = reply.error.reason; // mail.decrypt: why
      if (Number.isInteger(reply.error?.index)) error.index = reply.error.index;      // mail.encrypt: which key
      entry.reject(error);
    } else {
      entry.resolve(reply);
    }
  };
  worker.onerror = () => failAll(new CryptoClientError('crypto worker failed'));

  /**
   * Sends one typed request: { type, payload?, transfer? (ArrayBuffers moved, not copied),
   * timeoutMs? (slow work such as key generation) } → the worker's reply object.
   */
  function request(options) {
    checkOptions('request', options, ['type', 'payload', 'transfer', 'timeoutMs'], ['type']);
    if (terminated) return Promise.reject(new CryptoClientError(`${options.type}: the crypto worker is stopped`));
    const id = nextId++;
    const limitMs = options.timeoutMs ?? timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new CryptoClientError(`${options.type}: no answer from the crypto worker within ${limitMs} ms`));
      }, limitMs);
      pending.set(id, { resolve, reject, timer, type: options.type });
      worker.postMessage({ id, type: options.type, ...(options.payload === undefined ? {} : { payload: options.payload }) }, options.transfer ?? []);
    });
  }

  /**
   * Call media (docs/protocol.md "Media encryption (SFrame)"): an RTCRtpScriptTransform whose
   * frames the crypto Worker encrypts or decrypts, so media keys stay in the Worker and the
   * Worker object never leaves this façade.
   * Options: { session, call (32 lower-case hex), direction: 'send'|'receive', kind: 'audio'|'video' }.
   */
  function createScriptTransform(options) {
    checkMediaOptions('createScriptTransform', options);
    if (terminated) throw new CryptoClientError('createScriptTransform: the crypto worker is stopped');
    const Transform = globalThis.RTCRtpScriptTransform;
    if (typeof Transform !== 'function') throw new CryptoClientError('createScriptTransform: this browser has no RTCRtpScriptTransform');
    const { session, call, direction, kind } = options;
    return new Transform(worker, { session, call, direction, kind });
  }

  /**
   * The same for browsers that only have createEncodedStreams(): the two streams are moved to
   * the Worker. Options: { readable, writable, options: as createScriptTransform's }.
   */
  function attachEncodedStreams(options) {
    checkOptions('attachEncodedStreams', options, ['readable', 'writable', 'options'], ['readable', 'writable', 'options']);
    checkMediaOptions('attachEncodedStreams', options.options);
    const { readable, writable } = options;
    if (!(readable instanceof ReadableStream) || !(writable instanceof WritableStream)) {
      throw new TypeError('attachEncodedStreams: "readable" and "writable" must be streams');
    }
    const { session, call, direction, kind } = options.options;
    return request({ type: 'call.encoded_streams', payload: { readable, writable, options: { session, call, direction, kind } }, transfer: [readable, writable] });
  }

  function terminate() {
    if (terminated) return;
    terminated = true;
    worker.terminate();
    failAll(new CryptoClientError('the crypto worker was stopped'));
  }

  return Object.freeze({ request, createScriptTransform, attachEncodedStreams, terminate, get terminated() { return terminated; } });
}

const MEDIA_DIRECTIONS = ['send', 'receive'];
const MEDIA_KINDS = ['audio', 'video'];

function checkMediaOptions(callName, options) {
  checkOptions(callName, options, ['session', 'call', 'direction', 'kind'], ['session', 'call', 'direction', 'kind']);
  if (typeof options.session !== 'string' || options.session.length === 0) throw new TypeError(`${callName}: "session" must be a string`);
  if (typeof options.call !== 'string' || !/^[0-9a-f]{32}$/.test(options.call)) throw new TypeError(`${callName}: "call" must be 32 lower-case hex digits`);
  if (!MEDIA_DIRECTIONS.includes(options.direction)) throw new TypeError(`${callName}: "direction" must be 'send' or 'receive'`);
  if (!MEDIA_KINDS.includes(options.kind)) throw new TypeError(`${callName}: "kind" must be 'audio' or 'video'`);
}

/** Asks the worker for { type:'health' }; resolves true, or rejects with context. */
export async function checkHealth(options) {
  checkOptions('checkHealth', options, ['connection'], ['connection']);
  const reply = await options.connection.request({ type: 'health' });
  if (reply.type !== 'health' || reply.ok !== true) {
    throw new CryptoClientError('checkHealth: the crypto worker answered but is not healthy');
  }
  return true;
}

// ---- OpenPGP mail (docs/protocol.md "Email (OpenPGP)") ------------------------------------
// Big messages: the Worker posts {type:'mail.progress', job, done, total} events (onEvent).
// The Worker's answer time grows with the message (OpenPGP.js runs at a few MiB/s on a slow
// machine, and a request may wait behind another big one): a base for the key work and the
// queue, plus a share per MiB, so a 25 MiB message is not cut off and a stuck small request
// is not waited on for minutes.
const MAIL_TIMEOUT_BASE_MS = 30_000;
const MAIL_TIMEOUT_PER_MIB_MS = 2_000;

/** The answer time allowed for a mail.* request carrying `bytes` of data. */
export function mailTimeoutMs(bytes) {
  const size = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  return MAIL_TIMEOUT_BASE_MS + Math.ceil((size / (1024 * 1024)) * MAIL_TIMEOUT_PER_MIB_MS);
}

const sizeOf = (value) => (typeof value === 'string' || value instanceof Uint8Array ? value.length : 0);

function checkMailBytes(callName, name, value, allowString = false) {
  if (value instanceof Uint8Array || (allowString && typeof value === 'string')) return;
  throw new TypeError(`${callName}: "${name}" must be a Uint8Array${allowString ? ' or a string' : ''}`);
}

function checkKeyList(callName, name, value) {
  if (value !== undefined && !(Array.isArray(value) && value.every((key) => typeof key === 'string'))) {
    throw new TypeError(`${callName}: "${name}" must be a list of armored public keys`);
  }
}

/**
 * Encrypts (and signs) the inner MIME entity of a PGP/MIME message to the recipients' keys and
 * the own key. Options: { connection, data: Uint8Array, recipientKeys: [armored], sign: bool,
 * job? (names the progress events), output?: 'armored' | 'crlf-bytes' } → { armored } or, for
 * 'crlf-bytes', { armoredBytes } (the armor as CRLF ASCII bytes made in the Worker, its buffer
 * moved here). The data's buffer is moved to the Worker (the caller must not use `data` afterwards).
 */
export async function mailEncrypt(options) {
  checkOptions('mailEncrypt', options, ['connection', 'data', 'recipientKeys', 'sign', 'job', 'output'], ['connection', 'data', 'recipientKeys']);
  const { connection, data, recipientKeys, sign = true, job, output } = options;
  if (output !== undefined && output !== 'armored' && output !== 'crlf-bytes' && output !== 'blob') throw new TypeError('mailEncrypt: "output" must be \'armored\', \'crlf-bytes\' or \'blob\'');
  // A Blob (a message with a large attachment) is cloned by reference: the Worker streams it.
  const blob = data instanceof Blob;
  if (!blob) checkMailBytes('mailEncrypt', 'data', data);
  checkKeyList('mailEncrypt', 'recipientKeys', recipientKeys);
  const payload = { data, recipientKeys, sign, ...(job === undefined ? {} : { job }), ...(output === undefined ? {} : { output }) };
  // Moved rather than copied only when the view is its whole buffer (nothing else shares it).
  const whole = !blob && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const reply = await connection.request({ type: 'mail.encrypt', payload, transfer: whole ? [data.buffer] : [], timeoutMs: mailTimeoutMs(blob ? data.size : data.byteLength) });
  if (reply.armoredBlob instanceof Blob) return { armoredBlob: reply.armoredBlob };
  return reply.armoredBytes instanceof Uint8Array ? { armoredBytes: reply.armoredBytes } : { armored: reply.armored };
}

/** Detached signature over the canonical bytes of a multipart/signed part: { connection, data } → { armoredSignature, micalg }. */
export async function mailSign(options) {
  checkOptions('mailSign', options, ['connection', 'data'], ['connection', 'data']);
  const blob = options.data instanceof Blob;   // a Blob is streamed through the signature in the Worker
  if (!blob) checkMailBytes('mailSign', 'data', options.data);
  const { armoredSignature, micalg } = await options.connection.request({ type: 'mail.sign', payload: { data: options.data }, timeoutMs: mailTimeoutMs(blob ? options.data.size : options.data.byteLength) });
  return { armoredSignature, micalg };
}

/**
 * { connection, data: Uint8Array|string (armored), verificationKeys: [armored], job? } →
 * { data: Uint8Array, signatures }. Failure: error.code 'decrypt_failed', error.reason
 * 'not_for_me'|'corrupt'|'no_key'|'locked'.
 */
export async function mailDecrypt(options) {
  checkOptions('mailDecrypt', options, ['connection', 'data', 'verificationKeys', 'job'], ['connection', 'data']);
  const { connection, data, verificationKeys = [], job } = options;
  checkMailBytes('mailDecrypt', 'data', data, true);
  checkKeyList('mailDecrypt', 'verificationKeys', verificationKeys);
  const reply = await connection.request({
    type: 'mail.decrypt', payload: { data, verificationKeys, ...(job === undefined ? {} : { job }) }, timeoutMs: mailTimeoutMs(sizeOf(data)),
  });
  return { data: reply.data, signatures: reply.signatures };
}

/**
 * { connection, data, signature (armored or binary), verificationKeys } → { signatures }; or
 * { connection, cleartext (inline "BEGIN PGP SIGNED MESSAGE"), verificationKeys } → { signatures, text }.
 */
export async function mailVerify(options) {
  checkOptions('mailVerify', options, ['connection', 'data', 'signature', 'cleartext', 'verificationKeys'], ['connection']);
  const { connection, data, signature, cleartext, verificationKeys = [] } = options;
  checkKeyList('mailVerify', 'verificationKeys', verificationKeys);
  if (cleartext !== undefined) {
    if (typeof cleartext !== 'string') throw new TypeError('mailVerify: "cleartext" must be a string');
    const reply = await connection.request({ type: 'mail.verify', payload: { cleartext, verificationKeys }, timeoutMs: mailTimeoutMs(cleartext.length) });
    return { signatures: reply.signatures, text: reply.text };
  }
  checkMailBytes('mailVerify', 'data', data);
  checkMailBytes('mailVerify', 'signature', signature, true);
  const reply = await connection.request({ type: 'mail.verify', payload: { data, signature, verificationKeys }, timeoutMs: mailTimeoutMs(data.length + sizeOf(signature)) });
  return { signatures: reply.signatures };
}
