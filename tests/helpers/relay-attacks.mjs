// Attacks a hostile relay mounts on the secure channel, as `tamper` hooks for hostile-relay.mjs.
// Each one acts only on the server→client leg of the victim's connections (the relay is then
// the last hop, so the server's own sequence check cannot catch it and the victim's protocol
// layer must), and counts how often it struck in `fired` so a test can prove it really ran.
//
//   const attack = flipRecordBit({ victim: 'bob1' });
//   relay.tamper = attack.hook;
//   … assert.ok(attack.fired >= 1);
//
// The attacker knows the wire format (docs/protocol.md) but no key: it uses the protocol's own
// encoders only to build well-formed messages carrying its substitutions.

import {
  decodeInitiatorHello, decodeResponderHello, encodeFinishedField, encodeInitiatorHello,
  encodeResponderHelloKeyShare, encodeSignatureField,
} from '../../web/src/crypto/protocol/encoding.js';
import { generateEphemeralKeyPair } from '../../web/src/crypto/protocol/suites.js';
import { createInitiator, createResponder } from '../../web/src/crypto/protocol/index.js';
import * as openpgp from 'openpgp';
import { openpgpSigner, openpgpVerifier } from './channel-client.mjs';
import { RelayFrameType } from './relay-frame.mjs';

const HANDSHAKE = Object.freeze({ initiatorHello: 1, responderHello: 2, initiatorFinish: 3 });

function toVictim(frame, victim) {
  return frame.direction === 'to_client' && frame.connection.username === victim;
}

function isHandshake(frame, messageType) {
  return frame.relay?.type === RelayFrameType.handshake && frame.relay.body[1] === messageType;
}

function isRecord(frame) {
  return frame.relay?.type === RelayFrameType.record;
}

/** The suite of a responder_hello, from the length of its ephemeral key field (32: X25519, 65: P-256). */
function suiteOfResponderHello(body) {
  const keyLength = (body[2 + 2 + 32] << 8) | body[2 + 2 + 32 + 1];
  return keyLength === 32 ? 1 : 2;
}

/**
 * Replaces the ephemeral public key in handshake message 1 (eA, on its way to the responder
 * `victim`) or 2 (eB, on its way to the initiator `victim`) with one the relay generated:
 * a man in the middle who wants to learn the session keys.
 */
export function substituteEphemeralKey({ victim, message }) {
  const attack = {
    name: `substitute the ephemeral key of message ${message}`,
    fired: 0,
    async hook(frame) {
      if (!toVictim(frame, victim) || !isHandshake(frame, message)) return undefined;
      const body = frame.relay.body;
      if (message === HANDSHAKE.initiatorHello) {
        const hello = decodeInitiatorHello(body);
        const mallory = await generateEphemeralKeyPair(hello.suite);
        frame.relay.body = encodeInitiatorHello({ ...hello, ephemeralPublicKey: mallory.publicKey });
      } else {
        const suite = suiteOfResponderHello(body);
        const hello = decodeResponderHello(body, { suite });
        const mallory = await generateEphemeralKeyPair(suite);
        frame.relay.body = Buffer.concat([
          encodeResponderHelloKeyShare({ suite, nonce: hello.nonce, ephemeralPublicKey: mallory.publicKey, sasSecret: hello.sasSecret }),
          encodeSignatureField(hello.signature), encodeFinishedField(hello.finished),
        ]);
      }
      attack.fired++;
      return [frame];
    },
  };
  return attack;
}

/**
 * Name misbinding: the offer to `victim` keeps the peer's REAL certificate
 * but names the peer `as` (another user). Protocol version 2 carries both usernames in message
 * 1, so the victim, bound to `as`, refuses the peer's genuine message 1 (username_mismatch).
 */
export function renameOfferedPeer({ victim, as }) {
  const attack = {
    name: `present the peer's real certificate under the name ${as}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || frame.json?.type !== 'channel_offer') return undefined;
      frame.json.peer = { ...frame.json.peer, username: as };
      attack.fired++;
      return [frame];
    },
  };
  return attack;
}

/**
 * A certificate report for the relay's own key, shaped like the server's report of `genuine`
 * (same name and e-mail: it looks like the same person), so the victim's client finds it
 * self-consistent and a user who does not compare fingerprints accepts it.
 */
export function forgedReport(genuine, impostor) {
  const primary = impostor.publicKey;
  const fingerprint = primary.getFingerprint().toUpperCase();
  return {
    ...genuine,
    fingerprint,
    key_id: primary.getKeyID().toHex().toUpperCase(),
    created: Math.floor(primary.getCreationTime().getTime() / 1000),
    subkeys: primary.subkeys.map((subkey) => ({
      ...(genuine.subkeys?.[0] ?? {}),
      fingerprint: subkey.getFingerprint().toUpperCase(), key_id: subkey.getKeyID().toHex().toUpperCase(),
    })),
    signatures: [],
    armored: impostor.armored,
  };
}

/**
 * Replaces the peer certificate in the channel_offer the `victim` gets with the relay's own
 * (`impostor`, an identity of channel-client.mjs makeIdentity). With `fixHello`, the relay also
 * rewrites the fingerprints in message 1 on its way to the other side, so that side sees the
 * fingerprints it expects and the handshake goes on until a signature is checked.
 */
export function substituteCertificate({ victim, impostor, fixHello = false }) {
  const genuineBySession = new Map(); // session → { victimPeerFingerprint }
  const attack = {
    name: `substitute the certificate in ${victim}'s channel_offer${fixHello ? ' (and fix the fingerprints in message 1)' : ''}`,
    fired: 0,
    forged: null,
    hook(frame) {
      if (toVictim(frame, victim) && frame.json?.type === 'channel_offer') {
        const genuine = frame.json.certificate;
        genuineBySession.set(frame.json.session, genuine.fingerprint);
        attack.forged = forgedReport(genuine, impostor);
        frame.json.certificate = attack.forged;
        attack.fired++;
        return [frame];
      }
      if (fixHello && frame.direction === 'to_client' && frame.connection.username !== victim
          && isHandshake(frame, HANDSHAKE.initiatorHello) && genuineBySession.has(frame.relay.sessionId)) {
        const hello = decodeInitiatorHello(frame.relay.body);
        const genuine = Buffer.from(genuineBySession.get(frame.relay.sessionId), 'hex');
        // The victim is the initiator: its message 1 names the impostor as the responder.
        frame.relay.body = encodeInitiatorHello({ ...hello, responderFingerprint: genuine });
        attack.fired++;
        return [frame];
      }
      return undefined;
    },
  };
  return attack;
}

/** Flips one bit of the ciphertext (not the header) of the `index`-th record to `victim`. */
export function flipRecordBit({ victim, index = 0, bit = 0 }) {
  let seen = 0;
  const attack = {
    name: `flip a ciphertext bit of record ${index}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isRecord(frame) || seen++ !== index) return undefined;
      const body = frame.relay.body;
      // header = version, type, direction, len(session id), session id, u32 epoch, u64 sequence, u32 length
      const headerLength = 4 + body[3] + 4 + 8 + 4;
      body[headerLength + (bit >> 3)] ^= 1 << (bit & 7);
      attack.fired++;
      return [frame];
    },
  };
  return attack;
}

/** Delivers the `index`-th record to `victim` twice in a row (a replay). */
export function replayRecord({ victim, index = 0 }) {
  let seen = 0;
  const attack = {
    name: `replay record ${index}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isRecord(frame) || seen++ !== index) return undefined;
      attack.fired++;
      return [frame, frame];
    },
  };
  return attack;
}

/** Holds the `index`-th record to `victim` and delivers it after the next one (a reorder). */
export function reorderRecords({ victim, index = 0 }) {
  let seen = 0;
  let held = null;
  const attack = {
    name: `swap records ${index} and ${index + 1}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isRecord(frame)) return undefined;
      const position = seen++;
      if (position === index) {
        held = frame;
        return [];
      }
      if (position === index + 1) {
        attack.fired++;
        return [frame, held];
      }
      return undefined;
    },
  };
  return attack;
}

/** Drops handshake message `messageType` (3: the initiator's Finished) on its way to `victim`. */
export function dropHandshakeMessage({ victim, messageType = HANDSHAKE.initiatorFinish }) {
  const attack = {
    name: `drop handshake message ${messageType}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isHandshake(frame, messageType)) return undefined;
      attack.fired++;
      return [];
    },
  };
  return attack;
}

/** Flips one bit of the Finished MAC (the last 32 bytes) of message 2 on its way to `victim`. */
export function flipFinishedBit({ victim }) {
  const attack = {
    name: 'flip a bit of the Finished MAC in message 2',
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isHandshake(frame, HANDSHAKE.responderHello)) return undefined;
      frame.relay.body[frame.relay.body.length - 1] ^= 0x80;
      attack.fired++;
      return [frame];
    },
  };
  return attack;
}

/**
 * The complete man in the middle a TLS-intercepting relay can mount against users who accept a
 * certificate without comparing it: it forges the certificate in BOTH offers (its own key under
 * the peer's name), then terminates the handshake on each side with its own key — responder
 * towards the initiator, initiator towards the responder — and re-encrypts records between the
 * two channels, reading them. No check of the protocol can stop this (docs/protocol.md §10,
 * "users who accept the wrong certificate"); what exposes it is the fingerprint shown in the
 * offer and the SAS, which differ between the two sides. `relay` is the hostile relay (for
 * inject), `initiator`/`responder` the usernames, `impostor` an identity of makeIdentity().
 * `attack.plaintexts` collects what the relay read.
 */
export function fullManInTheMiddle({ relay, initiator, responder, impostor }) {
  const state = { genuine: {}, towardInitiator: null, towardResponder: null, sessionId: null };
  const record = (body, sessionId) => ({ relay: { type: RelayFrameType.record, sessionId, sequence: 0, body } });
  const handshake = (body, sessionId) => ({ relay: { type: RelayFrameType.handshake, sessionId, sequence: 0, body } });
  // Toward each victim the relay claims the other victim's name, as the offers did.
  const endpointOptions = async (peer) => ({
    sessionId: state.sessionId, localUsername: peer === initiator ? responder : initiator, peerUsername: peer,
    localFingerprint: impostor.fingerprint, peerFingerprint: state.genuine[peer].fingerprint,
    sign: openpgpSigner(impostor.privateKey),
    verify: openpgpVerifier(await openpgp.readKey({ armoredKey: state.genuine[peer].armored })),
  });
  const attack = {
    name: 'full man in the middle with forged certificates on both sides',
    fired: 0,
    plaintexts: [],
    state,
    async hook(frame) {
      if (frame.direction !== 'to_client') return undefined;
      const to = frame.connection.username;
      if (frame.json?.type === 'channel_offer' && (to === initiator || to === responder)) {
        // The offer to X carries the certificate of X's peer: keep it, show the forgery.
        state.genuine[to === initiator ? responder : initiator] = frame.json.certificate;
        state.sessionId = frame.json.session;
        frame.json.certificate = forgedReport(frame.json.certificate, impostor);
        attack.fired++;
        return [frame];
      }
      if (!frame.relay || frame.relay.sessionId !== state.sessionId) return undefined;
      const { body, sessionId } = frame.relay;
      if (to === responder && isHandshake(frame, HANDSHAKE.initiatorHello)) {
        state.towardInitiator = createResponder(await endpointOptions(initiator));
        state.towardResponder = createInitiator(await endpointOptions(responder));
        const { reply } = await state.towardInitiator.receiveHandshake({ message: body });
        relay.inject({ username: initiator, item: handshake(reply, sessionId) });
        attack.fired++;
        return [handshake(await state.towardResponder.start(), sessionId)];
      }
      if (to === initiator && isHandshake(frame, HANDSHAKE.responderHello)) {
        const { reply } = await state.towardResponder.receiveHandshake({ message: body });
        relay.inject({ username: responder, item: handshake(reply, sessionId) });
        return [];
      }
      if (to === responder && isHandshake(frame, HANDSHAKE.initiatorFinish)) {
        await state.towardInitiator.receiveHandshake({ message: body });
        return [];
      }
      if (isRecord(frame)) {
        const [from, into] = to === responder ? [state.towardInitiator, state.towardResponder] : [state.towardResponder, state.towardInitiator];
        const opened = await from.open({ record: body });
        if (opened.type !== 'data') return [];
        attack.plaintexts.push(new TextDecoder().decode(opened.plaintext));
        return [record(await into.seal({ plaintext: opened.plaintext }), sessionId)];
      }
      return undefined;
    },
  };
  return attack;
}

/** Drops the `index`-th record to `victim` (a gap: the next one arrives out of order). */
export function dropRecord({ victim, index = 0 }) {
  let seen = 0;
  const attack = {
    name: `drop record ${index}`,
    fired: 0,
    hook(frame) {
      if (!toVictim(frame, victim) || !isRecord(frame) || seen++ !== index) return undefined;
      attack.fired++;
      return [];
    },
  };
  return attack;
}

/**
 * Reflects the `index`-th record `victim` sends back to `victim` itself (it still reaches the
 * server and the peer): the victim must not accept its own record as the peer's.
 */
export function reflectRecord({ relay, victim, index = 0 }) {
  let seen = 0;
  const attack = {
    name: `reflect record ${index} to its sender`,
    fired: 0,
    hook(frame) {
      if (frame.direction !== 'to_server' || frame.connection.username !== victim || !isRecord(frame) || seen++ !== index) return undefined;
      relay.inject({ username: victim, item: { relay: { ...frame.relay } } });
      attack.fired++;
      return undefined;
    },
  };
  return attack;
}

/**
 * Cross-session splicing: the first record sent to `source` (in its session) is also delivered
 * to `victim` inside the relay frame of the victim's own session.
 */
export function spliceRecord({ relay, source, victim }) {
  const attack = {
    name: `splice a record of ${source}'s session into ${victim}'s`,
    fired: 0,
    victimSession: null,
    hook(frame) {
      if (frame.direction === 'to_client' && frame.connection.username === victim && frame.relay) attack.victimSession = frame.relay.sessionId;
      if (!toVictim(frame, source) || !isRecord(frame) || attack.fired > 0 || !attack.victimSession) return undefined;
      relay.inject({ username: victim, item: { relay: { ...frame.relay, sessionId: attack.victimSession } } });
      attack.fired++;
      return undefined;
    },
  };
  return attack;
}
