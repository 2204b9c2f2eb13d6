// Internal: where a server's CPU went, from the .cpuprofile `node --cpu-prof`
// writes: self time per function (time sampled in the function itself, not
// in what it called), as a share of the time the process was busy.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The part of the profile to count, as milliseconds before the profile's end
 * (the process's exit): the clock of the process that measured the window
 * and the profile's own clock only agree on durations.
 */
export interface ProfileWindow {
  fromMsBeforeEnd: number;
  toMsBeforeEnd: number;
}

export interface SelfTime {
  /** `name (file:line)`, the file relative to node_modules or the checkout. */
  function: string;
  /** Which part of the stack it belongs to: a package, parley, node, gc, … */
  area: string;
  selfMs: number;
  /** Percent of busy time (everything but idle). */
  percent: number;
}

export interface ProfileSummary {
  /** The window's length and the main thread's busy time in it. */
  windowMs: number;
  busyMs: number;
  top: SelfTime[];
  /** Self time summed by area, largest first. */
  areas: { area: string; selfMs: number; percent: number }[];
}

function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 (program)';
  if (url === '') return 'V8/native';
  if (url.startsWith('node:')) return 'node';
  const packageMatch = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (packageMatch) return packageMatch[1]!;
  return 'parley';
}

function shortUrl(url: string): string {
  const packagePath = url.match(/node_modules\/(.+)$/);
  if (packagePath) return packagePath[1]!;
  const own = url.match(/\/(dist\/.+)$/);
  if (own) return own[1]!;
  return url.replace(/^file:\/\//, '');
}

/** Self time by function over `window` (start-up and shutdown left out), the `top` first. */
export async function summarizeProfile(file: string, window: ProfileWindow, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  const from = profile.endTime - window.fromMsBeforeEnd * 1000;
  const to = profile.endTime - window.toMsBeforeEnd * 1000;
  // timeDeltas[i] is the time from sample i-1 to sample i: the time spent where sample i was taken.
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < from || at > to) return;
    selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + delta);
  });
  const byFunction = new Map<string, { area: string; micros: number }>();
  let busyMicros = 0;
  for (const [nodeId, micros] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(nodeId)!.callFrame;
    if (functionName === '(idle)') continue;
    busyMicros += micros;
    const name = `${functionName || '(anonymous)'}${url ? ` (${shortUrl(url)}:${lineNumber + 1})` : ''}`;
    const entry = byFunction.get(name) ?? { area: areaOf(url, functionName), micros: 0 };
    entry.micros += micros;
    byFunction.set(name, entry);
  }
  const percent = (micros: number) => (100 * micros) / busyMicros;
  const areas = new Map<string, number>();
  for (const { area, micros } of byFunction.values()) areas.set(area, (areas.get(area) ?? 0) + micros);
  return {
    windowMs: (to - from) / 1000,
    busyMs: busyMicros / 1000,
    top: [...byFunction.entries()]
      .sort((a, b) => b[1].micros - a[1].micros)
      .slice(0, top)
      .map(([name, { area, micros }]) => ({ function: name, area, selfMs: micros / 1000, percent: percent(micros) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, micros]) => ({ area, selfMs: micros / 1000, percent: percent(micros) })),
  };
}
