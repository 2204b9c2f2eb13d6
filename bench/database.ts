// Internal: the benchmark's database. Created when missing, migrated, and
// seeded once per set of seed options: the options are written on the
// database (COMMENT ON DATABASE) after a seed, and a later run with the same
// options reuses the data instead of spending half a minute reseeding.
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { seedDatabase, type SeedOptions } from '../src/cli/seed/seed.js';

const MARKER_PREFIX = 'parley-bench seed ';

export type BenchScale = Pick<SeedOptions, 'users' | 'conversations' | 'messages' | 'seed' | 'days'>;

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/**
 * The URL of a benchmark's database: BENCH_DATABASE_URL when set, otherwise
 * database `name` on the server of TEST_POSTGRES_URL (the tests' server).
 */
export function benchDatabaseUrl(name: string): string {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  const url = new URL(process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Creates the database behind `url` when it does not exist (connecting to the server's `postgres` database to do so). */
export async function createDatabaseIfMissing(url: string): Promise<void> {
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    const name = databaseName(url);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}

/** Forgets that the database holds a seeded scale (a benchmark wrote to it): the next prepareBenchDatabase seeds it again. */
export async function forgetBenchScale(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(databaseName(url))} IS NULL`);
  } finally {
    await client.end();
  }
}

/** Migrates, then seeds unless the database says it holds exactly `scale` already. Returns whether it seeded. */
export async function prepareBenchDatabase(pool: pg.Pool, url: string, scale: BenchScale, log: (line: string) => void): Promise<boolean> {
  const { applied } = await migrate(pool, { log });
  // A migration that rewrote rows leaves them unknown to the visibility map
  // and the statistics until autovacuum comes by; the benchmark should not
  // measure that hour.
  if (applied.length > 0) await pool.query('VACUUM (ANALYZE) users, conversations, conversation_participants, messages');
  const marker = MARKER_PREFIX + JSON.stringify(scale);
  const { rows } = await pool.query<{ comment: string | null }>('SELECT shobj_description(oid, $2) AS comment FROM pg_database WHERE datname = $1', [
    databaseName(url),
    'pg_database',
  ]);
  if (rows[0]?.comment === marker) return false;
  log(`seeding ${scale.users} users, ${scale.conversations} conversations, ${scale.messages} messages (seed ${scale.seed})…`);
  const summary = await seedDatabase(pool, { ...scale, reset: true });
  log(`seeded in ${(summary.durationMs / 1000).toFixed(1)} s`);
  await pool.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(databaseName(url))} IS ${pg.escapeLiteral(marker)}`);
  return true;
}

export interface BenchViewer {
  userId: number;
  conversations: number;
}

/**
 * The viewers the benchmark reads as: the user in the most conversations
 * (whose inbox page was the slowest to find), the median one among users in
 * at least one conversation, and the one in the fewest conversations that
 * still fill a page of `pageSize` (so a page of the same length as the
 * heaviest's).
 */
export async function findViewers(pool: pg.Pool, pageSize: number): Promise<{ heaviest: BenchViewer; median: BenchViewer; lightestFullPage: BenchViewer }> {
  const { rows } = await pool.query<BenchViewer>(
    `SELECT user_id AS "userId", count(*)::int AS conversations FROM conversation_participants
     GROUP BY user_id ORDER BY count(*) DESC, user_id`,
  );
  const lightestFullPage = rows.findLast((row) => row.conversations > pageSize) ?? rows[0]!;
  return { heaviest: rows[0]!, median: rows[Math.floor(rows.length / 2)]!, lightestFullPage };
}
