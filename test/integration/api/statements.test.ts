// The statement budget of docs/design.md, counted for each request (x-sql-statements):
// statements grow with the depth of a query, never with the number of items.
// Counted through the resolvers (SQL_READS=false): a compiled read is one
// statement whatever it selects (sql-reads.test.ts), and the resolvers answer
// every query compiled reads do not cover, and every read with the loader cache.
import pg from 'pg';
import { ConversationHistoryDocument, InboxDocument, ProfileDocument, SendMessageDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertInbox, type InboxFixture } from '../../support/fixtures.js';

let api: TestApi;
let unbatched: TestApi;
let inbox: InboxFixture;
let token: string;

beforeAll(async () => {
  api = await startTestApi({ SQL_READS: 'false' });
  inbox = await insertInbox(api.database.pool, { conversations: 50, messagesEach: 25 });
  // The same database, served with DATALOADER_BATCH=false: the benchmark's baseline.
  unbatched = await startTestApi({ DATALOADER_BATCH: 'false', SQL_READS: 'false' }, { ...api.database, close: async () => {} });
  token = await api.tokenFor(inbox.viewer.id);
});
afterAll(async () => {
  await unbatched.close();
  await api.close();
});

// viewer; its stats and its inbox page; participants, last messages, unread
// counts and message previews (recentMessages) of all conversations; the authors' stats (authors
// come with their messages).
const INBOX_STATEMENTS = 8;
// BEGIN, the participant lock, the INSERT, the one statement of its effects, COMMIT.
const WRITE_STATEMENTS = 5;

describe('the reference inbox operation', () => {
  it(`runs in ${INBOX_STATEMENTS} statements for 50 conversations × 20 messages`, async () => {
    const result = await api.request(InboxDocument, { conversations: 50, messages: 20 }, { token });
    expect(result.errors).toBeUndefined();
    const conversations = result.data!.viewer!.conversations!.edges;
    expect(conversations).toHaveLength(50);
    for (const { node } of conversations) {
      expect(node.participants).toHaveLength(3);
      expect(node.recentMessages).toHaveLength(20);
      expect(node.lastMessage?.id).toBe(node.recentMessages[0]!.id);
      for (const message of node.recentMessages) expect(message.author.stats).not.toBeNull();
    }
    expect(result.statements).toBe(INBOX_STATEMENTS);
  });

  it('runs in the same number of statements for 5 conversations × 5 messages', async () => {
    const result = await api.request(InboxDocument, { conversations: 5, messages: 5 }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.viewer!.conversations!.edges).toHaveLength(5);
    expect(result.statements).toBe(INBOX_STATEMENTS);
  });

  it('runs one statement per key with DATALOADER_BATCH=false, and answers the same', async () => {
    const variables = { conversations: 50, messages: 20 };
    const batched = await api.request(InboxDocument, variables, { token });
    const result = await unbatched.request(InboxDocument, variables, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(batched.data);
    // viewer, its stats, its inbox page; 4 statements per conversation
    // (participants, last message, unread count, message preview); the stats
    // of each distinct author: 49 conversations have their two friends and
    // the viewer as authors, the viewer's stats already loaded.
    const authors = new Set(result.data!.viewer!.conversations!.edges.flatMap(({ node }) => node.recentMessages.map((message) => message.author.id)));
    authors.delete(toGlobalId('User', inbox.viewer.id));
    expect(result.statements).toBe(3 + 4 * 50 + authors.size);
    expect(result.statements).toBeGreaterThan(200);
  });
});

describe('other operations', () => {
  it('a history page: the conversation, its participants, its messages (authors joined)', async () => {
    const result = await api.request(ConversationHistoryDocument, { id: toGlobalId('Conversation', inbox.conversationIds[0]!), first: 20 }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.conversation!.messages.edges).toHaveLength(20);
    expect(result.statements).toBe(3);
  });

  it('a message by node id with its author and conversation: the message (author joined), the conversation', async () => {
    const history = await api.request(ConversationHistoryDocument, { id: toGlobalId('Conversation', inbox.conversationIds[1]!), first: 1 }, { token });
    const messageId = history.data!.conversation!.messages.edges[0]!.node.id;
    const result = await api.request(
      'query ($id: ID!) { node(id: $id) { ... on Message { body author { displayName } conversation { title } } } }',
      { id: messageId },
      { token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ node: { author: { displayName: expect.any(String) }, conversation: { title: 'Group 1' } } });
    expect(result.statements).toBe(2);
  });

  it('a profile: the user, their stats', async () => {
    const result = await api.request(ProfileDocument, { username: inbox.others[0]!.username });
    expect(result.errors).toBeUndefined();
    expect(result.data!.userByUsername!.stats!.totalMessages).toBeGreaterThan(0);
    expect(result.statements).toBe(2);
  });

  it("a user's statistics by node id: one statement", async () => {
    const result = await api.request('query ($id: ID!) { node(id: $id) { id ... on UserStats { totalMessages } } }', {
      id: toGlobalId('UserStats', inbox.others[0]!.id),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ node: { id: toGlobalId('UserStats', inbox.others[0]!.id), totalMessages: expect.any(Number) } });
    expect(result.statements).toBe(1);
  });

  // The write; then the payload, read afresh (the write cleared the
  // request's loaders): the message's author, the conversation, its
  // participants, last message, unread count and preview, the preview's
  // authors' stats (the authors come with the messages).
  it("sendMessage with the inbox's view of the conversation: the write, then one statement per relation", async () => {
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', inbox.conversationIds[2]!), body: 'counted', messages: 20 },
      { token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.sendMessage.conversation.recentMessages).toHaveLength(20);
    expect(result.statements).toBe(WRITE_STATEMENTS + 7);
  });
});

describe('the count', () => {
  // The request's recording pool is the one count (the request log, the
  // metrics, extensions.sql and x-sql-statements read it): here a pool that
  // also counts at the driver, under every caller, shows it misses nothing.
  it('is every statement the driver sent for the request, a write’s BEGIN and COMMIT included', async () => {
    let atDriver = 0;
    const pool = new pg.Pool({ connectionString: api.database.url, max: 4 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        atDriver += 1;
        return query(...args);
      }) as typeof client.query;
    });
    const server = await startTestApi({ SQL_READS: 'false' }, { ...api.database, pool, close: () => pool.end() });
    try {
      const conversationId = toGlobalId('Conversation', inbox.conversationIds[3]!);
      const requests = [
        () => server.request(InboxDocument, { conversations: 50, messages: 20 }, { token }),
        () => server.request(SendMessageDocument, { conversationId, body: 'seen at the driver', messages: 20 }, { token }),
        () => server.request('{ __typename }'),
      ];
      const counts = [];
      for (const send of requests) {
        const before = atDriver;
        const result = await send();
        expect(result.errors).toBeUndefined();
        counts.push({ header: result.statements, driver: atDriver - before });
      }
      expect(counts).toEqual([
        { header: INBOX_STATEMENTS, driver: INBOX_STATEMENTS },
        { header: WRITE_STATEMENTS + 7, driver: WRITE_STATEMENTS + 7 },
        { header: 0, driver: 0 },
      ]);
    } finally {
      await server.close();
    }
  });
});
