// A companion process of the integration tests (Dovecot, coturn): spawned with its output kept,
// its exit watched and its log file read on demand; ready once a probe says so, else stopped
// with the tail of its output and log in the error; stopped with SIGTERM, then SIGKILL after 5 s,
// and its private directory removed.
//
//   const companion = spawnCompanion({ binary, args, dir, logPath });
//   await companion.waitReady({ name: 'dovecot', port, ready: () => imapGreets(port), notReady: 'no IMAP greeting' });
//   … companion.log() …
//   await companion.stop();

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

export const START_TIMEOUT_MS = 10_000;
export const STOP_TIMEOUT_MS = 5_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns `binary args` with stdout and stderr kept. Returns { process, log(), stop(),
 * waitReady({ name, port, ready, notReady }) }; `dir` is removed by stop(), `logPath` is what
 * log() reads ('' while it does not exist).
 */
export function spawnCompanion({ binary, args, dir, logPath }) {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((exitInfo = { code, signal })));
    child.on('error', (error) => resolve((exitInfo = { code: null, signal: null, error })));
  });
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (exitInfo === null) {
      child.kill('SIGTERM');
      const timeout = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
      if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
    }
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  // Polls ready() until it resolves true; an exit or START_TIMEOUT_MS without it stops the
  // process and throws "<name> <why> on 127.0.0.1:<port>" with the last 20 lines of output + log.
  const waitReady = async ({ name, port, ready, notReady }) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await ready())) {
      if (exitInfo !== null || Date.now() > deadline) {
        const why = exitInfo ? `exited (${JSON.stringify(exitInfo)})` : `${notReady} after ${START_TIMEOUT_MS} ms`;
        const tail = `${output}\n${log()}`.split('\n').slice(-20).join('\n');
        await stop();
        throw new Error(`${name} ${why} on 127.0.0.1:${port}:\n${tail}`);
      }
      await sleep(50);
    }
  };
  return { process: child, log, stop, waitReady };
}
