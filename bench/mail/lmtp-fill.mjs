// Fills a mailbox for the benchmark through Dovecot's real delivery path, LMTP (RFC 2033), on one
// connection: per message MAIL FROM, RCPT TO and DATA are sent together (PIPELINING, RFC 2920,
// which Dovecot's LMTP announces), then the dot-stuffed body; one connection keeps the UIDs in
// arrival order. Every recipient reply must be 250, else the fill fails.

import net from 'node:net';

/** Dot-stuffs and terminates a message for DATA (RFC 5321 §4.5.2); `raw` uses CRLF line ends. */
export function dataBlock(raw) {
  let text = raw.toString('latin1');
  if (!text.endsWith('\r\n')) text += '\r\n';
  text = text.replace(/^\./gm, '..');
  return Buffer.from(`${text}.\r\n`, 'latin1');
}

class ReplyReader {
  #buffer = '';
  #replies = [];
  #waiter = null;
  #error = null;

  constructor(socket) {
    socket.on('data', (d) => {
      this.#buffer += d.toString('latin1');
      let eol;
      let lines = [];
      while ((eol = this.#buffer.indexOf('\r\n')) >= 0) {
        const line = this.#buffer.slice(0, eol);
        this.#buffer = this.#buffer.slice(eol + 2);
        lines.push(line);
        if (line[3] !== '-') {
          this.#replies.push({ code: Number(line.slice(0, 3)), text: lines.join('\n') });
          lines = [];
        }
      }
      if (lines.length) this.#buffer = `${lines.join('\r\n')}\r\n${this.#buffer}`;
      this.#wake();
    });
    socket.on('error', (e) => {
      this.#error = e;
      this.#wake();
    });
    socket.on('close', () => {
      this.#error ??= new Error('LMTP connection closed');
      this.#wake();
    });
  }

  #wake() {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async next(timeoutMs = 30_000) {
    for (;;) {
      if (this.#replies.length) return this.#replies.shift();
      if (this.#error) throw this.#error;
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no LMTP reply within ${timeoutMs} ms`)), timeoutMs);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/**
 * Delivers every message of `messages` ({ raw, from }) to `to` over LMTP at host:port.
 * `onProgress(done)` is called every 500 messages. Resolves to { delivered, ms, bytes }.
 */
export async function fillOverLmtp({ host = '127.0.0.1', port, to, messages, onProgress = () => {} }) {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const replies = new ReplyReader(socket);
  const expect = async (what, codes) => {
    const reply = await replies.next();
    if (!codes.includes(reply.code)) throw new Error(`LMTP ${what}: ${reply.text}`);
    return reply;
  };
  const started = process.hrtime.bigint();
  let bytes = 0;
  try {
    await expect('greeting', [220]);
    socket.write('LHLO bench.localhost\r\n');
    const lhlo = await expect('LHLO', [250]);
    const pipelining = /PIPELINING/i.test(lhlo.text);
    for (let i = 0; i < messages.length; i += 1) {
      const { raw, from } = messages[i];
      const commands = [`MAIL FROM:<${from}>\r\n`, `RCPT TO:<${to}>\r\n`, 'DATA\r\n'];
      if (pipelining) {
        socket.write(commands.join(''));
        await expect('MAIL FROM', [250]);
        await expect('RCPT TO', [250]);
        await expect('DATA', [354]);
      } else {
        socket.write(commands[0]);
        await expect('MAIL FROM', [250]);
        socket.write(commands[1]);
        await expect('RCPT TO', [250]);
        socket.write(commands[2]);
        await expect('DATA', [354]);
      }
      const block = dataBlock(raw);
      bytes += raw.length;
      socket.write(block);
      await expect(`delivery of message ${i}`, [250]);
      if ((i + 1) % 500 === 0) onProgress(i + 1);
    }
    socket.write('QUIT\r\n');
    await replies.next(5_000).catch(() => {});
  } finally {
    socket.destroy();
  }
  return { delivered: messages.length, ms: Number(process.hrtime.bigint() - started) / 1e6, bytes };
}
