// The statistics refresh (src/jobs): one refresher at a time among
// instances, every run recorded, failures survived, the after-refresh hook
// called once per success, shutdown cancelling cleanly (`npm run
// db:refresh`, the same code as a command: test/system/refresh-cli.test.ts).
import pg from 'pg';
import { refreshUserStats, STATS_REFRESH_TAGS, type JobLogger, type RefreshRun, type StatsRefreshedEvent } from '../../src/jobs/refresh-user-stats.js';
import { STATS_REFRESH_LOCK_KEY } from '../../src/jobs/sql.js';
import { startStatsRefresher } from '../../src/jobs/stats-refresher.js';
import { findLeaderboardPage } from '../../src/modules/leaderboards/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, messagesUntilNow, refreshStats, type FixtureUser } from '../support/fixtures.js';
import { blockStatsRefresh, waitForBlockedRefresh } from '../support/refresh-blocker.js';
import { lastRefreshId, refreshesSince } from '../support/refresh-log.js';

let database: TestDatabase;
let users: FixtureUser[];
let conversation: number;

beforeAll(async () => {
  database = await createTestDatabase();
  users = [await insertUser(database.pool, 'Ann'), await insertUser(database.pool, 'Ben'), await insertUser(database.pool, 'Cy')];
  conversation = await insertConversation(database.pool, { participants: users.map((user) => user.id), title: 'Stats' });
  await send(users[0]!, 3);
  await refreshStats(database.pool);
});
afterAll(() => database.close());

/** `user` sends `count` messages now: the next refresh changes the leaderboards. */
async function send(user: FixtureUser, count: number): Promise<void> {
  await insertMessages(database.pool, conversation, messagesUntilNow(user.id, count));
}

/** A JobLogger that keeps what it is told. */
function recordingLogger(): JobLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const keep = (level: string) => (_fields: object, message: string) => void lines.push({ level, message });
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** The top of the messages leaderboard as readers see it now. */
const topByMessages = async () => (await findLeaderboardPage(database.pool, 'total_messages', { size: 3, after: null, viewerId: null })).entries;

/** The ticks a refresher reports, and a way to wait for one of some outcome. */
function tickWatcher() {
  const runs: RefreshRun[] = [];
  const waiters: { outcome: string; resolve: (run: RefreshRun) => void }[] = [];
  return {
    runs,
    onTick: (run: RefreshRun) => {
      runs.push(run);
      for (const waiter of waiters.filter((candidate) => candidate.outcome === run.outcome)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(run);
      }
    },
    next(outcome: string, timeoutMs = 10_000): Promise<RefreshRun> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${outcome} tick within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ outcome, resolve: (run) => (clearTimeout(timer), resolve(run)) });
      });
    },
  };
}

describe('refreshUserStats', () => {
  it('refreshes both views, records the run with its rows and calls the hook once with the tags to invalidate', async () => {
    const since = await lastRefreshId(database.pool);
    await send(users[1]!, 5);
    const events: StatsRefreshedEvent[] = [];
    const logger = recordingLogger();
    const run = await refreshUserStats(database.pool, { statementTimeoutMs: 10_000, logger, afterRefresh: (event) => void events.push(event) });

    expect(run).toMatchObject({ outcome: 'succeeded', rows: 3, error: null });
    expect(await refreshesSince(database.pool, since)).toEqual([expect.objectContaining({ outcome: 'succeeded', rows: 3, error: null, ordered: true })]);
    expect((await topByMessages()).map((entry) => [entry.userId, entry.value, entry.rank])).toEqual([
      [users[1]!.id, 5, 1],
      [users[0]!.id, 3, 2],
      [users[2]!.id, 0, 3],
    ]);
    expect(events).toEqual([{ refreshedAt: (run as { startedAt: Date }).startedAt, rows: 3, durationMs: expect.any(Number), tags: STATS_REFRESH_TAGS }]);
    expect(STATS_REFRESH_TAGS).toEqual(['Leaderboard', 'Stats']);
    expect(logger.lines).toEqual([{ level: 'info', message: expect.stringMatching(/^refreshed user_stats_summary: 3 rows in \d+ ms$/) }]);
  });

  it('keeps a refresh whose hook throws, and logs the hook’s error', async () => {
    const logger = recordingLogger();
    const run = await refreshUserStats(database.pool, {
      statementTimeoutMs: 10_000,
      logger,
      afterRefresh: () => {
        throw new Error('cache unreachable');
      },
    });
    expect(run.outcome).toBe('succeeded');
    expect(logger.lines.map((line) => line.level)).toEqual(['info', 'error']);
    expect(logger.lines[1]!.message).toMatch(/after-refresh hook/);
  });

  it('two started together (two instances) refresh once; the other skips, records and logs the skip', async () => {
    const since = await lastRefreshId(database.pool);
    const instances = [new pg.Pool({ connectionString: database.url, max: 2 }), new pg.Pool({ connectionString: database.url, max: 2 })];
    const loggers = [recordingLogger(), recordingLogger()];
    const events: StatsRefreshedEvent[] = [];
    // Held in the middle, so that whichever takes the lock first still holds it when the other tries.
    const blocker = await blockStatsRefresh(database.url);
    try {
      const runs = instances.map((pool, index) =>
        refreshUserStats(pool, { statementTimeoutMs: 10_000, logger: loggers[index], afterRefresh: (event) => void events.push(event) }),
      );
      const first = await Promise.race(runs);
      expect(first.outcome).toBe('skipped');
      await waitForBlockedRefresh(database.pool);
      await blocker.release();
      expect((await Promise.all(runs)).map((run) => run.outcome).sort()).toEqual(['skipped', 'succeeded']);
    } finally {
      await blocker.release();
      await Promise.all(instances.map((pool) => pool.end()));
    }
    expect((await refreshesSince(database.pool, since)).map((row) => [row.outcome, row.rows, row.error])).toEqual([
      ['skipped', null, null],
      ['succeeded', 3, null],
    ]);
    expect(
      loggers
        .flatMap((logger) => logger.lines)
        .map((line) => line.message)
        .sort(),
    ).toEqual([expect.stringMatching(/^refreshed user_stats_summary/), 'skipped the refresh of user_stats_summary: another refresh is running']);
    expect(events).toHaveLength(1);
  });

  it('does nothing, and records nothing, when another instance refreshed within dueAfterMs', async () => {
    await refreshStats(database.pool);
    const since = await lastRefreshId(database.pool);
    const events: StatsRefreshedEvent[] = [];
    const notDue = await refreshUserStats(database.pool, { statementTimeoutMs: 10_000, dueAfterMs: 60_000, afterRefresh: (event) => void events.push(event) });
    expect(notDue.outcome).toBe('not-due');
    expect(await refreshesSince(database.pool, since)).toEqual([]);
    const due = await refreshUserStats(database.pool, { statementTimeoutMs: 10_000, dueAfterMs: 0, afterRefresh: (event) => void events.push(event) });
    expect(due.outcome).toBe('succeeded');
    expect(events).toHaveLength(1);
  });
});

describe('startStatsRefresher', () => {
  it('survives a failed refresh (statement timeout): the old figures stay readable, the failure is recorded, the next tick succeeds', async () => {
    const since = await lastRefreshId(database.pool);
    const before = await topByMessages();
    await send(users[2]!, 9);
    const watcher = tickWatcher();
    const events: StatsRefreshedEvent[] = [];
    const logger = recordingLogger();
    const blocker = await blockStatsRefresh(database.url);
    const refresher = startStatsRefresher({
      pool: database.pool,
      logger,
      intervalSeconds: 1,
      statementTimeoutMs: 300,
      afterRefresh: (event) => void events.push(event),
      onTick: watcher.onTick,
    });
    try {
      const failed = await watcher.next('failed');
      expect(failed).toMatchObject({ error: 'canceling statement due to statement timeout', rows: null });
      expect(await topByMessages()).toEqual(before);
      expect(events).toEqual([]);
      expect(logger.lines).toContainEqual({ level: 'error', message: 'the refresh of user_stats_summary failed; next tick retries' });

      await blocker.release();
      await watcher.next('succeeded');
      expect((await topByMessages())[0]).toMatchObject({ userId: users[2]!.id, value: 9, rank: 1 });
      expect(events).toHaveLength(1);
    } finally {
      await blocker.release();
      await refresher.stop();
    }
    // Failures while the blocker held (one, or two if it outlived a tick), then successes.
    const outcomes = (await refreshesSince(database.pool, since)).map((row) => row.outcome);
    const firstSuccess = outcomes.indexOf('succeeded');
    expect(firstSuccess).toBeGreaterThan(0);
    expect(new Set(outcomes.slice(0, firstSuccess))).toEqual(new Set(['failed']));
    expect(new Set(outcomes.slice(firstSuccess))).toEqual(new Set(['succeeded']));
  });

  it('stop() cancels a refresh in progress: rolled back, recorded as cancelled, lock released, no tick after', async () => {
    await refreshStats(database.pool);
    const since = await lastRefreshId(database.pool);
    const before = await topByMessages();
    await send(users[0]!, 20);
    const watcher = tickWatcher();
    const events: StatsRefreshedEvent[] = [];
    const blocker = await blockStatsRefresh(database.url);
    const refresher = startStatsRefresher({
      pool: database.pool,
      logger: recordingLogger(),
      intervalSeconds: 1,
      statementTimeoutMs: 60_000,
      afterRefresh: (event) => void events.push(event),
      onTick: watcher.onTick,
    });
    try {
      await waitForBlockedRefresh(database.pool);
      const stopping = performance.now();
      await refresher.stop();
      expect(performance.now() - stopping).toBeLessThan(2_000);
    } finally {
      await blocker.release();
    }
    expect(watcher.runs.map((run) => run.outcome).filter((outcome) => outcome !== 'not-due')).toEqual(['cancelled']);
    expect((await refreshesSince(database.pool, since)).map((row) => [row.outcome, row.error])).toEqual([
      ['cancelled', 'cancelled: the process is shutting down'],
    ]);
    const { rows: locks } = await database.pool.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [STATS_REFRESH_LOCK_KEY],
    );
    expect(locks).toEqual([]);
    expect(await topByMessages()).toEqual(before);
    expect(events).toEqual([]);
    const ticks = watcher.runs.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(watcher.runs).toHaveLength(ticks);
  });

  it('survives losing its connection mid-refresh: recorded through another, the process goes on, the next tick succeeds', async () => {
    const since = await lastRefreshId(database.pool);
    await send(users[1]!, 30);
    const watcher = tickWatcher();
    const blocker = await blockStatsRefresh(database.url);
    const refresher = startStatsRefresher({
      pool: database.pool,
      logger: recordingLogger(),
      intervalSeconds: 1,
      statementTimeoutMs: 60_000,
      onTick: watcher.onTick,
    });
    try {
      await waitForBlockedRefresh(database.pool);
      const failure = watcher.next('failed');
      await database.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'REFRESH MATERIALIZED VIEW%' AND wait_event_type = 'Lock'`,
      );
      expect(await failure).toMatchObject({ error: 'terminating connection due to administrator command' });
      await blocker.release();
      await watcher.next('succeeded');
      expect((await topByMessages())[0]).toMatchObject({ userId: users[1]!.id });
    } finally {
      await blocker.release();
      await refresher.stop();
    }
    expect((await refreshesSince(database.pool, since)).map((row) => [row.outcome, row.error]).slice(0, 2)).toEqual([
      ['failed', 'terminating connection due to administrator command'],
      ['succeeded', null],
    ]);
  });

  it('starts nothing with an interval of 0', async () => {
    const since = await lastRefreshId(database.pool);
    const logger = recordingLogger();
    const refresher = startStatsRefresher({ pool: database.pool, logger, intervalSeconds: 0, statementTimeoutMs: 1_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await refresher.stop();
    expect(await refreshesSince(database.pool, since)).toEqual([]);
    expect(logger.lines).toEqual([{ level: 'info', message: 'statistics refresh off (STATS_REFRESH_INTERVAL_SECONDS=0)' }]);
  });
});
