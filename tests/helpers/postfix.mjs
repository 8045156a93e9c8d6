// Runs Debian's Postfix as a private instance for the internet-facing layout test
// (docs/operations.md "Internet-facing layout"): the operator's template
// (server/mail/postfix/main.cf.in, master.cf.in) rendered into a temporary directory, with the
// instance's own config_directory, queue_directory and data_directory and an smtpd on
// 127.0.0.1:<free port>, started with `postfix -c <dir> start` and stopped with `postfix -c <dir>
// stop`. The system instance (/etc/postfix) is never read, started nor stopped. Postfix needs
// root (its queue belongs to the postfix account): not root, or no postfix, is an error, never a
// skip (CI runs as root; scripts/install-deps.sh installs Debian's postfix).
//
//   const postfix = await startPostfix({ domain: 'secms.test', lmtpPort: dovecot.lmtpPort,
//     quotaStatusPort: dovecot.quotaStatusPort });   // startDovecot({ quotaStatus: true })
//   postfix.refreshUsersTable(dataDir);            // scripts/postfix-users.sh, as the doc's cron job
//   const smtp = await smtpConnect({ port: postfix.smtpPort, localAddress: '127.0.0.2' });
//   await smtp.command('EHLO client.test');
//   await postfix.stop();

import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, serverBinary } from './secms-server.mjs';

export const postfixTemplateDir = path.join(repoRoot, 'server', 'mail', 'postfix');
export const postfixUsersScript = path.join(repoRoot, 'scripts', 'postfix-users.sh');
const postfixBinary = process.env.SECMS_POSTFIX ?? 'postfix';
const postconfBinary = process.env.SECMS_POSTCONF ?? 'postconf';

const IO_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const MAX_REPLY = 64 * 1024; // an SMTP reply longer than this is a broken server
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Throws unless this process is root and Postfix's commands run. */
export function assertPostfixUsable() {
  const probe = spawnSync(postconfBinary, ['-d', 'mail_version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Postfix is needed (${postconfBinary}: ${probe.error?.message ?? `exit ${probe.status}: ${probe.stderr}`}); ` +
        "scripts/install-deps.sh installs Debian's postfix",
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Error('the Postfix test runs as root: a Postfix instance needs root for its queue (owned by the postfix account)');
  }
}

// Runs a Postfix command; throws with its output unless it exits 0.
function run(binary, args, what) {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error || result.status !== 0) {
    throw new Error(`${what} (${binary} ${args.join(' ')}) failed: ${result.error?.message ?? `exit ${result.status}`}\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** Replaces every @NAME@ of `text` with values[NAME]; throws when one is left without a value. */
export function renderTemplate(text, values) {
  const rendered = text.replace(/@([A-Z_]+)@/g, (whole, name) => {
    if (!(name in values)) throw new Error(`no value for the placeholder ${whole}`);
    const value = String(values[name]);
    if (/[\r\n]/.test(value)) throw new Error(`a line break in the value of ${whole}`);
    return value;
  });
  return rendered;
}

/**
 * Starts a private Postfix for `domain` that delivers to Dovecot's LMTP on 127.0.0.1:`lmtpPort`
 * and asks Dovecot's quota-status service on 127.0.0.1:`quotaStatusPort` (the template's lines,
 * and the private instance's after them). Resolves to { host, smtpPort, dir, configDir,
 * usersTable, log(), postconf(name), usersScript(dataDir, { args, as }), refreshUsersTable(dataDir),
 * usersTableLines(), reload(), queue(), stop() }. The certificate is a self-signed one for `hostname` made by openssl.
 */
export async function startPostfix({ domain, lmtpPort, quotaStatusPort, hostname = `mail.${domain}` }) {
  assertPostfixUsable();
  if (!Number.isInteger(quotaStatusPort)) {
    throw new Error("startPostfix needs Dovecot's quota-status port (startDovecot({ quotaStatus: true }))");
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-postfix-'));
  // Postfix's daemons run as the postfix account and enter the queue directory below this one.
  await chmod(dir, 0o755);
  const configDir = path.join(dir, 'etc');
  const queueDir = path.join(dir, 'queue');
  const dataDir = path.join(dir, 'data');
  const logPath = path.join(dir, 'postfix.log');
  await mkdir(configDir, { mode: 0o755 });
  await mkdir(queueDir, { mode: 0o755 });
  // data_directory is made by `postfix check`, owned by the postfix account.
  const smtpPort = await freePort();
  const usersTable = path.join(configDir, 'secms-users');
  const certFile = path.join(configDir, 'cert.pem');
  const keyFile = path.join(configDir, 'key.pem');
  let masterPid = null;

  const postfix = {
    host: '127.0.0.1',
    smtpPort,
    dir,
    configDir,
    usersTable,
    hostname,
    /** The instance's log (maillog_file); '' while it does not exist. */
    log() {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    },
    /** The value of a main.cf parameter as this instance sees it (postconf -c <dir> -h). */
    postconf: (name) => run(postconfBinary, ['-c', configDir, '-h', name], 'postconf').trim(),
    /**
     * Runs scripts/postfix-users.sh (the doc's cron job) for this instance with `args` before its
     * DATA_DIR DOMAIN TABLE and `serverDataDir`; resolves to { status, stdout, stderr }, never
     * throws for a refusal (the tests check those). `as` runs it through setpriv as that uid.
     */
    usersScript(serverDataDir, { args = [], as } = {}) {
      const command = [postfixUsersScript, '--server', serverBinary, '--postfix-config', configDir, ...args,
        serverDataDir, domain, usersTable];
      const result = as === undefined
        ? spawnSync(command[0], command.slice(1), { encoding: 'utf8', timeout: 60_000 })
        : spawnSync('setpriv', [`--reuid=${as}`, `--regid=${as}`, '--clear-groups', ...command], { encoding: 'utf8', timeout: 60_000 });
      if (result.error) throw result.error;
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    /** The table of accounts of the server whose data directory is `dataDir`; throws on failure. */
    refreshUsersTable(serverDataDir) {
      const result = postfix.usersScript(serverDataDir);
      if (result.status !== 0) throw new Error(`scripts/postfix-users.sh failed (exit ${result.status}): ${result.stderr}`);
    },
    /** The lines of the table's source file. */
    usersTableLines: () => readFileSync(usersTable, 'utf8').split('\n').filter((line) => line !== ''),
    /** `postfix reload`: every daemon re-reads main.cf and its tables after its current session. */
    reload: () => run(postfixBinary, ['-c', configDir, 'reload'], 'postfix reload'),
    /** The queue as JSON objects (postqueue -j), one per queued message. */
    queue: () =>
      run('postqueue', ['-c', configDir, '-j'], 'postqueue')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line)),
    /** `postfix stop`, then SIGKILL to the master after 5 s; removes the directory. */
    async stop() {
      if (masterPid !== null) {
        spawnSync(postfixBinary, ['-c', configDir, 'stop'], { encoding: 'utf8', timeout: 30_000 });
        const deadline = Date.now() + STOP_TIMEOUT_MS;
        while (alive(masterPid) && Date.now() < deadline) await sleep(50);
        if (alive(masterPid)) process.kill(masterPid, 'SIGKILL');
        masterPid = null;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    const openssl = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${hostname}`,
      '-addext', `subjectAltName=DNS:${hostname},IP:127.0.0.1`,
    ], { encoding: 'utf8' });
    if (openssl.error || openssl.status !== 0) throw new Error(`openssl req failed: ${openssl.error?.message ?? openssl.stderr}`);
    await chmod(keyFile, 0o600);

    const main = renderTemplate(await readFile(path.join(postfixTemplateDir, 'main.cf.in'), 'utf8'), {
      MAIL_DOMAIN: domain, HOSTNAME: hostname, LMTP_PORT: lmtpPort, QUOTA_STATUS_PORT: quotaStatusPort,
      USERS_MAP: usersTable, TLS_CERT: certFile, TLS_KEY: keyFile,
    });
    // The private instance: its own directories, loopback only, its own log file (no syslog
    // here), and Debian's files of the package (postfix-files, dynamicmaps.cf) from /etc/postfix.
    const instance = [
      '',
      '# A private instance of tests/helpers/postfix.mjs (these lines override the ones above).',
      `queue_directory = ${queueDir}`,
      `data_directory = ${dataDir}`,
      'meta_directory = /etc/postfix',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      `maillog_file_prefixes = ${dir}`,
      `maillog_file = ${logPath}`,
      '',
    ].join('\n');
    await writeFile(path.join(configDir, 'main.cf'), main + instance, { mode: 0o644 });
    const master = renderTemplate(await readFile(path.join(postfixTemplateDir, 'master.cf.in'), 'utf8'), {
      SMTP_SERVICE: `127.0.0.1:${smtpPort}`,
    });
    await writeFile(path.join(configDir, 'master.cf'), master, { mode: 0o644 });
    await writeFile(usersTable, '', { mode: 0o644 });
    run('postmap', ['-c', configDir, usersTable], 'postmap');

    // Both write their complaints to the log file, not to their output.
    const withLog = (action) => {
      try {
        action();
      } catch (error) {
        error.message += `\n${postfix.log().split('\n').slice(-20).join('\n')}`;
        throw error;
      }
    };
    withLog(() => run(postfixBinary, ['-c', configDir, 'check'], 'postfix check'));
    withLog(() => run(postfixBinary, ['-c', configDir, 'start'], 'postfix start'));
    masterPid = Number((await readFile(path.join(queueDir, 'pid', 'master.pid'), 'utf8')).trim());
    const deadline = Date.now() + IO_TIMEOUT_MS;
    while (!(await greets(smtpPort))) {
      if (Date.now() > deadline) throw new Error(`no SMTP greeting on 127.0.0.1:${smtpPort}:\n${postfix.log().split('\n').slice(-20).join('\n')}`);
      await sleep(50);
    }
  } catch (error) {
    await postfix.stop();
    throw error;
  }
  return postfix;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function greets(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.end('QUIT\r\n');
      resolve(data.toString('latin1').startsWith('220'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * A raw SMTP client (RFC 5321) from `localAddress` (another 127.x address stands for a client
 * of the internet: it is outside the instance's mynetworks). command(line) resolves to the reply
 * { code, text } (every line of a multi-line reply); data(raw) sends the message after "354"
 * (CRLF line ends, leading dots doubled) and resolves to the final reply; quit().
 */
export async function smtpConnect({ port, host = '127.0.0.1', localAddress }) {
  const socket = net.connect({ port, host, localAddress });
  socket.setTimeout(IO_TIMEOUT_MS, () => socket.destroy(new Error('SMTP: timed out')));
  let buffer = '';
  let failure = null;
  let wake = () => {};
  socket.on('data', (data) => {
    buffer += data.toString('latin1');
    wake();
  });
  socket.on('error', (error) => {
    failure = error;
    wake();
  });
  socket.on('close', () => {
    failure ??= new Error('SMTP: connection closed');
    wake();
  });
  const reply = async () => {
    const lines = [];
    for (;;) {
      const end = buffer.indexOf('\r\n');
      if (end < 0) {
        if (failure) throw failure;
        if (buffer.length > MAX_REPLY) throw new Error('SMTP: reply too long');
        await new Promise((resolve) => (wake = resolve));
        continue;
      }
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line);
      if (!/^\d{3}-/.test(line)) return { code: Number(line.slice(0, 3)), text: lines.join('\n') };
    }
  };
  const greeting = await reply();
  if (greeting.code !== 220) {
    socket.destroy();
    throw new Error(`SMTP greeting: ${greeting.text}`);
  }
  return {
    greeting,
    async command(line) {
      if (/[\r\n]/.test(line)) throw new Error('CR or LF in an SMTP command');
      socket.write(`${line}\r\n`);
      return reply();
    },
    async data(raw) {
      socket.write('DATA\r\n');
      const go = await reply();
      if (go.code !== 354) return go;
      let body = String(raw).replace(/\r?\n/g, '\r\n');
      if (!body.endsWith('\r\n')) body += '\r\n';
      socket.write(`${body.replace(/^\./gm, '..')}.\r\n`);
      return reply();
    },
    async quit() {
      try {
        socket.write('QUIT\r\n');
        await reply();
      } catch {
        // the server may close first
      } finally {
        socket.destroy();
      }
    },
  };
}
