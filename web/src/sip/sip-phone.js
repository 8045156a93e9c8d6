// The browser's SIP phone on SIP.js: a UserAgent over its WebSocket transport to the SIP edge
// (Kamailio, RFC 7118), a Registerer for the user's address of record, short-lived credentials
// renewed before they expire (./sip-credentials.js), and the calls (./sip-call.js). This module
// and SIP.js are loaded by a dynamic import() the first time the VoIP tab is shown; it imports
// nothing the rest of the page imports, so the app bundle stays one file under its SRI hash.

import { Inviter, Registerer, RegistererState, UserAgent } from 'sip.js';
import { createSipCredentialKeeper } from './sip-credentials.js';
import { createSipCallManager } from './sip-call.js';
import { createSipHistory } from './sip-history.js';
import { failureReasonOf, registrationOf } from './sip-states.js';

/** Seconds asked for in REGISTER's Expires: well under the credential's lifetime. */
const REGISTER_EXPIRES_S = 600;
/** ICE is only toward the SIP edge's media relay (rtpengine): host candidates are enough. */
const ICE_GATHERING_TIMEOUT_MS = 2000;
const RECONNECT_FIRST_MS = 2000;
const RECONNECT_MAX_MS = 60_000;
const UNREGISTER_WAIT_MS = 1500;

/**
 * Starts the phone with the credentials just fetched. Options:
 *   credentials: the checked /api/v1/sip answer,
 *   fetchCredentials(): Promise<body>, for renewals,
 *   update(patch): merges into the SIP store's snapshot,
 *   otherCallActive(), selectedDevices(): see sip-call.js,
 *   env: { now, setTimeout, clearTimeout, createAudioElement }.
 * → { actions, stop(): Promise }
 */
export async function startSipPhone({ credentials: fetched, fetchCredentials, update, otherCallActive, selectedDevices, env }) {
  let wanted = true;              // false once stopped: no reconnect, no register
  let failure = null;
  let pending = false;
  let reconnectTimer = null;
  let reconnectMs = RECONNECT_FIRST_MS;

  const history = createSipHistory({ now: env.now, onChange: (entries) => update({ history: entries }) });
  let userAgent = null;
  let registerer = null;

  const showRegistration = () => update({ registration: Object.freeze(registrationOf({ registerer: registerer?.state ?? null, pending, failure, wanted })) });

  function register() {
    if (!wanted || !registerer) return;
    pending = true;
    showRegistration();
    registerer.register({
      requestDelegate: {
        onAccept: () => {
          pending = false;
          failure = null;
          showRegistration();
        },
        onReject: (response) => {
          pending = false;
          failure = failureReasonOf(response);
          showRegistration();
        },
      },
    }).catch((error) => {
      pending = false;
      failure = failureReasonOf(error);
      showRegistration();
    });
  }

  function scheduleReconnect() {
    if (!wanted || reconnectTimer) return;
    reconnectTimer = env.setTimeout(async () => {
      reconnectTimer = null;
      try {
        await userAgent.reconnect();
        reconnectMs = RECONNECT_FIRST_MS;
        register();
      } catch {
        reconnectMs = Math.min(reconnectMs * 2, RECONNECT_MAX_MS);
        scheduleReconnect();
      }
    }, reconnectMs);
  }

  const keeper = createSipCredentialKeeper({
    fetchCredentials,
    clock: { setTimeout: env.setTimeout, clearTimeout: env.clearTimeout },
    onRenewed(fresh) {
      // The digest is computed from the UserAgent's options at each challenge: the next REGISTER
      // (sent now) and every later request use the new credential.
      userAgent.configuration.authorizationUsername = fresh.authorizationUsername;
      userAgent.configuration.authorizationPassword = fresh.password;
      if (userAgent.isConnected()) register();
    },
    onRenewalFailed: () => {},
  });
  const credentials = await keeper.start(fetched);   // checked: throws on a malformed answer

  const calls = createSipCallManager({
    sip: { Inviter, makeURI: (uri) => UserAgent.makeURI(uri) },
    userAgent: () => userAgent,
    publish: (call) => update({ call }),
    history,
    otherCallActive,
    selectedDevices,
    // SIP.js keeps its sessions in a private map; read defensively (a guard, not the logic).
    sessions: () => Object.values(userAgent?._sessions ?? {}),
    env,
  });

  userAgent = new UserAgent({
    uri: UserAgent.makeURI(credentials.aor),
    displayName: credentials.user,
    authorizationUsername: credentials.authorizationUsername,
    authorizationPassword: credentials.password,
    transportOptions: { server: credentials.websocketUrl, connectionTimeout: 10 },
    // SIP.js's default peer connection asks a public STUN server; the only media peer here is
    // the SIP edge's relay, so no third party learns this browser's address.
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS },
    userAgentString: 'Security.MS',
    logBuiltinEnabled: false,
    logLevel: 'error',
    delegate: {
      onInvite: (invitation) => calls.incoming(invitation),
      onDisconnect: (error) => {
        if (!wanted) return;
        if (error) {
          failure = failureReasonOf(error?.message ? error : 'connection lost');
          showRegistration();
          scheduleReconnect();
        }
      },
    },
  });
  registerer = new Registerer(userAgent, { expires: REGISTER_EXPIRES_S });
  registerer.stateChange.addListener((state) => {
    if (state === RegistererState.Registered) failure = null;
    showRegistration();
  });
  update({ account: Object.freeze({ aor: credentials.aor, user: credentials.user, domain: credentials.domain }) });
  showRegistration();
  // Connected in the background: the section shows "registering…" meanwhile, not a spinner.
  userAgent.start().then(register, (error) => {
    failure = failureReasonOf(error);
    showRegistration();
    scheduleReconnect();
  });

  async function stop() {
    if (!wanted) return;
    calls.stop();
    wanted = false;
    keeper.stop();
    env.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    try {
      if (registerer?.state === RegistererState.Registered) {
        await Promise.race([registerer.unregister(), new Promise((resolve) => env.setTimeout(resolve, UNREGISTER_WAIT_MS))]);
      }
    } catch {
      // Not registered any more, or the transport is gone: the binding expires on its own.
    }
    try {
      await userAgent.stop();
    } catch {
      // Already stopped.
    }
    showRegistration();
  }

  return Object.freeze({
    actions: Object.freeze({
      dial: (uri, options) => calls.dial(uri, options),
      accept: (options) => calls.accept(options),
      decline: () => calls.decline(),
      hangUp: () => calls.hangUp(),
      mute: (muted) => calls.mute(muted),
      hold: (held) => calls.hold(held),
      sendDtmf: (tones) => calls.sendDtmf(tones),
      transfer: (uri) => calls.transfer(uri),
      outputChanged: () => calls.outputChanged(),
      busy: () => calls.busy(),
      reRegister: () => register(),
      clearHistory: () => history.clear(),
    }),
    stop,
  });
}
