// rtpengine's control protocol ("ng"): a bencoded dictionary after a cookie, over UDP
// (rtpengine's docs, "The NG Control Protocol"). Just enough for the benchmark: list the calls,
// query one call's packet counters, read the global statistics.

import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

/** Bencodes strings, integers, arrays and plain objects (keys sorted, as bencode requires). */
export function bencode(value) {
  if (typeof value === 'number') return `i${Math.trunc(value)}e`;
  if (typeof value === 'string') return `${Buffer.byteLength(value)}:${value}`;
  if (Array.isArray(value)) return `l${value.map(bencode).join('')}e`;
  return `d${Object.keys(value).sort().map((k) => bencode(k) + bencode(value[k])).join('')}e`;
}

/** Decodes one bencoded value of `buf` (a Buffer); byte strings become UTF-8 strings. */
export function bdecode(buf) {
  let at = 0;
  const parse = () => {
    const c = buf[at];
    if (c === 0x69) { // i…e
      const end = buf.indexOf(0x65, at);
      const n = Number(buf.toString('latin1', at + 1, end));
      at = end + 1;
      return n;
    }
    if (c === 0x6c || c === 0x64) { // l…e, d…e
      at += 1;
      const list = [];
      while (buf[at] !== 0x65) {
        if (at >= buf.length) throw new Error('ng: truncated answer');
        list.push(parse());
      }
      at += 1;
      if (c === 0x6c) return list;
      const dict = {};
      for (let i = 0; i < list.length; i += 2) dict[list[i]] = list[i + 1];
      return dict;
    }
    const colon = buf.indexOf(0x3a, at);
    if (colon < 0) throw new Error('ng: malformed answer');
    const len = Number(buf.toString('latin1', at, colon));
    const s = buf.toString('utf8', colon + 1, colon + 1 + len);
    at = colon + 1 + len;
    return s;
  };
  return parse();
}

/** A client of rtpengine's ng port on 127.0.0.1; `command({command: 'list'})` → answer. */
export function ngClient(port) {
  const socket = dgram.createSocket('udp4');
  const pending = new Map();
  socket.on('message', (msg) => {
    const space = msg.indexOf(0x20);
    const cookie = msg.toString('latin1', 0, space);
    const entry = pending.get(cookie);
    if (!entry) return;
    pending.delete(cookie);
    clearTimeout(entry.timer);
    try {
      entry.resolve(bdecode(msg.subarray(space + 1)));
    } catch (error) {
      entry.reject(error);
    }
  });
  const ready = new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    async command(dict, timeoutMs = 3000) {
      await ready;
      const cookie = randomBytes(8).toString('hex');
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(cookie);
          reject(new Error(`ng: no answer to ${dict.command} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(cookie, { resolve, reject, timer });
        socket.send(`${cookie} ${bencode(dict)}`, port, '127.0.0.1');
      });
    },
    close: () => socket.close(),
  };
}
