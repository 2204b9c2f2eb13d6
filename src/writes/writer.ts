import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { LiveEvent, PublishedEvent } from './events.js';
import type { Tag } from './tags.js';

/** A write in progress: its connection, inside a transaction, and the record of what it touched and what it tells subscribers. */
export interface WriteTransaction {
  client: pg.PoolClient;
  /** Records tags whose answers this write changes; reported after commit, never after a rollback. */
  touch: (...tags: Tag[]) => void;
  /** Records events for subscribers, in order; published after commit, never after a rollback. */
  emit: (...events: LiveEvent[]) => void;
}

/**
 * Called once a write has committed, with every tag it touched
 * (deduplicated) and the events it emitted, in order, stamped with the
 * commit's time. Must not throw.
 */
export type AfterCommit = (touched: readonly Tag[], events: readonly PublishedEvent[]) => void | Promise<void>;

/**
 * The one way Parley writes. `run` executes `work` in a transaction on one
 * pooled connection: COMMIT when it resolves, ROLLBACK when it throws, so a
 * failed write leaves nothing behind. After COMMIT, and only then, the
 * after-commit steps run in order (the request's loaders are cleared, the
 * response cache drops what the write touched, then its events are
 * published: a client told of a change reads it, not a stale answer).
 * Validate input before calling `run`: a refused write then costs no statement.
 */
export interface Writer {
  run<T>(work: (transaction: WriteTransaction) => Promise<T>): Promise<T>;
}

export function createWriter(pool: Pick<pg.Pool, 'connect'>, afterCommit: readonly AfterCommit[] = []): Writer {
  return {
    async run(work) {
      const touched = new Set<Tag>();
      const emitted: LiveEvent[] = [];
      const value = await withTransaction(pool, (client) =>
        work({
          client,
          touch: (...tags) => {
            for (const tag of tags) touched.add(tag);
          },
          emit: (...events) => {
            emitted.push(...events);
          },
        }),
      );
      const committedAt = Date.now();
      const tags = [...touched];
      const events = emitted.map((event): PublishedEvent => ({ ...event, committedAt }));
      for (const step of afterCommit) await step(tags, events);
      return value;
    },
  };
}

declare module '../graphql/context.js' {
  interface Context {
    /** The one write path: every mutation runs its transaction through it. */
    writer: Writer;
  }
}
