import { Redis } from 'ioredis';

export type { Redis };

export interface RedisClientOptions {
  /** A redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /**
   * A command with no reply after this many milliseconds fails and leaves
   * the client's queue, so a hung server cannot pile commands up. Default:
   * 1000. This is a backstop: callers that must not wait that long (the
   * response cache waits 50 ms) use withinDeadline.
   */
  commandTimeoutMs?: number;
  /** Prepended to every key this client names (tests use one per file). Default: none. */
  keyPrefix?: string;
  /** Shown in CLIENT LIST. Default: `parley`. */
  connectionName?: string;
}

/** The longest wait between two reconnection attempts, in milliseconds. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * The one Redis client of a process, made by the composition root and shared
 * by the response cache (and later rate limits and persisted queries).
 * It connects at once and never makes a caller wait for a connection: while
 * it is disconnected, commands fail immediately (no offline queue). It
 * reconnects by itself, forever, with a growing delay capped at one second.
 * Each user of the client decides what a failed command means (the cache
 * answers from the database, and logs the outage once).
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redis = new Redis(options.url, {
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    // A command cut off by a lost connection fails rather than waiting for the next one.
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    connectionName: options.connectionName ?? 'parley',
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
  });
  // Connection errors also reach the callers as failed commands, where they
  // are counted and logged; without a listener, each would be printed.
  redis.on('error', () => {});
  return redis;
}

/**
 * A connection for the event bus's subscriptions (realtime/redis-bus.ts):
 * a connection that subscribes can send nothing else, so it is not the
 * process's client. Unlike that client, a SUBSCRIBE sent while it connects
 * waits for the connection (the bus bounds the wait); one cut off by a lost
 * connection fails. It reconnects forever, and does not subscribe again by
 * itself: the bus tells its listeners that events may have been lost, and
 * they subscribe anew.
 */
export function createRedisSubscriber(options: Pick<RedisClientOptions, 'url' | 'connectionName'>): Redis {
  const redis = new Redis(options.url, {
    enableOfflineQueue: true,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    connectionName: options.connectionName ?? 'parley-events',
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * Waits at most `ms` for a Redis reply, then fails (the command itself goes
 * on; ioredis's commandTimeout ends it later). The deadline counts Redis's
 * time, not this process's: when the timer fires, replies that arrived while
 * the event loop was busy (a long operation, a descheduled process) are read
 * first, and only a reply still missing then fails. ioredis's commandTimeout
 * of 50 ms failed those too: under load, one false timeout made a request
 * run its operation, whose CPU time made the next commands late, and so on.
 */
export function withinDeadline<T>(work: Promise<T>, ms: number, what = 'Redis'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // setImmediate runs after the poll phase: replies already received are handled before it.
    const timer = setTimeout(() => setImmediate(() => reject(new Error(`${what}: no reply within ${ms} ms`))), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Two functions, not methods: callers hand them on alone (`const succeeded = outage.succeeded`). */
export interface OutageLog {
  /** A command failed: counted (onFailure) every time; logged at warn only when it starts an outage. */
  failed: (error: unknown, operation?: string) => void;
  /** A command succeeded: logged at info only when it ends an outage. */
  succeeded: () => void;
}

/**
 * Logs an outage of a Redis-backed feature once, when it starts, and its
 * recovery once, when it ends, however many requests fail in between: one
 * outage must not write (or page someone about) a line per request.
 * `onFailure` counts every failure (the feature's own counter).
 */
export function createOutageLog(
  logger: { warn(details: object, message: string): void; info(message: string): void },
  messages: { down: string; up: string },
  onFailure: () => void,
): OutageLog {
  let down = false;
  return {
    failed(error, operation) {
      onFailure();
      if (down) return;
      down = true;
      logger.warn(operation === undefined ? { err: error } : { err: error, operation }, messages.down);
    },
    succeeded() {
      if (!down) return;
      down = false;
      logger.info(messages.up);
    },
  };
}
