import { ServiceUnavailableError } from '../graphql/errors.js';
import type { LiveEvent, PublishedEvent, Topic } from '../writes/events.js';
import { ResumeRequiredError } from './closes.js';
import type { EventBus } from './event-bus.js';
import { LiveQueue, type LiveMeta } from './live-queue.js';
import { comparePositions, FETCH_SIZE, OrderedFeed, type FeedMember, type OrderedSource, type Position, type Sequenced } from './ordered-feed.js';

export interface RealtimeOptions {
  bus: EventBus;
  /** Events one subscription may have waiting (REALTIME_QUEUE_EVENTS); a replaying one buffers up to 5× this many live items. */
  queueEvents: number;
  /** How long `setTyping` shows a user typing (REALTIME_TYPING_SECONDS). */
  typingSeconds: number;
}

/**
 * What a subscription makes of one event (or item): a payload to send, an
 * error that ends the subscription (the viewer left: NOT_FOUND), or
 * undefined to let it pass (someone else's typing, another event type).
 */
export type Verdict<Payload> = (Payload & LiveMeta) | Error | undefined;

export interface FollowOptions<Payload> {
  topic: Topic;
  accept: (event: PublishedEvent) => Verdict<Payload>;
  /** Payloads with the same key replace each other while they wait (see LiveQueue). Default: none. */
  keyOf?: (payload: Payload & LiveMeta) => string | undefined;
}

export interface FollowOrderedOptions<Item extends Sequenced, Payload> {
  source: OrderedSource<Item>;
  /** Resume after this position (a cursor the client has seen): replayed from the database first. Null: from now on. */
  after: Position | null;
  /** What an item means for this subscription, in order, each once. */
  accept: (item: Item, committedAt: number | undefined) => Verdict<Payload>;
  /** What the topic's other events mean (someone left). */
  acceptOther: (event: PublishedEvent) => Error | undefined;
}

/** What this instance has done for its subscriptions, read by /metrics. */
export interface RealtimeCounters {
  /** Times an ordered feed read a gap (events missing or out of order) from the database. */
  gapsFilled: number;
  /** Items read from the database for subscriptions resuming from a cursor. */
  replayed: number;
}

/**
 * An instance's real-time service, made once by the server and handed to
 * resolvers in their context: the streams subscriptions return, built on
 * the bus, and the publishing of events that are not writes (typing).
 */
export interface Realtime {
  readonly bus: EventBus;
  readonly counters: RealtimeCounters;
  /** How long `setTyping` shows a user typing. */
  readonly typingSeconds: number;
  /** Publishes events that no transaction writes (typing), stamped with the time now. */
  publish(events: readonly LiveEvent[]): Promise<void>;
  /** A subscription's events of one topic, from the moment it resolves. Rejects when the bus cannot subscribe now. */
  follow<Payload>(options: FollowOptions<Payload>): Promise<AsyncIterableIterator<Payload & LiveMeta>>;
  /**
   * A subscription's items of an ordered topic (a conversation's messages):
   * with `after`, every item after it read from the database, then the live
   * ones, without a gap or a repeat at the seam, each once and in order.
   */
  followOrdered<Item extends Sequenced, Payload>(options: FollowOrderedOptions<Item, Payload>): Promise<AsyncIterableIterator<Payload & LiveMeta>>;
}

export function createRealtime({ bus, queueEvents, typingSeconds }: RealtimeOptions): Realtime {
  const counters: RealtimeCounters = { gapsFilled: 0, replayed: 0 };
  const feeds = new Map<Topic, OrderedFeed<Sequenced>>();
  const replayBufferLimit = 5 * queueEvents;

  /** The live feed of a topic, made by its first follower. */
  const feedOf = <Item extends Sequenced>(source: OrderedSource<Item>): OrderedFeed<Item> => {
    const existing = feeds.get(source.topic) as OrderedFeed<Item> | undefined;
    if (existing?.live) return existing;
    const feed: OrderedFeed<Item> = new OrderedFeed(
      bus,
      source,
      () => {
        if (feeds.get(source.topic) === feed) feeds.delete(source.topic);
      },
      () => {
        counters.gapsFilled += 1;
      },
    );
    feeds.set(source.topic, feed);
    return feed;
  };

  return {
    bus,
    counters,
    typingSeconds,

    publish(events) {
      const committedAt = Date.now();
      return bus.publish(events.map((event) => ({ ...event, committedAt })));
    },

    async follow<Payload>({ topic, accept, keyOf }: FollowOptions<Payload>) {
      let unsubscribe: (() => void) | undefined;
      const queue = new LiveQueue<Payload & LiveMeta>({ limit: queueEvents, keyOf, onClose: () => unsubscribe?.() });
      unsubscribe = await unavailableUnless(
        bus.subscribe(topic, {
          event(event) {
            const verdict = accept(event);
            if (verdict instanceof Error) queue.fail(verdict);
            else if (verdict !== undefined) queue.push(verdict);
          },
          failed: (reason) => queue.fail(new ResumeRequiredError(`the event bus: ${reason}`)),
        }),
      );
      // Ended while the subscription was being confirmed.
      if (queue.done && queue.size === 0) unsubscribe();
      return queue;
    },

    async followOrdered<Item extends Sequenced, Payload>({ source, after, accept, acceptOther }: FollowOrderedOptions<Item, Payload>) {
      const feed = feedOf(source);
      // What this subscription has sent (or skipped) last: nothing at or before it is sent again.
      let position = after;
      let replaying = after !== null;
      const buffered: { item: Item; committedAt: number | undefined }[] = [];
      const queue = new LiveQueue<Payload & LiveMeta>({ limit: queueEvents, onClose: () => feed.leave(member) });

      const offer = (item: Item, committedAt: number | undefined) => {
        if (position && comparePositions(item.position, position) <= 0) return;
        const verdict = accept(item, committedAt);
        if (verdict instanceof Error) {
          queue.fail(verdict);
          return;
        }
        position = item.position;
        if (verdict !== undefined) queue.push(verdict);
      };
      const member: FeedMember<Item> = {
        item(item, committedAt) {
          if (!replaying) offer(item, committedAt);
          else if (buffered.length < replayBufferLimit) buffered.push({ item, committedAt });
          else queue.fail(new ResumeRequiredError(`more than ${replayBufferLimit} new messages while replaying`, true));
        },
        other(event) {
          const error = acceptOther(event);
          if (error) queue.fail(error);
        },
        failed: (reason) => queue.fail(new ResumeRequiredError(reason)),
      };

      await unavailableUnless(feed.join(member));
      // Ended while joining (the client completed it): its onClose found no member to take out.
      if (queue.done && queue.size === 0) {
        feed.leave(member);
        return queue;
      }
      if (after === null) {
        position = feed.position;
        return queue;
      }
      // The replay runs while the subscription is already returned: it waits for the client to take what it read.
      void (async () => {
        let cursor: Position = after;
        for (;;) {
          const items = await feed.fetchAfter(cursor, FETCH_SIZE);
          counters.replayed += items.length;
          for (const item of items) {
            await queue.room();
            if (queue.done) return;
            offer(item, undefined);
          }
          if (items.length < FETCH_SIZE) break;
          cursor = items.at(-1)!.position;
        }
        replaying = false;
        for (const { item, committedAt } of buffered.splice(0)) offer(item, committedAt);
      })().catch((error: unknown) => queue.fail(new ResumeRequiredError(`the replay failed: ${(error as Error).message}`)));
      return queue;
    },
  };
}

/**
 * What the bus (or the database, reading a feed's head) failing at the
 * start of a subscription means to its client: SERVICE_UNAVAILABLE, retry
 * in a moment (the bus's Redis is restarting), not an internal error.
 */
async function unavailableUnless<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch {
    throw new ServiceUnavailableError('Subscriptions are unavailable for a moment: retry in a few seconds.');
  }
}

declare module '../graphql/context.js' {
  interface Context {
    /** The instance's real-time service: the streams subscriptions return, and events no write publishes (typing). */
    realtime: Realtime;
  }
}
