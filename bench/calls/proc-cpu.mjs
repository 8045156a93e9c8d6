// CPU time of a process tree from /proc (Linux): user + system time of every descendant of a
// pid, in seconds, read from /proc/<pid>/stat (proc(5): fields 14 utime and 15 stime, in clock
// ticks). Used to charge a benchmark's Chromium processes (browser, renderers, GPU/utility and
// network services) with the CPU they burn over a fixed wall time.

import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields are counted after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null; // exited meanwhile
  }
}

/** Map pid → CPU ticks of every process below `root` (and of `root` itself with includeRoot). */
export function treeTicks(root = process.pid, { includeRoot = false } = {}) {
  const all = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(statOf).filter(Boolean);
  const children = new Map();
  for (const stat of all) {
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(stat);
  }
  const out = new Map();
  const rootStat = includeRoot ? all.find((stat) => stat.pid === root) : undefined;
  if (rootStat) out.set(rootStat.pid, rootStat.ticks);
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const stat = stack.pop();
    out.set(stat.pid, stat.ticks);
    stack.push(...(children.get(stat.pid) ?? []));
  }
  return out;
}

/** CPU seconds spent between two treeTicks() snapshots by the processes present in both. */
export function cpuSecondsBetween(before, after) {
  let ticks = 0;
  for (const [pid, value] of after) if (before.has(pid)) ticks += value - before.get(pid);
  return ticks / ticksPerSecond;
}
