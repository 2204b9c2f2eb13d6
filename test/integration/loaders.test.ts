// Every loader of createLoaders against a real database: a batch of keys
// (shuffled, with duplicates and keys that match nothing) is one SQL
// statement and answers in key order; with batch: false, one statement per
// key. Statements are counted at the driver, as requests count them.
import { instrumentPool, withStatementCounter, type StatementCounter } from '../../src/db/statement-counter.js';
import type { HistoryPageKey } from '../../src/modules/messages/sql.js';
import type { InboxPageKey } from '../../src/modules/conversations/sql.js';
import { createLoaders, type Loaders } from '../../src/modules/loaders.js';
import type { Keyset } from '../../src/graphql/relay/cursor.js';
import type { PageRequest } from '../../src/graphql/relay/page-arguments.js';
import { untraced } from '../../src/observability/statements.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser, refreshStats, setLastRead, type FixtureUser } from '../support/fixtures.js';

const MINUTE = 60_000;
const MISSING_ID = 2_000_000_000;
const MISSING_MESSAGE_ID = '9000000000000000000';

let database: TestDatabase;
let viewer: FixtureUser;
let bob: FixtureUser;
let carol: FixtureUser;
let dave: FixtureUser;
/** Created after the stats were refreshed: no stats row. */
let late: FixtureUser;

interface FixtureConversation {
  id: number;
  /** In the order they joined. */
  participants: number[];
  createdAt: Date;
  messages: { id: string; authorId: number; at: Date }[];
  /** The viewer's read position, when the viewer takes part. */
  viewerReadAt: Date | null;
}

/** A (viewer, bob, carol) group, B (viewer, bob) direct, C (bob, carol) without the viewer, D (viewer, dave) empty, E (bob, dave). */
const conversations: Record<'A' | 'B' | 'C' | 'D' | 'E', FixtureConversation> = {} as never;

async function addConversation(
  name: keyof typeof conversations,
  participants: number[],
  createdAt: Date,
  messages: { authorId: number; at: Date }[],
  viewerReadAt: Date | null = null,
): Promise<void> {
  const db = database.pool;
  const id = await insertConversation(db, { participants, createdAt, title: participants.length === 2 && name === 'B' ? undefined : name });
  // Joined one minute apart, in the order given.
  for (const [index, userId] of participants.entries()) {
    await db.query('UPDATE conversation_participants SET joined_at = $3 WHERE conversation_id = $1 AND user_id = $2', [
      id,
      userId,
      new Date(createdAt.getTime() + index * MINUTE),
    ]);
  }
  const ids = messages.length > 0 ? await insertMessages(db, id, messages) : [];
  if (viewerReadAt) await setLastRead(db, id, viewer.id, viewerReadAt);
  conversations[name] = { id, participants, createdAt, messages: messages.map((message, index) => ({ ...message, id: ids[index]! })), viewerReadAt };
}

beforeAll(async () => {
  database = await createTestDatabase();
  instrumentPool(database.pool);
  const db = database.pool;
  // Inserted so that ids do not follow the join order of A.
  carol = await insertUser(db, 'Carol');
  bob = await insertUser(db, 'Bob');
  viewer = await insertUser(db, 'Viewer');
  dave = await insertUser(db, 'Dave');

  const start = Date.parse('2026-07-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(start + minutes * MINUTE);
  await addConversation(
    'A',
    [viewer.id, carol.id, bob.id],
    at(0),
    [bob.id, viewer.id, carol.id, bob.id, bob.id, viewer.id].map((authorId, index) => ({ authorId, at: at(10 + Math.min(index, 3)) })),
    at(12),
  );
  await addConversation(
    'B',
    [viewer.id, bob.id],
    at(60),
    [bob.id, viewer.id, bob.id, bob.id].map((authorId, index) => ({ authorId, at: at(61 + index) })),
  );
  await addConversation(
    'C',
    [bob.id, carol.id],
    at(120),
    [carol.id, carol.id].map((authorId, index) => ({ authorId, at: at(121 + index) })),
  );
  await addConversation('D', [viewer.id, dave.id], at(180), []);
  await addConversation('E', [bob.id, dave.id], at(240), [{ authorId: dave.id, at: at(241) }]);
  await refreshStats(db);
  late = await insertUser(db, 'Late');
});
afterAll(async () => {
  await database.close();
});

const byId = (id: number) => Object.values(conversations).find((conversation) => conversation.id === id);
const allMessages = () =>
  Object.values(conversations).flatMap((conversation) => conversation.messages.map((message) => ({ ...message, conversationId: conversation.id })));
const takesPart = (conversation: FixtureConversation | undefined, userId: number) => conversation?.participants.includes(userId) ?? false;

/** Newest first, the larger id first on equal times: the order of every list. */
function newestFirst(a: Keyset, b: Keyset): number {
  return b.at.getTime() - a.at.getTime() || (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0);
}

/** The raw rows a page loader should read: size + 1 from the cursor (or the list's end) in the direction read, as sorted ids. */
function expectedRawPage(list: Keyset[], page: PageRequest): string[] {
  const sorted = [...list].sort(newestFirst);
  const { cursor } = page;
  const rows = page.forward
    ? sorted.filter((row) => !cursor || newestFirst(row, cursor) > 0)
    : sorted.reverse().filter((row) => !cursor || newestFirst(row, cursor) < 0);
  return rows
    .slice(0, page.size + 1)
    .map((row) => row.id)
    .sort();
}

const inboxOf = (userId: number): Keyset[] =>
  Object.values(conversations)
    .filter((conversation) => takesPart(conversation, userId))
    .map((conversation) => ({
      id: String(conversation.id),
      at: conversation.messages.reduce((latest, message) => (message.at > latest ? message.at : latest), conversation.createdAt),
    }));
const historyOf = (conversationId: number): Keyset[] => (byId(conversationId)?.messages ?? []).map((message) => ({ id: message.id, at: message.at }));
const keysetOfMessage = (message: { id: string; at: Date }): Keyset => ({ id: message.id, at: message.at });

/**
 * One loader's case: the keys to load, what to compare of each result, and
 * what that should be, worked out from the fixture alone.
 */
interface LoaderCase {
  keys: unknown[];
  /** Loads every key in the same tick and projects the results. */
  loadAll(loaders: Loaders): Promise<unknown[]>;
  expected(): unknown[];
}

function loaderCase<Key, Value>(spec: {
  keys: () => Key[];
  load: (loaders: Loaders, key: Key) => Promise<Value>;
  project: (value: Value) => unknown;
  expected: (key: Key) => unknown;
}): () => LoaderCase {
  return () => {
    const keys = spec.keys();
    return {
      keys,
      loadAll: async (loaders) => (await Promise.all(keys.map((key) => spec.load(loaders, key)))).map(spec.project),
      expected: () => keys.map(spec.expected),
    };
  };
}

const forward = (size: number, cursor: Keyset | null = null): PageRequest => ({ forward: true, size, cursor });
const backward = (size: number, cursor: Keyset | null = null): PageRequest => ({ forward: false, size, cursor });

const CASES: Record<keyof Loaders, () => LoaderCase> = {
  userById: loaderCase({
    keys: () => [carol.id, viewer.id, MISSING_ID, bob.id, viewer.id, dave.id, carol.id],
    load: (loaders, id: number) => loaders.userById.load(id),
    project: (user) => user?.username ?? null,
    expected: (id) => [carol, bob, viewer, dave].find((user) => user.id === id)?.username ?? null,
  }),

  statsByUser: loaderCase({
    keys: () => [bob.id, late.id, viewer.id, MISSING_ID, dave.id, bob.id],
    load: (loaders, id: number) => loaders.statsByUser.load(id),
    project: (stats) => (stats ? { userId: stats.userId, totalMessages: stats.totalMessages } : null),
    expected: (id) =>
      [carol, bob, viewer, dave].some((user) => user.id === id)
        ? { userId: id, totalMessages: allMessages().filter((message) => message.authorId === id).length }
        : null,
  }),

  visibleConversationById: loaderCase({
    keys: () => [conversations.B.id, conversations.C.id, conversations.A.id, MISSING_ID, conversations.D.id, conversations.B.id],
    load: (loaders, id: number) => loaders.visibleConversationById.load(id),
    project: (conversation) => (conversation ? { id: conversation.id, createdAt: conversation.createdAt.getTime() } : null),
    expected: (id) => (takesPart(byId(id), viewer.id) ? { id, createdAt: byId(id)!.createdAt.getTime() } : null),
  }),

  participantsByConversation: loaderCase({
    keys: () => [conversations.A.id, MISSING_ID, conversations.C.id, conversations.B.id, conversations.A.id],
    load: (loaders, id: number) => loaders.participantsByConversation.load(id),
    project: (users) => users.map((user) => user.id),
    expected: (id) => byId(id)?.participants ?? [],
  }),

  unreadCountByConversation: loaderCase({
    keys: () => [conversations.A.id, conversations.C.id, conversations.B.id, MISSING_ID, conversations.D.id, conversations.A.id],
    load: (loaders, id: number) => loaders.unreadCountByConversation.load(id),
    project: (count) => count,
    expected: (id) => {
      const conversation = byId(id);
      if (!conversation || !takesPart(conversation, viewer.id)) return 0;
      const readAt = conversation.viewerReadAt;
      return conversation.messages.filter((message) => message.authorId !== viewer.id && (!readAt || message.at > readAt)).length;
    },
  }),

  inboxPage: loaderCase({
    keys: (): InboxPageKey[] => {
      const viewerInbox = inboxOf(viewer.id).sort(newestFirst);
      return [
        { userId: viewer.id, page: forward(1) },
        { userId: bob.id, page: backward(2) },
        { userId: viewer.id, page: forward(1, viewerInbox[0]) },
        { userId: MISSING_ID, page: forward(5) },
        { userId: bob.id, page: forward(10) },
        { userId: viewer.id, page: backward(1, viewerInbox[2]) },
        // The same as the first, as another object.
        { userId: viewer.id, page: forward(1) },
      ];
    },
    load: (loaders, key: InboxPageKey) => loaders.inboxPage.load(key),
    project: (rows) => rows.map((row) => String(row.id)).sort(),
    expected: (key) => expectedRawPage(inboxOf(key.userId), key.page),
  }),

  conversationCountByUser: loaderCase({
    keys: () => [bob.id, viewer.id, MISSING_ID, late.id, dave.id, bob.id],
    load: (loaders, id: number) => loaders.conversationCountByUser.load(id),
    project: (count) => count,
    expected: (id) => Object.values(conversations).filter((conversation) => takesPart(conversation, id)).length,
  }),

  visibleMessageById: loaderCase({
    keys: () => [
      conversations.A.messages[2]!.id,
      conversations.C.messages[0]!.id,
      MISSING_MESSAGE_ID,
      conversations.B.messages[0]!.id,
      conversations.A.messages[2]!.id,
    ],
    load: (loaders, id: string) => loaders.visibleMessageById.load(id),
    project: (message) => (message ? { id: message.id, authorId: message.authorId, conversationId: message.conversationId } : null),
    expected: (id) => {
      const message = allMessages().find((candidate) => candidate.id === id);
      return message && takesPart(byId(message.conversationId), viewer.id) ? { id, authorId: message.authorId, conversationId: message.conversationId } : null;
    },
  }),

  lastMessageByConversation: loaderCase({
    keys: () => [conversations.B.id, conversations.D.id, MISSING_ID, conversations.A.id, conversations.C.id, conversations.B.id],
    load: (loaders, id: number) => loaders.lastMessageByConversation.load(id),
    project: (message) => message?.id ?? null,
    expected: (id) => {
      const conversation = byId(id);
      return conversation?.messages.length ? [...conversation.messages].sort((a, b) => newestFirst(keysetOfMessage(a), keysetOfMessage(b)))[0]!.id : null;
    },
  }),

  messagesByConversation: loaderCase({
    keys: (): HistoryPageKey[] => {
      const history = historyOf(conversations.A.id).sort(newestFirst);
      return [
        { conversationId: conversations.A.id, page: forward(2) },
        { conversationId: conversations.A.id, page: backward(2) },
        { conversationId: conversations.B.id, page: forward(10) },
        { conversationId: conversations.A.id, page: forward(2, history[1]) },
        { conversationId: MISSING_ID, page: forward(3) },
        { conversationId: conversations.D.id, page: backward(3) },
        { conversationId: conversations.A.id, page: backward(1, history[2]) },
        // The same as the first, as another object.
        { conversationId: conversations.A.id, page: forward(2) },
      ];
    },
    load: (loaders, key: HistoryPageKey) => loaders.messagesByConversation.load(key),
    project: (rows) => rows.map((row) => row.id).sort(),
    expected: (key) => expectedRawPage(historyOf(key.conversationId), key.page),
  }),

  messageCountByConversation: loaderCase({
    keys: () => [conversations.A.id, conversations.D.id, MISSING_ID, conversations.B.id, conversations.A.id],
    load: (loaders, id: number) => loaders.messageCountByConversation.load(id),
    project: (count) => count,
    expected: (id) => byId(id)?.messages.length ?? 0,
  }),
};

/** Runs `work`, counting the statements it sends. */
async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const counter: StatementCounter = { count: 0, statements: [] };
  const result = await withStatementCounter(counter, work);
  expect(counter.statements).toHaveLength(counter.count);
  return { result, statements: counter.statements! };
}

const loadersFor = (viewerId: number | null, batch = true) =>
  createLoaders({ pool: database.pool, viewer: viewerId === null ? null : { id: viewerId }, batch, traced: untraced });

describe('createLoaders', () => {
  it('has a case here for every loader it builds', () => {
    expect(Object.keys(loadersFor(null)).sort()).toEqual(Object.keys(CASES).sort());
  });
});

describe.each(Object.keys(CASES) as (keyof Loaders)[])('%s', (name) => {
  it('answers a batch of shuffled keys, duplicates and missing ones included, in one statement and in key order', async () => {
    const loaderCase = CASES[name]();
    const distinct = new Set(loaderCase.keys.map((key) => JSON.stringify(key)));
    // The keys are meant to repeat one and include one that matches nothing.
    expect(distinct.size).toBeLessThan(loaderCase.keys.length);
    const expected = loaderCase.expected();
    expect(expected.some((value) => value === null || value === 0 || (Array.isArray(value) && value.length === 0))).toBe(true);
    expect(new Set(expected.map((value) => JSON.stringify(value))).size).toBeGreaterThan(2);

    const { result, statements } = await counted(() => loaderCase.loadAll(loadersFor(viewer.id)));
    expect(result).toEqual(expected);
    expect(statements).toHaveLength(1);
  });

  it('sends one statement per distinct key with batch: false', async () => {
    const loaderCase = CASES[name]();
    const distinct = new Set(loaderCase.keys.map((key) => JSON.stringify(key)));
    const { result, statements } = await counted(() => loaderCase.loadAll(loadersFor(viewer.id, false)));
    expect(result).toEqual(loaderCase.expected());
    expect(statements).toHaveLength(distinct.size);
  });
});

describe('page loaders', () => {
  it('inboxPage: pages of the same user with different arguments are different keys of one statement', async () => {
    const loaders = loadersFor(viewer.id);
    const pages = [forward(1), forward(2), backward(1), forward(0, inboxOf(viewer.id).sort(newestFirst)[0])];
    const { result, statements } = await counted(() => Promise.all(pages.map((page) => loaders.inboxPage.load({ userId: viewer.id, page }))));
    expect(statements).toHaveLength(1);
    const answers = result.map((rows) => rows.map((row) => String(row.id)).sort());
    expect(answers).toEqual(pages.map((page) => expectedRawPage(inboxOf(viewer.id), page)));
    expect(new Set(answers.map((ids) => ids.join())).size).toBe(pages.length);
  });

  it('messagesByConversation: pages of the same conversation with different arguments are different keys of one statement', async () => {
    const loaders = loadersFor(viewer.id);
    const history = historyOf(conversations.A.id);
    const pages = [forward(1), forward(3), backward(1), backward(2), forward(1, [...history].sort(newestFirst)[0])];
    const { result, statements } = await counted(() =>
      Promise.all(pages.map((page) => loaders.messagesByConversation.load({ conversationId: conversations.A.id, page }))),
    );
    expect(statements).toHaveLength(1);
    const answers = result.map((rows) => rows.map((row) => row.id).sort());
    expect(answers).toEqual(pages.map((page) => expectedRawPage(history, page)));
    expect(new Set(answers.map((ids) => ids.join())).size).toBe(pages.length);
  });
});

describe('priming userById', () => {
  it('participantsByConversation: the participants then load without a statement', async () => {
    const loaders = loadersFor(viewer.id);
    const participants = await loaders.participantsByConversation.load(conversations.A.id);
    expect(participants.map((user) => user.id)).toEqual(conversations.A.participants);
    const { result, statements } = await counted(() => Promise.all(conversations.A.participants.map((id) => loaders.userById.load(id))));
    expect(statements).toHaveLength(0);
    expect(result).toEqual(participants);
  });

  it.each([
    ['lastMessageByConversation', (loaders: Loaders) => loaders.lastMessageByConversation.load(conversations.A.id).then((message) => [message!])],
    ['messagesByConversation', (loaders: Loaders) => loaders.messagesByConversation.load({ conversationId: conversations.A.id, page: forward(10) })],
  ])('%s: the authors then load without a statement', async (_name, load) => {
    const loaders = loadersFor(viewer.id);
    const messages = await load(loaders);
    const authorIds = [...new Set(messages.map((message) => message.authorId))];
    expect(authorIds.length).toBeGreaterThan(0);
    const { result, statements } = await counted(() => Promise.all(authorIds.map((id) => loaders.userById.load(id))));
    expect(statements).toHaveLength(0);
    expect(result.map((user) => user?.id)).toEqual(authorIds);
    expect(result.every((user) => typeof user?.username === 'string')).toBe(true);
  });

  it('a fresh userById does send a statement (so the checks above are not vacuous)', async () => {
    const { statements } = await counted(() => loadersFor(viewer.id).userById.load(bob.id));
    expect(statements).toHaveLength(1);
  });
});

describe('visibility', () => {
  it('visibleConversationById and visibleMessageById: null outside the viewer’s conversations, whoever the viewer is', async () => {
    const asBob = loadersFor(bob.id);
    const asDave = loadersFor(dave.id);
    const { result } = await counted(() =>
      Promise.all([
        asBob.visibleConversationById.load(conversations.D.id),
        asBob.visibleConversationById.load(conversations.C.id),
        asDave.visibleConversationById.load(conversations.A.id),
        asDave.visibleConversationById.load(conversations.D.id),
        asBob.visibleMessageById.load(conversations.C.messages[0]!.id),
        asDave.visibleMessageById.load(conversations.C.messages[0]!.id),
      ]),
    );
    expect(result.map((row) => row?.id ?? null)).toEqual([null, conversations.C.id, null, conversations.D.id, conversations.C.messages[0]!.id, null]);
  });

  it('signed out: every conversation and message is null, every unread count 0, without a statement', async () => {
    const loaders = loadersFor(null);
    const conversationIds = Object.values(conversations).map((conversation) => conversation.id);
    const messageIds = allMessages().map((message) => message.id);
    const { result, statements } = await counted(() =>
      Promise.all([
        Promise.all(conversationIds.map((id) => loaders.visibleConversationById.load(id))),
        Promise.all(messageIds.map((id) => loaders.visibleMessageById.load(id))),
        Promise.all(conversationIds.map((id) => loaders.unreadCountByConversation.load(id))),
      ]),
    );
    expect(result).toEqual([conversationIds.map(() => null), messageIds.map(() => null), conversationIds.map(() => 0)]);
    expect(statements).toHaveLength(0);
  });
});
