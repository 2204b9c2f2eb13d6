import type { FastifyBaseLogger } from 'fastify';
import type { ResponseCache } from './response-cache.js';
import { createOutageLog } from '../db/redis.js';

/** What the response cache did since the process started: a plain object a metrics endpoint can read. */
export interface CacheCounters {
  /** Answers served from the cache (or shared with an identical request running at the same time). */
  hits: number;
  /** Cacheable operations that had to run. */
  misses: number;
  /** Answers stored. */
  stores: number;
  /** Invalidations (one per write that touched something, or per statistics refresh). */
  invalidations: number;
  /** Stored answers those invalidations dropped. */
  dropped: number;
  /** Store commands that failed or timed out (the request was answered from the database). */
  errors: number;
}

export function createCacheCounters(): CacheCounters {
  return { hits: 0, misses: 0, stores: 0, invalidations: 0, dropped: 0, errors: 0 };
}

export interface FailOpenOptions {
  /** Where the outage and the recovery are logged, once each. */
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
  /** Counts stores, invalidations and errors. */
  counters: CacheCounters;
}

/**
 * A store that never throws: a failed lookup is a miss, a failed store or
 * invalidation does nothing (the Redis store then voids what it may have
 * kept, see redis-store.ts). The first failure of an outage is logged as a
 * warning, the first success after it as the recovery; every failure is counted.
 */
export function failOpen(store: ResponseCache, { logger, counters }: FailOpenOptions): ResponseCache {
  const { failed, succeeded } = createOutageLog(
    logger,
    { down: 'response cache unavailable: answering from the database until it is back', up: 'response cache available again' },
    () => (counters.errors += 1),
  );

  return {
    async get(key) {
      try {
        const lookup = await store.get(key);
        succeeded();
        return lookup;
      } catch (error) {
        failed(error, 'get');
        return { answer: undefined, since: undefined };
      }
    },

    async set(key, answer, tags, since) {
      try {
        const stored = await store.set(key, answer, tags, since);
        succeeded();
        if (stored) counters.stores += 1;
        return stored;
      } catch (error) {
        failed(error, 'set');
        return false;
      }
    },

    async invalidate(tags) {
      if (tags.length === 0) return 0;
      try {
        const dropped = await store.invalidate(tags);
        succeeded();
        counters.invalidations += 1;
        counters.dropped += dropped;
        return dropped;
      } catch (error) {
        failed(error, 'invalidate');
        return 0;
      }
    },
  };
}
