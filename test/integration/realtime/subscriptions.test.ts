// Subscriptions over WebSocket on one instance, with graphql-ws's own
// client: what each subscription sends, to whom, and when it ends.
import { SignJWT } from 'jose';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { ParleyCloseCode } from '../../../src/realtime/closes.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { collect, connect, openRawSocket, type LiveClient } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

let api: TestApi;
const clients: LiveClient[] = [];

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  for (const live of clients) await live.dispose();
  await api.close();
});

/** Resolves once `count` subscriptions of `field` follow their topics on the server (more than were following before). */
async function subscribed(field: string, count: number, before = following(field)): Promise<void> {
  await waitFor(() => following(field) >= before + count, `${count} ${field} subscriptions`);
}
const following = (field: string) => api.server.realtimeActivity.subscriptions.get(field) ?? 0;

async function client(user: FixtureUser): Promise<LiveClient> {
  const live = connect(api.url, await api.tokenFor(user.id));
  clients.push(live);
  return live;
}

/** A group of three, with one older message. */
async function group(name: string) {
  const users = [
    await insertUser(api.database.pool, `${name}A`),
    await insertUser(api.database.pool, `${name}B`),
    await insertUser(api.database.pool, `${name}C`),
  ];
  const conversationId = await insertConversation(api.database.pool, {
    participants: users.map((user) => user.id),
    title: name,
    createdAt: new Date(Date.now() - 3_600_000),
  });
  const [olderId] = await insertMessages(api.database.pool, conversationId, [{ authorId: users[1]!.id, at: new Date(Date.now() - 60_000), body: 'older' }]);
  return { users, conversationId, id: toGlobalId('Conversation', conversationId), olderId: olderId! };
}

async function send(user: FixtureUser, conversation: string, body: string): Promise<{ id: string; cursor: string }> {
  const result = await api.request<{ sendMessage: { message: { id: string; cursor: string } } }>(
    'mutation Send($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id cursor } } }',
    { id: conversation, body },
    { token: await api.tokenFor(user.id) },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.sendMessage.message;
}

const MESSAGE_ADDED = `subscription Added($id: ID!, $after: String) {
  messageAdded(conversationId: $id, after: $after) { id body cursor author { id displayName } }
}`;

type Added = { messageAdded: { id: string; body: string; cursor: string; author: { id: string } } };

describe('messageAdded', () => {
  it('sends each new message to every participant subscribed, the sender’s own included, with its author and cursor', async () => {
    const { users, id } = await group('Added');
    const before = following('messageAdded');
    const subscribers = await Promise.all(users.map(async (user) => collect<Added>((await client(user)).client, MESSAGE_ADDED, { id })));
    await subscribed('messageAdded', 3, before);
    const sent = await send(users[0]!, id, 'hello');
    for (const subscriber of subscribers) {
      const [result] = await subscriber.until(1);
      expect(result).toEqual({
        data: {
          messageAdded: { id: sent.id, body: 'hello', cursor: sent.cursor, author: { id: toGlobalId('User', users[0]!.id), displayName: `${'Added'}A` } },
        },
      });
    }
  });

  it('with `after`, replays every later message in order, then the live ones, none twice', async () => {
    const { users, id } = await group('Resume');
    const first = await send(users[0]!, id, 'one');
    await send(users[1]!, id, 'two');
    await send(users[2]!, id, 'three');
    const subscriber = collect<Added>((await client(users[1]!)).client, MESSAGE_ADDED, { id, after: first.cursor });
    expect((await subscriber.until(2)).map((result) => result.data!.messageAdded.body)).toEqual(['two', 'three']);
    await send(users[0]!, id, 'four');
    expect((await subscriber.until(3)).map((result) => result.data!.messageAdded.body)).toEqual(['two', 'three', 'four']);
  });

  it('is NOT_FOUND to a non-participant, as for a query, and for an id that does not exist', async () => {
    const { id } = await group('Outside');
    const outsider = await insertUser(api.database.pool, 'Outsider');
    const live = await client(outsider);
    for (const conversation of [id, toGlobalId('Conversation', 2_000_000_000)]) {
      const subscription = collect(live.client, MESSAGE_ADDED, { id: conversation });
      await subscription.ended();
      expect(subscription.results).toEqual([{ errors: [expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })] }]);
    }
  });

  it('after leaveConversation, the leaver receives nothing more: their subscriptions end with NOT_FOUND, the others go on', async () => {
    const { users, id } = await group('Leave');
    const [added, typing] = [following('messageAdded'), following('typing')];
    const leaver = collect<Added>((await client(users[2]!)).client, MESSAGE_ADDED, { id });
    const leaverTyping = collect((await client(users[2]!)).client, 'subscription T($id: ID!) { typing(conversationId: $id) { user { id } } }', { id });
    const stayer = collect<Added>((await client(users[0]!)).client, MESSAGE_ADDED, { id });
    await subscribed('messageAdded', 2, added);
    await subscribed('typing', 1, typing);
    await send(users[1]!, id, 'before');
    await leaver.until(1);
    const left = await api.request(
      'mutation Leave($id: ID!) { leaveConversation(input: { conversationId: $id }) { conversationId } }',
      { id },
      { token: await api.tokenFor(users[2]!.id) },
    );
    expect(left.data).toEqual({ leaveConversation: { conversationId: id } });
    await send(users[1]!, id, 'after');
    await stayer.until(2);
    await leaver.ended();
    await leaverTyping.ended();
    expect(leaver.results.map((result) => result.data?.messageAdded.body)).toEqual(['before']);
    expect(leaver.error).toEqual([expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })]);
    expect(leaverTyping.error).toEqual([expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })]);
    // And a new subscription is refused.
    const again = collect((await client(users[2]!)).client, MESSAGE_ADDED, { id });
    await again.ended();
    expect(again.results[0]!.errors![0]!.extensions).toEqual({ code: 'NOT_FOUND' });
  });
});

describe('messageEdited, typing and conversationUpdated', () => {
  it('messageEdited sends the message as edited', async () => {
    const { users, id } = await group('Edit');
    const sent = await send(users[0]!, id, 'draft');
    const before = following('messageEdited');
    const edits = collect<{ messageEdited: { id: string; body: string; editedAt: string } }>(
      (await client(users[1]!)).client,
      'subscription E($id: ID!) { messageEdited(conversationId: $id) { id body editedAt } }',
      { id },
    );
    await subscribed('messageEdited', 1, before);
    await api.request(
      'mutation { editMessage(input: { messageId: "' + sent.id + '", body: "final" }) { message { id } } }',
      {},
      { token: await api.tokenFor(users[0]!.id) },
    );
    const [edit] = await edits.until(1);
    expect(edit!.data!.messageEdited).toMatchObject({ id: sent.id, body: 'final' });
  });

  it('typing: the others see who types and until when, the typist does not', async () => {
    const { users, id } = await group('Typing');
    const TYPING = 'subscription T($id: ID!) { typing(conversationId: $id) { user { id } expiresAt } }';
    const before = following('typing');
    const other = collect<{ typing: { user: { id: string }; expiresAt: string } }>((await client(users[1]!)).client, TYPING, { id });
    const self = collect((await client(users[0]!)).client, TYPING, { id });
    await subscribed('typing', 2, before);
    const sentAt = Date.now();
    const result = await api.request<{ setTyping: { expiresAt: string } }>(
      'mutation T($id: ID!) { setTyping(input: { conversationId: $id }) { expiresAt } }',
      { id },
      { token: await api.tokenFor(users[0]!.id) },
    );
    const [typing] = await other.until(1);
    expect(typing!.data!.typing).toEqual({ user: { id: toGlobalId('User', users[0]!.id) }, expiresAt: result.data!.setTyping.expiresAt });
    expect(Date.parse(result.data!.setTyping.expiresAt) - sentAt).toBeGreaterThanOrEqual(4_000);
    // A second typist: once the typist has theirs, they would have had their own.
    await api.request('mutation T($id: ID!) { setTyping(input: { conversationId: $id }) { expiresAt } }', { id }, { token: await api.tokenFor(users[2]!.id) });
    await other.until(2);
    await self.until(1);
    expect(self.results.map((result) => result.data)).toEqual([{ typing: { user: { id: toGlobalId('User', users[2]!.id) }, expiresAt: expect.any(String) } }]);
  });

  it('conversationUpdated: each participant’s own unread count and last message, and a read on another device', async () => {
    const { users, id } = await group('Inbox');
    const UPDATED = 'subscription { conversationUpdated { id unreadCount lastMessage { body } } }';
    type Updated = { conversationUpdated: { id: string; unreadCount: number; lastMessage: { body: string } } };
    const before = following('conversationUpdated');
    const reader = collect<Updated>((await client(users[1]!)).client, UPDATED);
    const sender = collect<Updated>((await client(users[0]!)).client, UPDATED);
    await subscribed('conversationUpdated', 2, before);
    await send(users[0]!, id, 'news');
    // The reader's own count: the older message is theirs.
    expect((await reader.until(1))[0]!.data!.conversationUpdated).toEqual({ id, unreadCount: 1, lastMessage: { body: 'news' } });
    expect((await sender.until(1))[0]!.data!.conversationUpdated).toEqual({ id, unreadCount: 0, lastMessage: { body: 'news' } });
    await api.request(
      'mutation R($id: ID!) { markConversationRead(input: { conversationId: $id }) { conversation { id } } }',
      { id },
      { token: await api.tokenFor(users[1]!.id) },
    );
    expect((await reader.until(2))[1]!.data!.conversationUpdated).toMatchObject({ id, unreadCount: 0 });
    expect(sender.results).toHaveLength(1);
  });
});

describe('conversationUpdated also covers', () => {
  it('a new conversation that includes the viewer, and a new title', async () => {
    const [creator, invited] = [await insertUser(api.database.pool, 'Creator'), await insertUser(api.database.pool, 'Invited')];
    const UPDATED = 'subscription { conversationUpdated { id title unreadCount } }';
    const before = following('conversationUpdated');
    const inbox = collect<{ conversationUpdated: { id: string; title: string; unreadCount: number } }>((await client(invited)).client, UPDATED);
    await subscribed('conversationUpdated', 1, before);
    const token = await api.tokenFor(creator.id);
    const created = await api.request<{ createConversation: { conversation: { id: string } } }>(
      'mutation C($ids: [ID!]!) { createConversation(input: { participantIds: $ids, title: "Plans" }) { conversation { id } } }',
      { ids: [toGlobalId('User', invited.id)] },
      { token },
    );
    const id = created.data!.createConversation.conversation.id;
    expect((await inbox.until(1))[0]!.data!.conversationUpdated).toEqual({ id, title: 'Plans', unreadCount: 0 });
    const renamed = await api.request<{ renameConversation: { conversation: { title: string } } }>(
      'mutation R($id: ID!) { renameConversation(input: { conversationId: $id, title: "  New plans " }) { conversation { title } } }',
      { id },
      { token },
    );
    expect(renamed.data).toEqual({ renameConversation: { conversation: { title: 'New plans' } } });
    expect((await inbox.until(2))[1]!.data!.conversationUpdated).toEqual({ id, title: 'New plans', unreadCount: 0 });
  });
});

describe('metrics', () => {
  it('count sockets, subscriptions, events and the time from commit to send', async () => {
    const { users, id } = await group('Metrics');
    const before = following('messageAdded');
    const subscription = collect<Added>((await client(users[1]!)).client, MESSAGE_ADDED, { id });
    await subscribed('messageAdded', 1, before);
    await send(users[0]!, id, 'measured');
    await subscription.until(1);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    const value = (line: RegExp) => Number(metrics.match(line)?.[1]);
    expect(value(/^realtime_open_sockets\{transport="websocket"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^realtime_subscriptions\{field="messageAdded"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^realtime_events_published_total (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^realtime_events_delivered_total\{field="messageAdded"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^realtime_commit_to_send_seconds_count\{field="messageAdded"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(metrics).toMatch(/^realtime_slow_consumer_closes_total 0$/m);
  });
});

describe('connection', () => {
  it('closes with 4403 for a bad token, none, or an expired one, and with 4419 when the token expires', async () => {
    const signed = (expiresAt: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(1))
        .setExpirationTime(Math.floor(expiresAt / 1000))
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    for (const payload of [{ authorization: 'Bearer not-a-token' }, {}, { authorization: `Bearer ${await signed(Date.now() - 10_000)}` }]) {
      const socket = await openRawSocket(api.url);
      socket.send({ type: 'connection_init', payload });
      expect((await socket.closed).code).toBe(4403);
    }
    const user = await insertUser(api.database.pool, 'Expiring');
    const expiring = new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const socket = await openRawSocket(api.url);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${await expiring}` } });
    await socket.frame((frame) => frame.type === 'connection_ack');
    const started = Date.now();
    expect(await socket.closed).toEqual({ code: ParleyCloseCode.TokenExpired, reason: expect.stringMatching(/expired/i) });
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
