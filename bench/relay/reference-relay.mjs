// Reference relay for the relay benchmark: the smallest server on Node's `ws` package, over TLS,
// that relays the binary frames of docs/api.md with the same per-frame rules as secms-server
// (server/channel/channel_hub.cpp, channel_hub::relay):
//
//   - the header parses (length > 41, frame type 1 or 2, 32 lower-case hex digits), else bad_frame;
//   - the session id names a known pairing and the sender is one of its two members, else
//     unknown_session; both members have joined, else session_not_open;
//   - the sequence is the sender's next one (0, 1, 2, … per sender and session), else
//     out_of_order — and nothing is forwarded;
//   - the frame goes unchanged to the other member, in order;
//   - while the receiver has more than 1 MiB unsent, the sender is not read (TCP backpressure),
//     polled every 10 ms like the server does.
//
// What it deliberately does NOT do (see bench/README.md): no accounts, login cookie, Origin check,
// certificate or proof of possession, offer/accept handshake, presence, per-message login-session
// check, buffer wiping, idle timeouts or write-queue limits. Pairing is one trivial JSON message
// sent right after connecting:
//
//   {"type":"join","session":"<32 hex>","role":"initiator"|"responder"}
//
// and once both roles have joined, both get {"type":"channel_open","session":"…"}.
// So setup is much cheaper than secms-server's; only the relay phase is meant to be comparable.
//
// Usage: node bench/relay/reference-relay.mjs [--port 0] [--cert cert.pem --key key.pem]
// Prints one JSON line {"listening":<port>,"pid":<pid>} on stdout when ready; stops on SIGTERM.
// Listens on 127.0.0.1 only. Without --cert/--key it makes a self-signed P-256 certificate for
// localhost with `openssl req` in a temporary directory (the same kind secms-server makes).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer, WebSocket } from 'ws';
import { parseHeader, SESSION_ID_LENGTH } from './frame.mjs';

const SUBPROTOCOL = 'secms.v1';
const MAX_MESSAGE_BYTES = 64 * 1024; // secms-server's ws_max_message_bytes default
const CONGESTED_BYTES = 1024 * 1024; // docs/api.md: "more than 1 MiB queued"
const CONGESTION_POLL_MS = 10;
const CONGESTION_MAX_POLLS = 500; // then read again anyway, as the server does
const SESSION_ID_PATTERN = new RegExp(`^[0-9a-f]{${SESSION_ID_LENGTH}}$`);

/** sessionId -> { initiator, responder, open, nextFromInitiator, nextFromResponder } */
const sessions = new Map();

function sendJson(ws, obj) {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function sendError(ws, code, session) {
  const msg = { type: 'error', error: { code, message: code } };
  if (session) msg.session = session;
  sendJson(ws, msg);
}

function onJoin(ws, msg) {
  if (typeof msg.session !== 'string' || !SESSION_ID_PATTERN.test(msg.session)) return sendError(ws, 'malformed');
  if (msg.role !== 'initiator' && msg.role !== 'responder') return sendError(ws, 'malformed');
  let s = sessions.get(msg.session);
  if (!s) {
    s = { initiator: null, responder: null, open: false, nextFromInitiator: 0, nextFromResponder: 0 };
    sessions.set(msg.session, s);
  }
  if (s[msg.role] !== null) return sendError(ws, 'malformed', msg.session);
  s[msg.role] = ws;
  ws.sessionIds.add(msg.session);
  if (s.initiator && s.responder) {
    s.open = true;
    const open = { type: 'channel_open', session: msg.session };
    sendJson(s.initiator, open);
    sendJson(s.responder, open);
  }
}

function onText(ws, data) {
  let msg;
  try {
    msg = JSON.parse(data.toString('utf8'));
  } catch {
    return sendError(ws, 'malformed');
  }
  if (msg?.type === 'join') return onJoin(ws, msg);
  if (msg?.type === 'ping') return sendJson(ws, { type: 'pong' });
  return sendError(ws, 'unknown_type');
}

// The hot path: one call per relayed frame.
function onFrame(ws, data) {
  const header = parseHeader(data);
  if (header === null) return sendError(ws, 'bad_frame');
  const s = sessions.get(header.sessionId);
  if (s === undefined || (s.initiator !== ws && s.responder !== ws)) {
    return sendError(ws, 'unknown_session', header.sessionId);
  }
  if (!s.open) return sendError(ws, 'session_not_open', header.sessionId);
  const fromInitiator = s.initiator === ws;
  const expected = fromInitiator ? s.nextFromInitiator : s.nextFromResponder;
  if (header.sequence !== expected) return sendError(ws, 'out_of_order', header.sessionId);
  const receiver = fromInitiator ? s.responder : s.initiator;
  if (receiver.readyState !== WebSocket.OPEN) return sendError(ws, 'unknown_session', header.sessionId);
  if (fromInitiator) s.nextFromInitiator = expected + 1;
  else s.nextFromResponder = expected + 1;
  receiver.send(data, { binary: true });
  if (receiver.bufferedAmount > CONGESTED_BYTES && !ws.isPaused) waitForReceiver(ws, receiver);
}

// Backpressure as in websocket_session::relay: stop reading from the sender while the receiver
// is congested, checking every 10 ms, for at most 5 s.
function waitForReceiver(sender, receiver) {
  sender.pause();
  let polls = 0;
  const poll = () => {
    if (receiver.bufferedAmount > CONGESTED_BYTES && ++polls < CONGESTION_MAX_POLLS && receiver.readyState === WebSocket.OPEN) {
      setTimeout(poll, CONGESTION_POLL_MS);
    } else if (sender.readyState === WebSocket.OPEN) {
      sender.resume();
    }
  };
  setTimeout(poll, CONGESTION_POLL_MS);
}

function onClose(ws) {
  for (const id of ws.sessionIds) {
    const s = sessions.get(id);
    if (!s) continue;
    sessions.delete(id);
    const other = s.initiator === ws ? s.responder : s.initiator;
    if (other) {
      other.sessionIds.delete(id);
      sendJson(other, { type: 'channel_ended', session: id, reason: 'disconnected', by: 'peer' });
    }
  }
  ws.sessionIds.clear();
}

function selfSignedCertificate() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secms-bench-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const pems = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  rmSync(dir, { recursive: true, force: true });
  return pems;
}

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});

const tlsFiles = opts.cert && opts.key
  ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key) }
  : selfSignedCertificate();

const httpsServer = https.createServer(tlsFiles, (req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
});
const wss = new WebSocketServer({
  server: httpsServer,
  path: '/ws',
  maxPayload: MAX_MESSAGE_BYTES,
  perMessageDeflate: false, // secms-server does not negotiate compression either
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});
wss.on('connection', (ws) => {
  ws.sessionIds = new Set();
  ws.on('message', (data, isBinary) => (isBinary ? onFrame(ws, data) : onText(ws, data)));
  ws.on('close', () => onClose(ws));
  ws.on('error', () => {}); // a reset peer is an ordinary end of connection here
});

httpsServer.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: httpsServer.address().port, pid: process.pid })}\n`);
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  httpsServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
