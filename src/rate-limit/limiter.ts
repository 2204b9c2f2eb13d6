import type { FastifyBaseLogger } from 'fastify';
import type { Result } from 'ioredis';
import type { Clock } from '../db/clock.js';
import { createOutageLog, withinDeadline, type Redis } from '../db/redis.js';
import type { RateLimitStatus } from '../graphql/operation-budget.js';
import { EPSILON, bucketStatus, fits, levelAt, retryAfterSeconds, take, type Bucket, type BucketState } from './token-bucket.js';

export interface RateLimiterOptions {
  /** The capacity of each key's points bucket, refilled in full over `windowSeconds` (RATE_LIMIT_POINTS). */
  points: number;
  /** The capacity of each key's writes bucket, refilled in full over `windowSeconds` (RATE_LIMIT_WRITES). */
  writes: number;
  /** The time an empty bucket takes to be full again, in seconds (RATE_LIMIT_WINDOW_SECONDS). */
  windowSeconds: number;
  /** The process's Redis client: buckets shared by every instance. Default: none, buckets kept in this process. */
  redis?: Redis;
  /** How long a request waits for Redis before it is answered without a limit. Default: 100 ms. */
  redisDeadlineMs?: number;
  /** In this process: the most callers whose buckets are remembered at once (the least recently seen are dropped first). Default: 100,000. */
  maxMemoryKeys?: number;
  /**
   * The time buckets in this process refill by, and resets are shown on
   * (db/clock.ts); buckets in Redis refill by Redis's clock. Default: a
   * monotonic clock for the refills (a wall clock set back would leave the
   * buckets out of order for the sweep), Date.now() for the resets.
   */
  clock?: Clock;
  /** Where an outage of the store and its end are logged, once each. */
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
}

/** The writes bucket of a key after a mutation took from it (or was refused). */
export interface WritesStatus {
  limit: number;
  remaining: number;
  resetAt: Date;
}

export type RateLimitVerdict =
  /** Within both limits: what is left. */
  | { kind: 'allowed'; status: RateLimitStatus; writes?: WritesStatus }
  /**
   * Over one limit: nothing was taken; retry after `retryAfterSeconds`, or never (null) when the cost is
   * above the bucket's capacity: no wait makes it fit, the caller must ask for less.
   */
  | { kind: 'refused'; bucket: 'points' | 'writes'; retryAfterSeconds: number | null; status: RateLimitStatus; writes?: WritesStatus }
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
   * Takes `cost` points from `key`'s points bucket, and one token from its
   * writes bucket when `write`, or refuses. A refused operation takes
   * nothing from either, so a client that asked for too much can still run
   * a smaller one at once.
   */
  spend(key: string, cost: number, write: boolean): Promise<RateLimitVerdict>;
  readonly counters: RateLimiterCounters;
  readonly options: Pick<RateLimiterOptions, 'points' | 'writes' | 'windowSeconds'>;
}

/** Where Redis keeps the buckets; `v2`: the token buckets, apart from the fixed windows' counts of earlier versions. */
export const REDIS_KEY_PREFIX = 'parley:rate:v2:';

/** What one spend found: which bucket refused (none: taken), and both levels after it (before it when refused). */
interface SpendResult {
  refused: 'points' | 'writes' | undefined;
  points: number;
  writes: number;
}

/**
 * One spend, atomic in Redis: both buckets' levels refilled to Redis's own
 * clock (TIME, so instances whose clocks disagree share one time; Redis 7
 * replicates a script's effects, not the script, so TIME may precede
 * writes), the writes bucket checked first, then the points; taken from both
 * only when both hold enough. Each bucket is a hash (`tokens`, `at` in ms)
 * that expires when it would be full again: an idle caller costs no memory,
 * and a missing key is a full bucket. The same steps as token-bucket.ts.
 * Levels are returned as strings: Redis truncates Lua numbers to integers.
 */
const SPEND_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pointsCapacity, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local writesCapacity, writeCost = tonumber(ARGV[3]), tonumber(ARGV[4])
local period, epsilon = tonumber(ARGV[5]), tonumber(ARGV[6])
local function level(key, capacity)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(state[1]), tonumber(state[2])
  if not tokens or not at then return capacity end
  return math.min(capacity, tokens + (math.max(0, now - at) * capacity) / period)
end
local function store(key, capacity, tokens)
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', now))
  redis.call('PEXPIRE', key, math.max(1, math.ceil(((capacity - tokens) * period) / capacity)))
end
local points = level(KEYS[1], pointsCapacity)
local writes = writesCapacity
if writeCost > 0 then writes = level(KEYS[2], writesCapacity) end
local refused = 0
if writeCost > 0 and writes + epsilon < writeCost then
  refused = 2
elseif points + epsilon < cost then
  refused = 1
else
  points = math.max(0, points - cost)
  store(KEYS[1], pointsCapacity, points)
  if writeCost > 0 then
    writes = math.max(0, writes - writeCost)
    store(KEYS[2], writesCapacity, writes)
  end
end
return { refused, string.format('%.17g', points), string.format('%.17g', writes) }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** The spend script, defined by redisStore below: [refused (0, 1 points, 2 writes), points level, writes level]. */
    parleyRateSpend(pointsKey: string, writesKey: string, ...args: (string | number)[]): Result<[number, string, string], Context>;
  }
}

function redisStore(redis: Redis, points: Bucket, writes: Bucket): (key: string, cost: number, write: boolean) => Promise<SpendResult> {
  // defineCommand: EVALSHA, and EVAL on a new connection or when Redis lost the script.
  redis.defineCommand('parleyRateSpend', { numberOfKeys: 2, lua: SPEND_SCRIPT });
  return async (key, cost, write) => {
    // A hash tag: both buckets of a caller in one slot, should the Redis be a cluster.
    const [refused, pointsLevel, writesLevel] = await redis.parleyRateSpend(
      `${REDIS_KEY_PREFIX}{${key}}:points`,
      `${REDIS_KEY_PREFIX}{${key}}:writes`,
      points.capacity,
      cost,
      writes.capacity,
      write ? 1 : 0,
      points.periodMs,
      EPSILON,
    );
    const result = {
      refused: refused === 2 ? 'writes' : refused === 1 ? 'points' : undefined,
      points: Number(pointsLevel),
      writes: Number(writesLevel),
    } as const;
    // A reply of another shape (a proxy, another script under the name) would give NaN levels and an Invalid Date: fail open instead.
    if (![0, 1, 2].includes(refused) || !Number.isFinite(result.points) || !Number.isFinite(result.writes)) {
      throw new Error(`rate limit script: unexpected reply ${JSON.stringify([refused, pointsLevel, writesLevel])}`);
    }
    return result;
  };
}

/** On the epoch's scale, and never set back with the wall clock. */
const monotonicClock: Clock = () => performance.timeOrigin + performance.now();

/**
 * The same buckets in this process, in one Map per bucket kept in the order
 * callers were last seen. A bucket untouched for a period is full, and a
 * full bucket is what a missing entry means: each spend then drops such
 * entries from the front, so the Maps hold only the callers of the last
 * period. Beyond `maxKeys` the least recently seen are dropped even if not
 * full (they start again full): memory stays bounded under a flood of new
 * addresses. (A refusal takes nothing, so it does not count as being seen.)
 */
function memoryStore(points: Bucket, writes: Bucket, maxKeys: number, clock: Clock): (key: string, cost: number, write: boolean) => SpendResult {
  const states = { points: new Map<string, BucketState>(), writes: new Map<string, BucketState>() };
  const sweep = (map: Map<string, BucketState>, bucket: Bucket, now: number) => {
    for (const [key, state] of map) {
      if (now - state.at < bucket.periodMs && map.size <= maxKeys) break;
      map.delete(key);
    }
  };
  const store = (map: Map<string, BucketState>, key: string, state: BucketState) => {
    // Deleted first so the entry moves to the end: the Map stays in order of last use.
    map.delete(key);
    map.set(key, state);
  };
  const spend = (key: string, cost: number, write: boolean, now: number): SpendResult => {
    const pointsLevel = levelAt(points, states.points.get(key), now);
    const writesLevel = write ? levelAt(writes, states.writes.get(key), now) : writes.capacity;
    const writesAfter = write ? take(writesLevel, 1) : writesLevel;
    if (writesAfter === undefined) return { refused: 'writes', points: pointsLevel, writes: writesLevel };
    const pointsAfter = take(pointsLevel, cost);
    if (pointsAfter === undefined) return { refused: 'points', points: pointsLevel, writes: writesLevel };
    store(states.points, key, { tokens: pointsAfter, at: now });
    if (write) store(states.writes, key, { tokens: writesAfter, at: now });
    return { refused: undefined, points: pointsAfter, writes: writesAfter };
  };
  return (key, cost, write) => {
    const now = clock();
    const result = spend(key, cost, write, now);
    // After the spend: this caller's entry is the last, never the one dropped for room.
    sweep(states.points, points, now);
    sweep(states.writes, writes, now);
    return result;
  };
}

/**
 * Rate limits as token buckets (token-bucket.ts): each key has a points
 * bucket of `points`, spent by each operation's cost, and a writes bucket of
 * `writes`, spent by each mutation; both refill continuously, in full over
 * `windowSeconds`. Kept in Redis with one atomic Lua script per spend when a
 * client is given (every instance shares the buckets), in this process
 * otherwise. Writes have a bucket of their own: a cheap mutation's estimate
 * says little of what it costs (a transaction, XP, cache invalidation).
 *
 * Fail-open: when Redis fails or is late, requests are answered unmetered;
 * the first failure of an outage is logged as a warning, the recovery once,
 * each failure counted. A spend that reaches Redis after the deadline still
 * counts: the script runs all the same, only its answer comes too late. An outage of the limiter must not become one of the API.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { points, writes, windowSeconds, redis, logger } = options;
  const deadlineMs = options.redisDeadlineMs ?? 100;
  const pointsBucket: Bucket = { capacity: points, periodMs: windowSeconds * 1000 };
  const writesBucket: Bucket = { capacity: writes, periodMs: windowSeconds * 1000 };
  const counters: RateLimiterCounters = { refusedPoints: 0, refusedWrites: 0, storeFailures: 0 };

  const outage = createOutageLog(
    logger,
    { down: 'rate limits unavailable: answering without them until the store is back', up: 'rate limits available again' },
    () => (counters.storeFailures += 1),
  );
  const spendInRedis = redis && redisStore(redis, pointsBucket, writesBucket);
  const spendInMemory = memoryStore(pointsBucket, writesBucket, options.maxMemoryKeys ?? 100_000, options.clock ?? monotonicClock);
  const wallClock = options.clock ?? Date.now;

  /** A bucket's figures, its reset anchored on this process's clock (the stores give levels, not times). */
  const statusOf = (bucket: Bucket, tokens: number) => {
    const { remaining, msUntilFull } = bucketStatus(bucket, tokens);
    return { limit: bucket.capacity, remaining, resetAt: new Date(wallClock() + msUntilFull) };
  };
  /** The wait before `cost` fits in a bucket at `tokens`; null if it never does. */
  const waitFor = (bucket: Bucket, tokens: number, cost: number) => (fits(bucket, cost) ? retryAfterSeconds(bucket, tokens, cost) : null);

  return {
    counters,
    options: { points, writes, windowSeconds },
    async spend(key, cost, write) {
      // Even an operation estimated at 0 (introspection) takes a point: a flood of them is limited too.
      const amount = Math.max(1, Math.ceil(cost));
      let result: SpendResult;
      if (spendInRedis) {
        try {
          result = await withinDeadline(spendInRedis(key, amount, write), deadlineMs, 'rate limit store');
        } catch (error) {
          outage.failed(error);
          return { kind: 'unmetered' };
        }
        outage.succeeded();
      } else {
        result = spendInMemory(key, amount, write);
      }
      const status: RateLimitStatus = { ...statusOf(pointsBucket, result.points), cost: amount };
      const writesStatus = write ? { writes: statusOf(writesBucket, result.writes) } : {};
      if (!result.refused) return { kind: 'allowed', status, ...writesStatus };
      if (result.refused === 'writes') {
        counters.refusedWrites += 1;
        return { kind: 'refused', bucket: 'writes', retryAfterSeconds: waitFor(writesBucket, result.writes, 1), status, ...writesStatus };
      }
      counters.refusedPoints += 1;
      return { kind: 'refused', bucket: 'points', retryAfterSeconds: waitFor(pointsBucket, result.points, amount), status, ...writesStatus };
    },
  };
}
