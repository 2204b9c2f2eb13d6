// Internal: several Parley instances together, as a deployment runs them:
// each its own process (src/main.ts through tsx, or a build's dist/main.js),
// all on one primary with a streaming hot standby as their read replica
// (test/support/replica.ts), a PgBouncer in transaction mode in front of the
// primary (test/support/pgbouncer.mjs) and one Redis of the cluster's own
// (test/support/redis-server.ts). Every server is started here on a free
// port and stopped by close(), whatever failed before.
import pg from 'pg';
import { startPgBouncer, type OwnPgBouncer } from './pgbouncer.mjs';
import { startOwnRedis, type OwnRedis } from './redis-server.js';
import { startStreamingReplica, type StreamingReplica } from './replica.js';
import { startServer, type RunningServer } from './processes.js';

/** How each instance is run. */
export interface InstanceCommand {
  /** Default: src/main.ts. */
  script: string;
  /** Run through tsx (a .ts script); false for a build's .js. Default: true. */
  tsx: boolean;
  /** Node flags before the script (a build runs with `npm start`'s). Default: none. */
  nodeFlags?: string[];
  /** Default: this process's working directory. */
  cwd?: string;
}

export interface ClusterOptions {
  /** API instances. Default: 3. */
  instances?: number;
  /** Default: src/main.ts through tsx, as the system tests run the server. */
  command?: InstanceCommand;
  /** STATS_REFRESH_INTERVAL_SECONDS of every instance. Default: 3. */
  refreshIntervalSeconds?: number;
  /**
   * DATABASE_URL through a PgBouncer in transaction mode, migrations on the
   * primary itself (DATABASE_DIRECT_URL), as deployed behind one. false:
   * DATABASE_URL to the primary. Default: true.
   */
  pgbouncer?: boolean;
  /** Added to every instance's environment, last. */
  env?: Record<string, string>;
  /**
   * Runs once the database is migrated and before any instance starts,
   * on a pool of the primary: the fixtures. The instances start on a
   * database that is not empty (outside production an empty one gets demo data).
   */
  prepare?: (primary: pg.Pool) => Promise<void>;
}

export interface ClusterInstance {
  /** Its position in `instances`, from 0. */
  index: number;
  /** http://127.0.0.1:<port> */
  url: string;
  server: RunningServer;
}

export interface Cluster {
  replica: StreamingReplica;
  redis: OwnRedis;
  instances: ClusterInstance[];
  /** What every instance signs and verifies tokens with. */
  jwtSecret: string;
  /** Where DATABASE_URL points: the PgBouncer in front of the primary, or the primary. */
  databaseUrl: string;
  /** Whether DATABASE_URL goes through PgBouncer. */
  pooled: boolean;
  refreshIntervalSeconds: number;
  /** Stops every instance (SIGTERM, as an orchestrator does), then PgBouncer, Redis, the standby and the primary. */
  close(): Promise<void>;
}

export const CLUSTER_JWT_SECRET = 'parley-cluster-secret-0123456789abcdef';

/**
 * Each instance's environment, beside the URLs. NODE_ENV=test, not
 * production: answers then say where their reads went
 * (x-parley-read-from), which the workload's checks read; nothing else the
 * checks rely on differs (the database is never empty, so no demo data).
 */
const INSTANCE_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  RESPONSE_CACHE: 'on',
  // Budgets no workload reaches: every request comes from one address and a few users.
  RATE_LIMIT_POINTS: '1000000000',
  RATE_LIMIT_WRITES: '1000000000',
  // Three instances, each with a pool on the primary and one on the
  // standby, stay well under the test servers' max_connections (40).
  DATABASE_POOL_MAX: '6',
  // A loaded machine runs the workload beside every server: waiting for a
  // connection longer than the default 5 s would be an error the checks
  // count, not what they are about.
  DATABASE_CONNECTION_TIMEOUT_MS: '30000',
};

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 3;
  const refreshIntervalSeconds = options.refreshIntervalSeconds ?? 3;
  const command = options.command ?? { script: 'src/main.ts', tsx: true };
  const started: { replica?: StreamingReplica; redis?: OwnRedis; pgbouncer?: OwnPgBouncer; instances: ClusterInstance[] } = { instances: [] };
  const close = async () => {
    // Whatever failed before: nothing of the cluster outlives it.
    try {
      await Promise.all(started.instances.map(({ server }) => server.stop().catch(() => server.process.kill('SIGKILL'))));
    } finally {
      await started.pgbouncer?.close().catch(() => {});
      await started.redis?.close().catch(() => {});
      await started.replica?.close();
    }
  };
  try {
    const [replica, redis] = await Promise.all([startStreamingReplica(), startOwnRedis()]);
    started.replica = replica;
    started.redis = redis;
    await options.prepare?.(replica.database.pool);
    await replica.caughtUp();
    const primaryUrl = replica.database.url;
    started.pgbouncer = options.pgbouncer === false ? undefined : await startPgBouncer({ serverUrl: primaryUrl });
    const databaseUrl = started.pgbouncer?.url(replica.database.name) ?? primaryUrl;
    const env = {
      ...INSTANCE_ENV,
      DATABASE_URL: databaseUrl,
      // Migrations hold a session lock: on the primary itself, whatever DATABASE_URL goes through.
      DATABASE_DIRECT_URL: primaryUrl,
      DATABASE_REPLICA_URLS: replica.replicaUrl,
      REDIS_URL: redis.url,
      JWT_SECRET: CLUSTER_JWT_SECRET,
      STATS_REFRESH_INTERVAL_SECONDS: String(refreshIntervalSeconds),
      ...options.env,
    };
    const servers = await Promise.allSettled(
      Array.from({ length: count }, () => startServer(env, { script: command.script, tsx: command.tsx, nodeFlags: command.nodeFlags, cwd: command.cwd })),
    );
    servers.forEach((result, index) => {
      if (result.status === 'fulfilled') started.instances.push({ index, url: result.value.url, server: result.value });
    });
    const failed = servers.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return {
      replica,
      redis,
      instances: started.instances,
      jwtSecret: CLUSTER_JWT_SECRET,
      databaseUrl,
      pooled: started.pgbouncer !== undefined,
      refreshIntervalSeconds,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
