// markConversationRead over HTTP: unread counts drop to 0, read positions
// never move backwards, and a conversation the caller is not in does not exist.
import type pg from 'pg';
import { MarkConversationReadDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { expectIndistinguishable, expectOneError, snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertMessages, insertUser, setLastRead, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function unreadCount(conversationId: number, user: FixtureUser): Promise<number> {
  const result = await api.request<{ conversation: { unreadCount: number } }>(
    'query Unread($id: ID!) { conversation(id: $id) { unreadCount } }',
    { id: toGlobalId('Conversation', conversationId) },
    { token: await api.tokenFor(user.id) },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.conversation.unreadCount;
}

async function lastReadAt(conversationId: number, user: FixtureUser): Promise<Date | null> {
  const { rows } = await pool.query<{ last_read_at: Date | null }>(
    'SELECT last_read_at FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2',
    [conversationId, user.id],
  );
  return rows[0]!.last_read_at;
}

async function markRead(conversationId: number, user: FixtureUser) {
  return api.request(MarkConversationReadDocument, { conversationId: toGlobalId('Conversation', conversationId) }, { token: await api.tokenFor(user.id) });
}

/** Alice, Bob and Carol in a group with three messages by Alice and one by Bob, the newest `newestAt`. */
async function group(name: string, newestAt = minutesAgo(10)) {
  const alice = await insertUser(pool, `${name}Alice`);
  const bob = await insertUser(pool, `${name}Bob`);
  const carol = await insertUser(pool, `${name}Carol`);
  const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id, carol.id], title: name, createdAt: minutesAgo(120) });
  const newest = newestAt.getTime();
  await insertMessages(pool, conversationId, [
    { authorId: alice.id, at: new Date(newest - 40 * 60_000) },
    { authorId: alice.id, at: new Date(newest - 30 * 60_000) },
    { authorId: bob.id, at: new Date(newest - 20 * 60_000) },
    { authorId: alice.id, at: new Date(newest) },
  ]);
  return { alice, bob, carol, conversationId, newestAt };
}

describe('markConversationRead', () => {
  it('brings unreadCount to 0, in the payload and afterwards, by moving last_read_at to the newest message', async () => {
    const { bob, carol, alice, conversationId, newestAt } = await group('Read');
    expect(await unreadCount(conversationId, bob)).toBe(3);
    expect(await lastReadAt(conversationId, bob)).toBeNull();

    const result = await markRead(conversationId, bob);
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data!.markConversationRead.conversation).toEqual({ id: toGlobalId('Conversation', conversationId), unreadCount: 0 });
    expect(await unreadCount(conversationId, bob)).toBe(0);
    expect(await lastReadAt(conversationId, bob)).toEqual(newestAt);
    // Only Bob's position moved.
    expect(await lastReadAt(conversationId, carol)).toBeNull();
    expect(await lastReadAt(conversationId, alice)).toBeNull();
    expect(await unreadCount(conversationId, carol)).toBe(4);
  });

  it('brings a partial unread count to 0', async () => {
    const { carol, conversationId, newestAt } = await group('Partial');
    await setLastRead(pool, conversationId, carol.id, new Date(newestAt.getTime() - 25 * 60_000));
    expect(await unreadCount(conversationId, carol)).toBe(2);
    const result = await markRead(conversationId, carol);
    expect(result.errors).toBeUndefined();
    expect(result.data!.markConversationRead.conversation.unreadCount).toBe(0);
    expect(await lastReadAt(conversationId, carol)).toEqual(newestAt);
  });

  it('never moves last_read_at backwards', async () => {
    const { bob, conversationId, newestAt } = await group('Backwards');
    // Bob read further on another device (a position after the newest message).
    const later = new Date(newestAt.getTime() + 5 * 60_000);
    await setLastRead(pool, conversationId, bob.id, later);
    const before = await snapshotTables(pool);
    const result = await markRead(conversationId, bob);
    expect(result.errors).toBeUndefined();
    expect(result.data!.markConversationRead.conversation.unreadCount).toBe(0);
    expect(await lastReadAt(conversationId, bob)).toEqual(later);
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('is idempotent', async () => {
    const { bob, conversationId, newestAt } = await group('Twice');
    expect((await markRead(conversationId, bob)).errors).toBeUndefined();
    const again = await markRead(conversationId, bob);
    expect(again.errors).toBeUndefined();
    expect(again.data!.markConversationRead.conversation.unreadCount).toBe(0);
    expect(await lastReadAt(conversationId, bob)).toEqual(newestAt);
  });

  it('marks a conversation without messages read up to its creation', async () => {
    const [alice, bob] = [await insertUser(pool, 'EmptyAlice'), await insertUser(pool, 'EmptyBob')];
    const createdAt = minutesAgo(30);
    const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id], createdAt });
    const result = await markRead(conversationId, bob);
    expect(result.errors).toBeUndefined();
    expect(result.data!.markConversationRead.conversation.unreadCount).toBe(0);
    expect(await lastReadAt(conversationId, bob)).toEqual(createdAt);
  });

  it('answers NOT_FOUND to a non-participant, exactly as for a conversation that does not exist, and writes nothing', async () => {
    const { conversationId } = await group('Outsider');
    const outsider = await insertUser(pool, 'MarkOutsider');
    const before = await snapshotTables(pool);
    const existingId = toGlobalId('Conversation', conversationId);
    const existingError = expectOneError(await markRead(conversationId, outsider), 'NOT_FOUND');
    const { rows } = await pool.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1000 AS next FROM conversations');
    const missingId = toGlobalId('Conversation', rows[0]!.next);
    const missingError = expectOneError(await markRead(rows[0]!.next, outsider), 'NOT_FOUND');

    expectIndistinguishable({ error: existingError, id: existingId }, { error: missingError, id: missingId });
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('refuses an id that is not a conversation id, naming input.conversationId', async () => {
    const { bob, conversationId } = await group('WrongId');
    const token = await api.tokenFor(bob.id);
    const before = await snapshotTables(pool);
    for (const id of [toGlobalId('User', bob.id), 'not-an-id', toGlobalId('Conversation', '2147483648')]) {
      expectOneError(await api.request(MarkConversationReadDocument, { conversationId: id }, { token }), 'BAD_USER_INPUT', 'input.conversationId');
    }
    expect(await snapshotTables(pool)).toEqual(before);
    expect((await markRead(conversationId, bob)).errors).toBeUndefined();
  });
});
