// Header names in the reader (review r2 F2): a field name is RFC 5322 ftext exactly, nothing but
// ASCII space/tab is trimmed before the colon, so `From\u00a0:` (or any Unicode space, an 8-bit
// name) is not a From field; a message whose From is ambiguous (none, two, or a malformed
// From-like line that a lax reader would take) shows no sender but a warning and gives no
// Autocrypt key; a display name carrying another address is shown as a claim beside the real one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMessage, readHeaderFields, senderProblem } from '../src/mail/mime-read.js';
import { securitySummary } from '../src/ui/mail/mail-security.js';
import { setLanguage } from '../src/i18n/index.js';

setLanguage('en');
const encoder = new TextEncoder();
// Any base64 keydata: the Autocrypt header is read, not the key inside.
const autocrypt = (addr) => `Autocrypt: addr=${addr}; prefer-encrypt=mutual; keydata=${'mDMEZ'.padEnd(120, 'A')}`;

function raw(headerLines) {
  return encoder.encode([...headerLines, 'Subject: hello', 'Date: Mon, 30 Nov 2026 10:00:00 +0000', 'Message-ID: <x@localhost>',
    'Content-Type: text/plain; charset=utf-8', '', 'body', ''].join('\r\n'));
}

test('a name is ftext exactly: Unicode spaces, 8-bit bytes, controls make a malformed line, not a field', () => {
  for (const space of ['\u00a0', '\ufeff', '\u3000', '\u2028', '\u2003', '\u200b']) {
    const { fields, malformed } = readHeaderFields(`From${space}: carol@localhost\r\nTo: bob@localhost`);
    assert.deepEqual(fields.map(([name]) => name), ['To'], JSON.stringify(space));
    assert.deepEqual(malformed, [`From${space}`]);
  }
  assert.deepEqual(readHeaderFields('Fröm: x\r\n folded\r\nTo: y').fields, [['To', 'y']], 'the continuation of a dropped line is dropped too');
  assert.deepEqual(readHeaderFields('no colon here\r\nTo: y').malformed, ['no colon here']);
  // obs-optional: ASCII WSP between name and colon is still the field.
  assert.deepEqual(readHeaderFields('From \t: alice@localhost').fields, [['From', 'alice@localhost']]);
});

test('From\\u00a0: carol + From: alice (what the server lets through) shows no sender, a warning and takes no Autocrypt key', async () => {
  for (const space of ['\u00a0', '\ufeff', '\u3000', '\u2003']) {
    const model = await openMessage({ raw: raw([`From${space}: carol@localhost`, 'From: alice@localhost', 'To: bob@localhost', autocrypt('carol@localhost')]) });
    assert.equal(model.parse_error, null);
    assert.deepEqual(model.headers.from, [], JSON.stringify(space));
    assert.equal(model.security.sender_problem, 'ambiguous');
    assert.equal(model.autocrypt, null);
    const summary = securitySummary(model.security, [], null);
    assert.equal(summary.tone, 'danger');
    assert.ok(summary.lines.some((line) => /sender could not be determined/i.test(line)), summary.lines.join(' | '));
  }
  // Alone, the malformed line is no From either.
  const alone = await openMessage({ raw: raw(['From\u00a0: carol@localhost', 'To: bob@localhost']) });
  assert.deepEqual(alone.headers.from, []);
  assert.equal(alone.security.sender_problem, 'ambiguous');
});

test('two From fields, or a From after an unparseable line, are ambiguous: not the first one', async () => {
  for (const lines of [
    ['From: alice@localhost', 'From: carol@localhost'],
    ['From: alice@localhost', 'no colon here', 'From : carol@localhost'],
    ['FROM: alice@localhost', 'from: carol@localhost'],
    ['To: bob@localhost'],                                      // no From at all
  ]) {
    const model = await openMessage({ raw: raw([...lines, autocrypt('alice@localhost')]) });
    assert.deepEqual(model.headers.from, [], lines.join(' / '));
    assert.equal(model.security.sender_problem, 'ambiguous', lines.join(' / '));
    assert.equal(model.autocrypt, null, lines.join(' / '));
  }
});

test('an ordinary From stays, with its Autocrypt key', async () => {
  const model = await openMessage({ raw: raw(['From: Alice <alice@localhost>', 'To: bob@localhost', autocrypt('alice@localhost')]) });
  assert.deepEqual(model.headers.from, [{ name: 'Alice', address: 'alice@localhost' }]);
  assert.equal(model.security.sender_problem, null);
  assert.equal(model.autocrypt?.addr, 'alice@localhost');
  const same = await openMessage({ raw: raw(['From: "alice@localhost" <alice@localhost>']) });
  assert.equal(same.security.sender_problem, null, 'the name repeating the real address is fine');
});

test('a display name carrying another address: the real address is the sender, with a warning', async () => {
  for (const from of ['"carol@localhost" <alice@localhost>', 'carol@localhost <alice@localhost>', '=?utf-8?q?carol=40localhost?= <alice@localhost>']) {
    const model = await openMessage({ raw: raw([`From: ${from}`, 'To: bob@localhost']) });
    assert.equal(model.headers.from[0]?.address, 'alice@localhost', from);
    assert.equal(model.security.sender_problem, 'display_name_address', from);
    const summary = securitySummary(model.security, [], 'alice@localhost');
    assert.ok(summary.lines.some((line) => /real address is alice@localhost/.test(line)), summary.lines.join(' | '));
    assert.notEqual(summary.tone, 'ok');
  }
  assert.equal(senderProblem([['From', 'Carol Smith <alice@localhost>']]), null);
});

test('a display name or comment whose address is written with a look-alike of @ (NFKC): warned the same (r5 F5)', async () => {
  for (const from of ['"carol\uFF20localhost" <alice@localhost>', 'carol\uFE6Blocalhost <alice@localhost>',
    '=?utf-8?Q?carol=EF=BC=A0localhost?= <alice@localhost>', 'alice@localhost (=?utf-8?Q?carol=40localhost?=)']) {
    const model = await openMessage({ raw: raw([`From: ${from}`, 'To: bob@localhost']) });
    assert.equal(model.headers.from[0]?.address, 'alice@localhost', from);
    assert.equal(model.security.sender_problem, 'display_name_address', from);
  }
  assert.equal(senderProblem([['From', '"alice\uFF20localhost" <alice@localhost>']]), null, 'the real address in full width is no other address');
});
