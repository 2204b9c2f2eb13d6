// Internal: the WebSocket keep-alive, spread over its interval. Every open
// socket is pinged once per interval, and one that has not answered the
// previous ping by then is cut. Pinging every socket in one pass blocked
// the event loop for as long as the writes took: 10,000 sockets, some
// 250 ms every 15 s (bench:realtime's slowest moments, with the machine a
// third busy). So each socket is given one of the interval's slices, in
// turn as they connect, and each slice's sockets are pinged when it comes
// round: 10,000 sockets in 150 slices are some 70 pings each 100 ms.

/** How often a slice's sockets are pinged; the interval is cut into slices this long. */
export const SLICE_MS = 100;

export interface KeepAliveMember {
  /** Whether it answered the last ping (a pong sets it). */
  alive: boolean;
}

export interface KeepAlive<Member extends KeepAliveMember> {
  add(member: Member): void;
  remove(member: Member): void;
  /** Pings the next slice's members and cuts those that missed their last ping (the timer calls it; tests too). */
  tick(): void;
  stop(): void;
  /** How many slices the interval has. */
  readonly slices: number;
}

export interface KeepAliveOptions<Member> {
  intervalMs: number;
  ping: (member: Member) => void;
  cut: (member: Member) => void;
  /** Runs the timer (default); off, only tick() pings. */
  timer?: boolean;
}

export function createKeepAlive<Member extends KeepAliveMember>({ intervalMs, ping, cut, timer = true }: KeepAliveOptions<Member>): KeepAlive<Member> {
  const slices = Math.max(1, Math.round(intervalMs / SLICE_MS));
  const members = Array.from({ length: slices }, () => new Set<Member>());
  const sliceOf = new Map<Member, Set<Member>>();
  let next = 0;
  let current = 0;

  const tick = () => {
    const slice = members[current]!;
    current = (current + 1) % slices;
    for (const member of slice) {
      if (!member.alive) {
        cut(member);
        continue;
      }
      member.alive = false;
      ping(member);
    }
  };
  const interval = timer ? setInterval(tick, intervalMs / slices).unref() : undefined;

  return {
    slices,
    add(member) {
      const slice = members[next]!;
      next = (next + 1) % slices;
      slice.add(member);
      sliceOf.set(member, slice);
    },
    remove(member) {
      sliceOf.get(member)?.delete(member);
      sliceOf.delete(member);
    },
    tick,
    stop() {
      clearInterval(interval);
    },
  };
}
