// Compiled reads with the loader cache on keep each conversation of an inbox
// apart (graphql/sql-reads/parts.ts): a read is the main statement (the
// viewer, the page's order) and, for the conversations no write changed
// since they were kept, nothing more. Answers are compared byte for byte
// with the resolvers' (SQL_READS=false, no cache) on the same database; the
// writes go through a second instance sharing Redis. Every kind of write is
// held to it in loader-cache.test.ts, whose checked instances read this way.
import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { InboxDocument } from '../../src/generated/graphql/operations.js';
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { startTestApi, statementsOf, type TestApi } from '../support/api.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../support/database.js';
import { insertConversation, insertInbox, insertMessages, insertUser, refreshStats, setLastRead, type InboxFixture } from '../support/fixtures.js';

let database: TestDatabase;
let reader: TestApi;
let writer: TestApi;
let cachedReader: TestApi;
let truth: TestApi;
let inbox: InboxFixture;
const clients: Redis[] = [];
const VARIABLES = { conversations: 10, messages: 5 };

function redisClient(prefix: string): Redis {
  const client = createRedisClient({ url: testRedisUrl(), keyPrefix: prefix, commandTimeoutMs: 1_000 });
  clients.push(client);
  return client;
}

/** The answer as a client receives it, with its statements and x-cache, for `userId`. */
async function read(api: TestApi, userId: number, query = print(InboxDocument), variables: Record<string, unknown> = VARIABLES) {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await api.tokenFor(userId)}` },
    body: JSON.stringify({ query, variables }),
  });
  return { body: await response.text(), statements: statementsOf(response.headers), cache: response.headers.get('x-cache') };
}

/** Conversations read from the database rather than from the loader cache, by `api`'s compiled reads, while `during` runs. */
async function partsReadDuring(api: TestApi, during: () => Promise<unknown>): Promise<number> {
  const misses = () => api.server.app.loaderCache!.counters.misses.get('compiledRead') ?? 0;
  const before = misses();
  await during();
  return misses() - before;
}

async function send(userId: number, conversationId: number, body: string) {
  const result = await writer.request(
    'mutation ($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }',
    { id: toGlobalId('Conversation', conversationId), body },
    { token: await writer.tokenFor(userId) },
  );
  expect(result.errors).toBeUndefined();
}

beforeAll(async () => {
  database = await createTestDatabase();
  const prefix = `parley-test:${randomBytes(6).toString('hex')}:`;
  reader = await startTestApi({ LOADER_CACHE: 'on' }, database, { redis: redisClient(prefix) });
  writer = await startTestApi({ LOADER_CACHE: 'on' }, database, { redis: redisClient(prefix) });
  cachedReader = await startTestApi({ LOADER_CACHE: 'on', RESPONSE_CACHE: 'on' }, database, { redis: redisClient(prefix) });
  truth = await startTestApi({ SQL_READS: 'false' }, database);
  inbox = await insertInbox(database.pool, { conversations: 12, messagesEach: 6 });
  await refreshStats(database.pool, writer.server.app);
  // The store names its history of invalidations at its first check (until then nothing can be kept): another user's read.
  for (const api of [reader, cachedReader]) await read(api, inbox.others[8]!.id);
});
afterAll(async () => {
  for (const api of [reader, writer, cachedReader]) {
    await api.server.fastify.close();
    await api.server.app.close();
  }
  await truth.close();
  for (const client of clients) client.disconnect();
});

describe('an inbox read in parts', () => {
  it('is read whole once, then its conversations come from the cache, byte for byte what the resolvers answer', async () => {
    const viewer = inbox.viewer.id;
    let cold!: Awaited<ReturnType<typeof read>>;
    expect(await partsReadDuring(reader, async () => (cold = await read(reader, viewer)))).toBe(VARIABLES.conversations);
    expect(cold.statements).toBe(2);
    expect(cold.body).toBe((await read(truth, viewer)).body);
    let warm!: Awaited<ReturnType<typeof read>>;
    expect(await partsReadDuring(reader, async () => (warm = await read(reader, viewer)))).toBe(0);
    expect(warm).toEqual({ ...cold, statements: 1 });
  });

  it('after a message in one conversation, reads that conversation again, and only it', async () => {
    const viewer = inbox.viewer.id;
    await read(reader, viewer);
    // An older conversation: the message brings it to the top of the page.
    await send(inbox.others[10]!.id, inbox.conversationIds[5]!, 'news in conversation 5');
    let after!: Awaited<ReturnType<typeof read>>;
    expect(await partsReadDuring(reader, async () => (after = await read(reader, viewer)))).toBe(1);
    expect(after.statements).toBe(2);
    expect(after.body).toContain('news in conversation 5');
    expect(after.body).toBe((await read(truth, viewer)).body);
  });

  it('after a profile change, reads again the conversations that show that user', async () => {
    const viewer = inbox.viewer.id;
    await read(reader, viewer);
    // A user of the newest conversation (on the page): they take part in that one only.
    const other = inbox.others[22]!;
    const renamed = await writer.request(
      'mutation { updateProfile(input: { displayName: "Renamed Friend" }) { user { id } } }',
      {},
      { token: await writer.tokenFor(other.id) },
    );
    expect(renamed.errors).toBeUndefined();
    // The conversations other takes part in (one), whatever else is on the page.
    let after!: Awaited<ReturnType<typeof read>>;
    expect(await partsReadDuring(reader, async () => (after = await read(reader, viewer)))).toBe(1);
    expect(after.body).toContain('Renamed Friend');
    expect(after.body).toBe((await read(truth, viewer)).body);
  });

  it('after the statistics are refreshed, reads again every conversation showing statistics', async () => {
    const viewer = inbox.viewer.id;
    await read(reader, viewer);
    await refreshStats(database.pool, writer.server.app);
    expect(await partsReadDuring(reader, () => read(reader, viewer))).toBe(VARIABLES.conversations);
  });

  it('keeps what each viewer sees apart: their unread counts and their own email', async () => {
    const [a, b] = [inbox.others[2]!, inbox.others[3]!];
    // One conversation of the two (and the viewer), which b has read and a has not.
    const conversationId = inbox.conversationIds[1]!;
    await send(inbox.viewer.id, conversationId, 'for a and b');
    await setLastRead(database.pool, conversationId, b.id, new Date());
    const query = `query { viewer { conversations(first: 5) { edges { node { id unreadCount participants { id email } } } } } }`;
    for (const user of [a, b, a, b]) {
      const [fromParts, fromResolvers] = [await read(reader, user.id, query, {}), await read(truth, user.id, query, {})];
      expect(fromParts.body).toBe(fromResolvers.body);
      expect(fromParts.body).toContain(`"email":"${user.username}@`);
    }
    const unread = (body: string) =>
      (JSON.parse(body) as { data: { viewer: { conversations: { edges: { node: { unreadCount: number } }[] } } } }).data.viewer.conversations.edges[0]!.node
        .unreadCount;
    expect(unread((await read(reader, a.id, query, {})).body)).toBeGreaterThan(0);
    expect(unread((await read(reader, b.id, query, {})).body)).toBe(0);
  });

  it('does not serve a conversation kept for its participants to anyone else', async () => {
    const query = `query { viewer { conversations(first: 20) { totalCount edges { node { id title } } } } }`;
    await read(reader, inbox.viewer.id, query, {});
    const outsider = inbox.others[4]!;
    const [fromParts, fromResolvers] = [await read(reader, outsider.id, query, {}), await read(truth, outsider.id, query, {})];
    expect(fromParts.body).toBe(fromResolvers.body);
    expect(fromParts.body).not.toContain(toGlobalId('Conversation', inbox.conversationIds[0]!));
  });

  it('with the response cache, answers a query selecting no id: the ids its tags are read from stay out of the answer', async () => {
    const query = `query { viewer { conversations(first: 4) { edges { node { title lastMessage { body author { displayName } } } } } } }`;
    const viewer = inbox.others[12]!.id;
    const first = await read(cachedReader, viewer, query, {});
    expect([first.cache, first.statements]).toEqual(['MISS', 2]);
    expect(first.body).not.toContain('__cache');
    expect(first.body).toBe((await read(truth, viewer, query, {})).body);
    expect(await read(cachedReader, viewer, query, {})).toEqual({ ...first, cache: 'HIT', statements: 0 });
  });

  it('with the response cache, stores the whole answer, and rebuilds it from the parts no write changed', async () => {
    const viewer = inbox.viewer.id;
    const first = await read(cachedReader, viewer);
    expect((await read(cachedReader, viewer)).cache).toBe('HIT');
    // A new conversation with a newcomer, written behind the API's back (nothing told the caches) …
    const newcomer = await insertUser(database.pool, 'Newcomer');
    const conversationId = await insertConversation(database.pool, { participants: [viewer, newcomer.id], title: 'brand new' });
    await insertMessages(database.pool, conversationId, [{ authorId: newcomer.id, at: new Date() }]);
    // … then a message through the API, which tells them (the newcomer shows in that conversation only).
    await send(newcomer.id, conversationId, 'tells the caches');
    let after!: Awaited<ReturnType<typeof read>>;
    expect(await partsReadDuring(cachedReader, async () => (after = await read(cachedReader, viewer)))).toBe(1);
    expect([after.cache, after.statements]).toEqual(['MISS', 2]);
    expect(after.body).not.toBe(first.body);
    expect(after.body).toBe((await read(truth, viewer)).body);
  });
});
