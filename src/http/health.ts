import type { FastifyInstance } from 'fastify';
import { findMigrationState, type MigrationFingerprint, type MigrationState } from '../db/migrate.js';
import type { Queryable } from '../db/pool.js';

export interface HealthOptions {
  db: Queryable;
  /**
   * This build's migrations (prisma/migrations, read once at start): the
   * server is ready only when the database has each of them, unchanged.
   */
  migrations: readonly MigrationFingerprint[];
  /**
   * Asks Redis whether it answers (e.g. `() => redis.ping()`); rejects when
   * it does not. Default: none, and /ready says Redis is not configured.
   * Redis is reported, never required: without it the cache misses and the
   * API still answers from PostgreSQL.
   */
  checkRedis?: () => Promise<unknown>;
  /** How long Redis may take to answer before it counts as unavailable. Default: 1000 ms. */
  redisTimeoutMs?: number;
}

export interface Readiness {
  status: 'ready' | 'not ready';
  database: 'ok' | 'unavailable';
  /** Null when the database did not answer. */
  migrations: (MigrationState & { expected: number }) | null;
  redis: 'ok' | 'unavailable' | 'not configured';
}

/** Rejects after `ms`: a Redis that hangs (paused, a dropped network) is as unavailable as one that refuses. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The database answers and has every migration of this build; Redis is reported beside. */
export async function checkReadiness({ db, migrations, checkRedis, redisTimeoutMs = 1_000 }: HealthOptions): Promise<Readiness> {
  const [state, redis] = await Promise.all([
    findMigrationState(db, migrations).catch(() => null),
    checkRedis
      ? withTimeout(checkRedis(), redisTimeoutMs).then(
          () => 'ok' as const,
          () => 'unavailable' as const,
        )
      : ('not configured' as const),
  ]);
  const ready = state !== null && state.pending.length === 0 && state.changed.length === 0;
  return {
    status: ready ? 'ready' : 'not ready',
    database: state ? 'ok' : 'unavailable',
    migrations: state ? { expected: migrations.length, ...state } : null,
    redis,
  };
}

/**
 * `/health`: the process is alive (no dependency is asked, so a database
 * outage never gets the process restarted). `/ready`: it can serve
 * (HTTP 503 otherwise, with what is missing), for load balancers and
 * orchestrators to send traffic only then.
 */
export function registerHealthRoutes(fastify: FastifyInstance, options: HealthOptions): void {
  fastify.get('/health', async () => ({ status: 'ok' }));
  fastify.get('/ready', async (_request, reply) => {
    const readiness = await checkReadiness(options);
    // Each probe must see the state now, never a cached answer.
    return reply
      .code(readiness.status === 'ready' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(readiness);
  });
}
