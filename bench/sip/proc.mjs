// CPU time of a process and its descendants (Kamailio's workers are children of its main
// process), from bench/calls/proc-cpu.mjs's reading of /proc.

import { ticksPerSecond, treeTicks } from '../calls/proc-cpu.mjs';

export { ticksPerSecond };

/** Ticks of `root` and every descendant (threads are counted in their process's figures). */
export function processTreeTicks(root, { includeRoot = true } = {}) {
  let ticks = 0;
  for (const value of treeTicks(root, { includeRoot }).values()) ticks += value;
  return ticks;
}
