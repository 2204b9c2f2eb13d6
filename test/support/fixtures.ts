// Internal: known data for the API tests, written with plain SQL so the
// tests do not depend on the code they test. Timestamps are explicit, so
// orders and cursors are predictable.
import type pg from 'pg';
import type { Queryable } from '../../src/db/pool.js';
import { refreshUserStats } from '../../src/jobs/refresh-user-stats.js';
import type { Tag } from '../../src/writes/tags.js';

export interface FixtureUser {
  id: number;
  username: string;
}

let sequence = 0;

/** A user; the username is unique within the test database. */
export async function insertUser(db: Queryable, name: string): Promise<FixtureUser> {
  sequence += 1;
  const username = `${name.toLowerCase()}_${process.pid % 10_000}_${sequence}`;
  const { rows } = await db.query<{ id: number }>(`INSERT INTO users (username, display_name, email) VALUES ($1, $2, $3) RETURNING id`, [
    username,
    name,
    `${username}@example.test`,
  ]);
  return { id: rows[0]!.id, username };
}

export interface FixtureConversationOptions {
  /** The first is the creator. */
  participants: number[];
  title?: string;
  createdAt?: Date;
}

/** A conversation: direct for two participants and no title, a group otherwise. */
export async function insertConversation(db: Queryable, options: FixtureConversationOptions): Promise<number> {
  const [creator, ...others] = options.participants;
  const direct = others.length === 1 && !options.title;
  const createdAt = options.createdAt ?? new Date('2026-01-01T00:00:00Z');
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO conversations (title, kind, direct_key, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
    [options.title ?? null, direct ? 'direct' : 'group', direct ? [creator, others[0]].sort((a, b) => a! - b!).join(':') : null, creator, createdAt],
  );
  const id = rows[0]!.id;
  await db.query(
    `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_activity_at)
     SELECT $1, user_id, CASE WHEN ordinal = 1 THEN 'owner' ELSE 'member' END, $3, $3
     FROM unnest($2::int[]) WITH ORDINALITY AS p(user_id, ordinal)`,
    [id, options.participants, createdAt],
  );
  return id;
}

export interface FixtureMessage {
  authorId: number;
  body?: string;
  at: Date;
}

/** `count` messages by `authorId` sent just now: the newest now, each other one a second before the next. */
export function messagesUntilNow(authorId: number, count: number): FixtureMessage[] {
  const now = Date.now();
  return Array.from({ length: count }, (_unused, n) => ({ authorId, at: new Date(now - n * 1000) }));
}

/**
 * Messages in a conversation, with what sending them changes: the
 * conversation's last_message_at (and its participants' last_activity_at),
 * the authors' daily activity and XP (10 per message). Returns their ids, in the order given.
 */
export async function insertMessages(db: Queryable, conversationId: number, messages: FixtureMessage[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO messages (conversation_id, author_id, body, created_at)
       SELECT $1, author_id, body, created_at
       FROM unnest($2::int[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS m(author_id, body, created_at, ordinal)
       ORDER BY ordinal
       RETURNING id, author_id, created_at
     ),
     activity AS (
       INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
       SELECT author_id, (created_at AT TIME ZONE 'UTC')::date, count(*), 10 * count(*) FROM inserted GROUP BY 1, 2
       ON CONFLICT (user_id, day) DO UPDATE
         SET messages_count = user_daily_activity.messages_count + excluded.messages_count,
             xp_earned = user_daily_activity.xp_earned + excluded.xp_earned
     ),
     authors AS (
       UPDATE users u SET xp = u.xp + 10 * a.sent, last_active_at = greatest(u.last_active_at, a.last_at)
       FROM (SELECT author_id, count(*) AS sent, max(created_at) AS last_at FROM inserted GROUP BY author_id) a
       WHERE u.id = a.author_id
     )
     SELECT id FROM inserted ORDER BY id`,
    [
      conversationId,
      messages.map((message) => message.authorId),
      messages.map((message, index) => message.body ?? `message ${index + 1}`),
      messages.map((message) => message.at),
    ],
  );
  await db.query(
    `WITH conversation AS (
       UPDATE conversations SET last_message_at = (SELECT max(created_at) FROM messages WHERE conversation_id = $1) WHERE id = $1
       RETURNING coalesce(last_message_at, created_at) AS last_activity_at
     )
     UPDATE conversation_participants SET last_activity_at = (SELECT last_activity_at FROM conversation) WHERE conversation_id = $1`,
    [conversationId],
  );
  return rows.map((row) => row.id);
}

/** Sets where a participant has read up to. */
export async function setLastRead(db: Queryable, conversationId: number, userId: number, at: Date | null): Promise<void> {
  await db.query('UPDATE conversation_participants SET last_read_at = $3 WHERE conversation_id = $1 AND user_id = $2', [conversationId, userId, at]);
}

/**
 * Recomputes the statistics views with the scheduled job's own refresh
 * (tested on its own in stats-refresh.test.ts): refreshedAt comes from the
 * refresh log it writes. Given the server's response cache, the job's
 * after-refresh hook drops the answers built on the old figures, as in main.ts.
 */
export async function refreshStats(pool: pg.Pool, responseCache?: { invalidate(tags: readonly Tag[]): Promise<void> }): Promise<void> {
  const run = await refreshUserStats(pool, {
    statementTimeoutMs: 0,
    afterRefresh: responseCache ? (event) => responseCache.invalidate(event.tags) : undefined,
  });
  if (run.outcome !== 'succeeded') throw new Error(`the statistics refresh ended ${run.outcome}`);
}

export interface InboxFixture {
  viewer: FixtureUser;
  conversationIds: number[];
  /** Every user other than the viewer. */
  others: FixtureUser[];
}

/**
 * The reference inbox of the statement budget: a viewer in `conversations`
 * groups, each with two other users (none shared between conversations) and
 * `messagesEach` messages by all three in turn, one minute apart.
 */
export async function insertInbox(db: pg.Pool, options: { conversations: number; messagesEach: number }): Promise<InboxFixture> {
  const viewer = await insertUser(db, 'Viewer');
  const others: FixtureUser[] = [];
  const conversationIds: number[] = [];
  const start = Date.parse('2026-06-01T00:00:00Z');
  for (let index = 0; index < options.conversations; index += 1) {
    const pair = [await insertUser(db, `Friend${index}a`), await insertUser(db, `Friend${index}b`)];
    others.push(...pair);
    const members = [viewer.id, pair[0]!.id, pair[1]!.id];
    const id = await insertConversation(db, { participants: members, title: `Group ${index}`, createdAt: new Date(start) });
    conversationIds.push(id);
    await insertMessages(
      db,
      id,
      Array.from({ length: options.messagesEach }, (_unused, message) => ({
        authorId: members[message % members.length]!,
        at: new Date(start + (index * options.messagesEach + message + 1) * 60_000),
      })),
    );
  }
  await refreshStats(db);
  return { viewer, conversationIds, others };
}

/**
 * Makes one write fail inside the database, to show a mutation leaves
 * nothing behind: a trigger raising on `event` of `table` for rows matching
 * `when` (a trigger WHEN condition over OLD/NEW). Returns its removal.
 */
export async function refuseWrites(db: Queryable, name: string, on: { event: 'INSERT' | 'UPDATE'; table: string; when: string }): Promise<() => Promise<void>> {
  await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
  await db.query(`CREATE TRIGGER ${name} BEFORE ${on.event} ON ${on.table} FOR EACH ROW WHEN (${on.when}) EXECUTE FUNCTION ${name}()`);
  return async () => {
    await db.query(`DROP TRIGGER ${name} ON ${on.table}`);
    await db.query(`DROP FUNCTION ${name}()`);
  };
}
