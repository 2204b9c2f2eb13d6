import type pg from 'pg';
import type { Config } from '../config.js';
import { EMBEDDED_MAX_CONNECTIONS, startEmbeddedPostgres } from './embedded.js';
import { createPool } from './pool.js';

/**
 * The database Parley runs on: the server at DATABASE_URL, or, when it is
 * unset, the embedded PGlite started here. Callers get a pool either way;
 * nothing downstream knows which it is.
 */
export interface Database {
  url: string;
  pool: pg.Pool;
  embedded: boolean;
  /** Ends the pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

export async function openDatabase(config: Config, applicationName?: string): Promise<Database> {
  if (config.database.url) {
    const pool = createPool(config.database.url, config.database, applicationName);
    return { url: config.database.url, pool, embedded: false, close: () => pool.end() };
  }
  const embedded = await startEmbeddedPostgres(config.embedded);
  const pool = createPool(
    embedded.url,
    { ...config.database, poolMax: Math.min(config.database.poolMax, EMBEDDED_MAX_CONNECTIONS) },
    applicationName,
  );
  return {
    url: embedded.url,
    pool,
    embedded: true,
    async close() {
      await pool.end();
      await embedded.stop();
    },
  };
}
