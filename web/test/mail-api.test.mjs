import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailApi, MailApiError } from '../src/net/mail-api.js';

function fakeFetch(responder) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url, init });
    return responder(url, init);
  };
  return { fetch, requests };
}
const json = (status, body) => new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

test('JSON calls: same-origin, paths, query strings without empty fields', async () => {
  const { fetch, requests } = fakeFetch(() => json(200, { messages: [] }));
  const api = createMailApi({ fetch });
  await api.messages({ folder: 'INBOX', sort: 'date', offset: 0, limit: 50, q: '', from: 'a b' });
  assert.equal(requests[0].url, '/api/v1/mail/messages?folder=INBOX&sort=date&offset=0&limit=50&from=a+b');
  assert.equal(requests[0].init.credentials, 'same-origin');
  await api.renameFolder('A', 'B');
  assert.equal(requests[1].init.method, 'POST');
  assert.deepEqual(JSON.parse(requests[1].init.body), { path: 'A', new_path: 'B' });
});

test('raw uploads: message/rfc822 body; send repeats to= for every envelope recipient', async () => {
  const { fetch, requests } = fakeFetch(() => json(200, { sent: true, sent_uid: 3, refused: [] }));
  const api = createMailApi({ fetch });
  const raw = new Uint8Array([70, 111]);
  assert.equal((await api.send({ raw, to: ['a@x', 'b@y'], draftUid: 9 })).sent_uid, 3);
  assert.equal(requests[0].url, '/api/v1/mail/send?to=a%40x&to=b%40y&draft_uid=9');
  assert.equal(requests[0].init.headers['Content-Type'], 'message/rfc822');
  assert.equal(requests[0].init.body, raw);
  await api.append('Drafts', raw, ['\\Draft', '\\Seen']);
  assert.equal(requests[1].url, '/api/v1/mail/append?folder=Drafts&flags=%5CDraft%2C%5CSeen');
  assert.throws(() => api.send({ raw: 'text', to: ['a@x'] }), TypeError);
});

test('errors keep the server code and message; no answer → network; 204 → null', async () => {
  const api = createMailApi({ fetch: async (url) => (url.includes('empty') ? new Response(null, { status: 204 }) : json(422, { error: { code: 'unknown_recipient', message: 'no such user: z@localhost' } })) });
  assert.equal(await api.empty('Trash'), null);
  await assert.rejects(() => api.folders(), (error) => error instanceof MailApiError && error.code === 'unknown_recipient' && error.status === 422 && /z@localhost/.test(error.message));
  const down = createMailApi({ fetch: async () => { throw new TypeError('failed'); } });
  await assert.rejects(() => down.status(), (error) => error.code === 'network' && error.status === 0);
  const proxy = createMailApi({ fetch: async () => new Response('<html>', { status: 503 }) });
  await assert.rejects(() => proxy.status(), (error) => error.code === 'mail_unavailable');
});

test('rawMessage returns bytes and refuses an oversized body', async () => {
  const api = createMailApi({ fetch: async () => new Response(new Uint8Array([1, 2, 3]), { status: 200 }) });
  assert.deepEqual([...await api.rawMessage('INBOX', 4)], [1, 2, 3]);
  const big = createMailApi({ fetch: async () => new Response('x', { status: 200, headers: { 'Content-Length': String(50 * 1024 * 1024) } }) });
  await assert.rejects(() => big.rawMessage('INBOX', 4), (error) => error.code === 'too_large');
});

test('upload progress through XMLHttpRequest when asked', async () => {
  const progress = [];
  class FakeXhr {
    constructor() { this.upload = {}; this.headers = {}; }
    open(method, url) { this.method = method; this.url = url; }
    setRequestHeader(name, value) { this.headers[name] = value; }
    send(body) {
      this.upload.onprogress({ loaded: body.length / 2, total: body.length, lengthComputable: true });
      this.upload.onprogress({ loaded: body.length, total: body.length, lengthComputable: true });
      this.status = 201;
      this.responseText = '{"uid":5}';
      this.onload();
    }
  }
  const api = createMailApi({ fetch: async () => { throw new Error('not used'); }, XMLHttpRequest: FakeXhr });
  const answer = await api.append('Drafts', new Uint8Array(10), [], { onProgress: (sent, total) => progress.push([sent, total]) });
  assert.deepEqual(answer, { uid: 5 });
  assert.deepEqual(progress, [[5, 10], [10, 10]]);
});

test('a Blob message is uploaded as it is (fetch body, XHR body), progress against its size', async () => {
  const { fetch, requests } = fakeFetch(() => json(200, { sent: true, sent_uid: 4, refused: [] }));
  const api = createMailApi({ fetch });
  const raw = new Blob([new Uint8Array(7)], { type: 'message/rfc822' });
  assert.equal((await api.send({ raw, to: ['a@x'] })).sent_uid, 4);
  assert.equal(requests[0].init.body, raw, 'the Blob itself, not a copy of its bytes');
  const progress = [];
  const sent = [];
  class FakeXhr {
    constructor() { this.upload = {}; }
    open() {}
    setRequestHeader() {}
    send(body) {
      sent.push(body);
      this.upload.onprogress({ loaded: 3, lengthComputable: false });
      this.status = 200;
      this.responseText = '{"sent":true}';
      this.onload();
    }
  }
  const withProgress = createMailApi({ fetch: async () => { throw new Error('not used'); }, XMLHttpRequest: FakeXhr });
  await withProgress.send({ raw, to: ['a@x'], onProgress: (done, total) => progress.push([done, total]) });
  assert.equal(sent[0], raw);
  assert.deepEqual(progress, [[3, 7]]);
});
