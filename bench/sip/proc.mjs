// CPU time of a process and its descendants from /proc (proc(5): utime + stime, fields 14 and
// 15 of /proc/<pid>/stat, in clock ticks). Kamailio's workers are children of its main process.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Ticks of `root` and every descendant (threads are counted in their process's figures). */
export function processTreeTicks(root, { includeRoot = true } = {}) {
  const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(statOf).filter(Boolean);
  const children = new Map();
  for (const s of all) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s);
  }
  let ticks = 0;
  const rootStat = all.find((s) => s.pid === root);
  if (includeRoot && rootStat) ticks += rootStat.ticks;
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const s = stack.pop();
    ticks += s.ticks;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return ticks;
}
