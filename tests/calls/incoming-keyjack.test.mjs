// An invite that arrives while the callee types in the chat must not be answered by the
// keystrokes meant for the chat. The incoming-call dialog opens modal under the user's fingers:
// when it put the focus on "Accept", the next Enter or space answered the call (microphone live,
// this browser's addresses sent to the caller). The dialog now focuses its heading, and its accept
// buttons stay inert for a moment after it appears (web/src/ui/incoming-call.js).
//
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh env SECMS_SERVER_BIN=… \
//     node --test --test-concurrency=1 tests/calls/incoming-keyjack.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCallApp, securePair, callAction as act, phaseIs } from './helpers/call-app.mjs';

const suite = await useCallApp();

const phaseOf = (page) => page.evaluate(() => document.documentElement.dataset.callPhase);
/** The callee's microphone tracks as "readyState:enabled" (none while the call only rings). */
const microphone = (page) => page.evaluate(() => document.querySelector('secms-app-root').calls.get().call?.localStream?.getAudioTracks()
  .map((track) => `${track.readyState}:${track.enabled}`) ?? []);
/** The data-testid of the focused element, looking through shadow roots. */
const focusedTestId = (page) => page.evaluate(() => {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active?.getAttribute('data-testid') ?? active?.tagName ?? null;
});

/** Bob is typing to Alice when her call comes in; resolves once his dialog is up. */
async function inviteWhileTyping(t, typed) {
  const [alice, bob] = await securePair(t, suite);
  await bob.app.getByTestId('message-input').click();
  await bob.app.keyboard.type(typed);
  await act(alice.app, 'call', { username: bob.username, video: false });
  await phaseIs(bob.app, 'incoming');
  await bob.app.getByRole('alertdialog').waitFor();
  return [alice, bob];
}

test('an Enter meant for the chat does not answer a call that just came in', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await inviteWhileTyping(t, 'sure, one sec');
  // The dialog's heading has the focus (read out with the dialog), not a button.
  assert.equal(await focusedTestId(bob.app), 'incoming-call-title');
  await bob.app.waitForTimeout(300);
  await bob.app.keyboard.press('Enter');
  await bob.app.waitForTimeout(2500);
  assert.equal(await phaseOf(bob.app), 'incoming', 'one Enter meant for the chat answered the call');
  assert.deepEqual(await microphone(bob.app), [], 'the microphone stays closed');
  assert.notEqual(await phaseOf(alice.app), 'active');
  // Pressing Enter again well after the dialog appeared still does nothing: the focus is on no button.
  await bob.app.keyboard.press('Enter');
  await bob.app.waitForTimeout(1000);
  assert.equal(await phaseOf(bob.app), 'incoming');
  await act(bob.app, 'decline');
  await phaseIs(alice.app, 'ended');
});

test('a space typed in the chat does not answer; the explicit choice still does', { timeout: 120_000 }, async (t) => {
  const [alice, bob] = await inviteWhileTyping(t, 'sure');
  // (That "Accept" ignores a click in its first second is checked in tests/e2e/call-ui.test.mjs.)
  await bob.app.keyboard.type(' one sec');
  await bob.app.waitForTimeout(2500);
  assert.equal(await phaseOf(bob.app), 'incoming', 'a space meant for the chat answered the call');
  assert.deepEqual(await microphone(bob.app), []);

  // After the delay, the explicit choice works: Tab reaches "Accept" and Enter answers.
  assert.ok(await bob.app.getByTestId('call-accept').isEnabled());
  await bob.app.keyboard.press('Tab');
  assert.equal(await focusedTestId(bob.app), 'call-accept');
  await bob.app.keyboard.press('Enter');
  await Promise.all([phaseIs(bob.app, 'active', 30_000), phaseIs(alice.app, 'active', 30_000)]);
  await act(bob.app, 'hangUp');
  await phaseIs(alice.app, 'ended');
});
