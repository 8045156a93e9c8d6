// DTMF in a call (web/src/calls/call-controls.js): tones go to the audio sender's RTCDTMFSender
// behind those still queued, and the store's dtmfSent grows only as the sender plays each tone
// out (its tonechange events, W3C WebRTC §7.2), never when a tone is merely queued.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCallControls } from '../src/calls/call-controls.js';

/** An RTCDTMFSender: insertDTMF replaces the buffer; play() sends the next tone as Chromium does. */
class FakeDtmfSender extends EventTarget {
  constructor() {
    super();
    this.canInsertDTMF = true;
    this.toneBuffer = '';
    this.inserted = [];
    this.listeners = 0;
  }

  insertDTMF(tones, duration, gap) {
    this.toneBuffer = tones;
    this.inserted.push([tones, duration, gap]);
  }

  addEventListener(type, listener) {
    if (type === 'tonechange') this.listeners += 1;
    super.addEventListener(type, listener);
  }

  removeEventListener(type, listener) {
    if (type === 'tonechange') this.listeners -= 1;
    super.removeEventListener(type, listener);
  }

  /** The next tone starts (or, with the buffer empty, the run ends with tone ''). */
  play() {
    const tone = this.toneBuffer.slice(0, 1);
    this.toneBuffer = this.toneBuffer.slice(1);
    this.dispatchEvent(Object.assign(new Event('tonechange'), { tone }));
    return tone;
  }
}

function setup() {
  const dtmf = new FakeDtmfSender();
  const session = {
    // Only the audio sender has an RTCDTMFSender; the video sender's dtmf is null.
    pc: { getSenders: () => [{ track: { kind: 'video' }, dtmf: null }, { track: { kind: 'audio' }, dtmf }] },
    setRemotePlayback() {},
    replaceTrack: async () => {},
  };
  const updates = [];
  const store = { update: (id, changes) => updates.push(changes), get: () => ({ devices: { selected: {} } }) };
  let current = true;
  const controls = createCallControls({
    call: { id: 'a'.repeat(32) }, devices: { meter: () => () => {} }, store, env: { MediaStream: class {} },
    signal: () => {}, isCurrent: () => current,
  });
  const sent = () => updates.filter((changes) => 'dtmfSent' in changes).map((changes) => changes.dtmfSent);
  return { dtmf, session, controls, sent, end: () => { current = false; } };
}

test('a queued tone is not "sent": dtmfSent grows with each tone played out', () => {
  const { dtmf, session, controls, sent } = setup();
  controls.attach(session);
  assert.equal(controls.sendDtmf('12#'), true);
  assert.deepEqual(dtmf.inserted, [['12#', 100, 70]]);
  assert.deepEqual(sent(), [], 'nothing is reported sent while the tones are only queued');
  assert.equal(dtmf.play(), '1');
  assert.deepEqual(sent(), ['1']);
  // More keys while tones are still queued: appended behind them, not replacing them.
  assert.equal(controls.sendDtmf('a*'), true);
  assert.deepEqual(dtmf.inserted.at(-1), ['2#A*', 100, 70]);
  for (const tone of ['2', '#', 'A', '*']) assert.equal(dtmf.play(), tone);
  assert.equal(dtmf.play(), '', 'the run ends');
  assert.deepEqual(sent(), ['1', '12', '12#', '12#A', '12#A*'], 'one tone per tonechange, the end event adds nothing');
  assert.equal(dtmf.listeners, 1, 'one listener however many times keys were pressed');
});

test('a pause is not a tone, and dtmfSent keeps the last 64 tones', () => {
  const { dtmf, session, controls, sent } = setup();
  controls.attach(session);
  assert.equal(controls.sendDtmf('1,2'), true);
  while (dtmf.play() !== '');
  assert.deepEqual(sent(), ['1', '12']);
  for (let i = 0; i < 70; i += 1) {
    controls.sendDtmf('9');
    dtmf.play();
  }
  assert.equal(sent().at(-1).length, 64);
  assert.equal(sent().at(-1), '9'.repeat(64));
});

test('tones are refused without a session, an audio DTMF sender, or a valid tone string', () => {
  const { dtmf, session, controls, sent } = setup();
  assert.equal(controls.sendDtmf('1'), false, 'no session yet');
  controls.attach(session);
  for (const bad of ['<script>', '', '1'.repeat(65), 'E', null, 5]) assert.equal(controls.sendDtmf(bad), false, `refused: ${bad}`);
  dtmf.canInsertDTMF = false;
  assert.equal(controls.sendDtmf('1'), false, 'the sender cannot insert tones now');
  assert.deepEqual(dtmf.inserted, []);
  const silent = setup();
  silent.controls.attach({ ...silent.session, pc: { getSenders: () => [{ track: { kind: 'video' }, dtmf: null }] } });
  assert.equal(silent.controls.sendDtmf('1'), false, 'no audio sender');
  assert.deepEqual(sent(), []);
});

test('tones still queued when the call ends are never reported sent', () => {
  const { dtmf, session, controls, sent, end } = setup();
  controls.attach(session);
  controls.sendDtmf('123');
  dtmf.play();
  end();
  controls.stop();
  assert.equal(dtmf.listeners, 0, 'the listener goes with the call');
  dtmf.play();
  dtmf.play();
  assert.deepEqual(sent(), ['1']);
});
