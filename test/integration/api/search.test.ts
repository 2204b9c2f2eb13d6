// searchMessages as clients use it (over HTTP, the typed client operation)
// and, for what a client cannot choose, through searchMessages() itself: every
// strategy (plan.ts) answers the same pages, pages have no gap or repeat
// while messages arrive, and the ranking's window holds.
import type pg from 'pg';
import { EditMessageDocument, SearchMessagesDocument, SendMessageDocument, type SearchMessagesQuery } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import type { SearchCursor, SearchOrder } from '../../../src/modules/search/cursor.js';
import { decodeSearchCursor } from '../../../src/modules/search/cursor.js';
import type { SearchStrategy } from '../../../src/modules/search/plan.js';
import { MAX_QUERY_LENGTH, searchMessages } from '../../../src/modules/search/search.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

type Edge = SearchMessagesQuery['searchMessages']['edges'][number];

async function search(user: FixtureUser, query: string, options: { conversationId?: number; orderBy?: SearchOrder; first?: number; after?: string } = {}) {
  return api.request(
    SearchMessagesDocument,
    {
      query,
      conversationId: options.conversationId === undefined ? undefined : toGlobalId('Conversation', options.conversationId),
      orderBy: options.orderBy,
      first: options.first,
      after: options.after,
    },
    { token: await api.tokenFor(user.id) },
  );
}

/** The bodies a search found, in its order; fails on any error. */
async function bodies(user: FixtureUser, query: string, options: Parameters<typeof search>[2] = {}): Promise<string[]> {
  const result = await search(user, query, options);
  expect(result.errors).toBeUndefined();
  return result.data!.searchMessages.edges.map((edge) => edge.node.body);
}

/** A fresh group: users, one conversation of all of them, and another of the first two only. */
async function group(name: string, size = 3) {
  const users = await Promise.all(Array.from({ length: size }, (_unused, index) => insertUser(pool, `${name}${index}`)));
  const all = await insertConversation(pool, { participants: users.map((user) => user.id), title: name, createdAt: minutesAgo(600) });
  const pair = await insertConversation(pool, { participants: [users[0]!.id, users[1]!.id], title: `${name} pair`, createdAt: minutesAgo(600) });
  return { users, all, pair };
}

async function send(user: FixtureUser, conversationId: number, body: string) {
  const result = await api.request(
    SendMessageDocument,
    { conversationId: toGlobalId('Conversation', conversationId), body, messages: 1 },
    { token: await api.tokenFor(user.id) },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.sendMessage.message.id;
}

describe('who finds what', () => {
  it('a message is found by each participant as soon as sendMessage answered, by nobody else', async () => {
    const { users, pair } = await group('Fresh', 3);
    const [sender, partner, outsider] = users as [FixtureUser, FixtureUser, FixtureUser];
    const id = await send(sender, pair, 'Meet at the lighthouse at noon');
    for (const participant of [sender, partner]) {
      const result = await search(participant, 'lighthouse');
      expect(result.errors).toBeUndefined();
      expect(result.data!.searchMessages.edges.map((edge) => edge.node.id)).toEqual([id]);
    }
    // The third user shares another conversation with both, not this one.
    expect(await bodies(outsider, 'lighthouse')).toEqual([]);
    expect(await bodies(outsider, 'lighthouse', { orderBy: 'NEWEST' })).toEqual([]);
  });

  it('a forged conversationId is NOT_FOUND, exactly as a conversation that does not exist', async () => {
    const { users, pair } = await group('Forged', 3);
    await send(users[0]!, pair, 'the vault code is tulip');
    const { rows } = await pool.query<{ missing: number }>('SELECT max(id) + 1000 AS missing FROM conversations');
    const forged = await search(users[2]!, 'tulip', { conversationId: pair });
    const missing = await search(users[2]!, 'tulip', { conversationId: rows[0]!.missing });
    for (const result of [forged, missing]) {
      expect(result.data).toBeNull();
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0]!.path).toEqual(['searchMessages']);
    }
    const blank = (result: GraphQLResult<unknown>, id: number) => result.errors![0]!.message.split(toGlobalId('Conversation', id)).join('<id>');
    expect(blank(forged, pair)).toBe(blank(missing, rows[0]!.missing));
    expect(JSON.stringify(forged)).not.toMatch(/tulip|vault/);
    // A participant searching the same conversation finds it.
    expect(await bodies(users[0]!, 'tulip', { conversationId: pair })).toEqual(['the vault code is tulip']);
  });

  it('with conversationId, only that conversation is searched', async () => {
    const { users, all, pair } = await group('Scoped', 2);
    await send(users[0]!, all, 'kumquat in the group');
    await send(users[0]!, pair, 'kumquat in the pair');
    expect((await bodies(users[1]!, 'kumquat')).sort()).toEqual(['kumquat in the group', 'kumquat in the pair']);
    expect(await bodies(users[1]!, 'kumquat', { conversationId: pair })).toEqual(['kumquat in the pair']);
  });

  it('is UNAUTHENTICATED signed out', async () => {
    const result = await api.request(SearchMessagesDocument, { query: 'anything' });
    expect(result.data).toBeNull();
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.statements).toBe(0);
  });
});

describe('what a query matches', () => {
  let reader: FixtureUser;
  beforeAll(async () => {
    const { users, all } = await group('Syntax', 2);
    reader = users[1]!;
    await insertMessages(pool, all, [
      { authorId: users[0]!.id, body: 'the quick brown fox', at: minutesAgo(50) },
      { authorId: users[0]!.id, body: 'brown and quick foxes', at: minutesAgo(40) },
      { authorId: users[0]!.id, body: 'a lazy dog', at: minutesAgo(30) },
      { authorId: users[0]!.id, body: 'a quick dog ran', at: minutesAgo(20) },
      { authorId: users[0]!.id, body: "O'Reilly's 50% off: C++ & SQL; DROP TABLE messages; -- :* <-> !x (y) \\ $$", at: minutesAgo(10) },
    ]);
  });

  const newest = (query: string) => bodies(reader, query, { orderBy: 'NEWEST' });

  it('a quoted phrase matches those words in that order', async () => {
    expect(await newest('"quick brown"')).toEqual(['the quick brown fox']);
  });

  it('or matches either word', async () => {
    expect(await newest('fox or dog')).toEqual(['a quick dog ran', 'a lazy dog', 'brown and quick foxes', 'the quick brown fox']);
  });

  it('-word excludes the messages holding it', async () => {
    expect(await newest('quick -dog')).toEqual(['brown and quick foxes', 'the quick brown fox']);
  });

  it('words match in any form, in any case; all of them must', async () => {
    expect(await newest('Foxes')).toEqual(['brown and quick foxes', 'the quick brown fox']);
    expect(await newest('DOGS')).toEqual(['a quick dog ran', 'a lazy dog']);
    expect(await newest('fox dog')).toEqual([]);
  });

  it.each([
    "'; DROP TABLE messages; --",
    "' OR '1'='1",
    'quick & | ! <-> :* ( ) fox',
    "quick:* & 'fox':A",
    '\\ $$ $1 %_ \u0001',
    'SELECT * FROM messages',
    '"unclosed phrase',
    '-',
    'or or or',
  ])('SQL and tsquery syntax in the query is text: %j', async (query) => {
    const result = await search(reader, query, { orderBy: 'NEWEST' });
    // Either a search of its words, or BAD_USER_INPUT when none is left; never a server error.
    if (result.errors) expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    else expect(Array.isArray(result.data!.searchMessages.edges)).toBe(true);
    const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM messages');
    expect(rows[0]!.count).toBeGreaterThan(0);
  });

  it('a message full of syntax is found by its words', async () => {
    expect(await newest('Reilly SQL')).toEqual(["O'Reilly's 50% off: C++ & SQL; DROP TABLE messages; -- :* <-> !x (y) \\ $$"]);
    expect(await newest('quick & fox')).toEqual(['brown and quick foxes', 'the quick brown fox']);
  });
});

describe('highlights', () => {
  it('are the body exactly, as text runs: markup comes back as text, matched words flagged', async () => {
    const { users, all } = await group('Markup', 2);
    const body = '<b>Running</b> <script>alert("run")</script> &amp; <img src=x onerror=run()> walking';
    await send(users[0]!, all, body);
    const result = await search(users[1]!, 'run -swim');
    expect(result.errors).toBeUndefined();
    const edge = result.data!.searchMessages.edges[0]!;
    expect(edge.node.body).toBe(body);
    expect(edge.highlight.map((fragment) => fragment.text).join('')).toBe(body);
    // Words, not tags: PostgreSQL's parser reads <img …> as one tag, which no query matches.
    expect(edge.highlight.filter((fragment) => fragment.matches).map((fragment) => fragment.text)).toEqual(['Running', 'run']);
    expect(edge.highlight[0]).toEqual({ text: '<b>', matches: false });
    // Nothing of the answer is markup of the server's making.
    expect(JSON.stringify(result.data)).not.toMatch(/<mark|<em>|<strong>/);
  });

  it('a body holding the highlight markers is one unmatched run, never cut wrongly', async () => {
    const { users, all } = await group('Markers', 2);
    const body = 'odd \u0002 marker \u0003 message';
    await send(users[0]!, all, body);
    const result = await search(users[1]!, 'marker');
    expect(result.data!.searchMessages.edges[0]!.highlight).toEqual([{ text: body, matches: false }]);
  });
});

describe('edits', () => {
  it('an edited message is found by its new words and no longer by its old ones', async () => {
    const { users, all } = await group('Edited', 2);
    const id = await send(users[0]!, all, 'lunch at the pagoda');
    expect(await bodies(users[1]!, 'pagoda')).toEqual(['lunch at the pagoda']);
    const edited = await api.request(EditMessageDocument, { messageId: id, body: 'lunch at the harbour' }, { token: await api.tokenFor(users[0]!.id) });
    expect(edited.errors).toBeUndefined();
    expect(await bodies(users[1]!, 'pagoda')).toEqual([]);
    expect(await bodies(users[1]!, 'harbour')).toEqual(['lunch at the harbour']);
    expect(await bodies(users[1]!, 'harbour', { orderBy: 'NEWEST' })).toEqual(['lunch at the harbour']);
  });
});

describe('refusals', () => {
  let user: FixtureUser;
  beforeAll(async () => {
    user = (await group('Refused', 2)).users[0]!;
  });

  it.each([
    ['an empty query', '', /type a word/, 0],
    ['whitespace only', ' \t\n ', /type a word/, 0],
    ['a query too long', 'x'.repeat(MAX_QUERY_LENGTH + 1), /at most 256 characters \(got 257\)/, 0],
    ['stop words only', 'the and of', /too common to be searched/, 1],
    ['punctuation only', '?!... ---', /no word to search for/, 1],
    ['exclusions only', '-lunch -dinner', /exclusions only/, 1],
    ['an exclusion or a word', 'lunch or -dinner', /exclusions only/, 1],
  ])('%s is BAD_USER_INPUT naming query, saying why', async (_case, query, message, statements) => {
    const result = await search(user, query);
    expect(result.data).toBeNull();
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions?.field).toBe('query');
    expect(result.errors![0]!.message).toMatch(message);
    expect(result.statements).toBe(statements);
  });

  it('accepts a query of exactly the longest length', async () => {
    const result = await search(user, `${'word '.repeat(MAX_QUERY_LENGTH / 5 - 1)}word`.slice(0, MAX_QUERY_LENGTH));
    expect(result.errors).toBeUndefined();
  });

  it.each([
    ['first: 101', { first: 101 }, 'first'],
    ['first: -1', { first: -1 }, 'first'],
    ['a forged cursor', { after: 'bm90IGEgY3Vyc29y' }, 'after'],
  ])('%s is BAD_USER_INPUT before any statement', async (_case, options, field) => {
    const result = await search(user, 'lunch', options);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions?.field).toBe(field);
    expect(result.statements).toBe(0);
  });

  it('a cursor of the other order is refused, saying which order it is of', async () => {
    const { users, all } = await group('Orders', 2);
    await insertMessages(
      pool,
      all,
      Array.from({ length: 3 }, (_unused, n) => ({ authorId: users[0]!.id, body: `tapir ${n}`, at: minutesAgo(10 - n) })),
    );
    const page = await search(users[1]!, 'tapir', { first: 1, orderBy: 'NEWEST' });
    const result = await search(users[1]!, 'tapir', { first: 1, after: page.data!.searchMessages.pageInfo.endCursor!, orderBy: 'RELEVANCE' });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toMatch(/ordered by NEWEST/);
  });
});

describe('statements per request', () => {
  it('two for a search with its authors (read with the matches), one more for the conversations', async () => {
    const { users, all, pair } = await group('Count', 3);
    await insertMessages(
      pool,
      all,
      Array.from({ length: 30 }, (_unused, n) => ({ authorId: users[n % 3]!.id, body: `walrus number ${n}`, at: minutesAgo(60 - n) })),
    );
    await insertMessages(pool, pair, [{ authorId: users[1]!.id, body: 'walrus in the pair', at: minutesAgo(5) }]);
    const token = await api.tokenFor(users[0]!.id);
    const minimal = await api.request(
      'query { searchMessages(query: "walrus", first: 50) { edges { cursor highlight { text matches } node { id body author { id displayName } } } } }',
      {},
      { token },
    );
    expect(minimal.errors).toBeUndefined();
    expect(minimal.statements).toBe(2);
    // The client operation selects each result's conversation too: one batch for all of them.
    for (const orderBy of ['RELEVANCE', 'NEWEST'] as const) {
      const full = await search(users[0]!, 'walrus', { first: 50, orderBy });
      expect(full.data!.searchMessages.edges).toHaveLength(31);
      expect(full.statements).toBe(3);
    }
    // In one conversation: its check (which also gives Message.conversation), the scope, the page.
    const scoped = await search(users[0]!, 'walrus', { conversationId: all, first: 50 });
    expect(scoped.data!.searchMessages.edges).toHaveLength(30);
    expect(scoped.statements).toBe(3);
  });
});

const STRATEGIES: SearchStrategy[] = ['index', 'timeline', 'conversations'];

describe('strategies and pages, through searchMessages()', () => {
  let reader: FixtureUser;
  let writer: FixtureUser;
  let conversations: number[];

  beforeAll(async () => {
    const { users, all, pair } = await group('Paging', 3);
    [writer, reader] = users as [FixtureUser, FixtureUser];
    const third = await insertConversation(pool, { participants: [reader.id, users[2]!.id], createdAt: minutesAgo(600) });
    conversations = [all, pair, third];
    // 45 matches over three conversations, some at the same instant (the id breaks the tie), with
    // bodies that rank differently; and messages that do not match between them.
    const at = (n: number) => new Date(Date.now() - 300_000 + Math.floor(n / 3) * 1000);
    for (const [index, conversationId] of conversations.entries()) {
      await insertMessages(
        pool,
        conversationId,
        Array.from({ length: 15 }, (_unused, n) => ({
          authorId: conversationId === third ? users[2]!.id : writer.id,
          body: n % 4 === 0 ? 'heron heron heron' : n % 4 === 1 ? `a heron ${index}-${n} flew over the long grey river at dawn` : `heron ${n}`,
          at: at(n * 3 + index),
        })),
      );
      await insertMessages(pool, conversationId, [{ authorId: writer.id, body: 'nothing to see', at: at(20) }]);
    }
  });

  /** Every page of a search, newest or best first, `size` at a time; `between` runs after each page. */
  async function readAll(
    order: SearchOrder,
    strategy: SearchStrategy | undefined,
    size: number,
    options: { window?: { matches: number; examined: number }; between?: () => Promise<void> } = {},
  ) {
    const ids: string[] = [];
    let after: SearchCursor | null = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const { page } = await searchMessages(pool, {
        viewerId: reader.id,
        query: 'heron',
        conversationId: null,
        order,
        size,
        after,
        strategy,
        window: options.window,
      });
      ids.push(...page.rows.map((row) => row.id));
      if (!page.hasNextPage) return ids;
      after = decodeSearchCursor(page.cursorOf(page.rows.at(-1)!), order, 'after');
      await options.between?.();
    }
    throw new Error('more than 100 pages');
  }

  it.each(['NEWEST', 'RELEVANCE'] as const)('every strategy reads the same %s pages', async (order) => {
    const [first, ...others] = await Promise.all(STRATEGIES.map((strategy) => readAll(order, strategy, 7)));
    expect(first).toHaveLength(45);
    for (const other of others) expect(other).toEqual(first);
  });

  it('NEWEST is newest first, the id breaking ties; RELEVANCE best first, then newest', async () => {
    const { rows } = await pool.query<{ id: string; rank: number }>(
      `SELECT id, ts_rank_cd(search_vector, websearch_to_tsquery('english', 'heron'), 1) AS rank FROM messages
       WHERE conversation_id = ANY($1) AND search_vector @@ websearch_to_tsquery('english', 'heron')
       ORDER BY created_at DESC, id DESC`,
      [conversations],
    );
    expect(await readAll('NEWEST', undefined, 10)).toEqual(rows.map((row) => row.id));
    const byRank = [...rows].sort((a, b) => b.rank - a.rank);
    expect(await readAll('RELEVANCE', undefined, 10)).toEqual(byRank.map((row) => row.id));
  });

  it.each(STRATEGIES.flatMap((strategy) => (['NEWEST', 'RELEVANCE'] as const).map((order) => [order, strategy] as const)))(
    '%s by %s: no gap and no repeat while new matches arrive between pages',
    async (order, strategy) => {
      const before = await readAll(order, strategy, 45);
      let sent = 0;
      const during = await readAll(order, strategy, 4, {
        between: async () => {
          sent += 1;
          await send(writer, conversations[sent % 2]!, `heron heron heron heron arrives ${sent}`);
        },
      });
      expect(sent).toBeGreaterThan(5);
      // Each match of before the first page exactly once, in the same order, and nothing else:
      // newest first, what is sent later sits before the first page; best first, the first
      // page fixed the window ranked.
      expect(during).toEqual(before);
      await pool.query("DELETE FROM messages WHERE body LIKE 'heron heron heron heron arrives %'");
    },
  );

  it.each(STRATEGIES)('RELEVANCE ranks the newest `window` matches, by %s, and its pages keep that window', async (strategy) => {
    const newest = await readAll('NEWEST', strategy, 50);
    const ranked = await readAll('RELEVANCE', strategy, 4, {
      window: { matches: 12, examined: 1000 },
      between: async () => {
        // An older match edited after the first page stays out of the window.
        await pool.query("UPDATE messages SET body = 'heron heron heron heron' WHERE id = $1", [newest.at(-1)]);
      },
    });
    expect([...ranked].sort()).toEqual(newest.slice(0, 12).sort());
    await pool.query("UPDATE messages SET body = 'heron 0' WHERE id = $1", [newest.at(-1)]);
  });

  it('RELEVANCE by the timeline ranks the matches among the messages its walk may read, and its pages keep them', async () => {
    // The reader's 45 matches and 3 other messages, newest first; the walk reads 30 of them, the others among them.
    const { rows } = await pool.query<{ id: string; matches: boolean }>(
      `SELECT id, search_vector @@ websearch_to_tsquery('english', 'heron') AS matches FROM messages
       WHERE conversation_id = ANY($1) ORDER BY created_at DESC, id DESC LIMIT 30`,
      [conversations],
    );
    const expected = rows.filter((row) => row.matches).map((row) => row.id);
    expect(expected.length).toBeLessThan(30);
    const ranked = await readAll('RELEVANCE', 'timeline', 3, {
      window: { matches: 40, examined: 30 },
      between: () => send(writer, conversations[0]!, 'heron heron heron heron arrives late').then(() => undefined),
    });
    expect([...ranked].sort()).toEqual([...expected].sort());
    await pool.query("DELETE FROM messages WHERE body LIKE 'heron heron heron heron arrives %'");
  });

  it('first: 0 reads no row and says whether one follows', async () => {
    for (const order of ['NEWEST', 'RELEVANCE'] as const) {
      const { page } = await searchMessages(pool, { viewerId: reader.id, query: 'heron', conversationId: null, order, size: 0, after: null });
      expect(page.rows).toEqual([]);
      expect(page.hasNextPage).toBe(true);
    }
  });
});

describe('the client operation', () => {
  it('pages through results with endCursor, with each result’s conversation', async () => {
    const { users, all } = await group('Client', 2);
    await insertMessages(
      pool,
      all,
      Array.from({ length: 5 }, (_unused, n) => ({ authorId: users[0]!.id, body: `okapi sighting ${n}`, at: minutesAgo(10 - n) })),
    );
    const seen: Edge[] = [];
    let after: string | undefined;
    for (;;) {
      const result = await search(users[1]!, 'okapi', { first: 2, after });
      expect(result.errors).toBeUndefined();
      seen.push(...result.data!.searchMessages.edges);
      if (!result.data!.searchMessages.pageInfo.hasNextPage) break;
      after = result.data!.searchMessages.pageInfo.endCursor!;
    }
    expect(seen.map((edge) => edge.node.body).sort()).toEqual([0, 1, 2, 3, 4].map((n) => `okapi sighting ${n}`));
    expect(new Set(seen.map((edge) => edge.node.conversation.id))).toEqual(new Set([toGlobalId('Conversation', all)]));
  });
});
