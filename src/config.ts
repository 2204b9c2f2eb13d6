import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * The only module that reads the environment. `loadConfig(env)` is pure, so
 * tests build configurations from plain objects; every problem in the
 * environment is reported at once, each naming its variable.
 */

const booleanString = z.enum(['true', 'false', '1', '0'], { message: 'expected true or false' }).transform((value) => value === 'true' || value === '1');

const integer = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected a whole number ≥ ${min}` })
    .max(max, { message: `expected a whole number ≤ ${max}` });

const onOff = z.enum(['on', 'off'], { message: 'expected on or off' }).transform((value) => value === 'on');

const postgresUrl = z
  .string()
  .url({ message: 'expected a URL such as postgresql://user:password@host:5432/parley' })
  .refine((value) => /^postgres(ql)?:\/\//.test(value), {
    message: 'expected a postgresql:// or postgres:// URL',
  });

/** One or more postgresql:// URLs, separated by commas (spaces around them ignored). */
const postgresUrlList = z.string().transform((value, context) => {
  const urls = value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const bad = urls.findIndex((url) => !postgresUrl.safeParse(url).success);
  if (bad >= 0) {
    context.addIssue({ code: 'custom', message: `expected postgresql:// URLs separated by commas (URL ${bad + 1} of ${urls.length} is not one)` });
    return z.NEVER;
  }
  return urls;
});

const redisUrl = z
  .string()
  .url({ message: 'expected a URL such as redis://127.0.0.1:6379' })
  .refine((value) => /^rediss?:\/\//.test(value), { message: 'expected a redis:// or rediss:// URL' });

/** A default pool size for this machine: enough to keep every core busy while others wait on I/O. */
export const defaultPoolSize = (): number => 2 * availableParallelism() + 5;

const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    // Loopback: a development server (with its demo data and tokens) is not
    // reachable from the network unless asked. Containers set 0.0.0.0.
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: integer(0, 65535).default(4000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: postgresUrl.optional(),
    // The database itself when DATABASE_URL is a pooler in transaction mode (PgBouncer).
    DATABASE_DIRECT_URL: postgresUrl.optional(),
    DATABASE_POOL_MAX: integer(1, 1000).default(defaultPoolSize()),
    DATABASE_CONNECTION_TIMEOUT_MS: integer(100, 600_000).default(5_000),
    DATABASE_IDLE_TIMEOUT_MS: integer(1_000, 3_600_000).default(30_000),
    DATABASE_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000).default(15_000),
    DATABASE_REPLICA_URLS: postgresUrlList.optional(),
    DATABASE_REPLICA_MAX_LAG_MS: integer(0, 3_600_000).default(1_000),
    DATABASE_REPLICA_POLL_MS: integer(10, 60_000).default(100),
    EMBEDDED_DATA_DIR: z.string().min(1).default('.data/pglite'),
    EMBEDDED_PORT: integer(0, 65535).default(0),
    REDIS_URL: redisUrl.optional(),
    RESPONSE_CACHE: onOff.default(true),
    // Default: on with REDIS_URL, off without (see loaderCache below).
    LOADER_CACHE: onOff.optional(),
    LOADER_CACHE_MAX_MB: integer(1, 65_536).default(64),
    JWT_SECRET: z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
    JWT_SECRET_FILE: z.string().min(1).default('.data/jwt-secret'),
    JWT_TTL_SECONDS: integer(60, 31_536_000).default(7 * 24 * 3600),
    DATALOADER_BATCH: booleanString.default(true),
    GRAPHQL_JIT: booleanString.default(true),
    SQL_READS: booleanString.default(true),
    MAX_QUERY_COST: integer(1, 100_000_000).default(50_000),
    MAX_QUERY_DEPTH: integer(1, 100).default(15),
    MAX_QUERY_NODES: integer(1, 100_000).default(1_000),
    MAX_QUERY_ALIASES: integer(0, 10_000).default(30),
    MAX_QUERY_ROOT_FIELDS: integer(1, 10_000).default(20),
    STATS_REFRESH_INTERVAL_SECONDS: integer(0, 86_400).default(300),
    STATS_REFRESH_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000).default(120_000),
    RATE_LIMIT: onOff.default(true),
    RATE_LIMIT_POINTS: integer(1, 1_000_000_000).default(200_000),
    RATE_LIMIT_WRITES: integer(1, 1_000_000_000).default(60),
    RATE_LIMIT_WINDOW_SECONDS: integer(1, 86_400).default(60),
    PERSISTED_QUERIES: z.enum(['off', 'apq', 'allowlist'], { message: 'expected off, apq or allowlist' }).default('apq'),
    PERSISTED_QUERIES_TTL_SECONDS: integer(60, 31_536_000).default(24 * 3600),
    // Default: token when METRICS_TOKEN is set; otherwise public, or off in production.
    METRICS: z.enum(['off', 'public', 'token'], { message: 'expected off, public or token' }).optional(),
    METRICS_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
    SLOW_STATEMENT_MS: integer(0, 3_600_000).default(100),
    SLOW_OPERATION_MS: integer(0, 3_600_000).default(500),
    REALTIME_SOCKETS_PER_USER: integer(1, 100_000).default(20),
    REALTIME_SUBSCRIPTIONS_PER_SOCKET: integer(1, 10_000).default(100),
    REALTIME_SEND_BUFFER_BYTES: integer(1_024, 1_073_741_824).default(1_048_576),
    REALTIME_QUEUE_EVENTS: integer(1, 1_000_000).default(200),
    REALTIME_KEEPALIVE_SECONDS: integer(0, 3_600).default(15),
    REALTIME_INIT_TIMEOUT_MS: integer(100, 600_000).default(3_000),
    REALTIME_MAX_MESSAGE_BYTES: integer(1_024, 16_777_216).default(65_536),
    REALTIME_TYPING_SECONDS: integer(1, 60).default(5),
  })
  .superRefine((env, context) => {
    if (env.DATABASE_DIRECT_URL && !env.DATABASE_URL) {
      context.addIssue({ code: 'custom', path: ['DATABASE_DIRECT_URL'], message: 'set DATABASE_URL too (the pooler); unset, both are the embedded database' });
    }
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      context.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'required when NODE_ENV=production (at least 32 random characters)',
      });
    }
    if (env.DATABASE_REPLICA_URLS?.length && !env.DATABASE_URL) {
      context.addIssue({
        code: 'custom',
        path: ['DATABASE_REPLICA_URLS'],
        message: 'replicas stream from the primary at DATABASE_URL: set DATABASE_URL too (the embedded database has no replicas)',
      });
    }
    if (env.METRICS === 'token' && !env.METRICS_TOKEN) {
      context.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: 'required when METRICS=token (at least 16 random characters)' });
    }
    if (env.METRICS === 'public' && env.METRICS_TOKEN) {
      context.addIssue({ code: 'custom', path: ['METRICS'], message: 'public serves /metrics to anyone: unset METRICS_TOKEN, or set METRICS=token' });
    }
    if (env.METRICS === 'public' && env.NODE_ENV === 'production') {
      context.addIssue({
        code: 'custom',
        path: ['METRICS'],
        message: 'expected off or token when NODE_ENV=production: public would serve /metrics to anyone who reaches the API',
      });
    }
  });

export interface Config {
  env: 'development' | 'test' | 'production';
  http: { host: string; port: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: {
    /** Unset: the embedded PGlite database is started and used. */
    url: string | undefined;
    /**
     * The database itself, for what needs a session of its own (the
     * migration runner's lock); DATABASE_URL unless DATABASE_DIRECT_URL is
     * set. A different URL marks DATABASE_URL as a pooler in transaction
     * mode (db/pool.ts, isTransactionPooler).
     */
    directUrl: string | undefined;
    poolMax: number;
    connectionTimeoutMs: number;
    idleTimeoutMs: number;
    statementTimeoutMs: number;
    /** Streaming replicas of the primary that serve reads (db/replica-set.ts); `urls` empty: every statement goes to the primary. */
    replicas: ReplicaSettings;
  };
  embedded: { dataDir: string; port: number };
  /** Unset: the response cache uses an in-process store (one instance only: writes elsewhere do not reach it). */
  redisUrl: string | undefined;
  /** `false` (RESPONSE_CACHE=off): every query runs, nothing is stored; the benchmark's baseline. */
  responseCache: boolean;
  /**
   * What loaders read, kept across requests in each instance and checked
   * against the response cache's store (Redis, or the process's) before
   * each use (cache/loader-cache.ts). Off (every loader reads the database)
   * by default without REDIS_URL: one instance on the embedded database,
   * where `npm run db:seed` writes behind the API's back while it runs.
   */
  loaderCache: { enabled: boolean; maxBytes: number };
  auth: {
    /** Unset (never in production): the secret kept in `secretFile`, made on first use (see readOrCreateSecret). */
    jwtSecret: string | undefined;
    secretFile: string;
    tokenTtlSeconds: number;
  };
  /** `false` builds every DataLoader with `batch: false`: the benchmark's baseline. */
  dataloaderBatch: boolean;
  /** `true` executes operations compiled by graphql-jit; `false` with graphql-js's interpreter. */
  graphqlJit: boolean;
  /** `true` answers the queries compiled reads cover with one statement that builds the answer as JSON (graphql/sql-reads/); `false` with the resolvers. Needs graphqlJit. */
  sqlReads: boolean;
  /** What one operation may ask for; larger ones are refused with QUERY_TOO_COMPLEX before they run. */
  queryLimits: QueryLimits;
  statsRefresh: {
    /** Seconds between scheduled refreshes of the statistics views; 0: none (`npm run db:refresh` still works). */
    intervalSeconds: number;
    /** PostgreSQL cancels a refresh statement running longer; the run is recorded as failed. */
    statementTimeoutMs: number;
  };
  /** Each viewer's (each address's when signed out) token buckets; RATE_LIMIT=off turns them off. */
  rateLimit: RateLimits;
  persistedQueries: PersistedQueries;
  metrics: MetricsConfig;
  /** Statements and operations slower than these are logged at warn; 0: not logged. */
  slowLog: { statementMs: number; operationMs: number };
  realtime: RealtimeLimits;
}

/** Read replicas (docs/scale-out.md#read-replicas). */
export interface ReplicaSettings {
  /** DATABASE_REPLICA_URLS, in order; empty by default. */
  urls: string[];
  /** A replica whose oldest unreplayed write is older than this is skipped until it catches up. Default 1000 ms. */
  maxLagMs: number;
  /** How often each replica's replay position (and the primary's) is read. Default 100 ms. */
  pollIntervalMs: number;
}

/** Subscriptions' bounds (docs/realtime.md): per instance, whichever transport. */
export interface RealtimeLimits {
  /** Open sockets (WebSocket connections and HTTP subscription streams) of one user on one instance; one more is refused. Default 20. */
  socketsPerUser: number;
  /** Subscriptions at once on one WebSocket; one more is refused with RATE_LIMITED. Default 100. */
  subscriptionsPerSocket: number;
  /** Bytes a socket may have waiting to be sent; a client that falls further behind is closed with "resume". Default 1 MiB. */
  sendBufferBytes: number;
  /** Events one subscription may have waiting for its turn to be sent; one more closes it with "resume" (typing is merged instead). Default 200. */
  queueEvents: number;
  /** Seconds between keep-alive pings on a WebSocket (a socket that misses one is closed); 0: none. Default 15. */
  keepAliveSeconds: number;
  /** How long a WebSocket may take to send connection_init before it is closed (4408). Default 3000 ms. */
  connectionInitTimeoutMs: number;
  /** The largest WebSocket message a client may send; a larger one closes the socket (1009). Default 64 KiB. */
  maxMessageBytes: number;
  /** How long `setTyping` shows a user typing (TypingEvent.expiresAt). Default 5 s. */
  typingSeconds: number;
}

export interface MetricsConfig {
  /**
   * `off`: nothing measured, no /metrics; `public`: /metrics for anyone
   * (never in production); `token`: /metrics only with `Authorization: Bearer <token>`.
   */
  mode: 'off' | 'public' | 'token';
  /** Set when mode is `token`. */
  token: string | undefined;
}

export interface RateLimits {
  enabled: boolean;
  /** The capacity of each caller's points bucket, spent by each operation's estimated cost (the cost in extensions.cost). */
  points: number;
  /** The capacity of each caller's writes bucket, spent 1 per mutation: writes cost the database more than their estimate says. */
  writes: number;
  /** The time an empty bucket takes to refill in full: both refill continuously, capacity / windowSeconds a second. */
  windowSeconds: number;
}

export interface PersistedQueries {
  /**
   * `apq`: automatic persisted queries (a client may send a sha256 hash in
   * place of a document it sent before); `allowlist`: only the operations
   * of clients/operations/, by hash or by text; `off`: documents only.
   */
  mode: 'off' | 'apq' | 'allowlist';
  /** How long an APQ document is kept in Redis after it was last registered. */
  ttlSeconds: number;
}

export interface QueryLimits {
  /** The estimated cost (objects it may return, lists multiplied by their page size). */
  maxCost: number;
  /** Fields nested in one another (a root field is at depth 1); fragments nested in one another too. */
  maxDepth: number;
  /** Selections (fields and fragments), each counted wherever a fragment is spread. */
  maxNodes: number;
  /** Aliased fields: what lets one field be asked for many times. */
  maxAliases: number;
  /** Fields at the root of an operation, by response key (each alias counts): each starts its own SQL. */
  maxRootFields: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Builds the configuration from an environment; throws a ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        // Secrets, tokens and URLs (which may hold a password) are never echoed.
        const received = /_SECRET$|_URLS?$|_TOKEN$/.test(name) ? undefined : present[name];
        return `${name}: ${issue.message}${received === undefined ? '' : ` (got ${JSON.stringify(received)})`}`;
      }),
    );
  }
  const value = parsed.data;
  return {
    env: value.NODE_ENV,
    http: { host: value.HOST, port: value.PORT },
    logLevel: value.LOG_LEVEL,
    database: {
      url: value.DATABASE_URL,
      directUrl: value.DATABASE_DIRECT_URL ?? value.DATABASE_URL,
      poolMax: value.DATABASE_POOL_MAX,
      connectionTimeoutMs: value.DATABASE_CONNECTION_TIMEOUT_MS,
      idleTimeoutMs: value.DATABASE_IDLE_TIMEOUT_MS,
      statementTimeoutMs: value.DATABASE_STATEMENT_TIMEOUT_MS,
      replicas: {
        urls: value.DATABASE_REPLICA_URLS ?? [],
        maxLagMs: value.DATABASE_REPLICA_MAX_LAG_MS,
        pollIntervalMs: value.DATABASE_REPLICA_POLL_MS,
      },
    },
    embedded: { dataDir: value.EMBEDDED_DATA_DIR, port: value.EMBEDDED_PORT },
    redisUrl: value.REDIS_URL,
    responseCache: value.RESPONSE_CACHE,
    loaderCache: { enabled: value.LOADER_CACHE ?? value.REDIS_URL !== undefined, maxBytes: value.LOADER_CACHE_MAX_MB * 1024 * 1024 },
    auth: { jwtSecret: value.JWT_SECRET, secretFile: value.JWT_SECRET_FILE, tokenTtlSeconds: value.JWT_TTL_SECONDS },
    dataloaderBatch: value.DATALOADER_BATCH,
    graphqlJit: value.GRAPHQL_JIT,
    sqlReads: value.SQL_READS,
    queryLimits: {
      maxCost: value.MAX_QUERY_COST,
      maxDepth: value.MAX_QUERY_DEPTH,
      maxNodes: value.MAX_QUERY_NODES,
      maxAliases: value.MAX_QUERY_ALIASES,
      maxRootFields: value.MAX_QUERY_ROOT_FIELDS,
    },
    statsRefresh: {
      intervalSeconds: value.STATS_REFRESH_INTERVAL_SECONDS,
      statementTimeoutMs: value.STATS_REFRESH_STATEMENT_TIMEOUT_MS,
    },
    rateLimit: {
      enabled: value.RATE_LIMIT,
      points: value.RATE_LIMIT_POINTS,
      writes: value.RATE_LIMIT_WRITES,
      windowSeconds: value.RATE_LIMIT_WINDOW_SECONDS,
    },
    persistedQueries: { mode: value.PERSISTED_QUERIES, ttlSeconds: value.PERSISTED_QUERIES_TTL_SECONDS },
    metrics: {
      mode: value.METRICS ?? (value.METRICS_TOKEN ? 'token' : value.NODE_ENV === 'production' ? 'off' : 'public'),
      token: value.METRICS_TOKEN,
    },
    slowLog: { statementMs: value.SLOW_STATEMENT_MS, operationMs: value.SLOW_OPERATION_MS },
    realtime: {
      socketsPerUser: value.REALTIME_SOCKETS_PER_USER,
      subscriptionsPerSocket: value.REALTIME_SUBSCRIPTIONS_PER_SOCKET,
      sendBufferBytes: value.REALTIME_SEND_BUFFER_BYTES,
      queueEvents: value.REALTIME_QUEUE_EVENTS,
      keepAliveSeconds: value.REALTIME_KEEPALIVE_SECONDS,
      connectionInitTimeoutMs: value.REALTIME_INIT_TIMEOUT_MS,
      maxMessageBytes: value.REALTIME_MAX_MESSAGE_BYTES,
      typingSeconds: value.REALTIME_TYPING_SECONDS,
    },
  };
}
