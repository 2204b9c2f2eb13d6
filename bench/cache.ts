// `npm run bench:cache`: the reference inbox (DESIGN.md budgets) served
// from the response cache vs RESPONSE_CACHE=off, side by side in one run,
// on the same seeded database: throughput at 16 connections (a closed loop
// in a worker thread, so the load does not share the server's event loop)
// and latency at the server (Fastify's elapsed time per response) and at the
// client. The cache runs on a redis-server this script starts on a free port
// (REDIS_URL to use another), and in the process.
//
// BENCH_DATABASE_URL (default: a `parley_bench_cache` database on the local
// PostgreSQL of TEST_POSTGRES_URL's server) is created if missing, migrated
// and seeded once at the scale below; later runs reuse it.
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { print } from 'graphql';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { createPrisma } from '../src/db/prisma.js';
import { createRedisClient, type Redis } from '../src/db/redis.js';
import { seedDatabase } from '../src/db/seed/seed.js';
import { instrumentPool } from '../src/db/statement-counter.js';
import { InboxDocument } from '../src/generated/graphql/operations.js';
import { createAuth } from '../src/graphql/auth.js';
import { buildSchema } from '../src/http/schema.js';
import { createServer } from '../src/http/server.js';
import { tags } from '../src/writes/tags.js';
import { startOwnRedis } from '../test/support/redis-server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    users: { type: 'string', default: '10000' },
    conversations: { type: 'string', default: '50000' },
    messages: { type: 'string', default: '1000000' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SCALE = { users: Number(values.users), conversations: Number(values.conversations), messages: Number(values.messages), seed: 7 };
const BENCH_DATABASE = 'parley_bench_cache';

const serverUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const benchUrl = process.env.BENCH_DATABASE_URL ?? withDatabase(serverUrl, BENCH_DATABASE);

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function ensureDatabase(): Promise<void> {
  if (process.env.BENCH_DATABASE_URL) return;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DATABASE]);
  if (rowCount === 0) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  await admin.end();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// The load: `connections` loops over keep-alive sockets, each sending the
// next request when the previous answer has been read in full.
const LOAD = `
const http = require('node:http');
const { workerData, parentPort } = require('node:worker_threads');
const { port, body, token, connections, seconds } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const latencies = [];
const statuses = {};
let failures = 0;
const once = () => new Promise((resolve) => {
  const started = performance.now();
  const request = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer ' + token } }, (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (response.statusCode !== 200 || text.includes('"errors"')) failures += 1;
      const status = response.headers['x-cache'] || 'none';
      statuses[status] = (statuses[status] || 0) + 1;
      latencies.push(performance.now() - started);
      resolve();
    });
  });
  request.on('error', () => { failures += 1; resolve(); });
  request.end(body);
});
(async () => {
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => { while (performance.now() < end) await once(); }));
  agent.destroy();
  parentPort.postMessage({ latencies, statuses, failures });
})();
`;

interface Load {
  latencies: number[];
  statuses: Record<string, number>;
  failures: number;
}

function load(port: number, body: string, token: string, connections: number, seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD, { eval: true, workerData: { port, body, token, connections, seconds } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

interface Figures {
  mode: string;
  requests: number;
  throughput: number;
  statuses: Record<string, number>;
  failures: number;
  client: { p50: number; p95: number };
  server: { p50: number; p95: number };
  /** Sequential requests, one at a time: the cost of one answer without queueing. */
  alone: { p50: number; p95: number };
  statementsPerRequest: number;
  bytes: number;
}

await ensureDatabase();
const config = loadConfig({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: benchUrl });
const pool = instrumentPool(createPool(benchUrl, config.database, { applicationName: 'parley-bench-cache' }));
await migrate(pool, { log: () => {} });
const { rows: counted } = await pool.query<{ messages: number }>('SELECT count(*)::int AS messages FROM messages');
if (counted[0]!.messages !== SCALE.messages) {
  console.log(`seeding ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages…`);
  await seedDatabase(pool, { ...SCALE, reset: true });
}
// The viewer: the user in the most conversations (the inbox fills its 50 rows).
const { rows: viewers } = await pool.query<{ userId: number; conversations: number }>(
  `SELECT user_id AS "userId", count(*)::int AS conversations FROM conversation_participants
   GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1`,
);
const viewer = viewers[0]!;

const auth = createAuth({ secret: config.auth.jwtSecret, ttlSeconds: 3600 });
const token = await auth.issueToken(viewer.userId);
const prisma = createPrisma(pool);
const schema = buildSchema();
const body = JSON.stringify({ query: print(InboxDocument), variables: { conversations: 50, messages: 20 } });

const ownRedis = process.env.REDIS_URL ? undefined : await startOwnRedis();
const redisUrl = process.env.REDIS_URL ?? ownRedis!.url;

async function measure(mode: string, responseCache: boolean, redis: Redis | undefined): Promise<Figures> {
  const server = await createServer({ config: { ...config, responseCache }, schema, db: { pool, prisma }, auth, redis });
  const serverTimes: number[] = [];
  let statements = 0;
  let responses = 0;
  server.fastify.addHook('onResponse', async (request, reply) => {
    serverTimes.push(reply.elapsedTime);
    statements += request.sqlCounter?.count ?? 0;
    responses += 1;
  });
  await server.fastify.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.fastify.server.address() as { port: number };

  // Warm-up (fills the cache), then one request at a time.
  const alone: number[] = [];
  let bytes = 0;
  for (let index = 0; index < 25; index += 1) {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const text = await response.text();
    if (text.includes('"errors"')) throw new Error(`the inbox failed: ${text.slice(0, 500)}`);
    bytes = Buffer.byteLength(text);
    if (index >= 5) alone.push(performance.now() - started);
  }
  const aloneServer = serverTimes.splice(0).slice(5).sort((a, b) => a - b);
  alone.sort((a, b) => a - b);
  statements = 0;
  responses = 0;

  const result = await load(port, body, token, CONNECTIONS, SECONDS);
  await server.fastify.close();
  const latencies = result.latencies.sort((a, b) => a - b);
  serverTimes.sort((a, b) => a - b);
  return {
    mode,
    requests: latencies.length,
    throughput: latencies.length / SECONDS,
    statuses: result.statuses,
    failures: result.failures,
    client: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    server: { p50: percentile(serverTimes, 50), p95: percentile(serverTimes, 95) },
    alone: { p50: percentile(aloneServer, 50), p95: percentile(aloneServer, 95) },
    statementsPerRequest: statements / Math.max(responses, 1),
    bytes,
  };
}

/**
 * What the cache adds to a miss: sequential requests, each after an
 * invalidation of the viewer's inbox, so each one runs, is tagged and stored.
 */
async function measureMisses(redis: Redis | undefined): Promise<{ p50: number; p95: number }> {
  const server = await createServer({ config: { ...config, responseCache: true }, schema, db: { pool, prisma }, auth, redis });
  const times: number[] = [];
  server.fastify.addHook('onResponse', async (_request, reply) => {
    if (reply.getHeader('x-cache') === 'MISS') times.push(reply.elapsedTime);
  });
  for (let index = 0; index < 25; index += 1) {
    await server.responseCache!.invalidate([tags.inbox(viewer.userId)]);
    const response = await server.fastify.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: body,
    });
    if (response.headers['x-cache'] !== 'MISS') throw new Error(`expected a miss, got ${String(response.headers['x-cache'])}`);
  }
  await server.fastify.close();
  const measured = times.slice(5).sort((a, b) => a - b);
  return { p50: percentile(measured, 50), p95: percentile(measured, 95) };
}

const redis = createRedisClient({ url: redisUrl, keyPrefix: `parley-bench-cache:${process.pid}:` });
await new Promise((resolve) => redis.once('ready', resolve));
const off = await measure('RESPONSE_CACHE=off (baseline)', false, undefined);
const inRedis = await measure('cache in Redis', true, redis);
const inProcess = await measure('cache in process', true, undefined);
const missInRedis = await measureMisses(redis);
await redis.quit();
await ownRedis?.close();
await prisma.$disconnect();
await pool.end();

const ms = (value: number) => `${value.toFixed(2)} ms`;
const row = (figures: Figures) =>
  `| ${figures.mode} | ${figures.throughput.toFixed(1)} | ${ms(figures.server.p50)} / ${ms(figures.server.p95)} | ${ms(figures.client.p50)} / ${ms(figures.client.p95)} | ${ms(figures.alone.p50)} / ${ms(figures.alone.p95)} | ${figures.statementsPerRequest.toFixed(2)} | ${Object.entries(figures.statuses).map(([status, count]) => `${status} ${count}`).join(', ')}${figures.failures ? `, ${figures.failures} failed` : ''} |`;
const lines = [
  `# Response cache benchmark (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Data: ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages (seed ${SCALE.seed}).`,
  `Operation: the Inbox client operation, 50 conversations × 20 messages (${(off.bytes / 1024).toFixed(0)} KB), for user ${viewer.userId} (in ${viewer.conversations} conversations), the same request over and over.`,
  `Load: ${CONNECTIONS} connections in a closed loop for ${SECONDS} s per mode (a worker thread of the same process), after 25 sequential requests (the first 5 warm up and fill the cache; the other 20 give the "one at a time" column).`,
  'Server latency: Fastify’s elapsed time from request to response sent. Modes run one after the other in this run, on the same database.',
  '',
  `| mode | requests/s | server p50 / p95 | client p50 / p95 | one at a time, server p50 / p95 | SQL per request | x-cache |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  row(off),
  row(inRedis),
  row(inProcess),
  '',
  `Throughput ratio at ${CONNECTIONS} connections: ${(inRedis.throughput / off.throughput).toFixed(1)}× from Redis, ${(inProcess.throughput / off.throughput).toFixed(1)}× in process.`,
  '',
  `A miss with the cache in Redis (the inbox invalidated before each of 20 sequential requests: run, tagged, stored), server p50 / p95: ${ms(missInRedis.p50)} / ${ms(missInRedis.p95)}, against ${ms(off.alone.p50)} / ${ms(off.alone.p95)} with RESPONSE_CACHE=off.`,
  `Machine load average while it ran: ${loadavg().map((value) => value.toFixed(1)).join(', ')} (1, 5, 15 min) on ${availableParallelism()} cores.`,
];
console.log(lines.join('\n'));
await mkdir(new URL('./reports/', import.meta.url), { recursive: true });
await writeFile(new URL('./reports/cache.md', import.meta.url), `${lines.join('\n')}\n`);
