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
