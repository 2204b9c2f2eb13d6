// Rate limits kept in Redis: buckets shared by every instance, spent
// atomically, forgotten once full, and fail-open: a Redis that goes away
// leaves the API answering, unmetered, with the outage logged once; the
// limits come back with Redis.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createRedisClient, type Redis } from '../../../src/db/redis.js';
import { startTestApi, errorCodes, type GraphQLResult, type TestApi } from '../../support/api.js';
import { createTestDatabase, testRedisUrl } from '../../support/database.js';
import { insertUser } from '../../support/fixtures.js';
import { captureLog } from '../../support/log.js';
import { bucketBehaviour } from '../../support/rate-limit-buckets.js';
import { createRateLimiter, REDIS_KEY_PREFIX, type RateLimitVerdict } from '../../../src/rate-limit/limiter.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';

describe('in the shared Redis', () => {
  let redis: Redis;
  let first: TestApi;
  let second: TestApi;
  beforeAll(async () => {
    // A prefix of this run's own: the shared server's other keys are never touched.
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: `parley-test:${randomUUID()}:` });
    // An hour to refill: no count below moves while the tests run.
    const env = { RATE_LIMIT_POINTS: '20', RATE_LIMIT_WRITES: '2', RATE_LIMIT_WINDOW_SECONDS: '3600' };
    first = await startTestApi(env, undefined, { redis });
    // A second instance on the same database and Redis: what a deployment of two looks like.
    second = await startTestApi(env, await createTestDatabase(), { redis });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    redis.disconnect();
  });

  it('shares each viewer’s budget between instances, and refuses over it with 429 and retry-after', async () => {
    const user = await insertUser(first.database.pool, 'Shared');
    // Both databases number their users alike: the same id is the same viewer to the limiter.
    const token = await first.tokenFor(user.id);
    const statuses: number[] = [];
    let cost = 0;
    let last: GraphQLResult<Record<string, unknown>> | undefined;
    for (let index = 0; index < 12; index += 1) {
      last = await (index % 2 === 0 ? first : second).request('{ rateLimit { remaining cost } }', {}, { token });
      statuses.push(last.status);
      if (last.status === 429) break;
      cost = (last.extensions!.cost as { requested: number }).requested;
    }
    expect(cost).toBe(3);
    // 6 × 3 = 18 of 20 spent on both instances together: the 7th would go over.
    expect(statuses).toEqual([...Array<number>(6).fill(200), 429]);
    expect(errorCodes(last!)).toEqual(['RATE_LIMITED']);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('keeps writes apart from the budget', async () => {
    const user = await insertUser(first.database.pool, 'Renamer');
    const token = await first.tokenFor(user.id);
    const rename = (name: string) =>
      first.request('mutation ($n: String) { updateProfile(input: { displayName: $n }) { user { id } } }', { n: name }, { token });
    expect((await rename('one')).status).toBe(200);
    expect((await rename('two')).status).toBe(200);
    const refused = await rename('three');
    expect({ status: refused.status, codes: errorCodes(refused) }).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
    const { rows } = await first.database.pool.query<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [user.id]);
    expect(rows[0]!.display_name).toBe('two');
    expect((await first.request('{ viewer { id } }', {}, { token })).status).toBe(200);
  });
});

describe('the limiter on the shared Redis', () => {
  const prefix = `parley-test:${randomUUID()}:`;
  let redis: Redis;
  let other: Redis;
  const silent = { warn: () => {}, info: () => {} };
  beforeAll(async () => {
    // Two connections, as two instances have.
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: prefix });
    other = createRedisClient({ url: testRedisUrl(), keyPrefix: prefix });
    await Promise.all([redis, other].map((client) => new Promise((resolve) => client.once('ready', resolve))));
  });
  afterAll(() => {
    redis.disconnect();
    other.disconnect();
  });
  const remaining = (verdict: RateLimitVerdict) =>
    verdict.kind === 'unmetered' ? undefined : [verdict.kind, verdict.status.remaining, verdict.writes?.remaining];

  it('is one bucket for two limiter instances on the same Redis', async () => {
    const options = { points: 10, writes: 2, windowSeconds: 3600, logger: silent };
    const first = createRateLimiter({ ...options, redis });
    const second = createRateLimiter({ ...options, redis: other });
    const key = `user:${randomUUID()}`;
    expect(remaining(await first.spend(key, 4, false))).toEqual(['allowed', 6, undefined]);
    expect(remaining(await second.spend(key, 4, true))).toEqual(['allowed', 2, 1]);
    expect(remaining(await first.spend(key, 1, true))).toEqual(['allowed', 1, 0]);
    expect(remaining(await second.spend(key, 2, false))).toEqual(['refused', 1, undefined]);
    expect(remaining(await first.spend(key, 1, false))).toEqual(['allowed', 0, undefined]);
  });

  it('takes nothing from either bucket when a write is refused by one', async () => {
    const limiter = createRateLimiter({ points: 10, writes: 1, windowSeconds: 3600, redis, logger: silent });
    const key = `user:${randomUUID()}`;
    expect(remaining(await limiter.spend(key, 3, true))).toEqual(['allowed', 7, 0]);
    // Refused for writes: the points stay.
    const refusedWrite = await limiter.spend(key, 3, true);
    expect(refusedWrite).toMatchObject({ kind: 'refused', bucket: 'writes' });
    expect(remaining(await limiter.spend(key, 7, false))).toEqual(['allowed', 0, undefined]);

    const again = `user:${randomUUID()}`;
    const roomy = createRateLimiter({ points: 10, writes: 5, windowSeconds: 3600, redis, logger: silent });
    // Refused for points: the write stays.
    expect(await roomy.spend(again, 11, true)).toMatchObject({ kind: 'refused', bucket: 'points', writes: { remaining: 5 } });
    expect(remaining(await roomy.spend(again, 1, true))).toEqual(['allowed', 9, 4]);
  });

  it('keeps each bucket under parley:rate:v2:, expiring when it would be full again', async () => {
    const limiter = createRateLimiter({ points: 10, writes: 4, windowSeconds: 2, redis, logger: silent });
    const key = `user:${randomUUID()}`;
    const before = Date.now();
    await limiter.spend(key, 5, true);
    const keys = (await redis.keys(`${prefix}${REDIS_KEY_PREFIX}*${key}*`)).map((name) => name.slice(prefix.length)).sort();
    expect(keys).toEqual([`parley:rate:v2:{${key}}:points`, `parley:rate:v2:{${key}}:writes`]);
    // Half the points spent: full in 1 s; a quarter of the writes: in 0.5 s.
    const [points, writes] = await Promise.all(keys.map((name) => redis.pttl(name)));
    // Less at most the time since the spend began (and a few ms of the clocks' rounding).
    const took = Date.now() - before;
    expect(points).toBeGreaterThan(1_000 - took - 5);
    expect(points).toBeLessThanOrEqual(1_000);
    expect(writes).toBeGreaterThan(500 - took - 5);
    expect(writes).toBeLessThanOrEqual(500);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect(await redis.exists(...keys)).toBe(0);
    // Gone means full.
    expect(remaining(await limiter.spend(key, 10, false))).toEqual(['allowed', 0, undefined]);
  });
});

describe('in the shared Redis, as the buckets refill', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: `parley-test:${randomUUID()}:` });
  });
  afterAll(() => redis.disconnect());
  bucketBehaviour((env) => startTestApi(env, undefined, { redis }));
});

describe('when Redis goes away', () => {
  let own: OwnRedis;
  let redis: Redis;
  let api: TestApi;
  const log = captureLog();
  beforeAll(async () => {
    own = await startOwnRedis();
    redis = createRedisClient({ url: own.url });
    api = await startTestApi({ LOG_LEVEL: 'info', RATE_LIMIT_POINTS: '1000' }, undefined, { redis, logStream: log.stream });
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
    await own.close();
  });

  it('meters on when Redis has lost the script (SCRIPT FLUSH, as after a failover): the client sends it again', async () => {
    if (redis.status !== 'ready') await once(redis, 'ready');
    // A deadline no busy machine misses: a late answer would be unmetered, which is not what this asks.
    const limiter = createRateLimiter({
      points: 10,
      writes: 2,
      windowSeconds: 3600,
      redis,
      redisDeadlineMs: 10_000,
      logger: { warn: () => {}, info: () => {} },
    });
    const key = `user:${randomUUID()}`;
    expect(await limiter.spend(key, 4, false)).toMatchObject({ kind: 'allowed', status: { remaining: 6 } });
    const cachedScripts = async () => Number(/number_of_cached_scripts:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await redis.script('FLUSH');
    expect(await cachedScripts()).toBe(0);
    expect(await limiter.spend(key, 4, false)).toMatchObject({ kind: 'allowed', status: { remaining: 2 } });
    expect(await cachedScripts()).toBe(1);
    expect(limiter.counters.storeFailures).toBe(0);
  });

  it('answers every request unmetered, logs the outage once and counts it, and meters again once Redis is back', async () => {
    const user = await insertUser(api.database.pool, 'Steady');
    const token = await api.tokenFor(user.id);
    const before = await api.request('{ rateLimit { remaining } }', {}, { token });
    expect(before.status).toBe(200);
    expect(before.headers.get('x-ratelimit-limit')).toBe('1000');

    await own.stop();
    const during = await Promise.all(Array.from({ length: 10 }, () => api.request('{ viewer { id } rateLimit { remaining } }', {}, { token })));
    for (const result of during) {
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data).toMatchObject({ viewer: { id: expect.any(String) }, rateLimit: null });
      expect(result.headers.get('x-ratelimit-limit')).toBeNull();
    }
    expect(api.server.app.rateLimiter!.counters.storeFailures).toBeGreaterThanOrEqual(10);
    const warnings = log.entries().filter((entry) => /rate limits unavailable/.test(entry.msg));
    expect(warnings).toHaveLength(1);
    expect(log.errors()).toEqual([]);

    await own.start();
    const deadline = Date.now() + 10_000;
    let after = await api.request('{ rateLimit { remaining } }', {}, { token });
    while (after.headers.get('x-ratelimit-limit') === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await api.request('{ rateLimit { remaining } }', {}, { token });
    }
    expect(after.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(log.entries().filter((entry) => entry.msg === 'rate limits available again')).toHaveLength(1);
  });
});
