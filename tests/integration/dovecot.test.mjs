// The Dovecot instance scripts/run.sh starts (server/mail/dovecot.conf.in rendered by
// scripts/dovecot.sh), started here by tests/helpers/dovecot.mjs without secms-server: the master
// user logs in as any user of the domain and nobody logs in otherwise; LMTP delivers into the
// user's Maildir and only for the mail domain; the special-use folders exist; IDLE reports a new
// delivery; the renderer refuses values that would add configuration lines; nothing listens
// beyond the two loopback ports.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { imapConnect, imapLogin, renderDovecotConfig, startDovecot } from '../helpers/dovecot.mjs';

const message = (subject, body = 'Hello.\n') =>
  `From: Bob <bob@localhost>\nTo: Alice <alice@localhost>\nSubject: ${subject}\n` +
  `Message-ID: <${subject.replace(/\W/g, '')}@localhost>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n${body}`;

async function filesIn(dir) {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

const existsOf = (untagged) => Number(untagged.map((l) => /^\* (\d+) EXISTS/.exec(l)).find(Boolean)?.[1]);

describe('Dovecot companion instance', () => {
  let dovecot;
  before(async () => {
    dovecot = await startDovecot({});
  });
  after(async () => {
    await dovecot?.stop();
  });

  test('the master user logs in as a user; the master secret is required', async () => {
    const imap = await dovecot.login('alice');
    const { status, untagged } = await imap.command('NAMESPACE');
    assert.equal(status, 'OK');
    assert.match(untagged.join('\n'), /\* NAMESPACE \(\(""\s+"\/"\)\)/);
    await imap.logout();
    // Upper case and the domain name the same mailbox.
    const again = await dovecot.login('ALICE@localhost');
    await again.logout();

    await assert.rejects(
      imapLogin({ port: dovecot.imapPort, localAddress: '127.0.0.2', user: `alice*${dovecot.masterUser}`, password: 'f'.repeat(64) }),
      /AUTHENTICATIONFAILED/,
    );
  });

  test('a user cannot log in without the master user, not even with the master secret', async () => {
    // Each from an address of its own: Dovecot's auth penalty grows with each failure of one.
    for (const [password, localAddress] of [[dovecot.masterSecret, '127.0.0.3'], ['', '127.0.0.6'], ['alice', '127.0.0.7']]) {
      await assert.rejects(
        imapLogin({ port: dovecot.imapPort, localAddress, user: 'alice', password }),
        /AUTHENTICATIONFAILED|BAD/,
      );
    }
    // The master user itself is no mailbox to log in to either.
    await assert.rejects(
      imapLogin({ port: dovecot.imapPort, localAddress: '127.0.0.4', user: dovecot.masterUser, password: dovecot.masterSecret }),
      /AUTHENTICATIONFAILED/,
    );
  });

  test('a user of another domain does not exist, for IMAP nor for LMTP', async () => {
    // The master user's password matches (pass = no: no passdb of the target user), then the
    // userdb lookup of the login finds no such user and Dovecot ends the login as an internal
    // failure: it answers "NO [UNAVAILABLE]" or closes the connection before that answer is
    // written (which one depends on timing). Either way no session exists.
    await assert.rejects(
      imapLogin({ port: dovecot.imapPort, localAddress: '127.0.0.5', user: `mallory@example.org*${dovecot.masterUser}`, password: dovecot.masterSecret }),
      /IMAP LOGIN refused: t\d+ NO \[UNAVAILABLE\]|connection closed/,
    );
    // Dovecot's log process writes the line shortly after the connection ended.
    const notFound = /passwd-file\(mallory@example\.org,[^)]*\): user not found from userdb/;
    for (let waited = 0; !notFound.test(dovecot.log()) && waited < 2_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.match(dovecot.log(), notFound);
    const result = await dovecot.deliver({
      from: 'bob@localhost', to: ['mallory@example.org'], raw: message('Elsewhere'),
    });
    assert.deepEqual(result.accepted, []);
    assert.equal(result.refused.length, 1);
    assert.match(result.refused[0].reply, /^550 /);
  });

  test('the special-use folders exist and are subscribed', async () => {
    const imap = await dovecot.login('carol');
    const listed = await imap.command('LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)');
    assert.equal(listed.status, 'OK', listed.text);
    const text = listed.untagged.join('\n');
    for (const [flag, name] of [['Drafts', 'Drafts'], ['Sent', 'Sent'], ['Trash', 'Trash'], ['Junk', 'Junk'], ['Archive', 'Archive']]) {
      assert.match(text, new RegExp(`^\\* LIST \\([^)]*\\\\${flag}[^)]*\\) "/" ${name}$`, 'm'), text);
      assert.match(text, new RegExp(`^\\* LIST \\([^)]*\\\\Subscribed[^)]*\\) "/" ${name}$`, 'm'), text);
    }
    assert.match(text, /^\* LIST \([^)]*\) "\/" INBOX$/m);
    await imap.logout();
  });

  test('LMTP delivery lands in the Maildir and is seen over IMAP, IDLE reports the next one', async () => {
    const raw = message('First', 'A line.\n.leading dot\n');
    const result = await dovecot.deliver({ from: 'bob@localhost', to: ['Alice@LOCALHOST'], raw });
    assert.deepEqual(result.accepted, ['Alice@LOCALHOST'], JSON.stringify(result));

    const maildir = dovecot.maildirOf('alice');
    const files = [...(await filesIn(path.join(maildir, 'new'))), ...(await filesIn(path.join(maildir, 'cur')))];
    assert.equal(files.length, 1, `files in ${maildir}: ${files}`);
    const where = (await filesIn(path.join(maildir, 'new'))).length ? 'new' : 'cur';
    const stored = await readFile(path.join(maildir, where, files[0]), 'utf8');
    assert.match(stored, /^Subject: First$/m);
    assert.match(stored, /^\.leading dot$/m); // dot-stuffing undone by the server
    assert.match(stored, /^Delivered-To: alice@localhost$/im);
    // 0700 directories: no other account reads the mailbox.
    assert.equal((await stat(maildir)).mode & 0o777, 0o700);

    const imap = await dovecot.login('alice');
    const selected = await imap.command('SELECT INBOX');
    assert.equal(selected.status, 'OK', selected.text);
    assert.equal(existsOf(selected.untagged), 1, selected.untagged.join('\n'));
    const fetched = await imap.command('UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(fetched.status, 'OK');
    assert.match(fetched.untagged.join('\n'), /Subject: First/);

    imap.send('i1 IDLE');
    assert.match(await imap.next(), /^\+ /);
    const second = await dovecot.deliver({ from: 'bob@localhost', to: ['alice@localhost'], raw: message('Second') });
    assert.deepEqual(second.accepted, ['alice@localhost']);
    let line;
    do line = await imap.next(10_000); while (!/^\* \d+ EXISTS/.test(line));
    assert.equal(line, '* 2 EXISTS');
    imap.send('DONE');
    do line = await imap.next(); while (line.startsWith('* '));
    assert.match(line, /^i1 OK/);
    await imap.logout();
  });

  test('nothing listens but the IMAP and LMTP ports on loopback', async () => {
    // The master process holds every listening socket (its children inherit them).
    const sockets = execFileSync('ss', ['-Hltnp']).toString().split('\n')
      .filter((l) => l.includes(`pid=${dovecot.process.pid},`));
    const ports = sockets.map((l) => l.trim().split(/\s+/)[3]).sort();
    assert.deepEqual(ports, [`127.0.0.1:${dovecot.imapPort}`, `127.0.0.1:${dovecot.lmtpPort}`].sort(), sockets.join('\n'));
  });

  test('the log names logins and deliveries, never the master secret', async () => {
    const log = dovecot.log();
    assert.match(log, /Master user logging in as alice@localhost/);
    assert.match(log, /saved mail to INBOX/);
    assert.ok(!log.includes(dovecot.masterSecret), 'the master secret is in the log');
    const config = await readFile(dovecot.configPath, 'utf8');
    assert.ok(!config.includes(dovecot.masterSecret), 'the master secret is in the configuration');
    const masterUsers = await readFile(path.join(path.dirname(dovecot.configPath), 'master-users'), 'utf8');
    assert.match(masterUsers, /^secms:\{SHA512-CRYPT\}\$6\$[^\n]+\n$/);
    assert.equal((await stat(path.join(path.dirname(dovecot.configPath), 'master-users'))).mode & 0o777, 0o600);
  });
});

describe('dovecot_render refuses values that would change the configuration', () => {
  let dir;
  let vars;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secms-dovecot-render-'));
    // Run as root, the renderer checks that the mail account reaches the mail directory.
    await chmod(dir, 0o711);
    await mkdir(path.join(dir, 'mail'), { mode: 0o711 });
    await writeFile(path.join(dir, 'secret'), `${'a'.repeat(64)}\n`, { mode: 0o600 });
    vars = {
      LISTEN_IP: '127.0.0.1', IMAP_PORT: 1143, LMTP_PORT: 2424, DOMAIN: 'localhost',
      MAIL_DIR: path.join(dir, 'mail', 'localhost'), MASTER_USER: 'secms',
      MASTER_SECRET_FILE: path.join(dir, 'secret'), BASE_DIR: path.join(dir, 'run'),
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('valid values render, with every placeholder replaced', async () => {
    const conf = path.join(dir, 'ok');
    await mkdir(conf, { mode: 0o700 });
    const result = renderDovecotConfig(conf, vars);
    assert.equal(result.status, 0, result.stderr);
    const text = await readFile(path.join(conf, 'dovecot.conf'), 'utf8');
    assert.doesNotMatch(text, /@[A-Z_]+@/);
    assert.match(text, /^\s*port = 1143$/m);
    assert.match(text, /^\s*quota_rule = \*:storage=1024M$/m); // scripts/dovecot.sh's default
    assert.match(text, /^mail_location = maildir:.*\/mail\/localhost\/%Ln:LAYOUT=fs$/m);
    assert.equal((await stat(path.join(conf, 'dovecot.conf'))).mode & 0o777, 0o600);
    // doveconf parses it (a template error would show here, not only at start).
    execFileSync('doveconf', ['-n', '-c', path.join(conf, 'dovecot.conf')], { stdio: 'pipe' });
  });

  const refusals = [
    ['an IMAP port with a newline', { IMAP_PORT: '1143\nfoo' }, /invalid IMAP port/],
    ['an LMTP port out of range', { LMTP_PORT: '70000' }, /out of range/],
    ['equal ports', { LMTP_PORT: '1143' }, /both 1143/],
    ['a listening address with a setting', { LISTEN_IP: '127.0.0.1\nlisten = *' }, /invalid listening address/],
    ['a domain with a space', { DOMAIN: 'local host' }, /invalid mail domain/],
    ['a domain with a brace', { DOMAIN: 'a}b' }, /invalid mail domain/],
    ['a master user with a colon', { MASTER_USER: 'secms:x' }, /invalid master user/],
    ['a mail directory with a Dovecot variable', { MAIL_DIR: '/tmp/%u' }, /invalid mail directory/],
    ['a relative mail directory', { MAIL_DIR: 'mail' }, /invalid mail directory/],
    ['a missing secret file', { MASTER_SECRET_FILE: '/nonexistent/secret' }, /is missing/],
    ['a quota with a setting', { QUOTA_MB: '1\nquota = none' }, /invalid mailbox quota/],
    ['a quota with a unit', { QUOTA_MB: '1G' }, /invalid mailbox quota/],
    ['a quota above 16 TiB', { QUOTA_MB: '99999999' }, /above 16777216 MiB/],
  ];
  for (const [name, change, message] of refusals) {
    test(`refuses ${name}`, async () => {
      const conf = await mkdtemp(path.join(dir, 'bad-'));
      const result = renderDovecotConfig(conf, { ...vars, ...change });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, message);
      assert.deepEqual(await readdir(conf), [], 'nothing is written when a value is refused');
    });
  }

  test('refuses a master secret file of another form', async () => {
    const conf = await mkdtemp(path.join(dir, 'bad-'));
    await writeFile(path.join(dir, 'short'), 'abc\n', { mode: 0o600 });
    const result = renderDovecotConfig(conf, { ...vars, MASTER_SECRET_FILE: path.join(dir, 'short') });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /64 lower-case hex/);
    assert.ok(!result.stderr.includes('abc'), 'the content of the file is not repeated');
  });
});

describe('IMAP without Dovecot', () => {
  test('imapConnect fails clearly when nothing listens', async () => {
    await assert.rejects(imapConnect({ port: 1 }), /ECONNREFUSED|no connection/);
  });
});
