// Internal: what PostgreSQL knows about how Parley uses it, as named
// statements over the statistics views, for `npm run db:report` and for
// anything else that reports on the database (a metrics endpoint). Each
// takes the database first and returns plain rows: numbers as numbers
// (bigint counters cast to float8, exact below 2^53), times as Dates, no
// formatting. Statistics are cumulative since they were last reset.
import pg from 'pg';
import type { Queryable } from '../../db/pool.js';

/**
 * Opens every statement of this file, so that pg_stat_statements' lists can
 * leave out the report's own (it keeps a statement's leading comment).
 */
const OWN_STATEMENT = '/* parley report */';

export interface DatabaseOverview {
  name: string;
  /** e.g. "15.4 (Debian 15.4-1)". */
  serverVersion: string;
  serverVersionNumber: number;
  sizeBytes: number;
  /** Share of block reads served from shared buffers, all tables and indexes; null before any read. */
  cacheHitRatio: number | null;
  /** When this database's statistics were last reset; null when never (they then count since it was created). */
  statsReset: Date | null;
  maxConnections: number;
  /** The database's clock, so that ages are not skewed by the reporting machine's. */
  now: Date;
}

export async function findDatabaseOverview(db: Queryable): Promise<DatabaseOverview> {
  const { rows } = await db.query<DatabaseOverview>(
    `${OWN_STATEMENT} SELECT d.datname AS name,
            current_setting('server_version') AS "serverVersion",
            current_setting('server_version_num')::int AS "serverVersionNumber",
            pg_database_size(d.datid)::float8 AS "sizeBytes",
            d.blks_hit::float8 / nullif(d.blks_hit + d.blks_read, 0) AS "cacheHitRatio",
            d.stats_reset AS "statsReset",
            current_setting('max_connections')::int AS "maxConnections",
            now() AS now
     FROM pg_stat_database d
     WHERE d.datname = current_database()`,
  );
  return rows[0]!;
}

export interface RelationSize {
  schema: string;
  name: string;
  kind: 'table' | 'materialized view';
  /** The planner's estimate (pg_class.reltuples); null before the first ANALYZE or VACUUM. */
  estimatedRows: number | null;
  /** Heap, indexes and TOAST together. */
  totalBytes: number;
  tableBytes: number;
  indexBytes: number;
  sequentialScans: number;
  indexScans: number;
  deadRows: number;
  lastAnalyzed: Date | null;
}

/** Tables and materialized views of the application's schemas, largest first. */
export async function findRelationSizes(db: Queryable): Promise<RelationSize[]> {
  const { rows } = await db.query<RelationSize>(
    `${OWN_STATEMENT} SELECT n.nspname AS schema, c.relname AS name,
            CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind,
            CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS "estimatedRows",
            pg_total_relation_size(c.oid)::float8 AS "totalBytes",
            pg_relation_size(c.oid)::float8 AS "tableBytes",
            pg_indexes_size(c.oid)::float8 AS "indexBytes",
            coalesce(s.seq_scan, 0)::float8 AS "sequentialScans",
            coalesce(s.idx_scan, 0)::float8 AS "indexScans",
            coalesce(s.n_dead_tup, 0)::float8 AS "deadRows",
            greatest(s.last_analyze, s.last_autoanalyze) AS "lastAnalyzed"
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE c.relkind IN ('r', 'p', 'm')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
     ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname`,
  );
  return rows;
}

export interface IndexUsage {
  schema: string;
  table: string;
  name: string;
  /** Index scans started since the statistics were reset. */
  scans: number;
  tuplesRead: number;
  sizeBytes: number;
  /**
   * Unique, or backing a constraint: it does its work on every write even
   * when no read uses it, so zero scans do not make it removable.
   */
  enforcesConstraint: boolean;
  /** An index left INVALID by a failed CREATE INDEX CONCURRENTLY: maintained on writes, never read. */
  valid: boolean;
  definition: string;
}

/** Every index of the application's tables and materialized views with its scans, by table. */
export async function findIndexUsage(db: Queryable): Promise<IndexUsage[]> {
  const { rows } = await db.query<IndexUsage>(
    `${OWN_STATEMENT} SELECT s.schemaname AS schema, s.relname AS "table", s.indexrelname AS name,
            s.idx_scan::float8 AS scans,
            s.idx_tup_read::float8 AS "tuplesRead",
            pg_relation_size(s.indexrelid)::float8 AS "sizeBytes",
            (i.indisunique OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)) AS "enforcesConstraint",
            i.indisvalid AS valid,
            pg_get_indexdef(s.indexrelid) AS definition
     FROM pg_stat_user_indexes s
     JOIN pg_index i ON i.indexrelid = s.indexrelid
     ORDER BY s.schemaname, s.relname, s.indexrelname`,
  );
  return rows;
}

/** Indexes no statement has read since the statistics were reset and that enforce nothing: candidates for removal. */
export function unusedIndexes(indexes: readonly IndexUsage[]): IndexUsage[] {
  return indexes.filter((index) => (index.scans === 0 && !index.enforcesConstraint) || !index.valid);
}

export interface TableCacheHit {
  schema: string;
  table: string;
  /** Share of the table's heap block reads found in shared buffers; null before any read. */
  tableHitRatio: number | null;
  /** The same for its indexes. */
  indexHitRatio: number | null;
  /** Blocks that had to come from the operating system (its page cache or the disk). */
  blocksRead: number;
  blocksHit: number;
}

/** Buffer-cache hit ratios per table and materialized view, the most read first. */
export async function findCacheHitRatios(db: Queryable): Promise<TableCacheHit[]> {
  const { rows } = await db.query<TableCacheHit>(
    `${OWN_STATEMENT} SELECT schemaname AS schema, relname AS "table",
            heap_blks_hit::float8 / nullif(heap_blks_hit + heap_blks_read, 0) AS "tableHitRatio",
            idx_blks_hit::float8 / nullif(idx_blks_hit + idx_blks_read, 0) AS "indexHitRatio",
            (heap_blks_read + coalesce(idx_blks_read, 0))::float8 AS "blocksRead",
            (heap_blks_hit + coalesce(idx_blks_hit, 0))::float8 AS "blocksHit"
     FROM pg_statio_user_tables
     ORDER BY heap_blks_hit + heap_blks_read + coalesce(idx_blks_hit + idx_blks_read, 0) DESC, schemaname, relname`,
  );
  return rows;
}

export interface ConnectionCount {
  application: string;
  state: string;
  connections: number;
  /** The longest any of them has been in this state. */
  longestSeconds: number;
}

/** Client connections to this database by application_name and state (the API's pool is 'parley-api'), the asking one left out. */
export async function findConnections(db: Queryable): Promise<ConnectionCount[]> {
  const { rows } = await db.query<ConnectionCount>(
    `${OWN_STATEMENT} SELECT coalesce(nullif(application_name, ''), '(unnamed)') AS application,
            coalesce(state, 'unknown') AS state,
            count(*)::int AS connections,
            coalesce(extract(epoch FROM max(now() - state_change)), 0)::float8 AS "longestSeconds"
     FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
     GROUP BY 1, 2
     ORDER BY 1, 2`,
  );
  return rows;
}

/** Whether pg_stat_statements can be read here, and if not, what is missing. */
export type StatementStatisticsSource =
  { status: 'available'; relation: string; schema: string } | { status: 'not-loaded' | 'not-installed' | 'unsupported'; note: string };

const PRELOAD = "add it to postgresql.conf (shared_preload_libraries = 'pg_stat_statements'; docker-compose.yml does) and restart PostgreSQL";
const CREATE = 'run CREATE EXTENSION pg_stat_statements; in this database as a superuser';

/**
 * Finds pg_stat_statements: the library must be preloaded by the server
 * (shared_preload_libraries, read at start) and the extension created in
 * this database. Whether it is preloaded is known only to roles that may
 * read the setting; otherwise a read of the view tells.
 */
export async function findStatementStatisticsSource(db: Queryable): Promise<StatementStatisticsSource> {
  const { rows } = await db.query<{ preload: string | null; schema: string | null; serverVersionNumber: number }>(
    `${OWN_STATEMENT} SELECT (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload,
            (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements') AS schema,
            current_setting('server_version_num')::int AS "serverVersionNumber"`,
  );
  const { preload, schema, serverVersionNumber } = rows[0]!;
  if (serverVersionNumber < 130_000) {
    return { status: 'unsupported', note: 'the statement report reads pg_stat_statements as of PostgreSQL 13 (total_exec_time); this server is older' };
  }
  const preloaded = preload === null ? undefined : preload.split(',').some((library) => library.trim().replace(/^"|"$/g, '') === 'pg_stat_statements');
  if (preloaded === false) return { status: 'not-loaded', note: `pg_stat_statements is not loaded: ${PRELOAD}, then ${CREATE}.` };
  if (schema === null) {
    return {
      status: 'not-installed',
      note:
        preloaded === true
          ? `pg_stat_statements is loaded but not created here: ${CREATE}.`
          : `pg_stat_statements is not created here: ${CREATE} (and if PostgreSQL does not preload it yet, ${PRELOAD}).`,
    };
  }
  const relation = `${pg.escapeIdentifier(schema)}.pg_stat_statements`;
  try {
    await db.query(`${OWN_STATEMENT} SELECT 1 FROM ${relation} LIMIT 0`);
  } catch (error) {
    // 55000: "pg_stat_statements must be loaded via shared_preload_libraries"
    if ((error as { code?: string }).code === '55000') return { status: 'not-loaded', note: `pg_stat_statements is created but not loaded: ${PRELOAD}.` };
    throw error;
  }
  return { status: 'available', relation, schema };
}

/** When pg_stat_statements' counts were last reset (pg_stat_statements_info, PostgreSQL 14 and later); null before that. */
export async function findStatementStatisticsReset(db: Queryable, source: { schema: string }): Promise<Date | null> {
  const { rows: exists } = await db.query<{ present: boolean }>(
    `${OWN_STATEMENT} SELECT to_regclass(format('%I.pg_stat_statements_info', $1::text)) IS NOT NULL AS present`,
    [source.schema],
  );
  if (!exists[0]?.present) return null;
  const { rows } = await db.query<{ since: Date }>(
    `${OWN_STATEMENT} SELECT stats_reset AS since FROM ${pg.escapeIdentifier(source.schema)}.pg_stat_statements_info`,
  );
  return rows[0]?.since ?? null;
}

export interface StatementStatistics {
  /** pg_stat_statements' normalized text: constants replaced by $n, so it never holds a parameter's value. */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  rows: number;
  /** Share of the statement's shared block reads served from shared buffers; null when it read none. */
  cacheHitRatio: number | null;
}

/** How to rank statements: by mean time (the slowest) or by calls (the most frequent). */
export type StatementOrder = 'mean' | 'calls';

const STATEMENT_ORDER: Record<StatementOrder, string> = {
  mean: 'mean_exec_time DESC',
  calls: 'calls DESC, total_exec_time DESC',
};

/** This database's top statements from pg_stat_statements (`relation` from findStatementStatisticsSource), the report's own left out. */
export async function findTopStatements(db: Queryable, relation: string, order: StatementOrder, limit: number): Promise<StatementStatistics[]> {
  const { rows } = await db.query<StatementStatistics>(
    `${OWN_STATEMENT} SELECT query, calls::float8 AS calls, total_exec_time AS "totalMs", mean_exec_time AS "meanMs", max_exec_time AS "maxMs",
            rows::float8 AS rows,
            shared_blks_hit::float8 / nullif(shared_blks_hit + shared_blks_read, 0) AS "cacheHitRatio"
     FROM ${relation}
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE $2
     ORDER BY ${STATEMENT_ORDER[order]}
     LIMIT $1`,
    [limit, `${OWN_STATEMENT}%`],
  );
  return rows;
}

export interface MaterializedView {
  schema: string;
  name: string;
  populated: boolean;
  estimatedRows: number | null;
  totalBytes: number;
  /** The view carries its refresh time in a refreshed_at column (read with findViewRefreshedAt). */
  hasRefreshedAtColumn: boolean;
}

export async function findMaterializedViews(db: Queryable): Promise<MaterializedView[]> {
  const { rows } = await db.query<MaterializedView>(
    `${OWN_STATEMENT} SELECT v.schemaname AS schema, v.matviewname AS name, v.ispopulated AS populated,
            CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS "estimatedRows",
            pg_total_relation_size(c.oid)::float8 AS "totalBytes",
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'refreshed_at' AND NOT a.attisdropped) AS "hasRefreshedAtColumn"
     FROM pg_matviews v
     JOIN pg_class c ON c.oid = format('%I.%I', v.schemaname, v.matviewname)::regclass
     ORDER BY v.schemaname, v.matviewname`,
  );
  return rows;
}

/** A view's refreshed_at (every row holds the same); null while it holds no row. */
export async function findViewRefreshedAt(db: Queryable, view: Pick<MaterializedView, 'schema' | 'name'>): Promise<Date | null> {
  const { rows } = await db.query<{ refreshedAt: Date }>(
    `${OWN_STATEMENT} SELECT refreshed_at AS "refreshedAt" FROM ${pg.escapeIdentifier(view.schema)}.${pg.escapeIdentifier(view.name)} LIMIT 1`,
  );
  return rows[0]?.refreshedAt ?? null;
}

/** One run of a refresh, as the refresh log records it. */
export interface RefreshRun {
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** 'succeeded', 'failed', …; logs without an outcome column record successful runs only. */
  outcome: string;
  error: string | null;
}

export interface RefreshHistory {
  viewName: string;
  lastRun: RefreshRun | null;
  lastSuccess: RefreshRun | null;
  runsLastDay: number;
  failuresLastDay: number;
  meanDurationMsLastDay: number | null;
}

interface RefreshLogEntry {
  started_at: string;
  finished_at: string;
  duration_ms: number;
  outcome?: string;
  error?: string | null;
}

function toRefreshRun(entry: RefreshLogEntry | null): RefreshRun | null {
  if (!entry) return null;
  return {
    startedAt: new Date(entry.started_at),
    finishedAt: new Date(entry.finished_at),
    durationMs: entry.duration_ms,
    outcome: entry.outcome ?? 'succeeded',
    error: entry.error ?? null,
  };
}

/**
 * The refresh log (materialized_view_refreshes) of each view named: its
 * last run, its last successful run and the last day's runs. Null when the
 * database has no refresh log. Rows are read as JSON, so a log with or
 * without the outcome and error columns reads the same; each lookup walks
 * the log's (view_name, started_at) order from the newest run.
 */
export async function findRefreshHistory(db: Queryable, viewNames: readonly string[]): Promise<RefreshHistory[] | null> {
  const { rows: exists } = await db.query<{ present: boolean }>(`${OWN_STATEMENT} SELECT to_regclass('materialized_view_refreshes') IS NOT NULL AS present`);
  if (!exists[0]?.present) return null;
  const { rows } = await db.query<{
    viewName: string;
    lastRun: RefreshLogEntry | null;
    lastSuccess: RefreshLogEntry | null;
    runsLastDay: number;
    failuresLastDay: number;
    meanDurationMsLastDay: number | null;
  }>(
    `${OWN_STATEMENT} SELECT k.view_name AS "viewName", last_run.entry AS "lastRun", last_success.entry AS "lastSuccess",
            day.runs AS "runsLastDay", day.failures AS "failuresLastDay", day.mean_duration_ms AS "meanDurationMsLastDay"
     FROM unnest($1::text[]) AS k(view_name)
     LEFT JOIN LATERAL (
       SELECT to_jsonb(r) AS entry FROM materialized_view_refreshes r
       WHERE r.view_name = k.view_name ORDER BY r.started_at DESC LIMIT 1
     ) last_run ON true
     LEFT JOIN LATERAL (
       SELECT to_jsonb(r) AS entry FROM materialized_view_refreshes r
       WHERE r.view_name = k.view_name AND coalesce(to_jsonb(r) ->> 'outcome', 'succeeded') = 'succeeded'
       ORDER BY r.started_at DESC LIMIT 1
     ) last_success ON true
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS runs,
              (count(*) FILTER (WHERE coalesce(to_jsonb(r) ->> 'outcome', 'succeeded') NOT IN ('succeeded', 'skipped')))::int AS failures,
              avg(r.duration_ms)::float8 AS mean_duration_ms
       FROM materialized_view_refreshes r
       WHERE r.view_name = k.view_name AND r.started_at > now() - interval '1 day'
     ) day`,
    [viewNames],
  );
  return rows.map((row) => ({ ...row, lastRun: toRefreshRun(row.lastRun), lastSuccess: toRefreshRun(row.lastSuccess) }));
}
