import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCallSignal, encodeCallSignal, checkCallSignal, remoteFingerprints, fingerprintMatches, newCallId,
  CallSignalError, CallSignalKinds, MAX_SDP_CHARS, MAX_CANDIDATE_CHARS,
} from '../src/calls/call-signal.js';

const call = '0123456789abcdef0123456789abcdef';
const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };

const valid = {
  invite: { media: 'video', e2ee: true },
  ringing: {},
  busy: {},
  decline: {},
  accept: { media: 'audio', e2ee: false },
  cancel: {},
  offer: { sdp },
  answer: { sdp },
  ice: { candidate },
  hold: { on: true },
  state: { camera: false, muted: true, screen: false },
  hangup: { reason: 'timeout' },
};

const refused = (text, reason) => assert.throws(() => parseCallSignal(text), (error) => error instanceof CallSignalError && (reason === undefined || error.reason === reason), text.slice(0, 80));

test('every documented kind round-trips through encode and parse', () => {
  assert.deepEqual([...CallSignalKinds].sort(), Object.keys(valid).sort());
  for (const [kind, fields] of Object.entries(valid)) {
    const text = encodeCallSignal({ v: 1, call, kind, ...fields });
    const parsed = parseCallSignal(text);
    assert.deepEqual({ ...parsed, ...(parsed.candidate ? { candidate: { ...parsed.candidate } } : {}) }, { v: 1, call, kind, ...fields });
    assert.ok(Object.isFrozen(parsed));
  }
  assert.equal(parseCallSignal(encodeCallSignal({ v: 1, call, kind: 'ice', candidate: null })).candidate, null);
});

test('unknown kinds, unknown or missing fields and wrong types are refused whole', () => {
  const base = (extra) => JSON.stringify({ v: 1, call, ...extra });
  refused(base({ kind: 'transfer' }), 'kind');
  refused(base({ kind: '__proto__' }), 'kind');
  refused(base({ kind: 'ringing', extra: 1 }), 'unknown_field:extra');
  refused(base({ kind: 'invite', media: 'video' }), 'field:e2ee');
  refused(base({ kind: 'invite', media: 'screen', e2ee: true }), 'field:media');
  refused(base({ kind: 'invite', media: 'audio', e2ee: 'yes' }), 'field:e2ee');
  refused(base({ kind: 'hold', on: 1 }), 'field:on');
  refused(base({ kind: 'hangup', reason: 'because' }), 'field:reason');
  refused(base({ kind: 'state', camera: true, muted: false }), 'field:screen');
  refused(base({ kind: 'ice', candidate: { ...candidate, extra: 'x' } }), 'field:candidate');
  refused(base({ kind: 'ice', candidate: { ...candidate, sdpMLineIndex: -1 } }), 'field:candidate');
  refused(base({ kind: 'ice', candidate: [] }), 'field:candidate');
  refused(JSON.stringify({ v: 2, call, kind: 'busy' }), 'version');
  refused(JSON.stringify([1, 2]), 'not_an_object');
  refused('{"v":1', 'json');
  refused('null', 'not_an_object');
  assert.throws(() => parseCallSignal(42), CallSignalError);
});

test('the call id is exactly 32 lower-case hex digits', () => {
  for (const bad of ['0123456789ABCDEF0123456789ABCDEF', call.slice(1), `${call}0`, `${call.slice(0, 31)}g`, 5, null]) {
    refused(JSON.stringify({ v: 1, call: bad, kind: 'busy' }), 'call_id');
  }
  const id = newCallId();
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.notEqual(id, newCallId());
  assert.equal(newCallId(() => new Uint8Array(16).fill(0xab)), 'ab'.repeat(16));
});

test('strings are bounded: SDP ≤ 48 KiB starting with v=0, candidate ≤ 1 KiB, whole signal ≤ 60000 bytes', () => {
  const long = `v=0${'x'.repeat(MAX_SDP_CHARS)}`;
  refused(JSON.stringify({ v: 1, call, kind: 'offer', sdp: long }), 'field:sdp');
  refused(JSON.stringify({ v: 1, call, kind: 'offer', sdp: 'o=- 1 2 IN IP4 0.0.0.0\r\nv=0' }), 'field:sdp');
  refused(JSON.stringify({ v: 1, call, kind: 'answer', sdp: '' }), 'field:sdp');
  assert.equal(parseCallSignal(JSON.stringify({ v: 1, call, kind: 'offer', sdp: `v=0${'x'.repeat(MAX_SDP_CHARS - 3)}` })).sdp.length, MAX_SDP_CHARS);
  refused(JSON.stringify({ v: 1, call, kind: 'ice', candidate: { ...candidate, candidate: 'c'.repeat(MAX_CANDIDATE_CHARS + 1) } }), 'field:candidate');
  refused(JSON.stringify({ v: 1, call, kind: 'ringing', pad: 'x'.repeat(60_000) }), 'too_long');
  // This side refuses to send what the peer would refuse.
  assert.throws(() => encodeCallSignal({ v: 1, call, kind: 'offer', sdp: long }), CallSignalError);
  assert.throws(() => checkCallSignal({ v: 1, call, kind: 'busy', extra: true }), CallSignalError);
});

test('remoteFingerprints reads every a=fingerprint line, session and media level, without duplicates', () => {
  const sha256 = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
  const sha1 = '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33';
  const text = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=fingerprint:sha-256 ${sha256}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', `a=fingerprint:SHA-256 ${sha256.toLowerCase()}`,
    'm=video 9 UDP/TLS/RTP/SAVPF 96', `a=fingerprint:sha-1 ${sha1}`,
    'a=fingerprint:sha-256 not-hex', 'a=fingerprint:sha-256 AB:CD', '',
  ].join('\r\n');
  assert.deepEqual(remoteFingerprints(text).map((entry) => ({ ...entry })), [
    { algorithm: 'sha-256', value: sha256 },
    { algorithm: 'sha-1', value: sha1.toUpperCase() },
  ]);
  assert.deepEqual(remoteFingerprints('v=0\r\n'), []);
  assert.deepEqual(remoteFingerprints(null), []);
  const fingerprints = remoteFingerprints(text);
  assert.equal(fingerprintMatches(fingerprints, { fingerprint: sha256.toLowerCase(), fingerprintAlgorithm: 'SHA-256' }), true);
  assert.equal(fingerprintMatches(fingerprints, { fingerprint: sha256, fingerprintAlgorithm: 'sha-1' }), false);
  assert.equal(fingerprintMatches(fingerprints, { fingerprint: sha256.replace('AB', 'AC'), fingerprintAlgorithm: 'sha-256' }), false);
  assert.equal(fingerprintMatches(fingerprints, null), false);
  assert.equal(fingerprintMatches([], { fingerprint: sha256, fingerprintAlgorithm: 'sha-256' }), false);
});
