// Entry module of the app window (app.html): checks the session, starts the crypto
// worker and the WebSocket, and wires them to the shell's components.

import { createApiClient } from '../net/api-client.js';
import { createWebSocketClient } from '../net/websocket-client.js';
import { createPresenceStore } from '../state/presence-store.js';
import { createStore } from '../state/store.js';
import { createIdentityStore } from '../state/identity-store.js';
import { createChannelStore } from '../state/channel-store.js';
import { createRoomStore } from '../state/room-store.js';
import { createTrustStore, emptyContacts } from '../state/trust-store.js';
import { openCryptoWorker } from '../crypto/crypto-client.js';
import { createSecureChannelController } from './secure-channels.js';
import { createChatAlerts } from './chat-alerts.js';
import { createChannelRequests } from './channel-requests.js';
import { createCallAlerts } from './call-alerts.js';
import { createPreferences } from '../state/preferences.js';
import { createCallStore } from '../state/call-store.js';
import { createCallController } from '../calls/call-controller.js';
import { createMediaDevices } from '../calls/media-devices.js';
import { startPageLanguage } from './page-language.js';
import { createMailApi } from '../net/mail-api.js';
import { createAdminApi } from '../net/admin-api.js';
import { createMailStore } from '../state/mail-store.js';
import { createMailController } from './mail-controller.js';
import { createKeyDirectory } from '../mail/key-directory.js';
import { createAddressBook } from '../mail/address-book.js';
import { openMessage } from '../mail/mime-read.js';
import { composeEncrypted, composePlain, composeSigned } from '../mail/pgp-mime.js';
import { t } from '../i18n/index.js';
import { listenForAnnouncements, logOutAndWipe, wipeAndAnnounce, wipeClientState } from './session-end.js';
import { createLoginCheck } from './login-check.js';
import { createSupersededWatch } from './superseded-watch.js';
import { createSipService, createSipStore } from '../sip/sip-service.js';
import { createSipApi } from '../sip/sip-api.js';
import { loadSipPhone } from '../sip/sip-loader.js';
import '../ui/app-root.js';
import '../ui/announcer.js';
import '../ui/sip/sip-incoming.js';
import '../ui/superseded-notice.js';

// Injected by web/build.mjs: the content-hashed path of the crypto worker bundle.
const cryptoWorkerUrl = __SECMS_WORKER_URL__;

startPageLanguage({ titleKey: 'app.title' });

const api = createApiClient();
const presence = createPresenceStore();
const connection = createStore('connecting');
const identity = createIdentityStore();
const channels = createChannelStore();
const rooms = createRoomStore();
const mailStore = createMailStore();
const root = document.createElement('secms-app-root');
root.presence = presence;
root.connection = connection;
root.identity = identity;
root.channels = channels;
root.rooms = rooms;
root.mail = mailStore;
root.webRtcAvailable = typeof globalThis.RTCPeerConnection === 'function';
document.body.append(root);

let cryptoWorker = null;
let socket = null;
let trustStore = null;
// The pins and verified contacts as the UI shows them (badges, offers); filled once logged in.
const contacts = createStore(emptyContacts);
document.addEventListener('secms-contacts-context', (event) => {
  event.detail.store = contacts;
});
// Another window of this origin pinned or verified someone: show it here too.
window.addEventListener('storage', () => trustStore?.reload());

let storage = null;
try {
  storage = localStorage;
} catch {
  // Storage disabled: preferences hold for this page only.
}
const preferences = createPreferences({ storage });
// The polite live region of the window: incoming requests are said without moving focus.
const announcer = document.createElement('secms-announcer');
document.body.append(announcer);
const channelRequests = createChannelRequests({
  channelStore: channels,
  roomStore: rooms,
  isVisible: () => document.visibilityState !== 'hidden',
  onRequest(offer) {
    announcer.announce(t('announce.channel_request', { username: offer.peer.username }));
    alerts.onChannelRequest();
  },
});
document.addEventListener('visibilitychange', () => channelRequests.refresh());
// The Chat tab's badge asks for the unseen requests (as the SIP elements ask for their store).
document.addEventListener('secms-requests-context', (event) => {
  event.detail.store = channelRequests;
});
const alerts = createChatAlerts({ channelStore: channels, roomStore: rooms, preferences, requests: channelRequests });

const secureChannels = createSecureChannelController({
  getSocket: () => socket,
  getWorker: () => cryptoWorker,
  identityStore: identity,
  channelStore: channels,
  roomStore: rooms,
  getTrustStore: () => trustStore,
  userOf: (username) => presence.get().users.find((user) => user.username === username) ?? null,
  self: () => root.user?.username ?? null,
  isVisible: alerts.isVisible,
  onChatEvent: alerts.onChatEvent,
  onCallSignal: (event) => calls.handleSignal(event),
  onChannelEnded: (event) => calls.channelEnded(event),
});
root.channelActions = secureChannels.actions;
presence.subscribe(() => secureChannels.presenceChanged());

// --- calls (docs/protocol.md "Call signalling") -------------------------------------------------

/** What this browser offers for calls; `missing` names what the VoIP notice lists. */
function callSupport() {
  const missing = [];
  if (typeof globalThis.RTCPeerConnection !== 'function') missing.push('RTCPeerConnection');
  if (typeof navigator.mediaDevices?.getUserMedia !== 'function') missing.push('navigator.mediaDevices.getUserMedia');
  let transform = null;
  if (typeof globalThis.RTCRtpScriptTransform === 'function') transform = 'script';
  else if (typeof globalThis.RTCRtpSender?.prototype?.createEncodedStreams === 'function') transform = 'encoded-streams';
  else missing.push('RTCRtpScriptTransform');
  return { webrtc: missing.every((name) => name === 'RTCRtpScriptTransform'), transform, missing };
}

const callEnv = Object.freeze({
  RTCPeerConnection: globalThis.RTCPeerConnection,
  RTCRtpReceiver: globalThis.RTCRtpReceiver,
  MediaStream: globalThis.MediaStream,
  mediaDevices: navigator.mediaDevices,
  AudioContext: globalThis.AudioContext,
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle),
  randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
});
const callStore = createCallStore({ support: callSupport(), hideIp: preferences.get().hideIp });
const calls = createCallController({
  store: callStore,
  channelStore: channels,
  openPrivate: (username) => secureChannels.actions.openPrivate(username),
  sendSignal: ({ session, signal }) => secureChannels.actions.sendCallSignal(session, signal),
  mediaStats: ({ call }) => secureChannels.actions.callMediaStats(call),
  endMedia: ({ call }) => secureChannels.actions.endCallMedia(call),
  transforms: {
    createScriptTransform: (options) => secureChannels.actions.createCallTransform(options),
    attachEncodedStreams: (options) => secureChannels.actions.attachCallStreams(options),
  },
  turnCredentials: () => api.turnCredentials(),
  // One call at a time: an end-to-end invite during a SIP call is answered busy (sipStore is
  // made below; this runs only once calls happen).
  otherCallActive: () => {
    const sipCall = sipStore.get().call;
    return Boolean(sipCall && sipCall.phase !== 'ended');
  },
  preferences,
  devices: createMediaDevices({ env: callEnv }),
  env: callEnv,
});
root.calls = callStore;
root.callActions = calls.actions;
navigator.mediaDevices?.addEventListener?.('devicechange', () => calls.actions.refreshDevices().catch(() => {}));
// The end-to-end tests read the call's phase and security verdict here (nothing else is exposed).
const mirrorCall = ({ call }) => {
  document.documentElement.dataset.callPhase = call?.phase ?? 'none';
  document.documentElement.dataset.callSecurity = call?.security.state ?? 'none';
};
mirrorCall(callStore.get());
callStore.subscribe(mirrorCall);
// --- SIP phone (issue 12): SIP.js is imported the first time the VoIP tab is shown ------------

const sipStore = createSipStore();
const sip = createSipService({
  store: sipStore,
  api: createSipApi(),
  loadPhone: loadSipPhone,   // SIP.js's chunk, checked against its SRI hash before it runs
  // One call at a time: a SIP call coming in during an end-to-end call is answered busy.
  otherCallActive: () => Boolean(callStore.get().call && callStore.get().call.phase !== 'ended'),
  selectedDevices: () => callStore.get().devices?.selected ?? {},
  env: Object.freeze({
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle),
    createAudioElement: () => new Audio(),
  }),
});
// The phone's elements (in the VoIP tab, and the ringing dialog) ask for the store and actions.
document.addEventListener('secms-sip-context', (event) => {
  event.detail.store = sipStore;
  event.detail.actions = sip.actions;
});
root.addEventListener('service-change', (event) => {
  if (event.detail?.service === 'voip') sip.actions.start();
});
let sipOutput = callStore.get().devices?.selected?.audiooutput ?? null;
callStore.subscribe(({ devices }) => {
  if ((devices?.selected?.audiooutput ?? null) === sipOutput) return;
  sipOutput = devices?.selected?.audiooutput ?? null;
  sip.actions.outputChanged();
});
const sipIncoming = document.createElement('secms-sip-incoming');
sipIncoming.onAccepted = () => root.dispatchEvent(new CustomEvent('secms-show-call'));
document.body.append(sipIncoming);
// The end-to-end tests read the registration and the SIP call's phase here.
sipStore.subscribe(({ registration, call }) => {
  document.documentElement.dataset.sipRegistration = registration.state;
  document.documentElement.dataset.sipCallPhase = call?.phase ?? 'none';
});
window.addEventListener('pagehide', () => sip.actions.stop());

createCallAlerts({ callStore, preferences, channelStore: channels, roomStore: rooms, sipStore });   // ringtone, ringback, notification, title blink

const SETTINGS_FLUSH_MS = 5000;
const SIP_STOP_WAIT_MS = 2000;

// Stops everything this window runs; used by every way out of the session.
function stopServices() {
  supersededWatch.stop();
  supersededNotice.open = false;   // the notice would cover the "session ended" page
  calls.stop();
  sip.actions.stop().catch(() => {});
  mail?.actions.stop();
  mail = null;
  socket?.stop('session over');
  socket = null;
  cryptoWorker?.terminate();
  cryptoWorker = null;
  if (document.documentElement.dataset.cryptoWorker) document.documentElement.dataset.cryptoWorker = 'stopped';
  presence.clear();
  channels.clear();
  rooms.clear();
}

/** Leaves the app window: close it when the landing page opened it, else go to the start page. */
function leaveAppWindow() {
  if (!window.opener || window.opener.closed) {
    location.assign('/');
    return;
  }
  window.close();
  // Still here a moment later: the browser refused to close it.
  setTimeout(() => location.assign('/'), 500);
}

async function endSession(callServer) {
  stopServices();
  await callServer();
  leaveAppWindow();
}

const actions = Object.freeze({
  preferences,
  enableNotifications: () => alerts.enableNotifications(),
  testSound: (kind) => alerts.play(kind),
  // Stopped first, once a pending mail settings save is done (the Worker holds the unlocked key,
  // and keeps the key database open); the window leaves only when the server ended the
  // session, else it says so and offers a retry.
  async logout() {
    // A mail settings change made in the last seconds is still waiting for its debounced save:
    // save it now (it needs the Worker and the session), for at most SETTINGS_FLUSH_MS.
    await Promise.race([mail?.actions.flushSettings().catch(() => {}), new Promise((resolve) => setTimeout(resolve, SETTINGS_FLUSH_MS))]);
    // Unregister while the session still exists (the SIP edge would keep the binding until it expires).
    await Promise.race([sip.actions.stop().catch(() => {}), new Promise((resolve) => setTimeout(resolve, SIP_STOP_WAIT_MS))]);
    stopServices();
    const result = await logOutAndWipe({ api });
    if (result.loggedOut) {
      leaveAppWindow();
      return;
    }
    root.logoutProblem = result.stillLoggedIn;
    root.phase = 'logout-failed';
  },
  changePassword: ({ currentPassword, newPassword }) => api.changePassword({ currentPassword, newPassword }),
  // The administration panel (admin logins only; the server checks the role on every call).
  admin: createAdminApi(),
  announce: (sentence) => announcer.announce(sentence),
  async deleteAccount({ password }) {
    // Throws (wrong password…) before anything is stopped, so the dialog can say why.
    // The server ends the session with the account: no logout request is needed.
    await api.deleteAccount({ password });
    await endSession(wipeAndAnnounce);
  },
});
root.actions = actions;

async function onSessionGone(phase) {
  stopServices();
  await wipeClientState();
  root.phase = phase;
}

// A logout from another window of this origin (the landing page): this window stops its socket
// and its Worker and wipes, whether or not the server ended the session.
listenForAnnouncements((message) => {
  if (message.type === 'logged-out') {
    onSessionGone('session-ended');
  } else if (message.type === 'logout-failed') {
    root.logoutProblem = message.stillLoggedIn === true ? true : 'unknown';
    onSessionGone('logout-failed');
  }
});

function startSocket() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = createWebSocketClient({
    url: `${scheme}//${location.host}/ws`,
    onMessage(message) {
      if (mail?.handleServerMessage(message)) return;
      if (!secureChannels.handleServerMessage(message)) presence.applyServerMessage(message);
    },
    onBinary: (frame) => secureChannels.handleBinary(frame),
    onStatus(status) {
      connection.set(status);
      secureChannels.handleSocketStatus(status);
      // A list from a dropped connection would show people as online who may not be.
      if (status !== 'online') presence.clear();
    },
    onSessionEnded: () => onSessionGone('session-ended'),
    // A newer window of this account took the connection (close 4409): no reconnect; the notice
    // offers to take it back. The Worker and its keys stay; channels and rooms ended with the
    // socket (handleSocketStatus above).
    onSuperseded,
    // A refused upgrade looks like a network failure from here (after a server restart every
    // login is gone): ask the API whether the login is still valid (./login-check.js).
    onConnectFailure: createLoginCheck({ me: (options) => api.me(options), onLoginGone: () => onSessionGone('session-ended') }),
  });
  socket.start();
}

// One app window per account: shown when another window took the connection over.
const supersededNotice = document.createElement('secms-superseded-notice');
document.body.append(supersededNotice);
// Without a socket this window would never hear that its login ended elsewhere (password
// changed, logins ended, account disabled): while the notice is shown it asks (./superseded-watch.js).
const supersededWatch = createSupersededWatch({
  me: (options) => api.me(options),
  onLoginGone: () => onSessionGone('session-ended'),
  events: window,
  visibility: document,
});

// The phone rings and the mail is watched only in the window in use: the phone unregisters and
// the mail controller stops polling until "Use here" (which supersedes the other window in turn).
function onSuperseded() {
  supersededNotice.open = true;
  supersededWatch.start();
  sip.actions.pause().catch(() => {});
  mail?.actions.pause().catch(() => {});
}
supersededNotice.onUseHere = () => {
  supersededWatch.stop();
  if (!socket) return;
  socket.start();
  sip.actions.resume().catch(() => {});
  mail?.actions.resume().catch(() => {});
};

window.addEventListener('offline', () => socket?.stop('browser offline'));
// A window another one took over stays disconnected until "Use here", even when the network
// comes back.
window.addEventListener('online', () => { if (!supersededNotice.open) socket?.start(); });

// --- email (issue 11): the mail tab's controller, its key directory and address book ---------------

let mail = null;
let mailKeys = null;
const learntChannelKeys = new Set();   // sessions whose accepted certificate is in the key directory

/** Desktop notification of new mail: never a subject or a sender (the OS keeps notifications). */
function notifyMail({ tag }) {
  if (!preferences.get().notify || document.visibilityState !== 'hidden' || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    const body = t('mail.notify.new');
    const notification = new Notification(t('app.title'), { body: body === 'mail.notify.new' ? 'New mail' : body, tag });
    notification.onclick = () => window.focus();
  } catch {
    // Notifications only from a service worker in this browser.
  }
}

/**
 * The certificate of a peer met in an accepted secure channel is the key of username@<mail
 * domain>: 'pinned' when the user remembered it in the trust store, else 'verified'.
 */
function learnChannelKeys() {
  const domain = mailStore.get().status.domain;
  if (!mailKeys || !domain) return;
  let learnt = false;
  for (const channel of channels.get().channels) {
    if (channel.phase !== 'secure' || !channel.report?.armored || learntChannelKeys.has(channel.session)) continue;
    learntChannelKeys.add(channel.session);
    const username = channel.peer.username;
    const pinned = trustStore?.check({ username, fingerprint: channel.report.fingerprint }).status === 'trusted';
    learnt = true;
    mailKeys.learn({ address: `${username.toLowerCase()}@${domain}`, armored: channel.report.armored, source: pinned ? 'pinned' : 'verified' })
      .then(() => mailStore.setKeys(mailKeys.list())).catch(() => {});
  }
  return learnt;
}

function startMail(username) {
  let storageForMail = null;
  try {
    storageForMail = localStorage;
  } catch {
    storageForMail = null;
  }
  mailKeys = createKeyDirectory({
    storage: storageForMail,
    account: username,
    readKeyFacts: async (armored) => {
      if (!cryptoWorker) throw new Error('crypto worker not ready');
      return (await cryptoWorker.request({ type: 'certificate.facts', payload: { armored } })).facts;
    },
  });
  mail = createMailController({
    api: createMailApi(),
    store: mailStore,
    crypto: () => cryptoWorker,
    mime: { openMessage, composeEncrypted, composeSigned, composePlain },
    keys: mailKeys,
    addressBook: createAddressBook({ storage: storageForMail, account: username }),
    presence,
    self: () => root.user,
    storage: storageForMail,
    account: username,
    notify: notifyMail,
  });
  root.mailActions = mail.actions;
  mail.actions.start().then(learnChannelKeys).catch(() => {});
}
channels.subscribe(() => learnChannelKeys());

async function main() {
  try {
    root.user = await api.me();
  } catch (error) {
    root.phase = error.status === 401 ? 'no-session' : 'unreachable';
    return;
  }
  root.phase = 'ready';
  channels.setSelf(root.user.username);
  try {
    trustStore = createTrustStore({ storage: localStorage, account: root.user.username, onChange: (snapshot) => contacts.set(snapshot) });
  } catch {
    trustStore = null;   // storage disabled: trust decisions hold for one channel only
  }
  startMail(root.user.username);
  startSocket();
  try {
    cryptoWorker = await openCryptoWorker({
      url: cryptoWorkerUrl,
      onEvent: (event) => (event?.type === 'mail.progress' ? mail?.handleWorkerEvent(event) : secureChannels.handleWorkerEvent(event)),
    });
    identity.applyStatus(await cryptoWorker.request({ type: 'session.bind', payload: { account: root.user.username } }));
    document.documentElement.dataset.cryptoWorker = 'ready';
  } catch {
    // Without the worker there is no identity and no secure channel; the UI says so.
    identity.unavailable();
    document.documentElement.dataset.cryptoWorker = 'failed';
  }
}

main();
