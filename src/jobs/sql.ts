// Internal: the statistics refresh's SQL. Each function takes the database
// first: a client inside the refresh's transaction unless it says otherwise.
import type { Queryable } from '../db/pool.js';
import { USER_STATS_VIEW } from '../db/stats-views.js';

// One key for every refresher of the statistics views: the scheduled job of
// each API instance, `npm run db:refresh` and the seed, each taking it with
// withTransaction's `locks` (transaction-scoped: no path can leave it held).
// (72707369 is Prisma's migration lock, 72707370 the seed's.)
export const STATS_REFRESH_LOCK_KEY = 72707371;

/**
 * Recomputes user_stats_summary, then user_stats_ranks from it, and returns
 * the rows of the summary. CONCURRENTLY builds the new rows beside the old
 * and changes only those that differ, so readers keep reading throughout;
 * without it, each view is rebuilt whole under a lock that holds readers
 * until commit (cheaper for the seed, which replaces every row anyway).
 * The count is an index-only scan of the unique index.
 */
export async function refreshStatsViews(db: Queryable, options: { concurrently: boolean }): Promise<number> {
  const how = options.concurrently ? 'CONCURRENTLY ' : '';
  await db.query(`REFRESH MATERIALIZED VIEW ${how}${USER_STATS_VIEW}`);
  await db.query(`REFRESH MATERIALIZED VIEW ${how}user_stats_ranks`);
  const { rows } = await db.query<{ rows: number }>(`SELECT count(*)::integer AS rows FROM ${USER_STATS_VIEW}`);
  return rows[0]!.rows;
}

/** When the latest successful refresh ended; null before the first (materialized_view_refreshes_succeeded_idx). */
export async function findLastStatsRefresh(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ finishedAt: Date }>(
    `SELECT finished_at AS "finishedAt" FROM materialized_view_refreshes
     WHERE view_name = $1 AND outcome = 'succeeded'
     ORDER BY started_at DESC LIMIT 1`,
    [USER_STATS_VIEW],
  );
  return rows[0]?.finishedAt ?? null;
}

export type RefreshOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped';

/** One run, as materialized_view_refreshes records it. */
export interface RefreshRecord {
  outcome: RefreshOutcome;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** Rows in the view after a successful refresh; null otherwise. */
  rows: number | null;
  /** Why a failed or cancelled run ended; null otherwise. */
  error: string | null;
}

/** Appends a run to the refresh log. */
export async function recordStatsRefresh(db: Queryable, record: RefreshRecord): Promise<void> {
  await db.query(
    `INSERT INTO materialized_view_refreshes (view_name, started_at, finished_at, duration_ms, outcome, rows, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [USER_STATS_VIEW, record.startedAt, record.finishedAt, record.durationMs, record.outcome, record.rows, record.error],
  );
}

/** Asks PostgreSQL to cancel the statement a session is running; a session between statements is left alone. Any connection. */
export async function cancelBackendStatement(db: Queryable, processId: number): Promise<void> {
  await db.query('SELECT pg_cancel_backend($1)', [processId]);
}
