// How a SIP peer is written on screen. Its display name is the caller's own claim and its address
// is what says who calls: each sits in its own <bdi>, so no character of one (the name's bidi
// controls are removed already, web/src/sip/sip-states.js; this is the second guard) can reorder
// the other or the sentence around them.

import { html } from 'lit';
import { t } from '../../i18n/index.js';

/** The peer as "name (address)", or the address alone, name and address isolated. */
export function peerLabel(peer) {
  const address = html`<bdi class="peer-address" data-testid="sip-peer-address">${peer?.username ?? ''}</bdi>`;
  if (!peer?.displayName) return address;
  return html`<bdi class="peer-name" data-testid="sip-peer-name">${peer.displayName}</bdi> (${address})`;
}

/** The translation of `key` with its {peer} placeholder rendered by peerLabel. */
export function textWithPeer(key, peer) {
  const [before, ...rest] = t(key).split('{peer}');
  return rest.length === 0 ? html`${before} ${peerLabel(peer)}` : html`${before}${peerLabel(peer)}${rest.join('')}`;
}
