// A call in the application relayed by the real coturn: secms-server's TURN secret (made by
// `secms-server init`) is coturn's static-auth-secret, the server hands out coturn's URLs
// (--turn-urls) with TURN REST credentials, and both users tick "Hide my IP address" in the VoIP
// tab, so the page asks for iceTransportPolicy 'relay'. The call connects, its media is SFrame
// encrypted both ways, the indicator says "End-to-end encrypted" and "Via TURN relay", and
// coturn logged the allocations.
// Then a hostile relay between the browsers and the server (tests/helpers/hostile-relay.mjs)
// flips one ciphertext bit of the record carrying the call invitation: the callee's channel
// refuses it (bad_tag), the call never rings, and the caller's call ends with the channel.
//
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh \
//     env SECMS_SERVER_BIN=… node --test --test-concurrency=1 tests/calls/calls-relay.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { violationsOf } from '../e2e/helpers/browser.mjs';
import { unexpectedProblems, waitForChannelState } from '../e2e/helpers/app-flows.mjs';
import { freePort } from '../helpers/secms-server.mjs';
import { startHostileRelay } from '../helpers/hostile-relay.mjs';
import { flipRecordBit } from '../helpers/relay-attacks.mjs';
import { launchCallBrowser } from './helpers/browser.mjs';
import {
  startCallServer, certifiedUsers, openChannel, phaseIs, securityIs, mediaFrames, remoteVideoFrames,
  remoteVideoRisesAbove, until, callFromVoip, answer, callLog,
} from './helpers/call-app.mjs';

let app;
let browser;
const cleanups = [];

before(async () => {
  app = await startCallServer({ turn: true });
  browser = await launchCallBrowser();
});

after(async () => {
  for (const fn of cleanups) await fn();
  await browser?.close();
  await app?.stop();
});

test('"Hide my IP address" on both sides: the call goes through coturn, encrypted end to end, shown as via TURN relay', { timeout: 120_000 }, async () => {
  const [alice, bob] = await certifiedUsers({ after: (fn) => cleanups.push(fn) }, browser, app.origin, ['alice', 'bob']);
  await openChannel(alice, bob);
  for (const user of [alice, bob]) {
    await user.app.getByTestId('tab-voip').click();
    const hideIp = user.app.getByTestId('hide-ip');
    assert.equal(await hideIp.isChecked(), false, 'relay-only calls are off by default');
    await hideIp.check();
    await until(() => user.app.evaluate(() => document.querySelector('secms-app-root').calls.get().hideIp), (on) => on === true, 'hideIp in the store');
  }
  assert.equal(app.turn.allocations(), 0);

  await callFromVoip(alice.app, bob.username, { video: true });
  await phaseIs(bob.app, 'incoming');
  await answer(bob.app, 'video');
  await Promise.all([phaseIs(alice.app, 'active', 30_000), phaseIs(bob.app, 'active', 30_000)]);
  await Promise.all([securityIs(alice.app, 'encrypted'), securityIs(bob.app, 'encrypted')]);

  for (const user of [alice, bob]) {
    const page = user.app;
    assert.equal(await page.getByTestId('call-security').getAttribute('data-path'), 'relay');
    assert.equal((await page.getByTestId('call-path').textContent()).trim(), 'Via TURN relay');
    assert.equal((await page.getByTestId('call-security-label').textContent()).trim(), 'End-to-end encrypted');
    await remoteVideoRisesAbove(page, await remoteVideoFrames(page) + 10);
    const first = await mediaFrames(page);
    await until(() => mediaFrames(page), (now) => now.encrypted > first.encrypted + 20 && now.decrypted > first.decrypted + 20,
      'SFrame frames encrypted and decrypted rising through the relay');
  }
  // Each browser allocated on coturn (RFC 8656 Allocate successes in its log).
  assert.ok(app.turn.allocations() >= 2, `coturn allocations: ${app.turn.allocations()}`);

  await alice.app.getByTestId('call-hangup').click();
  await Promise.all([phaseIs(alice.app, 'ended'), phaseIs(bob.app, 'ended')]);
  assert.equal((await callLog(alice.app))[0].outcome, 'answered');
  for (const user of [alice, bob]) {
    assert.deepEqual(unexpectedProblems(user.problems), [], `${user.username}: console errors`);
    assert.deepEqual(await violationsOf(user.app), [], `${user.username}: CSP / Trusted Types violations`);
  }
});

test('a hostile relay flipping a bit of the call invitation: the channel refuses it, the call never rings and ends on the caller\'s side', { timeout: 120_000 }, async (t) => {
  // The application is loaded through the relay, so its origin must be allowed: its port is
  // chosen first (and chosen again in the rare case the server took the same free port).
  let relayPort;
  let direct;
  do {
    await direct?.stop();
    relayPort = await freePort();
    direct = await startCallServer({ extraArgs: ['--extra-origins', `https://localhost:${relayPort}`] });
  } while ([direct.server.httpsPort, direct.server.httpPort].includes(relayPort));
  t.after(() => direct.stop());
  const relay = await startHostileRelay({ server: { httpsPort: direct.server.httpsPort, dataDir: direct.server.dataDir }, port: relayPort });
  t.after(() => relay.close());
  const [alice, bob] = await certifiedUsers({ after: (fn) => cleanups.push(fn) }, browser, relay.origin, ['alice', 'bob']);
  await openChannel(alice, bob);

  // From now on the first record the server sends to Bob is tampered with: the invitation.
  const attack = flipRecordBit({ victim: bob.username, index: 0 });
  relay.tamper = attack.hook;
  await callFromVoip(alice.app, bob.username, { video: true });
  await waitForChannelState(bob.app, 'compromised');
  assert.equal(await bob.app.getByTestId('channel-teardown-reason').getAttribute('data-reason'), 'bad_tag');
  await phaseIs(alice.app, 'ended', 30_000);
  assert.equal(attack.fired, 1, 'the invitation record was tampered with');
  assert.equal((await callLog(alice.app))[0].outcome, 'channel-ended');
  // Bob was never offered the call: no ringing, no incoming dialog, nothing in his log.
  assert.equal(await bob.app.evaluate(() => document.documentElement.dataset.callPhase), 'none');
  assert.equal(await bob.app.getByTestId('incoming-call').isVisible(), false);
  assert.equal(await bob.app.getByTestId('call-accept').count(), 0);
  await bob.app.getByTestId('tab-voip').click();
  assert.deepEqual(await callLog(bob.app), []);
  assert.deepEqual(relay.errors, []);
  for (const user of [alice, bob]) assert.deepEqual(await violationsOf(user.app), [], `${user.username}: CSP / Trusted Types violations`);
});
