import type pg from 'pg';
import type { Config } from '../config.js';
import { EMBEDDED_POOL_MAX, openEmbeddedPostgres, type EmbeddedPostgres } from './embedded.js';
import { createPool, isTransactionPooler, type PoolErrorCounts, type PoolOptions } from './pool.js';
import { openReplicaPools, type ReplicaPool } from './replica-set.js';

/**
 * The database Parley runs on: the server at DATABASE_URL, or, when it is
 * unset, the embedded PGlite: opened here, or, when another process (the
 * running server) has it open, reached through that process. Callers get a
 * pool either way; nothing downstream knows which it is.
 */
export interface Database {
  url: string;
  pool: pg.Pool;
  /** Set when the database is the embedded one: whether this process opened it, or which process it goes through. */
  embedded: Pick<EmbeddedPostgres, 'role' | 'owner'> | undefined;
  /** What the pool absorbed (connections lost while idle), for metrics. */
  poolErrors: PoolErrorCounts;
  /** The read replicas' pools (DATABASE_REPLICA_URLS), when asked for (`replicas: true`); ended by close(). */
  replicas: ReplicaPool[];
  /** True when `url` is a pooler in transaction mode (DATABASE_DIRECT_URL names the database itself). */
  pooled: boolean;
  /**
   * Runs `work` with a pool on the database itself, for what needs a
   * session of its own (the migration runner's advisory lock, held across
   * transactions): `pool` itself, or behind a pooler a pool of one
   * connection to DATABASE_DIRECT_URL, ended after `work`.
   */
  withDirectPool<T>(work: (pool: pg.Pool) => Promise<T>): Promise<T>;
  /**
   * Lets other processes use this process's embedded database from now on;
   * only the server calls it, once it has migrated (and seeded) it. Does
   * nothing on DATABASE_URL or when this process is a guest.
   */
  share(): Promise<void>;
  /** Ends the pool, then closes the embedded database if this process opened it. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions extends Omit<PoolOptions, 'errors'> {
  /** True for the server: it will share the embedded database with other processes (see Database.share). Default false. */
  shares?: boolean;
  /** True for the server: opens a pool per read replica of DATABASE_REPLICA_URLS too. Default false (commands use the primary only). */
  replicas?: boolean;
}

/**
 * `options` name the connections (also this process, in the embedded
 * database's lock file) and say who hears of those lost while idle (see
 * createPool).
 */
export async function openDatabase(config: Config, options: OpenDatabaseOptions = {}): Promise<Database> {
  const { shares = false, replicas: withReplicas = false, ...pool } = options;
  const poolErrors: PoolErrorCounts = { idleConnectionsLost: 0 };
  const poolOptions = { ...pool, errors: poolErrors };
  const { url, directUrl } = config.database;
  if (url) {
    const pool = createPool(url, config.database, poolOptions);
    const pooled = isTransactionPooler(url, config.database);
    // Their idle connections lost are counted with the primary's.
    const replicas = withReplicas ? openReplicaPools(config.database, poolOptions) : [];
    return {
      url,
      pool,
      embedded: undefined,
      poolErrors,
      replicas,
      pooled,
      async withDirectPool(work) {
        if (!pooled || !directUrl) return work(pool);
        const direct = createPool(directUrl, { ...config.database, poolMax: 1 }, poolOptions);
        try {
          return await work(direct);
        } finally {
          await direct.end();
        }
      },
      share: async () => {},
      close: async () => {
        await Promise.all([pool.end(), ...replicas.map((replica) => replica.pool.end())]);
      },
    };
  }
  const embedded = await openEmbeddedPostgres({ ...config.embedded, name: options.applicationName ?? 'parley', shares });
  const embeddedPool = createPool(embedded.url, { ...config.database, poolMax: Math.min(config.database.poolMax, EMBEDDED_POOL_MAX) }, poolOptions);
  return {
    url: embedded.url,
    pool: embeddedPool,
    embedded: { role: embedded.role, owner: embedded.owner },
    poolErrors,
    replicas: [],
    pooled: false,
    withDirectPool: (work) => work(embeddedPool),
    share: () => embedded.share(),
    async close() {
      try {
        await embeddedPool.end();
      } finally {
        await embedded.stop();
      }
    },
  };
}
