// `npm run bench:cache`: the reference inbox (docs/design.md's budgets) served
// from the response cache vs RESPONSE_CACHE=off, side by side in one run,
// on the same seeded database: throughput at 16 connections (a closed loop
// in a child process, so this process's CPU time is the server's), the
// modes taking turns in slices so a change in the shared machine's load
// weighs on all alike; the server's CPU time per request, which that load
// disturbs least; latency at the server (Fastify's elapsed time per
// response) and at the client; then one request at a time, and the cost of
// a miss. The cache runs on a redis-server this script starts on a free
// port (REDIS_URL to use another), and in the process.
//
// BENCH_DATABASE_URL (default: a `parley_bench_cache` database on the local
// PostgreSQL of TEST_POSTGRES_URL's server) is created if missing, migrated
// and seeded once at the scale below; later runs reuse it.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';

const run = promisify(execFile);
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { print } from 'graphql';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { createRedisClient, type Redis } from '../src/db/redis.js';
import { seedDatabase } from '../src/cli/seed/seed.js';
import { InboxDocument } from '../src/generated/graphql/operations.js';
import { createAuth } from '../src/graphql/auth.js';
import { createApp } from '../src/app/create-app.js';
import { createServer, type ParleyServer } from '../src/http/server.js';
import { tags } from '../src/writes/tags.js';
import { benchDatabaseUrl, createDatabaseIfMissing } from './database.js';
import { percentile } from './stats.js';
import { benchArguments } from './arguments.js';
import { startOwnRedis } from '../test/support/redis-server.js';

const USAGE = `Usage: npm run bench:cache -- [options]
  --seconds N         under load, seconds per mode, in --rounds slices taking turns (default 20)
  --rounds N          slices per mode (default 4)
  --sequential N      requests one at a time per mode, afterwards (default 20)
  --connections N     concurrent connections of the closed loop (default 16)
  --users N --conversations N --messages N   the data, seed 7 (default 10000, 50000, 1000000)
Writes bench/reports/cache.md.`;

const { values, whole } = benchArguments(USAGE, {
  seconds: { type: 'string', default: '20' },
  rounds: { type: 'string', default: '4' },
  sequential: { type: 'string', default: '20' },
  connections: { type: 'string', default: '16' },
  users: { type: 'string', default: '10000' },
  conversations: { type: 'string', default: '50000' },
  messages: { type: 'string', default: '1000000' },
});
const SECONDS = whole('seconds', values.seconds, 1);
const CONNECTIONS = whole('connections', values.connections, 1);
const ROUNDS = whole('rounds', values.rounds, 1);
const SEQUENTIAL = whole('sequential', values.sequential, 1);
const SCALE = {
  users: whole('users', values.users, 1),
  conversations: whole('conversations', values.conversations, 1),
  messages: whole('messages', values.messages, 1),
  seed: 7,
};
const BENCH_DATABASE = 'parley_bench_cache';

const benchUrl = benchDatabaseUrl(BENCH_DATABASE);

// The load, in a child process (so the server's CPU time is its own):
// `connections` loops over keep-alive sockets, each sending the next request
// when the previous answer has been read in full.
const LOAD = `
const http = require('node:http');
const { port, body, token, connections, seconds, acceptEncoding, rate } = JSON.parse(process.env.PARLEY_BENCH_LOAD);
const agent = new http.Agent({ keepAlive: true, maxSockets: rate ? 256 : connections });
const latencies = [];
const statuses = {};
let failures = 0;
// started: when the request was due (a fixed rate's schedule), so a late send counts as latency.
const once = (started = performance.now()) => new Promise((resolve) => {
  const request = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer ' + token,
    ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) } }, (response) => {
    // The answer is read, not decoded: a hit comes gzipped, and the load generator shares the server's two cores.
    let head = '';
    response.on('data', (chunk) => { if (head.length < 16) head += chunk.toString('latin1', 0, 16); });
    response.on('end', () => {
      const gzipped = response.headers['content-encoding'] === 'gzip';
      if (response.statusCode !== 200 || (!gzipped && !head.startsWith('{"data":'))) failures += 1;
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
  const started = performance.now();
  if (rate) {
    // Open loop: a request every 1/rate s, whether or not the earlier ones have been answered.
    const pending = [];
    let due = started;
    while (due < end) {
      while (due <= performance.now() && due < end) {
        pending.push(once(due));
        due += 1000 / rate;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
    await Promise.all(pending);
  } else {
    await Promise.all(Array.from({ length: connections }, async () => { while (performance.now() < end) await once(); }));
  }
  agent.destroy();
  // Until the last answer: requests sent before the end finish after it.
  process.stdout.write(JSON.stringify({ latencies, statuses, failures, elapsed: performance.now() - started }));
})();
`;

interface Load {
  latencies: number[];
  statuses: Record<string, number>;
  failures: number;
  /** Milliseconds from the first request to the last answer. */
  elapsed: number;
}

async function load(mode: Mode, seconds: number, rate?: number): Promise<Load> {
  const { stdout } = await run(process.execPath, ['-e', LOAD], {
    env: {
      ...process.env,
      PARLEY_BENCH_LOAD: JSON.stringify({ port: mode.port, body, token, connections: CONNECTIONS, seconds, acceptEncoding: mode.acceptEncoding, rate }),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Load;
}

await createDatabaseIfMissing(benchUrl);
// One viewer under load spends its default rate-limit budget in seconds: the
// limiter still runs, it just never refuses.
const config = loadConfig({
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATABASE_URL: benchUrl,
  JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  RATE_LIMIT_POINTS: '1000000000',
  // Whole answers are measured, against running the operation in full.
  LOADER_CACHE: 'off',
});
const pool = createPool(benchUrl, config.database, { applicationName: 'parley-bench-cache' });
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

const token = await createAuth({ secret: config.auth.jwtSecret!, ttlSeconds: 3600 }).issueToken(viewer.userId);
const body = JSON.stringify({ query: print(InboxDocument), variables: { conversations: 50, messages: 20 } });

const ownRedis = process.env.REDIS_URL ? undefined : await startOwnRedis();
const redisUrl = process.env.REDIS_URL ?? ownRedis!.url;

type Phase = 'load' | 'alone' | 'miss' | 'fixed';

interface Mode {
  name: string;
  /** What the client's Accept-Encoding says: browsers and mobile HTTP stacks take gzip. */
  acceptEncoding: string | undefined;
  server: ParleyServer;
  port: number;
  phase: Phase | undefined;
  /** Server elapsed times by phase. */
  times: Record<Phase, number[]>;
  /** SQL statements and responses under load. */
  statements: number;
  responses: number;
  latencies: number[];
  /** Milliseconds under load, in all. */
  elapsed: number;
  /** This process's CPU time under load (user + system), in microseconds: the server's work, the load runs elsewhere. */
  cpu: number;
  statuses: Record<string, number>;
  failures: number;
  bytes: number;
  /** At a fixed rate, half what the closed loop reached: the rate, client latencies and this process's CPU per request. */
  fixed: { rate: number; achieved: number; latencies: number[]; cpuMsPerRequest: number; failures: number } | undefined;
}

async function startMode(name: string, responseCache: boolean, redis: Redis | undefined, acceptEncoding: string | undefined): Promise<Mode> {
  const server = await createServer(await createApp({ ...config, responseCache }, { pool, redis }));
  const mode: Mode = {
    name,
    acceptEncoding,
    server,
    port: 0,
    phase: undefined,
    times: { load: [], alone: [], miss: [], fixed: [] },
    fixed: undefined,
    statements: 0,
    responses: 0,
    latencies: [],
    elapsed: 0,
    cpu: 0,
    statuses: {},
    failures: 0,
    bytes: 0,
  };
  server.fastify.addHook('onResponse', async (request, reply) => {
    if (!mode.phase) return;
    mode.times[mode.phase].push(reply.elapsedTime);
    if (mode.phase !== 'load') return;
    mode.statements += request.observation?.statements ?? 0;
    mode.responses += 1;
  });
  await server.fastify.listen({ host: '127.0.0.1', port: 0 });
  mode.port = (server.fastify.server.address() as { port: number }).port;
  // Warm-up: fills the cache.
  for (let index = 0; index < 5; index += 1) await inject(mode);
  return mode;
}

/** One request through the server's own request handling (no socket), for the sequential measurements. */
async function inject(mode: Mode, phase?: Phase): Promise<void> {
  mode.phase = phase;
  const response = await mode.server.fastify.inject({
    method: 'POST',
    url: '/graphql',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(mode.acceptEncoding ? { 'accept-encoding': mode.acceptEncoding } : {}),
    },
    payload: body,
  });
  mode.phase = undefined;
  if (response.body.includes('"errors"')) throw new Error(`the inbox failed: ${response.body.slice(0, 500)}`);
  if (phase === 'miss' && response.headers['x-cache'] !== 'MISS') throw new Error(`expected a miss, got ${String(response.headers['x-cache'])}`);
  if (phase !== 'miss') mode.bytes = response.rawPayload.length;
}

const BROWSER_ENCODINGS = 'gzip, deflate, br';
const redis = createRedisClient({ url: redisUrl, keyPrefix: `parley-bench-cache:${process.pid}:` });
await new Promise((resolve) => redis.once('ready', resolve));
const modes = [
  await startMode('RESPONSE_CACHE=off (baseline)', false, undefined, BROWSER_ENCODINGS),
  await startMode('cache in Redis', true, redis, BROWSER_ENCODINGS),
  await startMode('cache in process', true, undefined, BROWSER_ENCODINGS),
  await startMode('cache in Redis, client without gzip', true, redis, undefined),
];
const [off, inRedis, inProcess, inRedisPlain] = modes as [Mode, Mode, Mode, Mode];

// Under load: the modes take turns, ROUNDS slices each, so a change in the
// machine's load (it is shared) weighs on all of them alike.
for (let round = 0; round < ROUNDS; round += 1) {
  for (const mode of modes) {
    mode.phase = 'load';
    const cpu = process.cpuUsage();
    const result = await load(mode, SECONDS / ROUNDS);
    const used = process.cpuUsage(cpu);
    mode.cpu += used.user + used.system;
    mode.phase = undefined;
    mode.latencies.push(...result.latencies);
    mode.elapsed += result.elapsed;
    mode.failures += result.failures;
    for (const [status, count] of Object.entries(result.statuses)) mode.statuses[status] = (mode.statuses[status] ?? 0) + count;
  }
}

const throughput = (mode: Mode) => mode.latencies.length / (mode.elapsed / 1000);

// Hits at a fixed rate: half the rate at which the server's one thread
// saturates (1 s over its CPU per hit under load), open loop (requests sent
// on schedule, answered or not), so the latency is a hit's and not the
// queue's at saturation.
const cpuMsPerRequest = (mode: Mode) => mode.cpu / 1000 / Math.max(mode.latencies.length, 1);
for (const mode of [inRedis, inProcess]) {
  const rate = Math.max(1, Math.round(throughput(mode) / 2));
  mode.phase = 'fixed';
  const cpu = process.cpuUsage();
  const result = await load(mode, SECONDS / 2, rate);
  const used = process.cpuUsage(cpu);
  mode.phase = undefined;
  mode.fixed = {
    rate,
    achieved: result.latencies.length / (result.elapsed / 1000),
    latencies: result.latencies,
    cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(result.latencies.length, 1),
    failures: result.failures,
  };
}

// One request at a time, taking turns: each mode's own cost, without
// queueing; and a miss with the cache in Redis (the viewer's inbox
// invalidated before it: the operation runs, is tagged, stored).
for (let index = 0; index < SEQUENTIAL; index += 1) {
  for (const mode of modes) await inject(mode, 'alone');
  await inRedis.server.app.responseCache!.invalidate([tags.inbox(viewer.userId)]);
  await inject(inRedis, 'miss');
  await inRedis.server.app.responseCache!.drain();
}
for (const mode of modes) {
  await mode.server.fastify.close();
  await mode.server.app.close();
}
await redis.quit();
await ownRedis?.close();
await pool.end();

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const ms = (value: number) => `${value.toFixed(2)} ms`;
const pair = (values: number[]) => `${ms(percentile(sorted(values), 50))} / ${ms(percentile(sorted(values), 95))}`;
const row = (mode: Mode) =>
  `| ${mode.name} | ${throughput(mode).toFixed(1)} | ${cpuMsPerRequest(mode).toFixed(2)} ms | ${pair(mode.times.load)} | ${pair(mode.latencies)} | ${pair(mode.times.alone)} | ${(mode.statements / Math.max(mode.responses, 1)).toFixed(2)} | ${Object.entries(
    mode.statuses,
  )
    .map(([status, count]) => `${status} ${count}`)
    .join(', ')}${mode.failures ? `, ${mode.failures} failed` : ''} |`;
const lines = [
  `# Response cache benchmark (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Data: ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages (seed ${SCALE.seed}).`,
  `Operation: the Inbox client operation, 50 conversations × 20 messages (${(off.bytes / 1024).toFixed(0)} KB, ${(inRedis.bytes / 1024).toFixed(0)} KB gzipped), for user ${viewer.userId} (in ${viewer.conversations} conversations), the same request over and over.`,
  `Load: ${CONNECTIONS} connections in a closed loop (a child process), ${SECONDS} s per mode in ${ROUNDS} slices, the modes taking turns; then ${SEQUENTIAL} requests one at a time per mode, taking turns.`,
  'Server latency: Fastify’s elapsed time from request to response sent. Everything in one run, on one database; the cache in Redis uses a redis-server of its own on this machine.',
  '',
  `| mode | requests/s | server CPU per request | server p50 / p95 | client p50 / p95 | one at a time, server p50 / p95 | SQL per request | x-cache |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  row(off),
  row(inRedis),
  row(inProcess),
  row(inRedisPlain),
  '',
  '',
  `Hits at a fixed rate: half the requests/s the closed loop above reached (the machine's saturation: server, Redis and load generator share its cores), open loop (client latency counted from when each request was due), ${SECONDS / 2} s each:`,
  '',
  '| mode | asked requests/s | answered requests/s | server CPU per request | server p50 / p95 | client p50 / p95 |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...[inRedis, inProcess].map(
    (mode) =>
      `| ${mode.name} | ${mode.fixed!.rate} | ${mode.fixed!.achieved.toFixed(0)} | ${mode.fixed!.cpuMsPerRequest.toFixed(3)} ms | ${pair(mode.times.fixed)} | ${pair(mode.fixed!.latencies)}${mode.fixed!.failures ? ` (${mode.fixed!.failures} failed)` : ''} |`,
  ),
  '',
  `Throughput ratio at ${CONNECTIONS} connections: ${(throughput(inRedis) / throughput(off)).toFixed(1)}× from Redis, ${(throughput(inProcess) / throughput(off)).toFixed(1)}× in process, ${(throughput(inRedisPlain) / throughput(off)).toFixed(1)}× from Redis to a client without gzip.`,
  'Clients send `accept-encoding: gzip, deflate, br` as browsers do, except in the last row; hits then go out as stored (gzip), misses and the baseline uncompressed (the server does not compress).',
  '',
  `A miss with the cache in Redis (run, tagged, stored; taking turns with the rows above), server p50 / p95: ${pair(inRedis.times.miss)}, against ${pair(off.times.alone)} with RESPONSE_CACHE=off.`,
  `Machine load average at the end: ${loadavg()
    .map((value) => value.toFixed(1))
    .join(', ')} (1, 5, 15 min) on ${availableParallelism()} cores.`,
];
console.log(lines.join('\n'));
await mkdir(new URL('./reports/', import.meta.url), { recursive: true });
await writeFile(new URL('./reports/cache.md', import.meta.url), `${lines.join('\n')}\n`);
