// Keeps the SIP edge benchmark (bench/sip) working: runs `node bench/sip/run.mjs --quick` (a
// short REGISTER run against each Kamailio configuration and a few bridged calls through
// rtpengine, with the real secms-server, Kamailio, rtpengine and sipp) and checks that it
// completes and reports non-zero rates. No timing and no loss threshold is asserted: the
// figures live in bench/README.md, never in tests (DESIGN.md §9).
//
//   SECMS_SERVER_BIN=… node --test --test-concurrency=1 tests/sip/sip-bench-smoke.test.mjs

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/secms-server.mjs';

test('bench/sip/run.mjs --quick completes and reports non-zero REGISTER rates and relayed media', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secms-sip-bench-smoke-'));
  try {
    const json = path.join(dir, 'results.json');
    const run = await new Promise((resolve) => {
      execFile(process.execPath, [path.join(repoRoot, 'bench', 'sip', 'run.mjs'), '--quick', '--json', json],
        { cwd: repoRoot, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
    });
    assert.equal(run.code, 0, `run.mjs --quick failed (exit ${run.code}); a missing kamailio, rtpengine or sipp is installed by scripts/install-deps.sh\n${run.stderr.slice(-3000)}`);
    assert.match(run.stdout, /REGISTER requests\/s/);
    const results = JSON.parse(await readFile(json, 'utf8'));

    const modes = new Set(results.register.map((r) => r.mode));
    assert.deepEqual([...modes].sort(), ['ephemeral', 'hmac-only', 'static']);
    for (const r of results.register) {
      assert.ok(r.registrations > 0, `${r.mode}: no registration succeeded`);
      assert.ok(r.requestsPerSecond > 0, `${r.mode}: zero REGISTER rate`);
      assert.ok(r.kamailioCpuS >= 0, `${r.mode}: Kamailio CPU not read`);
    }

    assert.ok(results.calls.length > 0, 'no call step ran');
    for (const c of results.calls) {
      assert.equal(c.up, c.calls, `${c.calls} calls: only ${c.up} were up in rtpengine`);
      assert.ok(c.callerPps > 0, `${c.calls} calls: rtpengine received no media from the callers`);
      assert.ok(c.calleePps > 0, `${c.calls} calls: rtpengine received no media back from the far end`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
