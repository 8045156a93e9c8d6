// Limits of the mail paths that take a whole message as the body (POST /api/v1/mail/send and
// /append): the Origin and the login are checked on the header, before any of the body is read
// (no login: 401 at once, the server holds nothing); at most two such bodies per account
// (429) and four messages' worth of bytes in all (503 with Retry-After) are read at once,
// charged as they arrive, with one more message's worth kept for bodies of at most 1 MiB; a
// body that comes slower than 64 KiB/s on average after 10 s is ended (408).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

import { startMailServer } from '../helpers/mail-server.mjs';
import { request } from '../helpers/secms-server.mjs';

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startMail({ maxMessageBytes, users }) {
  return startMailServer({
    users,
    serverArgs: ['--mail-timeout-s', '5', ...(maxMessageBytes ? ['--mail-max-message-bytes', String(maxMessageBytes)] : [])],
  });
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

// Opens a TLS connection, sends the header of a POST with a `size`-byte body and then the body
// (all but the last KiB unless `complete`), as fast as the server reads it. Resolves once the
// body is written or the server closed; `reply()` is the status line received so far.
/** Waits until the bytes of mail bodies the server holds (secms_mail_body_bytes_in_flight) pass `ok`. */
async function waitForBodiesInFlight(server, ok, what) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const metrics = await request(server, 'GET', '/metrics');
    const held = Number(/^secms_mail_body_bytes_in_flight (\d+)$/m.exec(metrics.body)?.[1] ?? -1);
    if (held >= 0 && ok(held)) return;
    if (Date.now() > deadline) throw new Error(`the server holds ${held} body bytes; expected ${what}`);
    await sleep(50);
  }
}

function upload(server, urlPath, { size, cookie, origin = server.origin, complete = false }) {
  return new Promise((resolve) => {
    let received = '';
    let closed = false;
    const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, servername: 'localhost', rejectUnauthorized: false }, async () => {
      const head = [`POST ${urlPath} HTTP/1.1`, 'Host: localhost', 'Content-Type: message/rfc822', `Content-Length: ${size}`];
      if (origin) head.push(`Origin: ${origin}`);
      if (cookie) head.push(`Cookie: __Host-sid=${cookie}`);
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const chunk = Buffer.alloc(MiB, 0x41);
      let left = complete ? size : size - 1024;
      // Like curl and browsers, stop sending once the server has answered early.
      while (left > 0 && !closed && received === '') {
        const part = chunk.subarray(0, Math.min(left, chunk.length));
        left -= part.length;
        if (!socket.write(part)) {
          await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
        }
      }
      resolve(handle);
    });
    const handle = {
      socket,
      reply: () => received.split('\r\n')[0],
      text: () => received,
      finish: () => { if (!closed) socket.write(Buffer.alloc(1024, 0x41)); },
      waitReply: async (ms = 15_000) => {
        const end = Date.now() + ms;
        while (!received.includes('\r\n\r\n') && !closed && Date.now() < end) await sleep(20);
        return received.split('\r\n')[0];
      },
    };
    socket.on('data', (d) => { received += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => { closed = true; resolve(handle); });
  });
}

describe('mail bodies before authentication', () => {
  let ctx;
  before(async () => { ctx = await startMail({ users: [] }); });
  after(async () => { await ctx?.stop(); });

  test('40 connections posting 25 MiB without a login: each gets 401 on the header, the server holds no bodies', async () => {
    const pid = ctx.server.process.pid;
    const before = rssMiB(pid);
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(pid)); }, 50);
    try {
      const size = 25 * MiB - 1024;
      const uploads = await Promise.all(Array.from({ length: 40 }, (_, i) => upload(ctx.server,
        i % 2 ? '/api/v1/mail/send?to=x%40localhost' : '/api/v1/mail/append?folder=Drafts', { size })));
      await sleep(1000);
      peak = Math.max(peak, rssMiB(pid));
      const replies = await Promise.all(uploads.map((u) => u.waitReply()));
      for (const u of uploads) u.socket.destroy();
      assert.deepEqual(new Set(replies), new Set(['HTTP/1.1 401 Unauthorized']), JSON.stringify(replies));
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - before < 100, `server RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MiB`);
  });

  test('no Origin: 403 forbidden_origin on the header, before the body', async () => {
    const u = await upload(ctx.server, '/api/v1/mail/send?to=x%40localhost', { size: 25 * MiB - 1024, origin: null });
    assert.equal(await u.waitReply(), 'HTTP/1.1 403 Forbidden');
    assert.match(u.text(), /forbidden_origin/);
    assert.match(u.text(), /Connection: close/i);
    u.socket.destroy();
  });
});

describe('large mail bodies in flight', () => {
  let ctx;
  before(async () => { ctx = await startMail({ maxMessageBytes: 2 * MiB, users: ['alice', 'bob', 'carol'] }); });
  after(async () => { await ctx?.stop(); });

  test('two per account (429), four messages of bytes in all (503 with Retry-After); places come back', async () => {
    const size = 2 * MiB;
    const held = [];
    const hold = async (user) => {
      const u = await upload(ctx.server, '/api/v1/mail/append?folder=Drafts', { size, cookie: ctx.cookies[user] });
      held.push(u);
      return u;
    };
    try {
      await hold('alice');
      await hold('alice');
      const third = await request(ctx.server, 'POST', '/api/v1/mail/append?folder=Drafts', {
        cookie: ctx.cookies.alice, body: 'x'.repeat(1000), headers: { 'Content-Type': 'message/rfc822' } });
      assert.equal(third.status, 429, third.body);
      assert.equal(third.headers['retry-after'], '5');
      await hold('bob');
      await hold('bob');
      // Bodies are charged as the server reads them: wait until it has read the four held ones,
      // or the fifth's first bytes could take room a held one still needs.
      const heldBytes = 4 * (size - 1024);
      await waitForBodiesInFlight(ctx.server, (n) => n >= heldBytes, `at least ${heldBytes}`);
      // Four bodies of 2 MiB + the 64 KiB allowance are in flight: a fifth of 2 MiB does not fit.
      const fifth = await upload(ctx.server, '/api/v1/mail/append?folder=Drafts', { size, cookie: ctx.cookies.carol });
      assert.equal(await fifth.waitReply(), 'HTTP/1.1 503 Service Unavailable', fifth.text());
      assert.match(fifth.text(), /Retry-After: 5/i);
      fifth.socket.destroy();
      for (const u of held) assert.equal(u.reply(), '', 'held uploads are still being read');
      // The refused fifth gives its first charge back once its answer is written: then the held
      // bodies' last bytes fit again.
      await waitForBodiesInFlight(ctx.server, (n) => n <= heldBytes, `at most ${heldBytes}`);
      // Bodies that end get their places back (the request is answered, the upload was no message).
      held[0].finish();
      const answered = await held[0].waitReply();
      assert.match(answered, /^HTTP\/1\.1 (400|201)/, held[0].text());
      const small = await request(ctx.server, 'POST', '/api/v1/mail/append?folder=Drafts', {
        cookie: ctx.cookies.carol, headers: { 'Content-Type': 'message/rfc822' },
        body: 'From: carol@localhost\r\nTo: carol@localhost\r\nSubject: fits\r\n\r\nHello.\r\n' });
      assert.equal(small.status, 201, small.body);
    } finally {
      for (const u of held) u.socket.destroy();
    }
    await sleep(200);
    const again = await request(ctx.server, 'POST', '/api/v1/mail/append?folder=Drafts', {
      cookie: ctx.cookies.alice, headers: { 'Content-Type': 'message/rfc822' },
      body: 'From: alice@localhost\r\nTo: alice@localhost\r\nSubject: again\r\n\r\nHello.\r\n' });
    assert.equal(again.status, 201, again.body);
  });

  // r5 F1: the budget was charged the declared length for the whole read timeout, so two
  // accounts trickling four uploads at 1 byte a second refused every other /send and /append.
  test('trickling uploads hold no budget: a small send and a 1.5 MiB append go through; the slow uploads end after ~10 s', async () => {
    const size = 2 * MiB + 64 * 1024; // the whole limit: four of them were the whole budget
    const slow = (user, trickle) => new Promise((resolve) => {
      const h = { received: '', closedAt: 0 };
      const socket = tls.connect({ host: '127.0.0.1', port: ctx.server.httpsPort, servername: 'localhost', rejectUnauthorized: false }, () => {
        socket.write(['POST /api/v1/mail/append?folder=Drafts HTTP/1.1', 'Host: localhost', `Origin: ${ctx.server.origin}`,
          `Cookie: __Host-sid=${ctx.cookies[user]}`, 'Content-Type: message/rfc822', `Content-Length: ${size}`, '', ''].join('\r\n'));
        if (trickle) h.timer = setInterval(() => socket.write('X'), 1000);
        resolve(h);
      });
      h.socket = socket;
      socket.on('data', (d) => { h.received += d.toString('latin1'); });
      socket.on('error', () => {});
      socket.on('close', () => { clearInterval(h.timer); h.closedAt = Date.now(); });
    });
    const holders = [await slow('alice', true), await slow('alice', true), await slow('bob', true), await slow('bob', false)];
    try {
      await sleep(1500);
      for (const h of holders) assert.equal(h.closedAt, 0, 'the slow uploads are being read');
      const small = await request(ctx.server, 'POST', '/api/v1/mail/send?to=carol%40localhost', {
        cookie: ctx.cookies.carol, headers: { 'Content-Type': 'message/rfc822' },
        body: 'From: carol@localhost\r\nTo: carol@localhost\r\nSubject: small\r\n\r\nHello.\r\n' });
      assert.equal(small.status, 200, small.body);
      const larger = await request(ctx.server, 'POST', '/api/v1/mail/append?folder=Drafts', {
        cookie: ctx.cookies.carol, headers: { 'Content-Type': 'message/rfc822' }, timeoutMs: 20_000,
        body: `From: carol@localhost\r\nTo: carol@localhost\r\nSubject: larger\r\n\r\n${'y'.repeat(76) + '\r\n'}`.padEnd(1.5 * MiB, 'z') + '\r\n' });
      assert.equal(larger.status, 201, larger.body);
      // The throughput rule (64 KiB/s on average after 10 s) ends them: 408 for the trickling
      // ones, a closed connection for the silent one (no duration is asserted: machines are slow).
      const end = Date.now() + 40_000;
      while (holders.some((h) => !h.closedAt) && Date.now() < end) await sleep(100);
      for (const h of holders) assert.ok(h.closedAt, 'a slow upload was not ended');
      for (const h of holders.slice(0, 3)) assert.match(h.received, /^HTTP\/1\.1 408 /, h.received);
      assert.equal(holders[3].received, '');
    } finally {
      for (const h of holders) { clearInterval(h.timer); h.socket.destroy(); }
    }
  });
});
