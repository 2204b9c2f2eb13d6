import type pg from 'pg';
import { refreshUserStats, type AfterStatsRefresh, type JobLogger, type RefreshRun } from './refresh-user-stats.js';

export interface StatsRefresherOptions {
  /** The refresh holds one of its connections while it runs. */
  pool: pg.Pool;
  logger: JobLogger;
  /** Seconds between ticks (STATS_REFRESH_INTERVAL_SECONDS); 0 starts nothing. */
  intervalSeconds: number;
  /** Per refresh statement (STATS_REFRESH_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
  /** Called after each successful refresh of this instance; see AfterStatsRefresh. */
  afterRefresh?: AfterStatsRefresh;
  /** Called after every tick with its run, whatever the outcome (tests, metrics). Default: nothing. */
  onTick?: (run: RefreshRun) => void;
}

export interface StatsRefresher {
  /**
   * Stops the schedule. A refresh in progress is cancelled (PostgreSQL
   * rolls it back; the views keep their previous rows) and recorded as
   * cancelled; resolves once it has ended and its connection is back in the
   * pool, so the pool can be closed next.
   */
  stop(): Promise<void>;
}

// A tick is due when the last refresh ended at least an interval ago, less
// this much: the instance that refreshed last ticks exactly one interval
// after its refresh ended, and must not find itself a moment early.
const DUE_SLACK_MS = 1_000;

/**
 * Refreshes the statistics views every `intervalSeconds`, the first time
 * at once. Every API instance runs one; between them:
 * - one refreshes at a time: the others find the refresh lock taken and
 *   skip (recorded), never queue behind it;
 * - one refreshes per interval: a tick finding the last refresh (by any
 *   instance) less than an interval old does nothing, so N instances do
 *   not refresh N times per interval. The figures are at most about one
 *   interval plus one refresh old while an instance runs.
 * Ticks never overlap: the next is scheduled when one ends. A failure is
 * logged and recorded, and the next tick tries again; nothing here throws.
 */
export function startStatsRefresher(options: StatsRefresherOptions): StatsRefresher {
  const { logger } = options;
  if (options.intervalSeconds === 0) {
    logger.info({}, 'statistics refresh off (STATS_REFRESH_INTERVAL_SECONDS=0)');
    return { stop: async () => {} };
  }
  const intervalMs = options.intervalSeconds * 1000;
  const aborter = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tick = async () => {
    try {
      const run = await refreshUserStats(options.pool, {
        statementTimeoutMs: options.statementTimeoutMs,
        dueAfterMs: Math.max(0, intervalMs - DUE_SLACK_MS),
        logger,
        afterRefresh: options.afterRefresh,
        signal: aborter.signal,
      });
      options.onTick?.(run);
    } catch (error) {
      // No connection could be had: nothing was recorded, the log says it.
      logger.error({ err: error }, 'statistics refresh could not reach the database; next tick retries');
    }
  };
  const schedule = (delayMs: number) => {
    if (aborter.signal.aborted) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    // The server keeps the process alive, not this timer.
    timer.unref();
  };
  schedule(0);
  logger.info({ intervalSeconds: options.intervalSeconds }, `statistics refresh every ${options.intervalSeconds} s`);

  return {
    async stop() {
      aborter.abort(new Error('the process is shutting down'));
      clearTimeout(timer);
      await running;
    },
  };
}
