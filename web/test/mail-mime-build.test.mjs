// mime-build.js: header encoding and folding, quoted-printable, base64 wrapping, RFC 2231
// filenames, boundaries; and limits/negative cases of mime-read.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import PostalMime, { decodeWords } from 'postal-mime';
import {
  Base64OfBlob, MimeBuildError, base64LineBytes, base64LineStream, base64Lines, buildBodyEntity, buildMessage, concatChunks, encodeHeader,
  entityBlob, entityBytes, entityHasBlobs, filenameParameters, foldHeader, formatAddress, formatDate, multipartEntity, quotedPrintable,
  textEntity,
} from '../src/mail/mime-build.js';
import { openMessage } from '../src/mail/mime-read.js';
import { buildAutocryptHeader, buildGossipHeader } from '../src/mail/autocrypt.js';
import { bytes, localCrypto, makeIdentity, text } from './helpers/mail-parties.mjs';

test('headers: ASCII as is; UTF-8 as B encoded words ≤ 75 chars that decode back; folded ≤ 78 columns', () => {
  assert.equal(encodeHeader('Hello'), 'Hello');
  const subject = 'Réunion à 10h — ordre du jour, café et croissants pour toute l’équipe du projet 🚀';
  const encoded = encodeHeader(subject);
  assert.match(encoded, /^=\?UTF-8\?B\?/);
  for (const word of encoded.split(' ')) assert.ok(word.length <= 75, word);
  assert.equal(decodeWords(encoded), subject);
  const folded = foldHeader('Subject', encoded);
  for (const line of folded.split('\r\n').slice(0, -1)) assert.ok(line.length <= 78, line);
  assert.ok(folded.endsWith('\r\n'));
  assert.notEqual(encodeHeader('a =?x?= b'), 'a =?x?= b', 'text that looks like an encoded word is encoded');
  assert.throws(() => encodeHeader('evil\r\nBcc: x@y'), MimeBuildError);
  assert.throws(() => foldHeader('X-Bad Name', 'v'), MimeBuildError);
});

test('addresses: quoted display names, encoded non-ASCII names, bad addresses refused', () => {
  assert.equal(formatAddress({ name: 'Doe, John "JD"', address: 'john@example.org' }), '"Doe, John \\"JD\\"" <john@example.org>');
  assert.match(formatAddress({ name: 'Zoë', address: 'zoe@example.org' }), /^=\?UTF-8\?B\?[^ ]+\?= <zoe@example\.org>$/);
  assert.equal(formatAddress({ address: 'a@b' }), '<a@b>');
  for (const bad of ['no-at', 'a b@c', 'a@b>', 'x@y\r\nBcc: z@w']) assert.throws(() => formatAddress({ address: bad }), MimeBuildError, bad);
});

test('dates are RFC 5322 in UTC', () => {
  assert.equal(formatDate(new Date(Date.UTC(2025, 6, 1, 9, 5, 3))), 'Tue, 01 Jul 2025 09:05:03 +0000');
});

test('quoted-printable: UTF-8, ≤ 76 columns, soft breaks, trailing space and "From " encoded, round trip', async () => {
  const source = `${'Ünïcödé '.repeat(30)}\nFrom the start\ntrailing space \ttab\t\n=equals=`;
  const qp = quotedPrintable(source);
  for (const line of qp.split('\r\n')) assert.ok(line.length <= 76, line);
  assert.match(qp, /^=46rom the start$/m);
  assert.match(qp, /^trailing space \ttab=09$/m);
  assert.match(qp, /^=3Dequals=3D$/m);
  assert.doesNotMatch(qp, /[^\x20-\x7e\t\r\n]/);
  const parsed = await PostalMime.parse(bytes(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp}`));
  assert.equal(parsed.text.replace(/\n$/, ''), source);
});

test('base64: 76-column CRLF lines, exact bytes back', () => {
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13) & 255);
  const joined = base64Lines(data).join('');
  const lines = joined.split('\r\n').filter(Boolean);
  assert.ok(lines.slice(0, -1).every((line) => line.length === 76));
  assert.deepEqual(Uint8Array.from(atob(lines.join('')), (c) => c.charCodeAt(0)), data);
});

test('streamed base64: any chunking of the input gives the bytes of base64LineBytes', async () => {
  const data = Uint8Array.from({ length: 200_003 }, (_, i) => (i * 31 + (i >> 8)) & 255);
  const expected = base64LineBytes(data);
  for (const sizes of [[1], [56, 58], [57], [4096, 1], [65536], [200_003]]) {
    const chunks = [];
    for (let offset = 0, turn = 0; offset < data.length; turn += 1) {
      const end = Math.min(data.length, offset + sizes[turn % sizes.length]);
      chunks.push(data.slice(offset, end));
      offset = end;
    }
    const source = new ReadableStream({ pull(controller) { if (chunks.length) controller.enqueue(chunks.shift()); else controller.close(); } });
    const out = new Uint8Array(await new Response(source.pipeThrough(base64LineStream())).arrayBuffer());
    assert.deepEqual(out, expected, `chunks of ${sizes.join('/')}`);
  }
  const empty = new Uint8Array(await new Response(new Blob([]).stream().pipeThrough(base64LineStream())).arrayBuffer());
  assert.equal(empty.length, 0);
});

test('a Blob attachment: the message is made as a Blob with the same bytes as from the attachment bytes', async () => {
  const data = Uint8Array.from({ length: 3 * 1024 * 1024 + 11 }, (_, i) => (i * 7 + (i >> 12)) & 255);
  const file = new File([data], 'report.bin', { type: 'application/octet-stream' });
  const entity = buildBodyEntity({ text: 'see attached', attachments: [{ filename: 'report.bin', contentType: 'application/octet-stream', data: file }] });
  assert.ok(entityHasBlobs(entity));
  const chunk = entity.parts[1].body[0];
  assert.ok(chunk instanceof Base64OfBlob && chunk.blob === file, 'the File itself is kept, not its bytes');
  assert.equal(chunk.size, base64LineBytes(data).length);
  assert.throws(() => entityBytes(entity), MimeBuildError);
  assert.throws(() => concatChunks(['a', file]), MimeBuildError);
  const blob = await entityBlob(entity);
  assert.ok(blob instanceof Blob);
  // The same entity with the attachment's base64 made in memory: the very same bytes.
  const inMemory = { ...entity, parts: [entity.parts[0], { ...entity.parts[1], body: [base64LineBytes(data)] }] };
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), entityBytes(inMemory));
  const message = await PostalMime.parse(new Uint8Array(await blob.arrayBuffer()));
  assert.equal(message.attachments.length, 1);
  assert.deepEqual(new Uint8Array(message.attachments[0].content), data);
});

test('RFC 2231 filenames: UTF-8 percent-encoded in continuations; read back by postal-mime', async () => {
  const name = 'Rapport annuel — données financières définitives 2025 (copie).pdf';
  const params = filenameParameters('filename', name);
  assert.ok(params.length > 1);
  assert.match(params[0], /^filename\*0\*=UTF-8''/);
  const raw = buildMessage({
    from: { address: 'a@localhost' }, to: [{ address: 'b@localhost' }], subject: 's', text: 't',
    attachments: [{ filename: name, contentType: 'application/pdf', data: bytes('%PDF') }],
  });
  const parsed = await PostalMime.parse(raw);
  assert.equal(parsed.attachments[0].filename, name);
  assert.doesNotMatch(text(raw), /[^\x00-\x7f]/, '7bit output');
});

test('boundaries are random, quoted, and never inside the parts', () => {
  const a = multipartEntity('mixed', [textEntity('x')]);
  const b = multipartEntity('mixed', [textEntity('x')]);
  assert.notEqual(a.boundary, b.boundary);
  assert.match(a.headers[0][1], /boundary="=_secms_[a-z0-9]{28}"/);
  const raw = text(buildMessage({ from: { address: 'a@localhost' }, subject: 's', text: 'x', html: '<b>y</b>' }));
  const boundaries = [...raw.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]);
  for (const boundary of boundaries) assert.equal(raw.split(`--${boundary}--`).length, 2);
});

test('an 18 MiB attachment (a message near the 25 MiB limit once base64) builds and reads back exact', async () => {
  const big = new Uint8Array(18 * 1024 * 1024);
  big[12345] = 7;
  const raw = buildMessage({ from: { address: 'a@localhost' }, subject: 'big', text: 'x', attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', data: big }] });
  assert.ok(raw.length > big.length * 4 / 3 && raw.length < 25 * 1024 * 1024);
  const model = await openMessage({ raw });
  assert.equal(model.parse_error, null);
  assert.equal(model.attachments[0].size, big.length);
  assert.equal(model.attachments[0].data[12345], 7);
});

// ---- mime-read limits and negative cases ------------------------------------------------------

function multipartWith(count) {
  let body = '';
  for (let i = 0; i < count; i += 1) body += `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
  return bytes(`From: <x@localhost>\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${body}--b--\r\n`);
}

function nested(depth) {
  let inner = 'Content-Type: text/plain\r\n\r\ndeep\r\n';
  for (let level = depth; level > 0; level -= 1) inner = `Content-Type: multipart/mixed; boundary="n${level}"\r\n\r\n--n${level}\r\n${inner}\r\n--n${level}--\r\n`;
  return bytes(`From: <x@localhost>\r\nSubject: nested\r\n${inner}`);
}

test('limits: 600 parts, 30 nesting levels, a 300 KiB header block, > 32 MiB → a model with parse_error, no throw', async () => {
  assert.equal((await openMessage({ raw: multipartWith(400) })).parse_error, null);
  const many = await openMessage({ raw: multipartWith(600) });
  assert.equal(many.parse_error, 'too_many_parts');
  assert.equal(many.text, null);
  assert.equal((await openMessage({ raw: nested(15) })).parse_error, null);
  assert.equal((await openMessage({ raw: nested(30) })).parse_error, 'too_deep');
  const hugeHeader = bytes(`From: <x@localhost>\r\nX-Filler: ${'a'.repeat(300 * 1024)}\r\nSubject: h\r\n\r\nbody`);
  assert.equal((await openMessage({ raw: hugeHeader })).parse_error, 'header_too_large');
  assert.equal((await openMessage({ raw: new Uint8Array(32 * 1024 * 1024 + 1) })).parse_error, 'too_large');
  assert.equal((await openMessage({ raw: 'not bytes' })).parse_error, 'unreadable');
});

test('Autocrypt: a header for another address is ignored; gossip outside encryption is ignored', async () => {
  const alice = await makeIdentity('alice');
  const mallory = await makeIdentity('mallory');
  const forged = buildMessage({
    from: { address: alice.address }, subject: 'hi', text: 'x',
    extraHeaders: [['Autocrypt', buildAutocryptHeader({ addr: mallory.address, armored: mallory.armoredPublic })]],
  });
  assert.equal((await openMessage({ raw: forged })).autocrypt, null);
  const gossipInClear = buildMessage({
    from: { address: alice.address }, subject: 'hi', text: 'x',
    extraHeaders: [['Autocrypt-Gossip', buildGossipHeader({ addr: 'bob@localhost', armored: mallory.armoredPublic })]],
  });
  const model = await openMessage({ raw: gossipInClear, crypto: localCrypto(alice.privateKey) });
  assert.deepEqual(model.gossip, []);
});

test('legacy display parts (text/rfc822-headers, hp-legacy-display) are not shown', async () => {
  const raw = bytes([
    'From: <x@localhost>', 'Subject: s', 'Content-Type: multipart/mixed; boundary="q"', '',
    '--q', 'Content-Type: text/rfc822-headers; protected-headers="v1"', '', 'Subject: legacy', '',
    '--q', 'Content-Type: text/plain', '', 'real body', '--q--', '',
  ].join('\r\n'));
  const model = await openMessage({ raw });
  assert.equal(model.text.trim(), 'real body');
  assert.equal(model.attachments.length, 0);
});
