// Local media helpers with a fake navigator.mediaDevices and Web Audio.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaDevices } from '../src/calls/media-devices.js';
import { manualClock, FakeStream, FakeTrack } from './helpers/fake-calls.mjs';

function fakeMediaDevices() {
  const asked = [];
  return {
    asked,
    async getUserMedia(constraints) {
      asked.push(constraints);
      return new FakeStream(Object.keys(constraints).map((kind) => new FakeTrack(kind)));
    },
    async getDisplayMedia() { throw new DOMException('cancelled', 'NotAllowedError'); },
    async enumerateDevices() {
      return [
        { kind: 'audioinput', deviceId: 'm', label: 'Mic' }, { kind: 'videoinput', deviceId: 'c', label: 'Cam' },
        { kind: 'audiooutput', deviceId: 's', label: 'Speaker' }, { kind: 'other', deviceId: 'x', label: '?' },
      ];
    },
  };
}

test('tracks from the chosen device, device lists by kind, a cancelled screen share is null', async () => {
  const mediaDevices = fakeMediaDevices();
  const devices = createMediaDevices({ env: { mediaDevices } });
  const mic = await devices.track('audio', 'm');
  assert.equal(mic.kind, 'audio');
  assert.deepEqual(mediaDevices.asked[0], { audio: { deviceId: { exact: 'm' } } });
  await devices.track('video');
  assert.deepEqual(mediaDevices.asked[1], { video: true });
  assert.deepEqual(await devices.list(), {
    audioinput: [{ deviceId: 'm', label: 'Mic' }], videoinput: [{ deviceId: 'c', label: 'Cam' }], audiooutput: [{ deviceId: 's', label: 'Speaker' }],
  });
  assert.equal(await devices.screenTrack(), null);
  await assert.rejects(createMediaDevices({ env: {} }).track('audio'), (error) => error.code === 'no_media');
});

test('the level meter reports the RMS level at 10 Hz and stops with its context', async () => {
  const clock = manualClock();
  let closed = false;
  class FakeAudioContext {
    createMediaStreamSource() { return { connect() {} }; }
    createAnalyser() { return { fftSize: 0, getFloatTimeDomainData(samples) { samples.fill(0.1); } }; }
    async resume() {}
    async close() { closed = true; }
  }
  const devices = createMediaDevices({ env: { AudioContext: FakeAudioContext, MediaStream: FakeStream, setInterval: clock.setInterval, clearInterval: clock.clearInterval } });
  const levels = [];
  const stop = devices.meter(new FakeTrack('audio'), (level) => levels.push(level));
  await clock.advance(1000);
  assert.equal(levels.length, 10);
  assert.ok(Math.abs(levels[0] - 0.4) < 1e-6);
  stop();
  await clock.advance(1000);
  assert.equal(levels.length, 10);
  assert.equal(closed, true);
  // Without Web Audio the meter is silent, not broken.
  assert.equal(typeof createMediaDevices({ env: {} }).meter(new FakeTrack('audio'), () => {}), 'function');
});
