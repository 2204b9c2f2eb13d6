// The container image without Docker: scripts/image-tree.mjs builds its /app
// by the Dockerfile's own steps; the result (production dependencies only,
// no sources, no tsx) migrates, seeds, issues tokens and serves, run with
// `node dist/...` as `docker compose exec api …` runs it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STAGES, buildImageTree } from '../../scripts/image-tree.mjs';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { graphql, runCommand, startServer, type RunningServer } from '../support/processes.js';

const SECRET = 'image-test-secret-0123456789abcdefghij';
const MIGRATIONS = readdirSync('prisma/migrations', { withFileTypes: true }).filter((entry) => entry.isDirectory()).length;
let scratch: string;
let app: string;
let database: TestDatabase;
let server: RunningServer | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'parley-image-'));
  app = buildImageTree(scratch, () => {});
  database = await createTestDatabase({ empty: true });
}, 300_000);
afterAll(async () => {
  server?.process.kill('SIGKILL');
  await database?.close();
  await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** The Dockerfile's stages: name → COPY and RUN lines, and the instructions after the last FROM. */
function dockerfile() {
  const stages: Record<string, string[]> = {};
  const final: string[] = [];
  let current: string[] = [];
  for (const line of readFileSync('Dockerfile', 'utf8')
    .split('\n')
    .map((text) => text.trim())) {
    const from = /^FROM \S+ AS (\S+)$/.exec(line);
    if (from) {
      current = stages[from[1]!] = [];
      final.length = 0;
      continue;
    }
    if (/^(COPY|RUN) /.test(line)) current.push(line);
    if (/^[A-Z]+ /.test(line)) final.push(line);
  }
  return { stages, final };
}

const inApp = (script: string, args: string[], env: Record<string, string>) =>
  runCommand(script, args, { DATABASE_URL: database.url, JWT_SECRET: SECRET, ...env }, { tsx: false, cwd: app });

it('is built by the same steps as the Dockerfile’s, and runs as the node user', () => {
  const { stages, final } = dockerfile();
  expect(stages).toEqual(Object.fromEntries(Object.entries(STAGES).map(([name, steps]) => [name, steps.map(({ step }) => step)])));
  expect(final.slice(-3)).toEqual(['USER node', 'EXPOSE 4000', 'CMD ["node", "--max-semi-space-size=32", "dist/main.js"]']);
  expect(final).toContain('ENV NODE_ENV=production');
});

it('holds the compiled code and production dependencies only', () => {
  expect(readdirSync(app).sort()).toEqual(['.data', 'dist', 'node_modules', 'package.json', 'prisma', 'schema']);
  const modules = readdirSync(path.join(app, 'node_modules'));
  for (const devOnly of ['tsx', 'typescript', 'prisma', 'pino-pretty', 'jest', 'esbuild', '@swc/core', '@graphql-codegen', 'effect']) {
    expect({ devOnly, installed: existsSync(path.join(app, 'node_modules', devOnly)) }).toEqual({ devOnly, installed: false });
  }
  // The seed's libraries are there, for `node dist/cli/seed.js` and the demo data;
  // the offline explorer's is not (ruru brings React and Monaco: 433 MB of node_modules instead of 160 MB).
  expect(modules).toEqual(expect.arrayContaining(['@faker-js', 'cli-progress', 'pg', 'fastify']));
  expect(modules).not.toContain('ruru');
  expect(existsSync(path.join(app, 'dist/cli/token.js'))).toBe(true);
});

it('migrates, seeds, issues a token for an existing user and serves it, in production', async () => {
  const migrated = await inApp('dist/cli/migrate.js', [], { NODE_ENV: 'production' });
  expect(migrated).toMatchObject({ code: 0, stdout: expect.stringContaining(`applied ${MIGRATIONS} migrations (0 applied before)`) });
  const seeded = await inApp('dist/cli/seed.js', ['--users', '20', '--conversations', '30', '--messages', '200'], { NODE_ENV: 'production' });
  expect(seeded).toMatchObject({ code: 0, stdout: expect.stringContaining('seeded 20 users, 30 conversations') });
  expect((await inApp('dist/cli/token.js', ['--user', '21'], { NODE_ENV: 'production' })).stderr).toMatch(/no user with id 21/);
  const issued = await inApp('dist/cli/token.js', ['--user', '3'], { NODE_ENV: 'production' });
  expect(issued).toMatchObject({ code: 0, stdout: expect.stringMatching(/^eyJ[\w.-]+\n$/) });

  server = await startServer({ NODE_ENV: 'production', DATABASE_URL: database.url, JWT_SECRET: SECRET }, { script: 'dist/main.js', tsx: false, cwd: app });
  const { rows } = await database.pool.query<{ username: string }>('SELECT username FROM users WHERE id = 3');
  const answer = await graphql(server.url, '{ viewer { username conversations(first: 1) { totalCount } } }', { token: issued.stdout.trim() });
  expect(answer).toMatchObject({ status: 200, data: { viewer: { username: rows[0]!.username, conversations: { totalCount: expect.any(Number) } } } });
  expect(answer.errors).toBeUndefined();
  expect(await server.stop()).toBe(0);
  server = undefined;
}, 120_000);

it('seeds demo data on an empty database in development, as docker compose runs it', async () => {
  await database.pool.query('TRUNCATE users, conversations, messages, conversation_participants, user_daily_activity CASCADE');
  server = await startServer(
    { NODE_ENV: 'development', DATABASE_URL: database.url, JWT_SECRET: SECRET },
    { script: 'dist/main.js', tsx: false, cwd: app, waitForDemoToken: true },
  );
  expect(server.output.join('')).toMatch(/demo data: 50 users, 120 conversations, 3000 messages/);
  const answer = await graphql<{ viewer: { username: string } }>(server.url, '{ viewer { username } }', { token: server.demoToken });
  expect(answer.data?.viewer.username).toEqual(expect.any(String));
  // No offline explorer without ruru, and it says so; Sandbox's page is still there.
  expect(server.output.join('')).toMatch(/no offline explorer: ruru, a development dependency, is not installed/);
  expect((await fetch(`${server.url}/graphiql`)).status).toBe(404);
  const landing = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
  expect(landing.status).toBe(200);
  expect(await landing.text()).toContain('embeddableSandbox');
  expect(await server.stop()).toBe(0);
  server = undefined;
}, 120_000);
