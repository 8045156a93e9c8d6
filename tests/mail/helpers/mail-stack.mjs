// The real mail stack for tests/mail/: a Dovecot instance (tests/helpers/dovecot.mjs, the same
// configuration template scripts/run.sh renders) and the real secms-server wired to it with the
// master secret the server made at `init`, plus raw access to the Maildirs on disk and LMTP
// delivery "from the internet".
//
//   const stack = await startMailStack();           // { server, dovecot, origin, domain, … }
//   await stack.deliver(raw, { from: 'x@example.org', to: ['alice@localhost'] });
//   const files = await stack.maildirFiles('alice', 'Sent');
//   await stack.stop();

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../../web/build.mjs';
import { startDovecot, deliverLmtp } from '../../helpers/dovecot.mjs';
import { startServer, runServerCommand, loopbackRateLimits, serverBinary } from '../../helpers/secms-server.mjs';

let webBuilt = null;

/** The mail flags of the server, from the Dovecot instance (and `mail` overrides: { flag: value }). */
function mailArgs(dovecot, domain, mail) {
  const flags = {
    '--mail-domain': domain,
    '--mail-imap-host': '127.0.0.1',
    '--mail-imap-port': String(dovecot.imapPort),
    '--mail-lmtp-host': '127.0.0.1',
    '--mail-lmtp-port': String(dovecot.lmtpPort),
    '--mail-timeout-s': '10',
    // Every test client is on loopback and a browser test clicks fast: raise the per-user limits.
    '--mail-per-user-burst': '1000',
    '--mail-per-user-per-minute': '10000',
    '--mail-send-per-user-per-minute': '1000',
    ...mail,
  };
  return Object.entries(flags).flatMap(([flag, value]) => [flag, String(value)]);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts Dovecot and secms-server (web/dist built first, once per process). Options:
 * domain ('mail.test'), mail (extra --mail-… flags), extraArgs (other server flags),
 * logLevel ('warn'). Resolves the stack; stop() ends both and removes their directories.
 */
// The identity form accepts only addresses whose domain has a dot (user@localhost is refused as
// "not a valid email address"), so the tests' mail domain has one.
export async function startMailStack({ domain = 'mail.test', mail = {}, extraArgs = [], logLevel = 'warn' } = {}) {
  webBuilt ??= build();
  await webBuilt;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-mail-'));
  const init = await runServerCommand(['--data-dir', dataDir, 'init']);
  if (init.code !== 0) throw new Error(`${serverBinary} init failed (${init.code}): ${init.stderr}`);
  let masterSecret;
  try {
    masterSecret = (await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8')).trim();
  } catch (error) {
    throw new Error(`secms-server init made no <data>/mail/master-secret: ${error.message}`);
  }
  const dovecot = await startDovecot({ masterSecret, domain });
  let server;
  try {
    server = await startServer({
      dataDir, logLevel,
      extraArgs: [...loopbackRateLimits, ...mailArgs(dovecot, domain, mail), ...extraArgs],
    });
  } catch (error) {
    await dovecot.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  let restarted = null;
  const stack = {
    server,
    dovecot,
    origin: server.origin,
    domain,
    dataDir,
    address: (username) => `${username.toLowerCase()}@${domain}`,
    /** Delivers raw bytes over LMTP, as the internet-facing MTA would; throws on a refusal. */
    async deliver(raw, { from = 'sender@example.org', to }) {
      const result = await deliverLmtp({ host: dovecot.host ?? '127.0.0.1', port: dovecot.lmtpPort, from, to: [].concat(to), raw });
      if (result.refused?.length) throw new Error(`LMTP refused: ${JSON.stringify(result.refused)}`);
      return result;
    },
    /** Stops Dovecot and keeps its directory (mail, configuration): an outage. */
    async stopDovecot() {
      const child = restarted ?? dovecot.process;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      restarted = null;
    },
    /** Starts Dovecot again with the same configuration and ports; resolves once IMAP answers. */
    async restartDovecot() {
      restarted = spawn('dovecot', ['-F', '-c', dovecot.configPath], { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      while (!(await answers(dovecot.imapPort))) {
        if (Date.now() > deadline) throw new Error('Dovecot did not come back');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** Message files of a user's folder on disk ('INBOX', 'Sent', …), new/ and cur/, oldest first. */
    async maildirFiles(username, folder = 'INBOX') {
      const root = dovecot.maildirOf(username.toLowerCase());
      const candidates = folder === 'INBOX' ? [root, path.join(root, 'INBOX')] : [path.join(root, `.${folder}`), path.join(root, folder)];
      const files = [];
      for (const dir of candidates) {
        for (const sub of ['new', 'cur']) {
          const entries = await readdir(path.join(dir, sub)).catch(() => []);
          for (const name of entries) {
            const file = path.join(dir, sub, name);
            files.push({ file, mtime: (await stat(file)).mtimeMs });
          }
        }
      }
      return files.sort((a, b) => a.mtime - b.mtime).map((entry) => entry.file);
    },
    /** The raw bytes of every message of a user's folder on disk. */
    async maildirMessages(username, folder = 'INBOX') {
      return Promise.all((await stack.maildirFiles(username, folder)).map((file) => readFile(file)));
    },
    /** Waits until a user's folder on disk holds at least `count` messages; resolves their bytes. */
    async waitForMaildir(username, folder, count = 1, timeoutMs = 15_000) {
      const started = Date.now();
      for (;;) {
        const messages = await stack.maildirMessages(username, folder);
        if (messages.length >= count) return messages;
        if (Date.now() - started > timeoutMs) throw new Error(`${username}/${folder}: ${messages.length} messages on disk, expected ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    },
    output: () => { const { stdout, stderr } = server.logs(); return stdout + stderr; },
    async stop() {
      await server.stop().catch(() => {});
      if (restarted) await stack.stopDovecot();
      await dovecot.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * The usual set-up of a mail browser test file (as tests/e2e/helpers/server.mjs useAppServer):
 * the mail stack and Chromium started before the file's tests, stopped after them. Never skips:
 * a missing binary, Dovecot or Chromium fails the file with the reason.
 */
export async function useMailStack(options = {}) {
  const { before, after } = await import('node:test');
  const { launchBrowser } = await import('../../e2e/helpers/browser.mjs');
  const suite = { stack: null, browser: null };
  before(async () => {
    suite.stack = await startMailStack(options);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.stack?.stop();
  });
  return suite;
}
