// `npm run bench`: the reference inbox operation (budgets in docs/design.md) with
// DataLoader batching on and off, side by side in one run, on the same
// seeded database: SQL statements per request and latency at the server.
//
// BENCH_DATABASE_URL (default: a `parley_bench` database on the local
// PostgreSQL of TEST_POSTGRES_URL's server) is created if missing, migrated
// and seeded once at the scale below; later runs reuse it.
import { randomBytes } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { createPrisma } from '../src/db/prisma.js';
import { seedDatabase } from '../src/db/seed/seed.js';
import { instrumentPool } from '../src/db/statement-counter.js';
import { InboxDocument } from '../src/generated/graphql/operations.js';
import { createAuth } from '../src/graphql/auth.js';
import { buildSchema } from '../src/http/schema.js';
import { createServer } from '../src/http/server.js';
import { print } from 'graphql';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '60' },
    users: { type: 'string', default: '10000' },
    conversations: { type: 'string', default: '50000' },
    messages: { type: 'string', default: '1000000' },
  },
});
const REQUESTS = Number(values.requests);
const SCALE = { users: Number(values.users), conversations: Number(values.conversations), messages: Number(values.messages), seed: 7 };

const serverUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const benchUrl = process.env.BENCH_DATABASE_URL ?? withDatabase(serverUrl, 'parley_bench');

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function ensureDatabase(): Promise<void> {
  if (process.env.BENCH_DATABASE_URL) return;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['parley_bench']);
  if (rowCount === 0) await admin.query('CREATE DATABASE parley_bench');
  await admin.end();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Figures {
  statements: number;
  p50: number;
  p95: number;
  mean: number;
}

await ensureDatabase();
const config = loadConfig({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: benchUrl });
const pool = instrumentPool(createPool(benchUrl, config.database, { applicationName: 'parley-bench' }));
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

// The servers below are this run's own: a secret for this run alone.
const auth = createAuth({ secret: config.auth.jwtSecret ?? randomBytes(32).toString('base64url'), ttlSeconds: 3600 });
const token = await auth.issueToken(viewer.userId);
const prisma = createPrisma(pool);
const schema = buildSchema();
const query = print(InboxDocument);
const variables = { conversations: 50, messages: 20 };

async function measure(batch: boolean): Promise<Figures> {
  const { fastify } = await createServer({ config: { ...config, dataloaderBatch: batch }, schema, db: { pool, prisma }, auth, migrations: await readMigrations() });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = fastify.server.address() as { port: number };
  const send = async () => {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${address.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { errors?: unknown[] };
    const elapsed = performance.now() - started;
    if (body.errors) throw new Error(`the inbox failed: ${JSON.stringify(body.errors)}`);
    return { elapsed, statements: Number(response.headers.get('x-sql-statements')) };
  };
  for (let warmup = 0; warmup < 5; warmup += 1) await send();
  const times: number[] = [];
  let statements = 0;
  for (let index = 0; index < REQUESTS; index += 1) {
    const sample = await send();
    times.push(sample.elapsed);
    statements = sample.statements;
  }
  await fastify.close();
  times.sort((a, b) => a - b);
  return { statements, p50: percentile(times, 50), p95: percentile(times, 95), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

const batched = await measure(true);
const unbatched = await measure(false);
await prisma.$disconnect();
await pool.end();

const ms = (value: number) => `${value.toFixed(1)} ms`;
const lines = [
  `# Inbox benchmark (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Data: ${SCALE.users} users, ${SCALE.conversations} conversations, ${SCALE.messages} messages (seed ${SCALE.seed}).`,
  `Operation: the Inbox client operation, 50 conversations × 20 messages, for user ${viewer.userId} (in ${viewer.conversations} conversations).`,
  `${REQUESTS} sequential requests per mode after 5 warm-up requests; latency measured at the client over loopback.`,
  '',
  '| mode | SQL statements | p50 | p95 | mean |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| DataLoader batching (default) | ${batched.statements} | ${ms(batched.p50)} | ${ms(batched.p95)} | ${ms(batched.mean)} |`,
  `| DATALOADER_BATCH=false (baseline) | ${unbatched.statements} | ${ms(unbatched.p50)} | ${ms(unbatched.p95)} | ${ms(unbatched.mean)} |`,
  `| ratio (baseline ÷ batched) | ${(unbatched.statements / batched.statements).toFixed(1)}× | ${(unbatched.p50 / batched.p50).toFixed(1)}× | ${(unbatched.p95 / batched.p95).toFixed(1)}× | ${(unbatched.mean / batched.mean).toFixed(1)}× |`,
];
console.log(lines.join('\n'));
await mkdir(new URL('./reports/', import.meta.url), { recursive: true });
await writeFile(new URL('./reports/inbox.md', import.meta.url), `${lines.join('\n')}\n`);
