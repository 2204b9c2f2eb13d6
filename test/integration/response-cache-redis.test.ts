// The response cache on a Redis of this test's own (a redis-server on a free
// port, no persistence; never the shared one, which it stops, slows with
// DEBUG SLEEP and pauses with CLIENT PAUSE): two instances share it, Redis is
// slow, pauses, stops and comes back, the network to it is cut while it
// keeps its data. No request fails, no answer is stale after a write once
// Redis answers again, and the cache never sends KEYS or SCAN.
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { startTestApi, type GraphQLResult, type TestApi } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../support/fixtures.js';
import { blockStatsReaders, waitForBlockedStatsReaders } from '../support/refresh-blocker.js';
import { startOwnRedis, startTcpProxy, type OwnRedis, type TcpProxy } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const HISTORY = `query History($id: ID!) {
  conversation(id: $id) { title messages(first: 5) { edges { node { body } } } }
}`;
// The same history with each author's statistics: read after the messages,
// from user_stats_summary, which a test can hold (blockStatsReaders) while
// writes go on.
const HISTORY_WITH_STATS = `query HistoryWithStats($id: ID!) {
  conversation(id: $id) { title messages(first: 5) { edges { node { body author { stats { totalMessages } } } } } }
}`;
const SEND = `mutation ($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }`;

type Data = { conversation: { title: string; messages: { edges: { node: { body: string } }[] } } };

let ownRedis: OwnRedis;
let database: TestDatabase;
let admin: Redis;
const clients: Redis[] = [];
const apis: TestApi[] = [];

beforeAll(async () => {
  ownRedis = await startOwnRedis({ args: ['--enable-debug-command', 'local'] });
  database = await createTestDatabase();
  admin = createRedisClient({ url: ownRedis.url, commandTimeoutMs: 2_000 });
});
afterAll(async () => {
  for (const api of apis) await api.server.fastify.close();
  // Not twice: ioredis's disconnect of a closed client waits 2 s (its disconnectTimeout) for a close that already came.
  for (const client of [...clients, admin]) if (client.status !== 'end') client.disconnect();
  await database.close();
  await ownRedis.close();
});

/** A server instance on the shared test database whose cache lives in Redis at `url`; its log lines are kept. */
async function instance(url: string, env: Record<string, string> = {}): Promise<TestApi & { log: string[] }> {
  const redis = createRedisClient({ url });
  clients.push(redis);
  await new Promise((resolve) => redis.once('ready', resolve));
  const log: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean)));
  const api = await startTestApi({ RESPONSE_CACHE: 'on', LOG_LEVEL: 'info', ...env }, database, { redis, logStream: stream });
  apis.push(api);
  return Object.assign(api, { log });
}

async function conversation(name: string) {
  const users = [await insertUser(database.pool, `${name}A`), await insertUser(database.pool, `${name}B`)];
  const conversationId = await insertConversation(database.pool, { participants: users.map((user) => user.id), title: name });
  await insertMessages(database.pool, conversationId, [{ authorId: users[1]!.id, body: 'before', at: new Date(Date.now() - 60_000) }]);
  return { users, id: toGlobalId('Conversation', conversationId) };
}

async function read(api: TestApi, user: FixtureUser, id: string, document = HISTORY): Promise<GraphQLResult<Data>> {
  const result = await api.request<Data>(document, { id }, { token: await api.tokenFor(user.id) });
  expect(result.status).toBe(200);
  expect(result.errors).toBeUndefined();
  return result;
}

const newest = (result: GraphQLResult<Data>) => result.data!.conversation.messages.edges[0]!.node.body;
/** The newest message of an answer and its x-cache, side by side (a failure shows both). */
const answered = (result: GraphQLResult<Data>) => ({ newest: newest(result), cache: result.headers.get('x-cache') });

async function send(api: TestApi, user: FixtureUser, id: string, body: string) {
  const result = await api.request(SEND, { id, body }, { token: await api.tokenFor(user.id) });
  expect(result.status).toBe(200);
  expect(result.errors).toBeUndefined();
}

/** Reads until the answer comes from the cache again (Redis is back and the client reconnected). */
async function untilHit(api: TestApi, user: FixtureUser, id: string): Promise<GraphQLResult<Data>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await read(api, user, id);
    if (result.headers.get('x-cache') === 'HIT') return result;
    if (Date.now() > deadline) throw new Error('the cache did not serve a HIT again within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Pauses every client of this Redis (CLIENT PAUSE … ALL: reads, writes and
 * scripts wait in Redis, connections stay up) for `ms`; `answering`
 * resolves when it runs commands again (a PING sent on the pausing
 * connection, which waits too).
 */
async function pauseRedis(ms: number): Promise<{ answering: Promise<unknown> }> {
  const pauser = createRedisClient({ url: ownRedis.url, commandTimeoutMs: ms + 10_000 });
  clients.push(pauser);
  if (pauser.status !== 'ready') await once(pauser, 'ready');
  await pauser.call('CLIENT', 'PAUSE', String(ms), 'ALL');
  return { answering: pauser.ping() };
}

const errorsOf = (api: TestApi) => api.server.app.responseCache!.counters.errors;

/** The commands this Redis has run since it started: never KEYS or SCAN, and the cache's own commands (so the check is not vacuous). */
async function expectNoKeysOrScan() {
  // After a restart of this Redis, the admin client (no offline queue) may still be reconnecting.
  if (admin.status !== 'ready') await once(admin, 'ready');
  const stats = await admin.info('commandstats');
  expect(stats).toMatch(/cmdstat_mget:/);
  expect(stats).toMatch(/cmdstat_(evalsha|eval):/);
  expect(stats).not.toMatch(/cmdstat_keys:/);
  expect(stats).not.toMatch(/cmdstat_scan:/);
}

it('two instances on one Redis: a write through A makes B’s next read fresh', async () => {
  const [a, b] = [await instance(ownRedis.url), await instance(ownRedis.url)];
  const { users, id } = await conversation('TwoInstances');
  expect((await read(b, users[0]!, id)).headers.get('x-cache')).toBe('MISS');
  // Answers are stored after they are sent: wait for the store before asking again.
  await b.server.app.responseCache!.drain();
  const cached = await read(b, users[0]!, id);
  expect(cached.headers.get('x-cache')).toBe('HIT');
  // A computed nothing yet, and still finds B's answer: the store is shared.
  expect((await read(a, users[0]!, id)).headers.get('x-cache')).toBe('HIT');

  await send(a, users[1]!, id, 'through A');
  const fresh = await read(b, users[0]!, id);
  expect(fresh.headers.get('x-cache')).toBe('MISS');
  expect(newest(fresh)).toBe('through A');
  await expectNoKeysOrScan();
});

it('Redis slow to run a write’s invalidation: the write waits for it, the other instance reads the write, no other answer is voided', async () => {
  const [a, b] = [await instance(ownRedis.url), await instance(ownRedis.url)];
  const written = await conversation('SlowWrite');
  const untouched = await conversation('SlowUntouched');
  await read(b, written.users[0]!, written.id);
  await read(a, untouched.users[0]!, untouched.id);
  await Promise.all([a, b].map((api) => api.server.app.responseCache!.drain()));
  expect((await read(b, written.users[0]!, written.id)).headers.get('x-cache')).toBe('HIT');
  expect((await read(b, untouched.users[0]!, untouched.id)).headers.get('x-cache')).toBe('HIT');
  const errorsBefore = a.server.app.responseCache!.counters.errors;

  // Redis sleeps 300 ms, six times the cache's 50 ms deadline, while the write commits and invalidates.
  const slept = admin.call('DEBUG', 'SLEEP', '0.3');
  await new Promise((resolve) => setTimeout(resolve, 30));
  const started = Date.now();
  await send(a, written.users[1]!, written.id, 'while Redis was slow');
  // The write waited for its invalidation (so the test saw a slow one).
  expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  await slept;

  const fresh = await read(b, written.users[0]!, written.id);
  expect(fresh.headers.get('x-cache')).toBe('MISS');
  expect(newest(fresh)).toBe('while Redis was slow');
  // Not voided: answers the write did not touch are still served, by both instances.
  for (const api of [a, b]) expect((await read(api, untouched.users[0]!, untouched.id)).headers.get('x-cache')).toBe('HIT');
  expect(a.server.app.responseCache!.counters.errors).toBe(errorsBefore);
  await expectNoKeysOrScan();
});

it('Redis stopped mid-test: no request fails, writes still show, the outage is logged once, caching resumes when it is back', async () => {
  const api = await instance(ownRedis.url);
  const { users, id } = await conversation('Outage');
  await read(api, users[0]!, id);
  await api.server.app.responseCache!.drain();
  expect((await read(api, users[0]!, id)).headers.get('x-cache')).toBe('HIT');
  await expectNoKeysOrScan();
  const errorsBefore = api.server.app.responseCache!.counters.errors;

  await ownRedis.stop();
  for (const body of ['while down 1', 'while down 2']) {
    await send(api, users[1]!, id, body);
    for (const user of users) {
      const result = await read(api, user, id);
      expect(result.headers.get('x-cache')).toBe('MISS');
      expect(newest(result)).toBe(body);
    }
  }
  expect(api.server.app.responseCache!.counters.errors).toBeGreaterThan(errorsBefore);
  expect(api.log.filter((line) => line.includes('response cache unavailable'))).toHaveLength(1);

  await ownRedis.start();
  const back = await untilHit(api, users[0]!, id);
  expect(newest(back)).toBe('while down 2');
  expect(api.log.filter((line) => line.includes('response cache available again'))).toHaveLength(1);
  await send(api, users[1]!, id, 'after');
  expect(newest(await read(api, users[0]!, id))).toBe('after');
  await expectNoKeysOrScan();
});

describe('the network to Redis cut while Redis keeps its data', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(ownRedis.port);
  });
  afterAll(async () => {
    // The instances behind it first: a connection the proxy cut, then disconnected, keeps the process 2 s (ioredis's disconnectTimeout).
    for (const client of clients) if (client.options.port !== ownRedis.port) client.disconnect();
    await proxy.close();
  });

  it('a write whose invalidation was lost is never answered with the answer from before it', async () => {
    const api = await instance(proxy.url);
    const other = await instance(ownRedis.url);
    const { users, id } = await conversation('Partition');
    await read(api, users[0]!, id);
    await api.server.app.responseCache!.drain();
    expect((await read(api, users[0]!, id)).headers.get('x-cache')).toBe('HIT');

    proxy.cut();
    // The write commits; its invalidation cannot reach Redis, where the old answer stays.
    await send(api, users[1]!, id, 'during the cut');
    expect(newest(await read(api, users[0]!, id))).toBe('during the cut');

    proxy.restore();
    const back = await untilHit(api, users[0]!, id);
    expect(newest(back)).toBe('during the cut');
    // The instance that never lost Redis reads the fresh answer too.
    expect(newest(await read(other, users[0]!, id))).toBe('during the cut');
    await expectNoKeysOrScan();
  });

  it('once the instance that lost an invalidation reaches Redis again, the other instance stops serving the old answer, with no request through the first', async () => {
    const api = await instance(proxy.url);
    const other = await instance(ownRedis.url);
    const { users, id } = await conversation('PartitionOther');
    await read(other, users[0]!, id);
    await other.server.app.responseCache!.drain();
    expect((await read(other, users[0]!, id)).headers.get('x-cache')).toBe('HIT');
    const floor = await admin.get('parley:cache:floor');

    proxy.cut();
    await send(api, users[1]!, id, 'during the cut, seen by the other');
    // While the cut lasts, nothing can tell the other instance of the write: it may serve the old answer.
    proxy.restore();
    // The instance that lost the invalidation raises the floor by itself once it is connected again …
    await waitFor(async () => (await admin.get('parley:cache:floor')) !== floor, 'the floor to rise', 10_000);
    // … which voids the old answer for every instance.
    expect(answered(await read(other, users[0]!, id))).toEqual({ newest: 'during the cut, seen by the other', cache: 'MISS' });
  });
});

describe('Redis paused (CLIENT PAUSE): after a write has returned, no answer from before it once Redis answers again', () => {
  it('a read whose lookup timed out never joins an identical one that started before a write through another instance', async () => {
    // Through the resolvers: a read of several statements, the write falling
    // between two of them (a compiled read is one statement, one snapshot).
    const [a, b] = [await instance(ownRedis.url), await instance(ownRedis.url, { SQL_READS: 'false' })];
    const { users, id } = await conversation('InFlight');
    const view = await blockStatsReaders(database.url);
    try {
      // Redis paused: B's lookup gives up after 50 ms (the invalidation
      // state is unknown) and its operation runs: it reads the messages,
      // then waits on the statistics view.
      let paused = await pauseRedis(1_000);
      const errorsBefore = errorsOf(b);
      const first = read(b, users[0]!, id, HISTORY_WITH_STATS);
      await waitForBlockedStatsReaders(database.pool, 1);
      expect(errorsOf(b)).toBeGreaterThan(errorsBefore);
      await paused.answering;

      // Meanwhile a write through A returns: Redis ran its invalidation.
      await send(a, users[1]!, id, 'through A');

      // Redis paused again: the identical read sent to B now cannot look up either.
      paused = await pauseRedis(1_000);
      const errorsMidway = errorsOf(b);
      const second = read(b, users[0]!, id, HISTORY_WITH_STATS);
      // Both of its lookups (before Apollo Server, then inside it) gave up: B has joined the first read or run its own.
      await waitFor(() => errorsOf(b) >= errorsMidway + 2, 'the second read’s lookups to give up');
      await paused.answering;
      await view.release();

      const [before, after] = await Promise.all([first, second]);
      // Not vacuous: the first read had read the messages before the write.
      expect(newest(before)).toBe('before');
      expect(answered(after)).toEqual({ newest: 'through A', cache: 'MISS' });
    } finally {
      await view.release();
    }
  });

  it('an invalidation lost to the pause: once Redis answers, the other instance stops serving the old answer, with no request through the one that lost it', async () => {
    const [a, b] = [await instance(ownRedis.url), await instance(ownRedis.url)];
    const { users, id } = await conversation('LostInPause');
    await read(b, users[0]!, id);
    await b.server.app.responseCache!.drain();
    expect((await read(b, users[0]!, id)).headers.get('x-cache')).toBe('HIT');
    const errorsBefore = errorsOf(a);

    // Longer than a write waits for its invalidation (1 s): the write returns, its invalidation lost.
    const paused = await pauseRedis(2_500);
    await send(a, users[1]!, id, 'while Redis paused');
    expect(errorsOf(a)).toBeGreaterThan(errorsBefore);
    await paused.answering;

    // From here on, nothing goes through A.
    expect(answered(await read(b, users[0]!, id))).toEqual({ newest: 'while Redis paused', cache: 'MISS' });
    // Not voided for good: B caches again.
    expect(newest(await untilHit(b, users[0]!, id))).toBe('while Redis paused');
    await expectNoKeysOrScan();
  });
});
