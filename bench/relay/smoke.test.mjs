// Keeps the relay benchmark working: runs the load generator in --smoke mode (1 pair, 50 frames,
// at most 1 s, bodies of 100 B and 1 KiB) against the real secms-server — the binary the other
// integration tests use ($SECMS_SERVER_BIN, else the dev build) — and against the reference relay,
// and checks that every frame was relayed once, in order, unchanged. No timing is asserted:
// performance lives in bench/README.md, never in tests (DESIGN.md §9).
//
//   node --test bench/relay/smoke.test.mjs

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverBinary } from '../../tests/helpers/secms-server.mjs';

const generator = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-generator.mjs');
const SMOKE_FRAMES = 50;

function runSmoke(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [generator, '--smoke', '--json', '--size', '100,1024', ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

function assertRelayedInOrder(report) {
  assert.equal(report.results.length, 2, 'one run per body size');
  for (const r of report.results) {
    const where = `${r.label} body ${r.bodySize} B`;
    assert.equal(r.pairs, 1, where);
    assert.equal(r.check.sent, SMOKE_FRAMES, `${where}: sent`);
    assert.equal(r.check.received, SMOKE_FRAMES, `${where}: received`);
    assert.deepEqual(r.check.perPairReceived, [SMOKE_FRAMES], `${where}: per pair`);
    assert.equal(r.check.lost, 0, `${where}: lost`);
    assert.equal(r.check.outOfOrder, 0, `${where}: out of order`);
    assert.equal(r.check.corrupt, 0, `${where}: corrupt`);
    assert.deepEqual(r.check.serverErrors, {}, `${where}: server errors`);
    assert.deepEqual(r.check.channelEnded, [], `${where}: channel ended`);
    assert.deepEqual(r.check.socketsClosed, [], `${where}: sockets closed`);
    assert.equal(r.framesRelayed, SMOKE_FRAMES, `${where}: counted in the window`);
  }
}

test('smoke: load generator relays 50 frames in order through secms-server', { timeout: 90_000 }, async () => {
  const { code, stdout, stderr } = await runSmoke(['--target', 'secms', '--server-bin', serverBinary]);
  assert.equal(code, 0, `load generator failed (${code}):\n${stderr}\n${stdout}`);
  const report = JSON.parse(stdout);
  assert.equal(report.binary, serverBinary);
  assertRelayedInOrder(report);
  assert.equal(report.stop.signal, null, 'secms-server stopped cleanly on SIGTERM');
});

test('smoke: load generator relays 50 frames in order through the reference relay', { timeout: 90_000 }, async () => {
  const { code, stdout, stderr } = await runSmoke(['--target', 'reference']);
  assert.equal(code, 0, `load generator failed (${code}):\n${stderr}\n${stdout}`);
  assertRelayedInOrder(JSON.parse(stdout));
});
