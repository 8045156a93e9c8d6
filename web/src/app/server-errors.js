// Server error codes → i18n text. The server's own `message` (free text over the WebSocket or
// in a certificate rejection) is never shown: a hostile or compromised server could use it to
// speak in the page's voice ("paste your private key into …"). Only a known code gets its
// text; any other code is shown as a generic line, with the code itself only when it has the
// documented form (lower-case letters and underscores, docs/api.md). Pure; runs in Node.

import { catalogues } from '../i18n/index.js';

export const serverCodePattern = /^[a-z_]{1,40}$/;

/**
 * error: { code, … } from the server. prefixes: i18n key prefixes to look the code up under,
 * first match wins (e.g. ['channel.error', 'server.error']). → { key, params }
 */
export function serverErrorText(error, { prefixes = ['server.error'] } = {}) {
  const code = typeof error?.code === 'string' && serverCodePattern.test(error.code) ? error.code : null;
  if (code) {
    for (const prefix of prefixes) {
      const key = `${prefix}.${code}`;
      if (Object.hasOwn(catalogues.en, key)) return { key, params: {} };
    }
    return { key: 'server.error.generic_code', params: { code } };
  }
  return { key: 'server.error.generic', params: {} };
}
