// Internal: CPU time a process has used so far, from /proc (Linux), for the
// benchmark's CPU-per-request figures. CPU time is steadier than wall-clock
// throughput when other work shares the machine.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux architecture Node runs on

interface ProcessStat {
  command: string;
  parentPid: number;
  /** utime + stime, in ms. */
  ownCpuMs: number;
  /** cutime + cstime: what the children it has waited for used, in ms. */
  endedChildrenCpuMs: number;
}

/** One /proc/<pid>/stat line, parsed. */
function parseStat(stat: string): ProcessStat {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    parentPid: Number(fields[1]),
    // utime, stime, then cutime and cstime.
    ownCpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND,
    endedChildrenCpuMs: ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND,
  };
}

/** User + system CPU milliseconds of `pid`, or null where /proc is not there. */
export function readProcessCpuMs(pid: number): number | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ownCpuMs;
  } catch {
    return null;
  }
}

/** The machine's CPU time so far, busy and in all, in ms summed over its cores, or null where /proc is not there. */
export function readMachineCpuMs(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = fields[3]! + fields[4]!;
    return { busy: ((total - idle) * 1000) / TICKS_PER_SECOND, total: (total * 1000) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** Every process's /proc/<pid>/stat, parsed; throws where /proc is not there. */
function readProcessStats(): Map<number, ProcessStat> {
  const stats = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    stats.set(Number(entry), parseStat(stat));
  }
  return stats;
}

/**
 * CPU milliseconds so far of every process whose command name is `command`
 * (postgres, redis-server), summed, with what their ended children used
 * (a server's postmaster is credited with its exited backends and
 * autovacuum workers), so the sum only grows; null where /proc is not there.
 */
export function readCommandCpuMs(command: string): number | null {
  try {
    let sum = 0;
    for (const stat of readProcessStats().values()) if (stat.command === command) sum += stat.ownCpuMs + stat.endedChildrenCpuMs;
    return sum;
  } catch {
    return null;
  }
}

export interface ProcessTreeCpu {
  /** The process's own CPU ms. */
  self: number;
  /** What its exited children used (cutime + cstime). */
  ended: number;
  /** Each running child, named by its title (/proc/<pid>/cmdline: a PostgreSQL process's "postgres: walwriter", "postgres: <user> <database> … idle"). */
  children: { pid: number; title: string; cpuMs: number }[];
}

/**
 * CPU milliseconds so far of process `pid` and of each of its children: for
 * a PostgreSQL server's postmaster, every backend and background process of
 * that server and none of another's on the same machine (readCommandCpuMs
 * counts them all). Null where /proc is not there or the process is gone.
 */
export function readProcessTreeCpu(pid: number): ProcessTreeCpu | null {
  try {
    const stats = readProcessStats();
    const parent = stats.get(pid);
    if (!parent) return null;
    const children: ProcessTreeCpu['children'] = [];
    for (const [child, stat] of stats) {
      if (stat.parentPid !== pid) continue;
      let title = stat.command;
      try {
        title = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() || title;
      } catch {
        // ended meanwhile: its command name will do
      }
      children.push({ pid: child, title, cpuMs: stat.ownCpuMs + stat.endedChildrenCpuMs });
    }
    return { self: parent.ownCpuMs, ended: parent.endedChildrenCpuMs, children };
  } catch {
    return null;
  }
}

/** The sum of a process tree's CPU: it only grows, since an exited child's CPU moves to its parent's `ended`. */
export function treeTotalMs(tree: ProcessTreeCpu): number {
  return tree.self + tree.ended + tree.children.reduce((sum, child) => sum + child.cpuMs, 0);
}

/** The parent of process `pid` (a PostgreSQL backend's is its postmaster), or null where /proc does not say. */
export function readParentPid(pid: number): number | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).parentPid;
  } catch {
    return null;
  }
}
