// Internal: time for the tests of the stores. In this process a store reads
// a clock it is given (src/db/clock.ts), which a test moves on at once; in
// Redis, Redis's clock decides, and a test can only let real time pass.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../src/db/clock.js';

export interface TestTime {
  /** The time, in ms since the epoch: the clock to give the app or a store. */
  now: Clock;
  /** Lets `ms` pass: at once for a manual clock, by waiting for real time. */
  pass(ms: number): Promise<void>;
}

/** A clock that stands still until the test moves it on: a TTL, a window or a refill passes at once. */
export function manualTime(start = Date.now()): TestTime & { advance(ms: number): void } {
  let now = start;
  const advance = (ms: number) => {
    if (!(ms >= 0)) throw new Error(`a clock only moves on: advance(${ms})`);
    now += ms;
  };
  return {
    now: () => now,
    advance,
    async pass(ms) {
      advance(Math.max(0, ms));
    },
  };
}

/** Real time, where Redis's clock decides what has passed: nothing there tells when a bucket has refilled, so this waits. */
export const realTime: TestTime = {
  now: () => Date.now(),
  pass: (ms) => sleep(Math.max(0, ms)),
};

/**
 * Resolves once `check` holds, asking every few ms: for what Redis decides
 * by its own clock (a key's expiry), the moment it happens rather than a
 * fixed sleep after it. Rejects, naming `what`, if the check made at
 * `deadline` (Date.now()) still finds it false.
 */
export async function until(what: string, check: () => Promise<boolean>, deadline: number): Promise<void> {
  for (;;) {
    const began = Date.now();
    if (await check()) return;
    if (began >= deadline) throw new Error(`${what}: not by the deadline`);
    // The last check begins at the deadline (or as late after it as a timer fires, as a fixed sleep would).
    await sleep(Math.min(5, deadline - began));
  }
}
