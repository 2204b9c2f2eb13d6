// `npm run db:refresh` as a command, in its own process: the statistics
// refresh's code, lock and log (test/integration/stats-refresh.test.ts), run
// now; it says when another refresh holds the lock.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { STATS_REFRESH_LOCK_KEY } from '../../src/jobs/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, messagesUntilNow, refreshStats } from '../support/fixtures.js';
import { lastRefreshId, refreshesSince } from '../support/refresh-log.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  const users = [await insertUser(database.pool, 'Ann'), await insertUser(database.pool, 'Ben'), await insertUser(database.pool, 'Cy')];
  const conversation = await insertConversation(database.pool, { participants: users.map((user) => user.id), title: 'Stats' });
  await insertMessages(database.pool, conversation, messagesUntilNow(users[0]!.id, 3));
  await refreshStats(database.pool);
});
afterAll(() => database.close());

describe('npm run db:refresh', () => {
  const run = promisify(execFile);
  const refreshCli = () =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/refresh.ts'], { env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: database.url } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

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
