// The one write path: a transaction, the tags a write touched reported only
// after COMMIT, and the request's loaders cleared so a later field of the
// same operation reads the write.
import type pg from 'pg';
import { editMessage } from '../../src/modules/messages/edit-message.js';
import { sendMessage } from '../../src/modules/messages/send-message.js';
import { markConversationRead } from '../../src/modules/conversations/mark-read.js';
import { createConversation } from '../../src/modules/conversations/create-conversation.js';
import { updateProfile } from '../../src/modules/users/update-profile.js';
import type { PublishedEvent } from '../../src/writes/events.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import type { Tag } from '../../src/writes/tags.js';
import { leaveConversation } from '../../src/modules/conversations/leave-conversation.js';
import { createWriter, type Writer } from '../../src/writes/writer.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { snapshotTables } from '../support/assertions.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;
let reported: (readonly Tag[])[];
let published: PublishedEvent[];
let writer: Writer;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
  writer = createWriter(pool, [
    (touched, events) => {
      reported.push(touched);
      published.push(...events);
    },
  ]);
});
beforeEach(() => {
  reported = [];
  published = [];
});
afterAll(() => api.close());

async function trio(name: string): Promise<{ users: FixtureUser[]; conversationId: number; messageIds: string[] }> {
  const users = [await insertUser(pool, `${name}A`), await insertUser(pool, `${name}B`), await insertUser(pool, `${name}C`)];
  const conversationId = await insertConversation(pool, {
    participants: users.map((user) => user.id),
    title: name,
    createdAt: new Date(Date.now() - 3_600_000),
  });
  const messageIds = await insertMessages(pool, conversationId, [{ authorId: users[1]!.id, at: new Date(Date.now() - 60_000) }]);
  return { users, conversationId, messageIds };
}

describe('each mutation reports what it touched, after commit', () => {
  it('sendMessage: the conversation, its messages, the message, the author and every participant’s inbox and searches', async () => {
    const { users, conversationId } = await trio('tagSend');
    const message = await sendMessage(writer, users[0]!.id, { conversationId, body: 'hello' });
    expect(reported).toHaveLength(1);
    expect([...reported[0]!].sort()).toEqual(
      [
        `Conversation:${conversationId}`,
        `Messages:${conversationId}`,
        `Message:${message.id}`,
        `User:${users[0]!.id}`,
        ...users.map((user) => `Inbox:${user.id}`),
        ...users.map((user) => `Search:${user.id}`),
      ].sort(),
    );
  });

  it('editMessage: the message, its conversation’s messages and every participant’s searches', async () => {
    const { users, conversationId } = await trio('tagEdit');
    const message = await sendMessage(writer, users[0]!.id, { conversationId, body: 'first' });
    reported = [];
    await editMessage(writer, users[0]!.id, { messageId: message.id, body: 'second' });
    expect(reported.map((tags) => [...tags].sort())).toEqual([
      [`Message:${message.id}`, `Messages:${conversationId}`, ...users.map((user) => `Search:${user.id}`)].sort(),
    ]);
  });

  it('markConversationRead: the conversation and the reader’s inbox', async () => {
    const { users, conversationId } = await trio('tagRead');
    await markConversationRead(writer, users[2]!.id, conversationId);
    expect(reported).toEqual([[`Conversation:${conversationId}`, `Inbox:${users[2]!.id}`]]);
  });

  it('createConversation: the new conversation and every participant’s inbox; an existing direct chat touches nothing', async () => {
    const [a, b, c] = [await insertUser(pool, 'tagNewA'), await insertUser(pool, 'tagNewB'), await insertUser(pool, 'tagNewC')];
    const group = await createConversation(writer, a.id, { participantIds: [b.id, c.id], title: 'new' });
    expect([...reported[0]!].sort()).toEqual([`Conversation:${group.id}`, `Inbox:${a.id}`, `Inbox:${b.id}`, `Inbox:${c.id}`].sort());
    await createConversation(writer, a.id, { participantIds: [b.id] });
    reported = [];
    await createConversation(writer, b.id, { participantIds: [a.id] });
    expect(reported).toEqual([[]]);
  });

  it('updateProfile: the user', async () => {
    const user = await insertUser(pool, 'tagProfile');
    await updateProfile(writer, user.id, { displayName: 'New name' });
    expect(reported).toEqual([[`User:${user.id}`]]);
  });

  it('a refused write reports nothing and leaves nothing behind', async () => {
    const { users, conversationId, messageIds } = await trio('tagRefused');
    const before = await snapshotTables(pool);
    // Someone else's message: FORBIDDEN inside the transaction, after its SELECT ... FOR UPDATE.
    await expect(editMessage(writer, users[0]!.id, { messageId: messageIds[0]!, body: 'mine now' })).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    // A rollback after a statement that wrote: the trigger-free way is a participant check that fails after nothing.
    await expect(sendMessage(writer, (await insertUser(pool, 'tagOutsider')).id, { conversationId, body: 'hi' })).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    expect(reported).toEqual([]);
    const after = await snapshotTables(pool);
    expect(after.messages).toEqual(before.messages);
    expect(users).toHaveLength(3);
  });
});

describe('each write publishes its events after commit, stamped with the commit time', () => {
  /** The events published, as (topic, type) pairs. */
  const kinds = () => published.map((event) => `${event.topic} ${event.type}`);

  it('sendMessage: the message to its conversation (with the one before it and who may read it), an inbox update to every participant', async () => {
    const { users, conversationId, messageIds } = await trio('eventSend');
    const before = Date.now();
    const message = await sendMessage(writer, users[0]!.id, { conversationId, body: 'hello' });
    expect(kinds().sort()).toEqual([`conversation:${conversationId} messageAdded`, ...users.map((user) => `user:${user.id} conversationUpdated`)].sort());
    const added = published.find((event) => event.type === 'messageAdded')!;
    expect(added.data).toMatchObject({
      message: { id: message.id, body: 'hello', authorId: users[0]!.id, createdAt: message.createdAt.toISOString() },
      // The author as the message left them: 10 XP more.
      author: { id: users[0]!.id, xp: 10 },
      previousId: messageIds[0],
      participantIds: users.map((user) => user.id).sort((a, b) => a - b),
    });
    expect(added.committedAt).toBeGreaterThanOrEqual(before);
    expect(added.committedAt).toBeLessThanOrEqual(Date.now());
  });

  it('editMessage: the edit to its conversation, and inbox updates when it is the last message', async () => {
    const { users, conversationId, messageIds } = await trio('eventEdit');
    const last = await sendMessage(writer, users[0]!.id, { conversationId, body: 'last' });
    published = [];
    await editMessage(writer, users[0]!.id, { messageId: last.id, body: 'edited last' });
    expect(kinds().sort()).toEqual([`conversation:${conversationId} messageEdited`, ...users.map((user) => `user:${user.id} conversationUpdated`)].sort());
    published = [];
    await editMessage(writer, users[1]!.id, { messageId: messageIds[0]!, body: 'edited older' });
    expect(kinds()).toEqual([`conversation:${conversationId} messageEdited`]);
  });

  it('markConversationRead: an inbox update to the reader; leaveConversation: the leave to the conversation, inbox updates to those who stay', async () => {
    const { users, conversationId } = await trio('eventLeave');
    await markConversationRead(writer, users[2]!.id, conversationId);
    expect(kinds()).toEqual([`user:${users[2]!.id} conversationUpdated`]);
    published = [];
    await leaveConversation(writer, users[2]!.id, conversationId);
    expect(kinds()[0]).toBe(`conversation:${conversationId} participantLeft`);
    expect(kinds().slice(1).sort()).toEqual(
      users
        .slice(0, 2)
        .map((user) => `user:${user.id} conversationUpdated`)
        .sort(),
    );
  });

  it('a refused write publishes nothing', async () => {
    const { conversationId } = await trio('eventRefused');
    await expect(sendMessage(writer, (await insertUser(pool, 'eventOutsider')).id, { conversationId, body: 'hi' })).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    expect(published).toEqual([]);
  });
});

describe('two mutations in one document', () => {
  it('the second payload reads the first write, not what the request had loaded before it', async () => {
    const { users, conversationId } = await trio('twoWrites');
    const id = toGlobalId('Conversation', conversationId);
    const result = await api.request<{
      first: { message: { conversation: { lastMessage: { body: string }; unreadCount: number } } };
      second: { message: { conversation: { lastMessage: { body: string }; messages: { edges: { node: { body: string } }[] } } } };
      read: { conversation: { unreadCount: number } };
    }>(
      `mutation Two($id: ID!) {
        first: sendMessage(input: { conversationId: $id, body: "one" }) { message { conversation { lastMessage { body } unreadCount } } }
        second: sendMessage(input: { conversationId: $id, body: "two" }) {
          message { conversation { lastMessage { body } messages(first: 2) { edges { node { body } } } } }
        }
        read: markConversationRead(input: { conversationId: $id }) { conversation { unreadCount } }
      }`,
      { id },
      { token: await api.tokenFor(users[2]!.id) },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.first.message.conversation.lastMessage.body).toBe('one');
    // Before the second write, the request had loaded lastMessage "one": the after-commit step cleared it.
    expect(result.data!.second.message.conversation.lastMessage.body).toBe('two');
    expect(result.data!.second.message.conversation.messages.edges.map((edge) => edge.node.body)).toEqual(['two', 'one']);
    expect(result.data!.read.conversation.unreadCount).toBe(0);
  });
});
