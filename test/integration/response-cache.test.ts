// The response cache, as clients see it: the same suite against Redis (the
// tests' shared server, under a key prefix of this run) and against the
// in-process store. A repeated query is a HIT with no SQL; after every
// mutation each affected answer, the writer's and every other
// participant's, shows the write; nobody receives an answer computed for
// someone else; concurrent identical misses run once.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { InboxDocument } from '../../src/generated/graphql/operations.js';
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../support/api.js';
import { testRedisUrl } from '../support/database.js';
import { insertConversation, insertInbox, insertMessages, insertUser, refreshStats, type FixtureUser } from '../support/fixtures.js';

const HISTORY = `query History($id: ID!) {
  conversation(id: $id) {
    title
    unreadCount
    participants { displayName }
    messages(first: 10) { totalCount edges { node { body editedAt author { displayName } } } }
  }
}`;
const INBOX = `query {
  viewer {
    conversations(first: 10) { edges { node { title unreadCount lastMessage { body } } } }
  }
}`;
const PROFILE = `query Profile($id: ID!) { user(id: $id) { displayName xp stats { totalMessages } } }`;
const LEADERBOARD = `query { leaderboard(metric: MESSAGES, first: 100) { edges { node { value user { displayName } } } } }`;
const VIEWER = `query { viewer { id username email } }`;
const SEARCH = `query Search($query: String!, $in: ID, $order: MessageSearchOrder) {
  searchMessages(query: $query, conversationId: $in, orderBy: $order) { edges { highlight { text matches } node { body } } }
}`;

// What the queries above answer, as far as these tests read them.
interface Inbox {
  viewer: { conversations: { edges: { node: { title: string | null; unreadCount: number; lastMessage: { body: string } | null } }[] } };
}
interface History {
  conversation: {
    title: string | null;
    unreadCount: number;
    participants: { displayName: string }[];
    messages: { totalCount: number; edges: { node: { body: string; editedAt: string | null; author: { displayName: string } } }[] };
  } | null;
}
interface Profile {
  user: { displayName: string; xp: number; stats: { totalMessages: number } | null } | null;
}
interface Leaderboard {
  leaderboard: { edges: { node: { value: number; user: { displayName: string } } }[] };
}
interface Viewer {
  viewer: { id: string; username: string; email: string } | null;
}
interface Search {
  searchMessages: { edges: { highlight: { text: string; matches: boolean }[]; node: { body: string } }[] };
}
const foundBodies = (result: GraphQLResult<Search>) => result.data!.searchMessages.edges.map((edge) => edge.node.body);

const STORES = [
  ['Redis', true],
  ['the in-process store', false],
] as const;

describe.each(STORES)('the response cache in %s', (_name, usesRedis) => {
  let api: TestApi;
  let redis: Redis | undefined;

  beforeAll(async () => {
    // A prefix of this file's own: other test files share the Redis server.
    redis = usesRedis
      ? createRedisClient({ url: testRedisUrl(), keyPrefix: `parley-test:${randomBytes(6).toString('hex')}:`, commandTimeoutMs: 1_000 })
      : undefined;
    api = await startTestApi({ RESPONSE_CACHE: 'on' }, undefined, { redis });
  });
  afterAll(async () => {
    await api.close();
    // Answers and tag sets expire; the store's two counters do not.
    await redis?.del('parley:cache:epoch', 'parley:cache:floor');
    await redis?.quit();
  });

  // Answers are stored after they are sent (in Redis, a round trip later): a
  // request sent after another waits for that store, as a client's next
  // request on a real network would come after it.
  const send = async <Data = Record<string, unknown>>(query: string, variables: Record<string, unknown>, user?: FixtureUser) => {
    await api.server.app.responseCache!.drain();
    const token = user ? await api.tokenFor(user.id) : undefined;
    return api.request<Data>(query, variables, { token });
  };

  /** Reads twice: the first run computes (MISS), the second is served with no SQL (HIT) and equal. */
  async function readFresh<Data>(query: string, variables: Record<string, unknown>, user?: FixtureUser): Promise<GraphQLResult<Data>> {
    const first = await send<Data>(query, variables, user);
    expect(first.errors).toBeUndefined();
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await send(query, variables, user);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.statements).toBe(0);
    expect(second.data).toEqual(first.data);
    return first;
  }

  async function group(name: string) {
    const pool = api.database.pool;
    const users = [await insertUser(pool, `${name}A`), await insertUser(pool, `${name}B`), await insertUser(pool, `${name}C`)];
    const conversationId = await insertConversation(pool, {
      participants: users.map((user) => user.id),
      title: name,
      createdAt: new Date(Date.now() - 3_600_000),
    });
    const messageIds = await insertMessages(pool, conversationId, [{ authorId: users[1]!.id, body: 'first', at: new Date(Date.now() - 60_000) }]);
    return { users, conversationId, id: toGlobalId('Conversation', conversationId), messageIds };
  }

  const mutate = async (query: string, variables: Record<string, unknown>, user: FixtureUser) => {
    const result = await send(query, variables, user);
    expect(result.errors).toBeUndefined();
    expect(result.headers.get('x-cache')).toBe('BYPASS');
    return result;
  };

  describe('hits', () => {
    it('serves a repeated inbox from the cache: HIT, no SQL, the same answer, private cache headers', async () => {
      const fixture = await insertInbox(api.database.pool, { conversations: 5, messagesEach: 5 });
      const token = await api.tokenFor(fixture.viewer.id);
      const miss = await api.request(InboxDocument, { conversations: 50, messages: 20 }, { token });
      expect(miss.errors).toBeUndefined();
      expect(miss.headers.get('x-cache')).toBe('MISS');
      expect(miss.statements).toBeGreaterThan(0);
      expect(miss.headers.get('cache-control')).toBe('private, max-age=60');
      expect(miss.headers.get('age')).toBe('0');

      await api.server.app.responseCache!.drain();
      const hit = await api.request(InboxDocument, { conversations: 50, messages: 20 }, { token });
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.statements).toBe(0);
      expect(hit.data).toEqual(miss.data);
      expect(hit.headers.get('cache-control')).toMatch(/^private, max-age=(59|60)$/);
      // One user's answer: a browser shared by two accounts keys it by the token too.
      expect([miss.headers.get('vary'), hit.headers.get('vary')]).toEqual(['accept-encoding, authorization', 'accept-encoding, authorization']);
      expect(hit.headers.get('content-type')).toBe(miss.headers.get('content-type'));
      // The fields added for the tags never reach the client.
      expect(JSON.stringify(hit.data)).not.toContain('__cache');
    });

    it('sends a hit gzip-compressed to clients that take it, as plain JSON to others', async () => {
      const owner = await insertUser(api.database.pool, 'Encoding');
      // Ten times the same profile: an answer gzip can shrink.
      const query = `query ($id: ID!) { ${Array.from({ length: 10 }, (_unused, n) => `u${n}: user(id: $id) { username displayName createdAt }`).join(' ')} }`;
      const body = JSON.stringify({ query, variables: { id: toGlobalId('User', owner.id) } });
      const post = (encoding: string) =>
        new Promise<{ headers: Record<string, unknown>; bytes: Buffer }>((resolve, reject) => {
          // node:http, which (unlike fetch) leaves the body as it came.
          const request = httpRequest(
            `${api.url}/graphql`,
            { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': encoding } },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve({ headers: response.headers, bytes: Buffer.concat(chunks) }));
            },
          );
          request.on('error', reject);
          request.end(body);
        });
      const miss = await post('identity');
      expect(miss.headers['x-cache']).toBe('MISS');
      // Stored after it was sent: until then an identical request shares it in memory.
      await api.server.app.responseCache!.drain();
      const plain = await post('identity');
      expect(plain.headers).toMatchObject({ 'x-cache': 'HIT', vary: 'accept-encoding' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.bytes.toString()).toBe(miss.bytes.toString());
      const zipped = await post('gzip, deflate, br');
      expect(zipped.headers).toMatchObject({ 'x-cache': 'HIT', 'content-encoding': 'gzip' });
      expect(zipped.bytes.length).toBeLessThan(miss.bytes.length);
      expect(gunzipSync(zipped.bytes).toString()).toBe(miss.bytes.toString());
    });

    it('shares a public answer between users and signed-out requests, with the smallest maxAge', async () => {
      const [owner, reader] = [await insertUser(api.database.pool, 'PublicOwner'), await insertUser(api.database.pool, 'PublicReader')];
      const variables = { id: toGlobalId('User', owner.id) };
      const miss = await send(PROFILE, variables, owner);
      expect(miss.headers.get('x-cache')).toBe('MISS');
      // User is 60 s, UserStats 300 s: the answer lives 60 s.
      expect(miss.headers.get('cache-control')).toBe('public, max-age=60');
      for (const user of [reader, undefined]) {
        const hit = await send(PROFILE, variables, user);
        expect(hit.headers.get('x-cache')).toBe('HIT');
        expect(hit.data).toEqual(miss.data);
      }
    });

    it('serves GET requests too (through Apollo Server), sharing their answers with POST', async () => {
      const owner = await insertUser(api.database.pool, 'GetOwner');
      const variables = { id: toGlobalId('User', owner.id) };
      const get = () =>
        fetch(`${api.url}/graphql?${new URLSearchParams({ query: PROFILE, variables: JSON.stringify(variables) }).toString()}`, {
          headers: { 'apollo-require-preflight': 'true' },
        });
      const counters = api.server.app.responseCache!.counters;
      const first = await get();
      expect(first.headers.get('x-cache')).toBe('MISS');
      await api.server.app.responseCache!.drain();
      const hits = counters.hits;
      const second = await get();
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(second.headers.get('x-sql-statements')).toBe('0');
      expect(await second.json()).toEqual(await first.json());
      const post = await send(PROFILE, variables);
      expect(post.headers.get('x-cache')).toBe('HIT');
      // Each hit counted once, inside Apollo Server (the GET) or before it (the POST).
      expect(counters.hits - hits).toBe(2);
    });

    it('keys on the variables the operation declares: others the client adds share the answer', async () => {
      const owner = await insertUser(api.database.pool, 'Undeclared');
      const query = 'query Profile($username: String!) { userByUsername(username: $username) { id displayName } }';
      await readFresh(query, { username: owner.username });
      for (let junk = 0; junk < 3; junk += 1) {
        const withJunk = await send(query, { username: owner.username, junk, [`extra${junk}`]: 'x' });
        expect(withJunk.headers.get('x-cache')).toBe('HIT');
        expect(withJunk.statements).toBe(0);
      }
    });

    it('never stores an answer with errors, and bypasses mutations', async () => {
      const outsider = await insertUser(api.database.pool, 'NotFoundTwice');
      const { id } = await group('ErrorsNotStored');
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const result = await send(HISTORY, { id }, outsider);
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.headers.get('x-cache')).toBe('MISS');
        expect(result.statements).toBeGreaterThan(0);
        expect(result.headers.get('cache-control')).toBeNull();
      }
    });

    it('runs concurrent identical misses once and gives every request the answer', async () => {
      const { users, id } = await group('Stampede');
      const token = await api.tokenFor(users[0]!.id);
      // The first statement of the operation waits on this lock, so all eight are surely in flight together.
      const blocker = await api.database.pool.connect();
      let results: GraphQLResult<History>[];
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE');
        const pending = Promise.all(Array.from({ length: 8 }, () => api.request<History>(HISTORY, { id }, { token })));
        await new Promise((resolve) => setTimeout(resolve, 500));
        await blocker.query('COMMIT');
        results = await pending;
      } finally {
        blocker.release();
      }
      const statuses = results.map((result) => result.headers.get('x-cache'));
      expect(statuses.filter((status) => status === 'MISS')).toHaveLength(1);
      expect(statuses.filter((status) => status === 'HIT')).toHaveLength(7);
      // The same operation for another participant runs as many statements as the eight did together.
      const alone = await api.request<History>(HISTORY, { id }, { token: await api.tokenFor(users[1]!.id) });
      expect(alone.headers.get('x-cache')).toBe('MISS');
      expect(results.reduce((sum, result) => sum + result.statements, 0)).toBe(alone.statements);
      for (const result of results) expect(result.data).toEqual(results[0]!.data);
    });
  });

  describe('scope: nobody receives an answer computed for someone else', () => {
    it('user B sending user A’s exact operation gets B’s answer; signed-out requests get their own', async () => {
      const [a, b] = [await insertUser(api.database.pool, 'ScopeA'), await insertUser(api.database.pool, 'ScopeB')];
      const asA = await readFresh<Viewer>(VIEWER, {}, a);
      expect(asA.data!.viewer).toMatchObject({ id: toGlobalId('User', a.id), email: expect.stringContaining('scopea') });
      const asB = await send<Viewer>(VIEWER, {}, b);
      expect(asB.headers.get('x-cache')).toBe('MISS');
      expect(asB.data!.viewer).toMatchObject({ id: toGlobalId('User', b.id), email: expect.stringContaining('scopeb') });
      const signedOut = await send(VIEWER, {});
      expect(signedOut.data).toEqual({ viewer: null });
      expect((await send(VIEWER, {})).headers.get('x-cache')).toBe('HIT');
      expect((await send(VIEWER, {}, a)).data).toEqual(asA.data);
    });

    it('a search cached for a participant is never served to anyone else, whatever they send', async () => {
      const { users, id } = await group('SearchScope');
      const outsider = await insertUser(api.database.pool, 'SearchOutsider');
      await mutate(`mutation ($id: ID!) { sendMessage(input: { conversationId: $id, body: "the marmalade recipe" }) { message { id } } }`, { id }, users[0]!);
      for (const variables of [{ query: 'marmalade' }, { query: 'marmalade', in: id }, { query: 'marmalade', order: 'NEWEST' }]) {
        expect(foundBodies(await readFresh<Search>(SEARCH, variables, users[1]))).toEqual(['the marmalade recipe']);
        const theirs = await send<Search>(SEARCH, variables, outsider);
        expect(theirs.headers.get('x-cache')).not.toBe('HIT');
        if (variables.in) {
          expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
          // Refusals are not stored: asking again runs again, and refuses again.
          expect((await send(SEARCH, variables, outsider)).headers.get('x-cache')).not.toBe('HIT');
        } else {
          expect(foundBodies(theirs)).toEqual([]);
        }
        expect(JSON.stringify(theirs)).not.toMatch(/marmalade recipe/);
        const signedOut = await send(SEARCH, variables);
        expect(errorCodes(signedOut)).toEqual(['UNAUTHENTICATED']);
        expect(signedOut.headers.get('x-cache')).not.toBe('HIT');
      }
    });

    it('a user outside a conversation gets NOT_FOUND for an answer cached for a participant, on every path', async () => {
      const { users, id, messageIds } = await group('Outside');
      const outsider = await insertUser(api.database.pool, 'Outsider');
      const nodeQuery = `query ($id: ID!) { node(id: $id) { id } }`;
      const messageId = toGlobalId('Message', messageIds[0]!);
      await readFresh(HISTORY, { id }, users[0]);
      await readFresh(nodeQuery, { id }, users[0]);
      await readFresh(nodeQuery, { id: messageId }, users[0]);
      for (const [query, variables] of [
        [HISTORY, { id }],
        [nodeQuery, { id }],
        [nodeQuery, { id: messageId }],
      ] as const) {
        for (const user of [outsider, undefined]) {
          const result = await send<{ conversation?: unknown; node?: unknown }>(query, variables, user);
          expect(result.headers.get('x-cache')).not.toBe('HIT');
          expect(result.data?.conversation ?? result.data?.node ?? null).toBeNull();
          expect(errorCodes(result)[0]).toMatch(/NOT_FOUND|UNAUTHENTICATED/);
        }
      }
    });
  });

  describe('after each mutation, every affected answer shows the write', () => {
    it('sendMessage: the writer’s and the other participants’ inboxes and history, the author’s profile', async () => {
      const { users, id } = await group('Send');
      const [a, b, c] = users as [FixtureUser, FixtureUser, FixtureUser];
      for (const user of users) {
        await readFresh(INBOX, {}, user);
        await readFresh(HISTORY, { id }, user);
      }
      const profileBefore = await readFresh<Profile>(PROFILE, { id: toGlobalId('User', a.id) }, b);

      await mutate(`mutation ($id: ID!) { sendMessage(input: { conversationId: $id, body: "news" }) { message { id } } }`, { id }, a);

      for (const user of [a, b, c]) {
        const inbox = await readFresh<Inbox>(INBOX, {}, user);
        const node = inbox.data!.viewer.conversations.edges[0]!.node;
        expect(node.lastMessage?.body).toBe('news');
        // b wrote "first", a wrote "news"; a has read what a sent.
        expect(node.unreadCount).toBe(user === a ? 0 : user === b ? 1 : 2);
        const history = await readFresh<History>(HISTORY, { id }, user);
        expect(history.data!.conversation!.messages.edges[0]!.node.body).toBe('news');
        expect(history.data!.conversation!.messages.totalCount).toBe(2);
      }
      const profileAfter = await readFresh<Profile>(PROFILE, { id: toGlobalId('User', a.id) }, c);
      expect(profileAfter.data!.user!.xp).toBe(profileBefore.data!.user!.xp + 10);
    });

    it('editMessage: every participant’s history and inbox', async () => {
      const { users, id, messageIds } = await group('Edit');
      for (const user of users) {
        await readFresh(HISTORY, { id }, user);
        await readFresh(INBOX, {}, user);
      }
      await mutate(
        `mutation ($id: ID!) { editMessage(input: { messageId: $id, body: "edited" }) { message { id } } }`,
        { id: toGlobalId('Message', messageIds[0]!) },
        users[1]!,
      );
      for (const user of users) {
        const history = await readFresh<History>(HISTORY, { id }, user);
        expect(history.data!.conversation!.messages.edges[0]!.node).toMatchObject({ body: 'edited', editedAt: expect.any(String) });
        expect((await readFresh<Inbox>(INBOX, {}, user)).data!.viewer.conversations.edges[0]!.node.lastMessage?.body).toBe('edited');
      }
    });

    it('sendMessage and editMessage: every participant’s cached searches find the new words at once, nobody else’s change', async () => {
      const { users, id } = await group('SearchFresh');
      const [a, b, c] = users as [FixtureUser, FixtureUser, FixtureUser];
      const outsider = await insertUser(api.database.pool, 'SearchFreshOutsider');
      await insertConversation(api.database.pool, { participants: [outsider.id, a.id], createdAt: new Date(Date.now() - 3_600_000) });
      const searches = [{ query: 'pelican' }, { query: 'pelican', in: id }, { query: 'pelican', order: 'NEWEST' }, { query: 'flamingo' }];
      for (const user of users) for (const variables of searches) expect(foundBodies(await readFresh<Search>(SEARCH, variables, user))).toEqual([]);
      await readFresh<Search>(SEARCH, { query: 'pelican' }, outsider);

      const sent = await mutate(
        `mutation ($id: ID!) { sendMessage(input: { conversationId: $id, body: "a pelican on the pier" }) { message { id } } }`,
        { id },
        a,
      );
      for (const user of [a, b, c]) {
        for (const variables of searches.slice(0, 3)) expect(foundBodies(await readFresh<Search>(SEARCH, variables, user))).toEqual(['a pelican on the pier']);
      }
      // The outsider's search was not dropped, and finds nothing still.
      const outside = await send<Search>(SEARCH, { query: 'pelican' }, outsider);
      expect(outside.headers.get('x-cache')).toBe('HIT');
      expect(foundBodies(outside)).toEqual([]);

      const messageId = (sent.data as { sendMessage: { message: { id: string } } }).sendMessage.message.id;
      await mutate(`mutation ($id: ID!) { editMessage(input: { messageId: $id, body: "a flamingo on the pier" }) { message { id } } }`, { id: messageId }, a);
      for (const user of [a, b, c]) {
        for (const variables of searches.slice(0, 3)) expect(foundBodies(await readFresh<Search>(SEARCH, variables, user))).toEqual([]);
        const found = await readFresh<Search>(SEARCH, { query: 'flamingo' }, user);
        expect(found.data!.searchMessages.edges[0]!.highlight).toEqual([
          { text: 'a ', matches: false },
          { text: 'flamingo', matches: true },
          { text: ' on the pier', matches: false },
        ]);
      }
    });

    it('markConversationRead: the reader’s inbox and history', async () => {
      const { users, id } = await group('Read');
      const reader = users[2]!;
      expect((await readFresh<Inbox>(INBOX, {}, reader)).data!.viewer.conversations.edges[0]!.node.unreadCount).toBe(1);
      expect((await readFresh<History>(HISTORY, { id }, reader)).data!.conversation!.unreadCount).toBe(1);
      await mutate(`mutation ($id: ID!) { markConversationRead(input: { conversationId: $id }) { conversation { unreadCount } } }`, { id }, reader);
      expect((await readFresh<Inbox>(INBOX, {}, reader)).data!.viewer.conversations.edges[0]!.node.unreadCount).toBe(0);
      expect((await readFresh<History>(HISTORY, { id }, reader)).data!.conversation!.unreadCount).toBe(0);
    });

    it('createConversation: every participant’s inbox', async () => {
      const { users } = await group('Create');
      for (const user of users) await readFresh(INBOX, {}, user);
      await mutate(
        `mutation ($ids: [ID!]!) { createConversation(input: { participantIds: $ids, title: "Fresh group" }) { conversation { id } } }`,
        { ids: users.slice(1).map((user) => toGlobalId('User', user.id)) },
        users[0]!,
      );
      for (const user of users) {
        const titles = (await readFresh<Inbox>(INBOX, {}, user)).data!.viewer.conversations.edges.map((edge) => edge.node.title);
        expect(titles).toContain('Fresh group');
      }
    });

    it('updateProfile: the public profile, other participants’ histories, the leaderboard', async () => {
      const { users, id } = await group('Profile');
      const [a, b] = users as [FixtureUser, FixtureUser];
      await refreshStats(api.database.pool, api.server.app.responseCache);
      await readFresh(PROFILE, { id: toGlobalId('User', b.id) }, a);
      await readFresh(HISTORY, { id }, a);
      await readFresh(LEADERBOARD, {});
      await mutate(`mutation { updateProfile(input: { displayName: "Renamed B" }) { user { id } } }`, {}, b);
      expect((await readFresh<Profile>(PROFILE, { id: toGlobalId('User', b.id) }, a)).data!.user!.displayName).toBe('Renamed B');
      const names = (await readFresh<History>(HISTORY, { id }, a)).data!.conversation!.participants.map((user) => user.displayName);
      expect(names).toContain('Renamed B');
      const board = (await readFresh<Leaderboard>(LEADERBOARD, {})).data!.leaderboard.edges.map((edge) => edge.node.user.displayName);
      expect(board).toContain('Renamed B');
    });

    it('a refresh of the statistics: leaderboards and stats', async () => {
      const { users, conversationId } = await group('Refresh');
      const author = users[0]!;
      await refreshStats(api.database.pool, api.server.app.responseCache);
      const profile = await readFresh<Profile>(PROFILE, { id: toGlobalId('User', author.id) });
      const before = profile.data!.user!.stats?.totalMessages ?? 0;
      await readFresh(LEADERBOARD, {});
      await insertMessages(
        api.database.pool,
        conversationId,
        Array.from({ length: 50 }, (_unused, n) => ({ authorId: author.id, at: new Date(Date.now() - n * 1000) })),
      );
      await refreshStats(api.database.pool, api.server.app.responseCache);
      expect((await readFresh<Profile>(PROFILE, { id: toGlobalId('User', author.id) })).data!.user!.stats?.totalMessages).toBe(before + 50);
      const top = (await readFresh<Leaderboard>(LEADERBOARD, {})).data!.leaderboard.edges[0]!.node;
      expect(top).toMatchObject({ value: 50, user: { displayName: 'RefreshA' } });
    });
  });

  it('counts hits, misses, stores and invalidations', () => {
    const counters = api.server.app.responseCache!.counters;
    expect(counters.hits).toBeGreaterThan(0);
    expect(counters.misses).toBeGreaterThan(0);
    expect(counters.stores).toBeGreaterThan(0);
    expect(counters.invalidations).toBeGreaterThan(0);
    expect(counters.dropped).toBeGreaterThan(0);
    expect(counters.errors).toBe(0);
  });
});

describe('RESPONSE_CACHE=off', () => {
  it('runs every query and says nothing about a cache', async () => {
    const api = await startTestApi({ RESPONSE_CACHE: 'off' });
    try {
      const user = await insertUser(api.database.pool, 'CacheOff');
      const token = await api.tokenFor(user.id);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const result = await api.request(VIEWER, {}, { token });
        expect(result.statements).toBeGreaterThan(0);
        expect(result.headers.get('x-cache')).toBeNull();
        expect(result.headers.get('cache-control')).toBeNull();
      }
      expect(api.server.app.responseCache).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});
