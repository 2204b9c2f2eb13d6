import pg from 'pg';
import type { Config } from '../config.js';

// bigint (int8) columns: message ids and counts. Parsed as strings by pg by
// default; kept as strings here too, since they may exceed 2^53. count(*) is
// cast to integer in SQL where a number is wanted.

export type Pool = pg.Pool;

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
