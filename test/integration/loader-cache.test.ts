// The loader cache (cache/loader-cache.ts), as clients see it: what a read
// costs in SQL statements and Redis round trips, cold, unchanged and after
// one write; every kind of write, made through a second instance sharing
// Redis, drops what it changed from the first instance's loader cache; what
// is read for one viewer is never answered to another. Answers are compared
// with those of a server without the cache, on the same database, whose
// reads go through the resolvers (SQL_READS=false): the statements of a cold
// read are the loaders'. The instances the writes are checked on compile
// their inbox into SQL, its conversations kept apart in the loader cache
// (sql-read-parts.test.ts); the others count the loaders (SQL_READS=false).
import { randomBytes } from 'node:crypto';
import { InboxDocument } from '../../src/generated/graphql/operations.js';
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { once } from 'node:events';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../support/api.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../support/database.js';
import {
  insertConversation,
  insertInbox,
  insertMessages,
  insertUser,
  refreshStats,
  setLastRead,
  type FixtureUser,
  type InboxFixture,
} from '../support/fixtures.js';
import { startOwnRedis, startTcpProxy, type OwnRedis, type TcpProxy } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

// Every loader of the cache: the conversation, its participants, unread
// count, last message, a page of messages with their count, the authors
// and their statistics.
const HISTORY = `query History($id: ID!) {
  conversation(id: $id) {
    id title kind unreadCount
    participants { id displayName xp }
    lastMessage { id body editedAt author { displayName xp } }
    messages(first: 10) { totalCount edges { node { id body editedAt author { id displayName xp stats { totalMessages } } } } }
  }
}`;
// The viewer, their inbox page and its count.
const INBOX = `query {
  viewer {
    displayName xp email
    conversations(first: 10) {
      totalCount
      edges { node { id title unreadCount participants { displayName } lastMessage { body author { displayName } } recentMessages(first: 5) { body } } }
    }
  }
}`;
// A message by node id: visibleMessageById.
const MESSAGE = `query Message($id: ID!) { node(id: $id) { ... on Message { id body editedAt author { displayName } conversation { title } } } }`;
const PROFILE = `query Profile($id: ID!) { user(id: $id) { displayName email xp } }`;

/** The shared Redis under a prefix of this file's own, as one instance's client (several with the same prefix: instances sharing it). */
function redisClient(prefix: string, clients: Redis[]): Redis {
  const client = createRedisClient({ url: testRedisUrl(), keyPrefix: prefix, commandTimeoutMs: 1_000 });
  clients.push(client);
  return client;
}

/** What a client sees of an answer: its data and its error codes. */
const seen = (result: GraphQLResult<unknown>) => ({ data: result.data, codes: errorCodes(result) });

interface Group {
  a: FixtureUser;
  b: FixtureUser;
  c: FixtureUser;
  conversationId: number;
  messageIds: string[];
}

/** A group of a, b and c with messages by b and c that a has not read; the statistics refreshed (and dropped from `caches`). */
async function group(pool: TestDatabase['pool'], caches: TestApi, name: string): Promise<Group> {
  const [a, b, c] = [await insertUser(pool, `${name}A`), await insertUser(pool, `${name}B`), await insertUser(pool, `${name}C`)];
  const conversationId = await insertConversation(pool, { participants: [a.id, b.id, c.id], title: name });
  const start = Date.now() - 60 * 60_000;
  const messageIds = await insertMessages(
    pool,
    conversationId,
    [b, c, b].map((author, index) => ({ authorId: author.id, body: `${name} ${index}`, at: new Date(start + index * 60_000) })),
  );
  await refreshStats(pool, caches.server.app);
  return { a, b, c, conversationId, messageIds };
}

const as = async (api: TestApi, user: FixtureUser, query: string, variables: Record<string, unknown> = {}) =>
  api.request(query, variables, { token: await api.tokenFor(user.id) });

/** What a reads of the group: the history, the inbox, the last message by id, the profile of b. */
const reads = (g: Group) =>
  [
    [HISTORY, { id: toGlobalId('Conversation', g.conversationId) }],
    [INBOX, {}],
    [MESSAGE, { id: toGlobalId('Message', g.messageIds.at(-1)!) }],
    [PROFILE, { id: toGlobalId('User', g.b.id) }],
  ] as const;

async function readAll(api: TestApi, user: FixtureUser, g: Group) {
  const results = [];
  for (const [query, variables] of reads(g)) results.push(await as(api, user, query, variables));
  return results;
}

/**
 * Reads twice: the second reading comes from the loader cache alone (so a
 * stale value would show). Where the instance compiles reads into SQL
 * (SQL_READS), the history is read again in its one statement, and the
 * inbox's main statement (the viewer, the page's order), its conversations
 * coming from the cache.
 */
async function warm(api: TestApi, g: Group) {
  const before = await readAll(api, g.a, g);
  for (const result of before) expect(result.errors).toBeUndefined();
  // A store new to this file names its history of invalidations at its first
  // check, and nothing read before that is kept: read once more.
  await readAll(api, g.a, g);
  const again = await readAll(api, g.a, g);
  expect(again.map((result) => result.statements)).toEqual(warmStatements(api));
  expect(again.map(seen)).toEqual(before.map(seen));
  return before;
}

/** The statements of readAll's reads from a warm loader cache: HISTORY, INBOX, MESSAGE, PROFILE. */
const warmStatements = (api: TestApi) => (api.server.app.config.sqlReads ? [1, 1, 0, 0] : [0, 0, 0, 0]);

async function sendAs(api: TestApi, user: FixtureUser, conversationId: number, body: string) {
  const result = await as(api, user, 'mutation ($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }', {
    id: toGlobalId('Conversation', conversationId),
    body,
  });
  expect(result.errors).toBeUndefined();
}

/** Stops an instance that shares its database with others. */
async function stop(api: TestApi): Promise<void> {
  await api.server.fastify.close();
  await api.server.app.close();
}

describe('the reference inbox (50 conversations × 20 messages)', () => {
  let database: TestDatabase;
  let inbox: InboxFixture;
  let viewerToken: string;
  /** Without any cache: what is true. */
  let truth: TestApi;
  const clients: Redis[] = [];
  // The Redis commands each instance sent, by name: one a round trip (reads send no pipelines).
  const sentBy = new Map<TestApi, string[]>();

  /** An instance on the shared database whose Redis client (under a prefix of its own) records the commands it sends. Rate limits off: what is counted is the caches' round trips. */
  async function instance(env: Record<string, string>): Promise<TestApi> {
    const client = redisClient(`parley-test:${randomBytes(6).toString('hex')}:`, clients);
    const sent: string[] = [];
    const sendCommand = client.sendCommand.bind(client);
    client.sendCommand = (command: { name: string }, stream?: unknown) => {
      sent.push(command.name);
      return sendCommand(command as never, stream as never);
    };
    const api = await startTestApi({ RATE_LIMIT: 'off', SQL_READS: 'false', ...env }, database, { redis: client });
    sentBy.set(api, sent);
    return api;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    inbox = await insertInbox(database.pool, { conversations: 50, messagesEach: 25 });
    truth = await startTestApi({ SQL_READS: 'false' }, database);
    viewerToken = await truth.tokenFor(inbox.viewer.id);
  });
  afterAll(async () => {
    for (const api of sentBy.keys()) await stop(api);
    await truth.close();
    for (const client of clients) client.disconnect();
  });

  /**
   * Reads the client's Inbox operation once the instance's stores of earlier
   * answers are done (as a client's next request comes after them): its
   * statements, its x-cache, the Redis commands it sent (its own store
   * included), the keys the loader cache missed, by loader; and checks the
   * answer is the truth.
   */
  async function readInbox(api: TestApi) {
    const { responseCache, loaderCache } = api.server.app;
    await responseCache?.drain();
    const sent = sentBy.get(api)!;
    sent.length = 0;
    const misses = new Map(loaderCache?.counters.misses);
    const result = await api.request(InboxDocument, { conversations: 50, messages: 20 }, { token: viewerToken });
    expect(result.errors).toBeUndefined();
    expect(result.data!.viewer!.conversations!.edges).toHaveLength(50);
    expect(result.data).toEqual((await truth.request(InboxDocument, { conversations: 50, messages: 20 }, { token: viewerToken })).data);
    await responseCache?.drain();
    const missed: Record<string, number> = {};
    for (const [loader, count] of loaderCache?.counters.misses ?? []) if (count > (misses.get(loader) ?? 0)) missed[loader] = count - (misses.get(loader) ?? 0);
    return { result, statements: result.statements, cache: result.headers.get('x-cache'), redis: [...sent], missed };
  }

  const send = (api: TestApi, user: FixtureUser, conversationId: number) => sendAs(api, user, conversationId, 'one more');

  it('costs 8 statements cold, none unchanged, and after one message only what it changed: the inbox order and that conversation', async () => {
    const api = await instance({ RESPONSE_CACHE: 'on', LOADER_CACHE: 'on' });
    // Once per Redis: its history of invalidations is named (a check made now names it).
    await api.request('{ viewer { id } }', {}, { token: viewerToken });
    const cold = await readInbox(api);
    expect({ statements: cold.statements, cache: cold.cache }).toEqual({ statements: 8, cache: 'MISS' });
    // The response cache's lookup and store (the document is new to the instance: one lookup), and a check of
    // the viewer's row, kept by the request before; later waves found nothing kept, and checked nothing.
    expect(cold.redis).toEqual(['mget', 'mget', 'evalsha']);
    // Unchanged: the response cache answers.
    const hit = await readInbox(api);
    expect({ statements: hit.statements, cache: hit.cache, redis: hit.redis }).toEqual({ statements: 0, cache: 'HIT', redis: ['mget'] });

    // A friend sends a message to the 10th conversation: the response cache dropped the inbox.
    await send(api, inbox.others[18]!, inbox.conversationIds[9]!);
    const after = await readInbox(api);
    expect(after.cache).toBe('MISS');
    // The inbox page, and the changed conversation's participants, unread count, last message and page: one key each.
    expect(after.missed).toEqual({
      inboxPage: 1,
      participantsByConversation: 1,
      unreadCountByConversation: 1,
      lastMessageByConversation: 1,
      messagesByConversation: 1,
    });
    expect(after.statements).toBe(5);
    expect(after.result.data!.viewer!.conversations!.edges[0]!.node.recentMessages[0]!.body).toBe('one more');
    // The response cache's lookups (before Apollo Server, and in it) and store, and one check per wave of
    // loaders: the viewer; its statistics and inbox page; the conversations' fields. The authors' statistics
    // are judged by the second check's reading of Stats (the viewer's statistics): no round trip.
    expect(after.redis).toEqual(['mget', 'mget', 'mget', 'mget', 'mget', 'evalsha']);

    // The viewer's own message: their own row changed too (XP).
    await send(api, inbox.viewer, inbox.conversationIds[20]!);
    const own = await readInbox(api);
    expect(own.missed).toEqual({
      userById: 1,
      inboxPage: 1,
      participantsByConversation: 1,
      unreadCountByConversation: 1,
      lastMessageByConversation: 1,
      messagesByConversation: 1,
    });
    expect(own.statements).toBe(6);

    // Another user's profile: their row only, read once for every value that holds it (participants, authors).
    const renamed = await as(api, inbox.others[40]!, 'mutation { updateProfile(input: { displayName: "Renamed" }) { user { id } } }');
    expect(renamed.errors).toBeUndefined();
    const profile = await readInbox(api);
    expect({ statements: profile.statements, missed: profile.missed, redis: profile.redis }).toEqual({
      statements: 1,
      missed: { userById: 1 },
      redis: ['mget', 'mget', 'mget', 'mget', 'mget', 'evalsha'],
    });
  });

  it('costs no statement with the response cache off when nothing changed', async () => {
    const api = await instance({ LOADER_CACHE: 'on' });
    expect((await readInbox(api)).statements).toBe(8);
    const unchanged = await readInbox(api);
    expect({ statements: unchanged.statements, redis: unchanged.redis }).toEqual({ statements: 0, redis: ['mget', 'mget', 'mget'] });
    expect(api.server.app.loaderCache!.counters.hits.get('messagesByConversation')).toBe(50);
    // The same counters, on /metrics.
    const metrics = (await api.send({ method: 'GET', path: '/metrics' })).text;
    expect(metrics).toContain('loader_cache_hits_total{loader="messagesByConversation"} 50');
    expect(metrics).toContain('loader_cache_misses_total{loader="messagesByConversation"} 50');
    expect(metrics).toMatch(/^loader_cache_checks_total \d+$/m);
    expect(metrics).toMatch(/^loader_cache_errors_total 0$/m);
    const bytes = Number(/^loader_cache_bytes (\d+)$/m.exec(metrics)?.[1]);
    expect(bytes).toBe(api.server.app.loaderCache!.counters.bytes);
    expect(bytes).toBeGreaterThan(100_000);
    expect(metrics).toMatch(/^loader_cache_entries \d+$/m);
  });

  // What the figures above compare with: the response cache alone.
  it('costs 8 statements at every miss without the loader cache', async () => {
    const api = await instance({ RESPONSE_CACHE: 'on', LOADER_CACHE: 'off' });
    const cold = await readInbox(api);
    expect({ statements: cold.statements, redis: cold.redis }).toEqual({ statements: 8, redis: ['mget', 'evalsha'] });
    await send(api, inbox.others[30]!, inbox.conversationIds[15]!);
    const after = await readInbox(api);
    expect({ statements: after.statements, cache: after.cache, redis: after.redis }).toEqual({
      statements: 8,
      cache: 'MISS',
      redis: ['mget', 'mget', 'evalsha'],
    });
  });
});

describe('each kind of write, through a second instance sharing Redis', () => {
  let database: TestDatabase;
  /** The instance whose loader cache is checked. */
  let reader: TestApi;
  /** The instance the writes go through. */
  let writer: TestApi;
  /** A server without the loader cache, on the same database: what is true. */
  let truth: TestApi;
  const clients: Redis[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const prefix = `parley-test:${randomBytes(6).toString('hex')}:`;
    // The response cache off: whatever is answered comes through the loaders.
    reader = await startTestApi({ LOADER_CACHE: 'on' }, database, { redis: redisClient(prefix, clients) });
    writer = await startTestApi({ LOADER_CACHE: 'on' }, database, { redis: redisClient(prefix, clients) });
    truth = await startTestApi({ SQL_READS: 'false' }, database);
  });
  afterAll(async () => {
    for (const api of [reader, writer]) await api.server.fastify.close();
    await truth.close();
    for (const client of clients) client.disconnect();
  });

  const mutation = (api: TestApi, user: FixtureUser, document: string, input: Record<string, unknown>) => async () => {
    const result = await as(api, user, document, { input });
    expect(result.errors).toBeUndefined();
  };

  const WRITES: [string, (g: Group) => () => Promise<void>][] = [
    [
      'sendMessage',
      (g) =>
        mutation(writer, g.b, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }', {
          conversationId: toGlobalId('Conversation', g.conversationId),
          body: 'sent through the other instance',
        }),
    ],
    [
      'editMessage',
      (g) =>
        mutation(writer, g.b, 'mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }', {
          messageId: toGlobalId('Message', g.messageIds.at(-1)!),
          body: 'edited through the other instance',
        }),
    ],
    [
      'markConversationRead',
      (g) =>
        mutation(writer, g.a, 'mutation ($input: MarkConversationReadInput!) { markConversationRead(input: $input) { conversation { id } } }', {
          conversationId: toGlobalId('Conversation', g.conversationId),
        }),
    ],
    [
      'createConversation',
      (g) =>
        mutation(writer, g.b, 'mutation ($input: CreateConversationInput!) { createConversation(input: $input) { conversation { id } } }', {
          participantIds: [toGlobalId('User', g.a.id)],
          title: 'a new group',
        }),
    ],
    [
      'leaveConversation (another participant)',
      (g) =>
        mutation(writer, g.c, 'mutation ($input: LeaveConversationInput!) { leaveConversation(input: $input) { conversationId } }', {
          conversationId: toGlobalId('Conversation', g.conversationId),
        }),
    ],
    [
      'leaveConversation (the reader: the conversation and its messages are gone for them)',
      (g) =>
        mutation(writer, g.a, 'mutation ($input: LeaveConversationInput!) { leaveConversation(input: $input) { conversationId } }', {
          conversationId: toGlobalId('Conversation', g.conversationId),
        }),
    ],
    [
      'renameConversation',
      (g) =>
        mutation(writer, g.c, 'mutation ($input: RenameConversationInput!) { renameConversation(input: $input) { conversation { id } } }', {
          conversationId: toGlobalId('Conversation', g.conversationId),
          title: 'renamed through the other instance',
        }),
    ],
    [
      'updateProfile',
      (g) =>
        mutation(writer, g.b, 'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }', {
          displayName: 'Renamed B',
        }),
    ],
    [
      'updateProfile (the reader: their own email and name)',
      (g) =>
        mutation(writer, g.a, 'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }', {
          displayName: 'Renamed A',
        }),
    ],
  ];

  it.each(WRITES)('%s drops what it changed', async (name, write) => {
    const g = await group(database.pool, writer, name.split(' ')[0]!);
    const before = await warm(reader, g);

    await write(g)();

    const after = await readAll(reader, g.a, g);
    const expected = await readAll(truth, g.a, g);
    expect(after.map(seen)).toEqual(expected.map(seen));
    // The write changed what the reader reads (the check above is not vacuous).
    expect(after.map(seen)).not.toEqual(before.map(seen));
  });
});

describe('what is read for one viewer', () => {
  let api: TestApi;
  let truth: TestApi;
  let redis: Redis;
  let a: FixtureUser;
  let b: FixtureUser;
  let outsider: FixtureUser;
  let conversationId: number;
  let messageIds: string[];

  beforeAll(async () => {
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: `parley-test:${randomBytes(6).toString('hex')}:`, commandTimeoutMs: 1_000 });
    // The resolvers' loaders (sql-read-parts.test.ts holds compiled reads to the same).
    api = await startTestApi({ LOADER_CACHE: 'on', SQL_READS: 'false' }, undefined, { redis });
    truth = await startTestApi({ SQL_READS: 'false' }, { ...api.database, close: async () => {} });
    const pool = api.database.pool;
    [a, b, outsider] = [await insertUser(pool, 'PrivateA'), await insertUser(pool, 'PrivateB'), await insertUser(pool, 'Outsider')];
    conversationId = await insertConversation(pool, { participants: [a.id, b.id], title: 'private' });
    const start = Date.now() - 60 * 60_000;
    messageIds = await insertMessages(
      pool,
      conversationId,
      [a, b, b].map((author, index) => ({ authorId: author.id, at: new Date(start + index * 60_000) })),
    );
    // a has read nothing (2 unread, by b), b everything (0).
    await setLastRead(pool, conversationId, b.id, new Date());
    await refreshStats(pool);
  });
  afterAll(async () => {
    await truth.close();
    await api.close();
    redis.disconnect();
  });

  it('is answered to that viewer only: unread counts, visibility, the inbox, email', async () => {
    const history = { id: toGlobalId('Conversation', conversationId) };
    const message = { id: toGlobalId('Message', messageIds[0]!) };
    // a reads everything, twice: all kept.
    for (let round = 0; round < 2; round += 1) {
      for (const [query, variables] of [
        [HISTORY, history],
        [INBOX, {}],
        [MESSAGE, message],
        [PROFILE, { id: toGlobalId('User', a.id) }],
      ] as const) {
        const result = await as(api, a, query, variables);
        expect(result.errors).toBeUndefined();
        if (round === 1) expect(result.statements).toBe(0);
      }
    }
    expect((await as(api, a, HISTORY, history)).data).toMatchObject({ conversation: { unreadCount: 2 } });

    // b reads the same: the conversation's page, participants and users are shared (kept for a), the
    // conversation as b sees it and b's unread count are b's own.
    const misses = new Map(api.server.app.loaderCache!.counters.misses);
    const bHistory = await as(api, b, HISTORY, history);
    expect(bHistory.data).toMatchObject({ conversation: { unreadCount: 0 } });
    expect(seen(bHistory)).toEqual(seen(await as(truth, b, HISTORY, history)));
    const missed = [...api.server.app.loaderCache!.counters.misses].filter(([loader, count]) => count > (misses.get(loader) ?? 0)).map(([loader]) => loader);
    expect(missed.sort()).toEqual(['unreadCountByConversation', 'visibleConversationById']);
    expect(bHistory.statements).toBe(2);
    expect(seen(await as(api, b, INBOX))).toEqual(seen(await as(truth, b, INBOX)));

    // Someone outside it: the conversation and its messages do not exist, though kept for a and b.
    const outsiderHistory = await as(api, outsider, HISTORY, history);
    expect(errorCodes(outsiderHistory)).toEqual(['NOT_FOUND']);
    expect(errorCodes(await as(api, outsider, MESSAGE, message))).toEqual(['NOT_FOUND']);
    const outsiderInbox = await as(api, outsider, INBOX);
    expect(outsiderInbox.data).toMatchObject({ viewer: { conversations: { totalCount: 0, edges: [] } } });

    // a's user row, email included, is kept: b is shown a's name, never a's email.
    const profile = await as(api, b, PROFILE, { id: toGlobalId('User', a.id) });
    expect(profile.statements).toBe(0);
    expect(profile.data).toEqual({ user: { displayName: 'PrivateA', email: null, xp: expect.any(Number) } });
    expect((await as(api, a, PROFILE, { id: toGlobalId('User', a.id) })).data).toMatchObject({ user: { email: expect.stringContaining('@') } });

    // Signed out: the same (NOT_FOUND needs a viewer: UNAUTHENTICATED), nothing kept for nobody.
    expect(errorCodes(await api.request(HISTORY, history))).toEqual(['UNAUTHENTICATED']);
  });

  it('answers the kept conversation to a viewer who left it as NOT_FOUND', async () => {
    const history = { id: toGlobalId('Conversation', conversationId) };
    // Warm for a, then a leaves through the same instance.
    expect((await as(api, a, HISTORY, history)).errors).toBeUndefined();
    const left = await as(api, a, 'mutation ($input: LeaveConversationInput!) { leaveConversation(input: $input) { conversationId } }', {
      input: { conversationId: history.id },
    });
    // A direct conversation cannot be left: this one is a group (it has a title).
    expect(left.errors).toBeUndefined();
    expect(errorCodes(await as(api, a, HISTORY, history))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await as(api, a, MESSAGE, { id: toGlobalId('Message', messageIds[1]!) }))).toEqual(['NOT_FOUND']);
    expect(seen(await as(api, b, HISTORY, history))).toEqual(seen(await as(truth, b, HISTORY, history)));
  });
});

describe('Redis out of reach, cut off from one instance, or emptied', () => {
  let ownRedis: OwnRedis;
  let proxy: TcpProxy;
  let database: TestDatabase;
  let truth: TestApi;
  let admin: Redis;
  const clients: Redis[] = [];
  const apis: TestApi[] = [];

  beforeAll(async () => {
    ownRedis = await startOwnRedis();
    proxy = await startTcpProxy(ownRedis.port);
    database = await createTestDatabase();
    truth = await startTestApi({ SQL_READS: 'false' }, database);
    admin = createRedisClient({ url: ownRedis.url, commandTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    for (const api of apis) await stop(api);
    for (const client of [...clients, admin]) if (client.status !== 'end') client.disconnect();
    await proxy.close();
    await truth.close();
    await ownRedis.close();
  });

  /** An instance with the loader cache (the response cache off) on Redis at `url`. */
  async function instance(url: string): Promise<TestApi> {
    const redis = createRedisClient({ url });
    clients.push(redis);
    if (redis.status !== 'ready') await once(redis, 'ready');
    const api = await startTestApi({ LOADER_CACHE: 'on' }, database, { redis });
    apis.push(api);
    return api;
  }

  /** What a reads on `api` is what is true. */
  async function expectTrue(api: TestApi, g: Group) {
    const read = await readAll(api, g.a, g);
    expect(read.map(seen)).toEqual((await readAll(truth, g.a, g)).map(seen));
    return read;
  }

  const ready = async (redis: Redis) => waitFor(async () => redis.status === 'ready', 'the Redis client to reconnect', 10_000);

  it('answers from the database while Redis is out of reach, keeps nothing meanwhile, and serves nothing from before once it is back empty', async () => {
    const api = await instance(ownRedis.url);
    const g = await group(database.pool, api, 'Outage');
    await warm(api, g);
    const errors = api.server.app.loaderCache!.counters.errors;

    await ownRedis.stop();
    const during = await expectTrue(api, g);
    // Every loader read the database: as many statements as a cold read (the
    // history compiled: one; the inbox: its main statement and its conversations').
    const cold = (await readAll(truth, g.a, g)).map((result) => result.statements);
    expect(during.map((result) => result.statements)).toEqual([1, 2, cold[2], cold[3]]);
    expect(api.server.app.loaderCache!.counters.errors).toBeGreaterThan(errors);
    // A write while Redis is out of reach: its invalidation is lost.
    await sendAs(api, g.b, g.conversationId, 'while Redis was out of reach');
    await expectTrue(api, g);

    // Back, without its data: its history of invalidations starts again, and what was kept before counts for nothing.
    await ownRedis.start();
    await ready(clients.at(-1)!);
    const back = await expectTrue(api, g);
    expect(back[0]!.data).toMatchObject({ conversation: { lastMessage: { body: 'while Redis was out of reach' } } });
    // And the cache serves again.
    await waitFor(
      async () => (await readAll(api, g.a, g)).every((result, index) => result.statements === warmStatements(api)[index]),
      'the loader cache to answer again',
      10_000,
    );
  });

  it('once the instance that lost an invalidation reaches Redis again, neither it nor another serves what the write changed', async () => {
    const cutOff = await instance(proxy.url);
    const other = await instance(ownRedis.url);
    const g = await group(database.pool, other, 'Partition');
    await warm(cutOff, g);
    await warm(other, g);
    const floor = await admin.get('parley:cache:floor');

    proxy.cut();
    await sendAs(cutOff, g.b, g.conversationId, 'during the cut');
    // The instance that lost the invalidation reads the write at once (it cannot check: it reads the database).
    await expectTrue(cutOff, g);
    // While the cut lasts, nothing can tell the other instance of the write (as with the response cache).
    proxy.restore();
    // The instance that lost the invalidation raises the floor by itself once it is connected again …
    await waitFor(async () => (await admin.get('parley:cache:floor')) !== floor, 'the floor to rise', 10_000);
    // … which voids what every instance kept before.
    await expectTrue(other, g);
    await expectTrue(cutOff, g);
  });

  it('Redis emptied, then counting past what was kept before a write reaches it: nothing kept before is served', async () => {
    const [a, b] = [await instance(ownRedis.url), await instance(ownRedis.url)];
    const g = await group(database.pool, b, 'Emptied');
    // Enough writes that the count of invalidations is well above zero.
    for (let n = 0; n < 3; n += 1) await sendAs(b, g.c, g.conversationId, `before ${n}`);
    await warm(a, g);
    const kept = Number(await admin.get('parley:cache:epoch'));

    await admin.flushall();
    // The write the kept values miss comes first in the new count, then others (markConversationRead by b, touching
    // nothing a reads of its own) until the count is past what the kept values were read at.
    await sendAs(b, g.b, g.conversationId, 'after Redis was emptied');
    while (Number(await admin.get('parley:cache:epoch')) <= kept + 1) {
      const result = await as(b, g.b, 'mutation ($input: MarkConversationReadInput!) { markConversationRead(input: $input) { conversation { id } } }', {
        input: { conversationId: toGlobalId('Conversation', g.conversationId) },
      });
      expect(result.errors).toBeUndefined();
    }
    const read = await expectTrue(a, g);
    expect(read[0]!.data).toMatchObject({ conversation: { lastMessage: { body: 'after Redis was emptied' } } });
  });
});

describe('with the in-process store (LOADER_CACHE=on without Redis: one instance)', () => {
  let api: TestApi;
  let truth: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ LOADER_CACHE: 'on' });
    truth = await startTestApi({ SQL_READS: 'false' }, { ...api.database, close: async () => {} });
  });
  afterAll(async () => {
    await truth.close();
    await api.close();
  });

  it('drops what a write through the instance changed', async () => {
    const g = await group(api.database.pool, api, 'InProcess');
    const before = await warm(api, g);
    await sendAs(api, g.c, g.conversationId, 'sent in process');
    const edited = await as(api, g.b, 'mutation ($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }', {
      input: { messageId: toGlobalId('Message', g.messageIds[0]!), body: 'edited in process' },
    });
    expect(edited.errors).toBeUndefined();
    const after = await readAll(api, g.a, g);
    expect(after.map(seen)).toEqual((await readAll(truth, g.a, g)).map(seen));
    expect(after.map(seen)).not.toEqual(before.map(seen));
  });
});
