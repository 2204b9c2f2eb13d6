// Internal: a fresh, migrated database for one test file, copied from the
// run's template (see test/support/global-setup.mjs) and dropped by the
// global teardown. In a run through PgBouncer (TEST_THROUGH_PGBOUNCER=1)
// its `url` and `pool` go through the run's PgBouncer, in transaction mode,
// as the API's would behind one; `directUrl` is the database itself.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  /** Where the API connects: through the run's PgBouncer in a run through PgBouncer, else the database itself. */
  url: string;
  /** The database itself (DATABASE_DIRECT_URL): for what needs a session of its own, like the migration runner's lock. */
  directUrl: string;
  /** On `url`. */
  pool: pg.Pool;
  /** Ends the pool and, through PgBouncer, drops its connections to the database; the database itself is dropped by the global teardown. */
  close(): Promise<void>;
}

/** The database `name` at the server of `serverUrl`. */
function databaseUrl(serverUrl: string, name: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** True in a run through PgBouncer (TEST_THROUGH_PGBOUNCER=1): test/support/global-setup.mjs started one. */
export function throughPgBouncer(): boolean {
  return Boolean(process.env.PARLEY_TEST_PGBOUNCER_URL);
}

function requireEnv(name: string): string {
  // The global setup could not reach PostgreSQL: say so, not that a variable is unset.
  if (process.env.PARLEY_TEST_SETUP_ERROR) throw new Error(process.env.PARLEY_TEST_SETUP_ERROR);
  const value = process.env[name];
  if (!value) throw new Error(`${name} is unset: run integration tests through jest (test/support/global-setup.mjs)`);
  return value;
}

/** The server the tests' databases are on (TEST_POSTGRES_URL, or its default), its own address even in a run through PgBouncer. */
export function testPostgresUrl(): string {
  return requireEnv('PARLEY_TEST_POSTGRES_URL');
}

export function testRedisUrl(): string {
  return requireEnv('PARLEY_TEST_REDIS_URL');
}

/**
 * A database for one test file: migrated (a copy of the template), or
 * `empty` for the migration runner's tests. `direct`: `url` and `pool` on
 * the database itself even in a run through PgBouncer, for tests of what
 * needs a session of its own (the migration runner, which Parley runs on
 * DATABASE_DIRECT_URL).
 */
export async function createTestDatabase(options: { empty?: boolean; direct?: boolean } = {}): Promise<TestDatabase> {
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
  const directUrl = databaseUrl(serverUrl, name);
  const pgbouncerUrl = options.direct ? undefined : process.env.PARLEY_TEST_PGBOUNCER_URL;
  const url = pgbouncerUrl ? databaseUrl(pgbouncerUrl, name) : directUrl;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    directUrl,
    pool,
    async close() {
      await pool.end();
      // PgBouncer keeps its server connections to the database for
      // server_idle_timeout: gone now, they leave the shared server's
      // connections to the next files.
      if (pgbouncerUrl) await adminCommand(pgbouncerUrl, `KILL ${name}`);
    },
  };
}

/** One command on the admin console of the PgBouncer at `pgbouncerUrl`. */
async function adminCommand(pgbouncerUrl: string, command: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(pgbouncerUrl, 'pgbouncer') });
  await client.connect();
  try {
    await client.query(command);
  } finally {
    await client.end();
  }
}
