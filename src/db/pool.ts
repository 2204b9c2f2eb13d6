import pg from 'pg';
import type { Config } from '../config.js';

// bigint (int8) columns: message ids and counts. Parsed as strings by pg by
// default; kept as strings here too, since they may exceed 2^53. count(*) is
// cast to integer in SQL where a number is wanted.

export type Pool = pg.Pool;

/** What a statement function needs: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** The largest value of PostgreSQL's integer (int4) columns: user and conversation ids, counts. */
export const INTEGER_MAX = 2_147_483_647;
/** The largest value of PostgreSQL's bigint (int8) columns: message ids. */
export const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** Creates the one shared pool; nothing connects until the first query. */
export function createPool(url: string, database: Config['database'], applicationName = 'parley'): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: database.poolMax,
    connectionTimeoutMillis: database.connectionTimeoutMs,
    idleTimeoutMillis: database.idleTimeoutMs,
    // Set per connection by the server, so a runaway statement is cancelled
    // there rather than holding a connection forever.
    statement_timeout: database.statementTimeoutMs,
    application_name: applicationName,
  });
}
