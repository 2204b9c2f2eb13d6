// The limiter without REDIS_URL: the buckets in this process, bounded.
import { createRateLimiter, type RateLimitVerdict } from '../../../src/rate-limit/limiter.js';

const silent = { warn: () => {}, info: () => {} };
const remaining = (verdict: RateLimitVerdict) =>
  verdict.kind === 'unmetered' ? undefined : [verdict.kind, verdict.status.remaining, verdict.writes?.remaining];

it('takes from both buckets, or from neither when one refuses', async () => {
  const limiter = createRateLimiter({ points: 10, writes: 1, windowSeconds: 3600, logger: silent });
  expect(remaining(await limiter.spend('user:1', 3, true))).toEqual(['allowed', 7, 0]);
  expect(await limiter.spend('user:1', 3, true)).toMatchObject({ kind: 'refused', bucket: 'writes', retryAfterSeconds: 3600, status: { remaining: 7 } });
  expect(await limiter.spend('user:1', 8, false)).toMatchObject({ kind: 'refused', bucket: 'points', retryAfterSeconds: 360 });
  expect(remaining(await limiter.spend('user:1', 7, false))).toEqual(['allowed', 0, undefined]);
  expect(limiter.counters).toEqual({ refusedPoints: 1, refusedWrites: 1, storeFailures: 0 });
});

it('refuses a cost above the capacity even from a full bucket, taking nothing, with no wait: none would help', async () => {
  const limiter = createRateLimiter({ points: 10, writes: 5, windowSeconds: 60, logger: silent });
  expect(await limiter.spend('user:1', 11, true)).toMatchObject({
    kind: 'refused',
    bucket: 'points',
    retryAfterSeconds: null,
    status: { remaining: 10 },
    writes: { remaining: 5 },
  });
});

it('remembers at most maxMemoryKeys callers: the least recently seen start again full', async () => {
  const limiter = createRateLimiter({ points: 10, writes: 5, windowSeconds: 3600, maxMemoryKeys: 2, logger: silent });
  await limiter.spend('a', 9, false);
  await limiter.spend('b', 10, false);
  // a spends again, so b is the least recently seen when c comes.
  expect(remaining(await limiter.spend('a', 1, false))).toEqual(['allowed', 0, undefined]);
  await limiter.spend('c', 10, false);
  expect(remaining(await limiter.spend('a', 1, false))).toEqual(['refused', 0, undefined]);
  expect(remaining(await limiter.spend('c', 1, false))).toEqual(['refused', 0, undefined]);
  expect(remaining(await limiter.spend('b', 1, false))).toEqual(['allowed', 9, undefined]);
});

it('gives a caller idle for a whole window a full bucket again', async () => {
  const limiter = createRateLimiter({ points: 10, writes: 5, windowSeconds: 1, maxMemoryKeys: 1, logger: silent });
  await limiter.spend('a', 10, false);
  // A little over the window: a timer may fire up to 1 ms early by the limiter's clock, and 999 ms refill only 9.99 points.
  await new Promise((resolve) => setTimeout(resolve, 1_050));
  expect(remaining(await limiter.spend('a', 10, false))).toEqual(['allowed', 0, undefined]);
});
