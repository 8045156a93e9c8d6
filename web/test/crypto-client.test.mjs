import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCryptoWorker, checkHealth, checkOptions, CryptoClientError } from '../src/crypto/crypto-client.js';

/** A Worker stand-in that runs the real worker's reply logic synchronously-ish. */
function fakeWorkerFactory({ reply = (request) => ({ type: 'health', ok: true, id: request.id }) } = {}) {
  const created = [];
  const factory = (url) => {
    const worker = {
      url,
      terminated: false,
      postMessage(request) {
        const answer = reply(request);
        if (answer) queueMicrotask(() => worker.onmessage?.({ data: answer }));
      },
      terminate() { this.terminated = true; },
    };
    created.push(worker);
    return worker;
  };
  return { factory, created };
}

test('openCryptoWorker starts the worker and checks health', async () => {
  const { factory, created } = fakeWorkerFactory();
  const connection = await openCryptoWorker({ url: '/assets/worker-ABC.js', workerFactory: factory });
  assert.equal(created[0].url, '/assets/worker-ABC.js');
  assert.equal(await checkHealth({ connection }), true);
  connection.terminate();
  assert.equal(created[0].terminated, true);
  await assert.rejects(connection.request({ type: 'health' }), /stopped/);
});

test('unknown options are rejected with the call name', async () => {
  await assert.rejects(openCryptoWorker({ url: '/w.js', workerUrl: '/w.js' }), /openCryptoWorker: unknown option "workerUrl"/);
  await assert.rejects(openCryptoWorker({}), /openCryptoWorker: missing option "url"/);
  await assert.rejects(openCryptoWorker('/w.js'), /openCryptoWorker: expected one options object/);
  await assert.rejects(openCryptoWorker(null), TypeError);
  await assert.rejects(openCryptoWorker([]), TypeError);
  await assert.rejects(openCryptoWorker({ url: 42 }), /"url" must be a string/);
  await assert.rejects(openCryptoWorker({ url: '/w.js', timeoutMs: -1 }), /"timeoutMs"/);
  await assert.rejects(checkHealth({ connection: {}, extra: 1 }), /checkHealth: unknown option "extra"/);
  await assert.rejects(checkHealth({}), /checkHealth: missing option "connection"/);
  const { factory } = fakeWorkerFactory();
  const connection = await openCryptoWorker({ url: '/w.js', workerFactory: factory });
  assert.throws(() => connection.request({ type: 'health', keys: [] }), /request: unknown option "keys"/);
  connection.terminate();
});

test('checkOptions accepts exactly the allowed names', () => {
  assert.doesNotThrow(() => checkOptions('f', { a: 1 }, ['a', 'b']));
  assert.throws(() => checkOptions('f', { c: 1 }, ['a']), TypeError);
  assert.throws(() => checkOptions('f', { a: undefined }, ['a'], ['a']), /missing option "a"/);
});

test('an unhealthy answer, a refusal and silence all reject and stop the worker', async () => {
  const unhealthy = fakeWorkerFactory({ reply: (r) => ({ type: 'health', ok: false, id: r.id }) });
  await assert.rejects(openCryptoWorker({ url: '/w.js', workerFactory: unhealthy.factory }), CryptoClientError);
  assert.equal(unhealthy.created[0].terminated, true);

  const refusing = fakeWorkerFactory({ reply: (r) => ({ type: 'error', error: { code: 'unknown_type' }, id: r.id }) });
  await assert.rejects(openCryptoWorker({ url: '/w.js', workerFactory: refusing.factory }), /health: the worker refused \(unknown_type\)/);

  const silent = fakeWorkerFactory({ reply: () => null });
  await assert.rejects(openCryptoWorker({ url: '/w.js', workerFactory: silent.factory, timeoutMs: 20 }), /no answer from the crypto worker within 20 ms/);
  assert.equal(silent.created[0].terminated, true);
});

test('a worker that cannot start is reported with context', async () => {
  const error = await openCryptoWorker({ url: '/w.js', workerFactory: () => { throw new Error('boom'); } }).catch((e) => e);
  assert.ok(error instanceof CryptoClientError);
  assert.match(error.message, /could not be started/);
  assert.equal(error.cause.message, 'boom');
});

test('the worker module answers health and refuses unknown types', async () => {
  // Load worker.js with a minimal `self` so its real message handler is exercised.
  const posted = [];
  let listener;
  globalThis.self = {
    addEventListener: (type, fn) => { if (type === 'message') listener = fn; },
    postMessage: (message) => posted.push(message),
  };
  try {
    await import('../src/crypto/worker.js');
    listener({ data: { type: 'health' } });
    listener({ data: { id: 7, type: 'health' } });
    listener({ data: { id: 8, type: 'sign', payload: 'x' } });
    listener({ data: 'garbage' });
  } finally {
    delete globalThis.self;
  }
  assert.deepEqual(posted[0], { type: 'health', ok: true });
  assert.deepEqual(posted[1], { type: 'health', ok: true, id: 7 });
  assert.equal(posted[2].type, 'error');
  assert.equal(posted[2].error.code, 'unknown_type');
  assert.equal(posted[2].id, 8);
  assert.equal(posted[3].type, 'error');
});

// ---- call media: the Worker object stays inside the façade ---------------------------------

const mediaOptions = { session: 'ab'.repeat(16), call: '0123456789abcdef0123456789abcdef', direction: 'send', kind: 'video' };

/** A worker stand-in that records every postMessage with its transfer list. */
function recordingWorkerFactory() {
  const posts = [];
  let worker;
  const factory = () => {
    worker = {
      postMessage(message, transfer) {
        posts.push({ message, transfer });
        const answer = message.type === 'health' ? { type: 'health', ok: true, id: message.id } : { type: message.type, attached: true, id: message.id };
        queueMicrotask(() => worker.onmessage?.({ data: answer }));
      },
      terminate() {},
    };
    return worker;
  };
  return { factory, posts, worker: () => worker };
}

test('createScriptTransform builds an RTCRtpScriptTransform on the crypto Worker with exactly the media options', async () => {
  const made = [];
  globalThis.RTCRtpScriptTransform = class { constructor(worker, options) { made.push({ worker, options }); } };
  try {
    const fake = recordingWorkerFactory();
    const connection = await openCryptoWorker({ url: '/w.js', workerFactory: fake.factory });
    const transform = connection.createScriptTransform({ ...mediaOptions });
    assert.ok(transform instanceof globalThis.RTCRtpScriptTransform);
    assert.equal(made.length, 1);
    assert.equal(made[0].worker, fake.worker(), 'the transform runs in the crypto Worker');
    assert.deepEqual(made[0].options, mediaOptions);
    assert.equal(Object.hasOwn(connection, 'worker'), false, 'the Worker object is not exposed');
    for (const bad of [
      { ...mediaOptions, key: 'x' }, { ...mediaOptions, call: 'ABCDEF'.repeat(6).slice(0, 32) }, { ...mediaOptions, call: '01' },
      { ...mediaOptions, direction: 'both' }, { ...mediaOptions, kind: 'screen' }, { ...mediaOptions, session: '' },
      { session: mediaOptions.session, call: mediaOptions.call, direction: 'send' }, null,
    ]) {
      assert.throws(() => connection.createScriptTransform(bad), TypeError, JSON.stringify(bad));
    }
    assert.equal(made.length, 1);
    connection.terminate();
    assert.throws(() => connection.createScriptTransform({ ...mediaOptions }), /stopped/);
  } finally {
    delete globalThis.RTCRtpScriptTransform;
  }
});

test('createScriptTransform says so when the browser has no RTCRtpScriptTransform', async () => {
  const connection = await openCryptoWorker({ url: '/w.js', workerFactory: recordingWorkerFactory().factory });
  assert.throws(() => connection.createScriptTransform({ ...mediaOptions }), (e) => e instanceof CryptoClientError && /no RTCRtpScriptTransform/.test(e.message));
  connection.terminate();
});

test('attachEncodedStreams moves both streams to the Worker as call.encoded_streams', async () => {
  const fake = recordingWorkerFactory();
  const connection = await openCryptoWorker({ url: '/w.js', workerFactory: fake.factory });
  const readable = new ReadableStream();
  const writable = new WritableStream();
  const reply = await connection.attachEncodedStreams({ readable, writable, options: { ...mediaOptions, direction: 'receive', kind: 'audio' } });
  assert.equal(reply.attached, true);
  const post = fake.posts.find((p) => p.message.type === 'call.encoded_streams');
  assert.deepEqual(post.message.payload, { readable, writable, options: { ...mediaOptions, direction: 'receive', kind: 'audio' } });
  assert.deepEqual(post.transfer, [readable, writable], 'transferred, not copied');
  assert.throws(() => connection.attachEncodedStreams({ readable, writable }), /missing option "options"/);
  assert.throws(() => connection.attachEncodedStreams({ readable, writable, options: { ...mediaOptions, extra: 1 } }), /unknown option "extra"/);
  assert.throws(() => connection.attachEncodedStreams({ readable: {}, writable, options: mediaOptions }), /must be streams/);
  assert.equal(fake.posts.filter((p) => p.message.type === 'call.encoded_streams').length, 1);
  connection.terminate();
});
