// Subresource Integrity for code loaded on demand (DESIGN.md §8: SRI on every script). import()
// has no `integrity`, and a content hash in a file name is no check. So before the first
// import() of a lazy chunk, the page inserts <link rel="modulepreload" integrity=…> for the chunk
// and each chunk it imports: the browser fetches and checks them and keeps the result in its
// module map, which the import() then uses without fetching again. A chunk whose bytes do not
// match is refused there, never run, and the import() is not attempted. The hashes come from
// the build (web/build.mjs), inside the app bundle that is itself loaded under SRI.

//
// A link's error event says the same for a network failure (404, reset connection) and for bytes
// that do not match. So that a user or operator is not sent looking for tampering when the
// network failed, the page then fetches the chunk once more (as data: nothing of it runs) and
// compares its hash: 'chunk_integrity' when the bytes differ, 'chunk_unavailable' when they
// could not be fetched or match (the first fetch failed on the way).

class LazyChunkError extends Error {
  constructor(href, code = 'chunk_integrity') {
    super(`lazy chunk not loaded (${code}): ${href}`);
    this.name = 'LazyChunkError';
    this.code = code;
  }
}

const chunkPathPattern = /^\/assets\/[A-Za-z0-9_-]+\.js$/;
const integrityPattern = /^sha384-[A-Za-z0-9+/]{64}$/;

function base64Of(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
}

/** Why the chunk at `href` failed to load: 'chunk_integrity' or 'chunk_unavailable'. */
export async function diagnoseChunkFailure(href, integrity, { fetchImpl = globalThis.fetch?.bind(globalThis), subtle = globalThis.crypto?.subtle } = {}) {
  if (!fetchImpl || !subtle) return 'chunk_integrity';
  let bytes;
  try {
    const response = await fetchImpl(href, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) return 'chunk_unavailable';
    bytes = await response.arrayBuffer();
  } catch {
    return 'chunk_unavailable';
  }
  const digest = await subtle.digest('SHA-384', bytes);
  return `sha384-${base64Of(digest)}` === integrity ? 'chunk_unavailable' : 'chunk_integrity';
}

/**
 * Fetches and checks `chunks` ([{ href, integrity }]) through modulepreload links; resolves
 * once every one loaded and matched, rejects { code: 'chunk_integrity' } when a chunk's bytes
 * do not match (or the list is malformed), { code: 'chunk_unavailable' } when a chunk could not
 * be fetched. `env` ({ fetchImpl, subtle }) is for the tests.
 */
export function preloadVerified(chunks, doc = document, env = {}) {
  if (!Array.isArray(chunks) || chunks.length === 0) return Promise.reject(new LazyChunkError('(none known)'));
  return Promise.all(chunks.map(({ href, integrity }) => {
    if (!chunkPathPattern.test(String(href)) || !integrityPattern.test(String(integrity))) return Promise.reject(new LazyChunkError(String(href)));
    return new Promise((resolve, reject) => {
      const link = doc.createElement('link');
      link.rel = 'modulepreload';
      link.crossOrigin = 'anonymous';   // as import() fetches a module: CORS mode, same-origin credentials
      link.integrity = integrity;
      link.href = href;
      link.addEventListener('load', () => resolve(), { once: true });
      link.addEventListener('error', () => {
        diagnoseChunkFailure(href, integrity, env)
          .catch(() => 'chunk_integrity')
          .then((code) => reject(new LazyChunkError(href, code)));
      }, { once: true });
      doc.head.append(link);
    });
  }));
}

/** Runs `load` (a static import() of the chunk's module) only after preloadVerified(chunks). */
export async function importVerified(chunks, load, doc = document, env = {}) {
  await preloadVerified(chunks, doc, env);
  return load();
}
