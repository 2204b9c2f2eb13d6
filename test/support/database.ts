// Internal: a fresh, migrated database for one test file, copied from the
// run's template (see test/support/global-setup.mjs) and dropped by the
// global teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  /** Ends the pool; the database itself is dropped by the global teardown. */
  close(): Promise<void>;
}

function requireEnv(name: string): string {
  // The global setup could not reach PostgreSQL: say so, not that a variable is unset.
  if (process.env.PARLEY_TEST_SETUP_ERROR) throw new Error(process.env.PARLEY_TEST_SETUP_ERROR);
  const value = process.env[name];
  if (!value) throw new Error(`${name} is unset: run integration tests through jest (test/support/global-setup.mjs)`);
  return value;
}

export function testRedisUrl(): string {
  return requireEnv('PARLEY_TEST_REDIS_URL');
}

/** A database for one test file: migrated (a copy of the template), or empty for the migration runner's tests. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const template = requireEnv('PARLEY_TEST_TEMPLATE');
  const serverUrl = requireEnv('PARLEY_TEST_POSTGRES_URL');
  // Jest gives each test file its own module registry, so a per-module counter
  // would repeat across files in one worker: a random suffix does not.
  const name = `${template}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(options.empty ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return { name, url, pool, close: () => pool.end() };
}
