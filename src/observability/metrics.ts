import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolErrorCounts } from '../db/pool.js';
import type { ReplicaStatus, RoutingCounters } from '../db/replica-set.js';
import { USER_STATS_VIEW } from '../db/stats-views.js';

/** The histogram of GraphQL requests by operation, which `npm run db:report` reads its percentiles from. */
export const OPERATION_DURATION_METRIC = 'http_request_duration_seconds';
/** Its label holding the operation (see operation-labels.ts). */
export const OPERATION_LABEL = 'operation';
/** The loader label of a statement sent outside any loader: a resolver's own, or a write's transaction. */
export const NO_LOADER = '(none)';

/**
 * What the metrics read of the response cache at each scrape: running totals
 * since the process started (cache/fail-open.ts keeps them).
 */
export interface CacheCountersSource {
  readonly hits: number;
  readonly misses: number;
  readonly stores: number;
  readonly invalidations: number;
  readonly dropped: number;
  readonly errors: number;
}

/** What the metrics read of the loader cache at each scrape (cache/loader-cache.ts keeps it): running totals, and what it holds now. */
export interface LoaderCacheCountersSource {
  readonly hits: ReadonlyMap<string, number>;
  readonly misses: ReadonlyMap<string, number>;
  readonly checks: number;
  readonly changed: number;
  readonly errors: number;
  readonly bytes: number;
  readonly entries: number;
}

/** What the metrics read of the rate limits at each scrape: running totals (rate-limit/limiter.ts keeps them). */
export interface RateLimitCountersSource {
  readonly refusedPoints: number;
  readonly refusedWrites: number;
  readonly storeFailures: number;
}

/**
 * What the metrics read of real-time delivery at each scrape: what the
 * transports hold and did (realtime/activity.ts), what the event bus and the
 * ordered feeds counted (realtime/event-bus.ts, realtime/realtime.ts).
 */
export interface RealtimeSource {
  activity: {
    readonly openSockets: Readonly<Record<string, number>>;
    readonly subscriptions: ReadonlyMap<string, number>;
    readonly delivered: ReadonlyMap<string, number>;
    readonly dropped: ReadonlyMap<string, number>;
    readonly closes: ReadonlyMap<string, number>;
    readonly slowConsumerCloses: number;
  };
  bus: {
    readonly published: number;
    readonly publishFailures: number;
    readonly republished: number;
    readonly publishesAbandoned: number;
    readonly received: number;
    readonly failures: number;
  };
  counters: { readonly gapsFilled: number; readonly replayed: number };
}

/** What the metrics read of the read replicas at each scrape (db/replica-set.ts, db/write-positions.ts). */
export interface ReplicaSource {
  statuses: readonly ReplicaStatus[];
  counters: RoutingCounters;
  positions: { readonly errors: number };
}

export interface MetricsSources {
  /** The server's pool: its connections, read at each scrape. */
  pool: pg.Pool;
  /** Connections the pool lost while idle (db/database.ts). Default: not exposed. */
  poolErrors?: PoolErrorCounts;
  /** The response cache's counters, read at each scrape; undefined when RESPONSE_CACHE=off. */
  cacheCounters?: CacheCountersSource;
  /** The loader cache's counters, read at each scrape; undefined when LOADER_CACHE=off. */
  loaderCacheCounters?: LoaderCacheCountersSource;
  /** The rate limiter's counters, read at each scrape; undefined when RATE_LIMIT=off. */
  rateLimitCounters?: RateLimitCountersSource;
  /** How long a scrape waits for the database (the views' age) before it leaves those gauges empty. Default: 1000 ms. */
  databaseTimeoutMs?: number;
  /** Subscriptions: what the transports hold and did, the bus's and the feeds' counts. Default: not exposed. */
  realtime?: RealtimeSource;
  /** Read replicas: lag, health, where requests' reads went. Default: not exposed (no replicas). */
  replicas?: ReplicaSource;
}

/** One GraphQL request, as the request log saw it. */
export interface RequestMeasure {
  operation: string;
  outcome: 'success' | 'error';
  /** The first error's code; empty on success. */
  code: string;
  seconds: number;
  /** The response cache's verdict (x-cache), lower-cased; undefined when the cache is off. */
  cache: 'hit' | 'miss' | 'bypass' | undefined;
}

export interface ParleyMetrics {
  /** This server's registry (not prom-client's global one: several servers in one process keep theirs apart). */
  registry: Registry;
  request(measure: RequestMeasure): void;
  statement(loader: string | null, seconds: number): void;
  batch(loader: string, size: number): void;
  /** An event sent to a subscriber, `seconds` after its write committed. */
  commitToSend(field: string, seconds: number): void;
}

const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATEMENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
const DELIVERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Rejects after `ms`: a scrape must answer even when the database does not. */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The server's Prometheus metrics. What requests measure is recorded as
 * they end (a few label lookups each); what other parts count already (the
 * pool, the response cache, the rate limiter, the refresh log) is read when
 * Prometheus scrapes, so it costs requests nothing.
 */
export function createMetrics(sources: MetricsSources): ParleyMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: OPERATION_DURATION_METRIC,
    help: 'GraphQL requests (POST and GET /graphql) from arrival to the last byte of the response, by operation name and outcome',
    labelNames: [OPERATION_LABEL, 'outcome'],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL requests by operation name, outcome (success, error) and the first error code',
    labelNames: [OPERATION_LABEL, 'outcome', 'code'],
    registers,
  });
  const cacheRequests = new Counter({
    name: 'cache_requests_total',
    help: 'GraphQL requests by what the response cache did (x-cache): hit, miss, bypass',
    labelNames: ['outcome'],
    registers,
  });
  const statements = new Counter({
    name: 'sql_statements_total',
    help: 'SQL statements sent by GraphQL requests, by the DataLoader that sent them ((none): a resolver or a write)',
    labelNames: ['loader'],
    registers,
  });
  const statementDuration = new Histogram({
    name: 'sql_statement_duration_seconds',
    help: 'SQL statements of GraphQL requests, from sending on a connection to the result (not the wait for a free connection), by DataLoader',
    labelNames: ['loader'],
    buckets: STATEMENT_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'dataloader_batch_size',
    help: 'Keys per batch a DataLoader dispatched (each batch is one SQL statement)',
    labelNames: ['loader'],
    buckets: BATCH_BUCKETS,
    registers,
  });

  const { pool } = sources;
  new Gauge({
    name: 'db_pool_connections',
    help: 'Connections of the database pool: total (open), idle, and waiting (requests queued for one)',
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'db_pool_max_connections',
    help: 'The most connections the pool opens (DATABASE_POOL_MAX)',
    registers,
    collect() {
      this.set(pool.options.max ?? 10);
    },
  });
  const { poolErrors } = sources;
  if (poolErrors) {
    countedIn(
      registers,
      'db_pool_idle_connections_lost_total',
      'Idle connections the database or the network closed, which the pool discarded',
      () => poolErrors.idleConnectionsLost,
    );
  }

  const { cacheCounters } = sources;
  if (cacheCounters) {
    const counted = (name: string, help: string, read: () => number) => countedIn(registers, name, help, read);
    counted('cache_stores_total', 'Answers the response cache stored', () => cacheCounters.stores);
    counted(
      'cache_invalidations_total',
      'Invalidations of the response cache (a write that touched something, a statistics refresh)',
      () => cacheCounters.invalidations,
    );
    counted('cache_invalidated_answers_total', 'Stored answers those invalidations dropped', () => cacheCounters.dropped);
    counted('cache_errors_total', 'Commands to the response cache’s store that failed or timed out (answered from the database)', () => cacheCounters.errors);
  }

  const { loaderCacheCounters } = sources;
  if (loaderCacheCounters) registerLoaderCacheMetrics(registers, loaderCacheCounters);

  const { rateLimitCounters } = sources;
  if (rateLimitCounters) {
    new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Operations refused with RATE_LIMITED, by bucket: points (cost) or writes (mutations)',
      labelNames: ['bucket'],
      registers,
      collect() {
        this.reset();
        this.inc({ bucket: 'points' }, rateLimitCounters.refusedPoints);
        this.inc({ bucket: 'writes' }, rateLimitCounters.refusedWrites);
      },
    });
    countedIn(
      registers,
      'rate_limit_unmetered_total',
      'Operations answered without a limit because the rate limits’ store failed or was late',
      () => rateLimitCounters.storeFailures,
    );
  }

  // The statistics views' freshness, from the refresh log: the same for
  // every instance whichever refreshed. One probe of the partial index on
  // succeeded runs, shared by the two gauges of a scrape (read at most once a second).
  const databaseTimeoutMs = sources.databaseTimeoutMs ?? 1_000;
  type LastRefresh = { ageSeconds: number; durationMs: number } | null | undefined;
  let lastRefresh: { at: number; read: Promise<LastRefresh> } | undefined;
  const readLastRefresh = (): Promise<LastRefresh> => {
    const now = performance.now();
    if (lastRefresh && now - lastRefresh.at < 1_000) return lastRefresh.read;
    const read = within(
      pool.query<{ ageSeconds: number; durationMs: number }>(
        `SELECT extract(epoch FROM now() - started_at)::float8 AS "ageSeconds", duration_ms AS "durationMs"
         FROM materialized_view_refreshes
         WHERE view_name = $1 AND outcome = 'succeeded'
         ORDER BY started_at DESC LIMIT 1`,
        [USER_STATS_VIEW],
      ),
      databaseTimeoutMs,
    ).then(
      ({ rows }) => rows[0] ?? null,
      // Unreadable now (the database is down or slow): both gauges are left empty for this scrape.
      () => undefined,
    );
    lastRefresh = { at: now, read };
    return read;
  };
  new Gauge({
    name: 'materialized_view_age_seconds',
    help: 'Seconds since the latest successful refresh of a statistics view started (what refreshedAt says); absent before the first',
    labelNames: ['view'],
    registers,
    async collect() {
      this.reset();
      const refresh = await readLastRefresh();
      if (refresh) this.set({ view: USER_STATS_VIEW }, refresh.ageSeconds);
    },
  });
  new Gauge({
    name: 'materialized_view_refresh_duration_seconds',
    help: 'How long the latest successful refresh of a statistics view took (both views, in one transaction)',
    labelNames: ['view'],
    registers,
    async collect() {
      this.reset();
      const refresh = await readLastRefresh();
      if (refresh) this.set({ view: USER_STATS_VIEW }, refresh.durationMs / 1000);
    },
  });

  const commitToSend = new Histogram({
    name: 'realtime_commit_to_send_seconds',
    help: 'Subscription events, from the COMMIT of the write behind them to their sending (executed, handed to the socket), by subscription field',
    labelNames: ['field'],
    buckets: DELIVERY_BUCKETS,
    registers,
  });
  if (sources.realtime) registerRealtimeMetrics(registers, sources.realtime);
  if (sources.replicas) registerReplicaMetrics(registers, sources.replicas);

  return {
    registry,
    commitToSend(field, seconds) {
      commitToSend.observe({ field }, seconds);
    },
    request({ operation, outcome, code, seconds, cache }) {
      requestDuration.observe({ [OPERATION_LABEL]: operation, outcome }, seconds);
      operations.inc({ [OPERATION_LABEL]: operation, outcome, code });
      if (cache) cacheRequests.inc({ outcome: cache });
    },
    statement(loader, seconds) {
      const label = { loader: loader ?? NO_LOADER };
      statements.inc(label);
      statementDuration.observe(label, seconds);
    },
    batch(loader, size) {
      batchSize.observe({ loader }, size);
    },
  };
}

/** A counter whose value is read from where it is counted, at each scrape. */
function countedIn(registers: Registry[], name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label, whose values are read from the map they are counted in (by that label's value), at each scrape. */
function countedByLabel(registers: Registry[], name: string, help: string, label: string, counts: ReadonlyMap<string, number>): Counter {
  return new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, count] of counts) this.inc({ [label]: value }, count);
    },
  });
}

/** The loader cache's counters and gauges, read from its counters at each scrape. */
function registerLoaderCacheMetrics(registers: Registry[], counters: LoaderCacheCountersSource): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  countedByLabel(
    registers,
    'loader_cache_hits_total',
    'Loader keys answered from the loader cache (unchanged since they were read), by DataLoader',
    'loader',
    counters.hits,
  );
  countedByLabel(
    registers,
    'loader_cache_misses_total',
    'Loader keys read from the database while the loader cache is on, by DataLoader',
    'loader',
    counters.misses,
  );
  countedIn(
    registers,
    'loader_cache_checks_total',
    'Round trips to the store that checked kept loader values against the writes since (one per wave of loaders)',
    () => counters.checks,
  );
  countedIn(registers, 'loader_cache_changed_total', 'Kept loader values a check found changed by a write, and dropped', () => counters.changed);
  countedIn(
    registers,
    'loader_cache_errors_total',
    'Checks and invalidations of the loader cache that failed or were late (answered from the database)',
    () => counters.errors,
  );
  gauge('loader_cache_bytes', 'Bytes the loader cache holds, estimated (LOADER_CACHE_MAX_MB bounds them)', () => counters.bytes);
  gauge('loader_cache_entries', 'Values the loader cache holds', () => counters.entries);
}

/** The subscriptions' gauges and counters, read from their sources at each scrape. */
function registerRealtimeMetrics(registers: Registry[], { activity, bus, counters }: NonNullable<MetricsSources['realtime']>): void {
  const fromCount = (name: string, help: string, read: () => number) => countedIn(registers, name, help, read);
  const byField = (name: string, help: string, counts: ReadonlyMap<string, number>) => countedByLabel(registers, name, help, 'field', counts);
  new Gauge({
    name: 'realtime_open_sockets',
    help: 'Open subscription connections, by transport: websocket, or http (multipart streams)',
    labelNames: ['transport'],
    registers,
    collect() {
      for (const [transport, count] of Object.entries(activity.openSockets)) this.set({ transport }, count);
    },
  });
  new Gauge({
    name: 'realtime_subscriptions',
    help: 'Subscriptions running, by field',
    labelNames: ['field'],
    registers,
    collect() {
      this.reset();
      for (const [field, count] of activity.subscriptions) this.set({ field }, count);
    },
  });
  byField('realtime_events_delivered_total', 'Subscription events sent to clients, by field', activity.delivered);
  byField('realtime_events_dropped_total', 'Subscription events dropped instead of sent (typing, while the client was behind), by field', activity.dropped);
  fromCount('realtime_events_published_total', 'Events this instance published to the event bus (after their writes committed)', () => bus.published);
  fromCount('realtime_publish_failures_total', 'Events the event bus could not publish at the first try (Redis down or late)', () => bus.publishFailures);
  fromCount('realtime_events_republished_total', 'Events published at a later try, after a failed publish', () => bus.republished);
  fromCount(
    'realtime_publishes_abandoned_total',
    'Events given up after failed publishes (too old, or too many waiting): their subscribers replay them',
    () => bus.publishesAbandoned,
  );
  fromCount('realtime_events_received_total', 'Events this instance received from the bus, for topics its subscribers follow', () => bus.received);
  fromCount(
    'realtime_bus_failures_total',
    'Times the bus may have lost events (its Redis connection dropped): its subscriptions closed with resume',
    () => bus.failures,
  );
  fromCount('realtime_gaps_filled_total', 'Times a conversation feed read missing or reordered messages from the database', () => counters.gapsFilled);
  fromCount('realtime_replayed_messages_total', 'Messages replayed from the database to subscriptions resuming from a cursor', () => counters.replayed);
  fromCount(
    'realtime_slow_consumer_closes_total',
    'Subscription connections closed with resume because the client fell behind',
    () => activity.slowConsumerCloses,
  );
  new Counter({
    name: 'realtime_closes_total',
    help: 'Subscription connections the server ended, by reason: resume, tokenExpired, tooManySockets, goingAway',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of activity.closes) this.inc({ reason }, count);
    },
  });
}

/** The read replicas' gauges and counters, read from the replica set at each scrape. */
function registerReplicaMetrics(registers: Registry[], { statuses, counters, positions }: ReplicaSource): void {
  new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'Age of the oldest write a read replica had not replayed at its last reading (0: caught up), measured to within one poll interval',
    labelNames: ['replica'],
    registers,
    collect() {
      for (const status of statuses) this.set({ replica: status.name }, status.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'db_replica_lag_bytes',
    help: 'WAL the primary had written that a read replica had not replayed, at its last reading',
    labelNames: ['replica'],
    registers,
    collect() {
      for (const status of statuses) this.set({ replica: status.name }, Number(status.lagBytes));
    },
  });
  new Gauge({
    name: 'db_replica_health',
    help: 'Each read replica’s health, 1 for the state it is in: up (serves reads), lagging (behind by more than DATABASE_REPLICA_MAX_LAG_MS), down, starting',
    labelNames: ['replica', 'state'],
    registers,
    collect() {
      for (const status of statuses)
        for (const state of ['up', 'lagging', 'down', 'starting']) this.set({ replica: status.name, state }, status.health === state ? 1 : 0);
    },
  });
  new Counter({
    name: 'db_read_routing_total',
    help: 'Requests that read from the database, by where their reads went (target: replica, with its name; primary, with the reason: write, subscription, read-your-writes, lagging, down, positions-unavailable)',
    labelNames: ['target', 'replica', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const [name, count] of counters.replica) this.inc({ target: 'replica', replica: name, reason: '' }, count);
      for (const [reason, count] of counters.primary) this.inc({ target: 'primary', replica: '', reason }, count);
    },
  });
  countedIn(
    registers,
    'db_replica_answers_not_stored_total',
    'Requests read on a replica that had not replayed the last write: answered, never stored in the response cache',
    () => counters.notStored,
  );
  countedIn(
    registers,
    'db_write_positions_errors_total',
    'Reads and records of the latest writes’ WAL positions that failed (Redis down or late); reads went to the primary',
    () => positions.errors,
  );
}
