// Loads the SIP phone (./sip-phone.js and SIP.js, a lazy chunk of the app bundle) under
// Subresource Integrity: web/build.mjs writes each lazy chunk's path and sha384 hash into
// __SECMS_LAZY_CHUNKS__ (a JSON text, keyed by the imported module's name) once the chunks
// exist; see ./lazy-chunk.js for how the check is made before anything of the chunk runs.

import { importVerified } from './lazy-chunk.js';

const lazyChunks = JSON.parse(__SECMS_LAZY_CHUNKS__);

/** → the module ./sip-phone.js, once its chunk (and the chunks it imports) matched their hashes. */
export function loadSipPhone() {
  return importVerified(lazyChunks['sip-phone'], () => import('./sip-phone.js'));
}
