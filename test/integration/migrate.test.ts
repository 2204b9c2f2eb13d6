import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const EXPECTED_INDEXES = [
  'messages_conversation_id_created_at_id_idx',
  'conversation_participants_user_id_conversation_id_idx',
  'conversation_participants_user_id_last_activity_at_idx',
  'user_stats_summary_user_id_key',
  'user_stats_summary_xp_idx',
  'user_stats_summary_xp_7d_idx',
  'user_stats_summary_xp_30d_idx',
  'user_stats_summary_total_messages_idx',
  'user_stats_summary_messages_7d_idx',
  'user_stats_summary_messages_30d_idx',
  'user_stats_summary_current_streak_idx',
  'user_stats_summary_max_streak_idx',
  'user_stats_ranks_metric_value_key',
  'materialized_view_refreshes_succeeded_idx',
];

async function catalogSnapshot(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ entry: string }>(`
    SELECT c.relkind::text || ' ' || c.relname || coalesce(' ' || pg_get_indexdef(c.oid), '') AS entry
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm', 'i')
    ORDER BY 1`);
  return rows.map((row) => row.entry);
}

async function copyMigrations(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'parley-migrations-'));
  await cp(DEFAULT_MIGRATIONS_DIR, directory, { recursive: true });
  return directory;
}

describe('migrate', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    // The runner holds a session lock across its transactions: Parley runs it on
    // DATABASE_DIRECT_URL, never through a pooler (test/integration/pgbouncer.test.ts).
    database = await createTestDatabase({ empty: true, direct: true });
  });
  afterEach(() => database.close());

  it('creates every table, index and the view on an empty database, and changes nothing when run again', async () => {
    const migrations = await readMigrations();
    const first = await migrate(database.pool);
    expect(first.applied).toEqual(migrations.map((migration) => migration.name));

    const { rows: relations } = await database.pool.query<{ relname: string; relkind: string }>(
      `SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'm') ORDER BY relname`,
    );
    expect(relations).toEqual([
      { relname: '_prisma_migrations', relkind: 'r' },
      { relname: 'conversation_participants', relkind: 'r' },
      { relname: 'conversations', relkind: 'r' },
      { relname: 'materialized_view_refreshes', relkind: 'r' },
      { relname: 'messages', relkind: 'r' },
      { relname: 'user_daily_activity', relkind: 'r' },
      { relname: 'user_stats_ranks', relkind: 'm' },
      { relname: 'user_stats_summary', relkind: 'm' },
      { relname: 'users', relkind: 'r' },
    ]);
    const { rows: indexes } = await database.pool.query<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace = 'public'::regnamespace`,
    );
    for (const name of EXPECTED_INDEXES) expect(indexes).toContainEqual({ name, valid: true });

    const before = await catalogSnapshot(database);
    const second = await migrate(database.pool);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toHaveLength(migrations.length);
    expect(await catalogSnapshot(database)).toEqual(before);
  });

  it('records each migration as Prisma does: sha256 of migration.sql, finished, one step', async () => {
    await migrate(database.pool);
    const { rows } = await database.pool.query(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at, applied_steps_count, logs
       FROM _prisma_migrations ORDER BY migration_name`,
    );
    const expected = await Promise.all(
      (await readMigrations()).map(async (migration) => ({
        migration_name: migration.name,
        checksum: createHash('sha256')
          .update(await readFile(path.join(DEFAULT_MIGRATIONS_DIR, migration.name, 'migration.sql')))
          .digest('hex'),
        finished: true,
        rolled_back_at: null,
        applied_steps_count: 1,
        logs: null,
      })),
    );
    expect(rows).toEqual(expected);
  });

  it('applies each migration once when two runners start together', async () => {
    const [a, b] = await Promise.all([migrate(database.pool), migrate(database.pool)]);
    const total = (await readMigrations()).length;
    expect(a.applied.length + b.applied.length).toBe(total);
    const { rows } = await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM _prisma_migrations');
    expect(rows[0]?.count).toBe(total);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const directory = await copyMigrations();
    try {
      await migrate(database.pool, { directory });
      const [first] = await readMigrations(directory);
      const file = path.join(directory, first!.name, 'migration.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
      await expect(migrate(database.pool, { directory })).rejects.toThrow(new RegExp(`Migration ${first!.name} was changed after it was applied`));
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('rolls back a failing migration whole, recording nothing', async () => {
    const directory = await copyMigrations();
    try {
      await mkdir(path.join(directory, '29990101000000_broken'));
      await writeFile(path.join(directory, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE half_written (id int);\nSELECT * FROM no_such_table;\n');
      await expect(migrate(database.pool, { directory })).rejects.toThrow(/29990101000000_broken failed and was rolled back/);
      const { rows } = await database.pool.query(
        `SELECT to_regclass('half_written') AS table, (SELECT count(*)::int FROM _prisma_migrations WHERE migration_name LIKE '%broken') AS recorded`,
      );
      expect(rows[0]).toEqual({ table: null, recorded: 0 });
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('applies down.sql when a concurrent index build fails, so no invalid index is left for IF NOT EXISTS to skip', async () => {
    const directory = await copyMigrations();
    try {
      await migrate(database.pool, { directory });
      await database.pool.query(
        `INSERT INTO users (id, username, display_name, email) VALUES (1, 'ann', 'Ann', 'ann@example.com'), (2, 'bob', 'Ann', 'bob@example.com')`,
      );
      const name = path.join(directory, '29990101000000_unique_display_name');
      await mkdir(name);
      await writeFile(path.join(name, 'migration.sql'), 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_display_name_key ON users (display_name);\n');
      await writeFile(path.join(name, 'down.sql'), 'DROP INDEX CONCURRENTLY IF EXISTS users_display_name_key;\n');
      await expect(migrate(database.pool, { directory })).rejects.toThrow(/failed and its down.sql was applied/);
      const { rows } = await database.pool.query(
        `SELECT to_regclass('users_display_name_key') AS index, (SELECT count(*)::int FROM _prisma_migrations WHERE migration_name LIKE '%unique_display_name') AS recorded`,
      );
      expect(rows[0]).toEqual({ index: null, recorded: 0 });
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it("backfills each participant's last_activity_at from its conversation on a database that has data", async () => {
    const directory = await copyMigrations();
    try {
      const names = (await readMigrations(directory)).map((migration) => migration.name);
      const column = names.indexOf('20261127120000_participants_last_activity');
      expect(column).toBeGreaterThan(0);
      // The database as it was before the column: data written by the previous version.
      for (const name of names.slice(column)) await rm(path.join(directory, name), { recursive: true });
      await migrate(database.pool, { directory });
      await database.pool.query(`
        INSERT INTO users (id, username, display_name, email) VALUES (1, 'ann', 'Ann', 'ann@example.com'), (2, 'bob', 'Bob', 'bob@example.com');
        INSERT INTO conversations (id, kind, title, created_by, created_at, last_message_at) VALUES
          (1, 'group', 'quiet', 1, '2026-01-01T00:00:00Z', NULL),
          (2, 'group', 'busy', 1, '2026-01-01T00:00:00Z', '2026-02-01T12:00:00.123Z');
        INSERT INTO conversation_participants (conversation_id, user_id) VALUES (1, 1), (1, 2), (2, 1), (2, 2);`);

      const result = await migrate(database.pool);
      expect(result.applied).toEqual(names.slice(column));
      const { rows } = await database.pool.query<{ conversation_id: number; user_id: number; last_activity_at: Date }>(
        'SELECT conversation_id, user_id, last_activity_at FROM conversation_participants ORDER BY 1, 2',
      );
      expect(rows.map((row) => [row.conversation_id, row.user_id, row.last_activity_at.toISOString()])).toEqual([
        [1, 1, '2026-01-01T00:00:00.000Z'],
        [1, 2, '2026-01-01T00:00:00.000Z'],
        [2, 1, '2026-02-01T12:00:00.123Z'],
        [2, 2, '2026-02-01T12:00:00.123Z'],
      ]);
      // A row that says nothing of it is refused rather than misplaced in an inbox.
      await expect(database.pool.query('INSERT INTO conversation_participants (conversation_id, user_id) VALUES (1, 3)')).rejects.toThrow(/last_activity_at/);
    } finally {
      await rm(directory, { recursive: true });
    }
  });
});
