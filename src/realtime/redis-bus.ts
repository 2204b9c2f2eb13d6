import { createOutageLog, withinDeadline, type Redis } from '../db/redis.js';
import type { PublishedEvent, Topic } from '../writes/events.js';
import { createBusCounters, type BusListener, type BusLogger, type EventBus } from './event-bus.js';

export interface RedisBusOptions {
  /** The process's Redis client (db/redis.ts), which publishes; the bus does not close it. */
  publisher: Redis;
  /**
   * A connection for the bus alone (db/redis.ts createRedisSubscriber): a
   * connection that subscribes can send nothing else. The bus owns it and
   * closes it in `close`.
   */
  subscriber: Redis;
  /** Prepended to a topic to name its channel. Default: `parley:live:`; tests sharing one Redis use one each. */
  channelPrefix?: string;
  /** How long a subscribe waits for Redis to confirm before it fails. Default: 2000 ms. */
  subscribeTimeoutMs?: number;
  /**
   * How long after its commit an event that could not be published is still
   * tried again. Default: 30 000 ms. Later, or past 10 000 events waiting, it
   * is given up (counted in `counters.publishesAbandoned`).
   */
  republishWithinMs?: number;
  logger: BusLogger;
}

/** At most this many unpublished events wait for Redis; the oldest are given up first. */
const MAX_WAITING_EVENTS = 10_000;
/** Between tries while Redis does not take them: doubling from the first to the last. */
const REPUBLISH_DELAYS_MS = { first: 100, last: 2_000 };

export const DEFAULT_CHANNEL_PREFIX = 'parley:live:';

/** A channel this instance follows: its listeners, and the SUBSCRIBE that they wait for. */
interface Channel {
  listeners: Set<BusListener>;
  subscribed: Promise<unknown>;
}

/**
 * The bus across instances: Redis pub/sub, one channel per topic
 * (`parley:live:conversation:12`, `parley:live:user:7`). An instance
 * subscribes to a channel while one of its subscriptions follows the topic
 * and unsubscribes when the last one ends, so it receives the events of the
 * conversations and users its clients follow, not every event.
 *
 * Classic SUBSCRIBE, not Redis 7's sharded SSUBSCRIBE: Parley talks to one
 * Redis node (the response cache and the rate limits use multi-key commands
 * a Cluster would need hash tags for), and on one node SUBSCRIBE already
 * delivers a channel's messages only to the connections subscribed to it.
 * Sharded pub/sub pays off in Redis Cluster, where PUBLISH is broadcast to
 * every node over the cluster bus and SPUBLISH stays on the channel's shard;
 * moving there changes this file only (SPUBLISH, SSUBSCRIBE and the
 * `smessage` event, a cluster-aware subscriber).
 *
 * When the subscriber's connection drops (Redis restarts, a network cut,
 * CLIENT KILL), events published meanwhile are lost to this instance: every
 * listener is told (`failed`) and forgotten, and the connection reconnects
 * with no channel (ioredis's auto-resubscribe is off), so subscriptions that
 * start again do so from a confirmed SUBSCRIBE and replay from PostgreSQL.
 *
 * When a publish fails (Redis down, or slower than the client's command
 * timeout) while other instances still hear Redis, their subscribers would
 * miss the event without knowing, until the next message of its
 * conversation showed the gap. So the bus keeps what it could not publish
 * and publishes it again, in order and ahead of anything newer, until Redis
 * takes it (within `republishWithinMs` of its commit). An event may then
 * arrive twice (a publish that timed out may still have run): the feeds
 * drop a message they already have (realtime/ordered-feed.ts), and the other
 * events are re-read when sent, so a second copy sends the same state again.
 * Transient events (typing) are not kept: late, they would say something
 * false.
 */
export function createRedisBus(options: RedisBusOptions): EventBus {
  const { publisher, subscriber, logger } = options;
  const prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const subscribeTimeoutMs = options.subscribeTimeoutMs ?? 2_000;
  const counters = createBusCounters();
  const channels = new Map<string, Channel>();
  let closed = false;
  const publishOutage = createOutageLog(
    logger,
    { down: 'events could not be published to Redis; subscribers replay what they missed when they next resume', up: 'events are published to Redis again' },
    // Counted per event below: each is lost to the bus.
    () => {},
  );

  const failAll = (reason: string) => {
    if (channels.size === 0) return;
    counters.failures += 1;
    const listeners = [...channels.values()].flatMap((channel) => [...channel.listeners]);
    channels.clear();
    for (const listener of listeners) listener.failed(reason);
  };

  subscriber.on('close', () => {
    if (channels.size > 0) logger.warn({ channels: channels.size }, 'the event bus lost its Redis connection: its subscriptions close with "resume"');
    failAll('the connection to Redis was lost');
  });
  subscriber.on('message', (channelName: string, text: string) => {
    const channel = channels.get(channelName);
    if (!channel) {
      // A SUBSCRIBE that completed after its listeners were failed or gone: nobody follows it here.
      subscriber.unsubscribe(channelName).catch(() => {});
      return;
    }
    let event: PublishedEvent;
    try {
      event = JSON.parse(text) as PublishedEvent;
    } catch {
      logger.warn({ channel: channelName }, 'an event on the bus is not JSON: ignored');
      return;
    }
    counters.received += 1;
    for (const listener of [...channel.listeners]) listener.event(event);
  });

  const send = async (events: readonly PublishedEvent[]) => {
    const results = await publisher.pipeline(events.map((event) => ['publish', prefix + event.topic, JSON.stringify(event)])).exec();
    const failure = results?.find(([error]) => error)?.[0];
    if (failure) throw failure;
    publishOutage.succeeded();
  };

  // Events not yet published, oldest first, and the state of the tries.
  const republishWithinMs = options.republishWithinMs ?? 30_000;
  let waiting: PublishedEvent[] = [];
  let republishing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = REPUBLISH_DELAYS_MS.first;

  const keep = (events: readonly PublishedEvent[]) => {
    waiting.push(...events.filter((event) => !event.transient));
    if (waiting.length > MAX_WAITING_EVENTS) abandon(waiting.length - MAX_WAITING_EVENTS);
  };
  const abandon = (count: number) => {
    if (count <= 0) return;
    waiting = waiting.slice(count);
    counters.publishesAbandoned += count;
    logger.warn({ events: count }, 'events could not be published in time and were given up: their subscribers replay them when they next resume');
  };
  const scheduleRepublish = () => {
    if (timer || closed || waiting.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void republish();
    }, delayMs);
    timer.unref();
    delayMs = Math.min(delayMs * 2, REPUBLISH_DELAYS_MS.last);
  };
  /** Publishes what is waiting, in order, one try at a time; on failure, tries again later. */
  const drainWaiting = async () => {
    try {
      while (waiting.length > 0 && !closed) {
        const now = Date.now();
        const fresh = waiting.findIndex((event) => now - event.committedAt <= republishWithinMs);
        abandon(fresh < 0 ? waiting.length : fresh);
        const batch = waiting.slice(0, 500);
        if (batch.length === 0) break;
        await send(batch);
        waiting = waiting.slice(batch.length);
        counters.republished += batch.length;
        delayMs = REPUBLISH_DELAYS_MS.first;
      }
    } catch (error) {
      publishOutage.failed(error, 'publish');
      scheduleRepublish();
    }
  };
  // One try at a time; `finally` clears it only after it was set, however fast the try ends.
  const republish = (): Promise<void> =>
    (republishing ??= drainWaiting().finally(() => {
      republishing = undefined;
    }));

  const leave = (name: string, channel: Channel, listener: BusListener) => {
    // A channel replaced since (after a lost connection) is not this listener's.
    if (channels.get(name) !== channel || !channel.listeners.delete(listener)) return;
    if (channel.listeners.size > 0) return;
    channels.delete(name);
    subscriber.unsubscribe(name).catch(() => {});
  };

  return {
    counters,
    async publish(events) {
      if (events.length === 0) return;
      counters.published += events.length;
      // Behind events still waiting for Redis: in order, after them.
      if (waiting.length > 0) {
        keep(events);
        await republish();
        return;
      }
      try {
        await send(events);
      } catch (error) {
        counters.publishFailures += events.length;
        publishOutage.failed(error, 'publish');
        keep(events);
        scheduleRepublish();
      }
    },
    async subscribe(topic: Topic, listener) {
      if (closed) throw new Error('the event bus is closed');
      const name = prefix + topic;
      let channel = channels.get(name);
      if (!channel) {
        channel = { listeners: new Set(), subscribed: subscriber.subscribe(name) };
        channels.set(name, channel);
      }
      channel.listeners.add(listener);
      try {
        await withinDeadline(channel.subscribed, subscribeTimeoutMs, 'Redis SUBSCRIBE');
      } catch (error) {
        leave(name, channel, listener);
        throw error;
      }
      const current = channel;
      return () => leave(name, current, listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      failAll('closing');
      subscriber.disconnect();
    },
  };
}
