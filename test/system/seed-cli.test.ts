// `npm run db:seed` as a command, in its own process (minus npm): the flags
// it takes, its progress lines and summary, and what it refuses. The seed
// itself is tested in process: test/integration/seed.test.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const run = promisify(execFile);

describe('npm run db:seed', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  // The command as users run it, minus npm: stderr is a pipe here, so progress comes as plain lines.
  const seedCommand = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts', ...args], {
      env: { ...process.env, DATABASE_URL: database.url, NODE_ENV: 'test' },
    });

  it('seeds with the flags given, printing plain progress lines and a summary', async () => {
    const { stdout, stderr } = await seedCommand(['--users', '20', '--conversations', '40', '--messages', '500', '--seed', '3']);
    expect(stdout).toMatch(/^seeded 20 users, 40 conversations \(\d+ participants\), 500 messages in [\d.]+ s \(seed 3, /m);
    const lines = stderr.trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^seed: [a-z]+ \d+\/\d+( [a-z_]+)? \([\d.]+ s\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^seed: indexes \d+\/\d+ messages_conversation_id_created_at_id_idx /));
    expect(lines.filter((line) => line.startsWith('seed: messages')).at(-1)).toMatch(/^seed: messages 500\/500 /);
    expect(lines.at(-1)).toMatch(/^seed: view 2\/2 /);
  }, 60_000);

  it('refuses a database that holds users and exits with 1, naming --reset', async () => {
    await expect(seedCommand(['--users', '20', '--conversations', '40', '--messages', '500'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('The database already holds users; run again with --reset to replace its data.'),
    });
  }, 60_000);

  it('with --reset replaces the data', async () => {
    await seedCommand(['--users', '30', '--conversations', '40', '--messages', '600', '--reset']);
    const { rows } = await database.pool.query('SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM messages) AS messages');
    expect(rows[0]).toEqual({ users: 30, messages: 600 });
  }, 60_000);

  it('refuses a bad flag before touching the database, naming the flag', async () => {
    await expect(seedCommand(['--messages', 'lots'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--messages: expected a whole number ≥ 1'),
    });
  }, 60_000);
});
