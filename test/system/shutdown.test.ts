// SIGTERM: the server stops accepting, lets the requests in flight finish,
// closes the pool and exits 0. A request is held in flight by a table lock
// the test takes, so the order of events is certain.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_JWT_SECRET } from '../support/api.js';
import { insertUser } from '../support/fixtures.js';
import { createAuth } from '../../src/graphql/auth.js';

let database: TestDatabase;
let server: ChildProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  server?.kill('SIGKILL');
  await database.close();
});

/** Starts `src/main.ts` on the test database; resolves with its URL once it listens. */
async function startServer(): Promise<{ url: string; output: string[] }> {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  server.stderr!.on('data', (chunk) => output.push(String(chunk)));
  return new Promise((resolve, reject) => {
    server!.stdout!.on('data', (chunk) => {
      output.push(String(chunk));
      const match = String(chunk).match(/GraphQL at (http:\/\/\S+)\/graphql/);
      if (match) resolve({ url: match[1]!.replace('localhost', '127.0.0.1'), output });
    });
    server!.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output.join('')}`)));
  });
}

it('drains the request in flight, refuses new ones, and exits 0', async () => {
  const user = await insertUser(database.pool, 'Drain');
  const token = await createAuth({ secret: TEST_JWT_SECRET, ttlSeconds: 60 }).issueToken(user.id);
  const { url } = await startServer();
  const exited = once(server!, 'exit');

  const lock = await database.pool.connect();
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  const inFlight = fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { username } }' }),
  });
  // The request waits on the lock: wait until PostgreSQL shows it waiting.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { rows } = await database.pool.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0]!.waiting > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  server!.kill('SIGTERM');
  // Still draining: the process is alive while the request waits.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(server!.exitCode).toBeNull();
  await expect(fetch(`${url}/health`)).rejects.toThrow();

  await lock.query('COMMIT');
  lock.release();
  const response = await inFlight;
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ data: { viewer: { username: user.username } } });
  // Promptly: not after the drain plugin's 10 s cut-off of keep-alive sockets.
  const code = await Promise.race([
    exited.then(([exitCode]) => exitCode as number | null),
    new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000)),
  ]);
  expect(code).toBe(0);
  server = undefined;
});
