import type { CloseReason } from './closes.js';

/** How a client holds its subscriptions. */
export type Transport = 'websocket' | 'http';

/**
 * What the subscription transports of an instance hold and have done:
 * kept here, as plain counts, by the transports; read by /metrics when
 * Prometheus scrapes (observability/metrics.ts), so an event costs a few
 * increments. It also holds the bound on sockets per user, which both
 * transports share.
 */
export class RealtimeActivity {
  /** Open WebSockets and HTTP subscription streams. */
  readonly openSockets: Record<Transport, number> = { websocket: 0, http: 0 };
  /** Subscriptions running, by root field. */
  readonly subscriptions = new Map<string, number>();
  /** Events sent, by root field. */
  readonly delivered = new Map<string, number>();
  /** Events dropped instead of sent (typing, while the client was behind), by root field. */
  readonly dropped = new Map<string, number>();
  /** Sockets and streams the server ended, by reason. */
  readonly closes = new Map<CloseReason, number>();
  /** Of the `resume` closes, those of clients that fell behind (a send buffer or a queue full). */
  slowConsumerCloses = 0;
  private readonly socketsByUser = new Map<number, number>();

  /** @param socketsPerUser the most sockets one user may hold on this instance (REALTIME_SOCKETS_PER_USER) */
  constructor(private readonly socketsPerUser: number) {}

  /** Counts a new socket of `userId`; false (and nothing counted) when they hold the most already. */
  openSocket(userId: number, transport: Transport): boolean {
    const held = this.socketsByUser.get(userId) ?? 0;
    if (held >= this.socketsPerUser) return false;
    this.socketsByUser.set(userId, held + 1);
    this.openSockets[transport] += 1;
    return true;
  }

  /** Forgets a socket openSocket counted. */
  closeSocket(userId: number, transport: Transport): void {
    const held = this.socketsByUser.get(userId) ?? 0;
    if (held <= 1) this.socketsByUser.delete(userId);
    else this.socketsByUser.set(userId, held - 1);
    this.openSockets[transport] -= 1;
  }

  subscribed(field: string): void {
    add(this.subscriptions, field, 1);
  }

  unsubscribed(field: string): void {
    add(this.subscriptions, field, -1);
  }

  sent(field: string): void {
    add(this.delivered, field, 1);
  }

  skipped(field: string): void {
    add(this.dropped, field, 1);
  }

  closed(reason: CloseReason, slowConsumer = false): void {
    add(this.closes, reason, 1);
    if (slowConsumer) this.slowConsumerCloses += 1;
  }
}

function add<Key>(counts: Map<Key, number>, key: Key, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}
