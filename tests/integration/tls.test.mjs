// TLS versions: 1.2 and 1.3 accepted, 1.0 and 1.1 refused by the server (RFC 8996).
//
// To be sure a refusal comes from secms-server and not from our own client's OpenSSL, every
// old-version probe is first run against a control server (node's tls, same certificate) that
// does accept that version; only if the client can complete that handshake do we trust its
// failure against secms-server. If node cannot offer the old version at all, `openssl s_client`
// is the fallback, checked the same way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../helpers/secms-server.mjs';

let server;
let control; // a node TLS server that accepts TLS 1.0–1.3
let controlPort;

before(async () => {
  server = await startServer();
  control = tls.createServer({
    cert: readFileSync(path.join(server.dataDir, 'tls', 'cert.pem')),
    key: readFileSync(path.join(server.dataDir, 'tls', 'key.pem')),
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.3',
    ciphers: 'DEFAULT@SECLEVEL=0',
  }, (socket) => socket.end());
  control.on('tlsClientError', () => {});
  await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlPort = control.address().port;
});

after(async () => {
  await new Promise((resolve) => control?.close(resolve) ?? resolve());
  await server?.stop();
});

// Resolves to { ok, protocol, cipher } or { ok:false, error }.
function handshake(port, { version, ciphers }) {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      ...(ciphers ? { ciphers } : {}),
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      const result = { ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher() };
      socket.end();
      resolve(result);
    });
    socket.once('error', (error) => resolve({ ok: false, error }));
  });
}

// openssl s_client fallback: { offered, output, handshakeOk }.
function sClient(port, flag) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', flag, '-cipher', 'DEFAULT@SECLEVEL=0'], {
    input: '',
    encoding: 'utf8',
    timeout: 10_000,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  const handshakeOk = /Protocol\s*:\s*TLSv1(\.1)?\b/.test(output) && !/Cipher is \(NONE\)/.test(output);
  return { output, handshakeOk };
}

// CBC-mode ECDHE suites for either key type: allowed by TLS 1.2, excluded by the server's policy.
const CBC_CIPHERS = 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:@SECLEVEL=0';

describe('TLS versions', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    test(`${version} is accepted`, async () => {
      const r = await handshake(server.httpsPort, { version });
      assert.equal(r.ok, true, String(r.error));
      assert.equal(r.protocol, version);
      if (version === 'TLSv1.2') {
        // ECDHE with an AEAD cipher only.
        assert.match(r.cipher.standardName, /^TLS_ECDHE_(RSA|ECDSA)_WITH_(AES_(128|256)_GCM|CHACHA20_POLY1305)/, r.cipher.standardName);
      }
    });
  }

  for (const [version, flag] of [['TLSv1', '-tls1'], ['TLSv1.1', '-tls1_1']]) {
    test(`${version} is refused by the server`, async () => {
      const options = { version, ciphers: 'DEFAULT@SECLEVEL=0' };
      const controlResult = await handshake(controlPort, options);
      if (controlResult.ok) {
        assert.equal(controlResult.protocol, version, 'the control really spoke the old version');
        const r = await handshake(server.httpsPort, options);
        assert.equal(r.ok, false, `secms-server accepted ${r.protocol}`);
        // The server answers with a protocol_version alert: it saw our offer and said no.
        assert.match(`${r.error.code} ${r.error.message}`, /ALERT_PROTOCOL_VERSION|alert protocol version/i, String(r.error));
        return;
      }
      // node's OpenSSL could not offer the version: use openssl s_client, also proven on the control first.
      const c = sClient(controlPort, flag);
      assert.equal(c.handshakeOk, true, `neither node nor openssl s_client can offer ${version}; control output:\n${c.output}`);
      const s = sClient(server.httpsPort, flag);
      assert.equal(s.handshakeOk, false, `secms-server accepted ${version}:\n${s.output}`);
      assert.match(s.output, /alert protocol version/i, s.output);
    });
  }

  test('a non-AEAD TLS 1.2 cipher (CBC) is refused', async () => {
    const controlResult = await handshake(controlPort, { version: 'TLSv1.2', ciphers: CBC_CIPHERS });
    assert.equal(controlResult.ok, true, `the client cannot offer a CBC cipher: ${controlResult.error}`);
    const r = await handshake(server.httpsPort, { version: 'TLSv1.2', ciphers: CBC_CIPHERS });
    assert.equal(r.ok, false, `secms-server accepted ${r.cipher?.name}`);
  });

  test('the self-signed certificate is for localhost', async () => {
    const cert = await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, servername: 'localhost', rejectUnauthorized: false }, () => {
        const c = socket.getPeerCertificate();
        socket.end();
        resolve(c);
      });
      socket.on('error', reject);
    });
    assert.match(cert.subjectaltname ?? '', /DNS:localhost/);
    assert.equal(tls.checkServerIdentity('localhost', cert), undefined);
  });
});
