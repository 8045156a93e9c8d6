// Starts Debian's Dovecot on loopback for the mail tests, with the configuration template that
// scripts/run.sh renders (server/mail/dovecot.conf.in), rendered by the same shell function
// (scripts/dovecot.sh dovecot_render), in a private temporary directory, on free ports. Missing
// dovecot is an error, never a skip (DESIGN.md §11: CI installs it through
// scripts/install-deps.sh). Also small raw-socket IMAP and LMTP clients to put mail in and look.
//
//   const dovecot = await startDovecot({ masterSecret: await readFile(`${dataDir}/mail/master-secret`, 'utf8') });
//   await dovecot.deliver({ from: 'bob@localhost', to: ['alice@localhost'], raw });
//   const imap = await dovecot.login('alice');           // as alice*secms with the master secret
//   const { untagged } = await imap.command('SELECT INBOX');
//   await imap.logout();
//   await dovecot.stop();

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnCompanion } from './companion-process.mjs';
import { freePort, repoRoot } from './secms-server.mjs';

export const dovecotTemplate = path.join(repoRoot, 'server', 'mail', 'dovecot.conf.in');
export const dovecotScript = path.join(repoRoot, 'scripts', 'dovecot.sh');
export const dovecotBinary = process.env.SECMS_DOVECOT ?? 'dovecot';

const IO_TIMEOUT_MS = 10_000;
const MAX_LINE = 1 << 20; // a response line or literal longer than this is a broken server

/** Throws unless dovecot can be run. */
export function assertDovecotInstalled() {
  const probe = spawnSync(dovecotBinary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Dovecot is needed (${dovecotBinary}: ${probe.error?.message ?? `exit ${probe.status}`}); ` +
        "scripts/install-deps.sh installs Debian's dovecot-imapd and dovecot-lmtpd",
    );
  }
}

/**
 * Runs scripts/dovecot.sh's dovecot_render into `dir` with the DOVECOT_* variables of `vars`
 * (the names without the prefix: LISTEN_IP, IMAP_PORT, …). Resolves to { status, stderr } and
 * never throws for a refused value: the tests check the refusals too.
 */
export function renderDovecotConfig(dir, vars) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/' };
  for (const [name, value] of Object.entries(vars)) env[`DOVECOT_${name}`] = String(value);
  const probe = spawnSync(
    'bash',
    ['-c', 'source "$1/scripts/lib.sh" && source "$1/scripts/dovecot.sh" && dovecot_render "$2"', 'render', repoRoot, dir],
    { env, encoding: 'utf8', timeout: 20_000 },
  );
  if (probe.error) throw probe.error;
  return { status: probe.status, stderr: probe.stderr };
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('* OK'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * Starts Dovecot with the master user `masterUser` whose password is `masterSecret` (the text
 * of secms-server's <data_dir>/mail/master-secret; a random one when absent), each mailbox
 * limited to `quotaMb` MiB (scripts/dovecot.sh's default when absent), with the quota-status
 * policy service for a Postfix in front on a free port when `quotaStatus` is true. Resolves to
 * { host, imapPort, lmtpPort, quotaStatusPort (null without it), domain, masterUser, masterSecret,
 *   dir, mailDir, configPath, logPath, maildirOf(user), log(), login(user), deliver({from, to, raw}),
 *   appendMany(user, folder, raws), stop() }.
 * Run as root, the mail belongs to Debian's `mail` account (Dovecot never accesses mail as root):
 * the temporary directory is then 0711 so that account reaches mail/, and everything secret
 * (configuration, master user's hash, log) stays in its 0700 dovecot/.
 */
export async function startDovecot({
  masterSecret = randomBytes(32).toString('hex'), domain = 'localhost', masterUser = 'secms', mailDebug = false,
  quotaMb, quotaStatus = false,
} = {}) {
  assertDovecotInstalled();
  const secret = String(masterSecret).trim();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-dovecot-'));
  await chmod(dir, 0o711);
  const confDir = path.join(dir, 'dovecot');
  const mailRoot = path.join(dir, 'mail');
  const mailDir = path.join(mailRoot, domain.toLowerCase());
  await mkdir(confDir, { mode: 0o700 });
  await mkdir(mailRoot, { mode: 0o711 });
  await chmod(mailRoot, 0o711);
  const secretFile = path.join(confDir, 'master-secret');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });

  const imapPort = await freePort();
  let lmtpPort = await freePort();
  while (lmtpPort === imapPort) lmtpPort = await freePort();
  let quotaStatusPort = null;
  if (quotaStatus) {
    do quotaStatusPort = await freePort();
    while (quotaStatusPort === imapPort || quotaStatusPort === lmtpPort);
  }
  const rendered = renderDovecotConfig(confDir, {
    LISTEN_IP: '127.0.0.1', IMAP_PORT: imapPort, LMTP_PORT: lmtpPort, DOMAIN: domain, MAIL_DIR: mailDir,
    MASTER_USER: masterUser, MASTER_SECRET_FILE: secretFile, BASE_DIR: path.join(dir, 'run'),
    MAIL_DEBUG: mailDebug ? 1 : 0, ...(quotaMb === undefined ? {} : { QUOTA_MB: quotaMb }),
    ...(quotaStatusPort === null ? {} : { QUOTA_STATUS_PORT: quotaStatusPort }),
  });
  if (rendered.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`dovecot_render failed (exit ${rendered.status}): ${rendered.stderr}`);
  }
  const configPath = path.join(confDir, 'dovecot.conf');
  const logPath = path.join(confDir, 'dovecot.log');

  const companion = spawnCompanion({ binary: dovecotBinary, args: ['-F', '-c', configPath], dir, logPath });
  const { log } = companion;

  const dovecot = {
    host: '127.0.0.1',
    imapPort,
    lmtpPort,
    quotaStatusPort,
    domain: domain.toLowerCase(),
    masterUser,
    masterSecret: secret,
    dir,
    mailDir,
    configPath,
    logPath,
    process: companion.process,
    log,
    /** The Maildir of `user` (the local part, lower case): INBOX's new/ and cur/ are in it. */
    maildirOf: (user) => path.join(mailDir, String(user).toLowerCase().replace(/@.*$/, '')),
    /** An IMAP client logged in as `user` through the master user. */
    login: (user) => imapLogin({ port: imapPort, user: `${user}*${masterUser}`, password: secret }),
    /** Delivers `raw` over LMTP; resolves to the reply of each recipient. */
    deliver: ({ from, to, raw }) => deliverLmtp({ port: lmtpPort, from, to, raw }),
    /**
     * Puts many messages (strings) into `folder` of `user` with IMAP MULTIAPPEND (RFC 3502, one
     * transaction per `chunk`, LITERAL+): a 10 000-message folder in seconds, where LMTP
     * delivers a few hundred a second. UIDs follow the order given. → { appended, ms }.
     */
    async appendMany(user, folder, raws, { chunk = 1000 } = {}) {
      const started = performance.now();
      const client = await imapLogin({ port: imapPort, user: `${user}*${masterUser}`, password: secret });
      try {
        for (let start = 0; start < raws.length; start += chunk) {
          const literals = raws.slice(start, start + chunk).map((raw) => ` () {${Buffer.byteLength(raw)}+}\r\n${raw}`);
          const answer = await client.command(`APPEND ${quoted(folder)}${literals.join('')}`, { timeoutMs: 120_000 });
          if (answer.status !== 'OK') throw new Error(`IMAP APPEND refused: ${answer.text}`);
        }
        await client.logout();
      } finally {
        client.close();
      }
      return { appended: raws.length, ms: performance.now() - started };
    },
    /** SIGTERM, wait up to 5 s, then SIGKILL; removes the directory. */
    stop: companion.stop,
  };

  await companion.waitReady({ name: 'dovecot', port: imapPort, ready: () => listening(imapPort), notReady: 'no IMAP greeting' });
  return dovecot;
}

// Reads CRLF lines from a socket, with IMAP literals ({n} at a line's end, then n octets) folded
// into the line they belong to. Every wait has a timeout.
class LineReader {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiters = [];
    this.error = null;
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.#wake();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.#wake();
    });
    socket.on('close', () => {
      this.error ??= new Error('connection closed');
      this.#wake();
    });
  }

  #wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async #more(deadline) {
    if (this.error) throw this.error;
    if (this.buffer.length > MAX_LINE) throw new Error('line too long');
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timed out waiting for the server');
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One line without its CRLF (a Buffer); literals included as they came. */
  async line(timeoutMs = IO_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    let line = Buffer.alloc(0);
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) {
        await this.#more(deadline);
        continue;
      }
      line = Buffer.concat([line, this.buffer.subarray(0, end)]);
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(line.toString('latin1'));
      if (!literal) return line;
      const size = Number(literal[1]);
      if (size > MAX_LINE) throw new Error(`literal of ${size} octets`);
      while (this.buffer.length < size) await this.#more(deadline);
      line = Buffer.concat([line, Buffer.from('\r\n'), this.buffer.subarray(0, size)]);
      this.buffer = this.buffer.subarray(size);
    }
  }
}

function connect(port, host, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port}`));
    }, IO_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A raw IMAP connection: command(text) sends "<tag> text" and resolves to { status ('OK', 'NO',
 * 'BAD'), text (the tagged line), untagged: [lines as strings] }; next(timeoutMs) reads one line
 * (for IDLE); send(text) writes a raw line; logout(); close(). `localAddress` (another 127.x
 * address) keeps a test's failed logins from delaying the others: Dovecot's auth penalty is kept
 * per client address.
 */
export async function imapConnect({ port, host = '127.0.0.1', localAddress }) {
  const socket = await connect(port, host, localAddress);
  const reader = new LineReader(socket);
  const greeting = (await reader.line()).toString('utf8');
  if (!greeting.startsWith('* OK')) {
    socket.destroy();
    throw new Error(`IMAP greeting: ${greeting}`);
  }
  let counter = 0;
  const client = {
    greeting,
    socket,
    async next(timeoutMs = IO_TIMEOUT_MS) {
      return (await reader.line(timeoutMs)).toString('utf8');
    },
    send(text) {
      socket.write(`${text}\r\n`);
    },
    async command(text, { timeoutMs = IO_TIMEOUT_MS } = {}) {
      counter += 1;
      const tag = `t${counter}`;
      socket.write(`${tag} ${text}\r\n`);
      const untagged = [];
      for (;;) {
        const line = await client.next(timeoutMs);
        if (line.startsWith(`${tag} `)) {
          const status = line.slice(tag.length + 1).split(' ')[0];
          return { status, text: line, untagged };
        }
        untagged.push(line);
      }
    },
    async logout() {
      try {
        await client.command('LOGOUT');
      } finally {
        socket.destroy();
      }
    },
    close() {
      socket.destroy();
    },
  };
  return client;
}

// An IMAP quoted string (RFC 3501 §4.3); the test values never hold CR or LF.
const quoted = (text) => {
  if (/[\r\n]/.test(text)) throw new Error('CR or LF in an IMAP string');
  return `"${String(text).replace(/["\\]/g, '\\$&')}"`;
};

/** imapConnect then LOGIN; throws with the server's answer when the login is refused. */
export async function imapLogin({ port, host = '127.0.0.1', localAddress, user, password }) {
  const client = await imapConnect({ port, host, localAddress });
  const answer = await client.command(`LOGIN ${quoted(user)} ${quoted(password)}`);
  if (answer.status !== 'OK') {
    client.close();
    const error = new Error(`IMAP LOGIN refused: ${answer.text}`);
    error.answer = answer;
    throw error;
  }
  return client;
}

/**
 * Delivers `raw` (string or Buffer, a whole RFC 5322 message) over LMTP (RFC 2033) from `from` to
 * every address of `to`. Resolves to { accepted: [addresses], refused: [{address, reply}],
 * replies: [{address, reply}] } where replies are the per-recipient answers after DATA. Throws
 * when the session itself fails (greeting, LHLO, MAIL FROM, DATA).
 */
export async function deliverLmtp({ port, host = '127.0.0.1', from, to, raw }) {
  const socket = await connect(port, host);
  const reader = new LineReader(socket);
  // One reply: its lines up to the one with a space after the code ("250 …", not "250-…").
  const reply = async () => {
    const lines = [];
    for (;;) {
      const line = (await reader.line()).toString('utf8');
      lines.push(line);
      if (!/^\d{3}-/.test(line)) return { code: Number(line.slice(0, 3)), text: lines.join('\n') };
    }
  };
  const expect = async (what, ok) => {
    const answer = await reply();
    if (!ok(answer.code)) throw new Error(`LMTP ${what}: ${answer.text}`);
    return answer;
  };
  const forbidden = /[\r\n<>]/;
  if (forbidden.test(from) || to.some((a) => forbidden.test(a))) throw new Error('bad address');
  try {
    await expect('greeting', (c) => c === 220);
    socket.write('LHLO secms-tests\r\n');
    await expect('LHLO', (c) => c === 250);
    socket.write(`MAIL FROM:<${from}>\r\n`);
    await expect('MAIL FROM', (c) => c === 250);
    const accepted = [];
    const refused = [];
    for (const address of to) {
      socket.write(`RCPT TO:<${address}>\r\n`);
      const answer = await reply();
      if (answer.code === 250) accepted.push(address);
      else refused.push({ address, reply: answer.text });
    }
    const replies = [];
    if (accepted.length > 0) {
      socket.write('DATA\r\n');
      await expect('DATA', (c) => c === 354);
      // CRLF line ends, and a leading "." doubled (RFC 5321 §4.5.2), then the end marker.
      let body = Buffer.isBuffer(raw) ? raw.toString('latin1') : Buffer.from(raw, 'utf8').toString('latin1');
      body = body.replace(/\r?\n/g, '\r\n');
      if (!body.endsWith('\r\n')) body += '\r\n';
      body = body.replace(/^\./gm, '..');
      socket.write(Buffer.from(`${body}.\r\n`, 'latin1'));
      for (const address of accepted) replies.push({ address, reply: (await reply()).text });
    }
    socket.write('QUIT\r\n');
    await reply().catch(() => {});
    return {
      accepted: accepted.filter((a) => replies.find((r) => r.address === a)?.reply.startsWith('250')),
      refused: [...refused, ...replies.filter((r) => !r.reply.startsWith('250'))],
      replies,
    };
  } finally {
    socket.destroy();
  }
}
