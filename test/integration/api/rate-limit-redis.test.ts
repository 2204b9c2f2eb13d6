// Rate limits counted in Redis: shared by every instance, and fail-open: a
// Redis that goes away leaves the API answering, unmetered, with the outage
// logged once; the limits come back with Redis.
import { randomUUID } from 'node:crypto';
import { createRedisClient, type Redis } from '../../../src/db/redis.js';
import { startTestApi, errorCodes, type GraphQLResult, type TestApi } from '../../support/api.js';
import { createTestDatabase, testRedisUrl } from '../../support/database.js';
import { insertUser } from '../../support/fixtures.js';
import { captureLog } from '../../support/log.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';

describe('in the shared Redis', () => {
  let redis: Redis;
  let first: TestApi;
  let second: TestApi;
  beforeAll(async () => {
    // A prefix of this run's own: the shared server's other keys are never touched.
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: `parley-test:${randomUUID()}:` });
    const env = { RATE_LIMIT_POINTS: '20', RATE_LIMIT_WRITES: '2' };
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
    expect(api.server.rateLimiter!.counters.storeFailures).toBeGreaterThanOrEqual(10);
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
