import type { FastifyBaseLogger } from 'fastify';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { createOutageLog, withinDeadline, type Redis } from '../db/redis.js';
import type { RateLimitStatus } from '../graphql/operation-budget.js';

export interface RateLimiterOptions {
  /** Points each key may spend per window (RATE_LIMIT_POINTS). */
  points: number;
  /** Writes each key may make per window (RATE_LIMIT_WRITES). */
  writes: number;
  /** The window, in seconds (RATE_LIMIT_WINDOW_SECONDS). */
  windowSeconds: number;
  /** The process's Redis client: counts shared by every instance. Default: none, counts kept in this process. */
  redis?: Redis;
  /** How long a request waits for Redis before it is answered without a limit. Default: 100 ms. */
  redisDeadlineMs?: number;
  /** Where an outage of the store and its end are logged, once each. */
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
}

/** The writes bucket of a key after a mutation took from it. */
export interface WritesStatus {
  limit: number;
  remaining: number;
  resetAt: Date;
}

export type RateLimitVerdict =
  /** Within both limits: what is left. */
  | { kind: 'allowed'; status: RateLimitStatus; writes?: WritesStatus }
  /** Over one limit: nothing was taken; retry after `retryAfterSeconds`. */
  | { kind: 'refused'; bucket: 'points' | 'writes'; retryAfterSeconds: number; status: RateLimitStatus; writes?: WritesStatus }
  /** The store did not answer: the request goes on without a limit (fail-open). */
  | { kind: 'unmetered' };

export interface RateLimiterCounters {
  /** Operations refused for their cost. */
  refusedPoints: number;
  /** Mutations refused for the writes limit. */
  refusedWrites: number;
  /** Operations let through unmetered because the store failed or was late. */
  storeFailures: number;
}

export interface RateLimiter {
  /**
   * Takes `cost` points from `key`'s budget, and one write when `write`, or
   * refuses. A refused operation takes nothing, so a client that asked for
   * too much can still run a smaller one in the same window.
   */
  spend(key: string, cost: number, write: boolean): Promise<RateLimitVerdict>;
  readonly counters: RateLimiterCounters;
  readonly options: Pick<RateLimiterOptions, 'points' | 'writes' | 'windowSeconds'>;
}

/**
 * Rate limits as fixed windows of `windowSeconds` (GitHub's model: a budget
 * per window, `resetAt` when it starts again), counted by
 * rate-limiter-flexible: in Redis with one atomic Lua script per count when a
 * client is given (every instance shares the counts), in this process
 * otherwise. Writes have a bucket of their own: a cheap mutation's estimate
 * says little of what it costs (a transaction, XP, cache invalidation).
 *
 * Fail-open: when Redis fails or is late, requests are answered unmetered;
 * the first failure of an outage is logged as a warning, the recovery once,
 * each failure counted. An outage of the limiter must not become one of the API.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { points, writes, windowSeconds, redis, logger } = options;
  const deadlineMs = options.redisDeadlineMs ?? 100;
  const bucket = (name: string, limit: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({
          storeClient: redis,
          points: limit,
          duration: windowSeconds,
          keyPrefix: `parley:rate:${name}`,
          // Fails at once while disconnected, instead of trying a command that cannot go out.
          rejectIfRedisNotReady: true,
        })
      : new RateLimiterMemory({ points: limit, duration: windowSeconds, keyPrefix: name });
  const pointsBucket = bucket('points', points);
  const writesBucket = bucket('writes', writes);
  const counters: RateLimiterCounters = { refusedPoints: 0, refusedWrites: 0, storeFailures: 0 };

  const outage = createOutageLog(
    logger,
    { down: 'rate limits unavailable: answering without them until the store is back', up: 'rate limits available again' },
    () => (counters.storeFailures += 1),
  );
  const failed = (error: unknown): RateLimitVerdict => {
    outage.failed(error);
    return { kind: 'unmetered' };
  };
  const succeeded = outage.succeeded;

  /** Takes `amount` from `limiter`'s count of `key`: the count after it, and whether it stayed within the limit. */
  const take = async (limiter: RateLimiterAbstract, key: string, amount: number) => {
    try {
      const result = await withinDeadline(limiter.consume(key, amount), deadlineMs, 'rate limit store');
      return { within: true, result };
    } catch (error) {
      // The library rejects with the count when over the limit, with an Error when the store failed.
      if (!(error instanceof RateLimiterRes)) throw error;
      // Over the limit, the library has counted it anyway: given back, so a refusal costs nothing.
      limiter.reward(key, amount).catch(() => {});
      return { within: false, result: error };
    }
  };
  const statusOf = (result: RateLimiterRes, limit: number, taken: number, cost: number): RateLimitStatus => ({
    limit,
    remaining: Math.max(limit - (result.consumedPoints - taken), 0),
    resetAt: new Date(Date.now() + result.msBeforeNext),
    cost,
  });
  const retryAfter = (result: RateLimiterRes) => Math.max(1, Math.ceil(result.msBeforeNext / 1000));

  return {
    counters,
    options: { points, writes, windowSeconds },
    async spend(key, cost, write) {
      // Even an operation estimated at 0 (introspection) takes a point: a flood of them is limited too.
      const amount = Math.max(1, Math.ceil(cost));
      try {
        let writesStatus: WritesStatus | undefined;
        if (write) {
          const taken = await take(writesBucket, key, 1);
          const { limit, remaining, resetAt } = statusOf(taken.result, writes, taken.within ? 0 : 1, 1);
          writesStatus = { limit, remaining, resetAt };
          if (!taken.within) {
            succeeded();
            counters.refusedWrites += 1;
            const current = await pointsBucket.get(key).catch(() => null);
            const status: RateLimitStatus = current
              ? statusOf(current, points, 0, amount)
              : { limit: points, remaining: points, resetAt: new Date(Date.now() + windowSeconds * 1000), cost: amount };
            return { kind: 'refused', bucket: 'writes', retryAfterSeconds: retryAfter(taken.result), status, writes: writesStatus };
          }
        }
        const taken = await take(pointsBucket, key, amount);
        succeeded();
        const status = statusOf(taken.result, points, taken.within ? 0 : amount, amount);
        if (taken.within) return { kind: 'allowed', status, ...(writesStatus ? { writes: writesStatus } : {}) };
        counters.refusedPoints += 1;
        if (write) {
          writesBucket.reward(key, 1).catch(() => {});
          writesStatus = writesStatus && { ...writesStatus, remaining: Math.min(writesStatus.remaining + 1, writes) };
        }
        return { kind: 'refused', bucket: 'points', retryAfterSeconds: retryAfter(taken.result), status, ...(writesStatus ? { writes: writesStatus } : {}) };
      } catch (error) {
        return failed(error);
      }
    },
  };
}
