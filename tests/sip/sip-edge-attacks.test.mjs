// The SIP edge against a hostile peer: a real secms-server, Kamailio and rtpengine rendered from
// server/sip/ (tests/helpers/sip-edge.mjs) and raw SIP over UDP/TCP. Each test is an attack that
// worked against an earlier configuration: an unauthenticated or spoofed caller, an in-dialog
// relay, contacts naming a third host, a call left without media relay, a revoked phone still
// ringing, media sent to a host the SDP names, idle connections filling the table, oversize
// messages, a product name in the automatic 100.
//
//   SECMS_SERVER_BIN=… node --test --test-concurrency=1 tests/sip/sip-edge-attacks.test.mjs
// (SECMS_SIP_KAMAILIO_TEMPLATE=<older kamailio.cfg.in> renders another template, to see a test
// fail against it.)

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { browserCredential, deviceCredential, startSipEdge } from '../helpers/sip-edge.mjs';
import { loopbackRateLimits, register, startServer } from '../helpers/secms-server.mjs';

const PASSWORD = 'correct horse battery staple 42';
const TCP_IDLE_S = 4;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = () => randomBytes(6).toString('hex');
const firstLine = (text) => (text ?? '(nothing)').split('\r\n')[0];

let server;
let edge;
let secret;

before(async () => {
  server = await startServer({ extraArgs: [...loopbackRateLimits], sipDefaults: true });
  secret = (await readFile(path.join(server.dataDir, 'sip', 'secret'), 'utf8')).trim();
  for (const name of ['alice', 'bob', 'carol', 'mallory']) {
    const res = await register(server, name, PASSWORD);
    assert.equal(res.status, 201, `registering ${name}: ${res.status} ${res.body}`);
  }
  // Every endpoint of these tests shares 127.0.0.1: the flood guard (tested in sip-edge.test.mjs)
  // is set out of the way.
  edge = await startSipEdge({ dataDir: server.dataDir, secret, tcpIdleSeconds: TCP_IDLE_S, pikeDensity: 5000 });
});

after(async () => {
  await edge?.stop();
  await server?.stop();
});

function sql(statement) {
  const db = path.join(server.dataDir, 'users.db');
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-cmd', '.timeout 5000', db, statement], (e, out, err) => (e ? reject(new Error(err || e.message)) : resolve(out)));
  });
}

const md5 = (s) => createHash('md5').update(s).digest('hex');

// Digest answer (RFC 7616 with MD5, qop=auth when offered) to a challenge header's value.
function digest(challenge, method, uri, credential) {
  const p = Object.fromEntries([...challenge.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
  const ha1 = md5(`${credential.username}:${p.realm}:${credential.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const cnonce = token();
  const response = p.qop ? md5(`${ha1}:${p.nonce}:00000001:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
  return `Digest username="${credential.username}", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", `
    + `response="${response}", algorithm=MD5${p.qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : ''}`;
}

const sdp = (ip, port, streams = 1) => [
  'v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0',
  ...Array.from({ length: streams }, (_, i) => [`m=audio ${port + 2 * i} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000']).flat(), '',
].join('\r\n');

// A SIP endpoint on one UDP socket: sends requests (answering a challenge once), and as a
// registered phone answers what it receives (180, then 200 with SDP when `answer`).
class Endpoint {
  constructor({ local = '127.0.0.1', user = 'x', answer = false, answerSdp } = {}) {
    Object.assign(this, { local, user, answer, answerSdp });
    this.inbox = [];
    this.received = [];
    this.pendingInvites = new Map();
  }

  async open() {
    this.socket = dgram.createSocket('udp4');
    this.socket.on('message', (m) => this.#onMessage(m.toString()));
    await new Promise((r) => this.socket.bind(0, this.local, r));
    this.port = this.socket.address().port;
    return this;
  }

  close() {
    this.socket.close();
  }

  send(text) {
    return new Promise((r) => this.socket.send(text, edge.udpPort, '127.0.0.1', r));
  }

  #onMessage(text) {
    if (text.startsWith('SIP/2.0')) {
      this.inbox.push(text);
      return;
    }
    this.received.push(text);
    const method = text.split(' ')[0];
    if (method === 'ACK') return;
    const headers = text.split('\r\n\r\n')[0].split('\r\n').slice(1);
    const pick = (re) => headers.filter((h) => re.test(h));
    const base = [
      ...pick(/^(Via|v):/i), ...pick(/^(From|f):/i),
      ...pick(/^(To|t):/i).map((h) => (/;tag=/.test(h) ? h : `${h};tag=ph${this.user}`)),
      ...pick(/^(Call-ID|i):/i), ...pick(/^CSeq:/i), ...pick(/^Record-Route:/i),
      `Contact: <sip:${this.user}@${this.local}:${this.port}>`,
    ];
    const reply = (status, body = '') => this.socket.send([
      `SIP/2.0 ${status}`, ...base, ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${body.length}`, '', body,
    ].join('\r\n'), edge.udpPort, '127.0.0.1');
    const callId = (text.match(/^(?:Call-ID|i): *(.*)$/mi) || [])[1];
    if (method === 'CANCEL') {
      // The INVITE it cancels ends with 487 (RFC 3261 §9.2), so the call's media is released.
      reply('200 OK');
      this.pendingInvites.get(callId)?.('487 Request Terminated');
      return;
    }
    if (method === 'INVITE') {
      this.pendingInvites.set(callId, reply);
      reply('180 Ringing');
      if (this.answer) reply('200 OK', this.answerSdp ?? sdp(this.local, 40000));
    } else {
      reply('200 OK');
    }
  }

  async waitFor(predicate, ms = 4000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex(predicate);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (Date.now() > deadline) return null;
      await sleep(50);
    }
  }

  build({ method, ruri, from, to, callId = token(), cseq = 1, fromTag = token(), toTag, extra = [], body = '', contentType = 'application/sdp', contact }) {
    const lines = [
      `${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/UDP ${this.local}:${this.port};branch=z9hG4bK${token()};rport`,
      'Max-Forwards: 70', `From: ${from};tag=${fromTag}`, `To: ${to}${toTag ? `;tag=${toTag}` : ''}`, `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`, `Contact: ${contact ?? `<sip:${this.user}@${this.local}:${this.port}>`}`, ...extra,
      ...(body ? [`Content-Type: ${contentType}`] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body,
    ];
    return { text: lines.join('\r\n'), callId, fromTag, cseq };
  }

  // Sends a request, answers one challenge with `credential`; resolves to the first reply that
  // is final (or at least `minStatus`) and the request as last sent.
  async request(options, credential, { minStatus = 200, ms = 4000 } = {}) {
    let sent = this.build(options);
    const isAnswer = (s) => (t) => t.includes(`Call-ID: ${s.callId}`) && t.includes(`CSeq: ${s.cseq} `)
      && Number(t.split(' ')[1]) >= minStatus;
    await this.send(sent.text);
    let reply = await this.waitFor(isAnswer(sent), ms);
    if (reply && credential && /^SIP\/2\.0 40[17]/.test(reply)) {
      const [, kind, challenge] = reply.match(/^(WWW|Proxy)-Authenticate: (.*)$/m);
      const header = kind === 'WWW' ? 'Authorization' : 'Proxy-Authorization';
      sent = this.build({
        ...options, callId: sent.callId, fromTag: sent.fromTag, cseq: sent.cseq + 1,
        extra: [...(options.extra ?? []), `${header}: ${digest(challenge, options.method, options.ruri, credential)}`],
      });
      await this.send(sent.text);
      reply = await this.waitFor(isAnswer(sent), ms);
    }
    return { reply, sent };
  }

  async register(user, credential, { contact } = {}) {
    const aor = `<sip:${user}@${edge.domain}>`;
    const { reply } = await this.request({
      method: 'REGISTER', ruri: `sip:${edge.domain}`, from: aor, to: aor, extra: ['Expires: 300'], contact,
    }, credential);
    assert.match(firstLine(reply), /^SIP\/2\.0 200 /, `REGISTER of ${user}: ${firstLine(reply)}`);
  }

  async unregister(user, credential) {
    const aor = `<sip:${user}@${edge.domain}>`;
    await this.request({ method: 'REGISTER', ruri: `sip:${edge.domain}`, from: aor, to: aor, extra: ['Expires: 0'], contact: '*' }, credential);
  }
}

async function phone(user, credential, options = {}) {
  const endpoint = await new Endpoint({ user, ...options }).open();
  await endpoint.register(user, credential);
  return endpoint;
}

const cred = (user) => browserCredential(secret, user);
const aor = (user) => `<sip:${user}@${edge.domain}>`;

test('no request reaches a user without a credential, whatever its From says (F1)', async () => {
  const alice = await phone('alice', cred('alice'));
  const stranger = await new Endpoint().open();
  try {
    for (const from of ['"bob" <sip:bob@localhost.>', '"bob" <sip:bob@127.0.0.1:1>', '<sip:eve@evil.example>']) {
      for (const method of ['MESSAGE', 'OPTIONS', 'INVITE']) {
        const body = method === 'INVITE' ? sdp('127.0.0.1', 41000) : method === 'MESSAGE' ? 'hi' : '';
        const { reply } = await stranger.request({
          method, ruri: `sip:alice@${edge.domain}`, from, to: aor('alice'), body,
          contentType: method === 'MESSAGE' ? 'text/plain' : 'application/sdp',
        });
        assert.match(firstLine(reply), /^SIP\/2\.0 407 /, `${method} from ${from}: ${firstLine(reply)}`);
      }
    }
    // A user's credential does not make another domain's address believable either.
    const { reply } = await stranger.request({
      method: 'MESSAGE', ruri: `sip:alice@${edge.domain}`, from: '"bob" <sip:bob@localhost.>', to: aor('alice'),
      body: 'hi', contentType: 'text/plain',
    }, cred('bob'));
    assert.match(firstLine(reply), /^SIP\/2\.0 403 /, firstLine(reply));
    await sleep(300);
    assert.deepEqual(alice.received.map(firstLine), [], 'alice received a request of an unauthenticated sender');
  } finally {
    await alice.unregister('alice', cred('alice'));
    alice.close();
    stranger.close();
  }
});

test('an in-dialog request goes only to the other party: no forged request-URI or Route (F2)', async () => {
  const alice = await phone('alice', cred('alice'));
  const victim = await new Endpoint({ user: 'victim' }).open();
  const mallory = await new Endpoint({ user: 'mallory' }).open();
  try {
    const { reply: ringing, sent } = await mallory.request({
      method: 'INVITE', ruri: `sip:alice@${edge.domain}`, from: aor('mallory'), to: aor('alice'), body: sdp('127.0.0.1', 41000),
    }, cred('mallory'), { minStatus: 180 });
    assert.match(firstLine(ringing), /^SIP\/2\.0 180 /, firstLine(ringing));
    const routeSet = [...ringing.matchAll(/^Record-Route: (.*)$/gm)].map((m) => m[1]).reverse();
    const toTag = ringing.match(/^To: .*;tag=([^;\r\n]+)/m)[1];
    let cseq = 10;
    for (const [ruri, extraRoutes] of [
      [`sip:victim@127.0.0.1:${victim.port}`, []],
      [`sip:alice@${edge.domain}`, [`<sip:127.0.0.1:${victim.port};lr>`]],
    ]) {
      for (const method of ['MESSAGE', 'INFO', 'OPTIONS']) {
        cseq += 1;
        const request = mallory.build({
          method, ruri, from: aor('mallory'), to: aor('alice'), toTag, callId: sent.callId, fromTag: sent.fromTag, cseq,
          extra: [`Route: ${[...routeSet, ...extraRoutes].join(', ')}`], body: 'relayed', contentType: 'text/plain',
        });
        await mallory.send(request.text);
        const answer = await mallory.waitFor((t) => t.includes(sent.callId) && t.includes(`CSeq: ${cseq} `) && !t.startsWith('SIP/2.0 100'));
        assert.match(firstLine(answer), /^SIP\/2\.0 403 /, `${method} to ${ruri} ${extraRoutes}: ${firstLine(answer)}`);
      }
    }
    // The proper in-dialog request (request-URI = alice's Contact) still reaches alice.
    const contact = ringing.match(/^Contact: <([^>]+)>/m)[1];
    cseq += 1;
    const good = mallory.build({
      method: 'INFO', ruri: contact, from: aor('mallory'), to: aor('alice'), toTag, callId: sent.callId, fromTag: sent.fromTag,
      cseq, extra: [`Route: ${routeSet.join(', ')}`], body: 'dtmf', contentType: 'text/plain',
    });
    await mallory.send(good.text);
    const goodAnswer = await mallory.waitFor((t) => t.includes(sent.callId) && t.includes(`CSeq: ${cseq} `) && !t.startsWith('SIP/2.0 100'));
    assert.match(firstLine(goodAnswer), /^SIP\/2\.0 200 /, firstLine(goodAnswer));
    await sleep(300);
    assert.deepEqual(victim.received.map(firstLine), [], 'the third party received a relayed request');
    const cancel = [
      `CANCEL sip:alice@${edge.domain} SIP/2.0`, sent.text.split('\r\n')[1], 'Max-Forwards: 70',
      `From: ${aor('mallory')};tag=${sent.fromTag}`, `To: ${aor('alice')}`, `Call-ID: ${sent.callId}`,
      `CSeq: ${sent.cseq} CANCEL`, 'Content-Length: 0', '', '',
    ].join('\r\n');
    await mallory.send(cancel);
    await sleep(300);
  } finally {
    await alice.unregister('alice', cred('alice'));
    alice.close();
    victim.close();
    mallory.close();
  }
});

test('a contact naming another host is reached at the address that registered it (F3)', async () => {
  const victim = await new Endpoint({ user: 'victim' }).open();
  const mallory = await new Endpoint({ user: 'mallory' }).open();
  const alice = await new Endpoint({ user: 'alice' }).open();
  try {
    await mallory.register('mallory', cred('mallory'), { contact: `<sip:m@127.0.0.1:${victim.port}>` });
    const { reply } = await alice.request({
      method: 'MESSAGE', ruri: `sip:mallory@${edge.domain}`, from: aor('alice'), to: aor('mallory'), body: 'hi', contentType: 'text/plain',
    }, cred('alice'));
    assert.match(firstLine(reply), /^SIP\/2\.0 200 /, firstLine(reply));
    assert.equal(mallory.received.filter((t) => t.startsWith('MESSAGE')).length, 1, 'the registering socket got the MESSAGE');
    assert.deepEqual(victim.received.map(firstLine), [], 'the host named in the Contact received a request');
  } finally {
    await mallory.unregister('mallory', cred('mallory'));
    victim.close();
    mallory.close();
    alice.close();
  }
});

test('a call rtpengine cannot anchor fails; it is never relayed with the caller\'s own media address (F4)', async () => {
  const bob = await phone('bob', cred('bob'));
  const alice = await new Endpoint({ user: 'alice' }).open();
  try {
    // More streams than the test's port range holds: rtpengine refuses the offer.
    const { reply } = await alice.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob'), body: sdp('127.0.0.1', 43000, 12),
    }, cred('alice'), { minStatus: 180, ms: 8000 });
    assert.match(firstLine(reply), /^SIP\/2\.0 [3-6]\d\d /, `the call was not refused: ${firstLine(reply)}`);
    // Whatever refused it, the reason names no product (sl_reply_error's texts do) (L2).
    assert.doesNotMatch(firstLine(reply), /sorry|\/SL\)|kamailio/i, firstLine(reply));
    const invites = bob.received.filter((t) => t.startsWith('INVITE'));
    assert.deepEqual(invites.filter((t) => /m=audio 43000 /.test(t)).map(firstLine), [], 'the callee got the caller\'s own SDP');
    assert.match(edge.log(), /rtpengine refused the offer|SDP with 12 media streams refused/);
  } finally {
    await bob.unregister('bob', cred('bob'));
    bob.close();
    alice.close();
  }
});

test('a revoked phone or a disabled account stops receiving at once, before its registration expires (F7)', async () => {
  const deviceId = randomBytes(8).toString('hex');
  const expiresAt = Math.floor(Date.now() / 1000) + 86400;
  await sql(`INSERT INTO sip_devices(device_id, userid, label, created_at, expires_at)
             SELECT '${deviceId}', userid, 'Desk phone', strftime('%s','now'), ${expiresAt} FROM users WHERE username_key = 'carol'`);
  const phoneCredential = deviceCredential(secret, 'carol', deviceId, { expiresAt });
  const carolPhone = await phone('carol', phoneCredential);
  const alice = await new Endpoint({ user: 'alice' }).open();
  const message = (text) => alice.request({
    method: 'MESSAGE', ruri: `sip:carol@${edge.domain}`, from: aor('alice'), to: aor('carol'), body: text, contentType: 'text/plain',
  }, cred('alice'));
  try {
    assert.match(firstLine((await message('before')).reply), /^SIP\/2\.0 200 /);
    assert.equal(carolPhone.received.filter((t) => t.startsWith('MESSAGE')).length, 1);
    await sql(`DELETE FROM sip_devices WHERE device_id = '${deviceId}'`);
    const { reply } = await message('after revocation');
    assert.doesNotMatch(firstLine(reply), /^SIP\/2\.0 2/, firstLine(reply));
    assert.equal(carolPhone.received.filter((t) => t.startsWith('MESSAGE')).length, 1, 'the revoked phone received a MESSAGE');

    // A browser contact of a disabled account too.
    const bob = await phone('bob', cred('bob'));
    try {
      await sql("UPDATE users SET disabled = 1 WHERE username_key = 'bob'");
      const toBob = await alice.request({
        method: 'MESSAGE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob'), body: 'hi', contentType: 'text/plain',
      }, cred('alice'));
      assert.doesNotMatch(firstLine(toBob.reply), /^SIP\/2\.0 2/, firstLine(toBob.reply));
      assert.deepEqual(bob.received.filter((t) => t.startsWith('MESSAGE')).map(firstLine), []);
    } finally {
      await sql("UPDATE users SET disabled = 0 WHERE username_key = 'bob'");
      await bob.unregister('bob', cred('bob'));
      bob.close();
    }
  } finally {
    carolPhone.close();
    alice.close();
  }
});

test("rtpengine sends a phone's media to the source of its SIP, not to a host its SDP names (F8)", async () => {
  const victim = dgram.createSocket('udp4');
  let victimPackets = 0;
  victim.on('message', () => { victimPackets += 1; });
  await new Promise((r) => victim.bind(0, '127.0.0.2', r));
  const alice = await phone('alice', cred('alice'), { answer: true });
  const mallory = await new Endpoint({ user: 'mallory' }).open();
  const media = dgram.createSocket('udp4');
  await new Promise((r) => media.bind(40000, '127.0.0.1', r));
  try {
    const { reply } = await mallory.request({
      method: 'INVITE', ruri: `sip:alice@${edge.domain}`, from: aor('mallory'), to: aor('alice'),
      body: sdp('127.0.0.2', victim.address().port),
    }, cred('mallory'), { ms: 8000 });
    assert.match(firstLine(reply), /^SIP\/2\.0 200 /, firstLine(reply));
    const offered = alice.received.find((t) => t.startsWith('INVITE'));
    const relayPort = Number(offered.match(/^m=audio (\d+)/m)[1]);
    const packet = Buffer.alloc(172);
    packet[0] = 0x80;
    for (let i = 0; i < 30; i += 1) {
      packet.writeUInt16BE(i, 2);
      packet.writeUInt32BE(i * 160, 4);
      packet.writeUInt32BE(0x1234, 8);
      media.send(packet, relayPort, '127.0.0.1');
      await sleep(20);
    }
    await sleep(500);
    assert.equal(victimPackets, 0, `the host named in the caller's SDP received ${victimPackets} packets`);
  } finally {
    media.close();
    victim.close();
    mallory.close();
    await alice.unregister('alice', cred('alice'));
    alice.close();
  }
});

// Resolves when the socket is closed by the peer, or to false after `ms`.
function closedWithin(socket, ms) {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readyState === 'closed') resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('an idle TCP/TLS/WSS connection is closed; a registered WebSocket stays open (F6)', async () => {
  const idle = [edge.tcpPort, edge.tlsPort, edge.wssPort].map((port) => net.connect({ port, host: '127.0.0.1' }));
  await Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r))));
  const ws = new WebSocket(edge.wssUrl, 'sip', { rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let wsClosed = false;
  ws.on('close', () => { wsClosed = true; });
  const replies = [];
  ws.on('message', (d) => replies.push(d.toString()));
  const credential = cred('alice');
  const registerOverWs = (cseq, authorization) => ws.send([
    `REGISTER sip:${edge.domain} SIP/2.0`, `Via: SIP/2.0/WSS abcdef.invalid;branch=z9hG4bK-${token()}`, 'Max-Forwards: 70',
    `From: ${aor('alice')};tag=w1`, `To: ${aor('alice')}`, 'Call-ID: ws-idle@abcdef.invalid', `CSeq: ${cseq} REGISTER`,
    '<sip:x@abcdef.invalid;transport=ws>'.replace(/^/, 'Contact: '), 'Expires: 300',
    ...(authorization ? [`Authorization: ${authorization}`] : []), 'Content-Length: 0', '', '',
  ].join('\r\n'));
  const waitReply = async (cseq) => {
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const i = replies.findIndex((r) => r.includes(`CSeq: ${cseq} REGISTER`));
      if (i >= 0) return replies.splice(i, 1)[0];
      await sleep(50);
    }
    return null;
  };
  registerOverWs(1);
  const challenge = await waitReply(1);
  assert.match(firstLine(challenge), /^SIP\/2\.0 401 /);
  registerOverWs(2, digest(challenge.match(/^WWW-Authenticate: (.*)$/m)[1], 'REGISTER', `sip:${edge.domain}`, credential));
  assert.match(firstLine(await waitReply(2)), /^SIP\/2\.0 200 /);

  const closed = await Promise.all(idle.map((s) => closedWithin(s, (TCP_IDLE_S + 20) * 1000)));
  assert.deepEqual(closed, [true, true, true], 'an idle connection (TCP, TLS, WSS) was not closed');
  assert.equal(wsClosed, false, 'the registered WebSocket was closed with the idle ones');
  ws.close();
});

test('a message larger than 12 KiB is refused (513), and the automatic 100 names no product (F5, L3)', async () => {
  const stranger = await new Endpoint().open();
  try {
    const big = stranger.build({
      method: 'MESSAGE', ruri: `sip:alice@${edge.domain}`, from: aor('alice'), to: aor('alice'),
      body: 'a'.repeat(13 * 1024), contentType: 'text/plain',
    });
    await stranger.send(big.text);
    assert.match(firstLine(await stranger.waitFor((t) => t.includes(big.callId))), /^SIP\/2\.0 513 /);
    const bob = await phone('bob', cred('bob'));
    try {
      const { sent } = await stranger.request({
        method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob'), body: sdp('127.0.0.1', 41000),
      }, cred('alice'), { minStatus: 180 });
      const trying = await stranger.waitFor((t) => t.includes(sent.callId) && t.startsWith('SIP/2.0 100'), 1000);
      assert.equal(firstLine(trying), 'SIP/2.0 100 Trying');
    } finally {
      await bob.unregister('bob', cred('bob'));
      bob.close();
    }
  } finally {
    stranger.close();
  }
});

// The route set, remote target and To tag of a dialog from its 18x/2xx (RFC 3261 §12.1.2).
function dialogOf(reply) {
  return {
    routeSet: [...reply.matchAll(/^Record-Route: (.*)$/gm)].map((m) => m[1]).reverse(),
    target: reply.match(/^Contact: <([^>]+)>/m)[1],
    toTag: reply.match(/^To: .*;tag=([^;\r\n]+)/m)[1],
  };
}

// An answered call from `caller` (credential of `user`) to `callee`, acknowledged; resolves to
// what in-dialog requests need.
async function establishCall(caller, user, callee, body = sdp('127.0.0.1', 41000)) {
  const { reply, sent } = await caller.request({
    method: 'INVITE', ruri: `sip:${callee}@${edge.domain}`, from: aor(user), to: aor(callee), body,
  }, cred(user), { ms: 8000 });
  assert.match(firstLine(reply), /^SIP\/2\.0 200 /, `call ${user} -> ${callee}: ${firstLine(reply)}`);
  const dialog = { ...dialogOf(reply), callId: sent.callId, fromTag: sent.fromTag, cseq: sent.cseq, reply, user, callee };
  await caller.send(inDialog(caller, dialog, 'ACK', { cseq: sent.cseq }).text);
  return dialog;
}

function inDialog(caller, dialog, method, { cseq, ruri = dialog.target, body = '', contentType, extra = [] } = {}) {
  return caller.build({
    method, ruri, from: aor(dialog.user), to: aor(dialog.callee), toTag: dialog.toTag, callId: dialog.callId,
    fromTag: dialog.fromTag, cseq, extra: [`Route: ${dialog.routeSet.join(', ')}`, ...extra], body, contentType,
  });
}

const multipartSdp = (ip, port) => {
  const part = sdp(ip, port);
  return ['--b1', 'Content-Type: application/sdp', '', part, '--b1--', ''].join('\r\n');
};

test('only early-offer SDP bodies pass: no late offer, no multipart, in a call or setting one up (I1)', async () => {
  const bob = await phone('bob', cred('bob'), { answer: true });
  const alice = await new Endpoint({ user: 'alice' }).open();
  const invitesToBob = () => bob.received.filter((t) => t.startsWith('INVITE'));
  try {
    // A late offer: the callee's own SDP would come back unanchored in its 200.
    const late = await alice.request({ method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob') },
      cred('alice'), { ms: 8000 });
    assert.match(firstLine(late.reply), /^SIP\/2\.0 488 /, `late offer: ${firstLine(late.reply)}`);
    assert.doesNotMatch(late.reply ?? '', /m=audio 40000/, 'the callee\'s own media address reached the caller');
    assert.equal(invitesToBob().length, 0, 'the callee received a late-offer INVITE');

    // SDP inside multipart: rtpengine never saw it, the callee would send media where it says.
    const mixed = await alice.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob'),
      body: multipartSdp('192.0.2.99', 5004), contentType: 'multipart/mixed;boundary=b1',
    }, cred('alice'), { ms: 8000 });
    assert.match(firstLine(mixed.reply), /^SIP\/2\.0 415 /, `multipart INVITE: ${firstLine(mixed.reply)}`);
    assert.equal(invitesToBob().length, 0, 'the callee received a multipart INVITE');

    // The same in a re-INVITE of an anchored call.
    const call = await establishCall(alice, 'alice', 'bob');
    assert.equal(invitesToBob().length, 1);
    assert.doesNotMatch(call.reply, /m=audio 40000/, 'the callee\'s answer reached the caller unanchored');
    const reinvite = inDialog(alice, call, 'INVITE', {
      cseq: call.cseq + 1, body: multipartSdp('192.0.2.99', 5004), contentType: 'multipart/mixed;boundary=b1',
    });
    await alice.send(reinvite.text);
    const answer = await alice.waitFor((t) => t.includes(call.callId) && t.includes(`CSeq: ${call.cseq + 1} `) && !t.startsWith('SIP/2.0 100'));
    assert.match(firstLine(answer), /^SIP\/2\.0 415 /, `multipart re-INVITE: ${firstLine(answer)}`);
    await sleep(300);
    assert.deepEqual(invitesToBob().filter((t) => t.includes('192.0.2.99')).map(firstLine), [], 'the callee got the caller\'s written address');
    await alice.send(inDialog(alice, call, 'BYE', { cseq: call.cseq + 2 }).text);
    await alice.waitFor((t) => t.includes(call.callId) && t.includes(`CSeq: ${call.cseq + 2} `));
  } finally {
    await bob.unregister('bob', cred('bob'));
    bob.close();
    alice.close();
  }
});

test('a 200 whose answer rtpengine refuses reaches the caller without the callee\'s media address, and the call is ended (I1)', async () => {
  // An answer rtpengine cannot parse (no valid connection address), from a host the caller must not learn.
  const brokenAnswer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.3', 's=-', 'c=IN IP4 999.0.0.3', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');
  const bob = await phone('bob', cred('bob'), { answer: true, answerSdp: brokenAnswer });
  const alice = await new Endpoint({ user: 'alice' }).open();
  try {
    const { reply, sent } = await alice.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('alice'), to: aor('bob'), body: sdp('127.0.0.1', 41000),
    }, cred('alice'), { ms: 8000 });
    assert.ok(reply, 'no final answer');
    assert.doesNotMatch(reply, /127\.0\.0\.3|999\.0\.0\.3/, `the callee's own SDP reached the caller:\n${reply}`);
    if (/^SIP\/2\.0 200 /.test(reply)) {
      const call = { ...dialogOf(reply), callId: sent.callId, fromTag: sent.fromTag, cseq: sent.cseq, user: 'alice', callee: 'bob' };
      await alice.send(inDialog(alice, call, 'ACK', { cseq: sent.cseq }).text);
      const deadline = Date.now() + 8000;
      while (!bob.received.some((t) => t.startsWith('BYE')) && Date.now() < deadline) await sleep(100);
      assert.ok(bob.received.some((t) => t.startsWith('BYE')), 'the callee got no BYE: the call stayed up without media relay');
    }
  } finally {
    await bob.unregister('bob', cred('bob'));
    bob.close();
    alice.close();
  }
});

test('an offer with more than 2 media streams or too many ICE candidates is refused before rtpengine (B1, D1)', async () => {
  const bob = await phone('bob', cred('bob'));
  const mallory = await new Endpoint({ user: 'mallory' }).open();
  try {
    const { reply } = await mallory.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('mallory'), to: aor('bob'), body: sdp('127.0.0.1', 43000, 3),
    }, cred('mallory'), { ms: 8000 });
    assert.match(firstLine(reply), /^SIP\/2\.0 488 /, `3 streams: ${firstLine(reply)}`);
    const candidates = Array.from({ length: 40 }, (_, i) => `a=candidate:${i} 1 udp 2130706431 127.0.0.2 ${20000 + i} typ host`);
    const iceSdp = sdp('127.0.0.1', 43000).replace('a=rtpmap:0 PCMU/8000', ['a=rtpmap:0 PCMU/8000', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', ...candidates].join('\r\n'));
    const ice = await mallory.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('mallory'), to: aor('bob'), body: iceSdp,
    }, cred('mallory'), { ms: 8000 });
    assert.match(firstLine(ice.reply), /^SIP\/2\.0 488 /, `40 candidates: ${firstLine(ice.reply)}`);
    await sleep(300);
    assert.deepEqual(bob.received.filter((t) => t.startsWith('INVITE')).map(firstLine), [], 'the callee was dialled');
  } finally {
    await bob.unregister('bob', cred('bob'));
    bob.close();
    mallory.close();
  }
});

test('a phone caller\'s ICE candidates never make rtpengine send STUN to the hosts they name (D1)', async () => {
  const victim = dgram.createSocket('udp4');
  let victimPackets = 0;
  victim.on('message', () => { victimPackets += 1; });
  await new Promise((r) => victim.bind(0, '127.0.0.2', r));
  const bob = await phone('bob', cred('bob'), { answer: true });
  const carol = await new Endpoint({ user: 'carol' }).open();
  try {
    const iceSdp = sdp('127.0.0.1', 43000).replace('a=rtpmap:0 PCMU/8000', [
      'a=rtpmap:0 PCMU/8000', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
      `a=candidate:1 1 udp 2130706431 127.0.0.2 ${victim.address().port} typ host`,
      `a=candidate:2 2 udp 2130706430 127.0.0.2 ${victim.address().port} typ host`,
    ].join('\r\n'));
    const call = await establishCall(carol, 'carol', 'bob', iceSdp);
    const offered = bob.received.find((t) => t.startsWith('INVITE'));
    assert.doesNotMatch(offered, /a=candidate|a=ice-/, 'the phone callee got ICE lines');
    await sleep(3000);
    assert.equal(victimPackets, 0, `the host named in a candidate received ${victimPackets} packets`);
    await carol.send(inDialog(carol, call, 'BYE', { cseq: call.cseq + 1 }).text);
    await carol.waitFor((t) => t.includes(call.callId) && t.includes(`CSeq: ${call.cseq + 1} `));
  } finally {
    victim.close();
    await bob.unregister('bob', cred('bob'));
    bob.close();
    carol.close();
  }
});

// A REGISTER over its own TCP connection (answering the challenge); resolves to the socket and the
// final reply.
async function registerOverTcp(user, { contact, expires = '300' } = {}) {
  const socket = net.connect({ port: edge.tcpPort, host: '127.0.0.1' });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let buffer = '';
  socket.on('data', (d) => { buffer += d.toString(); });
  const local = socket.localPort;
  const callId = `tcp-${token()}`;
  const send = (cseq, authorization) => socket.write([
    `REGISTER sip:${edge.domain} SIP/2.0`, `Via: SIP/2.0/TCP 127.0.0.1:${local};branch=z9hG4bK${token()};rport`, 'Max-Forwards: 70',
    `From: ${aor(user)};tag=${token()}`, `To: ${aor(user)}`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`,
    ...(contact ? [`Contact: ${contact}`] : []), ...(expires ? [`Expires: ${expires}`] : []),
    ...(authorization ? [`Authorization: ${authorization}`] : []), 'Content-Length: 0', '', '',
  ].join('\r\n'));
  const waitReply = async (cseq) => {
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const m = buffer.split(/(?=SIP\/2\.0 )/).find((r) => r.includes(`CSeq: ${cseq} REGISTER`) && !r.startsWith('SIP/2.0 100'));
      if (m) return m;
      await sleep(50);
    }
    return null;
  };
  send(1);
  const challenge = await waitReply(1);
  assert.match(firstLine(challenge), /^SIP\/2\.0 401 /);
  send(2, digest(challenge.match(/^WWW-Authenticate: (.*)$/m)[1], 'REGISTER', `sip:${edge.domain}`, cred(user)));
  return { socket, reply: await waitReply(2) };
}

test('only a REGISTER that binds a contact keeps its connection open, for at most 5 connections per account (E2)', async () => {
  const sockets = [];
  try {
    const query = await registerOverTcp('mallory');
    const unregister = await registerOverTcp('mallory', { contact: '*', expires: '0' });
    sockets.push(query.socket, unregister.socket);
    assert.match(firstLine(query.reply), /^SIP\/2\.0 200 /, firstLine(query.reply));
    assert.match(firstLine(unregister.reply), /^SIP\/2\.0 200 /, firstLine(unregister.reply));
    const binding = [];
    for (let i = 0; i < 6; i += 1) {
      const r = await registerOverTcp('mallory', { contact: '<sip:mallory@127.0.0.1:5999;transport=tcp>' });
      assert.match(firstLine(r.reply), /^SIP\/2\.0 200 /, firstLine(r.reply));
      binding.push(r.socket);
      sockets.push(r.socket);
    }
    const closed = await Promise.all([query.socket, unregister.socket, ...binding]
      .map((s) => closedWithin(s, (TCP_IDLE_S + 20) * 1000)));
    assert.deepEqual(closed, [true, true, false, false, false, false, false, true],
      'a query or un-registration kept its connection, or a sixth connection of one account was kept');
  } finally {
    for (const s of sockets) s.destroy();
    const cleanup = await new Endpoint({ user: 'mallory' }).open();
    await cleanup.unregister('mallory', cred('mallory'));
    cleanup.close();
  }
});

test('an in-dialog request keeps the transport of the party it goes to (L1)', async () => {
  const bob = await phone('bob', cred('bob'), { answer: true });
  const alice = await new Endpoint({ user: 'alice' }).open();
  const closeLater = [];
  try {
    // A TCP listener on the callee's UDP port number: the edge must not open TCP toward it.
    const tcpHits = [];
    const tcp = net.createServer((s) => s.on('data', (d) => tcpHits.push(firstLine(d.toString()))));
    await new Promise((r) => tcp.listen(bob.port, '127.0.0.1', r));
    closeLater.push(tcp);
    const call = await establishCall(alice, 'alice', 'bob');
    const forged = alice.build({
      method: 'INFO', ruri: `sip:bob@127.0.0.1:${bob.port};transport=tcp`, from: aor('alice'), to: aor('bob'), toTag: call.toTag,
      callId: call.callId, fromTag: call.fromTag, cseq: call.cseq + 1, extra: call.routeSet.map((r) => `Route: ${r}`),
      body: 'x', contentType: 'text/plain',
    });
    await alice.send(forged.text);
    const answer = await alice.waitFor((t) => t.includes(call.callId) && t.includes(`CSeq: ${call.cseq + 1} `) && !t.startsWith('SIP/2.0 100'), 8000);
    assert.deepEqual(tcpHits, [], 'the callee was reached over TCP');
    assert.match(firstLine(answer), /^SIP\/2\.0 403 /, `INFO toward TCP: ${firstLine(answer)}`);
    await alice.send(inDialog(alice, call, 'BYE', { cseq: call.cseq + 2 }).text);
    const bye = await alice.waitFor((t) => t.includes(call.callId) && t.includes(`CSeq: ${call.cseq + 2} `));
    assert.match(firstLine(bye), /^SIP\/2\.0 200 /, `BYE: ${firstLine(bye)}`);
  } finally {
    for (const server of closeLater) server.close();
    await bob.unregister('bob', cred('bob'));
    bob.close();
    alice.close();
  }
});

test('the display name of an authenticated sender is not passed on (L3)', async () => {
  // mallory: carol still has the contact of the phone revoked above (F7).
  const mallory = await phone('mallory', cred('mallory'));
  const alice = await new Endpoint({ user: 'alice' }).open();
  try {
    const { reply } = await alice.request({
      method: 'MESSAGE', ruri: `sip:mallory@${edge.domain}`, from: `"bob" ${aor('alice')}`, to: aor('mallory'), body: 'hi', contentType: 'text/plain',
    }, cred('alice'));
    assert.match(firstLine(reply), /^SIP\/2\.0 200 /, firstLine(reply));
    const message = mallory.received.find((t) => t.startsWith('MESSAGE'));
    const from = message.match(/^(?:From|f): *(.*)$/mi)[1];
    assert.doesNotMatch(from, /bob/, `the callee sees the sender's chosen name: ${from}`);
    assert.match(from, /<sip:alice@/);
  } finally {
    await mallory.unregister('mallory', cred('mallory'));
    mallory.close();
    alice.close();
  }
});

test('a caller that vanished without BYE is found by the keep-alives: its calls end and its call cap frees (J1)', async () => {
  const bob = await phone('bob', cred('bob'), { answer: true });
  const gone = [];
  const carol = await new Endpoint({ user: 'carol' }).open();
  try {
    for (let i = 0; i < 4; i += 1) {
      const caller = await new Endpoint({ user: 'carol' }).open();
      await establishCall(caller, 'carol', 'bob');
      caller.close();
      gone.push(caller);
    }
    const call = () => carol.request({
      method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('carol'), to: aor('bob'), body: sdp('127.0.0.1', 41000),
    }, cred('carol'), { ms: 8000 });
    assert.match(firstLine((await call()).reply), /^SIP\/2\.0 486 /, 'the fifth call was not refused');
    const deadline = Date.now() + 150_000;
    let last;
    do {
      await sleep(5000);
      last = await carol.request({
        method: 'INVITE', ruri: `sip:bob@${edge.domain}`, from: aor('carol'), to: aor('bob'), body: sdp('127.0.0.1', 41000),
      }, cred('carol'), { ms: 8000 });
    } while (/^SIP\/2\.0 486 /.test(last.reply ?? '') && Date.now() < deadline);
    assert.match(firstLine(last.reply), /^SIP\/2\.0 200 /, `the calls of the vanished caller still count: ${firstLine(last.reply)}`);
    assert.ok(bob.received.filter((t) => t.startsWith('BYE')).length >= 4, 'the callee was not told the calls ended');
    const live = { ...dialogOf(last.reply), callId: last.sent.callId, fromTag: last.sent.fromTag, cseq: last.sent.cseq, user: 'carol', callee: 'bob' };
    await carol.send(inDialog(carol, live, 'ACK', { cseq: live.cseq }).text);
    await carol.send(inDialog(carol, live, 'BYE', { cseq: live.cseq + 1 }).text);
    await carol.waitFor((t) => t.includes(live.callId) && t.includes(`CSeq: ${live.cseq + 1} `));
  } finally {
    await bob.unregister('bob', cred('bob'));
    bob.close();
    carol.close();
  }
});
