// How a SIP peer is written on screen. Its display name is the caller's own claim and its address
// is what says who calls, so the address comes first and stands out: each sits in its own <bdi>, so no character of one (the name's bidi
// controls are removed already, web/src/sip/sip-states.js; this is the second guard) can reorder
// the other or the sentence around them.

import { html } from 'lit';
import { t } from '../../i18n/index.js';

/**
 * The peer as its address first, in bold, then "(calls itself <name>)" when it gave a name: the
 * address is what says who calls; the name is only the caller's claim (it cannot hold @ < > ( ) :,
 * web/src/sip/sip-states.js). Name and address are isolated.
 */
export function peerLabel(peer) {
  const address = html`<strong><bdi class="peer-address" data-testid="sip-peer-address">${peer?.username ?? ''}</bdi></strong>`;
  if (!peer?.displayName) return address;
  const name = html`<bdi class="peer-name" data-testid="sip-peer-name">${peer.displayName}</bdi>`;
  const [before, ...rest] = t('sip.peer.calls_itself').split('{name}');
  return html`${address} <span class="peer-claimed">(${before}${name}${rest.join('')})</span>`;
}

/** The translation of `key` with its {peer} placeholder rendered by peerLabel. */
export function textWithPeer(key, peer) {
  const [before, ...rest] = t(key).split('{peer}');
  return rest.length === 0 ? html`${before} ${peerLabel(peer)}` : html`${before}${peerLabel(peer)}${rest.join('')}`;
}
