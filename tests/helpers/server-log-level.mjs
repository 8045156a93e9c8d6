// Side-effect module: makes secms-server.mjs start the server at another log level.
// Import it FIRST (before anything that imports secms-server.mjs), with the level in the query:
//
//   import '../helpers/server-log-level.mjs?level=trace';
//
// Why: startServer() always passes `--log-level info` and the server refuses a second
// --log-level, while a test that proves nothing secret is logged wants the most verbose level.
// secms-server.mjs reads SECMS_SERVER_BIN when it is first evaluated (ES modules evaluate their
// imports in order), so this module points it at a small wrapper that swaps the value following
// --log-level and then execs the real binary (same process: stop()'s signals reach the server).

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const level = new URL(import.meta.url).searchParams.get('level') ?? 'trace';
if (!['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'].includes(level)) throw new Error(`log level ${level}`);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const realBinary = process.env.SECMS_SERVER_BIN ?? path.join(repoRoot, 'build', 'dev', 'server', 'app', 'secms-server');
const dir = mkdtempSync(path.join(os.tmpdir(), 'secms-log-level-'));
const wrapper = path.join(dir, 'secms-server');
writeFileSync(wrapper, `#!/bin/sh
# Test wrapper: replaces the argument after --log-level, then becomes the real server.
prev=""
for arg do
  shift
  if [ "$prev" = "--log-level" ]; then set -- "$@" "$SECMS_TEST_LOG_LEVEL"; else set -- "$@" "$arg"; fi
  prev="$arg"
done
exec "$SECMS_REAL_SERVER_BIN" "$@"
`);
chmodSync(wrapper, 0o755);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
process.env.SECMS_REAL_SERVER_BIN = realBinary;
process.env.SECMS_TEST_LOG_LEVEL = level;
process.env.SECMS_SERVER_BIN = wrapper;

export const serverLogLevel = level;
