// Interop of the browser's SIP phone with a real softphone: baresip registers over UDP with a
// phone credential made through the API, the app user (headless Chromium, SIP.js over the
// edge's WebSocket) calls it and it calls the app user; media through rtpengine (DTLS-SRTP
// toward the browser, plain RTP toward baresip). Run inside a loopback-only network namespace:
//
//   SECMS_SERVER_BIN=… bash scripts/loopback-netns.sh node --test --test-concurrency=1 tests/sip/sip-baresip.test.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchCallBrowser } from '../calls/helpers/browser.mjs';
import { login, register, request } from '../helpers/secms-server.mjs';
import { startBaresip } from './helpers/baresip.mjs';
import {
  acceptIncoming, audioArrives, audioStats, dial, inboundSoundArrives, lastHistoryIs, phoneUser, sipCallOver, sipPhaseIs, startSipStack, until,
} from './helpers/sip-app.mjs';

const PASSWORD = 'correct horse battery staple 42';
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

// A new account that owns one phone credential made through the real API: { owner, credentials }.
async function phoneOwner(prefix) {
  const owner = `${prefix}${Date.now().toString(36)}`;
  assert.equal((await register(stack.server, owner, PASSWORD)).status, 201);
  const { cookie } = await login(stack.server, owner, PASSWORD);
  const created = await request(stack.server, 'POST', '/api/v1/sip/devices', { cookie, json: { label: 'baresip' } });
  assert.equal(created.status, 201, created.body);
  return { owner, credentials: created.json.credentials };
}

// Adds what baresip (with its SIP trace) and the edge said to a failure's message.
async function withLogs(phone, body) {
  try {
    await body();
  } catch (error) {
    error.message += `\n--- baresip ---\n${phone.log().slice(-8000)}\n--- kamailio ---\n${(await stack.edge.log()).slice(-6000)}`;
    throw error;
  }
}

const directionIs = (page, direction, what) =>
  until(() => audioStats(page), (s) => s?.direction === direction, `${what}: audio direction ${direction}`);

test('baresip with a phone credential: called by the browser and calling it, audio both ways, DTMF, hold, hang-up from each side', async (t) => {
  const user = await phoneUser(t, browser, stack.server.origin, 'ivan');
  // The phone's owner: another account, whose only registered contact is baresip, with its
  // credential made through the real API.
  const owner = `judy${Date.now().toString(36)}`;
  assert.equal((await register(stack.server, owner, PASSWORD)).status, 201);
  const { cookie } = await login(stack.server, owner, PASSWORD);
  const created = await request(stack.server, 'POST', '/api/v1/sip/devices', { cookie, json: { label: 'baresip' } });
  assert.equal(created.status, 201, created.body);
  const { credentials } = created.json;
  const phone = await startBaresip({ credentials, edgeUdpPort: stack.edge.udpPort });
  t.after(() => phone.stop());
  await phone.waitRegistered();

  try {
    // The browser calls the phone's owner by name; baresip rings and answers.
    await dial(user.app, owner);
    const incoming = await phone.waitEvent('CALL_INCOMING');
    assert.ok(incoming, 'baresip rings');
    await phone.command('accept');
    await sipPhaseIs(user.app, 'connected');
    await phone.waitEvent('CALL_ESTABLISHED');

    // Audio both ways: Chromium's inbound bytes and level grow (baresip's sine wave); baresip
    // decodes packets from the browser, and they carry sound (Chromium's fake microphone beeps).
    await audioArrives(user.app, 'browser from baresip');
    await inboundSoundArrives(user.app, 'browser hears baresip');
    const decodedAtStart = await phone.decodedBytes();
    await until(() => phone.decodedBytes(), (n) => n > decodedAtStart + 8000, 'baresip decodes audio from the browser');
    await until(() => phone.decodedPeak(), (peak) => peak > 1000, 'baresip hears sound from the browser');

    // DTMF from the browser's keypad reaches baresip.
    await user.app.getByTestId('sip-keypad').click();
    await user.app.getByTestId('dtmf-5').click();
    const dtmf = await phone.waitEvent('CALL_DTMF_START', (e) => String(e.param).includes('5'));
    assert.ok(dtmf);

    // Hold and resume from the browser; baresip answers the re-INVITEs (the browser's direction
    // is what baresip's answer allowed).
    await user.app.getByTestId('sip-hold').click();
    await directionIs(user.app, 'sendonly', 'browser holds');
    await user.app.getByTestId('sip-hold').click();
    await directionIs(user.app, 'sendrecv', 'browser resumes');
    await audioArrives(user.app, 'browser after resume');

    // Hold and resume from baresip, the callee (its re-INVITEs, through the edge, to the
    // browser), then the call goes on: the edge still routes baresip's ACKs and later requests.
    await phone.command('hold');
    await directionIs(user.app, 'recvonly', 'baresip holds');
    await phone.command('resume');
    await directionIs(user.app, 'sendrecv', 'baresip resumes');
    await audioArrives(user.app, 'browser after baresip resumes');

    // baresip hangs up.
    await phone.command('hangup');
    await sipCallOver(user.app);
    await lastHistoryIs(user.app, 'answered', 'outgoing');
    await phone.waitEvent('CALL_CLOSED');

    // baresip calls the browser user; the browser accepts; audio; the browser hangs up.
    const closedBefore = phone.events.filter((e) => e.type === 'CALL_CLOSED').length;
    await phone.command('dial', user.sipUser);
    await sipPhaseIs(user.app, 'incoming');
    await acceptIncoming(user.app);
    await sipPhaseIs(user.app, 'connected');
    await audioArrives(user.app, 'browser, called by baresip');
    await inboundSoundArrives(user.app, 'browser hears baresip, second call');
    const decoded = await phone.decodedBytes();
    await until(() => phone.decodedBytes(), (n) => n > decoded + 8000, 'baresip decodes audio, second call');
    // The growth above is in this call's dump, now the newest file.
    await until(() => phone.decodedPeak(), (peak) => peak > 1000, 'baresip hears sound, second call');
    // The called browser holds and resumes (a re-INVITE from the callee this time), then hangs
    // up: the edge still knows both parties of the call after the callee's re-INVITE.
    await user.app.getByTestId('sip-hold').click();
    await directionIs(user.app, 'sendonly', 'called browser holds');
    await user.app.getByTestId('sip-hold').click();
    await directionIs(user.app, 'sendrecv', 'called browser resumes');
    await audioArrives(user.app, 'called browser after resume');
    await user.app.getByTestId('sip-hang-up').click();
    await sipCallOver(user.app);
    await until(async () => phone.events.filter((e) => e.type === 'CALL_CLOSED').length, (n) => n > closedBefore, 'baresip sees the BYE');
    await lastHistoryIs(user.app, 'answered', 'incoming');
  } catch (error) {
    // What baresip (with its SIP trace) and the edge said, to tell which side went wrong.
    error.message += `\n--- baresip ---\n${phone.log().slice(-6000)}\n--- kamailio ---\n${(await stack.edge.log()).slice(-6000)}`;
    throw error;
  }
});

test('blind transfer from the browser: baresip follows the REFER to another browser user, sound flows, the transferor\'s call ends', async (t) => {
  const [alice, carol] = await Promise.all([phoneUser(t, browser, stack.server.origin, 'xfera'), phoneUser(t, browser, stack.server.origin, 'xferc')]);
  const { owner, credentials } = await phoneOwner('xferb');
  const phone = await startBaresip({ credentials, edgeUdpPort: stack.edge.udpPort });
  t.after(() => phone.stop());
  await phone.waitRegistered();

  await withLogs(phone, async () => {
    await dial(alice.app, owner);
    await phone.waitEvent('CALL_INCOMING');
    await phone.command('accept');
    await sipPhaseIs(alice.app, 'connected');
    await audioArrives(alice.app, 'transferor hears baresip');

    // Alice transfers baresip to Carol by her bare name (completed with the SIP domain).
    await alice.app.getByTestId('sip-transfer-open').click();
    await alice.app.locator('#sip-transfer').fill(carol.username);
    await alice.app.getByTestId('sip-transfer').click();

    // baresip takes the REFER and calls Carol with its own device credential; Carol rings.
    await sipPhaseIs(carol.app, 'incoming');
    const title = await carol.app.getByTestId('sip-incoming-title').innerText();
    assert.match(title, new RegExp(`${owner.toLowerCase()}@${stack.edge.domain}`), 'the transferred call comes from the phone\'s owner');
    // Alice's call ended once baresip accepted the REFER (202): she hung up.
    await sipCallOver(alice.app);
    await lastHistoryIs(alice.app, 'answered', 'outgoing');

    await acceptIncoming(carol.app);
    await sipPhaseIs(carol.app, 'connected');
    // Sound both ways between baresip and Carol.
    await audioArrives(carol.app, 'Carol from baresip');
    await inboundSoundArrives(carol.app, 'Carol hears baresip');
    const decoded = await phone.decodedBytes();
    await until(() => phone.decodedBytes(), (n) => n > decoded + 8000, 'baresip decodes audio from Carol');
    await until(() => phone.decodedPeak(), (peak) => peak > 1000, 'baresip hears sound from Carol');
    // Alice is not part of it: still no call on her phone.
    assert.ok(['none', 'ended'].includes(await alice.app.evaluate(() => document.documentElement.dataset.sipCallPhase)));

    await carol.app.getByTestId('sip-hang-up').click();
    await sipCallOver(carol.app);
    await lastHistoryIs(carol.app, 'answered', 'incoming');
  });
});

test('a phone over TLS: baresip registers to the edge\'s TLS port and is called by the browser, sound both ways', async (t) => {
  const user = await phoneUser(t, browser, stack.server.origin, 'tlsa');
  const { owner, credentials } = await phoneOwner('tlsb');
  const tlsProxy = credentials.proxies.find((p) => p.transport === 'tls');
  assert.ok(tlsProxy, `the credentials offer a TLS proxy: ${JSON.stringify(credentials.proxies)}`);
  const tlsPort = Number(tlsProxy.address.split(':').pop());
  assert.equal(tlsPort, stack.edge.tlsPort);
  const phone = await startBaresip({
    credentials, edgeTlsPort: tlsPort, caFile: path.join(stack.dataDir, 'tls', 'cert.pem'),
  });
  t.after(() => phone.stop());

  await withLogs(phone, async () => {
    await phone.waitRegistered();
    // baresip's REGISTER went over TLS (its trace names the transport of what it sent).
    assert.match(phone.log(), /REGISTER sip:[^\s]+ SIP\/2\.0[\s\S]*?Via: SIP\/2\.0\/TLS /);
    assert.doesNotMatch(phone.log(), /Via: SIP\/2\.0\/UDP /);

    await dial(user.app, owner);
    await phone.waitEvent('CALL_INCOMING');
    // The INVITE reached baresip over its TLS connection.
    assert.match(phone.log(), /INVITE sip:[^\s]+ SIP\/2\.0[\s\S]*?Via: SIP\/2\.0\/TLS /);
    await phone.command('accept');
    await sipPhaseIs(user.app, 'connected');
    await audioArrives(user.app, 'browser from baresip over TLS');
    await inboundSoundArrives(user.app, 'browser hears baresip over TLS');
    const decoded = await phone.decodedBytes();
    await until(() => phone.decodedBytes(), (n) => n > decoded + 8000, 'baresip (TLS) decodes audio from the browser');
    await until(() => phone.decodedPeak(), (peak) => peak > 1000, 'baresip (TLS) hears sound from the browser');
    await user.app.getByTestId('sip-hang-up').click();
    await sipCallOver(user.app);
    await phone.waitEvent('CALL_CLOSED');
  });
});
