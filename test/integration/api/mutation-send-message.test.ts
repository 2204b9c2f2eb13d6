// sendMessage over HTTP: what one message changes (in one transaction), who
// may send, and which bodies are refused. Effects are read back from the
// database, not from the API under test.
import type pg from 'pg';
import { SendMessageDocument } from '../../../src/generated/graphql/operations.js';
import { fromGlobalId, toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { levelForXp } from '../../../src/modules/users/xp.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { expectIndistinguishable, expectOneError, expectRefusedBeforeRunning, snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertMessages, insertUser, refuseWrites, setLastRead, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

const MINUTE = 60_000;
/** A moment `minutes` before now: fixtures in the past, so a new message is the newest. */
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * MINUTE);

const UNREAD = 'query Unread($id: ID!) { conversation(id: $id) { unreadCount lastMessageAt } }';

async function unreadCount(conversationId: number, userId: number): Promise<number> {
  const result = await api.request<{ conversation: { unreadCount: number } }>(
    UNREAD,
    { id: toGlobalId('Conversation', conversationId) },
    { token: await api.tokenFor(userId) },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.conversation.unreadCount;
}

interface Group {
  author: FixtureUser;
  others: FixtureUser[];
  conversationId: number;
}

/** A group of three with two older messages by the others, nobody having read anything. */
async function groupWithHistory(name: string): Promise<Group> {
  const author = await insertUser(pool, `${name}Author`);
  const others = [await insertUser(pool, `${name}B`), await insertUser(pool, `${name}C`)];
  const conversationId = await insertConversation(pool, {
    participants: [author.id, ...others.map((user) => user.id)],
    title: name,
    createdAt: minutesAgo(60),
  });
  await insertMessages(pool, conversationId, [
    { authorId: others[0]!.id, at: minutesAgo(30) },
    { authorId: others[1]!.id, at: minutesAgo(20) },
  ]);
  return { author, others, conversationId };
}

describe('sendMessage', () => {
  it('inserts the message and returns it with its author and conversation', async () => {
    const { author, conversationId } = await groupWithHistory('Payload');
    const before = Date.now();
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: '  Hello, world!  \n' },
      { token: await api.tokenFor(author.id) },
    );
    const after = Date.now();
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const message = result.data!.sendMessage.message;

    const { rows } = await pool.query<{ id: string; conversation_id: number; author_id: number; body: string; created_at: Date; edited_at: Date | null }>(
      'SELECT * FROM messages WHERE conversation_id = $1 AND author_id = $2',
      [conversationId, author.id],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.body).toBe('Hello, world!');
    expect(row.edited_at).toBeNull();
    // created_at is the server's clock (millisecond precision), within the request.
    expect(row.created_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(row.created_at.getTime()).toBeLessThanOrEqual(after + 1000);

    expect(message.id).toBe(toGlobalId('Message', row.id));
    expect(message.body).toBe('Hello, world!');
    expect(message.createdAt).toBe(row.created_at.toISOString());
    expect(message.editedAt).toBeNull();
    expect(message.author).toMatchObject({ id: toGlobalId('User', author.id), username: author.username });
  });

  it('returns the conversation as the message left it: last message, its time, no unread for the sender, the preview', async () => {
    const { author, conversationId } = await groupWithHistory('Conversation');
    expect(await unreadCount(conversationId, author.id)).toBe(2);
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: 'caught up', messages: 2 },
      { token: await api.tokenFor(author.id) },
    );
    expect(result.errors).toBeUndefined();
    const { message, conversation } = result.data!.sendMessage;
    expect(conversation).toMatchObject({
      id: toGlobalId('Conversation', conversationId),
      lastMessageAt: message.createdAt,
      lastMessage: { id: message.id, body: 'caught up' },
      unreadCount: 0,
    });
    expect(conversation.recentMessages.map((recent) => recent.id)).toHaveLength(2);
    expect(conversation.recentMessages[0]!.id).toBe(message.id);
  });

  it("updates the conversation's last_message_at and the author's last_read_at to the message's time", async () => {
    const { author, others, conversationId } = await groupWithHistory('Times');
    const readAt = minutesAgo(25);
    for (const other of others) await setLastRead(pool, conversationId, other.id, readAt);
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: 'times' },
      { token: await api.tokenFor(author.id) },
    );
    expect(result.errors).toBeUndefined();
    const createdAt = result.data!.sendMessage.message.createdAt;

    const conversation = await pool.query<{ last_message_at: Date; updated_at: Date }>('SELECT last_message_at, updated_at FROM conversations WHERE id = $1', [
      conversationId,
    ]);
    expect(conversation.rows[0]!.last_message_at.toISOString()).toBe(createdAt);
    const participants = await pool.query<{ user_id: number; last_read_at: Date | null; last_activity_at: Date }>(
      'SELECT user_id, last_read_at, last_activity_at FROM conversation_participants WHERE conversation_id = $1',
      [conversationId],
    );
    const readPositions = new Map(participants.rows.map((row) => [row.user_id, row.last_read_at?.toISOString() ?? null]));
    expect(readPositions.get(author.id)).toBe(createdAt);
    // The others have not read it: their positions do not move.
    for (const other of others) expect(readPositions.get(other.id)).toBe(readAt.toISOString());
    // Everyone's inbox puts the conversation at the message's time.
    expect(participants.rows.map((row) => row.last_activity_at.toISOString())).toEqual([createdAt, createdAt, createdAt]);
  });

  it("moves the conversation to the top of every participant's inbox", async () => {
    const { author, others, conversationId } = await groupWithHistory('Inbox');
    // A newer conversation of all three, so the group starts second.
    const newer = await insertConversation(pool, { participants: [others[0]!.id, author.id, others[1]!.id], title: 'Newer', createdAt: minutesAgo(5) });
    const INBOX = 'query { viewer { conversations(first: 2) { edges { node { id } } } } }';
    const inboxOf = async (userId: number) => {
      const result = await api.request<{ viewer: { conversations: { edges: { node: { id: string } }[] } } }>(INBOX, {}, { token: await api.tokenFor(userId) });
      expect(result.errors).toBeUndefined();
      return result.data!.viewer.conversations.edges.map((edge) => edge.node.id);
    };
    const [group, newerGroup] = [toGlobalId('Conversation', conversationId), toGlobalId('Conversation', newer)];
    for (const user of [author, ...others]) expect(await inboxOf(user.id)).toEqual([newerGroup, group]);

    const result = await api.request(SendMessageDocument, { conversationId: group, body: 'up' }, { token: await api.tokenFor(author.id) });
    expect(result.errors).toBeUndefined();
    for (const user of [author, ...others]) expect(await inboxOf(user.id)).toEqual([group, newerGroup]);
  });

  it('lets every participant send at once without deadlocks, and the inbox order ends at the newest message', async () => {
    const { author, others, conversationId } = await groupWithHistory('Together');
    const senders = [author, ...others, author, ...others];
    const results = await Promise.all(
      senders.map(async (sender, index) =>
        api.request(
          SendMessageDocument,
          { conversationId: toGlobalId('Conversation', conversationId), body: `together ${index}` },
          { token: await api.tokenFor(sender.id) },
        ),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    const { rows } = await pool.query<{ newest: Date; last_message_at: Date; activity: Date[] }>(
      `SELECT (SELECT max(created_at) FROM messages WHERE conversation_id = $1) AS newest,
              (SELECT last_message_at FROM conversations WHERE id = $1) AS last_message_at,
              (SELECT array_agg(last_activity_at) FROM conversation_participants WHERE conversation_id = $1) AS activity`,
      [conversationId],
    );
    expect(rows[0]!.last_message_at).toEqual(rows[0]!.newest);
    expect(rows[0]!.activity).toEqual([rows[0]!.newest, rows[0]!.newest, rows[0]!.newest]);
  });

  it("adds the message to the author's daily activity (+1 message, +10 XP for the UTC day) and to their XP", async () => {
    const { author, conversationId } = await groupWithHistory('Activity');
    const token = await api.tokenFor(author.id);
    const send = (body: string) => api.request(SendMessageDocument, { conversationId: toGlobalId('Conversation', conversationId), body }, { token });

    const first = await send('first');
    expect(first.errors).toBeUndefined();
    const day = first.data!.sendMessage.message.createdAt.slice(0, 10);
    const activity = async () =>
      (
        await pool.query<{ day: string; messages_count: number; xp_earned: number }>(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day, messages_count, xp_earned FROM user_daily_activity WHERE user_id = $1`,
          [author.id],
        )
      ).rows;
    expect(await activity()).toEqual([{ day, messages_count: 1, xp_earned: 10 }]);
    const user = async () =>
      (await pool.query<{ xp: number; level: number; last_active_at: Date }>('SELECT xp, level, last_active_at FROM users WHERE id = $1', [author.id]))
        .rows[0]!;
    expect(await user()).toMatchObject({ xp: 10, level: 1 });
    expect((await user()).last_active_at.toISOString()).toBe(first.data!.sendMessage.message.createdAt);

    const second = await send('second');
    expect(second.errors).toBeUndefined();
    const secondDay = second.data!.sendMessage.message.createdAt.slice(0, 10);
    if (secondDay === day) {
      expect(await activity()).toEqual([{ day, messages_count: 2, xp_earned: 20 }]);
    } else {
      // The UTC day turned between the two requests: one row per day.
      expect(await activity()).toEqual(
        expect.arrayContaining([
          { day, messages_count: 1, xp_earned: 10 },
          { day: secondDay, messages_count: 1, xp_earned: 10 },
        ]),
      );
    }
    expect(await user()).toMatchObject({ xp: 20, level: 1 });
  });

  it('adds to an existing daily activity row and raises the level when the XP reaches it', async () => {
    const { author, conversationId } = await groupWithHistory('Level');
    // 9 messages' worth of XP today: the 10th reaches 100 XP, level 2.
    await pool.query('UPDATE users SET xp = 90, level = 1 WHERE id = $1', [author.id]);
    await pool.query(
      `INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
       VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 9, 90), ($1, (now() AT TIME ZONE 'UTC')::date - 1, 4, 40)`,
      [author.id],
    );
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: 'level up' },
      { token: await api.tokenFor(author.id) },
    );
    expect(result.errors).toBeUndefined();
    const message = result.data!.sendMessage.message;
    const day = message.createdAt.slice(0, 10);
    const { rows } = await pool.query<{ day: string; messages_count: number; xp_earned: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, messages_count, xp_earned FROM user_daily_activity
       WHERE user_id = $1 AND day = $2::date`,
      [author.id, day],
    );
    // Unless the UTC day turned since the fixture was written, today's row grew.
    const todayRow = rows[0]!;
    const dayTurned = todayRow.messages_count === 1;
    expect(todayRow).toEqual(dayTurned ? { day, messages_count: 1, xp_earned: 10 } : { day, messages_count: 10, xp_earned: 100 });
    const user = await pool.query<{ xp: number; level: number }>('SELECT xp, level FROM users WHERE id = $1', [author.id]);
    expect(user.rows[0]).toEqual({ xp: 100, level: levelForXp(100) });
    expect(user.rows[0]!.level).toBe(2);
    // The payload reads the author after the write.
    expect(message.author.level).toBe(2);
  });

  it("raises the other participants' unread counts, not the author's", async () => {
    const { author, others, conversationId } = await groupWithHistory('Unread');
    await setLastRead(pool, conversationId, others[0]!.id, minutesAgo(25)); // has read the first message
    const before = {
      author: await unreadCount(conversationId, author.id),
      b: await unreadCount(conversationId, others[0]!.id),
      c: await unreadCount(conversationId, others[1]!.id),
    };
    expect(before).toEqual({ author: 2, b: 1, c: 1 });

    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: 'unread?' },
      { token: await api.tokenFor(author.id) },
    );
    expect(result.errors).toBeUndefined();
    expect(await unreadCount(conversationId, others[0]!.id)).toBe(before.b + 1);
    expect(await unreadCount(conversationId, others[1]!.id)).toBe(before.c + 1);
    // The author has read up to their own message: it does not count, nor does what came before it.
    expect(await unreadCount(conversationId, author.id)).toBe(0);
  });

  it('loses no update when the same author sends concurrently (more requests than pooled connections)', async () => {
    const { author, others, conversationId } = await groupWithHistory('Concurrent');
    const token = await api.tokenFor(author.id);
    const count = 6;
    const results = await Promise.all(
      Array.from({ length: count }, (_unused, index) =>
        api.request(SendMessageDocument, { conversationId: toGlobalId('Conversation', conversationId), body: `burst ${index}` }, { token }),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    const { rows } = await pool.query<{ sent: number; newest: Date }>(
      'SELECT count(*)::int AS sent, max(created_at) AS newest FROM messages WHERE conversation_id = $1 AND author_id = $2',
      [conversationId, author.id],
    );
    expect(rows[0]!.sent).toBe(count);
    const activity = await pool.query<{ messages: number; xp: number }>(
      'SELECT sum(messages_count)::int AS messages, sum(xp_earned)::int AS xp FROM user_daily_activity WHERE user_id = $1',
      [author.id],
    );
    expect(activity.rows[0]).toEqual({ messages: count, xp: 10 * count });
    const user = await pool.query<{ xp: number }>('SELECT xp FROM users WHERE id = $1', [author.id]);
    expect(user.rows[0]!.xp).toBe(10 * count);
    // Whatever order they committed in, the conversation and the author's read position end at the newest.
    const conversation = await pool.query<{ last_message_at: Date }>('SELECT last_message_at FROM conversations WHERE id = $1', [conversationId]);
    expect(conversation.rows[0]!.last_message_at).toEqual(rows[0]!.newest);
    const read = await pool.query<{ last_read_at: Date }>('SELECT last_read_at FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2', [
      conversationId,
      author.id,
    ]);
    expect(read.rows[0]!.last_read_at).toEqual(rows[0]!.newest);
    // Unread for B: C's message and the burst.
    expect(await unreadCount(conversationId, others[0]!.id)).toBe(1 + count);
  });

  it('writes nothing when a later step fails: the message and its effects are one transaction', async () => {
    const { author, conversationId } = await groupWithHistory('Atomic');
    // The last statement of sendMessage (the author's XP) fails for this user only.
    const allowWrites = await refuseWrites(pool, 'refuse_xp_for_test', { event: 'UPDATE', table: 'users', when: `OLD.id = ${author.id}` });
    try {
      const before = await snapshotTables(pool);
      const result = await api.request(
        SendMessageDocument,
        { conversationId: toGlobalId('Conversation', conversationId), body: 'never written' },
        { token: await api.tokenFor(author.id) },
      );
      const error = expectOneError(result, 'INTERNAL_SERVER_ERROR');
      expect(error.message).toBe('Internal server error');
      expect(await snapshotTables(pool)).toEqual(before);
    } finally {
      await allowWrites();
    }
    // Without the failure the same request writes everything.
    const retry = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', conversationId), body: 'written' },
      { token: await api.tokenFor(author.id) },
    );
    expect(retry.errors).toBeUndefined();
  });

  it('answers NOT_FOUND to a non-participant, exactly as for a conversation that does not exist, and writes nothing', async () => {
    const { conversationId } = await groupWithHistory('Outsider');
    const outsider = await insertUser(pool, 'Outsider');
    const token = await api.tokenFor(outsider.id);
    const before = await snapshotTables(pool);

    const existingId = toGlobalId('Conversation', conversationId);
    const existing = await api.request(SendMessageDocument, { conversationId: existingId, body: 'let me in' }, { token });
    const existingError = expectOneError(existing, 'NOT_FOUND');

    const { rows } = await pool.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1000 AS next FROM conversations');
    const missingId = toGlobalId('Conversation', rows[0]!.next);
    const missing = await api.request(SendMessageDocument, { conversationId: missingId, body: 'let me in' }, { token });
    const missingError = expectOneError(missing, 'NOT_FOUND');

    expectIndistinguishable({ error: existingError, id: existingId }, { error: missingError, id: missingId });
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('refuses an id that is not a conversation id, naming input.conversationId', async () => {
    const { author, conversationId } = await groupWithHistory('WrongId');
    const token = await api.tokenFor(author.id);
    const before = await snapshotTables(pool);
    for (const id of [toGlobalId('User', author.id), 'not-an-id', toGlobalId('Conversation', 'x')]) {
      const result = await api.request(SendMessageDocument, { conversationId: id, body: 'hello' }, { token });
      expectOneError(result, 'BAD_USER_INPUT', 'input.conversationId');
    }
    expect(await snapshotTables(pool)).toEqual(before);
    // The same body is accepted with the right id.
    const ok = await api.request(SendMessageDocument, { conversationId: toGlobalId('Conversation', conversationId), body: 'hello' }, { token });
    expect(ok.errors).toBeUndefined();
  });
});

describe('sendMessage body', () => {
  let group: Group;
  let token: string;
  let conversationGlobalId: string;
  beforeAll(async () => {
    group = await groupWithHistory('Body');
    token = await api.tokenFor(group.author.id);
    conversationGlobalId = toGlobalId('Conversation', group.conversationId);
  });
  const send = (body: string) => api.request(SendMessageDocument, { conversationId: conversationGlobalId, body }, { token });

  it.each([
    ['empty', ''],
    ['spaces', '     '],
    ['whitespace of all kinds', ' \t\n\r\u00a0\u2003\u3000 '],
  ])('refuses an %s body with BAD_USER_INPUT on input.body, writing nothing', async (_name, body) => {
    const before = await snapshotTables(pool);
    expectOneError(await send(body), 'BAD_USER_INPUT', 'input.body');
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it.each([
    ['4001 ASCII characters', 'a'.repeat(4001)],
    ['4001 emoji', '😀'.repeat(4001)],
    ['4001 characters once trimmed', ` ${'b'.repeat(4001)} `],
  ])('refuses %s, writing nothing', async (_name, body) => {
    const before = await snapshotTables(pool);
    const error = expectOneError(await send(body), 'BAD_USER_INPUT', 'input.body');
    expect(error.message).toMatch(/4000/);
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it.each([
    ['4000 ASCII characters', 'a'.repeat(4000)],
    ['4000 emoji (8000 UTF-16 units)', '😀'.repeat(4000)],
    ['4000 characters with whitespace around', `\n  ${'c'.repeat(4000)}  \t`],
    ['a single character', 'x'],
  ])('accepts %s and stores the trimmed text', async (_name, body) => {
    const result = await send(body);
    expect(result.errors).toBeUndefined();
    const message = result.data!.sendMessage.message;
    expect(message.body).toBe(body.trim());
    const { rows } = await pool.query<{ body: string; length: number }>('SELECT body, char_length(body) AS length FROM messages WHERE id = $1', [
      fromGlobalId(message.id, 'id').id,
    ]);
    expect(rows[0]!.body).toBe(body.trim());
    expect(rows[0]!.length).toBe([...body.trim()].length);
  });

  it('refuses a body with a NUL character before running, as bad input naming the variable, not as an internal error', async () => {
    const before = await snapshotTables(pool);
    expectRefusedBeforeRunning(await send('before\u0000after'), 'BAD_USER_INPUT', '$body');
    expect(await snapshotTables(pool)).toEqual(before);
  });
});
