// Application WebSocket (/ws, subprotocol secms.v1) with reconnect and backoff.
// Runs in the page. WebSocket, timers and randomness are injectable so node tests can
// drive the whole life cycle without a network.
//
// Status values shown by the status bar:
//   connecting   – first connection attempt, never online yet
//   online       – socket open
//   reconnecting – the socket dropped; waiting for, or trying, the next attempt
//   offline      – stopped: by the app (logout), by the browser going offline,
//                  by the server ending the login session (close code 4401),
//                  or by a newer app window of the account taking over (4409)

import { reconnectDelayMs, defaultBackoff } from './reconnect-backoff.js';

export const wsSubprotocol = 'secms.v1';
/** Close code the server uses when the login session behind the socket ends. */
export const sessionEndedCloseCode = 4401;
export const normalCloseCode = 1000;
/**
 * Close code the server uses when a newer app WebSocket of the same account took over (one app
 * window per account). Not retried: reconnecting would take the socket back from the newer
 * window, which would do the same, each closing the other for ever. start() takes over again.
 */
export const supersededCloseCode = 4409;

const allowedOptions = [
  'url', 'protocol', 'onMessage', 'onBinary', 'onStatus', 'onSessionEnded', 'onSuperseded', 'onConnectFailure',
  'WebSocketImpl', 'setTimer', 'clearTimer', 'now', 'random', 'backoff', 'keepAliveMs',
];

export function createWebSocketClient(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createWebSocketClient: options object required');
  for (const name of Object.keys(options)) {
    if (!allowedOptions.includes(name)) throw new TypeError(`createWebSocketClient: unknown option ${name}`);
  }
  if (typeof options.url !== 'string') throw new TypeError('createWebSocketClient: url must be a string');

  const {
    url,
    protocol = wsSubprotocol,
    onMessage = () => {},
    onBinary = () => {},
    onStatus = () => {},
    onSessionEnded = () => {},
    onSuperseded = () => {},
    onConnectFailure = () => {},
    WebSocketImpl = globalThis.WebSocket,
    setTimer = globalThis.setTimeout.bind(globalThis),
    clearTimer = globalThis.clearTimeout.bind(globalThis),
    now = Date.now,
    random = Math.random,
    backoff = defaultBackoff,
    keepAliveMs = 25_000,
  } = options;

  let socket = null;
  let status = 'offline';
  let running = false;
  let everOnline = false;
  let failedAttempts = 0;     // consecutive attempts that ended without the socket opening
  let attempt = 0;            // reconnect attempts since the last successful open
  let retryTimer = null;
  let keepAliveTimer = null;
  let lastInboundAt = 0;

  function setStatus(next) {
    if (next === status) return;
    status = next;
    onStatus(next);
  }

  function clearTimers() {
    if (retryTimer !== null) clearTimer(retryTimer);
    if (keepAliveTimer !== null) clearTimer(keepAliveTimer);
    retryTimer = null;
    keepAliveTimer = null;
  }

  function detach(target) {
    target.onopen = target.onmessage = target.onclose = target.onerror = null;
  }

  // A keep-alive ping lets us notice a connection that died silently (NAT timeout, sleep):
  // when nothing at all arrived for two intervals, the socket is closed and retried.
  function scheduleKeepAlive() {
    if (!keepAliveMs) return;
    keepAliveTimer = setTimer(() => {
      keepAliveTimer = null;
      if (!socket || status !== 'online') return;
      if (now() - lastInboundAt > 2 * keepAliveMs) {
        socket.close(4000, 'keep-alive timeout');
        handleClose({ code: 1006 }, socket);
        return;
      }
      send({ type: 'ping' });
      scheduleKeepAlive();
    }, keepAliveMs);
  }

  function connect() {
    setStatus(everOnline || attempt > 0 ? 'reconnecting' : 'connecting');
    let opened = false;
    const current = new WebSocketImpl(url, protocol);
    // Relay frames are handed to the crypto Worker as transferable ArrayBuffers.
    current.binaryType = 'arraybuffer';
    socket = current;
    current.onopen = () => {
      if (socket !== current) return;
      opened = true;
      everOnline = true;
      attempt = 0;
      failedAttempts = 0;
      lastInboundAt = now();
      setStatus('online');
      scheduleKeepAlive();
    };
    current.onmessage = (event) => {
      if (socket !== current) return;
      lastInboundAt = now();
      // Binary messages are relay frames, passed on unread; control messages are JSON
      // text. Anything unparsable is dropped.
      if (event.data instanceof ArrayBuffer) {
        onBinary(event.data);
        return;
      }
      if (typeof event.data !== 'string') return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message === 'object' && typeof message.type === 'string') {
        onMessage(message);
      }
    };
    current.onerror = () => {
      // The close event follows and carries the code; nothing to do here.
    };
    current.onclose = (event) => handleClose(event, current, opened);
  }

  function handleClose(event, closedSocket, opened = true) {
    if (socket !== closedSocket) return;
    detach(closedSocket);
    socket = null;
    clearTimers();
    if (!running) {
      setStatus('offline');
      return;
    }
    if (event.code === sessionEndedCloseCode) {
      running = false;
      setStatus('offline');
      onSessionEnded();
      return;
    }
    if (event.code === supersededCloseCode) {
      running = false;
      attempt = 0;
      setStatus('offline');
      onSuperseded();
      return;
    }
    if (!opened) {
      failedAttempts += 1;
      // The app uses this to ask /api/v1/me whether the login is still valid: a rejected
      // upgrade (401) looks like any other failed connection from inside the page.
      onConnectFailure({ consecutiveFailures: failedAttempts });
      if (!running) return;
    }
    attempt += 1;
    setStatus('reconnecting');
    retryTimer = setTimer(() => {
      retryTimer = null;
      if (running) connect();
    }, reconnectDelayMs(attempt, { ...backoff, random }));
  }

  function start() {
    if (running) return;
    running = true;
    connect();
  }

  /** Stops for good (logout) or until start() (browser offline). */
  function stop(reason = 'client stop') {
    running = false;
    clearTimers();
    if (socket) {
      const closing = socket;
      detach(closing);
      socket = null;
      try {
        closing.close(normalCloseCode, reason);
      } catch {
        // Already closing: nothing more to do.
      }
    }
    setStatus('offline');
  }

  function send(message) {
    if (!socket || status !== 'online') return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Sends one binary relay frame (an ArrayBuffer from the crypto Worker). */
  function sendBinary(frame) {
    if (!socket || status !== 'online') return false;
    socket.send(frame);
    return true;
  }

  return Object.freeze({
    start,
    stop,
    send,
    sendBinary,
    get status() { return status; },
  });
}
