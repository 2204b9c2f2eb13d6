// The database failing under a running server: connections killed while idle
// or in use, the database stopped and started, statements and pool waits
// timing out. The process lives, the failing request is told
// SERVICE_UNAVAILABLE (HTTP 503 when nothing could be answered), and the next
// request succeeds without a restart. The database is a PostgreSQL server of
// this file's own: the shared one is never stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type PoolErrorCounts } from '../../src/db/pool.js';
import { SendMessageDocument, UpdateProfileDocument } from '../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { errorCodes, startTestApi, TEST_JWT_SECRET, type GraphQLResult, type TestApi } from '../support/api.js';
import { insertConversation, insertUser, type FixtureUser } from '../support/fixtures.js';
import { startOwnPostgres, type OwnPostgres } from '../support/postgres-server.js';
import { createAuth } from '../../src/graphql/auth.js';

const DATABASE = 'parley';
const VIEWER = '{ viewer { username } }';

let postgres: OwnPostgres;
let user: FixtureUser;
let conversationId: number;
/** What each case measured, printed once at the end. */
const figures: string[] = [];

beforeAll(async () => {
  postgres = await startOwnPostgres();
  await postgres.query(`CREATE DATABASE ${DATABASE}`);
  const setup = new pg.Pool({ connectionString: postgres.url(DATABASE), max: 1 });
  try {
    await migrate(setup);
    user = await insertUser(setup, 'Fault');
    const other = await insertUser(setup, 'Other');
    conversationId = await insertConversation(setup, { participants: [user.id, other.id] });
  } finally {
    await setup.end();
  }
}, 60_000);
afterAll(async () => {
  if (figures.length > 0) console.log(`fault recovery:\n${figures.join('\n')}`);
  await postgres?.destroy();
});

/** Runs `ask`, and returns its answer with how long it took, in ms. */
async function timed<T>(ask: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const answer = await ask();
  return [answer, performance.now() - started];
}
const ms = (duration: number) => `${duration.toFixed(0)} ms`;

/** Terminates the server's connections to the test database, as pg_terminate_backend, a failover or a proxy would. */
async function terminateConnections(where = 'true'): Promise<number> {
  const rows = await postgres.query<{ terminated: boolean }>(
    `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
     WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND (${where})`,
    [DATABASE],
  );
  return rows.filter((row) => row.terminated).length;
}

/** Resolves once a statement of the server waits on a lock the test holds. */
async function waitForLockWait(): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const rows = await postgres.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
      [DATABASE],
    );
    if (rows[0]!.waiting > 0) return;
    await delay(20);
  }
  throw new Error('no statement waited on the lock');
}

/** Takes `lock` in a transaction on a connection of its own; returns its release. */
async function holdLock(lock: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: postgres.url(DATABASE) });
  await client.connect();
  await client.query('BEGIN');
  await client.query(lock);
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

/** An outage said as one: 503, retry-after, SERVICE_UNAVAILABLE, no data (so no viewer: null), no internals. */
function expectServiceUnavailable(result: GraphQLResult<unknown>): void {
  expect({ status: result.status, retryAfter: result.headers.get('retry-after'), data: result.data, codes: [...new Set(errorCodes(result))] }).toEqual({
    status: 503,
    retryAfter: '2',
    data: null,
    codes: ['SERVICE_UNAVAILABLE'],
  });
  for (const error of result.errors!) {
    expect(error.message).not.toMatch(/terminat|ECONN|timeout|SELECT|users|P\d{4}/i);
    expect(error.extensions?.stacktrace).toBeUndefined();
  }
}

/**
 * Sends `request` while `lock` keeps its statement waiting, kills that one
 * connection, and expects the answer to say an outage. Returns how long after
 * the kill was sent the answer came.
 */
async function killedWhileWaiting(lock: string, request: () => Promise<GraphQLResult<unknown>>): Promise<number> {
  const release = await holdLock(lock);
  try {
    const pending = request();
    await waitForLockWait();
    const killed = performance.now();
    expect(await terminateConnections("wait_event_type = 'Lock'")).toBe(1);
    expectServiceUnavailable(await pending);
    return performance.now() - killed;
  } finally {
    await release();
  }
}

describe('the real server process (src/main.ts, production)', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('lives when PostgreSQL kills its idle connections, and answers the next request', async () => {
    server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: postgres.url(DATABASE),
        JWT_SECRET: TEST_JWT_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    server.stderr!.on('data', (chunk) => output.push(String(chunk)));
    const exited = once(server, 'exit');
    const url = await new Promise<string>((resolve, reject) => {
      server!.stdout!.on('data', (chunk) => {
        output.push(String(chunk));
        const match = String(chunk).match(/GraphQL at (http:\/\/\S+)\/graphql/);
        if (match) resolve(match[1]!.replace('localhost', '127.0.0.1'));
      });
      void exited.then(([code]) => reject(new Error(`the server exited with ${code}: ${output.join('')}`)));
    });
    const token = await createAuth({ secret: TEST_JWT_SECRET, ttlSeconds: 60 }).issueToken(user.id);
    const ask = () =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: VIEWER }),
      });

    // A read leaves a connection idle in the pool (reads only: Prisma never ran).
    expect(await (await ask()).json()).toMatchObject({ data: { viewer: { username: user.username } } });
    expect(await terminateConnections()).toBeGreaterThan(0);
    const outcome = await Promise.race([exited.then(([code]) => `exited with ${code}`), delay(500).then(() => 'alive')]);
    expect({ outcome, output: outcome === 'alive' ? '' : output.join('').slice(0, 2_000) }).toEqual({ outcome: 'alive', output: '' });

    const asked = performance.now();
    const next = await ask();
    figures.push(`real server, idle connections killed → next request answered in ${(performance.now() - asked).toFixed(0)} ms`);
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ data: { viewer: { username: user.username } } });
    // Logged at warn, once, without a stack.
    const lost = output
      .join('')
      .split('\n')
      .filter((line) => line.includes('idle database connection'));
    expect(lost.length).toBeGreaterThan(0);
    expect(JSON.parse(lost[0]!)).toMatchObject({ level: 40 });
    expect(lost[0]).not.toContain('"stack"');
  });
});

describe('an in-process server', () => {
  let api: TestApi;
  let timeoutApi: TestApi;
  let token: string;
  const poolErrors: PoolErrorCounts = { idleConnectionsLost: 0 };
  const heard: Error[] = [];
  const logs: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });

  /** A server over its own pool on the test's PostgreSQL; `env` tunes the pool. */
  async function serverWith(env: Record<string, string>, applicationName: string): Promise<TestApi> {
    const url = postgres.url(DATABASE);
    const config = loadConfig({ DATABASE_URL: url, ...env });
    const pool = createPool(url, config.database, { applicationName, onError: (error) => heard.push(error), errors: poolErrors });
    // Requests held up here are slow by design: the slow-operation warning (observability.test.ts) would stand beside the outage's.
    return startTestApi(
      { LOG_LEVEL: 'warn', SLOW_OPERATION_MS: '0', ...env },
      { name: DATABASE, url, directUrl: url, pool, close: () => pool.end() },
      { logStream },
    );
  }

  beforeAll(async () => {
    api = await serverWith({ DATABASE_POOL_MAX: '4' }, 'parley-faults');
    // One connection, given up on after 300 ms of waiting; statements cancelled after 1 s.
    timeoutApi = await serverWith(
      { DATABASE_POOL_MAX: '1', DATABASE_CONNECTION_TIMEOUT_MS: '300', DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
      'parley-faults-timeouts',
    );
    token = await api.tokenFor(user.id);
  });
  afterAll(async () => {
    await api?.close();
    await timeoutApi?.close();
  });

  /** The log lines written since `from`, at warn (40) or above. */
  const warnings = (from: number) => logs.slice(from).filter((line) => line.level >= 40);

  it('survives its idle connections being killed, counts them, and answers the next request', async () => {
    expect((await api.request(VIEWER, {}, { token })).data).toEqual({ viewer: { username: user.username } });
    const before = poolErrors.idleConnectionsLost;
    expect(await terminateConnections("application_name = 'parley-faults'")).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 50 && poolErrors.idleConnectionsLost === before; attempt += 1) await delay(10);
    expect(poolErrors.idleConnectionsLost).toBeGreaterThan(before);
    expect(heard.length).toBeGreaterThan(0);

    const [next, nextMs] = await timed(() => api.request(VIEWER, {}, { token }));
    figures.push(`in-process server, idle connections killed → next request answered (200) in ${ms(nextMs)}`);
    expect({ status: next.status, data: next.data }).toEqual({ status: 200, data: { viewer: { username: user.username } } });
  });

  it('answers a query whose connection is killed mid-request with SERVICE_UNAVAILABLE, then recovers', async () => {
    const logged = logs.length;
    const toldMs = await killedWhileWaiting('LOCK TABLE users IN ACCESS EXCLUSIVE MODE', () => api.request(VIEWER, {}, { token }));
    // One warning for the request, not an error (and not a stack) per field.
    expect(warnings(logged).map((line) => [line.level, line.code])).toEqual([[40, 'SERVICE_UNAVAILABLE']]);
    expect(JSON.stringify(warnings(logged))).not.toContain('"stack"');

    const [next, nextMs] = await timed(() => api.request(VIEWER, {}, { token }));
    figures.push(`query's connection killed mid-request → 503 answered ${ms(toldMs)} after the kill; next request answered (200) in ${ms(nextMs)}`);
    expect({ status: next.status, data: next.data }).toEqual({ status: 200, data: { viewer: { username: user.username } } });
  });

  // Both through the one write path (a transaction on a checked-out client), killed while waiting on different tables.
  it.each([
    {
      mutation: 'sendMessage',
      lock: 'LOCK TABLE messages IN ACCESS EXCLUSIVE MODE',
      send: () => api.request(SendMessageDocument, { conversationId: toGlobalId('Conversation', conversationId), body: 'lost in transit' }, { token }),
      written: async () => (await postgres.query("SELECT 1 FROM messages WHERE body = 'lost in transit'", [], DATABASE)).length,
    },
    {
      mutation: 'updateProfile',
      lock: 'LOCK TABLE users IN ACCESS EXCLUSIVE MODE',
      send: () => api.request(UpdateProfileDocument, { displayName: 'Lost in transit' }, { token }),
      written: async () => (await postgres.query("SELECT 1 FROM users WHERE display_name = 'Lost in transit'", [], DATABASE)).length,
    },
  ])(
    'answers $mutation with SERVICE_UNAVAILABLE when its connection is killed mid-write, writes nothing, then recovers',
    async ({ mutation, lock, send, written }) => {
      const toldMs = await killedWhileWaiting(lock, send);
      expect(await written()).toBe(0);

      const [next, nextMs] = await timed<GraphQLResult<unknown>>(send);
      figures.push(`${mutation}'s connection killed mid-write → 503 answered ${ms(toldMs)} after the kill; next ${mutation} answered (200) in ${ms(nextMs)}`);
      expect({ status: next.status, errors: next.errors }).toEqual({ status: 200, errors: undefined });
      expect(await written()).toBe(1);
    },
  );

  it('answers a statement timeout and a timed-out pool wait with SERVICE_UNAVAILABLE', async () => {
    const release = await holdLock('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    try {
      // The first holds the pool's one connection, waiting on the lock until its statement times out;
      // the second waits for that connection and gives up first.
      const heldSince = performance.now();
      const held = timeoutApi.request(VIEWER, {}, { token });
      await waitForLockWait();
      const [waiting, waitingMs] = await timed(() => timeoutApi.request(VIEWER, {}, { token }));
      expectServiceUnavailable(waiting);
      expectServiceUnavailable(await held);
      figures.push(
        `pool wait timed out (DATABASE_CONNECTION_TIMEOUT_MS 300) → 503 in ${ms(waitingMs)}; ` +
          `statement timed out (DATABASE_STATEMENT_TIMEOUT_MS 1000) → 503 in ${ms(performance.now() - heldSince)}`,
      );
    } finally {
      await release();
    }
    const [next, nextMs] = await timed(() => timeoutApi.request(VIEWER, {}, { token }));
    figures.push(`after the timeouts, next request answered (200) in ${ms(nextMs)}`);
    expect({ status: next.status, data: next.data }).toEqual({ status: 200, data: { viewer: { username: user.username } } });
  });

  it('answers 503 SERVICE_UNAVAILABLE while the database is stopped, and recovers without a restart once it is back', async () => {
    // Connections idle in the pool when the database goes.
    expect((await api.request(VIEWER, {}, { token })).status).toBe(200);
    const lostBefore = poolErrors.idleConnectionsLost;
    await postgres.stop();
    let starting: Promise<number> | undefined;
    try {
      const logged = logs.length;
      const [down, downMs] = await timed(() => api.request(VIEWER, {}, { token }));
      expectServiceUnavailable(down);
      figures.push(`database stopped → a request answered 503 in ${ms(downMs)}`);
      expectServiceUnavailable(await api.request(`{ viewer { username } leaderboard(metric: XP) { edges { node { rank } } } }`, {}, { token }));
      expectServiceUnavailable(await api.request(UpdateProfileDocument, { displayName: 'Down' }, { token }));
      expectServiceUnavailable(await api.request(SendMessageDocument, { conversationId: toGlobalId('Conversation', conversationId), body: 'down' }, { token }));
      expect(poolErrors.idleConnectionsLost).toBeGreaterThan(lostBefore);
      expect(warnings(logged).map((line) => [line.level, line.code])).toEqual(Array(4).fill([40, 'SERVICE_UNAVAILABLE']));

      // Asked all along while it starts: refused, then "starting up" (57P03), then answered.
      const startIssued = performance.now();
      starting = postgres.start().then(() => performance.now() - startIssued);
      let recovered: GraphQLResult<unknown> | undefined;
      let refused = 0;
      while (performance.now() - startIssued < 10_000) {
        const result = await api.request(VIEWER, {}, { token });
        if (result.status === 200) {
          recovered = result;
          break;
        }
        expectServiceUnavailable(result);
        refused += 1;
        await delay(5);
      }
      const recoveredMs = performance.now() - startIssued;
      const readyMs = await starting;
      figures.push(
        `database stopped, then started: first successful request ${recoveredMs.toFixed(0)} ms after pg_ctl start was issued ` +
          `(pg_ctl reported it ready after ${readyMs.toFixed(0)} ms; ${refused} requests answered 503 meanwhile)`,
      );
      expect({ status: recovered?.status, data: recovered?.data }).toEqual({ status: 200, data: { viewer: { username: user.username } } });
      expect(recoveredMs - readyMs).toBeLessThan(1_000);
    } finally {
      // Never leave the server stopped for the cases after this one.
      await (starting ?? postgres.start()).catch(() => postgres.start());
    }
  });
});
