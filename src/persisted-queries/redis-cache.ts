import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { FastifyBaseLogger } from 'fastify';
import { createOutageLog, withinDeadline, type Redis } from '../db/redis.js';

export interface RedisQueryCacheOptions {
  /** The process's Redis client (db/redis.ts). */
  redis: Redis;
  /** Prepended to Apollo's keys (`apq:<sha256>`). Default: `parley:`. */
  keyPrefix?: string;
  /** How long a lookup waits for Redis before it counts as a miss. Default: 100 ms. */
  deadlineMs?: number;
  /** Where an outage and its end are logged, once each. */
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
  /**
   * Documents longer than this (UTF-16 code units) are not kept: Apollo
   * registers a document before the rate limits are checked, so without a
   * bound anyone could fill Redis with `{ __typename } # <a megabyte of
   * comment>`, one new document per request. A client whose document is not
   * kept sends it in full each time, which is the protocol's own fallback.
   * Default: 32,768 (Parley's own operations are under 3,000).
   */
  maxDocumentLength?: number;
}

export interface RedisQueryCache extends KeyValueCache<string> {
  /** Commands that failed or were late: lookups answered as misses, registrations dropped. */
  readonly counters: { failures: number; /** Registrations refused for their length. */ tooLong: number };
}

/**
 * Apollo's KeyValueCache for automatic persisted queries, in Redis, so a
 * document registered on one instance is known to all. A failed or late
 * lookup is a miss, never an error: Apollo answers PERSISTED_QUERY_NOT_FOUND
 * and the client sends the document again, which is the protocol's own
 * fallback (Apollo's ErrorsAreMissesCache does the same but logs every
 * failure at error level: one outage would page someone per request).
 */
export function createRedisQueryCache(options: RedisQueryCacheOptions): RedisQueryCache {
  const { redis, logger } = options;
  const prefix = options.keyPrefix ?? 'parley:';
  const deadlineMs = options.deadlineMs ?? 100;
  const maxDocumentLength = options.maxDocumentLength ?? 32_768;
  const counters = { failures: 0, tooLong: 0 };
  const { failed, succeeded } = createOutageLog(
    logger,
    { down: 'persisted queries unavailable in Redis: clients are asked to send their documents', up: 'persisted queries available in Redis again' },
    () => (counters.failures += 1),
  );

  return {
    counters,
    async get(key) {
      try {
        const value = await withinDeadline(redis.get(prefix + key), deadlineMs, 'persisted query lookup');
        succeeded();
        return value ?? undefined;
      } catch (error) {
        failed(error, 'get');
        return undefined;
      }
    },
    async set(key, value, setOptions?: KeyValueCacheSetOptions) {
      if (value.length > maxDocumentLength) {
        counters.tooLong += 1;
        return;
      }
      try {
        const ttl = setOptions?.ttl;
        await withinDeadline(ttl ? redis.set(prefix + key, value, 'EX', ttl) : redis.set(prefix + key, value), deadlineMs, 'persisted query registration');
        succeeded();
      } catch (error) {
        failed(error, 'set');
      }
    },
    async delete(key) {
      try {
        return (await withinDeadline(redis.del(prefix + key), deadlineMs, 'persisted query removal')) > 0;
      } catch (error) {
        failed(error, 'delete');
        return false;
      }
    },
  };
}
