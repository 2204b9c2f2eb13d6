// Leaderboards read user_stats_summary: rank order, ties, paging, the
// viewer's own entry, and a statement count that does not grow with the page.
import { LeaderboardDocument, type LeaderboardQuery } from '../../../src/generated/graphql/operations.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, refreshStats, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let users: FixtureUser[];
/** Messages each user sends, in the order of `users`: ties on purpose. */
const SENT = [5, 9, 9, 2, 7, 0, 9, 1];

beforeAll(async () => {
  api = await startTestApi();
  const pool = api.database.pool;
  users = [];
  for (const [index] of SENT.entries()) users.push(await insertUser(pool, `Ranked${index}`));
  const conversation = await insertConversation(pool, { participants: users.map((user) => user.id), title: 'Everyone' });
  const now = Date.now();
  await insertMessages(
    pool,
    conversation,
    users.flatMap((user, index) => Array.from({ length: SENT[index]! }, (_unused, n) => ({ authorId: user.id, at: new Date(now - (n + 1) * 60_000) }))),
  );
  await refreshStats(pool);
});
afterAll(() => api.close());

/** Competition ranks (1, 2, 2, 4) of `values`, computed independently of the server. */
function expectedRanking(values: number[]): { userId: number; value: number; rank: number }[] {
  const rows = users.map((user, index) => ({ userId: user.id, value: values[index]! }));
  rows.sort((a, b) => b.value - a.value || a.userId - b.userId);
  return rows.map((row) => ({ ...row, rank: 1 + rows.filter((other) => other.value > row.value).length }));
}

describe('leaderboard', () => {
  it('ranks by XP, ties sharing a rank and ordered by user', async () => {
    const result = await api.request(LeaderboardDocument, { metric: 'XP', first: 100 });
    expect(result.errors).toBeUndefined();
    const entries = result.data!.leaderboard.edges.map(({ node }) => ({ value: node.value, rank: node.rank, username: node.user.username }));
    const expected = expectedRanking(SENT.map((sent) => sent * 10));
    expect(entries).toEqual(expected.map((row) => ({ value: row.value, rank: row.rank, username: users.find((user) => user.id === row.userId)!.username })));
    expect(entries.map((entry) => entry.rank).slice(0, 4)).toEqual([1, 1, 1, 4]);
    expect(result.data!.leaderboard.refreshedAt).not.toBeNull();
  });

  it('pages with after: every entry once, in order', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard += 1) {
      const result: GraphQLResult<LeaderboardQuery> = await api.request(LeaderboardDocument, {
        metric: 'MESSAGES',
        period: 'LAST_7_DAYS',
        first: 3,
        after,
      });
      expect(result.errors).toBeUndefined();
      const page = result.data!.leaderboard;
      seen.push(...page.edges.map(({ node }) => node.value));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(seen).toEqual(expectedRanking(SENT).map((row) => row.value));
  });

  it("gives the viewer's own entry wherever it falls", async () => {
    const viewer = users[3]!;
    const result = await api.request(LeaderboardDocument, { metric: 'XP', first: 1 }, { token: await api.tokenFor(viewer.id) });
    const expected = expectedRanking(SENT.map((sent) => sent * 10)).find((row) => row.userId === viewer.id)!;
    expect(result.data!.leaderboard.viewerEntry).toEqual({ rank: expected.rank, value: expected.value });
    const signedOut = await api.request(LeaderboardDocument, { metric: 'XP', first: 1 });
    expect(signedOut.data!.leaderboard.viewerEntry).toBeNull();
  });

  it('costs the same statements for 2 entries as for 8: the page with the viewer entry, then users', async () => {
    const token = await api.tokenFor(users[0]!.id);
    const small = await api.request(LeaderboardDocument, { metric: 'XP', first: 2 }, { token });
    const large = await api.request(LeaderboardDocument, { metric: 'XP', first: 8 }, { token });
    expect(large.data!.leaderboard.edges).toHaveLength(8);
    expect(large.data!.leaderboard.viewerEntry).not.toBeNull();
    expect(small.statements).toBe(2);
    expect(large.statements).toBe(2);
  });

  it('reads the viewer entry asked through fragments, in the page statement', async () => {
    const viewer = users[4]!;
    const token = await api.tokenFor(viewer.id);
    const expected = expectedRanking(SENT.map((sent) => sent * 10)).find((row) => row.userId === viewer.id)!;
    const throughFragment = await api.request(
      `query { leaderboard(metric: XP, first: 1) { ...Board } }
       fragment Board on LeaderboardConnection { ... on LeaderboardConnection { viewerEntry { rank value user { username } } } }`,
      {},
      { token },
    );
    expect(throughFragment.errors).toBeUndefined();
    expect(throughFragment.data).toEqual({
      leaderboard: { viewerEntry: { rank: expected.rank, value: expected.value, user: { username: viewer.username } } },
    });
    expect(throughFragment.statements).toBe(2);
  });

  it('refuses what it cannot answer with BAD_USER_INPUT', async () => {
    const streakPeriod = await api.request(LeaderboardDocument, { metric: 'STREAK', period: 'LAST_7_DAYS' });
    expect(errorCodes(streakPeriod)).toEqual(['BAD_USER_INPUT']);
    expect(streakPeriod.errors![0]!.extensions!.field).toBe('period');
    const tooMany = await api.request(LeaderboardDocument, { metric: 'XP', first: 101 });
    expect(errorCodes(tooMany)).toEqual(['BAD_USER_INPUT']);
    const page = await api.request(LeaderboardDocument, { metric: 'XP', first: 1 });
    const foreignCursor = await api.request(LeaderboardDocument, { metric: 'MESSAGES', after: page.data!.leaderboard.pageInfo.endCursor });
    expect(errorCodes(foreignCursor)).toEqual(['BAD_USER_INPUT']);
    const garbage = await api.request(LeaderboardDocument, { metric: 'XP', after: 'not-a-cursor' });
    expect(errorCodes(garbage)).toEqual(['BAD_USER_INPUT']);
  });
});
