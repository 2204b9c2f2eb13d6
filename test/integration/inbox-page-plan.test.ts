// The inbox page reads about a page of rows, whoever asks (docs/design.md
// budgets): the plan PostgreSQL chooses for findInboxPages, on enough rows
// that the planner's choice is the one it makes on real data, is a range
// scan of conversation_participants (user_id, last_activity_at DESC,
// conversation_id DESC) that stops after the page, with no sort of the
// viewer's conversations, from the first page and from deep cursors alike.
import type pg from 'pg';
import { findInboxPages, type InboxPageKey } from '../../src/modules/conversations/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const INBOX_INDEX = 'conversation_participants_user_id_last_activity_at_idx';
const HEAVY_CONVERSATIONS = 3_000;
const PAGE = 50;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

let database: TestDatabase;
const heavy = 1;
const light = 2;

beforeAll(async () => {
  database = await createTestDatabase();
  // Plain SQL, in bulk: user 1 in 3,000 conversations, user 2 in 20, users
  // 3 to 202 filling the others (two each), activity spread over a year with
  // ties every ten conversations.
  await database.pool.query(`
    INSERT INTO users (id, username, display_name, email)
    SELECT i, 'plan_user_' || i, 'User ' || i, 'plan_user_' || i || '@example.test' FROM generate_series(1, 202) AS i;
    INSERT INTO conversations (id, title, kind, created_by, created_at, updated_at, last_message_at)
    SELECT i, 'Group ' || i, 'group', 1, at, at, CASE WHEN i % 7 = 0 THEN NULL ELSE at + interval '1 hour' END
    FROM generate_series(1, 4000) AS i,
         LATERAL (SELECT timestamptz '2026-01-01' + (i / 10) * interval '1 hour' AS at) AS t;
    INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_activity_at)
    SELECT c.id, seat.user_id, CASE WHEN seat.user_id = 1 THEN 'owner' ELSE 'member' END, c.created_at,
           coalesce(c.last_message_at, c.created_at)
    FROM conversations c
    CROSS JOIN LATERAL (
      SELECT 1 AS user_id WHERE c.id <= ${HEAVY_CONVERSATIONS}
      UNION SELECT 2 WHERE c.id % 200 = 0
      UNION SELECT 3 + c.id % 200
      UNION SELECT 3 + (c.id * 7 + 1) % 200
    ) AS seat;
    ANALYZE users, conversations, conversation_participants;`);
});
afterAll(() => database.close());

/** The statement findInboxPages sends for these keys, and what it answers. */
async function inboxStatement(keys: InboxPageKey[]): Promise<{ text: string; values: unknown[]; rows: { id: number; ordinal: number }[] }> {
  let sent: { text: string; values: unknown[] } | undefined;
  const recording = {
    query: (text: string, values: unknown[]) => {
      sent = { text, values };
      return database.pool.query(text, values);
    },
  } as unknown as pg.Pool;
  const rows = await findInboxPages(recording, keys);
  return { ...sent!, rows };
}

async function explain(statement: { text: string; values: unknown[] }): Promise<PlanNode> {
  const { rows } = await database.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, statement.values);
  return rows[0]!['QUERY PLAN'][0].Plan;
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The scans of the inbox index that ran, with the rows they read per run. */
function inboxIndexScans(plan: PlanNode): PlanNode[] {
  return nodes(plan).filter((node) => node['Index Name'] === INBOX_INDEX && node['Actual Loops'] > 0);
}

/** The viewer's conversations in inbox order, by plain SQL. */
async function inboxOrder(userId: number): Promise<{ id: number; at: Date }[]> {
  const { rows } = await database.pool.query<{ id: number; at: Date }>(
    `SELECT c.id, coalesce(c.last_message_at, c.created_at) AS at FROM conversations c
     JOIN conversation_participants p ON p.conversation_id = c.id AND p.user_id = $1
     ORDER BY 2 DESC, 1 DESC`,
    [userId],
  );
  return rows;
}

describe('the inbox page statement', () => {
  it('has a viewer in thousands of conversations and one in a few (the test is not vacuous)', async () => {
    expect((await inboxOrder(heavy)).length).toBe(HEAVY_CONVERSATIONS);
    expect((await inboxOrder(light)).length).toBe(20);
  });

  it('reads the first page as a range of the inbox index, page + 1 rows, with no sort', async () => {
    const statement = await inboxStatement([{ userId: heavy, page: { forward: true, size: PAGE, cursor: null } }]);
    const plan = await explain(statement);
    expect(nodes(plan).filter((node) => node['Node Type'] === 'Sort')).toEqual([]);
    const scans = inboxIndexScans(plan);
    expect(scans).toHaveLength(1);
    expect(scans[0]!['Actual Rows']).toBe(PAGE + 1);
    // And it is the right page.
    const expected = (await inboxOrder(heavy)).slice(0, PAGE + 1).map((row) => row.id);
    expect(new Set(statement.rows.map((row) => row.id))).toEqual(new Set(expected));
  });

  it('starts deep pages at the cursor (an index bound, not a filter), in both directions and for several viewers at once', async () => {
    const order = await inboxOrder(heavy);
    const deep = order[2_000]!;
    const cursor = { at: deep.at, id: String(deep.id) };
    const statement = await inboxStatement([
      { userId: heavy, page: { forward: true, size: PAGE, cursor } },
      { userId: heavy, page: { forward: false, size: PAGE, cursor } },
      { userId: light, page: { forward: true, size: PAGE, cursor: null } },
    ]);
    const plan = await explain(statement);
    expect(nodes(plan).filter((node) => node['Node Type'] === 'Sort')).toEqual([]);
    const scans = inboxIndexScans(plan);
    expect(scans.length).toBeGreaterThanOrEqual(2);
    for (const scan of scans) {
      expect(scan['Index Cond']).toMatch(/last_activity_at/);
      // Rows per run: at most a page and one, never the 2,000 before the cursor.
      expect(scan['Actual Rows']).toBeLessThanOrEqual(PAGE + 1);
    }
    const rowsOf = (ordinal: number) => new Set(statement.rows.filter((row) => row.ordinal === ordinal).map((row) => row.id));
    expect(rowsOf(1)).toEqual(new Set(order.slice(2_001, 2_001 + PAGE + 1).map((row) => row.id)));
    expect(rowsOf(2)).toEqual(new Set(order.slice(2_000 - PAGE - 1, 2_000).map((row) => row.id)));
    expect(rowsOf(3)).toEqual(new Set((await inboxOrder(light)).map((row) => row.id)));
  });
});
