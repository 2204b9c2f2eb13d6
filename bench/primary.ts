// `npm run bench:primary -- [--rates 50,100,200,400] [--seconds 10]` (--help for all):
// what one PostgreSQL primary spends per operation, to say where it
// saturates and what read replicas take off it (docs/scale-out.md, "Past
// one primary"). On a shared machine wall-clock throughput says more about
// the neighbours than about Parley, so it measures what each operation
// costs the primary in CPU time and WAL, and derives the capacity from that:
//
//   sends  the client's SendMessage operation through one API instance of
//          the production build (response and loader caches on, in a Redis
//          of the benchmark's own, as deployed), open loop at each rate of
//          --rates for --seconds, each from a random participant of a random
//          conversation;
//   reads  the client's Inbox operation (the reference: 50 conversations ×
//          20 messages) of random users at each rate of --read-rates, with
//          both caches off: every statement reaches PostgreSQL. What a read
//          costs the primary is what a replica takes off it.
//
// Per window: the rate achieved, answer p50/p99, and per operation the
// PostgreSQL server's CPU (its postmaster and every process under it, from
// /proc, so no other server on the machine counts), the API's CPU, WAL bytes
// (pg_current_wal_lsn), full-page images, commits, tuples and buffers
// (pg_stat_database, pg_stat_user_tables), the statements that spent it
// (pg_stat_statements) and where the WAL went (pg_waldump --stats). Then one
// statistics refresh, and EXPLAIN (ANALYZE, BUFFERS, WAL) of sendMessage's
// own statements (run in-process, rolled back) to say which part of a send
// costs what.
//
// Its own PostgreSQL (initdb on a free port, configured as the tests' shared
// server but with pg_stat_statements loaded and production's durability:
// fsync and full-page writes on), with a streaming standby unless
// --no-standby (its replay CPU per send is reported, and the primary pays
// its WAL sender, as in production); BENCH_DATABASE_URL measures an
// existing server instead (on this machine, for the CPU figures). The
// database, parley_bench_primary_<messages>, is seeded with the inbox
// benchmark's data (10,000 users, 50,000 conversations, 1M messages, seed
// 7). Writes bench/results/<date>-primary[-label].json and .md.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { print } from 'graphql';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { InboxDocument, SendMessageDocument } from '../src/generated/graphql/operations.js';
import { createAuth } from '../src/graphql/auth.js';
import { toGlobalId } from '../src/graphql/relay/global-id.js';
import { refreshStatsViews } from '../src/jobs/sql.js';
import { sendMessage } from '../src/modules/messages/send-message.js';
import type { Writer } from '../src/writes/writer.js';
import { startOwnPostgres, type OwnPostgres } from '../test/support/postgres-server.js';
import { startOwnRedis } from '../test/support/redis-server.js';
import { benchDatabaseUrl, createDatabaseIfMissing, prepareBenchDatabase } from './database.js';
import { readMachineCpuMs, readParentPid, readProcessCpuMs, readProcessTreeCpu, treeTotalMs, type ProcessTreeCpu } from './process-cpu.js';
import { buildCheckout, startServer, type ServerProcess } from './server-process.js';
import { median, summarizeLatencies, type LatencySummary } from './stats.js';
import { benchArguments } from './arguments.js';
import { writeResults } from './results-files.js';

const USAGE = `Usage: npm run bench:primary -- [options]
  --rates LIST        sends per second, one window each (default 50,100,200,400)
  --read-rates LIST   Inbox reads per second, one window each (default 25,50)
  --seconds N         length of each window (default 10)
  --settle N          idle seconds after each window: PostgreSQL 15's backends report their counters up to 10 s after going idle (default 11)
  --explain N         sends explained statement by statement (EXPLAIN ANALYZE, rolled back), 0 to skip (default 30)
  --messages N        messages in the data set (default 1000000; 10,000 users and 50,000 conversations, seed 7)
  --no-standby        no streaming standby on the benchmark's own PostgreSQL
  --no-build          use the existing dist/ (otherwise: tsc first, as npm start does)
  --label TEXT        appended to the results' file names
The capacity reported is 2 cores × 1000 ms ÷ the primary's CPU ms per send: PostgreSQL alone on a two-core machine.`;

const { values, whole, list } = benchArguments(USAGE, {
  rates: { type: 'string', default: '50,100,200,400' },
  'read-rates': { type: 'string', default: '25,50' },
  seconds: { type: 'string', default: '10' },
  settle: { type: 'string', default: '11' },
  explain: { type: 'string', default: '30' },
  messages: { type: 'string', default: '1000000' },
  'no-standby': { type: 'boolean', default: false },
  'no-build': { type: 'boolean', default: false },
  label: { type: 'string' },
});
const SEND_RATES = list('rates', values.rates, 1);
const READ_RATES = values['read-rates'] === '' ? [] : list('read-rates', values['read-rates'], 1);
const WINDOW_MS = whole('seconds', values.seconds, 1) * 1000;
const SETTLE_MS = whole('settle', values.settle, 0) * 1000;
const EXPLAINED_SENDS = whole('explain', values.explain, 0);
const SCALE = { users: 10_000, conversations: 50_000, messages: whole('messages', values.messages, 1000), seed: 7 };
/** The reference inbox (docs/design.md's statement budget), as bench/inbox.ts sends it. */
const INBOX_VARIABLES = { conversations: 50, messages: 20 };
/** A window kept up when it sent at least this share of the rate asked. */
const KEPT_UP = 0.95;
/** At most this many operations in flight; past it the sender falls behind, which the achieved rate shows. */
const MAX_IN_FLIGHT = 256;
/** The cores PostgreSQL would have to itself on a machine like this one. */
const CORES = 2;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => console.log(`[bench:primary] ${line}`);
const JWT_SECRET = randomBytes(32).toString('hex');
const auth = createAuth({ secret: JWT_SECRET, ttlSeconds: 6 * 3600 });
const SEND_DOCUMENT = print(SendMessageDocument);
const INBOX_DOCUMENT = print(InboxDocument);

// ---------------------------------------------------------------- PostgreSQL

/**
 * The benchmark's own server: the tests' shared server's settings (Debian's
 * defaults: shared_buffers 128 MB, checkpoints every 5 min or 1 GB of WAL)
 * with production's durability, which startOwnPostgres turns off for quick
 * tests (later -c flags win), and pg_stat_statements. wal_keep_size keeps
 * each window's WAL for pg_waldump, whatever the checkpoints do.
 */
const SERVER_SETTINGS = {
  fsync: 'on',
  full_page_writes: 'on',
  synchronous_commit: 'on',
  shared_buffers: '128MB',
  max_connections: 100,
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.max': 1000,
  'pg_stat_statements.track_planning': 'on',
  wal_keep_size: 4096,
};

/** The PostgreSQL the benchmark measures: its URL for the database, its postmaster (for CPU), its WAL (for pg_waldump). */
interface MeasuredServer {
  databaseUrl: string;
  /** A connection to the server's `postgres` database, for readings that must not count in the benchmark database's own figures. */
  monitor: pg.Client;
  postmasterPid: number | null;
  /** The data directory's pg_wal and pg_waldump, when the server is this machine's and readable. */
  waldump: { binary: string; walDirectory: string } | null;
  statementsAvailable: boolean;
}

const run = promisify(execFile);

async function binDirectory(serverVersionNum: number): Promise<string> {
  try {
    return (await run('pg_config', ['--bindir'])).stdout.trim();
  } catch {
    return `/usr/lib/postgresql/${Math.floor(serverVersionNum / 10_000)}/bin`;
  }
}

async function measuredServer(databaseUrl: string): Promise<MeasuredServer> {
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const monitor = new pg.Client({ connectionString: adminUrl.toString(), application_name: 'parley-bench-primary-monitor' });
  await monitor.connect();
  const { rows } = await monitor.query<{ pid: number; dataDirectory: string | null; version: number; libraries: string }>(
    `SELECT pg_backend_pid() AS pid, current_setting('server_version_num')::int AS version,
            current_setting('shared_preload_libraries') AS libraries,
            CASE WHEN pg_has_role('pg_read_all_settings', 'MEMBER') THEN current_setting('data_directory') END AS "dataDirectory"`,
  );
  const { pid, dataDirectory, version, libraries } = rows[0]!;
  const postmasterPid = readParentPid(pid);
  const statementsAvailable = libraries.split(',').some((library) => library.trim() === 'pg_stat_statements');
  let waldump: MeasuredServer['waldump'] = null;
  if (dataDirectory && postmasterPid !== null) {
    const binary = path.join(await binDirectory(version), 'pg_waldump');
    waldump = { binary, walDirectory: path.join(dataDirectory, 'pg_wal') };
  }
  return { databaseUrl, monitor, postmasterPid, waldump, statementsAvailable };
}

/** The postmaster of a server, from one of its backends: the CPU of a standby is read the same way. */
async function postmasterOf(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return readParentPid(rows[0]!.pid);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- readings

interface Counters {
  xactCommit: number;
  xactRollback: number;
  tupInserted: number;
  tupUpdated: number;
  tupDeleted: number;
  blksRead: number;
  blksHit: number;
}

type TableCounters = Record<string, { inserted: number; updated: number; hotUpdated: number }>;

interface Reading {
  at: number;
  postgres: ProcessTreeCpu | null;
  standby: ProcessTreeCpu | null;
  apiCpuMs: number | null;
  machine: { busy: number; total: number } | null;
  lsn: string;
  wal: { records: number; fpi: number; bytes: number };
}

/** What a PostgreSQL process is, from its title: the backends serving statements, or one of the server's own processes. */
function kindOfProcess(title: string): string {
  const kinds: [RegExp, string][] = [
    [/^postgres: walwriter/, 'WAL writer'],
    [/^postgres: checkpointer/, 'checkpointer'],
    [/^postgres: background writer/, 'background writer'],
    [/^postgres: walsender/, 'WAL sender'],
    [/^postgres: walreceiver/, 'WAL receiver'],
    [/^postgres: startup/, 'startup (replay)'],
    [/^postgres: autovacuum/, 'autovacuum'],
    [/^postgres: (logical replication launcher|archiver|stats)/, 'other background'],
  ];
  return kinds.find(([pattern]) => pattern.test(title))?.[1] ?? 'backends';
}

/**
 * A server's CPU between two readings, by kind of process. A child that
 * ended between them used what it had before (counted in `before`) plus
 * what moved to the postmaster's `ended`: that part is counted as "ended"
 * (closed backends, autovacuum workers), so the kinds add up to the total.
 */
function cpuByKind(before: ProcessTreeCpu, after: ProcessTreeCpu): Record<string, number> {
  const kinds: Record<string, number> = {};
  const add = (kind: string, ms: number) => (kinds[kind] = (kinds[kind] ?? 0) + ms);
  const earlier = new Map(before.children.map((child) => [child.pid, child.cpuMs]));
  const running = new Set(after.children.map((child) => child.pid));
  for (const child of after.children) add(kindOfProcess(child.title), child.cpuMs - (earlier.get(child.pid) ?? 0));
  const goneBefore = before.children.filter((child) => !running.has(child.pid)).reduce((sum, child) => sum + child.cpuMs, 0);
  add('postmaster', after.self - before.self);
  add('ended (closed backends, autovacuum workers)', after.ended - before.ended - goneBefore);
  return kinds;
}

const numbers = <T extends Record<string, unknown>>(row: T) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)]));

async function read(server: MeasuredServer, standbyPostmaster: number | null, apiPid: number): Promise<Reading> {
  const { rows } = await server.monitor.query<{ lsn: string; records: string; fpi: string; bytes: string }>(
    'SELECT pg_current_wal_lsn()::text AS lsn, wal_records AS records, wal_fpi AS fpi, wal_bytes AS bytes FROM pg_stat_wal',
  );
  const { lsn, ...wal } = rows[0]!;
  return {
    at: performance.now(),
    postgres: server.postmasterPid === null ? null : readProcessTreeCpu(server.postmasterPid),
    standby: standbyPostmaster === null ? null : readProcessTreeCpu(standbyPostmaster),
    apiCpuMs: readProcessCpuMs(apiPid),
    machine: readMachineCpuMs(),
    lsn,
    wal: numbers(wal) as Reading['wal'],
  };
}

/** The benchmark database's counters; backends report theirs within a second of going idle (PostgreSQL 15), hence --settle. */
async function readCounters(server: MeasuredServer, database: string): Promise<Counters> {
  const { rows } = await server.monitor.query(
    `SELECT xact_commit AS "xactCommit", xact_rollback AS "xactRollback", tup_inserted AS "tupInserted", tup_updated AS "tupUpdated",
            tup_deleted AS "tupDeleted", blks_read AS "blksRead", blks_hit AS "blksHit"
     FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  return numbers(rows[0]) as unknown as Counters;
}

async function readTableCounters(pool: pg.Pool): Promise<TableCounters> {
  const { rows } = await pool.query<{ relname: string; inserted: string; updated: string; hotUpdated: string }>(
    `SELECT relname, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS "hotUpdated" FROM pg_stat_user_tables`,
  );
  return Object.fromEntries(
    rows.map((row) => [row.relname, { inserted: Number(row.inserted), updated: Number(row.updated), hotUpdated: Number(row.hotUpdated) }]),
  );
}

interface StatementFigures {
  query: string;
  /** Calls per operation of the window. */
  callsPerOperation: number;
  meanMs: number;
  /** Planning per call (each is planned anew: the API sends unnamed statements). */
  meanPlanMs: number;
  /** Share of the time all the database's statements ran. */
  timeShare: number;
  rowsPerCall: number;
  walBytesPerCall: number;
  walFpiPerCall: number;
  blocksHitPerCall: number;
  blocksReadPerCall: number;
  blocksDirtiedPerCall: number;
}

/** The benchmark database's statements since the last reset, the costliest first (execution time: it includes waits, for a lock or COMMIT's flush). */
async function readStatements(server: MeasuredServer, database: string, operations: number): Promise<StatementFigures[]> {
  if (!server.statementsAvailable || operations === 0) return [];
  const { rows } = await server.monitor.query<Record<string, string>>(
    `SELECT query, calls, total_exec_time AS "totalMs", total_plan_time AS "planMs", rows, wal_bytes AS "walBytes", wal_fpi AS "walFpi",
            shared_blks_hit AS "hit", shared_blks_read AS "read", shared_blks_dirtied AS "dirtied",
            sum(total_exec_time) OVER () AS "allMs"
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
     ORDER BY total_exec_time DESC LIMIT 12`,
    [database],
  );
  return rows.map((row) => {
    const calls = Number(row.calls);
    return {
      query: row.query!.replace(/\s+/g, ' ').trim(),
      callsPerOperation: calls / operations,
      meanMs: Number(row.totalMs) / calls,
      meanPlanMs: Number(row.planMs) / calls,
      timeShare: Number(row.totalMs) / Number(row.allMs),
      rowsPerCall: Number(row.rows) / calls,
      walBytesPerCall: Number(row.walBytes) / calls,
      walFpiPerCall: Number(row.walFpi) / calls,
      blocksHitPerCall: Number(row.hit) / calls,
      blocksReadPerCall: Number(row.read) / calls,
      blocksDirtiedPerCall: Number(row.dirtied) / calls,
    };
  });
}

interface WalKind {
  /** pg_waldump's resource manager: Heap, Btree, Transaction, … */
  kind: string;
  records: number;
  recordBytes: number;
  fpiBytes: number;
}

/** pg_waldump --stats between two positions: the WAL's records and full-page images by resource manager; null when it cannot be read. */
async function walByKind(server: MeasuredServer, from: string, to: string): Promise<WalKind[] | null> {
  if (!server.waldump || from === to) return null;
  try {
    const { stdout } = await run(server.waldump.binary, ['--path', server.waldump.walDirectory, '--start', from, '--end', to, '--stats'], {
      maxBuffer: 1 << 20,
    });
    // "Heap   123 ( 12.34)   4567 ( 12.34)   8901 ( 12.34)   13468 ( 12.34)": N, record size, FPI size, combined.
    const kinds: WalKind[] = [];
    for (const line of stdout.split('\n')) {
      const match = /^(\w[\w/]*)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(/.exec(line.trim());
      if (match && match[1] !== 'Total') kinds.push({ kind: match[1]!, records: Number(match[2]), recordBytes: Number(match[3]), fpiBytes: Number(match[4]) });
    }
    return kinds.filter((kind) => kind.records > 0).sort((a, b) => b.recordBytes + b.fpiBytes - (a.recordBytes + a.fpiBytes));
  } catch (error) {
    log(`pg_waldump could not read ${from}..${to}: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

// ---------------------------------------------------------------- load

interface Outcome {
  done: number;
  failed: number;
  firstFailure?: string;
  achievedRate: number;
  answered: LatencySummary;
}

/**
 * Sends `request()` at `rate` per second for `durationMs`, open loop: the
 * next one leaves on time whatever the answers do (at most MAX_IN_FLIGHT in
 * flight; past that the sender falls behind, which achievedRate shows).
 * Resolves once every request has answered.
 */
async function atRate(rate: number, durationMs: number, request: () => Promise<void>): Promise<Outcome> {
  const started = performance.now();
  let due = started;
  const pending = new Set<Promise<void>>();
  const latencies: number[] = [];
  const outcome = { done: 0, failed: 0, firstFailure: undefined as string | undefined };
  while (performance.now() - started < durationMs) {
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (pending.size >= MAX_IN_FLIGHT) {
      await Promise.race(pending);
      continue;
    }
    const sent = performance.now();
    const call: Promise<void> = request()
      .then(
        () => {
          outcome.done += 1;
          latencies.push(performance.now() - sent);
        },
        (error: Error) => {
          outcome.failed += 1;
          outcome.firstFailure ??= error.message;
        },
      )
      .finally(() => pending.delete(call));
    pending.add(call);
    due += 1000 / rate;
  }
  const sendingMs = performance.now() - started;
  await Promise.all(pending);
  return { ...outcome, achievedRate: outcome.done / (sendingMs / 1000), answered: summarizeLatencies(latencies) };
}

/** A GraphQL request over a kept-alive connection pool; rejects on a status other than 200 or any error in the answer. */
function graphql(http: HttpPool, token: string, query: string, variables: Record<string, unknown>): Promise<void> {
  return http
    .request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    })
    .then(async ({ statusCode, body }) => {
      const answer = (await body.json()) as { errors?: unknown[] };
      if (statusCode !== 200 || answer.errors) throw new Error(`${statusCode} ${JSON.stringify(answer.errors).slice(0, 300)}`);
    });
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

// ---------------------------------------------------------------- windows

interface Window {
  kind: 'send' | 'read';
  askedRate: number;
  achievedRate: number;
  done: number;
  failed: number;
  firstFailure?: string;
  answered: LatencySummary;
  loadAverage: { before: number[]; after: number[] };
  /** Whole machine, all cores, during the window. */
  machineBusyPercent: number | null;
  /** Per operation answered. */
  postgresCpuMs: number | null;
  /** PostgreSQL's CPU per operation by kind of process (backends, WAL writer, WAL sender, …). */
  postgresCpuByKind: Record<string, number> | null;
  apiCpuMs: number | null;
  standbyCpuMs: number | null;
  standbyCpuByKind: Record<string, number> | null;
  walBytes: number;
  walRecords: number;
  walFpi: number;
  /** pg_stat_database's, per operation. */
  counters: Counters;
  /** pg_stat_user_tables', per operation, tables with any change. */
  tables: TableCounters;
  statements: StatementFigures[];
  /** pg_waldump --stats, per operation. */
  walKinds: WalKind[] | null;
}

interface Context {
  server: MeasuredServer;
  database: string;
  pool: pg.Pool;
  standbyPostmaster: number | null;
}

async function measureWindow(context: Context, kind: Window['kind'], api: ServerProcess, rate: number, request: () => Promise<void>): Promise<Window> {
  const { server, database, pool, standbyPostmaster } = context;
  const countersBefore = await readCounters(server, database);
  const tablesBefore = await readTableCounters(pool);
  if (server.statementsAvailable) await server.monitor.query('SELECT pg_stat_statements_reset()');
  const loadBefore = os.loadavg();
  const before = await read(server, standbyPostmaster, api.pid);
  const outcome = await atRate(rate, WINDOW_MS, request);
  const after = await read(server, standbyPostmaster, api.pid);
  const loadAfter = os.loadavg();
  const statements = await readStatements(server, database, outcome.done);
  const walKinds = await walByKind(server, before.lsn, after.lsn);
  const { rows } = await server.monitor.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($2, $1) AS bytes', [before.lsn, after.lsn]);
  // The standby's replay of the window, and every backend's counters, finish within the settle.
  await sleep(SETTLE_MS);
  const standbyAfter = standbyPostmaster === null ? null : readProcessTreeCpu(standbyPostmaster);
  const countersAfter = await readCounters(server, database);
  const tablesAfter = await readTableCounters(pool);
  const per = outcome.done || 1;
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : (b - a) / per);
  const total = (tree: ProcessTreeCpu | null) => tree && treeTotalMs(tree);
  const perKind = (from: ProcessTreeCpu | null, to: ProcessTreeCpu | null) =>
    from && to ? Object.fromEntries(Object.entries(cpuByKind(from, to)).map(([kind, ms]) => [kind, ms / per])) : null;
  const tables: TableCounters = {};
  for (const [table, figures] of Object.entries(tablesAfter)) {
    const was = tablesBefore[table] ?? { inserted: 0, updated: 0, hotUpdated: 0 };
    const change = {
      inserted: (figures.inserted - was.inserted) / per,
      updated: (figures.updated - was.updated) / per,
      hotUpdated: (figures.hotUpdated - was.hotUpdated) / per,
    };
    if (change.inserted > 0 || change.updated > 0) tables[table] = change;
  }
  return {
    kind,
    askedRate: rate,
    achievedRate: outcome.achievedRate,
    done: outcome.done,
    failed: outcome.failed,
    firstFailure: outcome.firstFailure,
    answered: outcome.answered,
    loadAverage: { before: loadBefore, after: loadAfter },
    machineBusyPercent:
      before.machine && after.machine ? (100 * (after.machine.busy - before.machine.busy)) / (after.machine.total - before.machine.total) : null,
    postgresCpuMs: delta(total(before.postgres), total(after.postgres)),
    postgresCpuByKind: perKind(before.postgres, after.postgres),
    apiCpuMs: delta(before.apiCpuMs, after.apiCpuMs),
    standbyCpuMs: delta(total(before.standby), total(standbyAfter)),
    standbyCpuByKind: perKind(before.standby, standbyAfter),
    walBytes: Number(rows[0]!.bytes) / per,
    walRecords: (after.wal.records - before.wal.records) / per,
    walFpi: (after.wal.fpi - before.wal.fpi) / per,
    counters: Object.fromEntries(
      Object.entries(countersAfter).map(([key, value]) => [key, (value - countersBefore[key as keyof Counters]) / per]),
    ) as unknown as Counters,
    tables,
    statements,
    walKinds:
      walKinds &&
      walKinds.map((walKind) => ({ ...walKind, records: walKind.records / per, recordBytes: walKind.recordBytes / per, fpiBytes: walKind.fpiBytes / per })),
  };
}

function describeWindow(window: Window): string {
  const unit = window.kind === 'send' ? 'send' : 'read';
  const fixed = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));
  return (
    `${window.kind}s at ${window.askedRate}/s asked: ${window.achievedRate.toFixed(1)}/s answered (${window.failed} failed), p50 ${window.answered.p50.toFixed(1)} ms, p99 ${window.answered.p99.toFixed(1)} ms;` +
    ` per ${unit}: PostgreSQL ${fixed(window.postgresCpuMs, 2)} ms CPU, API ${fixed(window.apiCpuMs, 2)} ms, standby ${fixed(window.standbyCpuMs, 2)} ms,` +
    ` WAL ${window.walBytes.toFixed(0)} B (${window.walFpi.toFixed(2)} full-page images); machine ${fixed(window.machineBusyPercent, 0)}% busy, load ${window.loadAverage.after.map((value) => value.toFixed(1)).join(' ')}` +
    (window.firstFailure ? `; first failure: ${window.firstFailure}` : '')
  );
}

// ---------------------------------------------------------------- the send, statement by statement

interface ExplainedNode {
  /** `Update on conversation_participants`, `LockRows`, … */
  node: string;
  statement: number;
  rows: number;
  ms: number;
  walRecords: number;
  walFpi: number;
  walBytes: number;
  blocksHit: number;
  blocksDirtied: number;
}

interface PlanNode {
  'Node Type': string;
  Operation?: string;
  'Relation Name'?: string;
  'Actual Total Time'?: number;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'WAL Bytes'?: number;
  'Parent Relationship'?: string;
  Plans?: PlanNode[];
}

interface ExplainedStatement {
  Plan: PlanNode;
  'Execution Time': number;
  Triggers?: { 'Trigger Name': string; Relation: string; Time: number; Calls: number }[];
}

/**
 * The nodes that write (ModifyTable, LockRows) of one statement's plan. A
 * data-modifying CTE is a subplan under the statement's top node, but runs
 * after it, outside its counters: each writing node's figures are its own.
 */
function writingNodes(plan: PlanNode, statement: number, into: ExplainedNode[]): void {
  if (plan['Node Type'] === 'ModifyTable' || plan['Node Type'] === 'LockRows') {
    // The rows it wrote or locked are those its input (not its CTEs) produced.
    const child = plan.Plans?.find((candidate) => candidate['Parent Relationship'] === 'Outer');
    into.push({
      node: plan['Node Type'] === 'LockRows' ? `Lock rows (${child?.['Relation Name'] ?? 'subquery'})` : `${plan.Operation} on ${plan['Relation Name']}`,
      statement,
      rows: child?.['Actual Rows'] ?? 0,
      ms: (plan['Actual Total Time'] ?? 0) * (plan['Actual Loops'] ?? 1),
      walRecords: plan['WAL Records'] ?? 0,
      walFpi: plan['WAL FPI'] ?? 0,
      walBytes: plan['WAL Bytes'] ?? 0,
      blocksHit: plan['Shared Hit Blocks'] ?? 0,
      blocksDirtied: plan['Shared Dirtied Blocks'] ?? 0,
    });
  }
  for (const child of plan.Plans ?? []) writingNodes(child, statement, into);
}

interface ExplainFigures {
  sends: number;
  /** Median per send of each writing node. */
  nodes: ExplainedNode[];
  /** Median per send of each statement's execution time, and its triggers' (the search vector's, the foreign keys'). */
  statements: { statement: number; ms: number; triggers: { name: string; ms: number }[] }[];
}

/**
 * Runs sendMessage itself, in-process, for random participants, with each of
 * its statements explained first (EXPLAIN ANALYZE in a savepoint rolled
 * back, then the statement for real, so the send goes on as it would), the
 * whole send rolled back: what each statement and each table it writes
 * costs, from the code that sends them rather than a copy of its SQL.
 */
async function explainSends(
  pool: pg.Pool,
  conversations: readonly { id: number; members: number[] }[],
  bodies: readonly string[],
  count: number,
): Promise<ExplainFigures> {
  const nodes: ExplainedNode[][] = [];
  const statements: { statement: number; ms: number; triggers: { name: string; ms: number }[] }[][] = [];
  const client = await pool.connect();
  try {
    for (let send = 0; send < count; send += 1) {
      const conversation = pick(conversations);
      const sendNodes: ExplainedNode[] = [];
      const sendStatements: (typeof statements)[number] = [];
      const explaining = {
        query: async (text: string, parameters?: unknown[]) => {
          const statement = sendStatements.length + 1;
          await client.query('SAVEPOINT explained');
          const { rows } = await client.query<{ 'QUERY PLAN': ExplainedStatement[] }>(`EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${text}`, parameters);
          await client.query('ROLLBACK TO SAVEPOINT explained');
          const explained = rows[0]!['QUERY PLAN'][0]!;
          writingNodes(explained.Plan, statement, sendNodes);
          sendStatements.push({
            statement,
            ms: explained['Execution Time'],
            triggers: (explained.Triggers ?? []).map((trigger) => ({ name: `${trigger['Trigger Name']} (${trigger.Relation})`, ms: trigger.Time })),
          });
          return client.query(text, parameters);
        },
      } as unknown as pg.PoolClient;
      const writer: Writer = {
        async run(work) {
          await client.query('BEGIN');
          try {
            return await work({ client: explaining, touch: () => {}, emit: () => {} });
          } finally {
            await client.query('ROLLBACK');
          }
        },
      };
      // A seeded body, as the windows send: the search index's entries are its words.
      await sendMessage(writer, pick(conversation.members), { conversationId: conversation.id, body: pick(bodies) });
      nodes.push(sendNodes);
      statements.push(sendStatements);
    }
  } finally {
    client.release();
  }
  const medianOf = (list: number[]) => median(list);
  const names = [...new Set(nodes.flat().map((node) => `${node.statement}\u0000${node.node}`))];
  return {
    sends: count,
    nodes: names.map((name) => {
      const [statement, node] = name.split('\u0000') as [string, string];
      const samples = nodes
        .map((send) => send.find((candidate) => candidate.node === node && candidate.statement === Number(statement)))
        .filter((sample) => sample !== undefined);
      const of = (field: keyof ExplainedNode) => medianOf(samples.map((sample) => Number(sample[field])));
      return {
        node,
        statement: Number(statement),
        rows: of('rows'),
        ms: of('ms'),
        walRecords: of('walRecords'),
        walFpi: of('walFpi'),
        walBytes: of('walBytes'),
        blocksHit: of('blocksHit'),
        blocksDirtied: of('blocksDirtied'),
      };
    }),
    statements: (statements[0] ?? []).map(({ statement }) => {
      const samples = statements.map((send) => send.find((candidate) => candidate.statement === statement)).filter((sample) => sample !== undefined);
      const triggerNames = [...new Set(samples.flatMap((sample) => sample.triggers.map((trigger) => trigger.name)))];
      return {
        statement,
        ms: medianOf(samples.map((sample) => sample.ms)),
        triggers: triggerNames.map((name) => ({
          name,
          ms: medianOf(samples.map((sample) => sample.triggers.find((trigger) => trigger.name === name)?.ms ?? 0)),
        })),
      };
    }),
  };
}

// ---------------------------------------------------------------- capacity

/** The relations a send writes anywhere in (every page may take a full-page image once per checkpoint), and the checkpoint interval. */
interface WrittenRelations {
  bytes: number;
  checkpointSeconds: number;
  /** Each relation's size: tables with their indexes, and the messages' indexes (its heap is only appended to). */
  sizes: Record<string, number>;
}

async function writtenRelations(pool: pg.Pool): Promise<WrittenRelations> {
  const { rows } = await pool.query<{ name: string; bytes: string }>(
    `SELECT name, bytes FROM (VALUES
       ('conversation_participants', pg_total_relation_size('conversation_participants')),
       ('conversations', pg_total_relation_size('conversations')),
       ('users', pg_total_relation_size('users')),
       ('user_daily_activity', pg_total_relation_size('user_daily_activity')),
       ('messages (indexes)', pg_indexes_size('messages'))
     ) AS relation (name, bytes)`,
  );
  const { rows: checkpoint } = await pool.query<{ seconds: number }>(`SELECT setting::int AS seconds FROM pg_settings WHERE name = 'checkpoint_timeout'`);
  const sizes = Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
  return { bytes: Object.values(sizes).reduce((sum, bytes) => sum + bytes, 0), checkpointSeconds: checkpoint[0]!.seconds, sizes };
}

interface Capacity {
  /** Median PostgreSQL CPU ms per send over every window: CPU per send does not depend on whether the window kept up. */
  postgresCpuMsPerSend: number;
  /** As measured, the median window's: full-page images included (their number falls as the time since the last checkpoint grows). */
  walBytesPerSend: number;
  /** The WAL's records alone (pg_waldump), without full-page images: what every send writes whenever it runs. */
  walRecordBytesPerSend: number | null;
  /**
   * At most this many bytes per second of full-page images, at any rate: one
   * image per page first written after a checkpoint, and a send writes pages
   * of these relations only (the messages' heap is appended to, a few pages).
   */
  fpiBytesPerSecondAtMost: number | null;
  apiCpuMsPerSend: number | null;
  /** CORES × 1000 ÷ postgresCpuMsPerSend. */
  sendsPerSecond: number;
  /** API cores it takes to send that many. */
  apiCores: number | null;
  /** Median PostgreSQL CPU ms per Inbox read. */
  postgresCpuMsPerRead: number | null;
  /** The highest rate asked that was kept up, and the first that was not. */
  observed: { keptUpTo: number | null; firstBehind: { asked: number; achieved: number; p99: number } | null };
}

function capacityOf(sends: Window[], reads: Window[], writtenRelations: WrittenRelations): Capacity | null {
  const basis = sends.filter((window) => window.postgresCpuMs !== null && window.done > 0);
  if (basis.length === 0) return null;
  const keptUp = basis.filter((window) => window.achievedRate >= KEPT_UP * window.askedRate);
  const postgresCpuMsPerSend = median(basis.map((window) => window.postgresCpuMs!));
  const walBytesPerSend = median(basis.map((window) => window.walBytes));
  const recordBytes = basis.filter((window) => window.walKinds !== null).map((window) => window.walKinds!.reduce((sum, kind) => sum + kind.recordBytes, 0));
  const walRecordBytesPerSend = recordBytes.length > 0 ? median(recordBytes) : null;
  const apiTimes = basis.map((window) => window.apiCpuMs).filter((value) => value !== null);
  const apiCpuMsPerSend = apiTimes.length > 0 ? median(apiTimes) : null;
  const sendsPerSecond = (CORES * 1000) / postgresCpuMsPerSend;
  const readTimes = reads.map((window) => window.postgresCpuMs).filter((value) => value !== null);
  const firstBehind = sends.find((window) => window.achievedRate < KEPT_UP * window.askedRate);
  return {
    postgresCpuMsPerSend,
    walBytesPerSend,
    walRecordBytesPerSend,
    fpiBytesPerSecondAtMost: writtenRelations.checkpointSeconds > 0 ? writtenRelations.bytes / writtenRelations.checkpointSeconds : null,
    apiCpuMsPerSend,
    sendsPerSecond,
    apiCores: apiCpuMsPerSend === null ? null : (apiCpuMsPerSend * sendsPerSecond) / 1000,
    postgresCpuMsPerRead: readTimes.length > 0 ? median(readTimes) : null,
    observed: {
      keptUpTo: keptUp.length > 0 ? Math.max(...keptUp.map((window) => window.askedRate)) : null,
      firstBehind: firstBehind ? { asked: firstBehind.askedRate, achieved: firstBehind.achievedRate, p99: firstBehind.answered.p99 } : null,
    },
  };
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  if (!values['no-build']) {
    log('building (tsc)…');
    await buildCheckout(root);
  }
  const database = `parley_bench_primary_${SCALE.messages}`;
  let ownPostgres: OwnPostgres | undefined;
  let standby: OwnPostgres | undefined;
  let databaseUrl: string;
  if (process.env.BENCH_DATABASE_URL) {
    databaseUrl = benchDatabaseUrl(database);
  } else {
    log('starting a PostgreSQL of its own…');
    ownPostgres = await startOwnPostgres({ settings: SERVER_SETTINGS });
    databaseUrl = ownPostgres.url(database);
  }
  const ownRedis = process.env.BENCH_REDIS_URL ? undefined : await startOwnRedis();
  const redisUrl = process.env.BENCH_REDIS_URL ?? ownRedis!.url;
  const logDirectory = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-primary-'));
  const servers: ServerProcess[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'parley-bench-primary' });
  let server: MeasuredServer | undefined;
  try {
    await createDatabaseIfMissing(databaseUrl);
    const seedStarted = performance.now();
    const seeded = await prepareBenchDatabase(pool, databaseUrl, SCALE, log);
    const seededInSeconds = seeded ? (performance.now() - seedStarted) / 1000 : null;
    server = await measuredServer(databaseUrl);
    // In the monitor's database: the view shows every database's statements, filtered by the benchmark's.
    if (server.statementsAvailable) await server.monitor.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    else log('pg_stat_statements is not loaded on this server: no statement figures');
    if (server.postmasterPid === null) log('the server is not a process of this machine: no CPU figures for PostgreSQL');
    // Every window starts from the same state: tables vacuumed, a checkpoint just made.
    await pool.query('VACUUM (ANALYZE) users, conversations, conversation_participants, messages, user_daily_activity');
    if (ownPostgres && !values['no-standby']) {
      log('making a streaming standby (pg_basebackup)…');
      standby = await startOwnPostgres({ standbyOf: ownPostgres, settings: SERVER_SETTINGS });
    }
    const standbyPostmaster = standby ? await postmasterOf(standby.url()) : null;
    const context: Context = { server, database, pool, standbyPostmaster };

    const { rows: conversations } = await pool.query<{ id: number; members: number[] }>(
      'SELECT conversation_id AS id, array_agg(user_id) AS members FROM conversation_participants GROUP BY conversation_id',
    );
    const readers = [...new Set(conversations.flatMap((conversation) => conversation.members))];
    const tokens = new Map<number, string>();
    for (const user of readers) tokens.set(user, await auth.issueToken(user));
    // Bodies of the seeded messages: a real message's length and words (the search vector's trigger reads them).
    const { rows: bodyRows } = await pool.query<{ body: string }>('SELECT body FROM messages TABLESAMPLE SYSTEM (1) LIMIT 1000');
    const bodies = bodyRows.map((row) => row.body);
    const { rows: settingRows } = await server.monitor.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
       WHERE name IN ('server_version', 'shared_buffers', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_compression', 'checkpoint_timeout', 'max_wal_size', 'wal_level')`,
    );
    const { rows: sizeRows } = await pool.query<{ participants: number; participantsPerConversation: number }>(
      'SELECT count(*)::int AS participants, (count(*)::float / count(DISTINCT conversation_id)) AS "participantsPerConversation" FROM conversation_participants',
    );

    const common = {
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'warn',
      // The statistics refresh is measured on its own below: its minute would fall in one window.
      STATS_REFRESH_INTERVAL_SECONDS: '0',
      RATE_LIMIT_WRITES: '1000000000',
    };
    const start = async (name: string, env: Record<string, string>) => {
      const started = await startServer({
        root,
        databaseUrl,
        jwtSecret: JWT_SECRET,
        env: { ...common, ...env },
        logFile: path.join(logDirectory, `${name}.log`),
      });
      servers.push(started);
      return started;
    };
    const writes = await start('sends', { RESPONSE_CACHE: 'on', LOADER_CACHE: 'on' });
    const reads = await start('reads', { RESPONSE_CACHE: 'off', LOADER_CACHE: 'off' });
    log(`API instances: sends ${writes.origin} (pid ${writes.pid}, caches on), reads ${reads.origin} (pid ${reads.pid}, caches off); logs in ${logDirectory}`);
    const writesHttp = new HttpPool(writes.origin, { connections: 64, pipelining: 1 });
    const readsHttp = new HttpPool(reads.origin, { connections: 64, pipelining: 1 });
    const send = () => {
      const conversation = pick(conversations);
      const author = pick(conversation.members);
      return graphql(writesHttp, tokens.get(author)!, SEND_DOCUMENT, { conversationId: toGlobalId('Conversation', conversation.id), body: pick(bodies) });
    };
    const inbox = () => graphql(readsHttp, tokens.get(pick(readers))!, INBOX_DOCUMENT, INBOX_VARIABLES);

    // Warm both instances (JIT, pools, the loader cache's first fills), then a checkpoint and a quiet moment: what PostgreSQL spends idle.
    log('warming up…');
    await atRate(SEND_RATES[0]!, 5_000, send);
    if (READ_RATES.length > 0) await atRate(READ_RATES[0]!, 3_000, inbox);
    await pool.query('CHECKPOINT');
    await sleep(SETTLE_MS);
    const idleBefore = server.postmasterPid === null ? null : readProcessTreeCpu(server.postmasterPid);
    const idleFrom = performance.now();
    await sleep(5_000);
    const idleAfter = server.postmasterPid === null ? null : readProcessTreeCpu(server.postmasterPid);
    const idleCpuMsPerSecond = idleBefore && idleAfter ? (treeTotalMs(idleAfter) - treeTotalMs(idleBefore)) / ((performance.now() - idleFrom) / 1000) : null;
    log(`PostgreSQL idle: ${idleCpuMsPerSecond?.toFixed(1) ?? 'n/a'} ms CPU per second`);

    const sendWindows: Window[] = [];
    for (const rate of SEND_RATES) {
      const window = await measureWindow(context, 'send', writes, rate, send);
      log(describeWindow(window));
      sendWindows.push(window);
    }
    const readWindows: Window[] = [];
    for (const rate of READ_RATES) {
      const window = await measureWindow(context, 'read', reads, rate, inbox);
      log(describeWindow(window));
      readWindows.push(window);
    }
    await writesHttp.close();
    await readsHttp.close();

    // The statistics refresh, once, as the scheduled job runs it (CONCURRENTLY).
    const refreshBefore = await read(server, standbyPostmaster, writes.pid);
    await refreshStatsViews(pool, { concurrently: true });
    const refreshAfter = await read(server, standbyPostmaster, writes.pid);
    const { rows: refreshWal } = await server.monitor.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($2, $1) AS bytes', [
      refreshBefore.lsn,
      refreshAfter.lsn,
    ]);
    const refresh = {
      seconds: (refreshAfter.at - refreshBefore.at) / 1000,
      postgresCpuMs: refreshBefore.postgres && refreshAfter.postgres ? treeTotalMs(refreshAfter.postgres) - treeTotalMs(refreshBefore.postgres) : null,
      walBytes: Number(refreshWal[0]!.bytes),
    };
    log(
      `statistics refresh: ${refresh.seconds.toFixed(1)} s, PostgreSQL ${refresh.postgresCpuMs?.toFixed(0) ?? 'n/a'} ms CPU, WAL ${(refresh.walBytes / 2 ** 20).toFixed(1)} MB`,
    );

    const explained = EXPLAINED_SENDS > 0 ? await explainSends(pool, conversations, bodies, EXPLAINED_SENDS) : null;
    const written = await writtenRelations(pool);
    const capacity = capacityOf(sendWindows, readWindows, written);

    const commit = await run('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: root }).then(
      ({ stdout }) => stdout.trim(),
      () => 'unknown',
    );
    const results: Results = {
      date: new Date().toISOString(),
      commit,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      server: {
        own: ownPostgres !== undefined,
        standby: standby !== undefined,
        settings: Object.fromEntries(settingRows.map((row) => [row.name, row.setting])),
        pgStatStatements: server.statementsAvailable,
      },
      data: { ...SCALE, seededInSeconds, participants: sizeRows[0]!.participants, participantsPerConversation: sizeRows[0]!.participantsPerConversation },
      windowSeconds: WINDOW_MS / 1000,
      idleCpuMsPerSecond,
      sends: sendWindows,
      reads: readWindows,
      refresh,
      explained,
      writtenRelations: written,
      capacity,
    };
    const markdown = renderMarkdown(results);
    await writeResults({ benchmark: 'primary', label: values.label }, results, markdown);
    console.log(`\n${markdown}`);
    if ([...sendWindows, ...readWindows].some((window) => window.failed > 0)) {
      console.error('Some operations failed: see the tables.');
      process.exitCode = 1;
    }
  } finally {
    for (const started of servers) await started.stop().catch(() => {});
    await server?.monitor.end().catch(() => {});
    await pool.end().catch(() => {});
    await standby?.destroy();
    await ownPostgres?.destroy();
    await ownRedis?.close();
  }
}

// ---------------------------------------------------------------- the report

interface Results {
  date: string;
  commit: string;
  machine: string;
  server: { own: boolean; standby: boolean; settings: Record<string, string>; pgStatStatements: boolean };
  data: typeof SCALE & { seededInSeconds: number | null; participants: number; participantsPerConversation: number };
  windowSeconds: number;
  idleCpuMsPerSecond: number | null;
  sends: Window[];
  reads: Window[];
  refresh: { seconds: number; postgresCpuMs: number | null; walBytes: number };
  explained: ExplainFigures | null;
  writtenRelations: WrittenRelations;
  capacity: Capacity | null;
}

function renderMarkdown(results: Results): string {
  const fixed = (value: number | null | undefined, digits: number) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));
  const load = (window: Window) => `${window.loadAverage.before[0]!.toFixed(1)} → ${window.loadAverage.after[0]!.toFixed(1)}`;
  const settings = results.server.settings;
  const lines = [
    `# bench:primary, ${results.date}`,
    '',
    `Commit ${results.commit}. ${results.machine}. PostgreSQL ${settings.server_version} (${results.server.own ? "the benchmark's own server" : 'BENCH_DATABASE_URL'}${results.server.standby ? ', with a streaming standby' : ''}):` +
      ` shared_buffers ${settings.shared_buffers}, fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, full_page_writes ${settings.full_page_writes},` +
      ` wal_compression ${settings.wal_compression}, checkpoint_timeout ${settings.checkpoint_timeout}, max_wal_size ${settings.max_wal_size}.`,
    '',
    `Data: ${results.data.users} users, ${results.data.conversations} conversations, ${results.data.messages} messages (seed ${results.data.seed}), ${results.data.participants} participants (${results.data.participantsPerConversation.toFixed(2)} per conversation)` +
      `${results.data.seededInSeconds === null ? '' : `, seeded in ${results.data.seededInSeconds.toFixed(0)} s`}. Windows of ${results.windowSeconds} s; PostgreSQL idle: ${fixed(results.idleCpuMsPerSecond, 1)} ms CPU per second.`,
    '',
    'CPU is CPU time from /proc (PostgreSQL: its postmaster and every process under it; the API: its process), divided by the operations answered in the window; it does not depend on how busy the rest of the machine was, wall-clock figures (rates achieved, answer times) do. Load average: the 1-minute figure before → after each window.',
    '',
    '## Sends (SendMessage, response and loader caches on)',
    '',
    '| asked/s | answered/s | failed | p50 ms | p99 ms | PostgreSQL CPU ms/send | API CPU ms/send | standby CPU ms/send | WAL bytes/send | full-page images/send | commits/send | blocks hit/send | blocks read/send | machine busy | load |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.sends.map(
      (window) =>
        `| ${window.askedRate} | ${window.achievedRate.toFixed(1)} | ${window.failed} | ${window.answered.p50.toFixed(1)} | ${window.answered.p99.toFixed(1)} | ${fixed(window.postgresCpuMs, 2)} | ${fixed(window.apiCpuMs, 2)} | ${fixed(window.standbyCpuMs, 2)} | ${window.walBytes.toFixed(0)} | ${window.walFpi.toFixed(2)} | ${window.counters.xactCommit.toFixed(2)} | ${window.counters.blksHit.toFixed(0)} | ${window.counters.blksRead.toFixed(2)} | ${fixed(window.machineBusyPercent, 0)}% | ${load(window)} |`,
    ),
  ];
  const byKind = (windows: Window[], pick: (window: Window) => Record<string, number> | null, what: string) => {
    const kinds = [...new Set(windows.flatMap((window) => Object.keys(pick(window) ?? {})))].sort();
    if (kinds.length === 0) return;
    lines.push('', what, '', `| asked/s | ${kinds.join(' | ')} |`, `| ---: | ${kinds.map(() => '---:').join(' | ')} |`);
    for (const window of windows) lines.push(`| ${window.askedRate} | ${kinds.map((kind) => fixed(pick(window)?.[kind], 3)).join(' | ')} |`);
  };
  byKind(
    results.sends,
    (window) => window.postgresCpuByKind,
    "PostgreSQL's CPU ms per send by process (closed backends and autovacuum workers count once they exit):",
  );
  byKind(results.sends, (window) => window.standbyCpuByKind, "The standby's CPU ms per send by process:");
  // The window with the most sends: the furthest from the checkpoint before the first, so the fewest full-page images per send.
  const detail = results.sends.reduce<Window | undefined>((best, window) => (!best || window.done > best.done ? window : best), undefined);
  if (detail) {
    lines.push('', `### Where a send goes (the ${detail.askedRate}/s window: the most sends, the fewest full-page images per send)`, '');
    lines.push('Rows written per send, by table (pg_stat_user_tables; an update that is not HOT writes a new entry in every index of the table):', '');
    lines.push('| table | inserted | updated | of which HOT |', '| --- | ---: | ---: | ---: |');
    for (const [table, figures] of Object.entries(detail.tables).sort((a, b) => b[1].inserted + b[1].updated - (a[1].inserted + a[1].updated)))
      lines.push(`| ${table} | ${figures.inserted.toFixed(2)} | ${figures.updated.toFixed(2)} | ${figures.hotUpdated.toFixed(2)} |`);
    if (detail.walKinds) {
      const total = detail.walKinds.reduce((sum, kind) => sum + kind.recordBytes + kind.fpiBytes, 0);
      lines.push(
        '',
        'WAL per send by kind of record (pg_waldump --stats over the window: Heap is rows, Btree and Gin index entries, Transaction commits):',
        '',
      );
      lines.push('| kind | records | record bytes | full-page image bytes | share |', '| --- | ---: | ---: | ---: | ---: |');
      for (const kind of detail.walKinds)
        lines.push(
          `| ${kind.kind} | ${kind.records.toFixed(2)} | ${kind.recordBytes.toFixed(0)} | ${kind.fpiBytes.toFixed(0)} | ${((100 * (kind.recordBytes + kind.fpiBytes)) / total).toFixed(1)}% |`,
        );
    }
    if (detail.statements.length > 0) {
      lines.push(
        '',
        "Statements (pg_stat_statements; mean is execution time, waits included: a lock, COMMIT flushing the WAL; plan is planning time, apart; share is of all statements' execution time):",
        '',
      );
      lines.push(
        '| calls/send | mean ms | plan ms | share of time | rows/call | WAL bytes/call | FPI/call | blocks hit/call | dirtied/call | statement |',
        '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      );
      for (const statement of detail.statements)
        lines.push(
          `| ${statement.callsPerOperation.toFixed(2)} | ${statement.meanMs.toFixed(3)} | ${statement.meanPlanMs.toFixed(3)} | ${(100 * statement.timeShare).toFixed(1)}% | ${statement.rowsPerCall.toFixed(1)} | ${statement.walBytesPerCall.toFixed(0)} | ${statement.walFpiPerCall.toFixed(2)} | ${statement.blocksHitPerCall.toFixed(1)} | ${statement.blocksDirtiedPerCall.toFixed(2)} | \`${statement.query.slice(0, 110).replaceAll('|', '\\|')}…\` |`,
        );
    }
  }
  if (results.explained) {
    const { explained } = results;
    lines.push('', `### sendMessage statement by statement (EXPLAIN ANALYZE, BUFFERS, WAL; median of ${explained.sends} sends, each rolled back)`, '');
    lines.push(
      "1 locks the conversation, 2 inserts the message, 3 records the send (the conversation, every participant, the author's daily activity and XP).",
      '',
    );
    lines.push(
      '| statement | writes | rows | ms | WAL records | WAL bytes | FPI | blocks hit | dirtied |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const node of explained.nodes)
      lines.push(
        `| ${node.statement} | ${node.node} | ${node.rows} | ${node.ms.toFixed(3)} | ${node.walRecords} | ${node.walBytes} | ${node.walFpi} | ${node.blocksHit} | ${node.blocksDirtied} |`,
      );
    lines.push('', '| statement | execution ms | of which triggers |', '| ---: | ---: | --- |');
    for (const statement of explained.statements)
      lines.push(
        `| ${statement.statement} | ${statement.ms.toFixed(3)} | ${statement.triggers.map((trigger) => `${trigger.name} ${trigger.ms.toFixed(3)} ms`).join(', ') || 'none'} |`,
      );
  }
  if (results.reads.length > 0) {
    lines.push('', '## Reads (the reference Inbox, 50 conversations × 20 messages, random users, caches off)', '');
    lines.push(
      '| asked/s | answered/s | failed | p50 ms | p99 ms | PostgreSQL CPU ms/read | API CPU ms/read | commits/read | blocks hit/read | blocks read/read | machine busy | load |',
    );
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const window of results.reads)
      lines.push(
        `| ${window.askedRate} | ${window.achievedRate.toFixed(1)} | ${window.failed} | ${window.answered.p50.toFixed(1)} | ${window.answered.p99.toFixed(1)} | ${fixed(window.postgresCpuMs, 2)} | ${fixed(window.apiCpuMs, 2)} | ${window.counters.xactCommit.toFixed(2)} | ${window.counters.blksHit.toFixed(0)} | ${window.counters.blksRead.toFixed(2)} | ${fixed(window.machineBusyPercent, 0)}% | ${load(window)} |`,
      );
  }
  lines.push(
    '',
    `Statistics refresh (CONCURRENTLY, once): ${results.refresh.seconds.toFixed(1)} s, PostgreSQL ${fixed(results.refresh.postgresCpuMs, 0)} ms CPU, ${(results.refresh.walBytes / 2 ** 20).toFixed(1)} MB of WAL; every 300 s by default.`,
  );
  const { capacity } = results;
  if (capacity) {
    lines.push('', '## Capacity', '');
    const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const records = capacity.walRecordBytesPerSend;
    lines.push(
      `PostgreSQL CPU per send ${capacity.postgresCpuMsPerSend.toFixed(2)} ms (median of the windows): with ${CORES} cores to itself, the primary takes **${capacity.sendsPerSecond.toFixed(0)} sends/s**` +
        `${capacity.apiCores === null ? '' : `, fed by ${capacity.apiCores.toFixed(1)} cores of API instances (${fixed(capacity.apiCpuMsPerSend, 2)} ms per send)`}.`,
      '',
      `WAL per send: ${capacity.walBytesPerSend.toFixed(0)} bytes in the median window, ${records === null ? 'n/a' : records.toFixed(0)} of them records; the rest are full-page images, one per page first written after a checkpoint, fewer per send the longer since it (the windows above).` +
        (records === null
          ? ''
          : ` At ${capacity.sendsPerSecond.toFixed(0)} sends/s: ${megabytes(records * capacity.sendsPerSecond)} MB/s of records` +
            (capacity.fpiBytesPerSecondAtMost === null
              ? '.'
              : `, plus at most ${megabytes(capacity.fpiBytesPerSecondAtMost)} MB/s of images (every page of what a send writes, ${megabytes(results.writtenRelations.bytes)} MB, once per ${results.writtenRelations.checkpointSeconds} s checkpoint).`)),
      '',
      `On this shared machine (PostgreSQL, the API and the load generator on the same two cores, beside other work): kept up to ${capacity.observed.keptUpTo ?? 'no rate'}/s` +
        (capacity.observed.firstBehind
          ? `; at ${capacity.observed.firstBehind.asked}/s asked, ${capacity.observed.firstBehind.achieved.toFixed(0)}/s answered, p99 ${capacity.observed.firstBehind.p99.toFixed(0)} ms.`
          : '; no rate asked was beyond it.'),
    );
    if (capacity.postgresCpuMsPerRead !== null) {
      const read = capacity.postgresCpuMsPerRead;
      lines.push(
        '',
        `An Inbox read costs the primary ${read.toFixed(2)} ms of CPU (${(read / capacity.postgresCpuMsPerSend).toFixed(1)} sends' worth). Sends per second the primary takes with N uncached reads per send, on the primary and with the reads on replicas:`,
        '',
        '| reads per send | reads on the primary: sends/s | reads on replicas: sends/s | share of the primary the reads took |',
        '| ---: | ---: | ---: | ---: |',
        ...[0, 1, 3, 10].map((perSend) => {
          const mixed = (CORES * 1000) / (capacity.postgresCpuMsPerSend + perSend * read);
          return `| ${perSend} | ${mixed.toFixed(0)} | ${capacity.sendsPerSecond.toFixed(0)} | ${((100 * perSend * read) / (capacity.postgresCpuMsPerSend + perSend * read)).toFixed(0)}% |`;
        }),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

await main();
