// Internal: turns the migrated, empty `messages` table of a benchmark's
// database into the table a partitioning migration would make: range
// partitions by month on created_at, created and kept by pg_partman
// (Debian's postgresql-15-partman, 4.x), everything else as the migrations
// left it. bench/partitioning.ts measures the two side by side.
import pg from 'pg';
import { withTransaction } from '../src/db/transaction.js';

/** What the partitioned table is called and how pg_partman keeps it. */
export const PARTMAN_SCHEMA = 'partman';
export const PARTITION_INTERVAL = 'monthly';
/** The default partition pg_partman makes, dropped (see partitionMessages). */
export const DEFAULT_PARTITION = 'messages_default';
/** Months made ahead of the newest data (pg_partman's default, 4). */
export const PREMADE_MONTHS = 4;

/** Whether `messages` is partitioned already. */
export async function isMessagesPartitioned(db: pg.Pool | pg.ClientBase): Promise<boolean> {
  const { rows } = await db.query<{ partitioned: boolean }>("SELECT relkind = 'p' AS partitioned FROM pg_class WHERE oid = 'messages'::regclass");
  return rows[0]?.partitioned ?? false;
}

/**
 * Replaces `messages`, which must hold no row, by a table partitioned by
 * month on created_at, with a partition for each month from the one holding
 * `firstMonth` to PREMADE_MONTHS past the current one, and no default
 * partition. Everything but the primary key comes from the catalog
 * (the columns, their defaults and identity, checks, indexes, foreign keys,
 * the search trigger), so the migrations stay the one author of the schema.
 *
 * The primary key becomes (id, created_at): PostgreSQL enforces uniqueness
 * on a partitioned table only over keys that hold the partition key. So a
 * lookup by id alone (the Message global ID, editMessage, the search's
 * probe) finds no partition to skip and descends every partition's index,
 * and id is unique only because the identity sequence hands each value
 * once. Nothing references messages (id), so no foreign key breaks.
 */
export async function partitionMessages(pool: pg.Pool, firstMonth: Date): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rows: count } = await client.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM messages) AS any');
    if (count[0]!.any) throw new Error('partitionMessages: messages holds rows; it converts an empty table (seed after it)');
    // pg_partman cuts months in the session's time zone; the seed's days are UTC days.
    await client.query("SET LOCAL TimeZone = 'UTC'");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${PARTMAN_SCHEMA}`);
    await client.query(`CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA ${PARTMAN_SCHEMA}`);
    await client.query('ALTER TABLE messages RENAME TO messages_unpartitioned');
    // What to put back, with the table's new name in place of the old.
    const { rows: structures } = await client.query<{ statement: string }>(
      `SELECT replace(pg_get_indexdef(i.indexrelid), ' ON public.messages_unpartitioned ', ' ON public.messages ') AS statement, 1 AS rank
       FROM pg_index i
       WHERE i.indrelid = 'messages_unpartitioned'::regclass AND NOT i.indisprimary
       UNION ALL
       SELECT format('ALTER TABLE messages ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)), 2
       FROM pg_constraint WHERE conrelid = 'messages_unpartitioned'::regclass AND contype = 'f'
       UNION ALL
       SELECT replace(pg_get_triggerdef(oid), ' ON public.messages_unpartitioned ', ' ON public.messages '), 3
       FROM pg_trigger WHERE tgrelid = 'messages_unpartitioned'::regclass AND NOT tgisinternal
       ORDER BY rank, statement`,
    );
    const { rows: sequence } = await client.query<{ name: string }>("SELECT pg_get_serial_sequence('messages_unpartitioned', 'id') AS name");
    await client.query(
      `CREATE TABLE messages (LIKE messages_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)
       PARTITION BY RANGE (created_at)`,
    );
    await client.query('DROP TABLE messages_unpartitioned');
    // The new identity's sequence was named beside the old one's; it takes the old name back.
    const { rows: fresh } = await client.query<{ name: string }>("SELECT pg_get_serial_sequence('messages', 'id') AS name");
    await client.query(`ALTER SEQUENCE ${fresh[0]!.name} RENAME TO ${pg.escapeIdentifier(sequence[0]!.name.replace(/^public\./, ''))}`);
    await client.query('ALTER TABLE messages ADD CONSTRAINT messages_pkey PRIMARY KEY (id, created_at)');
    for (const { statement } of structures) {
      if (!statement.includes(' ON public.messages ') && !statement.startsWith('ALTER TABLE messages ')) {
        throw new Error(`partitionMessages: cannot move this statement to the new table: ${statement}`);
      }
      await client.query(statement);
    }
    await client.query(
      `SELECT ${PARTMAN_SCHEMA}.create_parent(p_parent_table => 'public.messages', p_control => 'created_at', p_type => 'native',
         p_interval => $1, p_premake => $2, p_start_partition => $3)`,
      [PARTITION_INTERVAL, PREMADE_MONTHS, firstMonth.toISOString()],
    );
    // pg_partman 4 always makes a default partition (5 makes it optional).
    // With one, PostgreSQL cannot read the partitions one after the other in
    // created_at order (an ordered Append, which stops in the newest when a
    // page is full): it merges every partition's index (a Merge Append), so a
    // history page descended all of them. Without it, a row outside every
    // partition fails to insert; run_maintenance()'s months made ahead keep
    // the present inside one. bench/partitioning.ts measures both.
    await client.query(`DROP TABLE ${DEFAULT_PARTITION}`);
  });
}

/** The partitions of `messages`, oldest first, with their bounds (null for the default partition's). */
export async function listPartitions(db: pg.Pool): Promise<{ name: string; from: Date | null; to: Date | null }[]> {
  const { rows } = await db.query<{ name: string; from: Date | null; to: Date | null }>(
    `SELECT c.relname AS name,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS from,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS to
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'messages'::regclass
     ORDER BY 2 NULLS LAST`,
  );
  return rows;
}
