// The embedded database with several processes, as users run them: the
// server (`npm run dev` without DATABASE_URL) owns the PGlite folder; a
// `db:seed --reset` run meanwhile goes through the server's socket instead of
// opening the folder a second time (which corrupted it); commands that find
// the folder held by one that does not share it stop with a message.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { childEnvironment, graphql, runCommand, startServer, type RunningServer } from '../support/processes.js';

const SECRET = 'embedded-database-test-secret-0123456789';
let dataDir: string;
let server: RunningServer | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-embedded-'));
});
afterEach(async () => {
  server?.process.kill('SIGKILL');
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const env = () => ({ NODE_ENV: 'development', EMBEDDED_DATA_DIR: dataDir, JWT_SECRET: SECRET });
const lockFile = () => path.join(dataDir, 'parley.lock');
const readLockRecord = async () => JSON.parse(await readFile(lockFile(), 'utf8')) as { pid: number; port: number | null; name: string };
const lockExists = () =>
  readFile(lockFile()).then(
    () => true,
    () => false,
  );

/** Row counts read through the owner's socket, as any other process would. */
async function countRows(): Promise<Record<string, number>> {
  const { port } = await readLockRecord();
  const client = new pg.Client({ connectionString: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM conversations)::int AS conversations,
              (SELECT count(*) FROM messages)::int AS messages,
              (SELECT count(*) FROM conversation_participants WHERE user_id = 1)::int AS "user1Conversations"`,
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}

const VIEWER = '{ viewer { id username conversations(first: 3) { totalCount edges { node { title lastMessage { body } } } } } }';

it('a seed run while the server runs goes through the server: both answer right, during and after, after a restart, and after a crash', async () => {
  server = await startServer(env(), { waitForDemoToken: true });
  const output = server.output.join('');
  expect(output).toMatch(/demo data: 50 users, 120 conversations, 3000 messages/);
  expect(await readLockRecord()).toMatchObject({ pid: server.process.pid, name: 'parley-api', port: expect.any(Number) });
  const token = server.demoToken!;
  const before = await graphql<{ viewer: { username: string } }>(server.url, VIEWER, { token });
  expect(before.errors).toBeUndefined();
  expect(before.data?.viewer.username).toEqual(expect.any(String));

  const seed = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/seed.ts', '--reset', '--users', '30', '--conversations', '60', '--messages', '900', '--seed', '7'],
    { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let seedOutput = '';
  seed.stdout.on('data', (chunk) => (seedOutput += chunk));
  seed.stderr.on('data', (chunk) => (seedOutput += chunk));
  const seedExit = once(seed, 'exit');
  // Requests while the seed runs: each answer is whole, from the old data or the new.
  const answers: Awaited<ReturnType<typeof graphql<{ viewer: unknown }>>>[] = [];
  let seedDone = false;
  void seedExit.then(() => (seedDone = true));
  while (!seedDone) {
    answers.push(await graphql<{ viewer: unknown }>(server.url, VIEWER, { token }));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const [seedCode] = await seedExit;
  expect({ seedCode, seedOutput }).toEqual({ seedCode: 0, seedOutput: expect.stringContaining('seeded 30 users, 60 conversations') });
  expect(answers.length).toBeGreaterThan(5);
  for (const answer of answers) {
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.viewer).not.toBeNull();
  }

  const counts = await countRows();
  expect(counts).toMatchObject({ users: 30, conversations: 60, messages: 900 });
  // A document the server has not answered before: its response cache is not
  // told of writes made by other processes, and may hold VIEWER's old answer
  // until that expires (60 s).
  const after = await graphql<{ viewer: { conversations: { totalCount: number } }; user: { id: string } | null; missing: null }>(
    server.url,
    `{ viewer { conversations { totalCount } } user(id: "${toGlobalId('User', 30)}") { id } missing: user(id: "${toGlobalId('User', 31)}") { id } }`,
    { token },
  );
  expect(after.errors).toBeUndefined();
  expect(after.data).toEqual({ viewer: { conversations: { totalCount: counts.user1Conversations } }, user: { id: toGlobalId('User', 30) }, missing: null });

  // The token command goes through the server too, and knows the new users.
  const issued = await runCommand('src/cli/token.ts', ['--user', '30'], env());
  expect(issued).toMatchObject({ code: 0, stdout: expect.stringMatching(/^eyJ[\w.-]+\n$/) });
  expect((await runCommand('src/cli/token.ts', ['--user', '31'], env())).stderr).toMatch(/no user with id 31/);

  expect(await server.stop()).toBe(0);
  expect(await lockExists()).toBe(false);

  // Restarted on the same folder: the seeded data, intact; no demo data on top.
  server = await startServer(env(), { waitForDemoToken: true });
  expect(server.output.join('')).not.toMatch(/seeding demo data/);
  expect(await countRows()).toEqual(counts);
  const restarted = await graphql<{ viewer: { conversations: { totalCount: number } } }>(server.url, VIEWER, { token: server.demoToken });
  expect(restarted.errors).toBeUndefined();
  expect(restarted.data?.viewer.conversations.totalCount).toBe(counts.user1Conversations);

  // Killed, it leaves its lock behind; the next command takes it over as stale.
  const killedPid = server.process.pid;
  server.process.kill('SIGKILL');
  await once(server.process, 'exit');
  server = undefined;
  expect((await readLockRecord()).pid).toBe(killedPid);
  const migrated = await runCommand('src/cli/migrate.ts', [], env());
  expect(migrated).toMatchObject({ code: 0, stdout: expect.stringContaining('database is up to date') });
  expect(await lockExists()).toBe(false);
}, 180_000);

/** A live process standing in for another Parley process, as the holder of a lock written by the test. */
async function standIn() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

it('a command that finds the folder held by one that does not share it stops, naming it and what to do', async () => {
  const holder = await standIn();
  try {
    // Standing in for a long `db:seed`: the lock names it, and no port.
    await writeFile(lockFile(), JSON.stringify({ pid: holder.pid, name: 'parley-seed', port: null, shares: false, startedAt: new Date().toISOString() }));
    for (const [script, args] of [
      ['src/cli/token.ts', ['--user', '1']],
      ['src/cli/migrate.ts', []],
      ['src/cli/seed.ts', []],
    ] as const) {
      const result = await runCommand(script, [...args], env());
      expect({ script, code: result.code, stdout: result.stdout }).toEqual({ script, code: 1, stdout: '' });
      expect(result.stderr).toContain(`in use by parley-seed (pid ${holder.pid}`);
      expect(result.stderr).toMatch(/Run this again once it has finished/);
      expect(result.stderr).toContain(`delete ${lockFile()}`);
    }
    // Nothing was opened: the folder holds only the lock.
    expect(await readdir(dataDir)).toEqual(['parley.lock']);
    expect((await readLockRecord()).pid).toBe(holder.pid);

    // Standing in for a server whose socket does not answer (closing, or the pid is another program now).
    await writeFile(lockFile(), JSON.stringify({ pid: holder.pid, name: 'parley-api', port: 9, shares: true, startedAt: new Date().toISOString() }));
    const unreachable = await runCommand('src/cli/migrate.ts', [], env());
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/nothing answers on its port 9/);
  } finally {
    holder.kill('SIGKILL');
  }
}, 120_000);

it('a command waits for a starting server to share the database, and takes the folder over if it dies instead', async () => {
  const holder = await standIn();
  try {
    await writeFile(lockFile(), JSON.stringify({ pid: holder.pid, name: 'parley-api', port: null, shares: true, startedAt: new Date().toISOString() }));
    const command = spawn(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], { env: childEnvironment(env()), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    command.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = once(command, 'exit');
    // Once it says it waits, the stand-in "crashes".
    await new Promise<void>((resolve) => command.stderr.on('data', (chunk) => (stderr += chunk) && /waiting for/.test(stderr) && resolve()));
    expect(stderr).toContain(`waiting for parley-api (pid ${holder.pid}`);
    expect(command.exitCode).toBeNull();
    holder.kill('SIGKILL');
    const [code] = await exited;
    const migrations = readdirSync('prisma/migrations', { withFileTypes: true }).filter((entry) => entry.isDirectory()).length;
    expect({ code, stdout }).toEqual({ code: 0, stdout: expect.stringContaining(`applied ${migrations} migrations (0 applied before)`) });
    expect(await lockExists()).toBe(false);
  } finally {
    holder.kill('SIGKILL');
  }
}, 120_000);
