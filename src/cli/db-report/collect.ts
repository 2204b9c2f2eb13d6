// Internal: gathers the database report from src/cli/db-report/statistics.ts's statements
// into one plain object, the `--json` output and what the text view renders.
import type { Config } from '../../config.js';
import type { Queryable } from '../../db/pool.js';
import {
  findCacheHitRatios,
  findConnections,
  findDatabaseOverview,
  findIndexUsage,
  findMaterializedViews,
  findRefreshHistory,
  findRelationSizes,
  findStatementStatisticsReset,
  findStatementStatisticsSource,
  findTopStatements,
  findViewRefreshedAt,
  unusedIndexes,
  type ConnectionCount,
  type DatabaseOverview,
  type IndexUsage,
  type MaterializedView,
  type RefreshHistory,
  type RelationSize,
  type StatementStatistics,
  type TableCacheHit,
} from './statistics.js';
import type { ServerMetrics } from './server-metrics.js';

export type StatementsReport =
  | {
      status: 'available';
      /** When pg_stat_statements' counts were last reset; null where it does not say (before PostgreSQL 14). */
      since: Date | null;
      slowest: StatementStatistics[];
      mostFrequent: StatementStatistics[];
    }
  | { status: 'not-loaded' | 'not-installed' | 'unsupported'; note: string };

export interface MaterializedViewReport extends MaterializedView {
  /** When the figures were computed: the last successful refresh's start, else the view's refreshed_at column. */
  refreshedAt: Date | null;
  ageSeconds: number | null;
  /** From the refresh log; null when there is none or it never recorded this view. */
  history: RefreshHistory | null;
}

export interface DatabaseReport {
  database: DatabaseOverview;
  pool: {
    /** The API's pool as this environment configures it (src/config.ts). */
    configured: Pick<Config['database'], 'poolMax' | 'connectionTimeoutMs' | 'idleTimeoutMs' | 'statementTimeoutMs'>;
    /** Who holds connections to the database now (the API's pool is 'parley-api'). */
    connections: ConnectionCount[];
  };
  relations: RelationSize[];
  indexes: (IndexUsage & { unused: boolean })[];
  cacheHitRatios: TableCacheHit[];
  statements: StatementsReport;
  materializedViews: {
    /** Whether the database has the refresh log (materialized_view_refreshes). */
    refreshLog: boolean;
    views: MaterializedViewReport[];
  };
  serverMetrics: ServerMetrics;
}

export interface CollectOptions {
  config: Config['database'];
  /** How many statements in each pg_stat_statements list. */
  top: number;
}

/** Everything but the server's metrics, read one statement after another on one connection's worth of load. */
export async function collectDatabaseReport(db: Queryable, { config, top }: CollectOptions): Promise<Omit<DatabaseReport, 'serverMetrics'>> {
  const database = await findDatabaseOverview(db);
  const connections = await findConnections(db);
  const relations = await findRelationSizes(db);
  const indexes = await findIndexUsage(db);
  const unused = new Set(unusedIndexes(indexes));
  const cacheHitRatios = await findCacheHitRatios(db);

  const source = await findStatementStatisticsSource(db);
  const statements: StatementsReport =
    source.status === 'available'
      ? {
          status: 'available',
          since: await findStatementStatisticsReset(db, source),
          slowest: await findTopStatements(db, source.relation, 'mean', top),
          mostFrequent: await findTopStatements(db, source.relation, 'calls', top),
        }
      : source;

  const views = await findMaterializedViews(db);
  const history = await findRefreshHistory(
    db,
    views.map((view) => view.name),
  );
  const viewReports: MaterializedViewReport[] = [];
  for (const view of views) {
    const logged = history?.find((entry) => entry.viewName === view.name && entry.lastRun !== null) ?? null;
    const column = !logged?.lastSuccess && view.populated && view.hasRefreshedAtColumn ? await findViewRefreshedAt(db, view) : null;
    const refreshedAt = logged?.lastSuccess?.startedAt ?? column;
    viewReports.push({
      ...view,
      refreshedAt,
      ageSeconds: refreshedAt ? Math.max(0, (database.now.getTime() - refreshedAt.getTime()) / 1000) : null,
      history: logged,
    });
  }

  return {
    database,
    pool: {
      configured: {
        poolMax: config.poolMax,
        connectionTimeoutMs: config.connectionTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs,
        statementTimeoutMs: config.statementTimeoutMs,
      },
      connections,
    },
    relations,
    indexes: indexes.map((index) => ({ ...index, unused: unused.has(index) })),
    cacheHitRatios,
    statements,
    materializedViews: { refreshLog: history !== null, views: viewReports },
  };
}
