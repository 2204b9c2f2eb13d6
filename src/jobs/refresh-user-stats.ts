import type pg from 'pg';
import { withClient } from '../db/pool.js';
import { LOCK_HELD, withTransaction } from '../db/transaction.js';
import { tags, type Tag } from '../writes/tags.js';
import { USER_STATS_VIEW } from '../db/stats-views.js';
import { cancelBackendStatement, findLastStatsRefresh, recordStatsRefresh, refreshStatsViews, STATS_REFRESH_LOCK_KEY, type RefreshRecord } from './sql.js';

export type { RefreshOutcome, RefreshRecord } from './sql.js';
export { STATS_REFRESH_LOCK_KEY } from './sql.js';

/**
 * One refresh of the statistics views (user_stats_summary, then
 * user_stats_ranks), whoever asks: the scheduled job, `npm run db:refresh`,
 * the tests. Every run that reaches the database is recorded in
 * materialized_view_refreshes, succeeded, failed, cancelled or skipped;
 * a failure is an outcome, not an exception.
 */

/** Where a job reports; a pino logger (Fastify's) fits. */
export interface JobLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const silentLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The cache tags whose answers a refresh changes: every leaderboard and
 * every user's statistics.
 */
export const STATS_REFRESH_TAGS: readonly Tag[] = Object.freeze([tags.leaderboard(), tags.stats()]);

/** What a successful refresh hands to the after-refresh hook. */
export interface StatsRefreshedEvent {
  /** The new figures' time, as `refreshedAt` shows it. */
  refreshedAt: Date;
  /** Rows in user_stats_summary: one per user. */
  rows: number;
  durationMs: number;
  /** To invalidate: STATS_REFRESH_TAGS. */
  tags: readonly Tag[];
}

/**
 * Called once after each successful refresh, once it is committed (readers
 * see the new figures); never after a failed, cancelled or skipped one.
 * The response cache invalidates `event.tags` here. An error it throws is
 * logged and changes nothing else: the refresh stands.
 */
export type AfterStatsRefresh = (event: StatsRefreshedEvent) => void | Promise<void>;

export interface RefreshUserStatsOptions {
  /** PostgreSQL cancels each refresh statement running longer (0: no limit); the run is then recorded as failed. */
  statementTimeoutMs: number;
  /**
   * Refresh only when the latest successful refresh, by any instance, ended
   * at least this long ago; otherwise do nothing and record nothing
   * ('not-due'). Default: always refresh.
   */
  dueAfterMs?: number;
  /** Default: silent. */
  logger?: JobLogger;
  afterRefresh?: AfterStatsRefresh;
  /** Aborting cancels the statement in progress; the run is recorded as cancelled. */
  signal?: AbortSignal;
}

/** A run: as recorded, or not due (nothing recorded). */
export type RefreshRun = RefreshRecord | { outcome: 'not-due'; lastRefreshAt: Date };

/**
 * Refreshes the statistics views now, concurrently (readers are never
 * held), on one connection of `pool`, in one transaction: the refresh lock,
 * both views and the log row commit together, so readers see the two views
 * and their refresh time change at once. Skips, and records the skip, when
 * another session holds the refresh lock. Throws only when no connection
 * can be had.
 */
export async function refreshUserStats(pool: pg.Pool, options: RefreshUserStatsOptions): Promise<RefreshRun> {
  const logger = options.logger ?? silentLogger;
  const run = await withClient(pool, (client, discard) => refreshOn(client, discard, pool, options, logger));
  if (run.outcome !== 'succeeded') return run;
  logger.info({ view: USER_STATS_VIEW, rows: run.rows, durationMs: run.durationMs }, `refreshed ${USER_STATS_VIEW}: ${run.rows} rows in ${run.durationMs} ms`);
  if (options.afterRefresh) {
    try {
      await options.afterRefresh({ refreshedAt: run.startedAt, rows: run.rows!, durationMs: run.durationMs, tags: STATS_REFRESH_TAGS });
    } catch (error) {
      logger.error({ err: error }, `the after-refresh hook of ${USER_STATS_VIEW} failed`);
    }
  }
  return run;
}

/** One run on `client`, a connection of `pool` (which also carries a cancel); `discard` retires a connection left unusable. */
async function refreshOn(
  client: pg.PoolClient,
  discard: (reason: Error) => void,
  pool: pg.Pool,
  options: RefreshUserStatsOptions,
  logger: JobLogger,
): Promise<RefreshRun> {
  const { signal } = options;
  const startedAt = new Date();
  const started = performance.now();
  const finish = (outcome: RefreshRecord['outcome'], rows: number | null, error: string | null): RefreshRecord => ({
    outcome,
    startedAt,
    finishedAt: new Date(),
    durationMs: Math.round(performance.now() - started),
    rows,
    error,
  });

  let cancelling: Promise<void> | undefined;
  let processId: number | undefined;
  const cancel = () => {
    if (processId === undefined) return;
    cancelling ??= cancelBackendStatement(pool, processId).catch((error: unknown) =>
      logger.warn({ err: error }, `could not cancel the refresh of ${USER_STATS_VIEW}`),
    );
  };
  // Cleared when withTransaction could not roll back: the connection is gone.
  let usable = true;
  const retire = (reason: Error) => {
    usable = false;
    discard(reason);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    // Another refresher at work would give the same result: skip rather than queue.
    const lock = { key: STATS_REFRESH_LOCK_KEY, wait: 'try' } as const;
    const run = await withTransaction({ client, discard: retire }, { statementTimeoutMs: options.statementTimeoutMs, locks: [lock] }, async (transaction) => {
      // The backend to cancel is the one running this transaction, asked
      // inside it: behind a pooler in transaction mode (PgBouncer), a
      // statement before BEGIN may have run on another server connection,
      // and a cancel sent there would hit whoever uses it now. For the same
      // reason a cancel is only sent while the transaction is open, and
      // lands before it ends: after COMMIT or ROLLBACK the backend may serve
      // another client at once.
      try {
        signal?.throwIfAborted();
        const { rows: backend } = await transaction.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        processId = backend[0]?.pid;
        if (options.dueAfterMs !== undefined) {
          const lastRefreshAt = await findLastStatsRefresh(transaction);
          // Committed with nothing written: the lock goes, as after a rollback.
          if (lastRefreshAt && Date.now() - lastRefreshAt.getTime() < options.dueAfterMs) return { outcome: 'not-due', lastRefreshAt } as const;
        }
        signal?.throwIfAborted();
        const rows = await refreshStatsViews(transaction, { concurrently: true });
        const succeeded = finish('succeeded', rows, null);
        await recordStatsRefresh(transaction, succeeded);
        return succeeded;
      } finally {
        processId = undefined;
        await cancelling;
      }
    });
    if (run === LOCK_HELD) {
      const skipped = finish('skipped', null, null);
      await recordStatsRefresh(client, skipped);
      logger.info({ view: USER_STATS_VIEW }, `skipped the refresh of ${USER_STATS_VIEW}: another refresh is running`);
      return skipped;
    }
    if (run.outcome === 'not-due') logger.debug({ view: USER_STATS_VIEW, lastRefreshAt: run.lastRefreshAt }, `${USER_STATS_VIEW} is fresh: not refreshed`);
    return run;
  } catch (error) {
    // withTransaction rolled back. A statement timeout or a cancel ends the
    // statement, not the session: the connection is clean (the lock and the
    // timeout were the transaction's) unless the rollback failed too.
    const cancelled = signal?.aborted === true;
    const failed = finish(cancelled ? 'cancelled' : 'failed', null, cancelled ? `cancelled: ${describe(signal.reason)}` : describe(error));
    // On another connection when this one is gone; if the database is gone too, the log says it.
    await recordStatsRefresh(usable ? client : pool, failed).catch((recordError: unknown) => {
      logger.error({ err: recordError }, `could not record the failed refresh of ${USER_STATS_VIEW}`);
    });
    if (cancelled) logger.warn({ view: USER_STATS_VIEW, durationMs: failed.durationMs }, `cancelled the refresh of ${USER_STATS_VIEW}`);
    else logger.error({ view: USER_STATS_VIEW, durationMs: failed.durationMs, err: error }, `the refresh of ${USER_STATS_VIEW} failed; next tick retries`);
    return failed;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/**
 * The seed's refresh: inside the caller's transaction, which holds the
 * refresh lock (STATS_REFRESH_LOCK_KEY in withTransaction's `locks`); views
 * rebuilt whole (nobody can read the seed's tables before it commits),
 * recorded like any refresh.
 */
export async function refreshUserStatsInTransaction(client: pg.ClientBase): Promise<RefreshRecord> {
  const startedAt = new Date();
  const started = performance.now();
  const rows = await refreshStatsViews(client, { concurrently: false });
  const record: RefreshRecord = {
    outcome: 'succeeded',
    startedAt,
    finishedAt: new Date(),
    durationMs: Math.round(performance.now() - started),
    rows,
    error: null,
  };
  await recordStatsRefresh(client, record);
  return record;
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
