// Internal: CPU time a process has used so far, from /proc (Linux), for the
// benchmark's CPU-per-request figures. CPU time is steadier than wall-clock
// throughput when other work shares the machine.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux architecture Node runs on

/** User + system CPU milliseconds of `pid`, or null where /proc is not there. */
export function readProcessCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const userTicks = Number(fields[11]);
    const systemTicks = Number(fields[12]);
    return ((userTicks + systemTicks) * 1000) / TICKS_PER_SECOND;
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

/**
 * CPU milliseconds so far of every process whose command name is `command`
 * (postgres, redis-server), summed, with what their ended children used
 * (a server's postmaster is credited with its exited backends and
 * autovacuum workers), so the sum only grows; null where /proc is not there.
 */
export function readCommandCpuMs(command: string): number | null {
  try {
    let sum = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, then cutime and cstime: the children it has waited for.
      sum += ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
    }
    return sum;
  } catch {
    return null;
  }
}
