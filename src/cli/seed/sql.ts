// Internal: the seed's statements, one function each, all set-based. They run
// inside seedDatabase's transaction, on its client; staging tables are
// temporary and dropped at commit.
import type pg from 'pg';
import type { TransactionSettings } from '../../db/transaction.js';
import { levelForXpSql, XP_PER_MESSAGE } from '../../modules/users/xp.js';
import type { PlannedConversation, PlannedParticipant, PlannedUser } from './plan.js';

type Db = pg.ClientBase;

/** The tables the seed fills; materialized_view_refreshes is a log and is kept. */
const SEEDED_TABLES = ['users', 'conversations', 'conversation_participants', 'messages', 'user_daily_activity'];

export async function truncateSeededTables(db: Db): Promise<void> {
  await db.query(`TRUNCATE ${SEEDED_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

export async function hasAnyUser(db: Db | pg.Pool): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS exists');
  return rows[0]?.exists ?? false;
}

// Two seeds at once would both see an empty database: the second waits for
// this lock (seedDatabase's transaction takes it first) and then finds the
// first one's users.
export const SEED_LOCK_KEY = 72707370;

/**
 * Settings for the seed's transaction only: no statement timeout (the
 * pool's is meant for API requests), room for the sorts, hash aggregates
 * and index builds, and no wait for the WAL flush at commit: a seed lost in
 * a crash is run again.
 */
export const SEED_TRANSACTION_SETTINGS: TransactionSettings = {
  statementTimeoutMs: 0,
  synchronousCommit: false,
  workMem: '64MB',
  maintenanceWorkMem: '256MB',
};

/** An index or a foreign key dropped for the load, and the statement that puts it back as it was. */
export interface DroppedStructure {
  name: string;
  kind: 'index' | 'foreign key';
  recreate: string;
}

/**
 * Drops the secondary indexes and the foreign keys of the seeded tables, so
 * that the data goes in bare and they are built once at the end, as
 * pg_restore does. Kept up row by row they were most of a seed: a million
 * messages took 40 s to insert, ~11 s of it foreign-key triggers (two lookups
 * per row) and ~22 s index upkeep; bare they take 7 s, then the indexes ~17 s
 * (15 s the search GIN, which is to_tsvector of every body) and validating
 * the foreign keys 0.3 s.
 *
 * Primary keys, unique and check constraints stay: they guard the load
 * itself. Each dropped structure comes back by its catalog definition
 * (pg_get_indexdef, pg_get_constraintdef), so the migrations stay their only
 * author, and a foreign key comes back validated. All of it runs in the
 * seed's transaction: if anything fails, the drops roll back with the data.
 * The tables are empty here (truncated, or holding no user and so nothing
 * that references one). The price: until the commit, readers of these tables
 * wait on the drops' exclusive locks, as they would on TRUNCATE's.
 */
export async function dropIndexesAndForeignKeys(db: Db): Promise<DroppedStructure[]> {
  const { rows } = await db.query<DroppedStructure & { drop: string }>(
    `SELECT conname AS name, 'foreign key' AS kind,
            format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
            format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS recreate,
            1 AS recreate_order -- after the indexes, as pg_restore does
     FROM pg_constraint
     WHERE contype = 'f' AND conrelid = ANY($1::regclass[])
     UNION ALL
     SELECT index.indexrelid::regclass::text, 'index',
            format('DROP INDEX %s', index.indexrelid::regclass),
            -- A partitioned table's index reads "ON ONLY": as written it would
            -- come back on the parent alone, invalid, and on no partition.
            regexp_replace(pg_get_indexdef(index.indexrelid), ' ON ONLY ', ' ON '),
            0
     FROM pg_index AS index
     WHERE index.indrelid = ANY($1::regclass[])
       AND NOT EXISTS (
         SELECT 1 FROM pg_constraint AS owner
         WHERE owner.conindid = index.indexrelid AND owner.conrelid = index.indrelid AND owner.contype IN ('p', 'u', 'x')
       )
     ORDER BY recreate_order, name`,
    [SEEDED_TABLES],
  );
  for (const structure of rows) await db.query(structure.drop);
  return rows.map(({ name, kind, recreate }) => ({ name, kind, recreate }));
}

export async function recreateStructure(db: Db, structure: DroppedStructure): Promise<void> {
  await db.query(structure.recreate);
}

// Ids are explicit (1…n in creation order) so that they are the same on any
// database, whatever its sequences went through before; the sequences are
// moved past them afterwards (see advanceSequences).
export async function insertUsers(db: Db, users: PlannedUser[]): Promise<void> {
  await db.query(
    `INSERT INTO users (id, username, display_name, email, avatar_url, created_at)
     SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])`,
    [
      users.map((user) => user.id),
      users.map((user) => user.username),
      users.map((user) => user.displayName),
      users.map((user) => user.email),
      users.map((user) => user.avatarUrl),
      users.map((user) => user.createdAt.toISOString()),
    ],
  );
}

/** Conversations as planned; last_message_at and updated_at are set once their messages exist. */
export async function insertConversations(db: Db, conversations: PlannedConversation[]): Promise<void> {
  await db.query(
    `INSERT INTO conversations (id, kind, title, direct_key, created_by, created_at, updated_at)
     SELECT id, kind, title, direct_key, created_by, created_at, created_at
     FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::timestamptz[])
       AS planned (id, kind, title, direct_key, created_by, created_at)`,
    [
      conversations.map((conversation) => conversation.id),
      conversations.map((conversation) => conversation.kind),
      conversations.map((conversation) => conversation.title),
      conversations.map((conversation) => conversation.directKey),
      conversations.map((conversation) => conversation.createdBy),
      conversations.map((conversation) => conversation.createdAt.toISOString()),
    ],
  );
}

/**
 * Stages what the message statements read: per conversation its count, first
 * id and number of seats; per seat its user and join time. Participants are
 * written to conversation_participants only after the messages, because their
 * read state depends on the last message.
 */
export async function stageSeedPlan(db: Db, conversations: PlannedConversation[], participants: PlannedParticipant[], phrases: string[]): Promise<void> {
  await db.query(`
    CREATE TEMPORARY TABLE seed_conversations (
      conversation_id integer PRIMARY KEY,
      first_message_id bigint NOT NULL,
      message_count integer NOT NULL,
      seat_count integer NOT NULL
    ) ON COMMIT DROP;
    CREATE TEMPORARY TABLE seed_seats (
      conversation_id integer NOT NULL,
      seat integer NOT NULL,
      user_id integer NOT NULL,
      role text NOT NULL,
      joined_at timestamptz(3) NOT NULL,
      PRIMARY KEY (conversation_id, seat)
    ) ON COMMIT DROP;
    CREATE TEMPORARY TABLE seed_phrases (id integer PRIMARY KEY, phrase text NOT NULL) ON COMMIT DROP`);
  const seatCounts = new Map<number, number>();
  for (const participant of participants) {
    seatCounts.set(participant.conversationId, (seatCounts.get(participant.conversationId) ?? 0) + 1);
  }
  await db.query(
    `INSERT INTO seed_conversations
     SELECT * FROM unnest($1::integer[], $2::bigint[], $3::integer[], $4::integer[])`,
    [
      conversations.map((conversation) => conversation.id),
      conversations.map((conversation) => conversation.firstMessageId),
      conversations.map((conversation) => conversation.messageCount),
      conversations.map((conversation) => seatCounts.get(conversation.id) ?? 0),
    ],
  );
  await db.query(
    `INSERT INTO seed_seats
     SELECT * FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::text[], $5::timestamptz[])`,
    [
      participants.map((participant) => participant.conversationId),
      participants.map((participant) => participant.seat),
      participants.map((participant) => participant.userId),
      participants.map((participant) => participant.role),
      participants.map((participant) => participant.joinedAt.toISOString()),
    ],
  );
  await db.query('INSERT INTO seed_phrases SELECT ordinality - 1, phrase FROM unnest($1::text[]) WITH ORDINALITY AS pool (phrase, ordinality)', [phrases]);
  await db.query('ANALYZE seed_conversations, seed_seats, seed_phrases');
}

// 31 bits of hashtext (core PostgreSQL, so also on the embedded PGlite) of a
// key naming the seed, the row and the purpose of the draw; and the same as a
// uniform number in [0, 1). Built from code constants only, never from input.
const hash31 = (key: string) => `(hashtext(concat_ws(':', ${key})) & 2147483647)`;
const unit = (key: string) => `(${hash31(key)}::float8 / 2147483648)`;

/**
 * Writes the messages of conversations `fromId`…`toId`. Every choice is a
 * hash of (seed, conversation, message number, purpose), never random(), so
 * the rows do not depend on the plan or the order PostgreSQL runs it in:
 *
 * - author: seat 1 + ⌊seats × u²⌋, so the conversation's most active member
 *   (seat 1) writes most, and the last seats little;
 * - time: between the author's join and the anchor, at joined + span × √u,
 *   which leans towards recent days as a growing product would;
 * - body: one to three phrases of the pool (mostly one); one message in
 *   forty was edited a little later.
 *
 * Ids run in (created_at, number) order within the conversation from its
 * first_message_id, and rows are inserted in id order, so the table is laid
 * out by conversation and time, as the history page reads it.
 */
export async function insertMessages(db: Db, range: { seed: number; now: Date; fromId: number; toId: number; phrasePoolSize: number }): Promise<number> {
  const key = (purpose: string) => `$1::integer, plan.conversation_id, number, '${purpose}'`;
  const result = await db.query(
    `WITH drafts AS (
       SELECT plan.conversation_id, plan.first_message_id, number,
              1 + floor(plan.seat_count * power(${unit(key('author'))}, 2))::integer AS seat,
              ${unit(key('time'))} AS time_unit,
              ${hash31(key('body'))} AS body_hash,
              ${hash31(key('shape'))} AS shape_hash
       FROM seed_conversations AS plan
       CROSS JOIN LATERAL generate_series(1, plan.message_count) AS number
       WHERE plan.conversation_id BETWEEN $3 AND $4
     ),
     timed AS (
       SELECT draft.*, seat.user_id AS author_id,
              (seat.joined_at + ($2::timestamptz - seat.joined_at) * sqrt(draft.time_unit))::timestamptz(3) AS created_at
       FROM drafts AS draft
       JOIN seed_seats AS seat ON seat.conversation_id = draft.conversation_id AND seat.seat = draft.seat
     ),
     numbered AS (
       SELECT timed.*,
              first_message_id - 1 + row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, number) AS id
       FROM timed
     )
     INSERT INTO messages (id, conversation_id, author_id, body, created_at, edited_at)
     SELECT message.id, message.conversation_id, message.author_id,
            concat_ws(' ', first_phrase.phrase, second_phrase.phrase, third_phrase.phrase),
            message.created_at,
            CASE WHEN message.shape_hash % 40 = 0
                 THEN least($2::timestamptz, message.created_at + make_interval(secs => message.shape_hash % 900))
            END
     FROM numbered AS message
     JOIN seed_phrases AS first_phrase ON first_phrase.id = message.body_hash % $5
     LEFT JOIN seed_phrases AS second_phrase
       ON message.shape_hash % 10 >= 6 AND second_phrase.id = (message.body_hash / $5) % $5
     LEFT JOIN seed_phrases AS third_phrase
       ON message.shape_hash % 10 >= 9 AND third_phrase.id = (message.body_hash / $5 / $5) % $5
     ORDER BY message.id`,
    [range.seed, range.now.toISOString(), range.fromId, range.toId, range.phrasePoolSize],
  );
  return result.rowCount ?? 0;
}

/**
 * Each author's last message per conversation: read by the conversation's
 * last_message_at, the participants' read state and users.last_active_at, so
 * the messages table is scanned once for all three.
 */
export async function stageLastPosts(db: Db): Promise<void> {
  await db.query(`
    CREATE TEMPORARY TABLE seed_last_posts ON COMMIT DROP AS
    SELECT conversation_id, author_id, max(created_at) AS last_posted_at
    FROM messages
    GROUP BY conversation_id, author_id`);
}

/** last_message_at = the newest message (NULL when there is none); updated_at = the last change, creation or message. */
export async function updateConversationActivity(db: Db): Promise<void> {
  await db.query(`
    UPDATE conversations AS conversation
    SET last_message_at = latest.created_at,
        updated_at = greatest(conversation.created_at, latest.created_at)
    FROM (
      SELECT conversation_id, max(last_posted_at) AS created_at FROM seed_last_posts GROUP BY conversation_id
    ) AS latest
    WHERE latest.conversation_id = conversation.id`);
}

/**
 * Writes the participants with their read state: seven in ten have read up
 * to the last message; the others stopped somewhere between their join and
 * it, but never before their own last message (writing implies reading).
 * last_read_at is never after last_message_at, and NULL where nothing was
 * ever posted. last_activity_at is the conversation's (the inbox's order),
 * so the conversations' activity is updated before this runs.
 */
export async function insertParticipants(db: Db, seed: number): Promise<number> {
  const key = `$1::integer, seat.conversation_id, seat.user_id`;
  const result = await db.query(
    `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_activity_at, last_read_at)
     SELECT seat.conversation_id, seat.user_id, seat.role, seat.joined_at,
            coalesce(conversation.last_message_at, conversation.created_at),
            CASE
              WHEN conversation.last_message_at IS NULL THEN NULL
              WHEN conversation.last_message_at <= seat.joined_at OR ${unit(`${key}, 'caught-up'`)} < 0.7
                THEN conversation.last_message_at
              ELSE greatest(
                own.last_posted_at,
                (seat.joined_at + (conversation.last_message_at - seat.joined_at) * ${unit(`${key}, 'read'`)})::timestamptz(3)
              )
            END
     FROM seed_seats AS seat
     JOIN conversations AS conversation ON conversation.id = seat.conversation_id
     LEFT JOIN seed_last_posts AS own
       ON own.conversation_id = seat.conversation_id AND own.author_id = seat.user_id
     ORDER BY seat.conversation_id, seat.user_id`,
    [seed],
  );
  return result.rowCount ?? 0;
}

/** One row per author and UTC day they wrote on, with the XP the messages earned (see modules/users/xp.ts). */
export async function insertDailyActivity(db: Db): Promise<number> {
  const result = await db.query(
    `INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
     SELECT author_id, (created_at AT TIME ZONE 'UTC')::date AS day, count(*), count(*) * $1
     FROM messages
     GROUP BY author_id, day
     ORDER BY author_id, day`,
    [XP_PER_MESSAGE],
  );
  return result.rowCount ?? 0;
}

/** xp = the sum of the daily XP, level from xp (modules/users/xp.ts), last_active_at = the last message. */
export async function updateUserProgress(db: Db): Promise<void> {
  await db.query(`
    UPDATE users AS u
    SET xp = progress.xp, level = ${levelForXpSql('progress.xp')}, last_active_at = progress.last_active_at
    FROM (
      SELECT activity.user_id, activity.xp, posts.last_active_at
      FROM (SELECT user_id, sum(xp_earned)::integer AS xp FROM user_daily_activity GROUP BY user_id) AS activity
      JOIN (SELECT author_id, max(last_posted_at) AS last_active_at FROM seed_last_posts GROUP BY author_id) AS posts
        ON posts.author_id = activity.user_id
    ) AS progress
    WHERE progress.user_id = u.id`);
}

/** Moves the identity sequences past the explicit ids, so that the API's inserts continue after them. */
export async function advanceSequences(db: Db, last: { users: number; conversations: number; messages: number }): Promise<void> {
  await db.query(
    `SELECT setval(pg_get_serial_sequence('users', 'id'), $1),
            setval(pg_get_serial_sequence('conversations', 'id'), $2),
            setval(pg_get_serial_sequence('messages', 'id'), $3)`,
    [last.users, last.conversations, last.messages],
  );
}

/**
 * Fresh statistics, so that the first queries after a seed are planned for
 * its data, and a fresh visibility map, so that index-only scans (unread
 * counts, history pages) need not visit the heap until autovacuum would
 * have come by. Outside any transaction: VACUUM cannot run in one.
 */
export async function analyzeSeededTables(db: Db | pg.Pool): Promise<void> {
  await db.query('VACUUM (ANALYZE) users, conversations, conversation_participants, messages, user_daily_activity, user_stats_summary, user_stats_ranks');
}
