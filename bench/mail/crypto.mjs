// Mail crypto benchmark: encrypt + sign a message with a 10 MiB attachment, the way the Email tab
// sends it.
//
//   node bench/mail/crypto.mjs [--mib 10] [--rounds 3] [--no-browser] [--json FILE]
//
// Two parts:
//  - node: the crypto Worker's mail module itself (web/src/crypto/mail-crypto.js, createMailCrypto
//    with an unlocked Ed25519/Cv25519 key as identity.js makes them), called in this thread: MiB/s
//    of mail.encrypt (signed, to one recipient and the own key) on the inner entity built by
//    web/src/mail/mime-build.js, and of mail.decrypt (with the signature verified) back; the
//    longest stall of this thread's event loop while each runs (a 5 ms timer's worst lateness).
//  - Chromium (headless Debian chromium, tests/e2e/helpers/browser.mjs): a page (fixtures/
//    crypto-page.mjs) running composeEncrypted (web/src/mail/pgp-mime.js) on its main thread with
//    the real crypto Worker (web/src/crypto/worker.js bundled, identity created in it), as
//    mail-compose.js does on Send; MiB/s of the attachment and how long the page's main thread was
//    blocked: long tasks (PerformanceObserver 'longtask': tasks over 50 ms) and the longest gap of
//    a 10 ms timer.
// Prints a table; --json writes the figures.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';
import * as openpgp from 'openpgp';
import { createMailCrypto } from '../../web/src/crypto/mail-crypto.js';
import { buildBodyEntity, entityBytes } from '../../web/src/mail/mime-build.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MIB = 1024 * 1024;
const nowMs = () => performance.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

async function makeKey(name, email) {
  // as web/src/crypto/identity.js generateIdentity: v4, Ed25519 + Cv25519 (legacy curve)
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name, email }], format: 'object',
    config: { v6Keys: false },
  });
  return privateKey;
}

function randomBytes(size) {
  const data = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) webcrypto.getRandomValues(data.subarray(offset, Math.min(size, offset + 65536)));
  return data;
}

/** Runs `work` with a 5 ms timer beside it; resolves { result, ms, maxStallMs }. */
async function withStallProbe(work) {
  let last = nowMs();
  let maxStall = 0;
  const timer = setInterval(() => {
    const now = nowMs();
    maxStall = Math.max(maxStall, now - last - 5);
    last = now;
  }, 5);
  const started = nowMs();
  try {
    const result = await work();
    return { result, ms: nowMs() - started, maxStallMs: Math.max(0, maxStall, nowMs() - last - 5) };
  } finally {
    clearInterval(timer);
  }
}

/** The node part: resolves { rounds: [{ buildMs, encrypt, decrypt, … }], … }. */
export async function runNodeCrypto({ mib = 10, rounds = 3, log = () => {} } = {}) {
  const own = await makeKey('Alice', 'alice@localhost');
  const bob = await makeKey('Bob', 'bob@localhost');
  const bobPublic = bob.toPublic().armor();
  const alice = createMailCrypto({ identity: () => own });
  const bobSide = createMailCrypto({ identity: () => bob });
  const out = [];
  for (let round = 0; round < rounds; round += 1) {
    log(`node: round ${round + 1}`);
    const data = randomBytes(mib * MIB);
    const fields = { text: 'The file is attached.\n', attachments: [{ filename: 'figures.bin', contentType: 'application/octet-stream', data }] };
    const built = await withStallProbe(async () => entityBytes(buildBodyEntity(fields)));
    const inner = built.result;
    const encrypted = await withStallProbe(() => alice.encrypt({ data: inner, recipientKeys: [bobPublic], sign: true, job: 'bench' }));
    const armored = encrypted.result.armored;
    const decrypted = await withStallProbe(() => bobSide.decrypt({ data: armored, verificationKeys: [own.toPublic().armor()], job: 'bench' }));
    const same = decrypted.result.data.length === inner.length && Buffer.compare(Buffer.from(decrypted.result.data), Buffer.from(inner)) === 0;
    out.push({
      attachmentBytes: data.length,
      innerBytes: inner.length,
      armoredBytes: armored.length,
      buildMs: built.ms,
      encryptMs: encrypted.ms,
      encryptStallMs: encrypted.maxStallMs,
      decryptMs: decrypted.ms,
      decryptStallMs: decrypted.maxStallMs,
      roundTripIdentical: same,
      signatures: decrypted.result.signatures.map((s) => s.status),
    });
  }
  const pick = (field) => median(out.map((r) => r[field]));
  return {
    openpgp: openpgp.config.versionString,
    mib,
    rounds: out,
    median: {
      buildMs: pick('buildMs'),
      encryptMs: pick('encryptMs'),
      decryptMs: pick('decryptMs'),
      encryptMiBps: (mib * 1000) / (pick('buildMs') + pick('encryptMs')),
      encryptInnerMiBps: (out[0].innerBytes / MIB) * 1000 / pick('encryptMs'),
      decryptInnerMiBps: (out[0].innerBytes / MIB) * 1000 / pick('decryptMs'),
      encryptStallMs: pick('encryptStallMs'),
      decryptStallMs: pick('decryptStallMs'),
    },
  };
}

/** The Chromium part: resolves { browser, rounds: [...] } with the page's figures. */
export async function runBrowserCrypto({ mib = 10, rounds = 3, log = () => {} } = {}) {
  const { launchBrowser } = await import('../../tests/e2e/helpers/browser.mjs');
  const { bundleModule, serveStaticPages, htmlPage, scriptFile } = await import('../../tests/calls/helpers/static-pages.mjs');
  const { readFile } = await import('node:fs/promises');
  const site = await serveStaticPages({
    '/': htmlPage(await readFile(path.join(here, 'fixtures', 'crypto-page.html'))),
    '/page.js': scriptFile(await bundleModule(path.join(here, 'fixtures', 'crypto-page.mjs'))),
    '/worker.js': scriptFile(await bundleModule(path.join(here, '..', '..', 'web', 'src', 'crypto', 'worker.js'))),
  });
  const bob = await makeKey('Bob', 'bob@localhost');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => window.mailCryptoBench !== undefined);
    await page.evaluate((o) => window.mailCryptoBench.start(o), { workerUrl: '/worker.js' });
    // The page's JS heap polled over CDP while each round runs: V8's used size plus ArrayBuffer
    // backing stores (where a file's bytes, a MIME entity or an armored answer would sit), i.e.
    // what the page's main thread holds at once; the Worker's and Blob storage are not counted.
    const cdp = await page.context().newCDPSession(page);
    const heapUsed = async () => {
      const usage = await cdp.send('Runtime.getHeapUsage');
      return usage.usedSize + (usage.backingStorageSize ?? 0);
    };
    // collect: a GC before each sample, so the peak is of what the page still holds (live), not
    // of garbage V8 has not collected yet (those rounds' timings are not used).
    const measuredRound = async ({ collect }) => {
      await cdp.send('HeapProfiler.collectGarbage');
      const heapBefore = await heapUsed();
      let heapPeak = heapBefore;
      let running = true;
      const sampler = (async () => {
        while (running) {
          if (collect) await cdp.send('HeapProfiler.collectGarbage');
          heapPeak = Math.max(heapPeak, await heapUsed());
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const figures = await page.evaluate((o) => window.mailCryptoBench.run(o), { size: mib * MIB, recipientKey: bob.toPublic().armor() });
      running = false;
      await sampler;
      const { subjectHidden } = await page.evaluate(() => window.mailCryptoBench.checkLast());
      return { ...figures, subjectHidden, heap: { beforeBytes: heapBefore, peakBytes: heapPeak } };
    };
    const out = [];
    for (let round = 0; round < rounds; round += 1) {
      log(`chromium: round ${round + 1}`);
      out.push(await measuredRound({ collect: false }));
    }
    const live = [];
    for (let round = 0; round < rounds; round += 1) {
      log(`chromium: live-heap round ${round + 1}`);
      live.push((await measuredRound({ collect: true })).heap);
    }
    if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
    const pick = (f) => median(out.map(f));
    return {
      browser: `Chromium ${browser.version()}`,
      mib,
      rounds: out,
      liveHeap: live,
      median: {
        composeMs: pick((r) => r.compose.ms),
        composeMiBps: (mib * 1000) / pick((r) => r.compose.ms),
        buildMs: pick((r) => r.build.ms),
        longTaskCount: pick((r) => r.compose.longTasks.count),
        longTaskTotalMs: pick((r) => r.compose.longTasks.totalMs),
        longestTaskMs: pick((r) => r.compose.longTasks.longestMs),
        maxTimerGapMs: pick((r) => r.compose.maxTimerGapMs),
        heapPeakMiB: pick((r) => r.heap.peakBytes / MIB),
        heapGrowthMiB: pick((r) => (r.heap.peakBytes - r.heap.beforeBytes) / MIB),
      },
    };
  } finally {
    await browser.close();
    await site.close();
  }
}

const f0 = (x) => Math.round(x).toLocaleString('en-US');
const f1 = (x) => x.toFixed(1);

export function formatReport({ node, browser }) {
  const lines = [];
  if (node) {
    const m = node.median;
    lines.push(`node (OpenPGP.js ${node.openpgp}), ${node.mib} MiB attachment, median of ${node.rounds.length} rounds:`);
    lines.push('');
    lines.push('| step | ms | MiB/s | longest event-loop stall ms |');
    lines.push('|---|---|---|---|');
    lines.push(`| build the inner MIME entity (base64: ${f1(node.rounds[0].innerBytes / MIB)} MiB) | ${f0(m.buildMs)} | | |`);
    lines.push(`| mail.encrypt, signed, 2 keys (${f1(node.rounds[0].armoredBytes / MIB)} MiB armored) | ${f0(m.encryptMs)} | ${f1(m.encryptInnerMiBps)} of entity | ${f0(m.encryptStallMs)} |`);
    lines.push(`| build + encrypt: MiB of attachment per second | ${f0(m.buildMs + m.encryptMs)} | ${f1(m.encryptMiBps)} | |`);
    lines.push(`| mail.decrypt + verify | ${f0(m.decryptMs)} | ${f1(m.decryptInnerMiBps)} of entity | ${f0(m.decryptStallMs)} |`);
    lines.push(`round trips identical: ${node.rounds.every((r) => r.roundTripIdentical) ? 'yes' : 'NO'}; signatures: ${[...new Set(node.rounds.flatMap((r) => r.signatures))].join(', ')}`);
  }
  if (browser) {
    const m = browser.median;
    lines.push('');
    lines.push(`${browser.browser}, composeEncrypted on the page + the crypto Worker, ${browser.mib} MiB attachment, per round:`);
    lines.push('');
    lines.push('| round | compose ms | MiB/s | long tasks | long tasks total ms | longest task ms | longest 10 ms-timer gap ms | inner entity built alone: ms / longest gap |');
    lines.push('|---|---|---|---|---|---|---|---|');
    browser.rounds.forEach((r, i) => lines.push(`| ${i + 1} | ${f0(r.compose.ms)} | ${f1((browser.mib * 1000) / r.compose.ms)} | ${r.compose.longTasks.count} | ${f0(r.compose.longTasks.totalMs)} | ${f0(r.compose.longTasks.longestMs)} | ${f0(r.compose.maxTimerGapMs)} | ${f0(r.build.ms)} / ${f0(r.build.maxTimerGapMs)} |`));
    lines.push(`progress events from the Worker per send: ${browser.rounds.map((r) => r.progressEvents).join(', ')}; multipart/encrypted: ${browser.rounds.every((r) => r.multipartEncrypted) ? 'yes' : 'NO'}; subject absent from the raw bytes: ${browser.rounds.every((r) => r.subjectHidden) ? 'yes' : 'NO'}`);
    lines.push(`median: ${f0(m.composeMs)} ms (${f1(m.composeMiBps)} MiB/s), main thread blocked ${f0(m.longTaskTotalMs)} ms in ${m.longTaskCount} long tasks, longest ${f0(m.longestTaskMs)} ms`);
    lines.push(`page JS heap + ArrayBuffers (CDP Runtime.getHeapUsage every 20 ms, the round started after a GC): peak ${f1(m.heapPeakMiB)} MiB, ${f1(m.heapGrowthMiB)} MiB above the start of the round (median; garbage not yet collected included); per round: ${browser.rounds.map((r) => f1((r.heap.peakBytes - r.heap.beforeBytes) / MIB)).join(', ')} MiB`);
    if (browser.liveHeap) lines.push(`live page heap (a GC before each sample, ${browser.liveHeap.length} more rounds): MiB above the start of each round: ${browser.liveHeap.map((h) => f1((h.peakBytes - h.beforeBytes) / MIB)).join(', ')}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const mib = Number(opt('--mib', 10));
  const rounds = Number(opt('--rounds', 3));
  const log = (line) => process.stderr.write(`${line}\n`);
  const figures = { node: await runNodeCrypto({ mib, rounds, log }) };
  if (!args.includes('--no-browser')) figures.browser = await runBrowserCrypto({ mib, rounds, log });
  const json = opt('--json', null);
  if (json) await writeFile(json, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${formatReport(figures)}\n`);
}
