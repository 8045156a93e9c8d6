// The sentence for why a channel ended or was torn down, localised by reason code.

import { catalogues, t } from '../i18n/index.js';

export function channelReasonText({ state, reason }) {
  const key = `channel.reason.${reason}`;
  const text = Object.hasOwn(catalogues.en, key) ? t(key) : t('channel.reason.other', { code: reason });
  return state === 'compromised' ? t('channel.compromised_because', { reason: text }) : text;
}
