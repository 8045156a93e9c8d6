// Subresource Integrity for code loaded on demand (DESIGN.md §8: SRI on every script). import()
// has no `integrity`, and a content hash in a file name is no check. So before the first
// import() of a lazy chunk, the page inserts <link rel="modulepreload" integrity=…> for the chunk
// and each chunk it imports: the browser fetches and checks them and keeps the result in its
// module map, which the import() then uses without fetching again. A chunk whose bytes do not
// match is refused there, never run, and the import() is not attempted. The hashes come from
// the build (web/build.mjs), inside the app bundle that is itself loaded under SRI.

class LazyChunkError extends Error {
  constructor(href) {
    super(`lazy chunk refused (integrity or network): ${href}`);
    this.name = 'LazyChunkError';
    this.code = 'chunk_integrity';
  }
}

const chunkPathPattern = /^\/assets\/[A-Za-z0-9_-]+\.js$/;
const integrityPattern = /^sha384-[A-Za-z0-9+/]{64}$/;

/**
 * Fetches and checks `chunks` ([{ href, integrity }]) through modulepreload links; resolves
 * once every one loaded and matched, rejects { code: 'chunk_integrity' } otherwise.
 */
export function preloadVerified(chunks, doc = document) {
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
      link.addEventListener('error', () => reject(new LazyChunkError(href)), { once: true });
      doc.head.append(link);
    });
  }));
}

/** Runs `load` (a static import() of the chunk's module) only after preloadVerified(chunks). */
export async function importVerified(chunks, load, doc = document) {
  await preloadVerified(chunks, doc);
  return load();
}
