import type pg from 'pg';
import type { Config } from '../config.js';
import { EMBEDDED_MAX_CONNECTIONS, startEmbeddedPostgres } from './embedded.js';
import { createPool, type PoolErrorCounts, type PoolOptions } from './pool.js';

/**
 * The database Parley runs on: the server at DATABASE_URL, or, when it is
 * unset, the embedded PGlite started here. Callers get a pool either way;
 * nothing downstream knows which it is.
 */
export interface Database {
  url: string;
  pool: pg.Pool;
  embedded: boolean;
  /** What the pool absorbed (connections lost while idle), for metrics. */
  poolErrors: PoolErrorCounts;
  /** Ends the pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

/** `options` name the connections and say who hears of those lost while idle (see createPool). */
export async function openDatabase(config: Config, options: Omit<PoolOptions, 'errors'> = {}): Promise<Database> {
  const poolErrors: PoolErrorCounts = { idleConnectionsLost: 0 };
  const poolOptions = { ...options, errors: poolErrors };
  if (config.database.url) {
    const pool = createPool(config.database.url, config.database, poolOptions);
    return { url: config.database.url, pool, embedded: false, poolErrors, close: () => pool.end() };
  }
  const embedded = await startEmbeddedPostgres(config.embedded);
  const pool = createPool(
    embedded.url,
    { ...config.database, poolMax: Math.min(config.database.poolMax, EMBEDDED_MAX_CONNECTIONS) },
    poolOptions,
  );
  return {
    url: embedded.url,
    pool,
    embedded: true,
    poolErrors,
    async close() {
      await pool.end();
      await embedded.stop();
    },
  };
}
