// `npm run bench:leaderboard -- [--users N] [--conversations N] [--messages N]` (--help for all):
// the leaderboards against docs/design.md's budgets, side by side in one run, on
// one seeded database, every latency measured with CONCURRENCY clients at once:
//
// 1. each leaderboard's top 100 from the statistics views vs the same
//    ranking by a live aggregate over the base tables (test/support/live-ranking.ts):
//    materializedViewSpeedup, budget ≥ 100×;
// 2. the first page vs a deep page (rank at 90% of the users) of every
//    leaderboard, with the page statement before this change (rank = 1 +
//    a count of the users above, keyset as one OR) and after (ranks read
//    from user_stats_ranks, keyset as two range scans), in SQL and through
//    the API: budget, a deep page costs at most 2× the first;
// 3. the refresh's duration while readers read, and in a rolled-back
//    transaction the designs it was chosen against.
//
// BENCH_DATABASE_URL (default: a `parley_bench_leaderboard_<users>` database
// on TEST_POSTGRES_URL's server) is created if missing, migrated, and seeded
// when it does not hold the scale asked for; later runs reuse it.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { seedDatabase } from '../src/cli/seed/seed.js';
import { createApp } from '../src/app/create-app.js';
import { createServer } from '../src/http/server.js';
import { refreshUserStats } from '../src/jobs/refresh-user-stats.js';
import { refreshStatsViews } from '../src/jobs/sql.js';
import { encodeLeaderboardCursor, type LeaderboardKeyset } from '../src/modules/leaderboards/cursor.js';
import { LEADERBOARDS } from '../src/modules/leaderboards/metrics.js';
import { findLeaderboardPage } from '../src/modules/leaderboards/sql.js';
import { benchDatabaseUrl, createDatabaseIfMissing } from './database.js';
import { percentile } from './stats.js';
import { liveRankingSql } from '../test/support/live-ranking.js';
import { benchArguments } from './arguments.js';

const USAGE = `Usage: npm run bench:leaderboard -- [options]
  --users N --conversations N --messages N   the data (default 10000, 50000, 1000000; seed 7)
  --requests N        calls per variant, spread over the rounds (default 300)
  --concurrency N     clients at once (default 4)
Prints the report (with materializedViewSpeedup) and writes it to bench/reports/leaderboard-<users>-users.md.
The database: BENCH_DATABASE_URL, or parley_bench_leaderboard_<users> on TEST_POSTGRES_URL's server;
seeded on the first run at a scale, reused after.`;

const { values, whole } = benchArguments(USAGE, {
  users: { type: 'string', default: '10000' },
  conversations: { type: 'string', default: '50000' },
  messages: { type: 'string', default: '1000000' },
  requests: { type: 'string', default: '300' },
  concurrency: { type: 'string', default: '4' },
});
const positive = (name: string, value: string | undefined): number => whole(name, value, 1);
const SCALE = {
  users: positive('users', values.users),
  conversations: positive('conversations', values.conversations),
  messages: positive('messages', values.messages),
  seed: 7,
};
const REQUESTS = positive('requests', values.requests);
const CONCURRENCY = positive('concurrency', values.concurrency);
const PAGE_SIZE = 20;
const DEPTH = Math.floor(SCALE.users * 0.9);

const benchUrl = benchDatabaseUrl(`parley_bench_leaderboard_${SCALE.users}`);

interface Figures {
  samples: number;
  p50: number;
  p95: number;
}

/**
 * `requests` calls of `operation`, CONCURRENCY at a time, after a warm-up;
 * stops early after `seconds` (with at least 2 per client) so the slow
 * variants do not take all day.
 */
async function measure(operation: () => Promise<unknown>, options: { requests?: number; seconds?: number } = {}): Promise<number[]> {
  const requests = options.requests ?? REQUESTS;
  const deadline = performance.now() + (options.seconds ?? 60) * 1000;
  for (let warmup = 0; warmup < 2; warmup += 1) await operation();
  const times: number[] = [];
  let started = 0;
  const client = async () => {
    while (started < requests && (started < 2 * CONCURRENCY || performance.now() < deadline)) {
      started += 1;
      const begin = performance.now();
      await operation();
      times.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return times;
}

function summarize(times: number[]): Figures {
  const sorted = [...times].sort((a, b) => a - b);
  return { samples: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/**
 * Measures the variants in `rounds` alternating rounds, so that a noisy
 * neighbour (this machine is shared) hits them all alike.
 */
async function sideBySide<K extends string>(
  variants: Record<K, { run: () => Promise<unknown>; requests?: number; seconds?: number }>,
  rounds: number,
): Promise<Record<K, Figures>> {
  const samples = Object.fromEntries(Object.keys(variants).map((key) => [key, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round += 1) {
    for (const [key, variant] of Object.entries(variants) as [K, (typeof variants)[K]][]) {
      samples[key].push(
        ...(await measure(variant.run, {
          requests: Math.ceil((variant.requests ?? REQUESTS) / rounds),
          seconds: (variant.seconds ?? 60) / rounds,
        })),
      );
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([key, times]) => [key, summarize(times as number[])])) as Record<K, Figures>;
}

// The statements of a page as they were before this change, for the
// side-by-side figures: the page, then the viewer's entry.
const pageBefore = async (db: pg.Pool, column: string, after: LeaderboardKeyset | null, viewerId: number) => {
  await db.query(
    `SELECT s.user_id AS "userId", s.${column} AS value,
            (SELECT count(*) FROM user_stats_summary higher WHERE higher.${column} > s.${column})::int + 1 AS rank
     FROM user_stats_summary s
     WHERE $1::int IS NULL OR s.${column} < $1 OR (s.${column} = $1 AND s.user_id > $2)
     ORDER BY s.${column} DESC, s.user_id
     LIMIT $3`,
    [after?.value ?? null, after?.userId ?? null, PAGE_SIZE + 1],
  );
  await db.query(
    `SELECT s.user_id AS "userId", s.${column} AS value,
            (SELECT count(*) FROM user_stats_summary higher WHERE higher.${column} > s.${column})::int + 1 AS rank
     FROM user_stats_summary s WHERE s.user_id = $1`,
    [viewerId],
  );
};

await createDatabaseIfMissing(benchUrl);
// The live aggregates take seconds each (streaks over 1M messages), more on a loaded machine: no 15 s cut.
// Pages are measured uncached (RESPONSE_CACHE=off): what a page costs when it runs.
const config = loadConfig({
  ...process.env,
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  DATABASE_URL: benchUrl,
  DATABASE_STATEMENT_TIMEOUT_MS: '600000',
  JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  RESPONSE_CACHE: 'off',
  LOADER_CACHE: 'off',
});
const pool = createPool(benchUrl, config.database, { applicationName: 'parley-bench' });
await migrate(pool, { log: () => {} });
const { rows: counted } = await pool.query<{ users: number; messages: number }>(
  'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM messages) AS messages',
);
if (counted[0]!.users !== SCALE.users || counted[0]!.messages !== SCALE.messages) {
  console.log(`seeding ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages…`);
  await seedDatabase(pool, { ...SCALE, reset: true });
}
const initial = await refreshUserStats(pool, { statementTimeoutMs: 0 });
if (initial.outcome !== 'succeeded') throw new Error(`the refresh before the benchmark ended ${initial.outcome}`);
await pool.query('VACUUM (ANALYZE) user_stats_summary, user_stats_ranks, materialized_view_refreshes');
const { rows: todayRows } = await pool.query<{ today: string }>("SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS today");
const today = todayRows[0]!.today;

// 1. View vs live aggregate, top 100.
console.log('view vs live aggregate…');
// What each live ranking reads: the messages themselves, or what writes keep
// up to date already (users.xp, the per-day rollup user_daily_activity).
const LIVE_SOURCE: Record<string, string> = {
  xp: 'users.xp',
  xp_7d: 'user_daily_activity',
  xp_30d: 'user_daily_activity',
  total_messages: 'messages',
  messages_7d: 'messages',
  messages_30d: 'messages',
  current_streak: 'messages',
  max_streak: 'messages',
};
const speedups: { board: string; source: string; view: Figures; live: Figures; ratio: number }[] = [];
for (const { metric, period, column } of LEADERBOARDS) {
  const figures = await sideBySide(
    {
      view: { run: () => findLeaderboardPage(pool, column, { size: 100, after: null, viewerId: null }) },
      live: { run: () => pool.query(liveRankingSql(column), [today, 100]), requests: 24, seconds: 45 },
    },
    3,
  );
  speedups.push({ board: `${metric} ${period}`, source: LIVE_SOURCE[column]!, ...figures, ratio: figures.live.p50 / figures.view.p50 });
}

// 2. First vs deep page, before and after, in SQL and through the API.
console.log('first vs deep pages…');
const app = await createApp(config, { pool });
const { auth } = app;
const { fastify } = await createServer(app);
await fastify.listen({ host: '127.0.0.1', port: 0 });
const apiUrl = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}/graphql`;
const PAGE_QUERY = `query Page($metric: LeaderboardMetric!, $period: LeaderboardPeriod, $after: String) {
  leaderboard(metric: $metric, period: $period, first: ${PAGE_SIZE}, after: $after) {
    edges { cursor node { rank value user { id username displayName avatarUrl level } } }
    pageInfo { hasNextPage endCursor }
    viewerEntry { rank value }
    refreshedAt
  }
}`;
let apiStatements = 0;
const apiPage = async (variables: Record<string, unknown>, token: string) => {
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: PAGE_QUERY, variables }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(`the leaderboard failed: ${JSON.stringify(body.errors)}`);
  apiStatements = Math.max(apiStatements, Number(response.headers.get('x-sql-statements')));
};
const depths: { board: string; before: { first: Figures; deep: Figures }; after: { first: Figures; deep: Figures }; api: { first: Figures; deep: Figures } }[] =
  [];
for (const { metric, period, column } of LEADERBOARDS) {
  const { rows } = await pool.query<LeaderboardKeyset>(
    `SELECT ${column} AS value, user_id AS "userId" FROM user_stats_summary ORDER BY ${column} DESC, user_id OFFSET $1 LIMIT 1`,
    [DEPTH - 1],
  );
  const deep = rows[0]!;
  // The viewer is the user at that depth: the viewer's entry is part of the deep page's cost.
  const token = await auth.issueToken(deep.userId);
  const after = encodeLeaderboardCursor(column, deep);
  const figures = await sideBySide(
    {
      beforeFirst: { run: () => pageBefore(pool, column, null, deep.userId) },
      beforeDeep: { run: () => pageBefore(pool, column, deep, deep.userId), seconds: 30 },
      afterFirst: { run: () => findLeaderboardPage(pool, column, { size: PAGE_SIZE, after: null, viewerId: deep.userId }) },
      afterDeep: { run: () => findLeaderboardPage(pool, column, { size: PAGE_SIZE, after: deep, viewerId: deep.userId }) },
      apiFirst: { run: () => apiPage({ metric, period }, token) },
      apiDeep: { run: () => apiPage({ metric, period, after }, token) },
    },
    10,
  );
  depths.push({
    board: `${metric} ${period}`,
    before: { first: figures.beforeFirst, deep: figures.beforeDeep },
    after: { first: figures.afterFirst, deep: figures.afterDeep },
    api: { first: figures.apiFirst, deep: figures.apiDeep },
  });
}
await fastify.close();

// 3. The refresh, while CONCURRENCY readers read first pages of every leaderboard.
console.log('refresh…');
let reading = true;
const readerTimes: number[] = [];
const readers = Array.from({ length: CONCURRENCY }, async (_unused, index) => {
  for (let n = index; reading; n += 1) {
    const begin = performance.now();
    await findLeaderboardPage(pool, LEADERBOARDS[n % LEADERBOARDS.length]!.column, { size: PAGE_SIZE, after: null, viewerId: null });
    readerTimes.push(performance.now() - begin);
  }
});
const refreshTimes: number[] = [];
for (let run = 0; run < 3; run += 1) {
  const result = await refreshUserStats(pool, { statementTimeoutMs: 0 });
  if (result.outcome !== 'succeeded') throw new Error(`a refresh ended ${result.outcome}`);
  refreshTimes.push(result.durationMs);
}
reading = false;
await Promise.all(readers);

// The designs the shipped one was chosen against, refreshed concurrently in
// one transaction that is rolled back: each view once as the data stands
// ("quiet"), then after 1% of the users sent 5 messages today ("active").
//   shipped:     user_stats_summary + user_stats_ranks
//   rankColumns: user_stats_summary with a rank column per metric
//   refreshedAt: user_stats_summary with now() in every row (before this change)
console.log('refresh designs…');
const METRIC_COLUMNS = [...new Set(LEADERBOARDS.map((board) => board.column))];
const designs: Record<string, { quiet: number; active: number }> = {};
const client = await pool.connect();
try {
  await client.query('BEGIN');
  await client.query("SET LOCAL statement_timeout = 0; SET LOCAL work_mem = '64MB'");
  const { rows: definition } = await client.query<{ sql: string }>("SELECT pg_get_viewdef('user_stats_summary'::regclass) AS sql");
  const summary = definition[0]!.sql.replace(/;\s*$/, '');
  const indexes = async (view: string) => {
    await client.query(`CREATE UNIQUE INDEX ON ${view} (user_id)`);
    for (const column of METRIC_COLUMNS) await client.query(`CREATE INDEX ON ${view} (${column} DESC, user_id)`);
  };
  const ranks = METRIC_COLUMNS.map((column) => `rank() OVER (ORDER BY ${column} DESC)::integer AS ${column}_rank`).join(', ');
  await client.query(`CREATE MATERIALIZED VIEW bench_rank_columns AS SELECT s.*, ${ranks} FROM (${summary}) s`);
  await indexes('bench_rank_columns');
  // clock_timestamp(), not now(): now() stands still within this transaction,
  // and every refresh must change the column, as each of its own would.
  await client.query(`CREATE MATERIALIZED VIEW bench_refreshed_at AS SELECT s.*, clock_timestamp()::timestamptz(3) AS refreshed_at FROM (${summary}) s`);
  await indexes('bench_refreshed_at');
  const timed = async (work: () => Promise<unknown>) => {
    const begin = performance.now();
    await work();
    return performance.now() - begin;
  };
  const refreshAll = async () => ({
    shipped: await timed(() => refreshStatsViews(client, { concurrently: true })),
    rankColumns: await timed(() => client.query('REFRESH MATERIALIZED VIEW CONCURRENTLY bench_rank_columns')),
    refreshedAt: await timed(() => client.query('REFRESH MATERIALIZED VIEW CONCURRENTLY bench_refreshed_at')),
  });
  // Five of each, the designs alternating; the median of each is reported.
  const quietRuns = [];
  for (let run = 0; run < 5; run += 1) quietRuns.push(await refreshAll());
  const activeRuns = [];
  for (let run = 0; run < 5; run += 1) {
    await client.query(
      `WITH active AS (SELECT id FROM users WHERE id % 100 = $1),
       activity AS (
         INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
         SELECT id, (now() AT TIME ZONE 'UTC')::date, 5, 50 FROM active
         ON CONFLICT (user_id, day) DO UPDATE
           SET messages_count = user_daily_activity.messages_count + 5, xp_earned = user_daily_activity.xp_earned + 50
       )
       UPDATE users SET xp = xp + 50 WHERE id IN (SELECT id FROM active)`,
      [run],
    );
    activeRuns.push(await refreshAll());
  }
  const median = (runs: Record<string, number>[], design: string) => summarize(runs.map((run) => run[design]!)).p50;
  const quiet = quietRuns[0]!;
  for (const design of Object.keys(quiet)) designs[design] = { quiet: median(quietRuns, design), active: median(activeRuns, design) };
} finally {
  await client.query('ROLLBACK');
  client.release();
}
await app.close();
await pool.end();

// Report.
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const times = (value: number) => `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}×`;
const overMessages = speedups.filter((row) => row.source === 'messages');
const minimumSpeedup = Math.min(...overMessages.map((row) => row.ratio));
const worstDeep = Math.max(...depths.map((row) => row.after.deep.p50 / row.after.first.p50));
const worstApiDeep = Math.max(...depths.map((row) => row.api.deep.p50 / row.api.first.p50));
const medianApiDeep = summarize(depths.map((row) => row.api.deep.p50 / row.api.first.p50)).p50;
const refreshMedian = summarize(refreshTimes).p50;
const summary = {
  users: SCALE.users,
  messages: SCALE.messages,
  materializedViewSpeedup: Object.fromEntries(speedups.map((row) => [row.board, Number(row.ratio.toFixed(1))])),
  materializedViewSpeedupOverMessages: Number(minimumSpeedup.toFixed(1)),
  deepPageOverFirstSql: Number(worstDeep.toFixed(2)),
  deepPageOverFirstApi: Number(worstApiDeep.toFixed(2)),
  deepPageOverFirstApiMedian: Number(medianApiDeep.toFixed(2)),
  refreshMs: Math.round(refreshMedian),
  leaderboardStatements: apiStatements,
};
const lines = [
  `# Leaderboard benchmark (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Data: ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages (seed ${SCALE.seed}).`,
  `Latencies in ms, p50 / p95, with ${CONCURRENCY} clients at once; variants alternate in rounds (3 for live aggregates, 10 for pages).`,
  '',
  `## Top 100: statistics views vs live aggregate (budget ≥ 100×)`,
  '',
  `materializedViewSpeedup, the smallest over the leaderboards that aggregate messages (p50): **${times(minimumSpeedup)}**.`,
  'XP is not aggregated from messages: each write keeps users.xp and the per-day rollup user_daily_activity up to date,',
  'so its live ranking sorts those (the view then saves the sort and the rank, not an aggregate).',
  '',
  '| leaderboard | live ranking reads | view | live | live ÷ view (p50) |',
  '| --- | --- | ---: | ---: | ---: |',
  ...speedups.map(
    (row) =>
      `| ${row.board} | ${row.source} | ${ms(row.view.p50)} / ${ms(row.view.p95)} | ${ms(row.live.p50)} / ${ms(row.live.p95)} (${row.live.samples} runs) | ${times(row.ratio)} |`,
  ),
  '',
  `## First page vs a page at rank ${DEPTH.toLocaleString('en')} of ${SCALE.users.toLocaleString('en')} (budget: deep ≤ 2× first)`,
  '',
  `Pages of ${PAGE_SIZE} and the entry of a viewer at that depth. SQL: the statements the page and the viewer's entry cost`,
  `(before: two, page then entry; after: one). API: the whole GraphQL request (${apiStatements} SQL statements at most), over loopback.`,
  '',
  '| leaderboard | SQL before: first | deep | SQL after: first | deep | deep ÷ first | API: first | deep | deep ÷ first |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...depths.map(
    (row) =>
      `| ${row.board} | ${ms(row.before.first.p50)} / ${ms(row.before.first.p95)} | ${ms(row.before.deep.p50)} / ${ms(row.before.deep.p95)} ` +
      `| ${ms(row.after.first.p50)} / ${ms(row.after.first.p95)} | ${ms(row.after.deep.p50)} / ${ms(row.after.deep.p95)} | ${times(row.after.deep.p50 / row.after.first.p50)} ` +
      `| ${ms(row.api.first.p50)} / ${ms(row.api.first.p95)} | ${ms(row.api.deep.p50)} / ${ms(row.api.deep.p95)} | ${times(row.api.deep.p50 / row.api.first.p50)} |`,
  ),
  '',
  '## Refresh',
  '',
  `\`refreshUserStats\` (both views, CONCURRENTLY), 3 runs while ${CONCURRENCY} readers read first pages: ` +
    `${refreshTimes.map((value) => `${Math.round(value)} ms`).join(', ')}; the readers meanwhile: ` +
    `${ms(summarize(readerTimes).p50)} / ${ms(summarize(readerTimes).p95)} ms (p50 / p95, ${readerTimes.length} pages, max ${ms(Math.max(...readerTimes))} ms).`,
  '',
  'The designs compared (one rolled-back transaction, no readers; ms, the median of 5 each, designs alternating):',
  'quiet = nothing changed since the last refresh; active = after another 1% of the users sent 5 messages today.',
  '',
  '| design | quiet | active |',
  '| --- | ---: | ---: |',
  `| shipped: user_stats_summary + user_stats_ranks | ${Math.round(designs.shipped!.quiet)} | ${Math.round(designs.shipped!.active)} |`,
  `| a rank column per metric in user_stats_summary | ${Math.round(designs.rankColumns!.quiet)} | ${Math.round(designs.rankColumns!.active)} |`,
  `| refreshed_at = now() in every row (before) | ${Math.round(designs.refreshedAt!.quiet)} | ${Math.round(designs.refreshedAt!.active)} |`,
  '',
  '```json',
  JSON.stringify(summary),
  '```',
];
console.log(lines.join('\n'));
await mkdir(new URL('./reports/', import.meta.url), { recursive: true });
await writeFile(new URL(`./reports/leaderboard-${SCALE.users}-users.md`, import.meta.url), `${lines.join('\n')}\n`);
