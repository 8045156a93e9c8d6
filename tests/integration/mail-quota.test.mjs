// The mailbox quota (Dovecot's quota plugin, DOVECOT_QUOTA_MB; docs/api.md "Mail"): an append
// past it is refused with 507 quota_exceeded and a sentence saying how full the mailbox is; a
// message to a full mailbox is refused for that recipient only (LMTP 552) while the others get
// it; GET /status reports the usage; deleting mail (moved to Trash) still works when full.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { request } from '../helpers/secms-server.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

// A plain message of about `size` bytes from `from`.
const message = (from, to, subject, size) =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@localhost>\r\n` +
  `Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${`${'Q'.repeat(76)}\r\n`.repeat(Math.ceil(size / 78))}`;

const post = (mail, user, url, body) => request(mail.server, 'POST', url, {
  cookie: mail.cookies[user], body, headers: { 'Content-Type': 'message/rfc822' },
});

describe('mailbox quota (1 MiB)', () => {
  let mail;
  before(async () => {
    mail = await startMailServer({ users: ['alice', 'bob', 'carol'], dovecot: { quotaMb: 1 } });
  });
  after(async () => {
    await mail?.stop();
  });

  test('GET /status reports the usage and the limit', async () => {
    const res = await request(mail.server, 'GET', '/api/v1/mail/status', { cookie: mail.cookies.alice });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json.quota, { used_bytes: 0, limit_bytes: MiB });
  });

  test('an append past the quota is refused with 507 quota_exceeded, saying how full it is', async () => {
    const first = await post(mail, 'alice', '/api/v1/mail/append?folder=Drafts', message('alice@localhost', 'bob@localhost', 'Draft one', 700 * KiB));
    assert.equal(first.status, 201, first.body);
    const second = await post(mail, 'alice', '/api/v1/mail/append?folder=Drafts', message('alice@localhost', 'bob@localhost', 'Draft two', 700 * KiB));
    assert.equal(second.status, 507, second.body);
    assert.equal(second.json.error.code, 'quota_exceeded');
    assert.match(second.json.error.message, /^The mailbox is full \(\d+\.\d KiB of 1\.0 MiB used\); delete mail or empty the Trash\.$/);

    const status = await request(mail.server, 'GET', '/api/v1/mail/status', { cookie: mail.cookies.alice });
    assert.equal(status.json.quota.limit_bytes, MiB);
    assert.ok(status.json.quota.used_bytes >= 700 * KiB && status.json.quota.used_bytes < MiB, JSON.stringify(status.json.quota));
  });

  test('a message to a full mailbox is refused for that recipient only', async () => {
    // bob fills his mailbox (past the limit and its 10 % grace with the next message), then
    // alice writes to bob and carol.
    const filled = await post(mail, 'bob', '/api/v1/mail/append?folder=INBOX', message('bob@localhost', 'bob@localhost', 'Filler', 1000 * KiB));
    assert.equal(filled.status, 201, filled.body);
    const raw = message('alice@localhost', 'bob@localhost, carol@localhost', 'Hello both', 200 * KiB);
    const sent = await post(mail, 'alice', '/api/v1/mail/send?to=bob%40localhost&to=carol%40localhost', raw);
    assert.equal(sent.status, 200, sent.body);
    assert.equal(sent.json.sent, true);
    assert.equal(sent.json.refused.length, 1, sent.body);
    assert.equal(sent.json.refused[0].address, 'bob@localhost');
    assert.equal(String(sent.json.refused[0].code), '552');
    // libetpan hands over the text of the last LMTP reply only (carol's 250), so bob's is his
    // code alone; the 502 below, with one recipient, carries Dovecot's sentence.
    const carol = await request(mail.server, 'GET', '/api/v1/mail/messages?folder=INBOX', { cookie: mail.cookies.carol });
    assert.deepEqual(carol.json.messages.map((m) => m.subject), ['Hello both']);

    assert.equal(sent.json.sent_copy_error, null, sent.body);

    // bob, whose mailbox is full, can still send: the mail goes out, the copy in Sent cannot be
    // kept, and the answer says why (the page tells the user).
    const fromFull = await post(mail, 'bob', '/api/v1/mail/send?to=carol%40localhost', message('bob@localhost', 'carol@localhost', 'From a full mailbox', 200 * KiB));
    assert.equal(fromFull.status, 200, fromFull.body);
    assert.equal(fromFull.json.sent, true);
    assert.equal(fromFull.json.sent_uid, null);
    assert.equal(fromFull.json.sent_copy_error?.code, 'quota_exceeded', fromFull.body);
    const carolAgain = await request(mail.server, 'GET', '/api/v1/mail/messages?folder=INBOX', { cookie: mail.cookies.carol });
    assert.ok(carolAgain.json.messages.some((m) => m.subject === 'From a full mailbox'));

    // To bob alone: nobody accepted it, so the send fails and says why.
    const alone = await post(mail, 'alice', '/api/v1/mail/send?to=bob%40localhost', message('alice@localhost', 'bob@localhost', 'Only bob', 200 * KiB));
    assert.equal(alone.status, 502, alone.body);
    assert.equal(alone.json.error.code, 'send_failed');
    assert.match(alone.json.error.message, /552 .*Quota exceeded/);
  });

  test('a full mailbox can still move mail to the Trash and empty it', async () => {
    const list = await request(mail.server, 'GET', '/api/v1/mail/messages?folder=INBOX', { cookie: mail.cookies.bob });
    const uids = list.json.messages.map((m) => m.uid);
    assert.equal(uids.length, 1);
    const moved = await request(mail.server, 'POST', '/api/v1/mail/delete', { cookie: mail.cookies.bob, json: { folder: 'INBOX', uids } });
    assert.equal(moved.status, 204, moved.body);
    const emptied = await request(mail.server, 'POST', '/api/v1/mail/empty', { cookie: mail.cookies.bob, json: { folder: 'Trash' } });
    assert.equal(emptied.status, 204, emptied.body);
    const status = await request(mail.server, 'GET', '/api/v1/mail/status', { cookie: mail.cookies.bob });
    assert.equal(status.json.quota.used_bytes, 0, JSON.stringify(status.json.quota));
    const again = await post(mail, 'alice', '/api/v1/mail/send?to=bob%40localhost', message('alice@localhost', 'bob@localhost', 'After emptying', 200 * KiB));
    assert.equal(again.status, 200, again.body);
  });
});
