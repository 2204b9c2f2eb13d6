// Parley behind PgBouncer in transaction mode, as a deployment runs it
// (Debian's 1.18: no protocol-level prepared statements): the API's reads
// and writes, the statistics refresh, the rate limits and the response
// cache through a pool of two server connections; migrations on
// DATABASE_DIRECT_URL; nothing of one transaction's session left for the
// next. The PgBouncer is the test's own (test/support/pgbouncer.mjs), with
// server_round_robin on: consecutive transactions of one client change
// server connection whenever another is idle, so whatever leans on a
// session fails here every time, not now and then. The whole integration
// tier also runs through one in CI (TEST_THROUGH_PGBOUNCER=1).
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { readMigrations } from '../../src/db/migrate.js';
import { checkStatementTimeout, createPool } from '../../src/db/pool.js';
import { withTransaction } from '../../src/db/transaction.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { refreshUserStats } from '../../src/jobs/refresh-user-stats.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../support/api.js';
import { createTestDatabase, testPostgresUrl, type TestDatabase } from '../support/database.js';
import { insertConversation, insertUser, type FixtureUser } from '../support/fixtures.js';
import { startPgBouncer, type OwnPgBouncer } from '../support/pgbouncer.mjs';
import { runCommand } from '../support/processes.js';
import { blockStatsRefresh, waitForBlockedRefresh } from '../support/refresh-blocker.js';
import { waitFor } from '../support/wait-for.js';

const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id body } } }';
const INBOX = 'query { viewer { conversations(first: 10) { edges { node { id unreadCount lastMessage { body } } } } } }';
const LEADERBOARD = 'query { leaderboard(metric: MESSAGES, first: 10) { edges { node { rank value user { id } } } refreshedAt } }';
const SEARCH = 'query ($query: String!) { searchMessages(query: $query, first: 20) { edges { node { body } } } }';
const WRITES_BUDGET = 10;
const LOCK_KEY = 91_000_101;

/** The server's address, for [databases] entries of the test's own. */
const server = () => {
  const url = new URL(testPostgresUrl());
  return `host=${url.hostname} port=${url.port || 5432}`;
};

let database: TestDatabase;
let pgbouncer: OwnPgBouncer;
let config: Config;
let pooled: Database;
let api: TestApi;
let users: FixtureUser[];
let tokens: string[];
let group: number;
let pair: number;

beforeAll(async () => {
  // The database itself: fixtures and checks go to it directly.
  database = await createTestDatabase({ direct: true });
  pgbouncer = await startPgBouncer({
    serverUrl: testPostgresUrl(),
    settings: { default_pool_size: 2 },
    databases: {
      // The same database under other names, each its own pool: one where
      // a session's leftovers are made on purpose, one whose server
      // connections get a statement timeout from PgBouncer.
      leak_check: `${server()} dbname=${database.name}`,
      timed: `${server()} dbname=${database.name} connect_query='SET statement_timeout = 15000'`,
    },
  });
  const env = { DATABASE_URL: pgbouncer.url(database.name), DATABASE_DIRECT_URL: database.directUrl };
  config = loadConfig({ NODE_ENV: 'test', ...env, DATABASE_POOL_MAX: '8' });
  pooled = await openDatabase(config, { applicationName: 'parley-pgbouncer-test' });
  api = await startTestApi(
    // A day's window: the writes bucket does not refill while the test runs.
    { ...env, RESPONSE_CACHE: 'on', RATE_LIMIT_WRITES: String(WRITES_BUDGET), RATE_LIMIT_WINDOW_SECONDS: '86400' },
    { name: database.name, url: env.DATABASE_URL, directUrl: database.directUrl, pool: pooled.pool, close: () => pooled.close() },
  );
  users = [];
  for (const name of ['Ann', 'Ben', 'Cy', 'Dee', 'Eve']) users.push(await insertUser(database.pool, name));
  tokens = await Promise.all(users.map((user) => api.tokenFor(user.id)));
  group = await insertConversation(database.pool, { participants: users.slice(0, 4).map((user) => user.id), title: 'Group' });
  pair = await insertConversation(database.pool, { participants: [users[0]!.id, users[4]!.id] });
});
afterAll(async () => {
  await api?.close();
  await pgbouncer?.close();
  await database?.close();
});

const send = (sender: number, conversation: number, body: string) =>
  api.request(SEND, { input: { conversationId: toGlobalId('Conversation', conversation), body } }, { token: tokens[sender] });

/** The rows of one database's entry in an admin console list (SHOW POOLS, SERVERS, CLIENTS). */
async function adminRows(command: string, name = database.name): Promise<Record<string, unknown>[]> {
  return (await pgbouncer.admin(command)).filter((row) => row.database === name);
}

function expectAnswered(results: GraphQLResult<unknown>[]): void {
  expect(results.map((result) => ({ status: result.status, errors: result.errors }))).toEqual(results.map(() => ({ status: 200, errors: undefined })));
}

it('is PgBouncer in transaction mode, two server connections per database, and the app knows it is behind a pooler', async () => {
  const settings = Object.fromEntries((await pgbouncer.admin('SHOW CONFIG')).map((row) => [row.key, row.value]));
  expect(settings).toMatchObject({ pool_mode: 'transaction', default_pool_size: '2', server_round_robin: '1' });
  expect(pooled.pooled).toBe(true);
  await pooled.pool.query('SELECT 1');
  expect(await adminRows('SHOW POOLS')).toEqual([expect.objectContaining({ pool_mode: 'transaction' })]);
});

it('serves concurrent reads and writes, and the refresh, through two server connections', async () => {
  const sends = users.slice(0, 4).flatMap((_user, sender) => [0, 1, 2, 3].map((n) => send(sender, group, `concurrent ${sender}.${n} pgbouncer`)));
  const reads = [0, 1, 2, 3].flatMap((reader) => [
    api.request(INBOX, {}, { token: tokens[reader] }),
    api.request(LEADERBOARD, {}, { token: tokens[reader] }),
    api.request(SEARCH, { query: 'pgbouncer' }, { token: tokens[reader] }),
  ]);
  // Two refreshers at once, as two instances would: one at a time, by the transaction-scoped lock.
  const refreshes = [0, 1].map(() => refreshUserStats(pooled.pool, { statementTimeoutMs: 10_000 }));
  const [written, read, runs] = await Promise.all([Promise.all(sends), Promise.all(reads), Promise.all(refreshes)]);
  expectAnswered([...written, ...read]);
  for (const run of runs) expect(['succeeded', 'skipped']).toContain(run.outcome);
  expect(runs.map((run) => run.outcome)).toContain('succeeded');

  // Eight clients of Parley's pool at most, two server connections.
  expect((await adminRows('SHOW SERVERS')).length).toBeLessThanOrEqual(2);
  expect((await adminRows('SHOW CLIENTS')).length).toBeGreaterThan(2);

  const { rows } = await database.pool.query<{ author: number; count: number }>(
    'SELECT author_id AS author, count(*)::int AS count FROM messages WHERE conversation_id = $1 GROUP BY 1 ORDER BY 1',
    [group],
  );
  expect(rows).toEqual(users.slice(0, 4).map((user) => ({ author: user.id, count: 4 })));

  // After a refresh that saw every write, the leaderboard counts them all.
  expect((await refreshUserStats(pooled.pool, { statementTimeoutMs: 10_000 })).outcome).toBe('succeeded');
  const board = await api.request<{ leaderboard: { edges: { node: { value: number; user: { id: string } } }[] } }>(LEADERBOARD, {}, { token: tokens[0] });
  expect(board.data!.leaderboard.edges.map(({ node }) => node.value)).toEqual([4, 4, 4, 4, 0]);

  // Prisma's adapter over the same pool: unnamed statements, and its transactions pinned to one server connection.
  expect(await api.prisma.user.count()).toBe(users.length);
  const viaTransaction = await api.prisma.$transaction(async (transaction) => {
    const before = await transaction.user.count();
    await transaction.user.update({ where: { id: users[4]!.id }, data: { displayName: 'Eve through Prisma' } });
    return { before, name: (await transaction.user.findUnique({ where: { id: users[4]!.id } }))?.displayName };
  });
  expect(viaTransaction).toEqual({ before: users.length, name: 'Eve through Prisma' });
});

it('cancels a refresh on the server connection running it, though the pooler changes connection between transactions', async () => {
  // Held on the database itself: the pooler's two server connections stay for the refresh and its cancel.
  const blocker = await blockStatsRefresh(database.directUrl);
  const aborter = new AbortController();
  try {
    const refreshing = refreshUserStats(pooled.pool, { statementTimeoutMs: 60_000, signal: aborter.signal });
    await waitForBlockedRefresh(database.pool);
    aborter.abort(new Error('shutting down'));
    // Before the release below: a cancel sent to the wrong connection would leave it waiting until then.
    const outcome = await Promise.race([refreshing.then((run) => run.outcome), new Promise((resolve) => setTimeout(resolve, 5_000, 'still waiting'))]);
    expect(outcome).toBe('cancelled');
  } finally {
    await blocker.release();
  }
});

it('keeps the response cache fresh: a write through the pooler drops the answers it changed', async () => {
  await api.request(INBOX, {}, { token: tokens[0] });
  expect((await api.request(INBOX, {}, { token: tokens[0] })).headers.get('x-cache')).toBe('HIT');
  expectAnswered([await send(4, pair, 'fresh through the pooler')]);
  const after = await api.request<{ viewer: { conversations: { edges: { node: { id: string; lastMessage: { body: string } | null } }[] } } }>(
    INBOX,
    {},
    { token: tokens[0] },
  );
  expect(after.headers.get('x-cache')).toBe('MISS');
  const conversation = after.data!.viewer.conversations.edges.find(({ node }) => node.id === toGlobalId('Conversation', pair));
  expect(conversation?.node.lastMessage?.body).toBe('fresh through the pooler');
});

it('refuses the write over the writes budget before it runs, under concurrency', async () => {
  const author = users[4]!;
  const { rows: before } = await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM messages WHERE author_id = $1', [author.id]);
  const spent = before[0]!.count;
  const results = await Promise.all(Array.from({ length: WRITES_BUDGET - spent + 1 }, (_unused, n) => send(4, pair, `budget ${n}`)));
  const codes = results.map((result) => errorCodes(result)[0] ?? 'OK');
  expect(codes.filter((code) => code === 'OK')).toHaveLength(WRITES_BUDGET - spent);
  expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(1);
  const { rows } = await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM messages WHERE author_id = $1', [author.id]);
  expect(rows[0]!.count).toBe(WRITES_BUDGET);
});

describe('session state', () => {
  /** What each server connection holds now: reached in turn (round robin), several statements apart. */
  async function sample(pool: Pick<pg.Pool, 'query'>) {
    const seen: { pid: number; timeout: string; workMem: string }[] = [];
    for (let n = 0; n < 6; n += 1) {
      const { rows } = await pool.query<{ pid: number; timeout: string; workMem: string }>(
        `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout, current_setting('work_mem') AS "workMem"`,
      );
      seen.push(rows[0]!);
    }
    return seen;
  }
  const advisoryLocks = async () =>
    (
      await database.pool.query<{ key: number }>(
        `SELECT objid::int AS key FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      )
    ).rows;

  it('two concurrent transactions keep their SET LOCAL and transaction-scoped locks to themselves, and leave none behind', async () => {
    const serverDefault = (
      await database.pool.query<{ timeout: string; workMem: string }>(
        `SELECT current_setting('statement_timeout') AS timeout, current_setting('work_mem') AS "workMem"`,
      )
    ).rows[0]!;
    // Each waits for the other inside its transaction: both hold a server connection at once.
    let arrive!: () => void;
    const both = new Promise<void>((resolve) => {
      let waiting = 2;
      arrive = () => {
        waiting -= 1;
        if (waiting === 0) resolve();
      };
    });
    const inside = (statementTimeoutMs: number, workMem: string, key: number) =>
      withTransaction(pooled.pool, { statementTimeoutMs, workMem, locks: [{ key, wait: 'block' }] }, async (client) => {
        arrive();
        await both;
        const { rows } = await client.query<{ pid: number; timeout: string; workMem: string; locks: number }>(
          `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout, current_setting('work_mem') AS "workMem",
                  (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`,
        );
        return rows[0]!;
      });
    const [first, second] = await Promise.all([inside(1_234, '7MB', LOCK_KEY), inside(4_321, '9MB', LOCK_KEY + 1)]);
    expect(first).toMatchObject({ timeout: '1234ms', workMem: '7MB', locks: 1 });
    expect(second).toMatchObject({ timeout: '4321ms', workMem: '9MB', locks: 1 });
    expect(first.pid).not.toBe(second.pid);

    const after = await sample(pooled.pool);
    // Both server connections were looked at, and both are as the server made them.
    expect(new Set(after.map((row) => row.pid))).toEqual(new Set([first.pid, second.pid]));
    for (const row of after) expect({ timeout: row.timeout, workMem: row.workMem }).toEqual(serverDefault);
    expect(await advisoryLocks()).toEqual([]);
  });

  it('(the check can fail) a SET without LOCAL, a session lock and a named statement do leak or break through the pooler', async () => {
    // Two server connections in the pool first: PgBouncer opens one only when none is idle.
    const pair = [0, 1].map(() => new pg.Client({ connectionString: pgbouncer.url('leak_check') }));
    await Promise.all(pair.map((client) => client.connect()));
    await Promise.all(pair.map((client) => client.query('SELECT pg_sleep(0.05)')));
    await Promise.all(pair.map((client) => client.end()));
    expect(await adminRows('SHOW SERVERS', 'leak_check')).toHaveLength(2);
    const leaky = new pg.Client({ connectionString: pgbouncer.url('leak_check') });
    await leaky.connect();
    try {
      // Outside a transaction: each statement is a transaction of its own, then the server connection goes back to the pool, changed.
      await leaky.query('SET statement_timeout = 4321');
      await leaky.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      // A named statement is prepared on one server connection and executed, the second time, on the other.
      await leaky.query({ name: 'parley_named', text: 'SELECT 1 AS one' });
      await expect(leaky.query({ name: 'parley_named', text: 'SELECT 1 AS one' })).rejects.toMatchObject({ code: '26000' });
      // pg rejects on the error, before the server's ReadyForQuery: leaving
      // now would let PgBouncer see the client go mid-answer and close that
      // server connection, the one holding the lock (it did, now and then,
      // in CI). A query after it is sent only once the answer is whole.
      await leaky.query('SELECT 1');
    } finally {
      await leaky.end();
    }
    const others = new pg.Pool({ connectionString: pgbouncer.url('leak_check'), max: 1 });
    try {
      expect((await sample(others)).map((row) => row.timeout)).toContain('4321ms');
      expect(await advisoryLocks()).toEqual([{ key: LOCK_KEY }]);
    } finally {
      await others.end();
      // Drops its server connections: the session lock goes with them.
      await pgbouncer.admin('KILL leak_check');
    }
    // The server ends the backend once PgBouncer has closed its socket.
    await waitFor(async () => (await advisoryLocks()).length === 0, 'the closed server connection to let go of its session lock');
  });
});

it('migrates on DATABASE_DIRECT_URL: with the pooler paused, `npm run db:migrate` still applies every migration', async () => {
  const empty = await createTestDatabase({ empty: true, direct: true });
  const throughPooler = pgbouncer.url(empty.name);
  const probe = new pg.Client({ connectionString: throughPooler });
  try {
    // Known to PgBouncer (a database of `*` appears on first use), then paused: nothing through it gets a server connection.
    await probe.connect();
    await probe.query('SELECT 1');
    await probe.end();
    await pgbouncer.admin(`PAUSE ${empty.name}`);
    const migrated = await runCommand('src/cli/migrate.ts', [], { DATABASE_URL: throughPooler, DATABASE_DIRECT_URL: empty.directUrl });
    expect({ code: migrated.code, stderr: migrated.stderr }).toEqual({ code: 0, stderr: '' });
    expect(migrated.stdout).toContain(`applied ${(await readMigrations()).length} migrations`);
  } finally {
    await pgbouncer.admin(`RESUME ${empty.name}`);
    await empty.close();
  }
  // Without DATABASE_DIRECT_URL, the connection PgBouncer refuses says what to set.
  const unset = await runCommand('src/cli/migrate.ts', [], { DATABASE_URL: throughPooler });
  expect(unset.code).toBe(1);
  expect(unset.stderr).toContain('unsupported startup parameter: statement_timeout');
  expect(unset.stderr).toContain('set DATABASE_DIRECT_URL to the database itself');
}, 60_000);

it('says when the server behind the pooler does not bound statements as DATABASE_STATEMENT_TIMEOUT_MS asks, and not when it does', async () => {
  const unbounded = await checkStatementTimeout(pooled.pool, config.database.statementTimeoutMs);
  expect(unbounded).toMatch(/^statements through DATABASE_URL .* no time limit, .* not DATABASE_STATEMENT_TIMEOUT_MS's 15000 ms/);
  expect(unbounded).toContain('ALTER ROLE <role> SET statement_timeout = 15000');
  // DATABASE_URL through the alias whose server connections PgBouncer gives a timeout.
  const timedUrl = pgbouncer.url('timed');
  const timed = createPool(timedUrl, { ...config.database, url: timedUrl, poolMax: 1 });
  try {
    expect(await checkStatementTimeout(timed, 15_000)).toBeUndefined();
  } finally {
    await timed.end();
  }
});

it('answers SERVICE_UNAVAILABLE, not an internal error, when PgBouncer finds no server connection in time', async () => {
  const impatient = await startPgBouncer({ serverUrl: testPostgresUrl(), settings: { query_wait_timeout: 1 } });
  const url = impatient.url(database.name);
  const outageConfig = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, DATABASE_DIRECT_URL: database.directUrl, DATABASE_POOL_MAX: '2' });
  const pool = createPool(url, outageConfig.database);
  const outageApi = await startTestApi(
    { DATABASE_URL: url, DATABASE_DIRECT_URL: database.directUrl },
    { name: database.name, url, directUrl: database.directUrl, pool, close: () => pool.end() },
  );
  try {
    const token = await outageApi.tokenFor(users[0]!.id);
    expect((await outageApi.request('{ viewer { id } }', {}, { token })).errors).toBeUndefined();
    await impatient.admin(`PAUSE ${database.name}`);
    const refused = await outageApi.request('{ viewer { id } }', {}, { token });
    expect({ status: refused.status, codes: errorCodes(refused) }).toEqual({ status: 503, codes: ['SERVICE_UNAVAILABLE'] });
    await impatient.admin(`RESUME ${database.name}`);
    expect((await outageApi.request('{ viewer { id } }', {}, { token })).errors).toBeUndefined();
  } finally {
    await outageApi.close();
    await impatient.close();
  }
});
