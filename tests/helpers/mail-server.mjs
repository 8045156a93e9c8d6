// secms-server wired to a Dovecot companion (tests/helpers/dovecot.mjs) for the mail integration
// tests: `init` makes the data directory and the master secret, Dovecot starts with that secret,
// the server with the loopback rate limits and Dovecot's ports, and the users are registered
// and logged in. (tests/mail/helpers/mail-stack.mjs does the same for the browser tests, with
// the web build and a mail domain with a dot.)
//
//   const mail = await startMailServer({ users: ['alice', 'bob'], dovecot: { quotaMb: 1 } });
//   await request(mail.server, 'GET', '/api/v1/mail/status', { cookie: mail.cookies.alice });
//   await mail.stop();

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startDovecot } from './dovecot.mjs';
import { login, loopbackRateLimits, register, runServerCommand, startServer } from './secms-server.mjs';

export const PASSWORD = 'correct horse battery staple';

/**
 * Options: users (registered and logged in; cookies by name), dovecot (startDovecot options
 * besides the secret), serverArgs (more server flags), logLevel, imapPort (a port in front of
 * Dovecot's, e.g. a relay's, given the Dovecot instance: (dovecot) => port).
 * Resolves { server, dovecot, dataDir, cookies, stop() }.
 */
export async function startMailServer({
  users = [], dovecot: dovecotOptions = {}, serverArgs = [], logLevel = 'warn', imapPort,
} = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-mail-'));
  const init = await runServerCommand(['--data-dir', dataDir, 'init']);
  assert.equal(init.code, 0, init.stderr);
  const masterSecret = await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8');
  const dovecot = await startDovecot({ ...dovecotOptions, masterSecret });
  let server;
  const stop = async () => {
    await server?.stop().catch(() => {});
    await dovecot.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const port = imapPort ? await imapPort(dovecot) : dovecot.imapPort;
    server = await startServer({
      dataDir, logLevel, extraArgs: [...loopbackRateLimits,
        '--mail-imap-port', String(port), '--mail-lmtp-port', String(dovecot.lmtpPort), ...serverArgs],
    });
    const cookies = {};
    for (const user of users) {
      assert.equal((await register(server, user, PASSWORD)).status, 201);
      cookies[user] = (await login(server, user, PASSWORD)).cookie;
    }
    return { server, dovecot, dataDir, cookies, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
