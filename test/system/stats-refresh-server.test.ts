// The statistics refresh as the API process runs it (src/main.ts): started
// with the server on STATS_REFRESH_INTERVAL_SECONDS, its after-refresh hook
// wired to the server's response cache, and cancelled by SIGTERM before the
// pool closes. stats-refresh.test.ts covers the job itself; this covers the
// wiring, which only the real process has.
import { once } from 'node:events';
import { STATS_REFRESH_LOCK_KEY } from '../../src/jobs/sql.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, messagesUntilNow, refreshStats, type FixtureUser } from '../support/fixtures.js';
import { startServer, type RunningServer } from '../support/processes.js';
import { blockStatsRefresh, waitForBlockedRefresh } from '../support/refresh-blocker.js';

let database: TestDatabase;
let server: RunningServer | undefined;
let users: FixtureUser[];
let conversation: number;

beforeAll(async () => {
  database = await createTestDatabase();
  users = [await insertUser(database.pool, 'Ann'), await insertUser(database.pool, 'Ben')];
  conversation = await insertConversation(database.pool, { participants: users.map((user) => user.id), title: 'Refresh' });
  await send(users[0]!, 3);
  await refreshStats(database.pool);
});
afterEach(async () => {
  // After a failure: killed and gone before the next test, so no connection of its own still holds the refresh's lock.
  if (!server) return;
  if (server.process.exitCode !== null || server.process.signalCode !== null) {
    server = undefined;
    return;
  }
  const exited = once(server.process, 'exit');
  server.process.kill('SIGKILL');
  await exited;
  server = undefined;
});
afterAll(() => database.close());

/** `user` sends `count` messages now, behind the API's back (SQL): no write invalidates anything. */
async function send(user: FixtureUser, count: number): Promise<void> {
  await insertMessages(database.pool, conversation, messagesUntilNow(user.id, count));
}

/** The API, refreshing every second, its response cache on (the default). */
const startRefreshingServer = () =>
  startServer({ NODE_ENV: 'test', DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, STATS_REFRESH_INTERVAL_SECONDS: '1' });

/** The top of the messages leaderboard, signed out (a public answer the cache keeps for 300 s), and whether it came from the cache. */
async function readTop(url: string): Promise<{ cache: string | null; username: string | undefined }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ leaderboard(metric: MESSAGES, first: 1) { edges { node { user { username } } } } }' }),
  });
  const body = (await response.json()) as { data?: { leaderboard: { edges: { node: { user: { username: string } } }[] } }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return { cache: response.headers.get('x-cache'), username: body.data?.leaderboard.edges[0]?.node.user.username };
}

async function refreshLog(): Promise<{ id: number; outcome: string; error: string | null }[]> {
  const { rows } = await database.pool.query<{ id: number; outcome: string; error: string | null }>(
    'SELECT id::integer, outcome, error FROM materialized_view_refreshes ORDER BY id',
  );
  return rows;
}

/** Polls `check` every 100 ms until it returns true; fails after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('refreshes on its schedule, and each refresh drops the cached leaderboards', async () => {
  const before = (await refreshLog()).length;
  server = await startRefreshingServer();
  const { url } = server;
  await eventually('a scheduled refresh recorded', async () => (await refreshLog()).slice(before).some((run) => run.outcome === 'succeeded'));

  // The answer is in the cache (a refresh between two reads may drop it: read until one is a hit).
  await eventually('a cached leaderboard', async () => (await readTop(url)).cache === 'HIT');
  expect((await readTop(url)).username).toBe(users[0]!.username);
  // Ben overtakes Ann in SQL, which drops nothing: only a refresh's hook can make the cache show it before its 300 s are up.
  await send(users[1]!, 10);
  await eventually('Ben on top of the leaderboard', async () => (await readTop(url)).username === users[1]!.username);

  // Every refresh made while serving succeeded; the one SIGTERM may find in progress is cancelled (the next test's case).
  const served = (await refreshLog()).slice(before);
  expect(served.filter((run) => run.outcome !== 'succeeded')).toEqual([]);
  expect(await server.stop()).toBe(0);
  server = undefined;
  const atStop = (await refreshLog()).slice(before + served.length);
  expect(atStop.filter((run) => run.outcome !== 'succeeded' && run.outcome !== 'cancelled')).toEqual([]);
});

it('on SIGTERM cancels the refresh in progress, records it, releases the lock and exits 0 promptly', async () => {
  server = await startRefreshingServer();
  const blocker = await blockStatsRefresh(database.url);
  try {
    await waitForBlockedRefresh(database.pool);
    const stopping = performance.now();
    expect(await server.stop()).toBe(0);
    server = undefined;
    expect(performance.now() - stopping).toBeLessThan(5_000);
  } finally {
    await blocker.release();
  }
  expect((await refreshLog()).at(-1)).toMatchObject({ outcome: 'cancelled', error: 'cancelled: the process is shutting down' });
  const { rows: locks } = await database.pool.query(
    `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [STATS_REFRESH_LOCK_KEY],
  );
  expect(locks).toEqual([]);
});
