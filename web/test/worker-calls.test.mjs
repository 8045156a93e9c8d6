// The crypto Worker's call requests (web/src/crypto/worker.js): payload allow-lists, error
// codes only, media stats without key material, and the rtctransform entry point refusing
// streams whose options are not exactly {session, call, direction, kind}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCryptoWorker } from './helpers/worker-harness.mjs';

const { worker, request, within, lastRequestId } = await loadCryptoWorker();

const call = '0123456789abcdef0123456789abcdef';
const session = 'ab'.repeat(16);

test('call.send takes exactly {session, signal} and refuses an unknown session with a code only', async () => {
  assert.equal((await request('call.send', { session, signal: '{}', extra: 1 })).error?.code, 'invalid_request');
  const unknown = await request('call.send', { session, signal: '{"v":1}' });
  assert.equal(unknown.type, 'error');
  assert.equal(unknown.error.code, 'invalid_argument');
  assert.equal(unknown.error.message, 'ChannelError', 'no message text crosses the boundary');
});

test('call.media_stats answers the counters of a call (no keys), call.media_end ends it; both check the call id', async () => {
  const stats = await request('call.media_stats', { call });
  assert.equal(stats.type, 'call.media_stats');
  assert.deepEqual(Object.keys(stats.stats).sort(), ['call', 'keyId', 'receive', 'receiveActive', 'send', 'sendActive']);
  assert.equal(stats.stats.call, call);
  assert.equal(stats.stats.sendActive, false);
  assert.deepEqual(await request('call.media_end', { call }), { type: 'call.media_end', call, id: lastRequestId() });
  for (const bad of [{ call: call.toUpperCase() }, { call: 'x' }, { call, session }, {}]) {
    assert.equal((await request('call.media_stats', bad)).error?.code, 'invalid_request', JSON.stringify(bad));
    assert.equal((await request('call.media_end', bad)).error?.code, 'invalid_request', JSON.stringify(bad));
  }
});

test('call.encoded_streams needs two streams and exactly the media options', async () => {
  const options = { session, call: 'fedcba9876543210fedcba9876543210', direction: 'receive', kind: 'audio' };
  assert.equal((await request('call.encoded_streams', { readable: {}, writable: new WritableStream(), options })).error?.code, 'invalid_request');
  assert.equal((await request('call.encoded_streams', { readable: new ReadableStream(), writable: new WritableStream(), options: { ...options, key: 'x' } })).error?.code, 'invalid_request');
  assert.equal((await request('call.encoded_streams', { readable: new ReadableStream(), writable: new WritableStream(), options: { ...options, call: 'nope' } })).error?.code, 'invalid_request');
  const readable = new ReadableStream();
  const writable = new WritableStream();
  const reply = await request('call.encoded_streams', { readable, writable, options });
  assert.equal(reply.attached, true);
  assert.equal(readable.locked, true, 'the media transform now reads the frames');
});

test('rtctransform: the transformer\'s streams are piped through the media transforms; bad options leave nothing connected', async () => {
  assert.equal(typeof worker.onrtctransform, 'function');
  const good = { readable: new ReadableStream(), writable: new WritableStream(), options: { session, call: '11'.repeat(16), direction: 'send', kind: 'video' } };
  worker.onrtctransform({ transformer: good });
  assert.equal(good.readable.locked, true);
  let cancelled;
  const cancel = new Promise((resolve) => { cancelled = resolve; });
  const bad = {
    readable: new ReadableStream({ cancel() { cancelled(true); } }),
    writable: new WritableStream(),
    options: { session, call: '22'.repeat(16), direction: 'send', kind: 'video', extra: true },
  };
  worker.onrtctransform({ transformer: bad });
  assert.equal(await within(cancel, 'cancel of the refused frames'), true, 'refused: the frames are cancelled, never passed through');
  assert.equal(bad.writable.locked, false);
});
