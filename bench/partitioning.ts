// `npm run bench:partitioning -- [--messages 20000000] [--days 730]` (--help for all):
// whether monthly partitions of `messages` (pg_partman, on created_at) pay,
// measured on two databases holding the same seeded data:
//
//   plain        the schema as migrated
//   partitioned  the same, with messages replaced before the seed by a table
//                partitioned by month (bench/partitioned-messages.ts)
//
// Side by side, in one run:
//
//   statements  the hot statements, taken from the code that sends them
//               (the inbox's, a history page first and deep, a message by
//               id, sendMessage's insert, the search's timeline walk), each
//               EXPLAIN (ANALYZE, BUFFERS)'d and run as sent, medians over
//               interleaved rounds, with the plans' shapes; and the
//               statistics refresh (REFRESH ... CONCURRENTLY of both views).
//               Beside them, rows that are not the code's: the lookups by
//               id as they would read with created_at in the ID (adapted),
//               and two statements with pg_partman's default partition put
//               back (the partitioned table has none otherwise)
//   seed        the seed's time into each table, and the time taken to lay
//               the rows out by created_at (below)
//   vacuum      VACUUM with nothing to do, and after an edit of 1% of the
//               messages: the newest, then a slice spread over all time
//   retention   the oldest month, then all but the last 12 months, removed
//               by pg_partman's retention (dropping partitions) against a
//               DELETE and the VACUUM it needs: time and WAL
//
// The seed writes each conversation's messages together, so its rows lie
// by conversation; a live table's lie in the order they were sent. Both
// tables are rewritten in created_at order after the seed (CLUSTER), as a
// live table's would be, or a DELETE of a month would find its rows spread
// over every page of the plain table. Messages span --days (730: 24 months;
// the seed's 90 days would fill 4 partitions).
//
// The two seeded databases (parley_bench_partitioning_<variant>_<messages>_<days>d
// on TEST_POSTGRES_URL's server, or BENCH_DATABASE_URL's) are kept and
// reused; each run measures copies of them (CREATE DATABASE ... TEMPLATE),
// since the edits and the retention change the data, and drops the copies.
// Writes bench/results/<date>-partitioning[-label].json and .md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { startOfUtcDay } from '../src/cli/seed/options.js';
import type { Queryable } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { refreshUserStats } from '../src/jobs/refresh-user-stats.js';
import { countUnread, findInboxPages } from '../src/modules/conversations/sql.js';
import { insertMessageSql } from '../src/modules/messages/send-message.js';
import { findHistoryPages, findLastMessages, findVisibleMessages } from '../src/modules/messages/sql.js';
import { searchMessages } from '../src/modules/search/search.js';
import { benchDatabaseUrl, createDatabaseIfMissing, findViewers, prepareBenchDatabase, type BenchScale } from './database.js';
import { explainFigures, planShape, type ExplainFigures, type PlanShape, type SentStatement } from './explain.js';
import { DEFAULT_PARTITION, isMessagesPartitioned, listPartitions, PARTMAN_SCHEMA, partitionMessages, PREMADE_MONTHS } from './partitioned-messages.js';
import { median } from './stats.js';
import { benchArguments } from './arguments.js';
import { writeResults } from './results-files.js';

const USAGE = `Usage: npm run bench:partitioning -- [options]
  --messages N   messages in each database (default 20000000; 1000000 for a quick trial)
  --days N       days the messages span (default 730)
  --rounds N     interleaved rounds of the statements and of the vacuums (default 3)
  --runs N       timed EXPLAINs and timed runs per statement and round (default 5)
  --label TEXT   appended to the results' file names
Seeding 20M messages takes 10 to 20 minutes per database (once; later runs reuse them),
copying them a minute or two per run; the databases take about 9 GB each, twice that during a run.`;

const { values, whole } = benchArguments(USAGE, {
  messages: { type: 'string', default: '20000000' },
  days: { type: 'string', default: '730' },
  rounds: { type: 'string', default: '3' },
  runs: { type: 'string', default: '5' },
  label: { type: 'string' },
});
const MESSAGES = whole('messages', values.messages, 10_000);
const DAYS = whole('days', values.days, 62);
const ROUNDS = whole('rounds', values.rounds, 1);
const RUNS = whole('runs', values.runs, 1);
const SCALE: BenchScale = { users: 10_000, conversations: 50_000, messages: MESSAGES, seed: 7, days: DAYS };
/** The edits before a VACUUM: this share of the messages. */
const SLICE_SHARE = 0.01;
/** The retention kept by the second removal. */
const KEPT_MONTHS = 12;
const INBOX_CONVERSATIONS = 50;
const PAGE_SIZE = 20;

const VARIANTS = ['plain', 'partitioned'] as const;
type Variant = (typeof VARIANTS)[number];
/** Round r measures the variants in this order: each goes first in half the rounds. */
const inOrder = (round: number): readonly Variant[] => (round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse());
const isPartition = (relation: string) => /^messages_(p\d{4}_\d{2}|default)$/.test(relation);

const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
const seconds = (since: number) => (performance.now() - since) / 1000;

function databaseUrl(name: string): string {
  const url = new URL(benchDatabaseUrl(name));
  url.pathname = `/${name}`;
  return url.toString();
}
const seededName = (variant: Variant) => `parley_bench_partitioning_${variant}_${MESSAGES}_${DAYS}d`;
const copyName = (variant: Variant) => `${seededName(variant)}_run`;

async function onServer<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl('postgres'));
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

// ---------------------------------------------------------------------------
// The seeded databases

/** What preparing a seeded database cost, kept on its messages table (COMMENT) for the runs that reuse it. */
interface Preparation {
  /** The seed's marker on the database (bench/database.ts) these figures belong to. */
  seedMarker: string;
  seedSeconds: number | null;
  layoutSeconds: number;
  /** The seed's anchor: messages fall before it. */
  anchor: string;
  preparedAt: string;
  loadAverage: number[];
}

/** The first day of the month holding `date`, UTC. */
const monthOf = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
const addMonths = (date: Date, months: number) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));

async function readComments(pool: pg.Pool, name: string): Promise<{ seedMarker: string | null; preparation: Preparation | null }> {
  const { rows } = await pool.query<{ database: string | null; messages: string | null }>(
    `SELECT shobj_description((SELECT oid FROM pg_database WHERE datname = $1), 'pg_database') AS database,
            obj_description('messages'::regclass, 'pg_class') AS messages`,
    [name],
  );
  const preparation = rows[0]?.messages ? (JSON.parse(rows[0].messages) as Preparation) : null;
  return { seedMarker: rows[0]?.database ?? null, preparation };
}

/**
 * Rewrites messages in created_at order, as rows sent one by one would lie,
 * through a temporary index on (created_at, id) (CLUSTER needs one, and the
 * migrations' timeline index runs newest first): on the partitioned table,
 * each partition.
 */
async function layOutByTime(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    const start = performance.now();
    await client.query("SET maintenance_work_mem = '1GB'");
    await client.query('CREATE INDEX messages_layout_idx ON messages (created_at, id)');
    await client.query('CLUSTER messages USING messages_layout_idx');
    await client.query('DROP INDEX messages_layout_idx');
    await client.query('VACUUM (ANALYZE) messages');
    return seconds(start);
  } finally {
    client.release();
  }
}

/** Creates, migrates, (partitions,) seeds and lays out one variant's database, unless it holds that data already. */
async function prepare(variant: Variant): Promise<Preparation & { reused: boolean }> {
  const name = seededName(variant);
  const url = databaseUrl(name);
  await createDatabaseIfMissing(url);
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'parley-bench-partitioning' });
  try {
    await migrate(pool, { log: (line) => log(`${variant}: ${line}`) });
    // The seed's anchor, should it seed now (seedDatabase's default `now`).
    const anchor = startOfUtcDay(new Date());
    if (variant === 'partitioned' && !(await isMessagesPartitioned(pool))) {
      log('partitioned: converting messages to monthly partitions (pg_partman)…');
      // Whatever the database held is gone with the old table: seed again.
      await pool.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS NULL`);
      await pool.query('TRUNCATE users, conversations, conversation_participants, messages, user_daily_activity CASCADE');
      await partitionMessages(pool, monthOf(new Date(anchor.getTime() - DAYS * 86_400_000)));
    }
    const seedStart = performance.now();
    const seeded = await prepareBenchDatabase(pool, url, SCALE, (line) => log(`${variant}: ${line}`));
    const seedSeconds = seeded ? seconds(seedStart) : null;
    const { seedMarker, preparation } = await readComments(pool, name);
    if (!seeded && preparation?.seedMarker === seedMarker) return { ...preparation, reused: true };
    if (variant === 'partitioned') {
      // A partitioned index missing on some partition is invalid, and the planner would not use it.
      const { rows: invalid } = await pool.query<{ index: string }>(
        "SELECT indexrelid::regclass::text AS index FROM pg_index WHERE indrelid = 'messages'::regclass AND NOT indisvalid",
      );
      if (invalid.length > 0) throw new Error(`the seed left invalid indexes on messages: ${invalid.map((row) => row.index).join(', ')}`);
    }
    log(`${variant}: laying the messages out by created_at (CLUSTER)…`);
    const layoutSeconds = await layOutByTime(pool);
    log(`${variant}: laid out in ${layoutSeconds.toFixed(0)} s`);
    const { rows } = await pool.query<{ last: Date }>('SELECT max(created_at) AS last FROM messages');
    const made: Preparation = {
      seedMarker: seedMarker!,
      seedSeconds,
      layoutSeconds,
      // Seeded by an earlier run that stopped before this point: the seed's anchor is the start of the day after its last message.
      anchor: (seeded ? anchor : startOfUtcDay(new Date(rows[0]!.last.getTime() + 86_400_000))).toISOString(),
      preparedAt: new Date().toISOString(),
      loadAverage: os.loadavg(),
    };
    await pool.query(`COMMENT ON TABLE messages IS ${pg.escapeLiteral(JSON.stringify(made))}`);
    return { ...made, reused: false };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------
// What the measured databases hold

interface DataFigures {
  messages: number;
  first: string;
  last: string;
  /** Messages per month, oldest first (from the partitioned copy's partitions). */
  months: { month: string; messages: number }[];
  partitions: number;
  sizes: Record<Variant, { heapMB: number; indexesMB: number; totalMB: number }>;
}

async function sizeOf(pool: pg.Pool): Promise<{ heapMB: number; indexesMB: number; totalMB: number }> {
  const { rows } = await pool.query<{ heap: string; indexes: string; total: string }>(
    `SELECT sum(pg_table_size(relid)) AS heap, sum(pg_indexes_size(relid)) AS indexes, sum(pg_total_relation_size(relid)) AS total
     FROM (
       SELECT relid FROM pg_partition_tree('messages') WHERE isleaf
       -- pg_partition_tree lists nothing for a table that is not partitioned
       UNION SELECT oid FROM pg_class WHERE oid = 'messages'::regclass AND relkind = 'r'
     ) AS tables`,
  );
  const mb = (bytes: string) => Math.round(Number(bytes) / 2 ** 20);
  return { heapMB: mb(rows[0]!.heap), indexesMB: mb(rows[0]!.indexes), totalMB: mb(rows[0]!.total) };
}

// ---------------------------------------------------------------------------
// The hot statements

interface Subject {
  name: string;
  /** What it is, for the report. */
  what: string;
  statement: SentStatement;
  /** Run in a transaction rolled back after each run. */
  write?: boolean;
  /** Not the code's statement: what it would become with partitions (the report says so). */
  adapted?: boolean;
  /** On the partitioned table, with pg_partman's default partition put back (in a transaction rolled back). */
  defaultPartition?: boolean;
}

/** The one statement `call` sends, captured without sending it. */
async function captureOne(call: (db: Queryable) => Promise<unknown>): Promise<SentStatement> {
  const sent: SentStatement[] = [];
  const db = {
    query: async (statement: string | { text: string; values?: unknown[] }, parameters: unknown[] = []) => {
      sent.push(typeof statement === 'string' ? { text: statement, values: parameters } : { text: statement.text, values: statement.values ?? [] });
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Queryable;
  await call(db);
  if (sent.length !== 1) throw new Error(`expected one statement, got ${sent.length}`);
  return sent[0]!;
}

/** The last statement `call` sends through `pool` (the page of a search, after its scope). */
async function captureLast(pool: pg.Pool, call: (db: Queryable) => Promise<unknown>): Promise<SentStatement> {
  const sent: SentStatement[] = [];
  const db = {
    query: (text: string, parameters: unknown[] = []) => {
      sent.push({ text, values: parameters });
      return pool.query(text, parameters);
    },
  } as unknown as Queryable;
  await call(db);
  return sent.at(-1)!;
}

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the statement no longer reads ${JSON.stringify(from)}: update the adapted statement in bench/partitioning.ts`);
  return text.replace(from, to);
}

interface Subjects {
  list: Subject[];
  viewerId: number;
  viewerConversations: number;
  conversationId: number;
  conversationMessages: number;
}

/** The statements, with values found on `pool` (the plain copy; both hold the same rows). */
async function findSubjects(pool: pg.Pool): Promise<Subjects> {
  const { heaviest } = await findViewers(pool, INBOX_CONVERSATIONS);
  const firstPage = { forward: true, size: INBOX_CONVERSATIONS, cursor: null };
  const inbox = (await findInboxPages(pool, [{ userId: heaviest.userId, page: firstPage }])).slice(0, INBOX_CONVERSATIONS).map((row) => row.id);
  const { rows: busiest } = await pool.query<{ id: number; count: number }>(
    'SELECT conversation_id AS id, count(*)::int AS count FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1',
  );
  const conversation = busiest[0]!;
  const { rows: members } = await pool.query<{ userId: number }>(
    'SELECT user_id AS "userId" FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id LIMIT 1',
    [conversation.id],
  );
  const member = members[0]!.userId;
  // A page 90% of the way back into the conversation, and 20 of its messages spread over its whole history.
  const { rows: deep } = await pool.query<{ at: Date; id: string }>(
    'SELECT created_at AS at, id FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1',
    [conversation.id, Math.floor(conversation.count * 0.9)],
  );
  const { rows: spread } = await pool.query<{ id: string; createdAt: Date }>(
    `SELECT id, created_at AS "createdAt" FROM (
       SELECT id, created_at, row_number() OVER (ORDER BY created_at, id) AS number FROM messages WHERE conversation_id = $1
     ) numbered WHERE number % $2 = 0 ORDER BY number LIMIT 20`,
    [conversation.id, Math.max(1, Math.floor(conversation.count / 20))],
  );
  const history = (cursor: { at: Date; id: string } | null) => ({ conversationId: conversation.id, page: { forward: true, size: PAGE_SIZE, cursor } });
  const byId = await captureOne((db) =>
    findVisibleMessages(
      db,
      member,
      spread.map((row) => row.id),
    ),
  );
  const search = (order: 'NEWEST' | 'RELEVANCE') =>
    captureLast(pool, (db) =>
      searchMessages(db, { viewerId: heaviest.userId, query: 'need', conversationId: null, order, size: PAGE_SIZE, after: null, strategy: 'timeline' }),
    );
  const ranked = await search('RELEVANCE');
  const list: Subject[] = [
    {
      name: 'inbox page',
      what: `the heaviest viewer's ${INBOX_CONVERSATIONS} newest conversations (reads no message: a control)`,
      statement: await captureOne((db) => findInboxPages(db, [{ userId: heaviest.userId, page: firstPage }])),
    },
    { name: 'inbox: last messages', what: 'the last message of each', statement: await captureOne((db) => findLastMessages(db, inbox)) },
    {
      name: 'inbox: last messages, with a default partition',
      what: "the same, with pg_partman's default partition in place",
      statement: await captureOne((db) => findLastMessages(db, inbox)),
      defaultPartition: true,
    },
    { name: 'inbox: unread counts', what: "the viewer's unread count in each", statement: await captureOne((db) => countUnread(db, heaviest.userId, inbox)) },
    {
      name: 'inbox: recent messages',
      what: `the ${PAGE_SIZE} newest messages of each`,
      statement: await captureOne((db) =>
        findHistoryPages(
          db,
          inbox.map((id) => ({ conversationId: id, page: { forward: true, size: PAGE_SIZE, cursor: null } })),
        ),
      ),
    },
    { name: 'history: first page', what: 'the busiest conversation, newest page', statement: await captureOne((db) => findHistoryPages(db, [history(null)])) },
    {
      name: 'history: first page, with a default partition',
      what: "the same, with pg_partman's default partition in place",
      statement: await captureOne((db) => findHistoryPages(db, [history(null)])),
      defaultPartition: true,
    },
    {
      name: 'history: deep page',
      what: 'the busiest conversation, a page 90% of the way back',
      statement: await captureOne((db) => findHistoryPages(db, [history(deep[0]!)])),
    },
    {
      name: 'message by id',
      what: 'one message, as node(id) and the loader read it',
      statement: await captureOne((db) => findVisibleMessages(db, member, [deep[0]!.id])),
    },
    { name: 'messages by id, a batch of 20', what: "20 ids spread over the conversation's history", statement: byId },
    {
      name: 'sendMessage: insert',
      what: 'the insert with its `previous` and participants subqueries (rolled back)',
      statement: { text: insertMessageSql, values: [conversation.id, member, 'A benchmark message'] },
      write: true,
    },
    {
      name: 'search NEWEST (timeline)',
      what: 'the heaviest viewer, a common word, first page: the walk of messages_created_at_id_idx',
      statement: await search('NEWEST'),
    },
    { name: 'search RELEVANCE (timeline)', what: "the same, ranked: a walk of up to 5,000 of the viewer's messages, each probed by id", statement: ranked },
    {
      name: 'messages by (id, created_at), a batch of 20',
      what: 'the batch of 20 if the global ID carried created_at',
      statement: {
        text: replaceOnce(byId.text, 'WHERE m.id = ANY($2::bigint[])', 'WHERE (m.id, m.created_at) IN (SELECT * FROM unnest($2::bigint[], $3::timestamptz[]))'),
        values: [...byId.values, spread.map((row) => row.createdAt)],
      },
      adapted: true,
    },
    {
      name: 'search RELEVANCE, probe by (id, created_at)',
      what: "the ranked walk if its probe named the message's created_at",
      statement: {
        text: replaceOnce(ranked.text, 'WHERE m.id = walk.id AND', 'WHERE m.id = walk.id AND m.created_at = walk.created_at AND'),
        values: ranked.values,
      },
      adapted: true,
    },
  ];
  return {
    list,
    viewerId: heaviest.userId,
    viewerConversations: heaviest.conversations,
    conversationId: conversation.id,
    conversationMessages: conversation.count,
  };
}

interface StatementSamples {
  explains: ExplainFigures[];
  /** The statement as sent (not explained), from the client, ms. */
  runs: number[];
  shape: PlanShape | null;
  plan: string | null;
}

async function sampleStatement(client: pg.PoolClient, subject: Subject, into: StatementSamples, keepPlan: boolean): Promise<void> {
  const { text, values } = subject.statement;
  const once = async <T>(work: () => Promise<T>): Promise<T> => {
    if (!subject.write) return work();
    await client.query('BEGIN');
    try {
      return await work();
    } finally {
      await client.query('ROLLBACK');
    }
  };
  const explain = () =>
    once(async () =>
      explainFigures((await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values)).rows[0]!['QUERY PLAN']),
    );
  const run = () =>
    once(async () => {
      const start = performance.now();
      await client.query(text, values);
      return performance.now() - start;
    });
  // One of each untimed: the first sight of a relation costs its catalog lookups.
  await explain();
  await run();
  for (let index = 0; index < RUNS; index += 1) {
    const figures = await explain();
    into.explains.push(figures);
    into.shape = planShape(figures.plan, isPartition);
  }
  for (let index = 0; index < RUNS; index += 1) into.runs.push(await run());
  if (keepPlan) {
    const { rows } = await once(() => client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values));
    // The viewer's conversation ids fill thousands of characters: shown as a count.
    into.plan = rows.map((row) => row['QUERY PLAN'].replace(/'\{[0-9,]*\}'/g, (ids) => `'{${ids.split(',').length} ids}'`)).join('\n');
  }
}

// ---------------------------------------------------------------------------
// VACUUM

/** What VACUUM (VERBOSE) said of each table it processed, summed. */
interface VacuumFigures {
  ms: number;
  walBytes: number;
  fullPageImages: number;
  /** Passes over the indexes, summed over the tables (0 where nothing was removed, or the pass was bypassed). */
  indexScans: number;
  tuplesRemoved: number;
  tablesWithIndexPass: number;
  tablesBypassed: number;
}

async function vacuum(client: pg.PoolClient): Promise<VacuumFigures> {
  const figures: VacuumFigures = { ms: 0, walBytes: 0, fullPageImages: 0, indexScans: 0, tuplesRemoved: 0, tablesWithIndexPass: 0, tablesBypassed: 0 };
  const listener = (notice: { message?: string }) => {
    const message = notice.message ?? '';
    if (!message.startsWith('finished vacuuming')) return;
    const number = (pattern: RegExp) => Number(pattern.exec(message)?.[1] ?? 0);
    const scans = number(/index scans: (\d+)/);
    figures.indexScans += scans;
    if (scans > 0) figures.tablesWithIndexPass += 1;
    if (message.includes('index scan bypassed')) figures.tablesBypassed += 1;
    figures.tuplesRemoved += number(/tuples: (\d+) removed/);
    figures.walBytes += number(/WAL usage: \d+ records, \d+ full page images, (\d+) bytes/);
    figures.fullPageImages += number(/WAL usage: \d+ records, (\d+) full page images/);
  };
  client.on('notice', listener);
  try {
    const start = performance.now();
    await client.query('VACUUM (VERBOSE) messages');
    figures.ms = performance.now() - start;
  } finally {
    client.off('notice', listener);
  }
  return figures;
}

/** A statement that writes, run through EXPLAIN (ANALYZE, WAL): its time and the WAL it wrote itself. */
async function timedWrite(client: pg.PoolClient, text: string, parameters: unknown[]): Promise<{ ms: number; rows: number; walBytes: number; shape: string }> {
  const start = performance.now();
  const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, WAL, FORMAT JSON) ${text}`, parameters);
  const ms = performance.now() - start;
  const [top] = rows[0]!['QUERY PLAN'] as [{ Plan: { 'WAL Bytes': number; Plans?: { 'Actual Rows': number; 'Actual Loops': number }[] } }];
  const modified = top.Plan.Plans?.[0];
  const shape = planShape(top.Plan as never, isPartition).shape;
  return { ms, rows: modified ? modified['Actual Rows'] * modified['Actual Loops'] : 0, walBytes: top.Plan['WAL Bytes'], shape };
}

async function walPosition(client: pg.PoolClient): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return rows[0]!.lsn;
}
async function walSince(client: pg.PoolClient, from: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS bytes', [from]);
  return Number(rows[0]!.bytes);
}

// ---------------------------------------------------------------------------
// The run

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const loadAtStart = os.loadavg();

log(`preparing the seeded databases (${MESSAGES} messages over ${DAYS} days)…`);
const preparations = {} as Record<Variant, Preparation & { reused: boolean }>;
for (const variant of VARIANTS) preparations[variant] = await prepare(variant);

log('copying them for this run…');
const copySeconds = {} as Record<Variant, number>;
for (const variant of VARIANTS) {
  const start = performance.now();
  await onServer(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(copyName(variant))}`);
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(copyName(variant))} TEMPLATE ${pg.escapeIdentifier(seededName(variant))} STRATEGY FILE_COPY`);
  });
  copySeconds[variant] = seconds(start);
}

const pools = Object.fromEntries(
  VARIANTS.map((variant) => [
    variant,
    new pg.Pool({ connectionString: databaseUrl(copyName(variant)), max: 2, application_name: 'parley-bench-partitioning' }),
  ]),
) as Record<Variant, pg.Pool>;
const clients = {} as Record<Variant, pg.PoolClient>;
for (const variant of VARIANTS) clients[variant] = await pools[variant].connect();

try {
  // What the two hold: the same rows, told apart by their layout only.
  const { rows: settings } = await clients.plain.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings
     WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'maintenance_work_mem', 'jit', 'autovacuum', 'max_parallel_workers_per_gather', 'synchronous_commit')
     ORDER BY name`,
  );
  const counts = {} as Record<Variant, { count: number; first: Date; last: Date; ids: string }>;
  for (const variant of VARIANTS) {
    const { rows } = await clients[variant].query<{ count: number; first: Date; last: Date; ids: string }>(
      'SELECT count(*)::int AS count, min(created_at) AS first, max(created_at) AS last, sum(id)::text AS ids FROM messages',
    );
    counts[variant] = rows[0]!;
  }
  if (JSON.stringify(counts.plain) !== JSON.stringify(counts.partitioned)) {
    throw new Error(`the two databases hold different messages: ${JSON.stringify(counts)}`);
  }
  const partitions = await listPartitions(pools.partitioned);
  const months: DataFigures['months'] = [];
  for (const partition of partitions) {
    const { rows } = await clients.partitioned.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${pg.escapeIdentifier(partition.name)}`);
    if (partition.from) months.push({ month: partition.from.toISOString().slice(0, 7), messages: rows[0]!.count });
  }
  const data: DataFigures = {
    messages: counts.plain.count,
    first: counts.plain.first.toISOString(),
    last: counts.plain.last.toISOString(),
    months,
    partitions: partitions.length,
    sizes: { plain: await sizeOf(pools.plain), partitioned: await sizeOf(pools.partitioned) },
  };
  log(`data: ${data.messages} messages from ${data.first} to ${data.last}, ${data.partitions} partitions`);

  // The statements, interleaved: each round, each statement on both, the variants taking turns to go first.
  const subjects = await findSubjects(pools.plain);
  const samples = new Map<string, Record<Variant, StatementSamples>>(
    subjects.list.map((subject) => [
      subject.name,
      {
        plain: { explains: [], runs: [], shape: null, plan: null },
        partitioned: { explains: [], runs: [], shape: null, plan: null },
      },
    ]),
  );
  const refreshes: Record<Variant, number[]> = { plain: [], partitioned: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    log(`statements: round ${round + 1} of ${ROUNDS}…`);
    for (const subject of subjects.list) {
      for (const variant of inOrder(round)) {
        const client = clients[variant];
        const into = samples.get(subject.name)![variant];
        if (!(subject.defaultPartition && variant === 'partitioned')) {
          await sampleStatement(client, subject, into, round === ROUNDS - 1);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(`CREATE TABLE ${DEFAULT_PARTITION} PARTITION OF messages DEFAULT`);
          await sampleStatement(client, subject, into, round === ROUNDS - 1);
        } finally {
          await client.query('ROLLBACK');
        }
      }
    }
    for (const variant of inOrder(round)) {
      const start = performance.now();
      const run = await refreshUserStats(pools[variant], { statementTimeoutMs: 0 });
      if (run.outcome !== 'succeeded') throw new Error(`the statistics refresh ${run.outcome}: ${JSON.stringify(run)}`);
      refreshes[variant].push(performance.now() - start);
    }
  }
  const maintenanceStart = performance.now();
  await clients.partitioned.query(`SELECT ${PARTMAN_SCHEMA}.run_maintenance('public.messages', p_analyze => false)`);
  const runMaintenanceMs = performance.now() - maintenanceStart;

  // VACUUM: with nothing to do, after the newest 1% was edited, after a spread 1% was edited.
  for (const variant of VARIANTS) await vacuum(clients[variant]); // the rolled-back inserts
  const slice = Math.round(data.messages * SLICE_SHARE);
  const { rows: newest } = await clients.plain.query<{ at: Date }>(
    'SELECT created_at AS at FROM messages ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1',
    [slice - 1],
  );
  const recentFrom = newest[0]!.at;
  const kinds = ['nothing to do', 'after editing the newest 1%', 'after editing a spread 1%'] as const;
  type VacuumKind = (typeof kinds)[number];
  const vacuums: { kind: VacuumKind; variant: Variant; round: number; edit: Awaited<ReturnType<typeof timedWrite>> | null; vacuum: VacuumFigures }[] = [];
  // As editMessage writes: a new body (so a new search_vector) and edited_at.
  const edit = "UPDATE messages SET body = body || ' (edited)', edited_at = clock_timestamp() WHERE";
  for (let round = 0; round < ROUNDS; round += 1) {
    log(`vacuum: round ${round + 1} of ${ROUNDS}…`);
    for (const kind of kinds) {
      for (const variant of inOrder(round)) {
        const client = clients[variant];
        const edited =
          kind === 'nothing to do'
            ? null
            : kind === 'after editing the newest 1%'
              ? await timedWrite(client, `${edit} created_at >= $1`, [recentFrom])
              : await timedWrite(client, `${edit} id % $1 = $2`, [Math.round(1 / SLICE_SHARE), round + 1]);
        vacuums.push({ kind, variant, round, edit: edited, vacuum: await vacuum(client) });
      }
    }
  }

  // Retention: the oldest month, then all but the last KEPT_MONTHS, on both.
  const anchor = new Date(preparations.partitioned.anchor);
  const firstFull = partitions.find(
    (partition) => partition.from && months.find((month) => month.month === partition.from!.toISOString().slice(0, 7))!.messages > 0,
  )!;
  const steps = [
    { name: `the oldest month (${firstFull.from!.toISOString().slice(0, 7)})`, before: firstFull.to! },
    { name: `all but the last ${KEPT_MONTHS} months`, before: addMonths(monthOf(new Date(anchor.getTime() - 1)), 1 - KEPT_MONTHS) },
  ];
  const retention = [];
  for (const [index, step] of steps.entries()) {
    log(`retention: ${step.name}…`);
    const { rows: removed } = await clients.plain.query<{ count: number }>('SELECT count(*)::int AS count FROM messages WHERE created_at < $1', [step.before]);
    const figures = {} as Record<Variant, Record<string, unknown>>;
    for (const variant of inOrder(index)) {
      const client = clients[variant];
      const sizeBefore = await sizeOf(pools[variant]);
      const from = await walPosition(client);
      if (variant === 'plain') {
        const deleted = await timedWrite(client, 'DELETE FROM messages WHERE created_at < $1', [step.before]);
        const deleteWal = await walSince(client, from);
        const afterDelete = await walPosition(client);
        const vacuumed = await vacuum(client);
        figures.plain = {
          rows: deleted.rows,
          deleteMs: deleted.ms,
          deleteWalBytes: deleted.walBytes,
          deleteServerWalBytes: deleteWal,
          deletePlan: deleted.shape,
          vacuum: vacuumed,
          vacuumServerWalBytes: await walSince(client, afterDelete),
          totalMs: deleted.ms + vacuumed.ms,
        };
      } else {
        // What run_maintenance() does with part_config.retention set: drop_partition_time, by the seed's anchor instead of now().
        const start = performance.now();
        const { rows } = await client.query<{ dropped: number }>(
          `SELECT ${PARTMAN_SCHEMA}.drop_partition_time('public.messages', p_retention => $1::interval, p_keep_table => false,
             p_reference_timestamp => $2::timestamptz) AS dropped`,
          // A partition goes when its upper bound is before the reference less the retention: here, at or before step.before.
          [`${anchor.getTime() - step.before.getTime() - 1} milliseconds`, anchor],
        );
        const ms = performance.now() - start;
        figures.partitioned = { partitionsDropped: rows[0]!.dropped, totalMs: ms, serverWalBytes: await walSince(client, from) };
      }
      figures[variant].sizeBefore = sizeBefore;
      figures[variant].sizeAfter = await sizeOf(pools[variant]);
    }
    const { rows: left } = await clients.partitioned.query<{ count: number }>('SELECT count(*)::int AS count FROM messages WHERE created_at < $1', [
      step.before,
    ]);
    if (left[0]!.count !== 0 || figures.plain.rows !== removed[0]!.count) {
      throw new Error(
        `retention removed different rows: ${removed[0]!.count} to remove, plain ${String(figures.plain.rows)}, ${left[0]!.count} left in partitions`,
      );
    }
    retention.push({ step: step.name, before: step.before.toISOString(), rows: removed[0]!.count, ...figures });
  }

  // ---------------------------------------------------------------------------
  // The results

  const summary = (values: number[]) => (values.length ? median(values) : null);
  const range = (values: number[]): [number, number] | null => (values.length ? [Math.min(...values), Math.max(...values)] : null);
  const statements = subjects.list.map((subject) => {
    const of = samples.get(subject.name)!;
    const figures = (variant: Variant) => ({
      planningMs: summary(of[variant].explains.map((figure) => figure.planningMs)),
      executionMs: summary(of[variant].explains.map((figure) => figure.executionMs)),
      jitMs: summary(of[variant].explains.map((figure) => figure.jitMs)),
      buffers: summary(of[variant].explains.map((figure) => figure.sharedHit + figure.sharedRead)),
      runMs: summary(of[variant].runs),
      samples: of[variant].runs.length,
      shape: of[variant].shape,
      plan: of[variant].plan,
    });
    return { name: subject.name, what: subject.what, adapted: subject.adapted ?? false, plain: figures('plain'), partitioned: figures('partitioned') };
  });
  const vacuumSummary = kinds.map((kind) => {
    const of = (variant: Variant) => vacuums.filter((entry) => entry.kind === kind && entry.variant === variant);
    const figures = (variant: Variant) => ({
      editMs: summary(of(variant).flatMap((entry) => (entry.edit ? [entry.edit.ms] : []))),
      editRows: summary(of(variant).flatMap((entry) => (entry.edit ? [entry.edit.rows] : []))),
      editWalBytes: summary(of(variant).flatMap((entry) => (entry.edit ? [entry.edit.walBytes] : []))),
      vacuumMs: summary(of(variant).map((entry) => entry.vacuum.ms)),
      vacuumMsRange: range(of(variant).map((entry) => entry.vacuum.ms)),
      vacuumWalBytes: summary(of(variant).map((entry) => entry.vacuum.walBytes)),
      indexScans: summary(of(variant).map((entry) => entry.vacuum.indexScans)),
      tablesWithIndexPass: summary(of(variant).map((entry) => entry.vacuum.tablesWithIndexPass)),
      tablesBypassed: summary(of(variant).map((entry) => entry.vacuum.tablesBypassed)),
      tuplesRemoved: summary(of(variant).map((entry) => entry.vacuum.tuplesRemoved)),
    });
    return { kind, plain: figures('plain'), partitioned: figures('partitioned') };
  });
  const results = {
    date: new Date().toISOString(),
    commit: git('rev-parse', 'HEAD'),
    uncommittedChanges: git('status', '--porcelain', '--untracked-files=no') !== '',
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAtStart, loadAtEnd: os.loadavg() },
    server: Object.fromEntries(settings.map((row) => [row.name, row.setting])),
    scale: SCALE,
    window: { rounds: ROUNDS, runs: RUNS, sliceShare: SLICE_SHARE, keptMonths: KEPT_MONTHS, premadeMonths: PREMADE_MONTHS },
    data,
    preparations,
    copySeconds,
    subjects: {
      viewerId: subjects.viewerId,
      viewerConversations: subjects.viewerConversations,
      conversationId: subjects.conversationId,
      conversationMessages: subjects.conversationMessages,
    },
    statements,
    statisticsRefreshMs: { plain: summary(refreshes.plain), partitioned: summary(refreshes.partitioned), samples: refreshes.plain.length },
    runMaintenanceMs,
    vacuum: {
      recentFrom: recentFrom.toISOString(),
      kinds: vacuumSummary,
      samples: vacuums.map(({ kind, variant, round, edit, vacuum }) => ({ kind, variant, round, edit, vacuum })),
    },
    retention,
  };
  await publishResults(results);
} finally {
  for (const variant of VARIANTS) clients[variant].release();
  for (const variant of VARIANTS) await pools[variant].end();
  await onServer(async (admin) => {
    for (const variant of VARIANTS) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(copyName(variant))}`);
  });
}

// ---------------------------------------------------------------------------
// The report

type Results = Parameters<typeof publishResults>[0];

async function publishResults(results: {
  date: string;
  commit: string;
  uncommittedChanges: boolean;
  machine: { cpus: number; cpuModel: string; node: string; loadAtStart: number[]; loadAtEnd: number[] };
  server: Record<string, string>;
  scale: BenchScale;
  window: { rounds: number; runs: number; sliceShare: number; keptMonths: number; premadeMonths: number };
  data: DataFigures;
  preparations: Record<Variant, Preparation & { reused: boolean }>;
  copySeconds: Record<Variant, number>;
  subjects: { viewerId: number; viewerConversations: number; conversationId: number; conversationMessages: number };
  statements: {
    name: string;
    what: string;
    adapted: boolean;
    plain: StatementReport;
    partitioned: StatementReport;
  }[];
  statisticsRefreshMs: { plain: number | null; partitioned: number | null; samples: number };
  runMaintenanceMs: number;
  vacuum: { recentFrom: string; kinds: { kind: string; plain: VacuumReport; partitioned: VacuumReport }[]; samples: unknown[] };
  retention: ({ step: string; before: string; rows: number } & Record<string, unknown>)[];
}): Promise<void> {
  const markdown = renderReport(results);
  console.log(markdown);
  const written = await writeResults({ benchmark: 'partitioning', label: values.label, date: results.date }, results, markdown);
  console.log(`written to ${written}.{json,md}`);
}

interface StatementReport {
  planningMs: number | null;
  executionMs: number | null;
  jitMs: number | null;
  buffers: number | null;
  runMs: number | null;
  samples: number;
  shape: PlanShape | null;
  plan: string | null;
}

interface VacuumReport {
  editMs: number | null;
  editRows: number | null;
  editWalBytes: number | null;
  vacuumMs: number | null;
  vacuumMsRange: [number, number] | null;
  vacuumWalBytes: number | null;
  indexScans: number | null;
  tablesWithIndexPass: number | null;
  tablesBypassed: number | null;
  tuplesRemoved: number | null;
}

function renderReport(results: Results): string {
  const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? '—' : value.toFixed(digits));
  const integer = (value: number | null | undefined) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en'));
  const megabytes = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '—' : (bytes / 2 ** 20).toFixed(1));
  const spread = (range: [number, number] | null) => (range ? `${integer(range[0])}–${integer(range[1])}` : '—');
  const ratio = (partitioned: number | null, plain: number | null) =>
    partitioned === null || plain === null || plain === 0 ? '—' : `${(partitioned / plain).toFixed(2)}×`;
  const { data, preparations, machine } = results;
  const lines: string[] = [
    `# Partitioning benchmark (${results.date.slice(0, 10)})`,
    '',
    `Commit ${results.commit.slice(0, 10)}${results.uncommittedChanges ? ' with uncommitted changes' : ''}. ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node},` +
      ` PostgreSQL ${results.server.server_version} on the same host, shared with other work (load average ${machine.loadAtStart.map((value) => value.toFixed(1)).join(' ')}` +
      ` at the start, ${machine.loadAtEnd.map((value) => value.toFixed(1)).join(' ')} at the end). Server settings: ` +
      Object.entries(results.server)
        .filter(([name]) => name !== 'server_version')
        .map(([name, setting]) => `${name} ${setting}`)
        .join(', ') +
      '.',
    '',
    `Two databases seeded alike (${results.scale.users.toLocaleString('en')} users, ${results.scale.conversations.toLocaleString('en')} conversations,` +
      ` ${data.messages.toLocaleString('en')} messages, seed ${results.scale.seed}, over ${results.scale.days} days: ${data.first.slice(0, 10)} to ${data.last.slice(0, 10)}),` +
      ` then rewritten in created_at order (CLUSTER), as rows sent one by one lie: **plain**, messages as migrated; **partitioned**, messages range-partitioned by month` +
      ` on created_at by pg_partman (${data.partitions} partitions: one per month of data and ${results.window.premadeMonths} made ahead; pg_partman's default partition dropped, except in the rows that say so),` +
      ` primary key (id, created_at). Each run measures copies of them.`,
    '',
    `Messages per month: ${data.months.map((month) => `${month.month} ${month.messages.toLocaleString('en')}`).join(', ')}.`,
    '',
    '| messages | heap MB | indexes MB | total MB |',
    '| --- | ---: | ---: | ---: |',
    ...(['plain', 'partitioned'] as const).map(
      (variant) =>
        `| ${variant} | ${integer(data.sizes[variant].heapMB)} | ${integer(data.sizes[variant].indexesMB)} | ${integer(data.sizes[variant].totalMB)} |`,
    ),
    '',
    '## Hot statements',
    '',
    `Each statement as the code sends it (its text and parameters captured from the function that sends it), ${results.window.runs} EXPLAIN (ANALYZE, BUFFERS)` +
      ` and ${results.window.runs} plain runs per round, ${results.window.rounds} rounds, the two databases taking turns; medians. "run": the statement sent as the` +
      ` application sends it, timed at the client (planning included: the application's statements are unnamed, so planned at each run). Viewer: user` +
      ` ${results.subjects.viewerId} (in ${results.subjects.viewerConversations} conversations); conversation ${results.subjects.conversationId}` +
      ` (${results.subjects.conversationMessages.toLocaleString('en')} messages). Rows marked *adapted* are not the code's statements: what they would become with partitions;` +
      ` rows "with a default partition" run on the partitioned table with pg_partman's default partition put back (in a transaction rolled back).`,
    '',
    '| statement | plain: planning ms | execution ms | run ms | buffers | partitioned: planning ms | execution ms | run ms | buffers | partitions run / in plan | run, partitioned ÷ plain |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.statements.map(
      (statement) =>
        `| ${statement.name}${statement.adapted ? ' *(adapted)*' : ''} | ${fixed(statement.plain.planningMs, 2)} | ${fixed(statement.plain.executionMs, 2)} |` +
        ` ${fixed(statement.plain.runMs, 2)} | ${integer(statement.plain.buffers)} | ${fixed(statement.partitioned.planningMs, 2)} |` +
        ` ${fixed(statement.partitioned.executionMs, 2)} | ${fixed(statement.partitioned.runMs, 2)} | ${integer(statement.partitioned.buffers)} |` +
        ` ${statement.partitioned.shape ? `${statement.partitioned.shape.partitionsRun} / ${statement.partitioned.shape.partitionsInPlan}` : '—'} |` +
        ` ${ratio(statement.partitioned.runMs, statement.plain.runMs)} |`,
    ),
    `| statistics refresh (both views, CONCURRENTLY) | | | ${fixed(results.statisticsRefreshMs.plain, 0)} | | | | ${fixed(results.statisticsRefreshMs.partitioned, 0)} | | — |` +
      ` ${ratio(results.statisticsRefreshMs.partitioned, results.statisticsRefreshMs.plain)} |`,
    '',
    `JIT compiled: ${
      results.statements
        .flatMap((statement) =>
          (['plain', 'partitioned'] as const).flatMap((variant) =>
            (statement[variant].jitMs ?? 0) > 0 ? [`${statement.name}, ${variant} (${fixed(statement[variant].jitMs)} ms)`] : [],
          ),
        )
        .join('; ') || 'none'
    }. pg_partman's run_maintenance() (nothing to make, no retention set): ${fixed(results.runMaintenanceMs)} ms.`,
    '',
    'Plans:',
    '',
    ...results.statements.map(
      (statement) =>
        `- ${statement.name}: ${statement.what}. Plain \`${statement.plain.shape?.shape ?? '—'}\`; partitioned \`${statement.partitioned.shape?.shape ?? '—'}\``,
    ),
    '',
    '## Seed',
    '',
    '| | seed s | layout by created_at (CLUSTER) s | load average then | prepared |',
    '| --- | ---: | ---: | --- | --- |',
    ...(['plain', 'partitioned'] as const).map(
      (variant) =>
        `| ${variant} | ${fixed(preparations[variant].seedSeconds, 0)} | ${fixed(preparations[variant].layoutSeconds, 0)} |` +
        ` ${preparations[variant].loadAverage.map((value) => value.toFixed(1)).join(' ')} | ${preparations[variant].preparedAt.slice(0, 16)} |`,
    ),
    '',
    'The seed drops the indexes and foreign keys, loads, and builds them again, in one transaction; into the partitioned table it does the same through each partition.',
    '',
    '## VACUUM',
    '',
    `Medians of ${results.window.rounds} rounds. An edit is editMessage's change (a new body, so a new search_vector, and edited_at) to 1% of the messages:` +
      ` the newest (created_at ≥ ${results.vacuum.recentFrom.slice(0, 16)}), or every hundredth id (another hundredth each round). "index passes": tables whose` +
      ' indexes VACUUM read to remove dead entries (none where it skipped them: fewer than 2% of the pages held dead rows); VACUUM times with the fastest and slowest round;' +
      ' WAL as VACUUM (VERBOSE) and EXPLAIN (WAL) count it.',
    '',
    '| vacuum | edit ms (plain / partitioned) | edit WAL MB | VACUUM ms plain | VACUUM ms partitioned | VACUUM WAL MB plain / partitioned | index passes plain / partitioned |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.vacuum.kinds.map(
      ({ kind, plain, partitioned }) =>
        `| ${kind} | ${integer(plain.editMs)} / ${integer(partitioned.editMs)} | ${megabytes(plain.editWalBytes)} / ${megabytes(partitioned.editWalBytes)} |` +
        ` ${integer(plain.vacuumMs)} (${spread(plain.vacuumMsRange)}) | ${integer(partitioned.vacuumMs)} (${spread(partitioned.vacuumMsRange)}) | ${megabytes(plain.vacuumWalBytes)} / ${megabytes(partitioned.vacuumWalBytes)} |` +
        ` ${integer(plain.tablesWithIndexPass)} / ${integer(partitioned.tablesWithIndexPass)} |`,
    ),
    '',
    '## Retention',
    '',
    "Plain: `DELETE FROM messages WHERE created_at < …`, then the VACUUM that makes the space reusable. Partitioned: pg_partman's" +
      " drop_partition_time (what run_maintenance() does when part_config.retention is set; here by the seed's anchor instead of now()), dropping" +
      ' the partitions. "WAL": what the DELETE and the VACUUM wrote themselves; for the drop, the server\'s WAL position before and after (it includes' +
      ' whatever other sessions wrote meanwhile: an upper bound).',
    '',
    '| removed | rows | plain: DELETE ms | DELETE WAL MB | VACUUM ms | VACUUM WAL MB | total ms | size MB before → after | partitioned: drop ms | WAL MB | size MB before → after |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
    ...results.retention.map((step) => {
      const plain = step.plain as {
        deleteMs: number;
        deleteWalBytes: number;
        vacuum: VacuumFigures;
        totalMs: number;
        sizeBefore: { totalMB: number };
        sizeAfter: { totalMB: number };
      };
      const partitioned = step.partitioned as { totalMs: number; serverWalBytes: number; sizeBefore: { totalMB: number }; sizeAfter: { totalMB: number } };
      return (
        `| ${step.step} | ${step.rows.toLocaleString('en')} | ${integer(plain.deleteMs)} | ${megabytes(plain.deleteWalBytes)} | ${integer(plain.vacuum.ms)} |` +
        ` ${megabytes(plain.vacuum.walBytes)} | ${integer(plain.totalMs)} | ${integer(plain.sizeBefore.totalMB)} → ${integer(plain.sizeAfter.totalMB)} |` +
        ` ${integer(partitioned.totalMs)} | ${megabytes(partitioned.serverWalBytes)} | ${integer(partitioned.sizeBefore.totalMB)} → ${integer(partitioned.sizeAfter.totalMB)} |`
      );
    }),
    '',
    "Each statement's EXPLAIN (ANALYZE, BUFFERS), from its last run, is in the JSON beside this report (`statements[].plain.plan`, `statements[].partitioned.plan`).",
    '',
  ];
  return lines.join('\n');
}
