// The hot statements' plans on a seeded database: each uses the index it was
// built for, and none reads messages, conversation_participants or
// user_stats_summary whole. The statements are not copied here: each case
// calls the named SQL function its loader or resolver calls, with a database
// that records the text and parameters instead of running them, and the
// test EXPLAINs what was recorded. Every index of the schema must be the
// expected index of some case or say below what else it is for, so an index
// that serves nothing fails this file.
import pg from 'pg';
import type { Queryable } from '../../src/db/pool.js';
import { seedDatabase } from '../../src/cli/seed/seed.js';
import { countConversationsOf, countUnread, findInboxPages, findParticipantUsers, findVisibleConversations } from '../../src/modules/conversations/sql.js';
import { findLeaderboardPage } from '../../src/modules/leaderboards/sql.js';
import { leaderboardColumn, type LeaderboardMetric, type LeaderboardPeriod } from '../../src/modules/leaderboards/metrics.js';
import {
  countMessages,
  findHistoryPages,
  findLastMessages,
  findMessagesAfter,
  findNewestMessageKeyset,
  findVisibleMessages,
} from '../../src/modules/messages/sql.js';
import type { PageRequest } from '../../src/graphql/relay/page-arguments.js';
import { findStatsByUserIds, findUserByUsername, findUsersByIds } from '../../src/modules/users/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Enough rows that an index beats reading a table whole (the planner reads
 * small tables whole, rightly), small enough to seed in a few seconds.
 * Timestamps up to today, so the 7- and 30-day leaderboards are not all zero.
 */
const SEED = { users: 10_000, conversations: 5_000, messages: 60_000, seed: 11 };

/** Tables a hot statement must never read whole. */
const NEVER_SCANNED_WHOLE = ['messages', 'conversation_participants', 'user_stats_summary'];

interface Recorded {
  text: string;
  values: unknown[];
}

/** A Queryable that keeps what it is sent and answers no rows. */
function recorder(): Queryable & { statements: Recorded[] } {
  const statements: Recorded[] = [];
  const query = async (text: string, values: unknown[] = []) => {
    statements.push({ text, values });
    return { rows: [], rowCount: 0, command: 'SELECT', oid: 0, fields: [] };
  };
  return { statements, query: query as unknown as Queryable['query'] };
}

interface PlanNode {
  type: string;
  relation: string | undefined;
  index: string | undefined;
}

/** Every node of an EXPLAIN (FORMAT JSON) plan, subplans and init plans included. */
function planNodes(plan: Record<string, unknown>): PlanNode[] {
  const node = { type: plan['Node Type'] as string, relation: plan['Relation Name'] as string | undefined, index: plan['Index Name'] as string | undefined };
  return [node, ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(planNodes)];
}

const describeNode = (node: PlanNode) => `${node.type}${node.relation ? ` on ${node.relation}` : ''}${node.index ? ` using ${node.index}` : ''}`;

let database: TestDatabase;

/** Keys picked from the seeded data, as a client's requests would bring them. */
const keys = {
  /** The user in the most conversations. */
  busyUser: 0,
  /** A user in the median number of conversations. */
  typicalUser: 0,
  /** A user added to 90% of the conversations. */
  everywhereUser: 0,
  username: '',
  /** The busy user's 50 most recent conversations: the keys of one inbox page's loaders. */
  inboxConversations: [] as number[],
  /** The conversation with the most messages, and a message in its middle for cursors. */
  longestConversation: 0,
  middleMessage: { at: new Date(0), id: '0' },
  /** The authors on the inbox page: the keys of userById and statsByUser. */
  authors: [] as number[],
};

beforeAll(async () => {
  database = await createTestDatabase();
  // seedDatabase ends with VACUUM ANALYZE: the planner sees the seeded sizes.
  await seedDatabase(database.pool, SEED);
  const db = database.pool;
  const one = async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await db.query<Row>(sql, params)).rows[0]!;
  keys.busyUser = (await one<{ id: number }>('SELECT user_id AS id FROM conversation_participants GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1')).id;
  keys.typicalUser = (
    await one<{ id: number }>(
      `WITH counts AS (SELECT user_id, count(*) AS n FROM conversation_participants GROUP BY user_id)
       SELECT user_id AS id FROM counts WHERE n = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM counts) ORDER BY 1 LIMIT 1`,
    )
  ).id;
  keys.username = (await one<{ username: string }>('SELECT username FROM users WHERE id = $1', [keys.typicalUser])).username;
  const inbox = await db.query<{ id: number }>(
    `SELECT c.id FROM conversations c JOIN conversation_participants p ON p.conversation_id = c.id
     WHERE p.user_id = $1 ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT 50`,
    [keys.busyUser],
  );
  keys.inboxConversations = inbox.rows.map((row) => row.id);
  keys.longestConversation = (await one<{ id: number }>('SELECT conversation_id AS id FROM messages GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1')).id;
  keys.middleMessage = await one<{ at: Date; id: string }>(
    `SELECT created_at AS at, id FROM messages WHERE conversation_id = $1 ORDER BY created_at, id
     OFFSET (SELECT count(*) / 2 FROM messages WHERE conversation_id = $1) LIMIT 1`,
    [keys.longestConversation],
  );
  const authors = await db.query<{ id: number }>('SELECT DISTINCT author_id AS id FROM messages WHERE conversation_id = ANY($1::int[]) ORDER BY 1 LIMIT 100', [
    keys.inboxConversations,
  ]);
  keys.authors = authors.rows.map((row) => row.id);
  keys.everywhereUser = (
    await one<{ id: number }>(`INSERT INTO users (username, display_name, email) VALUES ('everywhere', 'Everywhere', 'everywhere@example.test') RETURNING id`)
  ).id;
  await db.query(
    `INSERT INTO conversation_participants (conversation_id, user_id, last_activity_at)
     SELECT id, $1, coalesce(last_message_at, created_at) FROM conversations WHERE id % 10 <> 0`,
    [keys.everywhereUser],
  );
  await db.query('ANALYZE conversation_participants');
}, 120_000);
afterAll(async () => {
  await database?.close();
});

const firstPage = (size = 20): PageRequest => ({ forward: true, size, cursor: null });
const leaderboardPage = (metric: LeaderboardMetric, period: LeaderboardPeriod) => (db: Queryable) =>
  findLeaderboardPage(db, leaderboardColumn(metric, period), { size: 20, after: null, viewerId: null });

interface PlanCase {
  statement: string;
  /** Calls the named SQL function its loader or resolver calls. */
  send: (db: Queryable) => Promise<unknown>;
  /** Indexes its plan must use; 'a|b' where either serves it as well (the planner picks by size). */
  uses: string[];
}

// One line per hot statement: what it is, how the API sends it, the indexes it is meant to use.
const cases: PlanCase[] = [
  {
    statement: 'inbox page, typical user',
    send: (db) => findInboxPages(db, [{ userId: keys.typicalUser, page: firstPage() }]),
    uses: ['conversation_participants_user_id_last_activity_at_idx', 'conversations_pkey'],
  },
  {
    statement: 'inbox page, busiest user',
    send: (db) => findInboxPages(db, [{ userId: keys.busyUser, page: firstPage(50) }]),
    uses: ['conversation_participants_user_id_last_activity_at_idx', 'conversations_pkey'],
  },
  {
    statement: 'inbox page, user in 90% of conversations',
    send: (db) => findInboxPages(db, [{ userId: keys.everywhereUser, page: firstPage() }]),
    uses: ['conversation_participants_user_id_last_activity_at_idx', 'conversations_pkey'],
  },
  {
    statement: 'history page, 50 conversations',
    send: (db) =>
      findHistoryPages(
        db,
        keys.inboxConversations.map((conversationId) => ({ conversationId, page: firstPage() })),
      ),
    uses: ['messages_conversation_id_created_at_id_idx'],
  },
  {
    statement: 'history page, after a cursor',
    send: (db) => findHistoryPages(db, [{ conversationId: keys.longestConversation, page: { forward: true, size: 20, cursor: keys.middleMessage } }]),
    uses: ['messages_conversation_id_created_at_id_idx'],
  },
  {
    statement: 'history page, before a cursor',
    send: (db) => findHistoryPages(db, [{ conversationId: keys.longestConversation, page: { forward: false, size: 20, cursor: keys.middleMessage } }]),
    uses: ['messages_conversation_id_created_at_id_idx'],
  },
  {
    statement: 'messages after a cursor (a subscription resuming, a feed reading a gap)',
    send: (db) => findMessagesAfter(db, keys.longestConversation, keys.middleMessage, 100),
    uses: ['messages_conversation_id_created_at_id_idx', 'users_pkey', 'conversation_participants_pkey'],
  },
  {
    statement: 'newest message of a conversation (a feed starting)',
    send: (db) => findNewestMessageKeyset(db, keys.longestConversation),
    uses: ['messages_conversation_id_created_at_id_idx'],
  },
  {
    statement: 'last message per conversation',
    send: (db) => findLastMessages(db, keys.inboxConversations),
    uses: ['messages_conversation_id_created_at_id_idx', 'users_pkey'],
  },
  {
    statement: 'unread counts',
    send: (db) => countUnread(db, keys.busyUser, keys.inboxConversations),
    uses: ['conversation_participants_user_id_conversation_id_idx', 'messages_conversation_id_created_at_id_idx'],
  },
  { statement: 'participants', send: (db) => findParticipantUsers(db, keys.inboxConversations), uses: ['conversation_participants_pkey'] },
  { statement: 'users by id', send: (db) => findUsersByIds(db, keys.authors), uses: ['users_pkey'] },
  { statement: 'user by username', send: (db) => findUserByUsername(db, keys.username), uses: ['users_username_key'] },
  // 50 authors, not 100: user_stats_summary is narrow (94 pages for these 10,000 users), and from
  // about 85 keys spread over it PostgreSQL's default costs read it whole (1 ms against 0.2 ms by
  // the index here); at 100,000 users a batch of 100 probes the index.
  { statement: 'stats by user', send: (db) => findStatsByUserIds(db, keys.authors.slice(0, 50)), uses: ['user_stats_summary_user_id_key'] },
  { statement: 'message count (totalCount)', send: (db) => countMessages(db, keys.inboxConversations), uses: ['messages_conversation_id_created_at_id_idx'] },
  {
    statement: 'conversation count (totalCount)',
    send: (db) => countConversationsOf(db, [keys.busyUser]),
    uses: ['conversation_participants_user_id_conversation_id_idx|conversation_participants_user_id_last_activity_at_idx'],
  },
  { statement: 'leaderboard page, XP', send: leaderboardPage('XP', 'ALL_TIME'), uses: ['user_stats_summary_xp_idx', 'user_stats_ranks_metric_value_key'] },
  {
    statement: 'leaderboard page, XP 7 days',
    send: leaderboardPage('XP', 'LAST_7_DAYS'),
    uses: ['user_stats_summary_xp_7d_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, XP 30 days',
    send: leaderboardPage('XP', 'LAST_30_DAYS'),
    uses: ['user_stats_summary_xp_30d_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, messages',
    send: leaderboardPage('MESSAGES', 'ALL_TIME'),
    uses: ['user_stats_summary_total_messages_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, messages 7 days',
    send: leaderboardPage('MESSAGES', 'LAST_7_DAYS'),
    uses: ['user_stats_summary_messages_7d_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, messages 30 days',
    send: leaderboardPage('MESSAGES', 'LAST_30_DAYS'),
    uses: ['user_stats_summary_messages_30d_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, streak',
    send: leaderboardPage('STREAK', 'ALL_TIME'),
    uses: ['user_stats_summary_current_streak_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, longest streak',
    send: leaderboardPage('LONGEST_STREAK', 'ALL_TIME'),
    uses: ['user_stats_summary_max_streak_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'leaderboard page, after a cursor',
    send: (db) => findLeaderboardPage(db, 'xp', { size: 20, after: { value: 100, userId: 500 }, viewerId: null }),
    uses: ['user_stats_summary_xp_idx', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: "leaderboard page with the viewer's entry",
    send: (db) => findLeaderboardPage(db, 'xp', { size: 20, after: null, viewerId: keys.typicalUser }),
    uses: ['user_stats_summary_xp_idx', 'user_stats_summary_user_id_key', 'user_stats_ranks_metric_value_key'],
  },
  {
    statement: 'visibility check, conversations',
    send: (db) => findVisibleConversations(db, keys.busyUser, keys.inboxConversations.slice(0, 5)),
    uses: ['conversations_pkey', 'conversation_participants_user_id_conversation_id_idx'],
  },
  {
    statement: 'visibility check, messages',
    send: (db) => findVisibleMessages(db, keys.busyUser, [keys.middleMessage.id]),
    uses: ['messages_pkey', 'conversation_participants_user_id_conversation_id_idx'],
  },
];

/**
 * Indexes no hot read is meant to use, each with what it is for: they
 * enforce a constraint on writes, or serve a statement too rare or on too
 * small a table for a plan test.
 */
const NOT_FOR_HOT_READS: Record<string, string> = {
  users_email_key: 'one account per email',
  conversations_direct_key_key: 'one direct conversation per pair of users (createConversation: ON CONFLICT (direct_key))',
  user_daily_activity_pkey: 'one row per user and day (sendMessage: ON CONFLICT (user_id, day) DO UPDATE)',
  materialized_view_refreshes_pkey: 'the refresh log’s row identity',
  materialized_view_refreshes_succeeded_idx:
    'the latest successful refresh (refreshedAt, in every leaderboard page and stats batch): the log gains a row per interval, read whole while small',
  _prisma_migrations_pkey: 'Prisma’s migration table',
};

/** The recorded statement of `send`, explained on the seeded database. */
async function plan(send: PlanCase['send'], settings: string[] = []): Promise<PlanNode[]> {
  const db = recorder();
  await send(db);
  expect(db.statements).toHaveLength(1);
  const { text, values } = db.statements[0]!;
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    for (const setting of settings) await client.query(`SET LOCAL ${setting}`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
    return planNodes(rows[0]!['QUERY PLAN'][0].Plan);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** What a plan does wrong: expected indexes it does not use, hot tables it reads whole. */
function planProblems(nodes: PlanNode[], uses: string[]): string[] {
  const used = new Set(nodes.map((node) => node.index).filter(Boolean));
  return [
    ...uses.filter((index) => !index.split('|').some((name) => used.has(name))).map((index) => `does not use ${index}`),
    ...nodes
      .filter((node) => node.type === 'Seq Scan' && NEVER_SCANNED_WHOLE.includes(node.relation!))
      .map((node) => `reads ${node.relation} whole (Seq Scan)`),
  ];
}

describe('plans of the hot statements', () => {
  it.each(cases.map((planCase) => [planCase.statement, planCase] as const))('%s', async (_statement, { send, uses }) => {
    const nodes = await plan(send);
    const problems = planProblems(nodes, uses);
    // With the plan in the message, a failure shows what the planner chose instead.
    expect(problems.length === 0 ? [] : [...problems, `plan: ${nodes.map(describeNode).join(' → ')}`]).toEqual([]);
  });

  it('would notice a sequential scan and a missing index (the check is not vacuous)', async () => {
    const history = cases.find((planCase) => planCase.statement === 'history page, after a cursor')!;
    const nodes = await plan(history.send, ['enable_indexscan = off', 'enable_bitmapscan = off', 'enable_indexonlyscan = off']);
    const problems = planProblems(nodes, history.uses);
    expect(problems).toContain('does not use messages_conversation_id_created_at_id_idx');
    expect(problems).toContain('reads messages whole (Seq Scan)');
  });

  it('covers every index of the schema: each serves a statement above, or says what else it is for', async () => {
    const { rows } = await database.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`,
    );
    const indexes = rows.map((row) => row.name);
    const accounted = new Set([...cases.flatMap((planCase) => planCase.uses.flatMap((index) => index.split('|'))), ...Object.keys(NOT_FOR_HOT_READS)]);
    expect(indexes.filter((index) => !accounted.has(index))).toEqual([]);
    // And nothing above names an index that is gone.
    expect([...accounted].filter((index) => !indexes.includes(index))).toEqual([]);
  });
});
