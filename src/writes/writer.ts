import type pg from 'pg';
import { COMMITTED_LSN_SQL, parseLsn, type Lsn } from '../db/lsn.js';
import { withClient } from '../db/pool.js';
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
 * commit's time, and, when the writer reads it (`commitPosition`), where
 * the commit ended in the primary's WAL. Must not throw.
 */
export type AfterCommit = (touched: readonly Tag[], events: readonly PublishedEvent[], position: Lsn | undefined) => void | Promise<void>;

export interface WriterOptions {
  /**
   * After COMMIT, on the same connection, read the primary's WAL position
   * (one statement more per write): a replica that has replayed
   * it has replayed the write. For read replicas (db/read-routing.ts).
   * Default: false.
   */
  commitPosition?: boolean;
}

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

export function createWriter(pool: Pick<pg.Pool, 'connect'>, afterCommit: readonly AfterCommit[] = [], options: WriterOptions = {}): Writer {
  return {
    async run(work) {
      const touched = new Set<Tag>();
      const emitted: LiveEvent[] = [];
      const transaction = (client: pg.PoolClient) =>
        work({
          client,
          touch: (...tags) => {
            for (const tag of tags) touched.add(tag);
          },
          emit: (...events) => {
            emitted.push(...events);
          },
        });
      let position: Lsn | undefined;
      let value: Awaited<ReturnType<typeof work>>;
      if (options.commitPosition) {
        value = await withClient(pool, async (client, discard) => {
          const committed = await withTransaction({ client, discard }, transaction);
          // Read after COMMIT, so past its commit record (lsn.ts says why this
          // position). The write stands if this fails: the after-commit steps
          // then read a later position elsewhere.
          position = await client.query<{ lsn: string }>(COMMITTED_LSN_SQL).then(
            ({ rows }) => parseLsn(rows[0]?.lsn),
            (error: unknown) => {
              discard(error as Error);
              return undefined;
            },
          );
          return committed;
        });
      } else {
        value = await withTransaction(pool, transaction);
      }
      const committedAt = Date.now();
      const tags = [...touched];
      const events = emitted.map((event): PublishedEvent => ({ ...event, committedAt }));
      for (const step of afterCommit) await step(tags, events, position);
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
