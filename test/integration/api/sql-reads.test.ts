// Reads compiled into one SQL statement (SQL_READS, the default) answer byte
// for byte what the resolvers answer (SQL_READS=false) on the same database:
// the same values, the same keys in the same order, the same errors; in one
// statement where they are compiled, and through the resolvers where they
// are not (a field no table knows, a directive, arguments the resolvers
// refuse, another user's private list).
import { print, type DocumentNode } from 'graphql';
import { ConversationHistoryDocument, InboxDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, statementsOf, type TestApi } from '../../support/api.js';
import { insertConversation, insertInbox, insertMessages, insertUser, setLastRead, type InboxFixture } from '../../support/fixtures.js';

let compiled: TestApi;
let resolved: TestApi;
let cachedCompiled: TestApi;
let cachedResolved: TestApi;
let inbox: InboxFixture;
let token: string;
let conversationCursor: string;
let messageCursor: string;
let loner: number;
let direct: number;

/** The raw answer: status, body text and statements sent, as a client receives them. */
async function raw(api: TestApi, document: DocumentNode | string, variables: Record<string, unknown>, withToken = true) {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(withToken ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
  });
  return { status: response.status, body: await response.text(), statements: statementsOf(response.headers), cache: response.headers.get('x-cache') };
}

beforeAll(async () => {
  compiled = await startTestApi();
  const shared = { ...compiled.database, close: async () => {} };
  resolved = await startTestApi({ SQL_READS: 'false' }, shared);
  cachedCompiled = await startTestApi({ RESPONSE_CACHE: 'on' }, shared);
  cachedResolved = await startTestApi({ RESPONSE_CACHE: 'on', SQL_READS: 'false' }, shared);
  inbox = await insertInbox(compiled.database.pool, { conversations: 12, messagesEach: 7 });
  // A direct conversation without messages (lastMessage null, lastMessageAt null), an edited message, a read mark (unread counts below the total).
  const lonerUser = await insertUser(compiled.database.pool, 'Loner');
  direct = await insertConversation(compiled.database.pool, { participants: [inbox.viewer.id, lonerUser.id] });
  // A conversation of two others: not the viewer's.
  loner = await insertConversation(compiled.database.pool, { participants: [lonerUser.id, inbox.others[0]!.id], title: 'not yours' });
  const [edited] = await insertMessages(compiled.database.pool, inbox.conversationIds[2]!, [
    { authorId: inbox.others[4]!.id, at: new Date('2026-09-01T10:00:00.123Z') },
  ]);
  await compiled.database.pool.query(
    `UPDATE messages SET edited_at = '2026-09-01T10:05:00.456Z', body = 'quote " backslash \\ tab \t unicode é ✓ emoji 😀' WHERE id = $1`,
    [edited],
  );
  await setLastRead(compiled.database.pool, inbox.conversationIds[5]!, inbox.viewer.id, new Date('2026-06-01T01:00:00Z'));
  token = await compiled.tokenFor(inbox.viewer.id);
  const page = JSON.parse(
    (
      await raw(
        resolved,
        'query { viewer { conversations(first: 4) { pageInfo { endCursor } edges { node { messages(first: 3) { pageInfo { endCursor } } } } } } }',
        {},
      )
    ).body,
  ) as {
    data: { viewer: { conversations: { pageInfo: { endCursor: string }; edges: { node: { messages: { pageInfo: { endCursor: string } } } }[] } } };
  };
  conversationCursor = page.data.viewer.conversations.pageInfo.endCursor;
  messageCursor = page.data.viewer.conversations.edges[1]!.node.messages.pageInfo.endCursor;
});
afterAll(async () => {
  await cachedResolved.close();
  await cachedCompiled.close();
  await resolved.close();
  await compiled.close();
});

const CONNECTION_FIELDS = `__typename totalCount
  pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
  edges { __typename cursor node { __typename id } }`;

/** Operations compiled into one statement. */
const COMPILED: [name: string, document: () => DocumentNode | string, variables: () => Record<string, unknown>][] = [
  ['the Inbox operation, 12 × 7 and more', () => InboxDocument, () => ({ conversations: 20, messages: 7 })],
  ['the Inbox operation, a page after a cursor', () => InboxDocument, () => ({ conversations: 3, messages: 2, after: conversationCursor })],
  ['the Inbox operation, no conversations asked for', () => InboxDocument, () => ({ conversations: 0, messages: 0 })],
  [
    'the reference query',
    () => `query ($c: Int!, $m: Int!) { viewer { conversations(first: $c) { edges { node { id title
      participants { id username displayName } messages(first: $m) { edges { node { id body createdAt author { id username displayName } } } } } } } } }`,
    () => ({ c: 20, m: 20 }),
  ],
  ['every field of a connection, forward', () => `{ viewer { conversations(first: 5) { ${CONNECTION_FIELDS} } } }`, () => ({})],
  [
    'every field of a connection, after a cursor',
    () => `query ($a: String) { viewer { conversations(first: 2, after: $a) { ${CONNECTION_FIELDS} } } }`,
    () => ({ a: conversationCursor }),
  ],
  ['a connection read backward', () => `{ viewer { conversations(last: 3) { ${CONNECTION_FIELDS} } } }`, () => ({})],
  [
    'a connection read backward before a cursor',
    () => `query ($b: String) { viewer { conversations(last: 2, before: $b) { ${CONNECTION_FIELDS} } } }`,
    () => ({ b: conversationCursor }),
  ],
  [
    'connections selecting no edge: a count, a type name, over an empty history and a full one',
    () => `query ($empty: ID!, $full: ID!) {
      empty: conversation(id: $empty) { messages(first: 0) { totalCount } other: messages { __typename } }
      full: conversation(id: $full) { messages(first: 0) { totalCount } other: messages { __typename } }
      viewer { conversations { totalCount } } }`,
    () => ({ empty: toGlobalId('Conversation', direct), full: toGlobalId('Conversation', inbox.conversationIds[4]!) }),
  ],
  [
    'an empty page at the end of the list',
    () => `{ viewer { conversations(first: 100) { edges { cursor } pageInfo { hasNextPage startCursor endCursor } } } }`,
    () => ({}),
  ],
  [
    'histories: forward, after a cursor, backward, before a cursor, with counts',
    () => `query ($a: String) { viewer { conversations(first: 3) { edges { node {
      first: messages(first: 2) { ${CONNECTION_FIELDS} }
      after: messages(first: 2, after: $a) { ${CONNECTION_FIELDS} }
      last: messages(last: 3) { ${CONNECTION_FIELDS} }
      before: messages(last: 1, before: $a) { ${CONNECTION_FIELDS} }
      all: messages(first: 100) { totalCount edges { node { cursor body editedAt createdAt } } }
    } } } } }`,
    () => ({ a: messageCursor }),
  ],
  [
    'fragments, inline fragments, aliases and one field selected twice with different sub-selections',
    () => `query { me: viewer { ...Who ... on User { xp } ... on Node { id } n: id conversations(first: 2) { edges { node { ... on Conversation { kind k2: kind }
      lastMessage { author { id } } lastMessage { author { username stats { id } } body } } } } } }
      fragment Who on User { __typename username email createdAt lastActiveAt level avatarUrl displayName }`,
    () => ({}),
  ],
  [
    'emails: the viewer’s own, null for everyone else',
    () => `{ viewer { email conversations(first: 3) { edges { node { participants { id email } recentMessages(first: 3) { author { email } } } } } } }`,
    () => ({}),
  ],
  ['a history, its first page', () => ConversationHistoryDocument, () => ({ id: toGlobalId('Conversation', inbox.conversationIds[2]!), first: 3 })],
  [
    'a history after a cursor',
    () => ConversationHistoryDocument,
    () => ({ id: toGlobalId('Conversation', inbox.conversationIds[1]!), first: 2, after: messageCursor }),
  ],
  [
    'a history read backward',
    () => ConversationHistoryDocument,
    () => ({ id: toGlobalId('Conversation', inbox.conversationIds[1]!), last: 2, before: messageCursor }),
  ],
  [
    'a conversation beside the inbox, aliased twice',
    () => `query ($a: ID!, $b: ID!) { one: conversation(id: $a) { id unreadCount lastMessage { body } } two: conversation(id: $b) { title } viewer { id } }`,
    () => ({ a: toGlobalId('Conversation', inbox.conversationIds[0]!), b: toGlobalId('Conversation', inbox.conversationIds[3]!) }),
  ],
  [
    'statistics, unread counts, a message’s conversation',
    () => `{ viewer { stats { __typename id totalMessages messagesLast7Days messagesLast30Days currentStreak maxStreak lastActivityAt refreshedAt }
      conversations(first: 20) { edges { node { unreadCount lastMessageAt lastMessage { conversation { id title } } } } } } }`,
    () => ({}),
  ],
];

/**
 * Operations the resolvers answer: what no table compiles, and every error.
 * `tried`: statements the compiled read sent before it left the operation
 * to them (it found no conversation the viewer takes part in).
 */
const RESOLVED: [name: string, document: () => DocumentNode | string, variables: () => Record<string, unknown>, withToken?: boolean, tried?: number][] = [
  ['NOT_FOUND: a conversation the viewer is not in', () => ConversationHistoryDocument, () => ({ id: toGlobalId('Conversation', loner) }), true, 1],
  ['NOT_FOUND: a conversation that does not exist', () => ConversationHistoryDocument, () => ({ id: toGlobalId('Conversation', 2_000_000_000) }), true, 1],
  ['a conversation id of the wrong type: BAD_USER_INPUT', () => ConversationHistoryDocument, () => ({ id: toGlobalId('User', inbox.viewer.id) })],
  ['a directive', () => `query ($on: Boolean!) { viewer { id username @include(if: $on) } }`, () => ({ on: true })],
  ['a root field no table knows', () => `query ($u: ID!) { viewer { id } user(id: $u) { username } }`, () => ({ u: toGlobalId('User', inbox.others[0]!.id) })],
  [
    'another user’s conversations: FORBIDDEN',
    () => `{ viewer { conversations(first: 1) { edges { node { participants { username conversations(first: 1) { totalCount } } } } } } }`,
    () => ({}),
  ],
  ['a page too large: BAD_USER_INPUT', () => `{ viewer { conversations(first: 101) { totalCount } } }`, () => ({})],
  ['both directions at once: BAD_USER_INPUT', () => `{ viewer { conversations(first: 1, last: 1) { totalCount } } }`, () => ({})],
  ['a forged cursor: BAD_USER_INPUT', () => `{ viewer { conversations(first: 1, after: "bm90LWEtY3Vyc29y") { totalCount } } }`, () => ({})],
  ['a preview too large: BAD_USER_INPUT', () => `{ viewer { conversations(first: 1) { edges { node { recentMessages(first: -1) { id } } } } } }`, () => ({})],
  ['signed out: viewer null', () => `{ viewer { id username } }`, () => ({}), false],
  ['a variable of the wrong type', () => 'query ($first: Int) { viewer { conversations(first: $first) { totalCount } } }', () => ({ first: 'many' })],
];

describe('reads compiled into one statement', () => {
  it.each(COMPILED)('answer %s byte for byte as the resolvers do, in one statement', async (_name, document, variables) => {
    const [fromSql, fromResolvers] = [await raw(compiled, document(), variables()), await raw(resolved, document(), variables())];
    expect({ status: fromSql.status, body: fromSql.body }).toEqual({ status: fromResolvers.status, body: fromResolvers.body });
    expect(JSON.parse(fromSql.body)).not.toHaveProperty('errors');
    expect(fromSql.statements).toBe(1);
    expect(fromResolvers.statements).toBeGreaterThan(1);
  });

  it.each(RESOLVED)('leave %s to the resolvers, which answer it as before', async (_name, document, variables, withToken = true, tried = 0) => {
    const [fromSql, fromResolvers] = [await raw(compiled, document(), variables(), withToken), await raw(resolved, document(), variables(), withToken)];
    expect({ status: fromSql.status, body: fromSql.body }).toEqual({ status: fromResolvers.status, body: fromResolvers.body });
    expect(fromSql.statements).toBe(fromResolvers.statements + tried);
  });

  it.each([
    ['the Inbox operation', () => InboxDocument],
    // The cache adds the ids its tags are read from, and takes them out again.
    [
      'a query selecting no id',
      () =>
        `query ($conversations: Int) { viewer { conversations(first: $conversations) { edges { node { title unreadCount lastMessage { body author { displayName } } } } } } }`,
    ],
  ])('answer %s the same through the response cache, which tags and stores them, and drops them at a write', async (name, document) => {
    const variables = { conversations: 5, messages: 3 };
    const first = await raw(cachedCompiled, document(), variables);
    const again = await raw(cachedCompiled, document(), variables);
    expect(first.body).toBe((await raw(resolved, document(), variables)).body);
    expect(first.body).not.toContain('__cache');
    expect([first.cache, first.statements]).toEqual(['MISS', 1]);
    expect(again).toEqual({ ...first, cache: 'HIT', statements: 0 });
    // A new message in one of its conversations drops the stored answer: the next read is compiled again and sees it.
    const sent = await cachedCompiled.request(
      `mutation ($c: ID!, $body: String!) { sendMessage(input: { conversationId: $c, body: $body }) { message { id } } }`,
      { c: toGlobalId('Conversation', inbox.conversationIds[7]!), body: `after the cache: ${name}` },
      { token },
    );
    expect(sent.errors).toBeUndefined();
    const after = await raw(cachedCompiled, document(), variables);
    expect([after.cache, after.statements]).toEqual(['MISS', 1]);
    expect(first.body).not.toContain(`after the cache: ${name}`);
    expect(after.body).toContain(`after the cache: ${name}`);
    expect(after.body).toBe((await raw(resolved, document(), variables)).body);
  });
});
