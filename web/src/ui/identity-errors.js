// i18n keys for the identity and certificate errors (Worker codes and server codes of
// docs/certificates.md). Unknown codes get a generic key; the server's own message is never
// shown (web/src/app/server-errors.js).

import { catalogues } from '../i18n/index.js';
import { serverErrorText } from '../app/server-errors.js';

export function identityErrorKey(code) {
  const key = `identity.error.${code}`;
  return Object.hasOwn(catalogues.en, key) ? key : 'identity.error.failed';
}

/** → { key, params } for a certificate_rejected error; unknown code → a generic text with the code. */
export function certificateErrorText(error) {
  return serverErrorText(error, { prefixes: ['certificate.error'] });
}
