// The two adversarial tests in real Chromium. Two browser contexts load the app THROUGH
// the hostile relay (tests/helpers/hostile-relay.mjs: a TLS interposer in front of the real
// server), which attacks the server→client leg: a substituted ephemeral key, a flipped
// ciphertext bit, a replayed frame, a dropped Finished. Each case must end with the status bar
// showing "Compromised" and the reason, never "Secure" on the attacked side, and no tampered
// message shown. Then a browser-sent plaintext marker must appear nowhere in what the server
// received or sent (tapped after TLS), logged (trace level), exposed (/metrics) or stored.
//
//   npm run build && node --test tests/e2e/hostile-relay.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, serverBinaryAvailable, serverBinary, freePort, httpsRequest } from './helpers/server.mjs';
import { loopbackRateLimits } from '../helpers/secms-server.mjs';
import { launchBrowser, newContext, violationsOf } from './helpers/browser.mjs';
import {
  openLanding, registerAndOpenApp, uniqueName, createIdentityInApp, requestChannelWith, waitForChannelState,
  sendChannelMessage, waitForPeerMessage, unexpectedProblems, registeredUser
} from './helpers/app-flows.mjs';
import { startHostileRelay } from '../helpers/hostile-relay.mjs';
import {
  dropHandshakeMessage, flipRecordBit, reorderRecords, replayRecord, substituteCertificate, substituteEphemeralKey,
} from '../helpers/relay-attacks.mjs';
import { makeIdentity } from '../helpers/channel-client.mjs';
import { findMarker, readTree } from '../helpers/marker-search.mjs';
import { RelayFrameType, parseRelayFrame } from '../helpers/relay-frame.mjs';

const available = await serverBinaryAvailable();
const skip = available ? false : `secms-server not built (${serverBinary})`;

let server;
let relay;
let browser;

before(async () => {
  if (!available) return;
  // The app is served through the relay, so its origin must be allowed: pick its port first.
  const relayPort = await freePort();
  // Trace level: the marker check below reads the most verbose log the server can write.
  server = await startServer({ logLevel: 'trace', extraArgs: [
    '--extra-origins', `https://localhost:${relayPort}`,
    ...loopbackRateLimits,
  ] });
  relay = await startHostileRelay({ server: { httpsPort: Number(new URL(server.origin).port), dataDir: server.dataDir }, port: relayPort });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await relay?.close();
  await server?.stop();
});

const unexpected = unexpectedProblems;

/** A registered user with an identity, the app window opened from the RELAY's origin. */
async function user(t, prefix) {
  const { landing, app, username, ...entry } = await registeredUser(t, browser, relay.origin, prefix);
  assert.equal(new URL(app.url()).origin, relay.origin);
  await createIdentityInApp(app, { name: `${prefix} Example`, email: `${prefix}@example.org` });
  await recordChannelStates(app);
  return { ...entry, landing, app, username };
}

/**
 * Samples, every 5 ms inside the page, the channel state badge and the status-bar pill (through
 * the Lit shadow roots) and keeps every value seen, so "never secure" can be asserted about the
 * whole run and not only its end.
 */
async function recordChannelStates(page) {
  await page.evaluate(() => {
    const deepFind = (root, selector) => {
      const found = root.querySelector(selector);
      if (found) return found;
      for (const element of root.querySelectorAll('*')) {
        if (element.shadowRoot) {
          const inner = deepFind(element.shadowRoot, selector);
          if (inner) return inner;
        }
      }
      return null;
    };
    window.__secmsChannelStates = new Set();
    setInterval(() => {
      for (const selector of ['[data-testid="channel-state"]', '[data-testid="channel-status"]']) {
        const state = deepFind(document, selector)?.dataset.state;
        if (state) window.__secmsChannelStates.add(state);
      }
    }, 5);
  });
}

const statesSeen = (page) => page.evaluate(() => [...window.__secmsChannelStates]);

/**
 * Both users accept each other's certificate (the handshake then runs by itself);
 * `beforeBobAccepts` runs while Bob's offer is on screen.
 */
async function acceptBoth(alice, bob, beforeBobAccepts = async () => {}) {
  await requestChannelWith(alice.app, bob.username);
  await alice.app.getByTestId('peer-report').waitFor();
  await alice.app.getByTestId('channel-accept').click();
  await bob.app.getByTestId('peer-report').waitFor();
  await beforeBobAccepts();
  await bob.app.getByTestId('channel-accept').click();
}

/** The channel view and the status bar both say compromised, with this reason visible. */
async function assertCompromised(app, reason, timeoutMs = 25_000) {
  await waitForChannelState(app, 'compromised', timeoutMs);
  assert.equal(await app.getByTestId('channel-teardown-reason').getAttribute('data-reason'), reason);
  const pill = app.getByTestId('channel-status');
  assert.equal(await pill.getAttribute('data-state'), 'compromised');
  assert.match(await app.getByTestId('status-channel-state').textContent(), /Compromised/);
  const shown = app.getByTestId('status-channel-reason');
  assert.equal(await shown.getAttribute('data-reason'), reason);
  assert.ok(await shown.isVisible(), 'the reason is visible in the status bar');
  assert.ok((await shown.textContent()).trim().length > 3, 'the reason is said in words');
}

async function finalChecks(alice, bob, attack) {
  assert.ok(attack.fired >= 1, `the attack "${attack.name}" never struck`);
  assert.deepEqual(relay.errors, []);
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), [], `CSP violations in ${page.url()}`);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
}

test('substituted ephemeral key (message 1): both sides show Compromised — bad_signature; neither ever Secure', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = substituteEphemeralKey({ victim: bob.username, message: 1 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  // The responder signed a transcript holding the relay's key; the initiator's verification fails.
  await assertCompromised(alice.app, 'bad_signature');
  await assertCompromised(bob.app, 'bad_signature');
  assert.ok(!(await statesSeen(bob.app)).includes('secure'), `attacked side states: ${await statesSeen(bob.app)}`);
  assert.ok(!(await statesSeen(alice.app)).includes('secure'), `initiator states: ${await statesSeen(alice.app)}`);
  await finalChecks(alice, bob, attack);
});

test('substituted ephemeral key (message 2): the initiator shows Compromised — bad_signature; neither ever Secure', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = substituteEphemeralKey({ victim: alice.username, message: 2 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  await assertCompromised(alice.app, 'bad_signature');
  await assertCompromised(bob.app, 'bad_signature');
  assert.ok(!(await statesSeen(alice.app)).includes('secure'), `attacked side states: ${await statesSeen(alice.app)}`);
  assert.ok(!(await statesSeen(bob.app)).includes('secure'));
  await finalChecks(alice, bob, attack);
});

test('substituted certificate in the offer, accepted without checking: Compromised — fingerprint_mismatch; never Secure', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const impostor = await makeIdentity({ name: 'alice Example', email: 'alice@example.org' });
  const attack = substituteCertificate({ victim: bob.username, impostor });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob, async () => {
    // Bob is shown (and then accepts) the relay's certificate under Alice's name.
    assert.equal(await bob.app.locator('[data-testid=peer-report] [data-testid=report-fingerprint]').getAttribute('data-fingerprint'), impostor.fingerprint);
  });
  await assertCompromised(bob.app, 'fingerprint_mismatch');
  await assertCompromised(alice.app, 'fingerprint_mismatch');
  assert.ok(!(await statesSeen(bob.app)).includes('secure'), `attacked side states: ${await statesSeen(bob.app)}`);
  assert.ok(!(await statesSeen(alice.app)).includes('secure'));
  await finalChecks(alice, bob, attack);
});

test('flipped ciphertext bit: the receiver shows Compromised — bad_tag, never the message; the sender is told', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = flipRecordBit({ victim: bob.username, index: 0 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  await sendChannelMessage(alice.app, 'tampered in transit');
  await assertCompromised(bob.app, 'bad_tag');
  await assertCompromised(alice.app, 'bad_tag');
  assert.equal(await bob.app.locator('[data-testid=channel-message][data-from=peer]').count(), 0, 'nothing of the tampered record is shown');
  // Positive control of the state sampler the "never Secure" assertions rely on.
  const seen = await statesSeen(bob.app);
  assert.ok(seen.includes('secure') && seen.includes('compromised'), `sampled states: ${seen}`);
  await finalChecks(alice, bob, attack);
});

test('replayed frame: the message is shown once, then Compromised — replay', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = replayRecord({ victim: bob.username, index: 0 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  await sendChannelMessage(alice.app, 'say it once');
  await assertCompromised(bob.app, 'replay');
  await assertCompromised(alice.app, 'replay');
  assert.equal(await bob.app.locator('[data-testid=channel-message][data-from=peer]').count(), 1, 'the replayed copy is not shown');
  await finalChecks(alice, bob, attack);
});

test('reordered frames: Compromised — out_of_order; neither message is shown', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = reorderRecords({ victim: bob.username, index: 0 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  // One at a time: the input is cleared when a send completes, so a second fill could be wiped.
  await sendChannelMessage(alice.app, 'first');
  await alice.app.locator('[data-testid=channel-message][data-from=me]').first().waitFor();
  await sendChannelMessage(alice.app, 'second');
  await alice.app.locator('[data-testid=channel-message][data-from=me]').nth(1).waitFor();
  await assertCompromised(bob.app, 'out_of_order');
  await assertCompromised(alice.app, 'out_of_order');
  assert.equal(await bob.app.locator('[data-testid=channel-message][data-from=peer]').count(), 0);
  await finalChecks(alice, bob, attack);
});

test('dropped Finished (message 3): the responder never becomes Secure and shows Compromised — handshake_timeout', { skip, timeout: 60_000 }, async (t) => {
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  const attack = dropHandshakeMessage({ victim: bob.username, messageType: 3 });
  relay.tamper = attack.hook;
  t.after(() => { relay.tamper = null; });
  await acceptBoth(alice, bob);
  // The Worker's handshake clock is 20 s (channel-manager DEFAULT_HANDSHAKE_TIMEOUT_MS).
  await assertCompromised(bob.app, 'handshake_timeout', 30_000);
  await assertCompromised(alice.app, 'handshake_timeout');
  assert.ok(!(await statesSeen(bob.app)).includes('secure'), `attacked side states: ${await statesSeen(bob.app)}`);
  await finalChecks(alice, bob, attack);
});

test('a browser-sent plaintext marker is nowhere in what the server received, sent, logged, exposed or stored', { skip, timeout: 60_000 }, async (t) => {
  relay.tamper = null;
  const alice = await user(t, 'alice');
  const bob = await user(t, 'bob');
  await acceptBoth(alice, bob);
  await Promise.all([waitForChannelState(alice.app, 'secure'), waitForChannelState(bob.app, 'secure')]);
  const framesBefore = relay.frames.length;
  const marker = `MARKER-${randomUUID()}`;
  const text = `${marker} — Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich ☂️ ${'lorem ipsum '.repeat(50)}`;
  await sendChannelMessage(alice.app, text);
  await waitForPeerMessage(bob.app, marker); // positive control: the peer decrypted it
  assert.equal((await bob.app.locator('[data-testid=channel-message][data-from=peer] [data-testid=channel-message-text]').first().textContent()).trim(), text.trim());
  await sendChannelMessage(bob.app, `reply ${marker}`);
  await waitForPeerMessage(alice.app, `reply ${marker}`);

  // The record really went through the tap, from Alice's browser to Bob's, unchanged.
  const recordsOf = (username, direction) => relay.frames.slice(framesBefore)
    .filter((f) => f.phase === 'received' && f.username === username && f.direction === direction && f.isBinary)
    .map((f) => parseRelayFrame(f.data)).filter((f) => f?.type === RelayFrameType.record);
  // Alice also sends small records (delivery receipts, batched about a second later): the message
  // is the one record long enough to hold the text.
  const hex = (f) => Buffer.from(f.body).toString('hex');
  const messageRecords = recordsOf(alice.username, 'to_server').filter((f) => f.body.length >= Buffer.byteLength(text) + 16);
  assert.equal(messageRecords.length, 1, 'one record carries the message');
  assert.ok(recordsOf(bob.username, 'to_client').map(hex).includes(hex(messageRecords[0])), 'relayed to Bob unchanged');

  // 1. Everything each browser sent and got after TLS (WebSocket messages, HTTP exchanges).
  assert.notDeepEqual(findMarker(Buffer.concat(relay.frames.map((f) => f.data)), alice.username), [], 'the tap sees inside TLS');
  for (const frame of relay.frames) assert.deepEqual(findMarker(frame.data, marker), [], `${frame.phase} ${frame.direction} message of ${frame.username}`);
  for (const exchange of relay.http) {
    const all = Buffer.concat([Buffer.from(JSON.stringify([exchange.url, exchange.requestHeaders, exchange.responseHeaders])), exchange.requestBody, exchange.responseBody ?? Buffer.alloc(0)]);
    assert.deepEqual(findMarker(all, marker), [], `${exchange.method} ${exchange.url}`);
  }
  // 2. /metrics, straight from the server (loopback).
  const metrics = await httpsRequest(`${server.origin}/metrics`);
  assert.equal(metrics.status, 200);
  assert.deepEqual(findMarker(metrics.body, marker), [], '/metrics');
  // 3. The server's output at trace level, and 4. every file of its data directory.
  assert.match(server.output(), /login userid=/, 'the log covers this run');
  assert.deepEqual(findMarker(server.output(), marker), [], 'server log');
  const files = await readTree(server.dataDir);
  assert.ok(files.length >= 3, `data dir files: ${files.map((f) => f.file)}`);
  for (const { file, bytes } of files) assert.deepEqual(findMarker(bytes, marker), [], file);
  for (const page of [alice.app, bob.app]) assert.deepEqual(await violationsOf(page), []);
  assert.deepEqual(unexpected([...alice.problems, ...bob.problems]), []);
});
