// `npm run db:report` as an operator runs it, against seeded databases: one
// on the shared server, where pg_stat_statements is not loaded, and one on a
// PostgreSQL of this file's own started with it preloaded (the shared server
// is never reconfigured). Also its flags, --watch, and a server's metrics.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Histogram, Registry } from 'prom-client';
import type { DatabaseReport } from '../../src/cli/db-report/collect.js';
import { OPERATION_DURATION_METRIC } from '../../src/cli/db-report/server-metrics.js';
import { migrate } from '../../src/db/migrate.js';
import { seedDatabase } from '../../src/cli/seed/seed.js';
import { findHistoryPages } from '../../src/modules/messages/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startOwnPostgres, type OwnPostgres } from '../support/postgres-server.js';

const SEED = { users: 100, conversations: 300, messages: 6_000, seed: 5, now: new Date('2026-07-01T00:00:00Z') };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `npm run db:report -- …args` (without npm's noise): the same entry point. */
function startReport(args: string[], databaseUrl: string | undefined, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/db-report.ts', ...args], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: databaseUrl ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = once(child, 'exit').then(([code, signal]): Run => ({ code, signal, stdout, stderr }));
  return { child, done, output: () => stdout };
}

const runReport = (args: string[], databaseUrl: string | undefined, env?: Record<string, string>) => startReport(args, databaseUrl, env).done;

async function jsonReport(databaseUrl: string, args: string[] = []): Promise<DatabaseReport> {
  const run = await runReport(['--json', ...args], databaseUrl);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as DatabaseReport;
}

/**
 * Runs the history page statement `times` times on one connection, on the
 * longest conversation (a full page each time), and makes its statistics
 * visible at once.
 */
async function readHistory(url: string, times: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number }>('SELECT conversation_id AS id FROM messages GROUP BY 1 ORDER BY count(*) DESC LIMIT 1');
    const conversationId = rows[0]!.id;
    for (let index = 0; index < times; index += 1) {
      await findHistoryPages(client, [{ conversationId, page: { forward: true, size: 20, cursor: null } }]);
    }
    // Backends send their counters at most once a second; this one now.
    await client.query('SELECT pg_stat_force_next_flush()');
  } finally {
    await client.end();
  }
}

describe('npm run db:report', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    await seedDatabase(database.pool, SEED);
    // An index nothing reads, as one left behind by a feature that went away.
    await database.pool.query('CREATE INDEX report_test_unread_idx ON messages (edited_at)');
    await readHistory(database.url, 3);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it('reports sizes, index usage, cache hits, views and the pool as JSON', async () => {
    // The API's pool shows by its application name.
    const api = new pg.Client({ connectionString: database.url, application_name: 'parley-api' });
    await api.connect();
    let report: DatabaseReport;
    try {
      report = await jsonReport(database.url);
    } finally {
      await api.end();
    }

    expect(report.database.name).toBe(database.name);
    expect(report.database.sizeBytes).toBeGreaterThan(0);

    const messages = report.relations.find((relation) => relation.name === 'messages')!;
    expect(messages).toMatchObject({ kind: 'table', estimatedRows: SEED.messages });
    expect(messages.indexBytes).toBeGreaterThan(0);
    expect(messages.totalBytes).toBeGreaterThanOrEqual(messages.tableBytes + messages.indexBytes);
    expect(report.relations.find((relation) => relation.name === 'user_stats_summary')).toMatchObject({ kind: 'materialized view', estimatedRows: SEED.users });

    const index = (name: string) => report.indexes.find((entry) => entry.name === name);
    expect(index('messages_conversation_id_created_at_id_idx')).toMatchObject({ table: 'messages', unused: false });
    expect(index('messages_conversation_id_created_at_id_idx')!.scans).toBeGreaterThanOrEqual(3);
    expect(index('report_test_unread_idx')).toMatchObject({ scans: 0, unused: true, enforcesConstraint: false });
    expect(index('report_test_unread_idx')!.sizeBytes).toBeGreaterThan(0);
    // Unique and primary-key indexes enforce something: never "unused".
    expect(index('users_email_key')).toMatchObject({ enforcesConstraint: true, unused: false });

    const messagesCache = report.cacheHitRatios.find((row) => row.table === 'messages')!;
    expect(messagesCache.blocksHit).toBeGreaterThan(0);
    expect(messagesCache.tableHitRatio).toBeGreaterThan(0);
    expect(messagesCache.tableHitRatio).toBeLessThanOrEqual(1);

    // The shared server does not preload pg_stat_statements: the report says how to enable it.
    expect(report.statements.status).toBe('not-loaded');
    expect(report.statements).toMatchObject({ note: expect.stringContaining("shared_preload_libraries = 'pg_stat_statements'") });
    expect(report.statements).toMatchObject({ note: expect.stringContaining('CREATE EXTENSION pg_stat_statements') });

    const view = report.materializedViews.views.find((entry) => entry.name === 'user_stats_summary')!;
    expect(report.materializedViews.refreshLog).toBe(true);
    expect(view.populated).toBe(true);
    // The migration that created the view recorded its computation, then the seed its refresh.
    expect(view.history).toMatchObject({ lastRun: { outcome: 'succeeded' }, lastSuccess: { outcome: 'succeeded' }, runsLastDay: 2, failuresLastDay: 0 });
    expect(view.refreshedAt).toBe(view.history!.lastSuccess!.startedAt);
    expect(view.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(view.ageSeconds).toBeLessThan(600);

    expect(report.pool.configured).toEqual({ poolMax: expect.any(Number), connectionTimeoutMs: 5_000, idleTimeoutMs: 30_000, statementTimeoutMs: 15_000 });
    expect(report.pool.connections).toContainEqual(expect.objectContaining({ application: 'parley-api', state: 'idle', connections: 1 }));
    expect(report.serverMetrics).toEqual({ status: 'absent', note: expect.stringMatching(/^no server metrics/) });
  });

  it('reads the pool settings from the environment, as the server does', async () => {
    const run = await runReport(['--json'], database.url, { DATABASE_POOL_MAX: '7', DATABASE_STATEMENT_TIMEOUT_MS: '2500' });
    expect((JSON.parse(run.stdout) as DatabaseReport).pool.configured).toMatchObject({ poolMax: 7, statementTimeoutMs: 2_500 });
  });

  it('prints a readable report with every section', async () => {
    const run = await runReport([], database.url);
    expect(run.code).toBe(0);
    for (const heading of [
      'Pool',
      'Tables and materialized views',
      'Indexes',
      'Buffer-cache hit ratio per table',
      'Statements (pg_stat_statements)',
      'Materialized views',
      'Operations',
    ]) {
      expect(run.stdout).toContain(`\n${heading}`);
    }
    expect(run.stdout).toMatch(/unused: \d+ .*\n(?:.*\n)*\s+report_test_unread_idx on messages, [\d.]+ [kM]?B/);
    expect(run.stdout).toMatch(/user_stats_summary: 100 rows, .*computed \d+ s ago/);
    expect(run.stdout).toContain('last refresh succeeded');
    expect(run.stdout).toContain('not available: pg_stat_statements is not loaded');
    expect(run.stdout).toContain('no server metrics');
  });

  it('reports views from their refreshed_at column, if any, when the database has no refresh log', async () => {
    await database.pool.query('ALTER TABLE materialized_view_refreshes RENAME TO report_test_hidden_refreshes');
    try {
      const report = await jsonReport(database.url);
      expect(report.materializedViews.refreshLog).toBe(false);
      const view = report.materializedViews.views.find((entry) => entry.name === 'user_stats_summary')!;
      expect(view.history).toBeNull();
      expect(view.refreshedAt !== null).toBe(view.hasRefreshedAtColumn);
      const text = await runReport([], database.url);
      expect(text.stdout).toContain('no refresh log table: materialized_view_refreshes is missing');
    } finally {
      await database.pool.query('ALTER TABLE report_test_hidden_refreshes RENAME TO materialized_view_refreshes');
    }
  });

  describe('with a server’s metrics', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // What the server's /metrics will say: prom-client's histogram by operation and outcome.
      const registry = new Registry();
      const histogram = new Histogram({
        name: OPERATION_DURATION_METRIC,
        help: 'GraphQL request duration',
        labelNames: ['operation', 'outcome'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1],
        registers: [registry],
      });
      for (let index = 1; index <= 100; index += 1) histogram.observe({ operation: 'Inbox', outcome: index % 10 ? 'success' : 'error' }, index / 1000);
      histogram.observe({ operation: 'Profile', outcome: 'success' }, 0.002);
      server = createServer((request, response) => {
        if (request.url !== '/metrics') return void response.writeHead(404).end();
        void registry.metrics().then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('gives p50, p95 and p99 per operation', async () => {
      const report = await jsonReport(database.url, ['--metrics-url', `${url}/metrics`]);
      expect(report.serverMetrics).toMatchObject({ status: 'available', window: 'since the server started' });
      const operations = report.serverMetrics.status === 'available' ? report.serverMetrics.operations : [];
      expect(operations.map((operation) => [operation.operation, operation.count])).toEqual([
        ['Inbox', 100],
        ['Profile', 1],
      ]);
      // 50 of 100 at or under 50 ms, the rest up to 100 ms: interpolated as histogram_quantile does.
      expect(operations[0]!.p50).toBeCloseTo(0.05, 6);
      expect(operations[0]!.p95).toBeCloseTo(0.095, 6);
      expect(operations[0]!.p99).toBeCloseTo(0.099, 6);
      const text = await runReport(['--metrics-url', `${url}/metrics`], database.url);
      expect(text.stdout).toMatch(
        /Operations \(http:\/\/127\.0\.0\.1:\d+\/metrics, since the server started\)\n\s+operation\s+requests\s+p50\s+p95\s+p99\n\s+Inbox\s+100\s+50\.0 ms\s+95\.0 ms\s+99\.0 ms/,
      );
    });

    it('says "no server metrics" when the server does not answer, and reports the rest', async () => {
      const missing = await jsonReport(database.url, ['--metrics-url', `${url}/nothing-here`]);
      expect(missing.serverMetrics).toEqual({
        status: 'unreachable',
        url: `${url}/nothing-here`,
        note: expect.stringMatching(/^no server metrics: .* answered HTTP 404$/),
      });
      const closedServer = createServer().listen(0, '127.0.0.1');
      await once(closedServer, 'listening');
      const closedPort = (closedServer.address() as AddressInfo).port;
      await new Promise((resolve) => closedServer.close(resolve));
      const closed = await jsonReport(database.url, ['--metrics-url', `http://127.0.0.1:${closedPort}/metrics`]);
      expect(closed.serverMetrics).toMatchObject({ status: 'unreachable', note: expect.stringContaining('ECONNREFUSED') });
      expect(closed.relations.length).toBeGreaterThan(0);
    });
  });

  it('redraws every N seconds with --watch until Ctrl-C, then exits cleanly', async () => {
    const report = startReport(['--watch', '0.5'], database.url);
    const drawings = () => report.output().split('\x1b[H\x1b[2J').length - 1;
    const deadline = Date.now() + 20_000;
    while (drawings() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drawings()).toBeGreaterThanOrEqual(2);
    report.child.kill('SIGINT');
    const run = await report.done;
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Every 0.5 s');
    expect(run.stdout).toContain('Ctrl-C to stop');
  });

  it('prints its usage with --help, refuses unknown flags with it, and needs DATABASE_URL', async () => {
    const help = await runReport(['--help'], undefined);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: npm run db:report -- \[--json\] \[--watch SECONDS\] \[--metrics-url URL\] \[--top N\]/);
    const unknown = await runReport(['--nope'], database.url);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^Unknown option '--nope'.*\n(.*\n)*Usage: npm run db:report/);
    const noDatabase = await runReport([], undefined);
    expect(noDatabase).toMatchObject({ code: 1, stdout: '' });
    expect(noDatabase.stderr).toContain('db:report reads a PostgreSQL server: set DATABASE_URL');
  });
});

describe('npm run db:report with pg_stat_statements loaded', () => {
  let postgres: OwnPostgres;
  let url: string;

  beforeAll(async () => {
    postgres = await startOwnPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
    await postgres.query('CREATE DATABASE parley');
    url = postgres.url('parley');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migrate(pool);
      await seedDatabase(pool, SEED);
    } finally {
      await pool.end();
    }
  }, 120_000);
  afterAll(async () => {
    await postgres?.destroy();
  });

  it('says the extension is loaded but not created in the database, and how to create it', async () => {
    const report = await jsonReport(url);
    expect(report.statements).toEqual({
      status: 'not-installed',
      note: 'pg_stat_statements is loaded but not created here: run CREATE EXTENSION pg_stat_statements; in this database as a superuser.',
    });
  });

  it('lists the slowest and the most frequent statements once it is created', async () => {
    await postgres.query('CREATE EXTENSION pg_stat_statements', [], 'parley');
    await postgres.query('SELECT pg_stat_statements_reset()', [], 'parley');
    await readHistory(url, 25);
    await postgres.query('SELECT pg_sleep(0.2)', [], 'parley');

    await jsonReport(url);
    // The second report sees the first one's statements, and leaves them out.
    const report = await jsonReport(url, ['--top', '3']);
    if (report.statements.status !== 'available') throw new Error(`statements not available: ${JSON.stringify(report.statements)}`);
    const { slowest, mostFrequent, since } = report.statements;
    // Counted since the reset above.
    expect(Date.now() - new Date(since!).getTime()).toBeLessThan(60_000);
    expect(slowest).toHaveLength(3);
    expect(mostFrequent).toHaveLength(3);
    expect(slowest[0]!.query).toContain('pg_sleep');
    expect(slowest[0]!.meanMs).toBeGreaterThanOrEqual(200);
    const history = mostFrequent[0]!;
    expect(history.query).toMatch(/FROM messages m\s+WHERE k\.forward AND m\.conversation_id = k\.list_id/);
    expect(history.calls).toBe(25);
    expect(history.rows).toBe(25 * 21);
    expect([...slowest, ...mostFrequent].filter((statement) => /pg_stat_user_indexes|pg_matviews|pg_statio_user_tables/.test(statement.query))).toEqual([]);
    expect(slowest.map((statement) => statement.meanMs)).toEqual([...slowest.map((statement) => statement.meanMs)].sort((a, b) => b - a));

    const text = await runReport(['--top', '3'], url);
    expect(text.stdout).toMatch(
      /Slowest statements \(pg_stat_statements, by mean time; counted since \d{4}-\d\d-\d\d \d\d:\d\d UTC; SELECT pg_stat_statements_reset\(\) starts afresh\)\n\s+mean\s+calls\s+total\s+cache hit\s+statement\n\s+2\d\d(?:\.\d)? ms\s+1\s+.*SELECT pg_sleep\(\$1\)/,
    );
    expect(text.stdout).toMatch(/Most frequent statements\n.*\n\s+[\d.]+ ms\s+25\s+.*SELECT q\.ordinal, q\.id/);
  });
});
