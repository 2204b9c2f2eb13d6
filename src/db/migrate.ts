import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { withClient, type Queryable } from './pool.js';
import { withTransaction, type CheckedOutConnection } from './transaction.js';

/**
 * Applies prisma/migrations the way `prisma migrate deploy` does, for machines
 * where Prisma's schema engine is not available: in name order, each once,
 * recorded in `_prisma_migrations` with Prisma's columns and sha256 checksum,
 * so either tool can take over from the other.
 */

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Prisma's own advisory lock key, so this runner and `prisma migrate deploy`
// also exclude each other.
const MIGRATION_LOCK_KEY = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
  /**
   * CREATE INDEX CONCURRENTLY and friends cannot run inside a transaction,
   * nor can a DO block that commits its batches (a backfill).
   */
  transactional: boolean;
  /** The written rollback (down.sql), when there is one. */
  down: string | undefined;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const NON_TRANSACTIONAL = /\b(CONCURRENTLY|ALTER\s+TYPE\s+\S+\s+ADD\s+VALUE|COMMIT)\b/i;

/** Reads the migrations folder: `<timestamp>_<name>/migration.sql` (+ optional `down.sql`), sorted by name. */
export async function readMigrations(directory = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(directory, name, 'migration.sql'), 'utf8');
      const down = await readFile(path.join(directory, name, 'down.sql'), 'utf8').catch(() => undefined);
      return {
        name,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
        transactional: !NON_TRANSACTIONAL.test(stripComments(sql)),
        down,
      };
    }),
  );
}

function stripComments(sql: string): string {
  return sql.replace(/--.*$/gm, '');
}

// Prisma's table, column for column.
const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
  )`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Brings the database up to date. Refuses to run when an applied migration's
 * file changed since, or when an earlier run failed half-way and was not
 * resolved; both need a person.
 */
export async function migrate(pool: pg.Pool, options: { directory?: string; log?: (line: string) => void } = {}): Promise<MigrationResult> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.directory);
  return withClient(pool, async (client, discard) => {
    await acquireMigrationLock(client);
    // The pool's statement timeout is for API requests: an index build or a
    // backfill on a table of millions runs for minutes. RESET in the finally
    // gives the connection its pool's timeout back before it is released.
    await client.query('SET statement_timeout = 0');
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      const applied = new Map(rows.map((row) => [row.migration_name, row]));
      for (const row of rows) {
        if (row.finished_at === null) {
          throw new MigrationError(
            `Migration ${row.migration_name} failed earlier and was left unfinished. Fix the database, then mark it ` +
              `with \`prisma migrate resolve\` or delete its row from _prisma_migrations.`,
          );
        }
      }
      const result: MigrationResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        const previous = applied.get(migration.name);
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            throw new MigrationError(
              `Migration ${migration.name} was changed after it was applied (checksum ${previous.checksum} in the ` +
                `database, ${migration.checksum} on disk). Applied migrations are history: restore the file and add a new migration.`,
            );
          }
          result.alreadyApplied.push(migration.name);
          continue;
        }
        log(`applying ${migration.name}`);
        await applyMigration({ client, discard }, migration);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await client.query('RESET statement_timeout');
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

// A session lock, not withTransaction's `locks` (which last one
// transaction): it spans every migration of the run, and the CONCURRENTLY
// ones run outside any transaction. Polls rather than blocking in
// pg_advisory_lock: a session blocked there holds a snapshot, and CREATE
// INDEX CONCURRENTLY in the session holding the lock waits for every older
// snapshot to finish: a deadlock.
async function acquireMigrationLock(client: pg.PoolClient, timeoutMs = 10 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY]);
    if (rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new MigrationError(`Another migration run held the migration lock for ${timeoutMs / 1000} s; is one stuck?`);
    }
    await setTimeout(250);
  }
}

async function applyMigration(connection: CheckedOutConnection, migration: Migration): Promise<void> {
  const { client } = connection;
  const id = randomUUID();
  if (migration.transactional) {
    // The script and its record commit together, or neither does; on the
    // run's connection, which keeps the migration lock between migrations.
    try {
      await withTransaction(connection, async (transaction) => {
        await transaction.query(migration.sql);
        await transaction.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [id, migration.checksum, migration.name],
        );
      });
    } catch (error) {
      throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${(error as Error).message}`);
    }
    return;
  }
  // Outside a transaction, one statement at a time (a simple-protocol query
  // with several statements is an implicit transaction).
  await client.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`, [
    id,
    migration.checksum,
    migration.name,
  ]);
  try {
    for (const statement of splitStatements(migration.sql)) await client.query(statement);
  } catch (error) {
    const message = (error as Error).message;
    // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind that
    // IF NOT EXISTS would then skip forever; the written rollback removes it
    // so that the next run starts clean.
    if (migration.down) {
      for (const statement of splitStatements(migration.down)) await client.query(statement).catch(() => {});
      await client.query('DELETE FROM "_prisma_migrations" WHERE id = $1', [id]);
      throw new MigrationError(`Migration ${migration.name} failed and its down.sql was applied: ${message}`);
    }
    await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
    throw new MigrationError(`Migration ${migration.name} failed half-way and needs a person: ${message}`);
  }
  await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
}

/** A migration as this build ships it: enough to tell whether the database has it, unchanged. */
export type MigrationFingerprint = Pick<Migration, 'name' | 'checksum'>;

export interface MigrationState {
  /** Shipped here, not applied (or applied unfinished, or rolled back). */
  pending: string[];
  /** Applied from a file whose text differs from this build's: the schema may not be what the code expects. */
  changed: string[];
  /** Applied and finished, this build's or another's (a newer build may have migrated further). */
  applied: number;
}

/**
 * Compares `expected` (this build's migrations) with what `_prisma_migrations`
 * records as finished; a database that was never migrated has everything pending.
 */
export async function findMigrationState(db: Queryable, expected: readonly MigrationFingerprint[]): Promise<MigrationState> {
  let rows: { name: string; checksum: string }[];
  try {
    ({ rows } = await db.query<{ name: string; checksum: string }>(
      'SELECT migration_name AS name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    ));
  } catch (error) {
    // 42P01: no _prisma_migrations table, nothing was ever applied.
    if ((error as { code?: string }).code !== '42P01') throw error;
    rows = [];
  }
  const applied = new Map(rows.map((row) => [row.name, row.checksum]));
  return {
    pending: expected.filter((migration) => !applied.has(migration.name)).map((migration) => migration.name),
    changed: expected
      .filter((migration) => applied.has(migration.name) && applied.get(migration.name) !== migration.checksum)
      .map((migration) => migration.name),
    applied: applied.size,
  };
}

/**
 * Splits a script into statements on semicolons at the end of a line,
 * except inside a dollar-quoted body ($$ … $$, $tag$ … $tag$), whose lines
 * end with semicolons of their own. Enough for the non-transactional
 * migrations, which hold plain DDL and DO blocks; transactional ones are
 * sent whole and may contain anything.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  // The closing delimiter of the dollar-quoted body the scan is in, if any.
  let quote: string | undefined;
  for (const line of stripComments(sql).split('\n')) {
    for (const delimiter of line.match(/\$[A-Za-z_]*\$/g) ?? []) {
      if (quote === undefined) quote = delimiter;
      else if (delimiter === quote) quote = undefined;
    }
    current += `${line}\n`;
    if (quote === undefined && /;\s*$/.test(line)) {
      statements.push(current.replace(/;\s*$/, ''));
      current = '';
    }
  }
  statements.push(current);
  return statements.map((statement) => statement.trim()).filter((statement) => statement.length > 0);
}
