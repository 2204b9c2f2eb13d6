import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { FastifyBaseLogger } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type pg from 'pg';
import { createLoaderCache, type LoaderCache } from '../cache/loader-cache.js';
import { createInMemoryStore } from '../cache/memory-store.js';
import { createOperationCache, type OperationCache } from '../cache/operation-cache.js';
import { createRedisStore } from '../cache/redis-store.js';
import type { Config } from '../config.js';
import type { Clock } from '../db/clock.js';
import { readMigrations, type MigrationFingerprint } from '../db/migrate.js';
import type { PoolErrorCounts } from '../db/pool.js';
import { createPrisma } from '../db/prisma.js';
import type { Redis } from '../db/redis.js';
import { createReplicaSet, type ReplicaPool, type ReplicaSet } from '../db/replica-set.js';
import { createInProcessWritePositions, createRedisWritePositions, type WritePositions } from '../db/write-positions.js';
import { createAuth, type Auth } from '../graphql/auth.js';
import type { Context, Db } from '../graphql/context.js';
import { tokenSecret } from '../graphql/token-secret.js';
import { createMetrics, type ParleyMetrics } from '../observability/metrics.js';
import { createOperationLabels, type OperationLabels } from '../observability/operation-labels.js';
import { createAllowList, type AllowList } from '../persisted-queries/allow-list.js';
import { createRedisQueryCache } from '../persisted-queries/redis-cache.js';
import { persistedQueryManifest } from '../generated/graphql/persisted-query-manifest.js';
import { listTags, sqlFields, sqlTags } from '../modules/resolvers.js';
import { createSqlReads, type SqlReads } from '../graphql/sql-reads/compile.js';
import type { PartsCache } from '../graphql/sql-reads/parts.js';
import { COMPILED_READ } from '../graphql/compiled-executor.js';
import { createRateLimiter, type RateLimiter } from '../rate-limit/limiter.js';
import { RealtimeActivity } from '../realtime/activity.js';
import type { EventBus } from '../realtime/event-bus.js';
import { createInProcessBus } from '../realtime/memory-bus.js';
import { createRealtime, type Realtime } from '../realtime/realtime.js';
import { createRedisBus } from '../realtime/redis-bus.js';
import type { PublishedEvent } from '../writes/events.js';
import type { Tag } from '../writes/tags.js';
import { createRequestContext, type RequestInput } from './context.js';
import { createLogger, type LoggerOutput } from './logger.js';
import { buildSchema } from './schema.js';
import { createLoaders, type Loaders } from '../modules/loaders.js';
import { untraced } from '../observability/statements.js';
import type { Viewer } from '../graphql/viewer.js';

export interface AppDependencies {
  /** The database's pool (db/database.ts): the app uses it, the caller owns and ends it. */
  pool: pg.Pool;
  /**
   * The process's Redis client (db/redis.ts): the response cache's store, where
   * rate limits are counted and automatic persisted queries kept. The caller
   * owns and closes it. Default: none, all three in this process.
   */
  redis?: Redis;
  /** This build's migrations, which /ready waits for. Default: read from prisma/migrations. */
  migrations?: readonly MigrationFingerprint[];
  /** Pings Redis for /ready's report. Default: `redis.ping()` when there is a Redis, else Redis is reported as not configured. */
  checkRedis?: () => Promise<unknown>;
  /** Where the log goes. Default: standard output (readable lines for a developer at a terminal). */
  logStream?: NodeJS.WritableStream;
  /** What the pool lost while idle (db/database.ts), for /metrics. Default: not measured. */
  poolErrors?: PoolErrorCounts;
  /**
   * The clock of the response cache and the rate limits (db/clock.ts): their
   * stores in this process age, expire and refill by it. Default: the
   * stores' own (Date.now(), and a monotonic clock for expiry and refills).
   */
  clock?: Clock;
  /**
   * A Redis connection for the event bus alone (db/redis.ts
   * createRedisSubscriber). With `redis`, writes publish their events through
   * Redis and subscriptions listen on this connection, so every instance's
   * subscribers hear every instance's writes. Default: none, events stay in
   * this process (one instance). The app closes it.
   */
  redisSubscriber?: Redis;
  /**
   * Read replicas' pools (db/replica-set.ts openReplicaPools, from
   * DATABASE_REPLICA_URLS): queries' reads go to them when they have
   * replayed what the reads must see. The caller owns and ends the pools.
   * Default: none, every statement goes to `pool`.
   */
  replicas?: readonly ReplicaPool[];
}

/**
 * Parley without its transport: everything a request needs, made once.
 * The HTTP server (http/server.ts) serves it; main.ts, the tests and the
 * benchmarks all build it here, so there is one assembly to reason about.
 */
export interface App {
  config: Config;
  schema: GraphQLSchema;
  /** The queries answered by one statement that builds their JSON (graphql/sql-reads/), from the domains' tables. */
  sqlReads: SqlReads;
  /** Where their parts are kept across requests: in the loader cache, when it is on. */
  sqlReadParts: PartsCache | undefined;
  db: Db;
  auth: Auth;
  logger: FastifyBaseLogger;
  /** How the logger writes (http/ tells a pretty terminal from JSON lines). */
  loggerOutput: LoggerOutput;
  migrations: readonly MigrationFingerprint[];
  checkRedis: (() => Promise<unknown>) | undefined;
  /** The response cache, undefined when RESPONSE_CACHE=off; work outside requests drops answers through `invalidate` below. */
  responseCache: OperationCache | undefined;
  /** The read replicas, their health and the routing counts; undefined without replicas. */
  replicas: ReplicaSet | undefined;
  /** What loaders read, kept across requests (cache/loader-cache.ts): its `counters`; undefined when LOADER_CACHE=off. */
  loaderCache: LoaderCache | undefined;
  /**
   * Drops what carries one of `tags` from both caches, on every instance
   * sharing their store: for work outside requests (a refresh of the
   * statistics invalidates `Leaderboard` and `Stats`). With read replicas,
   * first raises the last write's position to the primary's current one,
   * as a request's write does before its invalidations: what is then read
   * on a replica that has not replayed that work is not kept again. Never throws.
   */
  invalidate(tags: readonly Tag[]): Promise<void>;
  /** The rate limits' buckets and counters; undefined when RATE_LIMIT=off. */
  rateLimiter: RateLimiter | undefined;
  /** Metrics (what /metrics serves); undefined when METRICS=off. */
  metrics: ParleyMetrics | undefined;
  /** The operations clients are built with, each with a metrics label of its own. */
  operationLabels: OperationLabels;
  /** The persisted-query allow-list; undefined unless PERSISTED_QUERIES=allowlist. */
  allowList: AllowList | undefined;
  /** Apollo's persisted-queries setting: false when off, else where documents registered by hash are kept. */
  persistedQueries: false | { cache: KeyValueCache<string> | undefined; ttl: number | null };
  /** Where writes publish their events (realtime/); closed with the app. */
  eventBus: EventBus;
  /** The real-time service resolvers get in their context: subscriptions' streams, typing. */
  realtime: Realtime;
  /** What the subscription transports hold (open sockets, subscriptions by field) and did; the bound on sockets per user. */
  realtimeActivity: RealtimeActivity;
  /** The context of one operation: its viewer, a fresh set of loaders, the one write path. */
  createContext(input: RequestInput): Promise<Context>;
  /** A fresh set of loaders for a viewer, on the shared pool: what a subscription's event is resolved with. */
  createLoaders(viewer: Viewer | null): Loaders;
  /** Waits for the response cache's pending writes, closes the event bus (and its Redis connection) and the Prisma client; the pool and Redis stay the caller's. */
  close(): Promise<void>;
}

/** Assembles the app from its configuration and the connections the caller opened. */
export async function createApp(config: Config, dependencies: AppDependencies): Promise<App> {
  const { pool, redis, clock } = dependencies;
  const { logger, output: loggerOutput } = createLogger(config, dependencies.logStream);
  const schema = buildSchema();
  const prisma = createPrisma(pool);
  const db: Db = { pool, prisma };
  const auth = createAuth({ secret: await tokenSecret(config.auth), ttlSeconds: config.auth.tokenTtlSeconds });
  const migrations = dependencies.migrations ?? (await readMigrations()).map(({ name, checksum }) => ({ name, checksum }));

  const rateLimiter = config.rateLimit.enabled ? createRateLimiter({ ...config.rateLimit, redis, logger, clock }) : undefined;

  const { mode: persistedQueriesMode, ttlSeconds: persistedQueriesTtl } = config.persistedQueries;
  const allowList = persistedQueriesMode === 'allowlist' ? createAllowList(persistedQueryManifest) : undefined;
  const persistedQueries: App['persistedQueries'] =
    persistedQueriesMode === 'off'
      ? false
      : {
          // Allow-list: the listed documents, fixed. APQ: in Redis when there is one, so every
          // instance knows a registered document; otherwise Apollo's own bounded in-process cache.
          cache: allowList?.cache ?? (redis ? createRedisQueryCache({ redis, logger }) : undefined),
          ttl: persistedQueriesTtl,
        };

  // One store for both caches: the loader cache reads the response cache's
  // history of invalidations (its counts, its floor, its recovery from a
  // lost invalidation), so a write's one invalidation drops what it changed from both.
  const store = config.responseCache || config.loaderCache.enabled ? (redis ? createRedisStore({ redis, clock }) : createInMemoryStore({ clock })) : undefined;
  const responseCache = config.responseCache && store ? createOperationCache({ schema, listTags, store, logger, clock }) : undefined;
  const loaderCache = config.loaderCache.enabled && store ? createLoaderCache({ store, logger, maxBytes: config.loaderCache.maxBytes, clock }) : undefined;
  // Through the response cache when there is one (it also counts the
  // invalidation, so no request joins an operation that started before it).
  const invalidate = async (tags: readonly Tag[]) => {
    if (responseCache) await responseCache.invalidate(tags);
    else await loaderCache?.invalidate(tags);
  };

  // Where writes publish their events and subscriptions hear them (realtime/).
  const eventBus: EventBus =
    redis && dependencies.redisSubscriber ? createRedisBus({ publisher: redis, subscriber: dependencies.redisSubscriber, logger }) : createInProcessBus();
  const realtime = createRealtime({ bus: eventBus, queueEvents: config.realtime.queueEvents, typingSeconds: config.realtime.typingSeconds });
  const realtimeActivity = new RealtimeActivity(config.realtime.socketsPerUser);

  // Read replicas: polled on connections of their own; each request's reads routed by the positions of the latest writes.
  let replicas: { set: ReplicaSet; positions: WritePositions; cached: boolean } | undefined;
  if (dependencies.replicas?.length) {
    if (!config.database.url) throw new Error('createApp: read replicas need the primary at DATABASE_URL');
    const set = createReplicaSet({
      primaryUrl: config.database.url,
      replicas: dependencies.replicas,
      settings: config.database.replicas,
      database: config.database,
      logger,
    });
    // Remembered well past the lag bound: a replica further behind is skipped anyway.
    const positionOptions = { ttlMs: Math.max(60_000, 2 * config.database.replicas.maxLagMs), currentLsn: () => set.primaryLsn(), logger };
    replicas = {
      set,
      positions: redis ? createRedisWritePositions({ ...positionOptions, redis }) : createInProcessWritePositions(positionOptions),
      // Both caches keep what reads return: neither may keep a read from a replica behind the last write.
      cached: responseCache !== undefined || loaderCache !== undefined,
    };
  }

  const metrics =
    config.metrics.mode === 'off'
      ? undefined
      : createMetrics({
          pool,
          poolErrors: dependencies.poolErrors,
          cacheCounters: responseCache?.counters,
          loaderCacheCounters: loaderCache?.counters,
          rateLimitCounters: rateLimiter?.counters,
          realtime: { activity: realtimeActivity, bus: eventBus.counters, counters: realtime.counters },
          replicas: replicas && { statuses: replicas.set.statuses, counters: replicas.set.counters, positions: replicas.positions },
        });

  const contextDependencies = {
    db,
    auth,
    // After a write commits, the answers it may have changed are dropped, on
    // every instance sharing the store; then its events are published, so a
    // client told of a change and reading it is not served the old answer.
    afterCommit: [
      ...(store ? [(touched: readonly Tag[]) => invalidate(touched)] : []),
      (_touched: readonly Tag[], events: readonly PublishedEvent[]) => eventBus.publish(events),
    ],
    batch: config.dataloaderBatch,
    realtime,
    replicas,
    loaderCache,
  };

  return {
    config,
    schema,
    sqlReads: createSqlReads(schema, sqlFields, sqlTags),
    sqlReadParts: loaderCache && partsIn(loaderCache),
    db,
    auth,
    logger,
    loggerOutput,
    migrations,
    checkRedis: dependencies.checkRedis ?? (redis ? () => redis.ping() : undefined),
    responseCache,
    replicas: replicas?.set,
    loaderCache,
    async invalidate(tags) {
      if (!store) return;
      if (replicas) {
        // Not readable (the primary is failing): the answers are dropped all the same.
        const position = await replicas.set.primaryLsn().catch(() => undefined);
        if (position !== undefined) await replicas.positions.record(undefined, position);
      }
      await invalidate(tags);
    },
    rateLimiter,
    metrics,
    // The operations clients are built with always have a label of their own.
    operationLabels: createOperationLabels({ known: persistedQueryManifest.operations.map((operation) => operation.name) }),
    allowList,
    persistedQueries,
    eventBus,
    realtime,
    realtimeActivity,
    createContext: (input) => createRequestContext(contextDependencies, input),
    createLoaders: (viewer) => createLoaders({ pool, viewer, batch: config.dataloaderBatch, traced: untraced }),
    async close() {
      await responseCache?.drain();
      await replicas?.set.close();
      await eventBus.close();
      await prisma.$disconnect();
    },
  };
}

/** The parts of compiled reads, kept in the loader cache under its checks: counted as the loader `compiledRead`. */
function partsIn(loaderCache: LoaderCache): PartsCache {
  return {
    forRequest({ routing }) {
      const request = loaderCache.forRequest({ routedReads: routing });
      return {
        async prepare() {
          // With routed reads, a value is kept only when the request's first check came before its first read.
          if (routing) await request.lookup(COMPILED_READ, []);
        },
        async lookup(keys) {
          const found = await request.lookup(COMPILED_READ, keys);
          return { values: found.values, keep: (key, json, tags) => found.keep(key, json, tags as Tag[]) };
        },
      };
    },
  };
}
