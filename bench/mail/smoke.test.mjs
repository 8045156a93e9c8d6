// Keeps the mail benchmarks working with small counts: the list benchmark on a 300-message INBOX
// (real Dovecot, real secms-server — $SECMS_SERVER_BIN, else the dev build; then the Email tab in
// Chromium on it, one round), and the crypto
// benchmark with a 1 MiB attachment in node and in Chromium. Asserts that every part ran and that
// its figures are real measurements (every message listed once, the same order as Dovecot's own
// SORT, round trips identical); no timing goal: figures live in bench/README.md (DESIGN.md §9).
// Runs in the mail step of scripts/test.sh:
//   node --test --test-concurrency=1 bench/mail/smoke.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverBinary } from '../../tests/helpers/secms-server.mjs';
import { formatReport as formatCrypto, runBrowserCrypto, runNodeCrypto } from './crypto.mjs';
import { formatReport as formatList, runListBench } from './list.mjs';

const quiet = () => {};
const positive = (value, what) => assert.ok(Number.isFinite(value) && value > 0, `${what}: ${value}`);

test('list.mjs: 300 messages listed through secms-server and directly from Dovecot, and in the Email tab in Chromium', { timeout: 240_000 }, async () => {
  const count = 300;
  const page = 50;
  const r = await runListBench({ count, page, rounds: 1, warmRepeats: 2, serverBin: serverBinary, log: quiet });
  assert.equal(r.binary, serverBinary);
  assert.equal(r.firstScreen.connection, 'connected');
  assert.equal(r.firstScreen.total, count);
  assert.equal(r.firstScreen.rows, page);
  assert.equal(r.firstScreen.inboxTotal, count, 'GET /folders counts the INBOX');
  assert.deepEqual(
    { total: r.check.total, listed: r.check.listed, distinct: r.check.distinct, referenceListed: r.check.referenceListed },
    { total: count, listed: count, distinct: count, referenceListed: count },
  );
  assert.equal(r.check.sameOrderAsDirectSort, true, 'secms-server lists in the order of Dovecot\'s UID SORT (REVERSE DATE)');
  assert.equal(r.check.threadMessagesListed, count, 'threads=1 pages list every message');
  assert.equal(r.check.threadMessagesDistinct, count);
  assert.ok(r.check.threadsTotal > 0 && r.check.threadsTotal < count, `the corpus has replies, so fewer threads than messages: ${r.check.threadsTotal}`);
  assert.equal(r.paging[0].pages, Math.ceil(count / page));
  for (const [what, value] of Object.entries({
    firstScreen: r.firstScreen.totalMs, warm: r.warmFirstPageMs.median, paging: r.paging[0].ms, reference: r.reference[0].ms,
    ratio: r.rate.ratio, rssBefore: r.memory.before.rssKiB, rssAfter: r.memory.after.rssKiB, threadsCold: r.threads.firstPageColdMs,
  })) positive(value, what);
  assert.match(formatList(r), /ratio secms-server \/ direct/);

  // The browser phase: the tab showed the folder's rows, scrolled to its last message through the
  // page's own /messages requests, and measured the page.
  assert.equal(r.browser.length, 1);
  const [round] = r.browser;
  assert.deepEqual(round.problems, [], 'no page error or console error in the app');
  assert.equal(round.cold.total, count);
  assert.ok(round.cold.rows > 0 && round.cold.rows < count, `a window of rows, not the folder: ${round.cold.rows}`);
  assert.deepEqual(round.cold.requests.map((q) => q.path), ['/api/v1/mail/status', '/api/v1/mail/folders', '/api/v1/mail/messages']);
  assert.equal(round.warm.clickToRowMs.length, 2);
  assert.equal(round.scroll.lastRowRendered, true, 'the last message is rendered at the end of the scroll');
  assert.equal(round.scroll.lastUid, r.check.lastUid, 'the last row is the oldest message of Dovecot\'s SORT');
  assert.equal(round.scroll.listRequests, Math.ceil(count / page) - 1, 'each further page asked once while scrolling');
  assert.ok(round.memory.end.rowElements < count, `the list stays virtual: ${round.memory.end.rowElements} row elements`);
  for (const [what, value] of Object.entries({
    cold: round.cold.clickToRowMs, warm: round.warm.median, scroll: round.scroll.ms, steps: round.scroll.steps,
    heap: round.memory.end.jsHeapUsedBytes, nodes: round.memory.end.domNodes, rss: round.memory.server.rssKiB,
  })) positive(value, what);
  assert.match(formatList(r), /Chromium, Email tab/);
});

test('crypto.mjs: 1 MiB attachment encrypted, signed, decrypted and verified in node', { timeout: 120_000 }, async () => {
  const r = await runNodeCrypto({ mib: 1, rounds: 1 });
  const [round] = r.rounds;
  assert.equal(round.roundTripIdentical, true);
  assert.deepEqual(round.signatures, ['valid']);
  assert.ok(round.innerBytes > round.attachmentBytes, 'the inner entity holds the base64 attachment');
  for (const field of ['buildMs', 'encryptMs', 'decryptMs']) positive(round[field], field);
});

test('crypto.mjs: composeEncrypted with the real crypto Worker in Chromium, long tasks observed', { timeout: 180_000 }, async () => {
  const r = await runBrowserCrypto({ mib: 1, rounds: 1, log: quiet });
  const [round] = r.rounds;
  assert.equal(round.multipartEncrypted, true);
  assert.equal(round.subjectHidden, true, 'the subject is not in the raw bytes (header protection)');
  assert.ok(round.rawBytes > round.attachmentBytes);
  assert.ok(round.progressEvents > 0, 'the Worker reported progress for a message over 1 MiB');
  positive(round.compose.ms, 'compose ms');
  assert.ok(round.compose.longTasks.count >= 0 && Number.isFinite(round.compose.maxTimerGapMs));
  assert.match(formatCrypto({ browser: r }), /composeEncrypted/);
});
