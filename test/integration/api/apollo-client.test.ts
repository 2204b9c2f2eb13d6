// What a web client sees: Apollo Client (InMemoryCache with the shipped
// type policies, HttpLink over fetch) drives the test server through the
// typed operations of clients/operations, as an app would: inbox, a
// conversation's history, a profile, send a message, mark one read. The
// normalized cache must show the right state with no hand-written update
// beyond placing a conversation in the inbox, and Apollo Client must print
// no warning. (Paging an inbox while conversations move, and the other
// helpers: apollo-client-inbox.test.ts.)
import type { ApolloClient as ApolloClientType } from '@apollo/client';
import { placeConversationInInbox } from '../../../clients/cache-updates.js';
import {
  ConversationHistoryDocument,
  InboxDocument,
  MarkConversationReadDocument,
  ProfileDocument,
  SendMessageDocument,
  type InboxQuery,
} from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { startApolloClient } from '../../support/apollo-client.js';
import { insertConversation, insertMessages, insertUser, refreshStats, type FixtureUser } from '../../support/fixtures.js';

const MINUTE = 60_000;
const HISTORY_LENGTH = 25;
const PREVIEW = 5;

let api: TestApi;
let viewer: FixtureUser;
/** Oldest activity first: the inbox lists them in reverse. */
let conversationIds: string[];
let client: ApolloClientType;
/** What Apollo Client printed (startApolloClient captures the console). */
let consoleOutput: string[];
let stopClient: (() => void) | undefined;

beforeAll(async () => {
  api = await startTestApi();
  const db = api.database.pool;
  viewer = await insertUser(db, 'Viewer');
  const friend = await insertUser(db, 'Friend');
  conversationIds = [];
  // Three groups with 25 messages each, alternating authors, all in the past
  // (so a message sent now is the newest), none read by the viewer. They all
  // fall on yesterday (UTC), between 13:00 and 18:00: anchored to now, a run
  // shortly after midnight would spread them over two days, a streak of 2.
  const yesterdayEvening = new Date(new Date().setUTCHours(0, 0, 0, 0) - 6 * 60 * MINUTE).getTime();
  for (let index = 0; index < 3; index += 1) {
    const start = yesterdayEvening - (3 - index) * 100 * MINUTE;
    const id = await insertConversation(db, { participants: [viewer.id, friend.id], title: `Group ${index}`, createdAt: new Date(start) });
    await insertMessages(
      db,
      id,
      Array.from({ length: HISTORY_LENGTH }, (_unused, message) => ({
        authorId: message % 2 === 0 ? friend.id : viewer.id,
        body: `group ${index} message ${message}`,
        at: new Date(start + (message + 1) * MINUTE),
      })),
    );
    conversationIds.push(toGlobalId('Conversation', id));
  }
  await refreshStats(db);

  ({ client, warnings: consoleOutput, stop: stopClient } = await startApolloClient({ url: api.url, token: await api.tokenFor(viewer.id) }));
});

afterAll(async () => {
  stopClient?.();
  await api?.close();
});

const inboxVariables = { conversations: 10, messages: PREVIEW };

/** The inbox as the cache holds it now (no request). */
function cachedInbox(): NonNullable<InboxQuery['viewer']> {
  const inbox = client.readQuery({ query: InboxDocument, variables: inboxVariables });
  expect(inbox?.viewer).toBeTruthy();
  return inbox!.viewer!;
}

function cachedHistory(id: string) {
  const history = client.readQuery({ query: ConversationHistoryDocument, variables: { id } });
  expect(history?.conversation).toBeTruthy();
  return history!.conversation!;
}

/** Another page of a history from the server, merged into the cached history by the type policy (as fetchMore does). */
async function readHistory(variables: { id: string; after?: string | null; before?: string | null; last?: number }) {
  const page = await client.query({ query: ConversationHistoryDocument, variables, fetchPolicy: 'network-only' });
  expect(page.error).toBeUndefined();
}

const bodies = (messages: readonly { body: string }[]) => messages.map((message) => message.body);
/** Newest first: the last `count` messages of a fixture group, from `from`. */
const fixtureBodies = (group: number, count: number, from = HISTORY_LENGTH - 1) =>
  Array.from({ length: count }, (_unused, index) => `group ${group} message ${from - index}`);

describe('Apollo Client with the shipped type policies', () => {
  it('keeps the inbox, the history, a send and a mark-read right in its cache by itself', async () => {
    // The inbox, newest activity first, each conversation with a short preview.
    const inbox = await client.query({ query: InboxDocument, variables: inboxVariables });
    expect(inbox.error).toBeUndefined();
    const listed = inbox.data!.viewer!.conversations!.edges.map((edge) => edge.node);
    expect(listed.map((conversation) => conversation.id)).toEqual([...conversationIds].reverse());
    for (const conversation of listed) expect(conversation.recentMessages).toHaveLength(PREVIEW);
    const unreadBefore = listed.map((conversation) => conversation.unreadCount);
    expect(unreadBefore).toEqual([13, 13, 13]);

    // A conversation's history: 20 messages, then the older 5. The preview
    // stays a preview, the history a history.
    const [oldest, middle, newest] = conversationIds as [string, string, string];
    const firstPage = await client.query({ query: ConversationHistoryDocument, variables: { id: oldest } });
    expect(bodies(firstPage.data!.conversation!.messages.edges.map((edge) => edge.node))).toEqual(fixtureBodies(0, 20));
    await readHistory({ id: oldest, after: firstPage.data!.conversation!.messages.pageInfo.endCursor });
    expect(bodies(cachedHistory(oldest).messages.edges.map((edge) => edge.node))).toEqual(fixtureBodies(0, HISTORY_LENGTH));
    expect(bodies(cachedInbox().conversations!.edges[2]!.node.recentMessages)).toEqual(fixtureBodies(0, PREVIEW));

    // A profile selecting other statistics of the same user merges into one UserStats.
    const profile = await client.query({ query: ProfileDocument, variables: { username: viewer.username } });
    expect(profile.data!.userByUsername!.stats!.totalMessages).toBe(3 * 12);
    expect(cachedInbox().stats!.totalMessages).toBe(3 * 12);
    // Back to the inbox, fresh from the server: the smaller selection of
    // statistics is written over the larger one without losing any.
    await client.query({ query: InboxDocument, variables: inboxVariables, fetchPolicy: 'network-only' });
    expect(client.readQuery({ query: ProfileDocument, variables: { username: viewer.username } })!.userByUsername!.stats!.maxStreak).toBe(1);

    // Send a message in the oldest conversation: the payload brings back the
    // conversation, so its last message, time, unread count and preview
    // update; the only hand-written update moves it to the top of the inbox.
    const sent = await client.mutate({
      mutation: SendMessageDocument,
      variables: { conversationId: oldest, body: 'hello from Apollo Client', messages: PREVIEW },
      update: (cache, { data }) => {
        if (data) placeConversationInInbox(cache, { viewerId: data.sendMessage.message.author.id, conversation: data.sendMessage.conversation });
      },
    });
    expect(sent.error).toBeUndefined();
    const message = sent.data!.sendMessage.message;
    const afterSend = cachedInbox().conversations!.edges.map((edge) => edge.node);
    expect(afterSend.map((conversation) => conversation.id)).toEqual([oldest, newest, middle]);
    expect(afterSend[0]).toMatchObject({
      lastMessage: { id: message.id, body: 'hello from Apollo Client' },
      lastMessageAt: message.createdAt,
      unreadCount: 0,
    });
    expect(bodies(afterSend[0]!.recentMessages)).toEqual(['hello from Apollo Client', ...fixtureBodies(0, PREVIEW - 1)]);
    // The history keeps its 25 messages; reading newer ones (before its
    // first cursor) puts the new message on top, with no gap or repeat.
    expect(cachedHistory(oldest).messages.edges).toHaveLength(HISTORY_LENGTH);
    await readHistory({ id: oldest, before: cachedHistory(oldest).messages.pageInfo.startCursor, last: 20 });
    expect(bodies(cachedHistory(oldest).messages.edges.map((edge) => edge.node))).toEqual(['hello from Apollo Client', ...fixtureBodies(0, HISTORY_LENGTH)]);

    // Mark the newest conversation read: its unread count drops in the inbox.
    const read = await client.mutate({ mutation: MarkConversationReadDocument, variables: { conversationId: newest } });
    expect(read.error).toBeUndefined();
    const afterRead = cachedInbox().conversations!.edges.map((edge) => edge.node);
    expect(afterRead.map((conversation) => [conversation.id, conversation.unreadCount])).toEqual([
      [oldest, 0],
      [newest, 0],
      [middle, 13],
    ]);

    expect(consoleOutput).toEqual([]);
  });

  it('reports cache problems in this test (the warning check is not vacuous)', () => {
    // Writing an object without its id where the cache holds one loses data:
    // Apollo Client warns, and the capture above sees it.
    const before = consoleOutput.length;
    client.cache.writeQuery({
      query: ProfileDocument,
      variables: { username: viewer.username },
      data: { userByUsername: { __typename: 'User', id: toGlobalId('User', viewer.id), stats: { __typename: 'UserStats' } } } as never,
    });
    expect(consoleOutput.length).toBeGreaterThan(before);
  });
});
