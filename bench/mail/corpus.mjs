// A deterministic folder of test messages for the mail benchmark: the same seed gives the same
// bytes, so runs compare. The mix is meant to look like a real mailbox rather than N copies of one
// message: ~250 senders (some display names with RFC 2047 encoded words), dates over two years
// (the Date header a little off the arrival order, as real mail is), a third PGP/MIME encrypted
// with the "[...]" subject of header protection, some multipart/alternative, some with an
// attachment, and a quarter replies (In-Reply-To/References) so threads exist. Sizes are a few KiB
// with a tail of bigger ones; the bench reports the folder's total size.

const WORDS = (
  'account agenda alpha audit backup budget build cache calendar change client cluster config ' +
  'contract coverage customer dashboard data deadline deploy design draft estimate feature ' +
  'feedback firewall forecast holiday incident invoice kernel launch ledger license lunch meeting ' +
  'migration minutes network notes offsite onboarding order outage patch payroll plan policy ' +
  'proposal quarter release report review roadmap schedule security server sprint status summary ' +
  'survey team ticket training travel update upgrade vendor weekly workshop'
).split(' ');
const GIVEN = ['Alice', 'Bob', 'Carol', 'Dave', 'Eve', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory',
  'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Zoé', 'Élodie', 'Jürgen',
  'Søren', 'François', 'Ana'];
const FAMILY = ['Martin', 'Bernard', 'Dubois', 'Smith', 'Jones', 'Müller', 'García', 'Rossi', 'Novak'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'localhost'];
const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2024, 10, 30, 8, 0, 0); // the oldest message

/** mulberry32: a small seeded PRNG; the corpus needs repeatability, not quality. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function encodedWord(text) {
  // RFC 2047 B encoding only when needed, like a mail client would.
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function rfc5322Date(ms) {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function base64Lines(bytes) {
  return Buffer.from(bytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

/**
 * Makes `count` messages for `to` (an address); returns an array of { raw: Buffer, from (address),
 * kind } in arrival order. `seed` fixes the content.
 */
export function makeCorpus({ count, to = 'alice@localhost', seed = 11 }) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const paragraph = () => {
    const lines = [];
    const n = 3 + Math.floor(random() * 8);
    for (let i = 0; i < n; i += 1) lines.push(words(8 + Math.floor(random() * 6)));
    return lines.join('\r\n');
  };
  const senders = Array.from({ length: 250 }, (_, i) => {
    const given = GIVEN[i % GIVEN.length];
    const family = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length];
    const local = `${given}.${family}${i}`.normalize('NFKD').replace(/[^A-Za-z0-9.]/g, '').toLowerCase();
    return { name: `${given} ${family}`, address: `${local}@${DOMAINS[i % DOMAINS.length]}` };
  });

  const messages = [];
  const ids = [];
  const span = 730 * DAY_MS;
  for (let i = 0; i < count; i += 1) {
    const sender = pick(senders);
    // arrival spreads evenly over two years; the Date header is up to an hour earlier
    const arrival = START_MS + Math.floor((span * i) / Math.max(1, count));
    const dateMs = arrival - Math.floor(random() * 3_600_000);
    const messageId = `<bench.${seed}.${i}.${Math.floor(random() * 1e9).toString(36)}@${sender.address.split('@')[1]}>`;
    ids.push(messageId);
    const roll = random();
    const kind = roll < 0.33 ? 'encrypted' : roll < 0.5 ? 'alternative' : roll < 0.58 ? 'attachment' : 'plain';
    let subject = `${words(2 + Math.floor(random() * 5))} #${i}`;
    const headers = [
      `From: ${encodedWord(sender.name)} <${sender.address}>`,
      `To: ${to}`,
      `Date: ${rfc5322Date(dateMs)}`,
      `Message-ID: ${messageId}`,
      'MIME-Version: 1.0',
    ];
    if (i > 0 && random() < 0.25) {
      // a reply to one of the last 200 messages
      const parent = Math.max(0, i - 1 - Math.floor(random() * Math.min(i, 200)));
      headers.push(`In-Reply-To: ${ids[parent]}`, `References: ${ids[parent]}`);
      subject = `Re: ${subject}`;
    }
    const boundary = `=_bench_${i}_${Math.floor(random() * 1e12).toString(36)}`;
    let body;
    if (kind === 'encrypted') {
      // RFC 3156 §4 structure; the armored part is random octets of a realistic size
      headers.push('Subject: [...]');
      headers.push(`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`);
      const payload = new Uint8Array(1500 + Math.floor(random() * 6000) + (random() < 0.05 ? 120_000 : 0));
      for (let k = 0; k < payload.length; k += 1) payload[k] = Math.floor(random() * 256);
      body = [
        'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
        `--${boundary}`,
        'Content-Type: application/pgp-encrypted',
        'Content-Description: PGP/MIME version identification',
        '',
        'Version: 1',
        '',
        `--${boundary}`,
        'Content-Type: application/octet-stream; name="encrypted.asc"',
        'Content-Description: OpenPGP encrypted message',
        'Content-Disposition: inline; filename="encrypted.asc"',
        '',
        '-----BEGIN PGP MESSAGE-----',
        '',
        base64Lines(payload).trimEnd(),
        '-----END PGP MESSAGE-----',
        '',
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else if (kind === 'alternative') {
      headers.push(`Subject: ${encodedWord(subject)}`);
      headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
      const text = paragraph();
      body = [
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        text,
        `--${boundary}`,
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        `<html><body><p>${text.replace(/\r\n/g, '</p><p>')}</p></body></html>`,
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else if (kind === 'attachment') {
      headers.push(`Subject: ${encodedWord(subject)}`);
      headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      const file = new Uint8Array(4000 + Math.floor(random() * 40_000));
      for (let k = 0; k < file.length; k += 1) file[k] = Math.floor(random() * 256);
      body = [
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        paragraph(),
        `--${boundary}`,
        `Content-Type: application/octet-stream; name="${pick(WORDS)}-${i}.bin"`,
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="${pick(WORDS)}-${i}.bin"`,
        '',
        base64Lines(file).trimEnd(),
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else {
      headers.push(`Subject: ${encodedWord(subject)}`);
      headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
      body = `${paragraph()}\r\n\r\n${paragraph()}\r\n`;
    }
    messages.push({
      raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8'),
      from: sender.address,
      kind,
      arrival,
    });
  }
  return messages;
}
