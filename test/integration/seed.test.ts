import type pg from 'pg';
import { startOfUtcDay } from '../../src/cli/seed/options.js';
import { seedDatabase, SeedRefusedError, type SeedOptions, type SeedProgressEvent, type SeedSummary } from '../../src/cli/seed/seed.js';
import { levelForXp, XP_PER_MESSAGE } from '../../src/modules/users/xp.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const now = startOfUtcDay(new Date());
const SMALL: SeedOptions = { users: 50, conversations: 200, messages: 5_000, seed: 7, now };

/**
 * Every rule the seeded data keeps, as a statement counting the rows that
 * break it: each must count 0. Written in plain SQL, apart from the seed's.
 */
const INVARIANTS: [name: string, sql: string, params?: unknown[]][] = [
  [
    'conversations.last_message_at is the newest message, NULL without one',
    `SELECT count(*) FROM conversations c
     LEFT JOIN (SELECT conversation_id, max(created_at) AS newest FROM messages GROUP BY conversation_id) m
       ON m.conversation_id = c.id
     WHERE c.last_message_at IS DISTINCT FROM m.newest`,
  ],
  [
    'conversations.updated_at is the last change: creation or the newest message',
    'SELECT count(*) FROM conversations WHERE updated_at <> greatest(created_at, last_message_at)',
  ],
  [
    'user_daily_activity holds each author’s messages per UTC day, XP_PER_MESSAGE XP each, and nothing else',
    `SELECT count(*)
     FROM (SELECT author_id, (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::integer AS sent
           FROM messages GROUP BY 1, 2) m
     FULL JOIN user_daily_activity a ON a.user_id = m.author_id AND a.day = m.day
     WHERE a.messages_count IS DISTINCT FROM m.sent OR a.xp_earned IS DISTINCT FROM m.sent * $1::integer`,
    [XP_PER_MESSAGE],
  ],
  [
    'users.xp is the sum of their daily XP',
    `SELECT count(*) FROM users u
     LEFT JOIN (SELECT user_id, sum(xp_earned)::integer AS xp FROM user_daily_activity GROUP BY user_id) a ON a.user_id = u.id
     WHERE u.xp <> coalesce(a.xp, 0)`,
  ],
  [
    'users.last_active_at is their last message, NULL without one',
    `SELECT count(*) FROM users u
     LEFT JOIN (SELECT author_id, max(created_at) AS last FROM messages GROUP BY author_id) m ON m.author_id = u.id
     WHERE u.last_active_at IS DISTINCT FROM m.last`,
  ],
  [
    "a participant's last_activity_at is the conversation's last activity: its newest message, or its creation",
    `SELECT count(*) FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
     WHERE p.last_activity_at <> coalesce(c.last_message_at, c.created_at)`,
  ],
  [
    'last_read_at is set where the conversation has a message, NULL where not, and never after the last message',
    `SELECT count(*) FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
     WHERE (c.last_message_at IS NULL) <> (p.last_read_at IS NULL) OR p.last_read_at > c.last_message_at`,
  ],
  [
    'a participant has read what they wrote',
    `SELECT count(*) FROM conversation_participants p
     JOIN (SELECT conversation_id, author_id, max(created_at) AS last FROM messages GROUP BY 1, 2) m
       ON m.conversation_id = p.conversation_id AND m.author_id = p.user_id
     WHERE p.last_read_at < m.last`,
  ],
  [
    'a direct conversation has exactly two participants, keyed "<low id>:<high id>", and no title',
    `SELECT count(*) FROM conversations c
     JOIN (SELECT conversation_id, count(*) AS seats, min(user_id) AS low, max(user_id) AS high
           FROM conversation_participants GROUP BY conversation_id) p ON p.conversation_id = c.id
     WHERE c.kind = 'direct' AND (p.seats <> 2 OR c.direct_key IS DISTINCT FROM p.low || ':' || p.high OR c.title IS NOT NULL)`,
  ],
  [
    'a group has 2 to 8 participants, a title and no direct_key',
    `SELECT count(*) FROM conversations c
     LEFT JOIN (SELECT conversation_id, count(*) AS seats FROM conversation_participants GROUP BY conversation_id) p
       ON p.conversation_id = c.id
     WHERE c.kind = 'group' AND (coalesce(p.seats, 0) NOT BETWEEN 2 AND 8 OR c.title IS NULL OR c.direct_key IS NOT NULL)`,
  ],
  [
    'the creator is a participant and the owner; everyone else is a member',
    `SELECT count(*) FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
     WHERE p.role <> CASE WHEN p.user_id = c.created_by THEN 'owner' ELSE 'member' END`,
  ],
  [
    'every conversation seats its creator',
    `SELECT count(*) FROM conversations c
     WHERE NOT EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = c.created_by)`,
  ],
  [
    'every author is a participant of the conversation, and wrote after joining it',
    `SELECT count(*) FROM messages m
     LEFT JOIN conversation_participants p ON p.conversation_id = m.conversation_id AND p.user_id = m.author_id
     WHERE p.user_id IS NULL OR m.created_at < p.joined_at`,
  ],
  [
    'no message before its conversation was created',
    `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.created_at < c.created_at`,
  ],
  [
    'no one joins before the conversation exists or before signing up',
    `SELECT count(*) FROM conversation_participants p
     JOIN conversations c ON c.id = p.conversation_id JOIN users u ON u.id = p.user_id
     WHERE p.joined_at < c.created_at OR p.joined_at < u.created_at`,
  ],
  [
    'messages and conversations fall in the 90 days before the anchor; users signed up before',
    `SELECT (SELECT count(*) FROM messages WHERE created_at < $1::timestamptz - interval '90 days' OR created_at > $1)
          + (SELECT count(*) FROM conversations WHERE created_at < $1::timestamptz - interval '90 days' OR created_at > $1)
          + (SELECT count(*) FROM users WHERE created_at > $1::timestamptz - interval '90 days')`,
    [now],
  ],
  ['a message body is not blank and at most 4000 characters', `SELECT count(*) FROM messages WHERE btrim(body) = '' OR char_length(body) > 4000`],
  ['an edit comes after its message and not after the anchor', 'SELECT count(*) FROM messages WHERE edited_at < created_at OR edited_at > $1', [now]],
  [
    'message ids follow time within a conversation',
    `SELECT count(*) FROM (
       SELECT created_at < lag(created_at) OVER (PARTITION BY conversation_id ORDER BY id) AS backwards FROM messages
     ) m WHERE backwards`,
  ],
];

async function countViolations(db: pg.Pool | pg.PoolClient): Promise<Record<string, number>> {
  const violations: Record<string, number> = {};
  for (const [name, sql, params] of INVARIANTS) {
    const { rows } = await db.query<{ count: string }>(sql, params);
    violations[name] = Number(Object.values(rows[0]!)[0]);
  }
  return violations;
}

const NO_VIOLATIONS = Object.fromEntries(INVARIANTS.map(([name]) => [name, 0]));

/** An md5 per seeded table and statistics view over its rows in key order. */
async function fingerprint(db: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await db.query<Record<string, string>>(`
    SELECT
      (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM users t) AS users,
      (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM conversations t) AS conversations,
      (SELECT md5(string_agg(t::text, '|' ORDER BY conversation_id, user_id)) FROM conversation_participants t) AS participants,
      (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM messages t) AS messages,
      (SELECT md5(string_agg(t::text, '|' ORDER BY user_id, day)) FROM user_daily_activity t) AS daily_activity,
      (SELECT md5(string_agg(t::text, '|' ORDER BY user_id)) FROM user_stats_summary t) AS stats,
      (SELECT md5(string_agg(t::text, '|' ORDER BY metric, value)) FROM user_stats_ranks t) AS ranks`);
  return rows[0]!;
}

/** The seeded tables' indexes and constraints as the catalog defines them. */
async function indexesAndConstraints(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ entry: string }>(`
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) AS entry
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'public'::regnamespace AND i.indisvalid
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
           || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    ORDER BY 1`);
  return rows.map((row) => row.entry);
}

describe('seedDatabase', () => {
  let database: TestDatabase;
  let summary: SeedSummary;
  let catalogBefore: string[];
  let seeded: Record<string, string>;
  const events: SeedProgressEvent[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    catalogBefore = await indexesAndConstraints(database.pool);
    summary = await seedDatabase(database.pool, SMALL, (event) => events.push(event));
    seeded = await fingerprint(database.pool);
  });
  afterAll(() => database.close());

  it('writes as many users, conversations and messages as asked, and says so', async () => {
    const { rows } = await database.pool.query(`
      SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM conversations) AS conversations,
             (SELECT count(*)::int FROM conversation_participants) AS participants,
             (SELECT count(*)::int FROM messages) AS messages, (SELECT count(*)::int FROM user_daily_activity) AS daily,
             (SELECT min(id)::int FROM messages) AS first_message_id, (SELECT max(id)::int FROM messages) AS last_message_id`);
    expect(rows[0]).toEqual({
      users: 50,
      conversations: 200,
      participants: summary.participants,
      messages: 5_000,
      daily: summary.dailyActivityRows,
      first_message_id: 1,
      last_message_id: 5_000,
    });
    expect(summary).toMatchObject({ users: 50, conversations: 200, messages: 5_000, seed: 7, now });
  });

  it('keeps every invariant of live data', async () => {
    expect(await countViolations(database.pool)).toEqual(NO_VIOLATIONS);
  });

  it('has checks that see a broken row', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE conversations SET last_message_at = last_message_at - interval '1 minute' WHERE id = 1`);
      await client.query("UPDATE messages SET created_at = $1::timestamptz + interval '1 day' WHERE id = 1", [now]);
      const violations = await countViolations(client);
      expect(violations['conversations.last_message_at is the newest message, NULL without one']).toBeGreaterThan(0);
      // Conversation 1's participants still carry its old last activity.
      expect(violations["a participant's last_activity_at is the conversation's last activity: its newest message, or its creation"]).toBeGreaterThan(0);
      expect(violations['messages and conversations fall in the 90 days before the anchor; users signed up before']).toBe(1);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('gives users the XP of their messages and the level of their XP (modules/users/xp.ts)', async () => {
    const { rows } = await database.pool.query<{ id: number; xp: number; level: number; sent: number }>(`
      SELECT u.id, u.xp, u.level, (SELECT count(*)::int FROM messages m WHERE m.author_id = u.id) AS sent
      FROM users u ORDER BY u.id`);
    for (const user of rows) {
      expect({ id: user.id, xp: user.xp, level: user.level }).toEqual({
        id: user.id,
        xp: XP_PER_MESSAGE * user.sent,
        level: levelForXp(XP_PER_MESSAGE * user.sent),
      });
    }
    expect(Math.max(...rows.map((user) => user.level))).toBeGreaterThan(5);
  });

  it('looks like a chat: both kinds, a few busy conversations and users, activity on most days', async () => {
    type Shape = Record<
      'direct' | 'groups' | 'busiest_conversation' | 'median_conversation' | 'busiest_user' | 'median_user' | 'active_days' | 'distinct_bodies',
      number
    >;
    const { rows } = await database.pool.query<Shape>(`
      WITH per_conversation AS (
        SELECT c.kind, count(m.id) AS sent FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id GROUP BY c.id
      ),
      per_user AS (SELECT u.id, count(m.id) AS sent FROM users u LEFT JOIN messages m ON m.author_id = u.id GROUP BY u.id)
      SELECT
        (SELECT count(*)::int FROM per_conversation WHERE kind = 'direct') AS direct,
        (SELECT count(*)::int FROM per_conversation WHERE kind = 'group') AS groups,
        (SELECT max(sent)::int FROM per_conversation) AS busiest_conversation,
        (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY sent)::int FROM per_conversation) AS median_conversation,
        (SELECT max(sent)::int FROM per_user) AS busiest_user,
        (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY sent)::int FROM per_user) AS median_user,
        (SELECT count(DISTINCT (created_at AT TIME ZONE 'UTC')::date)::int FROM messages) AS active_days,
        (SELECT count(DISTINCT body)::int FROM messages) AS distinct_bodies`);
    const shape = rows[0]!;
    expect(shape.direct).toBeGreaterThan(50);
    expect(shape.groups).toBeGreaterThan(50);
    expect(shape.busiest_conversation).toBeGreaterThan(500);
    expect(shape.busiest_conversation).toBeGreaterThan(20 * Math.max(1, shape.median_conversation));
    expect(shape.busiest_user).toBeGreaterThan(5 * Math.max(1, shape.median_user));
    expect(shape.active_days).toBeGreaterThan(60);
    expect(shape.distinct_bodies).toBeGreaterThan(1_000);
  });

  it('refreshes user_stats_summary from the new data and records the refresh', async () => {
    const { rows } = await database.pool.query<{
      rows: number;
      messages: number;
      stale: number;
      longest_streak: number;
      lowest_rank: number;
      refreshes: number[];
    }>(`
      SELECT (SELECT count(*)::int FROM user_stats_summary) AS rows,
             (SELECT sum(total_messages)::int FROM user_stats_summary) AS messages,
             (SELECT count(*)::int FROM user_stats_summary s JOIN users u ON u.id = s.user_id
              WHERE s.xp <> u.xp OR s.level <> u.level OR s.last_activity_at IS DISTINCT FROM u.last_active_at) AS stale,
             (SELECT max(max_streak)::int FROM user_stats_summary) AS longest_streak,
             (SELECT max(rank)::int FROM user_stats_ranks WHERE metric = 'total_messages') AS lowest_rank,
             -- the migration recorded the empty view it created; the seed, its own refresh
             (SELECT array_agg(rows ORDER BY id) FROM materialized_view_refreshes
              WHERE view_name = 'user_stats_summary' AND outcome = 'succeeded') AS refreshes`);
    expect(rows[0]).toMatchObject({ rows: 50, messages: 5_000, stale: 0, refreshes: [0, 50] });
    expect(rows[0]!.lowest_rank).toBeGreaterThan(1);
    expect(rows[0]!.longest_streak).toBeGreaterThan(1);
  });

  it('leaves every index and constraint as the migrations made them, and valid', async () => {
    expect(await indexesAndConstraints(database.pool)).toEqual(catalogBefore);
    expect(catalogBefore.some((entry) => entry.includes('messages_conversation_id_created_at_id_idx'))).toBe(true);
    expect(catalogBefore.some((entry) => entry.includes('messages_author_id_fkey'))).toBe(true);
  });

  it('moves the identity sequences past the seeded ids, so that new rows follow them', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      const user = await client.query<{ id: number }>(
        `INSERT INTO users (username, display_name, email) VALUES ('newcomer', 'New Comer', 'newcomer@example.com') RETURNING id`,
      );
      const conversation = await client.query<{ id: number }>(`INSERT INTO conversations (kind, title, created_by) VALUES ('group', 'New', $1) RETURNING id`, [
        user.rows[0]!.id,
      ]);
      await client.query('INSERT INTO conversation_participants (conversation_id, user_id, last_activity_at) VALUES ($1, $2, now())', [
        conversation.rows[0]!.id,
        user.rows[0]!.id,
      ]);
      const message = await client.query<{ id: string }>(`INSERT INTO messages (conversation_id, author_id, body) VALUES ($1, $2, 'hello') RETURNING id`, [
        conversation.rows[0]!.id,
        user.rows[0]!.id,
      ]);
      expect([user.rows[0]!.id, conversation.rows[0]!.id, Number(message.rows[0]!.id)]).toEqual([51, 201, 5_001]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('reports progress through every step, in order, to the last', () => {
    const steps = events.map((event) => event.step).filter((step, index, all) => step !== all[index - 1]);
    expect(steps).toEqual(['plan', 'users', 'conversations', 'messages', 'activity', 'participants', 'activity', 'indexes', 'view']);
    for (const [index, event] of events.entries()) {
      expect(event.done).toBeLessThanOrEqual(event.total);
      if (index > 0) expect(event.elapsedMs).toBeGreaterThanOrEqual(events[index - 1]!.elapsedMs);
    }
    expect(events.filter((event) => event.step === 'messages').at(-1)).toMatchObject({ done: 5_000, total: 5_000 });
    expect(events.at(-1)).toMatchObject({ step: 'view', done: 2, total: 2 });
  });

  describe('given the same options', () => {
    let other: TestDatabase;
    beforeAll(async () => {
      other = await createTestDatabase();
    });
    afterAll(() => other.close());

    it('writes identical rows into another database, id for id', async () => {
      await seedDatabase(other.pool, SMALL);
      expect(await fingerprint(other.pool)).toEqual(seeded);
    });

    it('writes other rows for another seed', async () => {
      await seedDatabase(other.pool, { ...SMALL, seed: 8, reset: true });
      const changed = await fingerprint(other.pool);
      for (const table of ['users', 'conversations', 'participants', 'messages', 'daily_activity', 'stats']) {
        expect(changed[table]).not.toBe(seeded[table]);
      }
    });
  });

  it('refuses a database that holds users unless reset is given, and leaves it untouched', async () => {
    await expect(seedDatabase(database.pool, { ...SMALL, seed: 9 })).rejects.toBeInstanceOf(SeedRefusedError);
    expect(await fingerprint(database.pool)).toEqual(seeded);
  });

  it('with reset replaces the data, and the same options give the same rows again', async () => {
    await seedDatabase(database.pool, { users: 10, conversations: 20, messages: 100, seed: 1, now, reset: true });
    const { rows } = await database.pool.query('SELECT count(*)::int AS users FROM users');
    expect(rows[0]).toEqual({ users: 10 });
    expect(await countViolations(database.pool)).toEqual(NO_VIOLATIONS);

    await seedDatabase(database.pool, { ...SMALL, reset: true });
    expect(await fingerprint(database.pool)).toEqual(seeded);
    expect(await indexesAndConstraints(database.pool)).toEqual(catalogBefore);
  });
});

describe('seedDatabase into a partitioned messages table', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    // messages as a partitioning migration would leave it: range partitions
    // on created_at, a primary key that holds it, a partitioned index.
    const middle = new Date(now.getTime() - 45 * 86_400_000).toISOString();
    await database.pool.query(`
      DROP TABLE messages;
      CREATE TABLE messages (
        id bigint GENERATED BY DEFAULT AS IDENTITY,
        conversation_id integer NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        body text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        edited_at timestamptz(3),
        search_vector tsvector,
        PRIMARY KEY (id, created_at)
      ) PARTITION BY RANGE (created_at);
      CREATE TABLE messages_older PARTITION OF messages FOR VALUES FROM (MINVALUE) TO ('${middle}');
      CREATE TABLE messages_newer PARTITION OF messages FOR VALUES FROM ('${middle}') TO (MAXVALUE);
      CREATE INDEX messages_conversation_id_created_at_id_idx ON messages (conversation_id, created_at DESC, id DESC) INCLUDE (author_id)`);
  });
  afterAll(() => database.close());

  it('puts each index it dropped back on every partition, valid', async () => {
    await seedDatabase(database.pool, SMALL);
    const { rows } = await database.pool.query(
      `SELECT index.indexrelid::regclass::text AS index, index.indisvalid AS valid,
              (SELECT count(*)::int FROM pg_inherits WHERE inhparent = index.indexrelid) AS partitions
       FROM pg_index AS index WHERE index.indrelid = 'messages'::regclass ORDER BY 1`,
    );
    expect(rows).toEqual([
      { index: 'messages_conversation_id_created_at_id_idx', valid: true, partitions: 2 },
      { index: 'messages_pkey', valid: true, partitions: 2 },
    ]);
    const { rows: split } = await database.pool.query<{ older: number }>('SELECT count(*)::int AS older FROM messages_older');
    expect(split[0]!.older).toBeGreaterThan(0);
  });
});
