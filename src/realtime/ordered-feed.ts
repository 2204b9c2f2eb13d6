import type { PublishedEvent, Topic } from '../writes/events.js';
import type { EventBus, Unsubscribe } from './event-bus.js';

/**
 * Where an item sits in its topic's order: the cursor of a message,
 * (created_at, id), which is its commit order within a conversation
 * (messages/send-message.ts makes it so).
 */
export interface Position {
  /** Milliseconds since the epoch. */
  at: number;
  /** A bigint id, in canonical decimal. */
  id: string;
}

/** An item of an ordered topic: its position, and the id of the item before it when it committed (null for the first). */
export interface Sequenced {
  position: Position;
  previousId: string | null;
}

/** Orders positions: negative when `a` comes first. Ids compare as numbers without a BigInt (canonical decimal: no leading zeros). */
export function comparePositions(a: Position, b: Position): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.id.length !== b.id.length) return a.id.length - b.id.length;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** What a feed needs of its domain, for one topic (messages/live.ts gives it for a conversation). */
export interface OrderedSource<Item extends Sequenced> {
  topic: Topic;
  /** The event type that carries the items; the topic's other events go to members as they are. */
  type: string;
  /** The item an event of `type` carries. */
  itemOf(event: PublishedEvent): Item;
  /** Items after `after` (all from the start when null), in order, at most `limit`, read from the database. */
  fetchAfter(after: Position | null, limit: number): Promise<Item[]>;
  /** The position of the newest item, or null when there is none. */
  latest(): Promise<Position | null>;
}

/** One subscription of a feed. */
export interface FeedMember<Item> {
  /** The next item, in order, each once, with its commit time when it came through the bus. */
  item(item: Item, committedAt: number | undefined): void;
  /** Another event of the topic (someone left), in the order it came. */
  other(event: PublishedEvent): void;
  /** The feed cannot promise every item any more (the bus failed, the database could not fill a gap): the member is dropped. */
  failed(reason: string): void;
}

/** How many items one read of a gap or a replay asks for. */
export const FETCH_SIZE = 100;

/**
 * The items of one ordered topic (a conversation's new messages) as this
 * instance delivers them: once each, in order, with nothing missing, to
 * every subscription of the instance that follows the topic. One feed per
 * topic and instance, however many subscriptions follow it: one bus
 * subscription, one read of the database per gap.
 *
 * Events may arrive out of order or not at all: two instances (or two
 * requests of one) publish after their commits, in whatever order their
 * after-commit steps finish, and a publish can fail. Each item names the
 * item before it (read under the conversation's lock, so it is the one
 * committed before), so the feed knows when it has the next item and when
 * one is missing: then it reads what follows its head from the database, in
 * order, and drops events it already has when they come. An item the bus
 * lost is delivered when the next one arrives; the bus failing altogether
 * fails every member (they resume from their cursors).
 */
export class OrderedFeed<Item extends Sequenced> {
  private readonly members = new Set<FeedMember<Item>>();
  private readonly pending: PublishedEvent[] = [];
  private head: Position | null = null;
  /** Set once the head is read: events that come before wait for it. */
  private started = false;
  /** Joins waiting for the feed to be ready: the last member leaving does not end a feed someone is joining. */
  private joining = 0;
  private draining = false;
  private failedWith: string | undefined;
  private unsubscribe: Unsubscribe | undefined;
  /** Resolves once the feed follows the bus and knows its head. */
  readonly ready: Promise<void>;

  constructor(
    private readonly bus: EventBus,
    private readonly source: OrderedSource<Item>,
    /** Called when the feed ends (no member left, or it failed): the registry forgets it. */
    private readonly onEnd: () => void,
    /** Called each time the feed reads a gap from the database. Default: nothing. */
    private readonly onGap: () => void = () => {},
  ) {
    this.ready = this.start();
    // A failed start is reported to each joiner; nobody else awaits it.
    this.ready.catch(() => {});
  }

  private async start(): Promise<void> {
    try {
      this.unsubscribe = await this.bus.subscribe(this.source.topic, {
        event: (event) => {
          this.pending.push(event);
          void this.drain();
        },
        failed: (reason) => this.fail(`the event bus: ${reason}`),
      });
      // After the subscription is confirmed: any item committed since comes through the bus.
      this.head = await this.source.latest();
      this.started = true;
    } catch (error) {
      this.fail('it could not start');
      throw error;
    }
    if (this.failedWith) throw new Error(`the feed failed as it started: ${this.failedWith}`);
    void this.drain();
  }

  /** Whether the feed is still running (not failed, not ended). */
  get live(): boolean {
    return this.failedWith === undefined;
  }

  /** The newest item delivered (or the newest in the database when the feed started). */
  get position(): Position | null {
    return this.head;
  }

  /** Adds a member once the feed is ready; it receives the items after the feed's head from then on. */
  async join(member: FeedMember<Item>): Promise<void> {
    this.joining += 1;
    try {
      await this.ready;
    } finally {
      this.joining -= 1;
    }
    if (this.failedWith) throw new Error(`the feed failed: ${this.failedWith}`);
    this.members.add(member);
  }

  /** Removes a member; the last one out ends the feed. */
  leave(member: FeedMember<Item>): void {
    if (!this.members.delete(member) || this.members.size > 0 || this.joining > 0) return;
    this.end();
  }

  /** Reads items after `after` for a member resuming from a cursor (not the feed's own head). */
  fetchAfter(after: Position | null, limit: number): Promise<Item[]> {
    return this.source.fetchAfter(after, limit);
  }

  private async drain(): Promise<void> {
    if (this.draining || !this.started) return;
    this.draining = true;
    try {
      while (this.pending.length > 0 && !this.failedWith) {
        const event = this.pending.shift()!;
        if (event.type !== this.source.type) {
          for (const member of [...this.members]) member.other(event);
          continue;
        }
        const item = this.source.itemOf(event);
        if (this.head && comparePositions(item.position, this.head) <= 0) continue;
        if (item.previousId === (this.head?.id ?? null)) {
          this.deliver(item, event.committedAt);
          continue;
        }
        await this.fillGap(item, event.committedAt);
      }
    } catch (error) {
      this.fail(`could not read a gap from the database: ${(error as Error).message}`);
    } finally {
      this.draining = false;
    }
  }

  /** Reads from the database everything between the head and `item`, delivers it in order, then `item`. */
  private async fillGap(item: Item, committedAt: number): Promise<void> {
    this.onGap();
    while (!this.failedWith && (!this.head || comparePositions(this.head, item.position) < 0)) {
      const items = await this.source.fetchAfter(this.head, FETCH_SIZE);
      for (const read of items) {
        if (comparePositions(read.position, item.position) === 0) this.deliver(item, committedAt);
        else this.deliver(read, undefined);
      }
      // Committed before it was published, so the database has it: reading nothing means it is not this database's.
      if (items.length === 0) {
        this.deliver(item, committedAt);
        return;
      }
    }
  }

  private deliver(item: Item, committedAt: number | undefined): void {
    this.head = item.position;
    for (const member of [...this.members]) member.item(item, committedAt);
  }

  private fail(reason: string): void {
    if (this.failedWith) return;
    this.failedWith = reason;
    const members = [...this.members];
    this.members.clear();
    this.end();
    for (const member of members) member.failed(reason);
  }

  private end(): void {
    this.failedWith ??= 'ended';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pending.length = 0;
    this.onEnd();
  }
}
