// Safe defaults: no token is accepted with a secret written in the source;
// without JWT_SECRET a random one is made once and kept in the data
// directory (the demo token survives a restart, `npm run token` signs with
// the same); the server listens on loopback unless HOST says otherwise; no
// schema hints in production error messages.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { createAuth } from '../../src/graphql/auth.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { insertConversation, insertUser } from '../support/fixtures.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';

const run = promisify(execFile);

/** What every earlier version signed with when JWT_SECRET was unset: anyone who read the source could sign in as anyone. */
const SECRET_FROM_THE_SOURCE = 'parley-development-secret-do-not-use-in-production';

let database: TestDatabase;
let dataDir: string;
let server: ChildProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-safe-defaults-'));
});
afterAll(async () => {
  server?.kill('SIGKILL');
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The environment of a developer who set nothing but where the data goes. */
function developmentEnv(): NodeJS.ProcessEnv {
  const { JWT_SECRET: _secret, HOST: _host, NODE_ENV: _env, ...rest } = process.env;
  return { ...rest, NODE_ENV: 'development', LOG_LEVEL: 'warn', PORT: '0', DATABASE_URL: database.url, JWT_SECRET_FILE: path.join(dataDir, 'jwt-secret') };
}

/** `npm run dev` without its file watcher: resolves with the URL it prints and the demo token, once it listens. */
async function startDevelopmentServer(): Promise<{ url: string; demoToken: string }> {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: developmentEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  server.stderr!.on('data', (chunk) => output.push(String(chunk)));
  return new Promise((resolve, reject) => {
    server!.stdout!.on('data', (chunk) => {
      output.push(String(chunk));
      const text = output.join('');
      const url = text.match(/GraphQL at (http:\/\/\S+)\/graphql/)?.[1];
      const demoToken = text.match(/demo token for user \d+.*\n(\S+)\n/)?.[1];
      if (url && demoToken) resolve({ url, demoToken });
    });
    server!.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output.join('')}`)));
  });
}

async function stopServer() {
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  server!.kill('SIGTERM');
  await exited;
  server = undefined;
}

async function viewerId(url: string, token: string): Promise<string | null> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { id } }' }),
  });
  const body = (await response.json()) as { data: { viewer: { id: string } | null } };
  return body.data.viewer?.id ?? null;
}

describe('without JWT_SECRET, in development', () => {
  it('keeps a random secret in the data directory (mode 0600): the demo token works across restarts, the source’s secret never', async () => {
    const first = await startDevelopmentServer();
    // Loopback unless HOST says otherwise.
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await viewerId(first.url, first.demoToken)).not.toBeNull();
    const secretFile = path.join(dataDir, 'jwt-secret');
    const secret = await readFile(secretFile, 'utf8');
    expect(secret.trim().length).toBeGreaterThanOrEqual(43);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    await stopServer();

    const second = await startDevelopmentServer();
    expect(await viewerId(second.url, first.demoToken)).not.toBeNull();
    expect(await readFile(secretFile, 'utf8')).toBe(secret);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET_FROM_THE_SOURCE));
    expect(await viewerId(second.url, forged)).toBeNull();

    // `npm run token` signs with the same secret.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', '1'], { env: developmentEnv() });
    expect(await viewerId(second.url, stdout.trim())).toBe(toGlobalId('User', 1));
    await stopServer();
  }, 60_000);

  it('makes one secret for `npm run token` too when it runs first, in a data directory it creates', async () => {
    const nested = path.join(dataDir, 'fresh', 'nested', 'jwt-secret');
    const env = { ...developmentEnv(), JWT_SECRET_FILE: nested };
    const token = (await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', '5'], { env })).stdout.trim();
    const secret = (await readFile(nested, 'utf8')).trim();
    expect(await createAuth({ secret, ttlSeconds: 60 }).viewerFromHeader(`Bearer ${token}`)).toEqual({ id: 5 });
    expect(await createAuth({ secret: SECRET_FROM_THE_SOURCE, ttlSeconds: 60 }).viewerFromHeader(`Bearer ${token}`)).toBeNull();
  });
});

describe('a start that fails after the database opened', () => {
  it('says why and exits, with the database and Redis closed, rather than hanging', async () => {
    const secretFile = path.join(dataDir, 'short-secret');
    await writeFile(secretFile, 'too-short\n', { mode: 0o600 });
    // Redis on a port nobody listens on: its client reconnects forever unless it is closed.
    const env = { ...developmentEnv(), JWT_SECRET_FILE: secretFile, REDIS_URL: 'redis://127.0.0.1:1' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(output).toContain(secretFile);
  }, 30_000);
});

describe('in production', () => {
  let production: TestApi;
  let development: TestApi;
  let token: string;
  let conversationId: string;

  beforeAll(async () => {
    production = await startTestApi({ NODE_ENV: 'production' });
    development = await startTestApi({ NODE_ENV: 'development' }, await createTestDatabase());
    const user = await insertUser(production.database.pool, 'Hints');
    const friend = await insertUser(production.database.pool, 'Friend');
    conversationId = toGlobalId('Conversation', await insertConversation(production.database.pool, { participants: [user.id, friend.id] }));
    token = await production.tokenFor(user.id);
  });
  afterAll(async () => {
    await production.close();
    await development.close();
  });

  const MISTAKES: [name: string, query: string, variables: () => Record<string, unknown>][] = [
    ['a field', '{ viewr { id } }', () => ({})],
    ['an argument', '{ leaderboard(metrc: XP) { refreshedAt } }', () => ({})],
    ['an enum value', '{ leaderboard(metric: XPP) { refreshedAt } }', () => ({})],
    ['an enum value in a variable', 'query ($m: LeaderboardMetric!) { leaderboard(metric: $m) { refreshedAt } }', () => ({ m: 'XPP' })],
    [
      'an input field in a variable',
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }',
      () => ({ input: { conversationId, bdy: 'hi', body: 'hi' } }),
    ],
    ['a type in a fragment', '{ ...F } fragment F on Querry { viewer { id } }', () => ({})],
  ];

  it.each(MISTAKES)('names no field, argument or type it was not asked about: %s', async (_name, query, variables) => {
    const hidden = await production.request(query, variables(), { token });
    expect(hidden.status).toBe(400);
    expect(hidden.errors?.length).toBeGreaterThan(0);
    expect(hidden.errors!.map((error) => error.message).join('\n')).not.toMatch(/did you mean/i);
    // Development keeps the hints, so the check above is not vacuous.
    const hinted = await development.request(query, variables(), { token: await development.tokenFor(1) });
    expect(hinted.errors!.map((error) => error.message).join('\n')).toMatch(/did you mean/i);
  });
});
