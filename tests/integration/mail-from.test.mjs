// The From check of POST /api/v1/mail/send against header tricks that make another reader show
// another sender than the one checked (a Unicode space before the colon, a line without colon,
// an address in the display name, Sender and Resent-From): each is refused before anything is
// delivered, and bob's INBOX receives only the honest messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { request } from '../helpers/secms-server.mjs';

const head = (lines, body = 'hi') => `${lines.join('\r\n')}\r\n\r\n${body}\r\n`;
const rest = (name) => ['To: bob@localhost', `Subject: V-${name}`];

// name → [header lines, expected status, expected code]
const variants = {
  nbspBefore: [['From\u00a0: carol@localhost', 'From: alice@localhost', ...rest('nbspBefore')], 400, 'bad_request'],
  nbspAfter: [['From: alice@localhost', ...rest('nbspAfter'), 'From\u00a0: carol@localhost'], 400, 'bad_request'],
  feffBefore: [['From\ufeff: carol@localhost', 'From: alice@localhost', ...rest('feffBefore')], 400, 'bad_request'],
  ideographicSpace: [['From\u3000: carol@localhost', 'From: alice@localhost', ...rest('ideographicSpace')], 400, 'bad_request'],
  lineSeparator: [['From\u2028: carol@localhost', 'From: alice@localhost', ...rest('lineSeparator')], 400, 'bad_request'],
  emSpace: [['From\u2003: carol@localhost', 'From: alice@localhost', ...rest('emSpace')], 400, 'bad_request'],
  bomBefore: [['\ufeffFrom: carol@localhost', 'From: alice@localhost', ...rest('bomBefore')], 400, 'bad_request'],
  spaceColonBefore: [['From : carol@localhost', 'From: alice@localhost', ...rest('spaceColonBefore')], 400, 'bad_request'],
  spaceColonAfter: [['From: alice@localhost', ...rest('spaceColonAfter'), 'From : carol@localhost'], 400, 'bad_request'],
  tabColonBefore: [['From\t: carol@localhost', 'From: alice@localhost', ...rest('tabColonBefore')], 400, 'bad_request'],
  twoFrom: [['From: alice@localhost', 'From: carol@localhost', ...rest('twoFrom')], 400, 'bad_request'],
  garbageThenFrom: [['From: alice@localhost', ...rest('garbageThenFrom'), 'this line has no colon', 'From : carol@localhost'], 400, 'bad_request'],
  garbageThenFrom2: [['From: alice@localhost', ...rest('garbageThenFrom2'), 'X-Bad header: x', 'FROM :carol@localhost'], 400, 'bad_request'],
  garbageThenSender: [['From: alice@localhost', ...rest('garbageThenSender'), 'no colon here', 'Sender: carol@localhost'], 400, 'bad_request'],
  emptyNameLine: [[': x', 'From: alice@localhost', ...rest('emptyNameLine')], 400, 'bad_request'],
  wsLineSplit: [['From: alice@localhost', ...rest('wsLineSplit'), ' ', 'From: carol@localhost'], 400, 'bad_request'],
  fromInFold: [['X-A: a', ' From: carol@localhost', 'From: alice@localhost', ...rest('fromInFold')], 200],
  quotedName: [['From: "carol@localhost" <alice@localhost>', ...rest('quotedName')], 403, 'from_not_allowed'],
  encodedName: [['From: =?utf-8?q?carol=40localhost_=3Ccarol=40localhost=3E?= <alice@localhost>', ...rest('encodedName')], 403, 'from_not_allowed'],
  commentAddress: [['From: alice@localhost (carol@localhost)', ...rest('commentAddress')], 403, 'from_not_allowed'],
  // r5 F5: an encoded '@' in a comment; the characters NFKC makes '@' (U+FF20, U+FE6B).
  commentEncoded: [['From: alice@localhost (=?utf-8?Q?carol=40localhost?=)', ...rest('commentEncoded')], 403, 'from_not_allowed'],
  fullwidthAt: [['From: "carol\uFF20localhost" <alice@localhost>', ...rest('fullwidthAt')], 403, 'from_not_allowed'],
  smallAt: [['From: carol\uFE6Blocalhost <alice@localhost>', ...rest('smallAt')], 403, 'from_not_allowed'],
  encodedFullwidthAt: [['From: =?utf-8?Q?carol=EF=BC=A0localhost?= <alice@localhost>', ...rest('encodedFullwidthAt')], 403, 'from_not_allowed'],
  commentPlain: [['From: alice@localhost (Alice at work)', ...rest('commentPlain')], 200],
  route: [['From: <@carol.example:alice@localhost>', ...rest('route')], 400, 'bad_request'], // mailimf reads no obs-route
  senderOther: [['From: alice@localhost', 'Sender: carol@localhost', ...rest('senderOther')], 403, 'from_not_allowed'],
  senderName: [['From: alice@localhost', 'Sender: "carol@localhost" <alice@localhost>', ...rest('senderName')], 403, 'from_not_allowed'],
  resentFrom: [['Resent-Date: Mon, 30 Nov 2026 10:00:00 +0000', 'Resent-From: carol@localhost', 'From: alice@localhost', ...rest('resentFrom')], 403, 'from_not_allowed'],
  resentSender: [['Resent-Sender: carol@localhost', 'From: alice@localhost', ...rest('resentSender')], 400, 'bad_request'],
  plain: [['From: Alice Example <alice@localhost>', ...rest('plain')], 200],
  foldedFrom: [['From:', ' alice@localhost', ...rest('foldedFrom')], 200],
  replyTo: [['From: alice@localhost', 'Reply-To: carol@localhost', ...rest('replyTo')], 200],
};

describe('the From check of /send', () => {
  let mail;
  let server;
  let cookies;
  before(async () => {
    mail = await startMailServer({
      users: ['alice', 'bob', 'carol'],
      serverArgs: ['--mail-timeout-s', '5',
        '--mail-per-user-burst', '1000', '--mail-per-user-per-minute', '1000', '--mail-send-per-user-per-minute', '1000'],
    });
    ({ server, cookies } = mail);
  });
  after(async () => {
    await mail?.stop();
  });

  test('every variant is answered as expected, and only honest messages reach bob', async () => {
    const delivered = [];
    for (const [name, [lines, status, code]] of Object.entries(variants)) {
      const res = await request(server, 'POST', '/api/v1/mail/send?to=bob%40localhost', {
        cookie: cookies.alice, body: head(lines), headers: { 'Content-Type': 'message/rfc822' }, timeoutMs: 30_000 });
      assert.equal(res.status, status, `${name}: ${res.body}`);
      if (code) assert.equal(res.json?.error?.code, code, name);
      if (status === 200) delivered.push(`V-${name}`);
    }
    const list = await request(server, 'GET', '/api/v1/mail/messages?folder=INBOX&limit=200', { cookie: cookies.bob });
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json.messages.map((m) => m.subject).sort(), delivered.sort());
    for (const m of list.json.messages) {
      assert.deepEqual(m.from.map((a) => a.address.toLowerCase()), ['alice@localhost'], m.subject);
    }
  });

  test('the refusal of a display name that holds an address says so', async () => {
    const res = await request(server, 'POST', '/api/v1/mail/send?to=bob%40localhost', {
      cookie: cookies.alice, body: head(['From: "carol@localhost" <alice@localhost>', ...rest('says')]),
      headers: { 'Content-Type': 'message/rfc822' } });
    assert.equal(res.status, 403);
    assert.match(res.json.error.message, /display name may not contain an address/);
  });
});
