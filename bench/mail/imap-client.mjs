// A minimal IMAP4rev1 client over a plain loopback socket, for the mail benchmark's reference
// (what a client talking to Dovecot directly costs) and for checking what the fill put in.
// It sends one tagged command at a time and splits the server's answer into response units:
// one line, or a line whose end announces a literal ({n} or {n+}) followed by n octets and the
// rest of the line, as RFC 3501 §4.3 frames them. Units are kept as latin1 strings (one char per
// octet), enough to count FETCH responses and read numbers; nothing here decodes MIME.
//
//   const imap = await ImapClient.connect({ host: '127.0.0.1', port });
//   await imap.login('alice*secms', masterSecret);
//   const { untagged } = await imap.command('UID SORT (REVERSE DATE) UTF-8 ALL');

import net from 'node:net';

const MAX_UNIT_BYTES = 64 * 1024 * 1024; // one response unit; a FETCH of a whole big message fits

export class ImapError extends Error {
  constructor(message, { status, text } = {}) {
    super(message);
    this.status = status;
    this.text = text;
  }
}

/** An IMAP quoted string (RFC 3501 §9 "quoted"); refuses what a quoted string cannot hold. */
export function quoted(value) {
  if (/[\r\n\0]/.test(value)) throw new Error('IMAP quoted strings cannot hold CR, LF or NUL');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export class ImapClient {
  #socket;
  #buffer = Buffer.alloc(0);
  #unitParts = [];       // parts of the response unit being read
  #literalRemaining = -1; // octets of literal still expected, -1 when reading a line
  #units = [];           // complete units not yet consumed
  #waiter = null;
  #closed = null;
  #tag = 0;
  #timeoutMs;
  bytesReceived = 0;

  constructor(socket, timeoutMs) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('close', () => {
      this.#closed ??= new ImapError('IMAP connection closed');
      this.#wake();
    });
    socket.on('error', (error) => {
      this.#closed = new ImapError(`IMAP connection failed: ${error.message}`);
      this.#wake();
    });
  }

  /** Connects, reads the greeting (* OK …) and resolves to the client. */
  static connect({ host = '127.0.0.1', port, timeoutMs = 30_000 }) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const onError = (error) => reject(new ImapError(`IMAP connect to ${host}:${port} failed: ${error.message}`));
      socket.once('error', onError);
      socket.once('connect', async () => {
        socket.off('error', onError);
        const client = new ImapClient(socket, timeoutMs);
        try {
          const greeting = await client.#nextUnit();
          if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) throw new ImapError(`unexpected IMAP greeting: ${greeting.slice(0, 200)}`);
          client.greeting = greeting;
          resolve(client);
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
    });
  }

  #onData(chunk) {
    this.bytesReceived += chunk.length;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#literalRemaining >= 0) {
        if (this.#buffer.length < this.#literalRemaining) break;
        this.#unitParts.push(this.#buffer.subarray(0, this.#literalRemaining));
        this.#buffer = this.#buffer.subarray(this.#literalRemaining);
        this.#literalRemaining = -1;
        continue;
      }
      const eol = this.#buffer.indexOf('\r\n');
      if (eol < 0) {
        if (this.#buffer.length > MAX_UNIT_BYTES) this.#fail(new ImapError('IMAP line longer than the limit'));
        break;
      }
      const line = this.#buffer.subarray(0, eol + 2);
      this.#buffer = this.#buffer.subarray(eol + 2);
      this.#unitParts.push(line);
      const literal = /\{(\d+)\+?\}\r\n$/.exec(line.toString('latin1', Math.max(0, line.length - 24)));
      if (literal) {
        const size = Number(literal[1]);
        if (size > MAX_UNIT_BYTES) return this.#fail(new ImapError(`IMAP literal of ${size} octets is over the limit`));
        this.#literalRemaining = size;
        continue;
      }
      this.#units.push(Buffer.concat(this.#unitParts).toString('latin1'));
      this.#unitParts = [];
    }
    this.#wake();
  }

  #fail(error) {
    this.#closed = error;
    this.#socket.destroy();
    this.#wake();
  }

  #wake() {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w();
    }
  }

  async #nextUnit() {
    for (;;) {
      if (this.#units.length > 0) return this.#units.shift();
      if (this.#closed) throw this.#closed;
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#waiter = null;
          reject(new ImapError(`no IMAP answer within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * Sends one command (the text after the tag) and collects the untagged units until its tagged
   * answer. `onUntagged(unit)` sees each unit as it comes (for counting without keeping them);
   * then `untagged` stays empty. Resolves to { status, text, untagged }; NO/BAD reject.
   */
  async command(text, { onUntagged } = {}) {
    const tag = `B${++this.#tag}`;
    if (this.#closed) throw this.#closed;
    this.#socket.write(`${tag} ${text}\r\n`);
    const untagged = [];
    for (;;) {
      const unit = await this.#nextUnit();
      if (unit.startsWith(`${tag} `)) {
        const m = /^\S+ (OK|NO|BAD)\b ?(.*)\r\n$/s.exec(unit);
        const status = m ? m[1].toUpperCase() : 'BAD';
        const rest = m ? m[2] : unit;
        if (status !== 'OK') throw new ImapError(`IMAP ${text.split(' ', 2).join(' ')}: ${status} ${rest.trim()}`, { status, text: rest });
        return { status, text: rest, untagged };
      }
      if (onUntagged) onUntagged(unit);
      else untagged.push(unit);
    }
  }

  login(user, password) {
    return this.command(`LOGIN ${quoted(user)} ${quoted(password)}`);
  }

  async capabilities() {
    const { untagged } = await this.command('CAPABILITY');
    const line = untagged.find((u) => /^\* CAPABILITY /i.test(u)) ?? '';
    return new Set(line.replace(/^\* CAPABILITY /i, '').trim().toUpperCase().split(/\s+/));
  }

  /** SELECT (or EXAMINE with readOnly); resolves to { exists, uidvalidity, uidnext }. */
  async select(mailbox, { readOnly = false } = {}) {
    const { untagged } = await this.command(`${readOnly ? 'EXAMINE' : 'SELECT'} ${quoted(mailbox)}`);
    const info = { exists: 0, uidvalidity: 0, uidnext: 0 };
    for (const u of untagged) {
      let m;
      if ((m = /^\* (\d+) EXISTS/i.exec(u))) info.exists = Number(m[1]);
      else if ((m = /UIDVALIDITY (\d+)/i.exec(u))) info.uidvalidity = Number(m[1]);
      else if ((m = /UIDNEXT (\d+)/i.exec(u))) info.uidnext = Number(m[1]);
    }
    return info;
  }

  /** UID SORT (RFC 5256) → UIDs in the order asked. */
  async uidSort(criteria = '(REVERSE DATE)', search = 'ALL') {
    const { untagged } = await this.command(`UID SORT ${criteria} UTF-8 ${search}`);
    const uids = [];
    for (const u of untagged) {
      if (!/^\* SORT\b/i.test(u)) continue;
      for (const n of u.slice(6).trim().split(/\s+/)) if (n) uids.push(Number(n));
    }
    return uids;
  }

  /** UID FETCH of `set` with `items`; resolves to the number of FETCH responses (each is counted, not kept). */
  async uidFetchCount(set, items) {
    let count = 0;
    await this.command(`UID FETCH ${set} ${items}`, {
      onUntagged: (u) => {
        if (/^\* \d+ FETCH /i.test(u)) count += 1;
      },
    });
    return count;
  }

  async logout() {
    try {
      await this.command('LOGOUT');
    } catch {
      // the server may close before the tagged OK reaches us
    }
    this.#socket.destroy();
  }

  destroy() {
    this.#socket.destroy();
  }
}
