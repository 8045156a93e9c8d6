// A minimal TURN client over UDP (RFC 8489 STUN, RFC 8656 TURN, long-term credentials §9.2):
// Allocate (§7.2), CreatePermission (§10) and Send indications (§11), what any holder of a
// credential from GET /api/v1/turn can do without a browser. For tests/calls/turn-abuse.test.mjs.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const MAGIC = 0x2112a442;
export const T = {
  ALLOCATE: 0x0003, ALLOCATE_OK: 0x0103, ALLOCATE_ERR: 0x0113,
  CREATE_PERMISSION: 0x0008, CREATE_PERMISSION_OK: 0x0108, CREATE_PERMISSION_ERR: 0x0118,
  SEND_INDICATION: 0x0016, DATA_INDICATION: 0x0017,
};
const A = {
  USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, ERROR_CODE: 0x0009, XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013, REALM: 0x0014, NONCE: 0x0015, XOR_RELAYED_ADDRESS: 0x0016, REQUESTED_TRANSPORT: 0x0019,
};

function attr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function xorAddress(ip, port) {
  const b = Buffer.alloc(8);
  b[1] = 0x01;
  b.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const parts = ip.split('.').map(Number);
  const v = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  b.writeUInt32BE((v ^ MAGIC) >>> 0, 4);
  return b;
}

function parseXorAddress(v) {
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const a = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { ip: [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.'), port };
}

function message(type, attrs, key) {
  const tid = randomBytes(12);
  let body = Buffer.concat(attrs);
  const header = (len) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tid.copy(h, 8);
    return h;
  };
  if (key) {
    const withMi = header(body.length + 24);
    const mac = createHmac('sha1', key).update(Buffer.concat([withMi, body])).digest();
    body = Buffer.concat([body, attr(A.MESSAGE_INTEGRITY, mac)]);
  }
  return { tid, bytes: Buffer.concat([header(body.length), body]) };
}

function parse(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const out = { type: buf.readUInt16BE(0), tid: buf.subarray(8, 20), attrs: new Map() };
  let off = 20;
  while (off + 4 <= buf.length) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (!out.attrs.has(t)) out.attrs.set(t, buf.subarray(off + 4, off + 4 + l));
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  const e = out.attrs.get(A.ERROR_CODE);
  if (e) out.error = { code: e[2] * 100 + e[3], reason: e.subarray(4).toString() };
  return out;
}

/** A TURN client bound to a fresh UDP socket on `localIp`. */
export async function turnClient({ server, port, username, password, localIp = '127.0.0.1' }) {
  const socket = dgram.createSocket('udp4');
  await new Promise((r) => socket.bind(0, localIp, r));
  const waiting = new Map();
  socket.on('message', (m) => {
    const p = parse(m);
    if (!p) return;
    const k = p.tid.toString('hex');
    const w = waiting.get(k);
    if (w) {
      waiting.delete(k);
      w(p);
    }
  });
  let realm = null;
  let nonce = null;
  let key = null;
  const roundTrip = (msg) => new Promise((resolve, reject) => {
    const k = msg.tid.toString('hex');
    const timer = setTimeout(() => { waiting.delete(k); reject(new Error('TURN: no answer')); }, 3000);
    waiting.set(k, (p) => { clearTimeout(timer); resolve(p); });
    socket.send(msg.bytes, port, server);
  });
  const authed = async (type, attrs) => {
    for (let i = 0; i < 3; i += 1) {
      const extra = realm
        ? [attr(A.USERNAME, Buffer.from(username)), attr(A.REALM, Buffer.from(realm)), attr(A.NONCE, Buffer.from(nonce))]
        : [];
      const res = await roundTrip(message(type, [...attrs, ...extra], key));
      if (res.error && (res.error.code === 401 || res.error.code === 438)) {
        realm = res.attrs.get(A.REALM).toString();
        nonce = res.attrs.get(A.NONCE).toString();
        key = createHash('md5').update(`${username}:${realm}:${password}`).digest();
        continue;
      }
      return res;
    }
    throw new Error('TURN: authentication loop');
  };
  return {
    socket,
    /** Allocate a UDP relay; { ok, relayed, error }. */
    async allocate() {
      const res = await authed(T.ALLOCATE, [attr(A.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]))]);
      if (res.type === T.ALLOCATE_OK) return { ok: true, relayed: parseXorAddress(res.attrs.get(A.XOR_RELAYED_ADDRESS)) };
      return { ok: false, error: res.error };
    },
    /** CreatePermission for a peer IP; { ok, error }. */
    async permit(peerIp) {
      const res = await authed(T.CREATE_PERMISSION, [attr(A.XOR_PEER_ADDRESS, xorAddress(peerIp, 0))]);
      return res.type === T.CREATE_PERMISSION_OK ? { ok: true } : { ok: false, error: res.error };
    },
    /** A Send indication: the relay sends `data` to peerIp:peerPort from its relayed address. */
    send(peerIp, peerPort, data) {
      const msg = message(T.SEND_INDICATION, [attr(A.XOR_PEER_ADDRESS, xorAddress(peerIp, peerPort)), attr(A.DATA, Buffer.from(data))]);
      socket.send(msg.bytes, port, server);
    },
    close: () => new Promise((r) => socket.close(r)),
  };
}
