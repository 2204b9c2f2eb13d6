import type pg from 'pg';
import { withTransaction } from '../db/transaction.js';
import type { Tag } from './tags.js';

/** A write in progress: its connection, inside a transaction, and the record of what it touched. */
export interface WriteTransaction {
  client: pg.PoolClient;
  /** Records tags whose answers this write changes; reported after commit, never after a rollback. */
  touch: (...tags: Tag[]) => void;
}

/** Called once a write has committed, with every tag it touched (deduplicated). Must not throw. */
export type AfterCommit = (touched: readonly Tag[]) => void | Promise<void>;

/**
 * The one way Parley writes. `run` executes `work` in a transaction on one
 * pooled connection: COMMIT when it resolves, ROLLBACK when it throws, so a
 * failed write leaves nothing behind. After COMMIT, and only then, the
 * after-commit steps run in order (the request's loaders are cleared, the
 * response cache drops what the write touched, subscribers are told).
 * Validate input before calling `run`: a refused write then costs no statement.
 */
export interface Writer {
  run<T>(work: (transaction: WriteTransaction) => Promise<T>): Promise<T>;
}

export function createWriter(pool: Pick<pg.Pool, 'connect'>, afterCommit: readonly AfterCommit[] = []): Writer {
  return {
    async run(work) {
      const touched = new Set<Tag>();
      const value = await withTransaction(pool, (client) =>
        work({
          client,
          touch: (...tags) => {
            for (const tag of tags) touched.add(tag);
          },
        }),
      );
      const tags = [...touched];
      for (const step of afterCommit) await step(tags);
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
