import pg from 'pg';
import type { Config } from '../config.js';
import { PARSERS } from './timestamps.js';

// bigint (int8) columns: message ids and counts. Parsed as strings by pg by
// default; kept as strings here too, since they may exceed 2^53. count(*) is
// cast to integer in SQL where a number is wanted.

export type Pool = pg.Pool;

/** What a statement function needs: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** What a request does with the pool: send statements, and check out a connection for a transaction (promise form). */
export type RequestPool = Pick<pg.Pool, 'query' | 'connect'>;

/** The largest value of PostgreSQL's integer (int4) columns: user and conversation ids, counts. */
export const INTEGER_MAX = 2_147_483_647;
/** The largest value of PostgreSQL's bigint (int8) columns: message ids. */
export const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** What the pool absorbed, counted for metrics to read. */
export interface PoolErrorCounts {
  /** Connections that failed while idle in the pool (the server closed them, the network dropped them), each discarded. */
  idleConnectionsLost: number;
}

export interface PoolOptions {
  /** Shown in pg_stat_activity. Default: 'parley'. */
  applicationName?: string;
  /** Told of each idle connection that failed, after the pool discarded it. Default: nobody (the count still grows). */
  onError?: (error: Error) => void;
  /** The counts this pool adds to; pass one in to read it. Default: a counter of the pool's own. */
  errors?: PoolErrorCounts;
}

/**
 * True when `url` is DATABASE_URL and that is not the database itself but
 * a pooler in front of it, in transaction mode (PgBouncer):
 * DATABASE_DIRECT_URL names another URL. Each transaction there may run on
 * another server connection, so nothing may be left on a session: no SET
 * without LOCAL, no session advisory lock, no named prepared statement, no
 * LISTEN, no backend pid kept from one transaction to the next. Any other
 * URL (DATABASE_DIRECT_URL, a replica's) is a database.
 */
export function isTransactionPooler(url: string, database: Pick<Config['database'], 'url' | 'directUrl'>): boolean {
  return url === database.url && database.directUrl !== undefined && database.directUrl !== database.url;
}

/** Creates the one shared pool; nothing connects until the first query. */
export function createPool(url: string, database: Config['database'], options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: database.poolMax,
    connectionTimeoutMillis: database.connectionTimeoutMs,
    idleTimeoutMillis: database.idleTimeoutMs,
    // Set per connection by the server, so a runaway statement is cancelled
    // there rather than holding a connection forever. Not to a pooler:
    // PgBouncer refuses the startup parameter ("unsupported startup
    // parameter: statement_timeout"), and one it ignored
    // (ignore_startup_parameters) would set nothing, its server connections
    // being shared. There the server's own setting applies (ALTER ROLE …
    // SET statement_timeout), which checkStatementTimeout compares.
    statement_timeout: isTransactionPooler(url, database) ? undefined : database.statementTimeoutMs,
    application_name: options.applicationName ?? 'parley',
    types: PARSERS,
  });
  // An idle connection the server ends (pg_terminate_backend, a failover, a
  // restart, idle_session_timeout) is re-emitted here by pg-pool after it
  // discarded the connection; with no listener, Node ends the process.
  const errors = options.errors ?? { idleConnectionsLost: 0 };
  pool.on('error', (error) => {
    errors.idleConnectionsLost += 1;
    options.onError?.(error);
  });
  return pool;
}

/**
 * What a statement through `pool` is allowed by the server: undefined when
 * it is DATABASE_STATEMENT_TIMEOUT_MS, else a sentence saying what it is
 * and how to set it. Behind a pooler the pool cannot set it (createPool),
 * so the server start asks.
 */
export async function checkStatementTimeout(pool: Queryable, expectedMs: number): Promise<string | undefined> {
  const { rows } = await pool.query<{ ms: number }>(`SELECT setting::integer AS ms FROM pg_settings WHERE name = 'statement_timeout'`);
  const actual = rows[0]?.ms ?? 0;
  if (actual === expectedMs) return undefined;
  return (
    `statements through DATABASE_URL (a pooler: DATABASE_DIRECT_URL is set) are cancelled after ` +
    `${actual === 0 ? 'no time limit' : `${actual} ms`}, the server's statement_timeout, not DATABASE_STATEMENT_TIMEOUT_MS's ` +
    `${expectedMs} ms: a pooler cannot pass the setting on. Set it on the server for Parley's role ` +
    `(ALTER ROLE <role> SET statement_timeout = ${expectedMs}) or in PgBouncer's connect_query.`
  );
}

/**
 * Runs `work` on one connection checked out of the pool, then gives it back.
 * While a connection is checked out, pg-pool does not listen to it: one that
 * breaks between two statements would emit an 'error' nobody hears, and Node
 * would end the process. Here it is heard, and the connection is released
 * with it, so the pool destroys it instead of handing it out again; `work`
 * calls `discard` for a connection it knows it left unusable.
 */
export async function withClient<T>(pool: Pick<pg.Pool, 'connect'>, work: (client: pg.PoolClient, discard: (reason: Error) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const discard = (reason: Error) => {
    failure ??= reason;
  };
  client.on('error', discard);
  try {
    return await work(client, discard);
  } finally {
    client.removeListener('error', discard);
    client.release(failure);
  }
}
