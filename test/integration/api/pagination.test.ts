// Relay pagination over HTTP: a conversation's messages (newest first) and
// the inbox (most recent activity first), both keyset-paged on (time, id).
// Rows share timestamps on purpose and ids do not follow time, so only the
// id tie-break keeps pages from skipping or repeating rows.
import { encodeCursor } from '../../../src/graphql/relay/cursor.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';

const MINUTE = 60_000;

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

interface Connection {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: PageInfo;
  totalCount: number;
}

interface PageArguments {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

/** A row of a list as the fixtures wrote it: its global id and its sort key. */
interface Row {
  id: string;
  at: Date;
  databaseId: string;
}

/** The list's order: newest first, then the larger id first. */
const newestFirst = (a: Row, b: Row) => b.at.getTime() - a.at.getTime() || (BigInt(b.databaseId) > BigInt(a.databaseId) ? 1 : -1);

/** A deterministic shuffle, so ids (assigned in insertion order) do not follow time. */
function shuffled<T>(items: readonly T[], seed = 11): T[] {
  const copy = [...items];
  let state = seed;
  for (let index = copy.length - 1; index > 0; index -= 1) {
    state = (state * 48_271) % 2_147_483_647;
    const other = state % (index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

const CONNECTION_FIELDS = 'edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount';
const MESSAGES = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  conversation(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) { ${CONNECTION_FIELDS} } }
}`;
const INBOX = `query ($first: Int, $after: String, $last: Int, $before: String) {
  viewer { conversations(first: $first, after: $after, last: $last, before: $before) { ${CONNECTION_FIELDS} } }
}`;

let api: TestApi;
let viewer: FixtureUser;
let token: string;

/** The big conversation's messages, in list order. */
let history: Row[];
let historyId: number;
/** The viewer's conversations, in inbox order. */
let inbox: Row[];

beforeAll(async () => {
  api = await startTestApi();
  const db = api.database.pool;
  viewer = await insertUser(db, 'Pager');
  const friend = await insertUser(db, 'Friend');
  const stranger = await insertUser(db, 'Stranger');
  token = await api.tokenFor(viewer.id);

  // 57 messages: pairs of messages share a minute, and four share another.
  const start = Date.parse('2026-05-01T09:00:00.000Z');
  historyId = await insertConversation(db, { participants: [viewer.id, friend.id], title: 'Long', createdAt: new Date(start - MINUTE) });
  const times = Array.from({ length: 57 }, (_unused, index) => new Date(start + Math.floor((index * 2) / 3) * MINUTE));
  for (const index of [30, 31, 32, 33]) times[index] = times[30]!;
  const inserted = shuffled(times);
  const ids = await insertMessages(
    db,
    historyId,
    inserted.map((at, index) => ({ authorId: index % 2 === 0 ? viewer.id : friend.id, at })),
  );
  history = inserted.map((at, index) => ({ id: toGlobalId('Message', ids[index]!), databaseId: ids[index]!, at })).sort(newestFirst);

  // The inbox: 25 conversations of the viewer and 5 of others among them.
  // Activity is the last message's time, or the creation's for a conversation
  // without messages; threes share it, with and without messages.
  const inboxStart = Date.parse('2026-04-01T00:00:00.000Z');
  const specs = shuffled(
    Array.from({ length: 30 }, (_unused, index) => ({
      mine: index % 6 !== 5,
      activity: new Date(inboxStart + Math.floor(index / 3) * 7 * MINUTE),
      withMessages: index % 3 !== 0,
    })),
    5,
  );
  inbox = [];
  for (const spec of specs) {
    const participants = spec.mine ? [viewer.id, friend.id] : [stranger.id, friend.id];
    const createdAt = spec.withMessages ? new Date(spec.activity.getTime() - 3 * 24 * 60 * MINUTE) : spec.activity;
    const id = await insertConversation(db, { participants, title: `Inbox ${inbox.length}`, createdAt });
    if (spec.withMessages) {
      await insertMessages(db, id, [
        { authorId: friend.id, at: new Date(spec.activity.getTime() - MINUTE) },
        { authorId: friend.id, at: spec.activity },
      ]);
    }
    if (spec.mine) inbox.push({ id: toGlobalId('Conversation', id), databaseId: String(id), at: spec.activity });
  }
  inbox.push({ id: toGlobalId('Conversation', historyId), databaseId: String(historyId), at: history[0]!.at });
  inbox.sort(newestFirst);
});
afterAll(async () => {
  await api.close();
});

async function messagesPage(args: PageArguments, conversationId = historyId): Promise<GraphQLResult<{ conversation: { messages: Connection } | null }>> {
  return api.request(MESSAGES, { id: toGlobalId('Conversation', conversationId), ...args }, { token });
}

async function inboxPage(args: PageArguments): Promise<GraphQLResult<{ viewer: { conversations: Connection | null } }>> {
  return api.request(INBOX, args, { token });
}

/** Reads a list through `read` page by page in one direction, asserting each page's own consistency. */
async function walk(read: (args: PageArguments) => Promise<Connection>, size: number, forward: boolean): Promise<Connection[]> {
  const pages: Connection[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard += 1) {
    const page = await read(forward ? { first: size, after: cursor } : { last: size, before: cursor });
    const { edges, pageInfo } = page;
    expect(pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
    expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
    pages.push(page);
    if (!(forward ? pageInfo.hasNextPage : pageInfo.hasPreviousPage)) return pages;
    cursor = (forward ? pageInfo.endCursor : pageInfo.startCursor) ?? undefined;
    expect(cursor).toBeDefined();
  }
  throw new Error('more than 100 pages: the walk does not end');
}

const idsOf = (page: Connection) => page.edges.map((edge) => edge.node.id);

/** The page sizes of a list of `total` rows read `size` at a time. */
const sizes = (total: number, size: number) => Array.from({ length: Math.ceil(total / size) }, (_unused, index) => Math.min(size, total - index * size));

describe.each([
  [
    'Conversation.messages',
    10,
    () => history,
    async (args: PageArguments) => {
      const result = await messagesPage(args);
      expect(result.errors).toBeUndefined();
      return result.data!.conversation!.messages;
    },
  ],
  [
    'viewer.conversations',
    7,
    () => inbox,
    async (args: PageArguments) => {
      const result = await inboxPage(args);
      expect(result.errors).toBeUndefined();
      return result.data!.viewer.conversations!;
    },
  ],
] as const)('%s, %i a page', (_name, SIZE, list, read) => {
  it('has ties on time that fall across page boundaries in both directions (the fixture is meant to)', () => {
    const rows = list();
    const tieAt = (index: number) => rows[index - 1]!.at.getTime() === rows[index]!.at.getTime();
    const forwardBoundaries = Array.from({ length: Math.floor((rows.length - 1) / SIZE) }, (_unused, index) => (index + 1) * SIZE);
    const backwardBoundaries = forwardBoundaries.map((boundary) => rows.length - boundary);
    expect(forwardBoundaries.some(tieAt)).toBe(true);
    expect(backwardBoundaries.some(tieAt)).toBe(true);
    // ... and ids that do not follow time.
    const byTime = [...rows].sort((a, b) => b.at.getTime() - a.at.getTime() || Number(BigInt(a.databaseId) - BigInt(b.databaseId)));
    expect(byTime.map((row) => row.id)).not.toEqual(rows.map((row) => row.id));
  });

  it('pages forward with first/after through the whole list, without gaps or repeats', async () => {
    const rows = list();
    const pages = await walk(read, SIZE, true);
    expect(pages.map((page) => page.edges.length)).toEqual(sizes(rows.length, SIZE));
    expect(pages.flatMap(idsOf)).toEqual(rows.map((row) => row.id));
    for (const [index, page] of pages.entries()) {
      expect(page.pageInfo.hasPreviousPage).toBe(index > 0);
      expect(page.pageInfo.hasNextPage).toBe(index < pages.length - 1);
      expect(page.totalCount).toBe(rows.length);
    }
  });

  it('pages backward with last/before from the end, without gaps or repeats', async () => {
    const rows = list();
    const pages = await walk(read, SIZE, false);
    expect(pages.map((page) => page.edges.length)).toEqual(sizes(rows.length, SIZE));
    // Each page is in list order; the pages come from the end.
    expect([...pages].reverse().flatMap(idsOf)).toEqual(rows.map((row) => row.id));
    for (const [index, page] of pages.entries()) {
      expect(page.pageInfo.hasNextPage).toBe(index > 0);
      expect(page.pageInfo.hasPreviousPage).toBe(index < pages.length - 1);
    }
  });

  it('agrees with itself page by page: a forward page and a backward page over the same rows', async () => {
    const rows = list();
    const [firstPage] = await walk(read, SIZE, true);
    const middle = await read({ first: SIZE, after: firstPage!.pageInfo.endCursor! });
    const back = await read({ last: SIZE, before: middle.pageInfo.startCursor! });
    expect(idsOf(back)).toEqual(idsOf(firstPage!));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(idsOf(middle)).toEqual(rows.slice(SIZE, 2 * SIZE).map((row) => row.id));
  });

  it('first: 0 is an empty page that still says more follow', async () => {
    const page = await read({ first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(page.totalCount).toBe(list().length);
  });

  it('first defaults to 20, and last to 20 with before alone', async () => {
    const rows = list();
    expect(rows.length).toBeGreaterThan(20);
    const page = await read({});
    expect(idsOf(page)).toEqual(rows.slice(0, 20).map((row) => row.id));
    expect(page.pageInfo.hasNextPage).toBe(true);
    const end = await read({ last: 1 });
    const before = await read({ before: end.pageInfo.startCursor! });
    expect(idsOf(before)).toEqual(rows.slice(-21, -1).map((row) => row.id));
  });

  it('first: 100 reads the whole list, and no next page', async () => {
    const rows = list();
    const page = await read({ first: 100 });
    expect(idsOf(page)).toEqual(rows.map((row) => row.id));
    expect(page.pageInfo.hasNextPage).toBe(false);
  });
});

describe('refused page arguments', () => {
  const cases: [string, PageArguments, string | undefined][] = [
    ['first: 101', { first: 101 }, 'first'],
    ['last: 101', { last: 101 }, 'last'],
    ['first: -1', { first: -1 }, 'first'],
    ['last: -1', { last: -1 }, 'last'],
    ['first and last together', { first: 5, last: 5 }, undefined],
    ['after and before together', { after: encodeCursor({ at: new Date(), id: '1' }), before: encodeCursor({ at: new Date(), id: '2' }) }, undefined],
    ['a garbage after', { first: 5, after: 'garbage' }, 'after'],
    ['a garbage before', { last: 5, before: 'bm90IGEgY3Vyc29y' }, 'before'],
    ['an after whose id is beyond bigint', { after: Buffer.from('2026-05-01T09:00:00.000Z|9223372036854775808').toString('base64url') }, 'after'],
  ];

  it.each(cases)('messages: %s is BAD_USER_INPUT', async (_case, args, field) => {
    const result = await messagesPage(args);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.path).toEqual(['conversation', 'messages']);
    if (field) expect(result.errors![0]!.extensions?.field).toBe(field);
    else expect(['first', 'after']).toContain(result.errors![0]!.extensions?.field);
    // Non-null, so the conversation goes with it.
    expect(result.data).toEqual({ conversation: null });
  });

  it.each(cases)('inbox: %s is BAD_USER_INPUT', async (_case, args, field) => {
    const result = await inboxPage(args);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.path).toEqual(['viewer', 'conversations']);
    if (field) expect(result.errors![0]!.extensions?.field).toBe(field);
    expect(result.data).toEqual({ viewer: { conversations: null } });
  });
});

describe('cursors that are well formed but were not issued here', () => {
  it('inbox: an id beyond the conversations column pages from that point instead of failing', async () => {
    // Such an id sorts after every conversation of the same time.
    const at = inbox[4]!.at;
    const result = await inboxPage({ first: 100, after: encodeCursor({ at, id: '3000000000' }) });
    expect(result.errors).toBeUndefined();
    const expected = inbox.filter((row) => row.at.getTime() <= at.getTime()).map((row) => row.id);
    expect(expected.length).toBeLessThan(inbox.length);
    expect(idsOf(result.data!.viewer.conversations!)).toEqual(expected);
  });

  it('messages: the largest bigint id pages from that point', async () => {
    const at = history[10]!.at;
    const result = await messagesPage({ first: 100, after: encodeCursor({ at, id: '9223372036854775807' }) });
    expect(result.errors).toBeUndefined();
    expect(idsOf(result.data!.conversation!.messages)).toEqual(history.filter((row) => row.at.getTime() <= at.getTime()).map((row) => row.id));
  });
});

describe('rows written while paging', () => {
  it('a message arriving at the head neither repeats nor skips a row of the older pages', async () => {
    const db = api.database.pool;
    const friend = await insertUser(db, 'Chatty');
    const start = Date.parse('2026-06-01T12:00:00.000Z');
    const id = await insertConversation(db, { participants: [viewer.id, friend.id], title: 'Busy', createdAt: new Date(start) });
    const times = shuffled(
      Array.from({ length: 25 }, (_unused, index) => new Date(start + Math.floor(index / 2) * MINUTE)),
      3,
    );
    const ids = await insertMessages(
      db,
      id,
      times.map((at) => ({ authorId: friend.id, at })),
    );
    const rows = times.map((at, index) => ({ id: toGlobalId('Message', ids[index]!), databaseId: ids[index]!, at })).sort(newestFirst);

    const read = async (args: PageArguments) => {
      const result = await messagesPage(args, id);
      expect(result.errors).toBeUndefined();
      return result.data!.conversation!.messages;
    };
    const seen: string[] = [];
    let page = await read({ first: 10 });
    seen.push(...idsOf(page));
    const [newId] = await insertMessages(db, id, [{ authorId: viewer.id, at: new Date(rows[0]!.at.getTime() + MINUTE) }]);
    while (page.pageInfo.hasNextPage) {
      page = await read({ first: 10, after: page.pageInfo.endCursor! });
      seen.push(...idsOf(page));
    }
    expect(seen).toEqual(rows.map((row) => row.id));
    // The new message heads the list for a reader starting over.
    const fresh = await read({ first: 10 });
    expect(idsOf(fresh)[0]).toBe(toGlobalId('Message', newId!));
    expect(fresh.totalCount).toBe(rows.length + 1);
  });
});
