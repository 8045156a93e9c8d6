// Folder names that Dovecot's Maildir LAYOUT=fs would store beside a folder's own files are
// refused (400 with a sentence), and an encrypted message (RFC 3156 multipart/encrypted, whose
// second part is always "encrypted.asc") is not listed as having attachments.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMailServer } from '../helpers/mail-server.mjs';
import { request } from '../helpers/secms-server.mjs';

describe('folder names and attachment flags', () => {
  let mail;
  let server;
  let cookie;
  const api = (method, p, options = {}) => request(server, method, `/api/v1/mail${p}`, { cookie, timeoutMs: 30_000, ...options });
  before(async () => {
    mail = await startMailServer({ users: ['alice'], serverArgs: ['--mail-timeout-s', '5'] });
    ({ server } = mail);
    cookie = mail.cookies.alice;
  });
  after(async () => {
    await mail?.stop();
  });

  test('reserved Maildir names are refused on create and rename, any case, any segment', async () => {
    assert.equal((await api('POST', '/folders', { json: { path: 'Work' } })).status, 201);
    for (const name of ['cur', 'NEW', 'tmp', 'Work/cur', 'dovecot.index', 'Dovecot-uidlist', 'Work/dovecot.index.cache',
      '.hidden', 'Work/.x', 'maildirfolder', 'subscriptions']) {
      const made = await api('POST', '/folders', { json: { path: name } });
      assert.equal(made.status, 400, `${name}: ${made.body}`);
      assert.equal(made.json.error.code, 'bad_request');
      assert.match(made.json.error.message, /may not be cur, new, tmp/);
      const renamed = await api('POST', '/folders/rename', { json: { path: 'Work', new_path: name } });
      assert.equal(renamed.status, 400, `rename to ${name}: ${renamed.body}`);
    }
    const folders = (await api('GET', '/folders')).json.folders.map((f) => f.path);
    assert.ok(folders.includes('Work'));
    assert.ok(!folders.some((p) => /(^|\/)(cur|new|tmp|\.|dovecot)/i.test(p)), JSON.stringify(folders));
    assert.equal((await api('POST', '/folders', { json: { path: 'Work/current news' } })).status, 201);
  });

  test('multipart/encrypted is listed without attachments; a real attachment still counts', async () => {
    const encrypted = [
      'From: alice@localhost', 'To: alice@localhost', 'Subject: sealed',
      'MIME-Version: 1.0',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"', '',
      '--b1', 'Content-Type: application/pgp-encrypted', 'Content-Description: PGP/MIME version identification', '',
      'Version: 1', '',
      '--b1', 'Content-Type: application/octet-stream; name="encrypted.asc"',
      'Content-Disposition: inline; filename="encrypted.asc"', '',
      '-----BEGIN PGP MESSAGE-----', '', 'wcBMA0000', '-----END PGP MESSAGE-----', '',
      '--b1--', ''].join('\r\n');
    const withFile = [
      'From: alice@localhost', 'To: alice@localhost', 'Subject: with file',
      'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b2"', '',
      '--b2', 'Content-Type: text/plain; charset=utf-8', '', 'see attached', '',
      '--b2', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '',
      '--b2--', ''].join('\r\n');
    for (const raw of [encrypted, withFile]) {
      const res = await api('POST', '/append?folder=Drafts', { body: raw, headers: { 'Content-Type': 'message/rfc822' } });
      assert.equal(res.status, 201, res.body);
    }
    const list = (await api('GET', '/messages?folder=Drafts')).json.messages;
    const bySubject = Object.fromEntries(list.map((m) => [m.subject, m]));
    assert.equal(bySubject.sealed.content_type, 'multipart/encrypted');
    assert.equal(bySubject.sealed.has_attachment, false);
    assert.equal(bySubject['with file'].has_attachment, true);
  });
});
