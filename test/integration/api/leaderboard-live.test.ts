// Leaderboards after a seed and a refresh equal the rankings computed live
// from the base tables (test/support/live-ranking.ts), page by page, ties
// and viewer entries included; and readers keep reading, unblocked, while a
// refresh runs.
import pg from 'pg';
import { seedDatabase } from '../../../src/cli/seed/seed.js';
import { refreshUserStats } from '../../../src/jobs/refresh-user-stats.js';
import { LEADERBOARDS } from '../../../src/modules/leaderboards/metrics.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, messagesUntilNow, refreshStats } from '../../support/fixtures.js';
import { liveRanking, type LiveEntry } from '../../support/live-ranking.js';
import { blockStatsRefresh, waitForBlockedRefresh } from '../../support/refresh-blocker.js';

const PAGE = `query Page($metric: LeaderboardMetric!, $period: LeaderboardPeriod, $first: Int, $after: String) {
  leaderboard(metric: $metric, period: $period, first: $first, after: $after) {
    edges { cursor node { rank value user { username } } }
    pageInfo { hasNextPage endCursor }
    viewerEntry { rank value user { username } }
    refreshedAt
  }
}`;

interface Entry {
  rank: number;
  value: number;
  user: { username: string };
}
interface PageData {
  leaderboard: {
    edges: { cursor: string; node: Entry }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    viewerEntry: Entry | null;
    refreshedAt: string | null;
  };
}

const USERS = 300;
let api: TestApi;
let usernames: Map<number, string>;
/** The start of the refresh that computed the views, the day the live rankings count as today. */
let refreshedAt: Date;

beforeAll(async () => {
  api = await startTestApi();
  const pool = api.database.pool;
  // Small enough for ties at every depth (many users share a count), big
  // enough for several pages and values spread over 90 days.
  await seedDatabase(pool, { users: USERS, conversations: 600, messages: 20_000, seed: 11 });
  await refreshStats(pool);
  const { rows } = await pool.query<{ id: number; username: string }>('SELECT id, username FROM users');
  usernames = new Map(rows.map((row) => [row.id, row.username]));
  const { rows: refreshes } = await pool.query<{ startedAt: Date }>(
    `SELECT started_at AS "startedAt" FROM materialized_view_refreshes WHERE outcome = 'succeeded' ORDER BY started_at DESC LIMIT 1`,
  );
  refreshedAt = refreshes[0]!.startedAt;
}, 60_000);
afterAll(() => api.close());

/** A live entry as the API shows it. */
const shown = (entry: LiveEntry) => ({ rank: entry.rank, value: entry.value, user: { username: usernames.get(entry.userId)! } });

async function page(metric: string, period: string, first: number, after: string | null, token?: string) {
  const result = await api.request<PageData>(PAGE, { metric, period, first, after }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.leaderboard;
}

describe.each(LEADERBOARDS)('leaderboard $metric over $period', ({ metric, period, column }) => {
  let live: LiveEntry[];
  /** Every edge, walked 100 at a time. */
  let walked: PageData['leaderboard']['edges'];

  beforeAll(async () => {
    live = await liveRanking(api.database.pool, column, refreshedAt);
    walked = [];
    let after: string | null = null;
    for (let guard = 0; guard < USERS; guard += 1) {
      const current: PageData['leaderboard'] = await page(metric, period, 100, after);
      walked.push(...current.edges);
      if (!current.pageInfo.hasNextPage) break;
      after = current.pageInfo.endCursor;
    }
  });

  it('is a ranking with ties and more than one rank (the comparison below is not vacuous)', () => {
    expect(live).toHaveLength(USERS);
    const ranks = new Set(live.map((entry) => entry.rank));
    expect(ranks.size).toBeGreaterThan(1);
    expect(ranks.size).toBeLessThan(USERS);
  });

  it('equals the live ranking, every entry of every page, ties ordered by user', () => {
    expect(walked.map(({ node }) => node)).toEqual(live.map(shown));
  });

  it('has the same first page and later page of 20 as the live ranking', async () => {
    const first = await page(metric, period, 20, null);
    expect(first.edges.map(({ node }) => node)).toEqual(live.slice(0, 20).map(shown));
    expect(new Date(first.refreshedAt!)).toEqual(refreshedAt);
    const later = await page(metric, period, 20, walked[149]!.cursor);
    expect(later.edges.map(({ node }) => node)).toEqual(live.slice(150, 170).map(shown));
  });

  it('gives each viewer their live entry: the top, one in a tie, the last', async () => {
    const tied = live.findIndex((entry, index) => index > 0 && entry.rank === live[index - 1]!.rank);
    for (const entry of [live[0]!, live[tied]!, live.at(-1)!]) {
      const current = await page(metric, period, 1, null, await api.tokenFor(entry.userId));
      expect(current.viewerEntry).toEqual(shown(entry));
    }
  });
});

describe('while a refresh runs', () => {
  /** What a reader sees: the top 10 by messages and the viewer's entry. */
  const read = async (token: string) => {
    const started = performance.now();
    const result = await api.request<PageData>(PAGE, { metric: 'MESSAGES', period: 'ALL_TIME', first: 10 }, { token });
    const finished = performance.now();
    const board = result.data?.leaderboard;
    return { started, finished, errors: result.errors, seen: board && { top: board.edges.map(({ node }) => node), viewer: board.viewerEntry } };
  };

  it('readers in a loop see no errors, are never held, and see the old figures, then the new', async () => {
    const pool = api.database.pool;
    // The user last by messages sends one more than the first has: first once the refresh commits.
    const live = await liveRanking(pool, 'total_messages', refreshedAt);
    const climber = live.at(-1)!.userId;
    const token = await api.tokenFor(climber);
    const before = (await read(token)).seen;
    const conversation = await insertConversation(pool, { participants: [climber, live[0]!.userId], title: 'Climbing' });
    const sent = live[0]!.value - live.at(-1)!.value + 1;
    await insertMessages(pool, conversation, messagesUntilNow(climber, sent));

    const blocker = await blockStatsRefresh(api.database.url);
    const refreshing = refreshUserStats(pool, { statementTimeoutMs: 0 });
    await waitForBlockedRefresh(pool);
    const reads: Awaited<ReturnType<typeof read>>[] = [];
    let reading = true;
    const readers = Array.from({ length: 3 }, async () => {
      while (reading) reads.push(await read(token));
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const heldUntil = performance.now();
    await blocker.release();
    const run = await refreshing;
    const refreshedBy = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    reading = false;
    await Promise.all(readers);
    const after = (await read(token)).seen;

    expect(run.outcome).toBe('succeeded');
    expect(after!.top[0]!.user.username).toBe(usernames.get(climber));
    expect(after).not.toEqual(before);
    expect(reads.filter((sample) => sample.errors !== undefined)).toEqual([]);
    for (const sample of reads) expect([before, after]).toContainEqual(sample.seen);
    // While the refresh held its view lock, readers came and went with the old figures:
    // a held reader would finish only after the release, 1.5 s on (however loaded the machine).
    const whileHeld = reads.filter((sample) => sample.finished < heldUntil);
    expect(whileHeld.length).toBeGreaterThanOrEqual(5);
    for (const sample of whileHeld) expect(sample.seen).toEqual(before);
    expect(Math.max(...whileHeld.map((sample) => sample.finished - sample.started))).toBeLessThan(1_000);
    // Once it committed, the new ones.
    const afterwards = reads.filter((sample) => sample.started > refreshedBy);
    expect(afterwards.length).toBeGreaterThan(0);
    for (const sample of afterwards) expect(sample.seen).toEqual(after);
  });

  it('would be held by a plain REFRESH (so the test above can tell)', async () => {
    const token = await api.tokenFor(1);
    const blocker = await blockStatsRefresh(api.database.url);
    const refresher = new pg.Client({ connectionString: api.database.url });
    await refresher.connect();
    try {
      await refresher.query('BEGIN');
      const refreshing = refresher.query('REFRESH MATERIALIZED VIEW user_stats_summary');
      await waitForBlockedRefresh(api.database.pool);
      const reader = read(token);
      const first = await Promise.race([reader.then(() => 'read'), new Promise((resolve) => setTimeout(() => resolve('held'), 500))]);
      expect(first).toBe('held');
      await blocker.release();
      await refreshing;
      await refresher.query('COMMIT');
      expect((await reader).errors).toBeUndefined();
    } finally {
      await blocker.release();
      await refresher.end();
    }
  });
});
