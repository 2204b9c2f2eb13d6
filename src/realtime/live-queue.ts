import { ResumeRequiredError } from './closes.js';

/** What every payload a subscription yields may say of itself, for the transport. */
export interface LiveMeta {
  /** When the write behind it committed (Date.now() ms); absent for what a replay read from the database. */
  committedAt?: number;
  /** May be dropped, not sent, when the client falls behind (typing): nothing is lost that a later event does not say again. */
  droppable?: boolean;
}

export interface LiveQueueOptions<T> {
  /** The most items waiting to be taken; one more ends the stream with ResumeRequiredError (a slow client). */
  limit: number;
  /**
   * Items with the same key replace each other while they wait, keeping the
   * first one's place (typing: one per user; an inbox update: one per
   * conversation, resolved when sent). Default: none, every item waits.
   */
  keyOf?: (item: T) => string | undefined;
  /** Called once, when the stream ends for whatever reason (the consumer stopped, an error, the end): let go of the topic. */
  onClose: () => void;
}

/**
 * One subscription's events between the bus, which pushes them as they
 * come, and the transport, which takes them as fast as the client reads:
 * an async iterator over a bounded queue. Nothing is buffered without
 * limit: a push beyond `limit` ends the stream with ResumeRequiredError,
 * and the client replays from its cursor. A producer that can wait (a
 * replay from the database) waits for room instead (`room`).
 */
export class LiveQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: { item: T; key: string | undefined }[] = [];
  private readonly waitingByKey = new Map<string, { item: T; key: string | undefined }>();
  private takers: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }[] = [];
  private roomWaiters: (() => void)[] = [];
  private finished: { error?: Error } | undefined;
  private closed = false;

  constructor(private readonly options: LiveQueueOptions<T>) {}

  /** Items waiting to be taken. */
  get size(): number {
    return this.items.length;
  }

  /** Whether the stream has ended (nothing more will be taken). */
  get done(): boolean {
    return this.finished !== undefined;
  }

  /** Adds an item; past the limit, ends the stream with ResumeRequiredError instead. Ignored once ended. */
  push(item: T): void {
    if (this.finished) return;
    const taker = this.takers.shift();
    if (taker) {
      taker.resolve({ value: item, done: false });
      return;
    }
    const key = this.options.keyOf?.(item);
    const waiting = key === undefined ? undefined : this.waitingByKey.get(key);
    if (waiting) {
      waiting.item = item;
      return;
    }
    if (this.items.length >= this.options.limit) {
      this.fail(new ResumeRequiredError(`more than ${this.options.limit} events waiting to be sent`, true));
      return;
    }
    const entry = { item, key };
    this.items.push(entry);
    if (key !== undefined) this.waitingByKey.set(key, entry);
  }

  /** Resolves when an item may be pushed without reaching the limit, or the stream has ended. */
  room(): Promise<void> {
    if (this.finished || this.items.length < this.options.limit) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Ends the stream after the items waiting are taken. */
  end(): void {
    if (this.finished) return;
    this.finished = {};
    if (this.items.length === 0) this.close();
  }

  /** Ends the stream now: the items waiting are dropped, and the consumer's next take throws `error`. */
  fail(error: Error): void {
    if (this.finished && this.items.length === 0) return;
    this.finished = { error };
    this.items.length = 0;
    this.waitingByKey.clear();
    this.close();
  }

  async next(): Promise<IteratorResult<T>> {
    const entry = this.items.shift();
    if (entry) {
      if (entry.key !== undefined && this.waitingByKey.get(entry.key) === entry) this.waitingByKey.delete(entry.key);
      this.roomWaiters.splice(0).forEach((wake) => wake());
      if (this.finished && this.items.length === 0) this.close();
      return { value: entry.item, done: false };
    }
    if (this.finished) {
      const { error } = this.finished;
      if (error !== undefined) {
        // Thrown once; then the stream is simply over.
        this.finished = {};
        throw error;
      }
      return { value: undefined, done: true };
    }
    return new Promise((resolve, reject) => this.takers.push({ resolve, reject }));
  }

  /** The consumer stopped (the client completed the subscription, or left). */
  async return(): Promise<IteratorResult<T>> {
    this.finished ??= {};
    this.items.length = 0;
    this.waitingByKey.clear();
    this.close();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error instanceof Error ? error : new Error(String(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Wakes everyone waiting, once, and lets go of the topic. */
  private close(): void {
    const takers = this.takers;
    this.takers = [];
    const error = this.finished?.error;
    for (const taker of takers) {
      if (error !== undefined) taker.reject(error);
      else taker.resolve({ value: undefined, done: true });
    }
    // A pending taker got the error: later takes find the stream simply over.
    if (takers.length > 0 && error !== undefined) this.finished = {};
    this.roomWaiters.splice(0).forEach((wake) => wake());
    if (this.closed) return;
    this.closed = true;
    this.options.onClose();
  }
}
