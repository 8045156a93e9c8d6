// The lazy-chunk loader (web/src/sip/lazy-chunk.js) with a fake document: a modulepreload link
// with the chunk's hash is inserted and awaited; the import() runs only after every chunk
// loaded; a refused chunk (integrity or network) or a malformed hash list never imports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importVerified, preloadVerified } from '../src/sip/lazy-chunk.js';

const integrity = `sha384-${'A'.repeat(64)}`;

function fakeDocument(outcome) {
  const links = [];
  return {
    links,
    createElement: (name) => {
      const listeners = {};
      return { name, addEventListener: (type, fn) => { listeners[type] = fn; }, fire: (type) => listeners[type]?.() };
    },
    head: { append: (link) => { links.push(link); queueMicrotask(() => link.fire(outcome(link))); } },
  };
}

test('the chunk is preloaded with its hash, then imported', async () => {
  const doc = fakeDocument(() => 'load');
  let imported = 0;
  const module = await importVerified([{ href: '/assets/chunk-sip-phone-ABC.js', integrity }], () => { imported += 1; return { ok: true }; }, doc);
  assert.deepEqual(module, { ok: true });
  assert.equal(imported, 1);
  const [link] = doc.links;
  assert.equal(link.name, 'link');
  assert.equal(link.rel, 'modulepreload');
  assert.equal(link.href, '/assets/chunk-sip-phone-ABC.js');
  assert.equal(link.integrity, integrity);
  assert.equal(link.crossOrigin, 'anonymous');
});

test('a refused chunk, or any of its chunks, is never imported', async () => {
  const doc = fakeDocument((link) => (link.href.includes('bad') ? 'error' : 'load'));
  let imported = 0;
  const chunks = [{ href: '/assets/chunk-sip-phone-ABC.js', integrity }, { href: '/assets/chunk-bad-XYZ.js', integrity }];
  const tampered = { fetchImpl: async () => new Response('alert(1)'), subtle: crypto.subtle };
  await assert.rejects(importVerified(chunks, () => { imported += 1; }, doc, tampered), { code: 'chunk_integrity' });
  assert.equal(imported, 0);
});

test('a chunk the network failed to deliver is reported as unavailable, not as tampered', async () => {
  const good = 'export const phone = 1;\n';
  const goodIntegrity = `sha384-${Buffer.from(await crypto.subtle.digest('SHA-384', new TextEncoder().encode(good))).toString('base64')}`;
  const chunks = [{ href: '/assets/chunk-sip-phone-ABC.js', integrity: goodIntegrity }];
  const cases = [
    ['404', async () => new Response('not found', { status: 404 }), 'chunk_unavailable'],
    ['connection reset', async () => { throw new TypeError('Failed to fetch'); }, 'chunk_unavailable'],
    ['good bytes now (the first fetch failed on the way)', async () => new Response(good), 'chunk_unavailable'],
    ['other bytes', async () => new Response(`${good}steal();\n`), 'chunk_integrity'],
  ];
  for (const [what, fetchImpl, code] of cases) {
    const doc = fakeDocument(() => 'error');
    let imported = 0;
    const fetched = [];
    const env = { fetchImpl: (href, options) => { fetched.push([href, options]); return fetchImpl(); }, subtle: crypto.subtle };
    await assert.rejects(importVerified(chunks, () => { imported += 1; }, doc, env), { code }, what);
    assert.equal(imported, 0, what);
    assert.deepEqual(fetched.map(([href]) => href), ['/assets/chunk-sip-phone-ABC.js'], what);
    assert.equal(fetched[0][1].cache, 'no-store', what);
  }
});

test('no hash, a malformed hash or a foreign path is refused before any fetch', async () => {
  const doc = fakeDocument(() => 'load');
  for (const chunks of [undefined, [], [{ href: '/assets/chunk-a.js', integrity: 'sha256-x' }], [{ href: 'https://cdn.example/chunk.js', integrity }], [{ href: '/assets/../x.js', integrity }]]) {
    await assert.rejects(preloadVerified(chunks, doc), { code: 'chunk_integrity' }, JSON.stringify(chunks));
  }
  assert.equal(doc.links.length, 0);
});
