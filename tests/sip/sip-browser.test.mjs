// The "Phone (SIP)" part of the VoIP tab end to end, with real parts only: the real
// secms-server, the real Kamailio and rtpengine (tests/helpers/sip-edge.mjs), headless Chromium
// running the built app, SIP.js over the edge's WebSocket, and WebRTC media through rtpengine
// on loopback. Run inside a loopback-only network namespace like the call tests:
//
//   SECMS_SERVER_BIN=… bash scripts/loopback-netns.sh node --test --test-concurrency=1 tests/sip/sip-browser.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchCallBrowser } from '../calls/helpers/browser.mjs';
import { axeViolations, describeViolations } from '../helpers/axe.mjs';
import { logOutFromApp } from '../e2e/helpers/app-flows.mjs';
import {
  SIP_DOMAIN, acceptIncoming, audioArrives, audioStats, dial, lastHistoryIs, phoneUser, registrationIs, showTab,
  sipCallOver, sipHistory, sipPhaseIs, startSipStack, until,
} from './helpers/sip-app.mjs';

let stack;
let browser;

before(async () => {
  stack = await startSipStack();
  browser = await launchCallBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const origin = () => stack.server.origin;

/** Serious and critical axe violations inside the element `scope` (a tag, through shadow roots). */
async function seriousViolations(page, scope) {
  const found = await axeViolations(page, { scope, frames: false });
  return describeViolations(found.filter((v) => v.impact === 'serious' || v.impact === 'critical'));
}

// Reads the audio transceiver's negotiated direction until it is `direction`.
const directionIs = (page, direction, what) =>
  until(() => audioStats(page), (s) => s?.direction === direction, `${what}: audio direction ${direction}`);

// Sum of the page's newest peer connection's inbound audio energy (grows while sound arrives).
const inboundEnergy = (page) => page.evaluate(async () => {
  const open = window.__secmsPeerConnections.filter((pc) => pc.connectionState !== 'closed');
  let energy = 0;
  for (const report of (await open[open.length - 1].getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') energy += report.totalAudioEnergy ?? 0;
  }
  return energy;
});

// The energy a page receives stops growing (the other side is muted): two reads a second apart
// that differ by almost nothing. Polled: a read during the switch may still see some sound.
async function silenceArrives(page, what) {
  await until(async () => {
    const first = await inboundEnergy(page);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return (await inboundEnergy(page)) - first;
  }, (delta) => delta < 1e-4, `${what}: inbound audio energy stops growing`);
}

async function soundArrives(page, what) {
  await until(async () => {
    const first = await inboundEnergy(page);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return (await inboundEnergy(page)) - first;
  }, (delta) => delta > 1e-3, `${what}: inbound audio energy grows`);
}

test('two app users: registered, a call by bare name rings over the Chat tab, audio both ways, hold, mute, hang-up', async (t) => {
  const [alice, bob] = await Promise.all([phoneUser(t, browser, origin(), 'alice'), phoneUser(t, browser, origin(), 'bob')]);

  // Registered, with the user's own SIP address (the lower-cased name at the SIP domain).
  for (const user of [alice, bob]) {
    await user.app.getByTestId('sip-registration').waitFor();
    assert.equal(await user.app.getByTestId('sip-registration').getAttribute('data-state'), 'registered');
    assert.equal((await user.app.getByTestId('sip-registration').innerText()).trim(), 'registered');
    assert.equal((await user.app.getByTestId('sip-aor').innerText()).trim(), `${user.sipUser}@${SIP_DOMAIN}`);
  }
  const idle = await seriousViolations(alice.app, 'secms-sip-phone');
  assert.deepEqual(idle, [], `axe, idle phone:\n${idle.join('\n')}`);

  // Bob looks at the Chat tab: the call must reach him anyway.
  await showTab(bob.app, 'chat');
  await dial(alice.app, bob.username);   // bare name: completed with @localhost
  await sipPhaseIs(alice.app, 'ringing');
  await sipPhaseIs(bob.app, 'incoming');
  const incoming = bob.app.getByTestId('sip-incoming');
  assert.ok(await bob.app.getByTestId('panel-chat').isVisible(), 'Bob still shows the Chat tab');
  const title = await bob.app.getByTestId('sip-incoming-title').innerText();
  assert.match(title, new RegExp(`^Incoming SIP call from .*${alice.sipUser}@${SIP_DOMAIN}`));
  assert.equal(await incoming.getAttribute('role'), 'alertdialog');
  assert.match(await incoming.innerText(), /encrypted to the server only/);
  const ringing = await seriousViolations(bob.app, 'secms-sip-incoming');
  assert.deepEqual(ringing, [], `axe, ringing dialog:\n${ringing.join('\n')}`);

  await acceptIncoming(bob.app);
  await Promise.all([sipPhaseIs(alice.app, 'connected'), sipPhaseIs(bob.app, 'connected')]);
  assert.ok(await bob.app.getByTestId('panel-voip').isVisible(), 'accepting brings the VoIP tab forward');

  for (const user of [alice, bob]) {
    const security = (await user.app.getByTestId('sip-call-security').innerText()).trim();
    assert.equal(security, 'SIP call: encrypted to the server only');
    const callText = await user.app.getByTestId('sip-call').innerText();
    assert.doesNotMatch(callText, /end-to-end/i, 'nothing in a SIP call says end-to-end');
    assert.notEqual(await user.app.evaluate(() => document.documentElement.dataset.callSecurity ?? ''), 'end-to-end');
  }
  const peers = await Promise.all([alice, bob].map((u) => u.app.getByTestId('sip-call-peer').innerText()));
  assert.match(peers[0], new RegExp(`${bob.sipUser}@${SIP_DOMAIN}`));
  assert.match(peers[1], new RegExp(`${alice.sipUser}@${SIP_DOMAIN}`));

  // Audio both ways through rtpengine (DTLS-SRTP on both browser legs).
  await Promise.all([audioArrives(alice.app, 'Alice'), audioArrives(bob.app, 'Bob')]);
  await Promise.all([soundArrives(alice.app, 'Alice'), soundArrives(bob.app, 'Bob')]);
  const inCall = await seriousViolations(alice.app, 'secms-sip-phone');
  assert.deepEqual(inCall, [], `axe, phone in a call:\n${inCall.join('\n')}`);

  // Hold: Alice's re-INVITE offers sendonly; Bob's side then only receives.
  await alice.app.getByTestId('sip-hold').click();
  await until(() => alice.app.getByTestId('sip-hold').getAttribute('aria-pressed'), (v) => v === 'true', 'Alice: hold pressed');
  assert.match(await alice.app.getByTestId('sip-call-phase').innerText(), /On hold/);
  await directionIs(alice.app, 'sendonly', 'Alice on hold');
  await directionIs(bob.app, 'recvonly', 'Bob held');
  await alice.app.getByTestId('sip-hold').click();   // resume
  await until(() => alice.app.getByTestId('sip-hold').getAttribute('aria-pressed'), (v) => v === 'false', 'Alice: hold released');
  await directionIs(alice.app, 'sendrecv', 'Alice resumed');
  await directionIs(bob.app, 'sendrecv', 'Bob resumed');
  await Promise.all([audioArrives(alice.app, 'Alice after resume'), audioArrives(bob.app, 'Bob after resume')]);

  // Mute: Alice's microphone track is disabled; what Bob receives turns silent, and back.
  await alice.app.getByTestId('sip-mute').click();
  assert.equal(await alice.app.getByTestId('sip-mute').getAttribute('aria-pressed'), 'true');
  assert.deepEqual(await alice.app.evaluate(() => {
    const open = window.__secmsPeerConnections.filter((pc) => pc.connectionState !== 'closed');
    return open[open.length - 1].getSenders().filter((s) => s.track).map((s) => s.track.enabled);
  }), [false]);
  await silenceArrives(bob.app, 'Bob while Alice is muted');
  await alice.app.getByTestId('sip-mute').click();
  assert.equal(await alice.app.getByTestId('sip-mute').getAttribute('aria-pressed'), 'false');
  await soundArrives(bob.app, 'Bob after Alice unmuted');

  // Bob hangs up: both phones end the call and note it as answered.
  await bob.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(alice.app), sipCallOver(bob.app)]);
  await lastHistoryIs(alice.app, 'answered', 'outgoing');
  await lastHistoryIs(bob.app, 'answered', 'incoming');
  await alice.app.getByTestId('sip-address').waitFor();

  // Again, and this time the caller hangs up.
  await dial(bob.app, alice.username);
  await sipPhaseIs(alice.app, 'incoming');
  await acceptIncoming(alice.app);
  await Promise.all([sipPhaseIs(alice.app, 'connected'), sipPhaseIs(bob.app, 'connected')]);
  await Promise.all([audioArrives(alice.app, 'Alice, second call'), audioArrives(bob.app, 'Bob, second call')]);
  await bob.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(alice.app), sipCallOver(bob.app)]);
  await lastHistoryIs(alice.app, 'answered', 'incoming');
});

test('decline tells the caller; a third call while in a call gets busy', async (t) => {
  const [carol, dave, erin] = await Promise.all(['carol', 'dave', 'erin'].map((p) => phoneUser(t, browser, origin(), p)));

  // Dave declines: Carol's phone says declined (603).
  await dial(carol.app, dave.username);
  await sipPhaseIs(dave.app, 'incoming');
  await dave.app.getByTestId('sip-decline').click();
  await Promise.all([sipCallOver(carol.app), sipCallOver(dave.app)]);
  await lastHistoryIs(carol.app, 'declined', 'outgoing');
  await lastHistoryIs(dave.app, 'declined', 'incoming');
  const carolEntry = carol.app.getByTestId('sip-history-entry').first();
  assert.match(await carolEntry.innerText(), /declined/);

  // Carol and Dave in a call; Erin calls Dave: busy (486), and Dave's call goes on.
  await dial(carol.app, dave.username);
  await sipPhaseIs(dave.app, 'incoming');
  await acceptIncoming(dave.app);
  await Promise.all([sipPhaseIs(carol.app, 'connected'), sipPhaseIs(dave.app, 'connected')]);
  await dial(erin.app, `${dave.username}@${SIP_DOMAIN}`);
  await sipCallOver(erin.app);
  await lastHistoryIs(erin.app, 'busy', 'outgoing');
  assert.match(await erin.app.getByTestId('sip-history-entry').first().innerText(), /busy/);
  await lastHistoryIs(dave.app, 'busy', 'incoming');
  assert.equal(await dave.app.evaluate(() => document.documentElement.dataset.sipCallPhase), 'connected');
  await audioArrives(dave.app, 'Dave, still in the call');

  // Carol hangs up from her side.
  await carol.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(carol.app), sipCallOver(dave.app)]);
});

test('phone credentials: created in the UI and shown once, listed, revoked; the list API holds no password', async (t) => {
  const frank = await phoneUser(t, browser, origin(), 'frank');
  const page = frank.app;
  await page.getByTestId('sip-devices-empty').waitFor();
  await page.getByTestId('sip-device-label').fill('Desk phone');
  await page.getByTestId('sip-device-add').click();
  const shown = (await page.getByTestId('sip-device-credentials').innerText()).trim();
  const field = (name) => new RegExp(`^${name}: (.+)$`, 'm').exec(shown)?.[1];
  const username = field('Username') ?? '';
  const password = field('Password') ?? '';
  assert.match(username, new RegExp(`^\\d+:${frank.sipUser}:[0-9a-f]{16}$`), shown);
  assert.match(password, /^[A-Za-z0-9+/]{43}=$/, 'a base64 HMAC-SHA256 is shown');
  assert.match(shown, new RegExp(`sip:${frank.sipUser}@${SIP_DOMAIN}`));
  const deviceId = username.split(':')[2];

  // Listed (by label); the credentials are gone once closed and not in the list.
  await page.getByTestId('sip-device-done').click();
  await until(() => page.getByTestId('sip-device-created').count(), (n) => n === 0, 'the shown credentials closed');
  const entry = page.locator(`[data-testid=sip-device][data-id="${deviceId}"]`);
  assert.match(await entry.innerText(), /Desk phone/);
  assert.doesNotMatch(await page.getByTestId('sip-phone').innerText(), new RegExp(password.replace(/[+/=]/g, '\\$&')));

  const api = frank.context.request;
  const listed = await api.get(`${origin()}/api/v1/sip/devices`);
  assert.equal(listed.status(), 200);
  const listText = await listed.text();
  const list = JSON.parse(listText);
  assert.deepEqual(list.devices.map((d) => [d.id, d.label]), [[deviceId, 'Desk phone']]);
  assert.ok(!listText.includes(password) && !/password/i.test(listText), `the list holds no password: ${listText}`);

  // Revoked after confirmation: gone from the UI and from the API.
  await entry.getByTestId('sip-device-revoke').click();
  await entry.getByTestId('sip-device-revoke-confirm').click();
  await page.getByTestId('sip-devices-empty').waitFor();
  const afterRevoke = await (await api.get(`${origin()}/api/v1/sip/devices`)).json();
  assert.deepEqual(afterRevoke.devices, []);
});

test('logout unregisters: a call to the logged-out user finds no contact', async (t) => {
  const [grace, heidi] = await Promise.all([phoneUser(t, browser, origin(), 'grace'), phoneUser(t, browser, origin(), 'heidi')]);
  // While registered, Heidi's call reaches Grace (rings), and Heidi cancels it.
  await dial(heidi.app, grace.username);
  await sipPhaseIs(grace.app, 'incoming');
  await heidi.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(heidi.app), sipCallOver(grace.app)]);
  await lastHistoryIs(grace.app, 'missed', 'incoming');

  await logOutFromApp(grace.app);
  // Kamailio's location has no contact for Grace any more: 480 Temporarily Unavailable
  // (or 404 for an unknown user) — never a ringing call.
  await dial(heidi.app, grace.username);
  await sipCallOver(heidi.app);
  const [last] = await until(() => sipHistory(heidi.app), (l) => l[0] && l[0].outcome !== 'ongoing', 'Heidi: the call ended');
  assert.ok(['unavailable', 'not_found'].includes(last.outcome), `call to a logged-out user: ${last.outcome}`);
  await registrationIs(heidi.app, 'registered');
});

// Inbound video of the page's newest open peer connection: frames decoded, and the port of the
// m=video line of each description (0: the video stream was refused).
const videoStats = (page) => page.evaluate(async () => {
  const open = window.__secmsPeerConnections.filter((pc) => pc.connectionState !== 'closed');
  const pc = open[open.length - 1];
  if (!pc) return null;
  let framesDecoded = 0;
  for (const report of (await pc.getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'video') framesDecoded += report.framesDecoded ?? 0;
  }
  const videoPort = (description) => {
    const match = /^m=video (\d+)/m.exec(description?.sdp ?? '');
    return match ? Number(match[1]) : null;
  };
  return { framesDecoded, localVideoPort: videoPort(pc.localDescription), remoteVideoPort: videoPort(pc.remoteDescription) };
});

// Waits until the page's decoded inbound video frames grow by more than `frames` from now.
async function videoArrives(page, what, frames = 10) {
  const start = await until(() => videoStats(page), (s) => s !== null, `${what}: a peer connection`);
  return until(() => videoStats(page), (s) => s !== null && s.framesDecoded > start.framesDecoded + frames, `${what}: inbound video frames grow`);
}

// The remote video element of the call view (Playwright's locator reaches into the shadow
// roots), as the page shows it: its track count and size once frames play; null when absent.
async function remoteVideoShown(page) {
  const video = page.locator('video[data-stream="remote"]');
  if ((await video.count()) === 0) return null;
  return video.first().evaluate((v) => ({ width: v.videoWidth, height: v.videoHeight, tracks: v.srcObject?.getVideoTracks?.().length ?? 0 }));
}

test('a video call between two browsers: video both ways when accepted with video; none for the callee who takes audio only', async (t) => {
  const [ivy, judd] = await Promise.all([phoneUser(t, browser, origin(), 'ivy'), phoneUser(t, browser, origin(), 'judd')]);

  // Ivy calls with video; Judd is offered video and accepts with video.
  await ivy.app.getByTestId('sip-address').fill(judd.username);
  await ivy.app.getByTestId('sip-call-video').click();
  await sipPhaseIs(judd.app, 'incoming');
  const accept = judd.app.getByTestId('sip-accept-video');
  await accept.waitFor({ timeout: 30_000 });
  await judd.app.waitForFunction(() => document.querySelector('secms-sip-incoming')?.shadowRoot
    ?.querySelector('[data-testid="sip-accept-video"]')?.getAttribute('aria-disabled') === 'false', null, { timeout: 10_000 });
  await accept.click();
  await Promise.all([sipPhaseIs(ivy.app, 'connected'), sipPhaseIs(judd.app, 'connected')]);

  // Frames decoded on both sides (through rtpengine), and each view shows the other's picture.
  await Promise.all([videoArrives(ivy.app, 'Ivy'), videoArrives(judd.app, 'Judd')]);
  await Promise.all([audioArrives(ivy.app, 'Ivy, video call'), audioArrives(judd.app, 'Judd, video call')]);
  for (const [user, name] of [[ivy, 'Ivy'], [judd, 'Judd']]) {
    await until(() => remoteVideoShown(user.app), (v) => v !== null && v.tracks > 0 && v.width > 0 && v.height > 0, `${name}: the remote video plays`);
    // A video call is still a SIP call: encrypted to the server only, never end-to-end.
    assert.equal((await user.app.getByTestId('sip-call-security').innerText()).trim(), 'SIP call: encrypted to the server only');
    assert.doesNotMatch(await user.app.getByTestId('sip-call').innerText(), /end-to-end/i);
  }
  await ivy.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(ivy.app), sipCallOver(judd.app)]);

  // Again with video; this time Judd accepts with audio only: the video is refused in his answer
  // (port 0), no frame reaches him, and his call view shows no video.
  await ivy.app.getByTestId('sip-address').fill(judd.username);
  await ivy.app.getByTestId('sip-call-video').click();
  await sipPhaseIs(judd.app, 'incoming');
  await judd.app.getByTestId('sip-accept-video').waitFor({ timeout: 30_000 });   // video was offered
  await acceptIncoming(judd.app);                                                  // "accept audio only"
  await Promise.all([sipPhaseIs(ivy.app, 'connected'), sipPhaseIs(judd.app, 'connected')]);
  await Promise.all([audioArrives(ivy.app, 'Ivy, audio-only answer'), audioArrives(judd.app, 'Judd, audio only')]);
  await new Promise((resolve) => setTimeout(resolve, 2000));   // time for any video to have arrived
  const juddVideo = await videoStats(judd.app);
  assert.equal(juddVideo.framesDecoded, 0, `Judd decoded no video: ${JSON.stringify(juddVideo)}`);
  assert.ok(juddVideo.localVideoPort === null || juddVideo.localVideoPort === 0, `Judd's answer refuses video: ${JSON.stringify(juddVideo)}`);
  assert.equal(await remoteVideoShown(judd.app), null, 'Judd shows no remote video');
  assert.equal((await videoStats(ivy.app)).framesDecoded, 0, 'nor does Ivy receive any');
  assert.equal((await judd.app.getByTestId('sip-call-security').innerText()).trim(), 'SIP call: encrypted to the server only');
  await judd.app.getByTestId('sip-hang-up').click();
  await Promise.all([sipCallOver(ivy.app), sipCallOver(judd.app)]);
});
