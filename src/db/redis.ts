import { Redis } from 'ioredis';

export type { Redis };

export interface RedisClientOptions {
  /** A redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /**
   * A command with no reply after this many milliseconds fails. Default: 50:
   * the response cache and rate limits would rather answer without Redis
   * than wait for it.
   */
  commandTimeoutMs?: number;
  /** Prepended to every key this client names (tests use one per run). Default: none. */
  keyPrefix?: string;
  /** Shown in CLIENT LIST. Default: `parley`. */
  connectionName?: string;
}

/** The longest wait between two reconnection attempts, in milliseconds. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * The one Redis client of a process, made by the composition root and shared
 * by the response cache (and later rate limits and persisted queries).
 * It connects at once and never makes a caller wait for Redis: while it is
 * disconnected, commands fail immediately (no offline queue) instead of
 * queueing, and a slow command fails after `commandTimeoutMs`. It reconnects
 * by itself, forever, with a growing delay capped at one second. Each user of
 * the client decides what a failed command means (the cache answers from the
 * database, and logs the outage once).
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redis = new Redis(options.url, {
    commandTimeout: options.commandTimeoutMs ?? 50,
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
