// Mail list benchmark: a 10 000-message INBOX listed through secms-server's mail API, against the
// same envelopes fetched from Dovecot directly by an IMAP client (the reference).
//
//   node bench/mail/list.mjs [--count 10000] [--page 50] [--rounds 2] [--server-bin PATH]
//                            [--json FILE] [--no-browser] [--dovecot-imap-port P --dovecot-lmtp-port Q
//                             --dovecot-secret-file F]   (an already running Dovecot instead of a fresh one)
//
// Steps: start Dovecot (tests/helpers/dovecot.mjs, the template scripts/run.sh uses) with the
// master secret of a fresh secms-server data directory; start secms-server wired to it; register
// and log in "alice"; deliver the corpus (bench/mail/corpus.mjs) to alice@localhost over LMTP.
// Then, measured:
//  - first screen, cold: what the Email tab asks when it opens (GET /status, /folders, then the
//    first page of /messages), the first mail requests of the login, so secms-server opens its
//    IMAP connection, sorts the folder and fetches one page;
//  - first page, warm: the same /messages request again (median of 5);
//  - paging to the end: every page of `page` messages, offset 0 to the end, one after the other;
//  - the same with threads=1 (first page cold and warm; the thread index is built over the folder);
//  - secms-server's resident memory (VmRSS, VmHWM of /proc/<pid>/status) before and after;
//  - the reference: a new IMAP connection logged in as alice*secms with the master secret, SELECT
//    INBOX, UID SORT (REVERSE DATE) and one UID FETCH per page of the same page size with the
//    items secms-server fetches for a list page (FETCH_ITEMS below);
//  messages listed per second through secms-server / direct = the ratio.
// Rounds alternate reference and secms-server paging (Dovecot's cache is filled by whichever
// comes first; the first reference round runs before secms-server's first).
// Then, unless --no-browser, the browser phase (browser-list.mjs): the Email tab in Chromium on
// the same folder, `rounds` rounds, each a fresh login after the mailbox was closed: click to the
// first rows (cold and warm), scroll to the last message, the page's heap and DOM.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBrowserReport, runBrowserList } from './browser-list.mjs';
import { makeCorpus } from './corpus.mjs';
import { ImapClient } from './imap-client.mjs';
import { fillOverLmtp } from './lmtp-fill.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const USER = 'alice';
const PASSWORD = 'bench-mail-password-1';
// With a dot: the app's identity form refuses an address at a dotless domain (user@localhost).
const DOMAIN = 'mail.test';
const MASTER_USER = 'secms';
// What secms-server's imap_session::summaries() asks Dovecot for each listed message
// (server/mail/imap_session.cpp); the reference asks for the same so both pay Dovecot alike.
export const FETCH_ITEMS = '(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (References)])';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const repoRoot = path.resolve(here, '..', '..');
const releaseBinary = path.join(repoRoot, 'build', 'release', 'server', 'app', 'secms-server');
const devBinary = path.join(repoRoot, 'build', 'dev', 'server', 'app', 'secms-server');

/** The binary measured: the one asked for, else $SECMS_SERVER_BIN, else the release build, else dev. */
export function serverBinaryPath(explicit) {
  if (explicit) return explicit;
  if (process.env.SECMS_SERVER_BIN) return process.env.SECMS_SERVER_BIN;
  return existsSync(releaseBinary) ? releaseBinary : devBinary;
}

// tests/helpers/secms-server.mjs fixes its binary from $SECMS_SERVER_BIN when first imported, so
// the variable is set before the (one) import and checked after it.
let launcher;
async function loadLauncher(binary) {
  if (!launcher) {
    process.env.SECMS_SERVER_BIN = binary;
    launcher = await import('../../tests/helpers/secms-server.mjs');
  }
  if (launcher.serverBinary !== binary) throw new Error(`launcher bound to ${launcher.serverBinary}, cannot switch to ${binary}`);
  return launcher;
}

/** VmRSS and VmHWM of a process in KiB. */
export async function memoryOf(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

/** A keep-alive HTTPS client for one logged-in user, as a browser tab would hold one connection. */
function apiClient(server, cookie) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (urlPath) =>
    new Promise((resolve, reject) => {
      const started = nowMs();
      const req = https.request(
        {
          host: '127.0.0.1',
          port: server.httpsPort,
          method: 'GET',
          path: urlPath,
          headers: { Origin: server.origin, Cookie: `__Host-sid=${cookie}` },
          servername: 'localhost',
          rejectUnauthorized: false,
          agent,
          timeout: 120_000,
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            const ms = nowMs() - started;
            let json;
            try {
              json = JSON.parse(body.toString('utf8'));
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode, json, bytes: body.length, ms });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
      req.on('error', reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

async function getOk(api, urlPath) {
  const res = await api.get(urlPath);
  if (res.status !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
  return res;
}

const listPath = ({ offset, limit, threads = 0 }) =>
  `/api/v1/mail/messages?folder=INBOX&sort=date&order=desc&offset=${offset}&limit=${limit}&threads=${threads}`;

/** Pages through the whole folder; returns { ms, pages, uids, total, bytes }. */
async function pageThroughServer(api, { limit, threads = 0 }) {
  const uids = [];
  let total = Infinity;
  let pages = 0;
  let bytes = 0;
  const started = nowMs();
  for (let offset = 0; offset < total; offset += limit) {
    const res = await getOk(api, listPath({ offset, limit, threads }));
    total = res.json.total;
    pages += 1;
    bytes += res.bytes;
    for (const m of res.json.messages) uids.push(m.uid);
    if (res.json.messages.length === 0) break;
  }
  return { ms: nowMs() - started, pages, uids, total, bytes };
}

/**
 * The reference: the same listing straight from Dovecot. `ms` (what the rate uses) is UID SORT
 * plus every page's UID FETCH on a connection already logged in with INBOX selected, as
 * secms-server's is when it pages; connecting, logging in and selecting are `connectMs`;
 * `firstPageMs` is from connecting to the first page fetched (a cold client's first screen).
 */
async function pageThroughImap({ imapPort, secret, limit }) {
  const started = nowMs();
  const imap = await ImapClient.connect({ port: imapPort });
  try {
    await imap.login(`${USER}*${MASTER_USER}`, secret);
    await imap.select('INBOX');
    const connectMs = nowMs() - started;
    const listStarted = nowMs();
    const uids = await imap.uidSort('(REVERSE DATE)');
    const sortMs = nowMs() - listStarted;
    let fetched = 0;
    let firstPageMs = NaN;
    for (let i = 0; i < uids.length; i += limit) {
      fetched += await imap.uidFetchCount(uids.slice(i, i + limit).join(','), FETCH_ITEMS);
      if (i === 0) firstPageMs = nowMs() - started;
    }
    const ms = nowMs() - listStarted;
    return { ms, connectMs, sortMs, firstPageMs, uids, fetched, bytes: imap.bytesReceived };
  } finally {
    await imap.logout();
  }
}

/** Starts Dovecot through the shared test helper, or describes an already running one. */
async function dovecotFor({ secret, existing, log }) {
  if (existing) return { ...existing, host: '127.0.0.1', stop: async () => {}, external: true };
  const { startDovecot } = await import('../../tests/helpers/dovecot.mjs');
  log('starting Dovecot (tests/helpers/dovecot.mjs)');
  return startDovecot({ masterSecret: secret, domain: DOMAIN, masterUser: MASTER_USER });
}

function runBinary(bin, args) {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code ?? 1 : 0, stdout, stderr }));
  });
}

/**
 * Runs the whole benchmark. `count` messages, pages of `page`, `rounds` paging rounds each.
 * Resolves to the figures (see the JSON printed by the CLI). `log` gets progress lines.
 */
export async function runListBench({
  count = 10_000,
  page = 50,
  rounds = 2,
  warmRepeats = 5,
  browser = true,
  serverBin,
  existingDovecot = null,
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  const bin = serverBinaryPath(serverBin);
  const helper = await loadLauncher(bin);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-bench-mail-'));
  let dovecot;
  let server;
  let api;
  try {
    // The server's data directory first: init makes the master secret Dovecot must know.
    const init = await runBinary(bin, ['--data-dir', dataDir, 'init']);
    if (init.code !== 0) throw new Error(`secms-server init failed (${init.code}): ${init.stderr}`);
    const secretFile = existingDovecot?.secretFile ?? path.join(dataDir, 'mail', 'master-secret');
    const secret = (await readFile(secretFile, 'utf8')).trim();
    dovecot = await dovecotFor({ secret, existing: existingDovecot, log });

    server = await helper.startServer({
      dataDir,
      extraArgs: [
        ...helper.loopbackRateLimits,
        '--mail-domain', DOMAIN,
        '--mail-imap-host', '127.0.0.1', '--mail-imap-port', String(dovecot.imapPort),
        '--mail-lmtp-host', '127.0.0.1', '--mail-lmtp-port', String(dovecot.lmtpPort),
        '--mail-master-user', MASTER_USER,
        '--mail-master-secret-file', secretFile,
        // paging 10 000 messages is 200 requests in a few seconds: above the per-user API limit
        '--mail-per-user-burst', '100000', '--mail-per-user-per-minute', '100000',
      ],
      logLevel: 'warn',
    });
    const pid = server.process.pid;
    const reg = await helper.register(server, USER, PASSWORD);
    if (reg.status !== 201) throw new Error(`register: HTTP ${reg.status} ${reg.body}`);
    const { res, cookie } = await helper.login(server, USER, PASSWORD);
    if (res.status !== 200 || !cookie) throw new Error(`login: HTTP ${res.status} ${res.body}`);

    log(`making ${count} messages and delivering them over LMTP`);
    const corpus = makeCorpus({ count, to: `${USER}@${DOMAIN}` });
    const corpusBytes = corpus.reduce((sum, m) => sum + m.raw.length, 0);
    const kinds = {};
    for (const m of corpus) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    const fill = await fillOverLmtp({
      port: dovecot.lmtpPort,
      to: `${USER}@${DOMAIN}`,
      messages: corpus,
      onProgress: (done) => done % 2000 === 0 && log(`  ${done} delivered`),
    });
    corpus.length = 0;
    log(`filled in ${(fill.ms / 1000).toFixed(1)} s`);

    api = apiClient(server, cookie);
    await getOk(api, '/healthz'); // the TLS connection is open before anything is timed
    const memoryBefore = await memoryOf(pid);

    // First reference round before secms-server touches the folder.
    const reference = [];
    log('reference: direct IMAP, round 1');
    reference.push(await pageThroughImap({ imapPort: dovecot.imapPort, secret, limit: page }));

    log('secms-server: first screen (cold)');
    const coldStatus = await getOk(api, '/api/v1/mail/status');
    const coldFolders = await getOk(api, '/api/v1/mail/folders');
    const coldList = await getOk(api, listPath({ offset: 0, limit: page }));
    const inbox = coldFolders.json.folders.find((f) => f.path === 'INBOX');
    const firstScreen = {
      statusMs: coldStatus.ms,
      foldersMs: coldFolders.ms,
      firstPageMs: coldList.ms,
      totalMs: coldStatus.ms + coldFolders.ms + coldList.ms,
      total: coldList.json.total,
      rows: coldList.json.messages.length,
      inboxTotal: inbox?.total,
      connection: coldStatus.json.connection,
    };
    const warm = [];
    for (let i = 0; i < warmRepeats; i += 1) warm.push((await getOk(api, listPath({ offset: 0, limit: page }))).ms);

    const paging = [];
    for (let round = 0; round < rounds; round += 1) {
      log(`secms-server: paging to the end, round ${round + 1}`);
      paging.push(await pageThroughServer(api, { limit: page }));
      if (round + 1 < rounds) {
        log(`reference: direct IMAP, round ${round + 2}`);
        reference.push(await pageThroughImap({ imapPort: dovecot.imapPort, secret, limit: page }));
      }
    }
    const memoryAfterList = await memoryOf(pid);

    log('secms-server: threads=1');
    const threadsCold = await getOk(api, listPath({ offset: 0, limit: page, threads: 1 }));
    const threadsWarm = [];
    for (let i = 0; i < warmRepeats; i += 1) threadsWarm.push((await getOk(api, listPath({ offset: 0, limit: page, threads: 1 }))).ms);
    const threadPaging = await pageThroughServer(api, { limit: page, threads: 1 });
    const memoryAfter = await memoryOf(pid);

    let browserRounds = null;
    if (browser) {
      // The page is web/dist as the tests serve it: built first, as tests/mail/helpers/mail-stack.mjs does.
      const { build } = await import('../../web/build.mjs');
      await build();
      // This client's session ends, so the browser's first login finds the mailbox closed.
      const out = await helper.request(server, 'DELETE', '/api/v1/session', { cookie });
      if (out.status !== 204) throw new Error(`logout: HTTP ${out.status}`);
      browserRounds = await runBrowserList({
        origin: server.origin, username: USER, password: PASSWORD, identityEmail: `${USER}@${DOMAIN}`,
        rounds, warmRepeats, log,
        logoutSession: async (sid) => {
          const res = await helper.request(server, 'DELETE', '/api/v1/session', { cookie: sid });
          if (res.status !== 204) throw new Error(`logout: HTTP ${res.status}`);
        },
        serverMemory: () => memoryOf(pid),
      });
    }

    // Checks: every page complete, every message once, the same order as Dovecot's own SORT.
    const bestPaging = paging.reduce((a, b) => (b.ms < a.ms ? b : a));
    const bestReference = reference.reduce((a, b) => (b.ms < a.ms ? b : a));
    const serverUids = paging[0].uids;
    const check = {
      total: paging[0].total,
      listed: serverUids.length,
      distinct: new Set(serverUids).size,
      referenceListed: reference[0].fetched,
      sameOrderAsDirectSort: serverUids.length === reference[0].uids.length && serverUids.every((u, i) => u === reference[0].uids[i]),
      threadMessagesListed: threadPaging.uids.length,
      threadMessagesDistinct: new Set(threadPaging.uids).size,
      threadsTotal: threadPaging.total,
      lastUid: reference[0].uids.at(-1), // the oldest message in Dovecot's SORT: the list's last row
      browserLastRowIsLastUid: browserRounds ? browserRounds.every((b) => b.scroll.lastUid === reference[0].uids.at(-1)) : null,
    };
    const serverRate = (count / bestPaging.ms) * 1000;
    const referenceRate = (count / bestReference.ms) * 1000;
    return {
      binary: bin,
      count,
      page,
      corpus: { bytes: corpusBytes, kinds },
      fill: { ms: fill.ms, perSecond: (count / fill.ms) * 1000 },
      firstScreen,
      warmFirstPageMs: { median: median(warm), all: warm },
      paging: paging.map(({ ms, pages, bytes }) => ({ ms, pages, bytes, perSecond: (count / ms) * 1000 })),
      reference: reference.map(({ ms, connectMs, sortMs, firstPageMs, fetched, bytes }) => ({ ms, connectMs, sortMs, firstPageMs, fetched, bytes, perSecond: (count / ms) * 1000 })),
      threads: {
        firstPageColdMs: threadsCold.ms,
        firstPageWarmMs: median(threadsWarm),
        threads: threadsCold.json.total,
        pagingMs: threadPaging.ms,
        pages: threadPaging.pages,
      },
      memory: { before: memoryBefore, afterList: memoryAfterList, after: memoryAfter },
      browser: browserRounds,
      rate: { serverPerSecond: serverRate, referencePerSecond: referenceRate, ratio: serverRate / referenceRate },
      check,
    };
  } finally {
    api?.close();
    if (server) await server.stop();
    if (dovecot) await dovecot.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i];
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${key} needs a positive integer`);
      i += 1;
      return n;
    };
    if (key === '--count') opts.count = number();
    else if (key === '--page') opts.page = number();
    else if (key === '--rounds') opts.rounds = number();
    else if (key === '--server-bin') (opts.serverBin = value), (i += 1);
    else if (key === '--json') (opts.json = value), (i += 1);
    else if (key === '--no-browser') opts.browser = false;
    else if (key === '--dovecot-imap-port') ((opts.existingDovecot ??= {}).imapPort = number());
    else if (key === '--dovecot-lmtp-port') ((opts.existingDovecot ??= {}).lmtpPort = number());
    else if (key === '--dovecot-secret-file') ((opts.existingDovecot ??= {}).secretFile = value), (i += 1);
    else throw new Error(`unknown option ${key}`);
  }
  if (opts.existingDovecot && !(opts.existingDovecot.imapPort && opts.existingDovecot.lmtpPort && opts.existingDovecot.secretFile)) {
    throw new Error('an existing Dovecot needs --dovecot-imap-port, --dovecot-lmtp-port and --dovecot-secret-file');
  }
  return opts;
}

const f0 = (x) => Math.round(x).toLocaleString('en-US');
const f1 = (x) => x.toFixed(1);
const mib = (kib) => (kib / 1024).toFixed(1);

export function formatReport(r) {
  const lines = [];
  lines.push(`secms-server: ${r.binary}`);
  lines.push(`folder: ${r.count} messages, ${(r.corpus.bytes / 1048576).toFixed(1)} MiB (${Object.entries(r.corpus.kinds).map(([k, v]) => `${k} ${v}`).join(', ')}); filled over LMTP in ${f1(r.fill.ms / 1000)} s (${f0(r.fill.perSecond)}/s)`);
  lines.push('');
  lines.push('| measure | ms |');
  lines.push('|---|---|');
  lines.push(`| first screen, cold: GET /status | ${f1(r.firstScreen.statusMs)} |`);
  lines.push(`| first screen, cold: GET /folders | ${f1(r.firstScreen.foldersMs)} |`);
  lines.push(`| first screen, cold: GET /messages (first ${r.page}) | ${f1(r.firstScreen.firstPageMs)} |`);
  lines.push(`| **first screen, cold: all three** | **${f1(r.firstScreen.totalMs)}** |`);
  lines.push(`| first page, warm (median of ${r.warmFirstPageMs.all.length}) | ${f1(r.warmFirstPageMs.median)} |`);
  lines.push(`| threads=1: first page cold / warm | ${f1(r.threads.firstPageColdMs)} / ${f1(r.threads.firstPageWarmMs)} |`);
  lines.push(`| threads=1: all ${r.threads.pages} pages (${r.threads.threads} threads) | ${f0(r.threads.pagingMs)} |`);
  lines.push(`| direct IMAP: connect + login + SELECT + SORT + first FETCH of ${r.page} | ${r.reference.map((x) => f1(x.firstPageMs)).join(' / ')} |`);
  lines.push('');
  lines.push(`| listing all ${r.count} (pages of ${r.page}) | round | ms | messages/s |`);
  lines.push('|---|---|---|---|');
  r.paging.forEach((p, i) => lines.push(`| secms-server (${p.pages} GET /messages) | ${i + 1} | ${f0(p.ms)} | ${f0(p.perSecond)} |`));
  r.reference.forEach((p, i) => lines.push(`| direct IMAP (UID SORT ${f0(p.sortMs)} ms + ${Math.ceil(r.count / r.page)} UID FETCH; logged in) | ${i + 1} | ${f0(p.ms)} | ${f0(p.perSecond)} |`));
  lines.push('');
  lines.push(`ratio secms-server / direct (best round of each): **${r.rate.ratio.toFixed(2)}** (${f0(r.rate.serverPerSecond)} vs ${f0(r.rate.referencePerSecond)} messages/s)`);
  lines.push(`secms-server memory (VmRSS): ${mib(r.memory.before.rssKiB)} MiB before, ${mib(r.memory.afterList.rssKiB)} MiB after listing, ${mib(r.memory.after.rssKiB)} MiB after threads; peak (VmHWM) ${mib(r.memory.after.hwmKiB)} MiB`);
  if (r.browser) {
    lines.push('');
    lines.push(formatBrowserReport(r.browser));
  }
  lines.push(`checks: ${r.check.listed} listed, ${r.check.distinct} distinct, total ${r.check.total}; same order as Dovecot's UID SORT: ${r.check.sameOrderAsDirectSort ? 'yes' : 'no'}; threads: ${r.check.threadMessagesListed} messages in ${r.check.threadsTotal} threads${r.browser ? `; the Email tab's last row is Dovecot's last: ${r.check.browserLastRowIsLastUid ? 'yes' : 'no'}` : ''}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const figures = await runListBench(opts);
  if (opts.json) await writeFile(opts.json, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${formatReport(figures)}\n`);
  if (figures.check.listed !== figures.count || figures.check.distinct !== figures.count || figures.check.browserLastRowIsLastUid === false) process.exitCode = 1;
}
