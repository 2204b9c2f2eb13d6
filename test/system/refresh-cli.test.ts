// `npm run db:refresh` as a command, in its own process: the statistics
// refresh's code, lock and log (test/integration/stats-refresh.test.ts), run
// now; it says when another refresh holds the lock; with REDIS_URL, it drops
// the cached leaderboards and statistics of an API sharing that Redis (one in
// this test's process, on a redis-server of the test's own), as the API's own
// refresh does (stats-refresh-server.test.ts).
import { parseLsn, parseLsnKey } from '../../src/db/lsn.js';
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { STATS_REFRESH_LOCK_KEY } from '../../src/jobs/sql.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, messagesUntilNow, refreshStats, type FixtureUser } from '../support/fixtures.js';
import { runCommand } from '../support/processes.js';
import { freePort, startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { lastRefreshId, refreshesSince } from '../support/refresh-log.js';

let database: TestDatabase;
let users: FixtureUser[];
let conversation: number;

beforeAll(async () => {
  database = await createTestDatabase();
  users = [await insertUser(database.pool, 'Ann'), await insertUser(database.pool, 'Ben'), await insertUser(database.pool, 'Cy')];
  conversation = await insertConversation(database.pool, { participants: users.map((user) => user.id), title: 'Stats' });
  await insertMessages(database.pool, conversation, messagesUntilNow(users[0]!.id, 3));
  await refreshStats(database.pool);
});
afterAll(() => database.close());

/** The command, with DATABASE_URL and `env` only (not the REDIS_URL a developer's shell may hold). */
const refreshCli = (env: Record<string, string> = {}) => runCommand('src/cli/refresh.ts', [], { NODE_ENV: 'test', DATABASE_URL: database.url, ...env });

describe('npm run db:refresh', () => {
  it('refreshes now, records it, and prints the rows and the duration', async () => {
    const since = await lastRefreshId(database.pool);
    const result = await refreshCli();
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^refreshed user_stats_summary: 3 rows in \d+ ms\n$/), stderr: '' });
    expect((await refreshesSince(database.pool, since)).map((row) => [row.outcome, row.rows])).toEqual([['succeeded', 3]]);
  });

  it('says so and exits 1 when another refresh holds the lock', async () => {
    const holder = await database.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [STATS_REFRESH_LOCK_KEY]);
      const result = await refreshCli();
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'skipped: another refresh of user_stats_summary is running; run again once it ends\n' });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [STATS_REFRESH_LOCK_KEY]);
      holder.release();
    }
  });
});

describe('npm run db:refresh with REDIS_URL', () => {
  let ownRedis: OwnRedis;
  let redis: Redis;
  let api: TestApi;

  beforeAll(async () => {
    ownRedis = await startOwnRedis();
    redis = createRedisClient({ url: ownRedis.url });
    await new Promise((resolve) => redis.once('ready', resolve));
    api = await startTestApi({ RESPONSE_CACHE: 'on' }, database, { redis });
  });
  afterAll(async () => {
    await api.server.fastify.close();
    await api.server.app.close();
    redis.disconnect();
    await ownRedis.close();
  });

  /** The top of the messages leaderboard (a public answer the cache keeps for 300 s), and whether it came from the cache. */
  async function readTop(): Promise<{ cache: string | null; username: string | undefined }> {
    type Top = { leaderboard: { edges: { node: { user: { username: string } } }[] } };
    const result = await api.request<Top>('{ leaderboard(metric: MESSAGES, first: 1) { edges { node { user { username } } } } }');
    expect(result.errors).toBeUndefined();
    return { cache: result.headers.get('x-cache'), username: result.data?.leaderboard.edges[0]?.node.user.username };
  }

  it('drops the cached leaderboards and statistics, as the server’s own refresh does', async () => {
    await readTop();
    await api.server.app.responseCache!.drain();
    expect(await readTop()).toEqual({ cache: 'HIT', username: users[0]!.username });
    // Cy overtakes Ann in SQL, which drops nothing: only the refresh can make the cache show it before its 300 s are up.
    await insertMessages(database.pool, conversation, messagesUntilNow(users[2]!.id, 5));
    expect(await readTop()).toEqual({ cache: 'HIT', username: users[0]!.username });

    const { rows } = await database.pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const result = await refreshCli({ REDIS_URL: ownRedis.url });
    expect(await readTop()).toEqual({ cache: 'MISS', username: users[2]!.username });
    // Servers with read replicas store nothing read on one that has not replayed the refresh (docs/scale-out.md): the last write's position is past it.
    expect(parseLsnKey(await redis.get('parley:replicas:last-write'))).toBeGreaterThan(parseLsn(rows[0]!.lsn)!);
    expect(result).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        /^refreshed user_stats_summary: 3 rows in \d+ ms\ndropped 1 cached answers built on the old figures \(leaderboards, statistics\)\n$/,
      ),
      stderr: '',
    });
  });

  it('refreshes all the same, then says so and exits 1 when it cannot reach Redis', async () => {
    const since = await lastRefreshId(database.pool);
    const result = await refreshCli({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(result).toEqual({
      code: 1,
      stdout: expect.stringMatching(/^refreshed user_stats_summary: 3 rows in \d+ ms\n$/),
      stderr: expect.stringMatching(/^the cached leaderboards and statistics could not be dropped from Redis at REDIS_URL \(.*ECONNREFUSED.*\):\n/),
    });
    expect((await refreshesSince(database.pool, since)).map((row) => row.outcome)).toEqual(['succeeded']);
  });

  it('drops the statistics the servers’ loader caches keep (LOADER_CACHE=on, RESPONSE_CACHE=off)', async () => {
    const server = await startTestApi({ LOADER_CACHE: 'on' }, { ...database, close: async () => {} }, { redis });
    try {
      type Profile = { user: { stats: { totalMessages: number } } };
      const query = 'query ($id: ID!) { user(id: $id) { stats { totalMessages } } }';
      const variables = { id: toGlobalId('User', users[1]!.id) };
      // The first check on this Redis names its history of invalidations: that read keeps nothing, the next does.
      await server.request<Profile>(query, variables);
      const before = await server.request<Profile>(query, variables);
      expect((await server.request<Profile>(query, variables)).statements).toBe(0);
      // Ben writes in SQL, which drops nothing: only the refresh changes his statistics.
      await insertMessages(database.pool, conversation, messagesUntilNow(users[1]!.id, 2));
      expect((await server.request<Profile>(query, variables)).data).toEqual(before.data);

      const result = await refreshCli({ REDIS_URL: ownRedis.url, RESPONSE_CACHE: 'off' });
      expect(result.code).toBe(0);
      const after = await server.request<Profile>(query, variables);
      expect(after.data!.user.stats.totalMessages).toBe(before.data!.user.stats.totalMessages + 2);
    } finally {
      await server.server.fastify.close();
      await server.server.app.close();
    }
  });

  it('leaves Redis alone with RESPONSE_CACHE=off and LOADER_CACHE=off (the servers keep nothing there)', async () => {
    const result = await refreshCli({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, RESPONSE_CACHE: 'off', LOADER_CACHE: 'off' });
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^refreshed user_stats_summary: 3 rows in \d+ ms\n$/), stderr: '' });
  });
});
