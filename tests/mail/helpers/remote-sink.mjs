// "The internet" for the mail tests: one plain HTTP and one HTTPS server on 127.0.0.1 that
// answer every request with a small PNG and record it. A hostile mail's remote URLs point here, so
// "nothing leaves" is the plain fact `sink.requests.length === 0`. Like a real tracker, the
// answers carry no Cross-Origin-Resource-Policy header.
//
//   const sink = await startRemoteSink();  // { http, https, requests, clear(), stop() }

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// A 16×16 opaque red PNG (so a loaded image has a natural size the test can read).
export const probePng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mP4z8BAEmIY1TCqYfhqAACQ+f8B8u7oVwAAAABJRU5ErkJggg==',
  'base64',
);

/** A throw-away self-signed certificate for 127.0.0.1 (openssl; fails with a message if missing). */
async function selfSignedCertificate() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-sink-'));
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    return { key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) };
  } catch (error) {
    throw new Error(`openssl could not make the sink's certificate (scripts/install-deps.sh installs openssl): ${error.message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startRemoteSink() {
  const requests = [];
  const answer = (scheme) => (req, res) => {
    requests.push({ scheme, method: req.method, url: req.url, headers: req.headers, at: Date.now() });
    req.resume();
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Content-Length': probePng.length });
    res.end(probePng);
  };
  const plain = http.createServer(answer('http'));
  const secure = https.createServer(await selfSignedCertificate(), answer('https'));
  const listen = (server) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
  const [httpPort, httpsPort] = [await listen(plain), await listen(secure)];
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://127.0.0.1:${httpsPort}`,
    hosts: [`127.0.0.1:${httpPort}`, `127.0.0.1:${httpsPort}`],
    requests,
    clear: () => requests.splice(0),
    stop: () => Promise.all([plain, secure].map((server) => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }))),
  };
}
