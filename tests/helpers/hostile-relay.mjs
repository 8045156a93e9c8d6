// A test-only TLS interposer between clients (Node test clients or Chromium) and the real
// secms-server: it plays the hostile relay of the threat model. It terminates TLS with the
// server's own self-signed certificate, proxies plain HTTP requests, and proxies the application
// WebSocket message by message, so a `tamper` hook can see every message in each direction and
// replace, drop, hold and reorder, or duplicate (replay) it. With no hook it is a pure tap that
// records everything each side sent and received after TLS termination.
//
// It lives under tests/ and is never part of the server. Nothing is rewritten except what the
// hook asks for, and — on the server→client leg, where this relay is the last hop — the relay
// frame sequence numbers (see `renumberToClients`).
//
// Origin: clients load the app from the relay's origin (https://localhost:<relay port>), so the
// server must allow it. Either start the server with `--extra-origins <relay origin>` (pick the
// port first with freePort() and pass it as `port`), or pass `rewriteOrigin: server.origin` and
// the relay rewrites the Origin header of HTTP requests and WebSocket upgrades to the server's
// own (simpler, but then the server cannot tell the relay's origin apart).
//
//   const port = await freePort();
//   const server = await startServer({ extraArgs: ['--extra-origins', `https://localhost:${port}`] });
//   const relay = await startHostileRelay({ server, port });
//   relay.tamper = (frame) => { … return undefined (pass) | [] (drop) | [frame, frame] (replay) };
//   // relay.httpsPort / relay.origin make it usable as the `server` of secms-server.mjs helpers.
//   await relay.close();

import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeRelayFrame, parseRelayFrame } from './relay-frame.mjs';

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024; // above the server's own limit: the server decides

// Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, not the origin's.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Close codes a WebSocket endpoint may send (RFC 6455 §7.4); others map to 1000. */
function sendableCloseCode(code) {
  return (code >= 3000 && code <= 4999) || [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code)
    ? code : 1000;
}

/**
 * Starts the relay in front of `server` ({ httpsPort, dataDir } of secms-server.mjs startServer).
 * Options: port (default: any free one), tamper (hook, settable later as relay.tamper),
 * rewriteOrigin (string or null), renumberToClients (default true; settable later too).
 *
 * The hook is called as `tamper(frame)` for every WebSocket message, in order per connection and
 * direction (it may be async; the next message of that leg waits for it). `frame` is
 *   { direction: 'to_server' | 'to_client', connection: { id, username, userid },
 *     isBinary, data (Buffer, as received), relay ({ type, sessionId, sequence, body } for a
 *     binary relay frame, else null), json (parsed text message, else null) }
 * It returns undefined to pass the message on unchanged, or an array of what to send instead,
 * in order: frame objects (re-encoded from `relay` or `json`, so a hook may edit those fields),
 * Buffers (binary) or strings (text). [] drops; [frame, frame] replays; holding a frame and
 * returning [later, held] reorders.
 */
export async function startHostileRelay({ server, port = 0, tamper = null, rewriteOrigin = null, renumberToClients = true } = {}) {
  const tlsDir = path.join(server.dataDir, 'tls');
  const [cert, key] = await Promise.all([readFile(path.join(tlsDir, 'cert.pem')), readFile(path.join(tlsDir, 'key.pem'))]);
  const upstreamPort = server.httpsPort;

  const relay = {
    tamper,
    /** Renumber relay frames delivered to clients (settable per test). */
    renumberToClients,
    httpsPort: 0,
    origin: '',
    /** Every WebSocket message: { direction, phase: 'received'|'forwarded', connectionId, username, isBinary, data }. */
    frames: [],
    /** Every proxied HTTP exchange: { method, url, requestHeaders, requestBody, status, responseHeaders, responseBody }. */
    http: [],
    /** Hook exceptions and proxy failures; a test should expect none. */
    errors: [],
    connections: new Map(),
    close: null,
  };
  let nextConnectionId = 1;

  const httpsServer = https.createServer({ cert, key });
  const sockets = new Set();
  httpsServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  // ---- plain HTTP: one upstream request per request, bodies buffered (they are small) -------
  httpsServer.on('request', (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks);
      const headers = {};
      for (const [name, value] of Object.entries(req.headers)) if (!hopByHop.has(name)) headers[name] = value;
      if (rewriteOrigin && headers.origin) headers.origin = rewriteOrigin;
      const exchange = { method: req.method, url: req.url, requestHeaders: headers, requestBody };
      const upstream = https.request({
        host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers,
        servername: 'localhost', rejectUnauthorized: false, agent: false,
      }, (upstreamRes) => {
        const body = [];
        upstreamRes.on('data', (chunk) => body.push(chunk));
        upstreamRes.on('end', () => {
          const responseBody = Buffer.concat(body);
          const responseHeaders = {};
          for (const [name, value] of Object.entries(upstreamRes.headers)) if (!hopByHop.has(name)) responseHeaders[name] = value;
          if (req.method !== 'HEAD' && upstreamRes.statusCode !== 204 && upstreamRes.statusCode !== 304) {
            responseHeaders['content-length'] = String(responseBody.length);
          }
          Object.assign(exchange, { status: upstreamRes.statusCode, responseHeaders, responseBody });
          relay.http.push(exchange);
          res.writeHead(upstreamRes.statusCode, responseHeaders);
          res.end(responseBody);
        });
      });
      upstream.on('error', (error) => {
        relay.errors.push(`http ${req.method} ${req.url}: ${error.message}`);
        res.writeHead(502).end();
      });
      upstream.end(requestBody);
    });
  });

  // ---- WebSocket: open upstream first, then accept the client with the protocol it got --------
  const wss = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (offered, req) => (req.secmsUpstreamProtocol && offered.has(req.secmsUpstreamProtocol) ? req.secmsUpstreamProtocol : false),
  });

  httpsServer.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const headers = {};
    if (req.headers.cookie) headers.Cookie = req.headers.cookie;
    if (req.headers.origin) headers.Origin = rewriteOrigin ?? req.headers.origin;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const url = `wss://127.0.0.1:${upstreamPort}${req.url}`;
    const upstream = new WebSocket(url, offered.length ? offered : undefined, {
      headers, servername: 'localhost', rejectUnauthorized: false, perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES,
    });
    const connection = { id: nextConnectionId++, username: null, userid: null, upstream, client: null };
    relay.connections.set(connection.id, connection);

    // Two legs, each a promise chain so messages keep their order even through async hooks.
    let clientReady;
    const clientWired = new Promise((resolve) => { clientReady = resolve; });
    const legs = {
      to_server: { chain: clientWired, nextSequence: null },
      to_client: { chain: clientWired, nextSequence: new Map() },
    };

    // `item`: a frame object (encoded from its `relay` or `json` field, which a hook may have
    // edited), a Buffer (binary) or a string (text); `{ raw, isBinary }` is an untouched pass-through.
    const send = (direction, item) => {
      const target = direction === 'to_server' ? upstream : connection.client;
      if (!target || target.readyState !== WebSocket.OPEN) return;
      let data;
      let isBinary;
      if (item.raw) {
        ({ raw: data, isBinary } = item);
      } else if (Buffer.isBuffer(item) || item instanceof Uint8Array) {
        data = Buffer.from(item);
        isBinary = true;
      } else if (typeof item === 'string') {
        data = Buffer.from(item, 'utf8');
        isBinary = false;
      } else if (item.relay) {
        data = encodeRelayFrame(item.relay);
        isBinary = true;
      } else if (item.json) {
        data = Buffer.from(JSON.stringify(item.json), 'utf8');
        isBinary = false;
      } else {
        data = Buffer.from(item.data);
        isBinary = Boolean(item.isBinary);
      }
      if (isBinary && direction === 'to_client' && relay.renumberToClients) {
        // This relay is the client's last hop: it numbers the frames it delivers 0, 1, 2, … per
        // session, as the honest server would, so a replayed or reordered frame reaches the
        // client's protocol layer instead of tripping over a relay-level sequence gap.
        const parsed = parseRelayFrame(data);
        if (parsed) {
          const next = legs.to_client.nextSequence.get(parsed.sessionId) ?? 0;
          legs.to_client.nextSequence.set(parsed.sessionId, next + 1);
          if (parsed.sequence !== next) data = encodeRelayFrame({ ...parsed, sequence: next });
        }
      }
      relay.frames.push({ direction, phase: 'forwarded', connectionId: connection.id, username: connection.username, isBinary, data });
      target.send(data, { binary: isBinary });
    };

    const handle = async (direction, data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat([].concat(data));
      let json = null;
      if (!isBinary) {
        try { json = JSON.parse(buffer.toString('utf8')); } catch { json = null; }
        // The server greets with the login's user: the hook can tell connections apart by it.
        if (direction === 'to_client' && json?.type === 'hello' && json.user) {
          connection.username = json.user.username;
          connection.userid = json.user.userid;
        }
      }
      relay.frames.push({ direction, phase: 'received', connectionId: connection.id, username: connection.username, isBinary, data: buffer });
      const frame = {
        direction, isBinary, data: buffer, json,
        connection: { id: connection.id, username: connection.username, userid: connection.userid },
        relay: isBinary ? parseRelayFrame(buffer) : null,
      };
      let out;
      try {
        out = relay.tamper ? await relay.tamper(frame) : undefined;
      } catch (error) {
        relay.errors.push(`tamper hook (${direction}): ${error.stack ?? error}`);
        out = undefined;
      }
      if (out === undefined) send(direction, { raw: buffer, isBinary });
      else for (const item of out) send(direction, item);
    };

    const enqueue = (direction, task) => {
      const leg = legs[direction];
      leg.chain = leg.chain.then(task).catch((error) => relay.errors.push(`leg ${direction}: ${error.stack ?? error}`));
    };
    // Lets a hook of any leg send a message of its own on this connection (after what is queued).
    connection.inject = (direction, item) => enqueue(direction, () => send(direction, item));

    upstream.on('message', (data, isBinary) => enqueue('to_client', () => handle('to_client', data, isBinary)));
    upstream.on('close', (code, reason) => enqueue('to_client', () => {
      if (connection.client && connection.client.readyState === WebSocket.OPEN) connection.client.close(sendableCloseCode(code), reason);
    }));
    upstream.on('error', () => {});
    upstream.once('unexpected-response', (upReq, upRes) => {
      // Refused upgrade (401, 403, 400…): hand the server's answer to the client as it was.
      const body = [];
      upRes.on('data', (chunk) => body.push(chunk));
      upRes.on('end', () => {
        const bodyBytes = Buffer.concat(body);
        const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
        for (const [name, value] of Object.entries(upRes.headers)) {
          if (hopByHop.has(name) || name === 'content-length') continue;
          for (const v of [].concat(value)) lines.push(`${name}: ${v}`);
        }
        lines.push(`content-length: ${bodyBytes.length}`, 'connection: close', '', '');
        socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), bodyBytes]));
      });
    });
    upstream.once('open', () => {
      req.secmsUpstreamProtocol = upstream.protocol;
      wss.handleUpgrade(req, socket, head, (client) => {
        connection.client = client;
        client.on('message', (data, isBinary) => enqueue('to_server', () => handle('to_server', data, isBinary)));
        client.on('close', (code, reason) => enqueue('to_server', () => {
          if (upstream.readyState === WebSocket.OPEN) upstream.close(sendableCloseCode(code), reason);
        }));
        client.on('error', () => {});
        clientReady();
      });
    });
  });

  await new Promise((resolve, reject) => {
    httpsServer.once('error', reject);
    httpsServer.listen(port, '127.0.0.1', resolve);
  });
  relay.httpsPort = httpsServer.address().port;
  relay.origin = `https://localhost:${relay.httpsPort}`;

  relay.close = async () => {
    for (const connection of relay.connections.values()) {
      connection.client?.terminate();
      connection.upstream.terminate();
    }
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => httpsServer.close(() => resolve()));
  };

  /**
   * Sends `item` (as a hook would return it) on the open connection(s) of `username`, in
   * `direction`, after what that leg already queued: a hook answering on another connection.
   */
  relay.inject = ({ username, direction = 'to_client', item }) => {
    let count = 0;
    for (const connection of relay.connections.values()) {
      if (connection.username !== username || connection.client?.readyState !== WebSocket.OPEN) continue;
      connection.inject(direction, item);
      count++;
    }
    if (count === 0) relay.errors.push(`inject: no open connection of ${username}`);
  };

  /** The messages recorded for one user's connections and direction (phase 'received' by default). */
  relay.framesOf = ({ username, direction, phase = 'received', isBinary } = {}) => relay.frames.filter((f) =>
    (username === undefined || f.username === username) && (direction === undefined || f.direction === direction)
    && f.phase === phase && (isBinary === undefined || f.isBinary === isBinary));

  return relay;
}
