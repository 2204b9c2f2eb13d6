// Creates this run's template database and migrates it once, with the same
// command users run (npm run db:migrate); every test file then copies it
// (CREATE DATABASE ... TEMPLATE), so files run in parallel on their own data
// and never touch a developer's database. Plain JavaScript because Jest
// loads global setup outside its ESM transform.
//
// With TEST_THROUGH_PGBOUNCER=1 it also starts one PgBouncer in transaction
// mode in front of the server (test/support/pgbouncer.mjs): each test
// file's database URL then goes through it, and the database itself stays
// reachable for what needs a session (test/support/database.ts).
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { startPgBouncer } from './pgbouncer.mjs';

const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const throughPgBouncer = /^(1|true)$/i.test(process.env.TEST_THROUGH_PGBOUNCER ?? '');

function databaseUrl(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function globalSetup() {
  // A Jest run started from inside a test (test/repo/test-commands.test.ts)
  // inherits the outer run's variables: they name the outer run's template,
  // which is not this run's to use or to drop.
  for (const name of ['PARLEY_TEST_TEMPLATE', 'PARLEY_TEST_POSTGRES_URL', 'PARLEY_TEST_PGBOUNCER_URL', 'PARLEY_TEST_REDIS_URL', 'PARLEY_TEST_SETUP_ERROR']) {
    delete process.env[name];
  }
  const template = `parley_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  try {
    await admin.connect();
  } catch (error) {
    // Not thrown: Jest would then run no test at all, the unit tests
    // included. Each test that asks for a database fails with this instead.
    process.env.PARLEY_TEST_SETUP_ERROR = `Integration tests need PostgreSQL at ${postgresUrl} (set TEST_POSTGRES_URL to change it): ${error.message}`;
    console.error(`\n${process.env.PARLEY_TEST_SETUP_ERROR}\n`);
    return;
  }
  try {
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  let pgbouncer;
  try {
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl(postgresUrl, template), NODE_ENV: 'test' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Asked for and missing, it fails the run: a run through PgBouncer that quietly went direct would prove nothing.
    if (throughPgBouncer) pgbouncer = await startPgBouncer({ serverUrl: postgresUrl });
  } catch (error) {
    // Jest runs no teardown when the setup fails: drop the template here.
    const cleanup = new pg.Client({ connectionString: postgresUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).finally(() => cleanup.end());
    throw error;
  }
  // Read by the global teardown (Jest shares globals between the two).
  globalThis.parleyTestTemplate = { template, postgresUrl, pgbouncer };
  if (pgbouncer) process.env.PARLEY_TEST_PGBOUNCER_URL = pgbouncer.url();
  // Read by test/support: the workers inherit this process's environment.
  process.env.PARLEY_TEST_TEMPLATE = template;
  process.env.PARLEY_TEST_POSTGRES_URL = postgresUrl;
  process.env.PARLEY_TEST_REDIS_URL = redisUrl;
}
