// Read replicas against the real thing: a PostgreSQL primary of this file's
// own and a hot standby streaming from it (test/support/replica.ts), lag
// made on purpose by pausing the standby's replay. Reads go to the replica;
// a write's author reads it back at once on any instance, while others are
// still served the replica's older state; a replica behind by more than the
// bound, or stopped, is skipped and comes back; an answer read on a
// replica behind the last write (a request's, or the statistics refresh's)
// is never stored in the response cache, nor a row in the loader cache; and
// a subscriber gets every message while the replica is behind them.
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { startTestApi, type GraphQLResult, type TestApi } from '../support/api.js';
import { insertConversation, insertMessages, insertUser, refreshStats, type FixtureUser } from '../support/fixtures.js';
import { encodeCursor } from '../../src/graphql/relay/cursor.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { startStreamingReplica, type StreamingReplica } from '../support/replica.js';
import { collect, connect } from '../support/subscriptions.js';
import { waitFor } from '../support/wait-for.js';

const SEND = `mutation Send($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }`;
const ADDED = `subscription Added($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id body } }`;
const USER = `query User($id: ID!) { user(id: $id) { id displayName } }`;
const RENAME = `mutation Rename($name: String!) { updateProfile(input: { displayName: $name }) { user { id displayName } } }`;

type UserData = { user: { id: string; displayName: string } | null };

let replica: StreamingReplica;
let redisServer: OwnRedis;
const apis: TestApi[] = [];
const clients: Redis[] = [];
let namespace = 0;

beforeAll(async () => {
  [replica, redisServer] = await Promise.all([startStreamingReplica(), startOwnRedis()]);
}, 60_000);
afterAll(async () => {
  // The servers are stopped whatever failed before: nothing of this file outlives it.
  try {
    for (const api of apis) await api.close().catch(() => {});
    for (const client of clients) client.disconnect();
  } finally {
    await redisServer?.close();
    await replica?.close();
  }
}, 60_000);

/** A Redis client of the file's own server, with `prefix` (instances given the same one share their cache and write positions). */
async function redisClient(prefix: string): Promise<Redis> {
  const redis = createRedisClient({ url: redisServer.url, keyPrefix: prefix });
  clients.push(redis);
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/**
 * An API instance reading from the standby, its replicas read every 50 ms;
 * `redis`: a prefix shared with other instances (or none: positions and
 * cache in the process). Resolves once it has read the replica.
 */
async function instance(env: Record<string, string>, redis?: string): Promise<TestApi> {
  const api = await startTestApi(
    { DATABASE_REPLICA_URLS: replica.replicaUrl, DATABASE_REPLICA_POLL_MS: '50', DATABASE_REPLICA_MAX_LAG_MS: '60000', ...env },
    replica.database,
    { redis: redis === undefined ? undefined : await redisClient(redis) },
  );
  apis.push(api);
  await api.server.app.replicas!.refresh();
  return api;
}

const freshPrefix = () => `parley-replicas-test:${(namespace += 1)}:`;

/** Where the request's reads went (x-parley-read-from). */
const readFrom = (result: GraphQLResult<unknown>) => result.headers.get('x-parley-read-from');
const REPLICA = /^replica 127\.0\.0\.1:\d+$/;

async function readUser(api: TestApi, viewer: FixtureUser | undefined, user: FixtureUser, headers: Record<string, string> = {}) {
  const result = await api.request<UserData>(USER, { id: toGlobalId('User', user.id) }, { token: viewer && (await api.tokenFor(viewer.id)), headers });
  expect(result.errors).toBeUndefined();
  expect(result.status).toBe(200);
  return { name: result.data!.user!.displayName, from: readFrom(result), cache: result.headers.get('x-cache'), result };
}

async function rename(api: TestApi, user: FixtureUser, name: string) {
  const result = await api.request<{ updateProfile: { user: { displayName: string } } }>(RENAME, { name }, { token: await api.tokenFor(user.id) });
  expect(result.errors).toBeUndefined();
  return { name: result.data!.updateProfile.user.displayName, lsn: result.headers.get('x-parley-lsn'), from: readFrom(result), result };
}

async function metrics(api: TestApi): Promise<string> {
  return (await api.send({ method: 'GET', path: '/metrics' })).text;
}

/** Calls of each Redis command since the server started (INFO commandstats), on the file's own Redis. */
async function redisCalls(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries([...info.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/g)].map((match) => [match[1]!, Number(match[2])]));
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).flatMap(([name, calls]) => (calls - (before[name] ?? 0) > 0 ? [[name, calls - (before[name] ?? 0)]] : [])));
}

/** Users made on the primary, once the standby has them too. */
async function users<Names extends string[]>(...names: Names): Promise<{ [Index in keyof Names]: FixtureUser }> {
  const made: FixtureUser[] = [];
  for (const name of names) made.push(await insertUser(replica.database.pool, name));
  await replica.caughtUp();
  return made as { [Index in keyof Names]: FixtureUser };
}

afterEach(async () => {
  // Each test leaves the standby replaying.
  await replica.resumeReplay();
});

describe('read replicas', () => {
  it('serve queries; a mutation and its payload go to the primary; each costs the statements it costs without replicas, and one Redis call', async () => {
    const [author, reader] = await users('Ann', 'Rob');
    const prefix = freshPrefix();
    const api = await instance({ RATE_LIMIT: 'off', PERSISTED_QUERIES: 'off' }, prefix);
    const plain = await startTestApi({ RATE_LIMIT: 'off', PERSISTED_QUERIES: 'off' }, replica.database);
    apis.push(plain);
    const admin = await redisClient('');
    // The first read seeds the last write's position in this empty Redis.
    await readUser(api, reader, author);

    const before = await redisCalls(admin);
    const read = await readUser(api, reader, author);
    expect(read.from).toMatch(REPLICA);
    expect(read.name).toBe('Ann');
    // The same statements as on the primary alone (x-sql-statements counts the replica's too), and one MGET: the caller's last write and the last of anyone.
    const alone = await readUser(plain, reader, author);
    expect(alone.from).toBeNull();
    expect(read.result.statements).toBe(alone.result.statements);
    expect(difference(await redisCalls(admin), before)).toEqual({ mget: 1, info: 1 });
    // The standby really holds the instance's connections (the poller's and the request's).
    const connections = await replica.queryStandby<{ application: string }>(
      `SELECT DISTINCT application_name AS application FROM pg_stat_activity WHERE datname = 'parley' AND application_name LIKE 'parley%'`,
    );
    expect(connections.map((row) => row.application).sort()).toEqual(['parley-replica-poll', 'parley-test']);

    const written = await rename(api, author, 'Ann II');
    expect(written).toMatchObject({ name: 'Ann II', from: 'primary (write)', lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) });
    // One statement more than without replicas: the WAL position, read after COMMIT.
    const renamed = await plain.request(RENAME, { name: 'Ann III' }, { token: await plain.tokenFor(author.id) });
    expect(written.result.statements).toBe(renamed.statements + 1);

    const exported = await metrics(api);
    expect(exported).toMatch(/db_read_routing_total\{target="replica",replica="127\.0\.0\.1:\d+",reason=""\} 2\b/);
    expect(exported).toMatch(/db_read_routing_total\{target="primary",replica="",reason="write"\} 1\b/);
    expect(exported).toMatch(/db_replica_health\{replica="127\.0\.0\.1:\d+",state="up"\} 1\b/);
    expect(exported).toMatch(/db_replica_lag_seconds\{replica="127\.0\.0\.1:\d+"\} /);
  });

  it('show a write to its author at once on any instance, even with replay paused, while others read the replica’s older state', async () => {
    const [author, reader] = await users('Ada', 'Bob');
    const prefix = freshPrefix();
    const first = await instance({}, prefix);
    const second = await instance({}, prefix);
    expect((await readUser(second, reader, author)).from).toMatch(REPLICA);

    await replica.pauseReplay();
    const written = await rename(first, author, 'Ada Lovelace');
    expect(written).toMatchObject({ name: 'Ada Lovelace', from: 'primary (write)' });

    // The author, on the other instance, without sending anything: its last write is in Redis.
    expect(await readUser(second, author, author)).toMatchObject({ name: 'Ada Lovelace', from: 'primary (read-your-writes)' });
    // Someone else is served by the paused replica: the routing is real.
    expect(await readUser(second, reader, author)).toMatchObject({ name: 'Ada', from: expect.stringMatching(REPLICA) });
    // A client that sends the write's position back (x-parley-lsn) reads past it, signed in or not.
    expect(await readUser(second, reader, author, { 'x-parley-lsn': written.lsn! })).toMatchObject({
      name: 'Ada Lovelace',
      from: 'primary (read-your-writes)',
    });
    expect(await readUser(second, undefined, author, { 'x-parley-lsn': written.lsn! })).toMatchObject({ name: 'Ada Lovelace' });
    // A value that is no position is ignored.
    expect(await readUser(second, undefined, author, { 'x-parley-lsn': 'yesterday' })).toMatchObject({ name: 'Ada', from: expect.stringMatching(REPLICA) });

    await replica.resumeReplay();
    await replica.caughtUp();
    await second.server.app.replicas!.refresh();
    expect(await readUser(second, author, author)).toMatchObject({ name: 'Ada Lovelace', from: expect.stringMatching(REPLICA) });
    expect(await readUser(second, reader, author)).toMatchObject({ name: 'Ada Lovelace', from: expect.stringMatching(REPLICA) });
  });

  it('show a write to its author with no Redis, one instance keeping the positions', async () => {
    const [author] = await users('Cy');
    const api = await instance({});
    await replica.pauseReplay();
    expect(await rename(api, author, 'Cyrus')).toMatchObject({ name: 'Cyrus', from: 'primary (write)' });
    expect(await readUser(api, author, author)).toMatchObject({ name: 'Cyrus', from: 'primary (read-your-writes)' });
  });

  it('skip a replica behind by more than DATABASE_REPLICA_MAX_LAG_MS, and use it again once it has caught up', async () => {
    const [someone] = await users('Dee');
    const api = await instance({ DATABASE_REPLICA_MAX_LAG_MS: '300' });
    expect((await readUser(api, undefined, someone)).from).toMatch(REPLICA);

    await replica.pauseReplay();
    // Paused with nothing to replay, it is not behind anything.
    await api.server.app.replicas!.refresh();
    expect((await readUser(api, undefined, someone)).from).toMatch(REPLICA);
    // A write it cannot replay: once that write is older than the bound, the replica is skipped.
    await insertUser(replica.database.pool, 'Pending');
    await waitFor(async () => (await readUser(api, undefined, someone)).from === 'primary (lagging)', 'reads to leave the lagging replica');
    const [status] = api.server.app.replicas!.statuses;
    expect(status).toMatchObject({ health: 'lagging' });
    expect(status!.lagMs).toBeGreaterThan(300);
    expect(status!.lagBytes).toBeGreaterThan(0n);
    expect(await metrics(api)).toMatch(/db_replica_health\{replica="127\.0\.0\.1:\d+",state="lagging"\} 1\b/);

    await replica.resumeReplay();
    await waitFor(async () => REPLICA.test((await readUser(api, undefined, someone)).from ?? ''), 'reads to come back to the replica');
    expect(api.server.app.replicas!.statuses[0]).toMatchObject({ health: 'up', lagMs: 0 });
  });

  it('never store an answer read on a replica that has not replayed the write that dropped it', async () => {
    const [author, reader] = await users('Eve', 'Fay');
    const api = await instance({ RESPONSE_CACHE: 'on' }, freshPrefix());
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve', cache: 'MISS', from: expect.stringMatching(REPLICA) });
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve', cache: 'HIT' });

    // The race: the write commits and drops the cached answer; the replica
    // has not replayed it; a reader without the write's position misses and
    // is served the replica's older answer, which must not be stored.
    await replica.pauseReplay();
    expect(await rename(api, author, 'Eve Online')).toMatchObject({ name: 'Eve Online' });
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve', cache: 'MISS', from: expect.stringMatching(REPLICA) });
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve', cache: 'MISS', from: expect.stringMatching(REPLICA) });
    expect(await metrics(api)).toMatch(/db_replica_answers_not_stored_total 2\b/);

    // Once the replica has replayed the write, the new answer is read and stored: nothing older was kept.
    await replica.resumeReplay();
    await replica.caughtUp();
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve Online', cache: 'MISS' });
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Eve Online', cache: 'HIT' });
  });

  it('give a subscriber every message, replayed and live, while the replica is behind them', async () => {
    // Found by the cluster harness (test/system/cluster.test.ts): a
    // subscription's replay and the gaps its feed fills were read on a replica,
    // and a replica that had not replayed a message made the feed skip it for good.
    const [author, reader] = await users('Hal', 'Ida');
    const at = new Date(Date.now() - 60_000);
    const conversationId = await insertConversation(replica.database.pool, { participants: [author.id, reader.id], title: 'Live', createdAt: at });
    const [before] = await insertMessages(replica.database.pool, conversationId, [{ authorId: author.id, body: 'before', at }]);
    await replica.caughtUp();
    const api = await instance({});
    const conversation = toGlobalId('Conversation', conversationId);
    const send = async (body: string) => {
      const result = await api.request(SEND, { id: conversation, body }, { token: await api.tokenFor(author.id) });
      expect(result.errors).toBeUndefined();
    };

    await replica.pauseReplay();
    await send('while the reader was away');
    const live = connect(api.url, await api.tokenFor(reader.id));
    try {
      // Resumes after the message before: the one sent meanwhile is replayed, then the next comes live.
      const added = collect<{ messageAdded: { body: string } }>(live.client, ADDED, { id: conversation, after: encodeCursor({ at, id: before! }) });
      await waitFor(() => (api.server.app.realtimeActivity.subscriptions.get('messageAdded') ?? 0) > 0, 'the subscription to start');
      await send('once the reader was back');
      const results = await added.until(2);
      expect(results.map((result) => result.data?.messageAdded.body)).toEqual(['while the reader was away', 'once the reader was back']);
      expect(await metrics(api)).toMatch(/db_read_routing_total\{target="primary",replica="",reason="subscription"\} 1\b/);
    } finally {
      await live.dispose();
    }
  });

  it('never store a leaderboard read on a replica that has not replayed the refresh that dropped it', async () => {
    // Found beside the cluster harness: the statistics refresh, a write made
    // outside any request, dropped the cached leaderboards without raising the
    // last write's position, so a replica a moment behind refilled the cache
    // with the old figures, served until the next refresh (300 s by default).
    const api = await instance({ RESPONSE_CACHE: 'on' }, freshPrefix());
    const read = async () => {
      const result = await api.request<{ leaderboard: { refreshedAt: string } }>('{ leaderboard(metric: MESSAGES, first: 1) { refreshedAt } }');
      expect(result.errors).toBeUndefined();
      return { refreshedAt: result.data!.leaderboard.refreshedAt, cache: result.headers.get('x-cache'), from: readFrom(result) };
    };
    await refreshStats(replica.database.pool, api.server.app);
    await replica.caughtUp();
    await api.server.app.replicas!.refresh();
    const { refreshedAt: before } = await read();
    expect(await read()).toEqual({ refreshedAt: before, cache: 'HIT', from: null });

    // The refresh commits and drops the answer (as main.ts's refresh hook does); the replica has not replayed it.
    await replica.pauseReplay();
    await refreshStats(replica.database.pool, api.server.app);
    const lagging = { refreshedAt: before, cache: 'MISS', from: expect.stringMatching(REPLICA) };
    expect(await read()).toEqual(lagging);
    expect(await read()).toEqual(lagging);

    await replica.resumeReplay();
    await replica.caughtUp();
    await api.server.app.replicas!.refresh();
    const { refreshedAt: after } = await read();
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    expect(await read()).toEqual({ refreshedAt: after, cache: 'HIT', from: null });
  });

  it('never keep a loader value read on a replica that has not replayed the write that dropped it', async () => {
    const [author, reader] = await users('Gus', 'Hal');
    const api = await instance({ LOADER_CACHE: 'on' }, freshPrefix());
    // The first check on this Redis names its history of invalidations: that read keeps nothing, the next does.
    await readUser(api, reader, author);
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Gus', from: expect.stringMatching(REPLICA) });
    expect((await readUser(api, reader, author)).result.statements).toBe(0);

    // The race, as for the response cache: the write drops the kept row; the replica has not replayed it; a
    // reader without the write's position reads the replica's older row, which must not be kept.
    await replica.pauseReplay();
    expect(await rename(api, author, 'Gus Grissom')).toMatchObject({ name: 'Gus Grissom' });
    for (let read = 0; read < 2; read += 1) {
      const older = await readUser(api, reader, author);
      expect({ name: older.name, from: older.from, statements: older.result.statements }).toEqual({
        name: 'Gus',
        from: expect.stringMatching(REPLICA),
        statements: 1,
      });
    }

    // Once the replica has replayed the write, the new row is read and kept: nothing older was.
    await replica.resumeReplay();
    await replica.caughtUp();
    expect(await readUser(api, reader, author)).toMatchObject({ name: 'Gus Grissom' });
    const kept = await readUser(api, reader, author);
    expect({ name: kept.name, statements: kept.result.statements }).toEqual({ name: 'Gus Grissom', statements: 0 });
  });

  it('skip a replica that is stopped, with no request failing, and use it again once it is back', async () => {
    const [someone] = await users('Gil');
    // Read once a minute only: the poller has not seen the stop when the next request reads.
    const api = await instance({ DATABASE_REPLICA_POLL_MS: '60000' });
    expect((await readUser(api, undefined, someone)).from).toMatch(REPLICA);

    await replica.standby.stop();
    try {
      // Its statement fails on the replica and is sent to the primary; the replica is skipped from then on.
      expect(await readUser(api, undefined, someone)).toMatchObject({ name: 'Gil', from: 'primary (down)' });
      expect(api.server.app.replicas!.statuses[0]).toMatchObject({ health: 'down' });
      expect(await readUser(api, undefined, someone)).toMatchObject({ name: 'Gil', from: 'primary (down)' });
      expect(await metrics(api)).toMatch(/db_read_routing_total\{target="primary",replica="",reason="down"\} 2\b/);
    } finally {
      await replica.standby.start();
    }
    await api.server.app.replicas!.refresh();
    expect((await readUser(api, undefined, someone)).from).toMatch(REPLICA);
  });
});
