// i18n keys for the identity and certificate errors (Worker codes and server codes of
// docs/certificates.md). Unknown codes get a generic key; the server's own message is the
// fallback the caller shows beside it.

import { catalogues } from '../i18n/index.js';

export function identityErrorKey(code) {
  const key = `identity.error.${code}`;
  return Object.hasOwn(catalogues.en, key) ? key : 'identity.error.failed';
}

/** → { key, params } for a certificate_rejected error; unknown code → the server message. */
export function certificateErrorText(error) {
  const key = `certificate.error.${error?.code}`;
  if (Object.hasOwn(catalogues.en, key)) return { key, params: {} };
  return { key: 'certificate.error.other', params: { message: error?.message || error?.code || '?' } };
}
