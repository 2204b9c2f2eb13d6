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
import { searchMessages } from '../../src/modules/search/search.js';
import { findNewestPage, findRankedPage, findSearchScope } from '../../src/modules/search/sql.js';
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
  // As pg takes a statement: its text and values, or one object with both (and how to read its rows).
  const query = async (statement: string | { text: string; values?: unknown[] }, values: unknown[] = []) => {
    statements.push(typeof statement === 'string' ? { text: statement, values } : { text: statement.text, values: statement.values ?? [] });
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
  /** The conversations of the busy and the typical user: what their searches cover. */
  busyConversations: [] as number[],
  typicalConversations: [] as number[],
  /** The word in the most messages, and one in the fewest (as the search vectors hold them). */
  commonWord: '',
  rareWord: '',
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
  const conversationsOf = async (userId: number) =>
    (await db.query<{ id: number }>('SELECT conversation_id AS id FROM conversation_participants WHERE user_id = $1 ORDER BY 1', [userId])).rows.map(
      (row) => row.id,
    );
  keys.busyConversations = await conversationsOf(keys.busyUser);
  keys.typicalConversations = await conversationsOf(keys.typicalUser);
  const words = await db.query<{ word: string }>("SELECT word FROM ts_stat('SELECT search_vector FROM messages') ORDER BY ndoc DESC, word");
  keys.commonWord = words.rows[0]!.word;
  keys.rareWord = words.rows.at(-1)!.word;
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
    statement: 'search scope (the viewer’s conversations, the statistics)',
    send: (db) => findSearchScope(db, keys.busyUser, keys.commonWord, null),
    uses: ['conversation_participants_user_id_conversation_id_idx|conversation_participants_user_id_last_activity_at_idx'],
  },
  {
    statement: 'search page by the index: a rare word, busiest user',
    send: (db) => findNewestPage(db, 'index', { query: keys.rareWord, conversationIds: keys.busyConversations, after: null, limit: 21 }),
    uses: ['messages_search_vector_idx', 'users_pkey'],
  },
  {
    statement: 'search page by the index, ranked',
    send: (db) =>
      findRankedPage(db, 'index', { query: keys.rareWord, conversationIds: keys.busyConversations, size: 1000, walkLimit: 5_000, after: null, limit: 21 }),
    uses: ['messages_search_vector_idx', 'users_pkey'],
  },
  {
    statement: 'search page by the timeline: a common word, busiest user',
    send: (db) => findNewestPage(db, 'timeline', { query: keys.commonWord, conversationIds: keys.busyConversations, after: null, limit: 21 }),
    uses: ['messages_created_at_id_idx', 'messages_pkey', 'users_pkey'],
  },
  {
    statement: 'search page by the timeline, after a cursor',
    send: (db) => findNewestPage(db, 'timeline', { query: keys.commonWord, conversationIds: keys.busyConversations, after: keys.middleMessage, limit: 21 }),
    uses: ['messages_created_at_id_idx', 'messages_pkey'],
  },
  {
    statement: 'search page by the timeline, ranked, a later page (its window fixed)',
    send: (db) =>
      findRankedPage(db, 'timeline', {
        query: keys.commonWord,
        conversationIds: keys.busyConversations,
        size: 1000,
        walkLimit: 5_000,
        after: { rank: '0.05', keyset: keys.middleMessage, window: { top: keys.middleMessage, floor: { at: new Date(0), id: '1' } } },
        limit: 21,
      }),
    uses: ['messages_created_at_id_idx', 'messages_pkey'],
  },
  {
    statement: 'search page by conversations: typical user',
    send: (db) => findNewestPage(db, 'conversations', { query: keys.commonWord, conversationIds: keys.typicalConversations, after: null, limit: 21 }),
    uses: ['messages_conversation_id_created_at_id_idx'],
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

  // The strategy searchMessages chooses from the statistics (plan.ts), run as it runs.
  it.each([
    ['a rare word', () => keys.rareWord, 'messages_search_vector_idx'],
    // Either walk, newest first, finds its newest matches at once (which one depends on the user's conversations).
    ['a common word', () => keys.commonWord, 'messages_created_at_id_idx|messages_conversation_id_created_at_id_idx'],
  ])('a search of %s by the busiest user reads the index chosen for it', async (_case, word, index) => {
    for (const order of ['NEWEST', 'RELEVANCE'] as const) {
      const sent: Recorded[] = [];
      const db: Queryable = {
        query: ((text: string, values: unknown[]) => {
          sent.push({ text, values });
          return database.pool.query(text, values);
        }) as unknown as Queryable['query'],
      };
      await searchMessages(db, { viewerId: keys.busyUser, query: word(), conversationId: null, order, size: 20, after: null });
      expect(sent).toHaveLength(2);
      const nodes = await plan(async (recording) => recording.query(sent[1]!.text, sent[1]!.values));
      expect(planProblems(nodes, [index]).length === 0 ? [] : [`${order}: ${nodes.map(describeNode).join(' → ')}`]).toEqual([]);
    }
  });

  it('a newest-first page by the timeline stops walking with its page, however long the history', async () => {
    const db = recorder();
    await findNewestPage(db, 'timeline', { query: keys.commonWord, conversationIds: keys.busyConversations, after: null, limit: 21 });
    const { text, values } = db.statements[0]!;
    const { rows } = await database.pool.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
    const walked = (plan: Record<string, unknown>): number[] => [
      ...(plan['Index Name'] === 'messages_created_at_id_idx' ? [plan['Actual Rows'] as number] : []),
      ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(walked),
    ];
    const [entries] = walked(rows[0]!['QUERY PLAN'][0].Plan);
    const { rows: counts } = await database.pool.query<{ messages: number; visible: number }>(
      'SELECT (SELECT count(*)::int FROM messages) AS messages, (SELECT count(*)::int FROM messages WHERE conversation_id = ANY($1)) AS visible',
      [keys.busyConversations],
    );
    // The busy user's messages it walked: a page's matches of a common word come within a few hundred.
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(counts[0]!.visible / 4);
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

describe('keyset pages (inbox and history: one shape)', () => {
  interface AnalyzedNode {
    'Node Type': string;
    'Index Name'?: string;
    'Index Cond'?: string;
    Filter?: string;
    'Rows Removed by Filter'?: number;
    'Actual Rows': number;
    'Actual Loops': number;
    Plans?: AnalyzedNode[];
  }
  const analyzedNodes = (node: AnalyzedNode): AnalyzedNode[] => [node, ...(node.Plans ?? []).flatMap(analyzedNodes)];

  /** The scans of `index` that ran when the recorded statement of `send` was executed (EXPLAIN ANALYZE). */
  async function scansThatRan(send: PlanCase['send'], index: string): Promise<AnalyzedNode[]> {
    const db = recorder();
    await send(db);
    const { text, values } = db.statements[0]!;
    const { rows } = await database.pool.query<{ 'QUERY PLAN': [{ Plan: AnalyzedNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
    return analyzedNodes(rows[0]!['QUERY PLAN'][0].Plan).filter((node) => node['Index Name'] === index && node['Actual Loops'] > 0);
  }

  /** The cursor bounds each scan (an index condition on the sort key), so it reads a page and one, never the rows before the cursor. */
  function expectBoundedByCursor(scans: AnalyzedNode[], sortColumn: string, size: number) {
    expect(scans.length).toBeGreaterThanOrEqual(2);
    for (const scan of scans) {
      expect({ cond: scan['Index Cond'], removed: scan['Rows Removed by Filter'] ?? 0, filter: scan.Filter }).toEqual({
        cond: expect.stringContaining(sortColumn),
        removed: 0,
        filter: undefined,
      });
      expect(scan['Actual Rows']).toBeLessThanOrEqual(size + 1);
    }
  }

  it('history: a deep page in either direction starts at the cursor (an index bound, not a filter)', async () => {
    const { rows } = await database.pool.query<{ before: number; after: number }>(
      `SELECT count(*) FILTER (WHERE (created_at, id) > ($2, $3))::int AS before, count(*) FILTER (WHERE (created_at, id) < ($2, $3))::int AS after
       FROM messages WHERE conversation_id = $1`,
      [keys.longestConversation, keys.middleMessage.at, keys.middleMessage.id],
    );
    // Deep: far more rows on each side of the cursor than a page (the test is not vacuous).
    expect(Math.min(rows[0]!.before, rows[0]!.after)).toBeGreaterThan(200);
    const scans = await scansThatRan(
      (db) =>
        findHistoryPages(db, [
          { conversationId: keys.longestConversation, page: { forward: true, size: 20, cursor: keys.middleMessage } },
          { conversationId: keys.longestConversation, page: { forward: false, size: 20, cursor: keys.middleMessage } },
        ]),
      'messages_conversation_id_created_at_id_idx',
    );
    expectBoundedByCursor(scans, 'created_at', 20);
  });

  it('inbox: a deep page in either direction starts at the cursor (an index bound, not a filter)', async () => {
    const { rows } = await database.pool.query<{ at: Date; id: string }>(
      `SELECT last_activity_at AS at, conversation_id::text AS id FROM conversation_participants WHERE user_id = $1
       ORDER BY last_activity_at DESC, conversation_id DESC OFFSET 100 LIMIT 1`,
      [keys.everywhereUser],
    );
    const cursor = rows[0]!;
    const scans = await scansThatRan(
      (db) =>
        findInboxPages(db, [
          { userId: keys.everywhereUser, page: { forward: true, size: 20, cursor } },
          { userId: keys.everywhereUser, page: { forward: false, size: 20, cursor } },
        ]),
      'conversation_participants_user_id_last_activity_at_idx',
    );
    expectBoundedByCursor(scans, 'last_activity_at', 20);
  });
});
