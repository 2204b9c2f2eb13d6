// Internal: a refresh of the statistics views held in progress for as long
// as a test needs. A session locks user_daily_activity; a refresh then
// takes its lock on user_stats_summary and waits inside, reading the base
// tables, exactly where a slow refresh on a big database spends its time.
// And the other way round: a refresh that is not concurrent, held open, so
// that readers of user_stats_summary wait (a statement made slow on purpose,
// while writes, which never touch the view, go on).
import pg from 'pg';
import type { Queryable } from '../../src/db/pool.js';

export interface RefreshBlocker {
  /** Ends the blocking transaction: the waiting refresh goes on. */
  release(): Promise<void>;
}

/** Locks user_daily_activity on a connection of its own (none of the pool's). */
export async function blockStatsRefresh(databaseUrl: string): Promise<RefreshBlocker> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE user_daily_activity IN ACCESS EXCLUSIVE MODE');
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** Resolves once a REFRESH of the views waits on a lock, i.e. holds its own and is stuck in the middle. */
export async function waitForBlockedRefresh(db: Queryable, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ waiting: number }>(
      `SELECT count(*)::integer AS waiting FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'REFRESH MATERIALIZED VIEW%' AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.waiting > 0) return;
    if (Date.now() > deadline) throw new Error(`no refresh waited on a lock within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Holds readers of user_stats_summary: a REFRESH MATERIALIZED VIEW that is
 * not concurrent (its ACCESS EXCLUSIVE lock is what readers wait for; LOCK
 * TABLE refuses a materialized view), on a connection of its own, in a
 * transaction left open. Writes go on: none of them touches the view.
 * `release` rolls it back, so the view keeps its rows.
 */
export async function blockStatsReaders(databaseUrl: string): Promise<RefreshBlocker> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('REFRESH MATERIALIZED VIEW user_stats_summary');
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Resolves once `count` statements reading user_stats_summary wait on a lock (blockStatsReaders holds them). */
export async function waitForBlockedStatsReaders(db: Queryable, count: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ waiting: number }>(
      `SELECT count(*)::integer AS waiting FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE '%FROM user_stats_summary%' AND query NOT LIKE 'REFRESH%' AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.waiting >= count) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.waiting} statements, not ${count}, waited on user_stats_summary within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
