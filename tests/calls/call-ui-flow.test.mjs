// A call made with the UI only, between two users in two Chromium contexts with a secure channel:
// the caller presses "Video call" in the conversation header, the VoIP tab comes forward, the
// callee's incoming-call dialog takes focus and rings, "Accept with video" answers; both call
// views then show "End-to-end encrypted" (call view and status bar), play the remote video in
// the element the call view renders, and reflect mute and DTMF; hanging up ends both and leaves
// an "answered" entry in the call log and a call line in the conversation.
//
//   flock /tmp/secms-browser.lock timeout 600 bash scripts/loopback-netns.sh env SECMS_SERVER_BIN=… \
//     node --test --test-concurrency=1 tests/calls/call-ui-flow.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { violationsOf } from '../e2e/helpers/browser.mjs';
import { useCallApp, securePair } from './helpers/call-app.mjs';

const suite = await useCallApp();

const toneIs = (page, tone, timeout = 20_000) => page.waitForFunction((value) => document.documentElement.dataset.callTone === value, tone, { timeout });

/** The data-testid of the focused element, looking through shadow roots. */
const focusedTestId = (page) => page.evaluate(() => {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active?.getAttribute('data-testid') ?? null;
});

/** Frames the call view's own remote <video> element played during `ms`. */
const framesPlayed = (page, ms = 1500) => page.getByTestId('call-remote-video').evaluate(async (video, wait) => {
  const before = video.getVideoPlaybackQuality().totalVideoFrames;
  await new Promise((resolve) => setTimeout(resolve, wait));
  return { played: video.getVideoPlaybackQuality().totalVideoFrames - before, hasStream: video.srcObject instanceof MediaStream };
}, ms);

test('a video call placed, answered, used and ended with the UI alone', async (t) => {
  const [alice, bob] = await securePair(t, suite);
  const encrypted = (page) => page.locator('[data-testid=call-security][data-state=encrypted]').waitFor({ timeout: 30_000 });

  // The VoIP tab listed the (fake) devices without being asked.
  const microphones = alice.app.locator('[data-testid=voip-device-audioinput] option');
  assert.ok(await alice.app.getByTestId('voip-device-audioinput').isEnabled(), 'a microphone is listed');
  assert.ok(await microphones.count() >= 1);

  await alice.app.getByTestId('channel-call-video').click();
  // The caller's VoIP tab comes forward with the call; ringback while the callee rings.
  await alice.app.locator('[data-testid=tab-voip][aria-selected=true]').waitFor();
  await alice.app.getByTestId('call-view').waitFor();

  const dialog = bob.app.getByRole('alertdialog');
  await dialog.waitFor({ timeout: 20_000 });
  assert.match(await dialog.textContent(), new RegExp(`${alice.username} is video calling you`));
  // The heading has the focus: no keystroke meant for the page can answer (incoming-keyjack.test.mjs).
  assert.equal(await focusedTestId(bob.app), 'incoming-call-title');
  await toneIs(bob.app, 'ring');
  await toneIs(alice.app, 'ringback');
  assert.equal((await alice.app.getByTestId('call-phase').textContent()).trim(), 'Ringing…');

  await bob.app.getByTestId('call-accept-video').click();
  await dialog.waitFor({ state: 'hidden' });
  await Promise.all([toneIs(alice.app, 'none'), toneIs(bob.app, 'none')]);
  await Promise.all([encrypted(alice.app), encrypted(bob.app)]);
  for (const { app } of [alice, bob]) {
    await app.locator('[data-testid=status-call-security][data-state=encrypted]').waitFor();
    assert.equal((await app.getByTestId('call-phase').textContent()).trim(), 'Connected');
    assert.ok(await app.getByTestId('call-timer').isVisible());
    assert.match(await app.getByTestId('call-sas-decimal').textContent(), /\d/);
    const frames = await framesPlayed(app);
    assert.ok(frames.hasStream && frames.played > 0, `remote video plays in the call view: ${JSON.stringify(frames)}`);
    assert.ok(await app.getByTestId('call-remote-audio').evaluate((audio) => audio.srcObject instanceof MediaStream));
  }
  assert.equal(await alice.app.getByTestId('call-sas-decimal').textContent(), await bob.app.getByTestId('call-sas-decimal').textContent());

  // Mute: pressed on one side, shown on the other.
  await alice.app.getByTestId('call-mute').click();
  await alice.app.locator('[data-testid=call-mute][aria-pressed=true]').waitFor();
  await bob.app.getByTestId('call-remote-muted').waitFor({ timeout: 10_000 });

  // DTMF from the keypad, by mouse and by keyboard.
  await alice.app.getByTestId('call-keypad').click();
  await alice.app.getByTestId('dtmf-1').click();
  await alice.app.keyboard.press('#');
  await alice.app.locator('[data-testid=dtmf-sent]', { hasText: '1#' }).waitFor({ timeout: 5000 });

  // Hang up: both end; the log and the conversation say "answered".
  await alice.app.getByTestId('call-hangup').click();
  for (const { app } of [alice, bob]) {
    await app.locator('[data-testid=call-view][data-phase=ended]').waitFor({ timeout: 10_000 });
    await app.locator('[data-testid=call-log-entry][data-outcome=answered]').waitFor();
    assert.equal(await app.locator('[data-testid=status-call-security]').count(), 0, 'no call indicator once the call ended');
  }
  await bob.app.getByTestId('tab-chat').click();
  await bob.app.locator('[data-testid=chat-system][data-key="call.log.answered"]').waitFor({ timeout: 5000 });
  await alice.app.getByTestId('call-dismiss').click();
  await alice.app.getByTestId('call-view').waitFor({ state: 'detached' });

  for (const { app } of [alice, bob]) assert.deepEqual(await violationsOf(app), []);
});
