// A call in the application relayed by the real coturn: secms-server's TURN secret (made by
// `secms-server init`) is coturn's static-auth-secret, the server hands out coturn's URLs
// (--turn-urls) with TURN REST credentials, and both users tick "Hide my IP address" in the VoIP
// tab, so the page asks for iceTransportPolicy 'relay'. The call connects, its media is SFrame
// encrypted both ways, the indicator says "End-to-end encrypted" and "Via TURN relay", and
// coturn logged the allocations.
//
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh \
//     env SECMS_SERVER_BIN=… node --test --test-concurrency=1 tests/calls/calls-relay.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { violationsOf } from '../e2e/helpers/browser.mjs';
import { unexpectedProblems } from '../e2e/helpers/app-flows.mjs';
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
