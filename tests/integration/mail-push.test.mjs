// The new-mail push (mail_new on the WebSocket) for mail that arrives while the mailbox is not in
// IDLE: every request leaves IDLE, and once the last one has ended the server re-selects INBOX
// and starts IDLE again. Mail delivered meanwhile is in that SELECT's counts (or in the answers
// of the request's own commands), never in an IDLE report; the server compares INBOX's EXISTS
// and UIDNEXT with what it last told the page and pushes the difference. The same holds between
// a push (the server reads the folder counts) and the next IDLE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { slowRelay } from '../helpers/slow-relay.mjs';
import { openWebSocket, request } from '../helpers/secms-server.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ROUNDS = 10; // the old code missed about a third of the rounds: ten catch it, and keep the suite short

describe('mail_new for mail that arrives while no IDLE runs', () => {
  let mail;
  let relay;
  let server;
  let cookie;
  let seq = 0;

  before(async () => {
    mail = await startMailServer({
      users: ['alice'],
      logLevel: 'info',
      imapPort: async (dovecot) => (relay = await slowRelay(dovecot.imapPort)).port,
      serverArgs: ['--mail-per-user-burst', '10000', '--mail-per-user-per-minute', '10000'],
    });
    ({ server } = mail);
    cookie = mail.cookies.alice;
  });

  after(async () => {
    await mail?.stop();
    await relay?.close();
  });

  const api = (method, urlPath) => request(server, method, `/api/v1/mail${urlPath}`, { cookie, timeoutMs: 30_000 });
  const deliver = (subject) => {
    const id = `push-${Date.now()}-${++seq}@test.invalid`;
    const raw = [`From: zed@example.org`, `To: alice@localhost`, `Subject: ${subject}`,
      `Date: Mon, 30 Nov 2026 10:00:00 +0000`, `Message-ID: <${id}>`, '', 'Hello.', ''].join('\r\n');
    return mail.dovecot.deliver({ from: 'zed@example.org', to: ['alice@localhost'], raw });
  };
  // The next mail_new that reports at least `exists` messages in INBOX (earlier ones, e.g. a
  // second push of the same count, are skipped); null when none comes.
  const pushReaching = async (ws, exists) => {
    for (;;) {
      let event;
      try {
        event = await ws.next('mail_new', 8_000);
      } catch {
        return null;
      }
      assert.equal(event.folder, 'INBOX', JSON.stringify(event));
      if (event.exists >= exists) return event;
    }
  };
  const inboxTotal = async () => {
    const res = await api('GET', '/folders');
    assert.equal(res.status, 200, res.body);
    return res.json.folders.find((f) => f.path === 'INBOX').total;
  };

  test(`mail delivered while a slow request holds the mailbox is pushed (${ROUNDS} of ${ROUNDS})`, async () => {
    assert.equal((await api('GET', '/status')).status, 200);
    const ws = await openWebSocket(server, { cookie });
    try {
      // IDLE runs once the first delivery is pushed.
      await deliver('first');
      const first = await pushReaching(ws, 1);
      assert.ok(first, 'the mailbox pushes mail that arrives in IDLE');
      let expected = first.exists;
      const missed = [];
      relay.delayMs = 150;
      for (let round = 0; round < ROUNDS; round += 1) {
        // Another folder than INBOX: the request's SELECT replaces INBOX's, so the server has
        // to SELECT INBOX again before IDLE. The delivery lands at a different point of the
        // request each round (leaving IDLE, SELECT Sent, SORT, FETCH, re-SELECT).
        const slow = api('GET', '/messages?folder=Sent');
        await sleep((round * 37) % 500);
        await deliver(`gap ${round}`);
        const res = await slow;
        assert.equal(res.status, 200, res.body);
        expected += 1;
        if (!(await pushReaching(ws, expected))) missed.push(round);
      }
      relay.delayMs = 0;
      assert.equal(await inboxTotal(), expected, 'every delivery reached INBOX');
      assert.deepEqual(missed, [], `rounds whose delivery was never pushed: ${missed.join(', ')}`);
    } finally {
      relay.delayMs = 0;
      await ws.close();
    }
  });

  test(`mail delivered right after a push, before IDLE starts again, is pushed (${ROUNDS} of ${ROUNDS})`, async () => {
    const ws = await openWebSocket(server, { cookie });
    try {
      let expected = await inboxTotal();
      // The socket is counted and the mailbox back in IDLE once a delivery is pushed.
      await deliver('warm up');
      expected += 1;
      assert.ok(await pushReaching(ws, expected), 'the mailbox pushes mail that arrives in IDLE');
      const missed = [];
      relay.delayMs = 150;
      for (let round = 0; round < ROUNDS; round += 1) {
        // The first delivery is pushed; reading the folder counts for that push takes several
        // slow answers, and the second delivery lands in it or just after it.
        await deliver(`pushed ${round}`);
        await sleep(150 + ((round * 53) % 600));
        await deliver(`after the push ${round}`);
        expected += 2;
        if (!(await pushReaching(ws, expected))) missed.push(round);
      }
      relay.delayMs = 0;
      assert.equal(await inboxTotal(), expected, 'every delivery reached INBOX');
      assert.deepEqual(missed, [], `rounds whose second delivery was never pushed: ${missed.join(', ')}`);
    } finally {
      relay.delayMs = 0;
      await ws.close();
    }
  });
});
