// The mail API (/api/v1/mail, docs/api.md "Mail") with the real secms-server and a real Dovecot:
// folders, sending between local users over LMTP, lists, threads, search, flags, moves, Trash,
// drafts, downloads, the refusals of send, body limits, the IDLE push over the WebSocket, an
// unreachable and returning Dovecot, isolation between users, rate limits and logout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startMailServer } from '../helpers/mail-server.mjs';
import {
  freePort, login, loopbackRateLimits, openWebSocket, register, request, startServer,
} from '../helpers/secms-server.mjs';

const PASSWORD = 'correct horse battery staple';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TCP relay in front of Dovecot's IMAP port: closing it makes the mail server unreachable for
// secms-server (and cuts its open connections) without losing the mail; opening it again on the
// same port brings it back.
async function imapRelay(targetPort) {
  const port = await freePort();
  const sockets = new Set();
  let server;
  const open = () => new Promise((resolve, reject) => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client);
      sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    server.close(() => resolve());
  });
  await open();
  return { port, open, close };
}

function message({ from, to, subject, body = 'Hello.', date = 'Mon, 30 Nov 2026 10:00:00 +0000', id, inReplyTo, references, extra = '' }) {
  const lines = [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Date: ${date}`, `Message-ID: <${id}>`];
  if (inReplyTo) lines.push(`In-Reply-To: <${inReplyTo}>`);
  if (references) lines.push(`References: ${references.map((r) => `<${r}>`).join(' ')}`);
  if (extra) lines.push(extra);
  return `${lines.join('\r\n')}\r\n\r\n${body}\r\n`;
}

describe('mail API with Dovecot', () => {
  let mail;
  let dataDir;
  let dovecot;
  let relay;
  let server;
  let cookies;
  let seq = 0;
  const uniqueId = (what) => `${what}-${Date.now()}-${++seq}@test.invalid`;

  const api = (user, method, urlPath, options = {}) =>
    request(server, method, `/api/v1/mail${urlPath}`, { cookie: cookies[user], ...options });
  const rfc822 = (raw) => ({ body: raw, headers: { 'Content-Type': 'message/rfc822' } });
  const list = async (user, query) => {
    const res = await api(user, 'GET', `/messages?${query}`);
    assert.equal(res.status, 200, res.body);
    return res.json;
  };
  const metric = async (name) => {
    const res = await request(server, 'GET', '/metrics');
    const line = res.body.toString().split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1]);
  };

  before(async () => {
    mail = await startMailServer({
      users: ['alice', 'bob', 'carol', 'dave'],
      logLevel: 'info',
      imapPort: async (d) => (relay = await imapRelay(d.imapPort)).port,
      serverArgs: [
        '--mail-max-message-bytes', String(256 * 1024),
        '--mail-timeout-s', '5',
        // The per-user limit has its own test (a server of its own below).
        '--mail-per-user-burst', '10000', '--mail-per-user-per-minute', '10000',
      ],
    });
    ({ server, dovecot, dataDir, cookies } = mail);
    assert.match(await readFile(path.join(dataDir, 'mail', 'master-secret'), 'utf8'), /^[0-9a-f]{64}\n$/);
  });

  after(async () => {
    await mail?.stop();
    await relay?.close();
  });

  test('status names the own address and a working connection', async () => {
    const res = await api('alice', 'GET', '/status');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(
      { ...res.json },
      {
        enabled: true, address: 'alice@localhost', domain: 'localhost', account: 'local', external: null,
        smarthost: false, max_message_bytes: 256 * 1024, connection: 'connected', error: null,
        // Dovecot's default quota of scripts/dovecot.sh (1024 MiB); nothing stored yet.
        quota: { used_bytes: 0, limit_bytes: 1024 * 1024 * 1024 },
      },
    );
    const anonymous = await request(server, 'GET', '/api/v1/mail/status');
    assert.equal(anonymous.status, 401);
  });

  test('folders carry their special use; INBOX and special folders are protected', async () => {
    const res = await api('alice', 'GET', '/folders');
    assert.equal(res.status, 200, res.body);
    const byUse = Object.fromEntries(res.json.folders.filter((f) => f.special_use).map((f) => [f.special_use, f.path]));
    for (const use of ['inbox', 'sent', 'drafts', 'trash', 'junk']) assert.ok(byUse[use], `${use} in ${res.body}`);
    assert.equal(byUse.inbox, 'INBOX');

    const made = await api('alice', 'POST', '/folders', { json: { path: 'Projects' } });
    assert.equal(made.status, 201, made.body);
    assert.equal(made.json.folder.path, 'Projects');
    assert.equal(made.json.folder.special_use, null);
    assert.equal((await api('alice', 'POST', '/folders', { json: { path: 'Projects' } })).json.error.code, 'folder_exists');
    const renamed = await api('alice', 'POST', '/folders/rename', { json: { path: 'Projects', new_path: 'Projets été' } });
    assert.equal(renamed.status, 204, renamed.body);
    const unsub = await api('alice', 'POST', '/folders/subscribe', { json: { path: 'Projets été', subscribed: false } });
    assert.equal(unsub.status, 204, unsub.body);
    let folders = (await api('alice', 'GET', '/folders')).json.folders;
    const accented = folders.find((f) => f.path === 'Projets été');
    assert.ok(accented, JSON.stringify(folders));
    assert.equal(accented.subscribed, false);
    assert.equal((await api('alice', 'POST', '/folders/delete', { json: { path: 'Projets été' } })).status, 204);
    folders = (await api('alice', 'GET', '/folders')).json.folders;
    assert.equal(folders.some((f) => f.path.startsWith('Projet')), false);

    for (const path of ['INBOX', byUse.sent, byUse.trash, byUse.drafts]) {
      const del = await api('alice', 'POST', '/folders/delete', { json: { path } });
      assert.equal(del.status, 409, `${path}: ${del.body}`);
      assert.equal(del.json.error.code, 'folder_protected');
      const ren = await api('alice', 'POST', '/folders/rename', { json: { path, new_path: 'Elsewhere' } });
      assert.equal(ren.status, 409, `${path}: ${ren.body}`);
    }
    assert.equal((await api('alice', 'POST', '/folders/delete', { json: { path: 'Nope' } })).status, 404);
    for (const bad of ['', 'a*', 'a%', 'a//b', 'x\u0001y', 'a'.repeat(300)]) {
      assert.equal((await api('alice', 'POST', '/folders', { json: { path: bad } })).status, 400, bad);
    }
  });

  test('folder names may contain dots (Maildir LAYOUT=fs)', async () => {
    for (const path of ['a.b', 'Lists/dev.team', 'v1.2.3']) {
      const made = await api('alice', 'POST', '/folders', { json: { path } });
      assert.equal(made.status, 201, `${path}: ${made.body}`);
      assert.equal(made.json.folder.path, path);
    }
    const renamed = await api('alice', 'POST', '/folders/rename', { json: { path: 'a.b', new_path: 'c.d.e' } });
    assert.equal(renamed.status, 204, renamed.body);
    const raw = message({ from: 'alice@localhost', to: 'bob@localhost', subject: 'In a dotted folder', id: uniqueId('dot') });
    const appended = await api('alice', 'POST', `/append?folder=${encodeURIComponent('Lists/dev.team')}`, rfc822(raw));
    assert.equal(appended.status, 201, appended.body);
    const inside = await list('alice', `folder=${encodeURIComponent('Lists/dev.team')}`);
    assert.deepEqual(inside.messages.map((m) => m.subject), ['In a dotted folder']);
    const paths = (await api('alice', 'GET', '/folders')).json.folders.map((f) => f.path);
    for (const path of ['c.d.e', 'Lists/dev.team', 'v1.2.3']) assert.ok(paths.includes(path), `${path} in ${paths}`);
    assert.equal(paths.includes('a.b'), false);
    // The Maildir's own directory names stay reserved.
    assert.equal((await api('alice', 'POST', '/folders', { json: { path: 'new' } })).status, 400);
    for (const path of ['c.d.e', 'Lists/dev.team', 'Lists', 'v1.2.3']) {
      const del = await api('alice', 'POST', '/folders/delete', { json: { path } });
      assert.equal(del.status, 204, `${path}: ${del.body}`);
    }
  });

  test('delete with permanent:true expunges in place, in any folder, without Trash', async () => {
    const trashPath = (await api('alice', 'GET', '/folders')).json.folders.find((f) => f.special_use === 'trash').path;
    const trashBefore = (await list('alice', `folder=${encodeURIComponent(trashPath)}`)).total;
    const old = await api('alice', 'POST', '/append?folder=Drafts&flags=%5CDraft,%5CSeen',
      rfc822(message({ from: 'alice@localhost', to: 'bob@localhost', subject: 'Draft v1', id: uniqueId('d1') })));
    const kept = await api('alice', 'POST', '/append?folder=Drafts&flags=%5CDraft,%5CSeen',
      rfc822(message({ from: 'alice@localhost', to: 'bob@localhost', subject: 'Draft v2', id: uniqueId('d2') })));
    assert.equal(old.status, 201, old.body);
    assert.equal(kept.status, 201, kept.body);
    assert.equal((await api('alice', 'POST', '/delete', { json: { folder: 'Drafts', uids: [old.json.uid], permanent: 'yes' } })).status, 400);
    const gone = await api('alice', 'POST', '/delete', { json: { folder: 'Drafts', uids: [old.json.uid], permanent: true } });
    assert.equal(gone.status, 204, gone.body);
    const drafts = (await list('alice', 'folder=Drafts')).messages.map((m) => m.uid);
    assert.equal(drafts.includes(old.json.uid), false, 'the old draft is expunged');
    assert.ok(drafts.includes(kept.json.uid), 'the other draft stays');
    assert.equal((await list('alice', `folder=${encodeURIComponent(trashPath)}`)).total, trashBefore, 'nothing went to Trash');

    await dovecot.deliver({ from: 'zed@example.org', to: ['alice@localhost'], raw: message({ from: 'zed@example.org', to: 'alice@localhost', subject: 'Gone for good', id: uniqueId('p') }) });
    const [inboxMsg] = (await list('alice', 'folder=INBOX&subject=gone%20for%20good')).messages;
    assert.ok(inboxMsg);
    assert.equal((await api('alice', 'POST', '/delete', { json: { folder: 'INBOX', uids: [inboxMsg.uid], permanent: true } })).status, 204);
    assert.equal((await list('alice', 'folder=INBOX&subject=gone%20for%20good')).total, 0);
    assert.equal((await list('alice', `folder=${encodeURIComponent(trashPath)}`)).total, trashBefore);
    await api('alice', 'POST', '/delete', { json: { folder: 'Drafts', uids: [kept.json.uid], permanent: true } });
  });

  test('send delivers to a local user over LMTP, files it in Sent and removes the draft', async () => {
    const raw = message({ from: 'Alice <alice@localhost>', to: 'bob@localhost', subject: '=?UTF-8?Q?Caf=C3=A9?= plans', id: uniqueId('send') });
    const draft = await api('alice', 'POST', '/append?folder=Drafts&flags=%5CDraft,%5CSeen', rfc822(raw));
    assert.equal(draft.status, 201, draft.body);
    assert.ok(draft.json.uid > 0);
    const drafts = await list('alice', 'folder=Drafts');
    assert.ok(drafts.messages.some((m) => m.uid === draft.json.uid && m.flags.includes('\\Draft')));

    const sent = await api('alice', 'POST', `/send?to=bob%40localhost&draft_uid=${draft.json.uid}`, rfc822(raw));
    assert.equal(sent.status, 200, sent.body);
    assert.equal(sent.json.sent, true);
    assert.deepEqual(sent.json.refused, []);
    assert.ok(sent.json.sent_uid > 0);

    const inbox = await list('bob', 'folder=INBOX');
    const got = inbox.messages.find((m) => m.subject === 'Café plans');
    assert.ok(got, JSON.stringify(inbox));
    assert.deepEqual(got.from, [{ name: 'Alice', address: 'alice@localhost' }]);
    assert.equal(got.flags.includes('\\Seen'), false);
    const sentList = await list('alice', 'folder=Sent');
    const copy = sentList.messages.find((m) => m.uid === sent.json.sent_uid);
    assert.ok(copy?.flags.includes('\\Seen'), JSON.stringify(sentList));
    const after = await list('alice', 'folder=Drafts');
    assert.equal(after.messages.some((m) => m.uid === draft.json.uid), false, 'the draft is removed');
  });

  test('send refuses foreign From, unknown local users and other domains without a smarthost', async () => {
    const sentBefore = (await list('alice', 'folder=Sent')).total;
    const forged = message({ from: 'bob@localhost', to: 'carol@localhost', subject: 'forged', id: uniqueId('f') });
    const res = await api('alice', 'POST', '/send?to=carol%40localhost', rfc822(forged));
    assert.equal(res.status, 403, res.body);
    assert.equal(res.json.error.code, 'from_not_allowed');

    const toNobody = message({ from: 'alice@localhost', to: 'nobody@localhost', subject: 'x', id: uniqueId('n') });
    const unknown = await api('alice', 'POST', '/send?to=carol%40localhost&to=nobody%40localhost', rfc822(toNobody));
    assert.equal(unknown.status, 422, unknown.body);
    assert.equal(unknown.json.error.code, 'unknown_recipient');
    assert.match(unknown.json.error.message, /nobody@localhost/);

    const outside = message({ from: 'alice@localhost', to: 'eve@example.org', subject: 'out', id: uniqueId('o') });
    const noRelay = await api('alice', 'POST', '/send?to=carol%40localhost&to=eve%40example.org', rfc822(outside));
    assert.equal(noRelay.status, 422, noRelay.body);
    assert.equal(noRelay.json.error.code, 'no_smarthost');

    assert.equal((await list('alice', 'folder=Sent')).total, sentBefore, 'nothing was appended to Sent');
    const carolInbox = await list('carol', 'folder=INBOX&q=forged');
    assert.equal(carolInbox.total, 0, 'nothing was delivered');
    for (const bad of ['/send', '/send?to=not-an-address', '/send?to=a%40b.org%0D%0ARCPT%20TO:x%40y']) {
      assert.equal((await api('alice', 'POST', bad, rfc822(outside))).status, 400, bad);
    }
  });

  test('lists sort, page, thread and search; flags, moves, deletes and Trash', async () => {
    const root = uniqueId('root');
    const reply = uniqueId('reply');
    const msgs = [
      message({ from: 'Zed <zed@example.org>', to: 'carol@localhost', subject: 'Apples', date: 'Mon, 2 Mar 2026 10:00:00 +0000', id: root }),
      message({ from: 'Yan <yan@example.org>', to: 'carol@localhost', subject: 'Bananas', date: 'Tue, 3 Mar 2026 10:00:00 +0000', id: uniqueId('b') }),
      message({ from: 'Xia <xia@example.org>', to: 'carol@localhost', subject: 'Re: Apples', date: 'Wed, 4 Mar 2026 10:00:00 +0000', id: reply, inReplyTo: root, references: [root] }),
      message({
        from: 'Wu <wu@example.org>', to: 'carol@localhost', subject: 'Cherries', date: 'Thu, 5 Mar 2026 10:00:00 +0000', id: uniqueId('c'),
        extra: 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"',
        body: '--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--',
      }),
    ];
    for (const raw of msgs) {
      const r = await dovecot.deliver({ from: 'sender@example.org', to: ['carol@localhost'], raw });
      assert.deepEqual(r.accepted, ['carol@localhost'], JSON.stringify(r));
    }

    const byDate = await list('carol', 'folder=INBOX&sort=date&order=desc');
    assert.deepEqual(byDate.messages.map((m) => m.subject), ['Cherries', 'Re: Apples', 'Bananas', 'Apples']);
    assert.equal(byDate.total, 4);
    assert.equal(byDate.messages[0].has_attachment, true);
    assert.equal(byDate.messages[0].content_type, 'multipart/mixed');
    assert.equal(byDate.messages[0].date, '2026-03-05T10:00:00Z');
    const bySubject = await list('carol', 'folder=INBOX&sort=subject&order=asc');
    assert.deepEqual(bySubject.messages.map((m) => m.subject).slice(0, 2), ['Apples', 'Re: Apples']);
    const page = await list('carol', 'folder=INBOX&sort=date&order=asc&offset=1&limit=2');
    assert.equal(page.total, 4);
    assert.equal(page.offset, 1);
    assert.deepEqual(page.messages.map((m) => m.subject), ['Bananas', 'Re: Apples']);

    const threads = await list('carol', 'folder=INBOX&threads=1');
    assert.equal(threads.total, 3, JSON.stringify(threads));
    const apples = threads.messages.filter((m) => m.thread?.count === 2);
    assert.deepEqual(apples.map((m) => [m.subject, m.thread.depth]), [['Apples', 0], ['Re: Apples', 1]]);
    assert.equal(apples[0].thread.id, apples[0].uid);
    assert.equal(threads.messages[0].subject, 'Cherries', 'newest activity first');

    assert.deepEqual((await list('carol', 'folder=INBOX&q=yan')).messages.map((m) => m.subject), ['Bananas']);
    assert.deepEqual((await list('carol', 'folder=INBOX&subject=cherries')).messages.map((m) => m.subject), ['Cherries']);
    assert.equal((await list('carol', 'folder=INBOX&since=2026-03-04')).total, 2);
    assert.equal((await list('carol', 'folder=INBOX&before=2026-03-03')).total, 1);
    for (const bad of ['sort=colour', 'order=sideways', 'limit=500', 'since=March', 'flags=odd', 'threads=yes']) {
      assert.equal((await api('carol', 'GET', `/messages?folder=INBOX&${bad}`)).status, 400, bad);
    }

    const bananas = byDate.messages.find((m) => m.subject === 'Bananas').uid;
    const cherries = byDate.messages.find((m) => m.subject === 'Cherries').uid;
    const flagged = await api('carol', 'POST', '/flags', { json: { folder: 'INBOX', uids: [bananas], add: ['\\Flagged', '\\Seen'], remove: [] } });
    assert.equal(flagged.status, 204, flagged.body);
    assert.deepEqual((await list('carol', 'folder=INBOX&flags=flagged')).messages.map((m) => m.uid), [bananas]);
    assert.equal((await list('carol', 'folder=INBOX&flags=unseen')).total, 3);
    assert.equal((await api('carol', 'POST', '/flags', { json: { folder: 'INBOX', uids: [bananas], add: ['\\Recent'] } })).status, 400);

    const folders = (await api('carol', 'GET', '/folders')).json.folders;
    const inboxInfo = folders.find((f) => f.path === 'INBOX');
    assert.deepEqual([inboxInfo.total, inboxInfo.unseen], [4, 3]);
    const trash = folders.find((f) => f.special_use === 'trash').path;
    const archive = folders.find((f) => f.special_use === 'archive')?.path ?? 'Archive';

    assert.equal((await api('carol', 'POST', '/move', { json: { folder: 'INBOX', uids: [cherries], to: archive, copy: true } })).status, 204);
    assert.equal((await list('carol', `folder=${archive}`)).total, 1);
    assert.equal((await list('carol', 'folder=INBOX')).total, 4, 'copy keeps the original');
    assert.equal((await api('carol', 'POST', '/move', { json: { folder: 'INBOX', uids: [cherries], to: archive } })).status, 204);
    assert.equal((await list('carol', 'folder=INBOX')).total, 3);

    assert.equal((await api('carol', 'POST', '/delete', { json: { folder: 'INBOX', uids: [bananas] } })).status, 204);
    assert.equal((await list('carol', 'folder=INBOX')).total, 2);
    const inTrash = await list('carol', `folder=${encodeURIComponent(trash)}`);
    assert.equal(inTrash.total, 1);
    assert.equal((await api('carol', 'POST', '/delete', { json: { folder: trash, uids: [inTrash.messages[0].uid] } })).status, 204);
    assert.equal((await list('carol', `folder=${encodeURIComponent(trash)}`)).total, 0, 'deleting in Trash expunges');
    await api('carol', 'POST', '/delete', { json: { folder: archive, uids: (await list('carol', `folder=${archive}`)).messages.map((m) => m.uid) } });
    assert.equal((await list('carol', `folder=${encodeURIComponent(trash)}`)).total, 2);
    assert.equal((await api('carol', 'POST', '/empty', { json: { folder: trash } })).status, 204);
    assert.equal((await list('carol', `folder=${encodeURIComponent(trash)}`)).total, 0);
    const notTrash = await api('carol', 'POST', '/empty', { json: { folder: 'INBOX' } });
    assert.equal(notTrash.status, 409, notTrash.body);

    assert.equal((await api('carol', 'POST', '/mark-read', { json: { folder: 'INBOX' } })).status, 204);
    assert.equal((await list('carol', 'folder=INBOX&flags=unseen')).total, 0);
  });

  test('the raw message downloads as message/rfc822 without setting \\Seen', async () => {
    const raw = message({ from: 'zed@example.org', to: 'dave@localhost', subject: 'Raw bytes', body: 'The body line.', id: uniqueId('raw') });
    await dovecot.deliver({ from: 'zed@example.org', to: ['dave@localhost'], raw });
    const { messages } = await list('dave', 'folder=INBOX&q=Raw');
    assert.equal(messages.length, 1);
    const res = await api('dave', 'GET', `/message?folder=INBOX&uid=${messages[0].uid}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'message/rfc822');
    assert.match(res.headers['content-disposition'], /^attachment/);
    assert.ok(res.body.toString().endsWith(raw.slice(raw.indexOf('\r\n\r\n'))), res.body.toString());
    const again = await list('dave', 'folder=INBOX&q=Raw');
    assert.equal(again.messages[0].flags.includes('\\Seen'), false);
    assert.equal((await api('dave', 'GET', `/message?folder=INBOX&uid=999999`)).status, 404);
    assert.equal((await api('dave', 'GET', '/message?folder=INBOX&uid=abc')).status, 400);
  });

  test('a cached list is made again after another client expunged one message and one arrived (review R2)', async () => {
    assert.equal((await api('dave', 'POST', '/folders', { json: { path: 'Cached' } })).status, 201);
    for (const subject of ['One', 'Two', 'Three']) {
      const raw = message({ from: 'zed@example.org', to: 'dave@localhost', subject, body: subject, id: uniqueId('cache') });
      assert.equal((await api('dave', 'POST', '/append?folder=Cached', rfc822(raw))).status, 201);
    }
    const first = await list('dave', 'folder=Cached&sort=arrival');
    assert.deepEqual(first.messages.map((m) => m.subject).sort(), ['One', 'Three', 'Two']);
    // Another client (a phone on the same mailbox) expunges the oldest and appends one: the
    // count is 3 again, only UIDNEXT moved.
    const imap = await dovecot.login('dave');
    assert.equal((await imap.command('SELECT Cached')).status, 'OK');
    assert.equal((await imap.command(`UID STORE ${Math.min(...first.messages.map((m) => m.uid))} +FLAGS (\\Deleted)`)).status, 'OK');
    assert.equal((await imap.command('EXPUNGE')).status, 'OK');
    const fresh = message({ from: 'zed@example.org', to: 'dave@localhost', subject: 'Fresh', body: 'new', id: uniqueId('cache') });
    assert.equal((await imap.command(`APPEND Cached {${Buffer.byteLength(fresh)}+}\r\n${fresh}`)).status, 'OK');
    await imap.logout();
    const second = await list('dave', 'folder=Cached&sort=arrival');
    assert.equal(second.total, 3);
    assert.deepEqual(second.messages.map((m) => m.subject).sort(), ['Fresh', 'Three', 'Two']);
  });

  test('a user reaches only their own mailbox, whatever the parameters', async () => {
    const secret = message({ from: 'zed@example.org', to: 'bob@localhost', subject: 'For bob only', id: uniqueId('iso') });
    await dovecot.deliver({ from: 'zed@example.org', to: ['bob@localhost'], raw: secret });
    const bobs = await list('bob', 'folder=INBOX&q=bob%20only');
    assert.equal(bobs.total, 1);
    const uid = bobs.messages[0].uid;
    for (const folder of ['bob/INBOX', '../bob/INBOX', 'bob*secms', '~bob/INBOX', '#shared/bob', 'INBOX']) {
      const res = await api('alice', 'GET', `/messages?folder=${encodeURIComponent(folder)}&q=bob%20only`);
      assert.ok(res.status >= 400 || res.json.total === 0, `${folder}: ${res.body}`);
      const raw = await api('alice', 'GET', `/message?folder=${encodeURIComponent(folder)}&uid=${uid}`);
      assert.ok(raw.status >= 400 || !raw.body.toString().includes('For bob only'), folder);
    }
  });

  test('an external account on a loopback or private address is refused', async () => {
    const account = {
      email: 'me@example.org', imap_port: 993, imap_tls: 'tls', smtp_port: 465, smtp_tls: 'tls',
      username: 'me', password: 'secret password',
    };
    for (const host of ['127.0.0.1', 'localhost', '10.0.0.1', '169.254.169.254', '::1', '0.0.0.0', '192.168.1.1']) {
      const res = await api('alice', 'PUT', '/account', { json: { ...account, imap_host: host, smtp_host: '8.8.8.8' } });
      assert.equal(res.status, 422, `${host}: ${res.body}`);
      assert.equal(res.json.error.code, 'external_refused', host);
      const smtpSide = await api('alice', 'PUT', '/account', { json: { ...account, imap_host: '8.8.8.8', smtp_host: host } });
      assert.equal(smtpSide.status, 422, `${host}: ${smtpSide.body}`);
    }
    const plain = await api('alice', 'PUT', '/account', { json: { ...account, imap_host: '8.8.8.8', smtp_host: '8.8.8.8', imap_tls: 'none' } });
    assert.equal(plain.status, 422, plain.body);
    assert.equal(plain.json.error.code, 'external_refused');
    assert.equal((await api('alice', 'GET', '/status')).json.account, 'local');
  });

  test('a body over mail_max_message_bytes is refused with 413 and the server keeps serving', async () => {
    const big = message({ from: 'alice@localhost', to: 'bob@localhost', subject: 'big', id: uniqueId('big'), body: 'x'.repeat(400 * 1024) });
    const res = await api('alice', 'POST', '/append?folder=Drafts', rfc822(big));
    assert.equal(res.status, 413, res.body);
    const sent = await api('alice', 'POST', '/send?to=bob%40localhost', rfc822(big));
    assert.equal(sent.status, 413);
    // Other paths keep the ordinary 64 KiB body limit.
    const other = await api('alice', 'POST', '/flags', { body: JSON.stringify({ folder: 'INBOX', pad: 'x'.repeat(100 * 1024) }) });
    assert.equal(other.status, 413);
    const fits = message({ from: 'alice@localhost', to: 'bob@localhost', subject: 'fits', id: uniqueId('fits'), body: 'y'.repeat(150 * 1024) });
    assert.equal((await api('alice', 'POST', '/append?folder=Drafts', rfc822(fits))).status, 201);
    assert.equal((await api('alice', 'GET', '/status')).status, 200);
  });

  test('a WebSocket of the user hears mail_new when mail arrives in INBOX', async () => {
    assert.equal((await api('dave', 'GET', '/status')).status, 200);
    const ws = await openWebSocket(server, { cookie: cookies.dave });
    try {
      await sleep(1000); // the mailbox enters IDLE once the socket is counted
      const raw = message({ from: 'zed@example.org', to: 'dave@localhost', subject: 'Pushed', id: uniqueId('push') });
      await dovecot.deliver({ from: 'zed@example.org', to: ['dave@localhost'], raw });
      const event = await ws.next('mail_new', 10_000);
      assert.equal(event.folder, 'INBOX');
      assert.ok(event.exists >= 2, JSON.stringify(event));
      assert.ok(event.unseen >= 1, JSON.stringify(event));
    } finally {
      ws.ws.close();
      await ws.closed;
    }
  });

  test('mail_status on the WebSocket: "error" when the mail server is cut off, "connected" once back', async () => {
    assert.equal((await api('carol', 'GET', '/status')).json.connection, 'connected');
    const ws = await openWebSocket(server, { cookie: cookies.carol });
    try {
      await sleep(1000); // the mailbox enters IDLE once the socket is counted
      await relay.close();
      let lost;
      try {
        lost = await ws.next('mail_status', 10_000);
      } finally {
        await sleep(500);
        await relay.open();
      }
      assert.equal(lost.connection, 'error', JSON.stringify(lost));
      assert.equal(lost.error?.code, 'mail_unavailable', JSON.stringify(lost));
      // No request of the page: the server reconnects by itself while a socket watches.
      const back = await ws.next('mail_status', 20_000);
      assert.deepEqual({ ...back }, { type: 'mail_status', connection: 'connected', error: null });
      const raw = message({ from: 'zed@example.org', to: 'carol@localhost', subject: 'After the outage', id: uniqueId('back') });
      await dovecot.deliver({ from: 'zed@example.org', to: ['carol@localhost'], raw });
      assert.equal((await ws.next('mail_new', 10_000)).folder, 'INBOX', 'push works again');
    } finally {
      ws.ws.close();
      await ws.closed;
    }
  });

  test('an unreachable mail server gives 503 mail_unavailable; it works again once back', async () => {
    assert.equal((await api('bob', 'GET', '/folders')).status, 200);
    await relay.close();
    try {
      const down = await api('bob', 'GET', '/folders');
      assert.equal(down.status, 503, down.body);
      assert.equal(down.json.error.code, 'mail_unavailable');
      assert.match(down.json.error.message, /not reachable; nothing was changed/);
      const status = await api('bob', 'GET', '/status');
      assert.equal(status.status, 200);
      assert.equal(status.json.connection, 'error');
    } finally {
      await relay.open();
    }
    const back = await api('bob', 'GET', '/folders');
    assert.equal(back.status, 200, back.body);
  });

  test('logout closes the user\'s IMAP connection', async () => {
    const { cookie } = await login(server, 'dave', PASSWORD);
    // dave's other login ends too: the mailbox closes with the user's last login.
    await request(server, 'DELETE', '/api/v1/session', { cookie: cookies.dave });
    assert.equal((await request(server, 'GET', '/api/v1/mail/status', { cookie })).status, 200);
    const before = await metric('secms_mail_sessions_open');
    assert.ok(before >= 1, `sessions open: ${before}`);
    assert.equal((await request(server, 'DELETE', '/api/v1/session', { cookie })).status, 204);
    let now = before;
    for (let i = 0; i < 50 && now >= before; i++) {
      await sleep(100);
      now = await metric('secms_mail_sessions_open');
    }
    assert.equal(now, before - 1, 'one IMAP connection fewer');
    assert.equal((await request(server, 'GET', '/api/v1/mail/status', { cookie })).status, 401);
  });

  test('the mail API is rate-limited per user', async () => {
    const limited = await startServer({
      dataDir: await mkdtemp(path.join(os.tmpdir(), 'secms-mail-rl-')),
      extraArgs: [
        ...loopbackRateLimits, '--mail-imap-port', String(relay.port), '--mail-lmtp-port', String(dovecot.lmtpPort),
        '--mail-per-user-burst', '3', '--mail-per-user-per-minute', '1', '--mail-master-secret-file',
        path.join(dataDir, 'mail', 'master-secret'),
      ],
    });
    try {
      assert.equal((await register(limited, 'erin', PASSWORD)).status, 201);
      const { cookie } = await login(limited, 'erin', PASSWORD);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await request(limited, 'GET', '/api/v1/mail/status', { cookie })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const refused = await request(limited, 'GET', '/api/v1/mail/status', { cookie });
      assert.equal(refused.json.error.code, 'rate_limited');
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    } finally {
      await limited.stop();
    }
  });
});
