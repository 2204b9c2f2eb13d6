// Rate limits kept in this process (no REDIS_URL): each caller's points
// bucket spent by cost, writes in a bucket apart, refusals that run nothing,
// one caller's flood that never limits another, and buckets that refill.
import { startTestApi, errorCodes, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { requestFrom } from '../../support/from-address.js';
import { bucketBehaviour } from '../../support/rate-limit-buckets.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';

const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }';
const RATE_LIMIT = '{ rateLimit { limit remaining resetAt cost } }';

async function messageCount(api: TestApi, authorId: number): Promise<number> {
  const { rows } = await api.database.pool.query<{ count: string }>('SELECT count(*) FROM messages WHERE author_id = $1', [authorId]);
  return Number(rows[0]!.count);
}

/**
 * `maxRetryAfter`: the longest wait the bucket may ask for (its window, for a bucket just emptied);
 * null for a cost above the capacity, which no wait makes fit: no `retry-after` then.
 */
function expectRateLimited(result: GraphQLResult<unknown>, bucket: 'points' | 'writes', maxRetryAfter: number | null) {
  expect({ status: result.status, codes: errorCodes(result), data: result.data }).toEqual({ status: 429, codes: ['RATE_LIMITED'], data: null });
  if (maxRetryAfter === null) {
    expect(result.errors![0]!.extensions).toMatchObject({ bucket, retryAfterSeconds: null });
    expect(result.headers.get('retry-after')).toBeNull();
  } else {
    const retryAfter = Number(result.headers.get('retry-after'));
    expect(result.errors![0]!.extensions).toMatchObject({ bucket, retryAfterSeconds: retryAfter });
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
  }
  // Nothing ran.
  expect(result.statements).toBe(0);
}

/**
 * `retry-after` is the whole seconds until the bucket holds the cost: `full` for a bucket spent at
 * once, less what flowed back since the first spend (after `began`), so within the seconds since.
 * A fixed window or another rate would answer outside.
 */
function expectRetryAfterWithin(result: GraphQLResult<unknown>, full: number, began: number) {
  const retryAfter = Number(result.headers.get('retry-after'));
  const elapsed = Math.ceil((Date.now() - began) / 1000);
  expect(retryAfter).toBeLessThanOrEqual(full);
  expect(retryAfter).toBeGreaterThanOrEqual(full - elapsed);
}

async function conversationOf(api: TestApi, user: FixtureUser): Promise<string> {
  const friend = await insertUser(api.database.pool, 'Friend');
  return toGlobalId('Conversation', await insertConversation(api.database.pool, { participants: [user.id, friend.id] }));
}

describe('with the default limits', () => {
  let api: TestApi;
  beforeAll(async () => {
    // Empty values stand for the defaults: the configuration a deployment gets.
    api = await startTestApi({ RATE_LIMIT_POINTS: '', RATE_LIMIT_WRITES: '', RATE_LIMIT_WINDOW_SECONDS: '' });
  });
  afterAll(() => api.close());

  it('says the budget in headers: 200,000 points and 60 writes, refilled over a minute', async () => {
    const user = await insertUser(api.database.pool, 'Reader');
    const before = Date.now();
    const result = await api.request('{ viewer { id } }', {}, { token: await api.tokenFor(user.id) });
    expect(result.status).toBe(200);
    const cost = (result.extensions!.cost as { requested: number }).requested;
    expect(result.headers.get('x-ratelimit-limit')).toBe('200000');
    expect(result.headers.get('x-ratelimit-remaining')).toBe(String(200_000 - cost));
    expect(result.headers.get('x-ratelimit-cost')).toBe(String(cost));
    // Full again once the cost has flowed back: 200,000 a minute, so well within a second (rounded up to one).
    const reset = Number(result.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000 + (cost * 60) / 200_000));
  });

  it('stops a flood of messages (XP farming) after 60 writes, and what flowed back meanwhile (one a second)', async () => {
    const author = await insertUser(api.database.pool, 'Farmer');
    const token = await api.tokenFor(author.id);
    const conversationId = await conversationOf(api, author);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 80 }, (_unused, index) => api.request(SEND, { input: { conversationId, body: `spam ${index}` } }, { token })),
    );
    const refilled = Math.floor((Date.now() - started) / 1000);
    const accepted = results.filter((result) => result.status === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(60);
    expect(accepted).toBeLessThanOrEqual(60 + refilled);
    expect(results.filter((result) => result.status === 429)).toHaveLength(80 - accepted);
    for (const refused of results.filter((result) => result.status === 429)) expectRateLimited(refused, 'writes', 60);
    expect(await messageCount(api, author.id)).toBe(accepted);
    expect(results.find((result) => result.status === 200)!.headers.get('x-ratelimit-writes-limit')).toBe('60');
  });
});

describe('with small limits', () => {
  const POINTS = 40;
  const WRITES = 3;
  // An hour to refill: a point flows back each 90 s, a write each 20 min, so no count below moves while the test runs.
  const WINDOW_SECONDS = 3_600;
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ RATE_LIMIT_POINTS: String(POINTS), RATE_LIMIT_WRITES: String(WRITES), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) });
  });
  afterAll(() => api.close());

  it('spends each operation’s cost, readable as Query.rateLimit, until the budget runs out; then 429', async () => {
    const user = await insertUser(api.database.pool, 'Spender');
    const token = await api.tokenFor(user.id);
    const began = Date.now();
    const first = await api.request<{ rateLimit: { limit: number; remaining: number; resetAt: string; cost: number } }>(RATE_LIMIT, {}, { token });
    const cost = (first.extensions!.cost as { requested: number }).requested;
    expect(first.data!.rateLimit).toMatchObject({ limit: POINTS, remaining: POINTS - cost, cost });
    // Full again once the cost has flowed back, at 90 s a point.
    const resetIn = Date.parse(first.data!.rateLimit.resetAt) - Date.now();
    expect(resetIn).toBeGreaterThan(cost * 90_000 - 5_000);
    expect(resetIn).toBeLessThanOrEqual(cost * 90_000);

    let spent = cost;
    let last: GraphQLResult<{ rateLimit: { remaining: number } }> | undefined;
    while (spent + cost <= POINTS) {
      last = await api.request(RATE_LIMIT, {}, { token });
      spent += cost;
      expect(last.status).toBe(200);
      expect(last.data!.rateLimit.remaining).toBe(POINTS - spent);
    }
    const refused = await api.request(RATE_LIMIT, {}, { token });
    expectRateLimited(refused, 'points', WINDOW_SECONDS);
    // The wait is until the missing points have flowed back, at 90 s a point (40 an hour), less what
    // flowed back since the first spend: within the seconds the test has taken.
    expectRetryAfterWithin(refused, (cost - (POINTS - spent)) * 90, began);
    // The refusal still says what the operation would have cost.
    expect(refused.extensions?.cost).toEqual({ requested: cost, limit: 50_000 });
    expect(refused.headers.get('x-ratelimit-remaining')).toBe(String(POINTS - spent));
    expect(refused.errors![0]!.message).toMatch(/Retry in \d+ s/);
  });

  it('takes nothing for a refused operation: a smaller one still runs', async () => {
    const user = await insertUser(api.database.pool, 'Frugal');
    const token = await api.tokenFor(user.id);
    // Each leaderboard row is counted (first × its fields): this one costs more than the whole budget.
    const expensive = await api.request('{ leaderboard(metric: XP, first: 50) { edges { node { rank value } } } }', {}, { token });
    // No wait would make it fit: no retry-after (a client honouring it would retry forever), and the message says so.
    expectRateLimited(expensive, 'points', null);
    expect(expensive.headers.get('x-ratelimit-remaining')).toBe(String(POINTS));
    expect(expensive.errors![0]!.message).toMatch(/more than the 40 points the budget holds when full\. Ask for less\./);
    const small = await api.request('{ viewer { id } }', {}, { token });
    expect(small.status).toBe(200);
    expect(Number(small.headers.get('x-ratelimit-remaining'))).toBe(POINTS - (small.extensions!.cost as { requested: number }).requested);
  });

  it('counts writes in their own bucket: the 4th mutation is refused while queries still run', async () => {
    const author = await insertUser(api.database.pool, 'Writer');
    const token = await api.tokenFor(author.id);
    const conversationId = await conversationOf(api, author);
    const began = Date.now();
    for (let index = 1; index <= WRITES; index += 1) {
      const sent = await api.request(SEND, { input: { conversationId, body: `hello ${index}` } }, { token });
      expect(sent.status).toBe(200);
      expect(sent.headers.get('x-ratelimit-writes-remaining')).toBe(String(WRITES - index));
    }
    const refused = await api.request(SEND, { input: { conversationId, body: 'one too many' } }, { token });
    expectRateLimited(refused, 'writes', WINDOW_SECONDS);
    expect(refused.errors![0]!.message).toMatch(/Too many writes/);
    // One write flows back each 20 minutes (3 an hour), less what flowed back since the first write.
    expectRetryAfterWithin(refused, 1_200, began);
    expect(await messageCount(api, author.id)).toBe(WRITES);
    expect((await api.request('{ viewer { id } }', {}, { token })).status).toBe(200);
  });

  it('keeps each viewer’s budget apart: one user’s flood does not limit another', async () => {
    const flooder = await insertUser(api.database.pool, 'Flooder');
    const bystander = await insertUser(api.database.pool, 'Bystander');
    const flooderToken = await api.tokenFor(flooder.id);
    const results = await Promise.all(Array.from({ length: 30 }, () => api.request('{ viewer { id } }', {}, { token: flooderToken })));
    expect(results.filter((result) => result.status === 429).length).toBeGreaterThan(0);
    const other = await api.request('{ viewer { id } }', {}, { token: await api.tokenFor(bystander.id) });
    expect(other.status).toBe(200);
    expect(other.data).toEqual({ viewer: { id: toGlobalId('User', bystander.id) } });
  });

  it('limits signed-out callers by network address', async () => {
    const query = '{ __typename }';
    let fromFirst = await requestFrom('127.0.0.3', api.url, query);
    for (let sent = 1; fromFirst.status === 200 && sent <= POINTS; sent += 1) fromFirst = await requestFrom('127.0.0.3', api.url, query);
    expect(fromFirst.status).toBe(429);
    expect(fromFirst.json.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(fromFirst.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const fromSecond = await requestFrom('127.0.0.4', api.url, query);
    expect(fromSecond.status).toBe(200);
    expect(fromSecond.headers['x-ratelimit-remaining']).toBe(String(POINTS - 1));
    // A signed-in user at the same address has a budget of their own.
    const user = await insertUser(api.database.pool, 'SameAddress');
    const signedIn = await requestFrom('127.0.0.3', api.url, query, { authorization: `Bearer ${await api.tokenFor(user.id)}` });
    expect(signedIn.status).toBe(200);
  });
});

describe('as the buckets refill', () => {
  bucketBehaviour((env) => startTestApi(env));
});

describe('RATE_LIMIT=off', () => {
  it('meters nothing and answers rateLimit with null', async () => {
    const api = await startTestApi({ RATE_LIMIT: 'off', RATE_LIMIT_POINTS: '1' });
    try {
      for (let index = 0; index < 3; index += 1) {
        const result = await api.request(RATE_LIMIT);
        expect(result).toMatchObject({ status: 200, data: { rateLimit: null } });
        expect(result.headers.get('x-ratelimit-limit')).toBeNull();
      }
    } finally {
      await api.close();
    }
  });
});
