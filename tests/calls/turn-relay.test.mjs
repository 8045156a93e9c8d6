// A relay-only call through the real coturn (issue: calls; DESIGN.md §11). secms-server issues
// TURN REST credentials (GET /api/v1/turn) from the secret in its data directory; coturn, started
// from the same template scripts/run.sh renders and with that secret, relays the media of two
// RTCPeerConnections in Chromium whose ICE transport policy is 'relay': media flows, both
// selected candidate pairs are relay ones, and coturn logged the allocations. Credentials whose
// expiry has passed, or with a wrong HMAC, give no relay candidate (coturn answers 401).
//
// Runs in a loopback-only network namespace:
//   scripts/loopback-netns.sh env SECMS_SERVER_BIN=… node --test tests/calls/turn-relay.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { renderCoturnConfig, startCoturn, turnPassword } from '../helpers/coturn.mjs';
import {
  login, loopbackRateLimits, register, repoRoot, request, runServerCommand, startServer,
} from '../helpers/secms-server.mjs';
import { launchCallBrowser } from './helpers/browser.mjs';
import { htmlPage, serveStaticPages } from './helpers/static-pages.mjs';

const password = 'correct horse battery staple';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let turn;
let browser;
let pageServer;
let pageOrigin;
let secret;
let dataDir;

before(async () => {
  // First-run set-up without serving creates the TURN secret; coturn starts with it, then the
  // server with coturn's URLs. Credentials live 60 s, the server's minimum lifetime.
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'secms-turn-'));
  const init = await runServerCommand(['--data-dir', dataDir, 'init']);
  assert.equal(init.code, 0, `secms-server init: ${init.stdout}${init.stderr}`);
  secret = (await readFile(path.join(dataDir, 'turn', 'secret'), 'utf8')).trim();
  assert.match(secret, /^[0-9a-f]{64}$/);
  turn = await startCoturn({ secret });
  server = await startServer({
    dataDir,
    extraArgs: [...loopbackRateLimits, '--turn-credential-ttl-s', '60', '--turn-urls', turn.urls.join(',')],
  });
  // An empty page on http://127.0.0.1 (a secure context, so getUserMedia works) for the
  // peer connections; nothing of the application is needed for the relay path.
  pageServer = await serveStaticPages({ '/': htmlPage('<!doctype html><title>turn relay</title>') });
  pageOrigin = pageServer.origin;
  browser = await launchCallBrowser();
});

after(async () => {
  await browser?.close();
  await pageServer?.close();
  await turn?.stop();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function loggedInTurnConfig() {
  const username = `turn${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  assert.equal((await register(server, username, password)).status, 201);
  const { res, cookie } = await login(server, username, password);
  assert.equal(res.status, 200, res.body);
  assert.equal((await request(server, 'GET', '/api/v1/turn')).status, 401, 'no credentials without a login');
  const answer = await request(server, 'GET', '/api/v1/turn', { cookie });
  assert.equal(answer.status, 200, answer.body);
  return answer.json;
}

// In the page: two peer connections, each sending the fake camera and microphone, relay only.
// Candidates go straight from one to the other; the result lands in window.__relay.
async function connectPair(page, iceServers) {
  await page.evaluate(async (servers) => {
    const state = { candidates: { a: [], b: [] }, errors: [], gathering: { a: 'new', b: 'new' } };
    window.__relay = state;
    const a = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
    const b = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
    state.pcs = { a, b };
    for (const [name, pc, other] of [['a', a, b], ['b', b, a]]) {
      pc.addEventListener('icecandidate', (event) => {
        if (!event.candidate) return;
        state.candidates[name].push(event.candidate.type);
        other.addIceCandidate(event.candidate).catch(() => {});
      });
      pc.addEventListener('icecandidateerror', (event) => {
        state.errors.push({ pc: name, code: event.errorCode, text: event.errorText, url: event.url });
      });
      pc.addEventListener('icegatheringstatechange', () => (state.gathering[name] = pc.iceGatheringState));
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
    }
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
  }, iceServers);
}

// Per side: inbound bytes and decoded video frames, and the selected pair's candidate types.
function sample(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const [name, pc] of Object.entries(window.__relay.pcs)) {
      const stats = await pc.getStats();
      let bytesReceived = 0;
      let framesDecoded = 0;
      let pair = null;
      for (const report of stats.values()) {
        if (report.type === 'inbound-rtp') {
          bytesReceived += report.bytesReceived ?? 0;
          if (report.kind === 'video') framesDecoded += report.framesDecoded ?? 0;
        }
        if (report.type === 'transport' && report.selectedCandidatePairId) {
          const selected = stats.get(report.selectedCandidatePairId);
          pair = {
            state: selected?.state,
            local: stats.get(selected?.localCandidateId)?.candidateType,
            remote: stats.get(selected?.remoteCandidateId)?.candidateType,
          };
        }
      }
      out[name] = { bytesReceived, framesDecoded, pair, ice: pc.iceConnectionState };
    }
    return out;
  });
}

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last.done) return last;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await sleep(250);
  }
}

async function closePair(page) {
  await page.evaluate(() => {
    for (const pc of Object.values(window.__relay.pcs)) pc.close();
  });
}

test('GET /api/v1/turn hands out this coturn and credentials that it accepts', async () => {
  const config = await loggedInTurnConfig();
  assert.equal(config.ttl, 60);
  assert.equal(config.iceTransportPolicy, 'all', 'relay is not forced by this server');
  assert.equal(config.iceServers.length, 1);
  const [iceServer] = config.iceServers;
  assert.deepEqual(iceServer.urls, turn.urls);
  const [expiry] = iceServer.username.split(':');
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Number(expiry) > now && Number(expiry) <= now + 61, `expiry ${expiry} is about 60 s ahead`);
  assert.equal(iceServer.credential, turnPassword(secret, iceServer.username), 'HMAC-SHA1 with the shared secret');
});

test('a relay-only call through coturn: media flows both ways over relay candidates', async () => {
  const config = await loggedInTurnConfig();
  const allocationsBefore = turn.allocations();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(pageOrigin);
    await connectPair(page, config.iceServers);

    const first = await waitFor('media on both sides', async () => {
      const s = await sample(page);
      return { ...s, done: s.a.framesDecoded > 0 && s.b.framesDecoded > 0 };
    }, 30_000);
    // Rising, not just present: media keeps flowing through the relay.
    await waitFor('bytes and frames rising', async () => {
      const s = await sample(page);
      const rising = ['a', 'b'].every(
        (n) => s[n].bytesReceived > first[n].bytesReceived && s[n].framesDecoded > first[n].framesDecoded + 5,
      );
      return { ...s, done: rising };
    }, 15_000);

    const s = await sample(page);
    for (const name of ['a', 'b']) {
      assert.equal(s[name].pair?.state, 'succeeded', `${name}: selected pair ${JSON.stringify(s[name].pair)}`);
      assert.equal(s[name].pair.local, 'relay', `${name}: local candidate of the selected pair`);
      assert.equal(s[name].pair.remote, 'relay', `${name}: remote candidate of the selected pair`);
    }
    const gathered = await page.evaluate(() => window.__relay.candidates);
    for (const name of ['a', 'b']) {
      assert.ok(gathered[name].length > 0, `${name} gathered candidates`);
      assert.ok(gathered[name].every((type) => type === 'relay'), `${name}: only relay candidates ${gathered[name]}`);
    }
    assert.ok(turn.allocations() >= allocationsBefore + 2, `coturn logged allocations:\n${turn.log().slice(-2000)}`);
    await closePair(page);
  } finally {
    await context.close();
  }
});

// coturn's own record of an authenticated request (the username is known) answered 401: the
// first unauthenticated Allocate of every client also gets a 401 (the nonce challenge of
// RFC 8656 §7.2), with an empty user.
const coturnRefused = (username) =>
  turn.log().includes(`user <${username}>: incoming packet message processed, error 401`);

// Gathers with `iceServers`; resolves once an icecandidateerror or ICE failure was seen on both
// sides (or times out with what was seen).
async function refusedGathering(iceServers) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(pageOrigin);
    await connectPair(page, iceServers);
    const seen = await waitFor('the refusal', async () => {
      const state = await page.evaluate(() => ({
        errors: window.__relay.errors,
        candidates: window.__relay.candidates,
        ice: Object.fromEntries(Object.entries(window.__relay.pcs).map(([n, pc]) => [n, pc.iceConnectionState])),
        gathering: window.__relay.gathering,
      }));
      const refused = (n) => state.errors.some((e) => e.pc === n) || state.ice[n] === 'failed';
      const gathered = state.gathering.a === 'complete' && state.gathering.b === 'complete';
      return { ...state, done: refused('a') && refused('b') && gathered };
    }, 30_000);
    const frames = await sample(page);
    await closePair(page);
    return { ...seen, frames };
  } finally {
    await context.close();
  }
}

test('credentials whose expiry has passed are refused: no relay candidate, 401', async () => {
  const config = await loggedInTurnConfig();
  const [issued] = config.iceServers;
  const userid = issued.username.split(':')[1];
  // A valid HMAC over a username whose expiry is a minute in the past: what a credential from a
  // 60-second lifetime looks like two minutes after it was issued.
  const username = `${Math.floor(Date.now() / 1000) - 60}:${userid}`;
  const expired = [{ urls: issued.urls, username, credential: turnPassword(secret, username) }];
  const allocationsBefore = turn.allocations();
  const seen = await refusedGathering(expired);
  assert.deepEqual(seen.candidates, { a: [], b: [] }, 'no candidate at all (relay only, none allocated)');
  assert.ok(seen.errors.some((e) => e.code === 401), `a 401 from coturn: ${JSON.stringify(seen.errors)}`);
  assert.equal(seen.frames.a.bytesReceived + seen.frames.b.bytesReceived, 0, 'no media');
  assert.equal(turn.allocations(), allocationsBefore, 'coturn allocated nothing');
  assert.ok(coturnRefused(username), `coturn refused ${username}:\n${turn.log().slice(-2000)}`);
});

test('a credential with a wrong HMAC is refused: no relay candidate, 401', async () => {
  const config = await loggedInTurnConfig();
  const [issued] = config.iceServers;
  // The issued, unexpired username with a password keyed by another secret.
  const forged = [{
    urls: issued.urls,
    username: issued.username,
    credential: turnPassword('0'.repeat(64), issued.username),
  }];
  assert.notEqual(forged[0].credential, issued.credential);
  const allocationsBefore = turn.allocations();
  const seen = await refusedGathering(forged);
  assert.deepEqual(seen.candidates, { a: [], b: [] }, 'no candidate at all (relay only, none allocated)');
  assert.ok(seen.errors.some((e) => e.code === 401), `a 401 from coturn: ${JSON.stringify(seen.errors)}`);
  assert.equal(turn.allocations(), allocationsBefore, 'coturn allocated nothing');
  assert.ok(coturnRefused(issued.username), `coturn refused ${issued.username}:\n${turn.log().slice(-2000)}`);
});

// scripts/run.sh (scripts/coturn.sh, bash) and the tests (tests/helpers/coturn.mjs) render one
// template; they must produce the same file, and neither may let a value add a line.
function renderWithScript(values) {
  const script = `source scripts/lib.sh && source scripts/coturn.sh && coturn_render "$OUT" && cat "$OUT" && rm -f "$OUT"`;
  return spawnSync('bash', ['-c', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, OUT: path.join(dataDir, `rendered-${process.pid}.conf`), ...values },
  });
}

test('scripts/coturn.sh and tests/helpers/coturn.mjs render the template alike, values as is, and refuse injected lines', () => {
  const values = {
    secret, port: 3478, relayMinPort: 49160, relayMaxPort: 49200, realm: 'example.org', dir: '/var/lib/secms/turn',
  };
  const env = {
    COTURN_SECRET: secret, COTURN_LISTEN_IP: '127.0.0.1', COTURN_PORT: '3478', COTURN_RELAY_IP: '127.0.0.1',
    COTURN_RELAY_MIN: '49160', COTURN_RELAY_MAX: '49200', COTURN_REALM: 'example.org', COTURN_DIR: '/var/lib/secms/turn',
  };
  const fromScript = renderWithScript(env);
  assert.equal(fromScript.status, 0, fromScript.stderr);
  const fromNode = renderCoturnConfig(values);
  assert.equal(fromScript.stdout, fromNode);
  assert.match(fromNode, /^static-auth-secret=[0-9a-f]{64}$/m);
  assert.match(fromNode, /^allow-loopback-peers$/m, 'a loopback relay allows loopback peers');
  assert.match(fromNode, /^denied-peer-ip=10\.0\.0\.0-10\.255\.255\.255$/m);
  assert.doesNotMatch(fromNode, /@[A-Z_]+@/);

  const publicRelay = renderCoturnConfig({ ...values, listenIp: '203.0.113.10' });
  assert.doesNotMatch(publicRelay, /^allow-loopback-peers$/m, 'a public relay refuses loopback peers');
  const publicFromScript = renderWithScript({ ...env, COTURN_LISTEN_IP: '203.0.113.10', COTURN_RELAY_IP: '203.0.113.10' });
  assert.equal(publicFromScript.stdout, publicRelay);

  // bash 5.2's patsub_replacement turns an unquoted '&' in a replacement into the matched
  // placeholder: a legal path with '&' must render as is, from both renderers.
  const ampersand = '/var/lib/secms&co/turn';
  const withAmpersand = renderWithScript({ ...env, COTURN_DIR: ampersand });
  assert.equal(withAmpersand.status, 0, withAmpersand.stderr);
  assert.equal(withAmpersand.stdout, renderCoturnConfig({ ...values, dir: ampersand }));
  assert.match(withAmpersand.stdout, /^log-file=\/var\/lib\/secms&co\/turn\/turnserver\.log$/m);

  // The bandwidth capacity: the default in both, a chosen value in both, nonsense refused by both.
  assert.match(fromNode, /^bps-capacity=125000000$/m);
  assert.match(fromNode, /^user-quota=6$/m);
  const capped = renderWithScript({ ...env, COTURN_BPS_CAPACITY: '1500000' });
  assert.equal(capped.stdout, renderCoturnConfig({ ...values, bpsCapacity: 1_500_000 }));
  assert.match(capped.stdout, /^bps-capacity=1500000$/m);
  assert.throws(() => renderCoturnConfig({ ...values, bpsCapacity: 5 }), /invalid bandwidth capacity/);
  const tooSmall = renderWithScript({ ...env, COTURN_BPS_CAPACITY: '5' });
  assert.notEqual(tooSmall.status, 0);
  assert.match(tooSmall.stderr, /bandwidth capacity/);

  const injected = 'example.org\nallow-loopback-peers';
  assert.throws(() => renderCoturnConfig({ ...values, realm: injected }), /invalid realm/);
  const refused = renderWithScript({ ...env, COTURN_REALM: injected });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /invalid realm/);
  assert.equal(refused.stdout, '');
});
