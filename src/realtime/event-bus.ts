import type { PublishedEvent, Topic } from '../writes/events.js';

/**
 * The event bus: how a write's events (writes/events.ts) reach the
 * subscriptions that follow their topic, on this instance and on the others.
 * Two stores behind one tiny interface, as the response cache has:
 * createInProcessBus() for one instance (no Redis, the embedded default),
 * createRedisBus() for several (Redis pub/sub, one channel per topic, so an
 * instance receives only the topics its subscribers follow).
 *
 * An event published while a subscriber's connection to Redis is down is
 * lost to it (one its publisher could not send is sent again for a while,
 * so it may also arrive twice). The bus never hides a loss: when
 * it may have lost events of a topic, it tells that topic's listeners
 * (`failed`) and forgets them, so their subscriptions end with a "resume"
 * close and their clients replay what they missed from PostgreSQL, by cursor.
 * PostgreSQL LISTEN/NOTIFY is not used: it needs a session of its own per
 * instance, which PgBouncer in transaction mode does not give, and every
 * instance would hear every event.
 */
export interface EventBus {
  /**
   * Publishes events, in order, to every instance's listeners of their
   * topics. Never throws: an event that cannot be sent is counted
   * (`counters.publishFailures`) and logged, and the Redis bus tries it
   * again for a while (`counters.republished`); one it gives up
   * (`counters.publishesAbandoned`) its subscribers find when they next
   * replay (the next message of its conversation makes them, see
   * realtime/ordered-feed.ts).
   * @param events what a write emitted, stamped with its commit time
   */
  publish(events: readonly PublishedEvent[]): Promise<void>;
  /**
   * Calls `listener` with every event published to `topic` from the moment
   * the returned promise resolves (not before: a caller that replays from
   * the database does so after it resolves, and drops what it receives
   * twice). Rejects when the bus cannot subscribe now (Redis unreachable):
   * nothing is then registered.
   * @param topic a conversation's or a user's (writes/events.ts)
   * @param listener called for each event, and once with `failed` when the
   *   bus may have lost events of the topic; after `failed` it is forgotten
   * @returns unsubscribes `listener` (the last one of a topic unsubscribes the instance)
   */
  subscribe(topic: Topic, listener: BusListener): Promise<Unsubscribe>;
  /** Tells every listener `failed('closing')`, then lets go of the connections the bus made. */
  close(): Promise<void>;
  /** What the bus has done, read by /metrics. */
  readonly counters: BusCounters;
}

export interface BusListener {
  /** An event of the topic. Called synchronously by the bus: queue work, do not do it here. */
  event(event: PublishedEvent): void;
  /**
   * The bus may have lost events of the topic (its connection to Redis
   * dropped, or it is closing): the listener is already forgotten.
   * @param reason for the logs
   */
  failed(reason: string): void;
}

/** Stops a listener's events; safe to call twice, and after `failed`. */
export type Unsubscribe = () => void;

export interface BusCounters {
  /** Events handed to the bus (published, or delivered in process). */
  published: number;
  /** Events the bus could not send at the first try (Redis down or late). */
  publishFailures: number;
  /** Of those, events sent at a later try. */
  republished: number;
  /** Of those, events given up: too old, or too many waiting. */
  publishesAbandoned: number;
  /** Events this instance received for topics it follows. */
  received: number;
  /** Times the bus told its listeners it may have lost events (a lost connection to Redis, a close). */
  failures: number;
}

/** A fresh set of counters. */
export function createBusCounters(): BusCounters {
  return { published: 0, publishFailures: 0, republished: 0, publishesAbandoned: 0, received: 0, failures: 0 };
}

/** The one logger shape the buses use (Fastify's logger fits). */
export interface BusLogger {
  warn(details: object, message: string): void;
  info(message: string): void;
}
