// `npm run db:refresh`: refreshes the statistics views of DATABASE_URL (or the
// embedded database) now, with the scheduled job's code, lock and log, drops
// the answers built on the old figures from the response cache in Redis (as
// the server's own refresh does), and prints how long it took and the rows
// it holds.
import { once } from 'node:events';
import type pg from 'pg';
import { createRedisStore } from '../cache/redis-store.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { COMMITTED_LSN_SQL, parseLsn } from '../db/lsn.js';
import { createRedisClient, withinDeadline, type Redis } from '../db/redis.js';
import { createRedisWritePositions } from '../db/write-positions.js';
import { refreshUserStats } from '../jobs/refresh-user-stats.js';
import { CliError, parseCliArguments, reportLostConnection, runCli } from './run-cli.js';

const USAGE = `Usage: npm run db:refresh
       node dist/cli/refresh.js   (the built tool, as in the container image)

Refreshes the leaderboards' statistics (user_stats_summary and its ranks) now,
with the scheduled job's code, lock and log, in DATABASE_URL or, when it is
unset, the embedded database (through the running server when there is one).
With REDIS_URL set (and RESPONSE_CACHE or LOADER_CACHE not off), then drops
every cached leaderboard and statistic from the caches there, as the server's
own refresh does. Exits 1 when another refresh is running, this one fails, or the
cached answers could not be dropped.

  --help   show this help`;

/** How long the command waits for Redis to accept its connection. */
const REDIS_CONNECT_TIMEOUT_MS = 5_000;

await runCli(async () => {
  if (!parseCliArguments(USAGE, {})) return;
  const config = loadConfig();
  const database = await openDatabase(config, { applicationName: 'parley-refresh', onError: reportLostConnection });
  // The servers' response cache, where this command can reach it: in Redis.
  // An in-process cache (no REDIS_URL) is each server's own, out of reach.
  const redis =
    (config.responseCache || config.loaderCache.enabled) && config.redisUrl
      ? createRedisClient({ url: config.redisUrl, connectionName: 'parley-refresh' })
      : undefined;
  try {
    // What the server's refresh hook does (main.ts): the response cache drops
    // the refresh's tags (Leaderboard, Stats), on every instance sharing it.
    let dropped: { count: number } | { error: Error } | undefined;
    const run = await refreshUserStats(database.pool, {
      statementTimeoutMs: config.statsRefresh.statementTimeoutMs,
      afterRefresh: redis
        ? async (event) => {
            try {
              await connected(redis);
              await raiseLastWrite(database.pool, redis);
              dropped = { count: await createRedisStore({ redis }).invalidate(event.tags) };
            } catch (error) {
              dropped = { error: error as Error };
            }
          }
        : undefined,
    });
    if (run.outcome === 'succeeded') {
      console.log(`refreshed user_stats_summary: ${run.rows} rows in ${run.durationMs} ms`);
      if (dropped && 'error' in dropped) {
        throw new CliError(
          `the cached leaderboards and statistics could not be dropped from Redis at REDIS_URL (${dropped.error.message}):\n` +
            'the servers serve them until they expire (their maxAge); run the command again once Redis answers',
        );
      }
      if (dropped) console.log(`dropped ${dropped.count} cached answers built on the old figures (leaderboards, statistics)`);
      return;
    }
    if (run.outcome === 'skipped') {
      // The refresh in progress may have read the data before the change this one was run for.
      throw new CliError('skipped: another refresh of user_stats_summary is running; run again once it ends');
    }
    if (run.outcome === 'not-due') throw new Error('a refresh without dueAfterMs is always due');
    throw new CliError(
      `the refresh of user_stats_summary ${run.outcome} after ${run.durationMs} ms: ${run.error}\n` +
        '(the views keep their previous rows; STATS_REFRESH_STATEMENT_TIMEOUT_MS sets the statement timeout)',
    );
  } finally {
    // QUIT after the invalidation's commands: Redis runs them first.
    await redis?.quit().catch(() => redis.disconnect());
    await database.close();
  }
});

/**
 * What a server's refresh does before it invalidates (app.invalidate): the
 * last write's position in Redis is raised to the primary's current one, so
 * that servers with read replicas store no answer read on a replica that has
 * not replayed this refresh. A position that cannot be read (a database
 * without one) raises nothing; a Redis that fails here fails the
 * invalidation next, which says so.
 */
async function raiseLastWrite(pool: Pick<pg.Pool, 'query'>, redis: Redis): Promise<void> {
  const { rows } = await pool.query<{ lsn: string }>(COMMITTED_LSN_SQL).catch(() => ({ rows: [] as { lsn: string }[] }));
  const position = parseLsn(rows[0]?.lsn);
  if (position === undefined) return;
  const logger = { warn: () => {}, info: () => {} };
  await createRedisWritePositions({ redis, ttlMs: 60_000, currentLsn: async () => position, logger }).record(undefined, position);
}

/** Resolves once the client can send commands (it has no offline queue); rejects after REDIS_CONNECT_TIMEOUT_MS. */
async function connected(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await withinDeadline(once(redis, 'ready'), REDIS_CONNECT_TIMEOUT_MS, 'Redis at REDIS_URL');
}
